"""docker-py's ExecApiMixin: exec_create, exec_start, exec_inspect, exec_resize.

The daemon runs an exec from start to exit in one call (`Daemon.exec_run`), so an exec
instance lives here until it is started: `exec_create` checks the container as Docker does
(running, not paused, not restarting) and keeps the settings under a new ID; `exec_start`
runs it; `exec_inspect` answers the Engine API's ExecInspect. The instances belong to the
daemon (every client on it sees them), not to one client.

docker-py: docker/api/exec_api.py; moby: daemon/exec.go, api/types ContainerExecInspect
"""

from __future__ import annotations

import shlex
import weakref
from collections.abc import Iterator
from typing import Any

from dockerlayers.client.api.client import APIBase, check_resource, require_version
from dockerlayers.client.api.container import format_environment
from dockerlayers.errors import Conflict, InvalidArgument, NotFound

#: daemon -> {exec ID: the exec's record}
_EXECS: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()


def _execs(daemon: Any) -> dict[str, dict[str, Any]]:
    return _EXECS.setdefault(daemon, {})


class ExecApiMixin(APIBase):
    """The exec calls of docker-py's APIClient."""

    @check_resource("container")
    def exec_create(
        self,
        container: str,
        cmd: str | list[str],
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        tty: bool = False,
        privileged: bool = False,
        user: str = "",
        environment: dict[str, str] | list[str] | None = None,
        workdir: str | None = None,
        detach_keys: str | None = None,
    ) -> dict[str, str]:
        """An exec instance in a running container: {"Id": ...}.

        moby: daemon/exec.go ContainerExecCreate (getActiveContainer)
        """
        from dockerlayers.daemon.errors import exec_paused, not_running, restarting

        if environment is not None:
            require_version(
                self, "1.25", "Setting environment for exec is not supported in API < 1.25"
            )
        if isinstance(cmd, str):
            cmd = shlex.split(cmd)
        if isinstance(environment, dict):
            environment = format_environment(environment)
        if workdir is not None:
            require_version(self, "1.35", "workdir is not supported for API version < 1.35")
        if not cmd:
            from dockerlayers.errors import InvalidParameter

            raise InvalidParameter("No exec command specified")
        c = self._daemon.inspect(container)
        state = c["State"]
        if not state["Running"]:
            raise not_running(c["Id"])
        if state["Paused"]:
            raise exec_paused(container)
        if state["Restarting"]:
            raise restarting(c["Id"])
        exec_id = self._daemon.ids.generate_random_id()
        _execs(self._daemon)[exec_id] = {
            "ID": exec_id,
            "Running": False,
            "ExitCode": None,
            "ProcessConfig": {
                "tty": bool(tty),
                "entrypoint": cmd[0],
                "arguments": list(cmd[1:]),
                "privileged": bool(privileged),
                "user": user or "",
            },
            "OpenStdin": bool(stdin),
            "OpenStderr": bool(stderr),
            "OpenStdout": bool(stdout),
            "CanRemove": False,
            "ContainerID": c["Id"],
            "DetachKeys": detach_keys or self._general_configs.get("detachKeys") or "",
            "Pid": 0,
            "_env": environment,
            "_workdir": workdir,
        }
        return {"Id": exec_id}

    def exec_inspect(self, exec_id: str | dict[str, Any]) -> dict[str, Any]:
        """The Engine API's ExecInspect (ExitCode None until it has run)."""
        if isinstance(exec_id, dict):
            exec_id = exec_id.get("Id")
        rec = self._exec(exec_id)
        return {k: v for k, v in rec.items() if not k.startswith("_")}

    def exec_resize(
        self, exec_id: str | dict[str, Any], height: int | None = None, width: int | None = None
    ) -> None:
        """A TTY's size: the model's processes have no terminal, so nothing to resize."""
        if isinstance(exec_id, dict):
            exec_id = exec_id.get("Id")
        self._exec(exec_id)

    @check_resource("exec_id")
    def exec_start(
        self,
        exec_id: str,
        detach: bool = False,
        tty: bool = False,
        stream: bool = False,
        socket: bool = False,
        demux: bool = False,
    ) -> Any:
        """Run the exec to its exit. Output: bytes (stdout then stderr), `demux` ->
        (stdout or None, stderr or None), `stream` -> a generator (of bytes, or of
        (stdout, stderr) pairs with `demux`); `detach` -> "" (the API's empty answer).

        moby: daemon/exec.go ContainerExecStart ("has already run", 409)
        """
        if socket:
            raise InvalidArgument("socket=True: the model has no connection to hand out")
        rec = self._exec(exec_id)
        if rec["ExitCode"] is not None or rec["Running"]:
            raise Conflict(f"Error: Exec command {exec_id} has already run")
        rec["Running"] = True
        try:
            code, out, err = self._daemon.exec_run(
                rec["ContainerID"],
                [rec["ProcessConfig"]["entrypoint"], *rec["ProcessConfig"]["arguments"]],
                environment=rec["_env"],
                workdir=rec["_workdir"],
                user=rec["ProcessConfig"]["user"] or None,
            )
        finally:
            rec["Running"] = False
        rec["ExitCode"] = code
        out = out if rec["OpenStdout"] else b""
        err = err if rec["OpenStderr"] else b""
        if detach:
            return ""
        if tty or rec["ProcessConfig"]["tty"]:  # one stream, as a terminal merges them
            out, err = out + err, b""
        if stream:
            return _chunks(out, err, demux)
        if demux:
            return (out or None, err or None)
        return out + err

    def _exec(self, exec_id: Any) -> dict[str, Any]:
        rec = _execs(self._daemon).get(exec_id) if exec_id else None
        if rec is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return rec


def _chunks(out: bytes, err: bytes, demux: bool) -> Iterator[Any]:
    if demux:
        if out:
            yield (out, None)
        if err:
            yield (None, err)
        return
    if out:
        yield out
    if err:
        yield err
