"""The dispatchers on a fake backend (no daemon): each instruction's change to the run
config and its `#(nop)` history comment, cache probing, and RUN's create/start/wait/
commit through the backend.

moby: builder/dockerfile/dispatchers_test.go (on mockbackend_test.go)
"""

from __future__ import annotations

import inspect
import os

import pytest

from dockerlayers import baseimage
from dockerlayers.builder.backend import Backend, DaemonBackend, compare_configs
from dockerlayers.builder.buildargs import BuildArgs
from dockerlayers.builder.builder import Builder, build_on
from dockerlayers.builder.dispatchers import (
    DISPATCHERS,
    dispatch,
    dispatch_triggered_onbuild,
    initialize_stage,
)
from dockerlayers.builder.parser import BUILDKIT_ERROR, KNOWN, Instruction, parse
from dockerlayers.builder.state import DEFAULT_PATH, DispatchRequest, Stage, StepError
from dockerlayers.digest import DIGEST_SHA256_EMPTY_TAR
from dockerlayers.errors import PULL_ERROR, BuildError
from dockerlayers.image.image import ContainerConfig
from dockerlayers.stringid import truncate_id
from tests.builder.mockbackend import FakeBackend
from tests.support.builds import write_context

BASE_ENV = ["PATH=/usr/bin:/bin"]


@pytest.fixture
def backend(tmp_path) -> FakeBackend:
    b = FakeBackend(str(tmp_path / "root"))
    b.add_image(ContainerConfig(env=list(BASE_ENV), cmd=["sh"]), ref="base:1")
    return b


@pytest.fixture
def new_builder(backend, tmp_path):
    """new_builder(**options) -> a Builder on the fake backend (an empty context)."""

    def make(**options) -> Builder:
        ctx = tmp_path / "ctx"
        ctx.mkdir(exist_ok=True)
        return Builder(backend, str(ctx), **options)

    return make


def instruction(line: str) -> Instruction:
    return parse(line + "\n")[0][0]


def begin(b: Builder, base: str = "base:1", args: dict | None = None) -> DispatchRequest:
    """The FROM of a one-stage build: the request the stage's instructions get."""
    stage = Stage(0, base, "", instruction(f"FROM {base}"))
    state = initialize_stage(b, stage, BuildArgs(args or {}))
    state.run_config.image = state.image_id
    return b.request(state)


def step(d: DispatchRequest, line: str) -> None:
    dispatch(d, instruction(line))


def last(backend: FakeBackend, d: DispatchRequest) -> tuple[str, bool]:
    """The (created_by, empty_layer) of the step just committed."""
    return backend.history(d.state.image_id)[-1]


# -- the table -----------------------------------------------------------------------------------
def test_every_instruction_but_from_has_its_dispatcher():
    assert set(DISPATCHERS) == KNOWN - {"from"}
    for cmd, fn in DISPATCHERS.items():
        assert fn.__name__ == f"dispatch_{cmd}"


def _protocol_methods() -> set[str]:
    return {
        name
        for name, value in vars(Backend).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }


def test_the_daemon_adapter_and_the_fake_implement_the_backend():
    methods = _protocol_methods()
    assert {"container_create", "get_cache", "register_layer", "create_image"} <= methods
    for impl in (DaemonBackend, FakeBackend):
        missing = [m for m in methods if not callable(getattr(impl, m, None))]
        assert missing == [], impl


# -- metadata instructions -----------------------------------------------------------------------
def test_env_sets_replaces_in_place_and_expands(backend, new_builder):
    b = new_builder()
    d = begin(b)
    step(d, 'ENV A=1 B="two words"')
    assert last(backend, d) == ("/bin/sh -c #(nop)  ENV A=1 B=two words", True)
    step(d, "ENV A=2 C=${B}-x")
    assert d.state.run_config.env == [*BASE_ENV, "A=2", "B=two words", "C=two words-x"]
    assert backend.images[d.state.image_id].config.env == d.state.run_config.env
    with pytest.raises(StepError, match="ENV names can not be blank"):
        step(d, "ENV $NOPE=1")


