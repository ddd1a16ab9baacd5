"""The container record on disk (moby.md §5.2): config.v2.json (0600, atomic) and
hostconfig.json (0644 in 20.10), read back by from_disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from dockerlayers.container.container import Container, default_host_config

T = 1704067200.0


def make(tmp_path, **kw) -> Container:
    root = tmp_path / ("a" * 64)
    root.mkdir()
    fields = dict(
        id="a" * 64,
        name="/web",
        created=T,
        path="sh",
        args=["-c", "sleep 1"],
        config={"Hostname": "aaaaaaaaaaaa", "Cmd": ["sh", "-c", "sleep 1"], "Image": "base"},
        image="sha256:" + "b" * 64,
        driver="overlay2",
        root=str(root),
    )
    fields.update(kw)
    return Container(**fields)


def test_checkpoint_and_from_disk(tmp_path):
    c = make(tmp_path)
    c.state.set_running(1000, T + 1)
    c.restart_count = 2
    c.has_been_started_before = True
    c.write_host_config()
    c.checkpoint()
    cfg = os.path.join(c.root, "config.v2.json")
    host = os.path.join(c.root, "hostconfig.json")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(host).st_mode) == 0o644
    assert sorted(os.listdir(c.root)) == ["config.v2.json", "hostconfig.json"]  # no temp files left
    data = json.loads(Path(cfg).read_text())
    assert data["ID"] == c.id and data["Name"] == "/web" and data["Driver"] == "overlay2"
    assert data["State"]["Running"] is True and data["State"]["Pid"] == 1000
    assert data["RestartCount"] == 2 and data["HasBeenStartedBefore"] is True
    assert data["LogPath"] == os.path.join(c.root, c.id + "-json.log")
    assert "HostConfig" not in data  # its own file
    back = Container.from_disk(c.root)
    assert back.to_json() == c.to_json()
    assert back.host_config == c.host_config


def test_paths_are_empty_before_the_first_start(tmp_path):
    data = make(tmp_path).to_json()
    assert (data["LogPath"], data["HostnamePath"], data["HostsPath"], data["ResolvConfPath"]) == (
        "",
        "",
        "",
        "",
    )
    assert data["Created"] == "2024-01-01T00:00:00Z"


def test_default_host_config():
    hc = default_host_config()
    assert hc["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert hc["LogConfig"] == {"Type": "json-file", "Config": {}}
    assert hc["NetworkMode"] == "default"
    assert default_host_config() is not hc
