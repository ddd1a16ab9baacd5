"""The permission checks of AsUser against the kernel's own: the same files, the same uid,
the same operations, the same answers. The kernel side runs in a child that dropped root to
uid 1000 (tests/support/asuser.py); skipped with the reason when the suite is not root."""

from __future__ import annotations

import errno
import os
import shutil
import stat

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerlayers.graphdriver.rootfs import DirRootFS
from dockerlayers.process.credentials import AsUser, R, W, X, permitted
from tests.support.asuser import need_root, run_as, workdir

UID = GID = 1000
#: (uid, gid) of a file: the process's own, its group's, someone else's, root's
OWNERS = [(UID, GID), (2000, GID), (2000, 2000), (0, 0)]


def test_the_permission_table_is_the_kernels(tmp_path):
    """Every mode (0..0777) × every owner class × r/w/x: permitted() == access(2)."""
    need_root()
    d = workdir()
    try:
        files = []
        for i, (uid, gid) in enumerate(OWNERS):
            for mode in range(0o1000):
                p = os.path.join(d, f"{i}-{mode:o}")
                with open(p, "wb"):
                    pass
                os.chown(p, uid, gid)
                os.chmod(p, mode)
                files.append(p)

        def kernel() -> list[list[bool]]:
            return [[os.access(p, m) for m in (os.R_OK, os.W_OK, os.X_OK)] for p in files]

        as_user = run_as(kernel)
        as_root = kernel()
        for p, k_user, k_root in zip(files, as_user, as_root, strict=True):
            s = os.lstat(p)
            model_user = [permitted(s, UID, [GID], w) for w in (R, W, X)]
            model_root = [permitted(s, 0, [0], w) for w in (R, W, X)]
            assert model_user == k_user, (p, oct(s.st_mode), s.st_uid, s.st_gid)
            assert model_root == k_root, (p, oct(s.st_mode))
    finally:
        shutil.rmtree(d)


# -- operations, differential ---------------------------------------------------------------

_NAMES = ["/a", "/a/f", "/a/n", "/b", "/b/g", "/b/n"]
_op = st.one_of(
    st.tuples(st.just("read"), st.sampled_from(_NAMES)),
    st.tuples(st.just("write"), st.sampled_from(_NAMES)),
    st.tuples(st.just("mkdir"), st.sampled_from(_NAMES)),
    st.tuples(st.just("unlink"), st.sampled_from(_NAMES)),
    st.tuples(st.just("rmdir"), st.sampled_from(_NAMES)),
    st.tuples(st.just("listdir"), st.sampled_from(_NAMES)),
    st.tuples(st.just("rename"), st.sampled_from(_NAMES), st.sampled_from(_NAMES)),
    st.tuples(st.just("link"), st.sampled_from(_NAMES), st.sampled_from(_NAMES)),
    st.tuples(st.just("chmod"), st.sampled_from(_NAMES), st.sampled_from([0o600, 0o755, 0o1777])),
)
_dir_mode = st.sampled_from([0o755, 0o700, 0o777, 0o1777, 0o711, 0o555, 0o300])
_file_mode = st.sampled_from([0o644, 0o600, 0o666, 0o400, 0o200, 0o000])


def _make_tree(top: str, spec) -> None:
    (amode, aown), (bmode, bown), (fmode, fown), (gmode, gown) = spec
    os.chmod(top, 0o755)
    for name, mode, own in (("a", amode, aown), ("b", bmode, bown)):
        p = os.path.join(top, name)
        os.mkdir(p)
        os.chown(p, *own)
        os.chmod(p, mode)
    for name, mode, own in (("a/f", fmode, fown), ("b/g", gmode, gown)):
        p = os.path.join(top, name)
        with open(p, "wb") as f:
            f.write(b"x")
        os.chown(p, *own)
        os.chmod(p, mode)


def _kernel_ops(top: str, ops) -> list[int]:
    out = []
    for op in ops:
        h = [top + a if isinstance(a, str) else a for a in op[1:]]
        try:
            if op[0] == "read":
                with open(h[0], "rb") as f:
                    f.read()
            elif op[0] == "write":
                with open(h[0], "ab") as f:
                    f.write(b"y")
            elif op[0] == "mkdir":
                os.mkdir(h[0], 0o755)
            elif op[0] == "unlink":
                os.unlink(h[0])
            elif op[0] == "rmdir":
                os.rmdir(h[0])
            elif op[0] == "listdir":
                os.listdir(h[0])
            elif op[0] == "rename":
                os.rename(h[0], h[1])
            elif op[0] == "link":
                os.link(h[0], h[1], follow_symlinks=False)
            elif op[0] == "chmod":
                os.chmod(h[0], h[1])
            out.append(0)
        except OSError as e:
            out.append(e.errno)
    return out


def _model_ops(top: str, ops) -> list[int]:
    fs = AsUser(DirRootFS(top), UID, GID, [GID])
    out = []
    for op in ops:
        try:
            if op[0] == "read":
                fs.read_bytes(op[1])
            elif op[0] == "write":
                with fs.open(op[1], "ab") as f:
                    f.write(b"y")
            elif op[0] == "mkdir":
                fs.mkdir(op[1], 0o755)
            elif op[0] == "unlink":
                fs.remove(op[1])
            elif op[0] == "rmdir":
                fs.rmdir(op[1])
            elif op[0] == "listdir":
                fs.listdir(op[1])
            elif op[0] == "rename":
                fs.rename(op[1], op[2])
            elif op[0] == "link":
                fs.link(op[1], op[2])
            elif op[0] == "chmod":
                fs.chmod(op[1], op[2])
            out.append(0)
        except OSError as e:
            out.append(e.errno)
    return out


def _owner():
    return st.sampled_from(OWNERS)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=st.tuples(
        st.tuples(_dir_mode, _owner()),
        st.tuples(_dir_mode, _owner()),
        st.tuples(_file_mode, _owner()),
        st.tuples(_file_mode, _owner()),
    ),
    ops=st.lists(_op, min_size=1, max_size=5),
)
def test_operations_succeed_and_fail_as_the_kernels(spec, ops):
    """A process as uid 1000 doing the same operations on the same tree: each one fails
    with the kernel's errno (EACCES, EPERM, ENOENT, ...) or succeeds, as on the kernel."""
    need_root()
    d = workdir()
    try:
        kdir, mdir = os.path.join(d, "k"), os.path.join(d, "m")
        for top in (kdir, mdir):
            os.mkdir(top)
            _make_tree(top, spec)
        kernel = run_as(lambda: _kernel_ops(kdir, ops))
        model = _model_ops(mdir, ops)
        named = [errno.errorcode.get(e, str(e)) if e else "ok" for e in model]
        assert model == kernel, (ops, named, [errno.errorcode.get(e, "ok") for e in kernel])

        # and the trees end the same (names, modes, owners)
        def tree(top):
            out = []
            for root, dirs, files in os.walk(top):
                for n in sorted(dirs + files):
                    s = os.lstat(os.path.join(root, n))
                    out.append(
                        (
                            os.path.relpath(os.path.join(root, n), top),
                            stat.S_IMODE(s.st_mode),
                            s.st_uid,
                            s.st_gid,
                        )
                    )
            return sorted(out)

        assert tree(mdir) == tree(kdir)
    finally:
        shutil.rmtree(d)