def test_a_metadata_step_commits_a_container_that_changed_nothing(backend, new_builder):
    b = new_builder()
    d = begin(b)
    base_id = d.state.image_id
    step(d, "LABEL k=v")
    (cid,) = backend.containers
    c = backend.containers[cid]
    assert c.image_id == base_id
    assert c.config.cmd == ["/bin/sh", "-c", "#(nop) ", "LABEL k=v"]
    assert not c.started
    assert backend.calls == [("create", cid), ("get_rw_layer", cid), ("rm", cid)]
    assert backend.layers[-1].diff_id == DIGEST_SHA256_EMPTY_TAR
    assert backend.layers[-1].parent_chain == backend.images[base_id].rootfs.chain_id()
    assert backend.released_layers == 1 and c.rw.released
    assert b.lines == [
        f" ---> Running in {truncate_id(cid)}",
        f"Removing intermediate container {truncate_id(cid)}",
    ]
    assert backend.get_parent(d.state.image_id) == base_id


def test_label(backend, new_builder):
    d = begin(new_builder())
    step(d, 'LABEL k=v "a b"=c')
    step(d, "LABEL k=w")
    assert d.state.run_config.labels == {"k": "w", "a b": "c"}
    assert backend.history(d.state.image_id)[-2] == (
        "/bin/sh -c #(nop)  LABEL k=v a b=c",
        True,
    )


def test_workdir_is_made_in_a_container_and_committed(backend, new_builder):
    d = begin(new_builder())
    step(d, "WORKDIR /app")
    step(d, "WORKDIR sub/../b")
    assert d.state.run_config.working_dir == "/app/b"
    assert [c.workdirs for c in backend.containers.values()] == [["/app"], ["/app/b"]]
    assert last(backend, d) == ("/bin/sh -c #(nop) WORKDIR /app/b", False)


def test_user_stopsignal_volume_maintainer(backend, new_builder):
    d = begin(new_builder())
    step(d, "ENV U=nobody")
    step(d, "USER $U")
    assert last(backend, d) == ("/bin/sh -c #(nop)  USER nobody", True)
    step(d, "STOPSIGNAL SIGKILL")
    assert last(backend, d) == ("/bin/sh -c #(nop)  STOPSIGNAL SIGKILL", True)
    step(d, 'VOLUME ["/data", "/logs"]')
    assert last(backend, d) == ("/bin/sh -c #(nop)  VOLUME [/data /logs]", True)
    step(d, "MAINTAINER me")
    cfg = d.state.run_config
    assert (cfg.user, cfg.stop_signal, cfg.volumes) == (
        "nobody",
        "SIGKILL",
        {"/data": {}, "/logs": {}},
    )
    assert backend.images[d.state.image_id].author == "me"


def test_cmd_and_entrypoint(backend, new_builder):
    d = begin(new_builder())
    assert d.state.run_config.cmd == ["sh"]
    step(d, 'ENTRYPOINT ["echo"]')
    assert d.state.run_config.cmd is None  # the base's CMD goes with a new ENTRYPOINT
    assert last(backend, d) == ('/bin/sh -c #(nop)  ENTRYPOINT ["echo"]', True)
    step(d, "CMD hi there")
    assert d.state.run_config.cmd == ["/bin/sh", "-c", "hi there"]
    assert last(backend, d) == ('/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "hi there"]', True)
    step(d, "ENTRYPOINT top")
    assert d.state.run_config.entrypoint == ["/bin/sh", "-c", "top"]
    assert d.state.run_config.cmd == ["/bin/sh", "-c", "hi there"]  # set in this stage


def test_expose_defaults_to_tcp_and_sorts(backend, new_builder):
    d = begin(new_builder())
    step(d, "EXPOSE 80 53/udp")
    assert d.state.run_config.exposed_ports == {"80/tcp": {}, "53/udp": {}}
    assert last(backend, d) == ("/bin/sh -c #(nop)  EXPOSE 53/udp 80", True)


