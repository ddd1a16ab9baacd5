"""docker-py's documented idioms (docker/models/*.py docstrings, the SDK's README), one
test each, asserting docker-py's return types and shapes on dockerlayers."""

from __future__ import annotations

import datetime
import io
import tarfile
import types

import pytest

import dockerlayers
from dockerlayers import errors


@pytest.fixture
def client():
    c = dockerlayers.DockerClient(seed=7, clock="virtual", mounts="user")
    c.images.base().tag("alpine")
    yield c
    c.close()


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_run_returns_output_bytes(client):
    assert client.containers.run("alpine", "echo hello world") == b"hello world\n"


def test_run_detach_returns_container_snapshot(client):
    c = client.containers.run("alpine", "sleep 300", detach=True)
    assert isinstance(c, dockerlayers.Container)
    assert c.status == "created"  # the snapshot create returned
    c.reload()
    assert c.status == "running"


def test_run_stream_yields_lines(client):
    out = client.containers.run("alpine", 'sh -c "echo hello && echo world"', stream=True)
    assert isinstance(out, types.GeneratorType)
    assert list(out) == [b"hello\n", b"world\n"]


def test_run_error_carries_stderr(client):
    with pytest.raises(errors.ContainerError) as info:
        client.containers.run("alpine", "cat /test", remove=True)
    assert info.value.exit_status == 1
    assert b"No such file or directory" in info.value.stderr


def test_run_auto_remove_error_has_no_stderr(client):
    with pytest.raises(errors.ContainerError) as info:
        client.containers.run("alpine", 'sh -c ">&2 echo error; sleep 2; exit 1"', auto_remove=True)
    assert info.value.stderr is None


def test_run_with_log_driver_none_returns_none(client):
    assert client.containers.run("alpine", "echo hi", log_config={"type": "none"}) is None


def test_run_unknown_kwarg_is_docker_py_type_error(client):
    with pytest.raises(TypeError, match=r"run\(\) got an unexpected keyword argument 'bogus'"):
        client.containers.run("alpine", "true", bogus=1)


def test_run_refuses_wrong_types_as_docker_py(client):
    with pytest.raises(TypeError, match="Invalid type for cpu_shares param"):
        client.containers.create("alpine", "true", cpu_shares="2")
    with pytest.raises(TypeError, match="Invalid type for restart_policy param"):
        client.containers.create("alpine", "true", restart_policy="always")


def test_host_config_records_unmodelled_options(client):
    c = client.containers.create(
        "alpine", "true", cpu_shares=2, volume_driver="foo", mem_limit="128m", cap_add=["NET_ADMIN"]
    )
    hc = c.attrs["HostConfig"]
    assert (hc["CpuShares"], hc["VolumeDriver"], hc["Memory"], hc["CapAdd"]) == (
        2,
        "foo",
        128 * 1024 * 1024,
        ["NET_ADMIN"],
    )


def test_logs_stream_and_since_datetime(client):
    c = client.containers.run("alpine", 'sh -c "echo a; echo b"', detach=True)
    c.wait()
    assert list(c.logs(stream=True)) == [b"a\n", b"b\n"]
    assert c.logs(since=datetime.datetime(2000, 1, 1)) == b"a\nb\n"
    with pytest.raises(errors.InvalidArgument):
        c.logs(since="yesterday")


def test_exec_run_shapes(client):
    c = client.containers.run("alpine", "sleep 300", detach=True)
    r = c.exec_run("sh -c 'echo o; echo e >&2'")
    assert r.exit_code == 0 and r.output == b"o\ne\n"
    assert c.exec_run("sh -c 'echo o'", demux=True).output == (b"o\n", None)
    s = c.exec_run("sh -c 'echo o; echo e >&2'", stream=True, demux=True)
    assert s.exit_code is None and list(s.output) == [(b"o\n", None), (None, b"e\n")]


def test_image_save_yields_chunks_that_load_back(client):
    image = client.images.get("alpine")
    chunks = image.save(chunk_size=4096)
    assert isinstance(chunks, types.GeneratorType)
    data = b""
    for chunk in chunks:
        assert 0 < len(chunk) <= 4096
        data += chunk
    assert [i.id for i in client.images.load(data)] == [image.id]


def test_image_save_named_must_be_a_tag(client):
    with pytest.raises(errors.InvalidArgument):
        client.images.get("alpine").save(named="sakuya/izayoi")


def test_load_garbage_is_image_load_error(client):
    with pytest.raises(errors.ImageLoadError):
        client.images.load("abc")


def test_export_yields_a_tar(client):
    c = client.containers.run("alpine", "touch /new", detach=True)
    c.wait()
    data = b"".join(c.export(chunk_size=1024))
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()  # noqa: SIM115
    assert "new" in names and "bin/sh" in names


