"""The legacy builder: each Dockerfile step runs in a container that is then committed.

`RUN` creates a container from the current image, starts it, waits, and commits its RW
layer as a new image layer; metadata steps (ENV, CMD, LABEL, ...) commit a container that
changed nothing (an `empty_layer` history entry); `COPY`/`ADD` write into a fresh RW layer
and commit it. A step whose parent image already has a child made by the same step (same
container config) is taken from the cache.

moby: builder/dockerfile/{builder,dispatchers,internals,copy,imagecontext}.go,
image/cache/compare.go
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.builder.dockerignore import read_dockerignore
from dockerlayers.builder.parser import (
    DockerfileParseError,
    Instruction,
    expand,
    key_values,
    parse,
    split_words,
)
from dockerlayers.errors import APIError, BuildError
from dockerlayers.image.image import ContainerConfig, Image, new_child_image
from dockerlayers.stringid import truncate_id

DEFAULT_SHELL = ["/bin/sh", "-c"]
#: Build args Docker accepts without an ARG line (moby: builder/dockerfile/buildargs.go).
BUILTIN_ARGS = frozenset(
    "HTTP_PROXY http_proxy HTTPS_PROXY https_proxy FTP_PROXY ftp_proxy NO_PROXY no_proxy "
    "ALL_PROXY all_proxy".split()
)


@dataclass
class Stage:
    """One `FROM` and what follows it (moby: instructions.Stage)."""

    index: int
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)
    from_instruction: Instruction | None = None


@dataclass
class _State:
    """The build state of the current stage (moby: dispatchState)."""

    image: Image | None
    image_id: str
    run_config: ContainerConfig
    cmd_set: bool = False
    args: dict[str, str | None] = field(default_factory=dict)
    shell: list[str] | None = None


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
    **_ignored: Any,
) -> tuple[str, list[str]]:
    """Build `context` (a folder) and return (image ID, the lines the legacy builder prints).

    Errors raise BuildError whose `build_log` holds the lines printed so far.
    """
    b = Builder(daemon, context, dockerfile=dockerfile, tags=tags or [], buildargs=buildargs or {}, target=target, nocache=nocache, rm=rm)
    try:
        image_id = b.run()
    except BuildError:
        raise
    except (APIError, DockerfileParseError, ValueError) as e:
        b.log(str(e))
        raise BuildError(str(e), b.lines) from None
    return image_id, b.lines


class Builder:
    """One `docker build` with DOCKER_BUILDKIT=0."""

    def __init__(self, daemon: Any, context: str, *, dockerfile: str, tags: list[str], buildargs: dict[str, str], target: str | None, nocache: bool, rm: bool) -> None:
        self.daemon = daemon
        self.context = os.path.abspath(context)
        self.dockerfile = dockerfile
        self.tags = tags
        self.buildargs = dict(buildargs)
        self.target = target
        self.nocache = nocache
        self.rm = rm
        self.lines: list[str] = []
        self.used_args: set[str] = set()
        self.stage_images: dict[str, str] = {}  # stage name or index -> image ID
        self.ignore = read_dockerignore(self.context)

    @property
    def svc(self):
        return self.daemon.image_service

    def log(self, line: str) -> None:
        self.lines.append(line)

    # -- driving -----------------------------------------------------------------------------
    def run(self) -> str:
        """moby: builder/dockerfile/builder.go Build / dispatchDockerfileWithCancellation"""
        path = os.path.join(self.context, self.dockerfile)
        if not os.path.isfile(path):
            raise BuildError(
                f"Cannot locate specified Dockerfile: {self.dockerfile}", self.lines
            )
        for tag in self.tags:
            from dockerlayers.image.refname import parse_normalized_named

            parse_normalized_named(tag if ":" in tag.rsplit("/", 1)[-1] else tag + ":latest")
        self.log(f"Sending build context to Docker daemon  {_human_size_ctx(self._context_size())}")
        with open(path, encoding="utf-8") as f:
            instructions = parse(f.read())
        if not instructions:
            raise BuildError("the Dockerfile (Dockerfile) cannot be empty", self.lines)
        meta_args, stages = self._stages(instructions)
        if self.target is not None:
            names = [s.name for s in stages]
            if self.target not in names:
                raise BuildError(f"failed to reach build target {self.target} in Dockerfile", self.lines)
            stages = stages[: names.index(self.target) + 1]
        total = len(meta_args) + sum(1 + len(s.instructions) for s in stages)
        step = 0
        meta_env: dict[str, str] = {}
        for ins in meta_args:
            step += 1
            self.log(f"Step {step}/{total} : {ins.original}")
            for key, value in _arg_pairs(ins):
                self.used_args.add(key) if key in self.buildargs else None
                meta_env[key] = self.buildargs.get(key, value or "")
        state: _State | None = None
        for stage in stages:
            step += 1
            assert stage.from_instruction is not None
            self.log(f"Step {step}/{total} : {stage.from_instruction.original}")
            state = self._from(stage, meta_env)
            for ins in stage.instructions:
                step += 1
                self.log(f"Step {step}/{total} : {ins.original}")
                self._dispatch(state, ins)
            self.stage_images[str(stage.index)] = state.image_id
            if stage.name:
                self.stage_images[stage.name] = state.image_id
        assert state is not None
        if not state.image_id:
            raise BuildError("No image was generated. Is your Dockerfile empty?", self.lines)
        unused = sorted(k for k in self.buildargs if k not in self.used_args and k not in BUILTIN_ARGS)
        if unused:
            self.log(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        self.log(f"Successfully built {truncate_id(state.image_id)}")
        for tag in self.tags:
            ref = tag if ":" in tag.rsplit("/", 1)[-1] else tag + ":latest"
            self.svc.tag(state.image_id, ref)
            self.log(f"Successfully tagged {ref}")
        return state.image_id

    def _stages(self, instructions: list[Instruction]) -> tuple[list[Instruction], list[Stage]]:
        meta: list[Instruction] = []
        stages: list[Stage] = []
        for ins in instructions:
            if ins.cmd == "from":
                words = split_words(ins.args)
                if len(words) == 3 and words[1].lower() == "as":
                    name = words[2].lower()
                elif len(words) == 1:
                    name = ""
                else:
                    raise DockerfileParseError(ins.line, "FROM requires either one or three arguments")
                stages.append(Stage(len(stages), words[0], name, [], ins))
            elif not stages:
                if ins.cmd != "arg":
                    raise DockerfileParseError(ins.line, "no build stage in current context")
                meta.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            raise DockerfileParseError(1, "no build stage in current context")
        return meta, stages

    def _from(self, stage: Stage, meta_env: dict[str, str]) -> _State:
        """moby: builder/dockerfile/dispatchers.go initializeStage"""
        base = expand(stage.base, meta_env)
        if base.lower() == "scratch":
            return _State(None, "", ContainerConfig(), args=dict(meta_env))
        if base.lower() in self.stage_images:
            image_id = self.stage_images[base.lower()]
        else:
            image_id = self.svc.get_image(base).id
        image = self.svc.get_image(image_id)
        self.log(f" ---> {truncate_id(image_id)}")
        cfg = image.config.copy() if image.config is not None else ContainerConfig()
        return _State(image, image_id, cfg, args={})

    # -- instructions ------------------------------------------------------------------------
    def _env(self, state: _State) -> dict[str, str]:
        env = {k: v for k, v in ((e.split("=", 1) + [""])[:2] for e in (state.run_config.env or []))}
        merged = {k: (v or "") for k, v in state.args.items()}
        merged.update(env)
        return merged

    def _dispatch(self, state: _State, ins: Instruction) -> None:
        cmd = ins.cmd
        args = expand(ins.args, self._env(state)) if cmd in ("env", "label", "workdir", "user", "expose", "stopsignal", "volume") else ins.args
        cfg = state.run_config
        if cmd == "run":
            self._run(state, ins)
            return
        if cmd in ("copy", "add"):
            self._copy(state, ins)
            return
        if cmd == "env":
            pairs = key_values(args)
            env = list(cfg.env or [])
            for k, v in pairs:
                env = [e for e in env if e.split("=", 1)[0] != k] + [f"{k}={v}"]
            cfg.env = env
            self._commit_meta(state, "ENV " + " ".join(f"{k}={v}" for k, v in pairs))
        elif cmd == "label":
            pairs = key_values(args)
            labels = dict(cfg.labels or {})
            labels.update(pairs)
            cfg.labels = labels
            self._commit_meta(state, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs))
        elif cmd == "workdir":
            wd = args.strip()
            if not wd.startswith("/"):
                wd = posixpath.join(cfg.working_dir or "/", wd)
            cfg.working_dir = posixpath.normpath(wd)
            self._commit_meta(state, "WORKDIR " + cfg.working_dir, mkdir=cfg.working_dir)
        elif cmd in ("cmd", "entrypoint"):
            value = ins.json_form if ins.json_form is not None else (state.shell or DEFAULT_SHELL) + [ins.args]
            if cmd == "cmd":
                cfg.cmd = value
                state.cmd_set = True
            else:
                cfg.entrypoint = value
                if not state.cmd_set:
                    cfg.cmd = None
            self._commit_meta(state, f"{cmd.upper()} {_go_quote_list(value)}")
        elif cmd == "expose":
            ports = dict(cfg.exposed_ports or {})
            for p in split_words(args):
                ports[p if "/" in p else p + "/tcp"] = {}
            cfg.exposed_ports = ports
            self._commit_meta(state, "EXPOSE " + " ".join(sorted(ports)))
        elif cmd == "user":
            cfg.user = args.strip()
            self._commit_meta(state, "USER " + cfg.user)
        elif cmd == "volume":
            vols = ins.json_form if ins.json_form is not None else split_words(args)
            volumes = dict(cfg.volumes or {})
            for v in vols:
                volumes[v] = {}
            cfg.volumes = volumes
            self._commit_meta(state, "VOLUME [" + " ".join(vols) + "]")
        elif cmd == "stopsignal":
            cfg.stop_signal = args.strip()
            self._commit_meta(state, "STOPSIGNAL " + cfg.stop_signal)
        elif cmd == "shell":
            if ins.json_form is None:
                raise DockerfileParseError(ins.line, "SHELL requires the arguments to be in JSON form")
            state.shell = ins.json_form
            cfg.shell = ins.json_form
            self._commit_meta(state, f"SHELL {_go_quote_list(ins.json_form)}")
        elif cmd == "maintainer":
            self.author = args.strip()
            self._commit_meta(state, "MAINTAINER " + args.strip())
        elif cmd == "arg":
            for key, default in _arg_pairs(ins):
                if key in self.buildargs:
                    self.used_args.add(key)
                    state.args[key] = self.buildargs[key]
                else:
                    state.args[key] = default
            self._commit_meta(state, "ARG " + ins.args)
        elif cmd == "onbuild":
            cfg.on_build = [*(cfg.on_build or []), args]
            self._commit_meta(state, "ONBUILD " + args)
        elif cmd == "healthcheck":
            self._commit_meta(state, "HEALTHCHECK " + args)

    def _probe_cache(self, state: _State, run_config: ContainerConfig) -> str | None:
        """An image made from the same parent by the same step, if any.

        moby: image/cache/cache.go getLocalCachedImage, image/cache/compare.go compare
        """
        if self.nocache:
            return None
        store = self.svc.image_store
        key = _cache_key(run_config)
        for image_id in sorted(store.map()):
            if store.get_parent(image_id) != state.image_id:
                continue
            if not state.image_id and not store.is_built_locally(image_id):
                continue
            img = store.get(image_id)
            if _cache_key(img.container_config) == key:
                return image_id
        return None

    def _use_cache(self, state: _State, run_config: ContainerConfig) -> bool:
        hit = self._probe_cache(state, run_config)
        if hit is None:
            return False
        self.log(" ---> Using cache")
        self._advance(state, hit)
        return True

    def _advance(self, state: _State, image_id: str) -> None:
        state.image_id = image_id
        state.image = self.svc.get_image(image_id)
        self.log(f" ---> {truncate_id(image_id)}")

    def _comment_config(self, state: _State, comment: str) -> ContainerConfig:
        cfg = state.run_config.copy()
        cfg.cmd = [*DEFAULT_SHELL, f"#(nop) {comment}"]
        return cfg

    def _commit_meta(self, state: _State, comment: str, mkdir: str | None = None) -> None:
        """A step that changes only metadata: probe the cache, else commit a container.

        moby: builder/dockerfile/internals.go commit
        """
        run_config = self._comment_config(state, comment)
        if self._use_cache(state, run_config):
            return
        if state.image is None:
            # FROM scratch with no layer yet: nothing to run a container from.
            self._commit_layer(state, None, run_config)
            return
        container_id = self._create_container(state, run_config)
        if mkdir:
            fs = self.daemon.mount(container_id)
            fs.mkdir(mkdir, 0o755, parents=True, exist_ok=True)
        self._commit_container(state, container_id, run_config)

    def _create_container(self, state: _State, run_config: ContainerConfig, env: list[str] | None = None) -> str:
        cfg = run_config.to_json()
        c = self.daemon.create(
            state.image_id,
            cfg.get("Cmd") or [],
            entrypoint=cfg.get("Entrypoint") if cfg.get("Entrypoint") else [""],
            environment=env,
            working_dir=cfg.get("WorkingDir") or None,
            user=cfg.get("User") or None,
            labels=cfg.get("Labels") or None,
        )
        self.log(f" ---> Running in {truncate_id(c.id)}")
        return c.id

    def _commit_container(self, state: _State, container_id: str, run_config: ContainerConfig) -> None:
        """moby: builder/dockerfile/internals.go commitContainer -> daemon.CommitBuildStep"""
        rw = self.daemon.layer_store.get_rw_layer(container_id)
        try:
            self._commit_layer(state, rw, run_config, container_id)
        finally:
            self.daemon.layer_store.release_rw_layer(rw)
        if self.rm:
            self.daemon.remove(container_id, force=True)
            self.log(f"Removing intermediate container {truncate_id(container_id)}")
        self.log(f" ---> {truncate_id(state.image_id)}")

    def _commit_layer(self, state: _State, rw: Any, run_config: ContainerConfig, container_id: str = "") -> None:
        """Register the RW layer's diff on the current image and make the child image."""
        ls = self.daemon.layer_store
        parent_chain = state.image.rootfs.chain_id() if state.image is not None and state.image.rootfs else None
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
                container_config=run_config,
                config=state.run_config.copy(),
                container_id=container_id,
                author=getattr(self, "author", ""),
            )
            image_id = self.svc.create_image(child.marshal(), parent=state.image_id)
        finally:
            ls.release(layer)
        state.image_id = image_id
        state.image = self.svc.get_image(image_id)
        if rw is None:
            self.log(f" ---> {truncate_id(image_id)}")

    def _run(self, state: _State, ins: Instruction) -> None:
        """moby: builder/dockerfile/dispatchers.go dispatchRun"""
        if state.image is None:
            raise BuildError("Please provide a source image with `from` prior to run", self.lines)
        if ins.json_form is not None:
            cmd = list(ins.json_form)
        else:
            cmd = [*(state.shell or DEFAULT_SHELL), ins.args]
        # Build args in effect are part of the step's identity (moby: prependEnvOnCmd).
        used = {k: v for k, v in state.args.items() if v is not None and k in self.buildargs or (v is not None and k in state.args)}
        arg_env = [f"{k}={v}" for k, v in sorted(used.items()) if v is not None]
        run_config = state.run_config.copy()
        run_config.cmd = ([f"|{len(arg_env)}", *arg_env] if arg_env else []) + cmd
        run_config.entrypoint = None
        if self._use_cache(state, run_config):
            return
        exec_config = state.run_config.copy()
        exec_config.cmd = cmd
        exec_config.entrypoint = None
        container_id = self._create_container(state, exec_config, env=arg_env)
        self.daemon.start(container_id)
        result = self.daemon.wait(container_id)
        out = self.daemon.logs(container_id)
        for line in out.decode("utf-8", "replace").splitlines():
            self.log(line)
        if result["StatusCode"] != 0:
            if self.rm:
                self.daemon.remove(container_id, force=True)
            shown = " ".join(cmd) if ins.json_form is None else _go_quote_list(cmd)
            message = f"The command '{shown}' returned a non-zero code: {result['StatusCode']}"
            self.log(message)
            raise BuildError(message, self.lines)
        self._commit_container(state, container_id, run_config)

    # -- COPY / ADD ----------------------------------------------------------------------------
    def _copy(self, state: _State, ins: Instruction) -> None:
        """COPY/ADD into a fresh RW layer, then commit it (no container is made).

        moby: builder/dockerfile/internals.go performCopy, copy.go
        """
        words = ins.json_form if ins.json_form is not None else split_words(ins.args)
        env = self._env(state)
        words = [expand(w, env) for w in words]
        if len(words) < 2:
            raise BuildError(f"{ins.cmd.upper()} requires at least two arguments", self.lines)
        srcs, dest = words[:-1], words[-1]
        from_ref = ins.flags.get("from")
        if from_ref is not None and ins.cmd == "add":
            raise BuildError("ADD --from is not supported", self.lines)
        sources = self._collect_sources(srcs, from_ref, ins)
        wd = state.run_config.working_dir or "/"
        dest_path = dest if dest.startswith("/") else posixpath.join(wd, dest)
        dest_is_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1 or any(s[2] == "dir" and len(srcs) > 1 for s in sources)
        digest = _sources_digest(sources)
        comment = f"{ins.cmd.upper()} {digest} in {dest_path if not dest.endswith('/') else dest_path.rstrip('/') + '/'} "
        run_config = self._comment_config(state, comment)
        if self._use_cache(state, run_config):
            return
        ls = self.daemon.layer_store
        parent_chain = state.image.rootfs.chain_id() if state.image is not None and state.image.rootfs else None
        name = self.daemon.ids.generate_random_id()
        rw = ls.create_rw_layer(name, parent_chain, None)
        try:
            fs = rw.mount()
            try:
                self._write_sources(fs, sources, dest_path, dest_is_dir, ins.cmd == "add")
            finally:
                rw.unmount()
            self._commit_layer(state, rw, run_config)
        finally:
            ls.release_rw_layer(rw)
        self.log(f" ---> {truncate_id(state.image_id)}")

    def _collect_sources(self, srcs: list[str], from_ref: str | None, ins: Instruction) -> list[tuple[str, Any, str]]:
        """(name, reader, kind) for each source: files from the context (minus .dockerignore)
        or from another stage/image's filesystem."""
        out: list[tuple[str, Any, str]] = []
        if from_ref is None:
            for pattern in srcs:
                rel = posixpath.normpath(pattern.lstrip("/"))
                if rel.startswith(".."):
                    raise BuildError(f"Forbidden path outside the build context: {pattern} ()", self.lines)
                matches = self._context_glob(rel)
                if not matches:
                    raise BuildError(
                        f"COPY failed: file not found in build context or excluded by .dockerignore: stat {rel}: file does not exist",
                        self.lines,
                    )
                for m in matches:
                    host = os.path.join(self.context, m) if m != "." else self.context
                    kind = "dir" if os.path.isdir(host) and not os.path.islink(host) else "file"
                    out.append((m, ("host", host), kind))
            return out
        image_id = self.stage_images.get(from_ref.lower())
        if image_id is None:
            if from_ref.isdigit():
                raise BuildError(f"invalid from flag value {from_ref}: index out of bounds", self.lines)
            try:
                image_id = self.svc.get_image(from_ref).id
            except APIError:
                raise BuildError(
                    f"invalid from flag value {from_ref}: pull access denied for {from_ref}, repository does not exist or may require 'docker login'",
                    self.lines,
                ) from None
        img = self.svc.get_image(image_id)
        chain = img.rootfs.chain_id() if img.rootfs else None
        ls = self.daemon.layer_store
        name = self.daemon.ids.generate_random_id()
        rw = ls.create_rw_layer(name, chain, None)
        self._from_layers = getattr(self, "_from_layers", [])
        self._from_layers.append(rw)
        fs = rw.mount()
        for pattern in srcs:
            path = "/" + posixpath.normpath(pattern.lstrip("/"))
            if not fs.lexists(path):
                raise BuildError(
                    f"COPY failed: stat {path}: file does not exist", self.lines
                )
            kind = "dir" if fs.isdir(path) and not fs.islink(path) else "file"
            out.append((path.lstrip("/") or ".", ("rootfs", fs, path), kind))
        return out

    def _context_glob(self, rel: str) -> list[str]:
        if rel in (".", ""):
            return ["."]
        if not any(ch in rel for ch in "*?["):
            return [rel] if os.path.lexists(os.path.join(self.context, rel)) and not self.ignore.matches(rel) else []
        found = []
        for dirpath, dirs, files in os.walk(self.context):
            for name in sorted(dirs + files):
                r = os.path.relpath(os.path.join(dirpath, name), self.context)
                if fnmatch.fnmatchcase(r, rel) and not self.ignore.matches(r):
                    found.append(r)
        return sorted(found)

    def _write_sources(self, fs: Any, sources: list[tuple[str, Any, str]], dest: str, dest_is_dir: bool, is_add: bool) -> None:
        try:
            for name, reader, kind in sources:
                if kind == "dir":
                    self._copy_tree(fs, reader, dest)
                    continue
                base = posixpath.basename(name)
                target = posixpath.join(dest, base) if dest_is_dir else dest
                if is_add and reader[0] == "host" and _is_archive(reader[1]):
                    self._extract(fs, reader[1], dest)
                    continue
                self._copy_file(fs, reader, target)
        finally:
            for rw in getattr(self, "_from_layers", []):
                rw.unmount()
                self.daemon.layer_store.release_rw_layer(rw)
            self._from_layers = []

    def _copy_file(self, fs: Any, reader: Any, target: str) -> None:
        parent = posixpath.dirname(target) or "/"
        fs.mkdir(parent, 0o755, parents=True, exist_ok=True)
        if reader[0] == "host":
            host = reader[1]
            st = os.lstat(host)
            if stat.S_ISLNK(st.st_mode):
                if fs.lexists(target):
                    fs.remove(target)
                fs.symlink(os.readlink(host), target)
                return
            with open(host, "rb") as f:
                data = f.read()
            mode = stat.S_IMODE(st.st_mode)
        else:
            src_fs, path = reader[1], reader[2]
            st = src_fs.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                if fs.lexists(target):
                    fs.remove(target)
                fs.symlink(src_fs.readlink(path), target)
                return
            data = src_fs.read_bytes(path)
            mode = stat.S_IMODE(st.st_mode)
        if fs.isdir(target):
            raise BuildError(f"cannot copy to {target}: is a directory", self.lines)
        fs.write_bytes(target, data, mode)
        fs.chmod(target, mode)
        if os.geteuid() == 0:
            fs.chown(target, 0, 0)
        fs.utime(target, (st.st_mtime, st.st_mtime))

    def _copy_tree(self, fs: Any, reader: Any, dest: str) -> None:
        """Copy a folder's *contents* into dest (Docker's COPY dir/ semantics)."""
        fs.mkdir(dest, 0o755, parents=True, exist_ok=True)
        if reader[0] == "host":
            root = reader[1]
            for dirpath, dirs, files in os.walk(root):
                dirs.sort()
                rel_dir = os.path.relpath(dirpath, root)
                for d in sorted(dirs):
                    rel = os.path.normpath(os.path.join(rel_dir, d))
                    if self.ignore.matches(os.path.relpath(os.path.join(dirpath, d), self.context)):
                        continue
                    p = posixpath.join(dest, rel)
                    if os.path.islink(os.path.join(dirpath, d)):
                        self._copy_file(fs, ("host", os.path.join(dirpath, d)), p)
                    else:
                        fs.mkdir(p, stat.S_IMODE(os.lstat(os.path.join(dirpath, d)).st_mode), parents=True, exist_ok=True)
                for name in sorted(files):
                    host = os.path.join(dirpath, name)
                    if self.ignore.matches(os.path.relpath(host, self.context)):
                        continue
                    self._copy_file(fs, ("host", host), posixpath.join(dest, os.path.normpath(os.path.join(rel_dir, name))))
        else:
            src_fs, top = reader[1], reader[2]
            for dirpath, dirs, files in src_fs.walk(top):
                rel_dir = posixpath.relpath(dirpath, top)
                for d in dirs:
                    fs.mkdir(posixpath.normpath(posixpath.join(dest, rel_dir, d)), stat.S_IMODE(src_fs.lstat(posixpath.join(dirpath, d)).st_mode), parents=True, exist_ok=True)
                for name in files:
                    self._copy_file(fs, ("rootfs", src_fs, posixpath.join(dirpath, name)), posixpath.normpath(posixpath.join(dest, rel_dir, name)))

    def _extract(self, fs: Any, host: str, dest: str) -> None:
        """ADD of a local tar (plain, gzip, bzip2, xz): unpacked into dest."""
        fs.mkdir(dest, 0o755, parents=True, exist_ok=True)
        with tarfile.open(host, "r:*") as tf:
            for m in tf.getmembers():
                name = posixpath.normpath(m.name.lstrip("/"))
                if name.startswith("..") or name == ".":
                    continue
                target = posixpath.join(dest, name)
                if m.isdir():
                    fs.mkdir(target, m.mode & 0o7777, parents=True, exist_ok=True)
                elif m.issym():
                    fs.mkdir(posixpath.dirname(target), 0o755, parents=True, exist_ok=True)
                    if fs.lexists(target):
                        fs.remove(target)
                    fs.symlink(m.linkname, target)
                elif m.isfile():
                    fs.mkdir(posixpath.dirname(target), 0o755, parents=True, exist_ok=True)
                    f = tf.extractfile(m)
                    fs.write_bytes(target, f.read() if f else b"", m.mode & 0o7777)
                    fs.chmod(target, m.mode & 0o7777)
                    fs.utime(target, (m.mtime, m.mtime))

    def _context_size(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.context):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        # the context is sent as a tar: headers and padding count
        return max(total + 512 * (1 + sum(len(f) for _, _, f in os.walk(self.context))), 2048)


