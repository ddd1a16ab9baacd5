"""03 Restart keeps the read-write layer (the central claim)."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "03-restart-keeps-the-rw-layer.ipynb"

CELLS = [
    md(
        """
        # 03 · Restart keeps the read-write layer

        **The question** (the one everybody asks): *if I restart my container, do I lose my
        data?* And the classic accident: a database run without a volume, `docker rm -f`,
        `docker run` again — and the table is gone.

        **What you will see** (10 minutes), all of it live on the model:

        1. a container writes a file; the file lands in the container's **read-write (RW)
           layer**, a folder named by a random **mount-id**, not by the container ID;
        2. `stop`, `start`, `restart` and even a **daemon restart** reuse that same layer:
           same mount-id, same folder, the file is still there;
        3. `rm` releases the layer (its folders are deleted) and `run` makes a new container
           with a new, empty RW layer: the file is gone;
        4. what restart does *not* keep (`/etc/hosts` and friends, tmpfs, memory, recreated
           containers);
        5. a panel where you click through it yourself.

        Beside the key cells, **on your own machine** shows the command to type on a real
        Docker and what it prints there.

        Everything runs on `dockerlayers`, a pure-Python model of the Docker engine: no Docker,
        no root. Processes are simulated and time is virtual, so every run prints the same IDs.

        The whole story in one picture (the folders are under `/var/lib/docker`):

        ```text
        restart (stop + start)                      rm + run
        ----------------------                      --------
        overlay2/3f2a…  (RW layer of "db")          overlay2/3f2a…  (RW layer of "db")
          diff/table.csv                              diff/table.csv
              |  stop: unmounted, kept                  |  rm: DELETED with its -init layer
              |  start: mounted again                   |
              v                                         v
        overlay2/3f2a…  the same folder             overlay2/9c41…  a NEW folder, empty
          diff/table.csv  still there                 diff/           (new container, new mount-id)
        ```
        """
    ),
    code(
        """
        from pathlib import Path

        from dockerlayers import DockerClient

        client = DockerClient(seed=3, clock="virtual", mounts="user")
        root = Path(client.daemon.root)  # the model's /var/lib/docker; paths below are relative to it
        image = client.images.base()  # a tiny busybox-like image, built in
        image.tags, client.daemon.driver.name
        """
    ),
    md(
        """
        ## 1. A "database" without a volume

        Our database is a shell loop that keeps running; it creates `/table.csv` (with a header
        line) when it starts and the file is missing, and we insert rows with `docker exec`. `run` = `create` + `start` (notebook 02).
        """
    ),
    code(
        """
        db = client.containers.run(
            image,
            ["sh", "-c", "test -f /table.csv || echo id,name > /table.csv; while true; do sleep 1; done"],
            name="db",
            detach=True,
        )
        db.exec_run(["sh", "-c", "echo 1,alice >> /table.csv"])
        db.reload()
        db.name, db.short_id, db.status
        """
    ),
    code(
        """
        print(db.exec_run("cat /table.csv").output.decode())
        """
    ),
    md(
        """
        `docker diff` lists what the container changed against its image (A = added):
        """
    ),
    code(
        """
        db.diff()
        """
    ),
    md(
        """
        ## 2. Where does the data live?

        The layer store keeps one folder per container under `layerdb/mounts/<container id>/`.
        Its `mount-id` file names the graph driver's folder of the RW layer; `init-id` names the
        init layer below it (Docker's own `/etc/hosts`, `/.dockerenv`, ...); `parent` is the
        image's top layer (its ChainID, notebook 01).
        """
    ),
    code(
        """
        mount_dir = root / "image/overlay2/layerdb/mounts" / db.id
        {f.name: f.read_text() for f in sorted(mount_dir.iterdir())}
        """
    ),
    md(
        """
        **On your own machine** (Docker 20.10–28 with overlay2, Linux; Docker Desktop keeps
        `/var/lib/docker` inside its VM), the same three files:

        ```console
        $ docker run -d --name db busybox sh -c 'while true; do sleep 1; done'
        $ sudo cat /var/lib/docker/image/overlay2/layerdb/mounts/$(docker inspect -f '{{.Id}}' db)/mount-id
        9bc71e1797fde1164665597767dffa4d62bb697cf307d774475955ff1260e5bd
        ```

        (recorded on a real Docker 20.10.24: your IDs differ; on Docker 29's containerd image
        store there is no `layerdb/`, the RW layer is a containerd snapshot — notebook 00.)
        """
    ),
    md(
        """
        The mount-id is a random ID of its own: it is **not** the container ID.
        """
    ),
    code(
        """
        mount_id = client.daemon.layer_store.get_mount_id(db.id)
        mount_id == db.id, mount_id[:12]
        """
    ),
    md(
        """
        With overlay2, the RW layer's files are in `overlay2/<mount-id>/diff` — the overlay
        *upper dir*. Only what the container wrote is there; the image's files stay in the
        image's own (shared, read-only) layer folders.
        """
    ),
    code(
        """
        upper = root / "overlay2" / mount_id / "diff"
        sorted(str(p.relative_to(upper)) for p in upper.rglob("*"))
        """
    ),
    md(
        """
        `docker inspect` shows the same folders under `GraphDriver.Data` (here with the root
        written as `<root>`): `UpperDir` is that folder, `LowerDir` the init layer and the image
        layers, `MergedDir` the container's view of all of them.
        """
    ),
    code(
        """
        {k: v.replace(str(root), "<root>") for k, v in db.attrs["GraphDriver"]["Data"].items()}
        """
    ),
    md(
        """
        **On your own machine**, `docker inspect -f '{{.GraphDriver.Data.UpperDir}}' db` prints
        that folder, and the kernel's mount table shows the overlay `start` made — its
        `lowerdir` (the init layer, then the image layers, top first), `upperdir` (the RW
        layer's `diff`) and `workdir` (overlayfs's scratch folder for atomic copy-up):

        ```console
        $ mount | grep overlay
        overlay on /var/lib/docker/overlay2/9bc71e…/merged type overlay (rw,relatime,
          lowerdir=/var/lib/docker/overlay2/l/KJSVQA6MNQFFSSFV3GE7AFD27Q:/var/lib/docker/overlay2/l/AIEHQEO727AWLLFCTRCC43AL5F,
          upperdir=/var/lib/docker/overlay2/9bc71e…/diff,workdir=/var/lib/docker/overlay2/9bc71e…/work)
        ```

        Why `l/KJSV…` and not the layer folders' long names? All the mount's options must fit
        in one page of memory (4,096 bytes): with 64-character folder names, an image of ~40
        layers would not fit. So each layer folder gets a 26-character alias in `overlay2/l/`
        (a symlink to its `diff`), and each layer's `lower` file lists its lowers by alias;
        if even that is too long, moby mounts with paths relative to `overlay2/` (`mountFrom`).
        The model keeps the same files:
        """
    ),
    code(
        """
        rw_folder = root / "overlay2" / mount_id
        (rw_folder / "lower").read_text(), (rw_folder / "link").read_text()
        """
    ),
    md(
        """
        ## 3. stop, start, restart: the same layer every time

        `stop` sends SIGTERM; our shell has no `trap`, so as PID 1 it ignores it, and after the
        10-second timeout Docker sends SIGKILL: exit code 137 = 128 + 9 (notebook 07). The
        virtual clock moved by those 10 seconds.
        """
    ),
    code(
        """
        db.stop()
        db.reload()
        db.status, db.attrs["State"]["ExitCode"], db.attrs["State"]["FinishedAt"]
        """
    ),
    md(
        """
        A stopped container has no process, but its RW layer is untouched: same mount-id, same
        upper dir, same `docker diff`.
        """
    ),
    code(
        """
        client.daemon.layer_store.get_mount_id(db.id) == mount_id, upper.exists(), db.diff()
        """
    ),
    md(
        """
        `start` mounts that existing RW layer again over the image layers and runs the command
        again (and when the process exits, the layer is unmounted: start and exit mount and
        unmount it, they neither create nor release it). `/table.csv` exists, so the command leaves it alone, and Alice is still there.
        """
    ),
    code(
        """
        db.start()
        db.reload()
        db.status, client.daemon.layer_store.get_mount_id(db.id) == mount_id
        """
    ),
    code(
        """
        print(db.exec_run("cat /table.csv").output.decode())
        """
    ),
    md(
        """
        Now `restart` (the running container is stopped, then started) after one more row and
        a second file:
        """
    ),
    code(
        """
        db.exec_run(["sh", "-c", "echo 2,bob >> /table.csv; echo keep me > /notes.txt"])
        db.restart()
        db.reload()
        db.status, client.daemon.layer_store.get_mount_id(db.id) == mount_id
        """
    ),
    code(
        """
        print(db.exec_run("cat /table.csv /notes.txt").output.decode())
        """
    ),
    md(
        """
        `restart` is `stop` + `start` on **the same container object**: moby's
        `daemon/restart.go` calls `containerStop` then `containerStart`, and neither touches the
        RW layer. The events log shows the sequence (each stop is `kill` with SIGTERM, `kill`
        with SIGKILL after the 10 s timeout, `die`, `stop`: notebook 07):
        """
    ),
    code(
        """
        [e["Action"] for e in client.daemon.events.list() if not e["Action"].startswith("exec")]
        """
    ),
    md(
        """
        ## 4. Even a daemon restart keeps it

        Everything the daemon knows is on disk under its root: `containers/<id>/config.v2.json`
        and the layerdb. Shut the daemon down (running containers get SIGTERM, their timeout,
        then SIGKILL, as dockerd does without live-restore) and open a new one on the same root.
        """
    ),
    code(
        """
        client.daemon.close()  # dockerd shuts down; the root stays on disk
        client = DockerClient(root=str(root), seed=3, clock="virtual", mounts="user")
        db = client.containers.get("db")
        db.status, client.daemon.layer_store.get_mount_id(db.id) == mount_id
        """
    ),
    code(
        """
        db.start()
        print(db.exec_run("cat /table.csv /notes.txt").output.decode())
        """
    ),
    md(
        """
        ## 5. rm + run: a new, empty RW layer

        `docker rm -f` kills the process, then **releases the RW layer**: the layer store
        deletes `layerdb/mounts/<id>`, the init folder and the RW folder.
        """
    ),
    code(
        """
        db.remove(force=True)
        mount_dir.exists(), upper.exists(), (root / "overlay2" / f"{mount_id}-init").exists()
        """
    ),
    md(
        """
        `docker run` with the same image, the same name and the same command creates a new
        container: a new ID, a new mount-id, a new empty RW layer on the same image layers.
        """
    ),
    code(
        """
        db = client.containers.run(
            image,
            ["sh", "-c", "test -f /table.csv || echo id,name > /table.csv; while true; do sleep 1; done"],
            name="db",
            detach=True,
        )
        new_mount_id = client.daemon.layer_store.get_mount_id(db.id)
        new_mount_id == mount_id, new_mount_id[:12]
        """
    ),
    code(
        """
        print(db.exec_run("cat /table.csv /notes.txt").output.decode())
        """
    ),
    md(
        """
        Alice, Bob and the notes are gone: they lived only in the old RW layer. The image was
        never changed. To keep data across `rm`, put it in a volume (notebook 09) or freeze it
        into an image with `docker commit` (notebook 05).

        ## 6. What restart does *not* keep

        Restart keeps the RW layer — and only what is in it. These are lost anyway:

        - **`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`.** They are not in the RW layer
          at all: Docker writes them into `containers/<id>/` and bind-mounts them over the
          container's `/etc` at **every start** (libnetwork builds them anew), so an edit made
          inside the container is undone by `restart`, and never shows in `docker diff`
          (below). Use `--add-host`, `--hostname`, `--dns` instead.
        - **tmpfs mounts** (`--tmpfs /run`): memory, emptied at every stop.
        - **The process's memory**: caches, sessions, anything not written to a file.
        - **`--rm` containers**: when they stop, Docker removes them, RW layer and all.
        - And the commonest real loss: **recreating the container**. `docker run` again with
          the same name (after `rm`), `docker compose up` after a change of the image or the
          configuration, "redeploy" buttons: each is rm + run in disguise — a new container, a
          new, empty RW layer.
        """
    ),
    code(
        """
        db.exec_run(["sh", "-c", "echo 10.0.0.7 my-db >> /etc/hosts"])
        before = db.exec_run("grep -c my-db /etc/hosts").output.decode().strip()
        db.restart()
        after = db.exec_run("grep -c my-db /etc/hosts").output.decode().strip()
        before, after, db.diff()
        """
    ),
    md(
        """
        The line was there (1), `restart` removed it (0), and the RW layer never held it.

        ## 7. How big is a container? (`docker ps -s`)

        `SizeRw` counts only the bytes in this container's RW layer; `SizeRootFs` (the
        "virtual" size) adds the image layers below, which are shared with every other
        container of that image and stored once.
        """
    ),
    code(
        """
        sizes = client.daemon.inspect(db.id, size=True)
        sizes["SizeRw"], sizes["SizeRootFs"], image.attrs["Size"]
        """
    ),
    code(
        """
        import shutil

        client.close()  # a client opened on a path leaves it on disk: remove it ourselves
        shutil.rmtree(root)
        """
    ),
    md(
        """
        ## 8. Try it yourself: the ContainerLab

        The panel runs on a fresh daemon of its own (we shut ours down above). Pick a name,
        click **create**, **start**, then **run exec** (the exec field writes a
        file), **restart**, and run `ls /` in the exec field: the file is still there, and
        the status line shows the same mount-id. Then try **rm** (with `rm -f`) and
        **create** again. After each click the panel shows what Docker did (the moby
        functions), the events, the files on disk under the root, and the file × layer map.
        """
    ),
    code(
        """
        from dockerlayers.viz import ContainerLab

        lab = DockerClient(seed=30, clock="virtual", mounts="user")
        ContainerLab(lab, image=lab.images.base(), command="sh -c 'while true; do sleep 1; done'")
        """
    ),
    md(
        """
        ## What to remember

        - A container's writes go to its own RW layer, a driver folder named by a random
          mount-id recorded in `layerdb/mounts/<container id>/mount-id`.
        - `stop`, `start`, `restart`, `pause` and a daemon restart all keep that layer; `start`
          only mounts it again over the image layers.
        - `rm` releases it (the folders are deleted); `run` creates a new container with a new,
          empty RW layer. Data that must outlive the container belongs in a volume.
        - Restart does not keep what is not in the RW layer: `/etc/hosts` and friends (rebuilt
          at each start), tmpfs, memory; and recreating a container (compose, `run` again) is
          rm + run.

        ## Read next in moby

        """
        + moby(
            "daemon/restart.go",
            "daemon/start.go",
            "daemon/delete.go",
            "layer/layer_store.go",
            "layer/mounted_layer.go",
            "daemon/graphdriver/overlay2/overlay.go",
        )
        + """

        Next: [04 · Copy-up, whiteouts and opaque directories](04-copy-up-whiteouts-opaque.ipynb).
        """
    ),
]
