"""What must hold for a root after any crash, once reopened.

`check_root(root)` looks at the disk as the crash left it (listing the orphans by kind),
reopens it with a new `DockerClient`, checks the store, runs the layer store's cleanup and
checks that no orphan is left. It returns the violations (an empty list: all is well).

Invariants (moby.md §1.11-1.13, 5.16):

* the root reopens;
* every `layerdb/sha256/<hex>` folder is a complete layer (diff, size, cache-id, parent) whose
  driver folder exists, and it is loaded: no half-registered layer is visible;
* every loaded layer's reference count equals what restore derives (children + mounts +
  images), recomputed here independently;
* every container folder loads, with its RW layer (or, its mount record lost, Dead with
  the reason, its RW data kept: `quarantined-rw`); every RW layer belongs to a container;
* every image's layer exists, every tag points at an image;
* the RW data of the containers named in `protected` is byte-identical;
* what the crash left beside that is an orphan of a kind cleanup removes (`-removing`
  layers, unfinished write-sets, driver folders no record uses, atomic-write temp files,
  spooled tars), and after the reopen and `LayerStore.cleanup()` none is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

from dockerlayers import platform

_HEX64 = re.compile(r"^[a-f0-9]{64}$")
_REMOVING = re.compile(r"^[a-f0-9]{64}-[a-f0-9]{64}-removing$")

CLIENT_KW: dict[str, Any] = {"seed": 7, "clock": "virtual", "mounts": "user"}


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    orphans: dict[str, int] = field(default_factory=dict)  # kind -> count, before the reopen

    def fail(self, text: str) -> None:
        self.violations.append(text)


def tree_hash(path: str) -> str:
    """Names, kinds, modes, contents, symlink targets and xattrs under `path` (not times)."""
    h = hashlib.sha256()
    if not os.path.lexists(path):
        return "absent"
    for top, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(top, name)
            st = os.lstat(full)
            h.update(f"{os.path.relpath(full, path)}\0{st.st_mode:o}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(full).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                h.update(f"{st.st_rdev}".encode())
            if platform.has_xattr():  # none under Pyodide
                try:
                    for x in sorted(os.listxattr(full, follow_symlinks=False)):
                        h.update(x.encode() + os.getxattr(full, x, follow_symlinks=False))
                except OSError:
                    pass
            h.update(b"\n")
    return h.hexdigest()


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _layerdb(root: str, driver: str) -> str:
    return os.path.join(root, "image", driver, "layerdb")


def _driver_home(root: str, driver: str) -> str:
    return os.path.join(root, driver)


def _layer_home(root: str, driver: str) -> str:
    """The folder holding one entry per layer id: overlay2/<id>, aufs/diff/<id>, vfs/dir/<id>."""
    return os.path.join(_driver_home(root, driver), {"aufs": "diff", "vfs": "dir"}.get(driver, ""))


def _driver_ids(root: str, driver: str) -> list[str]:
    home = _layer_home(root, driver)
    if not os.path.isdir(home):
        return []
    return sorted(n for n in os.listdir(home) if n != "l" and os.path.isdir(os.path.join(home, n)))


def rw_hash(root: str, cid: str, driver: str = "overlay2") -> str:
    """The bytes of a container's RW layer (its driver folder, diff included)."""
    mount_id = _read(os.path.join(_layerdb(root, driver), "mounts", cid, "mount-id"))
    if not mount_id:
        return "no mount"
    if driver == "overlay2":
        return tree_hash(os.path.join(_driver_home(root, driver), mount_id, "diff"))
    if driver == "aufs":
        return tree_hash(os.path.join(_driver_home(root, driver), "diff", mount_id))
    return tree_hash(os.path.join(_driver_home(root, driver), "dir", mount_id))


