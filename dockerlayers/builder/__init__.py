"""Dockerfile builds with the legacy builder's semantics: each step = run + commit.

moby: builder/dockerfile
"""

from dockerlayers.builder.backend import Backend, DaemonBackend
from dockerlayers.builder.builder import Builder, build, build_on
from dockerlayers.builder.dockerignore import PatternMatcher, read_all, read_dockerignore
from dockerlayers.builder.parser import DockerfileParseError, Instruction, parse

__all__ = [
    "Backend",
    "Builder",
    "DaemonBackend",
    "DockerfileParseError",
    "Instruction",
    "PatternMatcher",
    "build",
    "build_on",
    "parse",
    "read_all",
    "read_dockerignore",
]
