"""One function per Dockerfile instruction, and the table that picks it.

Each dispatcher changes the stage's run config and commits the step (a metadata step
commits a container that changed nothing: an `empty_layer` history entry); RUN runs a
container and commits its RW layer; COPY/ADD commit a fresh RW layer (copy.py).

moby: builder/dockerfile/dispatchers.go, evaluator.go dispatch
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dockerlayers.builder.buildargs import BuildArgs, arg_pairs
from dockerlayers.builder.copy import perform_copy
from dockerlayers.builder.internals import comment_config, commit, commit_container
from dockerlayers.builder.parser import (
    BUILDKIT_ERROR,
    BUILDKIT_ONLY,
    DockerfileEmptyError,
    Instruction,
    key_values,
    parse,
    split_words,
)
from dockerlayers.builder.state import (
    DEFAULT_PATH,
    DispatchRequest,
    DispatchState,
    Stage,
    StepError,
)
from dockerlayers.errors import PULL_ERROR, APIError
from dockerlayers.gostrings import go_quote_list
from dockerlayers.image.image import ContainerConfig, Image

if TYPE_CHECKING:
    from dockerlayers.builder.builder import Builder

Dispatcher = Callable[[DispatchRequest, Instruction], None]


def dispatch(d: DispatchRequest, ins: Instruction) -> None:
    """Run one instruction; then remove the step's containers (always with --force-rm,
    on success with --rm).

    moby: builder/dockerfile/evaluator.go dispatch
    """
    for flag in ins.flags:
        if flag in BUILDKIT_ONLY:
            raise StepError(BUILDKIT_ERROR.format(flag=flag))
    b = d.builder
    ok = False
    try:
        dispatcher = DISPATCHERS.get(ins.cmd)
        if dispatcher is not None:  # FROM starts a stage instead (initialize_stage)
            dispatcher(d, ins)
        ok = True
    finally:
        if b.forcerm or (b.rm and ok):
            b.containers.remove_all()


# -- stages --------------------------------------------------------------------------------------
def initialize_stage(b: Builder, stage: Stage, build_args: BuildArgs) -> DispatchState:
    """The FROM of a stage: its base (an earlier stage, an image, or scratch) and the run
    config it starts from.

    moby: builder/dockerfile/dispatchers.go initializeStage, dispatchState.beginStage
    """
    b.prober.reset()
    args = build_args.clone()
    args.reset_allowed()
    name = b.lex.process_word(stage.base, args.get_all_meta())
    if not name:
        raise StepError(f"base name ({stage.base}) should not be blank")
    image: Image | None = None
    image_id = ""
    if name.lower() in b.stages.by_name:
        image_id = b.stages.by_name[name.lower()]
        image = b.backend.get_image(image_id) if image_id else None
    elif name != "scratch":
        try:
            image = b.backend.get_image(name)
        except APIError:
            image = _pull(b, name)
        image_id = image.id
    cfg = (
        image.config.copy() if image is not None and image.config is not None else ContainerConfig()
    )
    env = list(cfg.env or [])
    if not any(e.split("=", 1)[0] == "PATH" for e in env):
        cfg.env = [*env, f"PATH={DEFAULT_PATH}"]
    cfg.open_stdin = False
    cfg.stdin_once = False
    return DispatchState(image, image_id, cfg, args, stage_name=stage.name, scratch=image is None)


def _pull(b: Builder, name: str) -> Image:
    """The only image a network-less daemon can "pull" is the built-in base; anything
    else fails as a daemon without registry access would.

    moby: dispatchers.go getFromImage -> imagecontext.go getImage (pull when missing)
    """
    from dockerlayers import baseimage

    ref = name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"
    if ref == baseimage.BASE_REFERENCE:
        return b.backend.get_image(b.backend.base_image())
    raise StepError(PULL_ERROR)


def dispatch_triggered_onbuild(d: DispatchRequest) -> None:
    """Run the base image's ONBUILD triggers as part of the FROM step (no step lines of
    their own), then forget them: the new image has no OnBuild unless it adds some.

    moby: builder/dockerfile/dispatchers.go dispatchTriggeredOnBuild
    """
    state = d.state
    triggers = state.run_config.on_build
    if not triggers:
        return
    state.run_config.on_build = None
    n = len(triggers)
    d.builder.log(f"# Executing {n} build trigger{'s' if n > 1 else ''}")
    for trigger in triggers:
        state.run_config.image = state.image_id
        try:
            parsed, _ = parse(trigger)
        except DockerfileEmptyError:
            parsed = []
        if len(parsed) != 1:
            raise StepError("onbuild trigger should be a single expression")
        dispatch(d, parsed[0])
        state.run_config.image = state.image_id


# -- metadata instructions -----------------------------------------------------------------------
def dispatch_env(d: DispatchRequest, ins: Instruction) -> None:
    """ENV k=v ...: set (or replace in place) each variable. moby: dispatchEnv"""
    cfg = d.state.run_config
    env = list(cfg.env or [])
    message = "ENV"
    expanded = d.state.expansion_env()
    for k, v in key_values(ins.args, "ENV"):
        k, v = d.lex.process_word(k, expanded), d.lex.process_word(v, expanded)
        if not k:
            raise StepError("ENV names can not be blank")
        message += f" {k}={v}"
        for i, e in enumerate(env):
            if e.split("=", 1)[0] == k:
                env[i] = f"{k}={v}"
                break
        else:
            env.append(f"{k}={v}")
    cfg.env = env
    commit(d, message)


def dispatch_maintainer(d: DispatchRequest, ins: Instruction) -> None:
    """MAINTAINER: the image's author. moby: dispatchMaintainer"""
    d.state.maintainer = ins.args
    commit(d, "MAINTAINER " + ins.args)


