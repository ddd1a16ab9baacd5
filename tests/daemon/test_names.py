"""IDs, names and lookups (moby.md §5.3, §5.13; moby's TestValidContainerNames)."""

from __future__ import annotations

import pytest

from dockerlayers import DockerClient
from dockerlayers.daemon.names import validate_name
from dockerlayers.errors import APIError, Conflict, InvalidParameter, NotFound
from tests.daemon.daemontest import SLEEPER


@pytest.mark.parametrize("name", ["word-word", "word_word", "1weoid", "/ab", "a.b"])
def test_valid_names(name):
    assert validate_name(name) == "/" + name.lstrip("/")


@pytest.mark.parametrize("name", ["-rm", "&sdfsfd", "safd%sd", "a", "_x", "a b"])
def test_invalid_names(client, base, name):
    with pytest.raises(InvalidParameter) as info:
        client.containers.create(base, SLEEPER, name=name)
    assert (
        str(info.value)
        == f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
    )
    assert client.containers.list(all=True) == []


def test_name_conflict(client, base):
    c = client.containers.create(base, SLEEPER, name="web")
    with pytest.raises(Conflict) as info:
        client.containers.create(base, SLEEPER, name="/web")
    assert str(info.value) == (
        f'Conflict. The container name "/web" is already in use by container "{c.id}". '
        "You have to remove (or rename) that container to be able to reuse that name."
    )
    assert len(client.containers.list(all=True)) == 1
    c.remove()
    client.containers.create(base, SLEEPER, name="web")


def test_generated_names_and_ids_are_reproducible(make_client):
    def names(cl):
        base = cl.images.base()
        return [(c.id, c.name) for c in (cl.containers.create(base, SLEEPER) for _ in range(3))]

    a = names(make_client("a", seed=5))
    b = names(make_client("b", seed=5))
    assert a == b
    for cid, name in a:
        assert len(cid) == 64
        left, _, right = name.partition("_")
        assert left and right and name != "boring_wozniak"


def test_lookup_by_id_name_and_prefix(client, base):
    c = client.containers.create(base, SLEEPER, name="web")
    d = client.daemon
    assert d.get_container(c.id).id == c.id
    assert d.get_container("web").id == c.id
    assert d.get_container("/web").id == c.id
    assert d.get_container(c.id[:5]).id == c.id
    with pytest.raises(NotFound, match="^No such container: nope$"):
        d.get_container("nope")
    with pytest.raises(InvalidParameter, match='^invalid name or ID supplied: ""$'):
        d.get_container("")


def test_ambiguous_prefix(client, base):
    ids = [client.containers.create(base, SLEEPER).id for _ in range(40)]
    firsts = [i[0] for i in ids]
    ch = next(ch for ch in firsts if firsts.count(ch) > 1)
    with pytest.raises(NotFound, match=f"^multiple IDs found with provided prefix: {ch}$"):
        client.daemon.get_container(ch)


def test_rename(client, base):
    a = client.containers.create(base, SLEEPER, name="alpha")
    b = client.containers.create(base, SLEEPER, name="beta")
    d = client.daemon
    with pytest.raises(InvalidParameter, match="^Neither old nor new names may be empty$"):
        d.rename("alpha", "")
    with pytest.raises(
        InvalidParameter, match="^Renaming a container with the same name as its current name$"
    ):
        d.rename("alpha", "alpha")
    with pytest.raises(Conflict) as info:
        d.rename("alpha", "beta")
    assert str(info.value) == (
        'Error when allocating new name: Conflict. The container name "/beta" is already in use by '
        f'container "{b.id}". You have to remove (or rename) that container to be able to '
        "reuse that name."
    )
    with pytest.raises(
        InvalidParameter, match=r"^Error when allocating new name: Invalid container name \(/b\$\)"
    ):
        d.rename("alpha", "b$")
    a.rename("gamma")
    a.reload()
    assert a.name == "gamma"
    assert client.containers.get("gamma").id == a.id
    with pytest.raises(NotFound):
        client.containers.get("alpha")
    client.containers.create(base, SLEEPER, name="alpha")  # the old name is free again


def test_rename_persists(make_client):
    cl = make_client()
    c = cl.containers.create(cl.images.base(), SLEEPER, name="old")
    c.rename("new")
    cl.close()
    assert make_client().containers.get("new").id == c.id


def test_errors_carry_docker_sdk_shapes(client):
    with pytest.raises(NotFound) as info:
        client.containers.get("missing")
    e = info.value
    assert isinstance(e, APIError)
    assert e.status_code == 404 and e.is_client_error() and not e.is_server_error()
    assert e.explanation == str(e) == "No such container: missing"


def test_base_image_is_the_same_everywhere(tmp_path):
    ids = []
    for name in ("x", "y"):
        with DockerClient(root=str(tmp_path / name), clock="virtual", mounts="user") as cl:
            img = cl.images.base()
            ids.append(img.id)
            assert img.tags == ["base:latest"]
            c = cl.containers.run(
                img,
                ["sh", "-c", "cat /etc/os-release /etc/passwd /etc/group; ls -d /tmp /var/log"],
                detach=True,
            )
            out = c.logs()
            assert b"root:x:0:0:root:/root:/bin/sh" in out and b"root:x:0:" in out
            assert b"/tmp\n/var/log\n" in out
            assert c.attrs["State"]["ExitCode"] == 0
            assert cl.images.base().id == img.id  # imported once
    assert ids[0] == ids[1]
