"""`pull` against a real registry holding images skopeo pushed from archives the model
saved: same image IDs and RepoDigests as the source (and as the real engine's pull),
Docker's progress lines and texts, and nothing left behind by a refused blob."""

from __future__ import annotations

import io
import json
import os
import subprocess

import pytest

from dockerlayers.cli import main
from dockerlayers.distribution import service as dist
from dockerlayers.distribution.pull import ManifestNotFound, VerificationError
from dockerlayers.image.daemon_images import save
from tests.support import registry as sr
from tests.support.images import build_image, host_view, layer_tar, warm


def _source_image(svc, tag: str, shared: bytes | None = None) -> str:
    """A two-layer image with content of its own (random bytes), optionally on a
    first layer `shared` with another image."""
    first = shared if shared is not None else layer_tar({"base": os.urandom(64)})
    return build_image(svc, [first, layer_tar({"top": os.urandom(64)})], tag=tag)


def _to_registry(svc, tmp_path, local: str, dest: str) -> None:
    archive = tmp_path / f"{abs(hash(dest))}.tar"
    archive.write_bytes(save(svc, [local]))
    sr.skopeo_push(archive, dest)


def _messages(svc, ref, **kw):
    out: list[dict] = []
    ids = dist.pull(svc, ref, progress=out.append, **kw)
    return ids, out


def test_pull_gives_the_source_image_id_and_repo_digest(service, other, repo, skopeo, tmp_path):
    src = _source_image(other, "src:1")
    _to_registry(other, tmp_path, "src:1", f"{repo}:1")
    ids, msgs = _messages(service, f"{repo}:1")
    assert ids == [src]
    digest = sr.skopeo_inspect_digest(f"{repo}:1")
    refs = {str(r) for r in service.references(src)}
    assert refs == {f"{repo}:1", f"{repo}@{digest}"}
    statuses = [(m.get("id", ""), m["status"]) for m in msgs if m.get("status") != "Downloading"]
    assert statuses[0] == ("1", f"Pulling from {repo.split('/', 1)[1]}")
    assert statuses[-2:] == [
        ("", f"Digest: {digest}"),
        ("", f"Status: Downloaded newer image for {repo}:1"),
    ]
    layer_ids = [i for i, s in statuses if s == "Pulling fs layer"]
    assert len(layer_ids) == 2
    for lid in layer_ids:
        seq = [s for i, s in statuses if i == lid and s != "Extracting"]
        assert seq == [
            "Pulling fs layer",
            "Verifying Checksum",
            "Download complete",
            "Pull complete",
        ]


def test_second_pull_is_up_to_date_and_shared_layer_already_exists(
    service, other, repo, skopeo, tmp_path
):
    shared = layer_tar({"base": os.urandom(64)})
    _source_image(other, "a:1", shared)
    _source_image(other, "b:1", shared)
    _to_registry(other, tmp_path, "a:1", f"{repo}/a:1")
    _to_registry(other, tmp_path, "b:1", f"{repo}/b:1")
    dist.pull(service, f"{repo}/a:1")
    _, again = _messages(service, f"{repo}/a:1")
    assert [m["status"] for m in again][-1] == f"Status: Image is up to date for {repo}/a:1"
    assert not [m for m in again if "progressDetail" in m]
    _, msgs = _messages(service, f"{repo}/b:1")
    exists = [m["id"] for m in msgs if m["status"] == "Already exists"]
    fresh = [m["id"] for m in msgs if m["status"] == "Pulling fs layer"]
    assert len(exists) == 1 and len(fresh) == 1


def test_missing_manifest_is_docker_s_error(service, repo, capsys):
    with pytest.raises(ManifestNotFound) as e:
        dist.pull(service, f"{repo}:nope")
    assert str(e.value) == (
        f"manifest for {repo}:nope not found: manifest unknown: manifest unknown"
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(["--root", service.root, "pull", f"{repo}"], out, err)
    assert code == 1
    assert out.getvalue() == "Using default tag: latest\n"
    assert err.getvalue() == (
        f"Error response from daemon: manifest for {repo}:latest not found: "
        "manifest unknown: manifest unknown\n"
    )


def test_corrupt_blob_is_refused_and_the_store_is_unchanged(
    registry, service, other, repo, skopeo, tmp_path
):
    _source_image(other, "c:1")
    _to_registry(other, tmp_path, "c:1", f"{repo}:1")
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{repo}:1"],
        check=True,
        capture_output=True,
    ).stdout
    top = json.loads(raw)["layers"][-1]["digest"]
    blob = registry.blob_path(top)
    data = bytearray(blob.read_bytes())
    data[-9] ^= 0xFF  # inside the gzip trailer: same size, other digest
    blob.write_bytes(bytes(data))
    before = host_view(service.root)
    with pytest.raises(VerificationError) as e:
        dist.pull(service, f"{repo}:1")
    assert str(e.value) == f"filesystem layer verification failed for digest {top}"
    assert host_view(service.root) == before


