"""What the daemon keeps of a container besides config.v2.json: its restart manager, a
pending policy restart, the time a thawed process resumes, and the simulated process.

Stored as `<root>/runtime/<id>.json` with the keys `restart`, `restart_at`, `resume_at` and
`process` (each left out when unset), so a root written by an earlier version loads.

Ours: moby keeps this in memory (restartmanager, the containerd task) and in containerd.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dockerlayers._record import Record
from dockerlayers.container.container import Container
from dockerlayers.daemon.restartmanager import RestartManager
from dockerlayers.ioutils import atomic_write_file


class ContainerRuntime(Record):
    """One container's runtime state."""

    _fields = ("restart", "restart_at", "resume_at", "process")

    def __init__(
        self,
        restart: RestartManager | None = None,
        restart_at: float | None = None,
        resume_at: float | None = None,
        process: dict[str, Any] | None = None,
    ) -> None:
        #: the restart manager's bookkeeping (None: never started since this was written)
        self.restart = restart
        #: when a pending policy restart falls due (the container is `restarting`)
        self.restart_at = restart_at
        #: a thawed process does not run before this time (frozen time is not replayed)
        self.resume_at = resume_at
        #: the running process, saved so that a later daemon can revive it
        self.process = process

    def restart_manager(self, c: Container) -> RestartManager:
        """This container's restart manager (one for its policy if none was kept)."""
        if self.restart is None:
            self.restart = RestartManager.from_json({"Policy": c.host_config.get("RestartPolicy")})
        return self.restart

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.restart is not None:
            out["restart"] = self.restart.to_json()
        if self.restart_at is not None:
            out["restart_at"] = self.restart_at
        if self.resume_at is not None:
            out["resume_at"] = self.resume_at
        if self.process is not None:
            out["process"] = self.process
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerRuntime:
        restart = data.get("restart")
        restart_at = data.get("restart_at")
        resume_at = data.get("resume_at")
        return cls(
            restart=RestartManager.from_json(restart) if restart else None,
            restart_at=float(restart_at) if restart_at is not None else None,
            resume_at=float(resume_at) if resume_at is not None else None,
            process=data.get("process"),
        )


def runtime_path(runtime_dir: str, cid: str) -> str:
    return os.path.join(runtime_dir, f"{cid}.json")


def load_runtime(
    runtime_dir: str, cid: str, on_disk: dict[str, bytes] | None = None
) -> ContainerRuntime:
    """The saved runtime state (an empty one if there is none or it does not parse).
    `on_disk` (cid -> bytes) is told what the file holds, for `write_runtime`."""
    try:
        with open(runtime_path(runtime_dir, cid), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return ContainerRuntime()
    if on_disk is not None:
        on_disk[cid] = data
    try:
        return ContainerRuntime.from_json(json.loads(data))
    except ValueError:
        return ContainerRuntime()


def write_runtime(
    runtime_dir: str, cid: str, rt: ContainerRuntime, on_disk: dict[str, bytes] | None = None
) -> None:
    """Write the runtime state, unless the file already holds exactly these bytes (each
    CLI command saves every container at its end: unchanged ones cost no fsync). With
    `on_disk` (what `load_runtime` read and this wrote, by cid) the file is not read again."""
    data = json.dumps(rt.to_json()).encode()
    path = runtime_path(runtime_dir, cid)
    if on_disk is not None and cid in on_disk:
        if on_disk[cid] == data:
            return
    else:
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    return
        except OSError:
            pass
    atomic_write_file(path, data, 0o600)
    if on_disk is not None:
        on_disk[cid] = data


def remove_runtime(runtime_dir: str, cid: str) -> None:
    """Forget a removed container's runtime state and its /dev."""
    try:
        os.unlink(runtime_path(runtime_dir, cid))
    except FileNotFoundError:
        pass
    from dockerlayers.ioutils import remove_all

    remove_all(os.path.join(runtime_dir, cid + ".dev"), ignore_errors=True)
