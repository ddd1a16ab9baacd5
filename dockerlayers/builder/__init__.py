"""Dockerfile builds with the legacy builder's semantics: each step = run + commit.

moby: builder/dockerfile
"""

from dockerlayers.builder.builder import Builder, build
from dockerlayers.builder.dockerignore import PatternMatcher, read_all, read_dockerignore
from dockerlayers.builder.parser import DockerfileParseError, Instruction, parse

__all__ = [
    "Builder",
    "DockerfileParseError",
    "Instruction",
    "PatternMatcher",
    "build",
    "parse",
    "read_all",
    "read_dockerignore",
]
