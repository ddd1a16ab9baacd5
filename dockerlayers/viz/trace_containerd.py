"""'What Docker did' on the containerd image store: Docker 29's and containerd's functions.

The same evidence as trace.py (files created, changed, removed under the root; events),
classified by containerd's layout: `containerd/daemon/io.containerd.snapshotter.v1.overlayfs/
snapshots/<N>/{fs,work}` (whose N is whose comes from the snapshotter, recorded in each
Snapshot), its `metadata.db`, containerd's `meta.db`, the content store, and dockerd's mount
point `rootfs/overlayfs/<id>`. Files inside a container's snapshot get the same roles as a
graph driver's (`driver-files:rw`, ...) so the recipes of start, stop, exec keep working; the
steps that differ (create, rm, the mount) name moby 29's and containerd's functions.

moby: daemon/containerd/image_snapshot.go, daemon/snapshotter/mount.go;
containerd: metadata/snapshot.go, metadata/leases.go, metadata/gc.go
"""

from __future__ import annotations

from dockerlayers.container.container import Container
from dockerlayers.containerd import rwlayer
from dockerlayers.containerd.gc import collect
from dockerlayers.containerd.imagestore import ContainerdReferenceStore, ContentConfigs
from dockerlayers.containerd.layerstore import ContainerdRWLayer
from dockerlayers.containerd.leases import LeaseManager
from dockerlayers.containerd.snapshotlayers import SnapshotDriver
from dockerlayers.containerd.snapshots.namespaced import Snapshotter
from dockerlayers.daemon import commit, create, delete, pause
from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.viz.snapshot import Snapshot
from dockerlayers.viz.trace import (
    _EVENTS_LOG,
    Classifier,
    Role,
    S,
    StepSpec,
    _container_path,
)
from dockerlayers.viz.trace import (
    RECIPES as GRAPH_RECIPES,
)

SNAPSHOTS = "containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots"


class ContainerdClassifier(Classifier):
    """Roles for containerd's paths; the rest as the graph-driver classifier says."""

    def __init__(self, driver: str, *snaps: Snapshot) -> None:
        super().__init__(driver, *snaps)
        self.key_of: dict[str, str] = {}
        for snap in snaps:
            self.key_of.update(snap.snapshot_keys)

    def _kind(self, key: str) -> str:
        if key.endswith("-init") or key.endswith("-init-key"):
            return "init"
        if key.startswith("sha256:") or key.startswith("extract-"):
            return "image"
        return "rw"

    def classify(self, path: str) -> Role:
        parts = path.split("/")
        if path.startswith(SNAPSHOTS + "/"):
            rest = parts[len(SNAPSHOTS.split("/")) :]
            key = self.key_of.get(rest[0], "")
            kind = self._kind(key) if key else "image"
            if len(rest) > 2 and rest[1] == "fs":
                return Role("driver-files", kind, _container_path(rest[2:]), key)
            return Role("driver-dir", kind)
        if path.startswith("containerd/"):
            if path.endswith("meta.db"):
                return Role("c8d-meta")
            if path.endswith("metadata.db"):
                return Role("c8d-sn-meta")
            if "io.containerd.content.v1.content" in path:
                return Role("c8d-content")
            return Role("c8d-other")
        if parts[0] == "rootfs":
            return Role("driver-merged", "rw")
        return super().classify(path)


_MOUNT = S(
    2,
    "rwLayer.Mount: snapshotter.Mounts(<id>), mounted at rootfs/overlayfs/<id>",
    "driver-merged:+",
    "driver-merged:~",
    code=(rwlayer.RWLayer.mount, Snapshotter.mounts),
)
_UNMOUNT = S(
    2,
    "rwLayer.Unmount (the snapshot and its folder stay)",
    "driver-merged:-",
    code=(rwlayer.RWLayer.unmount,),
)

_CREATE = [
    S(0, "daemon.create (ContainerCreate)", always=True, code=(create.create,)),
    S(1, "image_service.get_image; daemon.new_container", always=True),
    S(
        1,
        "daemon.set_rw_layer -> image_service.CreateLayer (moby 29)",
        code=(create.set_rw_layer, rwlayer.create_layer),
    ),
    S(
        2,
        "leases.Create(<id>); snapshots recorded in meta.db (v1/moby/snapshots, leases)",
        "c8d-meta",
        code=(LeaseManager.create,),
    ),
    S(
        2,
        "prepareInitLayer: Prepare(<id>-init-key) -> snapshots/<N>/fs, setup_init_layer, "
        "Commit(<id>-init) (N kept)",
        "driver-dir:init",
        "driver-files:init",
        code=(rwlayer.prepare_init_layer, setup_init_layer, Snapshotter.commit),
    ),
    S(
        2,
        "snapshotter.Prepare(<id>, <id>-init): the RW layer, snapshots/<N>/{fs,work}",
        "driver-dir:rw",
        "c8d-sn-meta",
        code=(Snapshotter.prepare,),
    ),
    S(
        1,
        "container.to_disk: config.v2.json, hostconfig.json",
        "container-dir",
        "container-config",
    ),
    S(1, "volumes: create the named/anonymous volumes", "volumes"),
    S(1, "events.log(create)", events=("create",), code=_EVENTS_LOG),
]

