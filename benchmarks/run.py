"""Cost shapes Docker users expect (issue 9), as ratios against a baseline in the same run.

    python benchmarks/run.py            # every goal at the sizes the issue states (~15 min)
    python benchmarks/run.py --quick    # smaller sizes, same shapes (a minute or two)
    python benchmarks/run.py --only diff,register   # some rows only

Every goal is a ratio of two measurements taken here and now (this machine is shared and
noisy; absolute times mean little), except the three absolute goals (peak memory, the
notebook series, one ContainerLab action). Method: each measured operation and its baseline
are set up first, then run alternately (one warm-up each, then `repeat` rounds), and the
ratio is that of the two medians, so that a burst of load hits both sides alike. Each row
prints the two timings, the ratio and the goal.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from dockerlayers.daemon.initlayer import setup_init_layer  # noqa: E402
from dockerlayers.graphdriver import new_driver  # noqa: E402
from dockerlayers.graphdriver.kernel import overlay_supported  # noqa: E402
from dockerlayers.layer import LayerStore  # noqa: E402
from dockerlayers.stringid import IDGenerator  # noqa: E402

#: (measurement, ours, baseline or None, result text, goal met)
ROWS: list[tuple[str, str, str, str, bool]] = []
TMP = tempfile.gettempdir()


# -- method ---------------------------------------------------------------------------------
def paired(
    a: Callable[[], object],
    b: Callable[[], object],
    repeat: int,
    between: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Medians of `a` and `b`, run alternately after one warm-up each; `between` (untimed)
    runs before every timed run."""
    for fn in (a, b):
        if between:
            between()
        fn()
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            if between:
                between()
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def ratio_row(name: str, ours: float, base: float, goal: float | None, note: str = "") -> None:
    r = ours / base if base > 0 else float("inf")
    ok = goal is None or r <= goal
    text = f"{r:.2f} (goal <= {goal})" if goal is not None else f"{r:.2f} ({note})"
    ROWS.append((name, f"{ours:.4f}", f"{base:.4f}", text, ok))


def abs_row(name: str, value: float, unit: str, goal: float, fmt: str = ".1f") -> None:
    ROWS.append((name, f"{value:{fmt}} {unit}", "-", f"goal < {goal:g} {unit}", value < goal))


def skip_row(name: str, why: str) -> None:
    ROWS.append((name, "-", "-", f"skipped: {why}", True))


# -- fixtures -------------------------------------------------------------------------------
def layer_tar(n_files: int, size: int = 64, prefix: str = "f", dirs: int = 20) -> bytes:
    """A layer tar of `n_files` files of `size` bytes spread over `dirs` folders."""
    buf = io.BytesIO()
    write_layer_tar(buf, n_files, size, prefix, dirs)
    return buf.getvalue()


def write_layer_tar(
    out: io.BufferedIOBase | io.BytesIO, n_files: int, size: int, prefix: str = "f", dirs: int = 20
) -> None:
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in range(dirs):
            ti = tarfile.TarInfo(f"d{d}")
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 1704067200
            tf.addfile(ti)
        for i in range(n_files):
            ti = tarfile.TarInfo(f"d{i % dirs}/{prefix}{i}")
            ti.size, ti.mode, ti.mtime = size, 0o644, 1704067200
            tf.addfile(ti, io.BytesIO(payload))


def layer_file(n_files: int, size: int, dirs: int = 20) -> str:
    fd, path = tempfile.mkstemp(prefix="dl-bench-", suffix=".tar", dir=TMP)
    with os.fdopen(fd, "wb") as f:
        write_layer_tar(f, n_files, size, dirs=dirs)
    return path


