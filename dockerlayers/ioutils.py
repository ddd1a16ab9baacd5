"""Atomic writes: a file, or a whole folder of files, appears complete or not at all.

moby: pkg/ioutils/fswriters.go (AtomicWriteFile, AtomicWriteSet)
"""

from __future__ import annotations

import os
import shutil
import tempfile


def atomic_write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to a temp file beside `path`, fsync, chmod, then rename over `path`.

    moby: pkg/ioutils/fswriters.go AtomicWriteFile
    """
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


class AtomicWriteSet:
    """Files written into a temp folder, made visible together by one rename on commit.

    moby: pkg/ioutils/fswriters.go AtomicWriteSet
    """

    def __init__(self, tmp_root: str) -> None:
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
        """Rename the set to `target`, which must not exist yet."""
        os.chmod(self.root, 0o755)
        if os.path.lexists(target):
            raise FileExistsError(17, "file exists", target)
        os.rename(self.root, target)

    def cancel(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


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
