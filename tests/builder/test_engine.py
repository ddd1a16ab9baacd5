"""The same Dockerfiles built by a real Docker engine (20.10, DOCKER_BUILDKIT=0,
`--network none`) and by the model: same number of layers, same entries in each layer
(the base layer aside: the engine's base is a busybox rootfs imported as `base:1`), same
history `created_by` strings (content hashes included).

The engine comes from tools/real-docker.sh (needs root): an engine already
started is used when DOCKERLAYERS_ENGINE_DIR names its state folder; with
DOCKERLAYERS_START_ENGINE=1 one is started for this module (~15 s, plus installing
docker.io the first time) and stopped after it; otherwise the module is skipped."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile

import pytest

from tests.support import dockerfiles
from tests.support.builds import layer_members, write_context

pytestmark = [pytest.mark.engine, pytest.mark.slow]

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "tools", "real-docker.sh"))


def _docker(
    state: str, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess:
    e = dict(
        os.environ,
        DOCKER_HOST=f"unix://{state}/docker.sock",
        DOCKER_CONFIG=f"{state}/client",
        **(env or {}),
    )
    return subprocess.run(
        ["/usr/bin/docker", *args], env=e, capture_output=True, input=input, timeout=300
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    state = os.environ.get("DOCKERLAYERS_ENGINE_DIR")
    started = False
    if not state:
        if os.environ.get("DOCKERLAYERS_START_ENGINE") != "1":
            pytest.skip(
                "no engine: set DOCKERLAYERS_ENGINE_DIR (a real-docker.sh state folder) "
                "or DOCKERLAYERS_START_ENGINE=1"
            )
        if os.geteuid() != 0:
            pytest.skip("a real Docker engine needs root")
        if not os.path.exists(SCRIPT):
            pytest.skip(f"{SCRIPT} not found")
        state = str(tmp_path_factory.mktemp("engine"))
        r = subprocess.run(["bash", SCRIPT, "start", state], capture_output=True, timeout=900)
        if r.returncode != 0:
            subprocess.run(["bash", SCRIPT, "stop", state], capture_output=True, timeout=120)
            pytest.skip(f"the engine did not start: {r.stderr.decode()[-300:]}")
        started = True
    if (
        not os.path.exists(os.path.join(state, "docker.sock"))
        or _docker(state, "version").returncode
    ):
        pytest.skip(f"no engine answering under {state}")
    if _docker(state, "image", "inspect", "base:1").returncode:
        r = subprocess.run(["bash", SCRIPT, "base", state], capture_output=True, timeout=300)
        if r.returncode:
            pytest.skip(f"could not import base:1: {r.stderr.decode()[-300:]}")
    yield state
    if started:
        subprocess.run(["bash", SCRIPT, "stop", state], capture_output=True, timeout=300)


def engine_build(engine: str, context: str, *args: str) -> tuple[dict, list[list[str]], str]:
    """(config, entry names per layer, output) of a legacy build on the engine."""
    r = _docker(
        engine,
        "build",
        "--network",
        "none",
        "-q",
        "--no-cache",
        *args,
        context,
        env={"DOCKER_BUILDKIT": "0"},
    )
    assert r.returncode == 0, r.stderr.decode()
    image_id = r.stdout.decode().strip()
    saved = _docker(engine, "save", image_id)
    assert saved.returncode == 0, saved.stderr.decode()
    layers = []
    with tarfile.open(fileobj=io.BytesIO(saved.stdout)) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        config = json.load(outer.extractfile(manifest["Config"]))
        for name in manifest["Layers"]:
            with tarfile.open(fileobj=io.BytesIO(outer.extractfile(name).read())) as tf:
                layers.append([m.name for m in tf.getmembers()])
    _docker(engine, "rmi", image_id)
    return config, layers, r.stdout.decode()


def _norm(names: list[str]) -> list[str]:
    return sorted(re.sub(r"^\./", "", n).rstrip("/") for n in names if n not in (".", "./"))


SCENARIOS = {
    "steps": (dockerfiles.STEPS_DOCKERFILE, dockerfiles.STEPS_FILES, {"V": "9", "X": "2"}, None),
    "multistage": (dockerfiles.MULTISTAGE_DOCKERFILE, dockerfiles.MULTISTAGE_FILES, {}, None),
    "target": (dockerfiles.MULTISTAGE_DOCKERFILE, dockerfiles.MULTISTAGE_FILES, {}, "builder"),
    "secret-rm": (
        "FROM base:1\nCOPY secret.txt /run/secret.txt\nRUN rm /run/secret.txt\n",
        {"secret.txt": dockerfiles.SECRET},
        {},
        None,
    ),
    "same-run": ("FROM base:1\nRUN echo s > /tmp/secret && rm /tmp/secret\n", {}, {}, None),
    "args": (
        'ARG TAG=1\nFROM base:${TAG}\nRUN echo "[$TAG]"\nARG TAG\nARG L=l\nRUN echo "[$TAG][$L]"\n',
        {},
        {"L": "cli", "HTTP_PROXY": "p"},
        None,
    ),
    "copy": (
        "FROM base:1\nCOPY a /file\nCOPY a /dir/\nCOPY a b /multi/\nCOPY d "
        "/contents\nCOPY g*.txt /globbed/\n"
        "WORKDIR /w\nCOPY a rel\nADD t.tar.gz /x\n",
        {"a": "a\n", "b": "b\n", "d/x": "x\n", "g1.txt": "1", "g2.txt": "2"},
        {},
        None,
    ),
    "dockerignore": (
        "FROM base:1\nCOPY . /ctx/\n",
        {
            ".dockerignore": "*.md\n!README*.md\nREADME-secret.md\n",
            "README.md": "r",
            "README-secret.md": "s",
            "x.md": "x",
        },
        {},
        None,
    ),
}


def _tar_gz() -> bytes:
    import gzip

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("top/one")
        info.size = 1
        info.mtime = 1_700_000_000
        tf.addfile(info, io.BytesIO(b"1"))
    return gzip.compress(buf.getvalue(), mtime=0)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_layers_as_the_engine(engine, client, tmp_path, name):
    dockerfile, files, buildargs, target = SCENARIOS[name]
    files = dict(files)
    if name == "copy":
        files["t.tar.gz"] = _tar_gz()
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile, **files})
    args = [a for k, v in buildargs.items() for a in ("--build-arg", f"{k}={v}")]
    if target:
        args += ["--target", target]
    config, engine_layers, _ = engine_build(engine, ctx, *args)
    ours, _ = client.images.build(path=ctx, buildargs=buildargs, target=target)
    img = client.daemon.image_service.get_image(ours.id)
    our_layers = layer_members(client, img)
    assert len(our_layers) == len(engine_layers)
    assert [_norm(x) for x in our_layers[1:]] == [_norm(x) for x in engine_layers[1:]]
    engine_history = [
        (h.get("created_by", ""), bool(h.get("empty_layer"))) for h in config["history"]
    ][1:]
    assert [(h.created_by, h.empty_layer) for h in img.history][1:] == engine_history
    assert img.config.to_json()["Env"] == config["config"]["Env"]
    if "CMD" in dockerfile:  # (the bases differ: ours has Cmd ["sh"], the imported one none)
        assert img.config.to_json().get("Cmd") == config["config"].get("Cmd")
