"""Docker's error texts for container operations, each written once.

The texts are 20.10's (capital `Container ...`, `Cannot kill container: ...`); each function
returns the exception to raise, with the kind (and so the HTTP status) Docker gives it.

moby 20.10: daemon/errors.go, and the fmt.Errorf texts of daemon/{start,stop,kill,pause,
unpause,restart,delete,rename,exec,commit}.go
"""

from __future__ import annotations

from dockerlayers.errors import APIError, Conflict, DockerException, InvalidParameter


def daemon_closed() -> DockerException:
    """Ours: an operation on a Daemon after close() or detach()."""
    return DockerException("the daemon is closed")


def not_running(cid: str) -> Conflict:
    """moby 20.10: daemon/errors.go errNotRunning"""
    return Conflict(f"Container {cid} is not running")


def not_paused(cid: str) -> APIError:
    """moby 20.10: daemon/unpause.go (a plain fmt.Errorf: HTTP 500)"""
    return APIError(f"Container {cid} is not paused", 500)


def already_paused(cid: str) -> APIError:
    """moby 20.10: daemon/pause.go (a plain fmt.Errorf: HTTP 500)"""
    return APIError(f"Container {cid} is already paused", 500)


def restarting(cid: str) -> Conflict:
    """moby 20.10: daemon/errors.go errContainerIsRestarting"""
    return Conflict(f"Container {cid} is restarting, wait until the container is running")


def exec_paused(ref: str) -> Conflict:
    """moby 20.10: daemon/errors.go errExecPaused (names the container as the caller did)"""
    return Conflict(f"Container {ref} is paused, unpause the container before exec")


def start_paused() -> Conflict:
    """moby: daemon/start.go validateState"""
    return Conflict("cannot start a paused container, try unpause instead")


def marked_for_removal() -> Conflict:
    """moby: daemon/start.go"""
    return Conflict("container is marked for removal and cannot be started")


def removal_in_progress(name: str) -> Conflict:
    """moby: daemon/delete.go ContainerRm"""
    return Conflict(f"removal of container {name} is already in progress")


def remove_running(state: str, cid: str) -> Conflict:
    """moby 20.10: daemon/delete.go cleanupContainer (the paused form asks to unpause)"""
    procedure = "Stop the container before attempting removal or force remove"
    if state == "paused":
        procedure = "Unpause and then " + procedure[0].lower() + procedure[1:]
    return Conflict(f"You cannot remove a {state} container {cid}. {procedure}")


def remove_root_fs_failed(cid: str, driver: str, err: str) -> APIError:
    """moby 20.10: daemon/delete.go cleanupContainer (ReleaseRWLayer failed)"""
    return APIError(
        f'container {cid}: driver "{driver}" failed to remove root filesystem: {err}', 500
    )


def cannot_kill(ref: str, e: APIError) -> APIError:
    """moby 20.10: api/server/router/container postContainersKill (keeps the error's kind)"""
    return type(e)(f"Cannot kill container: {ref}: {e}", e.status_code)


def cannot_restart(ref: str, e: Exception) -> APIError:
    """moby 20.10: daemon/restart.go (fmt.Errorf: the error loses its kind, HTTP 500)"""
    return APIError(f"Cannot restart container {ref}: {e}", 500)


def commit_dead(cid: str) -> Conflict:
    """moby: daemon/commit.go CreateImageFromContainer"""
    return Conflict(f"You cannot commit container {cid} which is Dead")


def commit_removing(cid: str) -> Conflict:
    """moby: daemon/commit.go CreateImageFromContainer"""
    return Conflict(f"You cannot commit container {cid} which is being removed")


def rename_empty() -> InvalidParameter:
    """moby: daemon/rename.go ContainerRename"""
    return InvalidParameter("Neither old nor new names may be empty")


def rename_same() -> InvalidParameter:
    """moby: daemon/rename.go ContainerRename"""
    return InvalidParameter("Renaming a container with the same name as its current name")


def rename_allocate(e: Exception, kind: type[APIError] = InvalidParameter) -> APIError:
    """moby: daemon/rename.go ContainerRename (the reservation's error, wrapped)"""
    return kind(f"Error when allocating new name: {e}")


def auto_remove_with_restart() -> InvalidParameter:
    """moby 20.10: daemon/container.go verifyContainerSettings"""
    return InvalidParameter("can't create 'AutoRemove' container with restart policy")


def no_command() -> InvalidParameter:
    """moby 20.10: daemon/create.go mergeAndVerifyConfig"""
    return InvalidParameter("No command specified")


def invalid_working_dir(path: str) -> InvalidParameter:
    """moby 20.10: daemon/container.go verifyContainerSettings"""
    return InvalidParameter(
        f"the working directory '{path}' is invalid, it needs to be an absolute path"
    )


def invalid_wait_condition(condition: str) -> InvalidParameter:
    """moby: api/server/router/container postContainersWait"""
    return InvalidParameter(f"invalid condition: {condition}")


def wait_timed_out(ref: str) -> DockerException:
    """Ours: wait's `timeout` ran out (docker-py raises a read timeout)."""
    return DockerException(f"timed out waiting for container {ref}")


def waits_for_nothing() -> DockerException:
    """Ours: on a virtual clock, waiting for an exit that nothing will ever bring."""
    return DockerException(
        "the container's process waits for nothing that can happen; it will never exit on its own"
    )


def runtime_create_failed(message: str) -> str:
    """The text runc's failure to start PID 1 reaches the API with.

    moby 20.10: daemon/start.go (containerd's shim error, as `docker start` prints it)
    """
    return (
        "failed to create shim task: OCI runtime create failed: runc create failed: "
        f"unable to start container process: {message}: unknown"
    )


def user_not_found(message: str) -> APIError:
    """`docker start`/`run` of a container whose user (`-u`, `USER`) the image's
    /etc/passwd or /etc/group does not have: moby/sys/user's text, bare.

    moby 20.10: daemon/oci_linux.go getUser (createSpec fails; start.go sets the error)
    """
    return APIError(message, 500)


def exec_user_not_found(message: str) -> str:
    """What `docker exec -u` prints (on stdout, exit 126) for a user it cannot find.

    moby 20.10: daemon/exec.go ContainerExecStart (runc's error on the stream)
    """
    return f"{message}\r\n"


def runtime_exec_failed(message: str) -> str:
    """What `docker exec` prints when runc cannot start the command.

    moby 20.10: daemon/exec.go ContainerExecStart (the runtime's error on the stream)
    """
    return (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f"{message}: unknown\r\n"
    )
