"""The ContainerLab as an app (what the README's Voila badge opens): one line, the panel."""

from _nb import code, md

NAME = "app-containerlab.ipynb"

CELLS = [
    md(
        """
        # ContainerLab: does `docker restart` keep what a container wrote?

        Click **create**, **start**, then **run exec** (it writes a file), **restart**, and run
        `ls /` in the exec field: the file is still there, in the same read-write layer (the
        status line shows its mount-id). Then **rm** (with `rm -f`) and **create** again: a new
        mount-id, an empty layer, the file is gone. Each click shows what Docker did, the
        files on disk and which layer holds each file. The full story is notebook
        [03 · Restart keeps the read-write layer](03-restart-keeps-the-rw-layer.ipynb).
        """
    ),
    code(
        """
        from dockerlayers import DockerClient
        from dockerlayers.viz import ContainerLab

        lab = DockerClient(seed=30, clock="virtual", mounts="user")
        ContainerLab(lab, image=lab.images.base(), command="sh -c 'while true; do sleep 1; done'")
        """
    ),
]
