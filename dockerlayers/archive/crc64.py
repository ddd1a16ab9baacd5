"""CRC-64 with the ISO polynomial, as Go's hash/crc64 computes it: what tar-split stores
as each file entry's payload (`crc64.MakeTable(crc64.ISO)`, the sum big-endian).

The reference is a byte-at-a-time table loop in Python (a few MB/s). Where numpy is
installed (it comes with the `viz` extra), long inputs go a faster way that gives the same
bits: the CRC is linear over GF(2), so the input is cut into equal rows whose CRCs are
computed side by side, then chained pairwise, a tree of "feed L zero bytes" operators
applied as byte tables; within a row, 8 bytes per step through 16-bit tables (about 3.5
ms per MB; it was 15 byte by byte with a row-by-row chain). Where the `fastcrc` package is
installed (the `fast` extra: a compiled wheel, so not in Pyodide), it computes the same sum
at several GB/s, which a pull needs: every byte of every layer goes through this.

Go: hash/crc64/crc64.go (update, tableSum)
"""

from __future__ import annotations

from collections.abc import Callable

try:  # Go's ISO table, init and final inversion: the same sum, compiled
    from fastcrc.crc64 import go_iso as _compiled
except ImportError:  # pragma: no cover - depends on the environment
    _compiled = None
_COMPILED: Callable[[bytes, int], int] | None = _compiled

_ISO_POLY = 0xD800000000000000
_MASK = 0xFFFFFFFFFFFFFFFF
_TABLE: list[int] = []
#: inputs shorter than this take the plain loop
_FAST_MIN = 1 << 16
#: bytes per row: short rows make long vectors (numpy's per-call cost amortised), and the
#: rows are chained by a tree of vector steps, so their number costs little
_ROW = 256


def _table() -> list[int]:
    if not _TABLE:
        for i in range(256):
            crc = i
            for _ in range(8):
                crc = (crc >> 1) ^ _ISO_POLY if crc & 1 else crc >> 1
            _TABLE.append(crc)
    return _TABLE


def _raw_update(register: int, data: bytes) -> int:
    """The CRC register after `data`, without Go's pre/post inversion."""
    table = _table()
    for b in data:
        register = table[(register ^ b) & 0xFF] ^ (register >> 8)
    return register


def crc64_iso(data: bytes, crc: int = 0) -> int:
    """Go's crc64.Update(crc, MakeTable(ISO), data): the running sum `crc` extended by
    `data` (0 to start)."""
    if _COMPILED is not None:
        return _COMPILED(data, crc)
    register = crc ^ _MASK
    if len(data) >= _FAST_MIN:
        fast = _fast_raw(register, data)
        if fast is not None:
            return fast ^ _MASK
    return _raw_update(register, data) ^ _MASK


_SHIFT_COLUMNS: list[int] = []


def _shift_columns() -> list[int]:
    """The register after _ROW zero bytes, from each one-bit register (a 64x64 GF(2)
    matrix by columns)."""
    if not _SHIFT_COLUMNS:
        _SHIFT_COLUMNS.extend(_raw_update(1 << bit, bytes(_ROW)) for bit in range(64))
    return _SHIFT_COLUMNS


def _shift(register: int, columns: list[int]) -> int:
    out, bit = 0, 0
    while register:
        if register & 1:
            out ^= columns[bit]
        register >>= 1
        bit += 1
    return out


_SLICE: list = []


def _slice_tables():  # noqa: ANN202 (a numpy array)
    """(4, 65536) uint64: "feed 8 zero bytes" on a register holding only bits 16k..16k+15,
    for k = 0..3 (2 MB, made once)."""
    import numpy as np

    if not _SLICE:
        cols = [_raw_update(1 << bit, bytes(8)) for bit in range(64)]
        byte_values = (
            np.arange(256, dtype=np.uint64)[None, :]
            << (np.uint64(8) * np.arange(8, dtype=np.uint64))[:, None]
        )
        by_byte = np.zeros((8, 256), dtype=np.uint64)
        for bit in range(64):
            by_byte[((byte_values >> np.uint64(bit)) & np.uint64(1)).astype(bool)] ^= np.uint64(
                cols[bit]
            )
        v = np.arange(65536, dtype=np.uint64)
        lo, hi = v & np.uint64(0xFF), v >> np.uint64(8)
        _SLICE.append(np.stack([by_byte[2 * k][lo] ^ by_byte[2 * k + 1][hi] for k in range(4)]))
    return _SLICE[0]


