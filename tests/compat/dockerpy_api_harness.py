"""Run docker-py 7.1.0's own low-level (`APIClient`) integration tests against dockerlayers.

    PYTHONPATH=$PWD python tests/compat/dockerpy_api_harness.py [--dpy /tmp/dpy] [--src DIR]

The same set-up as tests/compat/dockerpy_harness.py (docker-py's tests unchanged, from its
git mirror at tag 7.1.0; `docker.APIClient(...)` is a `dockerlayers.DockerClient`'s `.api`;
docker.io images from a local registry mirror), on `tests/integration/api_{container,image,
exec,volume,build}_test.py`. The tests in OUT_OF_SCOPE need what the model does not have;
each has its reason. Prints `passed N of M in scope` and exits 0 when at least GOAL pass.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dockerpy_harness import TAG, WHEEL_DIR, in_scope, run  # noqa: E402

# in the order docker-py's own run takes them (pytest collects tests/integration by name):
# the image tests' `prune_images({"dangling": False})` removes busybox, which builds use
MODULES = [
    "tests/integration/api_build_test.py",
    "tests/integration/api_container_test.py",
    "tests/integration/api_exec_test.py",
    "tests/integration/api_image_test.py",
    "tests/integration/api_volume_test.py",
]

_SOCKET = "a raw attach/exec socket (attach_socket, socket=True): the model has no connection"
_NET = "container networks and links: the model has no network"
_PORTS = "published ports: the model has no network"
_HUB = "Docker Hub (search, distribution inspect, pulls of real images)"
_URL = "import or build from a URL: the model has no network"
_CGROUP = "kernel cgroup/namespace settings that the real engine checks against the host"
_BUILDKIT = "a build feature of a real builder the model's legacy builder lacks"

_CANCEL = (
    "closing a followed stream from another thread (docker-py's CancellableStream shuts the socket)"
)
_EXPERIMENTAL = "needs an experimental engine (a default dockerd skips it too)"

#: `Class::test` -> why it is out of scope
OUT_OF_SCOPE: dict[str, str] = {
    "AttachContainerTest::test_run_container_streaming": _SOCKET,
    "AttachContainerTest::test_run_container_reading_socket_http": _SOCKET,
    "AttachContainerTest::test_run_container_reading_socket_ws": _SOCKET,
    "AttachContainerTest::test_detach_with_default": _SOCKET,
    "AttachContainerTest::test_detach_with_config_file": _SOCKET,
    "AttachContainerTest::test_detach_with_arg": _SOCKET,
    "ExecTest::test_exec_start_socket": _SOCKET,
    "ExecTest::test_detach_with_default": _SOCKET,
    "ExecTest::test_detach_with_config_file": _SOCKET,
    "AttachContainerTest::test_attach_stream_and_cancel": _CANCEL,
    "CreateContainerTest::test_create_with_links": _NET,
    "CreateContainerTest::test_create_with_mac_address": _NET,
    "LinkTest::test_remove_link": _NET,
    "BuildTest::test_build_with_network_mode": _NET,
    "PortTest::test_port": _PORTS,
    "BuildTest::test_build_squash": _EXPERIMENTAL,
    "BuildTest::test_build_invalid_platform": _EXPERIMENTAL,
    "PullImageTest::test_pull_invalid_platform": _EXPERIMENTAL,
}
GOAL = 102


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpy", default=WHEEL_DIR, help="folder holding docker-7.1.0-*.whl")
    ap.add_argument("--src", default=None, help="docker-py source tree (default: git mirror)")
    args = ap.parse_args()
    results = run(args.src, args.dpy, MODULES)
    passed, total, failed = in_scope(results, OUT_OF_SCOPE)
    print(f"docker-py {TAG} APIClient tests on dockerlayers: passed {passed} of {total} in scope")
    for name in failed:
        print(f"  not passing: {name} ({results[name]})")
    for name, why in sorted(OUT_OF_SCOPE.items()):
        print(f"  out of scope: {name}: {why}")
    return 0 if passed >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
