"""Docker 29's image ID everywhere a learner looks, in the containerd mode.

The ID a client sees is the image's target digest: the sha256 of a manifest (or index)
blob in containerd's content store, never the config digest the graph store keys by.
Each test reads the content store's blobs itself to know which digest is which.

moby (docker-v29.0.0): daemon/containerd/image.go, image_history.go, image_delete.go,
image_events.go, image_exporter.go, image_builder.go, image_commit.go; daemon/create.go,
daemon/list.go refreshImage
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from tests.cli.conftest import cli  # noqa: F401  (the fixture)

BLOBS = "containerd/daemon/io.containerd.content.v1.content/blobs/sha256"


def _blob(root, digest: str) -> bytes:
    path = root / BLOBS / digest.removeprefix("sha256:")
    data = path.read_bytes()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return data


def _config_of(root, image_id: str) -> str:
    """The config digest of the manifest `image_id` (asserting it is a manifest blob)."""
    doc = json.loads(_blob(root, image_id))
    assert doc["mediaType"] in (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
    return doc["config"]["digest"]


@pytest.fixture
def c29(cli):  # noqa: F811
    """The CLI on a root whose daemon.json turns the containerd store on, with `app` built
    (FROM base, RUN, ENV: one intermediate image) and its build output."""
    os.makedirs(cli.root, exist_ok=True)
    (cli.root / "daemon.json").write_text(
        json.dumps({"features": {"containerd-snapshotter": True}})
    )
    ctx = cli.root.parent / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM base\nRUN echo hi > /hi\nENV A=1\n")
    assert cli("pull", "base").code == 0
    r = cli("build", "-t", "app", str(ctx))
    assert r.code == 0, r.err
    cli.build_out = r.out
    return cli


def _ids(run, *args: str) -> list[str]:
    return run("images", "-q", "--no-trunc", *args).out.split()


def test_images_and_build_output_show_manifest_digests(c29):
    [app] = _ids(c29, "app")
    [base] = _ids(c29, "base")
    every = _ids(c29, "-a")
    [mid] = [i for i in every if i not in (app, base)]
    for image_id in (app, base, mid):
        assert _config_of(c29.root, image_id) != image_id
    arrows = [ln.split()[1] for ln in c29.build_out.splitlines() if ln.startswith(" ---> ")]
    arrows = [a for a in arrows if a not in ("Running", "Using")]
    assert arrows == [base[7:19], mid[7:19], app[7:19]]
    assert f"Successfully built {app[7:19]}" in c29.build_out
    r = c29("pull", "base")
    assert f"Digest: {base}\n" in r.out


def test_history_ids_and_snapshot_sizes(c29):
    [app] = _ids(c29, "app")
    [base] = _ids(c29, "base")
    [mid] = [i for i in _ids(c29, "-a") if i not in (app, base)]
    rows = c29("history", "--no-trunc", "-H=false", "--format", "{{.ID}} {{.Size}}", "app")
    ids, sizes = zip(*(ln.split() for ln in rows.out.splitlines()))
    assert list(ids) == [app, mid, base]
    # SIZE: the usage of each layer's snapshot (image_history.go s.Usage(chainID)),
    # not the graph store's diff size (the RUN layer's tar holds 3 bytes of data)
    from dockerlayers import DockerClient

    c = DockerClient(root=str(c29.root), mounts="user", clock="virtual")
    try:
        store = c.daemon.layer_store
        rec = store.images.resolve("app")
        usages = [store.images.sn.usage("moby", ch).size for ch in store.images.chain_ids(rec)]
    finally:
        c.close()
    assert [int(s) for s in sizes] == [0, usages[1], usages[0]]
    assert usages[1] != 3


def test_inspect_parent_container_image_and_ps(c29):
    [app] = _ids(c29, "app")
    [base] = _ids(c29, "base")
    [mid] = [i for i in _ids(c29, "-a") if i not in (app, base)]
    r = c29("image", "inspect", "-f", "{{.Id}} {{.Parent}} {{len .RootFS.Layers}}", "app")
    assert r.out.split() == [app, mid, "2"]
    config = json.loads(_blob(c29.root, _config_of(c29.root, app)))
    r = c29("image", "inspect", "-f", "{{json .RootFS.Layers}}", "app")
    assert json.loads(r.out) == config["rootfs"]["diff_ids"]
    assert c29("run", "-d", "--name", "c1", "app", "sleep", "100").code == 0
    assert c29("inspect", "-f", "{{.Image}}", "c1").out.strip() == app
    assert c29("ps", "--format", "{{.Image}}").out.strip() == "app"
    # the tag goes (the image stays, moby-dangling@): ps shows the short image ID
    assert c29("rmi", "-f", "app").out == "Untagged: app:latest\n"
    assert c29("ps", "--format", "{{.Image}}").out.strip() == app[7:19]
    assert c29("ps", "--no-trunc", "--format", "{{.Image}}").out.strip() == app
    r = c29("system", "df", "-v")
    assert app[7:19] in r.out and _config_of(c29.root, app)[7:19] not in r.out


def test_commit_rmi_and_conflicts(c29):
    [app] = _ids(c29, "app")
    assert c29("run", "-d", "--name", "c1", "app", "sh", "-c", "echo x > /x; sleep 100").code == 0
    r = c29("commit", "c1", "snap")
    snap = r.out.strip()
    assert _ids(c29, "snap") == [snap]
    assert _config_of(c29.root, snap) != snap
    assert c29("image", "inspect", "-f", "{{.Parent}}", "snap").out.strip() == app
    r = c29("rmi", "app")
    assert r.code == 1
    assert r.err.strip().endswith(
        "conflict: unable to delete app:latest (must be forced) - container "
        f"{c29('ps', '-q').out.strip()} is using its referenced image {app[7:19]}"
    )
    r = c29("rmi", app[7:19])
    assert f"unable to delete {app[7:19]} (cannot be forced)" in r.err
    r = c29("rmi", "snap")
    assert r.out == f"Untagged: snap:latest\nDeleted: {snap}\n"  # no layer lines
    assert c29("images", "--filter", f"before={app[7:19]}", "--format", "{{.Repository}}").out == (
        "base\n"
    )
    assert c29("images", "--filter", "since=base", "--format", "{{.ID}}").out == f"{app[7:19]}\n"


def test_load_prints_target_digest(c29, tmp_path):
    assert c29("run", "--name", "c1", "app", "true").code == 0
    snap = c29("commit", "c1").out.strip()  # no name: moby-dangling@<digest>
    out = tmp_path / "snap.tar"
    assert c29("save", "-o", str(out), snap).code == 0
    assert c29("rm", "c1").code == 0
    assert c29("rmi", snap).out == f"Deleted: {snap}\n"
    assert c29("load", "-i", str(out)).out == f"Loaded image ID: {snap}\n"
    assert _ids(c29, "-a").count(snap) == 1


def test_image_events_carry_the_target_digest(c29, tmp_path):
    [app] = _ids(c29, "app")
    assert c29("tag", "app", "app:2").code == 0
    assert c29("rmi", "app:2").code == 0
    assert c29("save", "-o", str(tmp_path / "a.tar"), "app").code == 0
    from dockerlayers import DockerClient

    c = DockerClient(root=str(c29.root), mounts="user", clock="virtual")
    try:
        events = [e for e in c.daemon.events.list() if e["Type"] == "image"]
    finally:
        c.close()
    lines = [f"{e['Action']} {e['Actor']['ID']} {e['Actor']['Attributes']['name']}" for e in events]
    assert f"tag {app} app:2" in lines
    assert f"untag {app} app:2" in lines
    assert f"save {app} {app}" in lines
    assert f"create {app} {app}" in lines
    configs = {_config_of(c29.root, i) for i in _ids(c29, "-a")}
    assert not any(cfg in str(events) for cfg in configs)  # (and the mirroring logs nothing)
    assert sum(ln.startswith("save ") for ln in lines) == 1


def test_prune_reports_the_digest_and_the_content_reclaimed():
    """image_prune.go: `Untagged: <digest>` (a dangling record's familiar name), then
    `Deleted: <target digest>`; SpaceReclaimed = the blobs deleted."""
    from dockerlayers import DockerClient

    c = DockerClient(seed=3, clock="virtual", mounts="user", storage="containerd")
    try:
        ct = c.containers.run(c.images.base(), "sh -c 'echo hi > /f'", detach=True)
        ct.wait()
        img = ct.commit()
        ct.remove()
        content = c.daemon.layer_store.containerd.content
        manifest = json.loads(content.read("moby", img.id))
        own = [img.id, manifest["config"]["digest"], manifest["layers"][-1]["digest"]]
        expected = sum(content.info("moby", d).size for d in own)
        report = c.images.prune()
    finally:
        c.close()
    assert report["ImagesDeleted"] == [{"Untagged": img.id}, {"Deleted": img.id}]
    assert report["SpaceReclaimed"] == expected
