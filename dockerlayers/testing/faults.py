"""Stop an operation at its k-th filesystem mutation, as a crash would.

`FaultInjector(root)` patches the `os` calls that change a filesystem (and the files that
`open` returns for writing) while it is active; every call that would change something under
`root` is a *mutation point*. With `fail_at=None` it only counts them (and records what they
were); with `fail_at=k` the k-th raises.

Two modes:

* ``"crash"`` (the default): the k-th point raises `InjectedCrash` (a BaseException, so that
  no `except Exception` swallows it) and so does every later one: cleanup handlers cannot
  tidy up, exactly as when the process dies there. The disk holds what the first k-1 points
  did; the caller then drops the client without closing it (`abandon`) and reopens the root.
* ``"error"``: only the k-th raises, an `OSError(EIO)`; the operation's own error handling
  runs (a transient I/O error, a full disk).

moby's equivalent is crash testing every write of the layerdb (layer/layer_store.go relies on
the write-set rename and the `-removing` rename for this).
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import subprocess
from collections.abc import Callable
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class InjectedCrash(BaseException):
    """The process 'died' at this mutation point."""


def _fd_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


class _WriteFile:
    """A file object opened for writing: its writes are mutation points."""

    def __init__(self, f: Any, inj: FaultInjector, path: str) -> None:
        self._f = f
        self._inj = inj
        self._path = path

    def write(self, data: Any) -> Any:
        self._inj.point("write", self._path)
        return self._f.write(data)

    def writelines(self, lines: Any) -> Any:
        self._inj.point("write", self._path)
        return self._f.writelines(lines)

    def truncate(self, *a: Any) -> Any:
        self._inj.point("truncate", self._path)
        return self._f.truncate(*a)

    def __enter__(self) -> _WriteFile:
        self._f.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._f.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._f)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


class FaultInjector:
    """Count (and optionally fail) filesystem mutations under `root`."""

    def __init__(self, root: str, fail_at: int | None = None, mode: str = "crash") -> None:
        if mode not in ("crash", "error"):
            raise ValueError(f"unknown mode {mode!r}")
        self.root = os.path.realpath(root)
        self.fail_at = fail_at
        self.mode = mode
        self.count = 0
        self.points: list[tuple[str, str]] = []
        self.fired = False
        self.after = 0  # mutations attempted after a crash (all refused)
        self._saved: list[tuple[Any, str, Any]] = []
        self.active = False

    # -- the decision -------------------------------------------------------------------
    def _under_root(self, path: Any, dir_fd: int | None = None) -> bool:
        if isinstance(path, int):
            path = _fd_path(path)
        if path is None:
            return False
        path = os.fsdecode(path)
        if dir_fd is not None and not os.path.isabs(path):
            base = _fd_path(dir_fd)
            if base is None:
                return False
            path = os.path.join(base, path)
        path = os.path.abspath(path)
        if not path.startswith(("/proc/", "/dev/")):
            # resolve the parent (not the entry: a symlink is itself the thing changed)
            path = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        return path == self.root or path.startswith(self.root + os.sep)

    def _display(self, path: Any, dir_fd: int | None) -> str:
        if isinstance(path, int):
            return _fd_path(path) or str(path)
        path = os.fsdecode(path)
        if dir_fd is not None and not os.path.isabs(path):
            return os.path.join(_fd_path(dir_fd) or "?", path)
        return os.path.abspath(path)

    def point(self, what: str, path: Any, dir_fd: int | None = None) -> None:
        if not self.active or not self._under_root(path, dir_fd):
            return
        if self.fired and self.mode == "crash":
            self.after += 1
            raise InjectedCrash(f"{what} {path} after the crash")
        self.count += 1
        self.points.append((what, self._display(path, dir_fd)))
        if self.fail_at is not None and self.count == self.fail_at:
            self.fired = True
            if self.mode == "crash":
                raise InjectedCrash(f"crash at mutation {self.count}: {what} {path}")
            raise OSError(errno.EIO, f"injected I/O error at mutation {self.count}", path)

    # -- patching -----------------------------------------------------------------------
    def _patch(self, obj: Any, name: str, make: Callable[[Any], Any]) -> None:
        real = getattr(obj, name)
        self._saved.append((obj, name, real))
        setattr(obj, name, make(real))

    def __enter__(self) -> FaultInjector:
        inj = self

        def path_call(what: str, nargs: int = 1) -> Callable[[Any], Any]:
            def make(real: Any) -> Any:
                def wrapper(*args: Any, **kw: Any) -> Any:
                    # one point per call (a rename counts once), named by its last path
                    fds = (kw.get("dir_fd") or kw.get("src_dir_fd"), kw.get("dst_dir_fd"))
                    hits = [
                        (p, fd)
                        for p, fd in zip(args[:nargs], fds)
                        if inj.active and inj._under_root(p, fd or kw.get("dir_fd"))
                    ]
                    if hits:
                        inj.point(what, *hits[-1])
                    return real(*args, **kw)

                return wrapper

            return make

        def make_mkdir(real: Any) -> Any:
            def wrapper(path: Any, *a: Any, **kw: Any) -> Any:
                # mkdir of something that exists changes nothing (EEXIST): not a point
                if not os.path.lexists(path if kw.get("dir_fd") is None else "/nonexistent"):
                    inj.point("mkdir", path, kw.get("dir_fd"))
                return real(path, *a, **kw)

            return wrapper

        self._patch(os, "mkdir", make_mkdir)
        for name, n in (
            ("unlink", 1),
            ("remove", 1),
            ("rmdir", 1),
            ("chmod", 1),
            ("lchmod", 1),
            ("chown", 1),
            ("lchown", 1),
            ("utime", 1),
            ("mknod", 1),
            ("mkfifo", 1),
            ("setxattr", 1),
            ("removexattr", 1),
            ("truncate", 1),
            ("rename", 2),
            ("replace", 2),
        ):
            if hasattr(os, name):
                self._patch(os, name, path_call(name, n))

        def make_link(what: str) -> Callable[[Any], Any]:
            def make(real: Any) -> Any:
                def wrapper(src: Any, dst: Any, *a: Any, **kw: Any) -> Any:
                    inj.point(what, dst, kw.get("dir_fd") or kw.get("dst_dir_fd"))
                    return real(src, dst, *a, **kw)

                return wrapper

            return make

        self._patch(os, "symlink", make_link("symlink"))
        self._patch(os, "link", make_link("link"))

        def make_fd_call(what: str) -> Callable[[Any], Any]:
            def make(real: Any) -> Any:
                def wrapper(fd: int, *a: Any, **kw: Any) -> Any:
                    inj.point(what, fd)
                    return real(fd, *a, **kw)

                return wrapper

            return make

        self._patch(os, "write", make_fd_call("write"))
        self._patch(os, "ftruncate", make_fd_call("ftruncate"))
        self._patch(os, "sendfile", make_fd_call("write"))

        def make_os_open(real: Any) -> Any:
            def wrapper(path: Any, flags: int, *a: Any, **kw: Any) -> Any:
                if flags & _WRITE_FLAGS:
                    inj.point("open", path, kw.get("dir_fd"))
                return real(path, flags, *a, **kw)

            return wrapper

        self._patch(os, "open", make_os_open)

        def make_open(real: Any) -> Any:
            def wrapper(file: Any, mode: str = "r", *a: Any, **kw: Any) -> Any:
                writing = any(ch in mode for ch in "wax+")
                if writing and not isinstance(file, int):
                    inj.point("open", file)
                f = real(file, mode, *a, **kw)
                if writing and inj._under_root(file):
                    return _WriteFile(f, inj, file if not isinstance(file, int) else str(file))
                return f

            return wrapper

        self._patch(builtins, "open", make_open)
        self._patch(io, "open", make_open)
        self.active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self.active = False
        while self._saved:
            obj, name, real = self._saved.pop()
            setattr(obj, name, real)


def abandon(client: Any) -> None:
    """Drop a client as a killed process would: no shutdown, no detach, nothing written.
    Only the root lock goes (the kernel releases a dead process's flock)."""
    client.daemon.abandon()


def copy_root(src: str, dst: str) -> None:
    """A faithful copy of a root: symlinks, device nodes (overlay whiteouts), modes,
    owners, times and xattrs (`cp -a`)."""
    subprocess.run(["cp", "-a", "--", src, dst], check=True, capture_output=True)


__all__ = ["FaultInjector", "InjectedCrash", "abandon", "copy_root"]
