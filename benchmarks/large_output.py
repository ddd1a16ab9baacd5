"""Peak memory of a container that writes a large file to its output (issue 21, item 7:
`run IMG cat /300MB` took 3.1 GB of RSS and `logs --tail 1` of it 2.1 GB).

An image with one file of N MB of random bytes is made first (in its own process); then a
fresh process runs `cat` of it (the json-file log on disk gets every line) and reads
`logs --tail 1` back, and reports its peak RSS (ru_maxrss) and times.

    python benchmarks/large_output.py [MB, default 300]
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time


def make(root: str, mb: int) -> None:
    from dockerlayers import DockerClient

    rng = random.Random(1)
    with DockerClient(root=root, seed=1, clock="virtual", mounts="user") as c:
        base = c.images.base()
        ct = c.containers.create(base, "true")
        fs = c.daemon.mount(ct.id)
        with fs.open("/big", "wb") as f:
            for _ in range(mb):
                f.write(rng.randbytes(1 << 20))
        c.daemon.unmount(ct.id)
        ct.commit("big", "1")


def measure(root: str) -> None:
    from dockerlayers import DockerClient

    with DockerClient(root=root, seed=1, clock="virtual", mounts="user") as c:
        t0 = time.perf_counter()
        ct = c.containers.run("big:1", ["cat", "/big"], detach=True)
        ct.wait()
        t1 = time.perf_counter()
        ct.reload()  # the snapshot run() returned is the created container's
        size = os.path.getsize(ct.attrs["LogPath"])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"run cat: {t1 - t0:.1f} s, log {size / 1e6:.0f} MB on disk, peak RSS {peak} MB")
        last = ct.logs(tail=1)
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"logs --tail 1: {len(last)} bytes in {t2 - t1:.2f} s, peak RSS {peak} MB")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure(sys.argv[2])
        sys.exit(0)
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "root")
        make(root, mb)
        subprocess.run([sys.executable, __file__, "--measure", root], check=True)
