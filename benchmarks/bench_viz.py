"""How fast the pictures and panels are (printed, not asserted).

1. One ContainerLab action, redraw included (status, event log, trace, on-disk tree,
   file × layer map), on the reference scene: an image of 2,000 files in 5 layers and
   3 running containers. Goal: median < 150 ms.
2. The file × layer map (model + figure + PNG) of a 20,000-file image. Goal: < 1 s.
3. A fresh process: building a ContainerLab, then its first click (`create`), which used
   to pay matplotlib's start-up (0.6-1 s). Goal: first click < 300 ms.
4. DriverCompare's default run (compare_drivers()). Goal: < 1 s.

Run: python benchmarks/bench_viz.py
"""

from __future__ import annotations

import io
import statistics
import tarfile
import time

from dockerlayers import DockerClient
from dockerlayers.viz import _content, file_layer_matrix, layered_image, plot_file_layer_map, to_png
from dockerlayers.viz.filemap import build_matrix
from dockerlayers.viz.lab import ContainerLab
from dockerlayers.viz.testing import PanelRunner


def bench_lab(rounds: int = 6) -> None:
    lab_action_times(rounds, report=True)


def lab_action_times(rounds: int = 6, report: bool = False) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of every ContainerLab action on the reference scene (after a
    warm-up); printed per action when `report`."""
    client = DockerClient(seed=1, clock="virtual", mounts="user")
    try:
        img = layered_image(client, (500, 500, 500, 500), tag="ref:latest")  # base + 4 = 5 layers
        n_files = sum(1 for _ in _all_paths(client, img.id))
        lab = ContainerLab(client, image=img.id)
        r = PanelRunner(lab)
        cmd = "sh -c 'while true; do date >> /log.txt; sleep 5; done'"
        r.set("command", cmd)
        for name in ("c1", "c2", "c3"):
            r.set("name", name).click("create").click("start")
        r.set("container", "c2")
        # warm up matplotlib (fonts, first draw) like a notebook would have
        r.click("pause").click("unpause")
        times: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        seq = [
            ("run exec", None),
            ("pause", None),
            ("unpause", None),
            ("stop", None),
            ("start", None),
            ("restart", None),
            ("advance clock", None),
            ("kill", None),
            ("start", None),
        ]
        for i in range(rounds):
            r.set("exec", f"sh -c 'echo {i} > /round{i}.txt'")
            for label, _ in seq:
                t, c0 = time.perf_counter(), time.process_time()
                r.click(label)
                times.setdefault(label, []).append(time.perf_counter() - t)
                cpu.setdefault(label, []).append(time.process_time() - c0)
                assert r.error == "", (label, r.error)
        allt = [x for v in times.values() for x in v]
        allc = [x for v in cpu.values() for x in v]
        if not report:
            return allt, allc
        p90 = sorted(allt)[int(len(allt) * 0.9)]
        print(f"ContainerLab on an image of {n_files} files in 5 layers, 3 running containers")
        print(
            f"  one action, redraw included: median {_ms(allt)} wall, {_ms(allc)} CPU "
            f"(wall p90 {p90 * 1000:.0f} ms, n={len(allt)}; goal < 150 ms)"
        )
        for label, v in times.items():
            print(f"    {label:<14} median {_ms(v):>7} wall, {_ms(cpu[label]):>7} CPU")
        # where the time goes, for one exec (a file changes, so the map is redrawn)
        lab.show_map = False
        t = time.perf_counter()
        r.click("run exec")
        no_map = time.perf_counter() - t
        print(f"    exec without the map redraw: {no_map * 1000:.0f} ms")
        return allt, allc
    finally:
        client.close()


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def _all_paths(client, image_id):
    m = file_layer_matrix(client, image=image_id, max_rows=None)
    return [row.path for row in m.rows]


def _big_tar(n: int, per_dir: int = 100) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for i in range(n):
            d = f"srv/app/m{i // (per_dir * 20):02d}/d{i // per_dir:04d}"
            parts = d.split("/")
            for k in range(1, len(parts) + 1):
                sub = "/".join(parts[:k])
                if sub not in dirs:
                    dirs.add(sub)
                    info = tarfile.TarInfo(sub)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                    tar.addfile(info)
            data = f"file {i}\n".encode()
            info = tarfile.TarInfo(f"{d}/f{i:05d}.txt")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def bench_big_map(n: int = 20_000) -> None:
    client = DockerClient(seed=1, clock="virtual", mounts="user")
    try:
        img = client.images.import_image(_big_tar(n), "big", "v1")
        cases = (
            ("folded (default)", {}),
            ("prefix + depth", {"prefix": "/srv/app/m03", "depth": 1}),
        )
        for label, kwargs in cases:
            for cold in (True, False):
                if cold:
                    _content._CACHE.clear()
                t, c0 = time.perf_counter(), time.process_time()
                m = file_layer_matrix(client, image=img.id, **kwargs)
                t1 = time.perf_counter()
                png = to_png(plot_file_layer_map(m))
                t2, c2 = time.perf_counter(), time.process_time()
                print(
                    f"file × layer map, {m.total_paths} paths, {label}, "
                    f"{'cold' if cold else 'warm'} cache: {(t2 - t) * 1000:.0f} ms wall, "
                    f"{(c2 - c0) * 1000:.0f} ms CPU (model {(t1 - t) * 1000:.0f} ms, "
                    f"draw+PNG {(t2 - t1) * 1000:.0f} ms, {len(m.rows)} rows, "
                    f"{len(png) // 1024} KiB; goal < 1000 ms)"
                )
        t = time.perf_counter()
        m = file_layer_matrix(client, image=img.id, max_rows=None)
        t1 = time.perf_counter()
        to_png(plot_file_layer_map(m))
        t2 = time.perf_counter()
        print(
            f"  every path as its own row ({len(m.rows)} rows): model {(t1 - t) * 1000:.0f} ms, "
            f"draw+PNG {(t2 - t1) * 1000:.0f} ms (labels omitted beyond 300 rows)"
        )
    finally:
        client.close()


_FIRST_CLICK = """
import time
from dockerlayers import DockerClient
from dockerlayers.viz.lab import ContainerLab
from dockerlayers.viz.testing import PanelRunner
c = DockerClient(seed=1, clock="virtual", mounts="user")
base = c.images.base()
t = time.perf_counter(); lab = ContainerLab(c, base); build = time.perf_counter() - t
t = time.perf_counter(); PanelRunner(lab).click("create"); first = time.perf_counter() - t
print(f"{build:.4f} {first:.4f}")
c.close()
"""


def bench_first_click(rounds: int = 3) -> None:
    import subprocess
    import sys

    builds, firsts = [], []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_CLICK], capture_output=True, text=True, check=True
        ).stdout.split()
        builds.append(float(out[0]))
        firsts.append(float(out[1]))
    print(f"ContainerLab in a fresh process: build {_ms(builds)}, first click {_ms(firsts)}")


def bench_driver_compare(rounds: int = 3) -> None:
    from dockerlayers.viz.drivers import compare_drivers

    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        compare_drivers()
        times.append(time.perf_counter() - t)
    print(f"DriverCompare default run: {_ms(times)}")


if __name__ == "__main__":
    # warm matplotlib's font cache so that neither measurement pays for it
    to_png(plot_file_layer_map(build_matrix([], [{}])))
    bench_lab()
    bench_big_map()
    bench_first_click()
    bench_driver_compare()