#: _LEVELS[l]: the operator "feed _ROW * 2**l zero bytes" as 8 tables of 256 (one per byte
#: of the register; the result is the XOR of the 8 lookups), numpy uint64 (8, 256)
_LEVELS: list = []


def _apply(tables, v):  # noqa: ANN001, ANN202 (numpy arrays)
    """The operator `tables` on every register in the uint64 array `v`."""
    import numpy as np

    out = tables[0][v & np.uint64(0xFF)]
    for k in range(1, 8):
        out ^= tables[k][(v >> np.uint64(8 * k)) & np.uint64(0xFF)]
    return out


def _level(level: int):  # noqa: ANN202 (a numpy array)
    import numpy as np

    if len(_LEVELS) > level:
        return _LEVELS[level]
    byte_values = (
        np.arange(256, dtype=np.uint64)[None, :]
        << (np.uint64(8) * np.arange(8, dtype=np.uint64))[:, None]
    )
    while len(_LEVELS) <= level:
        if not _LEVELS:
            cols = _shift_columns()
            t = np.zeros((8, 256), dtype=np.uint64)
            for bit in range(64):
                t[((byte_values >> np.uint64(bit)) & np.uint64(1)).astype(bool)] ^= np.uint64(
                    cols[bit]
                )
            _LEVELS.append(t)
        else:
            prev = _LEVELS[-1]
            _LEVELS.append(_apply(prev, _apply(prev, byte_values)))
    return _LEVELS[level]


def _fast_raw(register: int, data: bytes) -> int | None:
    """The raw register after `data` from `register`, by rows of _ROW bytes in numpy
    (None without numpy).

    A reflected CRC's starting register is the same as XOR-ing it into the first 8 bytes
    and starting from 0; zero bytes in front change nothing from 0. So: fold the register
    in, pad the front to whole rows, CRC every row from 0 side by side, and chain the rows
    (each earlier result fed _ROW zero bytes, XOR the next).
    """
    try:
        import numpy as np
    except ImportError:
        return None
    pad = -len(data) % _ROW
    # one copy of the input, zeros in front, the register folded into its first 8 bytes
    buf = np.zeros(pad + len(data), dtype=np.uint8)
    buf[pad:] = np.frombuffer(data, dtype=np.uint8)
    buf[pad : pad + 8] ^= np.frombuffer(register.to_bytes(8, "little"), dtype=np.uint8)
    # 8 bytes at a time per row (slice-by-8): XOR them in as a little-endian word, then
    # feed 8 zero bytes, as 4 lookups of 16 bits each
    words = np.ascontiguousarray(buf.view("<u8").reshape(-1, _ROW // 8).T)
    del buf
    t0, t1, t2, t3 = _slice_tables()
    m, s16, s32, s48 = np.uint64(0xFFFF), np.uint64(16), np.uint64(32), np.uint64(48)
    crc = np.zeros(words.shape[1], dtype=np.uint64)
    for column in words:
        crc ^= column
        crc = t0[crc & m] ^ t1[(crc >> s16) & m] ^ t2[(crc >> s32) & m] ^ t3[crc >> s48]
    # chain the rows pairwise, a tree of vector steps: (a, b) -> a fed 2**level rows of
    # zeros, XOR b; a zero register in front (an odd count) stands for leading zero bytes
    level = 0
    while crc.size > 1:
        if crc.size % 2:
            crc = np.concatenate((np.zeros(1, dtype=np.uint64), crc))
        crc = _apply(_level(level), crc[0::2]) ^ crc[1::2]
        level += 1
    return int(crc[0])