def dispatch_label(d: DispatchRequest, ins: Instruction) -> None:
    """LABEL k=v ... moby: dispatchLabel"""
    cfg = d.state.run_config
    labels = dict(cfg.labels or {})
    message = "LABEL"
    expanded = d.state.expansion_env()
    for k, v in key_values(ins.args, "LABEL"):
        k, v = d.lex.process_word(k, expanded), d.lex.process_word(v, expanded)
        if not k:
            raise StepError("LABEL names can not be blank")
        message += f" {k}={v}"
        labels[k] = v
    cfg.labels = labels
    commit(d, message)


def dispatch_workdir(d: DispatchRequest, ins: Instruction) -> None:
    """WORKDIR: the folder is made now, in a container, and committed.

    moby: dispatchers.go dispatchWorkdir
    """
    state = d.state
    requested = d.word(ins.args)
    current = state.run_config.working_dir
    wd = requested if requested.startswith("/") else posixpath.join("/", current, requested)
    if not requested.startswith("/"):
        wd = posixpath.normpath(wd)
    state.run_config.working_dir = wd
    run_config = comment_config(state, "WORKDIR " + wd, single=True)
    if d.builder.prober.probe(state, run_config):
        return
    container_id = d.builder.containers.create(state, run_config)
    if container_id:
        d.builder.backend.container_create_workdir(container_id, wd)
    commit_container(d, container_id, run_config)


def _command(d: DispatchRequest, ins: Instruction) -> list[str]:
    """The exec form as is, the shell form under the stage's SHELL."""
    return list(ins.json_form) if ins.json_form is not None else [*d.state.shell, ins.args]


def dispatch_cmd(d: DispatchRequest, ins: Instruction) -> None:
    """CMD. moby: dispatchCmd"""
    value = _command(d, ins)
    d.state.run_config.cmd = value
    commit(d, f"CMD {go_quote_list(value)}")
    if ins.args:
        d.state.cmd_set = True


def dispatch_entrypoint(d: DispatchRequest, ins: Instruction) -> None:
    """ENTRYPOINT; resets a CMD inherited from the base (not one set in this stage).

    moby: dispatchEntrypoint
    """
    value = _command(d, ins)
    cfg = d.state.run_config
    cfg.entrypoint = value
    if not d.state.cmd_set:
        cfg.cmd = None
    commit(d, f"ENTRYPOINT {go_quote_list(value)}")