class _Pattern(io.RawIOBase):
    """`size` bytes of a repeating pattern, read like a file (a big layer without the RAM)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytes(range(256)) * 4096  # 1 MiB

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        n = min(len(b), self.left, len(self.block))
        b[:n] = self.block[:n]
        self.left -= n
        return n


def big_layer_file(total: int, files: int = 64) -> str:
    fd, path = tempfile.mkstemp(prefix="dl-bench-big-", suffix=".tar", dir=TMP)
    each = total // files
    with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w") as tf:
        for i in range(files):
            ti = tarfile.TarInfo(f"blob/{i:03d}.bin")
            ti.size, ti.mode, ti.mtime = each, 0o644, 1704067200
            tf.addfile(ti, io.BufferedReader(_Pattern(each), 1 << 20))
    return path


def store(driver: str, mounts: str = "user") -> tuple[LayerStore, str]:
    root = tempfile.mkdtemp(prefix="dl-bench-", dir=TMP)
    ids = IDGenerator(1)
    return LayerStore(root, new_driver(driver, root, mounts=mounts, ids=ids), ids=ids), root


def _counter() -> Iterator[int]:
    return iter(range(10**9))


# -- goal 1: restart ----------------------------------------------------------------------------
def bench_restart(driver: str, files: int, size: int, repeat: int) -> None:
    """Restart = the RW layer unmounted (stop) and mounted again (start), plus a lookup:
    with `files` files of `size` bytes in the RW layer ÷ with an empty one."""
    setups = []
    for n in (files, 0):
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

        def restart(rw=rw) -> None:
            f = rw.mount()
            f.stat("/d0")
            rw.unmount()

        setups.append((restart, root))
    full, empty = paired(setups[0][0], setups[1][0], repeat)
    for _, root in setups:
        shutil.rmtree(root)
    mb = files * size // 1_000_000
    ratio_row(f"restart, RW {files} files/{mb} MB ÷ empty RW [{driver}]", full, empty, 1.3)


# -- goal 2: create ---------------------------------------------------------------------------
def bench_create(driver: str, small: int, large: int, repeat: int) -> None:
    """create (RW layer + init layer) on a `large`-file image ÷ on a `small`-file one."""
    fns, roots = [], []
    for n in (large, small):
        ls, root = store(driver)
        top = ls.register(layer_tar(n)).chain_id
        counter = _counter()

        def create(ls=ls, top=top, counter=counter) -> None:
            rw = ls.create_rw_layer(f"c{next(counter)}", top, setup_init_layer)
            ls.release_rw_layer(rw)

        fns.append(create)
        roots.append(root)
    a, b = paired(fns[0], fns[1], repeat)
    for root in roots:
        shutil.rmtree(root)
    if driver == "vfs":
        ratio_row(f"create, {large} ÷ {small}-file image [vfs]", a, b, None, "vfs copies: grows")
    else:
        ratio_row(f"create, {large} ÷ {small}-file image [{driver}]", a, b, 1.5)


# -- goal 3: diff and commit -----------------------------------------------------------------
def bench_diff(driver: str, small: int, large: int, repeat: int) -> None:
    """diff (and commit = the RW layer's tar registered as a layer) with 10 changes, on a
    `large`-file image ÷ on a `small`-file one."""
    diffs, commits, roots = [], [], []
    for n in (large, small):
        ls, root = store(driver)
        top = ls.register(layer_tar(n)).chain_id
        rw = ls.create_rw_layer("c", top, setup_init_layer)
        fs = rw.mount()
        for i in range(10):
            fs.write_bytes(f"/d{i}/f{i}", b"changed")
        rw.unmount()

        def commit(ls=ls, rw=rw, top=top) -> None:
            with rw.tar_stream() as t:
                layer = ls.register(t, top)
            ls.release(layer)

        diffs.append(rw.changes)
        commits.append(commit)
        roots.append(root)
    d_large, d_small = paired(diffs[0], diffs[1], repeat)
    c_large, c_small = paired(commits[0], commits[1], repeat)
    for root in roots:
        shutil.rmtree(root)
    if driver == "vfs":
        note = "vfs: moby's naive diff walks the image"
        ratio_row(f"diff, 10 changes, {large} ÷ {small} files [vfs]", d_large, d_small, None, note)
        ratio_row(
            f"commit, 10 changes, {large} ÷ {small} files [vfs]", c_large, c_small, None, note
        )
    else:
        ratio_row(f"diff, 10 changes, {large} ÷ {small} files [{driver}]", d_large, d_small, 1.5)
        ratio_row(f"commit, 10 changes, {large} ÷ {small} files [{driver}]", c_large, c_small, 1.5)


# -- goal 4: lookups ----------------------------------------------------------------------------
def _stack(driver: str, depth: int, mounts: str = "user") -> tuple[LayerStore, str, object]:
    ls, root = store(driver, mounts)
    parent = None
    for i in range(depth):
        parent = ls.register(layer_tar(5, prefix=f"l{i}_", dirs=2), parent).chain_id
    return ls, root, ls.create_rw_layer("c", parent, None)


def bench_depth(driver: str, depth: int, repeat: int) -> None:
    """stat + read of a bottom-layer file through `depth` layers ÷ through 1 layer."""
    fns, undo = [], []
    for n in (depth, 1):
        ls, root, rw = _stack(driver, n)
        fs = rw.mount()  # type: ignore[attr-defined]

        def lookups(fs=fs) -> None:
            for _ in range(200):
                fs.stat("/d0/l0_0")
                fs.read_bytes("/d0/l0_0")

        fns.append(lookups)
        undo.append((rw, root))
    a, b = paired(fns[0], fns[1], repeat)
    for rw, root in undo:
        rw.unmount()  # type: ignore[attr-defined]
        shutil.rmtree(root)
    ratio_row(f"stat+read, {depth} ÷ 1 layers [{driver}]", a, b, 2.0)


def bench_user_vs_kernel(depth: int, repeat: int) -> None:
    """User-space stat of one file per layer ÷ os.stat of the same paths on a kernel mount."""
    name = f"stat, user-space ÷ kernel overlay, {depth} layers"
    if not overlay_supported():
        skip_row(name, "needs root + overlayfs")
        return
    ls, root, rw = _stack("overlay2", depth)
    fs = rw.mount()  # type: ignore[attr-defined]
    paths = [f"/d{(i % 5) % 2}/l{i}_{i % 5}" for i in range(depth)]
    kls = LayerStore(root, new_driver("overlay2", root, mounts="kernel"))
    krw = kls.get_rw_layer("c")
    kfs = krw.mount()
    kpaths = [kfs.path + p for p in paths]

    def user() -> None:
        for _ in range(20):
            for p in paths:
                fs.stat(p)

    def kernel() -> None:
        for _ in range(20):
            for p in kpaths:
                os.stat(p)

    a, b = paired(user, kernel, repeat)
    krw.unmount()
    kls.driver.cleanup()
    rw.unmount()  # type: ignore[attr-defined]
    shutil.rmtree(root)
    ratio_row(name, a, b, 3.0)


# -- goal 5: register, save, memory -------------------------------------------------------------
def bench_register(files: int, size: int, repeat: int) -> None:
    """register a layer tar (from its file) ÷ GNU `tar -x` of it plus `sha256sum` of it.

    Both create 10,000 files. ext4 skips inodes freed in the last ~35 s when it allocates
    (`recently_deleted`, seen with perf): creating right after an `rm -r` of the previous
    run's tree costs several times the kernel CPU, for whichever side comes next. So the
    trees are kept until the end, and each run starts after a `sync` (both untimed).
    """
    path = layer_file(files, size)
    mb = os.path.getsize(path) // 1_000_000
    made: list[str] = []

    def gnu() -> None:
        out = tempfile.mkdtemp(dir=TMP)
        made.append(out)
        subprocess.run(["tar", "-xf", path, "-C", out], check=True)
        subprocess.run(["sha256sum", path], check=True, stdout=subprocess.DEVNULL)

    def ours() -> None:
        ls, root = store("overlay2")
        made.append(root)
        ls.register(path)

    try:
        a, b = paired(ours, gnu, repeat, between=os.sync)
    finally:
        for tree in made:
            shutil.rmtree(tree)
        os.unlink(path)
    ratio_row(f"register {files} files/{mb} MB ÷ tar -x + sha256sum", a, b, 2.0)


def bench_save(files: int, size: int, repeat: int) -> None:
    """`docker save` of a one-layer image to a file ÷ `tar -c` of the same tree to a file."""
    from dockerlayers import DockerClient

    path = layer_file(files, size)
    tree = tempfile.mkdtemp(prefix="dl-bench-tree-", dir=TMP)
    subprocess.run(["tar", "-xf", path, "-C", tree], check=True)
    root = tempfile.mkdtemp(prefix="dl-bench-", dir=TMP)
    client = DockerClient(root=root, driver="overlay2", seed=1, clock="virtual", mounts="user")
    out = os.path.join(TMP, f"dl-bench-out-{os.getpid()}.tar")
    try:
        image = client.images.import_image(path, "bench", "save")
        service = client.daemon.image_service

        def ours() -> None:
            with open(out, "wb") as f:
                service.save([image.id], f)

        def gnu() -> None:
            subprocess.run(["tar", "-cf", out, "-C", tree, "."], check=True)

        a, b = paired(ours, gnu, repeat)
    finally:
        client.close()
        shutil.rmtree(root)
        shutil.rmtree(tree)
        os.unlink(path)
        if os.path.exists(out):
            os.unlink(out)
    mb = files * size // 1_000_000
    ratio_row(f"save image {files} files/{mb} MB ÷ tar -c", a, b, 1.5)


def _load_memory_child(path: str) -> None:
    """In a fresh process: register the layer at `path` from an open file; print peaks."""
    import tracemalloc

    ls, root = store("overlay2")
    rss0 = _peak_rss()
    tracemalloc.start()
    with open(path, "rb") as f:
        ls.register(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss1 = _peak_rss()
    shutil.rmtree(root)
    print(f"{peak} {rss0} {rss1}")


def _peak_rss() -> int:
    """This process's peak resident set in bytes: VmHWM (ru_maxrss would count the parent's
    peak, which it keeps across fork + exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_load_memory(total: int) -> None:
    """Peak memory while registering (loading) a `total`-byte layer from a file stream."""
    path = big_layer_file(total)
    try:
        res = subprocess.run(
            [sys.executable, __file__, "--_load-memory", path],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(path)
    peak, rss0, rss1 = (int(x) for x in res.stdout.split()[-3:])
    size = f"{total / 2**30:g} GiB" if total >= 2**30 else f"{total // 2**20} MiB"
    abs_row(f"peak Python heap loading a {size} layer (tracemalloc)", peak / 1e6, "MB", 100)
    abs_row(
        f"peak RSS of the process loading it (start: {rss0 / 1e6:.0f} MB)", rss1 / 1e6, "MB", 100
    )


# -- goal 6: notebooks and the lab -------------------------------------------------------------
def bench_notebooks() -> None:
    """Wall time of the whole notebook series under strict nbval (what CI runs)."""
    nb = os.path.join(HERE, "..", "notebooks")
    project = os.path.abspath(os.path.join(HERE, ".."))
    env = dict(os.environ)  # the kernels import this checkout, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (project, env.get("PYTHONPATH")) if p)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-q", "-p", "no:cacheprovider", nb],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
    )
    wall = time.perf_counter() - t0
    tail = (res.stdout.strip().splitlines() or ["?"])[-1]
    name = "notebook series, pytest --nbval"
    if res.returncode != 0:
        name += f" (FAILED: {tail[:40]})"
    abs_row(name, wall, "s", 60)


def bench_lab(rounds: int) -> None:
    """Median wall (and CPU) time of one ContainerLab action, redraw included."""
    from bench_viz import lab_action_times

    from dockerlayers.viz import plot_file_layer_map, to_png
    from dockerlayers.viz.filemap import build_matrix

    to_png(plot_file_layer_map(build_matrix([], [{}])))  # matplotlib's font cache, once
    wall, cpu = lab_action_times(rounds)
    med = statistics.median(wall) * 1000
    abs_row(
        f"ContainerLab action, wall (CPU {statistics.median(cpu) * 1000:.0f} ms, n={len(wall)})",
        med,
        "ms",
        150,
        ".0f",
    )


# -- main ------------------------------------------------------------------------------------
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )


GROUPS = (
    "restart",
    "create",
    "diff",
    "depth",
    "kernel",
    "register",
    "save",
    "memory",
    "notebooks",
    "lab",
)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--_load-memory":
        _load_memory_child(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, same shapes")
    ap.add_argument("--only", default="", help=f"comma-separated groups: {','.join(GROUPS)}")
    args = ap.parse_args()
    q = args.quick
    only = set(args.only.split(",")) if args.only else set(GROUPS)
    if not only <= set(GROUPS):
        ap.error(f"unknown group(s): {', '.join(sorted(only - set(GROUPS)))}")
    rep = 5 if q else 7
    started = time.perf_counter()
    for drv in ("overlay2", "aufs", "vfs"):
        if "restart" in only:
            bench_restart(drv, 1_000 if q else 10_000, 2_000 if q else 20_000, 9)
        # vfs rows only show a growth (no goal): few rounds; the others fsync, so more
        few = 3 if drv == "vfs" else 11
        if "create" in only:
            bench_create(drv, 20, 2_000 if q else 20_000, few)
        if "diff" in only:
            bench_diff(drv, 500, 5_000 if q else 50_000, few if drv == "vfs" else rep)
        if "depth" in only:
            bench_depth(drv, 125, rep)
    if "kernel" in only:
        bench_user_vs_kernel(125, rep)
    if "register" in only:
        bench_register(1_000 if q else 10_000, 2_000 if q else 20_000, 3 if q else 5)
    if "save" in only:
        bench_save(1_000 if q else 10_000, 20_000, 5)  # the full run's files, fewer of them
    if "memory" in only:
        bench_load_memory(128 * 2**20 if q else 2**30)
    if "notebooks" in only:
        if q:
            skip_row("notebook series, pytest --nbval", "--quick (run without it)")
        else:
            bench_notebooks()
    if "lab" in only:
        bench_lab(3 if q else 6)
    sizes = "--quick sizes" if q else "the issue's sizes"
    print(f"# dockerlayers benchmarks ({sizes}), {time.perf_counter() - started:.0f} s")
    print(f"# {machine()}")
    w = max(len(r[0]) for r in ROWS)
    print(f"{'measurement':{w}}  {'ours':>10}  {'baseline':>10}  ratio / result")
    for name, a, b, text, ok in ROWS:
        print(f"{name:{w}}  {a:>10}  {b:>10}  {text}{'' if ok else '   <-- misses'}")


if __name__ == "__main__":
    main()
