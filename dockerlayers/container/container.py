"""The container record moby keeps in `<root>/containers/<id>/`.

`config.v2.json` holds the container (state included) and is rewritten atomically at every
checkpoint; `hostconfig.json` holds the host config. Neither holds the RW layer: that is
found again by name in the layer store (`layerdb/mounts/<id>`).

moby: container/container.go (Container, CheckpointTo, FromDisk, WriteHostConfig)
"""

from __future__ import annotations

import json
import os
from typing import Any

from dockerlayers._record import Record
from dockerlayers.container.state import State
from dockerlayers.ioutils import atomic_write_file
from dockerlayers.process.clock import format_rfc3339nano, parse_rfc3339nano

CONFIG_FILE = "config.v2.json"
HOST_CONFIG_FILE = "hostconfig.json"


def default_host_config() -> dict[str, Any]:
    """The HostConfig a plain `docker create` stores (Docker 20.10 field set)."""
    return {
        "Binds": None,
        "ContainerIDFile": "",
        "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": "default",
        "PortBindings": {},
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": False,
        "VolumeDriver": "",
        "VolumesFrom": None,
        "CapAdd": None,
        "CapDrop": None,
        "CgroupnsMode": "host",
        "Dns": [],
        "DnsOptions": [],
        "DnsSearch": [],
        "ExtraHosts": None,
        "GroupAdd": None,
        "IpcMode": "private",
        "Cgroup": "",
        "Links": None,
        "OomScoreAdj": 0,
        "PidMode": "",
        "Privileged": False,
        "PublishAllPorts": False,
        "ReadonlyRootfs": False,
        "SecurityOpt": None,
        "UTSMode": "",
        "UsernsMode": "",
        "ShmSize": 67108864,
        "Runtime": "runc",
        "ConsoleSize": [0, 0],
        "Isolation": "",
        # api/types/container Resources, inline in HostConfig (recorded, not enforced)
        "CpuShares": 0,
        "Memory": 0,
        "NanoCpus": 0,
        "CgroupParent": "",
        "BlkioWeight": 0,
        "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": None,
        "BlkioDeviceWriteBps": None,
        "BlkioDeviceReadIOps": None,
        "BlkioDeviceWriteIOps": None,
        "CpuPeriod": 0,
        "CpuQuota": 0,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": "",
        "CpusetMems": "",
        "Devices": [],
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "KernelMemory": 0,
        "KernelMemoryTCP": 0,
        "MemoryReservation": 0,
        "MemorySwap": 0,
        "MemorySwappiness": None,
        "OomKillDisable": False,
        "PidsLimit": None,
        "Ulimits": None,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        # Mounts and Init are left out when unset (omitempty), as Docker writes them
        "MaskedPaths": list(MASKED_PATHS),
        "ReadonlyPaths": list(READONLY_PATHS),
    }


#: oci.DefaultSpec's masked and read-only /proc paths (a privileged container has none).
MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


