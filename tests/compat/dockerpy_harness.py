"""Run docker-py 7.1.0's own high-level integration tests against dockerlayers.

    PYTHONPATH=$PWD python tests/compat/dockerpy_harness.py [--dpy /tmp/dpy] [--src DIR]

The tests (`tests/integration/models_{containers,images,volumes,resources}_test.py`) run
unchanged: they come from docker-py's source at tag 7.1.0 (the git mirror, or `--src`), and
docker-py itself from its wheel, installed into a scratch folder. A conftest put beside them
makes `docker.from_env()` return a `dockerlayers.DockerClient` view of one daemon (real clock,
user-space mounts), `docker.APIClient(...)` its `.api`, and every `docker.errors.X` that
dockerlayers also has `dockerlayers.errors.X`. The Docker Hub images the tests pull (`alpine`,
`hello-world`) come from a real local registry (docker-registry) configured as the daemon's
`registry-mirrors`, holding the built-in base image under those names.

Out of scope (the model has no network, ports or swarm; digest-pinned pulls need the real
hello-world): the tests listed in OUT_OF_SCOPE. Prints `passed N of M in scope` and exits 0
when at least GOAL pass.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

MIRROR = "/work/.mirror/docker+docker-py/repo"
WHEEL_DIR = "/tmp/dpy"
TAG = "7.1.0"
MODULES = [
    "tests/integration/models_containers_test.py",
    "tests/integration/models_images_test.py",
    "tests/integration/models_volumes_test.py",
    "tests/integration/models_resources_test.py",
]
OUT_OF_SCOPE = {
    "test_run_with_network",
    "test_run_with_networking_config",
    "test_run_with_networking_config_with_undeclared_network",
    "test_run_with_networking_config_only_undeclared_network",
    "test_ports_target_none",
    "test_ports_target_tuple",
    "test_ports_target_list",
    "test_pull_with_sha",
}
GOAL = 44
#: outcomes docker-py's own markers decide (xfail, skipif): not counted either way
DPY_MARKED = ("xfailed", "skipped")

CONFTEST = '''
"""Installed by dockerlayers' tests/compat/dockerpy_harness.py: docker-py -> dockerlayers."""
import copy
import json
import os
import shutil
import sys
import tempfile
import types

import pytest

sys.modules.setdefault("paramiko", types.ModuleType("paramiko"))

import docker  # noqa: E402
import docker.errors  # noqa: E402

import dockerlayers  # noqa: E402
import dockerlayers.errors as dl_errors  # noqa: E402
from dockerlayers.client import APIClient, ContainerCollection, ImageCollection  # noqa: E402
from dockerlayers.client import VolumeCollection  # noqa: E402

_ROOT = tempfile.mkdtemp(prefix="dockerpy-harness-")


def _mirror():
    """A real registry (docker-registry) holding the Docker Hub images the tests pull, each
    the built-in base image made an image of its own (alpine:3.10, alpine:latest,
    busybox:latest by a label; hello-world:latest with one more layer), and the
    daemon's `registry-mirrors` pointing at it, as a pull-through mirror would serve them."""
    from pathlib import Path

    import importlib.util

    from dockerlayers.distribution import service as dist

    # `tests` here is docker-py's package: load dockerlayers' registry helper by its path
    path = os.path.join(os.environ["DOCKERLAYERS_REPO"], "tests", "support", "registry.py")
    spec = importlib.util.spec_from_file_location("dockerlayers_test_registry", path)
    helper = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = helper  # dataclasses look their module up
    spec.loader.exec_module(helper)
    reg = helper.start_registry(Path(tempfile.mkdtemp(prefix="dockerpy-registry-")))
    with dockerlayers.DockerClient(root=_ROOT + "-seed", mounts="user") as seed:
        svc = seed.daemon.image_service
        base = seed.daemon.base_image()
        # hello-world is an image of its own (one more layer), so that pruning or removing
        # it leaves the others alone, as on Docker Hub
        import io

        hello, _ = seed.images.build(
            fileobj=io.BytesIO(f"FROM {base}\\nRUN echo hello > /hello\\n".encode())
        )
        for name in ("alpine:3.10", "alpine:latest", "busybox:latest", "hello-world:latest"):
            ref = f"{reg.host}/library/{name}"
            if name.startswith("hello-world"):
                image = hello.id
            else:
                # each an image of its own, as on Docker Hub: one tag each, so a prune or an
                # rmi of one (moby untags a reference shared with another tag) leaves the rest
                image, _ = seed.images.build(
                    fileobj=io.BytesIO(f"FROM {base}\\nLABEL hub={name}\\n".encode())
                )
                image = image.id
            svc.tag(image, ref)
            dist.push(svc, ref)
    shutil.rmtree(_ROOT + "-seed", ignore_errors=True)
    os.makedirs(_ROOT, exist_ok=True)
    with open(os.path.join(_ROOT, "daemon.json"), "w") as f:
        conf = {"registry-mirrors": [f"http://{reg.host}"]}
        if os.environ.get("DOCKERPY_HARNESS_STORAGE") == "containerd":
            conf["features"] = {"containerd-snapshotter": True}  # Docker 29's image store
        json.dump(conf, f)
    return reg


