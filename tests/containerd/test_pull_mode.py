"""`docker pull` on the containerd store, against a real registry (docker-registry)."""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest

from dockerlayers import DockerClient
from tests.distribution.conftest import registry, repo  # noqa: F401  (fixtures)

NS = "moby"


@pytest.fixture
def pusher(tmp_path):
    c = DockerClient(root=str(tmp_path / "other"), seed=6, clock="virtual", mounts="user")
    yield c
    c.close()


@pytest.fixture
def client(tmp_path):
    c = DockerClient(
        root=str(tmp_path / "root"), seed=5, clock="virtual", mounts="user", storage="containerd"
    )
    yield c
    c.close()


def test_pull_keeps_the_registry_manifest_and_blobs(client, pusher, repo):  # noqa: F811
    base = pusher.images.base()
    ct = pusher.containers.run(base, ["sh", "-c", "echo x > /made"], detach=True)
    ct.wait()
    ct.commit(repo, "1")
    list(pusher.images.push(repo, "1", stream=True, decode=True))
    host, _, path = repo.partition("/")
    req = urllib.request.Request(
        f"http://{host}/v2/{path}/manifests/1",
        headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json,"
            "application/vnd.oci.image.manifest.v1+json"
        },
    )
    with urllib.request.urlopen(req) as r:
        raw = r.read()
    registry_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    pulled = client.images.pull(repo, tag="1")
    assert pulled.id == registry_digest  # Docker 29: the image ID is the pulled manifest's digest
    imgs = client.daemon.layer_store.images
    rec = imgs.get(f"{repo}:1")
    assert rec.digest == registry_digest
    manifest = json.loads(raw)
    for layer in manifest["layers"]:  # stored exactly as pulled (compressed)
        assert imgs.ctrd.local.exists(layer["digest"])
        assert imgs.ctrd.local.size(layer["digest"]) == layer["size"]
    labels = imgs.ctrd.content.info(NS, registry_digest).labels
    assert labels["containerd.io/gc.ref.content.config"] == manifest["config"]["digest"]
    assert imgs.is_unpacked(rec)
    assert [r.name for r in imgs.list()] == [f"{repo}:1"]  # no re-exported copy beside it


def test_push_sends_the_stored_content_and_pull_gets_the_same_id(client, repo, tmp_path):  # noqa: F811
    base = client.images.base()
    ct = client.containers.run(base, ["sh", "-c", "echo pushed > /p"], detach=True)
    ct.wait()
    img = ct.commit(repo, "7")
    out = list(client.images.push(repo, "7", stream=True, decode=True))
    aux = [e["aux"] for e in out if "aux" in e]
    # moby 29: the target is pushed as stored, so its digest is the image ID
    assert aux and aux[0]["Digest"] == img.id
    other = DockerClient(
        root=str(tmp_path / "third"), seed=9, clock="virtual", mounts="user", storage="containerd"
    )
    try:
        pulled = other.images.pull(repo, tag="7")
        assert pulled.id == img.id
        got = other.containers.run(pulled, "cat /p", remove=True)
        assert got == b"pushed\n"
        ls = other.daemon.layer_store
        assert [r.name for r in ls.images.list()] == [f"{repo}:7"]
        assert not [lease.id for lease in ls.containerd.leases.list(NS)]
    finally:
        other.close()


def test_pull_by_digest_names_a_record(client, pusher, repo):  # noqa: F811
    base = pusher.images.base()
    ct = pusher.containers.run(base, ["sh", "-c", "echo d > /d"], detach=True)
    ct.wait()
    ct.commit(repo, "3")
    out = list(pusher.images.push(repo, "3", stream=True, decode=True))
    digest = next(e["aux"]["Digest"] for e in out if "aux" in e)
    client.images.pull(repo, tag="3")
    pulled = client.images.pull(f"{repo}@{digest}")
    assert pulled.id == digest
    names = sorted(r.name for r in client.daemon.layer_store.images.list())
    assert names == sorted([f"{repo}:3", f"{repo}@{digest}"])  # moby 29: the pulled reference
