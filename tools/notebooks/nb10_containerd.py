"""10 Docker 29: the containerd image store (the restart lesson on snapshots)."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md

NAME = "10-docker-29-containerd-image-store.ipynb"

MOBY29 = "https://github.com/moby/moby/blob/docker-v29.0.0"
CTRD = "https://github.com/containerd/containerd/blob/v1.6.20"

CELLS = [
    md(
        """
        # 10 · Docker 29: the containerd image store

        **The question**: *I ran `sudo ls /var/lib/docker` on a fresh install and there is no
        `overlay2/` folder and no `layerdb/` — where did my container's data go?* Since Docker
        Engine 29, new installs keep images and containers' layers in **containerd's image
        store**: the graph drivers of notebooks 01–09 are replaced by containerd's content
        store and **snapshotters**.

        **What you will see**, side by side on two models (the 20.10 graph-driver store and the
        containerd store):

        1. how to tell which store a Docker uses;
        2. where a container's read-write (RW) layer lives now: an *active snapshot* named by
           the container ID, in `snapshots/<N>/fs`, held by a *lease*;
        3. the restart lesson again: restart keeps the same snapshot (same key, same `N`), `rm`
           deletes it;
        4. why images take more disk now (compressed blobs **and** unpacked snapshots);
        5. what containerd's garbage collector does, and when.

        **Where the facts come from.** Two sources, kept apart in this notebook:

        - *observed* on a real **containerd 1.6.20** (Debian's), driven with `ctr -n moby`:
          the folder layout, snapshot names and kinds, `N` never reused, labels, GC timing, the
          overlay mount line, the disk sizes. The model's containerd is checked against such a
          containerd by `tests/containerd/test_real_containerd.py`;
        - *read* in **Docker 29's source** (moby tag `docker-v29.0.0`): what dockerd asks of
          containerd — the lease per container, the `-init` snapshot, the synchronous GC on
          `rm`, the image ID rule. No Docker 29 engine was run for this notebook.
        """
    ),
    code(
        """
        from pathlib import Path

        from dockerlayers import DockerClient

        old = DockerClient(seed=3, clock="virtual", mounts="user")  # Docker 20.10-28: overlay2 graph driver
        new = DockerClient(seed=3, clock="virtual", mounts="user", storage="containerd")  # Docker 29's default
        old_root, new_root = Path(old.daemon.root), Path(new.daemon.root)
        old.daemon.driver.name, new.daemon.driver.name
        """
    ),
    md(
        """
        ## 1. Which store does my Docker use?

        `docker info` says it. With the graph drivers, `Driver` is `overlay2` and `DriverStatus`
        describes the backing filesystem; with the containerd store, `Driver` is the
        snapshotter (`overlayfs`) and `DriverStatus` says `driver-type io.containerd.snapshotter.v1`:
        """
    ),
    code(
        """
        {"graph driver": old.daemon.info()["Driver"], "containerd": (new.daemon.info()["Driver"], new.daemon.info()["DriverStatus"])}
        """
    ),
    md(
        """
        **On your own machine**:

        ```console
        $ docker info -f '{{ .DriverStatus }}'
        [[driver-type io.containerd.snapshotter.v1]]          # the containerd image store
        [[Backing Filesystem extfs] [Supports d_type true] [Using metacopy false] [Native Overlay Diff true] [userxattr false]]   # overlay2
        ```

        Docker 29 uses the containerd store by default, with no setting: only an upgraded
        install that already has images in a graph driver keeps it, and
        `"features": {"containerd-snapshotter": false}` (or `"storage-driver": "overlay2"`)
        in `/etc/docker/daemon.json` opts out; `true` forces the containerd store
        (`daemon/image_store_choice.go`). The model follows Docker 20.10 by default and
        takes the containerd store from the same key (`true`) in `<root>/daemon.json`, or
        from `DockerClient(storage="containerd")`.
        """
    ),
    md(
        """
        ## 2. The same container in both stores

        A "database" without a volume, as in notebook 03: it writes `/table.csv`.
        """
    ),
    code(
        """
        cmd = ["sh", "-c", "echo id,name >> /table.csv; while true; do sleep 1; done"]
        db_old = old.containers.run(old.images.base(), cmd, name="db", detach=True)
        db_new = new.containers.run(new.images.base(), cmd, name="db", detach=True)
        db_old.short_id, db_new.short_id
        """
    ),
    md(
        """
        **Graph driver**: the RW layer is a folder named by a random *mount-id*, recorded in
        `layerdb/mounts/<container id>/mount-id` (notebook 03).
        **containerd**: there is no mount-id. The RW layer is a containerd **snapshot whose key
        is the container ID**. containerd lists its snapshots with `ctr -n moby snapshots ls`;
        here is the model's list (key, parent, kind):
        """
    ),
    code(
        """
        ctrd = new.daemon.layer_store.containerd
        sn = ctrd.snapshotter("overlayfs")
        short = lambda key: key[:19] if key.startswith("sha256:") else key[:12] + key[64:]  # noqa: E731
        [(short(s.name), short(s.parent), s.kind) for s in sn.walk("moby")]
        """
    ),
    md(
        """
        Three snapshots, made by dockerd's `createLayer` (Docker 29's source,
        `daemon/containerd/image_snapshot.go`):

        - the image's layer, **Committed**, named by its **chain ID** (notebook 01) — one
          snapshot per layer, shared by every container of the image;
        - `<id>-init`, **Committed**: Docker prepares `<id>-init-key` on the image, writes its
          init files (`/etc/hosts`, `/.dockerenv`, ...) and commits it as `<id>-init`;
        - `<id>`, **Active**: prepared on `<id>-init` — the container's RW layer.

        None of them carries a `containerd.io/gc.root` label: what keeps the container's two
        snapshots is a **lease** whose ID is the container ID, under which they were made:
        """
    ),
    code(
        """
        [(short(lease.id), [(short(r.id), r.type) for r in ctrd.leases.list_resources("moby", lease.id)]) for lease in ctrd.leases.list("moby")]
        """
    ),
    md(
        """
        On disk the snapshotter keeps each snapshot in a numbered folder
        `io.containerd.snapshotter.v1.overlayfs/snapshots/<N>/`, with `fs/` (the files) and,
        for active snapshots, `work/` (overlayfs's scratch folder). `N` comes from a counter in
        the snapshotter's own database: it counts up and is never reused. The container's
        upper folder is `snapshots/<N>/fs`:
        """
    ),
    code(
        """
        snap_root = Path(ctrd.backends["overlayfs"].root)
        n = sn.snapshot_id("moby", db_new.id)
        upper = snap_root / "snapshots" / n / "fs"
        n, sorted(p.name for p in upper.iterdir()), str(upper.relative_to(new_root))
        """
    ),
    md(
        """
        The two stores side by side (paths under `/var/lib/docker`; with a system containerd,
        `/var/lib/containerd` instead of `/var/lib/docker/containerd/daemon`):

        | | graph driver (overlay2) | containerd image store |
        |---|---|---|
        | RW layer named by | a random mount-id | the container ID (snapshot key) |
        | its files | `overlay2/<mount-id>/diff` | `containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/<N>/fs` |
        | init layer | `overlay2/<mount-id>-init` | snapshot `<id>-init` |
        | what keeps it | `image/overlay2/layerdb/mounts/<id>/` | a lease `<id>` |
        | image layers | `overlay2/<cache-id>/diff` + `layerdb/sha256/<chain id>` | snapshots named by chain ID + compressed blobs |
        """
    ),
    md(
        """
        `start` mounts the snapshot: dockerd asks the snapshotter for its mounts and mounts
        them at `/var/lib/docker/rootfs/overlayfs/<id>`. The kernel's mount line (the model
        here uses its user-space union, and prints the line the kernel would show; `<root>` is
        the model's `/var/lib/docker`) has one more lowerdir than the image — the init snapshot:
        """
    ),
    code(
        """
        line = new.daemon.rw_layers[db_new.id].layer.mount_line().replace(str(new_root), "<root>")
        print(line.replace(",lowerdir", ",\\n  lowerdir").replace(",upperdir", ",\\n  upperdir").replace(",workdir", ",\\n  workdir"))
        """
    ),
    md(
        """
        ## 3. Restart keeps the snapshot; rm deletes it

        Restart: the task ends and the rootfs is unmounted, but the snapshot, its folder and its
        data stay; the new task mounts the same `snapshots/<N>`. (Observed on containerd 1.6;
        Docker 29 re-creates its containerd container object on every start, over the same
        snapshot.)
        """
    ),
    code(
        """
        db_new.restart(timeout=1)
        new.clock.advance(1)
        sn.snapshot_id("moby", db_new.id) == n, (upper / "table.csv").read_text()
        """
    ),
    md(
        """
        The shell appended a second header line at its second start: the file was kept.
        `docker rm` deletes the lease **with a synchronous garbage collection** (Docker 29:
        `ReleaseLayer`, `leases.SynchronousDelete`), which removes `<id>` and `<id>-init`
        and their folders before `rm` returns:
        """
    ),
    code(
        """
        db_new.remove(force=True)
        gc = ctrd.last_gc
        [short(k.split("/")[-1]) for k in gc.snapshots], upper.exists(), [short(s.name) for s in sn.walk("moby")]
        """
    ),
    md(
        """
        The image's snapshot stays: the image still references it (next section). A new
        container gets **new** snapshots (its init snapshot takes `N` = 4, its RW layer 5: the
        counter never goes back), and a fresh upper folder where its shell writes a new
        `/table.csv` with one header line.
        """
    ),
    code(
        """
        db2 = new.containers.run(new.images.base(), cmd, name="db", detach=True)
        n2 = sn.snapshot_id("moby", db2.id)
        n2, (snap_root / "snapshots" / n2 / "fs" / "table.csv").read_text()
        """
    ),
    md(
        """
        ## 4. Why images take more disk now

        The graph drivers unpack a pulled layer and throw the compressed download away. The
        containerd store keeps **both**: the blobs exactly as pulled (compressed, files mode
        0444 in `io.containerd.content.v1.content/blobs/sha256/`) and the unpacked snapshots.
        On containerd 1.6 we measured busybox at 1.09 MB of blobs + 2.02 MB of snapshots, with
        no hard links between them. The model's image (a tiny one) in the containerd store:
        """
    ),
    code(
        """
        images = new.daemon.layer_store.images
        img = images.list()[0]
        img.name, images.sizes(img)
        """
    ),
    md(
        """
        `docker images` in Docker 29 adds the two (`daemon/containerd/image_list.go`: the
        content size plus the snapshots' *unpacked* size). The blobs and the labels that tie
        them together (containerd's `ctr -n moby content ls`):
        """
    ),
    code(
        """
        [(i.digest[7:19], i.size, {k.replace("containerd.io/", ""): v[7:19] for k, v in i.labels.items()}) for i in ctrd.content.list("moby")]
        """
    ),
    md(
        """
        Read it as a graph: the manifest names its config and layers
        (`gc.ref.content.config`, `gc.ref.content.l.0`), the layer records its uncompressed
        digest (its DiffID), and the config names the unpacked top snapshot
        (`gc.ref.snapshot.overlayfs` = the top chain ID). The image record points at the
        manifest, and its digest is the **image ID Docker 29 shows**: the record's target
        (the manifest, or the index of a multi-platform pull), not the config's digest of
        Docker 20.10–28 (`daemon/containerd/image.go`):
        """
    ),
    code(
        """
        {"containerd store (manifest digest)": new.images.base().id[:19], "graph driver (config digest)": old.images.base().id[:19]}
        """
    ),
    md(
        """
        `docker images` shows that ID, and the size it shows is the total of the blobs and the
        unpacked snapshots:
        """
    ),
    code(
        """
        new.images.base().attrs["Size"] == images.sizes(img)["total"], old.images.base().attrs["Size"]
        """
    ),
    md(
        """
        There is no `image/` and no `overlay2/` folder beside `containerd/` on this root,
        as on a Docker 29 install: the layers are the snapshots above, the image is a record
        in `meta.db`, its config and layers are blobs (a pulled image keeps the registry's
        manifest and compressed blobs, and its digest as ID):
        """
    ),
    code(
        """
        from dockerlayers.viz.snapshot import is_internal  # the model's own files (not Docker's)

        folders = lambda root: sorted(p.name for p in root.iterdir() if p.is_dir() and not is_internal(p.name))  # noqa: E731
        {"containerd store": folders(new_root), "graph driver": folders(old_root)}
        """
    ),
    md(
        """
        One consequence of Docker 29's `docker commit` that its source shows
        (`daemon/containerd/image_commit.go` `applyDiffLayer`): the new layer's snapshot is
        prepared on the container snapshot's **parent**, `<id>-init`, so the committed image's
        snapshot hangs on the container's init snapshot, which then outlives the container:
        """
    ),
    code(
        """
        snap = db2.commit("snap", "1")
        top2 = images.top_chain_id(images.get("docker.io/library/snap:1"))
        db2.remove(force=True)
        short(sn.stat("moby", top2).parent), [short(s.name) for s in sn.walk("moby")]
        """
    ),
    md(
        """
        ## 5. Garbage collection: what and when

        containerd deletes nothing by reference counts. Its collector marks from **roots** —
        images, leases, containers, and anything labelled `containerd.io/gc.root` — following
        the `gc.ref` labels and snapshot parents, and removes whatever it did not reach. It
        runs shortly after a deletion (about 30 ms on our containerd 1.6 runs), or before the
        call returns when the client asks for a synchronous delete (as Docker does on `rm` and
        `rmi`). A snapshot nothing references — here a read-only view made without a lease —
        survives only until the next pass:
        """
    ),
    code(
        """
        top = images.top_chain_id(img)
        sn.view("moby", "a-view", top)
        ctrd.leases.create("moby", "tmp")
        ctrd.leases.delete("moby", "tmp")  # a deletion: a collection is scheduled, not run
        before = [s.name for s in sn.walk("moby") if s.name == "a-view"]
        new.clock.advance(0.05)  # ~30 ms later the scheduled pass runs
        ctrd.tick()
        before, [s.name for s in sn.walk("moby") if s.name == "a-view"]
        """
    ),
    md(
        """
        ## 6. Try it yourself: the ContainerLab on the containerd store

        The same panel as in notebook 03, on a fresh daemon in the containerd mode. Click
        **create**, **start**, **run exec**, **restart**: the status line shows the same
        snapshot in the same `snapshots/<N>`; "What Docker did" names Docker 29's
        `CreateLayer`/`prepareInitLayer` and containerd's `Prepare`/`Commit`, and after
        **rm** the lease's synchronous garbage collection.
        """
    ),
    code(
        """
        from dockerlayers.viz import ContainerLab

        lab = DockerClient(seed=30, clock="virtual", mounts="user", storage="containerd")
        ContainerLab(lab, image=lab.images.base(), command="sh -c 'while true; do sleep 1; done'")
        """
    ),
    md(
        """
        ## What to remember

        - Same lesson, new names: restart keeps the container's RW layer (the active snapshot
          `<id>`, in the same `snapshots/<N>`); `rm` deletes it.
        - No mount-id: the snapshot key is the container ID, and a **lease** with the same ID
          keeps it and its `<id>-init` parent.
        - Images cost compressed blobs **plus** unpacked snapshots; the image ID is the
          manifest digest.
        - `docker info -f '{{ .DriverStatus }}'` tells you which store your Docker uses.

        ## Read next

        Docker 29 (moby `docker-v29.0.0`):
        """
        + "\n        ".join(
            f"- [`{p}`]({MOBY29}/{p})"
            for p in (
                "daemon/containerd/image_snapshot.go",
                "daemon/containerd/image_commit.go",
                "daemon/containerd/image_list.go",
                "daemon/containerd/image.go",
                "daemon/snapshotter/mount.go",
            )
        )
        + """

        containerd 1.6:
        """
        + "\n        ".join(
            f"- [`{p}`]({CTRD}/{p})"
            for p in (
                "snapshots/overlay/overlay.go",
                "snapshots/storage/bolt.go",
                "metadata/snapshot.go",
                "metadata/leases.go",
                "metadata/gc.go",
            )
        )
        + """

        The model: `dockerlayers/containerd/` (one file per containerd concept) and the notes
        of the real runs in `tests/containerd/test_real_containerd.py`.

        Next: [11 · Pull a real image and look inside](11-pull-a-real-image.ipynb).
        """
    ),
    code(
        """
        old.close()
        new.close()  # the panel's daemon (lab) stays up for your clicks
        """
    ),
]
