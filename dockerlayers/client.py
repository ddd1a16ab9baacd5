"""The public face, shaped like the docker SDK for Python (`docker` on PyPI).

    client = DockerClient(seed=1, clock="virtual", mounts="user")
    c = client.containers.run(client.images.base(), "sh -c 'echo hi > /f'", detach=True)

Code written against this API carries over to real Docker with `docker.from_env()`.

docker-py: docker/client.py, docker/models/{containers,images,volumes}.py
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections import namedtuple
from typing import Any

from dockerlayers.daemon.daemon import Daemon
from dockerlayers.errors import ContainerError, NotFound
from dockerlayers.process.clock import Clock

ExecResult = namedtuple("ExecResult", "exit_code,output")


def _remove_temp_root(daemon: Daemon, root: str) -> None:
    """Finalizer of a client on a temporary root: let go of the daemon, delete the root
    (nothing there outlives it, so nothing needs a graceful stop)."""
    try:
        daemon.detach()
    except Exception:
        pass
    shutil.rmtree(root, ignore_errors=True)


class Model:
    """A thing the daemon knows by ID; `attrs` is what its inspect returned."""

    id_attribute = "Id"

    def __init__(self, attrs: dict[str, Any], client: DockerClient, collection: Any) -> None:
        self.attrs = attrs
        self.client = client
        self.collection = collection

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.id == other.id

    def __hash__(self) -> int:
        return hash(f"{type(self).__name__}:{self.id}")

    @property
    def id(self) -> str:
        return self.attrs[self.id_attribute]

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def reload(self) -> None:
        self.attrs = self.collection.get(self.id).attrs


class Container(Model):
    """A container; its methods are the docker CLI's container commands."""

    @property
    def name(self) -> str:
        return self.attrs["Name"].lstrip("/")

    @property
    def status(self) -> str:
        return self.attrs["State"]["Status"]

    @property
    def image(self) -> Image:
        return self.client.images.get(self.attrs["Image"])

    @property
    def labels(self) -> dict[str, str]:
        return self.attrs["Config"].get("Labels") or {}

    @property
    def _daemon(self) -> Daemon:
        return self.client.daemon

    def _after(self) -> None:
        try:
            self.reload()
        except NotFound:
            pass

    def start(self) -> None:
        self._daemon.start(self.id)
        self._after()

    def stop(self, timeout: float | None = None) -> None:
        self._daemon.stop(self.id, timeout)
        self._after()

    def restart(self, timeout: float | None = None) -> None:
        self._daemon.restart(self.id, timeout)
        self._after()

    def kill(self, signal: str | int = "SIGKILL") -> None:
        self._daemon.kill(self.id, signal)
        self._after()

    def pause(self) -> None:
        self._daemon.pause(self.id)
        self._after()

    def unpause(self) -> None:
        self._daemon.unpause(self.id)
        self._after()

    def remove(self, force: bool = False, v: bool = False) -> None:
        self._daemon.remove(self.id, force=force, v=v)

    def rename(self, name: str) -> None:
        self._daemon.rename(self.id, name)
        self._after()

    def wait(self, timeout: float | None = None, condition: str = "not-running") -> dict[str, Any]:
        result = self._daemon.wait(self.id, condition=condition, timeout=timeout)
        self._after()
        return result

    def logs(
        self,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: int | str = "all",
        since: float | None = None,
        until: float | None = None,
    ) -> bytes:
        return self._daemon.logs(
            self.id,
            stdout=stdout,
            stderr=stderr,
            timestamps=timestamps,
            tail=tail,
            since=since,
            until=until,
        )

    def diff(self) -> list[dict[str, Any]]:
        """`docker diff`: [{"Path": "/etc", "Kind": 0}, ...] (0 changed, 1 added, 2 deleted)."""
        return self._daemon.changes(self.id)

    def exec_run(
        self,
        cmd: list[str] | str,
        stdout: bool = True,
        stderr: bool = True,
        environment=None,
        workdir: str | None = None,
        user: str | None = None,
        demux: bool = False,
    ) -> ExecResult:
        code, out, err = self._daemon.exec_run(
            self.id, cmd, environment=environment, workdir=workdir, user=user
        )
        self._after()
        if demux:
            return ExecResult(code, (out if stdout else None, err if stderr else None))
        return ExecResult(code, (out if stdout else b"") + (err if stderr else b""))

    def commit(
        self,
        repository: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        author: str | None = None,
        changes: list[str] | str | None = None,
        conf: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> Image:
        image_id = self._daemon.commit(
            self.id,
            repository=repository,
            tag=tag,
            comment=message,
            author=author,
            changes=changes,
            config=conf,
            pause=pause,
        )
        self._after()
        return self.client.images.get(image_id)

    def export(self) -> bytes:
        """The merged filesystem as a tar (`docker export`)."""
        return self._daemon.export(self.id)

    def get_archive(self, path: str) -> bytes:
        return self._daemon.get_archive(self.id, path)

    @property
    def rootfs(self):
        """The container's files as its processes see them (a RootFS)."""
        return self._daemon.mount(self.id)


class ContainerCollection:
    """`client.containers`."""

    def __init__(self, client: DockerClient) -> None:
        self.client = client

    def _model(self, attrs: dict[str, Any]) -> Container:
        return Container(attrs, self.client, self)

    def get(self, container_id: str) -> Container:
        return self._model(self.client.daemon.inspect(container_id))

    def create(
        self, image: Image | str, command: list[str] | str | None = None, **kwargs: Any
    ) -> Container:
        """Like docker-py's create; `restart_policy` is {"Name": ..., "MaximumRetryCount": n}
        or "on-failure:3", `volumes` a dict (docker-py) or a list of "src:dst[:ro]"."""
        ref = image.id if isinstance(image, Image) else image
        kwargs.pop("detach", None)
        remove = kwargs.pop("remove", None)
        if remove is not None:
            kwargs["auto_remove"] = remove
        c = self.client.daemon.create(ref, command, **kwargs)
        return self.get(c.id)

    def run(
        self,
        image: Image | str,
        command: list[str] | str | None = None,
        detach: bool = False,
        stdout: bool = True,
        stderr: bool = False,
        remove: bool = False,
        **kwargs: Any,
    ) -> Container | bytes:
        """`docker run` = create + start. Without `detach`, wait for the exit and return the
        output (a non-zero exit raises ContainerError, as docker-py does)."""
        container = self.create(image, command, auto_remove=remove and detach, **kwargs)
        container.start()
        if detach:
            return container
        result = container.wait()
        out = container.logs(stdout=stdout, stderr=stderr)
        if remove:
            try:
                container.remove(force=True)
            except NotFound:
                pass
        if result["StatusCode"] != 0:
            err = container.logs(stdout=False, stderr=True) if not remove else out
            raise ContainerError(container, result["StatusCode"], command, image, err)
        return out

    def list(
        self,
        all: bool = False,
        filters: dict[str, Any] | None = None,
        limit: int = -1,
        sparse: bool = False,
    ) -> list[Container]:
        rows = self.client.daemon.list(all=all, filters=filters, limit=limit)
        if sparse:
            return [self._model(r) for r in rows]
        return [self.get(r["Id"]) for r in rows]

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.daemon.prune(filters)


class Image(Model):
    """An image; `attrs` is `docker image inspect`."""

    @property
    def short_id(self) -> str:
        """`sha256:` plus 12 hex characters, as docker-py shows it."""
        return self.id[:19] if self.id.startswith("sha256:") else self.id[:12]

    @property
    def tags(self) -> list[str]:
        return [t for t in self.attrs.get("RepoTags") or [] if t != "<none>:<none>"]

    @property
    def labels(self) -> dict[str, str]:
        return (self.attrs.get("Config") or {}).get("Labels") or {}

    def history(self) -> list[dict[str, Any]]:
        """`docker history` rows as the API returns them (newest first)."""
        return [
            {
                "Id": h.id,
                "Created": h.created,
                "CreatedBy": h.created_by,
                "Tags": h.tags or None,
                "Size": h.size,
                "Comment": h.comment,
            }
            for h in self.client.daemon.image_service.history(self.id)
        ]

    def save(self, named: bool | str = False, format: str = "docker") -> bytes:
        return self.client.images.save(
            self.id if not named else (named if isinstance(named, str) else self.tags[0]),
            format=format,
        )

    def tag(self, repository: str, tag: str | None = None, force: bool = False) -> bool:
        """Tag the image `repository[:tag]` (`latest` when no tag is given), like docker-py."""
        ref = f"{repository}:{tag}" if tag else repository
        self.client.daemon.image_service.tag(self.id, ref)
        self.reload()
        return True


class ImageCollection:
    """`client.images`."""

    def __init__(self, client: DockerClient) -> None:
        self.client = client

    @property
    def _service(self):
        return self.client.daemon.image_service

    def _model(self, attrs: dict[str, Any]) -> Image:
        return Image(attrs, self.client, self)

    def get(self, name: str) -> Image:
        return self._model(self.client.daemon.image_inspect(name))

    def base(self) -> Image:
        """The built-in base image (busybox-like, no network needed), loaded on first use."""
        return self.get(self.client.daemon.base_image())

    def list(
        self, name: str | None = None, all: bool = False, filters: dict[str, Any] | None = None
    ) -> list[Image]:
        filters = dict(filters or {})
        if name:
            filters["reference"] = name  # docker-py sends the name as a reference filter
        rows = self.client.daemon.images(all=all, filters=filters)
        return [self.get(row.id) for row in rows]

    def load(self, data: bytes) -> list[Image]:
        ids = self.client.daemon.load(data)
        return [self.get(i) for i in ids]

    def save(self, ref: str | list[str], format: str = "docker") -> bytes:
        return self.client.daemon.save(ref if isinstance(ref, list) else [ref], format=format)

    def import_image(
        self,
        tar: bytes | str,
        repository: str | None = None,
        tag: str | None = None,
        changes: list[str] | None = None,
        message: str | None = None,
    ) -> Image:
        image_id = self.client.daemon.import_image(
            tar, repository, tag, changes=changes, message=message
        )
        return self.get(image_id)

    def build(
        self, path: str, tag: str | None = None, dockerfile: str = "Dockerfile", **kwargs: Any
    ) -> tuple[Image, list[dict[str, Any]]]:
        image_id, log = self.client.daemon.build(path, tag=tag, dockerfile=dockerfile, **kwargs)
        return self.get(image_id), log

    def remove(
        self, image: str, force: bool = False, noprune: bool = False
    ) -> list[dict[str, str]]:
        return self.client.daemon.remove_image(image, force=force, prune=not noprune)

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.daemon.prune_images(filters)


class Volume(Model):
    id_attribute = "Name"

    @property
    def name(self) -> str:
        return self.attrs["Name"]

    def remove(self, force: bool = False) -> None:
        self.client.daemon.volumes.remove(
            self.name, self.client.daemon.volume_users(self.name), force
        )


class VolumeCollection:
    """`client.volumes`: named volumes of the `local` driver."""

    def __init__(self, client: DockerClient) -> None:
        self.client = client

    def create(
        self, name: str | None = None, labels: dict[str, str] | None = None, **_: Any
    ) -> Volume:
        return Volume(self.client.daemon.volumes.create(name, labels), self.client, self)

    def get(self, volume_id: str) -> Volume:
        return Volume(self.client.daemon.volumes.inspect(volume_id), self.client, self)

    def list(self, filters: dict[str, Any] | None = None) -> list[Volume]:
        return [Volume(v, self.client, self) for v in self.client.daemon.list_volumes(filters)]

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client.daemon.prune_volumes(filters)


class DockerClient:
    """A daemon on a root folder, with docker-py's collections on top.

    root=None: a fresh temporary root, removed by close(); a path: persistent — a new
    client on the same root finds every image, container and file again.
    driver: "overlay2" (default), "aufs", "vfs". seed: reproducible IDs and names.
    clock: None (real time) or "virtual" (time moves only when asked: client.clock.advance).
    mounts: "auto" (the kernel's overlayfs where allowed), "user" (always the user-space
    union; notebooks pin this), "kernel" (required).
    """

    def __init__(
        self,
        root: str | None = None,
        driver: str = "overlay2",
        seed: int | None = None,
        clock: Clock | str | None = None,
        mounts: str = "auto",
    ) -> None:
        self._temp_root = root is None
        if root is None:
            root = tempfile.mkdtemp(prefix="dockerlayers-")
        self.root = os.path.abspath(root)
        try:
            self.daemon = Daemon(self.root, driver, seed=seed, clock=clock, mounts=mounts)
        except BaseException:
            if self._temp_root:
                shutil.rmtree(self.root, ignore_errors=True)
            raise
        if self._temp_root:
            # A notebook kernel that exits without close() must not leave its root behind.
            self._finalizer = weakref.finalize(self, _remove_temp_root, self.daemon, self.root)
        self.containers = ContainerCollection(self)
        self.images = ImageCollection(self)
        self.volumes = VolumeCollection(self)

    def __repr__(self) -> str:
        return f"<DockerClient root={self.root} driver={self.daemon.driver.name}>"

    def __enter__(self) -> DockerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def clock(self):
        return self.daemon.clock

    def info(self) -> dict[str, Any]:
        return self.daemon.info()

    def close(self) -> None:
        """dockerd's shutdown: running containers get SIGTERM, their timeout, SIGKILL.
        A temporary root is removed."""
        self.daemon.close()
        if self._temp_root:
            self._finalizer.detach()
            shutil.rmtree(self.root, ignore_errors=True)

    def detach(self) -> None:
        """Let go of the root without stopping anything (the next client carries on)."""
        self.daemon.detach()
