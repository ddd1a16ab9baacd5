"""The legacy builder (`DOCKER_BUILDKIT=0 docker build`): each step = run + commit.

`RUN` creates a container from the current image, starts it, waits, and commits its RW
layer as a new image layer; metadata steps (ENV, CMD, LABEL, ARG, ...) commit a container
that changed nothing (an `empty_layer` history entry); `WORKDIR` commits a container in
which the folder was made; `COPY`/`ADD` write into a fresh RW layer on the image and
commit it (no container). Before each step the cache is probed: a child of the current
image whose `container_config` equals the step's is reused (` ---> Using cache`); after the
first miss the rest of the stage is built.

Multi-stage builds: each `FROM` starts a stage; `COPY --from=<name|index|image>` reads
another stage's (or image's) filesystem; only the last (or `--target`) stage's chain ends
up in the tagged image; the last image of every other stage stays behind as a dangling
(`<none>:<none>`) image, as with Docker 20.10 (`docker image prune` removes it).

moby (20.10): builder/dockerfile/{builder,evaluator,dispatchers,internals,copy,buildargs,
imagecontext,imageprobe,containerbackend}.go, builder/remotecontext/{lazycontext,tarsum}.go,
image/cache/{cache,compare}.go, api/server/backend/build/{backend,tag}.go
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.builder.dockerignore import IgnoreError, PatternMatcher, read_dockerignore
from dockerlayers.builder.parser import (
    BUILDKIT_ERROR,
    BUILDKIT_ONLY,
    DockerfileEmptyError,
    DockerfileParseError,
    Instruction,
    ShellLex,
    key_values,
    parse,
    split_words,
)
from dockerlayers.errors import PULL_ERROR, APIError, BuildError
from dockerlayers.gostrings import go_quote_list
from dockerlayers.image.image import ContainerConfig, Image, new_child_image
from dockerlayers.stringid import truncate_id

DEFAULT_SHELL = ["/bin/sh", "-c"]
#: moby: pkg/system DefaultPathEnv (Linux)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Build args Docker accepts without an ARG line (moby: builder/dockerfile/buildargs.go).
BUILTIN_ARGS = frozenset(
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "FTP_PROXY",
        "ftp_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
)


# -- build args ------------------------------------------------------------------------------------
class BuildArgs:
    """`--build-arg` values and the ARGs declared so far.

    moby: builder/dockerfile/buildargs.go BuildArgs
    """

    def __init__(self, from_options: dict[str, str | None]) -> None:
        self.args_from_options = dict(from_options)
        self.allowed_build_args: dict[str, str | None] = {}
        self.allowed_meta_args: dict[str, str | None] = {}
        self.referenced: set[str] = set()

    def clone(self) -> BuildArgs:
        other = BuildArgs(self.args_from_options)
        other.allowed_build_args = dict(self.allowed_build_args)
        other.allowed_meta_args = dict(self.allowed_meta_args)
        other.referenced = set(self.referenced)
        return other

    def reset_allowed(self) -> None:
        self.allowed_build_args = {}

    def add_arg(self, key: str, value: str | None) -> None:
        self.allowed_build_args[key] = value
        self.referenced.add(key)

    def add_meta_arg(self, key: str, value: str | None) -> None:
        self.allowed_meta_args[key] = value

    def _get(self, key: str, mapping: dict[str, str | None]) -> tuple[str, bool]:
        default = mapping.get(key)
        exists = key in mapping
        if self.args_from_options.get(key) is not None:
            return self.args_from_options[key], True  # type: ignore[return-value]
        if default is None:
            meta = self.allowed_meta_args.get(key)
            if meta is not None:
                return meta, True
            return "", False
        return default, exists

    def _all(self, mapping: dict[str, str | None]) -> dict[str, str]:
        out = {}
        for key in [*mapping, *sorted(BUILTIN_ARGS)]:
            value, ok = self._get(key, mapping)
            if ok:
                out[key] = value
        return out

    def get_all_allowed(self) -> dict[str, str]:
        return self._all(self.allowed_build_args)

    def get_all_meta(self) -> dict[str, str]:
        return self._all(self.allowed_meta_args)

    def filter_allowed(self, env: list[str] | None) -> list[str]:
        """The allowed args as `k=v`, minus those the config's Env already sets."""
        keys = {e.split("=", 1)[0] for e in env or []}
        return [f"{k}={v}" for k, v in self.get_all_allowed().items() if k not in keys]

    def is_unreferenced_builtin(self, key: str) -> bool:
        return key in BUILTIN_ARGS and key not in self.allowed_build_args

    def unused(self) -> list[str]:
        return sorted(
            k for k in self.args_from_options if k not in BUILTIN_ARGS and k not in self.referenced
        )


# -- state -------------------------------------------------------------------------------------
@dataclass
class Stage:
    """One `FROM` and what follows it (moby: instructions.Stage)."""

    index: int
    base: str
    name: str
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class _State:
    """The build state of the current stage (moby: dispatchState)."""

    image: Image | None
    image_id: str
    run_config: ContainerConfig
    build_args: BuildArgs
    stage_name: str = ""
    cmd_set: bool = False
    maintainer: str = ""
    scratch: bool = False

    @property
    def shell(self) -> list[str]:
        return list(self.run_config.shell or DEFAULT_SHELL)


@dataclass
class _CopyInfo:
    """One source of a COPY/ADD: its path in the source, resolved path, and cache hash."""

    path: str  # as given (relative to the source root, cleaned)
    resolved: str  # absolute in-source path after following symlinks in scope
    hash: str


class _StepError(Exception):
    """An error of the current step (printed as is, no `Error response from daemon`)."""


