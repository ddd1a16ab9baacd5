"""The daemon: containers from create to rm, on the layer store, with simulated processes.

`Daemon` holds the wiring (the root and its lock, the layer store and graph driver, the image
service, the events log, the volumes, the clock, the state file) and one public method per
verb; each verb lives in its own module of free functions taking the daemon, as moby splits
`daemon/`:

    create.py   create, new_container, set_rw_layer, setup_container_dirs (CreateConfig)
    start.py    start, container_start                 stop.py     stop, container_stop
    kill.py     kill, kill_with_signal                 restart.py  restart
    pause.py    pause, unpause                         delete.py   remove, cleanup_container
    rename.py   rename    wait.py   wait               exec.py     exec_run
    commit.py   commit    export.py export             list.py     ps and its filters
    inspect.py  inspect, changes, info                 logs.py     the json-file log
    monitor.py  handle_container_exit, the scheduler   restore.py  restore, detach, shutdown
    runtime.py  ContainerRuntime (persisted)           errors.py   Docker's texts
    mounts.py   the container's mounted filesystem     volumes.py  volumes and mount points

The image verbs (image inspect, load, save, import, rmi, prune) are in
dockerlayers/image/daemon_images.py, next to the image service, as moby keeps them in
daemon/images/.

Everything is kept on disk under the root as moby keeps it, so a new Daemon on the same root
finds every container, its mount-id and its files again. Processes are simulated
(dockerlayers.process) and advance with the daemon's clock: real time, or a virtual clock
that moves only when asked (stop's timeout and wait move it too).

moby: daemon/daemon.go (NewDaemon, restore, Shutdown), daemon/container.go GetContainer
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

from dockerlayers import platform
from dockerlayers._lazy import LazyModule
from dockerlayers.container.container import Container
from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon import monitor, restore
from dockerlayers.daemon.errors import daemon_closed
from dockerlayers.daemon.events import EventsLog
from dockerlayers.daemon.imageverbs import ImageVerbs
from dockerlayers.daemon.runtime import ContainerRuntime, write_runtime
from dockerlayers.daemon.volumes import VolumeStore
from dockerlayers.errors import DockerException, InvalidParameter, NotFound
from dockerlayers.graphdriver import new_driver
from dockerlayers.ioutils import TEMP_PREFIX, atomic_write_file, remove_temp_files
from dockerlayers.layer import LayerStore, RWLayer
from dockerlayers.process.clock import (
    Clock,
    VirtualClock,
    format_rfc3339nano,
    make_clock,
    unix_nanos,
)
from dockerlayers.stringid import IDGenerator

if TYPE_CHECKING:
    import random

    from dockerlayers.graphdriver.rootfs import RootFS

# Each verb's module loads when the verb first runs: a command imports the verb it runs,
# plus what every open needs (restore, the monitor). The command line starts faster.
create = LazyModule("dockerlayers.daemon.create")
delete = LazyModule("dockerlayers.daemon.delete")
inspect = LazyModule("dockerlayers.daemon.inspect")
kill = LazyModule("dockerlayers.daemon.kill")
list_ = LazyModule("dockerlayers.daemon.list")
logs = LazyModule("dockerlayers.daemon.logs")
container_fs = LazyModule("dockerlayers.daemon.mounts")
pause = LazyModule("dockerlayers.daemon.pause")
rename = LazyModule("dockerlayers.daemon.rename")
restart = LazyModule("dockerlayers.daemon.restart")
start = LazyModule("dockerlayers.daemon.start")
stop = LazyModule("dockerlayers.daemon.stop")
wait = LazyModule("dockerlayers.daemon.wait")
commit = LazyModule("dockerlayers.daemon.commit")
export = LazyModule("dockerlayers.daemon.export")
exec_ = LazyModule("dockerlayers.daemon.exec")
daemon_images = LazyModule("dockerlayers.image.daemon_images")
archive = LazyModule("dockerlayers.daemon.archive")
top = LazyModule("dockerlayers.daemon.top")
update = LazyModule("dockerlayers.daemon.update")

STATE_FILE = "dockerlayers.json"
LOCK_FILE = "dockerlayers.pid"
#: The state file's format. 2: the lock file holds the PID of the process that has the root
#: open and is emptied when it lets go (detach, shutdown), so a PID found there at open
#: is a process that died holding the root: a crash, told without writing at open.
#: 1 (no "format" key): the state file's "open", written at every open, told it.
STATE_FORMAT = 2


class RootInUse(DockerException):
    """Another process holds this root (like a second dockerd on one data-root)."""


#: How far a virtual clock moves for each daemon operation (seconds): 1 ms, about what an
#: API call costs a real engine. Deterministic, and enough to order and tell apart
#: everything that `created` times order (containers, images, events).
OPERATION_STEP = 0.001


class DaemonClock:
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
        monitor.advance_to(self._daemon, target)
        return self._clock.now()

    def advance_to(self, t: float) -> float:
        return self.advance(max(0.0, t - self._clock.now()))

    def set_time(self, t: float) -> None:
        """Move a virtual clock to `t` and run nothing (the scheduler's own step; a real
        clock is only read)."""
        if isinstance(self._clock, VirtualClock):
            self._clock.advance_to(t)

    def __repr__(self) -> str:
        return f"<clock {'virtual' if self.virtual else 'real'} {format_rfc3339nano(self.now())}>"


class Daemon(ImageVerbs):
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
        storage: str | None = None,
    ) -> None:
        self.root = os.path.abspath(root)
        os.makedirs(self.root, mode=0o711, exist_ok=True)
        #: "graphdriver" or "containerd" (dockerd's containerd-snapshotter feature)
        self.storage = storage or _storage_from_daemon_json(self.root)
        #: held by every operation; a real-clock wait lets go of it while it sleeps
        self.lock = threading.RLock()
        #: how far a virtual clock moves per operation (0 freezes it between explicit
        #: advances, for a test whose model lets time pass only when it says so)
        self.operation_step = OPERATION_STEP
        # the PID a previous holder left in the lock file ("" when it let go cleanly)
        lock_fd, previous_holder = self._take_root_lock()
        self._lock_fd: int | None = lock_fd
        #: after close(), detach() or abandon(): every operation is refused
        self.closed = False
        #: during close(): exits do not count as manual stops and restart nobody
        self.shutting_down = False
        self._open_flag = True
        self._detached_flag = False
        #: the state file's bytes as last read or written (None: no state file)
        self._state_on_disk: bytes | None = None
        #: a stand-in registry for pulls: `(repository, tag) -> image ID or None` (tests)
        #: the lines of the last `docker load` (for the CLI to print)
        self.last_load_output: list[str] = []
        restoring = False
        try:
            state = self._read_state()
            self.seed = seed
            self.ids = IDGenerator(seed)
            if seed is not None:
                self.ids.setstate(state.get("rng"))
            self._names_rng: random.Random | None = None
            if seed is not None:
                import random

                self._names_rng = random.Random(seed)
                if state.get("names_rng") is not None:
                    self._names_rng.setstate(_tuplify(state["names_rng"]))
            base_clock = make_clock(clock)
            if isinstance(base_clock, VirtualClock) and state.get("clock") is not None:
                base_clock.advance_to(float(state["clock"]))
            self.clock = DaemonClock(self, base_clock)
            self.next_pid = int(state.get("next_pid") or 1000)
            self._prepare_temp_dir()
            if self.storage == "containerd":
                # moby 29: daemon.go — with the containerd snapshotter there is no graph
                # driver and no layer store: the snapshotter is the driver
                from dockerlayers.containerd.layerstore import ContainerdLayerStore

                self.layer_store = ContainerdLayerStore(
                    self.root,
                    snapshotter=_snapshotter_for(driver),
                    mounts=mounts,
                    ids=self.ids,
                    now=self.clock.now,
                    seed=seed,
                )
                self.driver = self.layer_store.driver
            else:
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
            # The image store holds references on its layers, so it must be loaded before
            # any release can delete one: the layer store asks for it first. A command
            # that touches no image (inspect, diff, start) never loads it, unless its
            # folders are missing or hold a crashed write's temp file (made and removed
            # when the service is made, so at every open as before).
            self._image_service_factory = image_service_factory
            self._image_service: Any = None
            if self.storage == "containerd" or not self._image_store_is_clean():
                self._image_service = self.image_service
            else:
                self.layer_store.before_release = lambda: self.image_service
            self.containers: dict[str, Container] = {}
            #: the daemon's own handle on each container's RW layer
            self.rw_layers: dict[str, RWLayer] = {}
            #: the filesystem of each mounted container (RW layer + volumes + Docker's files)
            self.mounted: dict[str, RootFS] = {}
            #: each running container's process
            self.procs: dict[str, Any] = {}
            self.runtime: dict[str, ContainerRuntime] = {}
            #: what each `runtime/<id>.json` holds (read at restore, or written since)
            self.runtime_on_disk: dict[str, bytes] = {}
            self.logger = logs.JSONFileLogger(self.clock.now)
            crashed = state.get("open", False) or (
                bool(previous_holder) and state.get("format") == STATE_FORMAT
            )
            if crashed:
                last = "crashed"  # the previous daemon never closed: its processes are lost
            elif state.get("detached", False):
                last = "detached"  # it let go of the root with its processes still running
            else:
                last = "closed"  # a shutdown (or a new root)
            # No write at open (the lock file's PID marks the root open): a command that
            # changes nothing writes nothing, as a read-only API call to dockerd does.
            restoring = True
            restore.restore(self, last)
            atexit.register(self._atexit)
        except BaseException:
            # Failing before the restore changed anything: the lock file as it was (a
            # crash before this stays one, a clean end stays clean); during it: a crash.
            self.release_root_lock(leave=None if restoring else previous_holder)
            raise

    # -- root lock and daemon state ------------------------------------------------------
    @property
    def image_service(self) -> Any:
        """The ImageService on this root (images, tags, layers' owners), made on first use."""
        if self._image_service is None:
            if self._image_service_factory is not None:
                self._image_service = self._image_service_factory(self)
            else:
                from dockerlayers.image.service import ContainerUse, ImageService

                kwargs: dict[str, Any] = {}
                cls: Any = ImageService
                if self.storage == "containerd":
                    from dockerlayers.containerd.imageservice import ContainerdImageService

                    cls = ContainerdImageService
                    kwargs["resolve_id"] = self.layer_store.config_of
                self._image_service = cls(
                    self.root,
                    self.layer_store,
                    now_ns=lambda: unix_nanos(self.clock.now()),
                    container_uses=lambda image_id: [
                        ContainerUse(cid, running) for cid, running in self.image_users(image_id)
                    ],
                    log_event=self._image_event,
                    **kwargs,
                )
        return self._image_service

    @property
    def image_service_made(self) -> bool:
        """Whether the image service has been made (it is made on first use)."""
        return self._image_service is not None

    def _image_store_is_clean(self) -> bool:
        """Whether the image store's folders (`image/<driver>/`, `imagedb/content` and
        each image's metadata) are there and hold no temp file of an interrupted write."""
        base = os.path.join(self.root, "image", self.driver.name)
        content = os.path.join(base, "imagedb", "content", "sha256")
        meta = os.path.join(base, "imagedb", "metadata", "sha256")
        try:
            folders = [base, content, *(os.path.join(meta, n) for n in os.listdir(meta))]
            for folder in folders:
                with os.scandir(folder) as entries:
                    if any(e.name.startswith(TEMP_PREFIX) for e in entries):
                        return False
        except OSError:
            return False
        return True

    def _image_event(self, id: str, ref: str, action: str) -> None:
        # containerd mode: the image service passes the actor ID Docker 29 logs
        # (dockerlayers/containerd/imageservice.py)
        if self.storage != "containerd" and action in ("pull", "push"):
            # moby: distribution/pull.go, push.go: ImageEventLogger(FamiliarString(ref),
            # FamiliarName(repo), ...): the reference is the ID, the repository the name
            from dockerlayers.image.refname import (
                familiar_name,
                familiar_string,
                parse_normalized_named,
            )

            named = parse_normalized_named(ref)
            id, ref = familiar_string(named), familiar_name(named)
        # moby: daemon/images/image_events.go LogImageEvent: the ID is the image's
        self.events.log("image", action, id, {"name": ref})

    @image_service.setter
    def image_service(self, value: Any) -> None:
        self._image_service = value

    def _take_root_lock(self) -> tuple[int, str]:
        """Lock the root and write our PID in the lock file; returns the lock's fd and the
        PID the previous holder left there ("" if it let go cleanly).

        moby: pkg/pidfile (dockerd's pid file, removed at shutdown)
        """
        path = os.path.join(self.root, LOCK_FILE)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        previous = os.read(fd, 32).decode(errors="replace").strip()
        if not platform.try_lock(fd, path):
            os.close(fd)
            raise RootInUse(
                f"pid file found, ensure dockerlayers is not running or delete {path}: "
                f"the root {self.root} is in use by process {previous or '?'}"
            ) from None
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd, previous

    def release_root_lock(self, leave: str | None = None) -> None:
        """Let go of the root's flock (once; later calls do nothing). `leave`: what the lock
        file is to hold after; "" (detach, shutdown) tells the next daemon that this one
        ended rather than died. None leaves our PID, as a dead process leaves it (dockerd's
        pid file too)."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                if leave is not None:
                    os.ftruncate(fd, 0)
                    if leave:
                        os.lseek(fd, 0, os.SEEK_SET)
                        os.write(fd, leave.encode())
                platform.unlock(fd, os.path.join(self.root, LOCK_FILE))
            finally:
                os.close(fd)

    def abandon(self) -> None:
        """Drop the daemon as a killed process would: nothing written, no shutdown; only
        the root lock goes (the kernel releases a dead process's flock)."""
        self.closed = True
        try:
            atexit.unregister(self._atexit)
        except Exception:
            pass
        self.release_root_lock()

    @property
    def names_rng(self) -> random.Random:
        """Where random container names come from: seeded with the daemon (its state kept
        in the state file), else the system's randomness (made when first needed)."""
        if self._names_rng is None:
            import random

            self._names_rng = random.SystemRandom()
        return self._names_rng

    def _prepare_temp_dir(self) -> None:
        """Empty `<root>/tmp` (spooled tars, build contexts a crash left there); an empty one
        is left as it is.

        moby: daemon/daemon.go prepareTempDir (renames tmp to tmp-old, removes it)
        """
        tmp = os.path.join(self.root, "tmp")
        old = tmp + "-old"
        try:
            if not os.listdir(tmp) and not os.path.lexists(old):
                return  # already empty: nothing to do (an open that changes nothing)
        except OSError:
            pass
        import shutil

        shutil.rmtree(old, ignore_errors=True)
        if os.path.isdir(tmp):
            os.rename(tmp, old)
            shutil.rmtree(old, ignore_errors=True)
        os.makedirs(tmp, mode=0o700, exist_ok=True)

    def _read_state(self) -> dict[str, Any]:
        """The state file's contents ({} if there is none or it does not parse); its bytes
        are kept, so that `write_state` can skip writing what is already there."""
        try:
            with open(os.path.join(self.root, STATE_FILE), "rb") as f:
                self._state_on_disk = f.read()
            state = json.loads(self._state_on_disk)
        except (FileNotFoundError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def write_state(self, open_: bool | None = None, detached: bool = False) -> None:
        """`<root>/dockerlayers.json`: open or not, the virtual time, the next PID and the
        seeded generators, so that a later daemon carries on the same story."""
        if open_ is not None:
            self._open_flag = open_
            self._detached_flag = detached
        state: dict[str, Any] = {
            "open": self._open_flag,
            "detached": self._detached_flag,
            "clock": self.clock.now() if self.clock.virtual else None,
            "next_pid": self.next_pid,
            "rng": self.ids.getstate(),
            "names_rng": self.names_rng.getstate() if self.seed is not None else None,
            "format": STATE_FORMAT,
        }
        data = json.dumps(state).encode()
        if data == self._state_on_disk:
            return  # unchanged: no write, no fsync (a read-only command writes nothing)
        atomic_write_file(os.path.join(self.root, STATE_FILE), data, 0o600)
        self._state_on_disk = data

    def _atexit(self) -> None:
        try:
            if not self.closed:
                self.detach()
        except Exception:
            pass

    def check_open(self) -> None:
        if self.closed:
            raise daemon_closed()

    # -- the opening every verb shares -----------------------------------------------------
    @contextmanager
    def locked(self, *, check_open: bool = True, advance: bool = True) -> Iterator[None]:
        """Hold the daemon's lock for one operation: refuse if closed, then let the
        processes run up to now (so the operation sees the present).

        A virtual clock first moves on by OPERATION_STEP: on a real engine every call takes
        a little time, so two operations never share an instant (creation order, `ps -l`,
        a re-commit's new image ID and a `--no-cache` build's new IDs depend on it)."""
        with self.lock:
            if check_open:
                self.check_open()
            now = self.clock.now()
            if self.clock.virtual:
                now = round(now + self.operation_step, 6)  # whole milliseconds stay exact
            if advance:
                monitor.advance_to(self, now)
            else:
                self.clock.set_time(now)
            yield

    @contextmanager
    def operation(
        self, ref: str, *, check_open: bool = True, advance: bool = True
    ) -> Iterator[Container]:
        """`locked()`, then the container `ref` names (NotFound if none)."""
        with self.locked(check_open=check_open, advance=advance):
            yield self.get_container(ref)

    # -- lookups and helpers the verbs share -------------------------------------------------
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

    def name_holder(self, name: str) -> Container | None:
        """The container that holds the stored name `name` ("/web"), if any."""
        for c in self.containers.values():
            if c.name == name:
                return c
        return None

    def rw_layer(self, ref: str) -> RWLayer:
        """The container's RW layer handle (the daemon's own reference)."""
        return self.rw_layers[self.get_container(ref).id]

    def runtime_of(self, c: Container) -> ContainerRuntime:
        """The container's runtime state (made empty on first use)."""
        rt = self.runtime.get(c.id)
        if rt is None:
            rt = self.runtime[c.id] = ContainerRuntime()
        return rt

    def save_runtime(self, cid: str) -> None:
        """Write `<root>/runtime/<id>.json`, with the process's state if it runs."""
        rt = self.runtime.get(cid)
        if rt is None or cid not in self.containers:
            return
        proc = self.procs.get(cid)
        rt.process = proc.to_state() if proc is not None and not proc.exited else None
        write_runtime(self.runtime_dir, cid, rt, self.runtime_on_disk)

    def allocate_pid(self) -> int:
        """The next host PID (the simulated processes' `State.Pid`)."""
        pid = self.next_pid
        self.next_pid += 1
        return pid

    def attrs(self, c: Container) -> dict[str, str]:
        """An event's attributes for a container: image, name and its labels."""
        image = c.config.get("Image") or c.image
        if image == c.image:  # made from an ID (the builder's steps): the ID clients see
            image = shown_image_id(self, image)
        attrs = {"image": image, "name": c.name.lstrip("/")}
        for k, v in (c.config.get("Labels") or {}).items():
            attrs[k] = v
        return attrs

    # -- containers ------------------------------------------------------------------------
    def create(
        self, image: str, command: list[str] | str | None = None, **options: Any
    ) -> Container:
        """`docker create`; `options` are CreateConfig's fields (name, entrypoint,
        environment, working_dir, hostname, user, labels, restart_policy, auto_remove,
        volumes, stop_signal, stop_timeout, tty)."""
        return create.create(self, create.CreateConfig(image=image, command=command, **options))

    def set_rw_layer(self, c: Container, img: Any = None) -> None:
        create.set_rw_layer(self, c, img)

    def start(self, ref: str, stdin: bytes | None = None) -> None:
        start.start(self, ref, stdin)

    def stop(self, ref: str, timeout: float | None = None) -> None:
        stop.stop(self, ref, timeout)

    def kill(self, ref: str, signal: str | int = "SIGKILL") -> None:
        kill.kill(self, ref, signal)

    def restart(self, ref: str, timeout: float | None = None) -> None:
        restart.restart(self, ref, timeout)

    def pause(self, ref: str) -> None:
        pause.pause(self, ref)

    def unpause(self, ref: str) -> None:
        pause.unpause(self, ref)

    def remove(self, ref: str, force: bool = False, v: bool = False) -> None:
        delete.remove(self, ref, force, v)

    def prune(self, filters: Any = None) -> dict[str, Any]:
        return delete.prune(self, filters)

    def rename(self, ref: str, new_name: str) -> None:
        rename.rename(self, ref, new_name)

    def wait(
        self, ref: str, condition: str = "not-running", timeout: float | None = None
    ) -> dict[str, Any]:
        return wait.wait(self, ref, condition, timeout)

    def exec_run(
        self,
        ref: str,
        cmd: list[str] | str,
        *,
        environment: list[str] | dict[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        stdin: bytes | None = None,
    ) -> tuple[int, bytes, bytes]:
        return exec_.exec_run(
            self, ref, cmd, environment=environment, workdir=workdir, user=user, stdin=stdin
        )

    def changes(self, ref: str) -> list[dict[str, Any]]:
        return inspect.changes(self, ref)

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        return inspect.inspect(self, ref, size)

    def list(
        self,
        all: bool = False,
        size: bool = False,
        filters: dict[str, Any] | None = None,
        limit: int = -1,
    ) -> list[dict[str, Any]]:
        return list_.containers(self, all=all, size=size, filters=filters, limit=limit)

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
        return logs.container_logs(self, ref, stdout, stderr, timestamps, tail, since, until)

    def log_messages(self, ref: str, **kwargs: Any) -> Iterator[dict[str, str]]:
        """The log's messages with their streams (`docker logs` splits them itself)."""
        return logs.log_messages(self, ref, **kwargs)

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
        return commit.commit(self, ref, repository, tag, comment, author, changes, config, pause)

    def export(self, ref: str, out: BinaryIO | None = None) -> bytes | None:
        """`docker export`: the tar as bytes, or written to `out`."""
        return export.export(self, ref, out)

    def logs_stream(self, ref: str, *, follow: bool = False, **kwargs: Any) -> Iterator[bytes]:
        """`docker logs [-f]` as a generator of chunks (one per log entry)."""
        return logs.follow_logs(self, ref, follow=follow, **kwargs)

    # -- files in and out (docker cp, get_archive/put_archive) ----------------------------
    def stat_path(self, ref: str, path: str) -> dict[str, Any]:
        return archive.stat_path(self, ref, path)

    def archive_path(self, ref: str, path: str, out: BinaryIO) -> dict[str, Any]:
        return archive.archive_path(self, ref, path, out)

    def extract_to_dir(
        self,
        ref: str,
        path: str,
        data: Any,
        *,
        no_overwrite_dir_non_dir: bool = False,
        copy_uid_gid: bool = False,
    ) -> None:
        archive.extract_to_dir(
            self,
            ref,
            path,
            data,
            no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
            copy_uid_gid=copy_uid_gid,
        )

    def stats(self, ref: str) -> dict[str, Any]:
        """One sample of `docker stats --no-stream` (the Engine API's StatsJSON)."""
        return top.stats(self, ref)

    def mount(self, ref: str) -> RootFS:
        """The container's filesystem as its processes see it (mounting if needed)."""
        return container_fs.mount(self, ref)

    def unmount(self, ref: str) -> None:
        """Unmount the container's filesystem (its process, if any, carries on).

        moby: daemon/daemon.go Unmount
        """
        container_fs.unmount(self, ref)

    def update(
        self,
        ref: str,
        resources: dict[str, Any] | None = None,
        restart_policy: str | dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`docker update`: the restart policy and (recorded) resource limits."""
        return update.update(self, ref, resources, restart_policy)

    def top(self, ref: str, ps_args: str | None = None) -> dict[str, Any]:
        """`docker top`: Titles and Processes."""
        return top.top(self, ref, ps_args)

    def disk_usage(self) -> dict[str, Any]:
        """`docker system df`: images, containers, volumes and the layers' size."""
        from dockerlayers.daemon import disk_usage

        return disk_usage.system_disk_usage(self)

    def tick(self) -> None:
        """Let processes run up to the clock's current time."""
        monitor.advance_to(self, self.clock.now())

    def info(self) -> dict[str, Any]:
        return inspect.info(self)

    def detach(self) -> None:
        restore.detach(self)

    def close(self, timeout: float | None = None) -> None:
        restore.shutdown(self, timeout)


def _snapshotter_for(driver: str) -> str:
    """The snapshotter of the containerd store for the `storage-driver` asked for: with the
    containerd snapshotter the setting names a snapshotter (`overlayfs`, `native`); the
    graph drivers' default, `overlay2`, is taken as its counterpart `overlayfs`.

    moby 29: daemon/daemon.go (configured driver "%s" not available)
    """
    from dockerlayers.graphdriver.driver import DriverError

    name = {"overlay2": "overlayfs"}.get(driver, driver)
    if name not in ("overlayfs", "native"):
        raise DriverError(22, f'configured driver "{driver}" not available: unavailable')
    return name


def _storage_from_daemon_json(root: str) -> str:
    """`features: {"containerd-snapshotter": true}` in `<root>/daemon.json` -> "containerd".

    moby: daemon/config (Features), daemon/daemon.go (UsesSnapshotter)
    """
    try:
        with open(os.path.join(root, "daemon.json")) as f:
            features = json.load(f).get("features") or {}
    except (OSError, ValueError, AttributeError):
        return "graphdriver"
    return "containerd" if features.get("containerd-snapshotter") is True else "graphdriver"


def _tuplify(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    return value


__all__ = ["Daemon", "DaemonClock", "RootInUse"]
