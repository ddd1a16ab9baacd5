"""Build-test helpers: reproducible context folders and what each layer of a built image
holds (entry names, files), read through the layer store's own tar streams."""

from __future__ import annotations

import io
import os
import tarfile

from dockerlayers.digest import chain_id

#: The long build-context mtime all contexts get, so that builds are reproducible.
MTIME = 1_700_000_000


def write_context(root, files: dict[str, str | bytes]) -> str:
    """Make a context folder; a name ending in `/` is an (empty) folder."""
    root = str(root)
    os.makedirs(root, exist_ok=True)
    for name, content in files.items():
        path = os.path.join(root, name)
        if name.endswith("/"):
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
    for dirpath, dirs, names in os.walk(root):
        for n in dirs:
            os.chmod(os.path.join(dirpath, n), 0o755)
        for n in names:
            os.chmod(os.path.join(dirpath, n), 0o644)
        for n in dirs + names:
            os.utime(os.path.join(dirpath, n), (MTIME, MTIME))
    return root


def history(img) -> list[tuple[str, bool]]:
    return [(h.created_by, h.empty_layer) for h in img.history]


def _layer_entries(client, img, first: int = 0) -> list[list[tarfile.TarInfo]]:
    """The entries of each layer's tar (as the store streams it), bottom to top, from the
    layer at position `first`."""
    out = []
    diff_ids = list(img.rootfs.diff_ids)
    ls = client.daemon.layer_store
    for i in range(first, len(diff_ids)):
        layer = ls.get(chain_id(diff_ids[: i + 1]))
        try:
            with layer.tar_stream() as s:
                data = s.read()
        finally:
            ls.release(layer)
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            out.append(tf.getmembers())
    return out


def layer_members(client, img) -> list[list[str]]:
    """The entry names of each layer's tar, bottom to top."""
    return [[m.name for m in members] for members in _layer_entries(client, img)]


def layer_files(client, img) -> list[list[str]]:
    """Like layer_members, without the base layer and without folders' own entries."""
    return [
        sorted(m.name for m in members if not m.isdir())
        for members in _layer_entries(client, img, first=1)
    ]


def log_lines(build_log) -> list[str]:
    """docker-py's BuildError.build_log (an iterator of the API's chunks) as output lines:
    the `stream` text, and the `error` as the last line."""
    text = ""
    for m in build_log:
        text += m.get("stream", "")
        if "error" in m:
            text += ("" if text.endswith("\n") or not text else "\n") + m["error"] + "\n"
    return text.splitlines()
