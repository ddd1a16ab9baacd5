"""Peak memory of `docker logs` of a large output (issue 21).

A container runs `seq N` (default 1,000,001 lines, 6.9 MB of output, one json-file entry
per line); then its log is read back as a stream (docker-py `logs(stream=True)`) and with
`tail=5`. The json-file reader keeps at most the tail in memory, as moby's does: the peak
RSS must not grow with N. Reports time and peak RSS (ru_maxrss) after the run and after
the reads.

    python benchmarks/logs_memory.py [lines, default 1000001]
"""

from __future__ import annotations

import resource
import sys
import time


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main(lines: int) -> None:
    from dockerlayers import DockerClient

    c = DockerClient(seed=1, clock="virtual", mounts="user")
    try:
        base = c.images.base()
        t0 = time.perf_counter()
        ct = c.containers.run(base, ["seq", str(lines)], detach=True)
        ct.wait()
        t1 = time.perf_counter()
        print(f"run seq {lines}: {t1 - t0:.1f} s, peak RSS {peak_mb()} MB")
        size, last = 0, b""
        for chunk in ct.logs(stream=True):
            size += len(chunk)
            last = chunk
        t2 = time.perf_counter()
        assert last == f"{lines}\n".encode(), last
        print(f"logs(stream=True): {size:,} bytes in {t2 - t1:.1f} s, peak RSS {peak_mb()} MB")
        tail = ct.logs(tail=5)
        assert tail.splitlines()[-1] == str(lines).encode(), tail
        print(f"logs(tail=5): {time.perf_counter() - t2:.1f} s, peak RSS {peak_mb()} MB")
    finally:
        c.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_001)
