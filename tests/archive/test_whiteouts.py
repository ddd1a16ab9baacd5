"""Whiteout constants, detection, the native-whiteout probe, and moby's overlay
tar/untar tests (archive_linux_test.go)."""

from __future__ import annotations

import io
import os
import stat

import pytest

from dockerlayers.archive import (
    OPAQUE_XATTR,
    WHITEOUT_LINK_DIR,
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
    is_char_whiteout,
    is_opaque_dir,
    native_whiteouts_supported,
    tar_directory,
    unpack_layer,
)
from dockerlayers.archive import whiteouts as whiteouts_mod
from dockerlayers.platform import is_root


def _native(path) -> bool:
    return is_root() and native_whiteouts_supported(str(path))


needs_native = pytest.mark.skipif(not is_root(), reason="needs root (mknod, trusted xattrs)")


def test_constants():
    assert WHITEOUT_PREFIX == ".wh."
    assert WHITEOUT_META_PREFIX == ".wh..wh."
    assert WHITEOUT_LINK_DIR == ".wh..wh.plnk"
    assert WHITEOUT_OPAQUE_DIR == ".wh..wh..opq"
    assert OPAQUE_XATTR == "trusted.overlay.opaque"


def test_plain_files_are_not_whiteouts(tmp_path):
    (tmp_path / "f").write_text("x")
    assert not is_char_whiteout(os.lstat(tmp_path / "f"))
    assert not is_opaque_dir(str(tmp_path))
    assert not is_opaque_dir(str(tmp_path / "missing"))


@needs_native
def test_detection(tmp_path):
    if not _native(tmp_path):
        pytest.skip("no native whiteouts on this filesystem")
    os.mknod(tmp_path / "wh", stat.S_IFCHR, 0)
    os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    assert is_char_whiteout(os.lstat(tmp_path / "wh"))
    assert not is_char_whiteout(os.lstat(tmp_path / "null"))
    os.makedirs(tmp_path / "d")
    os.setxattr(tmp_path / "d", OPAQUE_XATTR, b"y")
    os.makedirs(tmp_path / "n")
    os.setxattr(tmp_path / "n", OPAQUE_XATTR, b"n")
    assert is_opaque_dir(str(tmp_path / "d")) and not is_opaque_dir(str(tmp_path / "n"))


def test_probe_is_cached_and_cleans_up(tmp_path, monkeypatch):
    monkeypatch.setattr(whiteouts_mod, "_probe_cache", {})
    os.utime(tmp_path, (1000, 1000))
    first = native_whiteouts_supported(str(tmp_path))
    assert os.listdir(tmp_path) == []
    assert os.stat(tmp_path).st_mtime == 1000
    if os.geteuid() != 0:
        assert first is False
    dev = os.stat(tmp_path).st_dev
    assert whiteouts_mod._probe_cache == {dev: first}
    monkeypatch.setattr(whiteouts_mod, "_probe_cache", {dev: not first})
    assert native_whiteouts_supported(str(tmp_path)) is (not first)


def setup_overlay_test_dir(src) -> None:
    """moby setupOverlayTestDir."""
    os.mkdir(src / "d1", 0o700)
    os.setxattr(src / "d1", OPAQUE_XATTR, b"y")
    (src / "d1" / "f1").write_bytes(b"")
    os.chmod(src / "d1" / "f1", 0o600)
    os.mkdir(src / "d2", 0o750)
    os.chmod(src / "d2", 0o750)
    os.setxattr(src / "d2", OPAQUE_XATTR, b"y")
    (src / "d2" / "f1").write_bytes(b"")
    os.chmod(src / "d2" / "f1", 0o660)
    os.mkdir(src / "d3", 0o700)
    os.mknod(src / "d3" / "f1", stat.S_IFCHR, 0)


def check_file_mode(path, mode: int) -> None:
    assert os.lstat(path).st_mode == mode, f"{path}: {oct(os.lstat(path).st_mode)}"


def _tar(src) -> io.BytesIO:
    buf = io.BytesIO()
    tar_directory(str(src), buf, whiteout_format="overlay")
    buf.seek(0)
    return buf


@needs_native
def test_overlay_tar_untar(tmp_path):
    """moby TestOverlayTarUntar."""
    if not _native(tmp_path):
        pytest.skip("no native whiteouts on this filesystem")
    src, dst = tmp_path / "src", tmp_path / "dst"
    os.makedirs(src)
    os.makedirs(dst)
    setup_overlay_test_dir(src)
    unpack_layer(str(dst), _tar(src), whiteout_format="overlay")
    check_file_mode(dst / "d1", stat.S_IFDIR | 0o700)
    check_file_mode(dst / "d2", stat.S_IFDIR | 0o750)
    check_file_mode(dst / "d3", stat.S_IFDIR | 0o700)
    check_file_mode(dst / "d1" / "f1", stat.S_IFREG | 0o600)
    check_file_mode(dst / "d2" / "f1", stat.S_IFREG | 0o660)
    check_file_mode(dst / "d3" / "f1", stat.S_IFCHR)
    assert is_opaque_dir(str(dst / "d1")) and is_opaque_dir(str(dst / "d2"))
    assert not is_opaque_dir(str(dst / "d3"))
    assert is_char_whiteout(os.lstat(dst / "d3" / "f1"))


@needs_native
def test_overlay_tar_aufs_untar(tmp_path):
    """moby TestOverlayTarAUFSUntar."""
    if not _native(tmp_path):
        pytest.skip("no native whiteouts on this filesystem")
    src, dst = tmp_path / "src", tmp_path / "dst"
    os.makedirs(src)
    os.makedirs(dst)
    setup_overlay_test_dir(src)
    unpack_layer(str(dst), _tar(src), whiteout_format="aufs")
    check_file_mode(dst / "d1", stat.S_IFDIR | 0o700)
    check_file_mode(dst / "d1" / ".wh..wh..opq", stat.S_IFREG | 0o700)
    check_file_mode(dst / "d2", stat.S_IFDIR | 0o750)
    check_file_mode(dst / "d2" / ".wh..wh..opq", stat.S_IFREG | 0o750)
    check_file_mode(dst / "d3", stat.S_IFDIR | 0o700)
    check_file_mode(dst / "d1" / "f1", stat.S_IFREG | 0o600)
    check_file_mode(dst / "d2" / "f1", stat.S_IFREG | 0o660)
    check_file_mode(dst / "d3" / ".wh.f1", stat.S_IFREG | 0o600)
    for d in ("d1", "d2", "d3"):
        assert not is_opaque_dir(str(dst / d))
