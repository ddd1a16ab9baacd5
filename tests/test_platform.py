"""dockerlayers.platform: the probes, and the stand-ins the model uses where the OS lacks a
feature (hard links, symlink times, flock), checked on CPython by switching the probe off."""

from __future__ import annotations

import os
import stat

import pytest

from dockerlayers import platform
from dockerlayers.archive.tar import file_info_header
from dockerlayers.ioutils import directory_size


@pytest.fixture
def no_links(monkeypatch: pytest.MonkeyPatch):
    """This process as under Pyodide: os.link does not work."""
    monkeypatch.setattr(platform, "has_link", lambda: False)
    monkeypatch.setattr(platform, "_link_canon", {})
    monkeypatch.setattr(platform, "_link_count", {})


def test_probes_on_this_machine() -> None:
    if not hasattr(os, "geteuid"):  # Pyodide: tests/pyodide checks the probes' answers there
        pytest.skip("needs os.geteuid: the probes are checked against a Linux machine's answers")
    assert platform.HAS_LINK is True  # a Linux file system
    assert platform.CAN_THREAD is True
    assert platform.HAS_FLOCK is True  # a real flock excludes a second open file
    assert (os.geteuid() == 0) == platform.IS_ROOT
    assert (os.geteuid() == 0) == platform.CAN_MKNOD
    with pytest.raises(AttributeError):
        platform.NO_SUCH_FEATURE  # noqa: B018


def test_emulated_hard_link_counts_once(tmp_path, no_links) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100)
    platform.link(str(tmp_path / "a"), str(tmp_path / "b"))
    platform.link(str(tmp_path / "b"), str(tmp_path / "c"))  # a link of a link: one group
    sts = [os.lstat(tmp_path / n) for n in "abc"]
    assert all(st.st_nlink == 1 for st in sts)  # real copies...
    keys = {platform.hard_link_key(st) for st in sts}
    assert len(keys) == 1 and None not in keys  # ...that the model knows are one file
    assert [platform.nlink(st) for st in sts] == [3, 3, 3]
    assert directory_size(str(tmp_path)) == 100


def test_no_group_without_links(tmp_path, no_links) -> None:
    (tmp_path / "a").write_bytes(b"x")
    assert platform.hard_link_key(os.lstat(tmp_path / "a")) is None
    assert platform.nlink(os.lstat(tmp_path / "a")) == 1


def test_real_hard_link_key(tmp_path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    os.link(tmp_path / "a", tmp_path / "b")
    st = os.lstat(tmp_path / "b")
    assert platform.hard_link_key(st) == (st.st_dev, st.st_ino)


def test_symlink_time_kept_where_utime_cannot(tmp_path, monkeypatch) -> None:
    real_utime = os.utime

    def utime(path, times=None, *, ns=None, follow_symlinks=True):
        if not follow_symlinks:
            raise NotImplementedError("utime: follow_symlinks unavailable on this platform")
        return real_utime(path, times, ns=ns) if ns is not None else real_utime(path, times)

    monkeypatch.setattr(os, "utime", utime)
    monkeypatch.setattr(platform, "_symlink_mtimes", {})
    (tmp_path / "f").write_bytes(b"")
    os.symlink("f", tmp_path / "l")
    target_before = os.stat(tmp_path / "f").st_mtime_ns
    platform.lutime(str(tmp_path / "l"), (1_700_000_000, 1_700_000_000))
    st = os.lstat(tmp_path / "l")
    assert stat.S_ISLNK(st.st_mode)
    assert platform.mtime_ns(st) == 1_700_000_000 * 10**9
    assert os.stat(tmp_path / "f").st_mtime_ns == target_before  # the target is untouched
    assert file_info_header(str(tmp_path / "l"), "l", st).mtime == 1_700_000_000
    platform.lutime(str(tmp_path / "f"), (1_600_000_000, 1_600_000_000))  # a file: real utime
    assert os.lstat(tmp_path / "f").st_mtime == 1_600_000_000


def test_lock_table_where_flock_is_a_mock(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(platform, "has_flock", lambda: False)
    path = str(tmp_path / "lock")
    a = os.open(path, os.O_RDWR | os.O_CREAT)
    b = os.open(path, os.O_RDWR)
    try:
        assert platform.try_lock(a, path)
        assert not platform.try_lock(b, path)  # a second daemon on the root is refused
        platform.unlock(a, path)
        assert platform.try_lock(b, path)
        platform.unlock(b, path)
    finally:
        os.close(a)
        os.close(b)


def test_daemon_root_in_use_without_flock(tmp_path, monkeypatch) -> None:
    from dockerlayers.daemon.daemon import Daemon, RootInUse

    monkeypatch.setattr(platform, "has_flock", lambda: False)
    d = Daemon(str(tmp_path / "root"), "vfs", seed=0, clock="virtual")
    try:
        with pytest.raises(RootInUse):
            Daemon(str(tmp_path / "root"), "vfs", seed=0, clock="virtual")
    finally:
        d.close()
    Daemon(str(tmp_path / "root"), "vfs", seed=0, clock="virtual").close()  # let go on close


def test_digest_in_the_calling_thread(monkeypatch) -> None:
    from dockerlayers.layer.ro import _Digester

    monkeypatch.setattr(platform, "can_thread", lambda: False)
    d = _Digester(threaded=True)
    d.update(b"abc")
    assert d.close() == ("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