def dispatch_expose(d: DispatchRequest, ins: Instruction) -> None:
    """EXPOSE port[/proto] ... (tcp by default), sorted as the comment shows them.

    moby: dispatchExpose
    """
    cfg = d.state.run_config
    ports = dict(cfg.exposed_ports or {})
    words: list[str] = []
    for p in sorted(split_words(ins.args)):
        words.extend(d.lex.process_words(p, d.state.expansion_env()))
    for p in words:
        ports[p if "/" in p else p + "/tcp"] = {}
    cfg.exposed_ports = ports
    commit(d, "EXPOSE " + " ".join(words))


def dispatch_user(d: DispatchRequest, ins: Instruction) -> None:
    """USER. moby: dispatchUser"""
    cfg = d.state.run_config
    cfg.user = d.word(ins.args)
    commit(d, "USER " + cfg.user)


def dispatch_volume(d: DispatchRequest, ins: Instruction) -> None:
    """VOLUME. moby: dispatchVolume"""
    raw = ins.json_form if ins.json_form is not None else split_words(ins.args)
    vols = [d.word(v) for v in raw]
    cfg = d.state.run_config
    volumes = dict(cfg.volumes or {})
    for v in vols:
        if not v.strip():
            raise StepError("VOLUME specified can not be an empty string")
        volumes[v] = {}
    cfg.volumes = volumes
    commit(d, "VOLUME [" + " ".join(vols) + "]")


def dispatch_stopsignal(d: DispatchRequest, ins: Instruction) -> None:
    """STOPSIGNAL. moby: dispatchStopSignal"""
    cfg = d.state.run_config
    cfg.stop_signal = d.word(ins.args)
    commit(d, "STOPSIGNAL " + cfg.stop_signal)


def dispatch_shell(d: DispatchRequest, ins: Instruction) -> None:
    """SHELL (exec form only, checked when parsed). moby: dispatchShell"""
    assert ins.json_form is not None
    d.state.run_config.shell = list(ins.json_form)
    commit(d, "SHELL [" + " ".join(ins.json_form) + "]")


def dispatch_arg(d: DispatchRequest, ins: Instruction) -> None:
    """ARG name[=default] ...: declared for the rest of the stage. moby: dispatchArg"""
    parts = []
    for key, value in arg_pairs(ins.args, d.lex, d.state.expansion_env()):
        parts.append(key if value is None else f"{key}={value}")
        d.state.build_args.add_arg(key, value)
    commit(d, "ARG " + " ".join(parts))


def dispatch_onbuild(d: DispatchRequest, ins: Instruction) -> None:
    """ONBUILD (the trigger checked when parsed). moby: dispatchOnbuild"""
    cfg = d.state.run_config
    cfg.on_build = [*(cfg.on_build or []), ins.args]
    commit(d, "ONBUILD " + ins.args)


def dispatch_healthcheck(d: DispatchRequest, ins: Instruction) -> None:
    """HEALTHCHECK NONE | [--interval ...] CMD ...; the comment is Go's %q of the struct.

    moby: dispatchers.go dispatchHealthcheck
    """
    words = split_words(ins.args)
    kind = words[0].upper()
    if kind == "NONE":
        if len(words) > 1:
            raise StepError("HEALTHCHECK NONE takes no arguments")
        hc: dict[str, Any] = {"Test": ["NONE"]}
    elif kind == "CMD":
        rest = ins.args[len(words[0]) :].strip()
        try:
            value = json.loads(rest)
            test = ["CMD", *value] if isinstance(value, list) else ["CMD-SHELL", rest]
        except ValueError:
            test = ["CMD-SHELL", rest]
        hc = {"Test": test}
        for flag, key in (
            ("interval", "Interval"),
            ("timeout", "Timeout"),
            ("start-period", "StartPeriod"),
        ):
            if ins.flags.get(flag):
                hc[key] = _duration_ns(ins.flags[flag] or "")
        if ins.flags.get("retries"):
            hc["Retries"] = int(ins.flags["retries"] or 0)
    else:
        raise StepError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    d.state.run_config.healthcheck = hc
    test = go_quote_list(hc["Test"])
    if kind == "NONE":
        comment = f'HEALTHCHECK &{{{test} "0s" "0s" "0s" \'\\x00\'}}'
    else:
        comment = (
            f"HEALTHCHECK &{{{test} {_go_duration(hc.get('Interval', 0))} "
            f"{_go_duration(hc.get('Timeout', 0))} {_go_duration(hc.get('StartPeriod', 0))} "
            f"'\\x{hc.get('Retries', 0):02x}'}}"
        )
    commit(d, comment)


