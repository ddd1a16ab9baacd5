"""The daemon: containers from create to rm, on the layer store, with simulated processes.

`create` gets the image, merges its config, makes the container, and `set_rw_layer` asks the
layer store for a read-write layer (plus the init layer) on the image's top layer; `start`
mounts that layer and runs the process; `restart` is stop + start on the *same* RW layer;
`rm` releases it. Everything is kept on disk under the root as moby keeps it, so a new
Daemon on the same root finds every container, its mount-id and its files again.

Processes are simulated (dockerlayers.process) and advance with the daemon's clock: real
time, or a virtual clock that moves only when asked (stop's timeout and wait move it too).

moby: daemon/{create,start,stop,kill,pause,unpause,restart,delete,rename,wait,exec,monitor,
logs,changes,inspect,list}.go and daemon/daemon.go (restore, shutdown)
"""

from __future__ import annotations

import atexit
import fcntl
import glob
import hashlib
import json
import os
import random
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from dockerlayers.container.container import CONFIG_FILE, Container, default_host_config
from dockerlayers.daemon.events import EventsLog
from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.daemon.mounts import ContainerFS
from dockerlayers.daemon.names import conflict, get_random_name, validate_name
from dockerlayers.daemon.restartmanager import (
    RestartManager,
    parse_restart_policy,
    validate_restart_policy,
)
from dockerlayers.daemon.volumes import VolumeStore
from dockerlayers.errors import (
    APIError,
    Conflict,
    DockerException,
    InvalidParameter,
    NotFound,
)
from dockerlayers.graphdriver import new_driver
from dockerlayers.graphdriver.rootfs import DirRootFS, RootFS, normpath
from dockerlayers.ioutils import atomic_write_file, remove_temp_files
from dockerlayers.layer import LayerStore, RWLayer
from dockerlayers.process.clock import Clock, VirtualClock, format_rfc3339nano, make_clock
from dockerlayers.process.signals import parse_signal
from dockerlayers.stringid import IDGenerator

SIGKILL, SIGTERM = 9, 15
DEFAULT_STOP_TIMEOUT = 10
_BUSY_SLICES_PER_LOOK = 5
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: /etc/hosts of a container with no network (libnetwork's default lines).
HOSTS = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
)
#: What dockerd writes when the host's resolv.conf has no usable nameserver.
RESOLV_CONF = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
STATE_FILE = "dockerlayers.json"
LOCK_FILE = "dockerlayers.pid"


class RootInUse(DockerException):
    """Another process holds this root (like a second dockerd on one data-root)."""


