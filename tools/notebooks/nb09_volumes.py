"""09 Volumes vs the read-write layer."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "09-volumes-vs-the-rw-layer.ipynb"

CELLS = [
    md(
        """
        # 09 · Volumes vs the read-write layer

        **The questions**: *should I `docker commit` my changes or use a volume?*, *why does
        `docker diff` not show what my app wrote to `/data`?*, *what does `docker rm -v`
        remove?*

        **What you will see** (10 minutes):

        1. a named volume and a bind mount: folders outside the layers, mounted into the
           container's view;
        2. what is written there is not in the RW layer: not in `docker diff`, not in a commit;
        3. a named volume outlives `docker rm`; a new container picks the data up again;
        4. `docker rm -v` removes anonymous volumes only.
        """
    ),
    code(
        """
        import tempfile
        from pathlib import Path

        from dockerlayers import DockerClient

        client = DockerClient(seed=9, clock="virtual", mounts="user")
        root = Path(client.daemon.root)
        image = client.images.base()
        loop = ["sh", "-c", "while true; do sleep 1; done"]
        """
    ),
    md(
        """
        ## 1. A named volume and a bind mount

        A named volume is a folder the daemon manages: `volumes/<name>/_data` under its root.
        A bind mount is any folder of the host (here a temporary one).
        """
    ),
    code(
        """
        volume = client.volumes.create("pgdata")
        host_dir = tempfile.mkdtemp()
        volume.name, Path(volume.attrs["Mountpoint"]).relative_to(root).as_posix()
        """
    ),
    md(
        """
        Beside the volumes' folders, a real Docker 20.10 keeps `volumes/metadata.db`, a BoltDB
        file (each volume's driver, labels and options) and `volumes/backingFsBlockDev`, a
        block device node it uses to set quotas on the filesystem below. The model keeps the
        same records as JSON in `volumes/metadata.json` (no BoltDB in pure Python, and no
        quotas). On your machine: `sudo ls -l /var/lib/docker/volumes`.
        """
    ),
    code(
        """
        sorted(p.name for p in (root / "volumes").iterdir())
        """
    ),
    code(
        """
        db = client.containers.run(
            image,
            loop,
            name="db",
            detach=True,
            volumes={"pgdata": {"bind": "/data", "mode": "rw"}, host_dir: {"bind": "/host", "mode": "rw"}},
        )
        [(m["Type"], m.get("Name", ""), m["Destination"]) for m in db.attrs["Mounts"]]
        """
    ),
    md(
        """
        The application writes to the volume, to the bind mount, and to a plain path:
        """
    ),
    code(
        """
        from dockerlayers.viz import disk_tree, take_snapshot

        before = take_snapshot(client)
        db.exec_run(["sh", "-c", "echo 1,alice > /data/table.csv; echo started > /host/app.log; echo temp > /scratch.txt"])
        print(db.exec_run("cat /data/table.csv /host/app.log /scratch.txt").output.decode())
        """
    ),
    md(
        """
        Where those three writes landed under the daemon's root (`+` new, `~` changed): the
        table in the volume's `_data`, `scratch.txt` in the container's RW layer (`diff/` of
        its mount-id). `app.log` is not under the root at all: it is in the host folder.
        """
    ),
    code(
        """
        print(disk_tree(client, since=before, prefix="overlay2").to_text())
        print(disk_tree(client, since=before, prefix="volumes").to_text())
        """
    ),
    md(
        """
        ## 2. Not in the RW layer

        `docker diff` shows `/scratch.txt` and the two mount points (empty folders the runtime
        made in the RW layer to mount on), but nothing written *inside* `/data` or `/host`:
        those bytes are in the volume's folder and the host folder.
        """
    ),
    code(
        """
        db.diff()
        """
    ),
    code(
        """
        (root / "volumes/pgdata/_data/table.csv").read_text(), (Path(host_dir) / "app.log").read_text()
        """
    ),
    md(
        """
        `docker commit` freezes the RW layer only, so the image has `/scratch.txt` and empty
        `/data` and `/host` folders — no table:
        """
    ),
    code(
        """
        snapshot = db.commit("db-snapshot", "v1")
        print(client.containers.run(snapshot, ["sh", "-c", "ls -a /data /host; cat /scratch.txt"], remove=True).decode())
        """
    ),
    md(
        """
        ## 3. A named volume outlives the container

        `docker rm -f db` releases the RW layer (notebook 03) but leaves the volume. A new
        container mounting `pgdata` finds the table; `/scratch.txt` is gone with the old RW
        layer.

        The two volumes with long hex names are a side effect worth knowing: `volumes=`
        also records `/data` and `/host` in the container's `Config.Volumes`, so the
        snapshot image declares them as `VOLUME`s, and the container run from it above got
        two **anonymous** volumes. `remove=True` removes that container the way `docker rm`
        does without `-v`, so its anonymous volumes stay behind (section 4).
        """
    ),
    code(
        """
        db.remove(force=True)
        [v.name for v in client.volumes.list()]
        """
    ),
    code(
        """
        db = client.containers.run(image, loop, name="db", detach=True, volumes={"pgdata": {"bind": "/data", "mode": "rw"}})
        print(db.exec_run("cat /data/table.csv /scratch.txt").output.decode())
        """
    ),
    md(
        """
        ## 4. What `docker rm -v` removes

        A volume with no name (`-v /cache`, or a `VOLUME` in the image) is **anonymous**: the
        daemon names it with a random ID. `rm -v` removes anonymous volumes of the container;
        named volumes are never removed by it.
        """
    ),
    code(
        """
        cache = client.containers.run(image, loop, name="cache", detach=True, volumes=["/cache"])
        anonymous = cache.attrs["Mounts"][0]["Name"]
        anonymous[:12], sorted(v.name[:12] for v in client.volumes.list())
        """
    ),
    code(
        """
        cache.remove(force=True, v=True)
        db.remove(force=True, v=True)
        [v.name for v in client.volumes.list()]
        """
    ),
    md(
        """
        ## What to remember

        - Volumes and bind mounts are folders outside the layer store, mounted over paths of
          the container's view. Writes there skip the RW layer: not in `docker diff`, not in
          `docker commit`, not lost by `docker rm`.
        - Use a volume for data that must outlive the container (databases, uploads); use
          `commit`/`build` to make an *image* (notebook 05).
        - `docker rm -v` removes only anonymous volumes; `docker volume rm` removes named ones.

        ## Read next in moby

        """
        + moby(
            "volume/local/local.go",
            "daemon/volumes.go",
            "daemon/delete.go",
            "daemon/mounts.go",
            "container/container.go",
        )
        + """

        Next: [10 · Docker 29: the containerd image store](10-docker-29-containerd-image-store.ipynb).
        Back to the start: [00 · Start here](00-start-here.ipynb).
        """
    ),
    code(
        """
        import shutil

        client.close()
        shutil.rmtree(host_dir)
        """
    ),
]
