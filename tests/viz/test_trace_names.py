"""Every function name the "What Docker did" panel prints is a function of the package.

The trace's steps print moby's function names in snake_case (`daemon.container_start`,
`kill_with_signal`, `container.to_disk`, ...); each step's `code` holds the functions those
names stand for. A rename must break this test, not silently the panel.
"""

from __future__ import annotations

import importlib
import re

import pytest

from dockerlayers.viz.trace import RECIPES, StepSpec

#: Which object a printed `receiver.name` is a method of (the class's name), or, for
#: `daemon.`, any function in dockerlayers.daemon.
RECEIVERS = {
    "container": {"Container"},
    "layer_store": {"LayerStore"},
    "rw_layer": {"RWLayer", "MountedLayer"},
    "driver": {"Driver"},
    "image_service": {"ImageService"},
    "image_store": {"ImageStore"},
    "reference_store": {"ReferenceStore"},
    "events": {"EventsLog"},
    "clock": {"DaemonClock"},
}
#: File names the texts show (not code): what the step writes.
FILE_SUFFIXES = (".json", ".gz", ".conf")

STEPS = sorted(
    {(verb, spec) for verb, specs in RECIPES.items() for spec in specs},
    key=lambda vs: (vs[0], vs[1].function),
)


def code_names(text: str) -> list[str]:
    """The snake_case code names in a step's text: `daemon.create (ContainerCreate)` ->
    ["daemon.create"]; arguments in parentheses, <placeholders>, file names and moby's
    Go names (CamelCase) are not ours."""
    while True:
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            break
        text = stripped
    text = re.sub(r"<[^<>]*>", "", text)
    names = []
    for token in re.split(r"[\s,;:+]+", text):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*", token):
            continue
        if ("_" in token or "." in token) and not token.endswith(FILE_SUFFIXES):
            names.append(token)
    return names


def resolve(module: str, qualname: str) -> object:
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def test_the_name_finder_sees_code_and_skips_files_and_go_names():
    assert code_names("daemon.create (ContainerCreate)") == ["daemon.create"]
    assert code_names("container.to_disk: config.v2.json, hostconfig.json") == ["container.to_disk"]
    assert code_names("init_mount -> driver.create_read_write(<mount-id>-init)") == [
        "init_mount",
        "driver.create_read_write",
    ]
    assert code_names("os.RemoveAll(containers/<id>)") == []
    assert code_names("log driver: <id>-json.log") == []


@pytest.mark.parametrize(("verb", "spec"), STEPS, ids=[f"{v}: {s.function}" for v, s in STEPS])
def test_every_printed_name_is_a_function_of_the_package(verb: str, spec: StepSpec):
    for f in spec.code:
        assert f.__module__.startswith("dockerlayers."), f
        assert resolve(f.__module__, f.__qualname__) is f
    by_name = {f.__name__: f for f in spec.code}
    for name in code_names(spec.function):
        receiver, _, func = name.rpartition(".")
        assert func in by_name, f"{verb}: {name!r} is printed but names no function in `code`"
        f = by_name[func]
        if receiver == "daemon":
            assert f.__module__.startswith("dockerlayers.daemon"), (name, f.__module__)
        elif receiver:
            owner = f.__qualname__.split(".")[0]
            assert owner in RECEIVERS[receiver], (name, f.__qualname__)
    for f in spec.code:
        assert re.search(rf"\b{f.__name__}\b", spec.function), (
            f"{verb}: {f.__qualname__} is in `code` but not named in {spec.function!r}"
        )


def test_the_names_the_issue_listed_are_real():
    names = {n for _, spec in STEPS for n in spec.code_names()}
    assert {
        "dockerlayers.daemon.start.container_start",
        "dockerlayers.daemon.create.new_container",
        "dockerlayers.container.container.Container.to_disk",
        "dockerlayers.daemon.kill.kill_with_signal",
        "dockerlayers.layer.store.store_layer",
        "dockerlayers.daemon.monitor.handle_container_exit",
        "dockerlayers.daemon.create.setup_container_dirs",
        "dockerlayers.daemon.delete.cleanup_container",
        "dockerlayers.daemon.stop.container_stop",
    } <= names
