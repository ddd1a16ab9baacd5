"""What each layer holds: its own entries (files, dirs, whiteouts, opaque dirs).

Image layers are read from their `tar-split.json.gz` (the layer exactly as registered,
whatever the driver; no file content is read). Init and RW layers are read from the
driver's folder (overlay2, aufs) or, for vfs where every layer is a full copy, from the
driver's changes against the layer below.
"""

from __future__ import annotations

import base64
import os
import posixpath
import stat
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from dockerlayers.archive.tarsplit import FILE_TYPE, SEGMENT_TYPE, entry_name, read_tar_split
from dockerlayers.archive.whiteouts import (
    WHITEOUT_META_PREFIX,
    WHITEOUT_OPAQUE_DIR,
    WHITEOUT_PREFIX,
)
from dockerlayers.graphdriver.union import layer_dir_is_opaque
from dockerlayers.viz._model import LayerInfo

#: Entry kinds.
FILE, DIR, LINK, OTHER, WHITEOUT = "file", "dir", "link", "other", "whiteout"


@dataclass(frozen=True)
class Entry:
    """One entry a layer holds at a path; `opaque` only for dirs that hide all below."""

    kind: str
    size: int = 0
    opaque: bool = False


LayerEntries = dict[str, Entry]

_CACHE: OrderedDict[tuple[str, int, int], LayerEntries] = OrderedDict()
_CACHE_SIZE = 256

_TYPEFLAG = {b"0": FILE, b"\x00": FILE, b"7": FILE, b"1": FILE, b"5": DIR, b"2": LINK}


def _norm(name: str) -> str:
    if name.startswith("./"):
        name = name[2:]
    return posixpath.normpath("/" + name.lstrip("/"))


def _add_whiteout(out: LayerEntries, path: str) -> bool:
    """Turn a whiteout marker at `path` into entries; True if it was one."""
    parent, base = posixpath.split(path)
    if not base.startswith(WHITEOUT_PREFIX):
        return False
    if base == WHITEOUT_OPAQUE_DIR:
        prev = out.get(parent)
        out[parent] = Entry(DIR, prev.size if prev else 0, True)
        return True
    if base.startswith(WHITEOUT_META_PREFIX):
        return True  # aufs metadata: never part of the view
    out[posixpath.join(parent, base[len(WHITEOUT_PREFIX) :])] = Entry(WHITEOUT)
    return True


def read_tar_split_entries(path: str) -> LayerEntries:
    """Entries of a registered layer from its tar-split file (cached by path and mtime)."""
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    out: LayerEntries = {}
    last_header = b""
    for e in read_tar_split(path):
        if e.get("type") == SEGMENT_TYPE:
            payload = e.get("payload") or ""
            # the entry's own header is the last block of the segment before it
            last_header = base64.b64decode(payload[-700:]) if payload else b""
            continue
        if e.get("type") != FILE_TYPE:
            continue
        p = _norm(entry_name(e))
        if p == "/":
            continue
        if _add_whiteout(out, p):
            continue
        flag = last_header[-512 + 156 : -512 + 157] if len(last_header) >= 512 else b"0"
        kind = _TYPEFLAG.get(flag, OTHER)
        prev = out.get(p)
        out[p] = Entry(kind, int(e.get("size") or 0), bool(prev and prev.opaque))
    _CACHE[key] = out
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def scan_layer_dir(top: str) -> LayerEntries:
    """Entries of a layer folder on disk (overlay/aufs forms of whiteouts and opaque dirs)."""
    out: LayerEntries = {}
    if not os.path.isdir(top):
        return out
    stack = [("/", top)]
    while stack:
        cpath, host = stack.pop()
        with os.scandir(host) as it:
            entries = sorted(it, key=lambda d: d.name)
        for d in entries:
            p = posixpath.join(cpath, d.name)
            if _add_whiteout(out, p):
                continue
            st = d.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                prev = out.get(p)
                out[p] = Entry(DIR, 0, bool(prev and prev.opaque) or layer_dir_is_opaque(d.path))
                stack.append((p, d.path))
            elif stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                out[p] = Entry(WHITEOUT)
            elif stat.S_ISLNK(st.st_mode):
                out[p] = Entry(LINK, st.st_size)
            elif stat.S_ISREG(st.st_mode):
                out[p] = Entry(FILE, st.st_size)
            else:
                out[p] = Entry(OTHER)
    return out


def _from_changes(driver: Any, id_: str, parent: str | None, top: str) -> LayerEntries:
    out: LayerEntries = {}
    for ch in driver.changes(id_, parent):
        if int(ch.kind) == 2:
            out[ch.path] = Entry(WHITEOUT)
            continue
        host = top + ch.path
        try:
            st = os.lstat(host)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            out[ch.path] = Entry(DIR)
        elif stat.S_ISLNK(st.st_mode):
            out[ch.path] = Entry(LINK, st.st_size)
        elif stat.S_ISREG(st.st_mode):
            out[ch.path] = Entry(FILE, st.st_size)
        else:
            out[ch.path] = Entry(OTHER)
    return out


def layer_entries(daemon: Any, info: LayerInfo, below: LayerInfo | None = None) -> LayerEntries:
    """What layer `info` itself holds (`below` is the layer under it, for vfs)."""
    driver = daemon.driver
    if info.kind == "image" and info.chain_id:
        hexid = info.chain_id.split(":", 1)[-1]
        ts = os.path.join(
            daemon.root, "image", driver.name, "layerdb", "sha256", hexid, "tar-split.json.gz"
        )
        if os.path.exists(ts):
            return read_tar_split_entries(ts)
    top = driver.layer_dir(info.driver_id)
    if driver.name == "vfs":
        return _from_changes(driver, info.driver_id, below.driver_id if below else None, top)
    return scan_layer_dir(top)
