"""The hostile image archives: each made from a `docker save` of `rich:1` (tampered,
truncated, escaping, cyclic, ...); `docker load` must refuse every one and change nothing.

`HOSTILE` (a fresh copy: `hostile_cases()`) maps a name to a maker
`(service, tmp_path, image id) -> archive members (for tests.support.images.pack) or bytes`.
"""

from __future__ import annotations

import hashlib
import json

from tests.support.images import (
    archive_members,
    layer_tar,
    legacy_without_manifest,
    pack,
    save_bytes,
)


def _docker(service, tmp_path):
    return archive_members(save_bytes(service, ["rich:1"], "docker-25", tmp_path))


def _blob(m, digest):
    return "blobs/sha256/" + digest[7:]


def hostile_cases():
    """Hostile archive makers: (service, tmp_path, image id) -> members or bytes."""

    def config_tampered(s, t, id):
        m = _docker(s, t)
        m[_blob(m, id)] = m[_blob(m, id)].replace(b'"os":"linux"', b'"os":"linux" ')
        return m

    def layer_tampered(s, t, id):
        m = _docker(s, t)
        diff = s.get_image(id).rootfs.diff_ids[0]
        m[_blob(m, diff)] = m[_blob(m, diff)][:-1] + b"\1"
        return m

    def layer_missing(s, t, id):
        m = _docker(s, t)
        del m[_blob(m, s.get_image(id).rootfs.diff_ids[1])]
        return m

    def manifest_malformed(s, t, id):
        m = _docker(s, t)
        m["manifest.json"] = b"[{"
        return m

    def manifest_null(s, t, id):
        m = _docker(s, t)
        m["manifest.json"] = b"null"
        return m

    def manifest_oversized(s, t, id):
        m = _docker(s, t)
        m["manifest.json"] = b"[" + b" " * (17 << 20) + b"]"
        return m

    def layers_mismatch(s, t, id):
        m = _docker(s, t)
        doc = json.loads(m["manifest.json"])
        doc[0]["Layers"] = doc[0]["Layers"][:-1]
        m["manifest.json"] = json.dumps(doc).encode()
        return m

    def bad_tag(s, t, id):
        m = _docker(s, t)
        doc = json.loads(m["manifest.json"])
        doc[0]["RepoTags"] = ["rich"]
        m["manifest.json"] = json.dumps(doc).encode()
        return m

    def diff_id_mismatch(s, t, id):
        m = _docker(s, t)
        doc = json.loads(m["manifest.json"])
        doc[0]["Layers"][0], doc[0]["Layers"][3] = doc[0]["Layers"][3], doc[0]["Layers"][0]
        m["manifest.json"] = json.dumps(doc).encode()
        return m

    def escaping_member(s, t, id):
        m = _docker(s, t)
        m["../escape"] = b"x"
        return m

    def absolute_member(s, t, id):
        m = _docker(s, t)
        m["/etc/evil"] = b"x"
        return m

    def symlink_out(s, t, id):
        m = _docker(s, t)
        m["manifest.json"] = ("symlink", "../../../../etc/passwd")
        return m

    def fifo_member(s, t, id):
        m = _docker(s, t)
        m["fifo"] = ("fifo",)
        return m

    def duplicate_member(s, t, id):
        return _concat(pack(_docker(s, t)), pack({"manifest.json": b"[]"}))

    def hostile_layer_member(s, t, id):
        m = _docker(s, t)
        evil = layer_tar({"../../outside": b"pwned"})
        diff = "sha256:" + hashlib.sha256(evil).hexdigest()
        cfg = json.loads(m[_blob(m, id)])
        old = cfg["rootfs"]["diff_ids"][1]
        cfg["rootfs"]["diff_ids"][1] = diff
        raw = json.dumps(cfg, separators=(",", ":")).encode()
        new_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        m[_blob(m, new_id)] = raw
        m[_blob(m, diff)] = evil
        doc = json.loads(m["manifest.json"])
        doc[0]["Config"] = _blob(m, new_id)
        doc[0]["Layers"][1] = _blob(m, diff)
        assert old
        m["manifest.json"] = json.dumps(doc).encode()
        return m

    def second_image_fails(s, t, id):
        """The first image loads and moves rich:1, then the second's layer is hostile:
        the image, its layers and the tag move are all undone."""
        good = json.loads(_docker(s, t)["manifest.json"])[0]
        m = hostile_layer_member(s, t, id)
        bad = dict(json.loads(m["manifest.json"])[0], RepoTags=["other:1"])
        m["manifest.json"] = json.dumps([good, bad]).encode()
        return m

    def truncated(s, t, id):
        return pack(_docker(s, t))[:5000]

    def oci_wrong_media_type(s, t, id):
        m = archive_members(save_bytes(s, ["rich:1"], "oci", t))
        idx = json.loads(m["index.json"])
        idx["manifests"][0]["mediaType"] = "application/x-evil"
        m["index.json"] = json.dumps(idx).encode()
        return m

    def oci_layer_media_type(s, t, id):
        m = archive_members(save_bytes(s, ["rich:1"], "oci", t))
        idx = json.loads(m["index.json"])
        d = idx["manifests"][0]
        man = json.loads(m[_blob(m, d["digest"])])
        man["layers"][0]["mediaType"] = "text/plain"
        raw = json.dumps(man).encode()
        d["digest"] = "sha256:" + hashlib.sha256(raw).hexdigest()
        d["size"] = len(raw)
        m[_blob(m, d["digest"])] = raw
        m["index.json"] = json.dumps(idx).encode()
        return m

    def oci_size_mismatch(s, t, id):
        m = archive_members(save_bytes(s, ["rich:1"], "oci", t))
        idx = json.loads(m["index.json"])
        idx["manifests"][0]["size"] += 1
        m["index.json"] = json.dumps(idx).encode()
        return m

    def legacy_parent_cycle(s, t, id):
        m = legacy_without_manifest(s, t, id)
        dirs = sorted({n.split("/")[0] for n in m if n.endswith("/json")})
        for i, d in enumerate(dirs):
            doc = json.loads(m[f"{d}/json"])
            doc["parent"] = dirs[(i + 1) % len(dirs)]
            m[f"{d}/json"] = json.dumps(doc).encode()
        return m

    return {f.__name__: f for f in locals().values() if callable(f)}


def _concat(a: bytes, b: bytes) -> bytes:
    """Two tar streams as one (a's end marker dropped): a duplicate member name."""
    end = len(a)
    while end >= 512 and a[end - 512 : end] == b"\0" * 512:
        end -= 512
    return a[:end] + b


HOSTILE = hostile_cases()
