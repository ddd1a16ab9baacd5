"""The containerd image store: what Docker 29 keeps images and containers in on new installs.

One file per containerd concept, named as containerd names it:

    content.py            the content store (blobs/sha256/<hex>, 0444; ingest/) + its metadata view
    snapshots/storage.py  a snapshotter's own metadata.db (ids N of snapshots/N, kinds, parents)
    snapshots/overlayfs.py, snapshots/native.py   the two snapshotter backends
    snapshots/namespaced.py  the metadata snapshotter: `moby/<seq>/<key>` backend names, children
    leases.py             leases (resources a lease holds are GC roots)
    gc.py                 the mark-and-sweep collector (gc.ref labels, gc.root, leases)
    metadata.py           meta.db's bucket tree (v1/<namespace>/{images,content,snapshots,...})
    bolt.py               BoltDB's page format (bbolt v1.3.6): the reader and the writer
    containerd.py         one containerd over one root, wiring the above (`Containerd`)
    images.py             Docker 29's image service on top (daemon/containerd/*.go)

`meta.db` and each snapshotter's `metadata.db` are real BoltDB files with containerd's
keys and encodings: a real containerd 1.6 started on the model's root lists what the
model made (tests/containerd/test_bolt_real.py).

containerd: v1.6 (core/content, snapshots, metadata, gc); moby: daemon/containerd (docker-v29.0.0)
"""

from typing import TYPE_CHECKING

from dockerlayers._lazy import lazy_exports

if TYPE_CHECKING:
    from dockerlayers.containerd.containerd import Containerd
    from dockerlayers.containerd.errdefs import (
        AlreadyExists,
        ContainerdError,
        FailedPrecondition,
        InvalidArgument,
        NotFound,
    )

__getattr__ = lazy_exports(
    __name__,
    {
        "Containerd": "dockerlayers.containerd.containerd",
        "AlreadyExists": "dockerlayers.containerd.errdefs",
        "ContainerdError": "dockerlayers.containerd.errdefs",
        "FailedPrecondition": "dockerlayers.containerd.errdefs",
        "InvalidArgument": "dockerlayers.containerd.errdefs",
        "NotFound": "dockerlayers.containerd.errdefs",
    },
)

__all__ = [
    "AlreadyExists",
    "Containerd",
    "ContainerdError",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
]
