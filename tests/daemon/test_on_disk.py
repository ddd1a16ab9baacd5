"""The exact files on disk after create, start, stop, restart and rm: the layerdb mount
record, the driver's folders for the RW and init layers, and `containers/<id>/`
(moby.md §1.11, §2.2–2.4, §5.2)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.daemon.daemontest import SLEEPER
from tests.support.drivers import DRIVER_PARAMS


def listing(path: str) -> set[str]:
    """Entries of `path`, recursively, folders with a trailing `/` (symlinks not followed)."""
    out: set[str] = set()
    for dirpath, dirs, files in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        for d in dirs:
            out.add(os.path.normpath(os.path.join(rel, d)) + "/")
        for f in files:
            out.add(os.path.normpath(os.path.join(rel, f)))
    return out


def top(path: str) -> set[str]:
    return {
        e
        + (
            "/"
            if os.path.isdir(os.path.join(path, e)) and not os.path.islink(os.path.join(path, e))
            else ""
        )
        for e in os.listdir(path)
    }


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def driver_entries(root: str, driver: str, mid: str, mounted: bool) -> dict[str, set[str]]:
    """What the driver keeps for a container's RW layer `mid` (and `mid`-init), as moby lays
    it out: path relative to the driver's home -> the entries at its top level."""
    init = mid + "-init"
    if driver == "overlay2":
        rw = {"diff/", "link", "lower", "work/"} | ({"merged/"} if mounted else set())
        return {mid: rw, init: {"diff/", "link", "lower", "work/", "committed"}}
    if driver == "aufs":
        return {
            f"diff/{mid}": None,
            f"diff/{init}": None,
            f"mnt/{mid}": None,
            f"mnt/{init}": None,
            f"layers/{mid}": None,
            f"layers/{init}": None,
        }
    return {f"dir/{mid}": None, f"dir/{init}": None}


def check_driver(root: str, driver: str, mid: str, mounted: bool) -> None:
    home = os.path.join(root, driver)
    for rel, entries in driver_entries(root, driver, mid, mounted).items():
        p = os.path.join(home, rel)
        assert os.path.lexists(p), rel
        if entries is not None:
            assert top(p) == entries, rel
    if driver == "overlay2":
        links = {}
        for name in os.listdir(os.path.join(home, "l")):
            links[os.readlink(os.path.join(home, "l", name))] = name
        for layer in (mid, mid + "-init"):
            with open(os.path.join(home, layer, "link")) as f:
                short = f.read()
            assert links[f"../{layer}/diff"] == short
            assert len(short) == 26
    if driver == "aufs":
        with open(os.path.join(home, "layers", mid)) as f:
            assert f.read().split()[0] == mid + "-init"


def check_gone(root: str, driver: str, mid: str) -> None:
    home = os.path.join(root, driver)
    for rel in driver_entries(root, driver, mid, False):
        assert not os.path.lexists(os.path.join(home, rel)), rel
    if driver == "overlay2":
        for name in os.listdir(os.path.join(home, "l")):
            target = os.readlink(os.path.join(home, "l", name))
            assert mid not in target


AFTER_CREATE = {"config.v2.json", "hostconfig.json", "checkpoints/"}


def after_start(cid: str) -> set[str]:
    return AFTER_CREATE | {
        "hostname",
        "hosts",
        "resolv.conf",
        "resolv.conf.hash",
        f"{cid}-json.log",
        "mounts/",
    }


