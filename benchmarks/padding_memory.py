"""Peak memory of `docker import` for a small layer padded with zeros after its end marker.

A 1 MB `.tar.gz` whose tar is followed by N MiB of zeros (issue 21: 1 GiB took 4.1 GB of
RSS; dockerd takes 87 MB, since tar-split reads the padding in 1 MiB chunks). The import,
then a read of the layer's tar back from the store (tar-split reassembly, checked against
the DiffID), run in a fresh subprocess, which reports its peak RSS (ru_maxrss) and time.

    python benchmarks/padding_memory.py [MiB of padding, default 1024]
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time

_CHILD = """
import resource, sys, time
from dockerlayers import DockerClient
t = time.time()
c = DockerClient(root=sys.argv[2], seed=1, clock="virtual", mounts="user")
with open(sys.argv[1], "rb") as f:
    img = c.images.import_image(f, repository="padded", tag="1")
store = c.daemon.layer_store
layer = store.get(store.map()[next(iter(store.map()))].chain_id)
size = sum(len(chunk) for chunk in layer.layer_tar().chunks())  # verified against the DiffID
store.release(layer)
c.close()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.time() - t, size)
"""


def make_padded_tar_gz(path: str, padding_mib: int, content: int = 1 << 20) -> None:
    """Write a gzip'd tar holding one file of `content` random bytes, then `padding_mib`
    MiB of zeros after the end marker (compressed: the file stays about 1 MB)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("data")
        info.size = content
        t.addfile(info, io.BytesIO(os.urandom(content)))
    zeros = bytes(1 << 20)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue())
        for _ in range(padding_mib):
            gz.write(zeros)


def measure(padding_mib: int) -> tuple[int, float, int]:
    """(peak RSS in KiB, seconds, bytes of the layer tar read back) for the padded tar."""
    with tempfile.TemporaryDirectory(prefix="padding-") as tmp:
        src = os.path.join(tmp, "padded.tar.gz")
        make_padded_tar_gz(src, padding_mib)
        root = os.path.join(tmp, "root")
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=here)
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, src, root],
            env=env,
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise SystemExit(out.stderr)
        return _parse(out.stdout)


def _parse(stdout: str) -> tuple[int, float, int]:
    rss, secs, saved = stdout.split()
    return int(rss), float(secs), int(saved)


if __name__ == "__main__":
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    start = time.time()
    rss, secs, saved = measure(mib)
    print(
        f"{mib} MiB of padding: peak RSS {rss / 1024:.0f} MB, import + read back {secs:.1f} s "
        f"(layer tar {saved} bytes), {time.time() - start:.1f} s in all"
    )
