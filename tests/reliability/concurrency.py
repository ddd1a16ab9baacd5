"""Threads doing random lifecycle operations through one client.

`hammer(client, threads, ops, seed)` runs `threads` workers, each `ops` random operations on
shared containers and on its own; it returns the problems: exceptions other than Docker's
documented refusals (APIError and its kinds: Conflict, NotFound, NotModified, ...), and
container event streams that are not a legal path of the lifecycle automaton.
"""

from __future__ import annotations

import random
import re
import threading
from typing import Any

from dockerlayers.errors import APIError
from tests.support.lifecycle import legal_event_path

COMMANDS = [
    ["sh", "-c", "sleep 1000"],
    ["sh", "-c", "trap 'exit 0' TERM; echo up > /up; sleep 1000"],
    ["sh", "-c", "echo $$ > /pid; sleep 3; exit 1"],
]


def _op(client: Any, rng: random.Random, pool: list[str], mine: list[str], base: str) -> str:
    kind = rng.choice(
        ["create", "start", "stop", "kill", "pause", "unpause", "restart", "rm", "commit",
         "exec", "diff", "advance", "tag", "rmi", "inspect", "write"]
    )  # fmt: skip
    target = rng.choice(pool + mine) if (pool or mine) else None
    if kind == "create" or target is None:
        c = client.containers.create(base, rng.choice(COMMANDS))
        mine.append(c.id)
        return "create"
    c = client.containers.get(target)
    if kind == "start":
        c.start()
    elif kind == "stop":
        c.stop(timeout=rng.choice([0, 1]))
    elif kind == "kill":
        c.kill(rng.choice(["SIGKILL", "SIGTERM"]))
    elif kind == "pause":
        c.pause()
    elif kind == "unpause":
        c.unpause()
    elif kind == "restart":
        c.restart(timeout=1)
    elif kind == "rm":
        c.remove(force=rng.random() < 0.5)
        if target in mine:
            mine.remove(target)
        elif target in pool:  # a shared one goes: another takes its place
            pool[pool.index(target)] = client.containers.create(base, COMMANDS[0]).id
    elif kind == "commit":
        img = c.commit(f"snap{rng.randrange(3)}", "latest")
        client.images.get(img.id)
    elif kind == "exec":
        c.exec_run(["sh", "-c", "echo x >> /exec-log"])
    elif kind == "diff":
        c.diff()
    elif kind == "advance":
        client.clock.advance(rng.choice([0.5, 2, 11]))
    elif kind == "tag":
        client.images.get(base).tag(f"t{rng.randrange(3)}", "x")
    elif kind == "rmi":
        client.images.remove(f"snap{rng.randrange(3)}:latest")
    elif kind == "inspect":
        c.reload()
    elif kind == "write":  # a process writes into its RW layer
        c.exec_run(["sh", "-c", f"echo {'w' * rng.randrange(1, 100)} > /written"])
    return kind


def hammer(client: Any, threads: int = 6, ops: int = 40, seed: int = 0) -> dict[str, Any]:
    base = client.images.base().id
    pool = [client.containers.create(base, COMMANDS[i % len(COMMANDS)]).id for i in range(3)]
    problems: list[str] = []
    refusals: dict[str, int] = {}
    done = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        mine: list[str] = []
        barrier.wait()
        for _ in range(ops):
            try:
                kind = _op(client, rng, pool, mine, base)
                with lock:
                    done[0] += 1
                del kind
            except APIError as e:  # Docker's documented refusals (409, 404, 304, 400)
                with lock:
                    text = re.sub(r"[0-9a-f]{12,64}", "<id>", str(e))
                    key = f"{type(e).__name__} {getattr(e, 'status_code', '')}: {text[:90]}"
                    refusals[key] = refusals.get(key, 0) + 1
            except Exception as e:  # anything else is a bug
                with lock:
                    problems.append(f"worker {i}: {type(e).__name__}: {e}")

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    streams: dict[str, list[str]] = {}
    for ev in client.daemon.events.list():
        if ev.get("Type") == "container":
            streams.setdefault(ev["Actor"]["ID"], []).append(ev["Action"])
    for cid, actions in streams.items():
        if not legal_event_path(actions):
            problems.append(f"container {cid[:12]}: illegal event path {actions}")
    return {"problems": problems, "refusals": refusals, "ops": done[0], "streams": len(streams)}