def _go_duration(ns: int) -> str:
    """Go's %q of a time.Duration (`"1m30s"`)."""
    if not ns:
        return '"0s"'
    seconds = ns / 1e9
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    text = (f"{int(h)}h" if h else "") + (f"{int(m)}m" if h or m else "") + f"{s:g}s"
    return f'"{text}"'


def _duration_ns(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds."""
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", text):
        total += (
            float(num)
            * {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[unit]
        )
    return int(total)


# -- RUN, COPY, ADD ------------------------------------------------------------------------------
def dispatch_run(d: DispatchRequest, ins: Instruction) -> None:
    """RUN: a container from the current image runs the command; its RW layer is
    committed. The build args in effect prefix the cached Cmd (`|N k=v ...`).

    moby: builder/dockerfile/dispatchers.go dispatchRun
    """
    state = d.state
    if state.image is None and not state.scratch:
        raise StepError("Please provide a source image with `from` prior to run")
    if state.image is None:
        raise StepError(
            "OCI runtime create failed: container_linux.go:380: starting container process "
            'caused: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown'
        )
    cmd = _command(d, ins)
    build_env = state.build_args.filter_allowed(state.run_config.env)
    save_cmd = cmd
    if build_env:
        kept = sorted(
            e for e in build_env if not state.build_args.is_unreferenced_builtin(e.split("=", 1)[0])
        )
        save_cmd = [f"|{len(kept)}", *kept, *cmd]
    probe = state.run_config.copy()
    probe.cmd = save_cmd
    if save_cmd:
        probe.entrypoint = None
    if d.builder.prober.probe(state, probe):
        return
    exec_config = state.run_config.copy()
    exec_config.cmd = cmd
    exec_config.entrypoint = None
    exec_config.healthcheck = None
    containers = d.builder.containers
    container_id = containers.create(
        state, exec_config, env=[*(state.run_config.env or []), *build_env]
    )
    status = containers.run(container_id)
    if status != 0:
        raise StepError(f"The command '{' '.join(cmd)}' returned a non-zero code: {status}")
    commit_container(d, container_id, probe)


def dispatch_copy(d: DispatchRequest, ins: Instruction) -> None:
    """COPY [--from] [--chown] src... dest. moby: dispatchCopy"""
    perform_copy(d, ins)


def dispatch_add(d: DispatchRequest, ins: Instruction) -> None:
    """ADD: COPY that also unpacks a local tar. moby: dispatchAdd"""
    perform_copy(d, ins)


#: instruction (lower case) -> its dispatcher (moby: evaluator.go dispatch's type switch)
DISPATCHERS: dict[str, Dispatcher] = {
    "env": dispatch_env,
    "maintainer": dispatch_maintainer,
    "label": dispatch_label,
    "add": dispatch_add,
    "copy": dispatch_copy,
    "onbuild": dispatch_onbuild,
    "workdir": dispatch_workdir,
    "run": dispatch_run,
    "cmd": dispatch_cmd,
    "healthcheck": dispatch_healthcheck,
    "entrypoint": dispatch_entrypoint,
    "expose": dispatch_expose,
    "user": dispatch_user,
    "volume": dispatch_volume,
    "stopsignal": dispatch_stopsignal,
    "arg": dispatch_arg,
    "shell": dispatch_shell,
}
