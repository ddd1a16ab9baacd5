"""docker-py's ContainerApiMixin on the daemon: create, start, stop, wait, logs, archives...

Every method has docker-py 7.1's signature and returns what the Engine API answers (dicts
as its JSON decodes, generators of chunks for streams). The models (Container,
ContainerCollection) call these, as docker-py's models call `client.api`.

docker-py: docker/api/container.py, docker/types/containers.py (ContainerConfig)
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api.client import APIBase, check_resource, require_version
from dockerlayers.errors import (
    DeprecatedMethod,
    InvalidArgument,
    InvalidVersion,
)

#: docker-py: docker/constants.py DEFAULT_DATA_CHUNK_SIZE (2 MB)
DEFAULT_DATA_CHUNK_SIZE = 1024 * 2048

#: HostConfig keys create_container_from_config hands the daemon as its own options
_OWN_HOST_KEYS = {"Binds", "RestartPolicy", "AutoRemove"}

#: docker-py's update_container arguments -> the API's Resources names
_UPDATE_NAMES = {
    "blkio_weight": "BlkioWeight",
    "cpu_period": "CpuPeriod",
    "cpu_quota": "CpuQuota",
    "cpu_shares": "CpuShares",
    "cpuset_cpus": "CpusetCpus",
    "cpuset_mems": "CpusetMems",
    "mem_limit": "Memory",
    "mem_reservation": "MemoryReservation",
    "memswap_limit": "MemorySwap",
    "kernel_memory": "KernelMemory",
}


def split_command(command: str) -> list[str]:
    """docker-py: docker/utils/utils.py split_command (shlex)."""
    return shlex.split(command)


def format_environment(environment: dict[str, Any]) -> list[str]:
    """docker-py: utils.format_environment ({"A": None} -> "A")."""
    out = []
    for key, value in environment.items():
        if value is None:
            out.append(key)
        else:
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            out.append(f"{key}={value}")
    return out


def timestamp_of(value: Any, name: str) -> float:
    """docker-py's since/until: a datetime, a positive int (seconds) or float."""
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgument(
            f"{name} value should be datetime or positive int/float, not {type(value)}"
        )
    return float(value)


def container_config(
    version: str,
    image: str,
    command: Any,
    hostname: str | None = None,
    user: Any = None,
    detach: bool = False,
    stdin_open: bool = False,
    tty: bool = False,
    ports: Any = None,
    environment: Any = None,
    volumes: Any = None,
    network_disabled: bool = False,
    entrypoint: Any = None,
    working_dir: str | None = None,
    domainname: str | None = None,
    host_config: dict[str, Any] | None = None,
    mac_address: str | None = None,
    labels: Any = None,
    stop_signal: str | None = None,
    networking_config: dict[str, Any] | None = None,
    healthcheck: Any = None,
    stop_timeout: int | None = None,
    runtime: str | None = None,
) -> dict[str, Any]:
    """The API's container Config docker-py sends (every key, None where not given).

    docker-py: docker/types/containers.py ContainerConfig
    """
    if stop_timeout is not None and version_lt_(version, "1.25"):
        raise InvalidVersion("stop_timeout was only introduced in API version 1.25")
    if healthcheck is not None:
        if version_lt_(version, "1.24"):
            raise InvalidVersion("Health options were only introduced in API version 1.24")
        if version_lt_(version, "1.29") and "StartPeriod" in healthcheck:
            raise InvalidVersion("healthcheck start period was introduced in API version 1.29")
    if isinstance(command, str):
        command = split_command(command)
    if isinstance(entrypoint, str):
        entrypoint = split_command(entrypoint)
    if isinstance(environment, dict):
        environment = format_environment(environment)
    if isinstance(labels, list):
        labels = {lbl: "" for lbl in labels}
    if isinstance(ports, list):
        exposed = {}
        for port in ports:
            proto = "tcp"
            if isinstance(port, tuple):
                if len(port) == 2:
                    proto = port[1]
                port = port[0]
            exposed[f"{port}/{proto}"] = {}
        ports = exposed
    if isinstance(volumes, str):
        volumes = [volumes]
    if isinstance(volumes, list):
        volumes = {v: {} for v in volumes}
    if healthcheck and isinstance(healthcheck, dict):
        from dockerlayers.client.models.containers import _healthcheck

        healthcheck = _healthcheck(healthcheck)
    attach_stdin = False
    attach_stdout = False
    attach_stderr = False
    stdin_once = False
    if not detach:
        attach_stdout = True
        attach_stderr = True
        if stdin_open:
            attach_stdin = True
            stdin_once = True
    return {
        "Hostname": hostname,
        "Domainname": domainname,
        "ExposedPorts": ports,
        "User": str(user) if user is not None else None,
        "Tty": tty,
        "OpenStdin": stdin_open,
        "StdinOnce": stdin_once,
        "AttachStdin": attach_stdin,
        "AttachStdout": attach_stdout,
        "AttachStderr": attach_stderr,
        "Env": environment,
        "Cmd": command,
        "Image": image,
        "Volumes": volumes,
        "NetworkDisabled": network_disabled,
        "Entrypoint": entrypoint,
        "WorkingDir": working_dir,
        "HostConfig": host_config,
        "NetworkingConfig": networking_config,
        "MacAddress": mac_address,
        "Labels": labels,
        "StopSignal": stop_signal,
        "Healthcheck": healthcheck,
        "StopTimeout": stop_timeout,
        "Runtime": runtime,
    }


