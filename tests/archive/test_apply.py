"""unpack_layer: whiteout modes, merge rules, chroot-like symlink rules, and refusal of
hostile input with the destination left exactly as it was."""

from __future__ import annotations

import io
import os
import stat

import pytest

from dockerlayers import platform
from dockerlayers.archive import (
    LayerTarError,
    TarHeader,
    native_whiteouts_supported,
    unpack_layer,
)
from dockerlayers.archive import apply as apply_mod
from dockerlayers.archive.whiteouts import OPAQUE_XATTR, is_char_whiteout, is_opaque_dir
from dockerlayers.platform import is_root
from tests.support.hostile_tars import HOSTILE
from tests.support.tars import build_tar, d, f, hard, sym, tree_hash

root_only = pytest.mark.skipif(not is_root(), reason="needs root (mknod, trusted xattrs)")


@pytest.fixture
def lower(tmp_path):
    """A populated destination, with a sibling `outside` tree that must never change."""
    outside = tmp_path / "outside"
    os.makedirs(outside / "dir")
    (outside / "secret").write_text("do not touch")
    dest = tmp_path / "dest"
    os.makedirs(dest / "etc")
    (dest / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (dest / "etc" / "passwd").write_text("root:x:0:0\n")
    os.makedirs(dest / "var/lib/data")
    (dest / "var/lib/data/keep").write_text("keep")
    os.symlink("../etc", dest / "var/etc-link")
    os.symlink("/proc/mounts", dest / "etc/mtab")
    os.symlink("../../outside", dest / "var/up")  # climbs out of dest
    os.symlink(str(outside), dest / "abs-out")  # absolute, to a real outside dir
    os.utime(dest / "etc", (1000, 1000))
    os.utime(dest, (2000, 2000))
    return dest


@pytest.fixture(autouse=True, params=["whole", "streamed"])
def way(request, monkeypatch):
    """Every test twice: the tar validated whole before anything is written (a file), and
    read once, each entry applied as it comes (a SplitStream, as a pull registers)."""
    monkeypatch.setattr(__import__(__name__), "_WAY", request.param, raising=False)
    globals()["_WAY"] = request.param
    return request.param


_WAY = "whole"


def unpack(dest, data: bytes, **kw) -> int:
    if _WAY == "streamed":
        from dockerlayers.archive.tarsplit import SplitStream

        stream = SplitStream(io.BytesIO(data), lambda entry: None)
        size = unpack_layer(str(dest), stream, **kw)
        stream.finish()
        return size
    return unpack_layer(str(dest), io.BytesIO(data), **kw)


# ------------------------------------------------------------------------ happy paths


def test_size_is_sum_of_header_sizes(tmp_path):
    data = build_tar(d("a/"), f("a/x", b"12345"), f("a/.wh.y"), sym("a/s", "x"), f("b", b"12"))
    assert unpack(tmp_path, data) == 7


def test_naive_whiteouts(lower):
    data = build_tar(
        d("etc/"),
        f("etc/.wh.hosts"),
        f("var/lib/.wh.data"),
        f("etc/new", b"n"),
    )
    unpack(lower, data)
    assert not (lower / "etc/hosts").exists()
    assert not (lower / "etc/.wh.hosts").exists()
    assert not (lower / "var/lib/data").exists()
    assert (lower / "etc/passwd").exists() and (lower / "etc/new").read_text() == "n"


def test_naive_opaque_keeps_what_this_layer_unpacked(lower):
    data = build_tar(
        d("etc/"),
        f("etc/early", b"e"),
        f("etc/.wh..wh..opq"),
        f("etc/late", b"l"),
    )
    unpack(lower, data)
    assert sorted(os.listdir(lower / "etc")) == ["early", "late"]


def test_root_level_opaque_and_aufs_metadata(tmp_path):
    (tmp_path / "old").write_text("o")
    data = build_tar(
        f(".wh..wh.plnk/123.45", b"linked"),
        f("new", b"n"),
        f(".wh..wh..opq"),
        hard("aufs-link", ".wh..wh.plnk/123.45"),
    )
    unpack(tmp_path, data)
    assert sorted(os.listdir(tmp_path)) == ["aufs-link", "new"]
    assert (tmp_path / "aufs-link").read_text() == "linked"


def test_aufs_mode_writes_whiteouts_as_files(lower):
    data = build_tar(d("etc/"), f("etc/.wh.hosts", mode=0o600), f("etc/.wh..wh..opq"))
    unpack(lower, data, whiteout_format="aufs")
    assert (lower / "etc/hosts").exists()
    assert stat.S_IMODE(os.lstat(lower / "etc/.wh.hosts").st_mode) == 0o600
    assert (lower / "etc/.wh..wh..opq").is_file()


@root_only
def test_overlay_mode_writes_native_whiteouts(tmp_path):
    if not native_whiteouts_supported(str(tmp_path)):
        pytest.skip("no native whiteouts on this filesystem")
    data = build_tar(
        d("d1/", mode=0o700),
        f("d1/.wh..wh..opq"),
        d("d3/"),
        f("d3/.wh.f1", uid=5, gid=6),
    )
    unpack(tmp_path, data, whiteout_format="overlay")
    assert is_opaque_dir(str(tmp_path / "d1")) and not is_opaque_dir(str(tmp_path / "d3"))
    st = os.lstat(tmp_path / "d3/f1")
    assert is_char_whiteout(st) and (st.st_uid, st.st_gid) == (5, 6)
    assert sorted(os.listdir(tmp_path / "d1")) == []
    assert sorted(os.listdir(tmp_path / "d3")) == ["f1"]


def test_replace_merge_parents_and_directory_times(lower):
    (lower / "file-then-dir").write_text("f")
    os.makedirs(lower / "dir-then-file/sub")
    data = build_tar(
        d("etc/", mode=0o700, uid=0, gid=0),
        f("etc/hosts", b"new hosts", mode=0o600),
        d("file-then-dir/", mode=0o750),
        f("dir-then-file", b"now a file"),
        f("implied/deeper/file", b"x"),
        sym("etc/hosts-link", "hosts"),
    )
    unpack(lower, data)
    assert (lower / "etc/hosts").read_text() == "new hosts"
    assert (lower / "etc/passwd").exists()  # directories merge
    st = os.lstat(lower / "etc")
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_mtime == 1_600_000_000
    assert os.path.isdir(lower / "file-then-dir")
    assert (lower / "dir-then-file").read_text() == "now a file"
    assert stat.S_IMODE(os.lstat(lower / "implied").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(lower / "implied/deeper").st_mode) == 0o755
    assert os.readlink(lower / "etc/hosts-link") == "hosts"


def test_duplicate_entries_later_wins(tmp_path, way):
    data = build_tar(f("x", b"first"), f("x", b"second"), d("y/"), f("y", b"file"))
    if way == "streamed":  # tar-split refuses it first, as it does when moby registers
        from dockerlayers.archive import DuplicatePathError

        with pytest.raises(DuplicatePathError):
            unpack(tmp_path, data)
        assert os.listdir(tmp_path) == []
        return
    unpack(tmp_path, data)
    assert (tmp_path / "x").read_text() == "second"
    assert (tmp_path / "y").read_text() == "file"


def test_relative_symlinks_inside_the_tree_are_followed(lower):
    # var/etc-link -> ../etc exists in dest; link-from-tar -> var/lib comes from the tar.
    data = build_tar(
        f("var/etc-link/via-existing", b"1"),
        sym("lib-link", "var/lib"),
        f("lib-link/data/via-tar", b"2"),
        sym("var/lib/data/up", "../../.."),  # climbs to the root, not above it
        f("var/lib/data/up/at-root", b"3"),
    )
    unpack(lower, data)
    assert (lower / "etc/via-existing").read_text() == "1"
    assert (lower / "var/lib/data/via-tar").read_text() == "2"
    assert (lower / "at-root").read_text() == "3"
    assert os.path.islink(lower / "var/etc-link")


def test_missing_directories_below_a_followed_symlink_are_created(lower):
    unpack(lower, build_tar(f("var/etc-link/new/deeper/file", b"x")))
    assert (lower / "etc/new/deeper/file").read_text() == "x"


def test_dangling_symlink_is_not_a_directory(lower):
    before = tree_hash(str(lower))
    with pytest.raises(LayerTarError, match="no such file or directory"):
        unpack(lower, build_tar(sym("dangling", "nowhere/deeper"), f("dangling/x", b"x")))
    assert tree_hash(str(lower)) == before


def test_symlinks_may_point_anywhere(tmp_path):
    data = build_tar(sym("etc/mtab", "/proc/mounts"), sym("bin", "/usr/bin"), sym("up", "../x"))
    unpack(tmp_path, data)
    assert os.readlink(tmp_path / "etc/mtab") == "/proc/mounts"
    assert os.readlink(tmp_path / "up") == "../x"


def test_hardlinks_inside_the_tree(lower):
    data = build_tar(f("a", b"A"), hard("b", "a"), hard("c", "etc/passwd"), hard("d", "./a"))
    unpack(lower, data)
    # one inode per group: the OS's, or the model's where the file system has no hard links
    ino = lambda name: platform.inode_key(os.lstat(lower / name))  # noqa: E731
    assert ino("a") == ino("b") and ino("d") == ino("a")
    assert ino("c") == ino("etc/passwd") != ino("a")


def test_root_entry_sets_root_metadata(tmp_path):
    os.makedirs(tmp_path / "dest")
    unpack(tmp_path / "dest", build_tar(d("./", mode=0o711), f("./x", b"x")))
    st = os.lstat(tmp_path / "dest")
    assert stat.S_IMODE(st.st_mode) == 0o711 and st.st_mtime == 1_600_000_000
    assert (tmp_path / "dest/x").read_text() == "x"


def test_now_for_touched_and_implied_directories(lower):
    unpack(lower, build_tar(f("etc/new", b"n"), f("brand/new/file", b"x")), now=1234.0)
    assert os.lstat(lower / "etc").st_mtime == 1234.0
    assert os.lstat(lower / "brand").st_mtime == 1234.0
    assert os.lstat(lower / "brand/new").st_mtime == 1234.0
    assert os.lstat(lower).st_mtime == 1234.0
    assert os.lstat(lower / "etc/new").st_mtime == 1_600_000_000


class _Pipe(io.RawIOBase):
    """A non-seekable stream."""

    def __init__(self, data: bytes) -> None:
        self._b = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self._b.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_input_is_spooled_without_leftovers(tmp_path):
    dest, spool = tmp_path / "dest", tmp_path / "spool"
    os.makedirs(dest)
    os.makedirs(spool)
    data = build_tar(f("a", b"abc"))
    assert unpack_layer(str(dest), _Pipe(data), tmpdir=str(spool)) == 3
    assert unpack_layer(str(dest), _Pipe(data)) == 3
    assert os.listdir(spool) == [] and sorted(os.listdir(tmp_path)) == ["dest", "spool"]


def test_path_input_and_unknown_format(tmp_path):
    p = tmp_path / "layer.tar"
    p.write_bytes(build_tar(f("a", b"abc")))
    os.makedirs(tmp_path / "dest")
    assert unpack_layer(str(tmp_path / "dest"), str(p)) == 3
    with pytest.raises(ValueError, match="unknown whiteout format"):
        unpack_layer(str(tmp_path / "dest"), str(p), whiteout_format="zfs")


# ------------------------------------------------------------------- hostile corpus


@pytest.mark.parametrize("fmt", ["naive", "aufs", "overlay"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_refused_and_changes_nothing(lower, case, fmt):
    data, err, words = HOSTILE[case]
    parent = lower.parent
    before, outside_before = tree_hash(str(lower)), tree_hash(str(parent / "outside"))
    listing = sorted(os.listdir(parent))
    with pytest.raises(err, match=words):
        unpack(lower, data, whiteout_format=fmt)
    assert tree_hash(str(lower)) == before
    assert tree_hash(str(parent / "outside")) == outside_before
    assert sorted(os.listdir(parent)) == listing
    assert not os.path.exists("/tmp/evil")


@pytest.mark.parametrize(
    ("data", "fmt", "words"),
    [
        (
            build_tar((TarHeader(name="dev/null", typeflag=b"3", devmajor=1, devminor=3), b"")),
            "naive",
            "device",
        ),
        (build_tar((TarHeader(name="dev/sda", typeflag=b"4", devmajor=8), b"")), "aufs", "device"),
        (build_tar(f("etc/.wh.hosts")), "overlay", "mknod"),
    ],
)
def test_devices_refused_without_mknod(lower, monkeypatch, data, fmt, words):
    monkeypatch.setattr(apply_mod, "_can_mknod", lambda: False)
    before = tree_hash(str(lower))
    with pytest.raises(LayerTarError, match=words):
        unpack(lower, data, whiteout_format=fmt)
    assert tree_hash(str(lower)) == before


@pytest.mark.parametrize("fmt", ["naive", "aufs"])
def test_failure_while_applying_is_undone(lower, monkeypatch, fmt):
    """Validation passed, then the filesystem fails: everything done so far is undone,
    replaced and deleted paths come back, directory metadata and times too."""
    data = build_tar(
        d("./", mode=0o700),
        f("etc/.wh.passwd"),
        d("etc/", mode=0o700),
        f("etc/hosts", b"replaced"),
        hard("var/keep-link", "var/lib/data/keep"),  # changes a pre-existing inode's metadata
        f("var/lib/data/.wh..wh..opq"),
        hard("etc/hosts-again", "etc/hosts"),
        f("implied/dir/file", b"x"),
        sym("etc/s", "hosts"),
        f("boom", b"never written"),
    )
    before = tree_hash(str(lower))
    real = apply_mod._Executor._op_create

    def failing(self, op):
        if op.rel == "boom":
            raise OSError(28, "No space left on device")
        return real(self, op)

    monkeypatch.setattr(apply_mod._Executor, "_op_create", failing)
    with pytest.raises(OSError, match="No space left"):
        unpack(lower, data, whiteout_format=fmt)
    assert tree_hash(str(lower)) == before
    assert not any(n.startswith(".dockerlayers-undo-") for n in os.listdir(lower))


def test_success_leaves_no_undo_directory_and_keeps_root_times(lower):
    unpack(lower, build_tar(f("etc/.wh.hosts")))
    assert sorted(os.listdir(lower)) == ["abs-out", "etc", "var"]
    assert os.lstat(lower).st_mtime == 2000


@root_only
def test_overlay_failure_is_undone(lower, monkeypatch):
    if not native_whiteouts_supported(str(lower)):
        pytest.skip("no native whiteouts on this filesystem")
    data = build_tar(f("etc/.wh..wh..opq"), f("etc/.wh.hosts"), f("var/.wh.gone"), f("boom"))
    before = tree_hash(str(lower))
    real = apply_mod._Executor._op_create

    def failing(self, op):
        if op.rel == "boom":
            raise OSError(5, "Input/output error")
        return real(self, op)

    monkeypatch.setattr(apply_mod._Executor, "_op_create", failing)
    with pytest.raises(OSError):
        unpack(lower, data, whiteout_format="overlay")
    assert tree_hash(str(lower)) == before
    assert not os.path.lexists(lower / "var/gone")
    assert lower.joinpath("etc").is_dir() and not is_opaque_dir(str(lower / "etc"))
    with pytest.raises(OSError):
        os.getxattr(lower / "etc", OPAQUE_XATTR)
