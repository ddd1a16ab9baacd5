"""Named and anonymous volumes of the `local` driver: folders under `<root>/volumes`.

A volume lives outside every layer: what a container writes there is in no diff, no commit,
and survives `docker rm` (unless `rm -v` removes an anonymous one).

`register_mount_points` turns `docker create`'s volumes (and the image's VOLUMEs) into the
container's mount points; `create_volumes` makes the volumes they name.

moby: volume/local/local.go (layout), volume/service (create/get/list/remove/prune),
daemon/volumes.go registerMountPoints
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dockerlayers.errors import APIError, Conflict, InvalidParameter, NotFound
from dockerlayers.filters import Args, InvalidFilter, match_labels
from dockerlayers.graphdriver.rootfs import normpath
from dockerlayers.ioutils import atomic_write_file, remove_temp_files
from dockerlayers.process.clock import format_rfc3339nano
from dockerlayers.stringid import IDGenerator

if TYPE_CHECKING:
    from dockerlayers.container.container import Container

_META = "metadata.json"


class VolumeStore:
    """Volumes under `<root>/volumes/<name>/_data`, with their metadata in one JSON file."""

    def __init__(self, root: str, ids: IDGenerator, now: Callable[[], float]) -> None:
        self.root = os.path.join(root, "volumes")
        os.makedirs(self.root, mode=0o701, exist_ok=True)
        remove_temp_files(self.root)  # a crashed write's temp file
        self.ids = ids
        self.now = now
        self._lock = threading.RLock()
        self._meta: dict[str, dict[str, Any]] = {}
        path = os.path.join(self.root, _META)
        if os.path.exists(path):
            with open(path) as f:
                self._meta = json.load(f)
        # A folder without metadata (a crash after mkdir) is still a volume, like moby.
        for name in os.listdir(self.root):
            if name != _META and os.path.isdir(os.path.join(self.root, name)):
                self._meta.setdefault(
                    name,
                    {"CreatedAt": format_rfc3339nano(self.now()), "Labels": {}, "Anonymous": False},
                )

    def _save(self) -> None:
        data = json.dumps(self._meta, sort_keys=True).encode()
        atomic_write_file(os.path.join(self.root, _META), data, 0o600)

    def mountpoint(self, name: str) -> str:
        return os.path.join(self.root, name, "_data")

    def create(
        self,
        name: str | None = None,
        labels: dict[str, str] | None = None,
        anonymous: bool = False,
        *,
        driver: str = "local",
        options: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create (or return the existing) volume `name`; no name = an anonymous volume.
        `options` (docker-py's driver_opts, `-o`) are recorded (the local driver's
        type/device/o mount nothing here)."""
        if driver not in ("local", "", None):
            raise NotFound(f'error looking up volume plugin {driver}: plugin "{driver}" not found')
        with self._lock:
            if name is None:
                name, anonymous = self.ids.generate_random_id(), True
            if not _valid_volume_name(name):
                raise InvalidParameter(
                    f'"{name}" includes invalid characters for a local volume name, only '
                    '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                    "directory, use absolute path"
                )
            if name not in self._meta:
                folder = os.path.join(self.root, name)
                try:
                    os.makedirs(folder, mode=0o755, exist_ok=True)
                    os.makedirs(self.mountpoint(name), mode=0o755, exist_ok=True)
                except OSError as e:
                    # moby: volume/local/local.go Create
                    why = (e.strerror or str(e)).lower()
                    raise APIError(
                        f"create {name}: error while creating volume root path '{folder}':"
                        f" mkdir {e.filename or folder}: {why}",
                        500,
                    ) from None
                self._meta[name] = {
                    "CreatedAt": format_rfc3339nano(self.now()),
                    "Labels": dict(labels or {}),
                    "Anonymous": anonymous,
                    "Options": dict(options) if options else None,
                }
                self._save()
            return self.inspect(name)

    def exists(self, name: str) -> bool:
        return name in self._meta

    def inspect(self, name: str) -> dict[str, Any]:
        meta = self._meta.get(name)
        if meta is None:
            raise NotFound(f"get {name}: no such volume")
        return {
            "CreatedAt": meta["CreatedAt"],
            "Driver": "local",
            "Labels": meta.get("Labels") or None,
            "Mountpoint": self.mountpoint(name),
            "Name": name,
            "Options": meta.get("Options") or None,
            "Scope": "local",
        }

    def is_anonymous(self, name: str) -> bool:
        return bool(self._meta.get(name, {}).get("Anonymous"))

    def list(
        self, filters: Args | Mapping[str, Any] | None = None, in_use: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """`docker volume ls [--filter ...]`: by `name` (regexp), `driver`, `label`,
        `dangling` (no container refers to it; `in_use` names the referenced ones).

        moby: volume/service/service.go List, convert.go filtersToBy
        """
        args = Args.of(filters)
        match = _filters_to_by(args, ACCEPTED_LIST_FILTERS, in_use or set(), self._labels)
        return [self.inspect(n) for n in sorted(self._meta) if match(n)]

    def _labels(self, name: str) -> dict[str, str]:
        return dict(self._meta.get(name, {}).get("Labels") or {})

    def remove(self, name: str, users: list[str], force: bool = False) -> None:
        """Remove a volume no container uses.

        moby: volume/service/service.go Remove
        """
        with self._lock:
            if name not in self._meta:
                if force:
                    return
                raise NotFound(f"get {name}: no such volume")
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            import shutil

            shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
            del self._meta[name]
            self._save()

    def prune(
        self, in_use: set[str], filters: Args | Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Remove every volume no container uses that matches `label` and not `label!`
        (Docker 20.10: named and anonymous alike).

        moby: volume/service/service.go Prune
        """
        args = Args.of(filters)
        match = _filters_to_by(args, ACCEPTED_PRUNE_FILTERS, in_use, self._labels)
        with self._lock:
            deleted, reclaimed = [], 0
            for name in sorted(self._meta):
                if name in in_use or not match(name):
                    continue
                reclaimed += _tree_size(os.path.join(self.root, name))
                self.remove(name, [])
                deleted.append(name)
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": reclaimed}


#: moby: volume/service/service.go acceptedListFilters, acceptedPruneFilters
ACCEPTED_LIST_FILTERS = ("dangling", "name", "driver", "label")
ACCEPTED_PRUNE_FILTERS = ("label", "label!")


def _filters_to_by(
    args: Args,
    accepted: tuple[str, ...],
    in_use: set[str],
    labels_of: Callable[[str], dict[str, str]],
) -> Callable[[str], bool]:
    """The volume test the filters make (after checking their keys and values).

    moby: volume/service/convert.go filtersToBy, by.go byLabelFilter
    """
    args.validate(accepted)
    dangling: bool | None = None
    if args.contains("dangling"):
        if args.exact_match("dangling", "true") or args.exact_match("dangling", "1"):
            dangling = True
        elif args.exact_match("dangling", "false") or args.exact_match("dangling", "0"):
            dangling = False
        else:
            raise InvalidFilter("dangling", args.get("dangling"))

    def match(name: str) -> bool:
        drivers = args.get("driver")
        if drivers and "local" not in drivers:
            return False
        if args.contains("name") and not args.match("name", name):
            return False
        if not match_labels(args, labels_of(name)):
            return False
        return not (dangling is not None and (name not in in_use) != dangling)

    return match


def _valid_volume_name(name: str) -> bool:
    import re

    return bool(re.match(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", name))


def _tree_size(path: str) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


_MODE_GROUPS = (
    {"rw", "ro"},
    {"z", "Z"},
    {"shared", "rshared", "slave", "rslave", "private", "rprivate"},
    {"nocopy"},
    {"consistent", "cached", "delegated"},
)


def _validate_mount_mode(mode: str) -> None:
    """`-v src:dst:MODE`: each option known, at most one of each kind.

    moby: volume/mounts/linux_parser.go ValidateMountMode (errInvalidMode)
    """
    if not mode:
        return
    seen: set[int] = set()
    for opt in mode.split(","):
        kind = next((i for i, g in enumerate(_MODE_GROUPS) if opt in g), None)
        if kind is None or kind in seen:
            raise InvalidParameter(f"invalid mode: {mode}")
        seen.add(kind)


def register_mount_points(
    volumes: dict[str, dict[str, str]] | list[str] | None,
    config: dict[str, Any],
    inherited: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Mount points from `volumes` (docker-py forms) over the `inherited` ones
    (`--volumes-from`), and the image's VOLUMEs where neither has one; and the `Binds` of
    hostconfig.json.

    moby: daemon/volumes.go registerMountPoints
    """
    # (source or "", destination, rw, the spec as the API gets it)
    specs: list[tuple[str, str, bool, str]] = []
    if isinstance(volumes, dict):
        for src, opts in volumes.items():
            if isinstance(opts, str):
                opts = {"bind": opts, "mode": "rw"}
            mode = opts.get("mode", "rw")
            _validate_mount_mode(mode)
            # docker-py sends the dict form as "src:dst:mode" binds
            spec = f"{src}:{opts['bind']}:{mode}"
            specs.append((src, opts["bind"], "ro" not in mode.split(","), spec))
    elif volumes:
        for spec in volumes:
            parts = spec.split(":")
            if len(parts) == 1:
                specs.append(("", parts[0], True, spec))
            elif len(parts) in (2, 3):
                if len(parts) == 3:
                    _validate_mount_mode(parts[2])
                rw = not (len(parts) == 3 and "ro" in parts[2].split(","))
                specs.append((parts[0], parts[1], rw, spec))
            else:
                raise InvalidParameter(f"invalid volume specification: '{spec}'")
    binds = []
    points: dict[str, Any] = {}
    for src, dst, rw, spec in specs:
        # moby: volume/mounts/linux_parser.go validateMountConfigImpl (texts as 20.10.24's)
        where = (
            f"invalid volume specification: '{spec}': invalid mount config for type "
            f'"{"bind" if src.startswith("/") else "volume"}": '
        )
        if not dst.startswith("/"):
            raise InvalidParameter(
                f"{where}invalid mount path: '{dst}' mount path must be absolute"
            )
        dst = normpath(dst)
        if dst == "/" and src:
            # an anonymous volume at / is accepted here; runc's start fails (start.py)
            raise InvalidParameter(f"{where}invalid specification: destination can't be '/'")
        if dst in points:
            raise InvalidParameter(f"Duplicate mount point: {dst}")
        if src.startswith("/"):
            if not os.path.isdir(src) and not os.path.isfile(src):
                os.makedirs(src, exist_ok=True)  # dockerd creates a missing bind source
            points[dst] = mount_point("bind", os.path.abspath(src), "", dst, rw)
            binds.append(f"{src}:{dst}" + ("" if rw else ":ro"))
        else:
            points[dst] = mount_point("volume", "", src, dst, rw)
            if src:
                binds.append(f"{src}:{dst}" + ("" if rw else ":ro"))
    points = {**(inherited or {}), **points}
    for dst in sorted(config.get("Volumes") or {}):
        dst = normpath(dst)
        if dst not in points:
            points[dst] = mount_point("volume", "", "", dst, True)
    return points, binds


def create_volumes(store: VolumeStore, c: Container) -> None:
    """Make the named and anonymous volumes of the container's mount points."""
    for mp in c.mount_points.values():
        if mp["Type"] == "volume":
            named = bool(mp["Spec"].get("Source"))
            vol = store.create(mp["Name"] or None, anonymous=not named)
            mp["Name"] = vol["Name"]
            mp["Source"] = vol["Mountpoint"]


def mount_point(kind: str, source: str, name: str, dst: str, rw: bool) -> dict[str, Any]:
    """One MountPoint as config.v2.json keeps it (moby: volume/mounts MountPoint)."""
    return {
        "Source": source,
        "Destination": dst,
        "RW": rw,
        "Name": name,
        "Driver": "local" if kind == "volume" else "",
        "Type": kind,
        "Relabel": "",
        "Propagation": "rprivate" if kind == "bind" else "",
        "Spec": {"Type": kind, "Source": source if kind == "bind" else name, "Target": dst},
        "SkipMountpointCreation": False,
    }


def inspect_mount(mp: dict[str, Any]) -> dict[str, Any]:
    """A mount point as `docker inspect` and `docker ps` show it (moby: types.MountPoint)."""
    out = {"Type": mp["Type"]}
    if mp["Type"] == "volume":
        out["Name"] = mp["Name"]
    out.update({"Source": mp["Source"], "Destination": mp["Destination"]})
    if mp["Type"] == "volume":
        out["Driver"] = "local"
    out.update(
        {
            "Mode": "z" if mp["Type"] == "volume" else "",
            "RW": mp["RW"],
            "Propagation": mp["Propagation"],
        }
    )
    return out
