"""Auth: a real registry with htpasswd basic auth (credentials from `config.json`,
`login`/`logout` as the docker CLI writes them), and the bearer-token challenge against a
small token endpoint."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from dockerlayers.cli import main
from dockerlayers.distribution import service as dist
from dockerlayers.distribution.registry import RegistryConfig, RegistryError, Session
from tests.support import registry as sr
from tests.support.images import build_image, layer_tar


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory):
    import shutil

    if not shutil.which("docker-registry"):
        pytest.skip("docker-registry (Debian package docker-registry) is not installed")
    line = sr.bcrypt_htpasswd("u", "p")
    if line is None:
        pytest.skip("no bcrypt: this Python's crypt module cannot make an htpasswd entry")
    reg = sr.start_registry(tmp_path_factory.mktemp("auth-registry"), line)
    yield reg
    reg.stop()


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    d = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(d))
    return d


def test_pull_without_credentials(auth_registry, service, docker_config):
    with pytest.raises(RegistryError) as e:
        dist.pull(service, f"{auth_registry.host}/x:1")
    assert str(e.value) == (
        f'Head "http://{auth_registry.host}/v2/x/manifests/1": no basic auth credentials'
    )


def test_login_push_pull_logout(auth_registry, service, other, docker_config):
    host = auth_registry.host
    with pytest.raises(RegistryError) as e:
        dist.login(host, "u", "bad")
    assert str(e.value) == (
        f"login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"
    )
    assert not (docker_config / "config.json").exists()
    out, err = io.StringIO(), io.StringIO()
    args = ["--root", service.root, "login", "-u", "u", "-p", "p", host]
    assert main(args, out, err) == 0, err.getvalue()
    assert out.getvalue() == "Login Succeeded\n"
    auths = json.loads((docker_config / "config.json").read_text())["auths"]
    assert auths == {host: {"auth": base64.b64encode(b"u:p").decode()}}
    id = build_image(service, [layer_tar({"f": os.urandom(32)})], tag=f"{host}/a:1")
    dist.push(service, f"{host}/a:1")
    assert dist.pull(other, f"{host}/a:1") == [id]
    out = io.StringIO()
    assert main(["--root", service.root, "logout", host], out, io.StringIO()) == 0
    assert out.getvalue() == f"Removing login credentials for {host}\n"
    assert json.loads((docker_config / "config.json").read_text())["auths"] == {}


class _TokenRegistry(BaseHTTPRequestHandler):
    """`/v2/` wanting a bearer token that `/token` hands out for user u:p."""

    seen: list[dict] = []

    def log_message(self, *a):  # quiet
        pass

    def do_GET(self):
        url = urlparse(self.path)
        host = self.headers["Host"]
        if url.path == "/token":
            q = parse_qs(url.query)
            self.seen.append({"q": q, "auth": self.headers.get("Authorization")})
            ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:p").decode()
            body = json.dumps({"token": "T0K"} if ok else {}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("Authorization") != "Bearer T0K":
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="http://{host}/token",service="reg",scope="repository:x:pull"',
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_bearer_challenge_gets_a_token():
    srv = HTTPServer(("127.0.0.1", 0), _TokenRegistry)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        host = f"127.0.0.1:{srv.server_port}"
        s = Session(RegistryConfig(), host, ("u", "p"))
        r = s.request("GET", "/v2/x/manifests/1", scope="repository:x:pull")
        assert r.status_code == 200
        last = _TokenRegistry.seen[-1]
        assert last["q"] == {"service": ["reg"], "scope": ["repository:x:pull"]}
        with pytest.raises(RegistryError) as e:
            Session(RegistryConfig(), host, ("u", "bad")).request("GET", "/v2/")
        assert str(e.value) == "unauthorized: authentication required"
    finally:
        srv.shutdown()
        srv.server_close()


def test_sdk_login_keeps_the_credentials_in_the_client(auth_registry, docker_config, tmp_path):
    """docker-py's `client.login`: checked by the registry, kept in memory for the client's
    pushes and pulls, never written to config.json."""
    from dockerlayers import DockerClient
    from dockerlayers.errors import APIError

    host = auth_registry.host
    kw = {"seed": 4, "clock": "virtual", "mounts": "user"}
    with DockerClient(root=str(tmp_path / "a"), **kw) as a:
        with pytest.raises(APIError, match="401 Unauthorized"):
            a.login("u", "bad", registry=host)
        assert a.login("u", "p", registry=host) == {
            "IdentityToken": "",
            "Status": "Login Succeeded",
        }
        ct = a.containers.run(a.images.base(), ["sh", "-c", "echo s > /s"], detach=True)
        ct.wait()
        image = ct.commit(f"{host}/sdk", "1")
        lines = list(a.images.push(f"{host}/sdk", "1", stream=True, decode=True))
        assert "error" not in lines[-1], lines[-1]
    assert not (docker_config / "config.json").exists()
    with DockerClient(root=str(tmp_path / "b"), **kw) as b:
        with pytest.raises(APIError, match="no basic auth credentials"):
            b.images.pull(f"{host}/sdk", tag="1")
        b.login("u", "p", registry=host)
        assert b.images.pull(f"{host}/sdk", tag="1").id == image.id
