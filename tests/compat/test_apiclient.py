"""`client.api` (docker-py's low-level APIClient): each method's return shape as docker-py
7.1 documents it (docker/api/*.py docstrings and the Engine API's JSON), and docker-py's
client-side errors."""

from __future__ import annotations

import io
import json
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


@pytest.fixture
def api(client):
    return client.api


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _running(api, cmd="top", **kw):
    c = api.create_container("alpine", cmd, **kw)
    api.start(c)
    return c


def test_create_container_returns_id_and_warnings(api):
    c = api.create_container("alpine", "true")
    assert set(c) == {"Id", "Warnings"} and c["Warnings"] == []
    assert len(c["Id"]) == 64
    assert api.inspect_container(c)["State"]["Status"] == "created"


def test_create_container_config_is_dockerpy_shaped(api):
    cfg = api.create_container_config(
        "alpine", "echo hi", ports=[80, (53, "udp")], environment={"A": 1, "B": None},
        volumes=["/data"], labels=["x"],
    )  # fmt: skip
    assert cfg["Cmd"] == ["echo", "hi"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["Env"] == ["A=1", "B"]
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["Labels"] == {"x": ""}
    assert cfg["AttachStdout"] is True and cfg["HostConfig"] is None


def test_create_host_config_shapes_and_errors(api):
    hc = api.create_host_config(
        binds={"/tmp/dl-api-src": {"bind": "/mnt", "mode": "ro"}},
        port_bindings={1111: 4567},
        mem_limit="128m",
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
    )
    assert isinstance(hc, dict)
    assert hc["Binds"] == ["/tmp/dl-api-src:/mnt:ro"]
    assert hc["PortBindings"] == {"1111/tcp": [{"HostIp": "", "HostPort": "4567"}]}
    assert hc["Memory"] == 128 * 1024 * 1024
    assert hc["NetworkMode"] == "default"
    assert api.create_host_config() == {"NetworkMode": "default"}
    with pytest.raises(TypeError, match="unexpected keyword argument 'version'"):
        api.create_host_config(version="1.41")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        api.create_host_config(nope=1)
    with pytest.raises(TypeError, match="Invalid type for mem_swappiness param"):
        api.create_host_config(mem_swappiness="x")
    with pytest.raises(ValueError, match="Invalid value for userns_mode param"):
        api.create_host_config(userns_mode="private")
    api._version = "1.24"
    with pytest.raises(errors.InvalidVersion, match="init param is not supported in API"):
        api.create_host_config(init=True)


def test_host_config_options_reach_the_container(api):
    hc = api.create_host_config(read_only=True, tmpfs={"/scratch": "size=1m"}, init=True)
    c = api.create_container("alpine", "true", host_config=hc)
    got = api.inspect_container(c)["HostConfig"]
    assert got["ReadonlyRootfs"] is True
    assert got["Tmpfs"] == {"/scratch": "size=1m"}
    assert got["Init"] is True


def test_networking_and_endpoint_config_are_accepted(api):
    ep = api.create_endpoint_config(aliases=["web"], ipv4_address="10.0.0.2")
    assert ep == {"Aliases": ["web"], "IPAMConfig": {"IPv4Address": "10.0.0.2"}}
    nc = api.create_networking_config({"net": ep})
    assert nc == {"EndpointsConfig": {"net": ep}}
    c = api.create_container("alpine", "true", networking_config=nc)
    assert c["Id"]


def test_null_resource(api):
    for call in (api.start, api.inspect_container, api.diff, api.top, api.history):
        with pytest.raises(errors.NullResource, match="Resource ID was not provided"):
            call(None)
    with pytest.raises(errors.NullResource):
        api.wait({"Id": ""})


def test_dict_instead_of_id(api):
    c = api.create_container("alpine", "true")
    api.start(c)
    assert api.wait(c) == {"StatusCode": 0, "Error": None}


def test_wait_status_code(api):
    c = api.create_container("alpine", ["sh", "-c", "exit 3"])
    api.start(c)
    assert api.wait(c["Id"]) == {"StatusCode": 3, "Error": None}


def test_start_with_config_is_deprecated(api):
    c = api.create_container("alpine", "true")
    with pytest.raises(errors.DeprecatedMethod):
        api.start(c, privileged=True)


def test_lifecycle_calls_return_none_and_change_state(api):
    c = _running(api)
    assert api.pause(c) is None
    assert api.inspect_container(c)["State"]["Paused"] is True
    assert api.unpause(c) is None
    assert api.restart(c, timeout=1) is None
    assert api.rename(c, "apiclient-renamed") is None
    assert api.inspect_container("apiclient-renamed")["Id"] == c["Id"]
    assert api.kill(c, signal="SIGKILL") is None
    assert api.inspect_container(c)["State"]["Running"] is False
    c2 = _running(api)
    assert api.stop(c2, timeout=1) is None


def test_logs_bytes_and_stream(api):
    c = api.create_container("alpine", ["sh", "-c", "echo one; echo two >&2"])
    api.start(c)
    api.wait(c)
    assert api.logs(c) == b"one\ntwo\n"
    assert api.logs(c, stderr=False) == b"one\n"
    gen = api.logs(c, stream=True)
    assert isinstance(gen, types.GeneratorType)
    assert b"".join(gen) == b"one\ntwo\n"


def test_attach_logs_and_demux(api):
    c = api.create_container("alpine", ["sh", "-c", "echo out; echo err >&2"])
    api.start(c)
    api.wait(c)
    assert api.attach(c, logs=True) == b"out\nerr\n"
    assert api.attach(c, logs=True, demux=True) == (b"out\n", b"err\n")


def test_diff_top_port(api):
    c = _running(api, ["sh", "-c", "touch /new; top"], ports=[80],
                 host_config=api.create_host_config(port_bindings={80: 8080}))  # fmt: skip
    api.exec_start(api.exec_create(c, "true"))
    diff = api.diff(c)
    assert {"Path": "/new", "Kind": 1} in diff
    top = api.top(c)
    assert set(top) == {"Titles", "Processes"} and "PID" in top["Titles"]
    assert api.port(c, 80) == api.port(c, "80/tcp")


def test_stats_one_sample_and_decode_error(api):
    c = _running(api)
    sample = api.stats(c, stream=False)
    assert isinstance(sample, dict) and "memory_stats" in sample
    with pytest.raises(errors.InvalidArgument, match="decode is only available"):
        api.stats(c, stream=False, decode=True)
    first = next(api.stats(c, decode=True))
    assert isinstance(first, dict)
    raw = next(api.stats(c))
    assert isinstance(json.loads(raw), dict)


def test_update_container_returns_warnings(api):
    c = api.create_container("alpine", "top")
    out = api.update_container(c, mem_limit="64m", restart_policy={"Name": "always"})
    assert "Warnings" in out
    hc = api.inspect_container(c)["HostConfig"]
    assert hc["Memory"] == 64 * 1024 * 1024 and hc["RestartPolicy"]["Name"] == "always"


def test_exec_create_start_inspect(api):
    c = _running(api)
    e = api.exec_create(c, ["sh", "-c", "echo o; echo e >&2; exit 4"])
    assert set(e) == {"Id"}
    before = api.exec_inspect(e)
    assert before["ExitCode"] is None and before["Running"] is False
    assert before["ProcessConfig"]["entrypoint"] == "sh"
    assert api.exec_start(e) == b"o\ne\n"
    after = api.exec_inspect(e["Id"])
    assert after["ExitCode"] == 4 and after["ContainerID"] == c["Id"]
    with pytest.raises(errors.APIError, match="has already run"):
        api.exec_start(e)


def test_exec_start_demux_stream_detach(api):
    c = _running(api)
    cmd = ["sh", "-c", "echo o; echo e >&2"]
    assert api.exec_start(api.exec_create(c, cmd), demux=True) == (b"o\n", b"e\n")
    gen = api.exec_start(api.exec_create(c, cmd), stream=True, demux=True)
    assert list(gen) == [(b"o\n", None), (None, b"e\n")]
    gen = api.exec_start(api.exec_create(c, cmd), stream=True)
    assert b"".join(gen) == b"o\ne\n"
    assert api.exec_start(api.exec_create(c, cmd), detach=True) == ""
    assert api.exec_start(api.exec_create(c, cmd, stderr=False)) == b"o\n"


def test_exec_in_stopped_container_is_conflict(api):
    c = api.create_container("alpine", "true")
    with pytest.raises(errors.APIError) as e:
        api.exec_create(c, "true")
    assert e.value.status_code == 409 and "is not running" in str(e.value)
    with pytest.raises(errors.NotFound, match="No such exec instance"):
        api.exec_inspect("nope")


def test_export_get_archive_put_archive(api):
    c = api.create_container("alpine", "true")
    chunks = api.export(c, chunk_size=1024)
    assert isinstance(chunks, types.GeneratorType)
    assert all(len(ch) <= 1024 for ch in chunks)
    assert api.put_archive(c, "/tmp", _tar("hello.txt", b"hi")) is True
    strm, stat = api.get_archive(c, "/tmp/hello.txt")
    assert stat["name"] == "hello.txt" and stat["size"] == 2
    with tarfile.open(fileobj=io.BytesIO(b"".join(strm))) as t:
        assert t.extractfile("hello.txt").read() == b"hi"


def test_commit_returns_id(api):
    c = api.create_container("alpine", ["sh", "-c", "echo x > /f"])
    api.start(c)
    api.wait(c)
    out = api.commit(c, repository="apiclient-commit", tag="t1", message="m")
    assert set(out) == {"Id"} and out["Id"].startswith("sha256:")
    assert "apiclient-commit:t1" in api.inspect_image(out["Id"])["RepoTags"]


def test_prune_containers_shape(api):
    c = api.create_container("alpine", "true")
    out = api.prune_containers()
    assert out["ContainersDeleted"] == [c["Id"]] and isinstance(out["SpaceReclaimed"], int)


def test_images_history_tag_get_image(api):
    rows = api.images()
    assert {"Id", "RepoTags", "Created", "Size"} <= set(rows[0])
    assert all(isinstance(i, str) for i in api.images(quiet=True))
    hist = api.history("alpine")
    assert isinstance(hist, list) and {"Id", "Created", "CreatedBy", "Tags", "Size"} <= set(hist[0])
    assert api.tag("alpine", "apiclient-tagged", "v1") is True
    assert "apiclient-tagged:v1" in api.inspect_image("alpine")["RepoTags"]
    gen = api.get_image("alpine", chunk_size=512)
    assert isinstance(gen, types.GeneratorType)
    data = b"".join(gen)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        assert "manifest.json" in t.getnames()


def test_load_image_yields_messages(api):
    data = b"".join(api.get_image("alpine"))
    api.remove_image("alpine")
    msgs = list(api.load_image(data))
    assert msgs == [{"stream": "Loaded image: alpine:latest\n"}]
    bad = list(api.load_image(b"not a tar"))
    assert "error" in bad[-1] and "errorDetail" in bad[-1]


def test_import_image_variants(api, tmp_path):
    tar = _tar("hello.txt", b"hi")
    out = api.import_image_from_data(tar, repository="apiclient-import", tag="a")
    assert out.endswith("\r\n")
    image_id = json.loads(out)["status"]
    assert image_id.startswith("sha256:")
    p = tmp_path / "x.tar"
    p.write_bytes(tar)
    assert json.loads(api.import_image_from_file(str(p)))["status"].startswith("sha256:")
    with open(p, "rb") as f:
        assert json.loads(api.import_image_from_stream(f))["status"].startswith("sha256:")
    assert json.loads(api.import_image(src=tar))["status"].startswith("sha256:")
    with pytest.raises(errors.DockerException, match="Must specify src or image"):
        api.import_image()
    with pytest.raises(errors.APIError):
        api.import_image_from_url("http://example.com/x.tar")


def test_prune_images_and_volumes_shapes(api):
    assert set(api.prune_images()) == {"ImagesDeleted", "SpaceReclaimed"}
    api.create_volume("apiclient-vol")
    out = api.prune_volumes()
    assert out["VolumesDeleted"] == ["apiclient-vol"] and "SpaceReclaimed" in out


def test_create_volume_shape_and_errors(api):
    v = api.create_volume("apiclient-v", driver_opts={"type": "tmpfs"}, labels={"a": "b"})
    assert v["Name"] == "apiclient-v" and v["Driver"] == "local" and v["Labels"] == {"a": "b"}
    assert v["Options"] == {"type": "tmpfs"}
    with pytest.raises(TypeError, match="driver_opts must be a dictionary"):
        api.create_volume("x", driver_opts="nope")
    assert any(x["Name"] == "apiclient-v" for x in api.volumes()["Volumes"])


def test_build_stream_raw_and_decoded(api):
    df = b"FROM alpine\nRUN echo hello\n"
    raw = list(api.build(fileobj=io.BytesIO(df)))
    assert all(isinstance(line, bytes) for line in raw)
    msgs = [json.loads(line) for line in raw]
    assert any("aux" in m for m in msgs)
    decoded = list(api.build(fileobj=io.BytesIO(df), decode=True, tag="apiclient-built"))
    image_id = next(m["aux"]["ID"] for m in decoded if "aux" in m)
    assert api.inspect_image("apiclient-built")["Id"] == image_id
    quiet = list(api.build(fileobj=io.BytesIO(df), decode=True, quiet=True))
    assert {"stream": image_id + "\n"} in quiet


def test_build_error_comes_in_the_stream(api):
    msgs = list(api.build(fileobj=io.BytesIO(b"FROM alpine\nRUN exit 2\n"), decode=True))
    assert msgs[-1]["errorDetail"]["code"] == 2 and "returned a non-zero code" in msgs[-1]["error"]


def test_build_client_side_errors(api):
    with pytest.raises(TypeError, match="Either path or fileobj"):
        api.build()
    with pytest.raises(errors.DockerException, match="custom encoding"):
        api.build(fileobj=io.BytesIO(b""), gzip=True, encoding="gzip")
    with pytest.raises(errors.DockerException, match="invalid reference format"):
        api.build(fileobj=io.BytesIO(b""), tag="Bad Tag")
    with pytest.raises(TypeError, match="You must specify fileobj with custom_context"):
        api.build(path=".", custom_context=True)
    with pytest.raises(errors.APIError, match="unknown operating system"):
        api.build(fileobj=io.BytesIO(b"FROM alpine\n"), platform="foobar")


def test_prune_builds_and_refusals(api):
    assert api.prune_builds() == {"CachesDeleted": None, "SpaceReclaimed": 0}
    with pytest.raises(errors.APIError, match="index.docker.io"):
        api.search("busybox")


def test_models_share_the_low_level_calls(client):
    """The models go through client.api, as docker-py's do (one implementation)."""
    calls = []
    api = client.api
    orig = api.exec_create

    def spy(*a, **k):
        calls.append("exec_create")
        return orig(*a, **k)

    api.exec_create = spy
    c = client.containers.run("alpine", "top", detach=True)
    assert c.exec_run("echo hi") == (0, b"hi\n")
    assert calls == ["exec_create"]