def test_arg_declares_and_build_args_win(backend, new_builder):
    d = begin(new_builder(), args={"V": "9"})
    step(d, "ARG V=1 W")
    assert last(backend, d) == ("/bin/sh -c #(nop)  ARG V=1 W", True)
    assert d.state.build_args.get_all_allowed() == {"V": "9"}
    assert d.state.build_args.referenced == {"V", "W"}
    assert d.state.run_config.env == BASE_ENV  # an ARG is not an ENV
    step(d, "LABEL v=$V")
    assert d.state.run_config.labels == {"v": "9"}


def test_onbuild_records_and_the_next_from_runs_the_triggers(backend, new_builder):
    d = begin(new_builder())
    step(d, "ONBUILD ENV T=1")
    step(d, "ONBUILD LABEL t=2")
    assert d.state.run_config.on_build == ["ENV T=1", "LABEL t=2"]
    assert last(backend, d) == ("/bin/sh -c #(nop)  ONBUILD LABEL t=2", True)
    backend.tag_image(d.state.image_id, "parent:1")

    b2 = new_builder()
    d2 = begin(b2, "parent:1")
    dispatch_triggered_onbuild(d2)
    assert b2.lines[0] == "# Executing 2 build triggers"
    assert d2.state.run_config.on_build is None
    assert "T=1" in d2.state.run_config.env and d2.state.run_config.labels == {"t": "2"}


def test_healthcheck(backend, new_builder):
    d = begin(new_builder())
    step(d, "HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://x/")
    assert d.state.run_config.healthcheck == {
        "Test": ["CMD-SHELL", "curl -f http://x/"],
        "Interval": 90_000_000_000,
        "Retries": 3,
    }
    assert last(backend, d) == (
        '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://x/"] "1m30s" "0s" '
        "\"0s\" '\\x03'}",
        True,
    )
    step(d, 'HEALTHCHECK CMD ["true"]')
    assert d.state.run_config.healthcheck == {"Test": ["CMD", "true"]}
    step(d, "HEALTHCHECK NONE")
    assert d.state.run_config.healthcheck == {"Test": ["NONE"]}
    assert last(backend, d) == (
        '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" \'\\x00\'}',
        True,
    )


def test_shell_changes_the_form_of_later_steps(backend, new_builder):
    d = begin(new_builder())
    step(d, 'SHELL ["/bin/bash", "-ec"]')
    # the step's own comment already runs under the new shell (moby: getShell(runConfig))
    assert last(backend, d) == ("/bin/bash -ec #(nop)  SHELL [/bin/bash -ec]", True)
    step(d, "CMD run")
    assert d.state.run_config.cmd == ["/bin/bash", "-ec", "run"]
    assert last(backend, d)[0].startswith("/bin/bash -ec #(nop)  CMD")


# -- FROM ----------------------------------------------------------------------------------------
def test_from_scratch_commits_without_a_container(backend, new_builder):
    b = new_builder()
    d = begin(b, "scratch")
    assert d.state.scratch and d.state.image is None
    assert d.state.run_config.env == [f"PATH={DEFAULT_PATH}"]
    with pytest.raises(StepError, match='exec: "/bin/sh": stat /bin/sh'):
        step(d, "RUN true")
    step(d, "ENV A=1")
    assert backend.containers == {}
    assert b.lines[0].startswith(" ---> Running in ")
    assert b.lines[1].startswith("Removing intermediate container ")
    assert backend.history(d.state.image_id) == [("/bin/sh -c #(nop)  ENV A=1", True)]
    assert backend.layers[-1].parent_chain is None


def test_from_pulls_only_the_built_in_base(backend, new_builder):
    d = begin(new_builder(), baseimage.BASE_REFERENCE)
    assert backend.base_pulls == 1 and d.state.run_config.cmd == ["sh"]
    with pytest.raises(StepError) as e:
        begin(new_builder(), "nosuch:1")
    assert str(e.value) == PULL_ERROR


