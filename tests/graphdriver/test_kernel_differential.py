"""The user-space union against the Linux kernel's overlayfs.

The same random operation sequences go through a real overlay mount
(`new_driver("overlay2", root, mounts="kernel")`) and through the user-space union
(`mounts="user"`) over the very same image layer folders. After every operation both
merged views equal the in-memory model (and fail with the same errno); at the end the two
upper folders are the same after whiteout normalisation, and changes() are identical.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerlayers.archive import OPAQUE_XATTR, WHITEOUT_OPAQUE_DIR, WHITEOUT_PREFIX
from dockerlayers.graphdriver import new_driver
from dockerlayers.graphdriver.fsdiff import changes_rootfs
from tests.graphdriver.fstest import apply_all, assert_same_tree, changes_as_tuples, snapshot
from tests.graphdriver.unionops import OPS, Model, base_layers, step
from tests.support.drivers import KERNEL_OK, KERNEL_REASON

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not KERNEL_OK, reason=KERNEL_REASON),
]


def normalized_upper(upper: str, lower) -> dict:
    """An upper folder in one vocabulary: whiteouts (0/0 device or `.wh.` file) and opaque
    folders (xattr or `.wh..wh..opq`) as markers, overlay's private xattrs ignored, and
    markers that hide nothing below dropped."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(upper):
        rel_dir = "/" + os.path.relpath(dirpath, upper).lstrip(".").lstrip("/")
        rel_dir = "/" if rel_dir == "/" else rel_dir.rstrip("/")
        for name in dirnames + filenames:
            host = os.path.join(dirpath, name)
            path = (rel_dir.rstrip("/") + "/" + name) if rel_dir != "/" else "/" + name
            st_ = os.lstat(host)
            if name == WHITEOUT_OPAQUE_DIR:
                continue
            if name.startswith(WHITEOUT_PREFIX):
                target = path[: -len(name)] + name[len(WHITEOUT_PREFIX) :]
                if lower.lexists(target):
                    out[target] = "whiteout"
                continue
            if stat.S_ISCHR(st_.st_mode) and st_.st_rdev == 0:
                if lower.lexists(path):
                    out[path] = "whiteout"
                continue
            if stat.S_ISDIR(st_.st_mode):
                opaque = os.path.lexists(os.path.join(host, WHITEOUT_OPAQUE_DIR))
                try:
                    opaque = opaque or os.getxattr(host, OPAQUE_XATTR) == b"y"
                except OSError:
                    pass
                opaque = opaque and lower.isdir(path)
                out[path] = ("dir", stat.S_IMODE(st_.st_mode), st_.st_uid, opaque)
            elif stat.S_ISLNK(st_.st_mode):
                out[path] = ("link", os.readlink(host))
            else:
                with open(host, "rb") as f:
                    out[path] = ("file", stat.S_IMODE(st_.st_mode), st_.st_uid, f.read())
    return out


def build(root: str, flat: str):
    user = new_driver("overlay2", root, mounts="user")
    user.naive_diff_wait = False
    parent = None
    for i, appliers in enumerate(base_layers()):
        layer = f"image-{i}"
        user.create(layer, parent)
        fs = user.get(layer)
        try:
            apply_all(appliers, fs)
        finally:
            user.put(layer)
        apply_all(appliers, flat)
        parent = layer
    kern = new_driver("overlay2", root, mounts="kernel")
    kern.naive_diff_wait = False
    kern.create_read_write("rw-kernel", parent)
    user.create_read_write("rw-user", parent)
    return user, kern, parent


def run(tmp: str, ops: list) -> None:
    flat = os.path.join(tmp, "flat")
    os.makedirs(flat)
    user, kern, parent = build(os.path.join(tmp, "root"), flat)
    kfs = kern.get("rw-kernel")
    try:
        assert kfs.path is not None and kfs.path.endswith("/rw-kernel/merged")
        ufs = user.get("rw-user")
        try:
            model = Model.from_snapshot(snapshot(flat), union=True)
            for op in ops:
                step(model, [kfs, ufs], op)
                want = model.snapshot()
                assert_same_tree(want, snapshot(kfs, owners=False))
                assert_same_tree(want, snapshot(ufs, owners=False))
        finally:
            user.put("rw-user")
        naive_kernel = changes_as_tuples(changes_rootfs(kfs, user.get(parent)))
        user.put(parent)
    finally:
        kern.put("rw-kernel")
    lower = user.get(parent)
    try:
        assert normalized_upper(user.layer_dir("rw-kernel"), lower) == normalized_upper(
            user.layer_dir("rw-user"), lower
        )
    finally:
        user.put(parent)
    got_kernel = changes_as_tuples(kern.changes("rw-kernel", parent))
    got_user = changes_as_tuples(user.changes("rw-user", parent))
    assert got_kernel == got_user
    assert got_kernel == naive_kernel


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(ops=st.lists(OPS, max_size=25))
def test_kernel_and_user_space_agree(tmp_path_factory, ops):
    run(str(tmp_path_factory.mktemp("diff")), ops)


def test_kernel_refuses_to_rename_merged_dirs(tmp_path):
    """EXDEV for a folder with a lower copy (overlayfs without redirect_dir), like ours."""
    flat = str(tmp_path / "flat")
    os.makedirs(flat)
    user, kern, _ = build(str(tmp_path / "root"), flat)
    kfs, ufs = kern.get("rw-kernel"), user.get("rw-user")
    try:
        for fs in (kfs, ufs):
            with pytest.raises(OSError) as e:
                fs.rename("/a", "/moved")
            assert e.value.errno == errno.EXDEV
            fs.mkdir("/new")
            fs.rename("/new", "/a/new")  # a pure upper folder moves
            assert fs.isdir("/a/new")
    finally:
        kern.put("rw-kernel")
        user.put("rw-user")


def test_kernel_shared_whiteouts_export(tmp_path):
    """The kernel (5.8+) makes every whiteout a hard link of one 0/0 device; the layer
    tar of such an upper folder must still hold two `.wh.` entries."""
    import tarfile

    flat = str(tmp_path / "flat")
    os.makedirs(flat)
    _, kern, parent = build(str(tmp_path / "root"), flat)
    fs = kern.get("rw-kernel")
    try:
        fs.remove("/a/f1")
        fs.remove("/link")
    finally:
        kern.put("rw-kernel")
    with kern.diff("rw-kernel", parent) as tar, tarfile.open(fileobj=tar) as tf:
        members = tf.getmembers()
    names = [m.name for m in members]
    assert ".wh.link" in names and "a/.wh.f1" in names
    assert all(m.isreg() for m in members if m.name.rsplit("/", 1)[-1].startswith(".wh."))
