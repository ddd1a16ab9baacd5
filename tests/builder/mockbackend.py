"""A fake `Backend` for builder tests that need no daemon: images in a dict, containers
that record what the builder asked of them, RW layers on plain temp folders.

Layers are not stacked: an RW layer's folder holds only that step's changes, and a
registered layer's "tar" is a sorted listing of those changes (EMPTY_TAR when there are
none, so a metadata step still makes an `empty_layer` history entry).

moby: builder/dockerfile/mockbackend_test.go MockBackend
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from dockerlayers.builder.backend import get_local_cached_image
from dockerlayers.digest import EMPTY_TAR
from dockerlayers.graphdriver.rootfs import DirRootFS
from dockerlayers.image.errors import ImageNotFound
from dockerlayers.image.image import ContainerConfig, Image, new_from_json
from dockerlayers.image.jsonenc import format_rfc3339_nano
from dockerlayers.image.rootfs import RootFS


@dataclass
class FakeLayer:
    """A registered layer: its DiffID, parent ChainID and the listing it was made from."""

    diff_id: str
    parent_chain: str | None
    listing: bytes


class FakeRWLayer:
    """An RW layer on a temp folder; `tar_stream` lists its contents."""

    def __init__(self, path: str, parent_chain: str | None, container_id: str = "") -> None:
        self.path = path
        self.parent_chain = parent_chain
        self.container_id = container_id
        self.mounted = 0
        self.released = False

    def mount(self) -> DirRootFS:
        self.mounted += 1
        return DirRootFS(self.path)

    def unmount(self) -> None:
        self.mounted -= 1

    def files(self) -> list[str]:
        """The paths in the layer, `/`-rooted, sorted."""
        out = []
        for dirpath, dirs, names in os.walk(self.path):
            for n in dirs + names:
                out.append("/" + os.path.relpath(os.path.join(dirpath, n), self.path))
        return sorted(out)

    @contextmanager
    def tar_stream(self) -> Iterator[IO[bytes]]:
        lines = []
        for p in self.files():
            host = self.path + p
            st = os.lstat(host)
            data = b""
            if stat.S_ISREG(st.st_mode):
                with open(host, "rb") as f:
                    data = f.read()
            lines.append(f"{p} {st.st_mode:o} {hashlib.sha256(data).hexdigest()}\n".encode())
        yield io.BytesIO(b"".join(lines) if lines else EMPTY_TAR)


@dataclass
class FakeContainer:
    """What the builder created a container with, and what happened to it."""

    id: str
    image_id: str
    config: ContainerConfig
    env: list[str] | None
    rw: FakeRWLayer
    started: bool = False
    waited: bool = False
    removed: bool = False
    output: bytes = b""
    workdirs: list[str] = field(default_factory=list)


#: What a RUN does in the fake: given the container and its mounted RW layer, return
#: (exit code, output). The default writes nothing and exits 0 with no output.
RunHook = Callable[[FakeContainer, DirRootFS], tuple[int, bytes]]


class FakeBackend:
    """The builder's Backend with no daemon behind it (moby: MockBackend).

    `calls` records every container call in order, as (verb, container ID).
    """

    def __init__(self, root: str, run: RunHook | None = None) -> None:
        self.root = root
        self.run_hook = run
        self.images: dict[str, Image] = {}
        self.parents: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.containers: dict[str, FakeContainer] = {}
        self.layers: list[FakeLayer] = []
        self.released_layers = 0
        self.calls: list[tuple[str, str]] = []
        self.base_pulls = 0
        self._ids = 0
        self._clock = 1_700_000_000 * 10**9

    # -- test helpers --------------------------------------------------------------------------
    def add_image(
        self, config: ContainerConfig, ref: str = "", diff_ids: list[str] | None = None
    ) -> str:
        """Store a parentless (pulled) image with this config; tag it `ref`."""
        img = Image(
            config=config,
            os="linux",
            architecture="amd64",
            created=format_rfc3339_nano(self._clock),
            rootfs=RootFS(diff_ids=list(diff_ids or ["sha256:" + "ab" * 32])),
        )
        image_id = self._store(img.marshal(), parent="")
        if ref:
            self.tags[ref] = image_id
        return image_id

    def history(self, image_id: str) -> list[tuple[str, bool]]:
        """(created_by, empty_layer) of each history entry, bottom to top."""
        return [(h.created_by, h.empty_layer) for h in self.images[image_id].history]

    def _store(self, config: bytes, parent: str) -> str:
        img = new_from_json(config)
        self.images[img.id] = img
        if parent:
            self.parents[img.id] = parent
        return img.id

    # -- the image store view get_local_cached_image reads ---------------------------------------
    def children(self, image_id: str) -> list[str]:
        return [i for i, p in self.parents.items() if p == image_id]

    def map(self) -> dict[str, Image]:
        return dict(self.images)

    def get_parent(self, image_id: str) -> str:
        return self.parents.get(image_id, "")

    def get(self, image_id: str) -> Image:
        return self.images[image_id]

    # -- Backend ---------------------------------------------------------------------------------
    def temp_dir(self) -> str | None:
        path = os.path.join(self.root, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def generate_random_id(self) -> str:
        self._ids += 1
        return hashlib.sha256(str(self._ids).encode()).hexdigest()

    def get_image(self, ref: str) -> Image:
        image_id = self.tags.get(ref if ":" in ref else ref + ":latest", ref)
        if image_id not in self.images:
            raise ImageNotFound(f"No such image: {ref}")
        return self.images[image_id]

    def base_image(self) -> str:
        self.base_pulls += 1
        return self.add_image(ContainerConfig(cmd=["sh"]))

    def create_image(self, config: bytes, parent: str) -> str:
        image_id = self._store(config, parent)
        return image_id

    def tag_image(self, image_id: str, ref: str) -> None:
        self.tags[ref] = image_id

    def now(self) -> str:
        self._clock += 10**9
        return format_rfc3339_nano(self._clock)

    def get_cache(self, parent_id: str, config: ContainerConfig) -> str | None:
        return get_local_cached_image(self, parent_id, config)

    def container_create(
        self, image_id: str, config: ContainerConfig, env: list[str] | None
    ) -> str:
        cid = self.generate_random_id()
        path = tempfile.mkdtemp(prefix="rw-", dir=self.temp_dir())
        rw = FakeRWLayer(path, None, container_id=cid)
        self.containers[cid] = FakeContainer(cid, image_id, config.copy(), env, rw)
        self.calls.append(("create", cid))
        return cid

    def container_start(self, container_id: str) -> None:
        self.containers[container_id].started = True
        self.calls.append(("start", container_id))

    def container_wait(self, container_id: str) -> int:
        c = self.containers[container_id]
        c.waited = True
        self.calls.append(("wait", container_id))
        if self.run_hook is None:
            return 0
        code, c.output = self.run_hook(c, c.rw.mount())
        return code

    def container_logs(self, container_id: str) -> bytes:
        self.calls.append(("logs", container_id))
        return self.containers[container_id].output

    def container_rm(self, container_id: str) -> None:
        self.containers[container_id].removed = True
        self.calls.append(("rm", container_id))

    def container_create_workdir(self, container_id: str, path: str) -> None:
        c = self.containers[container_id]
        c.workdirs.append(path)
        c.rw.mount().mkdir(path, 0o755, parents=True, exist_ok=True)
        self.calls.append(("workdir", container_id))

    def get_rw_layer(self, container_id: str) -> FakeRWLayer:
        self.calls.append(("get_rw_layer", container_id))
        return self.containers[container_id].rw

    def create_rw_layer(self, parent_chain: str | None) -> FakeRWLayer:
        path = tempfile.mkdtemp(prefix="rw-", dir=self.temp_dir())
        return FakeRWLayer(path, parent_chain)

    def release_rw_layer(self, rw: FakeRWLayer) -> None:
        rw.released = True

    def register_layer(self, tar: IO[bytes] | bytes, parent_chain: str | None) -> FakeLayer:
        data = tar if isinstance(tar, bytes) else tar.read()
        layer = FakeLayer("sha256:" + hashlib.sha256(data).hexdigest(), parent_chain, data)
        self.layers.append(layer)
        return layer

    def release_layer(self, layer: FakeLayer) -> None:
        self.released_layers += 1
