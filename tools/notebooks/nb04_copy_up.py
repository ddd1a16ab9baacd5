"""04 Copy-up, whiteouts and opaque directories."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "04-copy-up-whiteouts-opaque.ipynb"

CELLS = [
    md(
        """
        # 04 · Copy-up, whiteouts and opaque directories

        **The questions**: *I deleted the file in a later `RUN rm`, why is my image still as
        big?*, *what do A, C and D mean in `docker diff`?*, *why does `docker diff` not show
        `/etc/hosts` or `/.dockerenv`?*

        **What you will see** (10 minutes):

        1. image layers are read-only: changing a file of a lower layer **copies it up** into
           the RW layer first;
        2. deleting a lower file writes a **whiteout** that hides it; removing a folder and
           making it again makes it **opaque**;
        3. `docker diff`: A (added), C (changed), D (deleted), parent folders as C, and why
           the init layer's files never show;
        4. an image whose later step deletes a big file is exactly as big as before, and the
           bytes can be read back from the lower layer's tar; the fix.
        """
    ),
    code(
        """
        import tarfile
        from pathlib import Path

        from dockerlayers import DockerClient
        from dockerlayers.digest import chain_id

        client = DockerClient(seed=4, clock="virtual", mounts="user")
        root = Path(client.daemon.root)
        base = client.images.base()
        box = client.containers.run(base, ["sh", "-c", "while true; do sleep 1; done"], name="box", detach=True)
        rw = client.daemon.rw_layer(box.id)
        upper = root / "overlay2" / rw.mount_id / "diff"
        box.reload()
        box.status
        """
    ),
    md(
        """
        A fresh container has changed nothing: `docker diff` is empty, even though the init
        layer added `/.dockerenv`, `/etc/hosts`, `/etc/resolv.conf`, ... The RW layer is
        compared with the **init layer**, not with the image, so those never show.
        """
    ),
    code(
        """
        box.diff(), box.exec_run("ls -a /").output.decode().split()
        """
    ),
    md(
        """
        The init layer holds only **empty placeholders** (and `/.dockerenv`, an empty marker
        file that tells software it runs in Docker). The `/etc/hosts` the container reads is
        another file: Docker writes it into `containers/<id>/hosts` and **bind-mounts** it over
        the placeholder at every start (`hostname` and `resolv.conf` likewise). A write to it
        goes to that file, never into the RW layer — which is why it never shows in
        `docker diff` either.
        """
    ),
    code(
        """
        init = root / "overlay2" / f"{rw.mount_id}-init" / "diff"
        placeholder = (init / "etc/hosts").stat().st_size
        bind_source = Path(box.attrs["HostsPath"])
        placeholder, str(bind_source.relative_to(root)), bind_source.read_text().splitlines()[0]
        """
    ),
    md(
        """
        ## 1. Copy-up

        `/etc/passwd` belongs to the image's layer. Appending a line cannot change that
        read-only layer: the union first copies the whole file up into the RW layer's upper
        folder, then writes to the copy.
        """
    ),
    code(
        """
        box.exec_run(["sh", "-c", "echo guest:x:1000:1000::/home/guest:/bin/sh >> /etc/passwd"])
        sorted(str(p.relative_to(upper)) for p in upper.rglob("*"))
        """
    ),
    code(
        """
        lower_copy = client.daemon.layer_store.get(chain_id(base.attrs["RootFS"]["Layers"]))
        lower_passwd = tarfile.open(fileobj=lower_copy.tar_stream()).extractfile("etc/passwd").read()
        len(lower_passwd), (upper / "etc/passwd").stat().st_size
        """
    ),
    md(
        """
        Copy-up copies the **whole** file, however small the change: append one byte to a
        large file of the image and the RW layer grows by the whole file. Here a 4 MiB file
        (16 bytes, doubled 18 times) is baked into an image with `commit`, then a new
        container appends one byte to it:
        """
    ),
    code(
        """
        maker = client.containers.run(base, ["sh", "-c", "printf 0123456789abcdef > /big.bin; for i in $(seq 18); do cat /big.bin /big.bin > /tmp/b; mv /tmp/b /big.bin; done"], detach=True)
        maker.wait()
        big_image = maker.commit("big", "1")
        appender = client.containers.run(big_image, ["sh", "-c", "echo -n x >> /big.bin"], detach=True)
        appender.wait()
        client.daemon.inspect(appender.id, size=True)["SizeRw"]
        """
    ),
    md(
        """
        The whole 4 MiB file plus the new byte in the RW layer, for a one-byte write. On a
        real overlay2 the kernel does the same copy (a database file of 10 GB is copied whole
        the first time a container writes to it: put such files in volumes). **On your own
        machine** (make a `big:1` the same way, from busybox with `docker commit`):
        `docker run --name a big:1 sh -c 'echo -n x >> /big.bin'` then `docker ps -as`.
        """
    ),
    md(
        """
        The image's copy is untouched (its bytes above), and the upper copy is the whole file
        plus our line. `docker diff` says **C** for the file and for its parent folder:
        """
    ),
    code(
        """
        box.diff()
        """
    ),
    md(
        """
        ## 2. Whiteouts and opaque folders

        Deleting `/etc/os-release` cannot remove it from the image's layer either. The RW
        layer records a **whiteout** for it instead: on overlay2's disk, a character device 0/0;
        in a layer's tar, always a file named `.wh.os-release`. (The kernel's overlayfs only
        understands the device. When the model runs without root, as here, it cannot make
        devices and keeps the tar's `.wh.` file in the upper folder instead — the model's
        rootless form, not something Docker's overlay2 writes.)

        Removing `/var` (with its sub-folders) and making it again gives an **opaque** folder:
        nothing below it shows through (`trusted.overlay.opaque=y` on disk, a
        `.wh..wh..opq` entry in a tar).
        """
    ),
    code(
        """
        box.exec_run(["sh", "-c", "rm /etc/os-release; rm -rf /var; mkdir /var; echo new > /var/new.txt"])
        box.exec_run("ls -a /etc /var").output.decode().split()
        """
    ),
    md(
        """
        The RW layer as a tar (what `docker commit` would store), in the interchange format:
        """
    ),
    code(
        """
        tarfile.open(fileobj=rw.tar_stream()).getnames()
        """
    ),
    md(
        """
        ## 3. `docker diff`: A, C, D

        Kinds are 0 = **C** (changed), 1 = **A** (added), 2 = **D** (deleted). The deleted
        `/var/log` and `/var/tmp` show as D (the opaque `/var` hides them), `/var/new.txt` as
        A, and every folder that holds a change as C.
        """
    ),
    code(
        """
        [f"{'CAD'[c['Kind']]} {c['Path']}" for c in box.diff()]
        """
    ),
    md(
        """
        The same, layer by layer: each row a path, each column a layer (the image's `L0`, then
        `init`, then the container's `RW`). **A** added, **M** modified (a copy that shadows a
        lower one: copy-up), **W** whiteout, **O** opaque; `*` marks the copy the merged view
        shows. `/etc/os-release` is still in `L0` — only the whiteout above hides it; the
        `/etc/hosts` in `init` is the empty placeholder the bind mount covers.
        """
    ),
    code(
        """
        from IPython.display import Image

        from dockerlayers.viz import file_layer_matrix, plot_file_layer_map, to_png

        print(file_layer_matrix(client, box.id, prefix="/etc").to_text())
        print(file_layer_matrix(client, box.id, prefix="/var").to_text())
        """
    ),
    code(
        """
        Image(to_png(plot_file_layer_map(file_layer_matrix(client, box.id, prefix="/etc"))))
        """
    ),
    md(
        """
        ## 4. A later `RUN rm` does not shrink the image

        Two Dockerfiles write the numbers 1 to 20,000 into a file (about 109 kB). The first
        deletes it in a later step, the second in the same step:
        """
    ),
    code(
        """
        print(Path("data/delete-later/Dockerfile").read_text())
        print(Path("data/delete-same-step/Dockerfile").read_text())
        """
    ),
    code(
        """
        later, _ = client.images.build(path="data/delete-later", tag="later")
        same, _ = client.images.build(path="data/delete-same-step", tag="same")
        later.attrs["Size"], same.attrs["Size"]
        """
    ),
    md(
        """
        `docker history` shows why: the `seq` layer holds the whole file; the `rm` layer holds
        only a whiteout (0 bytes) that hides the file in the merged view.
        """
    ),
    code(
        """
        [(h["Size"], h["CreatedBy"]) for h in later.history()]
        """
    ),
    md(
        """
        The bytes are still in the image: read them back from the second layer's tar (this is
        how secrets leak from images — notebook 08):
        """
    ),
    code(
        """
        layers = later.attrs["RootFS"]["Layers"]
        seq_layer = client.daemon.layer_store.get(chain_id(layers[:2]))
        data = tarfile.open(fileobj=seq_layer.tar_stream()).extractfile("big.txt").read()
        len(data), data[:20], data[-12:]
        """
    ),
    code(
        """
        top_layer = client.daemon.layer_store.get(chain_id(layers))
        tarfile.open(fileobj=top_layer.tar_stream()).getnames()
        """
    ),
    md(
        """
        The fix is to never commit the file: create and delete it in the **same** `RUN` (as
        `same` did), or build it in a separate stage of a multi-stage build and copy only the
        result (notebook 05).

        ## What to remember

        - Lower layers are never changed: a write copies the file up into the RW layer, a
          delete writes a whiteout, a folder removed and made again becomes opaque.
        - `docker diff` compares the RW layer with the init layer: A / C / D, parent folders C,
          Docker's own init files never.
        - Deleting in a later layer hides the bytes but keeps them: the image does not shrink
          and the data can be read back.

        ## Read next in moby

        """
        + moby(
            "pkg/archive/changes.go",
            "pkg/archive/whiteouts.go",
            "pkg/archive/archive_linux.go",
            "pkg/archive/diff.go",
            "layer/mounted_layer.go",
        )
        + """

        Next: [05 · commit and build](05-commit-and-build.ipynb).
        """
    ),
    code(
        """
        client.close()
        """
    ),
]
