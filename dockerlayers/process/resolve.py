"""Find the program a command name means, inside the container's filesystem.

Two lookups, with their own error texts:
  * runc/Go `exec.LookPath` for a container's (or exec's) command — failures are Docker's
    `exec: "x": executable file not found in $PATH` (127), `exec: "/x": stat /x: no such
    file or directory` (127), `exec: "/x": permission denied` (126);
  * busybox ash's `find_command` + `shellexec` for commands a shell runs — `sh: x: not found`
    (127), `sh: x: Permission denied` (126).
Then, like busybox, the program run is chosen by the name it was called by (`/bin/ls` → ls),
else by the name a symlink points to (`ls -> busybox`), else by a `#!` line.
"""

from __future__ import annotations

import posixpath
import stat as st_mod

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExecError(Exception):
    """The container's process could not be started: Docker's exit code and message."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def abspath(cwd: str, path: str) -> str:
    """`path` made absolute against `cwd` (lexically; the RootFS resolves symlinks)."""
    if path.startswith("/"):
        return path
    return posixpath.join(cwd or "/", path)


def _check(rootfs, path: str) -> str:
    """'ok', 'missing', or 'denied' (a directory, or no execute bit), following symlinks."""
    try:
        st = rootfs.stat(path)
    except OSError:
        return "missing"
    if st_mod.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
        return "denied"
    return "ok"


def look_path(rootfs, name: str, path_var: str | None, cwd: str) -> str:
    """Go's exec.LookPath as runc runs it; raises ExecError with Docker's texts."""
    if "/" in name:
        full = abspath(cwd, name)
        state = _check(rootfs, full)
        if state == "missing":
            raise ExecError(127, f'exec: "{name}": stat {name}: no such file or directory')
        if state == "denied":
            raise ExecError(126, f'exec: "{name}": permission denied')
        return full
    for d in (DEFAULT_PATH if path_var is None else path_var).split(":"):
        full = abspath(cwd, posixpath.join(d or ".", name))
        if _check(rootfs, full) == "ok":
            return full
    raise ExecError(127, f'exec: "{name}": executable file not found in $PATH')


def shell_find(rootfs, name: str, path_var: str | None, cwd: str) -> tuple[str | None, int, str]:
    """ash's lookup: (path, 0, "") or (None, 127|126, "not found"|"Permission denied")."""
    candidates = (
        [abspath(cwd, name)]
        if "/" in name
        else [
            abspath(cwd, posixpath.join(d or ".", name))
            for d in (DEFAULT_PATH if path_var is None else path_var).split(":")
        ]
    )
    denied = False
    for full in candidates:
        state = _check(rootfs, full)
        if state == "ok":
            return full, 0, ""
        if state == "denied" and ("/" in name or rootfs.isfile(full)):
            denied = True
    if denied:
        return None, 126, "Permission denied"
    return None, 127, "not found"


def _script_line(rootfs, path: str) -> tuple[str, str | None] | None:
    """The `#!` line of the file at `path`: (interpreter, optional argument), or None."""
    try:
        with rootfs.open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    interp, _, arg = line.partition(" ")
    return (interp, arg.strip() or None) if interp else None


def identify(rootfs, path: str, called_as: str, applets: frozenset[str]) -> tuple:
    """What runs when `path` (called as `called_as`) is executed:
    ("applet", name) | ("script", interpreter, optional_arg) | ("unknown",).

    A script whose interpreter is in the container is that script, whatever its name (a
    `/usr/local/bin/yes` of the image's own); the model's busybox stand-in (`#!simulated
    busybox`, no such interpreter) and any other file are busybox, by name."""
    script = _script_line(rootfs, path)
    if script is not None and script[0].startswith("/") and rootfs.exists(script[0]):
        return ("script", *script)
    base = posixpath.basename(called_as)
    if base in applets:
        return ("applet", base)
    p = path
    for _ in range(40):
        try:
            if not rootfs.islink(p):
                break
            target = rootfs.readlink(p)
        except OSError:
            break
        tname = posixpath.basename(target.rstrip("/"))
        if tname in applets:
            return ("applet", tname)
        p = target if target.startswith("/") else posixpath.join(posixpath.dirname(p), target)
    if script is not None:
        return ("script", *script)
    return ("unknown",)
