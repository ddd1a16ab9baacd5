"""Deterministic, Go-compatible tar writing and strict reading."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from types import SimpleNamespace

import pytest

from dockerlayers.archive import (
    TarFormatError,
    TarHeader,
    TarWriter,
    encode_header,
    iter_tar,
    native_whiteouts_supported,
    tar_directory,
    unpack_layer,
)
from dockerlayers.archive.whiteouts import OPAQUE_XATTR
from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR
from dockerlayers.platform import is_root
from tests.support.tars import build_tar, f, gnu_longname, snapshot

root_only = pytest.mark.skipif(not is_root(), reason="needs root (mknod, chown, xattrs)")

# A valid VFS_CAP_REVISION_2 blob: cap_net_bind_service, permitted + effective.
CAP_V2 = bytes([0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
CAP_V2_EFFECTIVE = bytes([1, 0, 0, 2]) + CAP_V2[4:]


def tar_of(root: str) -> bytes:
    out = io.BytesIO()
    tar_directory(root, out)
    return out.getvalue()


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getmembers()


def test_empty_tar_is_1024_nuls_with_dockers_digest(tmp_path):
    out = io.BytesIO()
    TarWriter(out).close()
    assert out.getvalue() == b"\0" * 1024
    digest = "sha256:" + hashlib.sha256(out.getvalue()).hexdigest()
    assert digest == DIGEST_SHA256_EMPTY_TAR
    assert tar_of(str(tmp_path)) == b"\0" * 1024


def test_no_record_padding():
    data = build_tar(f("a", b"x" * 10), end=False)
    out = io.BytesIO()
    with TarWriter(out) as tw:
        tw.add(*f("a", b"x" * 10))
    assert out.getvalue() == data + b"\0" * 1024
    assert len(out.getvalue()) == 512 + 512 + 1024


def test_ustar_header_fields_like_go():
    blk = encode_header(TarHeader(name="etc/hosts", mode=0o644, uid=1, gid=2, size=5, mtime=7))
    assert len(blk) == 512
    assert blk[0:10] == b"etc/hosts\0"
    assert blk[100:108] == b"0000644\0"
    assert blk[108:116] == b"0000001\0"
    assert blk[116:124] == b"0000002\0"
    assert blk[124:136] == b"00000000005\0"
    assert blk[136:148] == b"00000000007\0"
    assert blk[156:157] == b"0"
    assert blk[257:265] == b"ustar\x0000"
    assert blk[265:329] == b"\0" * 64  # no user/group names
    assert blk[329:345] == b"0000000\0" * 2
    chk = blk[148:156]
    assert chk[6:8] == b"\0 "
    assert int(chk[:6], 8) == sum(blk[:148]) + 8 * 32 + sum(blk[156:])


def test_long_ascii_name_uses_ustar_prefix_not_pax():
    name = "d" * 80 + "/" + "e" * 60 + "/file"
    blk = encode_header(TarHeader(name=name, size=0))
    assert len(blk) == 512
    assert blk[345:500].rstrip(b"\0") == ("d" * 80 + "/" + "e" * 60).encode()
    assert blk[0:5] == b"file\0"
    assert members(blk + b"\0" * 1024)[0].name == name


@pytest.mark.parametrize(
    ("hdr", "record"),
    [
        (TarHeader(name="x" * 120), b"path=" + b"x" * 120),
        (TarHeader(name="ünï"), "path=ünï".encode()),
        (TarHeader(name="big", uid=1 << 22), b"uid=4194304"),
        (TarHeader(name="t", xattrs={"user.k": b"v\0w"}), b"SCHILY.xattr.user.k=v\0w"),
        (TarHeader(name="l", typeflag=b"2", linkname="t" * 101), b"linkpath=" + b"t" * 101),
    ],
)
def test_pax_header_only_when_needed(hdr, record):
    data = encode_header(hdr)
    assert len(data) == 512 * 3
    assert data[156:157] == b"x"
    pax_name = data[:100].rstrip(b"\0")
    assert b"PaxHeaders.0" in pax_name
    size = int(data[124:135], 8)
    records = data[512 : 512 + size]
    assert record in records
    for rec in records.splitlines(keepends=True):
        assert int(rec.split(b" ", 1)[0]) == len(rec)
    main = data[1024:]
    assert all(b < 0x80 for b in main[:100])  # ASCII-only fallback name
    assert main[257:263] == b"ustar\0"
    (m,) = members(data + b"\0" * 1024)
    assert m.name == hdr.name
    assert m.uid == hdr.uid


def test_pax_header_name_for_a_directory():
    # Go: path.Join(path.Split(name)) with "PaxHeaders.0", then non-ASCII dropped.
    data = encode_header(TarHeader(name="dé/", typeflag=b"5"))
    assert data[:100].rstrip(b"\0") == b"d/PaxHeaders.0"
    data = encode_header(TarHeader(name="a/" + "b" * 120, typeflag=b"5"))
    assert data[:100].rstrip(b"\0") == b"a/PaxHeaders.0/" + b"b" * 85


def make_tree(root: str) -> None:
    os.makedirs(os.path.join(root, "dir/sub"))
    with open(os.path.join(root, "dir/sub/file"), "w") as fh:
        fh.write("content\n")
    with open(os.path.join(root, "dir/a-b"), "w") as fh:
        fh.write("dash")
    os.link(os.path.join(root, "dir/sub/file"), os.path.join(root, "hard"))
    os.symlink("dir/sub/file", os.path.join(root, "rel-link"))
    os.symlink("/etc/mtab", os.path.join(root, "abs-link"))
    with open(os.path.join(root, "suid"), "w") as fh:
        fh.write("#!/bin/sh\n")
    os.chmod(os.path.join(root, "suid"), 0o4755)
    os.makedirs(os.path.join(root, "sticky"))
    os.chmod(os.path.join(root, "sticky"), 0o1777)
    with open(os.path.join(root, "locked"), "w") as fh:
        fh.write("secret")
    # Unreadable to anyone but root; as a normal user tar_directory could not read it.
    os.chmod(os.path.join(root, "locked"), 0o000 if os.geteuid() == 0 else 0o400)
    os.mkfifo(os.path.join(root, "fifo"))
    os.makedirs(os.path.join(root, "ro"))
    with open(os.path.join(root, "ro/inside"), "w") as fh:
        fh.write("x")
    os.chmod(os.path.join(root, "ro"), 0o555)
    for p in ["", "dir", "dir/sub", "dir/sub/file", "suid", "sticky", "locked", "fifo", "ro"]:
        os.utime(os.path.join(root, p), ns=(1_500_000_000_123_456_789, 1_500_000_000_987_654_321))


def test_entries_in_walk_order_with_hardlinks(tmp_path):
    make_tree(str(tmp_path))
    ms = members(tar_of(str(tmp_path)))
    names = [m.name for m in ms]
    # filepath.WalkDir order: depth-first, names sorted per directory ("dir/a-b"
    # comes after "dir/sub/..." would not: '-' < 's').
    assert names == [
        "abs-link",
        "dir",
        "dir/a-b",
        "dir/sub",
        "dir/sub/file",
        "fifo",
        "hard",
        "locked",
        "rel-link",
        "ro",
        "ro/inside",
        "sticky",
        "suid",
    ]
    by = {m.name: m for m in ms}
    assert by["dir/sub/file"].isreg() and by["dir/sub/file"].size == 8
    assert by["hard"].islnk() and by["hard"].linkname == "dir/sub/file"
    assert by["rel-link"].issym() and by["rel-link"].linkname == "dir/sub/file"
    # Go's file-type bits, as moby's fillGo18FileTypeBits writes them (and a 20.10.24
    # engine's `docker save` shows: `0104755` for a setuid file, `0040755` for a dir)
    assert by["suid"].mode == 0o104755
    assert by["sticky"].mode == 0o41777
    assert by["rel-link"].mode == 0o120777
    assert by["dir"].mode & 0o170000 == 0o40000
    assert {(m.uname, m.gname) for m in ms if m.uid == 0 and m.gid == 0} <= {("root", "root")}
    assert by["fifo"].isfifo()
    assert by["dir"].mtime == 1_500_000_000  # truncated, not rounded
    raw = {e.name: e for e in iter_tar(io.BytesIO(tar_of(str(tmp_path))))}
    assert "dir/" in raw and "dir/sub/" in raw  # directory names end with "/"
    assert all(not n.startswith(("./", "/")) for n in raw)
    # user and group names as Go looks them up on the engine's host: root for 0, else none
    assert all(m.uname == ("root" if m.uid == 0 else "") for m in ms)
    assert all(m.gname == ("root" if m.gid == 0 else "") for m in ms)


def test_determinism_same_tree_and_subsecond_mtimes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    make_tree(str(a))
    make_tree(str(b))
    assert tar_of(str(a)) == tar_of(str(a))
    # Same second, different nanoseconds: identical bytes.
    for p in ["dir/sub/file", "dir"]:
        os.utime(b / p, ns=(1_500_000_000_000_000_001, 1_500_000_000_999_999_999))
    assert tar_of(str(a)) == tar_of(str(b))
    os.utime(b / "dir/sub/file", ns=(0, 1_500_000_001_000_000_000))
    assert tar_of(str(a)) != tar_of(str(b))


def test_root_level_aufs_metadata_is_skipped(tmp_path):
    os.makedirs(tmp_path / ".wh..wh.plnk")
    (tmp_path / ".wh..wh.plnk" / "123.456").write_text("x")
    (tmp_path / ".wh..wh.aufs").write_text("")
    (tmp_path / ".wh..wh..opq").write_text("")
    os.makedirs(tmp_path / "d")
    (tmp_path / "d" / ".wh.gone").write_text("")
    (tmp_path / "d" / ".wh..wh.nested").write_text("")
    names = [m.name for m in members(tar_of(str(tmp_path)))]
    assert names == [".wh..wh..opq", "d", "d/.wh..wh.nested", "d/.wh.gone"]


@root_only
def test_overlay_whiteouts_are_written_in_aufs_form(tmp_path):
    if not native_whiteouts_supported(str(tmp_path)):
        pytest.skip("this filesystem cannot hold overlay whiteouts")
    os.makedirs(tmp_path / "d1")
    os.chmod(tmp_path / "d1", 0o750)
    os.chown(tmp_path / "d1", 7, 8)
    os.setxattr(tmp_path / "d1", OPAQUE_XATTR, b"y")
    (tmp_path / "d1" / "kept").write_text("k")
    os.makedirs(tmp_path / "d2")
    os.mknod(tmp_path / "d2" / "gone", stat.S_IFCHR | 0o644, 0)
    os.chown(tmp_path / "d2" / "gone", 5, 6)
    data = tar_of(str(tmp_path))
    ms = members(data)
    assert [m.name for m in ms] == ["d1", "d1/.wh..wh..opq", "d1/kept", "d2", "d2/.wh.gone"]
    opq, wh = ms[1], ms[4]
    assert opq.isreg() and opq.size == 0 and opq.mode == 0o750
    assert (opq.uid, opq.gid, opq.mtime) == (7, 8, 0)
    assert wh.isreg() and wh.size == 0 and wh.mode == 0o600 and (wh.uid, wh.gid) == (5, 6)
    assert not any("trusted.overlay" in k for m in ms for k in m.pax_headers)


@root_only
def test_security_capability_copied_and_v3_downgraded(tmp_path):
    p = tmp_path / "ping"
    p.write_text("bin")
    try:
        os.setxattr(p, "security.capability", CAP_V2_EFFECTIVE)
    except OSError as e:
        pytest.skip(f"cannot set security.capability here: {e}")
    (m,) = members(tar_of(str(tmp_path)))
    assert (
        m.pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape")
        == CAP_V2_EFFECTIVE
    )


def test_reader_rejects_bad_checksum_and_truncation():
    good = build_tar(f("a", b"hello"))
    bad = bytearray(good)
    bad[0] = ord("b")
    with pytest.raises(TarFormatError, match="invalid tar header"):
        list(iter_tar(io.BytesIO(bytes(bad))))
    with pytest.raises(TarFormatError, match="unexpected EOF"):
        list(iter_tar(io.BytesIO(good[:300])))
    with pytest.raises(TarFormatError, match="truncated"):
        list(iter_tar(io.BytesIO(good[:515])))
    # A clean EOF on a block boundary right after an entry is accepted, like Go.
    assert [e.name for e in iter_tar(io.BytesIO(good[:1024]))] == ["a"]


def test_reader_gnu_longname_base256_and_pax():
    long = "p/" + "n" * 150
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo(long)
        ti.size, ti.uid = 3, 1 << 30  # uid needs base-256 in GNU format
        t.addfile(ti, io.BytesIO(b"abc"))
    (e,) = iter_tar(io.BytesIO(buf.getvalue()))
    assert (e.name, e.uid, e.size) == (long, 1 << 30, 3)
    raw = gnu_longname(b"x/" + b"y" * 200) + build_tar(f("short", b"1"))
    (e,) = iter_tar(io.BytesIO(raw))
    assert e.name == "x/" + "y" * 200


def _equal_trees(a: str, b: str, *, owners: bool) -> None:
    sa, sb = snapshot(a), snapshot(b)
    assert sa.keys() == sb.keys()
    for k in sa:
        ma, mb = sa[k], sb[k]
        mode_a, uid_a, gid_a, size_a, body_a, rdev_a, x_a, mt_a, link_a = ma
        mode_b, uid_b, gid_b, size_b, body_b, rdev_b, x_b, mt_b, link_b = mb
        assert mode_a == mode_b, k
        if owners:
            assert (uid_a, gid_a) == (uid_b, gid_b), k
        assert (size_a, body_a, rdev_a, link_a) == (size_b, body_b, rdev_b, link_b), k
        assert dict(x_a).get("security.capability") == dict(x_b).get("security.capability")
        if k != ".":
            assert mt_a // 10**9 == mt_b // 10**9, k


def test_round_trip_tar_directory_unpack_layer(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(str(src))
    os.makedirs(dst)
    size = unpack_layer(str(dst), io.BytesIO(tar_of(str(src))))
    assert size == len("content\n") + len("dash") + len("#!/bin/sh\n") + len("secret") + 1
    _equal_trees(str(src), str(dst), owners=os.geteuid() == 0)
    assert tar_of(str(src)) == tar_of(str(dst))


@root_only
def test_round_trip_owners_devices_and_capabilities(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    os.makedirs(src / "dev")
    os.mknod(src / "dev" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(src / "dev" / "loop0", stat.S_IFBLK | 0o660, os.makedev(7, 0))
    (src / "owned").write_text("o")
    os.chown(src / "owned", 1000, 1001)
    os.lchown(src / "dev", 3, 4)
    (src / "ping").write_text("p")
    try:
        os.setxattr(src / "ping", "security.capability", CAP_V2_EFFECTIVE)
    except OSError:
        pass
    os.makedirs(dst)
    unpack_layer(str(dst), io.BytesIO(tar_of(str(src))))
    _equal_trees(str(src), str(dst), owners=True)


def test_file_info_header_names_root_and_sets_go_type_bits(tmp_path):
    """moby's FileInfoHeader: `root`/`root` for ids 0 (Go looks them up on the host; the
    model's host knows only root), the file-type bits in the mode, byte-identical to what a
    20.10.24 engine's `docker save` holds for a committed `d/` and `d/f`."""
    from dockerlayers.archive import file_info_header

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"hi\n")
    for rel, kind, perm in (("d", 0o40000, 0o755), ("d/f", 0o100000, 0o4755)):
        p = tmp_path / rel
        os.chmod(p, perm)
        st = os.lstat(p)
        fields = {k: getattr(st, k) for k in ("st_mode", "st_size", "st_mtime_ns", "st_rdev")}
        hdr = file_info_header(str(p), rel, SimpleNamespace(**fields, st_uid=0, st_gid=0))
        assert (hdr.mode, hdr.uname, hdr.gname) == (kind | perm, "root", "root")
        other = SimpleNamespace(**fields, st_uid=1000, st_gid=1000)
        hdr = file_info_header(str(p), rel, other)
        assert (hdr.uname, hdr.gname) == ("", "")
