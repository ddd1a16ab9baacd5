"""A container's read-write layer on the containerd store, as Docker 29 makes and mounts it.

create (`create_layer`): a lease whose ID is the container ID; `Prepare("<id>-init-key",
<image top chain ID>)`, the init files written into it, `Commit("<id>-init", "<id>-init-key")`,
then `Prepare("<id>", "<id>-init")` — all under that lease, so the lease holds `<id>-init`
and `<id>` (and not a `containerd.io/gc.root` label). The container's RW layer is the active
snapshot `<id>`: `snapshots/<N>/fs` is its upper folder.

mount: dockerd mounts the snapshot's mounts itself at `<docker root>/rootfs/overlayfs/<id>`
(a refcounted mounter); here the same layers are served by the user-space union (the
kernel's overlay line is given by `mount_line`). unmount leaves the snapshot as it is, so a
restart mounts the same `snapshots/<N>` again. release (`docker rm`): the lease is deleted
with SynchronousDelete, and that collection removes `<id>` and `<id>-init`.

moby: daemon/containerd/image_snapshot.go (CreateLayer, createLayer, prepareInitLayer,
rwLayer.Mount/Unmount, GetLayerByID, ReleaseLayer), daemon/snapshotter/mount.go
"""

from __future__ import annotations

import os
from collections.abc import Callable

from dockerlayers.containerd.errdefs import NotFound
from dockerlayers.containerd.images import NAMESPACE, ImageRecord, ImageService
from dockerlayers.containerd.leases import Lease
from dockerlayers.graphdriver import kernel
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS
from dockerlayers.graphdriver.union import UnionRootFS

InitFunc = Callable[[RootFS], None]


class LayerNotFound(Exception):
    """moby: errdefs.NotFound("RW layer for container <id> not found")"""


class RWLayer:
    """moby: daemon/containerd/image_snapshot.go rwLayer"""

    def __init__(
        self,
        service: ImageService,
        id: str,
        lease: Lease,
        docker_root: str,
        use_kernel: bool = False,
    ) -> None:
        self.service = service
        self.id = id
        self.lease = lease
        self.docker_root = docker_root
        #: mount with the kernel's overlayfs (root) instead of the user-space union
        self.use_kernel = use_kernel
        self.root = ""
        self._fs: RootFS | None = None

    def __repr__(self) -> str:
        return f"<RWLayer {self.id} snapshots/{self.snapshot_id()}>"

    @property
    def snapshotter_name(self) -> str:
        return self.service.snapshotter_name

    def snapshot_id(self) -> str:
        """N of `snapshots/N` (the active snapshot `<id>`)."""
        return self.service.sn.snapshot_id(NAMESPACE, self.id)

    def mounts(self):
        return self.service.sn.mounts(NAMESPACE, self.id)

    def mount_point(self) -> str:
        """moby: daemon/snapshotter/mount.go (root/rootfs/<snapshotter>/<id>)"""
        return os.path.join(self.docker_root, "rootfs", self.snapshotter_name, self.id)

    def mount_line(self) -> str:
        """The line /proc/mounts would show for this rootfs when the kernel mounts it."""
        return self.mounts()[0].line(self.mount_point())

    def mount(self) -> RootFS:
        """moby: rwLayer.Mount (refCountMounter.Mount of the snapshot's mounts)"""
        if self._fs is None:
            sn = self.service.sn
            dirs = sn.backend.layer_dirs(sn.resolve_key(NAMESPACE, self.id))
            target = self.mount_point()
            os.makedirs(target, mode=0o710, exist_ok=True)
            if self.use_kernel and len(dirs) > 1 and sn.backend.name == "overlayfs":
                work = sn.backend.work_path(self.snapshot_id())
                home = os.path.join(sn.backend.root, "snapshots")
                kernel.mount_overlay(target, dirs[1:], dirs[0], work, home)
                self._fs = DirRootFS(target, now=self.service.ctrd.now)
            elif self.use_kernel and len(dirs) == 1:
                # native (or a parentless snapshot): its mount is a bind of the folder
                kernel.mount(dirs[0], target, "none", "", kernel.MS_BIND | kernel.MS_REC)
                self._fs = DirRootFS(target, now=self.service.ctrd.now)
            else:
                self._fs = UnionRootFS(dirs, writable=True, now=self.service.ctrd.now)
            self.root = target
        return self._fs

    def unmount(self) -> None:
        """moby: rwLayer.Unmount (the snapshot and its data stay)"""
        if self._fs is None:
            raise RuntimeError("layer not mounted")
        if isinstance(self._fs, DirRootFS):
            kernel.unmount(self.mount_point())
        self._fs = None
        try:
            os.rmdir(self.mount_point())
        except OSError:
            pass
        self.root = ""

    def metadata(self) -> dict[str, str]:
        return {"ID": self.id}


def create_layer(
    service: ImageService,
    container_id: str,
    image: ImageRecord | None,
    init_func: InitFunc | None,
    docker_root: str,
    use_kernel: bool = False,
) -> RWLayer:
    """moby: daemon/containerd/image_snapshot.go createLayer"""
    parent = ""
    if image is not None:
        if not service.is_unpacked(image):
            service.unpack(image)
        parent = service.top_chain_id(image)
    lease = service.ctrd.leases.create(NAMESPACE, container_id)
    if init_func is not None:
        prepare_init_layer(service, container_id, parent, init_func, lease.id)
        parent = container_id + "-init"
    service.sn.prepare(NAMESPACE, container_id, parent, lease=lease.id)
    return RWLayer(service, container_id, lease, docker_root, use_kernel)


def prepare_init_layer(
    service: ImageService, id: str, parent: str, setup_init: InitFunc, lease: str
) -> None:
    """moby: daemon/containerd/image_snapshot.go prepareInitLayer"""
    sn = service.sn
    sn.prepare(NAMESPACE, id + "-init-key", parent, lease=lease)
    dirs = sn.backend.layer_dirs(sn.resolve_key(NAMESPACE, id + "-init-key"))
    setup_init(UnionRootFS(dirs, writable=True, now=service.ctrd.now))
    sn.commit(NAMESPACE, id + "-init", id + "-init-key", lease=lease)


def get_layer_by_id(
    service: ImageService, cid: str, docker_root: str, use_kernel: bool = False
) -> RWLayer:
    """moby: daemon/containerd/image_snapshot.go GetLayerByID"""
    try:
        service.sn.stat(NAMESPACE, cid)
    except NotFound:
        raise LayerNotFound(f"RW layer for container {cid} not found") from None
    leases = service.ctrd.leases.list(NAMESPACE, cid)
    if not leases:
        raise LayerNotFound(f"rw layer lease not found for container {cid}")
    return RWLayer(service, cid, leases[0], docker_root, use_kernel)


def release_layer(service: ImageService, layer: RWLayer) -> None:
    """moby: daemon/containerd/image_snapshot.go ReleaseLayer (leases.SynchronousDelete)"""
    try:
        service.ctrd.leases.delete(NAMESPACE, layer.lease.id, synchronous=True)
    except NotFound:
        pass
