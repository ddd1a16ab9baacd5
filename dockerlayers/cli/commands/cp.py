"""`docker cp`: copy files between a container and the local filesystem, or a tar stream
(`-`) on stdin/stdout. Both directions use the daemon's archive operations (the API's
HEAD/GET/PUT `/containers/{id}/archive`), so writes copy up into the RW layer.

docker/cli: cli/command/container/cp.go (splitCpArg, copyFromContainer, copyToContainer)
"""

from __future__ import annotations

import io
import os
import posixpath
import sys
from typing import Any

from dockerlayers.cli.app import PROG, CLIError, Command, Env
from dockerlayers.cli.commands.common import not_found
from dockerlayers.cli.flags import Flag, Parsed
from dockerlayers.errors import DockerException, NotFound


def split_cp_arg(arg: str) -> tuple[str, str]:
    """(container, path); container "" for a local path (one starting with / or .).

    docker/cli: cp.go splitCpArg
    """
    if arg.startswith(("/", ".")) or ":" not in arg:
        return "", arg
    container, path = arg.split(":", 1)
    return container, path


def run_cp(env: Env, p: Parsed) -> int:
    src_container, src_path = split_cp_arg(p.args[0])
    dst_container, dst_path = split_cp_arg(p.args[1])
    if src_container and dst_container:
        raise CLIError("copying between containers is not supported")
    if not src_container and not dst_container:
        raise CLIError("must specify at least one container source")
    with env.client() as client:
        try:
            if src_container:
                _copy_from(env, client, src_container, src_path, dst_path, p.follow_link)
            else:
                _copy_to(env, client, src_path, dst_container, dst_path, p.archive, p.follow_link)
        except DockerException as e:
            # the API client wraps a 404 of the archive calls (container or path missing)
            # as "container:path" (docker/cli: client/container_copy.go wrapResponseError)
            if src_container:
                ref, path = src_container, src_path
            else:
                # a destination not found is taken as a new entry of its parent folder,
                # which the copy then goes to (archive.PrepareArchiveCopy)
                ref, path = dst_container, posixpath.dirname(dst_path.rstrip("/")) or "/"
            raise CLIError(not_found("container:path", f"{ref}:{path}", e)) from None
    return 0


def _copy_from(env: Env, client: Any, ref: str, path: str, dst: str, follow: bool) -> None:
    """docker/cli: cp.go copyFromContainer"""
    d = client.daemon
    if follow:
        st = d.stat_path(ref, path)
        if st["linkTarget"]:
            path = st["linkTarget"]
    if dst == "-":
        out = getattr(env.out, "buffer", None) or sys.stdout.buffer
        d.archive_path(ref, path, out)
        out.flush()
        return
    import tarfile  # (only cp uses them: every other command starts without)
    import tempfile

    with tempfile.TemporaryFile() as f:
        st = d.archive_path(ref, path, f)
        f.seek(0)
        base = st["name"]
        if os.path.isdir(dst):
            target_dir, rename = dst, None
        else:
            parent = os.path.dirname(os.path.abspath(dst))
            if not os.path.isdir(parent):
                raise CLIError(f"lstat {parent}: no such file or directory")
            target_dir, rename = parent, os.path.basename(dst.rstrip("/"))
        with tarfile.open(fileobj=f, mode="r:") as tf:
            members = tf.getmembers()
            for m in members:
                if rename is not None and base != ".":
                    if m.name == base:
                        m.name = rename
                    elif m.name.startswith(base + "/"):
                        m.name = rename + m.name[len(base) :]
            if rename is not None and os.path.lexists(os.path.join(target_dir, rename)):
                existing = os.path.join(target_dir, rename)
                if not os.path.isdir(existing):
                    os.remove(existing)
            tf.extractall(target_dir, members=members, filter="tar")


def _copy_to(
    env: Env, client: Any, src: str, ref: str, dst: str, archive: bool, follow: bool
) -> None:
    """docker/cli: cp.go copyToContainer"""
    d = client.daemon
    if src == "-":
        data = (
            getattr(env.stdin, "buffer", env.stdin) if env.stdin is not None else sys.stdin.buffer
        )
        d.extract_to_dir(ref, dst, data.read(), no_overwrite_dir_non_dir=True, copy_uid_gid=archive)
        return
    if follow:
        src = os.path.realpath(src)
    try:
        os.lstat(src)
    except FileNotFoundError:
        raise CLIError(f"lstat {src}: no such file or directory") from None
    try:
        st = d.stat_path(ref, dst)
        is_dir = bool(st["mode"] & (1 << 31))
    except NotFound:
        st, is_dir = None, False
    if st is not None and is_dir:
        target, name = dst, os.path.basename(src.rstrip("/")) or "."
    else:
        target, name = (
            posixpath.dirname(dst.rstrip("/")) or "/",
            posixpath.basename(dst.rstrip("/")),
        )
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(src, arcname=name)
    buf.seek(0)
    d.extract_to_dir(ref, target, buf, no_overwrite_dir_non_dir=True, copy_uid_gid=archive)


def cp_command() -> Command:
    return Command(
        "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t"
        f"{PROG} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem",
        run_cp,
        [
            Flag("archive", "a", help="Archive mode (copy all uid/gid information)"),
            Flag("follow-link", "L", help="Always follow symbol link in SRC_PATH"),
        ],
        (2, 2),
    )


__all__ = ["cp_command", "run_cp", "split_cp_arg"]
