"""Atomic writes, and tree walks that never recurse per path component.

Atomic writes: a file, or a whole folder of files, appears complete or not at all.

Tree walks: a layer may hold a file thousands of folders deep (a tar, or a container's
`mkdir -p`, can make one). Python 3.11's `os.walk` and `shutil.rmtree` recurse once per
level and die with RecursionError past about 1,000; Go's `filepath.Walk` and
`os.RemoveAll` do not. `walk`, `remove_all` and `directory_size` here keep their own
stack instead; `remove_all` and `directory_size` also work below PATH_MAX by descending
with directory file descriptors (`dir_fd=`), one open at a time, as Go's RemoveAll does
with `openat`/`unlinkat`.

moby: pkg/ioutils/fswriters.go (AtomicWriteFile, AtomicWriteSet); Go os.RemoveAll
(removeall_at.go), path/filepath.Walk; moby pkg/directory/directory_unix.go Size
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator

from dockerlayers import platform


def atomic_write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to a temp file beside `path`, fsync, chmod, then rename over `path`.

    moby: pkg/ioutils/fswriters.go AtomicWriteFile
    """
    import tempfile

    directory, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{name}", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def mkdir_all(path: str, mode: int) -> None:
    """Go's os.MkdirAll: every missing folder of `path` is made with `mode` (less the
    umask); existing ones keep theirs. (Python's os.makedirs gives `mode` to the last only.)"""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return
    mkdir_all(os.path.dirname(path), mode)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        if not os.path.isdir(path):
            raise


class AtomicWriteSet:
    """Files written into a temp folder, made visible together by one rename on commit.

    moby: pkg/ioutils/fswriters.go AtomicWriteSet
    """

    def __init__(self, tmp_root: str) -> None:
        import tempfile

        os.makedirs(tmp_root, mode=0o755, exist_ok=True)
        self.root = tempfile.mkdtemp(prefix="write-set-", dir=tmp_root)

    def write_file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(path, mode)

    def commit(self, target: str) -> None:
        """Rename the set to `target`, which must not exist yet (it keeps the temp folder's
        0700, as moby's does)."""
        if os.path.lexists(target):
            raise FileExistsError(17, "file exists", target)
        os.rename(self.root, target)

    def cancel(self) -> None:
        remove_all(self.root, ignore_errors=True)


TEMP_PREFIX = ".tmp-"


def remove_temp_files(directory: str) -> list[str]:
    """Remove what an interrupted `atomic_write_file` left in `directory`: its `.tmp-<name>*`
    temp files (the target itself is whole, old or new). Returns the names removed.

    Ours, for crash safety: moby leaves these files behind.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(entry.name)
            except FileNotFoundError:
                pass
    return removed


# ------------------------------------------------------------------------------ tree walks

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def walk(
    top: str,
    topdown: bool = True,
    onerror: Callable[[OSError], None] | None = None,
) -> Iterator[tuple[str, list[str], list[str]]]:
    """`os.walk(top, topdown, onerror)` without recursion: the same (dirpath, dirnames,
    filenames) triples in the same order; with `topdown` the caller may prune or reorder
    `dirnames` in place; symlinks to folders are listed in `dirnames` but not entered.

    Go: path/filepath.Walk (iterative here; os.walk recurses once per level in 3.11)
    """
    stack: list[tuple[str, bool, list[str], list[str]]] = [(top, False, [], [])]
    while stack:
        path, expanded, dirs, files = stack.pop()
        if expanded:  # bottom-up: every child done
            yield path, dirs, files
            continue
        dirs, files, links = [], [], set()
        try:
            with os.scandir(path) as it:
                for entry in it:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
                    if is_dir and entry.is_symlink():
                        links.add(entry.name)
        except OSError as e:
            if onerror is not None:
                onerror(e)
            continue
        if topdown:
            yield path, dirs, files
        else:
            stack.append((path, True, dirs, files))
        for name in reversed(dirs):
            if name in links and not topdown:
                continue
            child = os.path.join(path, name)
            if topdown and os.path.islink(child):
                continue
            stack.append((child, False, [], []))


def _open_dir(name: str, dir_fd: int | None) -> int:
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


def remove_all(path: str, *, ignore_errors: bool = False) -> None:
    """Remove `path` and everything below it, at any depth (like Go's os.RemoveAll): a
    missing path is not an error; a symlink is removed, never followed.

    Folders are entered with `openat` relative to their parent and left through `..`, so
    only one descriptor is open at a time and no path longer than a name is ever passed
    to the kernel. With `ignore_errors`, what cannot be removed is left and the rest goes.

    Go: os/removeall_at.go RemoveAll
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError:
        if ignore_errors:
            return
        raise
    try:
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)
            return
        fd = _open_dir(path, None)
    except FileNotFoundError:
        return
    except OSError:
        if ignore_errors:
            return
        raise
    first_error: OSError | None = None

    def failed(e: OSError) -> None:
        nonlocal first_error
        if first_error is None and not isinstance(e, FileNotFoundError):
            first_error = e

    # frames[i] = (the name folder i has in folder i-1, the subfolders still to enter)
    frames: list[tuple[str, list[str]]] = [("", _clear_files(fd, failed))]
    try:
        while frames:
            name, pending = frames[-1]
            if pending:
                sub = pending.pop()
                try:
                    child = _open_dir(sub, fd)
                except OSError as e:
                    if e.errno in (errno.ENOTDIR, errno.ELOOP):  # replaced meanwhile
                        with _Suppress(failed):
                            os.unlink(sub, dir_fd=fd)
                    else:
                        failed(e)
                    continue
                os.close(fd)
                fd = child
                frames.append((sub, _clear_files(fd, failed)))
                continue
            frames.pop()
            if not frames:
                break
            parent = _open_dir("..", fd)
            os.close(fd)
            fd = parent
            with _Suppress(failed):
                os.rmdir(name, dir_fd=fd)
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        failed(e)
    if first_error is not None and not ignore_errors:
        raise first_error


