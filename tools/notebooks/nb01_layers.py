"""01 Images are stacks of layers."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "01-images-are-stacks-of-layers.ipynb"

CELLS = [
    md(
        """
        # 01 · Images are stacks of layers

        **The questions**: *what is a layer, and what are those `sha256:` IDs?*, *do ten
        images built on the same base store the base ten times?*, *what is on disk?*

        **What you will see** (10 minutes):

        1. an image is a list of layers, each a tar of the files one build step changed;
        2. the **DiffID** of a layer is the sha256 of its tar — computed by hand, and by the store;
        3. the **ChainID** names a layer *together with everything below it* — by hand and by
           the store; the layer store's folders are named by ChainID;
        4. two images that share their first steps share those layers: stored once;
        5. what each layer looks like on disk (`layerdb` and the `overlay2` folders).
        """
    ),
    code(
        """
        from pathlib import Path

        from dockerlayers import DockerClient
        from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR, chain_id, from_bytes

        client = DockerClient(seed=1, clock="virtual", mounts="user")
        root = Path(client.daemon.root)  # paths below are relative to it
        base = client.images.base()
        base.attrs["RootFS"]
        """
    ),
    md(
        """
        The built-in `base` image has one layer. Let us build two images on it. Both Dockerfiles
        start with the same `RUN` step, then differ:
        """
    ),
    code(
        """
        print(Path("data/app-one/Dockerfile").read_text())
        print(Path("data/app-two/Dockerfile").read_text())
        """
    ),
    code(
        """
        one, log = client.images.build(path="data/app-one", tag="app-one")
        print("".join(m.get("stream", "") for m in log), end="")
        """
    ),
    md(
        """
        Every `RUN` step ran in a container and its changes were committed as a new layer
        (notebook 05). For `app-two` the builder reuses the first step from its cache
        (`Using cache`):
        """
    ),
    code(
        """
        two, log = client.images.build(path="data/app-two", tag="app-two")
        print("".join(m.get("stream", "") for m in log), end="")
        """
    ),
    md(
        """
        An image's `RootFS.Layers` is the list of its layers' **DiffIDs**, bottom first.
        The first two are the same in both images:
        """
    ),
    code(
        """
        one.attrs["RootFS"]["Layers"], two.attrs["RootFS"]["Layers"]
        """
    ),
    md(
        """
        ## 1. DiffID = sha256 of the layer's (uncompressed) tar

        The layer store hands out each layer's tar, byte for byte as it was registered.
        Hashing it by hand gives the DiffID:
        """
    ),
    code(
        """
        store = client.daemon.layer_store
        top = store.get(chain_id(one.attrs["RootFS"]["Layers"]))
        tar = top.tar_stream().read()
        len(tar), from_bytes(tar) == top.diff_id, top.diff_id
        """
    ),
    md(
        """
        A tar with no files is 1024 zero bytes; its digest is the famous empty-layer DiffID
        `sha256:5f70bf18…` that shows up wherever a step changes nothing.
        """
    ),
    code(
        """
        from_bytes(b"\\0" * 1024) == DIGEST_SHA256_EMPTY_TAR, DIGEST_SHA256_EMPTY_TAR
        """
    ),
    md(
        """
        ## 2. ChainID = the layer plus everything below it

        The same tar on top of a different base is a different filesystem, so the store names
        layers by **ChainID**: for the bottom layer ChainID = DiffID; above it,
        `ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n))` (the full `sha256:` strings,
        one space between).
        """
    ),
    code(
        """
        d0, d1, d2 = one.attrs["RootFS"]["Layers"]
        c0 = d0
        c1 = from_bytes(f"{c0} {d1}".encode())
        c2 = from_bytes(f"{c1} {d2}".encode())
        c2 == chain_id([d0, d1, d2]) == top.chain_id, c2
        """
    ),
    md(
        """
        Each layer in the store points to its parent, so a ChainID names a whole stack:
        """
    ),
    code(
        """
        [(layer.chain_id[:19], layer.diff_size()) for layer in (top, top.parent, top.parent.parent)]
        """
    ),
    md(
        """
        ## 3. Shared layers are stored once

        Two images of three layers each, but the store holds four layers: `base`, the shared
        `tools` step, and one top layer per app. Each layer maps to its parent:
        """
    ),
    code(
        """
        {c[:19]: (layer.parent.chain_id[:19] if layer.parent else None) for c, layer in store.map().items()}
        """
    ),
    md(
        """
        Drawn by `dockerlayers.viz` (bottom layer first, one column per image): the columns
        share their two lower boxes because they share the layers themselves.
        """
    ),
    code(
        """
        from IPython.display import Image

        from dockerlayers.viz import layer_stack, plot_layer_stack, to_png

        Image(to_png(plot_layer_stack(layer_stack(client, ["app-one", "app-two"]))))
        """
    ),
    md(
        """
        `Size` in `docker images` counts every layer of the image; on disk the shared ones
        exist once (compare notebook 06 for vfs, where they do not):
        """
    ),
    code(
        """
        image_sizes = one.attrs["Size"] + two.attrs["Size"]
        stored = sum(layer.diff_size() for layer in store.map().values())
        image_sizes, stored
        """
    ),
    md(
        """
        ## 4. On disk: `layerdb` by ChainID, driver folders by cache-id

        `image/overlay2/layerdb/sha256/<ChainID>/` holds the layer's metadata: `diff` (the
        DiffID), `parent` (the parent's ChainID), `size`, `tar-split.json.gz` (the tar's
        headers, to rebuild it byte for byte) and `cache-id`: the name of the driver's
        folder with the files, a random ID.
        """
    ),
    code(
        """
        layer_dir = root / "image/overlay2/layerdb/sha256" / top.chain_id.split(":")[1]
        {f.name: f.read_text()[:26] for f in sorted(layer_dir.iterdir()) if f.suffix != ".gz"}
        """
    ),
    md(
        """
        **On your own machine** (Linux, overlay2; recorded on a real Docker 20.10.24 with a
        one-layer busybox image, whose ChainID is its DiffID):

        ```console
        $ docker image inspect -f '{{json .RootFS.Layers}}' busybox
        ["sha256:ae270a4611718419c4b7888b9972b94fe34f55b48f1a7f2b643fc715ce157a02"]
        $ sudo ls /var/lib/docker/image/overlay2/layerdb/sha256/ae270a4611718419c4b7888b9972b94fe34f55b48f1a7f2b643fc715ce157a02
        cache-id  diff  size  tar-split.json.gz
        $ sudo ls /var/lib/docker/overlay2/$(sudo cat /var/lib/docker/image/overlay2/layerdb/sha256/ae27…/cache-id)
        committed  diff  link
        ```

        (A bottom layer has no `parent` file and no `lower`; `committed` is overlay2's marker
        of a finished layer. Docker 29 on a new install keeps images in containerd's store
        instead: `docker image inspect` shows the same DiffIDs, the folders differ.)
        """
    ),
    md(
        """
        The driver's folder `overlay2/<cache-id>/diff` holds only the files that layer changed;
        `lower` lists the layers below it by their short links in `overlay2/l/`.
        """
    ),
    code(
        """
        folder = root / "overlay2" / top.cache_id
        sorted(p.name for p in folder.iterdir()), sorted(p.name for p in (folder / "diff").iterdir())
        """
    ),
    code(
        """
        (folder / "lower").read_text()
        """
    ),
    md(
        """
        ## What to remember

        - A layer is a tar of one step's changes; its **DiffID** is the sha256 of that tar.
        - The store names a layer by its **ChainID** (the layer and all below it); its files
          live in a driver folder with a random **cache-id**.
        - Images that share their first steps share those layers: stored once, refcounted.

        ## Read next in moby

        """
        + moby(
            "layer/layer.go",
            "layer/layer_store.go",
            "layer/filestore.go",
            "layer/empty.go",
            "image/rootfs.go",
        )
        + """

        Next: [02 · create, start, run](02-create-start-run.ipynb).
        """
    ),
    code(
        """
        client.close()
        """
    ),
]
