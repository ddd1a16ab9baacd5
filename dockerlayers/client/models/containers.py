"""`client.containers` and Container, shaped like docker-py's.

Return shapes follow docker-py 7.1: `logs(stream=True)` and `run(stream=True)` yield bytes
chunks (one per log line), `export()` and `get_archive()` yield tar chunks of `chunk_size`
(the tar is spooled to a temporary file by the daemon, never held whole in memory),
`exec_run` returns ExecResult(exit_code, output) with `demux`/`stream` shapes as docker-py's.
`attrs` and `status` are a snapshot, refreshed by `reload()`.

docker-py: docker/models/containers.py, docker/api/container.py, docker/api/exec_api.py
"""

from __future__ import annotations

import tempfile
from collections import namedtuple
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from dockerlayers.client.api.container import timestamp_of as _timestamp  # noqa: F401
from dockerlayers.client.api.hostconfig import HostConfig
from dockerlayers.client.models.images import Image
from dockerlayers.client.models.resource import Collection, Model
from dockerlayers.client.types import (
    convert_volume_binds,
    host_volume_from_bind,
    split_run_kwargs,
)
from dockerlayers.errors import (
    ContainerError,
    DockerException,
    ImageNotFound,
    NotFound,
    NullResource,
)

#: docker-py: docker/constants.py DEFAULT_DATA_CHUNK_SIZE (2 MB)
DEFAULT_DATA_CHUNK_SIZE = 1024 * 2048

ExecResult = namedtuple("ExecResult", "exit_code,output")
ExecResult.__doc__ = "A result of Container.exec_run: `exit_code` and `output`."


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
    @property
    def _api(self):  # noqa: ANN202 - the APIClient
        return self.client.api

    def start(self, **kwargs: Any) -> None:
        self._api.start(self.id, **kwargs)

    def stop(self, timeout: float | None = None) -> None:
        self._api.stop(self.id, timeout=timeout)

    def restart(self, timeout: float | None = None) -> None:
        self._api.restart(self.id, timeout=timeout)

    def kill(self, signal: str | int | None = None) -> None:
        self._api.kill(self.id, signal=signal)

    def pause(self) -> None:
        self._api.pause(self.id)

    def unpause(self) -> None:
        self._api.unpause(self.id)

    def remove(self, v: bool = False, link: bool = False, force: bool = False) -> None:
        self._api.remove_container(self.id, v=v, link=link, force=force)

    def rename(self, name: str) -> None:
        self._api.rename(self.id, name)

    def wait(self, timeout: float | None = None, condition: str = "not-running") -> dict[str, Any]:
        """{"StatusCode": n, "Error": None or {"Message": ...}}, as the API answers."""
        return self._api.wait(self.id, timeout=timeout, condition=condition)

    def update(self, **kwargs: Any) -> dict[str, Any]:
        """Change resources / the restart policy (docker-py's update_container names)."""
        return self._api.update_container(self.id, **kwargs)

    # -- output ----------------------------------------------------------------------------
    def logs(self, **kwargs: Any) -> bytes | Iterator[bytes]:
        """The container's output: bytes, or with `stream` a generator of chunks (with
        `follow`, default = `stream`, it lasts until the container stops)."""
        return self._api.logs(self.id, **kwargs)

    def attach(self, **kwargs: Any) -> bytes | Iterator[Any]:
        """The output from now on (`logs=True`: from the start) until the container stops;
        a generator with `stream`. The model's processes read no input."""
        return self._api.attach(self.id, **kwargs)

    def top(self, **kwargs: Any) -> dict[str, Any]:
        """{"Titles": [...], "Processes": [[...]]} (`docker top`)."""
        return self._api.top(self.id, **kwargs)

    def stats(self, **kwargs: Any) -> Any:
        """One sample (`stream=False`) or a generator of them, one per second of the
        clock (JSON bytes, dicts with `decode`)."""
        return self._api.stats(self.id, **kwargs)

    # -- files ----------------------------------------------------------------------------
    def diff(self) -> list[dict[str, Any]]:
        """`docker diff`: [{"Path": "/etc", "Kind": 0}, ...] (0 changed, 1 added, 2 deleted)."""
        return self._api.diff(self.id)

    def export(self, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE) -> Iterator[bytes]:
        """The merged filesystem as a tar (`docker export`), in chunks."""
        return self._api.export(self.id, chunk_size)

    def get_archive(
        self,
        path: str,
        chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
        encode_stream: bool = False,
    ) -> tuple[Iterator[bytes], dict[str, Any]]:
        """(tar chunks, stat) of a file or folder (`docker cp CONTAINER:PATH -`)."""
        return self._api.get_archive(self.id, path, chunk_size, encode_stream)

    def put_archive(self, path: str, data: bytes | BinaryIO) -> bool:
        """Unpack a tar into the folder `path` (`docker cp - CONTAINER:PATH`)."""
        return self._api.put_archive(self.id, path, data)

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
        (of bytes, or of (stdout, stderr) pairs with `demux`) and exit_code None.

        docker-py: docker/models/containers.py Container.exec_run
        """
        resp = self._api.exec_create(
            self.id, cmd, stdout=stdout, stderr=stderr, stdin=stdin, tty=tty,
            privileged=privileged, user=user, environment=environment, workdir=workdir,
        )  # fmt: skip
        exec_output = self._api.exec_start(
            resp["Id"], detach=detach, tty=tty, stream=stream, socket=socket, demux=demux
        )
        if socket or stream:
            return ExecResult(None, exec_output)
        return ExecResult(self._api.exec_inspect(resp["Id"])["ExitCode"], exec_output)

    def commit(self, repository: str | None = None, tag: str | None = None, **kwargs: Any) -> Image:
        """`docker commit` (message, author, changes, conf, pause as docker-py)."""
        resp = self._api.commit(self.id, repository=repository, tag=tag, **kwargs)
        return self.client.images.get(resp["Id"])


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
        create_kw, host_kw = split_run_kwargs(kwargs)
        host_kw.pop("version", None)
        ports = host_kw.get("port_bindings")
        if ports:
            create_kw["ports"] = [tuple(str(p).split("/", 1)) for p in ports]
        if host_kw.get("binds"):
            binds = host_kw["binds"]
            create_kw["volumes"] = [
                host_volume_from_bind(v) for v in (binds if isinstance(binds, list) else
                                                   convert_volume_binds(binds))
            ]  # fmt: skip
        create_kw["host_config"] = HostConfig(self.client.api._version, **host_kw)
        create_kw.pop("image", None)
        create_kw.pop("command", None)
        resp = self.client.api.create_container(image, command, **create_kw)
        return self.get(resp["Id"])

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