def test_cli_pull_prints_one_line_per_event(service, other, repo, skopeo, tmp_path):
    _source_image(other, "d:1")
    _to_registry(other, tmp_path, "d:1", f"{repo}:1")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--root", service.root, "pull", f"{repo}:1"], out, err) == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"1: Pulling from {repo.split('/', 1)[1]}"
    assert lines[-1] == f"{repo}:1"
    assert lines[-2] == f"Status: Downloaded newer image for {repo}:1"
    assert not [x for x in lines if "Downloading" in x or "[" in x]  # no bars off a terminal


def test_engine_pull_gives_the_same_id_and_repo_digests(
    service, other, repo, skopeo, tmp_path, engine
):
    src = _source_image(other, "e:1")
    _to_registry(other, tmp_path, "e:1", f"{repo}:1")
    dist.pull(service, f"{repo}:1")
    sr.engine(engine, "pull", f"{repo}:1")
    try:
        got = sr.engine(engine, "image", "inspect", f"{repo}:1", "--format", "{{json .}}")
        real = json.loads(got.stdout)
    finally:
        sr.engine(engine, "rmi", f"{repo}:1", check=False)
    assert real["Id"] == src
    mine = sorted(str(r) for r in service.references(src) if r.digest)
    assert sorted(real["RepoDigests"]) == mine


def _put_manifest(host_repo: str, target: str, raw: bytes, media_type: str) -> None:
    import requests

    host, path = host_repo.split("/", 1)
    r = requests.put(
        f"http://{host}/v2/{path}/manifests/{target}",
        data=raw,
        headers={"Content-Type": media_type},
        timeout=30,
    )
    assert r.status_code == 201, r.text


def test_manifest_list_picks_the_platform(service, other, repo):
    amd = build_image(other, [layer_tar({"amd": os.urandom(16)})], tag=f"{repo}:amd")
    arm = build_image(other, [layer_tar({"arm": os.urandom(16)})], tag=f"{repo}:arm")
    entries = []
    for tag, arch in (("amd", "amd64"), ("arm", "arm64")):
        digest = dist.push(other, f"{repo}:{tag}")
        size = len(json.dumps(json.loads(_raw(f"{repo}:{tag}")), indent=3))
        entries.append(
            {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "size": size,
                "digest": digest,
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    mlist = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": entries,
    }
    raw = json.dumps(mlist, indent=3).encode()
    _put_manifest(repo, "multi", raw, mlist["mediaType"])
    list_digest = "sha256:" + __import__("hashlib").sha256(raw).hexdigest()
    assert dist.pull(service, f"{repo}:multi", platform="linux/arm64") == [arm]
    assert f"{repo}@{list_digest}" in {str(r) for r in service.references(arm)}
    assert dist.pull(service, f"{repo}:multi", platform="linux/amd64") == [amd]
    with pytest.raises(Exception) as e:
        dist.pull(service, f"{repo}:multi", platform="linux/s390x")
    assert str(e.value) == "no matching manifest for linux/s390x in the manifest list entries"


def _raw(ref: str) -> bytes:
    return subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        check=True,
        capture_output=True,
    ).stdout


def test_all_tags(service, other, repo):
    ids = {build_image(other, [layer_tar({t: os.urandom(16)})], tag=f"{repo}:{t}") for t in "ab"}
    for t in "ab":
        dist.push(other, f"{repo}:{t}")
    out: list[dict] = []
    assert set(dist.pull(service, repo, all_tags=True, progress=out.append)) == ids
    assert out[-1]["status"] == f"Status: Downloaded newer image for {repo}"
    assert sorted(m["id"] for m in out if m["status"].startswith("Pulling from")) == ["a", "b"]


