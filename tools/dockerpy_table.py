"""Print the docker-py table of docs/differences.md: every public name of docker-py's
high-level classes, and whether `dockerlayers.client` has it (with why not).

    pip download docker==7.1.0 --no-deps -d /tmp/dpy
    python -m zipfile -e /tmp/dpy/docker-7.1.0-py3-none-any.whl /tmp/dpyx
    python tools/dockerpy_table.py [/tmp/dpyx]
"""

from __future__ import annotations

import importlib
import sys
import types

#: why a docker-py name has no counterpart here
WHY = {
    "configs": "swarm is not modelled",
    "nodes": "swarm is not modelled",
    "secrets": "swarm is not modelled",
    "services": "swarm is not modelled",
    "swarm": "swarm is not modelled",
    "networks": "networking is not modelled",
    "plugins": "plugins are not modelled",
    "attach_socket": "no sockets: processes are simulated "
    "(`attach(stream=True)` and `logs(stream=True)` give the output)",
    "resize": "no TTY to resize",
    "create": "docker-py's own `create` raises NotImplementedError here too",
    "get_registry_data": "not there yet (the distribution code has the manifest; no SDK call)",
    "prune_builds": "the legacy builder keeps no build cache",
}
#: set on the instance, not the class, on both sides
INSTANCE = {"containers", "images", "volumes"}
CLASSES = [
    ("DockerClient", "docker.client", "dockerlayers.client"),
    ("ContainerCollection", "docker.models.containers", "dockerlayers.client.models.containers"),
    ("Container", "docker.models.containers", "dockerlayers.client.models.containers"),
    ("ImageCollection", "docker.models.images", "dockerlayers.client.models.images"),
    ("Image", "docker.models.images", "dockerlayers.client.models.images"),
    ("VolumeCollection", "docker.models.volumes", "dockerlayers.client.models.volumes"),
    ("Volume", "docker.models.volumes", "dockerlayers.client.models.volumes"),
]


def rows() -> list[str]:
    out = ["| docker-py class | the same here | missing here (why) |", "|---|---|---|"]
    for name, theirs, ours in CLASSES:
        d = getattr(importlib.import_module(theirs), name)
        here = getattr(importlib.import_module(ours), name)
        names = sorted(n for n in dir(d) if not n.startswith("_"))
        same = [n for n in names if hasattr(here, n) or n in INSTANCE]
        missing = "; ".join(f"`{n}`: {WHY[n]}" for n in names if n not in same) or "—"
        out.append(f"| `{name}` | {', '.join(f'`{n}`' for n in same)} | {missing} |")
    out.append("| `RegistryData` | — | the class (`images.get_registry_data`): not there yet |")
    return out


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp/dpyx")
    sys.modules.setdefault("paramiko", types.ModuleType("paramiko"))
    print("\n".join(rows()))