def _clear_files(fd: int, failed: Callable[[OSError], None]) -> list[str]:
    """Unlink every non-folder in the folder `fd`; return its subfolders' names."""
    dirs: list[str] = []
    try:
        with os.scandir(fd) as it:
            entries = list(it)
    except OSError as e:
        failed(e)
        return dirs
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                dirs.append(entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
        except OSError as e:
            failed(e)
    return dirs


def iter_tree_stats(path: str) -> Iterator[os.stat_result]:
    """The lstat of everything below the folder `path` (not `path` itself), at any depth
    and path length (descends with directory descriptors, one open at a time). Entries
    that vanish while walking are skipped; a missing `path` raises FileNotFoundError.
    """
    fd = _open_dir(path, None)
    stack: list[list[str]] = []  # per open level: the subfolders still to enter
    try:
        while True:
            subdirs: list[str] = []
            try:
                with os.scandir(fd) as it:
                    entries = list(it)
            except OSError:
                entries = []
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield st
                if stat.S_ISDIR(st.st_mode):
                    subdirs.append(entry.name)
            stack.append(subdirs)
            entered = False
            while stack and not entered:
                if not stack[-1]:
                    stack.pop()
                    if stack:
                        parent = _open_dir("..", fd)
                        os.close(fd)
                        fd = parent
                    continue
                try:
                    child = _open_dir(stack[-1].pop(), fd)
                except OSError:
                    continue
                os.close(fd)
                fd = child
                entered = True
            if not entered:
                return
    finally:
        os.close(fd)


def directory_size(path: str) -> int:
    """Sum of lstat sizes of every non-directory with size > 0 below `path`, each inode once
    (a symlink counts its target's length), at any depth. A missing `path` is 0.

    moby: pkg/directory/directory_unix.go Size
    """
    size = 0
    seen: set[tuple[int, int]] = set()
    try:
        for st in iter_tree_stats(path):
            if stat.S_ISDIR(st.st_mode) or st.st_size <= 0:
                continue
            key = platform.hard_link_key(st)
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            size += st.st_size
    except (FileNotFoundError, NotADirectoryError):
        return size
    return size


class _Suppress:
    """Report an OSError to `failed` instead of raising it."""

    def __init__(self, failed: Callable[[OSError], None]) -> None:
        self.failed = failed

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, OSError):
            self.failed(exc)
            return True
        return False
