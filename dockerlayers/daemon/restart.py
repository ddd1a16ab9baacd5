"""`docker restart`: stop (if running) then start, on the same RW layer (same mount-id).

moby: daemon/restart.go ContainerRestart / containerRestart
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerlayers.daemon.errors import cannot_restart
from dockerlayers.daemon.start import container_start
from dockerlayers.daemon.stop import container_stop, stop_timeout
from dockerlayers.errors import APIError

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


def restart(daemon: Daemon, ref: str, timeout: float | None = None) -> None:
    """`docker restart` (a manual start: RestartCount goes back to 0).

    moby: daemon/restart.go ContainerRestart
    """
    with daemon.operation(ref) as c:
        try:
            if c.state.running:
                auto_remove = c.host_config.get("AutoRemove")
                c.host_config["AutoRemove"] = False  # 20.10: no auto-remove mid-restart
                t = stop_timeout(c) if timeout is None else float(timeout)
                try:
                    container_stop(daemon, c, t)
                finally:
                    c.host_config["AutoRemove"] = auto_remove
            container_start(daemon, c, reset_restart_manager=True)
        except APIError as e:
            raise cannot_restart(ref, e) from None
        daemon.events.log("container", "restart", c.id, daemon.attrs(c))
        daemon.write_state()
