"""02 create, start, run: the seed article's code path, step by step."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "02-create-start-run.ipynb"

CELLS = [
    md(
        """
        # 02 · create, start, run

        **The questions**: *what does `docker create` actually make?*, *where does my
        container's data live on disk?*, *`run` vs `create` + `start`?*, *what does `docker
        pause` do?*

        It follows the article this project started from, *docker容器重启后读写层数据并不丢失的原理*
        ("Why data in a Docker container's read-write layer is not lost when the container
        restarts", a Chinese blog post), which reads moby's `create` and `start` code on a
        daemon with the aufs driver.

        **What you will see** (15 minutes):

        1. `docker create` on a daemon with the aufs driver (the article's): the RW and
           init layers it makes, and every file it writes;
        2. `start`: mount the RW layer, run the process; `run` = `create` + `start`;
        3. `pause` freezes the process but keeps the mount;
        4. the same container on overlay2, the default driver today, next to aufs;
        5. an appendix for readers of moby: moby's create path **step by step** by hand: get
           the image's top layer → new container ID → `set_rw_layer` → `create_rw_layer` →
           `init_mount` → driver `create_read_write` → `save_mount`, and the files each step
           writes.
        """
    ),
    code(
        """
        import re
        import tempfile
        from pathlib import Path

        from dockerlayers import DockerClient
        from dockerlayers.daemon.initlayer import setup_init_layer
        from dockerlayers.digest import chain_id
        from dockerlayers.graphdriver import new_driver
        from dockerlayers.layer import LayerStore
        from dockerlayers.stringid import IDGenerator


        def tree(root, folder=""):
            \"\"\"Paths under root/folder, relative to root, 64-hex IDs cut to 12 characters.\"\"\"
            paths = sorted(str(p.relative_to(root)) for p in (Path(root) / folder).rglob("*"))
            return [re.sub(r"([0-9a-f]{12})[0-9a-f]{52}", r"\\1…", p) for p in paths]
        """
    ),
    md(
        """
        ## 1. `docker create`

        A model daemon with the aufs driver (the one the article used) and its built-in
        base image:
        """
    ),
    code(
        """
        client = DockerClient(seed=2, clock="virtual", mounts="user", driver="aufs")
        image = client.images.base()
        image.attrs["RootFS"]
        """
    ),
    md(
        """
        `client.containers.create` gets the image's top layer, draws a container ID, and has the
        layer store make the RW layer and the init layer below it (`set_rw_layer` →
        `create_rw_layer` → `init_mount` → the driver's `create_read_write` → `save_mount`:
        the appendix does it by hand), then writes the container's own folder `containers/<id>/`.
        Nothing runs yet: status `created`, no process.
        """
    ),
    code(
        """
        from dockerlayers.viz import disk_tree, take_snapshot

        root = client.daemon.root
        before = take_snapshot(client)
        web = client.containers.create(image, ["sh", "-c", "while true; do echo tick; sleep 1; done"], name="web")
        web.status, web.attrs["State"]["Pid"]
        """
    ),
    md(
        """
        Everything `create` wrote under the daemon's root, marked `+` (new) and `~`
        (changed), next to what was there before (`dockerlayers.viz.disk_tree`; the image's
        layer folder is one line):
        """
    ),
    code(
        """
        print(disk_tree(client, since=before).to_text())
        """
    ),
    code(
        """
        tree(root, f"image/aufs/layerdb/mounts/{web.id}"), tree(root, "aufs/layers")
        """
    ),
    md(
        """
        ## 2. start, and run = create + start

        `start` mounts the RW layer (the driver keeps a mount count), writes the files the
        runtime bind-mounts (`hostname`, `hosts`, `resolv.conf`) into the container's folder,
        and runs the process.
        """
    ),
    code(
        """
        rw = client.daemon.rw_layer(web.id)
        before = client.daemon.driver.mount_count(rw.mount_id)
        web.start()
        web.reload()  # attrs are a snapshot: reload() asks the daemon again
        before, client.daemon.driver.mount_count(rw.mount_id), web.status, web.attrs["State"]["Pid"]
        """
    ),
    code(
        """
        tree(root, f"containers/{web.id}")
        """
    ),
    md(
        """
        `docker run` is literally the two calls: the events log of a `run` shows `create` then
        `start` (then `die`, when `echo` has finished).
        """
    ),
    code(
        """
        job = client.containers.run(image, ["sh", "-c", "echo done"], name="job", detach=True)
        [e["Action"] for e in client.daemon.events.list() if e["id"] == job.id]
        """
    ),
    md(
        """
        ## 3. pause: the process is frozen, the mount stays

        `web` prints `tick` every second. Paused, it prints nothing while time passes; its
        status is `paused` while `Running` stays `True`, and the RW layer stays mounted.
        """
    ),
    code(
        """
        client.clock.advance(3)
        web.pause()
        ticks = len(web.logs().splitlines())
        client.clock.advance(5)
        web.reload()
        web.status, web.attrs["State"]["Running"], len(web.logs().splitlines()) - ticks, client.daemon.driver.mount_count(rw.mount_id)
        """
    ),
    code(
        """
        web.unpause()
        client.clock.advance(5)
        web.reload()
        web.status, len(web.logs().splitlines()) > ticks
        """
    ),
    md(
        """
        ## 4. The same container on overlay2

        overlay2 (the default since Docker 17.09, moby commit fd6ffc2; aufs was deprecated in
        20.10 and removed in 24.0) keeps each
        layer in one folder `overlay2/<id>/` with `diff/` (its files), `link` (a short name in
        `l/`), `lower` (the layers below, as `l/<short name>` joined by `:`) and `work/`.
        The layerdb records are the same.
        """
    ),
    code(
        """
        client2 = DockerClient(seed=2, clock="virtual", mounts="user", driver="overlay2")
        web2 = client2.containers.create(client2.images.base(), ["sh", "-c", "sleep 100"], name="web")
        rw2 = client2.daemon.rw_layer(web2.id)
        [p for p in tree(client2.daemon.root, "overlay2") if "/diff/" not in p]
        """
    ),
    code(
        """
        (Path(client2.daemon.root) / "overlay2" / rw2.mount_id / "lower").read_text()
        """
    ),
    md(
        """
        ## What to remember

        - `create` makes the container's ID, its RW layer and its init layer (through
          `set_rw_layer` → `create_rw_layer` → `init_mount` → `create_read_write`), records them
          in `layerdb/mounts/<container id>/` (`save_mount`), and writes `containers/<id>/`.
        - `start` mounts that RW layer and runs the process; `run` = `create` + `start`.
        - `pause` freezes the processes; the mount and the RW layer are untouched.
        - Driver folders are named by random IDs (cache-id, mount-id), not by container IDs or
          digests; the layerdb is the map between them.

        ## Read next in moby

        """
        + moby(
            "daemon/create.go",
            "daemon/start.go",
            "daemon/images/service.go",
            "layer/layer_store.go",
            "daemon/initlayer/setup_unix.go",
            "daemon/pause.go",
        )
        + """
        - aufs (removed in 24.0): [`daemon/graphdriver/aufs/aufs.go`](https://github.com/moby/moby/blob/v20.10.24/daemon/graphdriver/aufs/aufs.go)

        Next: [03 · Restart keeps the read-write layer](03-restart-keeps-the-rw-layer.ipynb).
        """
    ),
    md(
        """
        ## Appendix: `docker create`, step by step, by hand

        For readers of moby's source: we replay the layer-store part of `create` by hand on an
        empty folder, with the functions of `layer/layer_store.go` (the path the article this
        project started from walks through). The article used **aufs**, so we do too.
        """
    ),
    md(
        """
        **GetImage, then the image's top layer.** `set_rw_layer` needs the ChainID of the
        image's top layer (notebook 01: for a one-layer image it equals the DiffID).
        """
    ),
    code(
        """
        top = chain_id(image.attrs["RootFS"]["Layers"])
        top
        """
    ),
    md(
        """
        A fresh layer store with the aufs driver in an empty folder (`scratch`), and the image's
        layer registered into it from its tar — as `docker load` or a pull would.
        """
    ),
    code(
        """
        scratch = tempfile.mkdtemp()
        ids = IDGenerator(seed=20)
        store = LayerStore(scratch, new_driver("aufs", scratch, mounts="user"), ids=ids)
        base = store.register(client.daemon.layer_store.get(top).tar_stream())
        base.chain_id == top, base.cache_id[:12]
        """
    ),
    code(
        """
        tree(scratch, "aufs/layers"), tree(scratch, "image/aufs/layerdb/sha256")
        """
    ),
    md(
        """
        **newContainer**: the container gets a random 64-hex ID.
        **CreateRWLayer(container ID, top ChainID, init function)** then draws *another* random
        ID, the **mount-id**, for the driver's folder of the RW layer.
        """
    ),
    code(
        """
        container_id = ids.generate_random_id()
        mount_id = ids.generate_random_id()
        container_id[:12], mount_id[:12]
        """
    ),
    md(
        """
        **initMount**: the driver creates `<mount-id>-init` on the image's layer
        (`CreateReadWrite`), mounts it, and the daemon's init function writes the placeholders
        the runtime will mount over (`/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`,
        `/dev/console`, `/dev/pts`, ...), plus `/.dockerenv`, an empty marker file that is
        not mounted over (software checks it to know it runs in Docker). aufs's `Create`
        writes `layers/<id>`: the parent chain, one ID per line.
        """
    ),
    code(
        """
        init_id = store.init_mount(mount_id, base.cache_id, setup_init_layer)
        tree(scratch, f"aufs/diff/{init_id}")
        """
    ),
    code(
        """
        (Path(scratch) / "aufs/layers" / init_id).read_text() == base.cache_id + "\\n"
        """
    ),
    md(
        """
        **driver.CreateReadWrite(mount-id, init-id)**: the RW layer itself, on the init layer.
        Its `diff/` is empty; its `layers/` file lists the init layer, then the image layer.
        """
    ),
    code(
        """
        store.driver.create_read_write(mount_id, init_id)
        tree(scratch, f"aufs/diff/{mount_id}"), (Path(scratch) / "aufs/layers" / mount_id).read_text().split()
        """
    ),
    md(
        """
        **saveMount**: three small files under `layerdb/mounts/<container id>/` link the
        container to its layers: `mount-id`, `init-id` and `parent` (the image's top ChainID).
        """
    ),
    code(
        """
        store.store.set_mount(container_id, mount_id, init_id, base.chain_id)
        mounts = Path(scratch) / "image/aufs/layerdb/mounts" / container_id
        {f.name: f.read_text()[:20] + "…" for f in sorted(mounts.iterdir())}
        """
    ),
    md(
        """
        Those files *are* the record: a new store opened on the folder (what a daemon restart
        does) finds the RW layer of the container by its ID.
        """
    ),
    code(
        """
        store = LayerStore(scratch, new_driver("aufs", scratch, mounts="user"), ids=ids)
        store.get_mount_id(container_id) == mount_id
        """
    ),
    md(
        """
        **start → `RWLayer.Mount`**: the driver unions `diff/<mount-id>` (read-write) over the
        init layer and the image layer (read-only). A write lands in `diff/<mount-id>`.
        """
    ),
    code(
        """
        rw = store.get_rw_layer(container_id)
        rootfs = rw.mount()
        rootfs.write_bytes("/hello.txt", b"hello\\n")
        rootfs.listdir("/")
        """
    ),
    code(
        """
        tree(scratch, f"aufs/diff/{mount_id}"), rw.changes()
        """
    ),
    md(
        """
        The init layer's files are in the mounted view but not in `changes()`: the RW layer is
        compared with the init layer, never with the image. That is why Docker's own
        `/etc/hosts` never shows in `docker diff` (notebook 04).
        """
    ),
    code(
        """
        rw.unmount()
        store.release_rw_layer(rw)
        tree(scratch, "aufs/layers")
        """
    ),
    md(
        """
        `release_rw_layer` deleted the RW and init folders, and here the image's layer as
        well. That is expected: the layer store counts who uses each layer and deletes a layer
        when its last user lets go. This hand-made store has no image store, so the only user
        of the base layer was our RW layer (the store we reopened above counts what is on
        disk: the mount's `parent` file). In a daemon the image store holds every image's
        layers, so `docker rm` deletes only the container's RW and init layers and the image
        stays. The daemon of section 1, after removing both its containers:
        """
    ),
    code(
        """
        web.remove(force=True)
        job.remove()
        tree(root, "aufs/layers"), [i.tags for i in client.images.list()]
        """
    ),
    code(
        """
        import shutil

        client.close()
        client2.close()
        shutil.rmtree(scratch)
        """
    ),
]
