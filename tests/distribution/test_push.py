"""`push` to a real registry: what the model pushes is read back by skopeo and by the
real engine's pull; layers the registry has are skipped (`Layer already exists`), layers
pulled from another repository are mounted (`Mounted from`), as Docker prints them."""

from __future__ import annotations

import io
import json
import os

import pytest

from dockerlayers.cli import main
from dockerlayers.distribution import service as dist
from dockerlayers.distribution.push import ImageDoesNotExist
from tests.support import registry as sr
from tests.support.images import build_image, layer_tar


def _image(svc, tag: str) -> str:
    layers = [layer_tar({"a": os.urandom(64)}), layer_tar({"b": os.urandom(64)})]
    return build_image(svc, layers, tag=tag)


def _push(svc, ref):
    out: list[dict] = []
    digest = dist.push(svc, ref, progress=out.append)
    return digest, [(m.get("id", ""), m.get("status", "")) for m in out if "status" in m]


def test_pushed_image_is_read_by_skopeo(service, repo, skopeo):
    id = _image(service, f"{repo}:1")
    digest, msgs = _push(service, f"{repo}:1")
    assert sr.skopeo_inspect_digest(f"{repo}:1") == digest
    assert msgs[0] == ("", f"The push refers to repository [{repo}]")
    diffs = service.image_store.get(id).rootfs.diff_ids
    short = [d.split(":")[1][:12] for d in diffs]
    assert [i for i, s in msgs if s == "Preparing"] == short[::-1]
    assert sorted(i for i, s in msgs if s == "Pushed") == sorted(short)
    size = len(json.dumps(json.loads(_manifest(f"{repo}:1")), indent=3))
    assert msgs[-1] == ("", f"1: digest: {digest} size: {size}")
    assert f"{repo}@{digest}" in {str(r) for r in service.references(id)}


def _manifest(ref: str) -> bytes:
    import subprocess

    return subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"],
        check=True,
        capture_output=True,
    ).stdout


def test_repush_skips_and_other_repo_mounts(service, other, repo, skopeo):
    _image(other, f"{repo}/src:1")
    dist.push(other, f"{repo}/src:1")
    id = dist.pull(service, f"{repo}/src:1")[0]
    service.tag(id, f"{repo}/dst:1")
    _, msgs = _push(service, f"{repo}/dst:1")
    src_path = f"{repo}/src".split("/", 1)[1]
    assert [s for _, s in msgs if s.startswith("Mounted")] == [f"Mounted from {src_path}"] * 2
    _, again = _push(service, f"{repo}/dst:1")
    assert [s for _, s in again if s == "Layer already exists"] == ["Layer already exists"] * 2
    assert not [s for _, s in again if s == "Pushed"]


def test_push_of_missing_image(service, repo):
    with pytest.raises(ImageDoesNotExist) as e:
        dist.push(service, f"{repo}:9")
    assert str(e.value) == f"An image does not exist locally with the tag: {repo}"
    out, err = io.StringIO(), io.StringIO()
    assert main(["--root", service.root, "push", repo], out, err) == 1
    assert out.getvalue() == (
        f"Using default tag: latest\nThe push refers to repository [{repo}]\n"
    )
    assert err.getvalue() == f"An image does not exist locally with the tag: {repo}\n"


def test_cli_push_output(service, repo):
    _image(service, f"{repo}:2")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--root", service.root, "push", f"{repo}:2"], out, err) == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"The push refers to repository [{repo}]"
    assert [x.split(": ", 1)[1] for x in lines[1:5]] == ["Preparing"] * 2 + ["Pushed"] * 2
    assert lines[-1].startswith("2: digest: sha256:")


def test_engine_pulls_what_the_model_pushed(service, repo, engine):
    id = _image(service, f"{repo}:1")
    digest = dist.push(service, f"{repo}:1")
    got = sr.engine(engine, "pull", f"{repo}:1")
    try:
        real = json.loads(
            sr.engine(engine, "image", "inspect", f"{repo}:1", "--format", "{{json .}}").stdout
        )
    finally:
        sr.engine(engine, "rmi", f"{repo}:1", check=False)
    assert f"Digest: {digest}" in got.stdout
    assert real["Id"] == id
    assert real["RepoDigests"] == [f"{repo}@{digest}"]
