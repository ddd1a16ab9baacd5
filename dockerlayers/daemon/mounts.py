"""A container's filesystem with its volumes: the RW layer's view plus mounted folders.

Paths under a mount point go to the volume's folder (or the bind-mounted host folder),
everything else to the container's layers, so what is written to a volume never lands in
the RW layer. Symlinks are still resolved with the container root as `/`.

`mount_container` builds it for a container when it starts (or when asked for its files)
and `unmount_container` lets go of it when the container stops or is removed.

moby: container/mounts_unix.go, daemon/volumes.go (what runc then mounts),
daemon/daemon.go Mount / Unmount
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from dockerlayers import platform
from dockerlayers.container.container import Container
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS, _err

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon


class ContainerFS(RootFS):
    """`base` (the layers) with `mounts` (container path -> RootFS) laid over it."""

    def __init__(
        self,
        base: RootFS,
        mounts: dict[str, tuple[RootFS, bool]],
        now=None,
        read_only: bool = False,
    ) -> None:
        super().__init__(now=now)
        self.base = base
        #: `--read-only`: the layers refuse writes (EROFS), the mounts do not
        self.base_rw = not read_only
        self.mounts = dict(sorted(mounts.items(), key=lambda kv: -len(kv[0])))
        self.read_only = base.read_only
        self.path = base.path if not mounts else None

    def __repr__(self) -> str:
        return f"ContainerFS({self.base!r}, mounts={list(self.mounts)})"

    def _route(self, p: str) -> tuple[RootFS, str, bool]:
        for point, (fs, rw) in self.mounts.items():
            if p == point or p.startswith(point + "/"):
                return fs, "/" + p[len(point) :].lstrip("/"), rw
        return self.base, p, self.base_rw

    def _w(self, p: str) -> tuple[RootFS, str]:
        fs, sub, rw = self._route(p)
        if not rw:
            raise _err(errno.EROFS, p)
        return fs, sub

    def _lstat(self, p):
        fs, sub, _ = self._route(p)
        return fs._lstat(sub)

    def _readlink(self, p):
        fs, sub, _ = self._route(p)
        return fs._readlink(sub)

    def _listdir(self, p):
        fs, sub, _ = self._route(p)
        return fs._listdir(sub)

    def _open(self, p, flags, mode):
        import os

        if flags & (os.O_WRONLY | os.O_RDWR):
            fs, sub = self._w(p)
        else:
            fs, sub, _ = self._route(p)
        return fs._open(sub, flags, mode)

    def _host_path_for_write(self, p):
        fs, sub, _ = self._route(p)
        return fs._host_path_for_write(sub)

    def host_path(self, path):
        fs, sub, _ = self._route(self.resolve(path, follow=False))
        return fs.host_path(sub)

    def _mkdir(self, p, mode):
        fs, sub = self._w(p)
        fs._mkdir(sub, mode)

    def _unlink(self, p):
        fs, sub = self._w(p)
        fs._unlink(sub)

    def _rmdir(self, p):
        if p in self.mounts:
            raise _err(errno.EBUSY, p)
        fs, sub = self._w(p)
        fs._rmdir(sub)

    def _same_fs(self, src, dst):
        """Both paths on one filesystem (a link or rename cannot cross a mount: EXDEV)."""
        fs1, s1 = self._w(src)
        fs2, s2 = self._w(dst)
        if fs1 is not fs2:
            raise _err(errno.EXDEV, src)
        return fs1, s1, s2

    def _rename(self, src, dst):
        if src in self.mounts or dst in self.mounts:
            raise _err(errno.EBUSY, src)
        fs, s1, s2 = self._same_fs(src, dst)
        fs._rename(s1, s2)

    def _symlink(self, target, p):
        fs, sub = self._w(p)
        fs._symlink(target, sub)

    def _link(self, src, dst):
        fs, s1, s2 = self._same_fs(src, dst)
        fs._link(s1, s2)

    def _chmod(self, p, mode):
        fs, sub = self._w(p)
        fs._chmod(sub, mode)

    def _chown(self, p, uid, gid):
        fs, sub = self._w(p)
        fs._chown(sub, uid, gid)

    def _utime(self, p, times):
        fs, sub = self._w(p)
        fs._utime(sub, times)


def mount_container(daemon: Daemon, c: Container) -> RootFS:
    """Mount the RW layer and lay the volumes and Docker's files over it (once: a mounted
    container's filesystem is handed out again).

    moby: daemon/daemon.go Mount (RWLayer.Mount), daemon/volumes.go
    """
    if c.id in daemon.mounted:
        return daemon.mounted[c.id]
    from dockerlayers.daemon.mountspec import tmpfs_source

    base = daemon.rw_layers[c.id].mount()
    mounts: dict[str, tuple[RootFS, bool]] = {}
    tmpfs = [dst for dst, mp in c.mount_points.items() if mp.get("Type") == "tmpfs"]
    tmpfs += list(c.host_config.get("Tmpfs") or {})
    for dst, mp in c.mount_points.items():
        if mp.get("Type") == "tmpfs":
            continue
        mounts[dst] = (DirRootFS(mp["Source"], now=daemon.clock.now), bool(mp.get("RW", True)))
    for dst in tmpfs:
        # a tmpfs: content outside the RW layer, gone at stop (mountspec.py)
        src = tmpfs_source(c.root, dst)
        os.makedirs(src, mode=0o1777, exist_ok=True)
        mounts[dst] = (DirRootFS(src, now=daemon.clock.now), True)
    dev = dev_folder(daemon, c)
    if not os.path.isdir(dev):
        make_dev(dev, daemon.clock.now())
    mounts.setdefault("/dev", (DevFS(dev, now=daemon.clock.now), True))
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            device = DeviceFS("/dev/" + name, os.path.join(dev, name))
            mounts.setdefault("/dev/" + name, (device, True))
    for dst, host in (
        ("/etc/hostname", c.hostname_path),
        ("/etc/hosts", c.hosts_path),
        ("/etc/resolv.conf", c.resolv_conf_path),
    ):
        if os.path.exists(host) and dst not in mounts:
            mounts[dst] = (DirRootFS(host, now=daemon.clock.now), True)
    read_only = bool(c.host_config.get("ReadonlyRootfs"))
    fs: RootFS = (
        ContainerFS(base, mounts, now=daemon.clock.now, read_only=read_only)
        if mounts or read_only
        else base
    )
    daemon.mounted[c.id] = fs
    return fs


def unmount_container(daemon: Daemon, c: Container, keep_process: bool = False) -> None:
    """Unmount the RW layer; the process goes too unless `keep_process` (detach).

    moby: daemon/daemon.go Unmount
    """
    if c.id in daemon.mounted:
        del daemon.mounted[c.id]
        daemon.rw_layers[c.id].unmount()
    if not keep_process:
        daemon.procs.pop(c.id, None)
        from dockerlayers.daemon.mountspec import reset_tmpfs

        reset_tmpfs(c.root)  # a tmpfs's content vanishes when the container stops


def mount(daemon: Daemon, ref: str) -> RootFS:
    """The container's filesystem as its processes see it (mounting if needed; a container
    that has run gets its hostname, hosts and resolv.conf first)."""
    from dockerlayers.daemon.create import setup_container_dirs

    with daemon.lock:
        c = daemon.get_container(ref)
        if c.id in daemon.mounted:
            return daemon.mounted[c.id]
        if c.has_been_started_before:
            setup_container_dirs(c)
        return mount_container(daemon, c)


def unmount(daemon: Daemon, ref: str) -> None:
    """Unmount the filesystem `mount` gave out; a running container's stays mounted (its
    process is using it)."""
    with daemon.lock:
        c = daemon.get_container(ref)
        if not c.state.running:
            unmount_container(daemon, c)


#: The devices runc binds into every container's /dev (the host's own, which the device
#: cgroup allows): moby oci/defaults.go DefaultLinuxSpec Devices
DEVICES = ("full", "null", "random", "urandom", "zero")


def dev_folder(daemon: Daemon, c: Container) -> str:
    """Where the model keeps a container's /dev (a tmpfs in Docker: not in the RW layer,
    not in `docker diff`, new at every start)."""
    return os.path.join(daemon.runtime_dir, c.id + ".dev")


def make_dev(path: str, now: float | None = None) -> None:
    """A fresh /dev as runc makes it for a container without `-t`: the device files (the
    host's are bound over the placeholders), tty, pts/, shm/, mqueue/, and the fd links.

    moby: oci/defaults.go DefaultLinuxSpec (Mounts /dev, /dev/pts, /dev/shm, /dev/mqueue);
    runc libcontainer/rootfs_linux.go setupDevSymlinks
    """
    from dockerlayers.ioutils import remove_all

    remove_all(path, ignore_errors=True)
    os.makedirs(path, mode=0o755)
    os.chmod(path, 0o755)
    for name in (*DEVICES, "tty"):
        with open(os.path.join(path, name), "wb"):
            pass
        os.chmod(os.path.join(path, name), 0o666)
    for name, mode in (("pts", 0o755), ("shm", 0o1777), ("mqueue", 0o1777)):
        os.mkdir(os.path.join(path, name))
        os.chmod(os.path.join(path, name), mode)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ):
        os.symlink(target, os.path.join(path, name))
    if now is not None:  # made at start: the clock's time, as tmpfs stamps it
        for name in os.listdir(path):
            platform.lutime(os.path.join(path, name), (now, now))
        os.utime(path, (now, now))


class DevFS(DirRootFS):
    """The container's /dev: its tty is no terminal (no `-t`), so opening it gives ENXIO."""

    def _open(self, p: str, flags: int, mode: int) -> int:
        if p == "/tty":
            raise _err(errno.ENXIO, "/dev/tty")
        return super()._open(p, flags, mode)


class DeviceFS(DirRootFS):
    """One host device bound into /dev (runc binds the host's own null, zero, ...), seen
    with the times of its placeholder in the container's /dev, not the host node's."""

    def __init__(self, device: str, placeholder: str) -> None:
        super().__init__(device)
        self.placeholder = placeholder

    def _lstat(self, p: str) -> os.stat_result:
        st = os.stat(self._h(p))
        ph = os.lstat(self.placeholder)
        return os.stat_result(
            (st.st_mode, st.st_ino, st.st_dev, 1, 0, 0, 0, ph.st_atime, ph.st_mtime, ph.st_ctime),
            {"st_rdev": st.st_rdev, "st_blocks": 0, "st_blksize": st.st_blksize},
        )
