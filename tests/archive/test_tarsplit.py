"""tar-split: byte-identical reassembly of layer tars from metadata plus file contents."""

from __future__ import annotations

import base64
import gzip
import io
import os
import tarfile

import pytest

from dockerlayers.archive import (
    DuplicatePathError,
    LayerTarError,
    TarFormatError,
    TarHeader,
    TarSplitError,
    iter_tar,
    make_tar_split,
    read_tar_split,
    reassemble,
    tar_directory,
    write_tar_split,
)
from dockerlayers.archive.tarsplit import crc64_iso
from tests.support.tars import build_tar, d, f, gnu_longname, hard, sym


def contents(data: bytes) -> dict[str, bytes]:
    """Each file's content by name, as a driver would serve it."""
    out = {}
    for e in iter_tar(io.BytesIO(data)):
        out[e.name] = data[e.data_offset : e.data_offset + e.data_size]
    return out


def roundtrip(data: bytes, **kw) -> list[dict]:
    entries = make_tar_split(io.BytesIO(data), **kw)
    files = contents(data)
    out = io.BytesIO()
    reassemble(entries, lambda name: io.BytesIO(files[name]), out)
    assert out.getvalue() == data
    return entries


def _python_tar(fmt: int, **kw) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kw) as t:
        for name, body in [("a" * 150 + "/long", b"L" * 700), ("ünï/x", b"u"), ("e", b"")]:
            ti = tarfile.TarInfo(name)
            ti.size = len(body)
            t.addfile(ti, io.BytesIO(body))
        link = tarfile.TarInfo("hl")
        link.type, link.linkname = tarfile.LNKTYPE, "e"
        t.addfile(link)
    return buf.getvalue()  # padded to 10240 bytes: trailing zeros after the end blocks