def version_lt_(v1: str, v2: str) -> bool:
    from dockerlayers.client.api.client import version_lt

    return version_lt(v1, v2)


class ContainerApiMixin(APIBase):
    """The container calls of docker-py's APIClient."""

    # -- create ----------------------------------------------------------------------------
    def create_container(
        self,
        image: str,
        command: Any = None,
        hostname: str | None = None,
        user: Any = None,
        detach: bool = False,
        stdin_open: bool = False,
        tty: bool = False,
        ports: Any = None,
        environment: Any = None,
        volumes: Any = None,
        network_disabled: bool = False,
        name: str | None = None,
        entrypoint: Any = None,
        working_dir: str | None = None,
        domainname: str | None = None,
        host_config: dict[str, Any] | None = None,
        mac_address: str | None = None,
        labels: Any = None,
        stop_signal: str | None = None,
        networking_config: dict[str, Any] | None = None,
        healthcheck: Any = None,
        stop_timeout: int | None = None,
        runtime: str | None = None,
        use_config_proxy: bool = True,
        platform: str | None = None,
    ) -> dict[str, Any]:
        """`docker create`: {"Id": ..., "Warnings": []}.

        docker-py: docker/api/container.py create_container
        """
        if isinstance(volumes, str):
            volumes = [volumes]
        if isinstance(environment, dict):
            environment = format_environment(environment)
        if use_config_proxy:
            environment = self._proxy_configs.inject_proxy_environment(environment) or None
        config = self.create_container_config(
            image, command, hostname, user, detach, stdin_open, tty, ports, environment,
            volumes, network_disabled, entrypoint, working_dir, domainname, host_config,
            mac_address, labels, stop_signal, networking_config, healthcheck, stop_timeout,
            runtime,
        )  # fmt: skip
        return self.create_container_from_config(config, name, platform)

    def create_container_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """docker-py's ContainerConfig for this client's API version."""
        return container_config(self._version, *args, **kwargs)

    def create_container_from_config(
        self, config: dict[str, Any], name: str | None = None, platform: str | None = None
    ) -> dict[str, Any]:
        """POST /containers/create with an API Config (HostConfig inside):
        {"Id": ..., "Warnings": []}. The daemon acts on the storage settings and records
        the rest as Docker does (docs/differences.md)."""
        if platform:
            require_version(self, "1.41", "platform is not supported for API version < 1.41")
        cfg = dict(config)
        hc = dict(cfg.pop("HostConfig", None) or {})
        cfg.pop("NetworkingConfig", None)  # networks are not modelled (docs/differences.md)
        image = cfg.pop("Image")
        extra_cfg = {
            k: cfg[k]
            for k in (
                "Domainname", "MacAddress", "Healthcheck", "OpenStdin", "StdinOnce",
                "AttachStdin", "AttachStdout", "AttachStderr", "NetworkDisabled",
                "ExposedPorts", "Volumes",
            )
            if cfg.get(k) is not None and cfg.get(k) != ""
        }  # fmt: skip
        for flag in ("OpenStdin", "StdinOnce", "AttachStdin", "NetworkDisabled"):
            if extra_cfg.get(flag) is False:
                extra_cfg.pop(flag)
        c = self._daemon.create(
            image,
            cfg.get("Cmd"),
            name=name,
            entrypoint=cfg.get("Entrypoint"),
            environment=cfg.get("Env"),
            working_dir=cfg.get("WorkingDir"),
            hostname=cfg.get("Hostname"),
            user=cfg.get("User"),
            labels=cfg.get("Labels"),
            restart_policy=hc.get("RestartPolicy"),
            auto_remove=bool(hc.get("AutoRemove")),
            volumes=hc.get("Binds"),
            stop_signal=cfg.get("StopSignal"),
            stop_timeout=cfg.get("StopTimeout"),
            tty=bool(cfg.get("Tty")),
            mounts=hc.get("Mounts"),
            read_only=bool(hc.get("ReadonlyRootfs")),
            tmpfs=hc.get("Tmpfs"),
            init=hc.get("Init"),
            ports=hc.get("PortBindings"),
            mem_limit=hc.get("Memory"),
            nano_cpus=hc.get("NanoCpus"),
            privileged=bool(hc.get("Privileged")),
            host_config={k: v for k, v in hc.items() if k not in _OWN_HOST_KEYS},
            config=extra_cfg,
        )
        return {"Id": c.id, "Warnings": []}

    def create_host_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """docker-py's HostConfig (a dict of the API's names) for create_container."""
        from dockerlayers.client.api.hostconfig import HostConfig

        if "version" in kwargs:
            raise TypeError("create_host_config() got an unexpected keyword argument 'version'")
        kwargs["version"] = self._version
        return HostConfig(*args, **kwargs)

    def create_networking_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """docker-py's NetworkingConfig: accepted and recorded (no networks here)."""
        from dockerlayers.client.api.hostconfig import NetworkingConfig

        return NetworkingConfig(*args, **kwargs)

    def create_endpoint_config(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """docker-py's EndpointConfig: accepted and recorded (no networks here)."""
        from dockerlayers.client.api.hostconfig import EndpointConfig

        return EndpointConfig(self._version, *args, **kwargs)

    # -- list and inspect ------------------------------------------------------------------
    def containers(
        self,
        quiet: bool = False,
        all: bool = False,
        trunc: bool = False,
        latest: bool = False,
        since: str | None = None,
        before: str | None = None,
        limit: int = -1,
        size: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """`docker ps` rows as GET /containers/json answers ({"Id"} only with `quiet`)."""
        flt = dict(filters or {})
        if since:
            flt["since"] = since
        if before:
            flt["before"] = before
        if latest:
            limit = 1
        rows = self._daemon.list(all=all or latest, size=size, filters=flt or None, limit=limit)
        if quiet:
            return [{"Id": x["Id"]} for x in rows]
        if trunc:
            for x in rows:
                x["Id"] = x["Id"][:12]
        return rows

    @check_resource("container")
    def inspect_container(self, container: str) -> dict[str, Any]:
        return self._daemon.inspect(container)

    @check_resource("container")
    def diff(self, container: str) -> list[dict[str, Any]]:
        """`docker diff`: [{"Path": ..., "Kind": 0|1|2}] (changed, added, deleted)."""
        return self._daemon.changes(container)

    @check_resource("container")
    def top(self, container: str, ps_args: str | None = None) -> dict[str, Any]:
        """`docker top`: {"Titles": [...], "Processes": [[...]]}."""
        return self._daemon.top(container, ps_args)

    @check_resource("container")
    def port(self, container: str, private_port: int | str) -> list[dict[str, str]] | None:
        """The host bindings of `private_port` ("80" tries tcp, udp, sctp), or None.

        docker-py: docker/api/container.py port
        """
        port_settings = (self._daemon.inspect(container).get("NetworkSettings") or {}).get("Ports")
        if port_settings is None:
            return None
        private_port = str(private_port)
        if "/" in private_port:
            return port_settings.get(private_port)
        h_ports = None
        for protocol in ("tcp", "udp", "sctp"):
            h_ports = port_settings.get(f"{private_port}/{protocol}")
            if h_ports:
                break
        return h_ports

    @check_resource("container")
    def stats(
        self,
        container: str,
        decode: bool | None = None,
        stream: bool = True,
        one_shot: bool | None = None,
    ) -> Any:
        """One StatsJSON (`stream=False`) or a generator of them, one per second of the
        clock (JSON bytes, dicts with `decode`)."""
        if one_shot is not None:
            require_version(self, "1.41", "one_shot is not supported for API version < 1.41")
        if stream:
            if one_shot:
                raise InvalidArgument("one_shot is only available in conjunction with stream=False")
            return self._stats_stream(container, decode)
        if decode:
            raise InvalidArgument("decode is only available in conjunction with stream=True")
        return self._daemon.stats(container)

    def _stats_stream(self, container: str, decode: bool | None) -> Iterator[Any]:
        daemon = self._daemon
        while True:
            sample = daemon.stats(container)
            yield sample if decode else json.dumps(sample).encode()
            if daemon.clock.virtual:
                daemon.clock.advance(1)
            else:
                import time

                time.sleep(1)

    # -- lifecycle -------------------------------------------------------------------------
    @check_resource("container")
    def start(self, container: str, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise DeprecatedMethod(
                "Providing configuration in the start() method is no longer supported. Use "
                "the host_config param in create_container instead."
            )
        self._daemon.start(container)

    @check_resource("container")
    def stop(self, container: str, timeout: float | None = None) -> None:
        self._daemon.stop(container, timeout)

    @check_resource("container")
    def restart(self, container: str, timeout: float | None = 10) -> None:
        self._daemon.restart(container, timeout)

    @check_resource("container")
    def kill(self, container: str, signal: str | int | None = None) -> None:
        self._daemon.kill(container, "SIGKILL" if signal is None else signal)

    @check_resource("container")
    def pause(self, container: str) -> None:
        self._daemon.pause(container)

    @check_resource("container")
    def unpause(self, container: str) -> None:
        self._daemon.unpause(container)

    @check_resource("container")
    def rename(self, container: str, name: str) -> None:
        self._daemon.rename(container, name)

    @check_resource("container")
    def remove_container(
        self, container: str, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        self._daemon.remove(container, force=force, v=v)

    @check_resource("container")
    def wait(
        self, container: str, timeout: float | None = None, condition: str | None = None
    ) -> dict[str, Any]:
        """{"StatusCode": n, "Error": None or {"Message": ...}}, as the API answers."""
        if condition is not None:
            require_version(self, "1.30", "wait condition is not supported for API version < 1.30")
        return self._daemon.wait(container, condition=condition or "not-running", timeout=timeout)

    @check_resource("container")
    def update_container(
        self,
        container: str,
        blkio_weight: int | None = None,
        cpu_period: int | None = None,
        cpu_quota: int | None = None,
        cpu_shares: int | None = None,
        cpuset_cpus: str | None = None,
        cpuset_mems: str | None = None,
        mem_limit: int | str | None = None,
        mem_reservation: int | str | None = None,
        memswap_limit: int | str | None = None,
        kernel_memory: int | str | None = None,
        restart_policy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`docker update`: {"Warnings": [...]} (restart policy acted on, resources recorded)."""
        from dockerlayers.client.types import parse_bytes

        given = dict(locals())
        resources = {}
        for arg, key in _UPDATE_NAMES.items():
            v = given[arg]
            if v is not None:
                resources[key] = parse_bytes(v) if key.startswith(("Memory", "Kernel")) else v
        if restart_policy:
            require_version(
                self, "1.23", "restart policy update is not supported for API version < 1.23"
            )
        return self._daemon.update(container, resources, restart_policy)

    def prune_containers(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker container prune`: {"ContainersDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune(filters)

    # -- output ----------------------------------------------------------------------------
    @check_resource("container")
    def logs(
        self,
        container: str,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: int | str = "all",
        since: Any = None,
        follow: bool | None = None,
        until: Any = None,
    ) -> bytes | Iterator[bytes]:
        """The container's output: bytes, or with `stream` a generator of chunks (with
        `follow`, default = `stream`, it lasts until the container stops)."""
        if follow is None:
            follow = stream
        if tail != "all" and (not isinstance(tail, int) or tail < 0):
            tail = "all"
        gen = self._daemon.logs_stream(
            container,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
            timestamps=timestamps,
            tail=tail,
            since=None if since is None else timestamp_of(since, "since"),
            until=None if until is None else timestamp_of(until, "until"),
        )
        if stream:
            return gen
        return b"".join(gen)

    @check_resource("container")
    def attach(
        self,
        container: str,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        logs: bool = False,
        demux: bool = False,
    ) -> Any:
        """The output from now on (`logs=True`: from the start) until the container stops;
        a generator with `stream`, (stdout, stderr) pairs with `demux`. The model's
        processes read no input."""
        state = self._daemon.inspect(container)["State"]
        tail: int | str = "all" if logs else 0
        chunks = self._daemon.logs_stream(
            container, follow=bool(state["Running"]), stdout=stdout, stderr=stderr, tail=tail
        )
        if demux and stream:
            # the followed log is one stream of chunks: each comes as stdout's
            return ((ch, None) for ch in chunks)
        if stream:
            return chunks
        if not demux:
            return b"".join(chunks)
        data = b"".join(chunks)  # until the container stops
        if not logs:
            return (data or None, None)
        out = {"stdout": b"", "stderr": b""}
        for m in self._daemon.log_messages(container, stdout=stdout, stderr=stderr):
            out[m["stream"]] += m["log"] if isinstance(m["log"], bytes) else m["log"].encode()
        return (out["stdout"] or None, out["stderr"] or None)

    # -- files -----------------------------------------------------------------------------
    @check_resource("container")
    def export(
        self, container: str, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """The merged filesystem as a tar (`docker export`), in chunks."""
        from dockerlayers.client.models.containers import spooled_chunks

        gen, _ = spooled_chunks(lambda f: self._daemon.export(container, f), chunk_size)
        return gen

    @check_resource("container")
    def get_archive(
        self,
        container: str,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[Iterator[bytes], dict[str, Any]]:
        """(tar chunks, stat dict) of a file or folder (`docker cp CONTAINER:PATH -`)."""
        from dockerlayers.client.models.containers import spooled_chunks

        return spooled_chunks(lambda f: self._daemon.archive_path(container, path, f), chunk_size)

    @check_resource("container")
    def put_archive(self, container: str, path: str, data: Any) -> bool:
        """Unpack a tar (bytes or a file object) into the folder `path`: True."""
        self._daemon.extract_to_dir(container, path, data)
        return True

    @check_resource("container")
    def commit(
        self,
        container: str,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        author: str | None = None,
        pause: bool = True,
        changes: list[str] | str | None = None,
        conf: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """`docker commit`: {"Id": "sha256:..."}."""
        image_id = self._daemon.commit(
            container,
            repository=repository,
            tag=tag,
            comment=message,
            author=author,
            changes=changes,
            config=conf,
            pause=pause,
        )
        return {"Id": image_id}

    def resize(self, container: str, height: int, width: int) -> None:
        """A TTY's size: the model's processes have no terminal, so nothing to resize."""
        self.inspect_container(container)

    def attach_socket(self, container: str, params: Any = None, ws: bool = False) -> Any:
        raise InvalidArgument("attach_socket: the model has no connection to hand out")
