"""Each driver's folders on disk, exactly as moby lays them out.

moby: daemon/graphdriver/overlay2/overlay.go, aufs/aufs.go (20.10), vfs/driver.go
"""

from __future__ import annotations

import os
import re
import stat

import pytest

from tests.support.drivers import KERNEL_OK, needs_kernel

LINK_RE = re.compile(r"^[A-Z2-7]{26}$")


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("impl", ["overlay2", pytest.param("overlay2-kernel", marks=needs_kernel)])
def test_overlay2_layout(drivers, impl):
    d = drivers(impl)
    home = d.home
    assert home.endswith("/overlay2")
    assert mode(home) == 0o710
    assert mode(os.path.join(home, "l")) == 0o700

    d.create("base", None)
    d.create("mid", "base")
    d.create_read_write("rw", "mid")

    # base: diff + link, no lower, no work
    assert sorted(os.listdir(os.path.join(home, "base"))) == ["committed", "diff", "link"]
    assert mode(os.path.join(home, "base")) == 0o710
    assert mode(os.path.join(home, "base", "diff")) == 0o755
    links = {}
    for layer in ("base", "mid", "rw"):
        with open(os.path.join(home, layer, "link"), "rb") as f:
            link = f.read().decode()
        assert LINK_RE.match(link), link  # no newline
        assert os.readlink(os.path.join(home, "l", link)) == f"../{layer}/diff"
        links[layer] = link
    assert sorted(os.listdir(os.path.join(home, "l"))) == sorted(links.values())

    # lower: nearest first, relative l/ paths, no trailing newline
    with open(os.path.join(home, "mid", "lower"), "rb") as f:
        assert f.read() == f"l/{links['base']}".encode()
    with open(os.path.join(home, "rw", "lower"), "rb") as f:
        assert f.read() == f"l/{links['mid']}:l/{links['base']}".encode()
    assert mode(os.path.join(home, "mid", "work")) == 0o700
    # committed in layers that have a child (empty, 0600), not in the top
    for layer in ("base", "mid"):
        committed = os.path.join(home, layer, "committed")
        assert os.path.getsize(committed) == 0
        assert mode(committed) == 0o600
    assert not os.path.exists(os.path.join(home, "rw", "committed"))
    assert sorted(os.listdir(os.path.join(home, "rw"))) == ["diff", "link", "lower", "work"]

    # merged/ only while mounted (base layers are never mounted)
    fs = d.get("rw")
    assert os.path.isdir(os.path.join(home, "rw", "merged"))
    fs2 = d.get("rw")
    assert fs2 is fs or fs2.path == fs.path
    d.put("rw")
    assert os.path.isdir(os.path.join(home, "rw", "merged"))
    d.put("rw")
    assert not os.path.exists(os.path.join(home, "rw", "merged"))
    d.get("base")
    assert not os.path.exists(os.path.join(home, "base", "merged"))
    d.put("base")

    meta = d.get_metadata("rw")
    assert meta["UpperDir"] == os.path.join(home, "rw", "diff")
    assert meta["WorkDir"] == os.path.join(home, "rw", "work")
    assert meta["MergedDir"] == os.path.join(home, "rw", "merged")
    assert meta["LowerDir"] == ":".join(os.path.join(home, x, "diff") for x in ("mid", "base"))
    assert "LowerDir" not in d.get_metadata("base")

    d.remove("rw")
    assert not os.path.exists(os.path.join(home, "rw"))
    assert links["rw"] not in os.listdir(os.path.join(home, "l"))


def test_overlay2_restart_removes_temp_files_of_a_crashed_write(drivers):
    """A crash between mkstemp and rename in atomic_write_file (for `link`, `lower`, or the
    parent's `committed`) leaves a `.tmp-` file; the next driver on this root removes it."""
    d = drivers("overlay2")
    d.create("base", None)
    d.create("child", "base")
    left = [
        os.path.join(d.home, "base", ".tmp-committed123"),
        os.path.join(d.home, "child", ".tmp-lower9"),
    ]
    for path in left:
        with open(path, "wb") as f:
            f.write(b"half")
    again = drivers("overlay2")
    assert all(not os.path.exists(p) for p in left)
    assert sorted(os.listdir(os.path.join(again.home, "base"))) == ["committed", "diff", "link"]
    assert "lower" in os.listdir(os.path.join(again.home, "child"))


