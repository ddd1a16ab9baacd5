"""`docker import`: one tar becomes a one-layer image.

The tar is decompressed first if it is gzip/bzip2/xz (moby's DecompressStream), and the
layer's DiffID is the sha256 of the uncompressed tar exactly as given. The config gets
`--change` edits, the comment `Imported from <src>` and one history entry.

moby: daemon/images/image_import.go ImportImage
"""

from __future__ import annotations

import contextlib
import io
import lzma
import shutil
import tempfile
from typing import BinaryIO

from dockerlayers.digest import from_bytes
from dockerlayers.image.changes import apply_changes
from dockerlayers.image.errors import ImageError, InvalidReference
from dockerlayers.image.image import (
    DEFAULT_ARCH,
    DOCKER_VERSION,
    ContainerConfig,
    History,
    Image,
)
from dockerlayers.image.reference import ReferenceStore
from dockerlayers.image.refname import Reference, parse_normalized_named
from dockerlayers.image.rootfs import RootFS
from dockerlayers.image.store import ImageStore
from dockerlayers.image.tarexport.source import decompress_stream


def parse_repository_tag(repository: str, tag: str) -> Reference | None:
    """The reference `docker import ... repo[:tag]` will tag, checked before any work.

    moby: daemon/images/image_import.go ImportImage (reference checks)
    """
    if not repository:
        return None
    ref = parse_normalized_named(repository)
    if ref.digest:
        raise InvalidReference("cannot import digest reference")
    if tag:
        ref = ref.with_tag(tag)
    return ref


def import_image(
    image_store: ImageStore,
    reference_store: ReferenceStore,
    tar: BinaryIO | bytes | str,
    *,
    created: str,
    repository: str = "",
    tag: str = "",
    message: str = "",
    changes: list[str] | tuple[str, ...] = (),
    src: str = "-",
    os: str = "linux",
) -> str:
    """Register `tar` as a layer and make an image of it; returns the image ID.

    `created` is an RFC3339Nano time from the daemon's clock. Nothing is left behind
    when the reference, a change or the tar is invalid.

    moby: daemon/images/image_import.go ImportImage
    """
    ref = parse_repository_tag(repository, tag)
    config = apply_changes(ContainerConfig(), list(changes), os)
    msg = message or f"Imported from {src}"
    layer_store = image_store.layer_store
    with contextlib.ExitStack() as stack:
        if isinstance(tar, bytes):
            f: BinaryIO = io.BytesIO(tar)
        elif isinstance(tar, str):
            f = stack.enter_context(open(tar, "rb"))
        else:
            f = tar
        if not f.seekable():
            spool = stack.enter_context(tempfile.TemporaryFile(dir=layer_store.tmp_dir))
            shutil.copyfileobj(f, spool)
            spool.seek(0)
            f = spool  # type: ignore[assignment]
        try:
            handle = layer_store.register(decompress_stream(f), None)
        except (OSError, EOFError, lzma.LZMAError) as e:
            raise ImageError(f"invalid import source: {e}") from None
    try:
        img = Image(
            docker_version=DOCKER_VERSION,
            config=config,
            architecture=DEFAULT_ARCH,
            os=os,
            created=created,
            comment=msg,
            rootfs=RootFS(diff_ids=[handle.diff_id]),
            history=[History(created=created, comment=msg)],
        )
        data = img.marshal()
        is_new = from_bytes(data) not in image_store
        # the containerd store writes an imported image's manifest its own way
        id = getattr(image_store, "create_imported", image_store.create)(data)
        if ref is not None:
            try:
                reference_store.add_tag(ref, id, force=True)
                image_store.set_last_updated(id)
            except BaseException:
                if is_new:
                    image_store.delete(id)
                raise
        return id
    finally:
        layer_store.release(handle)
