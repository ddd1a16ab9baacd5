"""Registry configuration as dockerd reads it: loopback is insecure by default,
`insecure-registries` (names and CIDRs), `registry-mirrors` first for docker.io, from
keyword arguments or `<root>/daemon.json`; docker.io name rules."""

from __future__ import annotations

import json

from dockerlayers.distribution.registry import RegistryConfig
from dockerlayers.image.refname import parse_normalized_named


def test_loopback_is_insecure_by_default():
    c = RegistryConfig()
    assert c.is_insecure("127.0.0.1:5000")
    assert c.is_insecure("127.8.9.1")
    assert not c.is_insecure("10.1.2.3:5000")
    assert c.endpoints("127.0.0.1:5000") == ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]
    assert c.endpoints("10.1.2.3:5000") == ["https://10.1.2.3:5000"]


def test_insecure_registries_by_name_and_cidr():
    c = RegistryConfig(insecure=["myreg:5000", "10.0.0.0/8"])
    assert c.is_insecure("myreg:5000")
    assert c.is_insecure("10.1.2.3:5000")
    assert not c.is_insecure("192.0.2.1:5000")


def test_mirrors_come_first_for_docker_io_only():
    c = RegistryConfig(mirrors=["https://mirror.example/"])
    assert c.endpoints("docker.io") == ["https://mirror.example", "https://registry-1.docker.io"]
    assert c.endpoints("10.1.2.3") == ["https://10.1.2.3"]


def test_daemon_json_and_overrides(tmp_path):
    (tmp_path / "daemon.json").write_text(
        json.dumps({"registry-mirrors": ["http://m:1"], "insecure-registries": ["r:1"]})
    )
    c = RegistryConfig.from_daemon_json(str(tmp_path))
    assert (c.mirrors, c.insecure) == (["http://m:1"], ["r:1"])
    c = RegistryConfig.from_daemon_json(str(tmp_path), registry_mirrors=["http://k:2"])
    assert (c.mirrors, c.insecure) == (["http://k:2"], ["r:1"])
    assert RegistryConfig.from_daemon_json(str(tmp_path / "none")) == RegistryConfig()


def test_docker_io_names():
    r = parse_normalized_named("alpine").tag_name_only()
    assert (r.domain, r.path, str(r)) == (
        "docker.io",
        "library/alpine",
        "docker.io/library/alpine:latest",
    )
    r = parse_normalized_named("127.0.0.1:5000/x/y:1")
    assert (r.domain, r.path, r.tag) == ("127.0.0.1:5000", "x/y", "1")


def test_import_dockerlayers_does_not_import_requests():
    import subprocess
    import sys

    code = (
        "import sys, dockerlayers, dockerlayers.distribution.service;"
        "print('requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
