"""`docker rename`.

moby: daemon/rename.go ContainerRename
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.daemon.errors import rename_allocate, rename_empty, rename_same
from dockerlayers.daemon.names import conflict, validate_name
from dockerlayers.errors import APIError, Conflict

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def rename(daemon: Daemon, ref: str, new_name: str) -> None:
    """Reserve the new name (Docker's texts when it is taken or invalid), checkpoint,
    event `rename` with `oldName`.

    moby: daemon/rename.go ContainerRename
    """
    with daemon.locked(advance=False):
        if not ref or not new_name:
            raise rename_empty()
        c = daemon.get_container(ref)
        stored = "/" + new_name.lstrip("/")
        old = c.name
        if stored == old:
            raise rename_same()
        try:
            stored = validate_name(stored)  # moby prefixes "/" before reserving
        except APIError as e:
            raise rename_allocate(e) from None
        holder = daemon.name_holder(stored)
        if holder is not None:
            raise rename_allocate(conflict(stored, holder.id), Conflict)
        c.name = stored
        c.checkpoint()
        attrs = daemon.attrs(c)
        attrs["oldName"] = old
        daemon.events.log("container", "rename", c.id, attrs)