class _DaemonClock:
    """The daemon's view of its clock: advancing a virtual clock lets processes run."""

    def __init__(self, daemon: Daemon, clock: Clock) -> None:
        self._daemon = daemon
        self._clock = clock

    @property
    def virtual(self) -> bool:
        return isinstance(self._clock, VirtualClock)

    def now(self) -> float:
        return self._clock.now()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward, running every process and restart that falls due."""
        if not self.virtual:
            raise DockerException("a real clock cannot be advanced; use clock='virtual'")
        target = self._clock.now() + seconds
        self._daemon._advance_to(target)
        return self._clock.now()

    def advance_to(self, t: float) -> float:
        return self.advance(max(0.0, t - self._clock.now()))

    def __repr__(self) -> str:
        return f"<clock {'virtual' if self.virtual else 'real'} {format_rfc3339nano(self.now())}>"


class Daemon:
    """dockerd over one root folder."""

    def __init__(
        self,
        root: str,
        driver: str = "overlay2",
        *,
        seed: int | None = None,
        clock: Clock | str | None = None,
        mounts: str = "auto",
        image_service_factory: Callable[[Daemon], Any] | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        self._lock = threading.RLock()
        self._lock_fd = self._take_root_lock()
        self._closed = False
        try:
            state = self._read_state()
            self.seed = seed
            self.ids = IDGenerator(seed)
            if seed is not None and state.get("rng") is not None:
                self.ids._rng.setstate(_tuplify(state["rng"]))  # type: ignore[union-attr]
            self._names_rng = random.Random(seed) if seed is not None else random.SystemRandom()
            if seed is not None and state.get("names_rng") is not None:
                self._names_rng.setstate(_tuplify(state["names_rng"]))
            base_clock = make_clock(clock)
            if isinstance(base_clock, VirtualClock) and state.get("clock") is not None:
                base_clock.advance_to(float(state["clock"]))
            self.clock = _DaemonClock(self, base_clock)
            self._next_pid = int(state.get("next_pid") or 1000)
            self._prepare_temp_dir()
            self.driver = new_driver(
                driver, self.root, mounts=mounts, now=self.clock.now, ids=self.ids
            )
            self.layer_store = LayerStore(self.root, self.driver, ids=self.ids)
            self.repository = os.path.join(self.root, "containers")
            os.makedirs(self.repository, mode=0o710, exist_ok=True)
            self.runtime_dir = os.path.join(self.root, "runtime")
            os.makedirs(self.runtime_dir, mode=0o700, exist_ok=True)
            remove_temp_files(self.root)  # temp files of writes a crash interrupted
            remove_temp_files(self.runtime_dir)
            self.events = EventsLog(os.path.join(self.root, "events.log"), self.clock.now)
            self.volumes = VolumeStore(self.root, self.ids, self.clock.now)
            if image_service_factory is None:
                from dockerlayers.image.service import ContainerUse, ImageService

                self.image_service = ImageService(
                    self.root,
                    self.layer_store,
                    now_ns=lambda: int(round(self.clock.now() * 1e9)),
                    container_uses=lambda image_id: [
                        ContainerUse(cid, running) for cid, running in self.image_users(image_id)
                    ],
                    log_event=lambda id, ref, action: self.events.log(
                        "image", action, ref or id, {"name": ref}
                    ),
                )
            else:
                self.image_service = image_service_factory(self)
            self.containers: dict[str, Container] = {}
            self._rw: dict[str, RWLayer] = {}
            self._mounted: dict[str, RootFS] = {}
            self._procs: dict[str, Any] = {}
            self._runtime: dict[str, dict[str, Any]] = {}
            self._logbuf: dict[tuple[str, str], bytes] = {}
            if state.get("open", False):
                last = "crashed"  # the previous daemon never closed: its processes are lost
            elif state.get("detached", False):
                last = "detached"  # it let go of the root with its processes still running
            else:
                last = "closed"  # a shutdown (or a new root)
            self._write_state(open_=True)
            self._restore(last)
            atexit.register(self._atexit)
        except BaseException:
            self._release_root_lock()
            raise

    # -- root lock and daemon state ------------------------------------------------------
    def _take_root_lock(self) -> int:
        path = os.path.join(self.root, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                pid = os.read(fd, 32).decode().strip()
            finally:
                os.close(fd)
            raise RootInUse(
                f"pid file found, ensure dockerlayers is not running or delete {path}: "
                f"the root {self.root} is in use by process {pid or '?'}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def _release_root_lock(self) -> None:
        fd, self._lock_fd = getattr(self, "_lock_fd", None), None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _prepare_temp_dir(self) -> None:
        """Empty `<root>/tmp` (spooled tars, build contexts a crash left there).

        moby: daemon/daemon.go prepareTempDir (renames tmp to tmp-old, removes it)
        """
        tmp = os.path.join(self.root, "tmp")
        old = tmp + "-old"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(tmp):
            os.rename(tmp, old)
            shutil.rmtree(old, ignore_errors=True)
        os.makedirs(tmp, mode=0o700, exist_ok=True)

    def _remove_incomplete_containers(self) -> None:
        """A create or an rm that a crash interrupted leaves a container that can never load:
        a folder without `config.v2.json` (create: after the RW layer, before the first
        checkpoint; rm: while its folder was being deleted), a folder whose RW layer record
        is gone (rm: after the RW layer was released), or an RW layer whose container folder
        was never made. Nobody can see or remove these; they are removed here.

        Ours, for crash safety: moby skips them at restore and leaves them on disk.
        """
        store = self.layer_store
        ours = store.store.mounts_dir
        others = [
            m
            for m in glob.glob(os.path.join(self.root, "image", "*", "layerdb", "mounts"))
            if os.path.realpath(m) != os.path.realpath(ours)
        ]
        removed = False
        for cid in sorted(os.listdir(self.repository)):
            folder = os.path.join(self.repository, cid)
            if not os.path.isdir(folder):
                continue
            remove_temp_files(folder)
            if any(os.path.isdir(os.path.join(m, cid)) for m in others):
                continue  # another driver's container: not ours to judge
            has_config = os.path.isfile(os.path.join(folder, CONFIG_FILE))
            if has_config and cid in store.mounts:
                continue
            if has_config and os.path.isdir(store.store.mount_dir(cid)):
                # the RW layer's record is there but does not load: only a removal that
                # was under way (a dead container) may be finished; anything else is kept
                try:
                    dead = Container.from_disk(folder).state.dead
                except (OSError, ValueError, KeyError):
                    dead = True  # its own files half deleted: an interrupted rm
                if not dead:
                    continue
            if cid in store.mounts:
                store.release_rw_layer(store.get_rw_layer(cid))
            elif os.path.isdir(store.store.mount_dir(cid)):
                store.store.remove_mount(cid)
            shutil.rmtree(folder)
            try:
                os.unlink(self._runtime_path(cid))
            except FileNotFoundError:
                pass
            removed = True
        if os.path.isdir(ours):
            for name in sorted(os.listdir(ours)):
                if os.path.isdir(os.path.join(self.repository, name)):
                    continue
                if name in store.mounts:  # an RW layer whose container was never made
                    store.release_rw_layer(store.get_rw_layer(name))
                else:
                    store.store.remove_mount(name)
                removed = True
        if removed:
            store.cleanup()  # the driver folders these records held

    def _read_state(self) -> dict[str, Any]:
        try:
            with open(os.path.join(self.root, STATE_FILE)) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {}

    def _write_state(self, open_: bool | None = None, detached: bool = False) -> None:
        if open_ is not None:
            self._open_flag = open_
            self._detached_flag = detached
        state: dict[str, Any] = {
            "open": self._open_flag,
            "detached": getattr(self, "_detached_flag", False),
            "clock": self.clock.now() if self.clock.virtual else None,
            "next_pid": self._next_pid,
            "rng": self.ids._rng.getstate() if self.ids._rng is not None else None,
            "names_rng": self._names_rng.getstate() if self.seed is not None else None,
        }
        atomic_write_file(os.path.join(self.root, STATE_FILE), json.dumps(state).encode(), 0o600)

    # -- restore, detach, shutdown ---------------------------------------------------------
    def _restore(self, last: str) -> None:
        """Load every container, then carry on from how the previous daemon ended.

        `detached` (the CLI after each command): processes carried on and are revived, pending
        policy restarts keep their time. `closed` (a shutdown stopped everything) and
        `crashed` (no close: the processes died with it; exit 137): restart policies decide
        who is started again, as at dockerd start.

        moby: daemon/daemon.go restore
        """
        self._remove_incomplete_containers()
        for cid in sorted(os.listdir(self.repository)):
            folder = os.path.join(self.repository, cid)
            try:
                c = Container.from_disk(folder)
            except (OSError, ValueError, KeyError):
                continue
            if c.id != cid:
                continue
            if c.driver != self.driver.name:
                # not restoring container because it was created with another storage driver
                continue
            try:
                self._rw[cid] = self.layer_store.get_rw_layer(cid)
            except Exception:
                continue  # failed to load container mount: skipped, as moby does
            self.containers[cid] = c
            self._runtime[cid] = self._load_runtime(cid)
        now = self.clock.now()
        for cid, c in self.containers.items():
            rt = self._runtime[cid]
            if c.state.removal_in_progress:
                # A crash in the middle of a removal: moby does not finish it (it cannot know
                # whether volumes were to go too); the container is dead, for the user to rm.
                c.state.removal_in_progress = False
                c.state.dead = True
                c.checkpoint()
                continue
            if c.state.running and not c.state.restarting:
                proc_state = rt.get("process")
                if last == "detached" and proc_state is not None:
                    self._revive(c, proc_state)
                else:
                    # Lost with the daemon: no exit status but the kill (no event, as moby).
                    c.state.set_stopped(128 + SIGKILL, now)
                    rt.pop("process", None)
                    rt.pop("resume_at", None)
            elif c.state.restarting and (last != "detached" or rt.get("restart_at") is None):
                c.state.set_stopped(c.state.exit_code, now)
                rt.pop("restart_at", None)
            c.checkpoint()
        for cid in self.containers:
            self._save_runtime(cid)
        if last != "detached":
            for c in list(self.containers.values()):
                if c.state.running or c.state.dead:
                    continue
                if c.has_been_started_before and self._should_restart(c):
                    try:
                        self._container_start(c, reset_restart_manager=True)
                    except APIError:
                        pass
                elif c.host_config.get("AutoRemove"):
                    try:
                        self._remove(c, force=True, remove_volumes=True)
                    except APIError:
                        pass
        self._advance_to(self.clock.now())

    def _should_restart(self, c: Container) -> bool:
        """The policy's verdict on a stopped container, as at daemon start.

        moby: container/container.go ShouldRestart (a fresh restart manager, the stored
        exit code, HasBeenManuallyStopped and RestartCount)
        """
        rm = RestartManager(c.host_config.get("RestartPolicy") or {})
        rm.restart_count = c.restart_count
        duration = (c.state.finished_at or 0.0) - (c.state.started_at or 0.0)
        restart, _ = rm.should_restart(c.state.exit_code, c.has_been_manually_stopped, duration)
        return restart

    def _revive(self, c: Container, proc_state: dict[str, Any]) -> None:
        from dockerlayers.process.process import Process

        fs = self._mount_container(c)
        self._procs[c.id] = Process.from_state(proc_state, rootfs=fs, output=self._output(c))

    def detach(self) -> None:
        """Save everything and let go of the root, leaving containers running (what the CLI
        does after each command, like the docker CLI leaving dockerd up)."""
        with self._lock:
            if self._closed:
                return
            for cid in list(self.containers):
                self._save_runtime(cid)
            for cid in list(self._mounted):
                self._unmount_container(self.containers[cid], keep_process=True)
            self.driver.cleanup()
            self._write_state(open_=False, detached=True)
            self._closed = True
            self._release_root_lock()

    def close(self, timeout: float | None = None) -> None:
        """dockerd's shutdown: stop every running container (its stop timeout, SIGTERM then
        SIGKILL), then clean up the layer store.

        moby: daemon/daemon.go Shutdown
        """
        with self._lock:
            if self._closed:
                return
            self._shutting_down = True
            # moby stops them all at once (one goroutine each): the stop signal to every
            # running container, then each gets its own timeout before SIGKILL.
            deadlines: dict[str, float | None] = {}
            for c in list(self.containers.values()):
                if not c.state.running:
                    continue
                t = timeout if timeout is not None else self._stop_timeout(c)
                try:
                    self._kill_with_signal(c, self._stop_signal(c))
                except APIError:
                    continue
                deadlines[c.id] = None if t < 0 else self.clock.now() + t
            while True:
                running = [
                    cid
                    for cid in deadlines
                    if cid in self.containers and self.containers[cid].state.running
                ]
                due = [cid for cid in running if deadlines[cid] is not None]
                if not running:
                    break
                next_deadline = min((deadlines[cid] for cid in due), default=None)
                if next_deadline is None:
                    break  # only containers with no timeout left: dockerd waits forever
                self._wait_until(
                    lambda running=running: (
                        not any(
                            self.containers[cid].state.running
                            for cid in running
                            if cid in self.containers
                        )
                    ),
                    next_deadline,
                )
                for cid in running:
                    c = self.containers.get(cid)
                    if (
                        c is not None
                        and c.state.running
                        and deadlines[cid] is not None
                        and self.clock.now() >= deadlines[cid]
                    ):
                        try:
                            self._kill_with_signal(c, SIGKILL)
                        except APIError:
                            pass
            for cid in deadlines:
                c = self.containers.get(cid)
                if c is not None:
                    self.events.log("container", "stop", c.id, self._attrs(c))
            self.layer_store.cleanup()
            self.driver.cleanup()
            self._write_state(open_=False)
            self._closed = True
            self._release_root_lock()

    def _atexit(self) -> None:
        try:
            if not self._closed:
                self.detach()
        except Exception:
            pass

    def _check_open(self) -> None:
        if self._closed:
            raise DockerException("the daemon is closed")

    # -- lookups ---------------------------------------------------------------------------
    def get_container(self, ref: str) -> Container:
        """Full ID, then exact name, then unique ID prefix.

        moby: daemon/container.go GetContainer
        """
        if not ref:
            raise InvalidParameter('invalid name or ID supplied: ""')
        if ref in self.containers:
            return self.containers[ref]
        name = ref if ref.startswith("/") else "/" + ref
        for c in self.containers.values():
            if c.name == name:
                return c
        matches = [c for c in self.containers.values() if c.id.startswith(ref)]
        if len(matches) > 1:
            raise NotFound(f"multiple IDs found with provided prefix: {ref}")
        if matches:
            return matches[0]
        raise NotFound(f"No such container: {ref}")

    def _name_holder(self, name: str) -> Container | None:
        for c in self.containers.values():
            if c.name == name:
                return c
        return None

    def rw_layer(self, ref: str) -> RWLayer:
        """The container's RW layer handle (the daemon's own reference)."""
        return self._rw[self.get_container(ref).id]

    # -- create ----------------------------------------------------------------------------
    def create(
        self,
        image: str,
        command: list[str] | str | None = None,
        *,
        name: str | None = None,
        entrypoint: list[str] | str | None = None,
        environment: list[str] | dict[str, str] | None = None,
        working_dir: str | None = None,
        hostname: str | None = None,
        user: str | None = None,
        labels: dict[str, str] | None = None,
        restart_policy: str | dict[str, Any] | None = None,
        auto_remove: bool = False,
        volumes: dict[str, dict[str, str]] | list[str] | None = None,
        stop_signal: str | None = None,
        stop_timeout: int | None = None,
        tty: bool = False,
    ) -> Container:
        """`docker create`: a container with its RW layer on the image, not yet started.

        moby: daemon/create.go containerCreate / create
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            policy = parse_restart_policy(restart_policy)
            validate_restart_policy(policy)
            if auto_remove and policy["Name"] != "no":
                raise InvalidParameter("can't create 'AutoRemove' container with restart policy")
            img = self.image_service.get_image(image)
            config = self._merge_config(
                img,
                image,
                command,
                entrypoint,
                environment,
                working_dir,
                hostname,
                user,
                labels,
                stop_signal,
                stop_timeout,
                tty,
            )
            stored_name = validate_name(name) if name else self._generate_name()
            holder = self._name_holder(stored_name)
            if holder is not None:
                raise conflict(stored_name, holder.id)
            cid = self._new_id()
            if not config.get("Hostname"):
                config["Hostname"] = cid[:12]
            entry = config.get("Entrypoint") or []
            cmd = config.get("Cmd") or []
            argv = list(entry) + list(cmd)
            host_config = default_host_config()
            host_config["RestartPolicy"] = policy
            host_config["AutoRemove"] = auto_remove
            mount_points, binds = self._mount_points(volumes, config)
            host_config["Binds"] = binds or None
            c = Container(
                id=cid,
                name=stored_name,
                created=self.clock.now(),
                path=argv[0],
                args=argv[1:],
                config=config,
                image=img.id,
                driver=self.driver.name,
                root=os.path.join(self.repository, cid),
                host_config=host_config,
                mount_points=mount_points,
            )
            try:
                self.set_rw_layer(c, img)
                os.mkdir(c.root, 0o710)
                os.chmod(c.root, 0o710)
                os.mkdir(c.path_in_root("checkpoints"), 0o700)
                self._create_volumes(c)
                c.write_host_config()
                c.checkpoint()
            except BaseException:
                self._cleanup_failed_create(c)
                raise
            self.containers[cid] = c
            self._runtime[cid] = {"restart": RestartManager(policy).to_json()}
            self._save_runtime(cid)
            self.events.log("container", "create", cid, self._attrs(c))
            self._write_state()
            return c

    def set_rw_layer(self, c: Container, img: Any = None) -> None:
        """The container's RW layer (and init layer) on the image's top layer.

        moby 17.x: daemon/create.go setRWLayer -> layerStore.CreateRWLayer
        """
        if img is None:
            img = self.image_service.get_image(c.image)
        chain = img.rootfs.chain_id() if img.rootfs is not None else None
        self._rw[c.id] = self.layer_store.create_rw_layer(c.id, chain, setup_init_layer)

    def _cleanup_failed_create(self, c: Container) -> None:
        rw = self._rw.pop(c.id, None)
        if rw is not None:
            self.layer_store.release_rw_layer(rw)
        shutil.rmtree(c.root, ignore_errors=True)

    def _merge_config(
        self,
        img,
        image_ref,
        command,
        entrypoint,
        environment,
        working_dir,
        hostname,
        user,
        labels,
        stop_signal,
        stop_timeout,
        tty,
    ) -> dict[str, Any]:
        """The user's config merged over the image's.

        moby: daemon/create.go mergeAndVerifyConfig, daemon/commit.go merge
        """
        icfg = img.config.to_json() if img.config is not None else {}
        cmd = _as_list(command)
        ep = _as_list(entrypoint)
        env = _env_list(environment)
        if ep is not None and ep == [""]:
            ep = []
        config: dict[str, Any] = {
            "Hostname": hostname or "",
            "Domainname": "",
            "User": user if user is not None else (icfg.get("User") or ""),
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "Tty": tty,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": _merge_env(icfg.get("Env") or [], env or []),
            "Cmd": cmd if cmd is not None else (None if ep is not None else icfg.get("Cmd")),
            "Image": image_ref,
            "Volumes": icfg.get("Volumes"),
            "WorkingDir": working_dir
            if working_dir is not None
            else (icfg.get("WorkingDir") or ""),
            "Entrypoint": ep if ep is not None else icfg.get("Entrypoint"),
            "OnBuild": icfg.get("OnBuild"),
            "Labels": {**(icfg.get("Labels") or {}), **(labels or {})},
        }
        if stop_signal or icfg.get("StopSignal"):
            config["StopSignal"] = stop_signal or icfg.get("StopSignal")
        if stop_timeout is not None:
            config["StopTimeout"] = stop_timeout
        if not config["Cmd"] and not config["Entrypoint"]:
            raise InvalidParameter("No command specified")
        if config["WorkingDir"] and not config["WorkingDir"].startswith("/"):
            raise InvalidParameter(
                f"the working directory '{config['WorkingDir']}' is invalid, "
                "it needs to be an absolute path"
            )
        return config

    def _generate_name(self) -> str:
        """moby: daemon/names.go generateNewName"""
        for i in range(6):
            name = "/" + get_random_name(self._names_rng, i)
            if self._name_holder(name) is None:
                return name
        return "/" + self._new_id()[:12]

    def _new_id(self) -> str:
        while True:
            cid = self.ids.generate_random_id()
            if cid not in self.containers:
                return cid

    def _mount_points(self, volumes, config) -> tuple[dict[str, Any], list[str]]:
        """Mount points from `volumes` (docker-py forms) and the image's VOLUMEs.

        moby: daemon/volumes.go registerMountPoints
        """
        specs: list[tuple[str, str, bool]] = []  # (source or "", destination, rw)
        if isinstance(volumes, dict):
            for src, opts in volumes.items():
                if isinstance(opts, str):
                    opts = {"bind": opts, "mode": "rw"}
                specs.append((src, opts["bind"], opts.get("mode", "rw") != "ro"))
        elif volumes:
            for spec in volumes:
                parts = spec.split(":")
                if len(parts) == 1:
                    specs.append(("", parts[0], True))
                elif len(parts) in (2, 3):
                    specs.append(
                        (parts[0], parts[1], not (len(parts) == 3 and "ro" in parts[2].split(",")))
                    )
                else:
                    raise InvalidParameter(f"invalid volume specification: '{spec}'")
        binds = []
        points: dict[str, Any] = {}
        for src, dst, rw in specs:
            if not dst.startswith("/"):
                raise InvalidParameter(
                    'invalid mount config for type "volume": invalid mount path: '
                    f"'{dst}' mount path must be absolute"
                )
            dst = normpath(dst)
            if dst == "/":
                raise InvalidParameter("invalid specification: destination can't be '/'")
            if dst in points:
                raise InvalidParameter(f"Duplicate mount point: {dst}")
            if src.startswith("/"):
                if not os.path.isdir(src) and not os.path.isfile(src):
                    os.makedirs(src, exist_ok=True)  # dockerd creates a missing bind source
                points[dst] = _mount_point("bind", os.path.abspath(src), "", dst, rw)
                binds.append(f"{src}:{dst}" + ("" if rw else ":ro"))
            else:
                points[dst] = _mount_point("volume", "", src, dst, rw)
                if src:
                    binds.append(f"{src}:{dst}" + ("" if rw else ":ro"))
        for dst in sorted(config.get("Volumes") or {}):
            dst = normpath(dst)
            if dst not in points:
                points[dst] = _mount_point("volume", "", "", dst, True)
        return points, binds

    def _create_volumes(self, c: Container) -> None:
        for mp in c.mount_points.values():
            if mp["Type"] == "volume":
                named = bool(mp["Spec"].get("Source"))
                vol = self.volumes.create(mp["Name"] or None, anonymous=not named)
                mp["Name"] = vol["Name"]
                mp["Source"] = vol["Mountpoint"]

    # -- start -----------------------------------------------------------------------------
    def start(self, ref: str) -> None:
        """`docker start`: mount the RW layer and run the container's process.

        moby: daemon/start.go ContainerStart
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if c.state.paused:
                raise Conflict("cannot start a paused container, try unpause instead")
            if c.state.running:
                return  # 304: container is already running; a no-op for the caller
            if c.state.removal_in_progress or c.state.dead:
                raise Conflict("container is marked for removal and cannot be started")
            self._container_start(c, reset_restart_manager=True)
            self._write_state()

    def _container_start(self, c: Container, reset_restart_manager: bool) -> None:
        """moby: daemon/start.go containerStart"""
        from dockerlayers.process.process import Process
        from dockerlayers.process.resolve import ExecError

        now = self.clock.now()
        rt = self._runtime.setdefault(c.id, {})
        if c.state.removal_in_progress or c.state.dead:
            raise Conflict("container is marked for removal and cannot be started")
        # hostname, hosts and resolv.conf first: they are bind-mounted over the rootfs
        self._setup_container_dirs(c)
        fs = self._mount_container(c)
        try:
            self._setup_rootfs(c, fs)
        except BaseException:
            self._unmount_container(c)
            raise
        if reset_restart_manager:
            c.restart_count = 0
            c.has_been_manually_stopped = False
            rt["restart"] = RestartManager(c.host_config.get("RestartPolicy") or {}).to_json()
        pid = self._next_pid
        self._next_pid += 1
        env = self._process_env(c)
        try:
            proc = Process.spawn(
                [c.path, *c.args],
                env=env,
                cwd=c.config.get("WorkingDir") or "/",
                rootfs=fs,
                clock_now=now,
                hostname=c.config.get("Hostname") or c.short_id,
                output=self._output(c),
                pid=1,
            )
        except ExecError as e:
            message = (
                "failed to create shim task: OCI runtime create failed: runc create failed: "
                f"unable to start container process: {e.message}: unknown"
            )
            c.state.error = message
            c.state.exit_code = e.exit_code if e.exit_code else 128
            self._unmount_container(c)
            c.checkpoint()
            self._save_runtime(c.id)
            raise APIError(message, 400) from None
        self._procs[c.id] = proc
        rt.pop("restart_at", None)
        rt["resume_at"] = None
        c.state.set_running(pid, now)
        c.has_been_started_before = True
        c.checkpoint()
        self.events.log("container", "start", c.id, self._attrs(c), at=now)
        proc.run(now)
        if proc.exited:
            self._handle_exit(c, proc.exit_code, now)
        self._save_runtime(c.id)

    def _process_env(self, c: Container) -> list[str]:
        """The process environment runc gets: PATH, HOSTNAME, the config's Env, HOME.

        moby: daemon/oci_linux.go / container.CreateDaemonEnvironment
        """
        env = list(c.config.get("Env") or [])
        keys = {e.split("=", 1)[0] for e in env}
        out = []
        if "PATH" not in keys:
            out.append(f"PATH={DEFAULT_PATH}")
        out.append(f"HOSTNAME={c.config.get('Hostname') or c.short_id}")
        if c.config.get("Tty"):
            out.append("TERM=xterm")
        out.extend(env)
        if "HOME" not in keys:
            out.append("HOME=/root")
        return out

    def _setup_container_dirs(self, c: Container) -> None:
        """At start: hostname, hosts, resolv.conf (+.hash), the log file, mounts/.

        moby: daemon/container_operations_unix.go, libnetwork sandbox files
        """
        hostname = (c.config.get("Hostname") or c.short_id) + "\n"
        _write(c.hostname_path, hostname, 0o644)
        if not os.path.exists(c.hosts_path):
            _write(c.hosts_path, HOSTS, 0o644)
        if not os.path.exists(c.resolv_conf_path):
            _write(c.resolv_conf_path, RESOLV_CONF, 0o644)
            digest_line = "sha256:" + hashlib.sha256(RESOLV_CONF.encode()).hexdigest()
            _write(c.resolv_conf_path + ".hash", digest_line, 0o644)
        os.makedirs(c.path_in_root("mounts"), mode=0o700, exist_ok=True)
        if not os.path.exists(c.log_path):
            open(c.log_path, "a").close()
            os.chmod(c.log_path, 0o640)

    def _setup_rootfs(self, c: Container, fs: RootFS) -> None:
        """Folders runc and dockerd make in the rootfs at start: the working dir and mount
        points (so they show in `docker diff`, as in Docker)."""
        wd = c.config.get("WorkingDir")
        base = getattr(fs, "base", fs)
        if wd and not base.exists(wd):
            base.mkdir(wd, 0o755, parents=True, exist_ok=True)
        for dst in c.mount_points:
            if not base.lexists(dst):
                base.mkdir(dst, 0o755, parents=True, exist_ok=True)

    def _mount_container(self, c: Container) -> RootFS:
        """Mount the RW layer and lay the volumes and Docker's files over it."""
        if c.id in self._mounted:
            return self._mounted[c.id]
        base = self._rw[c.id].mount()
        mounts: dict[str, tuple[RootFS, bool]] = {}
        for dst, mp in c.mount_points.items():
            src = mp["Source"]
            mounts[dst] = (DirRootFS(src, now=self.clock.now), bool(mp.get("RW", True)))
        for dst, host in (
            ("/etc/hostname", c.hostname_path),
            ("/etc/hosts", c.hosts_path),
            ("/etc/resolv.conf", c.resolv_conf_path),
        ):
            if os.path.exists(host) and dst not in mounts:
                mounts[dst] = (DirRootFS(host, now=self.clock.now), True)
        fs: RootFS = ContainerFS(base, mounts, now=self.clock.now) if mounts else base
        self._mounted[c.id] = fs
        return fs

    def _unmount_container(self, c: Container, keep_process: bool = False) -> None:
        if c.id in self._mounted:
            del self._mounted[c.id]
            self._rw[c.id].unmount()
        if not keep_process:
            self._procs.pop(c.id, None)

    def mount(self, ref: str) -> RootFS:
        """The container's filesystem as its processes see it (mounting if needed)."""
        with self._lock:
            c = self.get_container(ref)
            if c.id in self._mounted:
                return self._mounted[c.id]
            self._setup_container_dirs_if_started(c)
            return self._mount_container(c)

    def _setup_container_dirs_if_started(self, c: Container) -> None:
        if c.has_been_started_before:
            self._setup_container_dirs(c)

    # -- exits, time -----------------------------------------------------------------------
    def _handle_exit(self, c: Container, exit_code: int, at: float) -> None:
        """The task exited: restart policy, unmount, state, die event.

        moby: daemon/monitor.go handleContainerExit
        """
        self._flush_output(c, at)
        rt = self._runtime.setdefault(c.id, {})
        rm = RestartManager.from_json(
            rt.get("restart") or {"Policy": c.host_config.get("RestartPolicy")}
        )
        rm.restart_count = c.restart_count
        duration = at - (c.state.started_at or at)
        shutting_down = getattr(self, "_shutting_down", False)
        restart, delay = rm.should_restart(
            exit_code, shutting_down or c.has_been_manually_stopped, duration
        )
        rt["restart"] = rm.to_json()
        self._unmount_container(c)
        rt.pop("process", None)
        if restart:
            c.restart_count += 1
            c.state.set_restarting(exit_code, at)
            rt["restart_at"] = at + delay
        else:
            c.state.set_stopped(exit_code, at)
        c.checkpoint()
        self._events_die(c, exit_code, at)
        self._save_runtime(c.id)
        if not restart and c.host_config.get("AutoRemove"):
            self._remove(c, force=True, remove_volumes=True)

    def _events_die(self, c: Container, exit_code: int, at: float) -> None:
        attrs = self._attrs(c)
        attrs["exitCode"] = str(exit_code)
        self.events.log("container", "die", c.id, attrs, at=at)

    def _next_event(
        self, skip: set[str] | frozenset[str] = frozenset()
    ) -> tuple[float, str, str] | None:
        """The earliest thing that will happen: (time, kind, container id); containers in
        `skip` are left out."""
        best: tuple[float, str, str] | None = None
        for cid, c in self.containers.items():
            if cid in skip:
                continue
            rt = self._runtime.get(cid, {})
            if c.state.restarting and rt.get("restart_at") is not None:
                cand = (float(rt["restart_at"]), "restart", cid)
            elif c.state.running and not c.state.paused and cid in self._procs:
                proc = self._procs[cid]
                if proc.exited:
                    cand = (self.clock.now(), "exited", cid)
                elif proc.wake_at is None:
                    continue
                else:
                    t = max(float(proc.wake_at), float(rt.get("resume_at") or 0))
                    if proc.busy:  # it spun on while nobody looked: it goes on from now
                        t = max(t, self.clock.now())
                    cand = (t, "wake", cid)
            else:
                continue
            if best is None or cand < best:
                best = cand
        return best

    def _advance_to(self, target: float) -> None:
        """Run everything that falls due up to `target` in time order, moving a virtual
        clock along (a real clock is only read).

        A process that spins without sleeping runs a slice per BUSY_SLICE seconds, at most
        _BUSY_SLICES_PER_LOOK of them here: a long jump of the clock does not replay hours
        of spinning (the process is at `target` when it next runs, like a job that ran
        while nobody looked)."""
        with self._lock:
            skip: set[str] = set()
            slices: dict[str, int] = {}
            while True:
                ev = self._next_event(skip)
                if ev is None or ev[0] > target:
                    break
                t, kind, cid = ev
                if self.clock.virtual:
                    self.clock._clock.advance_to(t)  # type: ignore[attr-defined]
                c = self.containers[cid]
                if kind == "restart":
                    try:
                        self._container_start(c, reset_restart_manager=False)
                    except APIError:
                        c.state.set_stopped(c.state.exit_code, t)
                        self._runtime[cid].pop("restart_at", None)
                        c.checkpoint()
                    continue
                proc = self._procs[cid]
                if kind == "wake":
                    before = proc.wake_at
                    proc.run(t)
                    if proc.exited:
                        pass
                    elif proc.busy:
                        slices[cid] = slices.get(cid, 0) + 1
                        if slices[cid] >= _BUSY_SLICES_PER_LOOK:
                            skip.add(cid)
                    elif proc.wake_at is not None and before is not None and proc.wake_at <= before:
                        skip.add(cid)  # wakes without time passing: once per look
                if proc.exited:
                    self._handle_exit(c, proc.exit_code, t)
            if self.clock.virtual:
                self.clock._clock.advance_to(target)  # type: ignore[attr-defined]

    def tick(self) -> None:
        """Let processes run up to the clock's current time."""
        self._advance_to(self.clock.now())

    def _wait_until(self, done: Callable[[], bool], deadline: float | None) -> bool:
        """Let time pass until `done()` or the deadline (None = no deadline); True if done."""
        while True:
            self._advance_to(self.clock.now())
            if done():
                return True
            now = self.clock.now()
            if deadline is not None and now >= deadline:
                return False
            if self.clock.virtual:
                ev = self._next_event()
                if ev is None:
                    if deadline is None:
                        raise DockerException(
                            "the container's process waits for nothing that can happen; "
                            "it will never exit on its own"
                        )
                    self._advance_to(deadline)
                    continue
                self._advance_to(ev[0] if deadline is None else min(ev[0], deadline))
            else:
                step = 0.05 if deadline is None else max(0.0, min(0.05, deadline - now))
                self._lock.release()
                try:
                    time.sleep(step)
                finally:
                    self._lock.acquire()

    # -- output and logs -------------------------------------------------------------------
    def _flush_output(self, c: Container, at: float) -> None:
        """At exit, log what is left of a last line without its newline (json-file does).

        moby: daemon/logger/copier.go (the partial line flushed at EOF)
        """
        for stream in ("stdout", "stderr"):
            rest = self._logbuf.pop((c.id, stream), b"")
            if rest and os.path.isdir(c.root):
                text = rest.decode("utf-8", errors="replace")
                entry = {"log": text, "stream": stream, "time": format_rfc3339nano(at)}
                with open(c.log_path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def _output(self, c: Container) -> Callable[[str, bytes], None]:
        def write(stream: str, data: bytes) -> None:
            key = (c.id, stream)
            buf = self._logbuf.get(key, b"") + data
            lines = buf.split(b"\n")
            self._logbuf[key] = lines.pop()
            if lines and os.path.isdir(c.root):
                t = format_rfc3339nano(self.clock.now())
                with open(c.log_path, "a") as f:
                    for line in lines:
                        text = (line + b"\n").decode("utf-8", errors="replace")
                        f.write(json.dumps({"log": text, "stream": stream, "time": t}) + "\n")

        return write

    def logs(
        self,
        ref: str,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: int | str = "all",
        since: float | None = None,
        until: float | None = None,
    ) -> bytes:
        """The container's output from its json-file log.

        moby: daemon/logs.go, daemon/logger/jsonfilelog
        """
        with self._lock:
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            entries = []
            if os.path.exists(c.log_path):
                from dockerlayers.process.clock import parse_rfc3339nano

                with open(c.log_path) as f:
                    for line in f:
                        try:
                            e = json.loads(line)
                        except ValueError:
                            continue
                        if (
                            e["stream"] == "stdout"
                            and not stdout
                            or e["stream"] == "stderr"
                            and not stderr
                        ):
                            continue
                        t = parse_rfc3339nano(e["time"]) or 0.0
                        if since is not None and t < since or until is not None and t > until:
                            continue
                        entries.append(e)
            if tail != "all" and int(tail) >= 0:
                entries = entries[-int(tail) :] if int(tail) else []
            out = []
            for e in entries:
                prefix = (e["time"] + " ") if timestamps else ""
                out.append((prefix + e["log"]).encode())
            return b"".join(out)

    # -- stop, kill, pause -------------------------------------------------------------------
    def _stop_timeout(self, c: Container) -> float:
        value = c.config.get("StopTimeout")
        return float(value) if value is not None else float(DEFAULT_STOP_TIMEOUT)

    def _stop_signal(self, c: Container) -> int:
        sig = c.config.get("StopSignal")
        if sig:
            try:
                return parse_signal(sig)
            except ValueError:
                pass
        return SIGTERM

    def stop(self, ref: str, timeout: float | None = None) -> None:
        """`docker stop`: the stop signal, then SIGKILL after the timeout (default 10 s).

        moby: daemon/stop.go ContainerStop
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if not c.state.running:
                return  # 304: Container is already stopped
            self._container_stop(c, self._stop_timeout(c) if timeout is None else float(timeout))
            self._write_state()

    def _container_stop(self, c: Container, timeout: float) -> None:
        """moby: daemon/stop.go containerStop"""
        if not c.state.running:
            return
        sig = self._stop_signal(c)
        self._kill_with_signal(c, sig)
        if c.state.running:
            deadline = None if timeout < 0 else self.clock.now() + timeout
            exited = self._wait_until(lambda: not c.state.running, deadline)
            if not exited:
                self._kill_with_signal(c, SIGKILL)
                self._wait_until(lambda: not c.state.running, self.clock.now() + 2)
        self.events.log("container", "stop", c.id, self._attrs(c))

    def _kill_with_signal(self, c: Container, sig: int) -> None:
        """moby: daemon/kill.go killWithSignal"""
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        rt = self._runtime.setdefault(c.id, {})
        stop_signal = c.config.get("StopSignal")
        if sig == SIGKILL or not stop_signal or sig == self._stop_signal(c):
            rm = RestartManager.from_json(
                rt.get("restart") or {"Policy": c.host_config.get("RestartPolicy")}
            )
            rm.cancel()
            rt["restart"] = rm.to_json()
        if not getattr(self, "_shutting_down", False):
            c.has_been_manually_stopped = True
            c.checkpoint()
        if c.state.restarting:
            # The pending restart is cancelled; the container stops where it is.
            rt.pop("restart_at", None)
            c.state.set_stopped(c.state.exit_code, self.clock.now())
            c.checkpoint()
            self._save_runtime(c.id)
            return
        attrs = self._attrs(c)
        attrs["signal"] = str(sig)
        now = self.clock.now()
        self.events.log("container", "kill", c.id, attrs, at=now)
        proc = self._procs.get(c.id)
        was_paused = c.state.paused
        if was_paused and proc is not None and not proc.exited:
            proc.thaw(now)  # frozen time is not replayed
        if proc is not None and not proc.exited:
            proc.signal(sig, now)
        if was_paused:
            c.state.paused = False
            rt["resume_at"] = now
            self.events.log("container", "unpause", c.id, self._attrs(c), at=now)
        if proc is not None and not proc.exited:
            proc.run(now)
        if proc is not None and proc.exited:
            self._handle_exit(c, proc.exit_code, now)
        self._save_runtime(c.id)

    def kill(self, ref: str, signal: str | int = "SIGKILL") -> None:
        """`docker kill`: SIGKILL by default, or any signal.

        The API parses the signal first (`Invalid signal: X`, 400); every error of the kill
        itself comes back as `Cannot kill container: <ref>: <error>`, keeping its kind.

        moby 20.10: api/server/router/container/container_routes.go postContainersKill,
        daemon/kill.go ContainerKill
        """
        try:
            sig = parse_signal(signal)
        except ValueError as e:
            raise InvalidParameter(str(e)) from None
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            try:
                c = self.get_container(ref)
                if not c.state.running:
                    raise Conflict(f"Container {c.id} is not running")
                self._kill_with_signal(c, sig)
            except APIError as e:
                raise type(e)(f"Cannot kill container: {ref}: {e}", e.status_code) from None
            self._write_state()

    def pause(self, ref: str) -> None:
        """`docker pause`: freeze the processes (the mount stays; Running stays true).

        moby: daemon/pause.go containerPause
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if not c.state.running:
                raise Conflict(f"Container {c.id} is not running")
            if c.state.paused:
                raise APIError(f"Container {c.id} is already paused", 500)  # 20.10: fmt.Errorf
            if c.state.restarting:
                raise Conflict(
                    f"Container {c.id} is restarting, wait until the container is running"
                )
            c.state.paused = True
            c.checkpoint()
            self.events.log("container", "pause", c.id, self._attrs(c))
            self._save_runtime(c.id)

    def unpause(self, ref: str) -> None:
        """moby: daemon/unpause.go containerUnpause"""
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if not c.state.paused:
                raise APIError(f"Container {c.id} is not paused", 500)  # 20.10: fmt.Errorf
            c.state.paused = False
            self._runtime.setdefault(c.id, {})["resume_at"] = self.clock.now()
            proc = self._procs.get(c.id)
            if proc is not None and not proc.exited:
                proc.thaw(self.clock.now())  # frozen time is not replayed
            c.checkpoint()
            self.events.log("container", "unpause", c.id, self._attrs(c))
            self._save_runtime(c.id)
            self._advance_to(self.clock.now())

    def restart(self, ref: str, timeout: float | None = None) -> None:
        """`docker restart`: stop (if running) then start, on the same RW layer.

        moby: daemon/restart.go ContainerRestart
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            try:
                if c.state.running:
                    auto_remove = c.host_config.get("AutoRemove")
                    c.host_config["AutoRemove"] = False  # 20.10: no auto-remove mid-restart
                    try:
                        self._container_stop(
                            c, self._stop_timeout(c) if timeout is None else float(timeout)
                        )
                    finally:
                        c.host_config["AutoRemove"] = auto_remove
                self._container_start(c, reset_restart_manager=True)
            except APIError as e:
                # 20.10 wraps with fmt.Errorf: the error loses its kind (HTTP 500)
                raise APIError(f"Cannot restart container {ref}: {e}", 500) from None
            self.events.log("container", "restart", c.id, self._attrs(c))
            self._write_state()

    # -- rm, rename, wait ----------------------------------------------------------------------
    def remove(self, ref: str, force: bool = False, v: bool = False) -> None:
        """`docker rm`: release the RW layer and delete the container's folders.

        moby: daemon/delete.go ContainerRm
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if c.state.removal_in_progress:
                raise Conflict(f"removal of container {ref} is already in progress")
            self._remove(c, force, v)
            self._write_state()

    def _remove(self, c: Container, force: bool, remove_volumes: bool) -> None:
        """moby: daemon/delete.go ContainerRm + cleanupContainer (20.10)

        A removal that fails after the container was marked Dead (the driver could not
        remove the RW layer) leaves it `dead`, with the error in State.Error; `docker rm`
        can be tried again.
        """
        if c.state.set_removal_in_progress():
            raise Conflict(f"removal of container {c.name.lstrip('/')} is already in progress")
        try:
            self._cleanup_container(c, force, remove_volumes)
        finally:
            c.state.reset_removal_in_progress()
            if c.id in self.containers:
                c.checkpoint()

    def _cleanup_container(self, c: Container, force: bool, remove_volumes: bool) -> None:
        if c.state.running:
            if not force:
                state = c.state.state_string()
                procedure = "Stop the container before attempting removal or force remove"
                if state == "paused":
                    procedure = "Unpause and then " + procedure[0].lower() + procedure[1:]
                raise Conflict(f"You cannot remove a {state} container {c.id}. {procedure}")
            self._kill_with_signal(c, SIGKILL)
        if c.state.running:
            self._container_stop(c, 3)
        # Mark it dead first, so that a crash from here on leaves a dead container, not a
        # live one (moby checkpoints at this point).
        c.state.dead = True
        c.checkpoint()
        rw = self._rw.get(c.id)
        self._unmount_container(c)
        if rw is not None:
            try:
                self.layer_store.release_rw_layer(rw)
            except OSError as e:
                message = (
                    f'container {c.id}: driver "{self.driver.name}" failed to remove root '
                    f"filesystem: {_go_error(e)}"
                )
                c.state.error = message
                raise APIError(message, 500) from None
            del self._rw[c.id]
        shutil.rmtree(c.root, ignore_errors=True)
        self.containers.pop(c.id, None)
        self._runtime.pop(c.id, None)
        try:
            os.unlink(self._runtime_path(c.id))
        except FileNotFoundError:
            pass
        for key in [k for k in self._logbuf if k[0] == c.id]:
            del self._logbuf[key]
        if remove_volumes:
            for mp in c.mount_points.values():
                if mp["Type"] == "volume" and not mp["Spec"].get("Source"):
                    try:
                        self.volumes.remove(mp["Name"], self.volume_users(mp["Name"]))
                    except APIError:
                        pass
        self.events.log("container", "destroy", c.id, self._attrs(c))

    def rename(self, ref: str, new_name: str) -> None:
        """moby: daemon/rename.go ContainerRename"""
        with self._lock:
            self._check_open()
            if not ref or not new_name:
                raise InvalidParameter("Neither old nor new names may be empty")
            c = self.get_container(ref)
            stored = "/" + new_name.lstrip("/")
            old = c.name
            if stored == old:
                raise InvalidParameter(
                    "Renaming a container with the same name as its current name"
                )
            try:
                stored = validate_name(stored)  # moby prefixes "/" before reserving
            except APIError as e:
                raise InvalidParameter(f"Error when allocating new name: {e}") from None
            holder = self._name_holder(stored)
            if holder is not None:
                raise Conflict(f"Error when allocating new name: {conflict(stored, holder.id)}")
            c.name = stored
            c.checkpoint()
            attrs = self._attrs(c)
            attrs["oldName"] = old
            self.events.log("container", "rename", c.id, attrs)

    def wait(
        self, ref: str, condition: str = "not-running", timeout: float | None = None
    ) -> dict[str, Any]:
        """Block until the container stops (or exits next, or is removed).

        moby: daemon/wait.go ContainerWait
        """
        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            cid = c.id
            deadline = None if timeout is None else self.clock.now() + timeout
            if condition == "not-running":

                def done() -> bool:
                    return cid not in self.containers or not c.state.running

            elif condition == "next-exit":
                mark = (c.state.finished_at, c.restart_count)

                def done() -> bool:
                    return (
                        cid not in self.containers or (c.state.finished_at, c.restart_count) != mark
                    )

            elif condition == "removed":

                def done() -> bool:
                    return cid not in self.containers

            else:
                raise InvalidParameter(f"invalid condition: {condition}")
            if not self._wait_until(done, deadline):
                raise DockerException(f"timed out waiting for container {ref}")
            error = {"Message": c.state.error} if c.state.error else None
            return {"StatusCode": c.state.exit_code, "Error": error}

    # -- exec ---------------------------------------------------------------------------------
    def exec_run(
        self,
        ref: str,
        cmd: list[str] | str,
        *,
        environment=None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> tuple[int, bytes, bytes]:
        """Run a command in a running container to completion: (exit code, stdout, stderr).

        moby: daemon/exec.go ContainerExecCreate / ContainerExecStart
        """
        from dockerlayers.process.process import Process
        from dockerlayers.process.resolve import ExecError

        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            self._check_exec(c, ref)
            argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
            exec_id = self.ids.generate_random_id()
            attrs = self._attrs(c)
            attrs["execID"] = exec_id
            action = " ".join(argv)
            self.events.log("container", f"exec_create: {action}", c.id, attrs)
            self.events.log("container", f"exec_start: {action}", c.id, attrs)
            out: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
            fs = self._mounted.get(c.id) or self._mount_container(c)
            env = self._process_env(c) + _env_list(environment)
            try:
                proc = Process.spawn(
                    argv,
                    env=env,
                    cwd=workdir or c.config.get("WorkingDir") or "/",
                    rootfs=fs,
                    clock_now=self.clock.now(),
                    hostname=c.config.get("Hostname") or c.short_id,
                    output=lambda s, d: out[s].append(d),
                    pid=self._next_pid,
                )
            except ExecError as e:
                code = 126 if e.exit_code in (126, 127) else e.exit_code
                msg = (
                    "OCI runtime exec failed: exec failed: unable to start container process: "
                    f"{e.message}: unknown\r\n"
                )
                attrs["exitCode"] = str(code)
                self.events.log("container", "exec_die", c.id, attrs)
                return code, msg.encode(), b""
            self._next_pid += 1
            proc.run(self.clock.now())
            while not proc.exited:
                if proc.wake_at is None:
                    raise DockerException(f"exec {action!r} waits for nothing that can happen")
                if self.clock.virtual:
                    self._advance_to(proc.wake_at)
                else:
                    self._lock.release()
                    try:
                        time.sleep(max(0.0, proc.wake_at - self.clock.now()))
                    finally:
                        self._lock.acquire()
                    self._advance_to(self.clock.now())
                proc.run(max(self.clock.now(), proc.wake_at))
            attrs["exitCode"] = str(proc.exit_code)
            self.events.log("container", "exec_die", c.id, attrs)
            self._save_runtime(c.id)
            return proc.exit_code, b"".join(out["stdout"]), b"".join(out["stderr"])

    def _check_exec(self, c: Container, ref: str) -> None:
        """moby 20.10: daemon/exec.go getActiveContainer (the paused text names the
        container as the caller did: `errExecPaused(name)`)"""
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        if c.state.paused:
            raise Conflict(f"Container {ref} is paused, unpause the container before exec")
        if c.state.restarting:
            raise Conflict(f"Container {c.id} is restarting, wait until the container is running")

    # -- inspection --------------------------------------------------------------------------
    def changes(self, ref: str) -> list[dict[str, Any]]:
        """`docker diff`: the RW layer's changes against the init layer.

        moby: daemon/changes.go ContainerChanges
        """
        with self._lock:
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            return [ch.to_api() for ch in self._rw[c.id].changes()]

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        """`docker inspect` of a container.

        moby: daemon/inspect.go ContainerInspect
        """
        with self._lock:
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            rw = self._rw[c.id]
            started = c.has_been_started_before
            data: dict[str, Any] = {
                "Id": c.id,
                "Created": format_rfc3339nano(c.created),
                "Path": c.path,
                "Args": list(c.args),
                "State": c.state.inspect(),
                "Image": c.image,
                "ResolvConfPath": c.resolv_conf_path if started else "",
                "HostnamePath": c.hostname_path if started else "",
                "HostsPath": c.hosts_path if started else "",
                "LogPath": c.log_path if started else "",
                "Name": c.name,
                "RestartCount": c.restart_count,
                "Driver": c.driver,
                "Platform": "linux",
                "MountLabel": "",
                "ProcessLabel": "",
                "AppArmorProfile": "",
                "ExecIDs": None,
                "HostConfig": c.host_config,
                "GraphDriver": {"Data": self._graph_driver_data(c), "Name": self.driver.name},
                "Mounts": [_inspect_mount(mp) for _, mp in sorted(c.mount_points.items())],
                "Config": c.config,
                "NetworkSettings": c.to_json()["NetworkSettings"],
            }
            if size:
                size_rw = rw.size()
                parent = rw.parent
                data["SizeRw"] = size_rw
                data["SizeRootFs"] = size_rw + (parent.size() if parent is not None else 0)
            return data

    def _graph_driver_data(self, c: Container) -> dict[str, str] | None:
        """overlay2: LowerDir (init + image layers), MergedDir, UpperDir, WorkDir.

        moby: daemon/inspect.go (GraphDriver.Data from the RW layer's Metadata; a dead
        container's metadata may be gone already, its error is ignored)
        """
        rw = self._rw[c.id]
        try:
            meta = rw.metadata()
        except OSError:
            if not c.state.dead:
                raise
            return None
        return meta

    def list(
        self,
        all: bool = False,
        size: bool = False,
        filters: dict[str, Any] | None = None,
        limit: int = -1,
    ) -> list[dict[str, Any]]:
        """`docker ps`: newest first.

        moby: daemon/list.go Containers
        """
        with self._lock:
            self._advance_to(self.clock.now())
            now = self.clock.now()
            items = sorted(self.containers.values(), key=lambda c: (c.created, c.id), reverse=True)
            out = []
            for c in items:
                if not all and not c.state.running and not (filters and filters.get("status")):
                    continue
                if filters and not _ps_match(c, filters):
                    continue
                entry = {
                    "Id": c.id,
                    "Names": [c.name],
                    "Image": c.config.get("Image") or c.image,
                    "ImageID": c.image,
                    "Command": _command_string(c),
                    "Created": int(c.created),
                    "Ports": [],
                    "Labels": c.config.get("Labels") or {},
                    "State": c.state.state_string(),
                    "Status": c.state.human(now),
                    "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
                    "NetworkSettings": {"Networks": {}},
                    "Mounts": [_inspect_mount(mp) for _, mp in sorted(c.mount_points.items())],
                }
                if size:
                    rw = self._rw[c.id]
                    entry["SizeRw"] = rw.size()
                    entry["SizeRootFs"] = entry["SizeRw"] + (rw.parent.size() if rw.parent else 0)
                out.append(entry)
            if limit is not None and limit > 0:
                out = out[:limit]
            return out

    def prune(self) -> dict[str, Any]:
        """`docker container prune`: remove every stopped container."""
        with self._lock:
            deleted, reclaimed = [], 0
            for c in list(self.containers.values()):
                if c.state.running:
                    continue
                reclaimed += self._rw[c.id].size()
                self._remove(c, force=False, remove_volumes=False)
                deleted.append(c.id)
            return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    def volume_users(self, name: str) -> list[str]:
        return [
            c.id
            for c in self.containers.values()
            if any(mp.get("Name") == name for mp in c.mount_points.values())
        ]

    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        """(container id, running) for every container made from `image_id`."""
        return [(c.id, c.state.running) for c in self.containers.values() if c.image == image_id]

    def _attrs(self, c: Container) -> dict[str, str]:
        attrs = {"image": c.config.get("Image") or c.image, "name": c.name.lstrip("/")}
        for k, v in (c.config.get("Labels") or {}).items():
            attrs[k] = v
        return attrs

    # -- images ------------------------------------------------------------------------------
    def base_image(self) -> str:
        """The built-in base image's ID, importing it on first use (same ID every time).

        Made like `docker import` of a busybox rootfs with CMD ["sh"], dated 2024-01-01.
        """
        from dockerlayers import baseimage
        from dockerlayers.image.errors import ImageNotFound as _NotFound
        from dockerlayers.image.importer import import_image
        from dockerlayers.image.jsonenc import format_rfc3339_nano

        with self._lock:
            try:
                return self.image_service.get_image(baseimage.BASE_REFERENCE).id
            except _NotFound:
                pass
            svc = self.image_service
            image_id = import_image(
                svc.image_store,
                svc.reference_store,
                baseimage.rootfs_tar(),
                created=format_rfc3339_nano(baseimage.BASE_EPOCH * 1_000_000_000),
                repository=baseimage.BASE_REPOSITORY,
                tag=baseimage.BASE_TAG,
                changes=['CMD ["sh"]', "ENV " + baseimage.CONFIG["Env"][0]],
            )
            return image_id

    def commit(
        self,
        ref: str,
        repository: str | None = None,
        tag: str | None = None,
        comment: str | None = None,
        author: str | None = None,
        changes: list[str] | str | None = None,
        config: dict[str, Any] | None = None,
        pause: bool = True,
    ) -> str:
        """`docker commit`: the RW layer's diff (against the init layer) becomes a new
        read-only layer on the image's; pauses a running container meanwhile.

        moby: daemon/commit.go CreateImageFromContainer, daemon/images/image_commit.go
        """
        from dockerlayers.image.changes import apply_changes
        from dockerlayers.image.image import ContainerConfig, new_child_image

        with self._lock:
            self._check_open()
            self._advance_to(self.clock.now())
            c = self.get_container(ref)
            if c.state.dead:
                raise Conflict(f"You cannot commit container {c.id} which is Dead")
            if c.state.removal_in_progress:
                raise Conflict(f"You cannot commit container {c.id} which is being removed")
            paused_here = False
            if pause and c.state.running and not c.state.paused and not c.state.restarting:
                self.pause(c.id)
                paused_here = True
            try:
                change_list = [changes] if isinstance(changes, str) else list(changes or [])
                base_cfg = ContainerConfig.from_json(config if config else c.config)
                new_cfg = apply_changes(base_cfg, change_list)
                _merge_commit_config(new_cfg, ContainerConfig.from_json(c.config))
                parent = self.image_service.get_image(c.image)
                parent_chain = parent.rootfs.chain_id() if parent.rootfs is not None else None
                rw = self.layer_store.get_rw_layer(c.id)
                try:
                    with rw.tar_stream() as tar:
                        layer = self.layer_store.register(tar, parent_chain)
                finally:
                    self.layer_store.release_rw_layer(rw)
                try:
                    child = new_child_image(
                        parent,
                        diff_id=layer.diff_id,
                        created=self.image_service.now(),
                        container_config=ContainerConfig.from_json(c.config),
                        config=new_cfg,
                        container_id=c.id,
                        author=author or "",
                        comment=comment or "",
                    )
                    image_id = self.image_service.create_image(child.marshal(), parent=parent.id)
                finally:
                    self.layer_store.release(layer)
                image_ref = ""
                if repository:
                    image_ref = f"{repository}:{tag or 'latest'}"
                    self.image_service.tag(image_id, image_ref)
                attrs = self._attrs(c)
                attrs.update({"comment": comment or "", "imageID": image_id, "imageRef": image_ref})
                self.events.log("container", "commit", c.id, attrs)
            finally:
                # moby: `defer daemon.containerUnpause(container)`, after the commit event
                if paused_here and c.id in self.containers and c.state.paused:
                    self.unpause(c.id)
            self._write_state()
            return image_id

    def image_inspect(self, ref: str) -> dict[str, Any]:
        """`docker image inspect`.

        moby: daemon/images/image_inspect.go (20.10 field set)
        """
        with self._lock:
            svc = self.image_service
            img = svc.get_image(ref)
            layer = svc.image_store.get_layer(img.id)
            size = layer.size() if layer is not None else 0
            meta = layer.metadata() if layer is not None else None
            tags, digests = [], []
            from dockerlayers.image.refname import familiar_string

            for r in svc.references(img.id):
                (digests if r.digest else tags).append(familiar_string(r))
            data = json.loads(img.raw_json or img.marshal())
            return {
                "Id": img.id,
                "RepoTags": tags,
                "RepoDigests": digests,
                "Parent": img.parent or "",
                "Comment": img.comment,
                "Created": img.created,
                "Container": img.container,
                "ContainerConfig": data.get("container_config") or {},
                "DockerVersion": img.docker_version,
                "Author": img.author,
                "Config": data.get("config"),
                "Architecture": img.architecture,
                "Os": img.os,
                "Size": size,
                "VirtualSize": size,
                "GraphDriver": {"Data": meta, "Name": self.driver.name},
                "RootFS": {
                    "Type": "layers",
                    "Layers": list(img.rootfs.diff_ids) if img.rootfs else [],
                },
                "Metadata": {
                    "LastTagTime": svc.image_store.get_last_updated(img.id)
                    or "0001-01-01T00:00:00Z"
                },
            }

    def build(
        self,
        path: str,
        tag: str | list[str] | None = None,
        dockerfile: str = "Dockerfile",
        **kwargs: Any,
    ) -> tuple[str, list[str]]:
        """`docker build` with the legacy builder: (image ID, output lines).

        moby: builder/dockerfile (each step a container, committed)
        """
        from dockerlayers.builder import build

        with self._lock:
            self._check_open()
            tags = [tag] if isinstance(tag, str) else list(tag or [])
            return build(self, path, tags=tags, dockerfile=dockerfile, **kwargs)

    def import_image(
        self,
        tar,
        repository: str | None = None,
        tag: str | None = None,
        changes: list[str] | None = None,
        message: str | None = None,
    ) -> str:
        """`docker import`: one layer, DiffID = sha256 of the tar exactly as given."""
        with self._lock:
            self._check_open()
            return self.image_service.import_image(
                tar, repository or "", tag or "", message=message or "", changes=changes or ()
            )

    def load(self, data) -> list[str]:
        """`docker load`; returns the IDs of the images loaded (see image_service for lines)."""
        with self._lock:
            self._check_open()
            before = set(self.image_service.image_store.map())
            self.last_load_output = self.image_service.load(data)
            after = self.image_service.image_store.map()
            loaded = [i for i in after if i not in before]
            for line in self.last_load_output:
                ref = line.split(": ", 1)[-1]
                try:
                    image_id = self.image_service.get_image(ref).id
                except APIError:
                    continue
                if image_id not in loaded:
                    loaded.append(image_id)
            return loaded

    def save(self, refs: list[str], format: str = "docker") -> bytes:
        """`docker save` of `refs` as tar bytes."""
        import io

        with self._lock:
            out = io.BytesIO()
            self.image_service.save(refs, out, format)
            return out.getvalue()

    def remove_image(
        self, ref: str, force: bool = False, prune: bool = True
    ) -> list[dict[str, str]]:
        """`docker rmi`: Untagged/Deleted items, with Docker's conflict rules."""
        with self._lock:
            self._check_open()
            items = self.image_service.remove(ref, force=force, prune=prune)
            return [
                {"Untagged": i.untagged} if i.untagged else {"Deleted": i.deleted} for i in items
            ]

    def prune_images(self, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        """`docker image prune`: dangling images no container uses."""
        with self._lock:
            deleted: list[dict[str, str]] = []
            used = {c.image for c in self.containers.values()}
            for summary in self.image_service.images(all=False, dangling=True):
                if summary.id in used:
                    continue
                try:
                    deleted.extend(self.remove_image(summary.id, prune=True))
                except APIError:
                    continue
            return {"ImagesDeleted": deleted or None, "SpaceReclaimed": 0}

    def export(self, ref: str) -> bytes:
        """`docker export`: the container's merged filesystem (volumes excluded) as a tar.

        moby: daemon/export.go containerExport
        """
        import io

        from dockerlayers.archive.tar import TarWriter, _Appender

        with self._lock:
            c = self.get_container(ref)
            rw = self.layer_store.get_rw_layer(c.id)
            fs = rw.mount()
            try:
                out = io.BytesIO()
                tw = TarWriter(out)
                app = _Appender(tw, convert_whiteouts=False)
                for top, dirs, files in fs.walk("/"):
                    for name in sorted(dirs + files):
                        path = top.rstrip("/") + "/" + name
                        host = fs.host_path(path)
                        if host is not None:
                            app.add(host, path.lstrip("/"))
                tw.close()
                return out.getvalue()
            finally:
                rw.unmount()
                self.layer_store.release_rw_layer(rw)

    def info(self) -> dict[str, Any]:
        """`docker info` (the parts this model has)."""
        with self._lock:
            states = [c.state.state_string() for c in self.containers.values()]
            return {
                "Containers": len(states),
                "ContainersRunning": sum(s in ("running", "restarting") for s in states),
                "ContainersPaused": states.count("paused"),
                "ContainersStopped": sum(s in ("exited", "created", "dead") for s in states),
                "Images": len(self.image_service.image_store.map()),
                "Driver": self.driver.name,
                "DriverStatus": [list(row) for row in self.driver.status()],
                "DockerRootDir": self.root,
                "OperatingSystem": "dockerlayers (simulated processes)",
                "OSType": "linux",
                "Architecture": "x86_64",
                "LoggingDriver": "json-file",
                "ServerVersion": "20.10.24-dockerlayers",
                "KernelOverlay": getattr(self.driver, "use_kernel", False),
            }

    # -- runtime persistence -------------------------------------------------------------------
    def _runtime_path(self, cid: str) -> str:
        return os.path.join(self.runtime_dir, f"{cid}.json")

    def _load_runtime(self, cid: str) -> dict[str, Any]:
        try:
            with open(self._runtime_path(cid)) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return {}

    def _save_runtime(self, cid: str) -> None:
        rt = self._runtime.get(cid)
        if rt is None or cid not in self.containers:
            return
        proc = self._procs.get(cid)
        if proc is not None and not proc.exited:
            rt["process"] = proc.to_state()
        else:
            rt.pop("process", None)
        atomic_write_file(self._runtime_path(cid), json.dumps(rt).encode(), 0o600)


# -- helpers -------------------------------------------------------------------------------------
def _go_error(e: OSError) -> str:
    """An OSError as Go prints a *PathError: `unlinkat /path: device or resource busy`."""
    text = (e.strerror or str(e)).lower() if e.strerror else str(e)
    if e.filename:
        return f"unlinkat {e.filename}: {text}"
    return text


def _write(path: str, text: str, mode: int) -> None:
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


def _as_list(value: list[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return list(value)


def _env_list(env: list[str] | dict[str, str] | None) -> list[str]:
    if env is None:
        return []
    if isinstance(env, dict):
        return [f"{k}={v}" for k, v in env.items()]
    return list(env)


def _merge_env(image_env: list[str], user_env: list[str]) -> list[str]:
    """User values replace image values of the same key; order as Docker keeps it."""
    keys = {e.split("=", 1)[0] for e in user_env}
    return [e for e in image_env if e.split("=", 1)[0] not in keys] + list(user_env)


def _mount_point(kind: str, source: str, name: str, dst: str, rw: bool) -> dict[str, Any]:
    return {
        "Source": source,
        "Destination": dst,
        "RW": rw,
        "Name": name,
        "Driver": "local" if kind == "volume" else "",
        "Type": kind,
        "Relabel": "",
        "Propagation": "rprivate" if kind == "bind" else "",
        "Spec": {"Type": kind, "Source": source if kind == "bind" else name, "Target": dst},
        "SkipMountpointCreation": False,
    }


def _inspect_mount(mp: dict[str, Any]) -> dict[str, Any]:
    out = {"Type": mp["Type"]}
    if mp["Type"] == "volume":
        out["Name"] = mp["Name"]
    out.update({"Source": mp["Source"], "Destination": mp["Destination"]})
    if mp["Type"] == "volume":
        out["Driver"] = "local"
    out.update(
        {
            "Mode": "" if mp["Type"] == "bind" else "z",
            "RW": mp["RW"],
            "Propagation": mp["Propagation"],
        }
    )
    return out


def _command_string(c: Container) -> str:
    parts = [c.path, *c.args]
    return " ".join(shlex.quote(p) if (" " in p or not p) else p for p in parts)


def _merge_commit_config(new, old) -> None:
    """Fill what the committed config leaves unset from the container's config.

    moby: daemon/commit.go merge
    """
    if not new.user:
        new.user = old.user
    if new.exposed_ports is None:
        new.exposed_ports = old.exposed_ports
    elif old.exposed_ports:
        for port in old.exposed_ports:
            new.exposed_ports.setdefault(port, {})
    if new.env is None:
        new.env = old.env
    elif old.env:
        keys = {e.split("=", 1)[0] for e in new.env}
        new.env = new.env + [e for e in old.env if e.split("=", 1)[0] not in keys]
    if new.labels is None:
        new.labels = old.labels
    elif old.labels:
        for k, v in old.labels.items():
            new.labels.setdefault(k, v)
    if not new.cmd:
        new.cmd = old.cmd
    if not new.entrypoint:
        new.entrypoint = old.entrypoint
    if not new.working_dir:
        new.working_dir = old.working_dir
    if new.volumes is None:
        new.volumes = old.volumes
    if not new.stop_signal:
        new.stop_signal = old.stop_signal


def _ps_match(c: Container, filters: dict[str, Any]) -> bool:
    for key, values in filters.items():
        if isinstance(values, str):
            values = [values]
        if key == "status" and c.state.state_string() not in values:
            return False
        if key == "name" and not any(v.lstrip("/") in c.name for v in values):
            return False
        if key == "id" and not any(c.id.startswith(v) for v in values):
            return False
        if key == "ancestor" and not any(v in (c.config.get("Image"), c.image) for v in values):
            return False
        if key == "label":
            labels = c.config.get("Labels") or {}
            for v in values:
                k, _, val = v.partition("=")
                if k not in labels or (val and labels[k] != val):
                    return False
        if key == "exited" and not (
            not c.state.running and c.state.started_at and str(c.state.exit_code) in values
        ):
            return False
    return True


__all__ = ["Daemon", "RootInUse"]
