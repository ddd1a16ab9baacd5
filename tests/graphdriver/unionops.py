"""Random file operations on a container's RootFS, and a plain in-memory model of the tree
they should produce (including the errno an operation should fail with).

Operations are data (tuples), so hypothesis can generate and shrink them and the same
sequence can be replayed on several RootFS (user-space union, kernel overlay, vfs).
Paths are chosen at replay time from what the model holds (`sel` indexes a sorted list),
so every operation acts on something that exists.
"""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass, field

from hypothesis import strategies as st

NAMES = ["a", "b", "f1", "sub", "x"]
DATA = [b"", b"1", b"hello", b"hello world!", b"z" * 100]
MODES = [0o600, 0o644, 0o755, 0o700, 0o444]
# (a relative target climbing out of the root is refused when a layer is applied, as in moby)
TARGETS = ["f1", "/a/f1", "x/../f1", "sub/missing", "/"]


@dataclass
class Inode:
    data: bytes
    mode: int


@dataclass
class Node:
    kind: str  # "file", "dir", "link"
    inode: Inode | None = None  # files (shared by hard links)
    mode: int = 0o755  # dirs
    target: str = ""  # links
    pure: bool = False  # dirs made in this RW layer (a union may rename them)


def _parent(p: str) -> str:
    return p.rsplit("/", 1)[0] or "/"


def _join(d: str, n: str) -> str:
    return d.rstrip("/") + "/" + n


@dataclass
class Model:
    """path -> Node for the merged tree; `union` = renaming a merged folder fails (EXDEV)."""

    nodes: dict[str, Node] = field(default_factory=dict)
    union: bool = True

    @classmethod
    def from_snapshot(cls, snap: dict, union: bool) -> Model:
        m = cls(union=union)
        for path, e in snap.items():
            if e.kind == "dir":
                m.nodes[path] = Node("dir", mode=e.mode)
            elif e.kind == "file":
                m.nodes[path] = Node("file", inode=Inode(e.data, e.mode))
            elif e.kind == "link":
                m.nodes[path] = Node("link", target=e.data)
        return m

    # -- queries -------------------------------------------------------------------------
    def of_kind(self, *kinds: str) -> list[str]:
        return sorted(p for p, n in self.nodes.items() if n.kind in kinds)

    def dirs(self) -> list[str]:
        return ["/", *self.of_kind("dir")]

    def children(self, d: str) -> list[str]:
        prefix = d.rstrip("/") + "/"
        return [p for p in self.nodes if p.startswith(prefix) and "/" not in p[len(prefix) :]]

    def subtree(self, d: str) -> list[str]:
        prefix = d + "/"
        return [p for p in self.nodes if p == d or p.startswith(prefix)]

    def snapshot(self) -> dict:
        from tests.graphdriver.fstest import Entry

        out = {}
        for p, n in self.nodes.items():
            if n.kind == "dir":
                out[p] = Entry("dir", n.mode, 0, 0, None)
            elif n.kind == "file":
                out[p] = Entry("file", n.inode.mode, 0, 0, n.inode.data)
            else:
                out[p] = Entry("link", 0o777, 0, 0, n.target)
        return out


# -- the operations ---------------------------------------------------------------------------
sel = st.integers(min_value=0, max_value=1000)
OPS = st.one_of(
    st.tuples(st.just("write"), sel, st.sampled_from(DATA)),
    st.tuples(st.just("create"), sel, st.sampled_from(NAMES), st.sampled_from(DATA)),
    st.tuples(st.just("append"), sel, st.sampled_from(DATA)),
    st.tuples(st.just("mkdir"), sel, st.sampled_from(NAMES)),
    st.tuples(st.just("remove"), sel),
    st.tuples(st.just("rmdir"), sel),
    st.tuples(st.just("rmtree"), sel),
    st.tuples(st.just("rename"), sel, sel, st.sampled_from(NAMES)),
    st.tuples(st.just("symlink"), sel, st.sampled_from(NAMES), st.sampled_from(TARGETS)),
    st.tuples(st.just("link"), sel, sel, st.sampled_from(NAMES)),
    st.tuples(st.just("chmod"), sel, st.sampled_from(MODES)),
)


class Skip(Exception):
    """The operation has nothing to act on in this state."""


def _pick(items: list[str], i: int) -> str:
    if not items:
        raise Skip
    return items[i % len(items)]


def plan(model: Model, op: tuple) -> tuple:
    """Turn an abstract op into a concrete call: (name, args...)."""
    kind = op[0]
    if kind == "write":
        return ("write", _pick(model.of_kind("file"), op[1]), op[2])
    if kind == "create":
        return ("write", _join(_pick(model.dirs(), op[1]), op[2]), op[3])
    if kind == "append":
        return ("append", _pick(model.of_kind("file"), op[1]), op[2])
    if kind == "mkdir":
        return ("mkdir", _join(_pick(model.dirs(), op[1]), op[2]))
    if kind == "remove":
        return ("remove", _pick(model.of_kind("file", "link"), op[1]))
    if kind == "rmdir":
        return ("rmdir", _pick(model.of_kind("dir"), op[1]))
    if kind == "rmtree":
        return ("rmtree", _pick(model.of_kind("dir", "file", "link"), op[1]))
    if kind == "rename":
        src = _pick(sorted(model.nodes), op[1])
        dst = _join(_pick(model.dirs(), op[2]), op[3])
        if dst == src or dst.startswith(src + "/"):
            raise Skip
        return ("rename", src, dst)
    if kind == "symlink":
        return ("symlink", op[3], _join(_pick(model.dirs(), op[1]), op[2]))
    if kind == "link":
        return (
            "link",
            _pick(model.of_kind("file"), op[1]),
            _join(_pick(model.dirs(), op[2]), op[3]),
        )
    if kind == "chmod":
        return ("chmod", _pick(model.of_kind("file", "dir"), op[1]), op[2])
    raise AssertionError(kind)


