"""docker-py's `images.pull` / `images.push` (and the low-level `api.pull`) on the model's
client, against a real registry: the SDK's return values and error shapes."""

from __future__ import annotations

import pytest

from dockerlayers import DockerClient
from dockerlayers.errors import NotFound


@pytest.fixture
def client(tmp_path):
    c = DockerClient(root=str(tmp_path / "root"), seed=5, clock="virtual", mounts="user")
    yield c
    c.close()


@pytest.fixture
def other(tmp_path):
    c = DockerClient(root=str(tmp_path / "other"), seed=6, clock="virtual", mounts="user")
    yield c
    c.close()


def _image_with_a_file(c: DockerClient, ref: str) -> str:
    base = c.images.base()
    ct = c.containers.run(base, ["sh", "-c", f"echo {ref} > /made"], detach=True)
    ct.wait()
    repo, _, tag = ref.rpartition(":")
    return ct.commit(repo, tag).id


def test_push_then_pull_gives_the_same_image(client, other, repo):
    image_id = _image_with_a_file(other, f"{repo}:1")
    lines = other.images.push(repo, "1", stream=True, decode=True)
    assert list(lines)[-1]["aux"]["Tag"] == "1"
    pulled = client.images.pull(repo, tag="1")
    assert pulled.id == image_id
    assert pulled.tags == [f"{repo}:1"]
    assert any(d.startswith(f"{repo}@sha256:") for d in pulled.attrs["RepoDigests"])
    out = client.containers.run(pulled, ["cat", "/made"], remove=True)
    assert out == f"{repo}:1\n".encode()


def test_pull_all_tags_lists_the_repository(client, other, repo):
    for t in ("a", "b"):
        _image_with_a_file(other, f"{repo}:{t}")
        other.images.push(repo, t)
    images = client.images.pull(repo, all_tags=True)
    assert sorted(t for i in images for t in i.tags) == [f"{repo}:a", f"{repo}:b"]


def test_pull_of_a_missing_tag_raises(client, repo):
    with pytest.raises(NotFound, match="manifest unknown"):
        client.images.pull(repo, tag="nope")


def test_low_level_pull_streams_dicts_with_the_error_inside(client, repo):
    msgs = list(client.api.pull(repo, tag="nope", stream=True, decode=True))
    assert msgs[-1]["error"].startswith(f"manifest for {repo}:nope not found")


def test_base_still_pulls_without_a_registry(client):
    assert client.images.pull("base").tags == ["base:latest"]


def test_cli_run_pulls_a_missing_image_from_its_registry(other, repo, tmp_path):
    """`docker run REPO:1` without the image: 'Unable to find image', the pull's progress
    on stderr, then the container runs (moby (cli): container/create.go pullImage)."""
    import io

    from dockerlayers.cli import main

    _image_with_a_file(other, f"{repo}:1")
    other.images.push(repo, "1")
    out, err = io.StringIO(), io.StringIO()
    argv = ["--root", str(tmp_path / "cli-root"), "run", "--rm", f"{repo}:1", "cat", "/made"]
    code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(""))
    assert (code, out.getvalue()) == (0, f"{repo}:1\n")
    lines = err.getvalue().splitlines()
    assert lines[0] == f"Unable to find image '{repo}:1' locally"
    assert lines[1] == f"1: Pulling from {repo.split('/', 1)[1]}"
    assert lines[-1] == f"Status: Downloaded newer image for {repo}:1"


def test_push_takes_the_tag_from_the_repository(client, other, repo):
    """docker-py's api.push: `push("repo:tag")` pushes that tag (parse_repository_tag)."""
    image_id = _image_with_a_file(other, f"{repo}:t")
    out = other.api.push(f"{repo}:t", stream=True, decode=True)
    assert list(out)[-1]["aux"]["Tag"] == "t"
    assert client.images.pull(repo, tag="t").id == image_id
