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

This module holds the build loop (stages, step lines, tags); each instruction's work is
in dispatchers.py (COPY/ADD in copy.py), the shared commit/cache glue in internals.py,
ARG handling in buildargs.py, and what the builder asks of the daemon in backend.py.

moby (20.10): builder/dockerfile/builder.go, api/server/backend/build/{backend,tag}.go
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from typing import Any

from dockerlayers.builder.backend import Backend, DaemonBackend
from dockerlayers.builder.buildargs import BuildArgs, arg_pairs
from dockerlayers.builder.dispatchers import (
    dispatch,
    dispatch_triggered_onbuild,
    initialize_stage,
)
from dockerlayers.builder.dockerignore import IgnoreError, PatternMatcher, read_dockerignore
from dockerlayers.builder.internals import ContainerManager, ImageProber
from dockerlayers.builder.parser import (
    DockerfileEmptyError,
    DockerfileParseError,
    Instruction,
    ShellLex,
    parse,
    split_words,
)
from dockerlayers.builder.state import (
    DispatchRequest,
    DispatchState,
    Stage,
    StageResults,
    StepError,
)
from dockerlayers.errors import APIError, BuildError
from dockerlayers.layer.errors import LayerError
from dockerlayers.stringid import truncate_id


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
    """Build `context` (a folder) on a Daemon and return (image ID, the lines the legacy
    builder prints).

    Errors raise BuildError whose `build_log` holds the lines printed so far (the error's
    text last).

    moby: builder/dockerfile/builder.go BuildManager.Build
    """
    return build_on(
        DaemonBackend(daemon),
        context,
        tags=tags,
        dockerfile=dockerfile,
        buildargs=buildargs,
        target=target,
        nocache=nocache,
        rm=rm,
        forcerm=forcerm,
    )


def build_on(
    backend: Backend,
    context: str,
    *,
    tags: list[str] | None = None,
    dockerfile: str = "Dockerfile",
    buildargs: dict[str, str] | None = None,
    target: str | None = None,
    nocache: bool = False,
    rm: bool = True,
    forcerm: bool = False,
) -> tuple[str, list[str]]:
    """`build` on any Backend (a Daemon's adapter, or a test's fake)."""
    b = Builder(
        backend,
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
    except (StepError, APIError, DockerfileParseError, ValueError, LayerError) as e:
        b.log(str(e))
        raise BuildError(str(e), b.lines) from None
    finally:
        b.cleanup()
    return image_id, b.lines


class Builder:
    """One `docker build` with DOCKER_BUILDKIT=0.

    moby: builder/dockerfile/builder.go Builder
    """

    def __init__(
        self,
        backend: Backend,
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
        self.backend = backend
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
        self.stages = StageResults()
        self.prober = ImageProber(backend, nocache, self.log)
        self.containers = ContainerManager(backend, self.log)
        self.context_dir: str | None = None
        self.ignore = PatternMatcher([])

    def log(self, line: str) -> None:
        """One line of the build's output."""
        self.lines.append(line)

    def cleanup(self) -> None:
        """Remove the unpacked context."""
        if self.context_dir is not None:
            shutil.rmtree(self.context_dir, ignore_errors=True)
            self.context_dir = None

    def request(self, state: DispatchState) -> DispatchRequest:
        """moby: evaluator.go newDispatchRequest"""
        return DispatchRequest(state, self.lex, self)

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
            raise StepError(f"the Dockerfile ({self.dockerfile}) cannot be empty")
        try:
            instructions, escape = parse(data.decode("utf-8", "replace"))
        except DockerfileEmptyError as e:
            raise StepError(f"failed to parse Dockerfile: {e}") from None
        self.lex = ShellLex(escape)
        meta_args, stages = self._stages(instructions)
        if self.target is not None:
            names = [s.name for s in stages]
            if self.target.lower() not in names:
                raise StepError(f"failed to reach build target {self.target} in Dockerfile")
            stages = stages[: names.index(self.target.lower()) + 1]
        total = len(meta_args) + sum(1 + len(s.instructions) for s in stages)
        step = 0
        build_args = BuildArgs(self.buildargs)
        for ins in meta_args:
            step += 1
            self.log(f"Step {step}/{total} : {ins.original}")
            env = build_args.get_all_allowed()
            for key, value in arg_pairs(ins.args, self.lex, env):
                build_args.add_arg(key, value)
                build_args.add_meta_arg(key, value)
        state: DispatchState | None = None
        for stage in stages:
            if stage.name and stage.name in self.stages.by_name:
                raise StepError(f"{stage.name} stage name already used")
            step += 1
            self.log(f"Step {step}/{total} : {stage.from_instruction.original}")
            state = initialize_stage(self, stage, build_args)
            state.run_config.image = state.image_id  # dispatchState.updateRunConfig
            dispatch_triggered_onbuild(self.request(state))
            self.log(f" ---> {truncate_id(self.shown_id(state.image_id))}")
            for ins in stage.instructions:
                step += 1
                self.log(f"Step {step}/{total} : {ins.original}")
                dispatch(self.request(state), ins)
                state.run_config.image = state.image_id
                self.log(f" ---> {truncate_id(self.shown_id(state.image_id))}")
            build_args.referenced |= state.build_args.referenced
            self.stages.add(stage.name, state.image_id)
        assert state is not None
        if not state.image_id:
            raise StepError("No image was generated. Is your Dockerfile empty?")
        unused = build_args.unused()
        if unused:
            self.log(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        self.log(f"Successfully built {truncate_id(self.shown_id(state.image_id))}")
        for ref in refs:
            self.backend.tag_image(state.image_id, ref)
            self.log(f"Successfully tagged {ref}")
        return state.image_id

    def shown_id(self, image_id: str) -> str:
        """The image ID the output shows (Docker 29's containerd store: the manifest's
        digest; the backend's `image_id` when it has one)."""
        shown = getattr(self.backend, "image_id", None)
        return shown(image_id) if shown is not None else image_id

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
                    raise StepError("no build stage in current context")
                meta.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            raise StepError("no build stage in current context")
        return meta, stages

    # -- the context -----------------------------------------------------------------------------
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
        self.context_dir = tempfile.mkdtemp(prefix="docker-builder", dir=self.backend.temp_dir())
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


# -- helpers -----------------------------------------------------------------------------------
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