def expect(model: Model, call: tuple) -> int | None:
    """Apply `call` to the model; return the errno it must fail with (model unchanged) or None."""
    name, *args = call
    nodes = model.nodes
    if name in ("write", "append"):
        path, data = args
        node = nodes.get(path)
        if node is None:
            if name == "append":
                raise Skip
            nodes[path] = Node("file", inode=Inode(data, 0o644))
            return None
        if node.kind == "dir":
            return errno.EISDIR
        if node.kind == "link":
            raise Skip  # would follow the link: not modelled
        node.inode.data = data if name == "write" else node.inode.data + data
        return None
    if name == "mkdir":
        (path,) = args
        if path in nodes:
            return errno.EEXIST
        nodes[path] = Node("dir", mode=0o755, pure=True)
        return None
    if name == "remove":
        (path,) = args
        del nodes[path]
        return None
    if name == "rmdir":
        (path,) = args
        if model.children(path):
            return errno.ENOTEMPTY
        del nodes[path]
        return None
    if name == "rmtree":
        (path,) = args
        for p in model.subtree(path):
            del nodes[p]
        return None
    if name == "rename":
        src, dst = args
        snode, dnode = nodes[src], nodes.get(dst)
        if src.startswith(dst + "/"):
            return errno.ENOTEMPTY  # onto its own ancestor
        if dnode is not None:
            if snode.kind == "dir" and dnode.kind != "dir":
                return errno.ENOTDIR
            if snode.kind != "dir" and dnode.kind == "dir":
                return errno.EISDIR
        if snode.kind == "dir" and model.union and not snode.pure:
            return errno.EXDEV
        if dnode is not None and dnode.kind == "file" and dnode.inode is snode.inode:
            return None  # two names of one file: rename(2) does nothing
        if dnode is not None and dnode.kind == "dir" and model.children(dst):
            return errno.ENOTEMPTY
        if dnode is not None:
            for p in model.subtree(dst):
                del nodes[p]
        for p in sorted(model.subtree(src)):
            nodes[dst + p[len(src) :]] = nodes.pop(p)
        return None
    if name == "symlink":
        target, path = args
        if path in nodes:
            return errno.EEXIST
        nodes[path] = Node("link", target=target)
        return None
    if name == "link":
        src, dst = args
        if dst in nodes:
            return errno.EEXIST
        nodes[dst] = Node("file", inode=nodes[src].inode)
        return None
    if name == "chmod":
        path, mode = args
        node = nodes[path]
        if node.kind == "dir":
            node.mode = mode
        else:
            node.inode.mode = mode
        return None
    raise AssertionError(name)


def perform(fs, call: tuple) -> int | None:
    """Run `call` on a RootFS; the errno it failed with, or None."""
    name, *args = call
    try:
        if name == "write":
            with fs.open(args[0], "wb") as f:
                f.write(args[1])
        elif name == "append":
            with fs.open(args[0], "ab") as f:
                f.write(args[1])
        elif name == "mkdir":
            fs.mkdir(args[0], 0o755)
        elif name == "remove":
            fs.remove(args[0])
        elif name == "rmdir":
            fs.rmdir(args[0])
        elif name == "rmtree":
            fs.rmtree(args[0])
        elif name == "rename":
            fs.rename(args[0], args[1])
        elif name == "symlink":
            fs.symlink(args[0], args[1])
        elif name == "link":
            fs.link(args[0], args[1])
        elif name == "chmod":
            fs.chmod(args[0], args[1])
        else:
            raise AssertionError(name)
    except OSError as e:
        return e.errno
    return None


def step(model: Model, fs_list: list, op: tuple) -> tuple | None:
    """Plan `op`, apply it to the model and every RootFS; check they agree on the outcome."""
    try:
        call = plan(model, op)
        want = expect(model, call)
    except Skip:
        return None
    for fs in fs_list:
        got = perform(fs, call)
        assert got == want, f"{call} on {fs!r}: errno {got}, model says {want}"
    return call


# -- base layers shared by the state machine and the kernel differential test -------------------
def base_layers():
    """Appliers for two image layers: a base, and one that modifies, deletes and makes a
    folder opaque (removed and made again)."""
    from tests.graphdriver.fstest import CreateDir, CreateFile, RemoveAll, Symlink

    l0 = [
        CreateDir("/a", 0o755),
        CreateFile("/a/f1", b"one", 0o644),
        CreateDir("/a/sub", 0o755),
        CreateFile("/a/sub/x", b"deep", 0o600),
        CreateFile("/b", b"bee", 0o644),
        CreateDir("/c", 0o755),
        CreateFile("/c/x", b"x", 0o644),
        CreateDir("/d", 0o700),
        Symlink("a/f1", "/link"),
    ]
    l1 = [
        CreateFile("/a/f1", b"one, modified", 0o644),
        RemoveAll("/b"),
        RemoveAll("/c"),
        CreateDir("/c", 0o755),
        CreateFile("/c/y", b"y", 0o644),
        CreateDir("/e", 0o755),
        CreateFile("/e/sub", b"a file named sub", 0o644),
    ]
    return [l0, l1]


def is_char_whiteout(st_: object) -> bool:
    return stat.S_ISCHR(st_.st_mode) and st_.st_rdev == 0
