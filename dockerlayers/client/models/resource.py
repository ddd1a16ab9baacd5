"""Model and Collection: a thing the daemon knows by ID, and the set of them.

`attrs` is a snapshot of what the daemon answered (its inspect); nothing refreshes it but
`reload()`, exactly as in docker-py, so `container.start()` leaves `container.status` as
it was until `container.reload()`.

docker-py: docker/models/resource.py
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockerlayers.client import DockerClient


class Model:
    """A single object on the daemon; `attrs` holds its raw representation."""

    id_attribute = "Id"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        client: DockerClient | None = None,
        collection: Collection | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.attrs = attrs if attrs is not None else {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.short_id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.id == other.id

    def __hash__(self) -> int:
        return hash(f"{type(self).__name__}:{self.id}")

    @property
    def id(self) -> str:
        return self.attrs.get(self.id_attribute)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def reload(self) -> None:
        """Load this object from the daemon again and update `attrs`."""
        self.attrs = self.collection.get(self.id).attrs


class Collection:
    """All objects of one type on the daemon."""

    model: type[Model] = Model

    def __init__(self, client: DockerClient | None = None) -> None:
        self.client = client

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"'{type(self).__name__}' object is not callable. You might be trying to use "
            "the old (pre-2.0) API - use docker.APIClient if so."
        )

    @property
    def _daemon(self):  # noqa: ANN202 - the Daemon
        return self.client.daemon

    def prepare_model(self, attrs: Model | dict[str, Any]) -> Model:
        """A model for `attrs` (or `attrs` itself, re-homed, when it is one)."""
        if isinstance(attrs, Model):
            attrs.client = self.client
            attrs.collection = self
            return attrs
        if isinstance(attrs, dict):
            return self.model(attrs=attrs, client=self.client, collection=self)
        raise Exception(f"Can't create {self.model.__name__} from {attrs}")