@pytest.mark.parametrize("params", DRIVER_PARAMS)
def test_files_after_create_start_restart_rm(make_client, params):
    driver, mounts = params
    cl = make_client(driver=driver, mounts=mounts)
    root = cl.root
    base = cl.images.base()
    mounts_before = listing(os.path.join(root, "image", driver, "layerdb"))
    driver_before = listing(os.path.join(root, driver))

    c = cl.containers.create(base, SLEEPER)
    cdir = os.path.join(root, "containers", c.id)
    mdir = os.path.join(root, "image", driver, "layerdb", "mounts", c.id)
    # layerdb/mounts/<id>
    assert top(mdir) == {"mount-id", "init-id", "parent"}
    for f in ("mount-id", "init-id", "parent"):
        assert mode(os.path.join(mdir, f)) == 0o644
    mid = Path(os.path.join(mdir, "mount-id")).read_text()
    assert Path(os.path.join(mdir, "init-id")).read_text() == mid + "-init"
    assert Path(os.path.join(mdir, "parent")).read_text() == base.attrs["RootFS"]["Layers"][0]
    # the driver's folders
    check_driver(root, driver, mid, mounted=False)
    # containers/<id>
    assert top(cdir) == AFTER_CREATE
    assert listing(cdir) == AFTER_CREATE
    assert mode(cdir) == 0o710
    assert mode(os.path.join(cdir, "config.v2.json")) == 0o600
    assert mode(os.path.join(cdir, "hostconfig.json")) == 0o644
    assert mode(os.path.join(cdir, "checkpoints")) == 0o700

    c.start()
    assert top(cdir) == after_start(c.id)
    assert listing(cdir) == after_start(c.id)
    for f in ("hostname", "hosts", "resolv.conf", "resolv.conf.hash"):
        assert mode(os.path.join(cdir, f)) == 0o644, f
    assert mode(os.path.join(cdir, f"{c.id}-json.log")) == 0o640
    assert Path(os.path.join(cdir, "hostname")).read_text() == c.id[:12] + "\n"
    assert top(mdir) == {"mount-id", "init-id", "parent"}
    check_driver(root, driver, mid, mounted=True)

    c.stop()
    assert top(cdir) == after_start(c.id)
    check_driver(root, driver, mid, mounted=False)  # overlay2's merged/ goes with the mount

    c.restart()
    assert top(cdir) == after_start(c.id)
    assert Path(os.path.join(mdir, "mount-id")).read_text() == mid
    check_driver(root, driver, mid, mounted=True)

    c.remove(force=True)
    base.reload()
    assert not os.path.exists(cdir)
    assert not os.path.exists(mdir)
    check_gone(root, driver, mid)
    # back to exactly what the image alone had (overlay2 keeps the image layer's
    # `committed` mark: moby writes it into a layer once a child is made on it)
    assert listing(os.path.join(root, "image", driver, "layerdb")) - {"mounts/"} == mounts_before
    extra = {"committed"} if driver == "overlay2" else set()
    assert {
        p for p in listing(os.path.join(root, driver)) if not p.startswith("l/")
    } - driver_before == {f"{cache_id(cl, base.attrs['RootFS']['Layers'][0])}/{e}" for e in extra}


def cache_id(cl, chain: str) -> str:
    with open(
        os.path.join(
            cl.root,
            "image",
            cl.daemon.driver.name,
            "layerdb",
            "sha256",
            chain.split(":")[1],
            "cache-id",
        )
    ) as f:
        return f.read()


@pytest.mark.parametrize("params", DRIVER_PARAMS)
def test_start_rebuilds_the_sandbox_files_and_leaves_the_rw_layer_alone(make_client, params):
    """hosts, hostname and resolv.conf are written anew at every start (libnetwork builds a
    new sandbox), so an edit made inside is undone by restart; writing them through their
    bind mounts touches neither the RW layer nor `docker diff` (not even an empty etc/)."""
    driver, mounts = params
    client = make_client(driver=driver, mounts=mounts)
    c = client.containers.run(client.images.base().id, SLEEPER, detach=True)
    c.reload()
    d = client.daemon.containers[c.id]
    files = [d.hosts_path, d.hostname_path, d.resolv_conf_path]
    fresh = [Path(p).read_text() for p in files]
    script = (
        "echo 10.9.9.9 x >> /etc/hosts; echo nameserver 10.9.9.9 >> /etc/resolv.conf;"
        " echo y > /etc/hostname"
    )
    assert c.exec_run(["sh", "-c", script]).exit_code == 0
    assert [Path(p).read_text() for p in files] != fresh
    assert c.diff() == []
    rw = client.daemon.layer_store.get_rw_layer(c.id)
    assert rw.changes() == []
    c.restart(timeout=0)
    assert [Path(p).read_text() for p in files] == fresh
    out = c.exec_run(["cat", "/etc/hosts", "/etc/hostname"]).output.decode()
    assert "10.9.9.9" not in out and out.endswith(c.id[:12] + "\n")
    hash_line = Path(d.resolv_conf_path + ".hash").read_text()
    assert hash_line.startswith("sha256:") and len(hash_line) == len("sha256:") + 64
