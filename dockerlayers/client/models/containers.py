"""`client.containers` and Container, shaped like docker-py's.

Return shapes follow docker-py 7.1: `logs(stream=True)` and `run(stream=True)` yield bytes
chunks (one per log line), `export()` and `get_archive()` yield tar chunks of `chunk_size`
(the tar is spooled to a temporary file by the daemon, never held whole in memory),
`exec_run` returns ExecResult(exit_code, output) with `demux`/`stream` shapes as docker-py's.
`attrs` and `status` are a snapshot, refreshed by `reload()`.

docker-py: docker/models/containers.py, docker/api/container.py, docker/api/exec_api.py
"""

from __future__ import annotations

import json
import tempfile
from collections import namedtuple
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from dockerlayers.client.models.images import Image
from dockerlayers.client.models.resource import Collection, Model
from dockerlayers.client.types import host_config, split_run_kwargs
from dockerlayers.errors import (
    ContainerError,
    DockerException,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    NullResource,
)

#: docker-py: docker/constants.py DEFAULT_DATA_CHUNK_SIZE (2 MB)
DEFAULT_DATA_CHUNK_SIZE = 1024 * 2048

ExecResult = namedtuple("ExecResult", "exit_code,output")
ExecResult.__doc__ = "A result of Container.exec_run: `exit_code` and `output`."

#: HostConfig keys the daemon sets from its own CreateConfig fields
_OWN_HOST_KEYS = {"Binds", "RestartPolicy", "AutoRemove"}


def spooled_chunks(
    write: Callable[[BinaryIO], Any], chunk_size: int | None, tmp_dir: str | None = None
) -> tuple[Iterator[bytes], Any]:
    """Run `write(file)` now (errors surface at the call, as an HTTP error would), then
    (a generator of the file's chunks, what `write` returned). The file is a nameless
    temporary file: memory stays flat whatever the size."""
    f = tempfile.TemporaryFile(dir=tmp_dir)  # noqa: SIM115 - closed by the generator
    try:
        result = write(f)
        f.seek(0)
    except BaseException:
        f.close()
        raise
    size = chunk_size if chunk_size and chunk_size > 0 else 64 * 1024

    def chunks() -> Iterator[bytes]:
        with f:
            while chunk := f.read(size):
                yield chunk

    return chunks(), result


def _timestamp(value: Any, name: str) -> float:
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


