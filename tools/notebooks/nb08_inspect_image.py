"""08 Look inside an image."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "08-look-inside-an-image.ipynb"

CELLS = [
    md(
        """
        # 08 · Look inside an image

        **The questions**: *my secret is still in the image — how?*, *what is in a `docker
        save` tarball?*, *which layer makes my image big?*

        **What you will see** (10 minutes):

        1. a `docker save` tarball (shipped in `data/leaky-app.tar`, built by
           `tools/notebooks/make_fixture.py`): its `manifest.json`, config and layer blobs;
        2. `docker load` registers its layers and the image;
        3. an analysis (what `dive` shows): per-layer size, files added/changed/deleted,
           wasted bytes and why;
        4. the "deleted" API key, read back from a lower layer;
        5. the ImageExplorer panel to browse layers and files yourself.
        """
    ),
    code(
        """
        import json
        import tarfile

        from dockerlayers import DockerClient
        from dockerlayers.viz import ImageExplorer, analyze_image

        saved = tarfile.open("data/leaky-app.tar")
        saved.getnames()
        """
    ),
    md(
        """
        ## 1. The tarball

        This is the archive Docker 20.10 writes (and every Docker up to 24): `manifest.json`
        names, for each image, its config (`<image ID>.json`) and its layers, bottom first,
        each an uncompressed tar in a folder of its own (`<v1 id>/layer.tar`, beside a legacy
        `json` and `VERSION`); `repositories` maps the tags. A layer's DiffID is the sha256 of
        its `layer.tar`: the config's `rootfs.diff_ids` are exactly those hashes.

        Docker 25 and later write an OCI image layout instead (`oci-layout`, `index.json`,
        `blobs/sha256/<digest>`) beside the same `manifest.json`, whose layer paths then point
        into `blobs/` (here: `client.daemon.image_service.save(..., format="docker-25")`, or
        `dockerlayers save --layout docker-25`). `docker load` reads both.
        """
    ),
    code(
        """
        manifest = json.load(saved.extractfile("manifest.json"))
        manifest
        """
    ),
    code(
        """
        import hashlib

        config = json.load(saved.extractfile(manifest[0]["Config"]))
        layer_hashes = ["sha256:" + hashlib.sha256(saved.extractfile(p).read()).hexdigest() for p in manifest[0]["Layers"]]
        config["rootfs"]["diff_ids"] == layer_hashes
        """
    ),
    md(
        """
        The config's `history` lists the build steps (the Dockerfile is not in the image):
        """
    ),
    code(
        """
        [(h.get("created_by", "")[:70], h.get("empty_layer", False)) for h in config["history"]]
        """
    ),
    md(
        """
        ## 2. docker load

        The model loads it as Docker does. A real Docker can load it too (`docker load -i
        data/leaky-app.tar`), and its layers, IDs and history are valid to inspect there; but
        the model made it, and the model's base image holds placeholder busybox binaries (a
        short text file where busybox should be), so containers from it will not run on a
        real engine.
        """
    ),
    code(
        """
        client = DockerClient(seed=8, clock="virtual", mounts="user")
        with open("data/leaky-app.tar", "rb") as f:
            (image,) = client.images.load(f.read())
        image.tags, image.id[:19], len(client.daemon.layer_store.map())
        """
    ),
    md(
        """
        ## 3. Analysis: where the bytes are

        Efficiency = the share of stored bytes the final image can still reach. This image
        stores a cache file (`seq 1 5000`, about 24 kB) and a secret that a later step
        deleted:
        """
    ),
    code(
        """
        print(analyze_image(client, "leaky-app:1.0").to_text())
        """
    ),
    md(
        """
        ## 4. The deleted secret is still there

        A container of the image cannot see `/app/.env` (layer 3 whited it out)...
        """
    ),
    code(
        """
        client.containers.run(image, ["ls", "-a", "/app"], remove=True)
        """
    ),
    md(
        """
        ...but anyone with the image can read layer 1's tar, straight from the tarball:
        """
    ),
    code(
        """
        layer1 = tarfile.open(fileobj=saved.extractfile(manifest[0]["Layers"][1]))
        layer1.extractfile("app/.env").read()
        """
    ),
    md(
        """
        `dockerlayers.layerhistory.find_copies` does this for any path: every layer that
        holds a copy, and which later layer hides it.
        """
    ),
    code(
        """
        from dockerlayers.layerhistory import find_copies

        for copy in find_copies(client, image, "/app/.env"):
            print(f"layer {copy.index}: {copy.kind}, {copy.size} B, hidden by {copy.hidden_by}")
        """
    ),
    md(
        """
        ## 5. The two real fixes, checked layer by layer

        Delete the secret in the same `RUN` that wrote it, or build in a separate stage and
        copy only the result into the final image (a multi-stage build). Then no layer of
        the image holds it at all:
        """
    ),
    code(
        """
        for context in ["data/leaky-app-same-run", "data/leaky-app-multi-stage"]:
            fixed, _ = client.images.build(path=context, tag=context.split("/")[1])
            print(context, "->", find_copies(client, fixed, "/app/.env") or "no layer holds it")
        """
    ),
    md(
        """
        The only fixes are these two (or a build secret mount, which never writes the
        secret to a layer) — and rotate the key if the image was ever pushed.

        ## 6. Explore it yourself

        Pick a layer to see its files (A added, M modified, D deleted, O opaque); type a path
        and click **show file** to read the copy that layer holds.
        """
    ),
    code(
        """
        ImageExplorer(client, image=image)
        """
    ),
    md(
        """
        ## What to remember

        - `docker save` = config + one uncompressed tar per layer + `manifest.json` (20.10:
          `<id>/layer.tar`; 25+: an OCI layout, `blobs/sha256/`); `docker load` registers
          each layer by its DiffID, the sha256 of its tar.
        - Every layer is shipped; a later delete only adds a whiteout. Secrets and caches
          written in one step and deleted in another stay readable.
        - An analysis like dive's ranks layers by size and lists the wasted bytes and why.

        ## Read next in moby

        """
        + moby(
            "image/tarexport/save.go",
            "image/tarexport/load.go",
            "image/tarexport/tarexport.go",
            "image/image.go",
            "pkg/archive/whiteouts.go",
        )
        + """

        Next: [09 · Volumes vs the read-write layer](09-volumes-vs-the-rw-layer.ipynb).
        """
    ),
]
