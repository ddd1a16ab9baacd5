"""The hostile layer tars: each crafted to escape the destination, confuse the reader or
corrupt the tree, with the error it must raise and words of its message.

`HOSTILE` maps a name to (tar bytes, error type, words). Some cases write through symlinks
that the destination already holds: `var/up` (-> `../../outside`, which climbs out) and
`abs-out` (an absolute link to a real folder outside), as in the `lower` fixture of
tests/archive/test_apply.py and the corpus' `Env` (tests/reliability/corpus.py).
"""

from __future__ import annotations

from dockerlayers.archive import BreakoutError, LayerTarError, TarHeader
from tests.support.tars import build_tar, d, f, gnu_longname, hard, sym


def _bad_checksum() -> bytes:
    data = bytearray(build_tar(f("a", b"x")))
    data[148:156] = b"0000000\0"
    return bytes(data)


def _size_exceeds_data() -> bytes:
    hdr = TarHeader(name="big", size=5000, mode=0o644)
    return build_tar((hdr, b"only ten b"), end=False) + b"\0" * 1024


def _pax_escape() -> bytes:
    return build_tar(f("etc/hosts", b"ok"), f("x" * 120, b"evil"), end=True).replace(
        b"path=" + b"x" * 120, b"path=../" + b"x" * 117
    )


HOSTILE: dict[str, tuple[bytes, type[LayerTarError], str]] = {
    "dotdot": (build_tar(f("../evil", b"x")), BreakoutError, "outside of"),
    "dotdot-nested": (build_tar(f("a/../../evil", b"x")), BreakoutError, "outside of"),
    "absolute": (build_tar(f("/etc/evil", b"x")), BreakoutError, "absolute"),
    "pax-path-escape": (_pax_escape(), BreakoutError, "outside of"),
    "gnu-longname-escape": (
        gnu_longname(b"../../" + b"e" * 120) + build_tar(f("short", b"x")),
        BreakoutError,
        "outside of",
    ),
    "tar-symlink-absolute-write-through": (
        build_tar(sym("lnk", "/tmp"), f("lnk/evil", b"x")),
        BreakoutError,
        "breakout",
    ),
    "tar-symlink-climbing-write-through": (
        build_tar(sym("lnk", "../../outside"), f("lnk/evil", b"x")),
        BreakoutError,
        "climbs out",
    ),
    "tar-symlink-chain-climbing-write-through": (
        build_tar(d("b/"), sym("b/x", "../.."), sym("a", "b/x"), f("a/evil", b"x")),
        BreakoutError,
        "climbs out",
    ),
    "existing-symlink-climbing-write-through": (
        build_tar(f("var/up/evil", b"x")),
        BreakoutError,
        "climbs out",
    ),
    "existing-symlink-absolute-write-through": (
        build_tar(f("abs-out/evil", b"x")),
        BreakoutError,
        "absolute",
    ),
    "existing-symlink-dir-write-through": (
        build_tar(d("abs-out/dir/"), f("abs-out/dir/evil", b"x")),
        BreakoutError,
        "absolute",
    ),
    "symlink-chain-climbing": (
        build_tar(sym("a", "b"), sym("b", "c/.."), d("c/"), f("b/../../evil", b"x")),
        BreakoutError,
        "outside of",
    ),
    "symlink-chain-through-existing": (
        build_tar(sym("x", "var/up"), f("x/evil", b"x")),
        BreakoutError,
        "climbs out",
    ),
    "symlink-loop": (
        build_tar(sym("a", "b"), sym("b", "a"), f("a/x", b"x")),
        LayerTarError,
        "too many levels",
    ),
    "hardlink-dotdot": (
        build_tar(hard("l", "../outside/secret")),
        BreakoutError,
        "invalid hardlink",
    ),
    "hardlink-absolute": (build_tar(hard("l", "/etc/passwd")), BreakoutError, "invalid hardlink"),
    "hardlink-absent": (build_tar(hard("l", "no/such")), LayerTarError, "invalid hardlink"),
    "hardlink-to-dir": (
        build_tar(hard("l", "etc")),
        LayerTarError,
        "link /etc /l: operation not permitted",
    ),
    "hardlink-through-absolute-symlink": (
        build_tar(hard("l", "abs-out/secret")),
        BreakoutError,
        "breakout",
    ),
    "hardlink-aufs-missing": (
        build_tar(hard("l", ".wh..wh.plnk/1.2")),
        LayerTarError,
        "invalid aufs hardlink",
    ),
    "truncated-data": (
        build_tar(f("etc/x", b"x"), f("a", b"y" * 2000))[:2000],
        LayerTarError,
        "EOF",
    ),
    "truncated-header": (build_tar(f("etc/x", b"x"), f("a", b"y"))[:1300], LayerTarError, "EOF"),
    "size-exceeds-data": (_size_exceeds_data(), LayerTarError, "EOF"),
    "bad-checksum": (_bad_checksum(), LayerTarError, "invalid tar header"),
    "whiteout-dotdot-root": (
        build_tar(
            f(".wh..."),
        ),
        LayerTarError,
        "invalid whiteout",
    ),
    "whiteout-dot-nested": (build_tar(f("etc/.wh..")), LayerTarError, "invalid whiteout"),
    "whiteout-empty": (build_tar(f("etc/.wh.")), LayerTarError, "invalid whiteout"),
    "whiteout-of-root-via-dot": (build_tar(f("./.wh..")), LayerTarError, "invalid whiteout"),
    "replace-root": (build_tar(f(".", b"")), LayerTarError, "root"),
    "replace-root-symlink": (build_tar(sym("./", "/")), LayerTarError, "root"),
    "file-as-dir": (build_tar(f("etc/hosts/x", b"x")), LayerTarError, "not a directory"),
    "unhandled-type": (
        build_tar((TarHeader(name="c", typeflag=b"7", size=1), b"x")),
        LayerTarError,
        "unhandled tar header type 55",
    ),
    "valid-prefix-then-breakout": (
        build_tar(
            f(".wh..wh..opq"),
            f("etc/.wh.passwd"),
            d("etc/", mode=0o700),
            f("etc/hosts", b"replaced"),
            f("../evil", b"x"),
        ),
        BreakoutError,
        "outside of",
    ),
}