_RM = [
    S(0, "daemon.remove (ContainerRm)", always=True, code=(delete.remove,)),
    S(1, "cleanup_container", always=True, code=(delete.cleanup_container,)),
    S(2, "force: kill_with_signal(SIGKILL)", events=("kill",)),
    S(2, "monitor: handle_container_exit", events=("die",)),
    S(2, "set_removal_in_progress; checkpoint", "container-config:~"),
    S(
        2,
        "image_service.ReleaseLayer: leases.Delete(<id>, SynchronousDelete)",
        "c8d-meta",
        code=(rwlayer.release_layer,),
    ),
    S(
        3,
        "synchronous GC: removes <id>, and <id>-init unless a committed layer sits on it "
        "(records, then folders)",
        "driver-dir",
        "driver-files",
        "driver-merged",
        "c8d-sn-meta",
        code=(collect,),
    ),
    S(
        2,
        "os.RemoveAll(containers/<id>)",
        "container-dir",
        "container-config",
        "container-netfiles",
        "container-log",
        "container-other",
    ),
    S(2, "remove anonymous volumes (-v)", "volumes"),
    S(1, "events.log(destroy)", events=("destroy",), code=_EVENTS_LOG),
]


_COMMIT = [
    S(0, "daemon.commit (ContainerCommit)", always=True, code=(commit.commit,)),
    S(1, "pause the container meanwhile", events=("pause",), code=(pause.pause,)),
    S(
        1,
        "image_service.CommitImage (moby 29): createDiff, the diff of <id> against <id>-init",
        always=True,
        code=(ContainerdRWLayer.tar_stream,),
    ),
    S(
        2,
        "the layer's blob (gzip), labelled containerd.io/uncompressed, into the content store",
        "c8d-content",
        code=(SnapshotDriver.apply_diff,),
    ),
    S(
        2,
        "applyDiffLayer: Prepare(extract-<unique> ..., <id>-init), apply the diff, "
        "Commit(<chain id>) (N kept)",
        "driver-dir:image",
        "driver-files:image",
        "c8d-sn-meta",
        code=(SnapshotDriver.create, SnapshotDriver.commit),
    ),
    S(
        1,
        "createImageOCI: config and manifest blobs, record moby-dangling@<manifest digest>",
        "c8d-meta",
        events=("create",),
        code=(ContentConfigs.create_image,),
    ),
    S(
        1,
        "TagImage: createOrReplaceImage (the name's record replaces the dangling one)",
        events=("tag",),
        code=(ContainerdReferenceStore.add_tag,),
    ),
    S(1, "unpause", events=("unpause",), code=(pause.unpause,)),
    S(1, "container.checkpoint (config.v2.json)", "container-config", code=(Container.checkpoint,)),
    S(1, "events.log(commit)", events=("commit",), code=_EVENTS_LOG),
]


def _swap(steps: list[StepSpec]) -> list[StepSpec]:
    """A graph-driver recipe with the mount steps of the containerd store."""
    out = []
    for st in steps:
        if st.function.startswith("rw_layer.mount"):
            out.append(S(st.depth, _MOUNT.function, *_MOUNT.roles, code=_MOUNT.code))
        elif st.function.startswith("rw_layer.unmount"):
            out.append(S(st.depth, _UNMOUNT.function, *_UNMOUNT.roles, code=_UNMOUNT.code))
        elif "same mount-id" in st.function:
            text = st.function.replace("same mount-id", "same snapshot <id>, same snapshots/<N>")
            out.append(StepSpec(st.depth, text, st.roles, st.events, st.always, st.code))
        else:
            out.append(st)
    return out


RECIPES: dict[str, list[StepSpec]] = {
    verb: _swap(steps) for verb, steps in GRAPH_RECIPES.items() if verb not in ("create", "rm")
}
RECIPES["create"] = _CREATE
RECIPES["rm"] = _RM
RECIPES["commit"] = _COMMIT
# the meta.db, snapshotter and content writes of every other verb (commit, build, pull,
# tag) stay visible
for _verb, _steps in RECIPES.items():
    if _verb not in ("create", "rm"):
        _steps.append(
            S(
                1,
                "containerd: meta.db / snapshots / content",
                "c8d-meta",
                "c8d-sn-meta",
                "c8d-content",
            )
        )
