#!/usr/bin/env python3
"""The reliability figures of the README: crash consistency at every mutation point, the
hostile-input corpus, concurrency, and kill -9 durability.

    python tools/reliability.py               # everything (about 10 minutes)
    python tools/reliability.py crash         # every point of every operation, both modes
    python tools/reliability.py crash --mode error --ops build,load
    python tools/reliability.py hostile
    python tools/reliability.py concurrency --runs 20
    python tools/reliability.py durability --runs 50

Each part prints what it tested and the violations; the exit code is 1 if any.
The fast, sampled versions run in CI: tests/reliability/.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from dockerlayers import DockerClient  # noqa: E402
from dockerlayers.testing import crash  # noqa: E402
from dockerlayers.testing.faults import copy_root  # noqa: E402
from dockerlayers.testing.invariants import CLIENT_KW, check_root, rw_hash  # noqa: E402


def _no_fsync() -> None:
    """fsync only matters for power loss; these are process crashes (the page cache
    survives them). Without it the sweep is several times faster on some disks."""
    os.fsync = lambda fd: None  # type: ignore[assignment]


def mount_modes(args: argparse.Namespace) -> list[str]:
    """The mount modes to run: `--mounts`, or both where this process can mount overlays."""
    from dockerlayers.graphdriver.kernel import overlay_supported

    if args.mounts != "both":
        return [args.mounts]
    return ["user", "kernel"] if os.geteuid() == 0 and overlay_supported() else ["user"]


def part_crash(args: argparse.Namespace, scratch: str) -> int:
    rc = 0
    for mounts in mount_modes(args):
        rc |= _crash_in(args, scratch, mounts)
    return rc


def _crash_in(args: argparse.Namespace, scratch: str, mounts: str) -> int:
    _no_fsync()
    t = crash.make_template(os.path.join(scratch, f"template-{mounts}"), mounts=mounts)
    ops = args.ops.split(",") if args.ops else list(crash.OPERATIONS)
    modes = ["crash", "error"] if args.mode == "both" else [args.mode]
    bad_total = points_total = 0
    for mode in modes:
        print(f"crash consistency ({mode} mode, mounts={mounts}): operation x mutation points")
        for op in ops:
            start = time.monotonic()
            total = len(crash.count_points(t, op, scratch))
            ks = crash.sample(total, args.sample) if args.sample else None
            total, results = crash.sweep(t, op, scratch, points=ks, mode=mode)
            bad = [r for r in results if r.violations]
            orphans: dict[str, int] = {}
            for r in results:
                for kind, n in r.orphans.items():
                    orphans[kind] = orphans.get(kind, 0) + (1 if n else 0)
            points_total += len(results)
            bad_total += len(bad)
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(orphans.items())) or "none"
            print(
                f"  {op:9} {len(results):4} of {total:4} points  {len(bad)} violations  "
                f"({time.monotonic() - start:5.1f} s; crashes leaving orphans: {kinds})"
            )
            for r in bad[:5]:
                print(f"      point {r.k} ({r.point}): {r.violations[:3]}")
    print(f"  total: {len(ops)} operations, {points_total} points, {bad_total} violations")
    return 1 if bad_total else 0


def part_hostile(args: argparse.Namespace, scratch: str) -> int:
    from tests.reliability.corpus import CASES, Env, run_case

    envs: dict[str, Env] = {}
    failed = []
    groups: dict[str, int] = {}
    for name, case in sorted(CASES.items()):
        if case.driver not in envs:
            envs[case.driver] = Env(tempfile.mkdtemp(dir=scratch), case.driver)
        problems = run_case(envs[case.driver], name)
        groups[case.group] = groups.get(case.group, 0) + 1
        if problems:
            failed.append((name, problems))
    for e in envs.values():
        e.close()
    refused = sum(1 for c in CASES.values() if c.expect is not None)
    print(
        f"hostile inputs: {len(CASES)} cases ("
        + ", ".join(f"{g} {n}" for g, n in sorted(groups.items()))
        + f"); {refused} must be refused, {len(CASES) - refused} accepted but contained"
    )
    print(
        f"  {len(CASES) - len(failed)} as expected, {len(failed)} not; escapes: "
        f"{sum(1 for _, p in failed if any('outside' in x or 'written' in x for x in p))}"
    )
    for name, problems in failed:
        print(f"    {name}: {problems}")
    return 1 if failed else 0


def part_concurrency(args: argparse.Namespace, scratch: str) -> int:
    from tests.reliability.concurrency import hammer

    _no_fsync()
    bad = 0
    ops = 0
    refusals: dict[str, int] = {}
    for seed in range(args.runs):
        root = os.path.join(scratch, f"conc{seed}")
        client = DockerClient(root=root, **CLIENT_KW)
        try:
            r = hammer(client, threads=args.threads, ops=args.ops_per_thread, seed=seed)
        finally:
            client.close()
        report = check_root(root)
        problems = r["problems"] + report.violations
        ops += r["ops"]
        for k, n in r["refusals"].items():
            refusals[k] = refusals.get(k, 0) + n
        if problems:
            bad += 1
            print(f"  run {seed}: {problems[:5]}")
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"concurrency: {args.runs} runs x {args.threads} threads x {args.ops_per_thread} "
        f"operations: {ops} succeeded, {sum(refusals.values())} refused by Docker's rules, "
        f"{bad} runs with violations"
    )
    for k, n in sorted(refusals.items(), key=lambda x: -x[1])[:8]:
        print(f"    {n:5}  {k}")
    # two processes on one root: the second is refused
    root = os.path.join(scratch, "two")
    code = (
        "from dockerlayers import DockerClient\n"
        "from dockerlayers.daemon.daemon import RootInUse\n"
        "try:\n"
        f"    DockerClient(root={root!r}, mounts='user')\n"
        "except RootInUse as e:\n"
        "    print(e); raise SystemExit(3)\n"
    )
    with DockerClient(root=root, **CLIENT_KW):
        p = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=_cli_env()
        )
    refused = p.returncode == 3 and "is in use by process" in p.stdout
    print(
        f"  a second process on the root: {'refused (RootInUse)' if refused else 'NOT refused'}"
        f": {p.stdout.strip()[:120]}"
    )
    return 1 if bad or not refused else 0


def _cli_env(mounts: str = "user") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=HERE,
        DOCKERLAYERS_MOUNTS=mounts,
    )
    return env


def _durability_template(dir: str, mb: int) -> tuple[str, str, dict[str, str]]:
    """A root with `keeper` (RW data) and `big` (an RW layer of `mb` MB), and an archive
    of an image of `mb` MB in three layers made elsewhere."""
    root = os.path.join(dir, "root")
    rng = random.Random(1)
    with DockerClient(root=root, **CLIENT_KW) as client:
        base = client.images.base()
        keeper = client.containers.create(base, ["sh", "-c", "echo keep > /keep"], name="keeper")
        keeper.start()
        keeper.wait()
        big = client.containers.create(base, "true", name="big")
        fs = client.daemon.mount(big.id)
        fs.mkdir("/data", 0o755)
        for i in range(mb * 4):
            fs.write_bytes(f"/data/f{i:04d}", rng.randbytes(256 * 1024))
        client.daemon.unmount(big.id)
        protected = {c.id: "" for c in (keeper, big)}
    for cid in protected:
        protected[cid] = rw_hash(root, cid)
    other = os.path.join(dir, "other")
    with DockerClient(root=other, **CLIENT_KW) as client:
        base = client.images.base()
        c = client.containers.create(base, "true")
        fs = client.daemon.mount(c.id)
        for layer in range(3):
            fs.mkdir(f"/l{layer}", 0o755)
            for i in range(mb * 4 // 3):
                fs.write_bytes(f"/l{layer}/f{i:04d}", rng.randbytes(256 * 1024))
            c.commit("bigimage", str(layer))
        data = client.images.save(["bigimage:2"])
    archive = os.path.join(dir, "big.tar")
    with open(archive, "wb") as f:
        f.write(data)
    shutil.rmtree(other)
    return root, archive, protected


def part_durability(args: argparse.Namespace, scratch: str) -> int:
    rc = 0
    for mounts in mount_modes(args):
        rc |= _durability_in(args, scratch, mounts)
    return rc


def _durability_in(args: argparse.Namespace, scratch: str, mounts: str) -> int:
    template, archive, protected = _durability_template(
        os.path.join(scratch, f"dur-{mounts}"), args.mb
    )
    commands = {
        "load": ["load", "-i", archive],
        "commit": ["commit", "big", "committed:1"],
    }
    # how long each takes, to kill at random moments within it
    durations = {}
    for name, argv in commands.items():
        root = os.path.join(scratch, f"time-{mounts}-{name}")
        copy_root(template, root)
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "dockerlayers", "--root", root, *argv],
            check=True, capture_output=True, env=_cli_env(mounts), cwd=HERE,
        )  # fmt: skip
        durations[name] = time.monotonic() - start
        shutil.rmtree(root)
    rng = random.Random(args.seed)
    bad = 0
    killed = finished = 0
    for run in range(args.runs):
        name = list(commands)[run % len(commands)]
        root = os.path.join(scratch, f"run-{mounts}-{run}")
        copy_root(template, root)
        p = subprocess.Popen(
            [sys.executable, "-m", "dockerlayers", "--root", root, *commands[name]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_cli_env(mounts), cwd=HERE,
        )  # fmt: skip
        delay = rng.uniform(min(0.3, durations[name] / 3), durations[name] * 1.05)
        try:
            p.wait(timeout=delay)
            finished += 1
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            killed += 1
        report = check_root(root, protected, client_kw={"mounts": mounts})
        if report.violations:
            bad += 1
            print(f"  run {run} ({name}, kill at {delay:.2f} s): {report.violations[:5]}")
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"durability (mounts={mounts}): kill -9 of `load` "
        f"({args.mb} MB image, {durations['load']:.1f} s) and "
        f"`commit` ({args.mb} MB RW layer, {durations['commit']:.1f} s) at random moments: "
        f"{args.runs} runs ({killed} killed mid-command, {finished} had finished), "
        f"{bad} with violations"
    )
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("part", nargs="?", default="all",
                    choices=["all", "crash", "hostile", "concurrency", "durability"])  # fmt: skip
    ap.add_argument("--ops", default="", help="crash: operations (comma-separated)")
    ap.add_argument("--mode", default="both", choices=["crash", "error", "both"])
    ap.add_argument("--sample", type=int, default=0, help="crash: N points per op (0: all)")
    ap.add_argument("--runs", type=int, default=0, help="concurrency/durability runs")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ops-per-thread", type=int, default=60)
    ap.add_argument("--mb", type=int, default=64, help="durability: size of the big data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mounts", default="both", choices=["user", "kernel", "both"],
                    help="crash/durability: mount mode (both: kernel too where root)")  # fmt: skip
    args = ap.parse_args()
    scratch = tempfile.mkdtemp(prefix="dl-reliability-")
    rc = 0
    runs = args.runs
    try:
        parts = ["crash", "hostile", "concurrency", "durability"]
        for part in parts if args.part == "all" else [args.part]:
            args.runs = runs or {"concurrency": 20, "durability": 50}.get(part, 0)
            rc |= globals()[f"part_{part}"](args, scratch)
            print()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
