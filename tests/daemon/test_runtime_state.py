"""The daemon's own state, declared: ContainerRuntime (and its JSON under <root>/runtime/,
which roots written before must still load), CreateConfig, the seeded generators' state,
and the public names tools use instead of the daemon's private parts."""

from __future__ import annotations

import json
import os

import pytest

from dockerlayers import DockerClient
from dockerlayers.daemon.create import CreateConfig
from dockerlayers.daemon.restartmanager import RestartManager
from dockerlayers.daemon.runtime import ContainerRuntime, load_runtime
from dockerlayers.stringid import IDGenerator

TICKER = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 1; done"]


def test_runtime_json_leaves_out_what_is_unset_and_reads_back():
    rt = ContainerRuntime(restart=RestartManager({"Name": "always"}), restart_at=12.5)
    data = rt.to_json()
    assert set(data) == {"restart", "restart_at"}
    back = ContainerRuntime.from_json(json.loads(json.dumps(data)))
    assert back == rt
    assert ContainerRuntime().to_json() == {}


def test_runtime_reads_the_form_earlier_versions_wrote():
    """Earlier versions kept a dict and wrote `resume_at: null` after every start."""
    old = {
        "restart": {"Policy": {"Name": "no", "MaximumRetryCount": 0}, "RestartCount": 0},
        "resume_at": None,
    }
    rt = ContainerRuntime.from_json(old)
    assert rt.resume_at is None and rt.restart_at is None and rt.process is None
    assert rt.restart is not None and rt.restart.policy["Name"] == "no"
    assert ContainerRuntime.from_json({"restart": {}}).restart is None


def test_a_runtime_file_that_does_not_parse_is_an_empty_state(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    assert load_runtime(str(tmp_path), "x") == ContainerRuntime()
    assert load_runtime(str(tmp_path), "missing") == ContainerRuntime()


def test_a_detached_root_in_the_old_dict_form_carries_on(make_client, tmp_path):
    cl = make_client()
    c = cl.containers.run(cl.images.base(), TICKER, detach=True, name="ticker")
    cl.clock.advance(2.5)
    cl.detach()
    path = os.path.join(str(tmp_path / "root"), "runtime", f"{c.id}.json")
    with open(path) as f:
        data = json.load(f)
    assert "process" in data and "restart" in data
    data["resume_at"] = None  # exactly as the dict-keyed daemon wrote it
    with open(path, "w") as f:
        json.dump(data, f)
    again = make_client()
    again.clock.advance(2)
    assert again.containers.get("ticker").status == "running"
    assert again.containers.get("ticker").logs() == b"1\n2\n3\n4\n5\n"


def test_create_takes_createconfigs_fields_and_refuses_others(client, base):
    c = client.daemon.create(
        base.id, ["true"], name="xy", labels={"a": "b"}, restart_policy="on-failure:2"
    )
    assert c.name == "/xy" and c.config["Labels"] == {"a": "b"}
    assert c.host_config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    with pytest.raises(TypeError):
        client.daemon.create(base.id, ["true"], no_such_option=1)
    assert CreateConfig(image="busybox").auto_remove is False


def test_id_generator_state_continues_the_sequence_through_json():
    a = IDGenerator(3)
    a.generate_random_id()
    state = json.loads(json.dumps(a.getstate()))
    b = IDGenerator(3)
    b.setstate(state)
    assert [a.generate_random_id() for _ in range(3)] == [b.generate_random_id() for _ in range(3)]
    unseeded = IDGenerator()
    assert unseeded.getstate() is None
    unseeded.setstate(state)  # a no-op: an unseeded generator stays random
    assert len(unseeded.generate_random_id()) == 64


def test_abandon_lets_another_daemon_take_the_root(tmp_path):
    root = str(tmp_path / "root")
    first = DockerClient(root=root, seed=1, clock="virtual", mounts="user")
    first.daemon.abandon()
    assert first.daemon.closed
    second = DockerClient(root=root, seed=1, clock="virtual", mounts="user")
    second.close()


def test_unmount_lets_go_of_a_stopped_containers_filesystem(client, base):
    c = client.containers.create(base, ["true"])
    fs = client.daemon.mount(c.id)
    fs.write_bytes("/f", b"x")
    assert c.id in client.daemon.mounted
    client.daemon.unmount(c.id)
    assert c.id not in client.daemon.mounted
    assert [ch["Path"] for ch in c.diff()] == ["/f"]
