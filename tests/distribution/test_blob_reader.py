"""The reader of a download in progress: it waits for bytes not yet there, and stops when
the download (or another one of the pull) fails."""

from __future__ import annotations

import os
import threading
import time

import pytest

from dockerlayers.distribution.pull import _Blob, _DownloadFailed, _Group


def _writer(blob: _Blob, chunks: list[bytes], error: BaseException | None = None) -> None:
    for c in chunks:
        time.sleep(0.01)
        blob.append(c)
    blob.finish(error)


def test_reads_everything_in_order_while_it_arrives(tmp_path):
    blob = _Blob(str(tmp_path), _Group())
    chunks = [os.urandom(n) for n in (1, 70_000, 3, 1 << 20, 5)]
    t = threading.Thread(target=_writer, args=(blob, chunks))
    t.start()
    r = blob.reader()
    assert r.read(2) == chunks[0]  # only what is there: one byte, then more later
    r.seek(0)
    got = b"".join(iter(lambda: r.read(100_000), b""))
    t.join()
    assert got == b"".join(chunks)
    assert blob.outcome() is None
    blob.close()


def test_a_failed_download_stops_the_reader(tmp_path):
    group = _Group()
    mine, other = _Blob(str(tmp_path), group), _Blob(str(tmp_path), group)
    t = threading.Thread(target=_writer, args=(other, [b"x"], OSError("connection reset")))
    t.start()
    with pytest.raises(_DownloadFailed):
        mine.reader().read(10)  # waits on its own blob; woken by the other's failure
    t.join()
    mine.wait()
    assert str(mine.outcome()) == "connection reset"
    mine.close()
    other.close()
