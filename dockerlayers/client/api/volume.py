"""docker-py's VolumeApiMixin: volumes, create_volume, inspect, remove, prune.

docker-py: docker/api/volume.py
"""

from __future__ import annotations

from typing import Any

from dockerlayers.client.api.client import APIBase
from dockerlayers.errors import InvalidVersion


class VolumeApiMixin(APIBase):
    """The volume calls of docker-py's APIClient (the `local` driver)."""

    def volumes(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET /volumes: {"Volumes": [...], "Warnings": None}."""
        return {"Volumes": self._daemon.list_volumes(filters), "Warnings": None}

    def create_volume(
        self,
        name: str | None = None,
        driver: str | None = None,
        driver_opts: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """`docker volume create`: the volume's inspect dict.

        docker-py: docker/api/volume.py create_volume
        """
        if driver_opts is not None and not isinstance(driver_opts, dict):
            raise TypeError("driver_opts must be a dictionary")
        if labels is not None and not isinstance(labels, dict):
            raise TypeError("labels must be a dictionary")
        from dockerlayers.client.api.client import version_lt

        if labels and version_lt(self._version, "1.23"):
            raise InvalidVersion("volume labels were introduced in API 1.23")
        return self._daemon.volumes.create(
            name, labels, driver=driver or "local", options=driver_opts
        )

    def inspect_volume(self, name: str) -> dict[str, Any]:
        return self._daemon.volumes.inspect(name)

    def remove_volume(self, name: str, force: bool = False) -> None:
        self._daemon.volumes.remove(name, self._daemon.volume_users(name), force)

    def prune_volumes(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker volume prune`: {"VolumesDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune_volumes(filters)