# -- cache ---------------------------------------------------------------------------------------
def test_a_second_build_uses_the_cache(backend, new_builder):
    d1 = begin(new_builder())
    step(d1, "ENV A=1")
    step(d1, "LABEL k=v")
    created = len(backend.containers)

    b2 = new_builder()
    d2 = begin(b2)
    step(d2, "ENV A=1")
    step(d2, "LABEL k=v")
    assert d2.state.image_id == d1.state.image_id
    assert b2.lines == [" ---> Using cache", " ---> Using cache"]
    assert len(backend.containers) == created


def test_the_first_miss_busts_the_cache_until_the_next_stage(backend, new_builder, monkeypatch):
    d1 = begin(new_builder())
    step(d1, "ENV A=1")

    b2 = new_builder()
    d2 = begin(b2)
    asked = []
    real = backend.get_cache
    monkeypatch.setattr(backend, "get_cache", lambda *a: asked.append(a) or real(*a))
    step(d2, "ENV A=2")  # a miss
    step(d2, "ENV B=1")  # not even asked
    assert len(asked) == 1 and b2.prober.cache_busted
    d3 = begin(b2)  # a new stage probes again
    assert not b2.prober.cache_busted
    step(d3, "ENV A=1")
    assert d3.state.image_id == d1.state.image_id


def test_no_cache_never_probes(backend, new_builder):
    d1 = begin(new_builder())
    step(d1, "ENV A=1")
    b2 = new_builder(nocache=True)
    d2 = begin(b2)
    step(d2, "ENV A=1")
    assert d2.state.image_id != d1.state.image_id  # a new image (a later `created`)
    assert " ---> Using cache" not in b2.lines


def test_compare_configs():
    a = ContainerConfig(cmd=["x"], env=["A=1"], labels={"k": "v"}, exposed_ports={"80/tcp": {}})
    assert compare_configs(a, a.copy())
    for change in (
        {"cmd": ["y"]},
        {"env": ["A=2"]},
        {"labels": {}},
        {"exposed_ports": {}},
        {"user": "me"},
        {"open_stdin": True},
    ):
        b = a.copy()
        for k, v in change.items():
            setattr(b, k, v)
        assert not compare_configs(a, b), change
    assert not compare_configs(a, None)