class Container(Record):
    """One container: identity, configs, state and bookkeeping, as moby persists it."""

    _fields = (
        *("id", "name", "created", "path", "args", "config", "image", "driver", "root"),
        *("host_config", "state", "restart_count", "has_been_started_before"),
        *("has_been_manually_stopped", "mount_points", "exec_ids"),
    )

    def __init__(
        self,
        id: str,
        name: str,  # with the leading "/"
        created: float,
        path: str,
        args: list[str],
        config: dict[str, Any],
        image: str,  # image ID, sha256:...
        driver: str,
        root: str,  # <daemon root>/containers/<id>
        host_config: dict[str, Any] | None = None,
        state: State | None = None,
        restart_count: int = 0,
        has_been_started_before: bool = False,
        has_been_manually_stopped: bool = False,
        mount_points: dict[str, Any] | None = None,
        exec_ids: list[str] | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.created = created
        self.path = path
        self.args = args
        self.config = config
        self.image = image
        self.driver = driver
        self.root = root
        self.host_config = host_config if host_config is not None else default_host_config()
        self.state = state if state is not None else State()
        self.restart_count = restart_count
        self.has_been_started_before = has_been_started_before
        self.has_been_manually_stopped = has_been_manually_stopped
        self.mount_points: dict[str, Any] = mount_points if mount_points is not None else {}
        self.exec_ids: list[str] = exec_ids if exec_ids is not None else []
        #: the image ID config.v2.json holds when it is not `image` (the containerd store:
        #: Docker 29's image ID, the target digest; the daemon keys images by config)
        self.image_on_disk = ""

    # -- paths -----------------------------------------------------------------------------
    @property
    def short_id(self) -> str:
        return self.id[:12]

    def path_in_root(self, name: str) -> str:
        return os.path.join(self.root, name)

    @property
    def log_path(self) -> str:
        return self.path_in_root(f"{self.id}-json.log")

    @property
    def hostname_path(self) -> str:
        return self.path_in_root("hostname")

    @property
    def hosts_path(self) -> str:
        return self.path_in_root("hosts")

    @property
    def resolv_conf_path(self) -> str:
        return self.path_in_root("resolv.conf")

    # -- persistence -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """config.v2.json (moby 20.10 field names; paths are empty until first start)."""
        started = self.has_been_started_before
        return {
            "StreamConfig": {},
            "State": self.state.to_json(),
            "ID": self.id,
            "Created": format_rfc3339nano(self.created),
            "Managed": False,
            "Path": self.path,
            "Args": list(self.args),
            "Config": self.config,
            "Image": self.image_on_disk or self.image,
            "NetworkSettings": _network_settings(),
            "LogPath": self.log_path if started else "",
            "Name": self.name,
            "Driver": self.driver,
            "OS": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "RestartCount": self.restart_count,
            "HasBeenStartedBefore": self.has_been_started_before,
            "HasBeenManuallyStopped": self.has_been_manually_stopped,
            "MountPoints": self.mount_points,
            "SecretReferences": None,
            "ConfigReferences": None,
            "AppArmorProfile": "",
            "HostnamePath": self.hostname_path if started else "",
            "HostsPath": self.hosts_path if started else "",
            "ShmPath": "",
            "ResolvConfPath": self.resolv_conf_path if started else "",
            "SeccompProfile": "",
            "NoNewPrivileges": False,
        }

    def to_disk(self) -> None:
        """Write config.v2.json atomically (0600).

        moby: container/container.go toDisk
        """
        data = json.dumps(self.to_json(), separators=(",", ":")).encode()
        path = self.path_in_root(CONFIG_FILE)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    return  # unchanged: no rewrite (each CLI command restores every container)
        except OSError:
            pass
        atomic_write_file(path, data, 0o600)

    def checkpoint(self) -> None:
        """Save the container's state to disk (moby also refreshes its in-memory view
        database here; this model has none).

        moby: container/container.go CheckpointTo
        """
        self.to_disk()

    def write_host_config(self) -> None:
        """Write hostconfig.json atomically (0644, as in 20.10).

        moby: container/container.go WriteHostConfig
        """
        data = json.dumps(self.host_config, separators=(",", ":")).encode()
        atomic_write_file(self.path_in_root(HOST_CONFIG_FILE), data, 0o644)

    @classmethod
    def from_disk(cls, root: str) -> Container:
        """Load a container from its folder.

        moby: container/container.go FromDisk
        """
        with open(os.path.join(root, CONFIG_FILE)) as f:
            data = json.load(f)
        with open(os.path.join(root, HOST_CONFIG_FILE)) as f:
            host_config = json.load(f)
        created = parse_rfc3339nano(data["Created"])
        return cls(
            id=data["ID"],
            name=data["Name"],
            created=created if created is not None else 0.0,
            path=data["Path"],
            args=list(data.get("Args") or []),
            config=data["Config"],
            image=data["Image"],
            driver=data["Driver"],
            root=root,
            host_config=host_config,
            state=State.from_json(data["State"]),
            restart_count=int(data.get("RestartCount") or 0),
            has_been_started_before=bool(data.get("HasBeenStartedBefore")),
            has_been_manually_stopped=bool(data.get("HasBeenManuallyStopped")),
            mount_points=data.get("MountPoints") or {},
        )

    def copy_config(self) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self.config)


def _network_settings() -> dict[str, Any]:
    """No networking is modelled: the settings of a container with no network attached."""
    return {
        "Bridge": "",
        "SandboxID": "",
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Networks": {},
        "Service": None,
        "Ports": {},
        "SandboxKey": "",
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "IsAnonymousEndpoint": False,
        "HasSwarmEndpoint": False,
    }
