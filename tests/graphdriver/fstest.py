"""Test helpers in the spirit of containerd's continuity/fs/fstest: appliers that act the
same way on a container's RootFS and on a plain host folder, and a snapshot of a tree that
two trees can be compared with.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass

from dockerlayers import idtools
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS


# -- snapshots ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    kind: str  # "dir", "file", "link", "other"
    mode: int
    uid: int
    gid: int
    data: bytes | str | None = None  # file content or symlink target

    def __repr__(self) -> str:
        data = self.data if not isinstance(self.data, bytes) or len(self.data) < 40 else "..."
        return f"{self.kind} {self.mode:o} {self.uid}:{self.gid} {data!r}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def snapshot(fs: RootFS | str, *, owners: bool = True, root: bool = False) -> dict[str, Entry]:
    """Every path of a tree (a RootFS or a host folder) -> what is there.

    `owners=False` leaves uid/gid out; `root=True` includes "/" itself."""
    if isinstance(fs, str):
        fs = DirRootFS(fs)
    out: dict[str, Entry] = {}
    for top, dirs, files in fs.walk("/"):
        for name in [*dirs, *files]:
            path = top.rstrip("/") + "/" + name
            out[path] = _entry(fs, path, owners)
    if root:
        out["/"] = _entry(fs, "/", owners)
    return out


def _entry(fs: RootFS, path: str, owners: bool) -> Entry:
    st = fs.lstat(path)
    kind = _kind(st.st_mode)
    data: bytes | str | None = None
    if kind == "file":
        data = fs.read_bytes(path)
    elif kind == "link":
        data = fs.readlink(path)
    uid, gid = (st.st_uid, st.st_gid) if owners else (0, 0)
    mode = stat.S_IMODE(st.st_mode) if kind != "link" else 0o777
    return Entry(kind, mode, uid, gid, data)


def assert_same_tree(expected: dict[str, Entry], actual: dict[str, Entry]) -> None:
    """Readable assertion: lists missing, extra and differing paths."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differ = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
    if missing or extra or differ:
        lines = [f"missing {p}: {expected[p]}" for p in missing]
        lines += [f"extra {p}: {actual[p]}" for p in extra]
        lines += [f"differs {p}: expected {expected[p]}, got {actual[p]}" for p in differ]
        raise AssertionError("trees differ:\n  " + "\n  ".join(lines))


# -- appliers -----------------------------------------------------------------------------
class Applier:
    """One change, applicable to a RootFS (`apply`) or a plain folder (`apply_dir`)."""

    def apply(self, fs: RootFS) -> None:
        raise NotImplementedError

    def apply_dir(self, root: str) -> None:
        raise NotImplementedError


def _h(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


@dataclass
class CreateFile(Applier):
    path: str
    data: bytes
    mode: int

    def apply(self, fs: RootFS) -> None:
        fs.write_bytes(self.path, self.data, self.mode)
        fs.chmod(self.path, self.mode)

    def apply_dir(self, root: str) -> None:
        with open(_h(root, self.path), "wb") as f:
            f.write(self.data)
        os.chmod(_h(root, self.path), self.mode)


@dataclass
class CreateDir(Applier):
    path: str
    mode: int

    def apply(self, fs: RootFS) -> None:
        fs.mkdir(self.path, self.mode)
        fs.chmod(self.path, self.mode)

    def apply_dir(self, root: str) -> None:
        os.mkdir(_h(root, self.path), self.mode)
        os.chmod(_h(root, self.path), self.mode)


@dataclass
class RemoveAll(Applier):
    path: str

    def apply(self, fs: RootFS) -> None:
        if fs.lexists(self.path):
            fs.rmtree(self.path)

    def apply_dir(self, root: str) -> None:
        p = _h(root, self.path)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)


@dataclass
class Link(Applier):
    old: str
    new: str

    def apply(self, fs: RootFS) -> None:
        fs.link(self.old, self.new)

    def apply_dir(self, root: str) -> None:
        os.link(_h(root, self.old), _h(root, self.new), follow_symlinks=False)


@dataclass
class Symlink(Applier):
    target: str
    path: str

    def apply(self, fs: RootFS) -> None:
        fs.symlink(self.target, self.path)

    def apply_dir(self, root: str) -> None:
        os.symlink(self.target, _h(root, self.path))


@dataclass
class Rename(Applier):
    old: str
    new: str

    def apply(self, fs: RootFS) -> None:
        fs.rename(self.old, self.new)

    def apply_dir(self, root: str) -> None:
        os.rename(_h(root, self.old), _h(root, self.new))


@dataclass
class Chown(Applier):
    path: str
    uid: int
    gid: int

    def apply(self, fs: RootFS) -> None:
        fs.chown(self.path, self.uid, self.gid)

    def apply_dir(self, root: str) -> None:
        # through idtools, as the snapshot reads it: a real lchown as root, else the model's
        # record (an xattr, or its table where there are none and chown is a no-op: Pyodide)
        idtools.lchown(_h(root, self.path), self.uid, self.gid)


@dataclass
class Chmod(Applier):
    path: str
    mode: int

    def apply(self, fs: RootFS) -> None:
        fs.chmod(self.path, self.mode)

    def apply_dir(self, root: str) -> None:
        os.chmod(_h(root, self.path), self.mode)


def apply_all(appliers: list[Applier], target: RootFS | str) -> None:
    for a in appliers:
        if isinstance(target, str):
            a.apply_dir(target)
        else:
            a.apply(target)


def write_tree(root: str, files: dict[str, bytes | None]) -> None:
    """Make `files` (path -> content, None = a folder) under the host folder `root`."""
    for path, data in files.items():
        p = _h(root, path)
        if data is None:
            os.makedirs(p, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)


def changes_as_tuples(changes) -> list[tuple[str, str]]:
    """[(kind letter, path)] sorted by path, for comparing change lists."""
    return sorted(((str(c).split(" ", 1)[0], c.path) for c in changes), key=lambda t: (t[1], t[0]))
