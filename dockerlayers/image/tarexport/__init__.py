"""`docker save` / `docker load`: Docker archives (both layouts) and OCI image layouts.

moby: image/tarexport/
"""

from dockerlayers.image.tarexport.tarexport import (
    FORMAT_DOCKER,
    FORMAT_DOCKER_25,
    FORMAT_DOCKER_LEGACY,
    FORMAT_OCI,
    FORMAT_OCI_DIR,
    FORMATS,
    TarExporter,
)

__all__ = [
    "FORMATS",
    "FORMAT_DOCKER",
    "FORMAT_DOCKER_25",
    "FORMAT_DOCKER_LEGACY",
    "FORMAT_OCI",
    "FORMAT_OCI_DIR",
    "TarExporter",
]
