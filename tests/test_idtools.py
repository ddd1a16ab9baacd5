"""Ownership as the container sees it (dockerlayers/idtools.py): root keeps real owners, an
unprivileged model (a child as uid 1000, tests/support/asuser.py) keeps them in xattrs, and
both views agree on everything the container can see."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockerlayers import idtools
from dockerlayers.graphdriver.rootfs import DirRootFS
from tests.support.asuser import need_root, run_as, workdir


def test_as_root_ownership_is_real_ownership(tmp_path):
    need_root()
    p = tmp_path / "f"
    p.write_bytes(b"x")
    idtools.lchown(str(p), 1000, 50)
    assert (os.lstat(p).st_uid, os.lstat(p).st_gid) == (1000, 50)
    assert idtools.owner(str(p), os.lstat(p)) == (1000, 50)
    assert idtools.OVERRIDE_XATTR not in os.listxattr(p)


def test_unprivileged_the_host_user_is_root_and_others_are_in_xattrs():
    d = workdir()
    try:

        def child():
            f, sub, link = (os.path.join(d, n) for n in ("f", "sub", "link"))
            open(f, "wb").close()
            os.mkdir(sub)
            os.symlink("f", link)
            seen = {"fresh": [idtools.lstat(p)[4:6] for p in (f, sub, link)]}
            idtools.lchown(f, 1000, 50)
            idtools.lchown(sub, 7, 7)
            idtools.lchown(link, 33, 33)  # a symlink: kept on its folder
            seen["owned"] = [idtools.lstat(p)[4:6] for p in (f, sub, link)]
            seen["host"] = [os.lstat(p)[4:6] for p in (f, sub, link)]
            seen["xattrs"] = sorted(os.listxattr(d))
            idtools.rename(link, os.path.join(d, "moved"))
            seen["moved"] = idtools.lstat(os.path.join(d, "moved"))[4:6]
            os.symlink("f", link)
            idtools.fresh(link)  # a new link of the old name is its maker's
            seen["new"] = idtools.lstat(link)[4:6]
            idtools.unlink(os.path.join(d, "moved"))
            idtools.lchown(f, 0, 0)  # back to root: no xattr left
            seen["after"] = sorted(os.listxattr(d)) + sorted(os.listxattr(f))
            return seen

        seen = run_as(child)
    finally:
        shutil.rmtree(d)
    assert seen["fresh"] == [[0, 0]] * 3
    assert seen["owned"] == [[1000, 50], [7, 7], [33, 33]]
    assert seen["host"] == [[1000, 1000]] * 3  # on disk, all the host user's
    assert seen["xattrs"] == [idtools.OVERRIDE_CHILD_PREFIX + "link"]
    assert seen["moved"] == [33, 33]
    assert seen["new"] == [0, 0]
    assert seen["after"] == []


def test_without_user_xattrs_other_owners_read_back_as_root():
    """A file system without user xattrs (tmpfs before 6.6): a chown in the container does
    not fail, the owner stays root (docs/differences.md)."""
    d = workdir()
    try:

        def child():
            import errno

            def refuse(*_a, **_k):
                raise OSError(errno.ENOTSUP, "Operation not supported")

            os.setxattr = refuse
            fs = DirRootFS(d)
            fs.write_bytes("/f", b"x")
            fs.chown("/f", 1000, 1000)
            return list(fs.lstat("/f")[4:6])

        assert run_as(child) == [0, 0]
    finally:
        shutil.rmtree(d)


_names = st.sampled_from(["f", "g", "d", "d/h", "l"])
_ids = st.sampled_from([0, 1, 50, 1000, 65534])
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("chown"), _names, _ids, _ids),
        st.tuples(st.just("rename"), _names, _names),
        st.tuples(st.just("remove"), _names),
        st.tuples(st.just("symlink"), _names),
        st.tuples(st.just("write"), _names),
        st.tuples(st.just("chmod"), _names, st.sampled_from([0, 0o500, 0o555, 0o4755, 0o600])),
    ),
    max_size=8,
)


def _story(top: str, ops) -> dict[str, list[int]]:
    """`ops` through a RootFS on `top`; every name's (uid, gid, mode) as the container sees
    it."""
    fs = DirRootFS(top)
    fs.mkdir("/d")
    fs.write_bytes("/f", b"f")
    fs.symlink("f", "/l")
    for op in ops:
        try:
            if op[0] == "chown":
                fs.chown("/" + op[1], op[2], op[3])
            elif op[0] == "rename":
                fs.rename("/" + op[1], "/" + op[2])
            elif op[0] == "remove":
                p = "/" + op[1]
                fs.rmdir(p) if fs.isdir(p) and not fs.islink(p) else fs.remove(p)
            elif op[0] == "symlink":
                fs.symlink("f", "/" + op[1])
            elif op[0] == "write":
                fs.write_bytes("/" + op[1], b"w")
            elif op[0] == "chmod":
                fs.chmod("/" + op[1], op[2])
        except OSError:
            pass
    out = {}
    for root, dirs, files in fs.walk("/"):
        for n in dirs + files:
            p = (root.rstrip("/") + "/" + n) if root != "/" else "/" + n
            s = fs.lstat(p)
            out[p] = [s.st_uid, s.st_gid, s.st_mode]
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=_ops)
# chown clears setuid as the kernel's does, root included (found by this test)
@example(ops=[("chmod", "f", 0o4755), ("chown", "f", 0, 0)])
# a write keeps it (the container's root has CAP_FSETID; the host user's write does not)
@example(ops=[("chmod", "f", 0o4755), ("write", "f")])
def test_root_and_an_unprivileged_user_see_the_same_owners(ops):
    """Any sequence of chown/chmod/rename/remove/symlink/write: the owners and modes the
    container sees (and what succeeds: root is not stopped by a 0500 folder) are the same
    whoever runs the model."""
    need_root()
    a, b = workdir(), workdir()
    try:
        as_root = _story(a, ops)
        as_user = run_as(lambda: _story(b, ops))
    finally:
        shutil.rmtree(a)
        shutil.rmtree(b)
    assert as_user == as_root


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=_ops)
@example(ops=[("chown", "l", 33, 33), ("rename", "l", "g"), ("chown", "d", 7, 7)])
@example(ops=[("chmod", "d", 0o500), ("write", "d/h"), ("chown", "d/h", 1, 50)])
def test_where_there_are_no_xattrs_the_model_keeps_the_owners(ops):
    """Where the OS has no xattrs and chown does nothing (Pyodide), the records are the
    model's table: the same owners and modes as root sees, and nothing on disk."""
    need_root()
    from dockerlayers import platform

    a, b = workdir(), workdir()
    try:
        as_root = _story(a, ops)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(platform, "is_root", lambda: False)
            mp.setattr(platform, "has_xattr", lambda: False)
            mp.setattr(idtools, "_records", {})
            as_model = _story(b, ops)
            on_disk = {
                p: (st.st_uid, st.st_gid, os.listxattr(p, follow_symlinks=False))
                for p in (os.path.join(r, n) for r, ds, fs in os.walk(b) for n in ds + fs)
                for st in [os.lstat(p)]
            }
    finally:
        shutil.rmtree(a)
        shutil.rmtree(b)
    assert as_model == as_root
    assert all(v == (0, 0, []) for v in on_disk.values()), on_disk
