"""moby pkg/archive changes_test.go and changes_posix_test.go, mirrored by name."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
import time

import pytest

from dockerlayers.archive import (
    Change,
    ChangeKind,
    changes_aufs,
    changes_dirs,
    changes_size,
    directory_size,
    export_changes,
    native_whiteouts_supported,
    unpack_layer,
)
from dockerlayers.archive.whiteouts import OPAQUE_XATTR
from dockerlayers.platform import is_root

root_only = pytest.mark.skipif(not is_root(), reason="needs root (like moby's checkChanges)")

C, A, D = ChangeKind.MODIFY, ChangeKind.ADD, ChangeKind.DELETE


def copy_dir(src: str, dst: str) -> None:
    """moby copyDir: `cp -a src dst`."""
    subprocess.run(["cp", "-a", src, dst], check=True)


REGULAR, DIR, SYMLINK = 0, 1, 2


def create_sample_dir(root: str) -> None:
    """moby createSampleDir: the same files, modes and symlinks."""
    files = [
        (REGULAR, "file1", "file1\n", 0o600),
        (REGULAR, "file2", "file2\n", 0o666),
        (REGULAR, "file3", "file3\n", 0o404),
        (REGULAR, "file4", "file4\n", 0o600),
        (REGULAR, "file5", "file5\n", 0o600),
        (REGULAR, "file6", "file6\n", 0o600),
        (REGULAR, "file7", "file7\n", 0o600),
        (DIR, "dir1", "", 0o740),
        (REGULAR, "dir1/file1-1", "file1-1\n", 0o1444),
        (REGULAR, "dir1/file1-2", "file1-2\n", 0o666),
        (DIR, "dir2", "", 0o700),
        (REGULAR, "dir2/file2-1", "file2-1\n", 0o666),
        (REGULAR, "dir2/file2-2", "file2-2\n", 0o666),
        (DIR, "dir3", "", 0o700),
        (REGULAR, "dir3/file3-1", "file3-1\n", 0o666),
        (REGULAR, "dir3/file3-2", "file3-2\n", 0o666),
        (DIR, "dir4", "", 0o700),
        (REGULAR, "dir4/file3-1", "file4-1\n", 0o666),
        (REGULAR, "dir4/file3-2", "file4-2\n", 0o666),
        (SYMLINK, "symlink1", "target1", 0o666),
        (SYMLINK, "symlink2", "target2", 0o666),
        (SYMLINK, "symlink3", root + "/file1", 0o666),
        (SYMLINK, "symlink4", root + "/symlink3", 0o666),
        (SYMLINK, "dirSymlink", root + "/dir1", 0o740),
    ]
    provision_sample_dir(root, files)


def _write_file(path: str, contents: str | bytes, perm: int) -> None:
    """Go os.WriteFile: create with perm (umask applies), truncate if it exists."""
    data = contents.encode() if isinstance(contents, str) else contents
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, perm & 0o777)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def provision_sample_dir(root: str, files: list[tuple[int, str, str, int]]) -> None:
    now = time.time()
    for kind, rel, contents, perm in files:
        p = os.path.join(root, rel)
        if kind == DIR:
            os.makedirs(p, perm & 0o777, exist_ok=True)
        elif kind == REGULAR:
            _write_file(p, contents, perm)
            if perm & 0o1000:  # Go's os.WriteFile would not set it either; keep the perm
                pass
        else:
            os.symlink(contents, p)
        if kind != SYMLINK:
            os.utime(p, (now, now))


def mutate_sample_dir(root: str) -> None:
    """moby mutateSampleDir."""
    j = lambda *p: os.path.join(root, *p)  # noqa: E731
    os.remove(j("file1"))  # Remove a regular file
    subprocess.run(["rm", "-rf", j("dir1")], check=True)  # Remove a directory
    os.remove(j("symlink1"))  # Remove a symlink
    _write_file(j("file2"), "fileNN\n", 0o777)  # Rewrite a file
    os.remove(j("file3"))  # Replace a file
    _write_file(j("file3"), "fileMM\n", 0o404)
    later = time.time() + 1
    os.utime(j("file4"), (later, later))  # Touch file
    os.remove(j("file5"))  # Replace file with dir
    os.makedirs(j("file5"), 0o666)
    _write_file(j("filenew"), "filenew\n", 0o777)  # Create new file
    os.makedirs(j("dirnew"), 0o766)  # Create new dir
    os.symlink("targetnew", j("symlinknew"))  # Create a new symlink
    os.remove(j("symlink2"))  # Change a symlink
    os.symlink("target2change", j("symlink2"))
    subprocess.run(["rm", "-rf", j("dir2")], check=True)  # Replace dir with file
    _write_file(j("dir2"), "dir2\n", 0o777)
    later = time.time() + 1
    os.utime(j("dir3"), (later, later))  # Touch dir


def as_pairs(changes: list[Change]) -> list[tuple[str, ChangeKind]]:
    return [(c.path, c.kind) for c in changes]


def test_change_string():
    assert str(Change("change", ChangeKind.MODIFY)) == "C change"
    assert str(Change("change", ChangeKind.ADD)) == "A change"
    assert str(Change("change", ChangeKind.DELETE)) == "D change"
    assert Change("/etc", ChangeKind.MODIFY).to_api() == {"Path": "/etc", "Kind": 0}
    assert [int(k) for k in (C, A, D)] == [0, 1, 2]


def test_changes_with_no_changes(tmp_path):
    rw, layer = tmp_path / "rw", tmp_path / "layer"
    os.makedirs(rw)
    os.makedirs(layer)
    create_sample_dir(str(layer))
    assert changes_aufs([str(layer)], str(rw)) == []


@root_only
def test_changes_with_changes(tmp_path):
    layer, rw = tmp_path / "layer", tmp_path / "rw"
    os.makedirs(layer)
    create_sample_dir(str(layer))
    os.makedirs(layer / "dir1/subfolder", 0o740, exist_ok=True)
    dir1 = rw / "dir1"
    os.makedirs(dir1, 0o740)
    _write_file(str(dir1 / ".wh.file1-2"), b"", 0o600)
    _write_file(str(dir1 / "file1-1"), b"\x00", 0o1444)
    os.makedirs(dir1 / "subfolder", 0o740)
    _write_file(str(dir1 / "subfolder/newFile"), b"", 0o740)
    assert as_pairs(changes_aufs([str(layer)], str(rw))) == [
        ("/dir1", C),
        ("/dir1/file1-1", C),
        ("/dir1/file1-2", D),
        ("/dir1/subfolder", C),
        ("/dir1/subfolder/newFile", A),
    ]


@root_only
def test_changes_with_changes_gh13590(tmp_path):
    base = tmp_path / "base"
    dir3 = base / "dir1/dir2/dir3"
    os.makedirs(dir3, 0o400)  # Go's MkdirAll(0o7400) keeps only the perm bits
    _write_file(str(dir3 / "file.txt"), "hello", 0o666)

    layer = tmp_path / "layer2"
    os.makedirs(layer)
    copy_dir(str(base / "dir1"), str(layer) + "/")
    os.remove(layer / "dir1/dir2/dir3/file.txt")
    _write_file(str(layer / "dir1/dir2/dir3/file1.txt"), "bye", 0o666)
    assert as_pairs(changes_aufs([str(base)], str(layer))) == [
        ("/dir1/dir2/dir3", C),
        ("/dir1/dir2/dir3/file1.txt", A),
    ]

    layer = tmp_path / "layer3"
    os.makedirs(layer)
    copy_dir(str(base / "dir1"), str(layer) + "/")
    _write_file(str(layer / "dir1/dir2/dir3/file.txt"), "bye", 0o666)
    assert as_pairs(changes_aufs([str(base)], str(layer))) == [
        ("/dir1/dir2/dir3/file.txt", C),
    ]


def test_changes_dirs_empty(tmp_path):
    src = tmp_path / "src"
    os.makedirs(src)
    create_sample_dir(str(src))
    dst = str(src) + "-copy"
    copy_dir(str(src), dst)
    assert changes_dirs(dst, str(src)) == []


EXPECTED_MUTATION = [
    ("/dir1", D),
    ("/dir2", C),
    ("/dirnew", A),
    ("/file1", D),
    ("/file2", C),
    ("/file3", C),
    ("/file4", C),
    ("/file5", C),
    ("/filenew", A),
    ("/symlink1", D),
    ("/symlink2", C),
    ("/symlinknew", A),
]


def _mutated(tmp_path) -> tuple[str, str]:
    src = tmp_path / "src"
    os.makedirs(src)
    create_sample_dir(str(src))
    dst = str(src) + "-copy"
    copy_dir(str(src), dst)
    mutate_sample_dir(dst)
    return str(src), dst


def test_changes_dirs_mutated(tmp_path):
    src, dst = _mutated(tmp_path)
    # /dir3 (mtime touched) is not reported on Linux.
    assert as_pairs(changes_dirs(dst, src)) == EXPECTED_MUTATION


def test_apply_layer(tmp_path):
    src, dst = _mutated(tmp_path)
    changes = changes_dirs(dst, src)
    layer = io.BytesIO()
    export_changes(dst, changes, layer)
    layer.seek(0)
    unpack_layer(src, layer)
    assert changes_dirs(src, dst) == []


def prepare_untar_source_directory(n: int, target: str, make_links: bool) -> int:
    """moby prepareUntarSourceDirectory."""
    data = b"fooo"
    for i in range(n):
        name = os.path.join(target, f"file-{i}")
        _write_file(name, data, 0o700)
        if make_links:
            os.link(name, name + "-link")
    return n * len(data)


def test_changes_size_with_hardlinks(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    os.makedirs(src)
    os.makedirs(dst)
    size = prepare_untar_source_directory(100, str(dst), True)
    changes = changes_dirs(str(dst), str(src))
    assert changes_size(str(dst), changes) == size


def test_changes_size_with_no_changes():
    assert changes_size("/tmp", []) == 0


def test_changes_size_with_only_delete_changes():
    assert changes_size("/tmp", [Change("deletedPath", ChangeKind.DELETE)]) == 0


def test_changes_size(tmp_path):
    _write_file(str(tmp_path / "addition"), b"\x01\x01\x01", 0o744)
    _write_file(str(tmp_path / "modification"), b"\x01\x01\x01", 0o744)
    changes = [Change("addition", ChangeKind.ADD), Change("modification", ChangeKind.MODIFY)]
    assert changes_size(str(tmp_path), changes) == 6


def _headers(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return sorted(t.getmembers(), key=lambda m: m.name)


def test_hard_link_order(tmp_path):
    names = ["file1.txt", "file2.txt", "file3.txt"]
    src = tmp_path / "src"
    os.makedirs(src)
    for name in names:
        _write_file(str(src / name), b"Hey y'all", 0o666)
    dest = tmp_path / "dest"
    copy_dir(str(src), str(dest))
    for name in names:
        for i in range(5):
            os.link(dest / name, dest / f"{name}.link{i}")
    changes = changes_dirs(str(dest), str(src))
    out, out_rev = io.BytesIO(), io.BytesIO()
    export_changes(str(dest), sorted(changes, key=lambda c: c.path), out)
    export_changes(str(dest), sorted(changes, key=lambda c: c.path, reverse=True), out_rev)
    hdrs, hdrs_rev = _headers(out.getvalue()), _headers(out_rev.getvalue())
    assert [(h.name, h.size, h.type, h.linkname) for h in hdrs] == [
        (h.name, h.size, h.type, h.linkname) for h in hdrs_rev
    ]
    # file1.txt itself is unchanged (nlink is not compared); of its new names the
    # first in path order carries the content and the others link to it.
    by = {h.name: h for h in hdrs}
    assert "file1.txt" not in by
    assert by["file1.txt.link0"].isreg() and by["file1.txt.link0"].size == 9
    assert by["file1.txt.link3"].islnk() and by["file1.txt.link3"].linkname == "file1.txt.link0"


# ------------------------------------------------------------------------ beyond moby


def test_changes_dirs_rules(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        os.makedirs(root / "same/deep")
        (root / "same/deep/f").write_text("x")
        os.utime(root / "same/deep/f", (1, 1))
        os.makedirs(root / "gone/sub")
        (root / "gone/sub/f").write_text("x")
        (root / "mtime-only").write_text("same")
        os.utime(root / "mtime-only", ns=(0, 1_000_000_000_000_000_000))
    subprocess.run(["rm", "-rf", str(new / "gone")], check=True)
    os.makedirs(new / "added/inner")
    (new / "added/inner/f").write_text("x")
    (new / "same/deep/new").write_text("n")
    # sameFsTime: whole second on one side, same second on the other -> unchanged.
    os.utime(new / "mtime-only", ns=(0, 1_000_000_000_123_000_000))
    assert as_pairs(changes_dirs(str(new), str(old))) == [
        ("/added", A),
        ("/added/inner", A),
        ("/added/inner/f", A),
        ("/gone", D),
        ("/same", C),
        ("/same/deep", C),
        ("/same/deep/new", A),
    ]
    assert as_pairs(changes_dirs(str(new), None))[0] == ("/added", A)
    assert all(k == A for _, k in as_pairs(changes_dirs(str(new), None)))


@root_only
def test_changes_dirs_sees_owner_and_capability(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        os.makedirs(root)
        (root / "f").write_text("x")
        (root / "g").write_text("x")
        os.utime(root / "f", (1, 1))
        os.utime(root / "g", (1, 1))
    os.chown(new / "f", 1, 1)
    try:
        os.setxattr(new / "g", "security.capability", bytes([1, 0, 0, 2]) + bytes(16))
    except OSError:
        pytest.skip("cannot set security.capability here")
    assert as_pairs(changes_dirs(str(new), str(old))) == [("/f", C), ("/g", C)]


def test_changes_aufs_meta_and_plain_whiteouts(tmp_path):
    lower, rw = tmp_path / "lower", tmp_path / "rw"
    os.makedirs(lower / "etc")
    os.makedirs(rw / ".wh..wh.plnk")
    (rw / ".wh..wh.aufs").write_text("")
    (rw / ".wh.etc").write_text("")
    assert as_pairs(changes_aufs([str(lower)], str(rw))) == [("/etc", D)]


@pytest.mark.skipif(not is_root(), reason="needs root (mknod, trusted xattrs)")
def test_changes_aufs_accepts_overlay_forms(tmp_path):
    lower, rw = tmp_path / "lower", tmp_path / "rw"
    if not native_whiteouts_supported(str(tmp_path)):
        pytest.skip("no native whiteouts on this filesystem")
    os.makedirs(lower / "d/old")
    os.makedirs(rw / "d")
    os.mknod(rw / "d/x", stat.S_IFCHR, 0)
    os.makedirs(rw / "o")
    os.setxattr(rw / "o", OPAQUE_XATTR, b"y")
    assert as_pairs(changes_aufs([str(lower)], str(rw))) == [
        ("/d", C),  # the rw copy of /d differs from the lower one (mtime, size)
        ("/d/x", D),
        ("/o", A),
        ("/o/.wh..opq", D),  # what moby's Changes reports for an aufs opaque marker
    ]


def test_directory_size(tmp_path):
    (tmp_path / "a").write_text("12345")
    os.link(tmp_path / "a", tmp_path / "b")
    (tmp_path / "empty").write_text("")
    os.makedirs(tmp_path / "sub")
    (tmp_path / "sub" / "c").write_text("123")
    os.symlink("a-target", tmp_path / "sub" / "l")  # counts len("a-target")
    assert directory_size(str(tmp_path)) == 5 + 3 + 8
