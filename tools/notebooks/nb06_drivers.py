"""06 Storage drivers compared."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "06-storage-drivers-compared.ipynb"

CELLS = [
    md(
        """
        # 06 · Storage drivers compared

        **The question**: *do ten containers from one image use ten times the disk?* The
        answer depends on the graph driver.

        **What you will see** (10 minutes):

        1. the same container on **vfs**, **aufs** and **overlay2**: vfs copies the whole
           image into every layer folder; aufs and overlay2 stack folders that hold only
           their own changes;
        2. disk used by an image and three containers on each driver, and what one
           `docker create` writes as the image grows — measured and plotted;
        3. a panel to run the comparison with your own numbers.
        """
    ),
    code(
        """
        from pathlib import Path

        from IPython.display import Image

        from dockerlayers import DockerClient
        from dockerlayers.viz import DriverCompare, compare_drivers, plot_driver_comparison, to_png

        clients = {name: DockerClient(driver=name, seed=6, clock="virtual", mounts="user") for name in ("vfs", "aufs", "overlay2")}
        """
    ),
    md(
        """
        ## 1. One container, three drivers

        **On your own machine**, `docker info -f '{{.Driver}}'` names the driver in use
        (`overlay2` on almost every Linux since 17.09; Docker 29 on a new install answers
        `overlayfs`, containerd's snapshotter). The driver is a daemon setting
        (`"storage-driver"` in `/etc/docker/daemon.json`), one per daemon: changing it hides
        every image and container made with the other.

        On each driver: the base image, and one container that writes one file. We count the
        files in the container's RW layer folder (`driver.layer_dir(mount-id)`: `vfs/dir/<id>`,
        `aufs/diff/<id>`, `overlay2/<id>/diff`).
        """
    ),
    code(
        """
        rw_files = {}
        for name, client in clients.items():
            c = client.containers.run(client.images.base(), ["sh", "-c", "echo hi > /hello.txt; sleep 100"], detach=True)
            folder = Path(client.daemon.driver.layer_dir(client.daemon.rw_layer(c.id).mount_id))
            rw_files[name] = sum(1 for _ in folder.rglob("*"))
        rw_files
        """
    ),
    md(
        """
        vfs has no union: each layer folder is a **complete copy** of the filesystem below it
        plus its own changes (moby's vfs `Create` copies the parent folder). The container's
        folder holds the whole image. aufs and overlay2 hold only `hello.txt`: the image's
        files stay in its layer's folder, the init layer's in the `-init` folder below.
        All three give the container the same view and the same `docker diff`:
        """
    ),
    code(
        """
        {name: client.containers.list()[0].diff() for name, client in clients.items()}
        """
    ),
    md(
        """
        ## 2. Disk used and create cost, measured

        `compare_drivers` builds the same 2-layer image (10 files per layer) on each driver,
        creates 3 containers and measures the driver's folder. It also measures what one
        `docker create` writes (entries and bytes, from snapshots of the root) as the image
        grows: on the base image alone (0 files), after each of the two layers (10, then 20
        files), and on an image of 50 files in one layer.
        """
    ),
    code(
        """
        comparison = compare_drivers(files_per_layer=(10, 10), containers=3, growth=(10, 50), seed=6)
        print(comparison.to_text())
        """
    ),
    code(
        """
        Image(to_png(plot_driver_comparison(comparison)))
        """
    ),
    md(
        """
        With vfs, creating a container copies the image (twice: init layer and RW layer), so
        the cost grows with the image; with aufs and overlay2 it stays the same whatever the
        image: the init layer's few placeholders, an empty RW folder and a few small records
        (the first `create` on a daemon writes two or three more: folders made once). That is
        why vfs is only a fallback (and the driver moby's own layer tests use), and why
        `docker create` is instant on overlay2 even for a 1 GB image.

        ## 3. Try it

        Change the files per layer and the number of containers, click **compare**.
        """
    ),
    code(
        """
        DriverCompare(files_per_layer=(10, 10), containers=3, growth=(10, 50))
        """
    ),
    md(
        """
        ## What to remember

        - Image layers are shared between containers on every driver except vfs, which copies
          the whole filesystem into each layer.
        - A container adds two layers (init and RW); on aufs and overlay2 they hold only
          Docker's few init files and what the container writes, so `create` costs the same
          whatever the image size.
        - overlay2 is the default today; aufs was removed in Docker 24.0 (the article this
          project started from, *docker容器重启后读写层数据并不丢失的原理*, "Why data in a Docker
          container's read-write layer is not lost when the container restarts", used it);
          vfs is the portable fallback.

        ## Read next in moby

        """
        + moby(
            "daemon/graphdriver/driver.go",
            "daemon/graphdriver/vfs/driver.go",
            "daemon/graphdriver/overlay2/overlay.go",
            "daemon/graphdriver/fsdiff.go",
            "daemon/graphdriver/driver_linux.go",
        )
        + """
        - aufs (removed in 24.0): [`daemon/graphdriver/aufs/aufs.go`](https://github.com/moby/moby/blob/v20.10.24/daemon/graphdriver/aufs/aufs.go)

        Next: [07 · The container lifecycle](07-container-lifecycle.ipynb).
        """
    ),
    code(
        """
        for client in clients.values():
            client.close()
        """
    ),
]
