"""Layer tars carry the container's owners whoever unpacks and re-tars them: a tar applied
and written again by an unprivileged model (a child as uid 1000) is the same bytes as by
root; overlay2's file-form whiteouts come out where its devices would."""

from __future__ import annotations

import io
import os
import shutil
import stat

from dockerlayers import idtools
from dockerlayers.archive import iter_tar, tar_directory, unpack_layer
from dockerlayers.archive.tar import TarHeader
from tests.support.asuser import need_root, run_as, workdir
from tests.support.tars import build_tar, d, f, sym


def _layer() -> bytes:
    return build_tar(
        d("app/", uid=1000, gid=1000),
        f("app/f", b"x", uid=1000, gid=50),
        f("app/root", b"r"),
        sym("app/link", "f"),
        f("app/suid", b"s", mode=0o4755, uid=7, gid=7),
        d("etc/"),
        f("etc/passwd", b"root:x:0:0::/:/bin/sh\n", mode=0o644),
        (
            TarHeader(
                name="app/x",
                size=1,
                mode=0o600,
                mtime=1,
                uid=1000,
                gid=1000,
                xattrs={idtools.OVERRIDE_XATTR: b"0:0"},
            ),
            b"y",
        ),
    )


def _apply_and_tar(top: str, data: bytes) -> str:
    unpack_layer(top, io.BytesIO(data))
    out = io.BytesIO()
    tar_directory(top, out)
    return out.getvalue().hex()


def test_an_unprivileged_apply_and_tar_is_the_same_bytes_as_roots():
    need_root()
    a, b = workdir(), workdir()
    try:
        data = _layer()
        as_root = _apply_and_tar(a, data)
        as_user = run_as(lambda: _apply_and_tar(b, data))
    finally:
        shutil.rmtree(a)
        shutil.rmtree(b)
    assert as_user == as_root
    entries = {
        e.name: (e.uid, e.gid, e.xattrs) for e in iter_tar(io.BytesIO(bytes.fromhex(as_root)))
    }
    assert entries["app/f"] == (1000, 50, {})
    assert entries["app/x"] == (1000, 1000, {})  # an override xattr in a tar is ignored


def test_overlay_order_puts_file_whiteouts_where_devices_would_be(tmp_path):
    top = tmp_path / "diff"
    (top / "d").mkdir(parents=True)
    for name in ("a", "m", "z"):
        (top / "d" / name).write_bytes(b"")
    (top / "d" / ".wh.n").write_bytes(b"")  # n was deleted (file form)
    (top / "d" / ".wh..wh..opq").write_bytes(b"")
    os.chmod(top / "d" / ".wh.n", 0o600)

    def names(fmt):
        out = io.BytesIO()
        tar_directory(str(top), out, whiteout_format=fmt)
        return [e.name for e in iter_tar(io.BytesIO(out.getvalue()))]

    assert names("overlay") == ["d/", "d/.wh..wh..opq", "d/a", "d/m", "d/.wh.n", "d/z"]
    assert names("aufs") == ["d/", "d/.wh..wh..opq", "d/.wh.n", "d/a", "d/m", "d/z"]
    assert stat.S_ISDIR(os.lstat(top / "d").st_mode)
