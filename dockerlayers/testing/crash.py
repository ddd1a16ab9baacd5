"""The crash-consistency sweep: each operation, stopped at each of its filesystem mutations.

`make_template(dir)` prepares a root (images, a running container, stopped containers with
RW data) and the inputs (a layer tar, a `docker save` archive, a build context). For an
operation and a point k, `run_point` copies the template root, opens it, runs the operation
under a `FaultInjector` failing at k, abandons the client (a crash) and checks the root with
`invariants.check_root`. `count_points` runs it once without a fault to learn how many points
there are.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.testing.faults import FaultInjector, InjectedCrash, abandon, copy_root
from dockerlayers.testing.invariants import CLIENT_KW, Report, check_root, rw_hash

PROTECTED = ("keeper", "runner")


def layer_tar(files: dict[str, bytes], mtime: int = 1_600_000_000) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.mtime, info.mode, info.size = mtime, 0o644, len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Template:
    dir: str
    root: str
    protected: dict[str, str]  # container id -> RW hash
    inputs: dict[str, Any] = field(default_factory=dict)
    #: the mount mode every client on this root uses ("user", or "kernel" as root)
    mounts: str = "user"


def _client(root: str, mounts: str = "user"):
    from dockerlayers import DockerClient

    return DockerClient(root=root, **{**CLIENT_KW, "mounts": mounts})


def make_template(dir: str, big: int = 0, mounts: str = "user") -> Template:
    """A root with: the base image; `victim:v1` (built, two steps: a layer and a CMD);
    `keeper` (stopped, RW data), `runner` (running, RW data), `subject` (stopped, RW data),
    `fresh` (created). The root is left detached, as the CLI leaves it."""
    os.makedirs(dir, exist_ok=True)
    root = os.path.join(dir, "root")
    client = _client(root, mounts)
    base = client.images.base()
    base_tag = base.tags[0]
    ctx = os.path.join(dir, "victim-ctx")
    os.makedirs(ctx, exist_ok=True)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f'FROM {base_tag}\nRUN echo victim > /victim\nCMD ["sh"]\n')
    client.images.build(path=ctx, tag="victim:v1")
    keeper = client.containers.create(
        base,
        ["sh", "-c", "echo keep > /keep; mkdir -p /d/e; echo deep > /d/e/f; rm /bin/ls"],
        name="keeper",
    )
    keeper.start()
    keeper.wait()
    runner = client.containers.create(
        base, ["sh", "-c", "echo run > /run-data; sleep 100000"], name="runner"
    )
    runner.start()
    payload = "x" * big
    subject = client.containers.create(
        base,
        [
            "sh",
            "-c",
            f"echo subject > /subject; mkdir /s; echo {payload}more > /s/t; rm /etc/hosts",
        ],
        name="subject",
    )
    subject.start()
    subject.wait()
    client.containers.create(base, ["sh", "-c", "echo hi > /hi"], name="fresh")
    # inputs made elsewhere: an image to load, a layer to register, a build context
    other_root = os.path.join(dir, "other")
    with _client(other_root) as other:
        ob = other.images.base()
        img = other.images.import_image(
            layer_tar({"loaded/a": b"a" * 1000, "loaded/b": b"b"}), "loaded", "1"
        )
        c = other.containers.create(ob, ["sh", "-c", "echo two > /two"])
        c.start()
        c.wait()
        c.commit("loaded", "2")
        data = other.images.save(["loaded:1", "loaded:2"])
        del img
    shutil.rmtree(other_root)
    build_ctx = os.path.join(dir, "build-ctx")
    os.makedirs(build_ctx, exist_ok=True)
    with open(os.path.join(build_ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {base_tag}\nRUN echo built > /built && mkdir /bd && echo x > /bd/x\n")
    protected = {}
    for name in PROTECTED:
        cid = client.containers.get(name).id
        protected[cid] = rw_hash(root, cid)
    client.detach()
    return Template(
        dir=dir,
        root=root,
        protected=protected,
        inputs={
            "load": data,
            "tar": layer_tar({"reg/one": b"1" * 3000, "reg/two": b"2"}),
            "build_ctx": build_ctx,
            "base_tag": base_tag,
        },
        mounts=mounts,
    )


def _register(client, t: Template) -> None:
    store = client.daemon.layer_store
    base = client.images.get(t.inputs["base_tag"])
    parent = client.daemon.image_service.get_image(base.id).rootfs.chain_id()
    store.register(t.inputs["tar"], parent)


OPERATIONS: dict[str, Callable[[Any, Template], Any]] = {
    "register": _register,
    "create": lambda c, t: c.containers.create(t.inputs["base_tag"], "sh", name="new"),
    "start": lambda c, t: c.containers.get("fresh").start(),
    "commit": lambda c, t: c.containers.get("subject").commit("committed", "v1"),
    "rm": lambda c, t: c.containers.get("subject").remove(),
    "build": lambda c, t: c.images.build(path=t.inputs["build_ctx"], tag="built:1"),
    "load": lambda c, t: c.images.load(t.inputs["load"]),
    # (the repository with its tag: client.Image.tag(repo, tag) drops the tag, see the report)
    "tag": lambda c, t: c.images.get("victim:v1").tag("victim:v2"),
    "rmi": lambda c, t: c.images.remove("victim:v1"),
}


@dataclass
class PointResult:
    op: str
    k: int
    fired: bool
    violations: list[str]
    orphans: dict[str, int]
    point: str = ""


def _fresh_copy(t: Template, scratch: str) -> str:
    root = tempfile.mkdtemp(prefix="crash-", dir=scratch)
    os.rmdir(root)
    copy_root(t.root, root)
    return root


def count_points(t: Template, op: str, scratch: str) -> list[tuple[str, str]]:
    """The mutation points of `op` on a copy of the template (no fault)."""
    root = _fresh_copy(t, scratch)
    try:
        client = _client(root, t.mounts)
        with FaultInjector(root) as inj:
            OPERATIONS[op](client, t)
        client.close()
        return [(w, os.path.relpath(p, root) if os.path.isabs(p) else p) for w, p in inj.points]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_point(t: Template, op: str, k: int, scratch: str, mode: str = "crash") -> PointResult:
    """Run `op` failing at mutation `k`; then reopen and check. The op must not fail
    otherwise (an unexpected exception is a violation)."""
    root = _fresh_copy(t, scratch)
    try:
        client = _client(root, t.mounts)
        violations: list[str] = []
        inj = FaultInjector(root, fail_at=k, mode=mode)
        try:
            with inj:
                OPERATIONS[op](client, t)
        except InjectedCrash:
            pass
        except Exception as e:
            if mode == "crash" or not inj.fired:
                violations.append(f"unexpected {type(e).__name__}: {e}")
        point = ""
        if inj.fired:
            what, path = inj.points[k - 1]
            point = f"{what} {os.path.relpath(path, root) if os.path.isabs(path) else path}"
        if mode == "crash":
            abandon(client)
        else:
            # a transient error: the same client carries on, then shuts down cleanly
            try:
                client.close()
            except Exception as e:
                violations.append(f"close after the error: {type(e).__name__}: {e}")
        report: Report = check_root(root, t.protected, client_kw={"mounts": t.mounts})
        violations.extend(report.violations)
        return PointResult(op, k, inj.fired, violations, report.orphans, point)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def sweep(
    t: Template,
    op: str,
    scratch: str,
    points: list[int] | None = None,
    mode: str = "crash",
    progress: Callable[[PointResult], None] | None = None,
) -> tuple[int, list[PointResult]]:
    """Every point of `op` (or the given ones); returns (total points, results)."""
    total = len(count_points(t, op, scratch))
    ks = points if points is not None else list(range(1, total + 1))
    results = []
    for k in ks:
        if k > total:
            continue
        r = run_point(t, op, k, scratch, mode)
        if not r.fired:
            r.violations.append(f"point {k} of {total} never reached (nondeterministic op?)")
        results.append(r)
        if progress is not None:
            progress(r)
    return total, results


def sample(total: int, n: int) -> list[int]:
    """n points spread over 1..total, first and last included."""
    if total <= n:
        return list(range(1, total + 1))
    step = (total - 1) / (n - 1)
    return sorted({1 + round(i * step) for i in range(n)})


__all__ = [
    "OPERATIONS",
    "PointResult",
    "Template",
    "count_points",
    "make_template",
    "run_point",
    "sample",
    "sweep",
    "time",
]
