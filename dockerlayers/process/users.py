"""Users: `-u`, `exec -u`, `USER` resolved against the image's /etc/passwd and /etc/group.

The user spec is `user[:group]`, each a name or a number. A name must be in the
container's /etc/passwd (`/etc/group` for a group), else the start fails with runc's
text; a number needs no entry (`-u 1234` runs as uid 1234, gid 0). A named user without
an explicit group gets its passwd gid and, as supplementary groups, every group that
lists it. The files are read through the container's RootFS (symlinks stay inside it).

moby: daemon/oci_linux.go getUser → github.com/moby/sys/user GetExecUserPath
(user/user.go GetExecUser, ParsePasswdFilter, ParseGroupFilter)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSWD_PATH = "/etc/passwd"
GROUP_PATH = "/etc/group"
_MAX_ID = 2**31 - 1

#: moby/sys/user: ErrNoPasswdEntries, ErrNoGroupEntries, ErrRange
NO_PASSWD_ENTRIES = "no matching entries in passwd file"
NO_GROUP_ENTRIES = "no matching entries in group file"
ERR_RANGE = f"uids and gids must be in range 0-{_MAX_ID}"


class UserError(Exception):
    """A user spec that cannot be resolved; `str()` is runc's/moby's text."""


@dataclass
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


@dataclass
class GroupEntry:
    name: str
    gid: int
    members: list[str]


@dataclass
class ExecUser:
    """Who a process runs as: uid, gid, supplementary gids, home (runc's ExecUser)."""

    uid: int = 0
    gid: int = 0
    sgids: list[int] = field(default_factory=list)
    home: str = "/"

    @property
    def groups(self) -> list[int]:
        """The kernel's group list as `id` shows it: the gid and the supplementary gids,
        sorted (the kernel sorts them; runc gives the primary gid too)."""
        return sorted({self.gid, *self.sgids})

    def to_state(self) -> dict[str, Any]:
        return {"uid": self.uid, "gid": self.gid, "groups": self.groups}


ROOT = ExecUser(0, 0, [], "/root")


def _atoi(s: str) -> int | None:
    """Go's strconv.Atoi (decimal, optional sign)."""
    t = s[1:] if s[:1] in "+-" else s
    return int(s) if t.isdigit() else None


def _read(fs: Any, path: str) -> str | None:
    try:
        return fs.read_bytes(path).decode("utf-8", "surrogateescape")
    except OSError:
        return None


def parse_passwd(text: str) -> list[PasswdEntry]:
    """/etc/passwd lines (name:password:uid:gid:gecos:home:shell); bad numbers read as 0,
    as moby/sys/user's parseLine does."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = (line.split(":") + [""] * 7)[:7]
        out.append(PasswdEntry(f[0], _atoi(f[2]) or 0, _atoi(f[3]) or 0, f[5]))
    return out


def parse_group(text: str) -> list[GroupEntry]:
    """/etc/group lines (name:password:gid:member,member)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = (line.split(":") + [""] * 4)[:4]
        members = [m for m in f[3].split(",") if m]
        out.append(GroupEntry(f[0], _atoi(f[2]) or 0, members))
    return out


def get_exec_user(fs: Any, spec: str | None) -> ExecUser:
    """Resolve `spec` (`user[:group]`, "" or None = the default, uid 0) in the container
    whose files `fs` serves. Raises UserError with moby/sys/user's text.

    moby/sys/user: GetExecUserPath / GetExecUser
    """
    spec = spec or ""
    user_arg, _, group_arg = spec.partition(":")
    user = ExecUser(0, 0, [], "")
    passwd_text = _read(fs, PASSWD_PATH)
    group_text = _read(fs, GROUP_PATH)
    uid_arg = _atoi(user_arg)
    matched = None
    if passwd_text is not None:
        for u in parse_passwd(passwd_text):
            if (
                (user_arg == "" and u.uid == user.uid)
                or (uid_arg is not None and u.uid == uid_arg)
                or (uid_arg is None and u.name == user_arg)
            ):
                matched = u
                break
    if matched is not None:
        user.uid, user.gid, user.home = matched.uid, matched.gid, matched.home
    elif user_arg != "":
        if uid_arg is None:
            raise UserError(f"unable to find user {user_arg}: {NO_PASSWD_ENTRIES}")
        if not 0 <= uid_arg <= _MAX_ID:
            raise UserError(ERR_RANGE)
        user.uid = uid_arg
    if group_arg != "" or matched is not None:
        groups = parse_group(group_text) if group_text is not None else []
        if group_arg != "":
            gid_arg = _atoi(group_arg)
            found = [g for g in groups if g.name == group_arg or str(g.gid) == group_arg]
            if found:
                user.gid = found[0].gid
            else:
                if gid_arg is None:
                    raise UserError(f"unable to find group {group_arg}: {NO_GROUP_ENTRIES}")
                if not 0 <= gid_arg <= _MAX_ID:
                    raise UserError(ERR_RANGE)
                user.gid = gid_arg
        else:
            assert matched is not None
            user.sgids = [g.gid for g in groups if matched.name in g.members]
    if not user.home:
        user.home = "/"  # runc's default ExecUser
    return user


def name_of(fs: Any, path: str, ident: int) -> str | None:
    """The first name /etc/passwd (or /etc/group) gives `ident`, or None."""
    text = _read(fs, path)
    if text is None:
        return None
    entries = parse_passwd(text) if path == PASSWD_PATH else parse_group(text)
    for e in entries:
        if (e.uid if isinstance(e, PasswdEntry) else e.gid) == ident:
            return e.name
    return None
