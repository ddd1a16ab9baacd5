"""05 commit and build."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "05-commit-and-build.ipynb"

CELLS = [
    md(
        """
        # 05 · commit and build

        **The questions**: *should I `docker commit` my changes?*, *what does `docker build`
        actually do?*, *why is a step "Using cache"?*

        **What you will see** (10 minutes):

        1. `docker commit` turns the container's RW layer into a new read-only image layer
           (its tar is the RW layer's diff; the container goes on running, untouched);
        2. a commit with no changes adds a history entry but no layer;
        3. `docker build` (the legacy builder) = for each step, run a container, commit it;
        4. the build cache; a multi-stage build that keeps a big intermediate file out.
        """
    ),
    code(
        """
        import tarfile
        from pathlib import Path

        from dockerlayers import DockerClient
        from dockerlayers.digest import from_bytes

        client = DockerClient(seed=5, clock="virtual", mounts="user")
        base = client.images.base()
        """
    ),
    md(
        """
        ## 1. commit: the RW layer becomes an image layer

        A container writes a web page:
        """
    ),
    code(
        """
        web = client.containers.run(
            base, ["sh", "-c", "mkdir -p /srv; echo '<h1>hello</h1>' > /srv/index.html; while true; do sleep 1; done"],
            name="web", detach=True,
        )
        rw = client.daemon.rw_layer(web.id)
        web.diff()
        """
    ),
    md(
        """
        The RW layer's tar (its diff against the init layer) holds exactly those changes; its
        sha256 is what the new layer's DiffID will be:
        """
    ),
    code(
        """
        rw_tar = rw.tar_stream().read()
        tarfile.open(fileobj=rw.tar_stream()).getnames(), from_bytes(rw_tar)
        """
    ),
    code(
        """
        page = web.commit("page", "v1", message="first page")
        page.attrs["RootFS"]["Layers"]
        """
    ),
    md(
        """
        The new image = the base image's layers + one layer registered from that tar. Its
        history gets one entry, and the container's command becomes the image's default:
        """
    ),
    code(
        """
        [(h["Size"], h["CreatedBy"], h["Comment"]) for h in page.history()], page.attrs["Config"]["Cmd"]
        """
    ),
    md(
        """
        The container keeps running on its own RW layer (same mount-id); later writes do not
        change the image. A commit is a snapshot, not a link.
        """
    ),
    code(
        """
        web.exec_run(["sh", "-c", "echo '<h1>changed</h1>' > /srv/index.html"])
        fresh = client.containers.run(page, ["cat", "/srv/index.html"], remove=True)
        web.reload()
        web.status, client.daemon.rw_layer(web.id).mount_id == rw.mount_id, fresh
        """
    ),
    md(
        """
        Side by side (`dockerlayers.viz`): `web` still stands on the base layer with its init
        and RW layers; `page:v1` shares that base layer and adds the read-only layer the
        commit registered from the RW layer's tar.
        """
    ),
    code(
        """
        from IPython.display import Image

        from dockerlayers.viz import layer_stack, plot_layer_stack, to_png

        Image(to_png(plot_layer_stack(layer_stack(client, ["page:v1"]))))
        """
    ),
    md(
        """
        ## 2. Nothing changed, nothing stored

        Committing a container that changed nothing: its RW tar is the 1024-byte empty tar, so
        no layer is added; the history entry is marked `empty_layer`.
        """
    ),
    code(
        """
        idle = client.containers.create(base, ["true"], name="idle")
        same = idle.commit("idle", "v1")
        len(same.attrs["RootFS"]["Layers"]), client.daemon.image_service.get_image(same.id).history[-1].empty_layer
        """
    ),
    md(
        """
        ## 3. build = run + commit, step by step

        The legacy builder runs each `RUN` in a new container from the previous step's image
        and commits it (`Running in …`, `Removing intermediate container …`). Metadata steps
        (`CMD`, `ENV`, …) commit a container that changed nothing: an empty layer.
        """
    ),
    code(
        """
        print(Path("data/app-one/Dockerfile").read_text())
        """
    ),
    code(
        """
        app, log = client.images.build(path="data/app-one", tag="app")
        print("".join(m.get("stream", "") for m in log), end="")
        """
    ),
    code(
        """
        [(h["Size"], h["CreatedBy"]) for h in app.history()]
        """
    ),
    md(
        """
        **On your own machine**, `docker history` shows the same thing: one row per step,
        newest first, 0B for the steps that only changed the config (recorded on Docker
        20.10.24 with the legacy builder, `DOCKER_BUILDKIT=0`; BuildKit writes `RUN ...`
        and `CMD ...` with no `/bin/sh -c #(nop)`):

        ```console
        $ docker history hist:1
        IMAGE          CREATED         CREATED BY                                SIZE      COMMENT
        b2a9330934ff   5 seconds ago   /bin/sh -c #(nop)  CMD ["cat" "/a.txt"]   0B
        6a8a6439acf6   5 seconds ago   /bin/sh -c echo hi > /a.txt               3B
        e882f07db879   35 minutes ago                                            1.98MB
        ```
        """
    ),
    md(
        """
        ## 4. The cache

        Building again: the builder finds, for each step, an image with the same parent and
        the same command, and reuses it (`Using cache`): no container runs.
        """
    ),
    code(
        """
        again, log = client.images.build(path="data/app-one", tag="app")
        print("".join(m.get("stream", "") for m in log), end="")
        """
    ),
    md(
        """
        ## 5. Multi-stage: keep the big file out

        The first stage makes a big file (`seq 1 20000`, about 109 kB) and a summary of it;
        the final stage starts again from `base` and copies only the summary. The big file is
        in the builder stage's layers, not in the final image.
        """
    ),
    code(
        """
        print(Path("data/multi-stage/Dockerfile").read_text())
        """
    ),
    code(
        """
        slim, log = client.images.build(path="data/multi-stage", tag="slim")
        print("".join(m.get("stream", "") for m in log), end="")
        """
    ),
    code(
        """
        slim.attrs["Size"], [(h["Size"], h["CreatedBy"]) for h in slim.history()]
        """
    ),
    code(
        """
        client.containers.run(slim, remove=True)
        """
    ),
    md(
        """
        ## What to remember

        - `commit` registers the RW layer's tar (its diff against the init layer) as a new layer
          on top of the image's layers; the container and its RW layer are untouched.
        - `build` is a loop of run + commit, one layer per filesystem-changing step; the cache
          reuses a step when parent image and instruction match.
        - Commit is for making images; data you want to keep belongs in a volume (notebook 09).

        ## Read next in moby

        """
        + moby(
            "daemon/commit.go",
            "daemon/images/image_commit.go",
            "image/image.go",
            "builder/dockerfile/dispatchers.go",
            "builder/dockerfile/internals.go",
            "image/cache/cache.go",
        )
        + """

        Next: [06 · Storage drivers compared](06-storage-drivers-compared.ipynb).
        """
    ),
    code(
        """
        client.close()
        """
    ),
]