def test_sdk_stream_shapes(service, other, repo):
    build_image(other, [layer_tar({"s": os.urandom(16)})], tag=f"{repo}:1")
    pushed = list(dist.sdk_push(other, repo, "1", stream=True, decode=True))
    assert pushed[0] == {"status": f"The push refers to repository [{repo}]"}
    assert pushed[-1]["aux"]["Tag"] == "1"
    msgs = list(dist.stream(dist.sdk_pull, service, repo, "1"))
    first = next(m for m in msgs if m.get("status") == "Pulling fs layer")
    assert first == {"status": "Pulling fs layer", "progressDetail": {}, "id": first["id"]}
    err = list(dist.stream(dist.sdk_pull, service, repo, "nope"))
    text = f"manifest for {repo}:nope not found: manifest unknown: manifest unknown"
    assert err == [{"errorDetail": {"message": text}, "error": text}]


def test_docker_io_pulls_go_to_the_mirror(registry, service, other):
    import uuid

    from dockerlayers.distribution.registry import RegistryConfig

    name = f"m{uuid.uuid4().hex[:8]}"
    id = build_image(
        other, [layer_tar({"m": os.urandom(16)})], tag=f"{registry.host}/library/{name}:1"
    )
    dist.push(other, f"{registry.host}/library/{name}:1")
    cfg = RegistryConfig(mirrors=[f"http://{registry.host}"])
    out: list[dict] = []
    assert dist.pull(service, f"{name}:1", config=cfg, progress=out.append) == [id]
    assert out[0] == {"status": f"Pulling from library/{name}", "id": "1"}
    assert out[-1]["status"] == f"Status: Downloaded newer image for {name}:1"
    assert {str(r) for r in service.references(id)} >= {f"docker.io/library/{name}:1"}


def test_interrupted_pull_leaves_nothing_registered(service, other, repo):
    build_image(
        other,
        [layer_tar({"i": os.urandom(32)}), layer_tar({"j": os.urandom(32)})],
        tag=f"{repo}:1",
    )
    dist.push(other, f"{repo}:1")
    warm(service)  # the store's own folders exist, as after any first layer
    before = host_view(service.root)
    layers_before = dict(service.layer_store.map())

    class Stop(Exception):
        pass

    def interrupt(m):
        if m.get("status") == "Pull complete":  # the first layer is in the store by now
            raise Stop

    with pytest.raises(Stop):
        dist.pull(service, f"{repo}:1", progress=interrupt)
    assert host_view(service.root) == before
    assert service.layer_store.map() == layers_before
    assert len(dist.pull(service, f"{repo}:1")) == 1


def test_cli_all_tags(service, other, repo):
    build_image(other, [layer_tar({"t": os.urandom(16)})], tag=f"{repo}:1")
    dist.push(other, f"{repo}:1")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--root", service.root, "pull", "-a", f"{repo}:1"], out, err) == 1
    assert err.getvalue() == "tag can't be used with --all-tags/-a\n"
    assert main(["--root", service.root, "pull", "-a", repo], out, err) == 0
    lines = out.getvalue().splitlines()
    assert lines[-2:] == [f"Status: Downloaded newer image for {repo}", repo]


def _blob_of_top_layer(registry, ref: str):
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        check=True,
        capture_output=True,
    ).stdout
    top = json.loads(raw)["layers"][-1]["digest"]
    return top, registry.blob_path(top)


