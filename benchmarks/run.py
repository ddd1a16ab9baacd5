"""Cost shapes Docker users expect, measured as ratios against a baseline in the same run.

    python benchmarks/run.py            # the whole table (a few minutes)
    python benchmarks/run.py --quick    # smaller sizes, same shapes (under a minute)

Every goal is a ratio of two measurements taken here and now (this machine is shared and
noisy; absolute times mean little). Each row prints the two timings, the ratio and the goal.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from dockerlayers.daemon.initlayer import setup_init_layer  # noqa: E402
from dockerlayers.graphdriver import new_driver  # noqa: E402
from dockerlayers.graphdriver.kernel import overlay_supported  # noqa: E402
from dockerlayers.layer import LayerStore  # noqa: E402
from dockerlayers.stringid import IDGenerator  # noqa: E402

ROWS: list[tuple[str, float, float, str, bool]] = []


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def row(name: str, measured: float, baseline: float, goal: float | None, note: str = "") -> None:
    ratio = measured / baseline if baseline > 0 else float("inf")
    ok = goal is None or ratio <= goal
    goal_text = f"<= {goal}" if goal is not None else note
    ROWS.append((name, measured, baseline, f"{ratio:.2f} ({goal_text})", ok))


def layer_tar(n_files: int, size: int = 64, prefix: str = "f", dirs: int = 20) -> bytes:
    """A layer tar of `n_files` files of `size` bytes spread over `dirs` folders."""
    buf = io.BytesIO()
    payload = b"x" * size
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in range(dirs):
            ti = tarfile.TarInfo(f"d{d}")
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1704067200
            tf.addfile(ti)
        for i in range(n_files):
            ti = tarfile.TarInfo(f"d{i % dirs}/{prefix}{i}")
            ti.size, ti.mode, ti.mtime = size, 0o644, 1704067200
            tf.addfile(ti, io.BytesIO(payload))
    return buf.getvalue()


def store(driver: str, mounts: str = "user") -> tuple[LayerStore, str]:
    root = tempfile.mkdtemp(prefix="dl-bench-")
    ids = IDGenerator(1)
    return LayerStore(root, new_driver(driver, root, mounts=mounts, ids=ids), ids=ids), root


def bench_create(driver: str, small: int, large: int) -> None:
    """Goal 2: create on a large image ÷ create on a small one."""
    results = []
    for n in (small, large):
        ls, root = store(driver)
        top = ls.register(layer_tar(n)).chain_id
        counter = iter(range(10**6))

        def create() -> None:
            rw = ls.create_rw_layer(f"c{next(counter)}", top, setup_init_layer)
            ls.release_rw_layer(rw)

        results.append(median_time(create, 5))
        shutil.rmtree(root)
    goal = None if driver == "vfs" else 1.5
    row(f"create {large} files ÷ {small} files [{driver}]", results[1], results[0], goal, "vfs copies: grows")


def bench_restart(driver: str, files: int, size: int) -> None:
    """Goal 1: restart (unmount + mount) with a full RW layer ÷ with an empty one."""
    results = []
    for n in (0, files):
        ls, root = store(driver)
        top = ls.register(layer_tar(20)).chain_id
        rw = ls.create_rw_layer("c", top, setup_init_layer)
        fs = rw.mount()
        data = b"y" * size
        for i in range(n):
            if i % 500 == 0:
                fs.mkdir(f"/w{i // 500}", 0o755, exist_ok=True)
            fs.write_bytes(f"/w{i // 500}/f{i}", data)
        rw.unmount()

        def restart() -> None:
            f = rw.mount()
            f.stat("/d0")
            rw.unmount()

        results.append(median_time(restart, 7))
        shutil.rmtree(root)
    row(f"restart RW {files} files/{files * size // 1_000_000} MB ÷ empty [{driver}]", results[1], results[0], 1.3)


def bench_diff(driver: str, small: int, large: int) -> None:
    """Goal 3: diff (and commit) with 10 changes on a large image ÷ on a small one."""
    diff_t, commit_t = [], []
    for n in (small, large):
        ls, root = store(driver)
        top = ls.register(layer_tar(n)).chain_id
        rw = ls.create_rw_layer("c", top, setup_init_layer)
        fs = rw.mount()
        for i in range(10):
            fs.write_bytes(f"/d{i}/f{i}", b"changed")
        rw.unmount()
        diff_t.append(median_time(rw.changes, 5))

        def commit() -> None:
            with rw.tar_stream() as t:
                layer = ls.register(t, top)
            ls.release(layer)

        commit_t.append(median_time(commit, 3))
        shutil.rmtree(root)
    row(f"diff 10 changes, {large} ÷ {small} files [{driver}]", diff_t[1], diff_t[0], 1.5)
    row(f"commit 10 changes, {large} ÷ {small} files [{driver}]", commit_t[1], commit_t[0], 1.5)


def bench_depth(driver: str, depth: int) -> None:
    """Goal 4: stat + read of a bottom file through `depth` layers ÷ through 1 layer."""
    results = []
    for n in (1, depth):
        ls, root = store(driver)
        parent = None
        for i in range(n):
            parent = ls.register(layer_tar(5, prefix=f"l{i}_", dirs=2), parent).chain_id
        rw = ls.create_rw_layer("c", parent, None)
        fs = rw.mount()
        fs.stat("/d0/l0_0")  # warm: first lookups fill the per-folder index

        def lookups() -> None:
            for _ in range(200):
                fs.stat("/d0/l0_0")
                fs.read_bytes("/d0/l0_0")

        results.append(median_time(lookups, 5))
        rw.unmount()
        shutil.rmtree(root)
    row(f"stat+read through {depth} ÷ 1 layers [{driver}]", results[1], results[0], 2.0)


def bench_user_vs_kernel(depth: int) -> None:
    """Goal 4b: user-space lookups ÷ the same os.stat calls through a kernel overlay mount."""
    if not overlay_supported():
        ROWS.append(("user-space ÷ kernel overlay lookups", 0, 0, "skipped: needs root + overlay", True))
        return
    ls, root = store("overlay2", mounts="user")
    parent = None
    for i in range(depth):
        parent = ls.register(layer_tar(5, prefix=f"l{i}_", dirs=2), parent).chain_id
    rw = ls.create_rw_layer("c", parent, None)
    fs = rw.mount()
    paths = [f"/d{(i % 5) % 2}/l{i}_{i % 5}" for i in range(depth)]
    user = median_time(lambda: [fs.stat(p) for p in paths], 5)
    rw.unmount()
    kls = LayerStore(root, new_driver("overlay2", root, mounts="kernel"))
    krw = kls.get_rw_layer("c")
    kfs = krw.mount()
    base = kfs.path
    kernel = median_time(lambda: [os.stat(base + p) for p in paths], 5)
    krw.unmount()
    kls.driver.cleanup()
    shutil.rmtree(root)
    row(f"user-space ÷ kernel overlay stat, {depth} layers", user, kernel, 3.0)


def bench_register(files: int, size: int) -> None:
    """Goal 5: register a layer tar ÷ GNU tar -x plus sha256sum of it."""
    data = layer_tar(files, size)
    tmp = tempfile.mkdtemp(prefix="dl-bench-")
    path = os.path.join(tmp, "layer.tar")
    with open(path, "wb") as f:
        f.write(data)

    def gnu() -> None:
        out = tempfile.mkdtemp(dir=tmp)
        subprocess.run(["tar", "-xf", path, "-C", out], check=True)
        subprocess.run(["sha256sum", path], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(out)

    def ours() -> None:
        ls, root = store("overlay2")
        ls.register(path)
        shutil.rmtree(root)

    row(f"register {files} files/{len(data) // 1_000_000} MB ÷ tar -x + sha256sum", median_time(ours, 3), median_time(gnu, 3), 2.0)
    shutil.rmtree(tmp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, same shapes")
    args = ap.parse_args()
    q = args.quick
    for drv in ("overlay2", "aufs", "vfs"):
        bench_create(drv, 20, 2_000 if q else 20_000)
        bench_restart(drv, 1_000 if q else 10_000, 2_000 if q else 20_000)
        bench_diff(drv, 500, 5_000 if q else 50_000)
        bench_depth(drv, 125)
    bench_user_vs_kernel(125)
    bench_register(1_000 if q else 10_000, 2_000 if q else 20_000)
    print(f"# dockerlayers benchmarks — {platform.node()} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"{'measurement':58} {'ours (s)':>10} {'baseline (s)':>12}  ratio (goal)")
    for name, a, b, ratio, ok in ROWS:
        mark = "" if ok else "   <-- misses"
        print(f"{name:58} {a:10.4f} {b:12.4f}  {ratio}{mark}")


if __name__ == "__main__":
    main()