def scan_orphans(root: str, driver: str = "overlay2") -> dict[str, list[str]]:
    """The leftovers of interrupted operations on disk, by kind."""
    db = _layerdb(root, driver)
    found: dict[str, list[str]] = {}

    def add(kind: str, path: str) -> None:
        found.setdefault(kind, []).append(os.path.relpath(path, root))

    sha = os.path.join(db, "sha256")
    referenced: set[str] = set()
    if os.path.isdir(sha):
        for name in sorted(os.listdir(sha)):
            path = os.path.join(sha, name)
            if _REMOVING.match(name):
                add("layer-removing", path)
            elif _HEX64.match(name):
                cache = _read(os.path.join(path, "cache-id"))
                if cache:
                    referenced.add(cache)
            else:
                add("unknown-in-layerdb", path)
    tmp = os.path.join(db, "tmp")
    if os.path.isdir(tmp):
        for name in os.listdir(tmp):
            add("write-set", os.path.join(tmp, name))
    mounts = os.path.join(db, "mounts")
    containers = os.path.join(root, "containers")
    if os.path.isdir(mounts):
        for name in sorted(os.listdir(mounts)):
            for f in ("mount-id", "init-id"):
                v = _read(os.path.join(mounts, name, f))
                if v:
                    referenced.add(v)
            if not os.path.isfile(os.path.join(containers, name, "config.v2.json")):
                add("mount-without-container", os.path.join(mounts, name))
    if os.path.isdir(containers):
        for name in sorted(os.listdir(containers)):
            if not os.path.isfile(os.path.join(containers, name, "config.v2.json")):
                add("container-without-config", os.path.join(containers, name))
    for id in _driver_ids(root, driver):
        if id not in referenced:
            add("unreferenced-driver-dir", os.path.join(_layer_home(root, driver), id))
    spool = os.path.join(root, "tmp")
    if os.path.isdir(spool):
        for name in os.listdir(spool):
            add("spool", os.path.join(spool, name))
    for top, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".tmp-"):
                add("atomic-temp", os.path.join(top, name))
    return found


def expected_refcounts(client: Any) -> dict[str, int]:
    """What restore must give each layer: one per child, per mount, per image."""
    store = client.daemon.layer_store
    want = {cid: 0 for cid in store.layer_map}
    for layer in store.layer_map.values():
        if layer.parent is not None:
            want[layer.parent.chain_id] = want.get(layer.parent.chain_id, 0) + 1
    for m in store.mounts.values():
        if m.parent is not None:
            want[m.parent.chain_id] = want.get(m.parent.chain_id, 0) + 1
    images = client.daemon.image_service.image_store
    for id in images.images:
        img = images.get(id)
        chain = img.rootfs.chain_id() if img.rootfs else ""
        if chain:
            want[chain] = want.get(chain, 0) + 1
    return want


def check_client(client: Any, report: Report) -> None:
    """The invariants of an open client's store (after a reopen)."""
    daemon = client.daemon
    root = daemon.root
    driver = daemon.driver
    store = daemon.layer_store
    sha = os.path.join(store.store.root, "sha256")
    on_disk = set()
    if os.path.isdir(sha):
        for name in os.listdir(sha):
            if not _HEX64.match(name):
                continue
            chain = "sha256:" + name
            on_disk.add(chain)
            folder = os.path.join(sha, name)
            for f in ("diff", "size", "cache-id", "tar-split.json.gz"):
                if not os.path.isfile(os.path.join(folder, f)):
                    report.fail(f"layer {name[:12]}: {f} missing")
            cache = _read(os.path.join(folder, "cache-id"))
            if cache and not driver.exists(cache):
                report.fail(f"layer {name[:12]}: driver folder {cache[:12]} missing")
            if chain not in store.layer_map:
                report.fail(f"layer {name[:12]} on disk but not loaded (half-registered?)")
    for chain in store.layer_map:
        if chain not in on_disk:
            report.fail(f"layer {chain[7:19]} loaded but not on disk")
    want = expected_refcounts(client)
    for chain, layer in store.layer_map.items():
        if layer.reference_count != want.get(chain, 0):
            report.fail(
                f"layer {chain[7:19]}: reference count {layer.reference_count}, "
                f"expected {want.get(chain, 0)}"
            )
    containers = os.path.join(root, "containers")
    for name in sorted(os.listdir(containers)) if os.path.isdir(containers) else []:
        if name not in daemon.containers:
            report.fail(f"container {name[:12]} does not load")
    for cid in daemon.containers:
        c = daemon.containers[cid]
        if cid not in store.mounts:
            if not (c.state.dead and c.state.error.startswith("failed to load container mount")):
                report.fail(f"container {cid[:12]} has no RW layer")
        elif not daemon.containers[cid].state.dead:
            # (a dead container's RW folder may be half removed: `docker rm` finishes it)
            m = store.mounts[cid]
            for id in (m.mount_id, m.init_id):
                if id and not driver.exists(id):
                    report.fail(f"container {cid[:12]}: driver folder {id[:12]} missing")
    for name in store.mounts:
        if name not in daemon.containers:
            report.fail(f"RW layer {name[:12]} has no container")
    images = daemon.image_service.image_store
    content = os.path.join(images.root, "content", "sha256")
    for name in sorted(os.listdir(content)) if os.path.isdir(content) else []:
        if "sha256:" + name not in images.images and not name.startswith(".tmp-"):
            report.fail(f"image {name[:12]} does not load")
    for id in images.images:
        img = images.get(id)
        chain = img.rootfs.chain_id() if img.rootfs else ""
        if chain and chain not in store.layer_map:
            report.fail(f"image {id[7:19]}: layer {chain[7:19]} missing")
    repo_file = os.path.join(root, "image", driver.name, "repositories.json")
    if os.path.isfile(repo_file):
        try:
            with open(repo_file) as f:
                repos = json.load(f).get("Repositories", {})
        except ValueError:
            report.fail("repositories.json is not JSON")
            repos = {}
        for repo in repos.values():
            for ref, id in repo.items():
                if id not in images.images:
                    report.fail(f"tag {ref} points at a missing image {id[7:19]}")