class Container(Model):
    """A container. `attrs` is `docker inspect`'s dict as of the last `reload()`."""

    @property
    def name(self) -> str | None:
        if self.attrs.get("Name") is not None:
            return self.attrs["Name"].lstrip("/")
        names = self.attrs.get("Names")
        return names[0].lstrip("/") if names else None

    @property
    def image(self) -> Image | None:
        image_id = self.attrs.get("ImageID", self.attrs["Image"])
        if image_id is None:
            return None
        return self.client.images.get(image_id.split(":")[-1])

    @property
    def labels(self) -> dict[str, str]:
        try:
            return self.attrs["Config"].get("Labels") or {}
        except KeyError as ke:
            raise DockerException(
                "Label data is not available for sparse objects. Call reload() to retrieve "
                "all information"
            ) from ke

    @property
    def status(self) -> str:
        if isinstance(self.attrs["State"], dict):
            return self.attrs["State"]["Status"]
        return self.attrs["State"]

    @property
    def health(self) -> str:
        return self.attrs.get("State", {}).get("Health", {}).get("Status", "unknown")

    @property
    def ports(self) -> dict[str, Any]:
        return (self.attrs.get("NetworkSettings") or {}).get("Ports") or {}

    @property
    def _daemon(self):  # noqa: ANN202
        return self.client.daemon

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, **kwargs: Any) -> None:
        self._daemon.start(self.id)

    def stop(self, timeout: float | None = None) -> None:
        self._daemon.stop(self.id, timeout)

    def restart(self, timeout: float | None = None) -> None:
        self._daemon.restart(self.id, timeout)

    def kill(self, signal: str | int | None = None) -> None:
        self._daemon.kill(self.id, "SIGKILL" if signal is None else signal)

    def pause(self) -> None:
        self._daemon.pause(self.id)

    def unpause(self) -> None:
        self._daemon.unpause(self.id)

    def remove(self, v: bool = False, link: bool = False, force: bool = False) -> None:
        self._daemon.remove(self.id, force=force, v=v)

    def rename(self, name: str) -> None:
        self._daemon.rename(self.id, name)

    def wait(self, timeout: float | None = None, condition: str = "not-running") -> dict[str, Any]:
        """{"StatusCode": n, "Error": None or {"Message": ...}}, as the API answers."""
        return self._daemon.wait(self.id, condition=condition, timeout=timeout)

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Change resources / the restart policy (docker-py's update_container names)."""
        names = {
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
        from dockerlayers.client.types import parse_bytes
        from dockerlayers.errors import create_unexpected_kwargs_error

        unknown = {k: v for k, v in kwargs.items() if k not in names and k != "restart_policy"}
        if unknown:
            raise create_unexpected_kwargs_error("update_container", unknown)
        resources = {}
        for arg, key in names.items():
            if kwargs.get(arg) is not None:
                v = kwargs[arg]
                resources[key] = parse_bytes(v) if key.startswith(("Memory", "Kernel")) else v
        return self._daemon.update(self.id, resources, kwargs.get("restart_policy"))

    # -- output ----------------------------------------------------------------------------
    def logs(
        self,
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
        kw = {
            "stdout": stdout,
            "stderr": stderr,
            "timestamps": timestamps,
            "tail": tail,
            "since": None if since is None else _timestamp(since, "since"),
            "until": None if until is None else _timestamp(until, "until"),
        }
        gen = self._daemon.logs_stream(self.id, follow=follow, **kw)
        if stream:
            return gen
        return b"".join(gen)

    def attach(
        self,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        logs: bool = False,
        demux: bool = False,
    ) -> bytes | Iterator[Any]:
        """The output from now on (`logs=True`: from the start) until the container stops;
        a generator with `stream`. The model's processes read no input."""
        import math

        c = self._daemon.inspect(self.id)
        tail: int | str = "all" if logs else 0
        if not c["State"]["Running"]:
            tail = "all" if logs else 0
        chunks = self._daemon.logs_stream(
            self.id, follow=True, stdout=stdout, stderr=stderr, tail=tail
        )
        if demux:
            chunks = ((ch, None) for ch in chunks)
        if stream:
            return chunks
        del math
        if demux:
            return (b"".join(ch for ch, _ in chunks) or None, None)
        return b"".join(chunks)

    def top(self, ps_args: str | None = None) -> dict[str, Any]:
        """{"Titles": [...], "Processes": [[...]]} (`docker top`)."""
        return self._daemon.top(self.id, ps_args)

    def stats(
        self, decode: bool | None = None, stream: bool = True, one_shot: bool | None = None
    ) -> Any:
        """One sample (`stream=False`) or a generator of them, one per second of the
        clock (JSON bytes, dicts with `decode`)."""
        if not stream:
            if decode:
                raise InvalidArgument("decode is only available in conjunction with stream=True")
            return self._daemon.stats(self.id)

        def gen() -> Iterator[Any]:
            while True:
                sample = self._daemon.stats(self.id)
                yield sample if decode else json.dumps(sample).encode()
                if self._daemon.clock.virtual:
                    self._daemon.clock.advance(1)
                else:
                    import time

                    time.sleep(1)

        return gen()

    # -- files ----------------------------------------------------------------------------
    def diff(self) -> list[dict[str, Any]]:
        """`docker diff`: [{"Path": "/etc", "Kind": 0}, ...] (0 changed, 1 added, 2 deleted)."""
        return self._daemon.changes(self.id)

    def export(self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE) -> Iterator[bytes]:
        """The merged filesystem as a tar (`docker export`), in chunks."""
        gen, _ = spooled_chunks(lambda f: self._daemon.export(self.id, f), chunk_size)
        return gen

    def get_archive(
        self,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[Iterator[bytes], dict[str, Any]]:
        """(tar chunks, stat) of a file or folder (`docker cp CONTAINER:PATH -`)."""
        return spooled_chunks(lambda f: self._daemon.archive_path(self.id, path, f), chunk_size)

    def put_archive(self, path: str, data: bytes | BinaryIO) -> bool:
        """Unpack a tar into the folder `path` (`docker cp - CONTAINER:PATH`)."""
        self._daemon.extract_to_dir(self.id, path, data)
        return True

    @property
    def rootfs(self):  # noqa: ANN201 - a RootFS
        """The container's files as its processes see them (a RootFS; the model's own)."""
        return self._daemon.mount(self.id)

    # -- exec and commit ------------------------------------------------------------------
    def exec_run(
        self,
        cmd: str | list[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        detach: bool = False,
        stream: bool = False,
        socket: bool = False,
        environment: dict[str, str] | list[str] | None = None,
        workdir: str | None = None,
        demux: bool = False,
    ) -> ExecResult:
        """Run a command in the running container. Output: bytes (stdout then stderr
        as written), `demux` -> (stdout or None, stderr or None), `stream` -> a generator
        (of bytes, or of (stdout, stderr) pairs with `demux`) and exit_code None."""
        if socket:
            raise InvalidArgument("socket=True: the model has no connection to hand out")
        code, out, err = self._daemon.exec_run(
            self.id, cmd, environment=environment, workdir=workdir, user=user or None
        )
        out = out if stdout else b""
        err = err if stderr else b""
        if detach:
            return ExecResult(None, b"")
        if tty:  # one stream, as a terminal merges them
            out, err = out + err, b""
        if stream:

            def gen() -> Iterator[Any]:
                if demux:
                    if out:
                        yield (out, None)
                    if err:
                        yield (None, err)
                else:
                    if out:
                        yield out
                    if err:
                        yield err

            return ExecResult(None, gen())
        if demux:
            return ExecResult(code, (out or None, err or None))
        return ExecResult(code, out + err)

    def commit(self, repository: str | None = None, tag: str | None = None, **kwargs: Any) -> Image:
        """`docker commit` (message, author, changes, conf, pause as docker-py)."""
        image_id = self._daemon.commit(
            self.id,
            repository=repository,
            tag=tag,
            comment=kwargs.get("message"),
            author=kwargs.get("author"),
            changes=kwargs.get("changes"),
            config=kwargs.get("conf"),
            pause=kwargs.get("pause", True),
        )
        return self.client.images.get(image_id)


class ContainerCollection(Collection):
    """`client.containers`."""

    model = Container

    def get(self, container_id: str) -> Container:
        if not container_id:
            raise NullResource("Resource ID was not provided")
        return self.prepare_model(self._daemon.inspect(container_id))

    def create(
        self, image: Image | str, command: list[str] | str | None = None, **kwargs: Any
    ) -> Container:
        """`docker create` with docker-py's options (all of them; see docs/differences.md
        for what the model acts on and what it records)."""
        if isinstance(image, Image):
            image = image.id
        # `detach` is one of docker-py's create options (ignored); `remove`, `stdout` and
        # `stderr` are run()'s only: here they are docker-py's TypeError
        kwargs.pop("detach", None)
        create_kw, host_kw = split_run_kwargs(kwargs)
        hc = host_config(**{k: v for k, v in host_kw.items() if k != "version"})
        env = create_kw.get("environment")
        if create_kw.get("use_config_proxy", True):
            env = self.client.api._proxy_configs.inject_proxy_environment(env) or None
        labels = create_kw.get("labels")
        if isinstance(labels, list):
            labels = {lbl: "" for lbl in labels}
        ports = host_kw.get("port_bindings")
        config = {
            "Domainname": create_kw.get("domainname") or None,
            "MacAddress": create_kw.get("mac_address"),
            "Healthcheck": _healthcheck(create_kw.get("healthcheck")),
            "OpenStdin": bool(create_kw.get("stdin_open")) or None,
            "StdinOnce": None,
            "NetworkDisabled": create_kw.get("network_disabled") or None,
            "ExposedPorts": {_port_key(p): {} for p in ports} if ports else None,
        }
        extra_hc = {k: v for k, v in hc.items() if k not in _OWN_HOST_KEYS}
        c = self._daemon.create(
            image,
            command,
            name=create_kw.get("name"),
            entrypoint=create_kw.get("entrypoint"),
            environment=env,
            working_dir=create_kw.get("working_dir"),
            hostname=create_kw.get("hostname"),
            user=None if create_kw.get("user") is None else str(create_kw["user"]),
            labels=labels,
            restart_policy=host_kw.get("restart_policy"),
            auto_remove=bool(host_kw.get("auto_remove")),
            volumes=hc.get("Binds"),
            stop_signal=create_kw.get("stop_signal"),
            stop_timeout=create_kw.get("stop_timeout"),
            tty=bool(create_kw.get("tty")),
            mounts=host_kw.get("mounts"),
            read_only=host_kw.get("read_only"),
            tmpfs=host_kw.get("tmpfs"),
            init=host_kw.get("init"),
            ports=ports,
            mem_limit=host_kw.get("mem_limit"),
            nano_cpus=host_kw.get("nano_cpus"),
            privileged=host_kw.get("privileged"),
            host_config=extra_hc,
            config={k: v for k, v in config.items() if v is not None},
        )
        return self.get(c.id)

    def run(
        self,
        image: Image | str,
        command: list[str] | str | None = None,
        stdout: bool = True,
        stderr: bool = False,
        remove: bool = False,
        **kwargs: Any,
    ) -> Container | bytes | Iterator[bytes] | None:
        """`docker run`. Detached: the Container. Otherwise wait for the exit and return
        its output (a generator with `stream=True`; None when the log driver keeps
        nothing); a non-zero exit raises ContainerError with the stderr log (None if the
        container removed itself first).

        docker-py: docker/models/containers.py ContainerCollection.run
        """
        if isinstance(image, Image):
            image = image.id
        stream = kwargs.pop("stream", False)
        detach = kwargs.pop("detach", False)
        platform = kwargs.get("platform")
        if detach and remove:
            kwargs["auto_remove"] = True
        if kwargs.get("network") and kwargs.get("network_mode"):
            raise RuntimeError('The options "network" and "network_mode" can not be used together.')
        if kwargs.get("networking_config") and not kwargs.get("network"):
            raise RuntimeError('The option "networking_config" can not be used without "network".')
        try:
            container = self.create(image=image, command=command, **kwargs)
        except ImageNotFound:
            self.client.images.pull(image, platform=platform)
            container = self.create(image=image, command=command, **kwargs)
        container.start()
        if detach:
            return container
        logging_driver = container.attrs["HostConfig"]["LogConfig"]["Type"]
        out: Any = None
        if logging_driver in ("json-file", "journald"):
            out = container.logs(stdout=stdout, stderr=stderr, stream=True, follow=True)
        exit_status = container.wait()["StatusCode"]
        if exit_status != 0:
            out = None
            if not kwargs.get("auto_remove"):
                out = container.logs(stdout=False, stderr=True)
        if remove:
            container.remove()
        if exit_status != 0:
            raise ContainerError(container, exit_status, command, image, out)
        if stream or out is None:
            return out
        return b"".join(out)

    def list(
        self,
        all: bool = False,
        before: str | None = None,
        filters: dict[str, Any] | None = None,
        limit: int = -1,
        since: str | None = None,
        sparse: bool = False,
        ignore_removed: bool = False,
    ) -> list[Container]:
        """`docker ps`; `sparse` keeps the list's own rows (no inspect per container)."""
        filters = dict(filters or {})
        if before:
            filters["before"] = before
        if since:
            filters["since"] = since
        rows = self._daemon.list(all=all, filters=filters or None, limit=limit)
        if sparse:
            return [self.prepare_model(r) for r in rows]
        out = []
        for r in rows:
            try:
                out.append(self.get(r["Id"]))
            except NotFound:
                if not ignore_removed:
                    raise
        return out

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker container prune`: {"ContainersDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune(filters)


def _port_key(p: Any) -> str:
    p = str(p)
    return p if "/" in p else p + "/tcp"


def _healthcheck(hc: Any) -> dict[str, Any] | None:
    """docker-py: docker/types/healthcheck.py (lower-case keys become the API's)."""
    if hc is None:
        return None
    out: dict[str, Any] = {}
    for key, value in dict(hc).items():
        api = {"start_period": "StartPeriod"}.get(key, key[:1].upper() + key[1:])
        out[api] = value
    if isinstance(out.get("Test"), str):
        out["Test"] = ["CMD-SHELL", out["Test"]]
    return out