CORPUS = {
    "empty": b"\0" * 1024,
    "ours": build_tar(
        d("dir/"),
        f("dir/file", b"hello" * 300),
        hard("dir/link", "dir/file"),
        sym("dir/sym", "file"),
        f("x" * 120, b"pax long name"),
        f("ünï", b"pax utf-8"),
        (TarHeader(name="caps", size=1, xattrs={"security.capability": b"\x01\x00"}), b"c"),
        f("empty"),
    ),
    "gnu-longname": gnu_longname(b"g/" + b"n" * 200) + build_tar(f("short", b"gnu")),
    "python-gnu": _python_tar(tarfile.GNU_FORMAT),
    "python-pax-global": _python_tar(tarfile.PAX_FORMAT, pax_headers={"comment": "global"}),
    "trailing-garbage": build_tar(f("a", b"1")) + b"garbage after the end\n",
    "no-end-blocks": build_tar(f("a", b"1"), end=False),
    "one-end-block": build_tar(f("a", b"1"), end=False) + b"\0" * 512,
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_reassembly_is_byte_identical(name):
    roundtrip(CORPUS[name])
    roundtrip(CORPUS[name], crc64=True)


def test_entry_shape():
    data = build_tar(f("a", b"abc"), d("b/"))
    entries = roundtrip(data)
    assert [e["type"] for e in entries] == [2, 1, 2, 1, 2, 2]
    assert [e["position"] for e in entries] == list(range(6))
    crc = base64.b64encode(crc64_iso(b"abc").to_bytes(8, "big")).decode()
    assert entries[1] == {"type": 1, "name": "a", "size": 3, "payload": crc, "position": 1}
    assert entries[3] == {"type": 1, "name": "b/", "payload": None, "position": 3}
    assert base64.b64decode(entries[0]["payload"]) == data[:512]  # the first header
    empty = roundtrip(b"\0" * 1024)
    assert [e["type"] for e in empty] == [2, 2]


def test_crc64_matches_go_iso_table():
    assert crc64_iso(b"123456789") == 0xB90956C775A41001
    entries = make_tar_split(io.BytesIO(build_tar(f("a", b"abc"))), crc64=True)
    assert entries[1]["payload"] is not None


def test_directory_layer_reassembles_from_disk(tmp_path):
    root = tmp_path / "layer"
    os.makedirs(root / "d")
    (root / "d" / "f").write_bytes(b"data" * 1000)
    os.link(root / "d" / "f", root / "hl")
    os.symlink("d/f", root / "s")
    bad = os.fsdecode(b"bad-\xff-name")
    (root / bad).write_bytes(b"raw name")
    buf = io.BytesIO()
    tar_directory(str(root), buf)
    data = buf.getvalue()
    entries = make_tar_split(io.BytesIO(data))
    raw = [e for e in entries if e.get("name_raw")]
    assert len(raw) == 1 and "name" not in raw[0]
    path = str(tmp_path / "tar-split.json.gz")
    write_tar_split(entries, path)
    assert read_tar_split(path) == entries
    out = io.BytesIO()
    reassemble(read_tar_split(path), lambda n: open(os.path.join(root, n), "rb"), out)  # noqa: SIM115
    assert out.getvalue() == data


def test_json_lines_like_go(tmp_path):
    entries = make_tar_split(io.BytesIO(build_tar(f("a<b>&c", b"x"))))
    path = str(tmp_path / "ts.json.gz")
    write_tar_split(entries, path)
    with gzip.open(path) as fh:
        lines = fh.read().decode().splitlines()
    assert lines[0].startswith('{"type":2,"payload":"') and lines[0].endswith(',"position":0}')
    crc = base64.b64encode(crc64_iso(b"x").to_bytes(8, "big")).decode()
    assert lines[1] == (
        '{"type":1,"name":"a\\u003cb\\u003e\\u0026c","size":1,"payload":"' + crc + '","position":1}'
    )
    # without crc64 a file entry's payload is null
    bare = make_tar_split(io.BytesIO(build_tar(f("a", b"x"))), crc64=False)
    assert bare[1]["payload"] is None


def test_crc64_payload_as_the_engine_writes_it():
    """A 20.10.24 engine's layerdb tar-split for `/d/f` holding `hi\\n` (docker commit)."""
    entries = make_tar_split(io.BytesIO(build_tar(d("d/"), f("d/f", b"hi\n"))))
    assert entries[3]["payload"] == "YUmYEAAAAAA="
    assert entries[-1] == {"type": 2, "payload": "", "position": len(entries) - 1}


def test_crc64_long_inputs_take_the_same_bits():
    from dockerlayers.archive import crc64 as mod

    data = bytes(range(256)) * 1000 + b"tail"
    for start in (0, 0x1234567890ABCDEF):
        assert crc64_iso(data, start) == mod._raw_update(start ^ mod._MASK, data) ^ mod._MASK


def test_wrong_content_length_fails():
    data = build_tar(f("a", b"abcdef"))
    entries = make_tar_split(io.BytesIO(data))
    with pytest.raises(TarSplitError, match="shorter"):
        reassemble(entries, lambda n: io.BytesIO(b"abc"), io.BytesIO())
    with pytest.raises(TarSplitError, match="longer"):
        reassemble(entries, lambda n: io.BytesIO(b"abcdefg"), io.BytesIO())
    entries = make_tar_split(io.BytesIO(data), crc64=True)
    with pytest.raises(TarSplitError, match="checksum"):
        reassemble(entries, lambda n: io.BytesIO(b"abcdeX"), io.BytesIO())


def test_duplicates_and_malformed_input_refused(tmp_path):
    with pytest.raises(DuplicatePathError, match="duplicates of file paths not supported"):
        make_tar_split(io.BytesIO(build_tar(f("a", b"1"), f("./a", b"2"))))
    with pytest.raises(TarFormatError, match="EOF"):
        make_tar_split(io.BytesIO(build_tar(f("a", b"1" * 1000))[:900]))
    assert issubclass(DuplicatePathError, LayerTarError)
    assert issubclass(DuplicatePathError, TarSplitError)
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(b'{"type":7}\n'))
    with pytest.raises(TarSplitError):
        read_tar_split(str(path))


def test_read_in_batches_and_size_of_the_stream(tmp_path, monkeypatch):
    """Batches split lines anywhere; the entries and the stream's size come out whole."""
    from dockerlayers.archive import tarsplit

    data = build_tar(*(f(f"dir/file-{i}", os.urandom(i * 37)) for i in range(60)))
    entries = make_tar_split(io.BytesIO(data))
    path = str(tmp_path / "ts.json.gz")
    write_tar_split(entries, path)
    for batch in (1, 7, 64, 1 << 20):
        monkeypatch.setattr(tarsplit, "_BATCH", batch)
        assert read_tar_split(path) == entries
    assert tarsplit.tar_size(entries) == len(data)


@pytest.mark.parametrize(
    "lines",
    [b'{"type":2,"payload":""}\n1,2\n', b'{"type":1}{"type":2}\n', b"[]\n", b'{"type":1\n'],
)
def test_a_bad_line_is_named(tmp_path, lines):
    path = tmp_path / "bad.json.gz"
    path.write_bytes(gzip.compress(lines))
    with pytest.raises(TarSplitError, match="invalid tar-split entry"):
        read_tar_split(str(path))


