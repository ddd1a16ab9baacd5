"""11 Pull a real image and look inside."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "11-pull-a-real-image.ipynb"

CELLS = [
    md(
        """
        # 11 · Pull a real image and look inside

        **The questions**: *what does `docker pull` actually fetch?*, *which layer of a real
        image holds which file, and what in it is wasted?*, *why does the second pull say
        `Already exists`?*

        **What you will see** (10 minutes):

        1. where the images come from: Docker Hub when this machine reaches it (Binder does),
           else a local registry standing in for it;
        2. a pull with one progress bar per layer, and the lines `docker pull` prints;
        3. the pulled image layer by layer: which layer holds which file, what is wasted;
        4. a second image built on the first: its shared layers `Already exists`;
        5. what a later layer deleted but a lower layer still ships, read back;
        6. the ImageExplorer panel to browse both yourself.
        """
    ),
    code(
        """
        import os

        from dockerlayers import DockerClient
        from dockerlayers.distribution import notebook
        from dockerlayers.layerhistory import find_copies, read_copy
        from dockerlayers.viz import ImageExplorer, PullProgress, analyze_image
        """
    ),
    md(
        """
        ## 1. Where the images come from

        One setting decides, the environment variable `DOCKERLAYERS_REGISTRY`:

        - unset: **Docker Hub** if it answers, and the two images are `nginx:alpine-slim`
          and `nginx:alpine` (the second is built `FROM` the first, so they share layers);
        - `local`, or unset with no internet: this cell starts a **local registry**
          (Debian's `docker-registry`, the distribution project's registry, on a free loopback
          port) and pushes into it two small images that the model builds with a fixed seed
          and the virtual clock, `dockerlayers/web:slim` and `dockerlayers/web:full`, which tell
          the same story as nginx's pair. The outputs stored in this notebook come from that
          mode (it is what the tests run, online or not), so on Binder yours will differ — real
          layers, megabytes instead of kilobytes;
        - `HOST:PORT`: a registry you run; it gets the same two images;
        - `docker.io`: Docker Hub, whatever happens.

        The client reaches a stand-in registry as a *registry mirror* of Docker Hub (dockerd's
        `registry-mirrors` setting): `docker.io` pulls go to the mirror first, so the image
        names carry no address or port.
        """
    ),
    code(
        """
        source = notebook.choose(os.environ.get("DOCKERLAYERS_REGISTRY"))
        FIRST, SECOND = source.images
        client = DockerClient(seed=11, clock="virtual", mounts="user", registry_mirrors=source.mirrors)
        source
        """
    ),
    md(
        """
        ## 2. Pull, one bar per layer

        `docker pull` asks the registry for the image's **manifest** (a list of compressed
        layer blobs, by digest, and the config blob), then downloads each layer it lacks,
        checks the blob against its digest, unpacks it and registers it in the layer store.
        dockerd reports every step as a JSON message (`Pulling fs layer`, `Downloading`,
        `Verifying Checksum`, `Download complete`, `Extracting`, `Pull complete`); the docker
        CLI draws them as lines, the SDK (`client.api.pull(..., stream=True, decode=True)`)
        yields them as dicts, and `PullProgress` draws one bar per layer from the same dicts:
        """
    ),
    code(
        """
        bars = PullProgress()
        display(bars)
        first = bars.pull(client, FIRST)
        """
    ),
    md(
        """
        Once the pull is over, a terminal shows what `bars.text()` returns: one line per
        layer, the manifest's digest, and the status:
        """
    ),
    code(
        """
        print(bars.text())
        """
    ),
    md(
        """
        The image ID is the digest of the config blob; the `RepoDigests` entry is the digest of
        the manifest, the name to pull exactly these bytes again (`docker pull NAME@sha256:...`):
        """
    ),
    code(
        """
        first.id[:19], first.attrs["RepoDigests"][0][:40], len(first.attrs["RootFS"]["Layers"])
        """
    ),
    md(
        """
        ## 3. Which layer holds which file

        The analysis `dive` made popular, on the pulled layers: each layer's size, how many
        files it adds (A), modifies (M, a full new copy of the file) and deletes (D, a
        whiteout), its build step (from the config's `history`: the Dockerfile itself is not
        in the image), and every copy the final image cannot reach — **wasted** bytes:
        """
    ),
    code(
        """
        print(analyze_image(client, FIRST).to_text())
        """
    ),
    md(
        """
        A file changed by a later step is stored twice: the lower layer keeps its old copy and
        every pull ships both. In the stand-in, a step added a user to `/etc/passwd` and
        `/etc/group`; nginx's images add their `nginx` user on top of Alpine's files the same
        way.

        ## 4. A second image on the same base: `Already exists`

        The second image was built `FROM` the first. Its manifest lists the first one's
        layers, then its own; the store already holds the shared ones (same DiffIDs on the
        same parents, so the same ChainIDs), and the pull skips them:
        """
    ),
    code(
        """
        bars2 = PullProgress()
        display(bars2)
        second = bars2.pull(client, SECOND)
        print(bars2.text())
        """
    ),
    code(
        """
        shared = [d for d in second.attrs["RootFS"]["Layers"] if d in first.attrs["RootFS"]["Layers"]]
        layers_in_store = len(client.daemon.layer_store.map())
        len(first.attrs["RootFS"]["Layers"]), len(second.attrs["RootFS"]["Layers"]), len(shared), layers_in_store
        """
    ),
    md(
        """
        The store holds each shared layer once: the two images together cost their union, not
        their sum.

        ## 5. Deleted, but still shipped

        The analysis of the second image marks its own layers and the base's (`(base)`: the
        first image's layers, below it):
        """
    ),
    code(
        """
        analysis = analyze_image(client, SECOND)
        print(analysis.to_text())
        """
    ),
    md(
        """
        A copy "deleted in L*n*" is a file a step removed after an earlier step wrote it: the
        container never sees it, but the lower layer still holds it, and everyone who pulls
        the image downloads it. Read it back from its layer's tar (the first 60 bytes):
        """
    ),
    code(
        """
        deleted = [w for w in analysis.wasted if w.reason.startswith("deleted")]
        for w in deleted[:3]:
            (copy,) = [c for c in find_copies(client, SECOND, w.path) if c.index == w.layer]
            print(f"{w.path}: L{w.layer}, {copy.size} B, hidden by {copy.hidden_by}")
            print("   ", read_copy(client, SECOND, w.path, w.layer)[:60])
        print(len(deleted), "deleted file(s) still shipped")
        """
    ),
    md(
        """
        The fix is notebook 08's: delete in the same `RUN` that wrote the file, or build in a
        separate stage and copy only the result.

        ## 6. Explore it yourself

        Pick an image and a layer to see its files (A added, M modified, D deleted, O opaque);
        type a path and click **show file** to read the copy that layer holds, or **find every
        copy** to list every layer that holds one.
        """
    ),
    code(
        """
        ImageExplorer(client, image=SECOND)
        """
    ),
    md(
        """
        ## What to remember

        - A pull is a manifest (layer digests, config digest) then blobs: each layer is
          downloaded compressed, checked against its digest, unpacked and registered by its
          DiffID. The image ID is the config's digest, the RepoDigest the manifest's.
        - Layers the store already has (same ChainID) are not downloaded: `Already exists`.
          Images built on a common base share those layers on disk and on the wire.
        - Every layer ships, whatever later layers do: a modified file is stored again, a
          deleted one is still in the layer that wrote it.

        ## Read next in moby

        """
        + moby(
            "distribution/pull_v2.go",
            "distribution/xfer/download.go",
            "distribution/metadata/v2_metadata_service.go",
            "registry/service_v2.go",
            "daemon/images/image_pull.go",
            "pkg/jsonmessage/jsonmessage.go",
        )
        + """

        Back to the start: [00 · Start here](00-start-here.ipynb).
        """
    ),
    code(
        """
        client.close()
        source.close()
        """
    ),
]