def test_overlay2_max_depth(drivers):
    d = drivers("overlay2")
    parent = None
    for i in range(129):
        d.create(f"layer{i}", parent)
        parent = f"layer{i}"
    with pytest.raises(OSError, match="max depth exceeded"):
        d.create("one-too-many", parent)
    assert not os.path.exists(os.path.join(d.home, "one-too-many"))


def test_overlay2_kernel_mount_is_real(drivers):
    if not KERNEL_OK:
        pytest.skip("needs root and the kernel's overlayfs")
    d = drivers("overlay2-kernel")
    d.create("base", None)
    d.create_read_write("rw", "base")
    fs = d.get("rw")
    try:
        merged = os.path.join(d.home, "rw", "merged")
        assert fs.path == merged
        with open("/proc/self/mountinfo") as f:
            assert any(line.split()[4] == merged for line in f)
    finally:
        d.put("rw")
    with open("/proc/self/mountinfo") as f:
        assert not any(line.split()[4] == merged for line in f)


def test_aufs_layout(drivers):
    d = drivers("aufs")
    home = d.home
    assert sorted(os.listdir(home)) == ["diff", "layers", "mnt"]
    d.create("base", None)
    d.create("mid", "base")
    d.create_read_write("rw", "mid")
    for layer in ("base", "mid", "rw"):
        assert os.path.isdir(os.path.join(home, "diff", layer))
        assert os.path.isdir(os.path.join(home, "mnt", layer))
        assert mode(os.path.join(home, "diff", layer)) == 0o755
    with open(os.path.join(home, "layers", "base")) as f:
        assert f.read() == ""
    with open(os.path.join(home, "layers", "mid")) as f:
        assert f.read() == "base\n"
    with open(os.path.join(home, "layers", "rw")) as f:
        assert f.read() == "mid\nbase\n"

    # whiteouts are stored as .wh. files in diff/<id>
    fs = d.get("base")
    fs.write_bytes("/gone", b"x")
    d.put("base")
    fs = d.get("rw")
    fs.remove("/gone")
    d.put("rw")
    assert os.listdir(os.path.join(home, "diff", "rw")) == [".wh.gone"]

    d.remove("rw")
    for sub in ("diff", "mnt", "layers"):
        assert "rw" not in os.listdir(os.path.join(home, sub))
        assert not any(n.endswith("-removing") for n in os.listdir(os.path.join(home, sub)))


def test_vfs_layout(drivers):
    d = drivers("vfs")
    d.create("base", None)
    fs = d.get("base")
    fs.write_bytes("/f", b"data")
    d.put("base")
    d.create("child", "base")
    assert sorted(os.listdir(os.path.join(d.home, "dir"))) == ["base", "child"]
    # a full copy, not a link
    child_f = os.path.join(d.home, "dir", "child", "f")
    base_f = os.path.join(d.home, "dir", "base", "f")
    with open(child_f, "rb") as f:
        assert f.read() == b"data"
    assert os.stat(child_f).st_ino != os.stat(base_f).st_ino
    assert d.get("child").path == os.path.join(d.home, "dir", "child")
    d.put("child")


@pytest.mark.parametrize("impl", ["overlay2", "aufs"])
def test_union_create_copies_nothing(drivers, impl):
    """Creating a layer on a big parent copies nothing (only vfs copies)."""
    d = drivers(impl)
    d.create("base", None)
    fs = d.get("base")
    for i in range(50):
        fs.write_bytes(f"/f{i}", b"x" * 100)
    d.put("base")
    d.create_read_write("rw", "base")
    upper = d.layer_dir("rw")
    assert os.listdir(upper) == []
    fs = d.get("rw")
    assert fs.read_bytes("/f7") == b"x" * 100
    d.put("rw")
    assert os.listdir(upper) == []