@pytest.mark.parametrize("how", ["file", "fd"])
@pytest.mark.parametrize("content", [b"", b"a", b"abcdef", b"x" * (1 << 20), b"y" * (3 << 20)])
def test_every_length_against_every_file_length(tmp_path, content, how):
    """Exact, one short and one long, around the one-read limit for small files; from a
    file object or a bare descriptor (which is closed either way)."""
    data = build_tar(f("a", content))
    entries = make_tar_split(io.BytesIO(data))
    opened: list[int] = []

    def open_with(body: bytes):
        path = tmp_path / "content"
        path.write_bytes(body)
        if how == "file":
            return lambda n: open(path, "rb")  # noqa: SIM115
        return lambda n: opened.append(os.open(path, os.O_RDONLY)) or opened[-1]

    out = io.BytesIO()
    reassemble(entries, open_with(content), out)
    assert out.getvalue() == data
    if content:
        with pytest.raises(TarSplitError, match="shorter"):
            reassemble(entries, open_with(content[:-1]), io.BytesIO())
        with pytest.raises(TarSplitError, match="longer"):
            reassemble(entries, open_with(content + b"!"), io.BytesIO())
    for fd in opened:
        with pytest.raises(OSError):
            os.fstat(fd)


@pytest.mark.parametrize("way", ["numpy", "fastcrc"])
def test_crc64_fast_path_gives_the_reference_bits(way, monkeypatch):
    """numpy's row-parallel CRC, chained by a tree of zero-feed operators, and the compiled
    one of `fastcrc` give the bits of the byte-at-a-time loop: lengths around the row size
    and the tree's odd levels, and a running sum carried in."""
    import random

    from dockerlayers.archive import crc64 as c

    if way == "numpy":
        pytest.importorskip("numpy")
        monkeypatch.setattr(c, "_COMPILED", None)
    else:
        pytest.importorskip("fastcrc")
        assert c._COMPILED is not None

    rng = random.Random(5)
    for n in (c._FAST_MIN, c._FAST_MIN + 1, c._FAST_MIN + 3 * c._ROW + 7, 300_001, 1 << 20):
        data = rng.randbytes(n)
        start = rng.getrandbits(64)
        slow = c._raw_update(start ^ c._MASK, data) ^ c._MASK
        assert crc64_iso(data, start) == slow, n


class _Trickle(io.RawIOBase):
    """A stream that cannot seek and hands out at most `step` bytes a read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._f = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._f.read(self._step if n < 0 else min(n, self._step))


def _split_stream(data: bytes, step: int, read_content: bool) -> tuple[list[dict], str, dict]:
    import hashlib

    from dockerlayers.archive.tarsplit import SplitStream

    out: list[dict] = []
    s = SplitStream(_Trickle(data, step), out.append)
    got = {}
    for e, content in s.entries():
        if read_content:
            got[e.name] = b"".join(iter(lambda c=content: c.read(3), b""))
    digest = s.finish()
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    return out, digest, got


@pytest.mark.parametrize("step", [1, 7, 512, 1 << 20])
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_split_stream_makes_the_same_entries_in_one_pass(name, step):
    """SplitStream, reading the tar once from a stream that cannot seek, gives exactly
    make_tar_split's entries (segments, CRC-64s, positions) and the tar's digest, whether
    the consumer reads the contents or leaves them."""
    data = CORPUS[name]
    want = make_tar_split(io.BytesIO(data), crc64=True)
    for read_content in (True, False):
        got, _, files = _split_stream(data, step, read_content)
        assert got == want
        if read_content:
            assert {k: v for k, v in files.items() if v} == {
                k: v for k, v in contents(data).items() if v
            }


def test_split_stream_keeps_long_padding_in_1mib_segments():
    data = build_tar(f("a", b"1")) + b"\0" * (3 * (1 << 20) + 5)
    got, _, _ = _split_stream(data, 1 << 16, True)
    assert got == make_tar_split(io.BytesIO(data))
    assert sum(1 for e in got if e["type"] == 2 and len(e["payload"]) > 1 << 20) == 3


def test_split_stream_refuses_what_make_tar_split_refuses():
    dup = build_tar(f("a", b"1"), f("./a", b"2"))
    with pytest.raises(DuplicatePathError):
        _split_stream(dup, 100, True)
    cut = build_tar(f("a", b"x" * 5000))[:1500]
    with pytest.raises(TarFormatError):
        _split_stream(cut, 100, True)
    with pytest.raises(TarFormatError):
        _split_stream(cut, 100, False)
