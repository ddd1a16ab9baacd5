"""Print the docker-py tables of docs/differences.md: every public name of docker-py's
high-level classes and of its low-level APIClient's mixins, and whether
`dockerlayers.client` (`client.api`) has it (with why not).

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
    "attach_socket_api": "no sockets: processes are simulated (`attach(stream=True)` gives "
    "the output)",
    "network": "networking is not modelled",
    "swarm_api": "swarm is not modelled",
    "plugin": "plugins are not modelled",
}
#: docker-py's low-level mixins (docker/api/*.py): why a whole one is missing here
API_MIXINS = [
    ("BuildApiMixin", "docker.api.build", None),
    ("ContainerApiMixin", "docker.api.container", None),
    ("DaemonApiMixin", "docker.api.daemon", None),
    ("ExecApiMixin", "docker.api.exec_api", None),
    ("ImageApiMixin", "docker.api.image", None),
    ("VolumeApiMixin", "docker.api.volume", None),
    ("NetworkApiMixin", "docker.api.network", "network"),
    ("PluginApiMixin", "docker.api.plugin", "plugin"),
    ("ConfigApiMixin", "docker.api.config", "swarm_api"),
    ("SecretApiMixin", "docker.api.secret", "swarm_api"),
    ("ServiceApiMixin", "docker.api.service", "swarm_api"),
    ("SwarmApiMixin", "docker.api.swarm", "swarm_api"),
]
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


def api_rows() -> list[str]:
    """`client.api` against docker-py's APIClient, one row per docker-py mixin."""
    from dockerlayers.client.api import APIClient

    out = [
        "| docker-py mixin (`APIClient`) | the same here | missing here (why) |",
        "|---|---|---|",
    ]
    for name, module, why_all in API_MIXINS:
        d = getattr(importlib.import_module(module), name)
        names = sorted(n for n in vars(d) if not n.startswith("_"))
        same = [n for n in names if n in dir(APIClient)]
        if why_all and not same:
            out.append(f"| `{name}` | — | all {len(names)} calls: {WHY[why_all]} |")
            continue
        missing = "; ".join(
            f"`{n}`: {WHY.get(n + '_api', WHY.get(n, WHY.get(why_all or '', '?')))}"
            for n in names
            if n not in same
        )
        out.append(f"| `{name}` | {', '.join(f'`{n}`' for n in same)} | {missing or '—'} |")
    return out


if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp/dpyx")
    sys.modules.setdefault("paramiko", types.ModuleType("paramiko"))
    print("\n".join(rows()))
    print()
    print("\n".join(api_rows()))