@pytest.mark.parametrize("where", ["gzip header", "deflate data"])
def test_a_blob_that_does_not_match_leaves_nothing_however_far_it_got(
    registry, service, other, repo, skopeo, tmp_path, where
):
    """The layer is extracted while it downloads, so a blob that does not match its digest
    may be wholly applied (its gzip header's mtime changed: it still inflates) or fail to
    inflate half-way: either way Docker's verification error, and the store unchanged."""
    big = layer_tar({"big": os.urandom(3 << 20)})
    build_image(other, [big, layer_tar({"top": os.urandom(1 << 20)})], tag=f"{repo}:1")
    dist.push(other, f"{repo}:1")
    top, blob = _blob_of_top_layer(registry, f"{repo}:1")
    data = bytearray(blob.read_bytes())
    data[5 if where == "gzip header" else len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    warm(service)
    before, layers = host_view(service.root), dict(service.layer_store.map())
    msgs: list[dict] = []
    with pytest.raises(VerificationError) as e:
        dist.pull(service, f"{repo}:1", progress=msgs.append)
    assert str(e.value) == f"filesystem layer verification failed for digest {top}"
    assert host_view(service.root) == before
    assert service.layer_store.map() == layers
    assert ("Pull complete", top[7:19]) not in {(m["status"], m.get("id")) for m in msgs}


def test_progress_comes_in_docker_s_order_per_layer(service, other, repo):
    """Pulling fs layer, Waiting (beyond three downloads), Downloading..., Verifying
    Checksum, Download complete, Extracting, Pull complete: for every layer, although each
    one is extracted while it still downloads."""
    tars = [layer_tar({f"l{i}": os.urandom(600_000)}) for i in range(5)]
    image = build_image(other, tars, tag=f"{repo}:1")
    dist.push(other, f"{repo}:1")
    ids, msgs = _messages(service, f"{repo}:1")
    assert ids == [image]
    layer_ids = [m["id"] for m in msgs if m["status"] == "Pulling fs layer"]
    assert len(layer_ids) == 5
    for n, lid in enumerate(layer_ids):
        seq = [m["status"] for m in msgs if m.get("id") == lid]
        seq = [s for k, s in enumerate(seq) if s != "Downloading" or seq[k - 1] != s]
        head = ["Pulling fs layer", "Waiting"] if n >= 3 else ["Pulling fs layer"]
        assert seq == [
            *head,
            "Downloading",
            "Verifying Checksum",
            "Download complete",
            "Extracting",
            "Pull complete",
        ]
    done = [m["id"] for m in msgs if m["status"] == "Pull complete"]
    assert done == layer_ids  # registered bottom up


@pytest.mark.parametrize("driver", ["vfs", "aufs", "overlay2"])
def test_every_driver_pulls_the_same_layers(other, repo, tmp_path, driver):
    """vfs extracts one layer after the other (its folders copy their parents' files),
    overlay2 and aufs side by side: the same image, layers and files either way."""
    from tests.support.images import make_service

    tars = [
        layer_tar({"etc/a": b"1", "etc/b": b"2"}),
        layer_tar({"etc/.wh.a": b"", "bin/x": os.urandom(200_000)}),
        layer_tar({"etc/b": b"3"}),
    ]
    image = build_image(other, tars, tag=f"{repo}:1")
    dist.push(other, f"{repo}:1")
    svc = make_service(str(tmp_path / driver), driver)
    assert dist.pull(svc, f"{repo}:1") == [image]
    ls = svc.layer_store
    top = ls.get(svc.image_store.get(image).rootfs.chain_id())
    try:
        want = list(other.image_store.get(image).rootfs.diff_ids)
        assert [x.diff_id for x in _chain(top)] == want
        mounted = ls.create_rw_layer("c", top.chain_id)
        try:
            fs = mounted.mount()
            assert sorted(fs.listdir("/etc")) == ["b"]
            assert fs.read_bytes("/etc/b") == b"3"
        finally:
            mounted.unmount()
            ls.release_rw_layer(mounted)
    finally:
        ls.release(top)


def _chain(layer):
    out = []
    while layer is not None:
        out.append(layer)
        layer = layer.parent
    return out[::-1]


def test_a_layer_made_meanwhile_by_another_pull_is_shared(service, other, repo, monkeypatch):
    """Layers prepared side by side on a parent that another pull recorded first: the
    parent is shared (one layer, two references) and the ones above are made again."""
    from dockerlayers.layer.store import LayerStore

    tars = [layer_tar({f"l{i}": os.urandom(1000)}) for i in range(3)]
    image = build_image(other, tars, tag=f"{repo}:1")
    dist.push(other, f"{repo}:1")
    real = LayerStore.commit_prepared
    made: list = []

    def first_made_elsewhere(self, prepared):
        if not made:  # another pull registers the bottom layer just before this commit
            made.append(self.register(tars[0]))
        return real(self, prepared)

    again: list = []
    real_stream = LayerStore.register_stream

    def one_by_one(self, *a, **kw):
        again.append(a[1])
        return real_stream(self, *a, **kw)

    monkeypatch.setattr(LayerStore, "commit_prepared", first_made_elsewhere)
    monkeypatch.setattr(LayerStore, "register_stream", one_by_one)
    assert dist.pull(service, f"{repo}:1") == [image]
    assert len(again) == 2 and again[0] == made[0].chain_id
    ls = service.layer_store
    assert len(ls.map()) == 3
    ls.release(made[0])
    assert len(ls.map()) == 3  # still held by the image
