"""Time and peak memory of a tree 1,100 folders deep through the store (issue 21): import,
save, rmi, load, a container's `mkdir -p`, commit, rm. Nothing may recurse per path
component; the peak RSS is printed (goal: under 250 MB).

    python benchmarks/deep_tree.py [depth, default 1100]
"""

import io
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dockerlayers import DockerClient  # noqa: E402
from tests.reliability.deep import deep_tar  # noqa: E402


def main() -> None:
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 1100
    data = deep_tar(depth)
    t = time.time()
    c = DockerClient(
        root=tempfile.mkdtemp(prefix="dl-deep-"), seed=1, clock="virtual", mounts="user"
    )
    c.images.import_image(io.BytesIO(data), repository="deep", tag="1")
    saved = c.daemon.save(["deep:1"])
    c.images.remove("deep:1")
    c.images.load(saved)
    ct = c.containers.run(
        c.images.base().id, ["sh", "-c", "mkdir -p /x" + "/a" * depth], detach=True
    )
    ct.wait()
    ct.commit("deep", "2")
    ct.remove()
    c.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"depth {depth}: import, save, rmi, load, mkdir -p, commit, rm: "
        f"{time.time() - t:.1f} s, peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