def check_root(
    root: str,
    protected: dict[str, str] | None = None,
    driver: str = "overlay2",
    client_kw: dict[str, Any] | None = None,
    allowed_orphans: frozenset[str] = frozenset(
        {
            "layer-removing",
            "write-set",
            "unreferenced-driver-dir",
            "atomic-temp",
            "spool",
            "mount-without-container",
            "container-without-config",
        }
    ),
) -> Report:
    """Check a root as a crash left it: orphans, reopen, invariants, cleanup."""
    from dockerlayers import DockerClient

    report = Report()
    before = scan_orphans(root, driver)
    for kind, paths in before.items():
        report.orphans[kind] = len(paths)
        if kind not in allowed_orphans:
            report.fail(f"orphan of an unknown kind {kind}: {paths[:3]}")
    kw = dict(CLIENT_KW)
    kw.update(client_kw or {})
    try:
        client = DockerClient(root=root, driver=driver, **kw)
    except Exception as e:
        report.fail(f"the root does not reopen: {type(e).__name__}: {e}")
        return report
    try:
        check_client(client, report)
        for cid, want in (protected or {}).items():
            if cid not in client.daemon.containers:
                report.fail(f"protected container {cid[:12]} is gone")
            elif rw_hash(root, cid, driver) != want:
                report.fail(f"protected container {cid[:12]}: RW data changed")
        for cid, c in list(client.daemon.containers.items()):
            if c.state.dead:  # a removal a crash interrupted: `docker rm` must finish it
                try:
                    client.containers.get(cid).remove(force=True)
                except Exception as e:
                    report.fail(f"dead container {cid[:12]} cannot be removed: {e}")
        client.daemon.layer_store.cleanup()
        kept = set(client.daemon.layer_store.quarantined)
    finally:
        client.close()
    after = scan_orphans(root, driver)
    home = os.path.relpath(_layer_home(root, driver), root)
    if kept:
        report.orphans["quarantined-rw"] = len(kept)
        paths = [
            p
            for p in after.get("unreferenced-driver-dir", [])
            if os.path.relpath(p, home) not in kept
        ]
        after["unreferenced-driver-dir"] = paths
        if not paths:
            del after["unreferenced-driver-dir"]
    for kind, paths in after.items():
        report.fail(f"after cleanup, {len(paths)} orphan(s) of kind {kind} remain: {paths[:3]}")
    return report


__all__ = [
    "CLIENT_KW",
    "Report",
    "check_client",
    "check_root",
    "expected_refcounts",
    "rw_hash",
    "scan_orphans",
    "tree_hash",
]
