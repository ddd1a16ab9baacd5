"""The daemon's image and volume verbs: thin entries over the image service and the
volume store, kept out of daemon.py so the Daemon class stays one screenful per concern.
`Daemon` inherits them; they use its lock, clock, stores and events.

moby: daemon/images (ImageService), volume/service
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, BinaryIO

from dockerlayers._lazy import LazyModule
from dockerlayers.containerd.ids import shown_image_id

if TYPE_CHECKING:
    pass

daemon_images = LazyModule("dockerlayers.image.daemon_images")


class ImageVerbs:
    """`docker images/image inspect/build/import/load/save/pull/rmi/image prune` and the
    volume listing and prune, on the daemon's stores."""

    def volume_users(self, name: str) -> list[str]:
        return [
            c.id
            for c in self.containers.values()
            if any(mp.get("Name") == name for mp in c.mount_points.values())
        ]

    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        """(container id, running) for every container made from `image_id`."""
        return [(c.id, c.state.running) for c in self.containers.values() if c.image == image_id]

    # -- images ------------------------------------------------------------------------------
    def base_image(self) -> str:
        """The built-in base image's ID, importing it on first use (same ID every time)."""
        with self.lock:
            return daemon_images.base_image(self.image_service)

    def image_inspect(self, ref: str) -> dict[str, Any]:
        with self.lock:
            data = daemon_images.image_inspect(self.image_service, ref, self.driver.name)
            if self.storage == "containerd":
                from dockerlayers.containerd.imageservice import present_inspect

                data = present_inspect(
                    data, self.layer_store.manifest_of, self.image_service.image_id
                )
            return data

    def build(
        self,
        path: str,
        tag: str | list[str] | None = None,
        dockerfile: str = "Dockerfile",
        **kwargs: Any,
    ) -> tuple[str, list[str]]:
        """`docker build` with the legacy builder: (image ID, output lines).

        moby: builder/dockerfile (each step a container, committed)
        """
        from dockerlayers.builder import build

        with self.locked(advance=False):
            tags = [tag] if isinstance(tag, str) else list(tag or [])
            image_id, lines = build(self, path, tags=tags, dockerfile=dockerfile, **kwargs)
            return shown_image_id(self, image_id), lines

    def import_image(
        self,
        tar: Any,
        repository: str | None = None,
        tag: str | None = None,
        changes: list[str] | None = None,
        message: str | None = None,
    ) -> str:
        with self.locked(advance=False):
            id = daemon_images.import_image(
                self.image_service, tar, repository, tag, changes, message
            )
            # moby 29: image_import.go ImportImage returns the manifest's digest
            return shown_image_id(self, id)

    def load(self, data: Any) -> list[str]:
        """`docker load`; the IDs of the images loaded (`last_load_output`: its lines)."""
        with self.locked(advance=False):
            loaded, self.last_load_output = daemon_images.load(self.image_service, data)
            return loaded

    def save(
        self, refs: list[str], format: str = "docker", out: BinaryIO | None = None
    ) -> bytes | None:
        """`docker save`: the tar as bytes, or written to `out` (a file object)."""
        with self.lock:
            if out is None:
                return daemon_images.save(self.image_service, refs, format)
            self.image_service.save(refs, out, format)
            return None

    def pull(self, ref: str) -> str:
        """`docker pull`: the image ID; the built-in base is made locally, any other image
        comes from its registry (`registry-mirrors`, `insecure-registries` from
        `<root>/daemon.json`).

        moby: daemon/images/image_pull.go PullImage
        """
        with self.locked(advance=False):
            return daemon_images.pull(self.image_service, ref)

    def remove_image(
        self, ref: str, force: bool = False, prune: bool = True
    ) -> list[dict[str, str]]:
        with self.locked(advance=False):
            return daemon_images.remove_image(self.image_service, ref, force, prune)

    def images(self, all: bool = False, filters: Any = None) -> list[Any]:
        """`docker images [-a] [--filter ...]` (ImageSummary items)."""
        with self.locked():
            summaries = self.image_service.images(all=all, filters=filters)
            if self.storage == "containerd":
                from dockerlayers.containerd.imageservice import present_summaries

                summaries = present_summaries(summaries, self.layer_store.manifest_of)
            return summaries

    def prune_images(self, filters: Any = None, all: bool = False) -> dict[str, Any]:
        """`docker image prune [-a]`; its `prune` event carries the space reclaimed."""
        with self.locked():
            if all:  # the CLI's -a: moby's dangling=false filter
                from dockerlayers.filters import Args

                pairs = Args.of(filters).to_dict().items()
                filters = Args((k, v) for k, vs in pairs for v in vs)
                filters.add("dangling", "false")
            report = daemon_images.prune_images(self.image_service, filters, now=self.clock.now())
            self.events.log("image", "prune", "", {"reclaimed": str(report["SpaceReclaimed"])})
            return report

    def volume_refs(self) -> set[str]:
        """The volumes some container refers to (moby: volume/service ByReferenced)."""
        return {
            mp.get("Name") for c in self.containers.values() for mp in c.mount_points.values()
        } - {None, ""}

    def list_volumes(self, filters: Any = None) -> list[dict[str, Any]]:
        """`docker volume ls [--filter ...]`."""
        with self.locked():
            return self.volumes.list(filters, self.volume_refs())

    def prune_volumes(self, filters: Any = None) -> dict[str, Any]:
        """`docker volume prune [--filter ...]`; its `prune` event carries the space reclaimed."""
        with self.locked():
            report = self.volumes.prune(self.volume_refs(), filters)
            self.events.log("volume", "prune", "", {"reclaimed": str(report["SpaceReclaimed"])})
            return report
