"""`client.volumes` and Volume, shaped like docker-py's (the `local` driver only).

docker-py: docker/models/volumes.py
"""

from __future__ import annotations

from typing import Any

from dockerlayers.client.models.resource import Collection, Model
from dockerlayers.errors import NullResource


class Volume(Model):
    """A named volume; `attrs` is `docker volume inspect`."""

    id_attribute = "Name"

    @property
    def name(self) -> str:
        return self.attrs["Name"]

    def remove(self, force: bool = False) -> None:
        daemon = self.client.daemon
        daemon.volumes.remove(self.id, daemon.volume_users(self.id), force)


class VolumeCollection(Collection):
    """`client.volumes`."""

    model = Volume

    def create(self, name: str | None = None, **kwargs: Any) -> Volume:
        """docker-py: create(name, driver="local", driver_opts={...}, labels={...})."""
        attrs = self._daemon.volumes.create(
            name,
            kwargs.get("labels"),
            driver=kwargs.get("driver") or "local",
            options=kwargs.get("driver_opts"),
        )
        return self.prepare_model(attrs)

    def get(self, volume_id: str) -> Volume:
        if not volume_id:
            raise NullResource("Resource ID was not provided")
        return self.prepare_model(self._daemon.volumes.inspect(volume_id))

    def list(self, filters: dict[str, Any] | None = None) -> list[Volume]:
        """`docker volume ls`; filters: name, driver, label, dangling (moby's)."""
        return [self.prepare_model(v) for v in self._daemon.list_volumes(filters)]

    def prune(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker volume prune`: {"VolumesDeleted": [...], "SpaceReclaimed": n}."""
        return self._daemon.prune_volumes(filters)
