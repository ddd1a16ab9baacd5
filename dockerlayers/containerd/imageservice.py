"""The daemon's image service in containerd mode: Docker 29's image IDs on the outside.

Interim (see layerstore.py): the images live in the graph-driver image store, mirrored into
containerd. What a client sees follows Docker 29: an image's ID is its manifest digest
(`docker images`, `docker image inspect`), a manifest digest or its prefix finds the image,
and its size is the content plus the unpacked snapshots. Inside, the daemon still keys
images by config digest (a container's `Image` is the config digest).

moby: daemon/containerd/image.go (GetImage, image.ID(img.Target.Digest)),
daemon/containerd/image_list.go (Size = content + unpacked)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dockerlayers.image.errors import ImageNotFound
from dockerlayers.image.service import ImageService, ImageSummary


class ContainerdImageService(ImageService):
    """ImageService whose look-ups also accept Docker 29's image IDs (manifest digests)."""

    def __init__(self, *args: Any, resolve_id: Callable[[str], str | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: manifest digest (or a prefix of its hex) -> config digest, None if unknown
        self._resolve_id = resolve_id

    def get_image(self, ref_or_id: str):
        """moby 29: daemon/containerd/image.go GetImage (by name, target digest or its prefix)"""
        try:
            return super().get_image(ref_or_id)
        except ImageNotFound:
            config_id = self._resolve_id(ref_or_id)
            if config_id is None:
                raise
            return super().get_image(config_id)

    #: set by the daemon: layer_store.export (docker save from containerd's content)
    export: Callable[..., bool] | None = None

    def save(self, names, out, format: str = "docker", *, gzip_layers: bool = False) -> None:
        """`docker save` on the containerd store: Docker 29 writes its OCI layout (with
        manifest.json) from the content store, blobs as stored. The graph store's exporter
        is used for what containerd does not have, and for the explicit formats.

        moby: daemon/containerd/image_exporter.go ExportImage
        """
        wanted = [names] if isinstance(names, str) else list(names)
        if (
            format in ("docker", "docker-25")
            and self.export is not None
            and self.export(wanted, out)
        ):
            return
        super().save(names, out, format, gzip_layers=gzip_layers)

    #: set by the daemon: layer_store.import_archive (docker load into containerd)
    import_archive: Callable[[bytes], None] | None = None

    def load(self, data: Any) -> list[str]:
        """`docker load` on the containerd store: an OCI-layout archive (Docker 25+'s save,
        or `oci`) is imported into containerd as it is — blobs as in the archive, the image
        ID its manifest digest — before the graph store loads it (interim).

        moby: daemon/containerd/image_exporter.go LoadImage (containerd's Import)
        """
        import io as _io

        if isinstance(data, str):
            with open(data, "rb") as f:
                raw = f.read()
        elif isinstance(data, (bytes, bytearray)):
            raw = bytes(data)
        else:
            raw = data.read()
        if self.import_archive is not None:
            self.import_archive(raw)
        return super().load(_io.BytesIO(raw))

    #: set by the daemon: layer_store.mirror_pulled (what `docker pull` fetched, as fetched)
    mirror_pulled: Callable[..., None] | None = None

    def on_pulled(self, image_id: str, name: str, top: Any, manifest: Any, fetch: Any) -> None:
        """moby 29: daemon/containerd/image_pull.go (containerd's Pull: blobs as pulled)"""
        if self.mirror_pulled is not None:
            self.mirror_pulled(image_id, name, top, manifest, fetch)


def present_summaries(
    summaries: list[ImageSummary], manifest_of: Callable[[str], Any]
) -> list[ImageSummary]:
    """`docker images` as Docker 29 lists them: ID = manifest digest, Size = total."""
    out = []
    for s in summaries:
        found = manifest_of(s.id)
        if found is None:
            out.append(s)
            continue
        digest, sizes = found
        out.append(replace(s, id=digest, size=sizes["total"]))
    return out


def present_inspect(data: dict[str, Any], manifest_of: Callable[[str], Any]) -> dict[str, Any]:
    """`docker image inspect` with Docker 29's Id and Size."""
    found = manifest_of(data["Id"])
    if found is None:
        return data
    digest, sizes = found
    data = dict(data)
    data["Id"] = digest
    data["Size"] = sizes["total"]
    data["VirtualSize"] = sizes["total"]
    return data
