"""Pull speed and memory (issue 18): the model's `docker pull` of a ~200 MB image from a
real registry ÷ `skopeo copy` of the same image to a local directory, same run.

A real registry (Debian's `docker-registry`, started as the tests start it) receives an
image the model makes: LAYERS layers of random data (incompressible: the gzip blobs are
as large as the layers), pushed by the model. Then, alternately, `skopeo copy
docker://REG/bench/pull:1 dir:DIR` (download and digest-check the blobs) and the model's
pull into a fresh root (download, digest check, gunzip, register: files, tar-split and
DiffID). Each of ours runs in a fresh process, timed around `images.pull` only; its peak
RSS is that process's VmHWM. Medians of `--repeat` pairs after a warm-up pair (which also
writes the modules' bytecode: PYTHONDONTWRITEBYTECODE is dropped for the pulls).

    python benchmarks/pull_speed.py [--mb 200] [--layers 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REF = "bench/pull:1"
FILES_PER_LAYER = 8


def _cpu(who: int) -> float:
    """User + system CPU seconds of this process (all threads) or of its children."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _vm_hwm() -> int:
    """Peak resident set of this process, bytes (VmHWM)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child_pull(host: str, root: str) -> None:
    """Runs in a fresh process: pull REF from `host` into `root`; print time and peak RSS."""
    from dockerlayers import DockerClient

    client = DockerClient(root=root, seed=1)
    try:
        start_rss = _vm_hwm()
        cpu0 = _cpu(resource.RUSAGE_SELF)
        t = time.perf_counter()
        image = client.images.pull(f"{host}/{REF}")
        elapsed = time.perf_counter() - t
        cpu = _cpu(resource.RUSAGE_SELF) - cpu0
        layers = len(image.attrs["RootFS"]["Layers"])
    finally:
        client.close()
    print(
        json.dumps(
            {"s": elapsed, "cpu": cpu, "hwm": _vm_hwm(), "start": start_rss, "layers": layers}
        )
    )


def make_image(host: str, mb: int, layers: int, work: Path) -> int:
    """The model builds LAYERS layers of random files (MB in all) and pushes them."""
    import io
    import tarfile

    from dockerlayers import DockerClient
    from tests.support.images import build_image

    per_file = mb * 1024 * 1024 // (layers * FILES_PER_LAYER)
    with DockerClient(root=str(work / "builder"), seed=1) as client:
        svc = client.daemon.image_service
        tars = []
        for i in range(layers):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
                d = tarfile.TarInfo(f"data{i}")
                d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1_600_000_000
                tf.addfile(d)
                for j in range(FILES_PER_LAYER):
                    ti = tarfile.TarInfo(f"data{i}/blob{j:02d}.bin")
                    ti.size, ti.mode, ti.mtime = per_file, 0o644, 1_600_000_000
                    tf.addfile(ti, io.BytesIO(os.urandom(per_file)))
            tars.append(buf.getvalue())
            del buf
        build_image(svc, tars, tag=f"{host}/{REF}")
        del tars
        for msg in client.images.push(f"{host}/bench/pull", "1", stream=True, decode=True):
            if "error" in msg:
                raise SystemExit(f"push failed: {msg['error']}")
    return per_file * layers * FILES_PER_LAYER


def ours(host: str, work: Path) -> dict:
    root = tempfile.mkdtemp(dir=work, prefix="root-")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    # compiled once (the warm-up pull writes __pycache__), as an installed package is:
    # the pulls are timed, not the compiling of the modules they import
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", host, root],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def skopeo(host: str, work: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `skopeo copy`."""
    dest = tempfile.mkdtemp(dir=work, prefix="dir-")
    try:
        cpu0 = _cpu(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(
            [
                "skopeo",
                "copy",
                "-q",
                "--src-tls-verify=false",
                f"docker://{host}/{REF}",
                f"dir:{dest}",
            ],
            check=True,
        )
        return time.perf_counter() - t, _cpu(resource.RUSAGE_CHILDREN) - cpu0
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_pull(*args.child)
        return 0
    for tool in ("docker-registry", "skopeo"):
        if not shutil.which(tool):
            print(f"{tool} is not installed (Debian package {tool}): nothing measured")
            return 1
    from dockerlayers.distribution.localregistry import start_registry

    work = Path(tempfile.mkdtemp(prefix="dockerlayers-pullbench-"))
    reg = start_registry(work / "registry")
    try:
        t = time.perf_counter()
        size = make_image(reg.host, args.mb, args.layers, work)
        print(
            f"image: {args.layers} layers, {size / 1e6:.0f} MB of random data, built and "
            f"pushed by the model in {time.perf_counter() - t:.1f} s"
        )
        subprocess.run(["sync"], check=False)
        skopeo(reg.host, work)  # warm-up pair
        ours(reg.host, work)
        s_runs, o_runs = [], []
        for _ in range(args.repeat):
            s_runs.append(skopeo(reg.host, work))
            o_runs.append(ours(reg.host, work))
        s_times = [w for w, _ in s_runs]
        o_times = [r["s"] for r in o_runs]
        s_med, o_med = statistics.median(s_times), statistics.median(o_times)
        s_cpu = statistics.median(c for _, c in s_runs)
        o_cpu = statistics.median(r["cpu"] for r in o_runs)
        hwm = max(r["hwm"] for r in o_runs)
        start = min(r["start"] for r in o_runs)
        print(f"skopeo copy docker:// dir:  {', '.join(f'{t:.2f}' for t in s_times)} s")
        print(f"dockerlayers pull:          {', '.join(f'{t:.2f}' for t in o_times)} s")
        print(
            f"| pull of a {size / 1e6:.0f} MB image ({args.layers} layers) ÷ `skopeo copy` to a "
            f"directory | {o_med:.2f} s | {s_med:.2f} s | {o_med / s_med:.2f} | ≤ 1.5 "
            f"{'✓' if o_med / s_med <= 1.5 else '✗'} |"
        )
        print(
            f"| CPU time of the same (user + system, all threads) | {o_cpu:.2f} s | "
            f"{s_cpu:.2f} s | {o_cpu / s_cpu:.2f} | |"
        )
        print(
            f"| peak RSS of that pull's process ({start / 1e6:.0f} MB before it) | "
            f"{hwm / 1e6:.1f} MB | | | < 100 MB {'✓' if hwm < 100e6 else '✗'} |"
        )
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
