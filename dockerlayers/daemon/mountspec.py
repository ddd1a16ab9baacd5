"""`--mount` / docker-py `mounts`: validation with Docker's texts, and the mount points they
become; `--tmpfs` / `tmpfs`: in-memory mounts whose content vanishes at stop.

A tmpfs mount is kept in a folder under the container's root (`tmpfs/`, emptied when the
container starts and when it stops): never in the RW layer, so `docker diff`, `commit` and
`export` do not see it, as with the kernel's tmpfs (docs/differences.md).

moby: volume/mounts/linux_parser.go validateMountConfigImpl, volume/mounts/validate.go,
daemon/volumes.go registerMountPoints (the mounts half), daemon/create_unix.go (tmpfs)
"""

from __future__ import annotations

import os
import posixpath
import shutil
from typing import Any

from dockerlayers.errors import InvalidParameter

TMPFS_DIR = "tmpfs"


def _config_error(kind: str, text: str) -> InvalidParameter:
    return InvalidParameter(f'invalid mount config for type "{kind}": {text}')


def normalize_mount(m: Any) -> dict[str, Any]:
    """A docker-py Mount (a dict with Type/Source/Target/ReadOnly/...) as the API's
    mount.Mount, with its empty fields left out as Docker's JSON leaves them."""
    m = dict(m)
    out: dict[str, Any] = {"Type": m.get("Type") or "volume"}
    if m.get("Source"):
        out["Source"] = m["Source"]
    out["Target"] = m.get("Target") or ""
    if m.get("ReadOnly"):
        out["ReadOnly"] = True
    for key in ("Consistency", "BindOptions", "VolumeOptions", "TmpfsOptions"):
        if m.get(key):
            out[key] = m[key]
    return out


def validate_mount(m: dict[str, Any]) -> None:
    """Docker's checks of one mount, in its order and words.

    moby: volume/mounts/linux_parser.go validateMountConfigImpl
    """
    kind = m.get("Type") or ""
    target = m.get("Target") or ""
    if not target:
        raise _config_error(kind, "field Target must not be empty")
    if not target.startswith("/"):
        raise _config_error(kind, f"invalid mount path: '{target}' mount path must be absolute")
    if posixpath.normpath(target) == "/":
        raise _config_error(kind, "invalid specification: destination can't be '/'")
    source = m.get("Source") or ""
    if kind == "bind":
        if not source:
            raise _config_error(kind, "field Source must not be empty")
        if m.get("VolumeOptions"):
            raise _config_error(kind, "field VolumeOptions must not be specified")
        if not source.startswith("/"):
            raise _config_error(kind, f"invalid mount path: '{source}' mount path must be absolute")
        if not os.path.exists(source):
            raise _config_error(kind, f"bind source path does not exist: {source}")
    elif kind == "volume":
        if m.get("BindOptions"):
            raise _config_error(kind, "field BindOptions must not be specified")
        if not source and m.get("ReadOnly"):
            raise _config_error(kind, "must not set ReadOnly mode when using anonymous volumes")
    elif kind == "tmpfs":
        if m.get("BindOptions"):
            raise _config_error(kind, "field BindOptions must not be specified")
        if source:
            raise _config_error(kind, "field Source must not be specified")
    else:
        raise _config_error(kind, "mount type unknown")


def parse_tmpfs(tmpfs: dict[str, str] | list[str] | None) -> dict[str, str]:
    """docker-py's `tmpfs` (a dict, or a list of `PATH[:OPTIONS]`) as HostConfig.Tmpfs."""
    if not tmpfs:
        return {}
    if isinstance(tmpfs, dict):
        return {str(k): str(v or "") for k, v in tmpfs.items()}
    out = {}
    for spec in tmpfs:
        path, _, opts = spec.partition(":")
        out[path] = opts
    return out


def tmpfs_source(root: str, dst: str) -> str:
    """Where the model keeps the content of the tmpfs mounted at `dst`."""
    return os.path.join(root, TMPFS_DIR, dst.strip("/").replace("/", "%"))


def tmpfs_mount_point(root: str, dst: str) -> dict[str, Any]:
    """A tmpfs mount point (config.v2.json MountPoints: Type tmpfs, no source)."""
    return {
        "Source": "",
        "Destination": dst,
        "RW": True,
        "Name": "",
        "Driver": "",
        "Type": "tmpfs",
        "Relabel": "",
        "Propagation": "",
        "Spec": {"Type": "tmpfs", "Target": dst},
        "SkipMountpointCreation": False,
    }


def reset_tmpfs(root: str) -> None:
    """Empty every tmpfs of a container (at start and at stop: a tmpfs starts empty)."""
    shutil.rmtree(os.path.join(root, TMPFS_DIR), ignore_errors=True)
