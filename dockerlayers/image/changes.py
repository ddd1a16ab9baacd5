"""`--change` instructions for `docker import` and `docker commit`: a Dockerfile subset
that only edits the image config (CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE,
VOLUME, STOPSIGNAL).

A small dispatcher of our own; variable expansion (`$VAR`) is not done here. The builder
may replace it with its own dispatcher.

moby: builder/dockerfile/builder.go BuildFromConfig, dispatchers.go
"""

from __future__ import annotations

import json
import posixpath
import shlex

from dockerlayers.image.errors import InvalidReference
from dockerlayers.image.image import ContainerConfig

#: moby: builder/dockerfile/builder.go validCommitCommands
VALID_COMMIT_COMMANDS = frozenset(
    {
        "cmd",
        "entrypoint",
        "healthcheck",
        "env",
        "expose",
        "label",
        "onbuild",
        "user",
        "volume",
        "workdir",
    }
)


class ChangeError(InvalidReference):
    """A `--change` that is not allowed or cannot be parsed (InvalidParameter)."""


def _json_list(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return value
    return None


def _key_values(name: str, rest: str) -> list[tuple[str, str]]:
    """`A=1 B="x y"` or the old `A 1` form (ENV/LABEL)."""
    try:
        words = shlex.split(rest)
    except ValueError as e:
        raise ChangeError(f"{name}: {e}") from None
    if not words:
        raise ChangeError(f"{name.upper()} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = rest.strip().partition(" ")
        return [(key, value.strip())]
    out = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise ChangeError(f"{name.upper()} names can not be blank")
        out.append((key, value))
    return out


def apply_changes(
    config: ContainerConfig, changes: list[str], os: str = "linux"
) -> ContainerConfig:
    """A copy of `config` with each change line applied in order.

    moby: builder/dockerfile/builder.go BuildFromConfig
    """
    cfg = config.copy()
    lines = [ln.strip() for change in changes for ln in change.split("\n") if ln.strip()]
    parsed = []
    for line in lines:
        instruction, _, rest = line.partition(" ")
        if instruction.lower() not in VALID_COMMIT_COMMANDS:
            raise ChangeError(f"{instruction.lower()} is not a valid change command")
        parsed.append((instruction.lower(), rest.strip()))
    cmd_set = False
    for name, rest in parsed:
        _dispatch(cfg, name, rest, os)
        if name == "cmd":
            cmd_set = True
        elif name == "entrypoint" and not cmd_set:
            cfg.cmd = None  # moby: dispatchEntrypoint (`if !d.state.cmdSet`)
    return cfg


def _shell_form(rest: str, os: str) -> list[str]:
    return ["/bin/sh", "-c", rest] if os != "windows" else ["cmd", "/S", "/C", rest]


def _dispatch(cfg: ContainerConfig, name: str, rest: str, os: str) -> None:
    """moby: builder/dockerfile/dispatchers.go (dispatchCmd, dispatchEnv, ...)"""
    if name in ("cmd", "entrypoint"):
        argv = _json_list(rest)
        if argv is None:
            argv = _shell_form(rest, os) if rest else None
        if name == "cmd":
            cfg.cmd = argv
        else:
            cfg.entrypoint = argv
    elif name == "env":
        env = list(cfg.env or [])
        for key, value in _key_values(name, rest):
            env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={value}"]
        cfg.env = env
    elif name == "label":
        labels = dict(cfg.labels or {})
        for key, value in _key_values(name, rest):
            labels[key] = value
        cfg.labels = labels
    elif name == "workdir":
        if not rest:
            raise ChangeError("WORKDIR requires exactly one argument")
        path = rest if rest.startswith("/") else posixpath.join("/", cfg.working_dir, rest)
        cfg.working_dir = posixpath.normpath(path)
    elif name == "user":
        if not rest:
            raise ChangeError("USER requires exactly one argument")
        cfg.user = rest
    elif name == "expose":
        ports = dict(cfg.exposed_ports or {})
        for spec in rest.split():
            port, _, proto = spec.partition("/")
            if not port or not all(p.isdigit() for p in port.split("-")):
                raise ChangeError(f"invalid containerPort: {port}")
            ports[f"{port}/{proto or 'tcp'}"] = {}
        if not ports:
            raise ChangeError("EXPOSE requires at least one argument")
        cfg.exposed_ports = ports
    elif name == "volume":
        paths = _json_list(rest) or rest.split()
        volumes = dict(cfg.volumes or {})
        for path in paths:
            if not path.strip():
                raise ChangeError("VOLUME specified can not be an empty string")
            volumes[path] = {}
        cfg.volumes = volumes
    elif name == "stopsignal":
        cfg.stop_signal = rest
    elif name == "onbuild":
        cfg.on_build = [*(cfg.on_build or []), rest]
    elif name == "healthcheck":
        if rest.upper() == "NONE":
            cfg.healthcheck = {"Test": ["NONE"]}
        else:
            _, _, command = rest.partition("CMD")
            argv = _json_list(command.strip())
            cfg.healthcheck = {"Test": ["CMD", *argv] if argv else ["CMD-SHELL", command.strip()]}