# -- RUN -----------------------------------------------------------------------------------------
def test_run_creates_starts_waits_and_commits_the_container(tmp_path):
    def run(c, fs):
        fs.write_bytes("/f", b"hi\n")
        return 0, b"out 1\nout 2\n"

    backend = FakeBackend(str(tmp_path / "root"), run=run)
    backend.add_image(ContainerConfig(env=list(BASE_ENV), cmd=["sh"]), ref="base:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    b = Builder(backend, str(ctx))
    d = begin(b)
    d.state.run_config.healthcheck = {"Test": ["NONE"]}
    step(d, "RUN echo hi > /f")
    (cid,) = backend.containers
    c = backend.containers[cid]
    assert (c.config.cmd, c.config.entrypoint, c.config.healthcheck) == (
        ["/bin/sh", "-c", "echo hi > /f"],
        None,
        None,
    )
    assert c.env == BASE_ENV
    assert [v for v, _ in backend.calls] == [
        "create",
        "start",
        "wait",
        "logs",
        "get_rw_layer",
        "rm",
    ]
    assert b.lines == [
        f" ---> Running in {truncate_id(cid)}",
        "out 1",
        "out 2",
        f"Removing intermediate container {truncate_id(cid)}",
    ]
    assert backend.history(d.state.image_id)[-1] == ("/bin/sh -c echo hi > /f", False)
    assert backend.layers[-1].listing.startswith(b"/f ")
    img = backend.images[d.state.image_id]
    assert img.container == cid and img.config.healthcheck == {"Test": ["NONE"]}


def test_run_sees_the_build_args_and_records_them(backend, new_builder):
    d = begin(new_builder(), args={"V": "9", "HTTP_PROXY": "p"})
    step(d, "ARG V")
    step(d, 'RUN ["sh", "-c", "echo $V"]')
    c = list(backend.containers.values())[-1]
    assert c.env == [*BASE_ENV, "V=9", "HTTP_PROXY=p"]
    # an unreferenced built-in arg (HTTP_PROXY) is passed but left out of the cache key
    assert c.config.cmd == ["sh", "-c", "echo $V"]
    assert last(backend, d) == ("|1 V=9 sh -c echo $V", True)  # it changed no file


def test_a_failed_run_keeps_its_container_unless_force_rm(tmp_path):
    backend = FakeBackend(str(tmp_path / "root"), run=lambda c, fs: (2, b"oops\n"))
    backend.add_image(ContainerConfig(env=list(BASE_ENV)), ref="base:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for forcerm, removed in ((False, False), (True, True)):
        b = Builder(backend, str(ctx), forcerm=forcerm)
        d = begin(b)
        with pytest.raises(StepError) as e:
            step(d, "RUN false")
        assert str(e.value) == "The command '/bin/sh -c false' returned a non-zero code: 2"
        c = list(backend.containers.values())[-1]
        assert c.removed is removed
        assert b.lines[-1].startswith("Removing intermediate") is removed


def test_buildkit_only_flags_fail_before_anything_runs(backend, new_builder):
    d = begin(new_builder())
    with pytest.raises(StepError) as e:
        step(d, "RUN --mount=type=cache,target=/x true")
    assert str(e.value) == BUILDKIT_ERROR.format(flag="mount")
    assert backend.containers == {}


# -- a whole build -------------------------------------------------------------------------------
FILE_A = "file:679c43c79a56cffbb3b002bda3050542c152a2f09757a0f1a9578871f7cda00d"  # hello\n 0644


def test_a_whole_build_on_the_fake_backend(backend, tmp_path):
    ctx = write_context(
        tmp_path / "app",
        {"Dockerfile": "FROM base:1\nCOPY a.txt /dst/\nRUN true\n", "a.txt": "hello\n"},
    )
    image_id, lines = build_on(backend, ctx, tags=["app"])
    base = backend.tags["base:1"]
    run_cid = next(iter(backend.containers))
    assert lines == [
        "Sending build context to Docker daemon  3.072kB",
        "Step 1/3 : FROM base:1",
        f" ---> {truncate_id(base)}",
        "Step 2/3 : COPY a.txt /dst/",
        f" ---> {truncate_id(backend.get_parent(image_id))}",
        "Step 3/3 : RUN true",
        f" ---> Running in {truncate_id(run_cid)}",
        f"Removing intermediate container {truncate_id(run_cid)}",
        f" ---> {truncate_id(image_id)}",
        f"Successfully built {truncate_id(image_id)}",
        "Successfully tagged app:latest",
    ]
    assert backend.tags["app:latest"] == image_id
    assert backend.history(image_id) == [
        (f"/bin/sh -c #(nop) COPY {FILE_A} in /dst/ ", False),
        ("/bin/sh -c true", True),
    ]
    copied = backend.layers[0]
    assert copied.listing.startswith(b"/dst 40755 ") and b"/dst/a.txt 100644 " in copied.listing
    assert os.listdir(backend.temp_dir()) != []  # the fake's RW folders
    assert not any(n.startswith("docker-builder") for n in os.listdir(backend.temp_dir()))

    again, lines2 = build_on(backend, ctx)
    assert again == image_id and lines2.count(" ---> Using cache") == 2


def test_a_failed_build_reports_its_lines(backend, tmp_path):
    ctx = write_context(tmp_path / "bad", {"Dockerfile": "FROM base:1\nCOPY nope /\n"})
    with pytest.raises(BuildError) as e:
        build_on(backend, ctx)
    assert e.value.build_log[-1] == (
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        "stat nope: file does not exist"
    )
