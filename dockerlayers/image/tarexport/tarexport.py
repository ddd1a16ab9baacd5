"""The exporter: the stores save and load work with, and the formats it writes.

Formats `save` writes:
  * ``"docker"`` (default): what Docker 20.10 writes (and every Docker up to 24):
    `<v1 id>/{VERSION,json,layer.tar}`, `<config hex>.json`, `manifest.json`,
    `repositories`. ``"docker-legacy"`` is the same (its older name here).
  * ``"docker-25"``: what Docker 25+ writes, an OCI layout inside the archive
    (`oci-layout`, `index.json`, `blobs/sha256/...`) plus `manifest.json` and
    `repositories`. It loads in Docker 25+, in older Docker (which only reads
    `manifest.json`, whose paths point into `blobs/`), and in OCI tools.
  * ``"oci"`` / ``"oci-dir"``: a plain OCI image layout as a tar or a folder, layers
    uncompressed or gzip (`gzip_layers=True`), tags as `org.opencontainers.image.ref.name`.
`load` reads all of them.

moby: image/tarexport/tarexport.go
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from dockerlayers.image.reference import ReferenceStore
from dockerlayers.image.store import ImageStore
from dockerlayers.layer import LayerStore

FORMAT_DOCKER = "docker"  # Docker 20.10's layout, the model's Docker
FORMAT_DOCKER_LEGACY = "docker-legacy"  # the same, by its older name here
FORMAT_DOCKER_25 = "docker-25"  # Docker 25+: an OCI layout plus manifest.json
FORMAT_OCI = "oci"
FORMAT_OCI_DIR = "oci-dir"
FORMATS = (FORMAT_DOCKER, FORMAT_DOCKER_LEGACY, FORMAT_DOCKER_25, FORMAT_OCI, FORMAT_OCI_DIR)

MANIFEST_FILE = "manifest.json"
LEGACY_REPOSITORIES_FILE = "repositories"
LEGACY_VERSION_FILE = "VERSION"
LEGACY_CONFIG_FILE = "json"
LEGACY_LAYER_FILE = "layer.tar"


@dataclass
class TarExporter:
    """moby: image/tarexport/tarexport.go tarexporter"""

    image_store: ImageStore
    layer_store: LayerStore
    reference_store: ReferenceStore
    tmp_dir: str
    #: called as log_event(image_id, ref_name, action) for "save", "load", "tag"
    log_event: Callable[[str, str, str], None] | None = None

    def save(
        self,
        names: list[str],
        out: BinaryIO | str,
        format: str = FORMAT_DOCKER,
        *,
        gzip_layers: bool = False,
    ) -> None:
        """Write the images `names` (references or IDs) to `out` (file object or path;
        a folder path for ``"oci-dir"``)."""
        from dockerlayers.image.tarexport.save import save

        save(self, names, out, format, gzip_layers=gzip_layers)

    def load(self, data: BinaryIO | bytes | str) -> list[str]:
        """Load an archive (file object, bytes, tar path) or an OCI layout folder; returns
        the lines `docker load` prints. On any error nothing is changed."""
        from dockerlayers.image.tarexport.load import load

        return load(self, data)

    def _event(self, id: str, ref: str, action: str) -> None:
        if self.log_event is not None:
            self.log_event(id, ref, action)