def build(
    daemon: Any,
    context: str,
    *,
    tags: list[str] | None = None,
    dockerfile: str = "Dockerfile",
    buildargs: dict[str, str] | None = None,
    target: str | None = None,
    nocache: bool = False,
    rm: bool = True,
    forcerm: bool = False,
    **_ignored: Any,
) -> tuple[str, list[str]]:
    """Build `context` (a folder) and return (image ID, the lines the legacy builder prints).

    Errors raise BuildError whose `build_log` holds the lines printed so far (the error's
    text last).
    """
    b = Builder(
        daemon,
        context,
        dockerfile=dockerfile,
        tags=tags or [],
        buildargs=buildargs or {},
        target=target,
        nocache=nocache,
        rm=rm,
        forcerm=forcerm,
    )
    try:
        image_id = b.run()
    except BuildError:
        raise
    except (_StepError, APIError, DockerfileParseError, ValueError) as e:
        b.log(str(e))
        raise BuildError(str(e), b.lines) from None
    finally:
        b.cleanup()
    return image_id, b.lines


class Builder:
    """One `docker build` with DOCKER_BUILDKIT=0."""

    def __init__(
        self,
        daemon: Any,
        context: str,
        *,
        dockerfile: str = "Dockerfile",
        tags: list[str] | None = None,
        buildargs: dict[str, str] | None = None,
        target: str | None = None,
        nocache: bool = False,
        rm: bool = True,
        forcerm: bool = False,
    ) -> None:
        self.daemon = daemon
        self.context = os.path.abspath(context)
        self.dockerfile = dockerfile
        self.tags = list(tags or [])
        self.buildargs: dict[str, str | None] = dict(buildargs or {})
        self.target = target
        self.nocache = nocache
        self.rm = rm
        self.forcerm = forcerm
        self.lines: list[str] = []
        self.lex = ShellLex()
        self.stage_images: dict[str, str] = {}  # stage name -> image ID ("" = scratch)
        self.stage_list: list[str] = []  # by index
        self.tmp_containers: list[str] = []
        self.cache_busted = False
        self.context_dir: str | None = None
        self.ignore = PatternMatcher([])

    @property
    def svc(self):
        return self.daemon.image_service

    def log(self, line: str) -> None:
        self.lines.append(line)

    def cleanup(self) -> None:
        if self.context_dir is not None:
            shutil.rmtree(self.context_dir, ignore_errors=True)
            self.context_dir = None

    # -- driving -----------------------------------------------------------------------------
    def run(self) -> str:
        """moby: builder/dockerfile/builder.go Build, dispatchDockerfileWithCancellation"""
        path = os.path.join(self.context, self.dockerfile)
        if not os.path.isfile(path):
            raise BuildError(f"Cannot locate specified Dockerfile: {self.dockerfile}", self.lines)
        refs = []
        for tag in self.tags:
            from dockerlayers.image.refname import parse_normalized_named

            ref = tag if ":" in tag.rsplit("/", 1)[-1] else tag + ":latest"
            parse_normalized_named(ref)
            refs.append(ref)
        with open(path, "rb") as f:
            data = f.read()
        self._prepare_context()
        if not data:
            raise _StepError(f"the Dockerfile ({self.dockerfile}) cannot be empty")
        try:
            instructions, escape = parse(data.decode("utf-8", "replace"))
        except DockerfileEmptyError as e:
            raise _StepError(f"failed to parse Dockerfile: {e}") from None
        self.lex = ShellLex(escape)
        meta_args, stages = self._stages(instructions)
        if self.target is not None:
            names = [s.name for s in stages]
            if self.target.lower() not in names:
                raise _StepError(f"failed to reach build target {self.target} in Dockerfile")
            stages = stages[: names.index(self.target.lower()) + 1]
        total = len(meta_args) + sum(1 + len(s.instructions) for s in stages)
        step = 0
        build_args = BuildArgs(self.buildargs)
        for ins in meta_args:
            step += 1
            self.log(f"Step {step}/{total} : {ins.original}")
            env = build_args.get_all_allowed()
            for key, value in self._arg_pairs(ins, env):
                build_args.add_arg(key, value)
                build_args.add_meta_arg(key, value)
        state: _State | None = None
        for stage in stages:
            if stage.name and stage.name in self.stage_images:
                raise _StepError(f"{stage.name} stage name already used")
            step += 1
            self.log(f"Step {step}/{total} : {stage.from_instruction.original}")
            state = self._from(stage, build_args)
            state.run_config.image = state.image_id  # dispatchState.updateRunConfig
            self._triggers(state)
            self.log(f" ---> {truncate_id(state.image_id)}")
            for ins in stage.instructions:
                step += 1
                self.log(f"Step {step}/{total} : {ins.original}")
                self._dispatch(state, ins)
                state.run_config.image = state.image_id
                self.log(f" ---> {truncate_id(state.image_id)}")
            build_args.referenced |= state.build_args.referenced
            self.stage_list.append(state.image_id)
            if stage.name:
                self.stage_images[stage.name] = state.image_id
        assert state is not None
        if not state.image_id:
            raise _StepError("No image was generated. Is your Dockerfile empty?")
        unused = build_args.unused()
        if unused:
            self.log(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        self.log(f"Successfully built {truncate_id(state.image_id)}")
        for ref in refs:
            self.svc.tag(state.image_id, ref)
            self.log(f"Successfully tagged {ref}")
        return state.image_id

    def _stages(self, instructions: list[Instruction]) -> tuple[list[Instruction], list[Stage]]:
        """moby: builder/dockerfile/instructions/parse.go Parse"""
        meta: list[Instruction] = []
        stages: list[Stage] = []
        for ins in instructions:
            if ins.cmd == "from":
                words = split_words(ins.args)
                name = words[2].lower() if len(words) == 3 else ""
                stages.append(Stage(len(stages), words[0], name, ins))
            elif not stages:
                if ins.cmd != "arg":
                    raise _StepError("no build stage in current context")
                meta.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            raise _StepError("no build stage in current context")
        return meta, stages

    def _pull(self, name: str) -> Image:
        """The only image a network-less daemon can "pull" is the built-in base; anything
        else fails as a daemon without registry access would."""
        from dockerlayers import baseimage

        ref = name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"
        if ref == baseimage.BASE_REFERENCE and hasattr(self.daemon, "base_image"):
            return self.svc.get_image(self.daemon.base_image())
        raise _StepError(PULL_ERROR)

    def _from(self, stage: Stage, build_args: BuildArgs) -> _State:
        """moby: builder/dockerfile/dispatchers.go initializeStage, dispatchState.beginStage"""
        self.cache_busted = False  # imageProber.Reset
        args = build_args.clone()
        args.reset_allowed()
        name = self.lex.process_word(stage.base, args.get_all_meta())
        if not name:
            raise _StepError(f"base name ({stage.base}) should not be blank")
        image: Image | None = None
        image_id = ""
        if name.lower() in self.stage_images:
            image_id = self.stage_images[name.lower()]
            image = self.svc.get_image(image_id) if image_id else None
        elif name != "scratch":
            try:
                image = self.svc.get_image(name)
            except APIError:
                image = self._pull(name)
            image_id = image.id
        cfg = (
            image.config.copy()
            if image is not None and image.config is not None
            else ContainerConfig()
        )
        env = list(cfg.env or [])
        if not any(e.split("=", 1)[0] == "PATH" for e in env):
            cfg.env = [*env, f"PATH={DEFAULT_PATH}"]
        cfg.open_stdin = False
        cfg.stdin_once = False
        return _State(image, image_id, cfg, args, stage_name=stage.name, scratch=image is None)

    def _triggers(self, state: _State) -> None:
        """Run the base image's ONBUILD triggers as part of the FROM step (no step lines of
        their own), then forget them: the new image has no OnBuild unless it adds some.

        moby: builder/dockerfile/dispatchers.go initializeStage, dispatchTriggeredOnBuild
        """
        triggers = state.run_config.on_build
        if not triggers:
            return
        state.run_config.on_build = None
        n = len(triggers)
        self.log(f"# Executing {n} build trigger{'s' if n > 1 else ''}")
        for trigger in triggers:
            state.run_config.image = state.image_id
            try:
                parsed, _ = parse(trigger)
            except DockerfileEmptyError:
                parsed = []
            if len(parsed) != 1:
                raise _StepError("onbuild trigger should be a single expression")
            self._dispatch(state, parsed[0])
            state.run_config.image = state.image_id

    # -- instructions ------------------------------------------------------------------------
    def _env(self, state: _State) -> dict[str, str]:
        """The variables an instruction's words see: Env first, then the allowed build args."""
        env: dict[str, str] = {}
        for e in [
            *(state.run_config.env or []),
            *state.build_args.filter_allowed(state.run_config.env),
        ]:
            k, _, v = e.partition("=")
            env.setdefault(k, v)
        return env

    def _word(self, state: _State, word: str) -> str:
        return self.lex.process_word(word, self._env(state))

    def _dispatch(self, state: _State, ins: Instruction) -> None:
        """moby: builder/dockerfile/evaluator.go dispatch (+ the temp-container clean-up)"""
        for flag in ins.flags:
            if flag in BUILDKIT_ONLY:
                raise _StepError(BUILDKIT_ERROR.format(flag=flag))
        ok = False
        try:
            self._dispatch_one(state, ins)
            ok = True
        finally:
            if self.forcerm or (self.rm and ok):
                self._remove_tmp_containers()

    def _remove_tmp_containers(self) -> None:
        for cid in self.tmp_containers:
            try:
                self.daemon.remove(cid, force=True, v=True)
            except APIError:
                continue
            self.log(f"Removing intermediate container {truncate_id(cid)}")
        self.tmp_containers = []

    def _dispatch_one(self, state: _State, ins: Instruction) -> None:
        cmd = ins.cmd
        cfg = state.run_config
        if cmd == "run":
            self._run(state, ins)
        elif cmd in ("copy", "add"):
            self._copy(state, ins)
        elif cmd == "env":
            env = list(cfg.env or [])
            message = "ENV"
            expanded = self._env(state)
            for k, v in key_values(ins.args, "ENV"):
                k, v = self.lex.process_word(k, expanded), self.lex.process_word(v, expanded)
                if not k:
                    raise _StepError("ENV names can not be blank")
                message += f" {k}={v}"
                for i, e in enumerate(env):
                    if e.split("=", 1)[0] == k:
                        env[i] = f"{k}={v}"
                        break
                else:
                    env.append(f"{k}={v}")
            cfg.env = env
            self._commit(state, message)
        elif cmd == "label":
            labels = dict(cfg.labels or {})
            message = "LABEL"
            expanded = self._env(state)
            for k, v in key_values(ins.args, "LABEL"):
                k, v = self.lex.process_word(k, expanded), self.lex.process_word(v, expanded)
                if not k:
                    raise _StepError("LABEL names can not be blank")
                message += f" {k}={v}"
                labels[k] = v
            cfg.labels = labels
            self._commit(state, message)
        elif cmd == "workdir":
            self._workdir(state, ins)
        elif cmd in ("cmd", "entrypoint"):
            value = ins.json_form if ins.json_form is not None else [*state.shell, ins.args]
            if cmd == "cmd":
                cfg.cmd = value
                self._commit(state, f"CMD {go_quote_list(value)}")
                if ins.args:
                    state.cmd_set = True
            else:
                cfg.entrypoint = value
                if not state.cmd_set:
                    cfg.cmd = None
                self._commit(state, f"ENTRYPOINT {go_quote_list(value)}")
        elif cmd == "expose":
            ports = dict(cfg.exposed_ports or {})
            words: list[str] = []
            for p in sorted(split_words(ins.args)):
                words.extend(self.lex.process_words(p, self._env(state)))
            for p in words:
                ports[p if "/" in p else p + "/tcp"] = {}
            cfg.exposed_ports = ports
            self._commit(state, "EXPOSE " + " ".join(words))
        elif cmd == "user":
            cfg.user = self._word(state, ins.args)
            self._commit(state, "USER " + cfg.user)
        elif cmd == "volume":
            raw = ins.json_form if ins.json_form is not None else split_words(ins.args)
            vols = [self._word(state, v) for v in raw]
            volumes = dict(cfg.volumes or {})
            for v in vols:
                if not v.strip():
                    raise _StepError("VOLUME specified can not be an empty string")
                volumes[v] = {}
            cfg.volumes = volumes
            self._commit(state, "VOLUME [" + " ".join(vols) + "]")
        elif cmd == "stopsignal":
            cfg.stop_signal = self._word(state, ins.args)
            self._commit(state, "STOPSIGNAL " + cfg.stop_signal)
        elif cmd == "shell":
            assert ins.json_form is not None
            cfg.shell = list(ins.json_form)
            self._commit(state, "SHELL [" + " ".join(ins.json_form) + "]")
        elif cmd == "maintainer":
            state.maintainer = ins.args
            self._commit(state, "MAINTAINER " + ins.args)
        elif cmd == "arg":
            parts = []
            for key, value in self._arg_pairs(ins, self._env(state)):
                parts.append(key if value is None else f"{key}={value}")
                state.build_args.add_arg(key, value)
            self._commit(state, "ARG " + " ".join(parts))
        elif cmd == "onbuild":  # triggers checked when parsed
            cfg.on_build = [*(cfg.on_build or []), ins.args]
            self._commit(state, "ONBUILD " + ins.args)
        elif cmd == "healthcheck":
            self._healthcheck(state, ins)

    def _arg_pairs(self, ins: Instruction, env: dict[str, str]) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        for word in split_words(ins.args):
            k, eq, v = word.partition("=")
            out.append((k, self.lex.process_word(v, env) if eq else None))
        return out

    def _healthcheck(self, state: _State, ins: Instruction) -> None:
        """moby: dispatchers.go dispatchHealthcheck (the comment is Go's %q of the struct)"""
        words = split_words(ins.args)
        kind = words[0].upper()
        if kind == "NONE":
            if len(words) > 1:
                raise _StepError("HEALTHCHECK NONE takes no arguments")
            hc: dict[str, Any] = {"Test": ["NONE"]}
        elif kind == "CMD":
            rest = ins.args[len(words[0]) :].strip()
            import json as _json

            try:
                value = _json.loads(rest)
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
            raise _StepError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
        state.run_config.healthcheck = hc
        test = go_quote_list(hc["Test"])
        if kind == "NONE":
            comment = f'HEALTHCHECK &{{{test} "0s" "0s" "0s" \'\\x00\'}}'
        else:
            comment = (
                f"HEALTHCHECK &{{{test} {_go_duration(hc.get('Interval', 0))} "
                f"{_go_duration(hc.get('Timeout', 0))} {_go_duration(hc.get('StartPeriod', 0))} "
                f"'\\x{hc.get('Retries', 0):02x}'}}"
            )
        self._commit(state, comment)

    # -- cache -------------------------------------------------------------------------------
    def _probe_cache(self, state: _State, run_config: ContainerConfig) -> bool:
        """A child of the current image made by the same step, newest first.

        moby: builder/dockerfile/imageprobe.go, image/cache/cache.go getLocalCachedImage
        """
        if self.nocache or self.cache_busted:
            return False
        store = self.svc.image_store
        if state.image_id:
            siblings = list(store.children(state.image_id))
        else:
            siblings = [
                i for i in store.map() if not store.get_parent(i) and store.is_built_locally(i)
            ]
        match: Image | None = None
        for image_id in siblings:
            img = store.get(image_id)
            if compare_configs(img.container_config, run_config) and (
                match is None or match.created < img.created
            ):
                match = img
        if match is None:
            self.cache_busted = True
            return False
        self.log(" ---> Using cache")
        state.image_id = match.id
        state.image = self.svc.get_image(match.id)
        return True

    # -- commits -----------------------------------------------------------------------------
    def _comment_config(self, state: _State, comment: str, single: bool = False) -> ContainerConfig:
        """moby: internals.go withCmdComment / withCmdCommentString"""
        cfg = state.run_config.copy()
        cfg.cmd = (
            [*state.shell, "#(nop) " + comment] if single else [*state.shell, "#(nop) ", comment]
        )
        return cfg

    def _commit(self, state: _State, comment: str) -> None:
        """A step that changes only metadata: probe the cache, else commit a container.

        moby: builder/dockerfile/internals.go commit, probeAndCreate
        """
        run_config = self._comment_config(state, comment)
        if self._probe_cache(state, run_config):
            return
        container_id = self._create(state, run_config)
        self._commit_container(state, container_id, run_config)

    def _workdir(self, state: _State, ins: Instruction) -> None:
        """moby: dispatchers.go dispatchWorkdir (the folder is made now, in a container)"""
        requested = self._word(state, ins.args)
        current = state.run_config.working_dir
        wd = requested if requested.startswith("/") else posixpath.join("/", current, requested)
        if not requested.startswith("/"):
            wd = posixpath.normpath(wd)
        state.run_config.working_dir = wd
        run_config = self._comment_config(state, "WORKDIR " + wd, single=True)
        if self._probe_cache(state, run_config):
            return
        container_id = self._create(state, run_config)
        if container_id:
            fs = self.daemon.mount(container_id)
            path = posixpath.normpath(wd)
            if not fs.isdir(path):
                fs.mkdir(path, 0o755, parents=True, exist_ok=True)
                _chown_root(fs, path)
        self._commit_container(state, container_id, run_config)

    def _create(
        self, state: _State, run_config: ContainerConfig, env: list[str] | None = None
    ) -> str:
        """moby: containerbackend.go Create (` ---> Running in <id>`)"""
        if state.image is None:
            # FROM scratch: the engine runs a container on an empty root filesystem; the
            # model commits the (empty) step without one.
            cid = self.daemon.ids.generate_random_id()
            self.log(f" ---> Running in {truncate_id(cid)}")
            self.log(f"Removing intermediate container {truncate_id(cid)}")
            return ""
        cfg = run_config.to_json()
        c = self.daemon.create(
            state.image_id,
            cfg.get("Cmd") or [],
            entrypoint=cfg.get("Entrypoint") if cfg.get("Entrypoint") else [""],
            environment=env if env is not None else cfg.get("Env"),
            working_dir=cfg.get("WorkingDir") or None,
            user=cfg.get("User") or None,
            labels=cfg.get("Labels") or None,
        )
        self.tmp_containers.append(c.id)
        self.log(f" ---> Running in {truncate_id(c.id)}")
        return c.id

    def _commit_container(
        self, state: _State, container_id: str, container_config: ContainerConfig
    ) -> None:
        """moby: internals.go commitContainer -> daemon CommitBuildStep"""
        if not container_id:
            self._commit_layer(state, None, container_config)
            return
        rw = self.daemon.layer_store.get_rw_layer(container_id)
        try:
            self._commit_layer(state, rw, container_config, container_id)
        finally:
            self.daemon.layer_store.release_rw_layer(rw)

    def _commit_layer(
        self, state: _State, rw: Any, container_config: ContainerConfig, container_id: str = ""
    ) -> None:
        """Register the RW layer's diff on the current image and make the child image."""
        ls = self.daemon.layer_store
        parent_chain = (
            state.image.rootfs.chain_id()
            if state.image is not None and state.image.rootfs
            else None
        )
        if rw is None:
            from dockerlayers.digest import EMPTY_TAR

            layer = ls.register(EMPTY_TAR, parent_chain)
        else:
            with rw.tar_stream() as tar:
                layer = ls.register(tar, parent_chain)
        try:
            child = new_child_image(
                state.image,
                diff_id=layer.diff_id,
                created=self.svc.now(),
                container_config=container_config,
                config=state.run_config.copy(),
                container_id=container_id,
                author=state.maintainer,
            )
            image_id = self.svc.create_image(child.marshal(), parent=state.image_id)
        finally:
            ls.release(layer)
        state.image_id = image_id
        state.image = self.svc.get_image(image_id)

    # -- RUN -----------------------------------------------------------------------------------
    def _run(self, state: _State, ins: Instruction) -> None:
        """moby: builder/dockerfile/dispatchers.go dispatchRun"""
        if state.image is None and not state.scratch:
            raise _StepError("Please provide a source image with `from` prior to run")
        if state.image is None:
            raise _StepError(
                "OCI runtime create failed: container_linux.go:380: starting container process "
                'caused: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown'
            )
        cmd = list(ins.json_form) if ins.json_form is not None else [*state.shell, ins.args]
        build_env = state.build_args.filter_allowed(state.run_config.env)
        save_cmd = cmd
        if build_env:
            kept = sorted(
                e
                for e in build_env
                if not state.build_args.is_unreferenced_builtin(e.split("=", 1)[0])
            )
            save_cmd = [f"|{len(kept)}", *kept, *cmd]
        probe = state.run_config.copy()
        probe.cmd = save_cmd
        if save_cmd:
            probe.entrypoint = None
        if self._probe_cache(state, probe):
            return
        exec_config = state.run_config.copy()
        exec_config.cmd = cmd
        exec_config.entrypoint = None
        exec_config.healthcheck = None
        container_id = self._create(
            state, exec_config, env=[*(state.run_config.env or []), *build_env]
        )
        self.daemon.start(container_id)
        result = self.daemon.wait(container_id)
        out = self.daemon.logs(container_id)
        for line in out.decode("utf-8", "replace").splitlines():
            self.log(line)
        if result["StatusCode"] != 0:
            raise _StepError(
                f"The command '{' '.join(cmd)}' returned a non-zero code: {result['StatusCode']}"
            )
        self._commit_container(state, container_id, probe)

    # -- COPY / ADD ----------------------------------------------------------------------------
    def _copy(self, state: _State, ins: Instruction) -> None:
        """COPY/ADD into a fresh RW layer on the image, then commit it (no container).

        moby: builder/dockerfile/dispatchers.go dispatchCopy/dispatchAdd, copy.go,
        internals.go performCopy
        """
        name = ins.cmd.upper()
        raw = ins.json_form if ins.json_form is not None else split_words(ins.args)
        env = self._env(state)
        words = [self.lex.process_word(w, env) for w in raw]
        srcs, dest = words[:-1], words[-1]
        chown = ins.flags.get("chown") or ""
        if chown:
            chown = self.lex.process_word(chown, env)
        from_ref = ins.flags.get("from")
        source: _Source
        release = None
        if from_ref is not None:
            source, release = self._image_source(from_ref)
        else:
            assert self.context_dir is not None
            source = _Source(self.context_dir, None, context=True)
        try:
            infos: list[_CopyInfo] = []
            for src in srcs:
                if src.startswith(("http://", "https://")):
                    if ins.cmd == "copy":
                        raise _StepError(f"{name} failed: source can't be a URL for COPY")
                    raise _StepError(f"{name} failed: downloading {src}: the model has no network")
                try:
                    infos.extend(self._copy_infos(source, src, allow_wildcards=True))
                except FileNotFoundError as e:
                    raise _StepError(f"{name} failed: {e.args[0]}") from None
            if not infos:
                raise _StepError(f"{name} failed: no source files were specified")
            if len(infos) > 1 and not dest.endswith("/"):
                raise _StepError(
                    f"When using {name} with more than one source file, the destination must "
                    "be a directory and end with a /"
                )
            if len(infos) == 1:
                src_hash = infos[0].hash
            else:
                src_hash = (
                    "multi:" + hashlib.sha256(",".join(i.hash for i in infos).encode()).hexdigest()
                )
            chown_comment = f"--chown={chown}" if chown else ""
            comment = f"{name} {chown_comment}{src_hash} in {dest} "
            run_config = self._comment_config(state, comment, single=True)
            if self._probe_cache(state, run_config):
                return
            uid, gid = _parse_chown(chown) if chown else (0, 0)
            ls = self.daemon.layer_store
            parent_chain = (
                state.image.rootfs.chain_id()
                if state.image is not None and state.image.rootfs
                else None
            )
            rw = ls.create_rw_layer(self.daemon.ids.generate_random_id(), parent_chain, None)
            try:
                fs = rw.mount()
                try:
                    dest_path = _normalize_dest(state.run_config.working_dir, dest)
                    for info in infos:
                        self._perform_copy(
                            fs, source, info, dest_path, ins.cmd == "add", (uid, gid)
                        )
                finally:
                    rw.unmount()
                self._commit_layer(state, rw, run_config)
            finally:
                ls.release_rw_layer(rw)
        finally:
            if release is not None:
                release()

    def _image_source(self, ref: str) -> tuple[_Source, Any]:
        """`--from`: a finished stage (by name or index) or an image.

        moby: dispatchers.go getImageMount, stagesBuildResults.get
        """
        image_id: str | None
        if ref.lower() in self.stage_images:
            image_id = self.stage_images[ref.lower()]
        else:
            try:
                index = int(ref)
            except ValueError:
                index = None
            if index is not None:
                if index < 0 or index >= len(self.stage_list):
                    raise _StepError(f"invalid from flag value {ref}: index out of bounds")
                image_id = self.stage_list[index]
            else:
                try:
                    image_id = self.svc.get_image(ref).id
                except APIError:
                    raise _StepError(f"invalid from flag value {ref}: {PULL_ERROR}") from None
        if not image_id:  # a scratch stage: nothing in it
            empty = tempfile.mkdtemp(prefix="docker-builder", dir=self._tmp_root())
            return _Source(empty, None, context=False), lambda: shutil.rmtree(
                empty, ignore_errors=True
            )
        img = self.svc.get_image(image_id)
        chain = img.rootfs.chain_id() if img.rootfs else None
        ls = self.daemon.layer_store
        rw = ls.create_rw_layer(self.daemon.ids.generate_random_id(), chain, None)
        fs = rw.mount()

        def release() -> None:
            rw.unmount()
            ls.release_rw_layer(rw)

        return _Source(None, fs, context=False), release

    def _copy_infos(self, source: _Source, orig: str, allow_wildcards: bool) -> list[_CopyInfo]:
        """moby: builder/dockerfile/copy.go calcCopyInfo, copyWithWildcards, walkSource"""
        if orig.startswith("/") and len(orig) > 1:
            orig = orig[1:]
        if orig.startswith("./"):
            orig = orig[2:]
        if allow_wildcards and any(ch in orig for ch in "*?["):
            out: list[_CopyInfo] = []
            for rel in source.walk_all():
                if _go_path_match(orig, rel):
                    out.extend(self._copy_infos(source, rel, False))
            return out
        clean = posixpath.normpath(orig or ".")
        if clean == ".." or clean.startswith("../"):
            raise FileNotFoundError(f"forbidden path outside the build context: {orig} ()")
        resolved = source.resolve("/" + clean if clean != "." else "/")
        st = source.stat(resolved) if resolved is not None else None
        if st is None:
            if source.context:
                raise FileNotFoundError(
                    "file not found in build context or excluded by .dockerignore: "
                    f"stat {orig}: file does not exist"
                )
            raise FileNotFoundError(f"stat {orig}: file does not exist")
        assert resolved is not None
        if not stat.S_ISDIR(st.st_mode):
            return [_CopyInfo(clean, resolved, "file:" + source.file_hash(resolved))]
        hashes = []
        for p in source.walk_tree(resolved):
            if p == "/":
                continue
            hashes.append(source.file_hash(p))
        hashes.sort()
        return [
            _CopyInfo(
                clean, resolved, "dir:" + hashlib.sha256(",".join(hashes).encode()).hexdigest()
            )
        ]

    def _perform_copy(
        self,
        fs: Any,
        source: _Source,
        info: _CopyInfo,
        dest: str,
        is_add: bool,
        owner: tuple[int, int],
    ) -> None:
        """moby: builder/dockerfile/copy.go performCopyForInfo"""
        dest_clean = posixpath.normpath(dest)
        st = source.stat(info.resolved)
        assert st is not None
        if stat.S_ISDIR(st.st_mode):
            self._copy_directory(fs, source, info.resolved, dest_clean, owner)
            return
        if is_add and source.context and _is_archive(source.host(info.resolved)):
            self._extract(fs, source.host(info.resolved), dest_clean, owner)
            return
        target = dest_clean
        if dest.endswith("/") or (fs.lexists(dest_clean) and fs.isdir(dest_clean)):
            target = posixpath.join(dest_clean, posixpath.basename(info.path))
        _mkdir_all(fs, posixpath.dirname(target), owner)
        self._copy_file(fs, source, info.resolved, target, owner, follow=True)

    def _copy_file(
        self,
        fs: Any,
        source: _Source,
        src: str,
        target: str,
        owner: tuple[int, int],
        follow: bool = False,
    ) -> None:
        st = source.stat(src) if follow else source.lstat(src)
        assert st is not None
        if fs.lexists(target) and not (fs.isdir(target) and not fs.islink(target)):
            fs.remove(target)
        if stat.S_ISLNK(st.st_mode):
            fs.symlink(source.readlink(src), target)
            _chown(fs, target, owner)
            return
        if fs.isdir(target):
            raise _StepError(f"cannot overwrite directory {target} with non-directory {src}")
        mode = stat.S_IMODE(st.st_mode)
        fs.write_bytes(target, source.read(src), mode)
        fs.chmod(target, mode)
        _chown(fs, target, owner)
        fs.utime(target, (int(st.st_mtime), int(st.st_mtime)))

    def _copy_directory(
        self, fs: Any, source: _Source, src: str, dest: str, owner: tuple[int, int]
    ) -> None:
        """The folder's *contents* into dest (moby: copyDirectory -> archiver.CopyWithTar)."""
        _mkdir_all(fs, dest, owner)
        dir_times = []
        for p in source.walk_tree(src):
            if p == src:
                continue
            rel = posixpath.relpath(p, src)
            target = posixpath.join(dest, rel)
            st = source.lstat(p)
            assert st is not None
            if stat.S_ISDIR(st.st_mode):
                if fs.lexists(target) and not fs.isdir(target):
                    fs.remove(target)
                if not fs.lexists(target):
                    fs.mkdir(target, stat.S_IMODE(st.st_mode))
                fs.chmod(target, stat.S_IMODE(st.st_mode))
                _chown(fs, target, owner)
                dir_times.append((target, int(st.st_mtime)))
            else:
                self._copy_file(fs, source, p, target, owner)
        for target, mtime in reversed(dir_times):
            fs.utime(target, (mtime, mtime))

    def _extract(self, fs: Any, host: str, dest: str, owner: tuple[int, int]) -> None:
        """ADD of a local tar (plain, gzip, bzip2, xz): unpacked into dest.

        moby: pkg/archive UntarPath (via the builder's archiver)
        """
        _mkdir_all(fs, dest, owner)
        dir_times = []
        with tarfile.open(host, "r:*") as tf:
            for m in tf.getmembers():
                name = posixpath.normpath(m.name.lstrip("/"))
                if name == ".." or name.startswith("../"):
                    # moby: pkg/archive createTarFile's breakoutError
                    raise BuildError(f'"{m.name}" is outside of "{dest}"', self.lines)
                if name in (".", ""):
                    continue
                target = posixpath.join(dest, name)
                _mkdir_all(fs, posixpath.dirname(target), owner)
                if fs.lexists(target) and not (m.isdir() and fs.isdir(target)):
                    if fs.isdir(target) and not fs.islink(target):
                        fs.rmtree(target)
                    else:
                        fs.remove(target)
                if m.isdir():
                    if not fs.lexists(target):
                        fs.mkdir(target, m.mode & 0o7777)
                    fs.chmod(target, m.mode & 0o7777)
                    dir_times.append((target, int(m.mtime)))
                elif m.issym():
                    fs.symlink(m.linkname, target)
                elif m.islnk():
                    fs.link(
                        posixpath.join(dest, posixpath.normpath(m.linkname.lstrip("/"))), target
                    )
                    continue
                elif m.isfile():
                    f = tf.extractfile(m)
                    fs.write_bytes(target, f.read() if f else b"", m.mode & 0o7777)
                    fs.chmod(target, m.mode & 0o7777)
                    fs.utime(target, (int(m.mtime), int(m.mtime)))
                else:
                    continue
                _chown(fs, target, (m.uid, m.gid))
        for target, mtime in reversed(dir_times):
            fs.utime(target, (mtime, mtime))

    # -- the context -----------------------------------------------------------------------------
    def _tmp_root(self) -> str | None:
        root = getattr(self.daemon, "root", None)
        if not root:
            return None
        path = os.path.join(root, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def _prepare_context(self) -> None:
        """What the CLI sends and the daemon unpacks: the context minus `.dockerignore`d
        paths, in `<root>/tmp/docker-builder*` (removed after the build).

        moby: docker/cli build (TarWithOptions + TrimBuildFilesFromExcludes),
        builder/remotecontext/detect.go (FromArchive, removeDockerfile)
        """
        try:
            self.ignore = read_dockerignore(self.context)
        except IgnoreError as e:
            raise BuildError(f"error checking context: {e}", self.lines) from None
        kept = list(self.ignore.walk(self.context))
        sent = list(kept)
        for always in (".dockerignore", self.dockerfile):
            if always not in sent and os.path.lexists(os.path.join(self.context, always)):
                sent.append(always)
        self.log(
            f"Sending build context to Docker daemon  {_human_size(_tar_size(self.context, sent))}"
        )
        self.context_dir = tempfile.mkdtemp(prefix="docker-builder", dir=self._tmp_root())
        dir_times = []
        for rel in kept:
            src = os.path.join(self.context, rel)
            dst = os.path.join(self.context_dir, rel)
            st = os.lstat(src)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(src), dst)
                continue
            if stat.S_ISDIR(st.st_mode):
                os.makedirs(dst, exist_ok=True)
                os.chmod(dst, stat.S_IMODE(st.st_mode) | 0o700)
                dir_times.append((dst, int(st.st_mtime), stat.S_IMODE(st.st_mode)))
            elif stat.S_ISREG(st.st_mode):
                shutil.copyfile(src, dst)
                os.chmod(dst, stat.S_IMODE(st.st_mode))
                os.utime(dst, (int(st.st_mtime), int(st.st_mtime)))
        for dst, mtime, mode in reversed(dir_times):
            os.chmod(dst, mode | 0o700)
            os.utime(dst, (mtime, mtime))


# -- sources -----------------------------------------------------------------------------------
class _Source:
    """Where COPY reads from: the unpacked context (a host folder) or an image's root
    filesystem (a RootFS). Paths are absolute inside the source (`/a/b`).

    moby: builder/remotecontext/lazycontext.go (hashes), pkg/symlink FollowSymlinkInScope
    """

    def __init__(self, root: str | None, fs: Any, context: bool) -> None:
        self.root = root
        self.fs = fs
        self.context = context

    def host(self, path: str) -> str:
        assert self.root is not None
        return os.path.join(self.root, path.lstrip("/"))

    def lstat(self, path: str) -> os.stat_result | None:
        try:
            return os.lstat(self.host(path)) if self.fs is None else self.fs.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat(self, path: str) -> os.stat_result | None:
        resolved = self.resolve(path)
        return self.lstat(resolved) if resolved is not None else None

    def readlink(self, path: str) -> str:
        return os.readlink(self.host(path)) if self.fs is None else self.fs.readlink(path)

    def read(self, path: str) -> bytes:
        if self.fs is not None:
            return self.fs.read_bytes(path)
        with open(self.host(path), "rb") as f:
            return f.read()

    def listdir(self, path: str) -> list[str]:
        try:
            names = os.listdir(self.host(path)) if self.fs is None else self.fs.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(names)

    def resolve(self, path: str) -> str | None:
        """Follow symlinks, never leaving the source's root; None if it does not exist."""
        parts = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            cur = "/" + "/".join([*done, part])
            st = self.lstat(cur)
            if st is None:
                return None
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > 255:
                    return None
                target = self.readlink(cur)
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            done.append(part)
        return "/" + "/".join(done)

    def walk_tree(self, top: str) -> list[str]:
        """`top` and everything under it, lexical order, symlinks not followed."""
        out = [top]
        st = self.lstat(top)
        if st is None or not stat.S_ISDIR(st.st_mode):
            return out
        for name in self.listdir(top):
            out.extend(self.walk_tree(posixpath.join(top, name)))
        return out

    def walk_all(self) -> list[str]:
        """Every path of the source, relative (for wildcard matching)."""
        return [p.lstrip("/") for p in self.walk_tree("/") if p != "/"]

    def file_hash(self, path: str) -> str:
        """The tarsum-style hash of one path: its tar header fields, then its content.

        moby: builder/remotecontext/tarsum.go + lazycontext.go prepareHash (NewFileHash,
        tarsum.WriteV1Header)
        """
        st = self.lstat(path)
        assert st is not None
        rel = path.lstrip("/")
        h = hashlib.sha256()
        if stat.S_ISDIR(st.st_mode):
            typeflag, mode_bits, size, name = "5", 0o040000, 0, rel + "/"
        elif stat.S_ISLNK(st.st_mode):
            typeflag, mode_bits, size, name = "2", 0o120000, 0, rel
        else:
            typeflag, mode_bits, size, name = "0", 0o100000, st.st_size, rel
        link = self.readlink(path) if typeflag == "2" else ""
        # the context's hashes come from the tar the CLI sent (owner 0:0, no names); an
        # image's from its files, with the names dockerd's os/user finds for the owner
        uid, gid = (0, 0) if self.context else (st.st_uid, st.st_gid)
        uname, gname = ("", "") if self.context else (_user_name(uid), _group_name(gid))
        mode = stat.S_IMODE(st.st_mode) | mode_bits
        for key, value in (
            ("name", name),
            ("mode", str(mode)),
            ("uid", str(uid)),
            ("gid", str(gid)),
            ("size", str(size)),
            ("typeflag", typeflag),
            ("linkname", link),
            ("uname", uname),
            ("gname", gname),
            ("devmajor", "0"),
            ("devminor", "0"),
        ):
            h.update((key + value).encode("utf-8", "surrogateescape"))
        if typeflag == "0" and size:
            h.update(self.read(path))
        return h.hexdigest()


# -- helpers -----------------------------------------------------------------------------------
def compare_configs(a: ContainerConfig | None, b: ContainerConfig | None) -> bool:
    """Whether a cached image's container_config matches a step's.

    moby: image/cache/compare.go compare
    """
    if a is None or b is None or a.open_stdin or b.open_stdin:
        return False
    if (a.attach_stdout, a.attach_stderr, a.user, a.tty) != (
        b.attach_stdout,
        b.attach_stderr,
        b.user,
        b.tty,
    ):
        return False
    for x, y in (
        (a.cmd, b.cmd),
        (a.env, b.env),
        (a.entrypoint, b.entrypoint),
    ):
        if list(x or []) != list(y or []):
            return False
    if dict(a.labels or {}) != dict(b.labels or {}):
        return False
    if set(a.exposed_ports or {}) != set(b.exposed_ports or {}):
        return False
    return set(a.volumes or {}) == set(b.volumes or {})


def _go_duration(ns: int) -> str:
    if not ns:
        return '"0s"'
    seconds = ns / 1e9
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    text = (f"{int(h)}h" if h else "") + (f"{int(m)}m" if h or m else "") + f"{s:g}s"
    return f'"{text}"'


def _duration_ns(text: str) -> int:
    import re

    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", text):
        total += (
            float(num)
            * {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[unit]
        )
    return int(total)


def _normalize_dest(working_dir: str, requested: str) -> str:
    """moby: copy.go normalizeDest (relative to WORKDIR, trailing slash kept)"""
    if requested.startswith("/"):
        return requested
    dest = posixpath.normpath(posixpath.join("/", working_dir or "/", requested))
    return dest + "/" if requested.endswith("/") and dest != "/" else dest


def _go_path_match(pattern: str, name: str) -> bool:
    """Go's filepath.Match: `*` and `?` stop at `/`, `[...]` classes (`^`/`!` negate)."""
    import re

    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = pattern.find("]", i + 2)
            if j == -1:
                return False
            body = pattern[i + 1 : j]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.fullmatch("".join(out), name) is not None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return "root" if uid == 0 else ""


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return "root" if gid == 0 else ""


def _parse_chown(spec: str) -> tuple[int, int]:
    user, _, group = spec.partition(":")
    try:
        uid = int(user)
        gid = int(group) if group else uid
    except ValueError:
        if user == "root" and group in ("", "root"):
            return 0, 0
        raise _StepError(
            f"unable to convert uid/gid chown string to host mapping: can't find "
            f"uid for user {user}: no such user: {user}"
        ) from None
    return uid, gid


def _chown(fs: Any, path: str, owner: tuple[int, int]) -> None:
    try:
        fs.chown(path, *owner)
    except (OSError, NotImplementedError):
        pass


def _chown_root(fs: Any, path: str) -> None:
    _chown(fs, path, (0, 0))


def _mkdir_all(fs: Any, path: str, owner: tuple[int, int]) -> None:
    """MkdirAllAndChownNew: missing folders made 0755, owned like the copied files."""
    missing = []
    p = posixpath.normpath(path)
    while p not in ("/", "") and not fs.lexists(p):
        missing.append(p)
        p = posixpath.dirname(p)
    for d in reversed(missing):
        fs.mkdir(d, 0o755)
        _chown(fs, d, owner)


def _is_archive(path: str) -> bool:
    try:
        return os.path.isfile(path) and tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


def _tar_size(root: str, paths: list[str]) -> int:
    """The size of the context tar the CLI sends: a 512-byte header per entry, contents
    padded to 512 bytes, 1024 bytes of end marker (Go's archive/tar, no record padding)."""
    total = 1024
    for rel in paths:
        try:
            st = os.lstat(os.path.join(root, rel))
        except OSError:
            continue
        total += 512
        if len(rel) + (1 if stat.S_ISDIR(st.st_mode) else 0) > 100:
            total += 1024  # a PAX header for the long name
        if stat.S_ISREG(st.st_mode):
            total += (st.st_size + 511) // 512 * 512
    return total


def _human_size(n: int) -> str:
    """docker's units.HumanSizeWithPrecision(size, 4), as the build prints it."""
    units = ["B", "kB", "MB", "GB", "TB"]
    size = float(n)
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{units[i]}"
