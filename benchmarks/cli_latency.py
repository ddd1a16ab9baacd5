"""How long one CLI command takes: `dockerlayers` vs the real `docker`, on 20 containers.

    python benchmarks/cli_latency.py                 # both CLIs when an engine is reachable
    python benchmarks/cli_latency.py --repeat 15     # more rounds
    python benchmarks/cli_latency.py --checkout ../before --checkout .   # before and after

Issue 16's goal: `ps -a`, `inspect`, `diff`, `start`, `exec` each take at most 3x what the
real docker CLI (with its engine) takes for the same command. Each side gets 20 running
containers (`sleep 3600`) plus one short-lived container that `start` starts again; every
command then runs as a fresh process (what a user types: the installed `dockerlayers`
console script, running this checkout's code), alternating between the sides, one warm-up
each, and the ratio is that of the medians. Without an engine (no `$DOCKER_HOST` socket, or
`--no-engine`) only our side is timed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
DOCKER = "/usr/bin/docker"
N_CONTAINERS = 20
PREFIX = "dlbench"
GOAL = 3.0

#: (label, arguments after the program name); `{c}` is a running container, `{s}` the
#: short-lived one.
COMMANDS = [
    ("ps -a", ["ps", "-a"]),
    ("inspect", ["inspect", "{c}"]),
    ("diff", ["diff", "{c}"]),
    ("start", ["start", "{s}"]),
    ("exec ls /", ["exec", "{c}", "ls", "/"]),
]


def our_command() -> list[str]:
    """What a user types: the `dockerlayers` console script the install put beside this
    Python (the README's `pip install -e`), else `python -m dockerlayers`. Either runs
    this checkout's code: `PYTHONPATH` puts it before the installed package."""
    script = os.path.join(os.path.dirname(sys.executable), "dockerlayers")
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "dockerlayers"]


def engine_available() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    if not os.path.exists(DOCKER) or not host.startswith("unix://"):
        return False
    if not os.path.exists(host[len("unix://") :]):
        return False
    return subprocess.run([DOCKER, "info"], capture_output=True).returncode == 0


class Side:
    """One CLI: how to call it, and the containers it was given."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], image: str, prefix: str
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.image = image
        self.prefix = prefix

    def run(self, args: list[str], check: bool = True) -> float:
        t0 = time.perf_counter()
        r = subprocess.run([*self.argv, *args], env=self.env, capture_output=True)
        elapsed = time.perf_counter() - t0
        if check and r.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)}: {r.stderr.decode()[:400]}")
        return elapsed

    def setup(self) -> None:
        net = ["--network", "none"] if self.name == "docker" else []
        for i in range(N_CONTAINERS):
            name = f"{self.prefix}{i}"
            self.run(["run", "-d", *net, "--name", name, self.image, "sleep", "3600"])
        self.run(["run", *net, "--name", f"{self.prefix}-s", self.image, "true"])

    def teardown(self) -> None:
        names = [f"{self.prefix}{i}" for i in range(N_CONTAINERS)] + [f"{self.prefix}-s"]
        self.run(["rm", "-f", *names], check=False)

    def timed(self, args: list[str]) -> float:
        """`run(args)`; on a shared engine someone may remove every container meanwhile (a
        test resetting it): then the containers are made again and the run repeated."""
        for attempt in range(5):
            try:
                return self.run(args)
            except RuntimeError as e:
                if "No such" not in str(e) or attempt == 4:
                    raise
                print(f"{self.name}: its containers were removed by someone; making them again")
                self.teardown()
                self.setup()
        raise AssertionError("unreachable")


def our_side(name: str, checkout: str, root: str, prefix: str) -> Side:
    """The `dockerlayers` console script running `checkout`'s code on its own root."""
    env = dict(os.environ, PYTHONPATH=checkout, DOCKERLAYERS_ROOT=root)
    env.pop("DOCKERLAYERS_CLOCK", None)
    # an installed package has its bytecode compiled (pip does it); measure that, not the
    # compiler on every start
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return Side(name, our_command(), env, "base", prefix)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--no-engine", action="store_true", help="time dockerlayers only")
    ap.add_argument(
        "--prefix", default=PREFIX, help="container name prefix (on a shared engine: your own)"
    )
    ap.add_argument(
        "--checkout",
        action="append",
        metavar="DIR",
        help="time this checkout's code (repeat: several, e.g. before and after a change, "
        "in the same alternating rounds); default: this one",
    )
    a = ap.parse_args()

    checkouts = [os.path.abspath(c) for c in a.checkout or [PROJECT]]
    tmp = tempfile.mkdtemp(prefix="dl-cli-latency-")
    ours = [
        our_side(
            os.path.basename(c) if len(checkouts) > 1 else "dockerlayers",
            c,
            os.path.join(tmp, str(i)),
            a.prefix,
        )
        for i, c in enumerate(checkouts)
    ]
    sides = list(ours)
    if not a.no_engine and engine_available():
        sides.append(Side("docker", [DOCKER], dict(os.environ), "base:1", a.prefix))
    else:
        print("no engine reachable: timing dockerlayers only")
    load_before = os.getloadavg()
    try:
        for side in sides:
            side.teardown()
            side.setup()
        rows = []
        for label, template in COMMANDS:
            args = [x.format(c=f"{a.prefix}3", s=f"{a.prefix}-s") for x in template]
            times: dict[str, list[float]] = {s.name: [] for s in sides}
            for side in sides:
                side.timed(args)  # warm-up
            for _ in range(a.repeat):
                for side in sides:
                    times[side.name].append(side.timed(args))
            medians = {k: statistics.median(v) for k, v in times.items()}
            rows.append((label, medians))
    finally:
        for side in sides:
            side.teardown()
        shutil.rmtree(tmp, ignore_errors=True)

    load_after = os.getloadavg()
    print(f"\n{N_CONTAINERS} containers, median of {a.repeat} runs each (fresh processes)")
    for side, checkout in zip(ours, checkouts):
        print(f"{side.name}: {' '.join(side.argv)} with PYTHONPATH={checkout}")
    print(
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after,"
        f" on {os.cpu_count()} CPUs\n"
    )
    real = "docker" in rows[0][1] if rows else False
    head = ["command"]
    for side in ours:
        head += [side.name, "ratio"] if real else [side.name]
    if real:
        head.append("docker")
    print("| " + " | ".join(head) + " | goal |")
    print("| --- |" + " ---: |" * (len(head) - 1) + " --- |")
    for label, m in rows:
        cells = [f"`{label}`"]
        marks = []
        for side in ours:
            cells.append(f"{m[side.name] * 1000:.0f} ms")
            if real:
                ratio = m[side.name] / m["docker"]
                cells.append(f"{ratio:.2f}")
                marks.append("✓" if ratio <= GOAL else "✗")
        if real:
            cells.append(f"{m['docker'] * 1000:.0f} ms")
        print("| " + " | ".join(cells) + f" | ≤ 3 {' '.join(marks)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