def test_get_archive_and_put_archive(client):
    c = client.containers.run("alpine", "sleep 300", detach=True)
    assert c.put_archive("/tmp", _tar("hello.txt", b"hi\n")) is True
    bits, stat = c.get_archive("/tmp/hello.txt")
    assert stat["name"] == "hello.txt" and stat["size"] == 3 and stat["linkTarget"] == ""
    t = tarfile.open(fileobj=io.BytesIO(b"".join(bits)))  # noqa: SIM115
    assert t.extractfile("hello.txt").read() == b"hi\n"
    with pytest.raises(errors.NotFound, match="Could not find the file /nope in container"):
        c.get_archive("/nope")


def test_build_returns_image_and_message_dicts(client):
    image, logs = client.images.build(fileobj=io.BytesIO(b"FROM alpine\nCMD echo hello world"))
    logs = list(logs)
    assert all(isinstance(m, dict) for m in logs)
    assert {"aux": {"ID": image.id}} in logs
    assert any(m.get("stream", "").startswith("Successfully built") for m in logs)
    assert client.containers.run(image) == b"hello world\n"


def test_build_error_has_message_log(client):
    with pytest.raises(errors.BuildError) as info:
        client.images.build(fileobj=io.BytesIO(b"FROM alpine\nRUN exit 1"))
    assert "The command '/bin/sh -c exit 1' returned a non-zero code: 1" in str(info.value)
    log = list(info.value.build_log)
    assert log[-1]["error"] == info.value.msg and log[-1]["errorDetail"]["code"] == 1


def test_pull_base_and_no_network(client):
    assert "base:latest" in client.images.pull("base").tags
    with pytest.raises(errors.APIError) as info:
        client.images.pull("busybox")
    assert "registry-1.docker.io" in info.value.explanation
    assert info.value.status_code == 500 and info.value.is_server_error()


def test_api_error_has_response(client):
    with pytest.raises(errors.NotFound) as info:
        client.containers.get("missing")
    e = info.value
    assert e.response.status_code == 404 and e.status_code == 404 and e.is_client_error()
    assert e.explanation == "No such container: missing"


def test_null_resource(client):
    with pytest.raises(errors.NullResource):
        client.containers.get("")


def test_list_filters_and_sparse(client):
    c = client.containers.run("alpine", "sleep 300", detach=True, labels={"app": "x"})
    client.containers.run("alpine", "true", detach=True)
    assert [x.id for x in client.containers.list(filters={"label": "app=x"})] == [c.id]
    sparse = client.containers.list(sparse=True)
    assert [x.status for x in sparse] == ["running"]
    with pytest.raises(errors.DockerException):
        _ = sparse[0].labels


def test_prune_honours_label_filter(client):
    keep = client.containers.run("alpine", "true", detach=True, labels={"keep": "1"})
    gone = client.containers.run("alpine", "true", detach=True)
    assert client.containers.prune(filters={"label": "nothing"})["ContainersDeleted"] is None
    deleted = client.containers.prune(filters={"label": "keep"})["ContainersDeleted"]
    assert deleted == [keep.id] and client.containers.get(gone.id)


def test_volumes_filters_and_driver_opts(client):
    v = client.volumes.create("dockerpytest_1", driver_opts={"type": "tmpfs"}, labels={"a": "b"})
    assert v.attrs["Options"] == {"type": "tmpfs"} and v.attrs["Labels"] == {"a": "b"}
    assert client.volumes.list(filters={"name": "dockerpytest_"}) == [v]
    assert client.volumes.list(filters={"name": "foobar"}) == []


def test_top_stats_update(client):
    c = client.containers.run("alpine", "sleep 60", detach=True, cpu_shares=2)
    top = c.top()
    assert top["Titles"][-1] == "CMD" and top["Processes"][0][-1] == "sleep 60"
    assert {"read", "cpu_stats", "memory_stats", "blkio_stats", "networks"} <= set(
        c.stats(stream=False)
    )
    assert c.update(cpu_shares=3) == {"Warnings": []}
    c.reload()
    assert c.attrs["HostConfig"]["CpuShares"] == 3


def test_client_system_calls(client):
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.41"
    df = client.df()
    assert {"LayersSize", "Images", "Containers", "Volumes", "BuildCache"} <= set(df)
    assert all(isinstance(e, dict) for e in client.events(decode=True))


def test_from_env_reads_the_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKERLAYERS_ROOT", str(tmp_path / "root"))
    c = dockerlayers.from_env()
    try:
        assert c.root == str(tmp_path / "root")
    finally:
        c.close()


def test_create_refuses_run_only_options_as_docker_py(client):
    """docker-py's create(): `remove`, `stdout`, `stderr` belong to run() only."""
    base = client.images.base()
    for kw in ({"remove": True}, {"stdout": False}, {"stderr": True}):
        with pytest.raises(TypeError, match="^run\\(\\) got an unexpected keyword argument"):
            client.containers.create(base, ["true"], **kw)
    client.containers.create(base, ["true"], detach=True)  # a create option, ignored