_REGISTRY = _mirror()
_BASE = dockerlayers.DockerClient(root=_ROOT, mounts="user")
# the engine docker-py's CI runs on has busybox (its Dockerfiles say `FROM busybox`, and the
# legacy builder here does not pull a missing base image through the mirror)
_BASE.images.pull("busybox", "latest")


def _from_env(*args, **kwargs):
    """A fresh client object (its own api, proxy settings) on the one daemon."""
    cl = copy.copy(_BASE)
    cl.api = APIClient(cl)
    cl.containers = ContainerCollection(cl)
    cl.images = ImageCollection(cl)
    cl.volumes = VolumeCollection(cl)
    cl.close = lambda: None
    return cl


docker.from_env = _from_env
docker.client.from_env = _from_env
docker.DockerClient.from_env = staticmethod(_from_env)
docker.APIClient = lambda *a, **k: _from_env().api
for _name in dir(docker.errors):
    if isinstance(getattr(docker.errors, _name), type) and hasattr(dl_errors, _name):
        setattr(docker.errors, _name, getattr(dl_errors, _name))


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(n): pytest-timeout's marker")


class HarnessTimeout(Exception):
    """A test ran longer than DOCKERPY_HARNESS_TIMEOUT seconds (it fails, the run goes on)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    import signal

    seconds = int(os.environ.get("DOCKERPY_HARNESS_TIMEOUT", "60"))

    def expire(signum, frame):
        raise HarnessTimeout(f"{item.nodeid} ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_sessionfinish(session, exitstatus):
    try:
        _BASE.detach()
    finally:
        _REGISTRY.stop()
        shutil.rmtree(_ROOT, ignore_errors=True)


_RESULTS = {}


def pytest_runtest_logreport(report):
    name = "::".join(report.nodeid.split("::")[-2:])
    if report.when == "call" or report.outcome != "passed":
        if _RESULTS.get(name) in ("failed",):
            return
        outcome = report.outcome
        if hasattr(report, "wasxfail"):  # docker-py's own xfail markers
            outcome = "xfailed" if report.skipped else "xpassed"
        _RESULTS[name] = outcome


def pytest_terminal_summary(terminalreporter):
    with open(os.environ["DOCKERPY_HARNESS_RESULTS"], "w") as f:
        json.dump(_RESULTS, f)
'''


def prepare(src: str | None, dpy: str, work: str) -> tuple[str, str]:
    """(tests folder, site folder): docker-py's tests and the wheel, in `work`."""
    site = os.path.join(work, "site")
    wheels = sorted(glob.glob(os.path.join(dpy, "docker-7.1.0-*.whl")))
    if not wheels:
        raise FileNotFoundError(f"no docker-7.1.0 wheel in {dpy}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheels[0]],
        check=True,
    )
    tree = os.path.join(work, "dpy")
    if src:
        shutil.copytree(os.path.join(src, "tests"), os.path.join(tree, "tests"))
    else:
        os.makedirs(tree)
        archive = subprocess.run(
            ["git", "-C", MIRROR, "archive", TAG, "tests"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "x", "-C", tree], input=archive, check=True)
    with open(os.path.join(tree, "conftest.py"), "w") as f:
        f.write(CONFTEST)
    return tree, site


def run(
    src: str | None = None, dpy: str = WHEEL_DIR, modules: list[str] | None = None
) -> dict[str, str]:
    """{test name: outcome} of docker-py's tests (`modules`, default: the model tests)
    on dockerlayers."""
    import json

    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    work = tempfile.mkdtemp(prefix="dockerpy-")
    try:
        tree, site = prepare(src, dpy, work)
        results = os.path.join(work, "results.json")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([repo, site, tree])
        env["DOCKERPY_HARNESS_RESULTS"] = results
        env["DOCKERLAYERS_REPO"] = repo
        env.pop("DOCKER_HOST", None)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
             "--rootdir", tree, *(modules or MODULES)],
            cwd=tree,
            env=env,
            check=False,
        )  # fmt: skip
        with open(results) as f:
            return json.load(f)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def in_scope(results: dict[str, str], out_of_scope: Any = None) -> tuple[int, int, list[str]]:
    """(passed, in scope, the names that did not pass). Out of scope: the names in
    `out_of_scope` (a bare test name or `Class::test`) and what docker-py itself marks
    xfail or skips."""
    skip = OUT_OF_SCOPE if out_of_scope is None else out_of_scope
    scoped = {
        k: v
        for k, v in results.items()
        if k not in skip and k.rsplit("::", 1)[-1] not in skip and v not in DPY_MARKED
    }
    failed = sorted(k for k, v in scoped.items() if v not in ("passed", "xpassed"))
    return len(scoped) - len(failed), len(scoped), failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpy", default=WHEEL_DIR, help="folder holding docker-7.1.0-*.whl")
    ap.add_argument("--src", default=None, help="docker-py source tree (default: git mirror)")
    args = ap.parse_args()
    passed, total, failed = in_scope(run(args.src, args.dpy))
    print(f"docker-py {TAG} model tests on dockerlayers: passed {passed} of {total} in scope")
    for name in failed:
        print(f"  not passing: {name}")
    return 0 if passed >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
