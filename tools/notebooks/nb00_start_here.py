"""00 Start here."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md

NAME = "00-start-here.ipynb"

CELLS = [
    md(
        """
        # 00 · Start here

        **Why does `docker restart` keep what a container wrote, while `docker rm` followed by
        `docker run` loses it?** This series answers that, and the questions around it, on
        `dockerlayers`: a pure-Python model of the Docker engine's storage (moby's layer store,
        graph drivers and container lifecycle). No Docker, no root: everything runs here.

        The question is the title of the article this project started from, a Chinese blog
        post: *docker容器重启后读写层数据并不丢失的原理* ("Why data in a Docker container's
        read-write layer is not lost when the container restarts"). It follows moby's `create`
        and `start` code on the aufs driver; notebook 02 replays that path step by step.

        **What you will see in this notebook** (5 minutes): the map of the series, the one
        idea in one picture, and how the panels work.

        | # | notebook | the question it answers live |
        |---|---|---|
        | 01 | [Images are stacks of layers](01-images-are-stacks-of-layers.ipynb) | What are DiffID and ChainID? Do images share layers? |
        | 02 | [create, start, run](02-create-start-run.ipynb) | What does `docker create` make? Where is my data on disk? run vs create + start? pause? |
        | 03 | [Restart keeps the read-write layer](03-restart-keeps-the-rw-layer.ipynb) | **If I restart my container, do I lose my data?** |
        | 04 | [Copy-up, whiteouts, opaque directories](04-copy-up-whiteouts-opaque.ipynb) | Why does `RUN rm` not shrink my image? What do A/C/D mean? |
        | 05 | [commit and build](05-commit-and-build.ipynb) | What do commit and build do? The cache? |
        | 06 | [Storage drivers compared](06-storage-drivers-compared.ipynb) | Do ten containers use ten times the disk? |
        | 07 | [The container lifecycle](07-container-lifecycle.ipynb) | Why does stop take 10 s? Exit 137? Daemon restarts? |
        | 08 | [Look inside an image](08-look-inside-an-image.ipynb) | My deleted secret is still in the image? |
        | 09 | [Volumes vs the read-write layer](09-volumes-vs-the-rw-layer.ipynb) | Commit or volume? Why is `/data` not in `docker diff`? |
        | 10 | [Docker 29: the containerd image store](10-docker-29-containerd-image-store.ipynb) | No `overlay2/` on my new install: where is my container's data? |
        | 11 | [Pull a real image and look inside](11-pull-a-real-image.ipynb) | What does `docker pull` fetch? Which layer holds which file? Why `Already exists`? |

        Read 01 → 03 in order for the central claim; the others stand alone.
        """
    ),
    md(
        """
        ## The idea in one run

        The model is used like the docker SDK for Python (`docker` on PyPI). Every notebook
        pins a seed and a virtual clock, so you see exactly the IDs and times printed here.
        """
    ),
    code(
        """
        from dockerlayers import DockerClient

        client = DockerClient(seed=0, clock="virtual", mounts="user")
        image = client.images.base()
        c = client.containers.run(image, ["sh", "-c", "while true; do sleep 1; done"], name="hello", detach=True)
        c.exec_run(["sh", "-c", "echo hello > /greeting"])  # written by exec, not by the command
        c.diff()
        """
    ),
    md(
        """
        The container's own command only sleeps: `/greeting` was written once, by `exec`.
        `restart` runs the command again — so if the command had written the file, a restart
        would write it anew and prove nothing. Here nothing writes it again:
        """
    ),
    code(
        """
        c.restart()
        c.exec_run("cat /greeting")
        """
    ),
    code(
        """
        c.remove(force=True)
        c = client.containers.run(image, ["sh", "-c", "while true; do sleep 1; done"], name="hello", detach=True)
        c.exec_run("cat /greeting")
        """
    ),
    md(
        """
        Restart kept `/greeting`: the container kept its read-write layer. `rm` + `run` made a
        new container with a new, empty one (`cat` fails: exit code 1). Notebook 03 shows where
        that layer lives, why, and what a restart does *not* keep.

        ## How the panels work

        Some notebooks end with a panel (ContainerLab, ImageExplorer, DriverCompare). Run the
        notebook first (**Run → Run All Cells**), then click the panel's buttons; each click
        calls the library, and the panel redraws its status, events, files on disk and
        pictures. Panels need a running kernel: on a static page (GitHub) they do not show.
        The layer stack of every container (here the one we just made), drawn by `dockerlayers.viz`:
        """
    ),
    code(
        """
        from IPython.display import Image

        from dockerlayers.viz import plot_layer_stack, to_png

        Image(to_png(plot_layer_stack(client)))
        """
    ),
    md(
        """
        ## Which Docker this is

        The model follows **Docker Engine 20.10** (moby v20.10.24) with its graph drivers
        (`overlay2` by default): its on-disk layout under `/var/lib/docker`, its texts, its
        `docker save` format; every moby source link in the series points at tag `v20.10.24`.
        Newer Docker changes two things a reader will meet:

        - **Docker 25** writes `docker save` archives in the OCI layout (`blobs/sha256/`,
          `index.json`, `oci-layout`) beside the old `manifest.json`; the model writes 20.10's
          format by default and 25's on request, and loads both.
        - **Docker 29**, on new installs, keeps images in **containerd's image store**:
          `image/overlay2/layerdb/mounts/<id>/mount-id` and `overlay2/<id>/diff` are replaced by
          containerd snapshots. The lesson is the same — restart keeps the container's
          read-write layer, `rm` deletes it — but the folders have other names. Check yours
          with `docker info -f '{{ .DriverStatus }}'` (`io.containerd.snapshotter.v1` means the
          containerd store). Notebook 10 walks through it on the model's containerd mode.

        ## Where things are

        - The model simulates processes (a busybox-like shell) and time; it has no network.
        - `client.daemon.root` is the model's `/var/lib/docker`; notebooks show paths
          relative to it. With `mounts="user"` the union of layers is done in Python, so every
          reader sees the same output; as root on Linux, `mounts="auto"` uses the kernel's
          overlayfs instead.
        - Run locally: `pip install -e '.[notebooks]'` then `jupyter lab notebooks/`.

        Next: [01 · Images are stacks of layers](01-images-are-stacks-of-layers.ipynb).
        """
    ),
    code(
        """
        client.close()
        """
    ),
]