# -- helpers --------------------------------------------------------------------------------------
def _arg_pairs(ins: Instruction) -> list[tuple[str, str | None]]:
    out = []
    for word in split_words(ins.args):
        k, eq, v = word.partition("=")
        out.append((k, v if eq else None))
    return out


def _go_quote_list(values: list[str]) -> str:
    """Go's fmt %q of a []string: ["a" "b"]."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def _cache_key(cfg: ContainerConfig) -> tuple:
    """The fields moby's cache compares.

    moby: image/cache/compare.go compare
    """
    return (
        cfg.open_stdin,
        cfg.tty,
        cfg.user,
        tuple(cfg.cmd or ()),
        tuple(cfg.entrypoint or ()),
        tuple(cfg.env or ()),
        tuple(sorted((cfg.labels or {}).items())),
        tuple(sorted(cfg.exposed_ports or {})),
        tuple(sorted(cfg.volumes or {})),
        cfg.working_dir,
    )


def _sources_digest(sources: list[tuple[str, Any, str]]) -> str:
    """`file:<sha256>` / `dir:<sha256>` / `multi:<sha256>` of the content (what the legacy
    builder puts in the COPY step's cache key)."""
    h_all = hashlib.sha256()
    for name, reader, kind in sources:
        h = hashlib.sha256()
        for path, data, mode in _walk_content(reader, kind):
            h.update(f"{path}\0{mode:o}\0".encode())
            h.update(data)
        h_all.update(h.digest())
    if len(sources) == 1:
        kind = sources[0][2]
        return f"{kind}:{h_all.hexdigest()}"
    return f"multi:{h_all.hexdigest()}"


def _walk_content(reader: Any, kind: str):
    if reader[0] == "host":
        host = reader[1]
        if kind == "file":
            st = os.lstat(host)
            data = os.readlink(host).encode() if stat.S_ISLNK(st.st_mode) else open(host, "rb").read()
            yield "", data, st.st_mode
            return
        for dirpath, dirs, files in os.walk(host):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                data = os.readlink(p).encode() if stat.S_ISLNK(st.st_mode) else open(p, "rb").read()
                yield os.path.relpath(p, host), data, st.st_mode
    else:
        fs, top = reader[1], reader[2]
        if kind == "file":
            st = fs.lstat(top)
            yield "", (fs.readlink(top).encode() if stat.S_ISLNK(st.st_mode) else fs.read_bytes(top)), st.st_mode
            return
        for dirpath, _dirs, files in fs.walk(top):
            for name in sorted(files):
                p = posixpath.join(dirpath, name)
                st = fs.lstat(p)
                yield p, (fs.readlink(p).encode() if stat.S_ISLNK(st.st_mode) else fs.read_bytes(p)), st.st_mode


def _is_archive(path: str) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _human_size_ctx(n: int) -> str:
    """docker's units.HumanSize (decimal, 4 significant digits), as the build prints it."""
    units = ["B", "kB", "MB", "GB", "TB"]
    size = float(n)
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{units[i]}"

