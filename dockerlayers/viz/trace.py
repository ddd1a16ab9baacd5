""" "What Docker did": an action's path through moby's functions, from evidence.

Nothing here is a script of what an action is supposed to do. The trace is built from two
observations: the files under the root that the action created, changed or removed (a
snapshot before and after), and the events the daemon logged. Each file is classified by
Docker's layout (`layerdb/mounts/<id>/mount-id`, `overlay2/<mount-id>-init/diff/...`,
`containers/<id>/config.v2.json`, ...) and attached to the moby function that writes that
kind of file in this action; a step is listed only if evidence for it (or under it) was seen.

Each step names moby's function in snake_case, and its `code` holds the function of this
package with that name (`daemon.container_start` -> dockerlayers.daemon.start.container_start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.container.container import Container
from dockerlayers.container.state import State
from dockerlayers.daemon import commit, create, delete, kill, monitor, pause, restart, start, stop
from dockerlayers.daemon import exec as exec_
from dockerlayers.daemon.daemon import DaemonClock
from dockerlayers.daemon.events import EventsLog
from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.graphdriver.driver import Driver
from dockerlayers.image.reference import ReferenceStore
from dockerlayers.image.service import ImageService
from dockerlayers.image.store import ImageStore
from dockerlayers.layer.mounted import MountedLayer, RWLayer
from dockerlayers.layer.store import LayerStore, store_layer
from dockerlayers.viz._model import short, shorten_path
from dockerlayers.viz.snapshot import REMOVED, Change, Snapshot, is_internal, whiteout_note

MAX_FILES_PER_STEP = 12


# -- classification of a root-relative path -------------------------------------------------


@dataclass(frozen=True)
class Role:
    """What a path is in Docker's layout. `layer` is "rw", "init" or "image" for driver
    paths; `container_path` is the in-container path of a file inside a layer folder."""

    name: str
    layer: str = ""
    container_path: str | None = None
    driver_id: str = ""


class Classifier:
    """Knows which driver folder is whose, from both snapshots' metadata files."""

    def __init__(self, driver: str, *snaps: Snapshot) -> None:
        self.driver = driver
        self.kind_of: dict[str, str] = {}
        self.link_of: dict[str, str] = {}
        for snap in snaps:
            for p, text in snap.texts().items():
                parts = p.split("/")
                if p.startswith("image/") and len(parts) == 6 and parts[3] == "mounts":
                    if parts[5] == "mount-id":
                        self.kind_of[text] = "rw"
                    elif parts[5] == "init-id":
                        self.kind_of[text] = "init"
                elif p.startswith("image/") and len(parts) == 6 and parts[5] == "cache-id":
                    self.kind_of.setdefault(text, "image")
                elif (
                    driver == "overlay2"
                    and len(parts) == 3
                    and parts[0] == "overlay2"
                    and parts[2] == "link"
                ):
                    self.link_of[text] = parts[1]

    def layer_kind(self, driver_id: str) -> str:
        kind = self.kind_of.get(driver_id)
        if kind:
            return kind
        if driver_id.endswith("-init"):
            return "init"
        return "image"

    def classify(self, path: str) -> Role:
        parts = path.split("/")
        top = parts[0]
        if is_internal(path):
            return Role("internal")
        if top == "containers":
            if len(parts) == 2:
                return Role("container-dir")
            name = parts[2]
            if name in ("config.v2.json", "hostconfig.json"):
                return Role("container-config")
            if name in ("hostname", "hosts", "resolv.conf", "resolv.conf.hash"):
                return Role("container-netfiles")
            if name.endswith("-json.log"):
                return Role("container-log")
            if name in ("checkpoints", "mounts"):
                return Role("container-dir")
            return Role("container-other")
        if top == "image":
            if len(parts) >= 4 and parts[2] == "layerdb":
                if parts[3] == "mounts":
                    return Role("mounts-dir" if len(parts) <= 5 else "mounts-meta")
                if parts[3] == "tmp":
                    return Role("layerdb-tmp")
                return Role("layerdb-layer")
            if len(parts) >= 3 and parts[2] == "imagedb":
                return Role("imagedb")
            if len(parts) >= 3 and parts[2] == "repositories.json":
                return Role("repositories")
            return Role("image-other")
        if top == "volumes":
            return Role("volumes")
        if top != self.driver or len(parts) < 2:
            return Role("other")
        return self._driver_role(parts)

    def _driver_role(self, parts: list[str]) -> Role:
        if self.driver == "overlay2":
            if parts[1] == "l":
                if len(parts) == 2:
                    return Role("driver-home")
                owner = self.link_of.get(parts[2], "")
                return Role("driver-link", self.layer_kind(owner) if owner else "image")
            did = parts[1]
            kind = self.layer_kind(did)
            if len(parts) == 2:
                return Role("driver-dir", kind)
            sub = parts[2]
            if sub == "diff" and len(parts) > 3:
                return Role("driver-files", kind, _container_path(parts[3:]), did)
            if sub == "merged":
                return Role("driver-merged", kind)
            if sub == "committed":
                return Role("driver-committed", kind)
            return Role("driver-dir", kind)
        if self.driver == "aufs":
            if len(parts) < 3:
                return Role("driver-home")
            did = parts[2]
            kind = self.layer_kind(did.removesuffix("-removing"))
            if parts[1] == "diff" and len(parts) > 3:
                return Role("driver-files", kind, _container_path(parts[3:]), did)
            return Role("driver-dir", kind)
        if self.driver == "vfs":
            if len(parts) < 3:
                return Role("driver-home")
            kind = self.layer_kind(parts[2])
            if len(parts) > 3:
                return Role("driver-files", kind, _container_path(parts[3:]), parts[2])
            return Role("driver-dir", kind)
        return Role("other")


def _container_path(parts: list[str]) -> str:
    name = parts[-1]
    if name.startswith(".wh.") and not name.startswith(".wh..wh."):
        parts = [*parts[:-1], name[4:]]
    elif name == ".wh..wh..opq":
        parts = parts[:-1]
    return "/" + "/".join(parts)


# -- recipes: moby functions and the evidence each leaves ----------------------------------


@dataclass(frozen=True)
class StepSpec:
    """One step of a recipe: its text, the evidence it claims, and `code`, the functions
    of this package the text names (so the panel can be followed into the code, and
    tests/viz/test_trace_names.py fails when one is renamed)."""

    depth: int
    function: str
    roles: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    always: bool = False
    code: tuple[Callable[..., Any], ...] = ()

    def code_names(self) -> list[str]:
        """The dotted names of `code`: `dockerlayers.daemon.start.container_start`, ..."""
        return [f"{f.__module__}.{f.__qualname__}" for f in self.code]


def S(
    depth: int,
    function: str,
    *roles: str,
    events: tuple[str, ...] = (),
    always: bool = False,
    code: tuple[Callable[..., Any], ...] = (),
) -> StepSpec:  # noqa: N802
    return StepSpec(depth, function, roles, events, always, code)


_UNMOUNT = S(
    2,
    "rw_layer.unmount -> driver.put(<mount-id>)",
    "driver-merged:-",
    code=(RWLayer.unmount, Driver.put),
)
_CHECKPOINT = S(
    2, "container.checkpoint (config.v2.json)", "container-config", code=(Container.checkpoint,)
)
_EXIT = S(
    1, "monitor: handle_container_exit", events=("die",), code=(monitor.handle_container_exit,)
)
_STOP = [
    S(
        2,
        "kill_with_signal(stop signal)",
        events=("kill:signal!=9",),
        code=(kill.kill_with_signal,),
    ),
    S(
        2,
        "wait for exit, else after the timeout kill_with_signal(SIGKILL)",
        events=("kill:signal=9",),
        code=(kill.kill_with_signal,),
    ),
    S(2, "the process reacts (files it wrote)", "driver-files:rw"),
    _EXIT,
    _UNMOUNT,
    _CHECKPOINT,
]
_START = [
    S(
        2,
        "rw_layer.mount -> driver.get(<mount-id>)",
        "driver-merged:+",
        "driver-merged:~",
        code=(RWLayer.mount, Driver.get),
    ),
    S(
        2,
        "setup_container_dirs: hostname, hosts, resolv.conf",
        "container-netfiles",
        "container-dir",
        code=(create.setup_container_dirs,),
    ),
    S(2, "log driver: <id>-json.log", "container-log"),
    S(2, "containerd/runc: PID 1 runs (files it wrote)", "driver-files:rw", events=("start",)),
    _CHECKPOINT,
    _EXIT,
    _UNMOUNT,
]
_EVENTS_LOG = (EventsLog.log,)

RECIPES: dict[str, list[StepSpec]] = {
    "create": [
        S(0, "daemon.create (ContainerCreate)", always=True, code=(create.create,)),
        S(
            1,
            "image_service.get_image; daemon.new_container",
            always=True,
            code=(ImageService.get_image, create.new_container),
        ),
        S(1, "daemon.set_rw_layer", code=(create.set_rw_layer,)),
        S(2, "layer_store.create_rw_layer", code=(LayerStore.create_rw_layer,)),
        S(
            3,
            "init_mount -> driver.create_read_write(<mount-id>-init)",
            "driver-dir:init",
            "driver-link:init",
            "driver-committed",
            code=(LayerStore.init_mount, Driver.create_read_write),
        ),
        S(
            3,
            "setup_init_layer (initlayer.Setup): Docker's placeholder files",
            "driver-files:init",
            code=(setup_init_layer,),
        ),
        S(
            3,
            "driver.create_read_write(<mount-id>) on the init layer",
            "driver-dir:rw",
            "driver-link:rw",
            code=(Driver.create_read_write,),
        ),
        S(
            3,
            "save_mount: mount-id, init-id, parent",
            "mounts-dir",
            "mounts-meta",
            code=(LayerStore.save_mount,),
        ),
        S(
            1,
            "container.to_disk: config.v2.json, hostconfig.json",
            "container-dir",
            "container-config",
            code=(Container.to_disk,),
        ),
        S(1, "volumes: create the named/anonymous volumes", "volumes"),
        S(1, "events.log(create)", events=("create",), code=_EVENTS_LOG),
    ],
    "start": [
        S(0, "daemon.start (ContainerStart)", always=True, code=(start.start,)),
        S(1, "daemon.container_start", always=True, code=(start.container_start,)),
        *_START,
    ],
    "stop": [
        S(0, "daemon.stop (ContainerStop)", always=True, code=(stop.stop,)),
        S(1, "daemon.container_stop", always=True, code=(stop.container_stop,)),
        *_STOP,
        S(1, "events.log(stop)", events=("stop",), code=_EVENTS_LOG),
    ],
    "kill": [
        S(0, "daemon.kill (ContainerKill)", always=True, code=(kill.kill,)),
        S(1, "kill_with_signal", events=("kill",), code=(kill.kill_with_signal,)),
        S(2, "the process reacts (files it wrote)", "driver-files:rw"),
        _EXIT,
        _UNMOUNT,
        _CHECKPOINT,
    ],
    "restart": [
        S(0, "daemon.restart (ContainerRestart)", always=True, code=(restart.restart,)),
        S(1, "daemon.container_stop", code=(stop.container_stop,)),
        *_STOP[:2],
        _STOP[3],
        _UNMOUNT,
        S(
            1,
            "daemon.container_start (same RW layer: same mount-id)",
            always=True,
            code=(start.container_start,),
        ),
        *_START[:5],
        S(1, "events.log(restart)", events=("restart",), code=_EVENTS_LOG),
    ],
    "pause": [
        S(0, "daemon.pause (ContainerPause)", always=True, code=(pause.pause,)),
        S(1, "cgroup freezer: the processes stop being scheduled", always=True),
        S(1, "container.checkpoint (config.v2.json)", "container-config", code=_CHECKPOINT.code),
        S(1, "events.log(pause)", events=("pause",), code=_EVENTS_LOG),
    ],
    "unpause": [
        S(0, "daemon.unpause (ContainerUnpause)", always=True, code=(pause.unpause,)),
        S(1, "cgroup freezer: thawed", always=True),
        S(1, "container.checkpoint (config.v2.json)", "container-config", code=_CHECKPOINT.code),
        S(1, "events.log(unpause)", events=("unpause",), code=_EVENTS_LOG),
        S(1, "the processes carry on (files they wrote)", "driver-files:rw"),
    ],
    "rm": [
        S(0, "daemon.remove (ContainerRm)", always=True, code=(delete.remove,)),
        S(1, "cleanup_container", always=True, code=(delete.cleanup_container,)),
        S(
            2,
            "force: kill_with_signal(SIGKILL)",
            events=("kill",),
            code=(kill.kill_with_signal,),
        ),
        S(
            2,
            "monitor: handle_container_exit",
            events=("die",),
            code=(monitor.handle_container_exit,),
        ),
        S(
            2,
            "set_removal_in_progress; checkpoint",
            "container-config:~",
            code=(State.set_removal_in_progress, Container.checkpoint),
        ),
        S(2, "layer_store.release_rw_layer", code=(LayerStore.release_rw_layer,)),
        S(
            3,
            "driver.remove(<mount-id>): the RW layer and what the container wrote",
            "driver-dir:rw",
            "driver-files:rw",
            "driver-link:rw",
            "driver-merged",
            code=(Driver.remove,),
        ),
        S(
            3,
            "driver.remove(<mount-id>-init)",
            "driver-dir:init",
            "driver-files:init",
            "driver-link:init",
            "driver-committed",
            code=(Driver.remove,),
        ),
        S(3, "remove layerdb/mounts/<id>: mount-id, init-id, parent", "mounts-dir", "mounts-meta"),
        S(
            2,
            "os.RemoveAll(containers/<id>)",
            "container-dir",
            "container-config",
            "container-netfiles",
            "container-log",
            "container-other",
        ),
        S(2, "remove anonymous volumes (-v)", "volumes"),
        S(1, "events.log(destroy)", events=("destroy",), code=_EVENTS_LOG),
    ],
    "commit": [
        S(0, "daemon.commit (ContainerCommit)", always=True, code=(commit.commit,)),
        S(1, "pause the container meanwhile", events=("pause",), code=(pause.pause,)),
        S(
            1,
            "rw_layer.tar_stream -> driver.diff(<mount-id>, <init-id>)",
            always=True,
            code=(MountedLayer.tar_stream, Driver.diff),
        ),
        S(1, "layer_store.register", code=(LayerStore.register,)),
        S(
            2,
            "driver.create(<cache-id>, parent) + apply_diff",
            "driver-dir:image",
            "driver-files:image",
            "driver-link:image",
            "driver-committed",
            code=(Driver.create, Driver.apply_diff),
        ),
        S(
            2,
            "store_layer: diff, size, cache-id, parent, tar-split.json.gz",
            "layerdb-layer",
            "layerdb-tmp",
            code=(store_layer,),
        ),
        S(
            1,
            "image_store.create: imagedb/content/sha256/<id>",
            "imagedb",
            events=("create",),
            code=(ImageStore.create,),
        ),
        S(
            1,
            "reference_store.add_tag: repositories.json",
            "repositories",
            events=("tag",),
            code=(ReferenceStore.add_tag,),
        ),
        S(1, "unpause", events=("unpause",), code=(pause.unpause,)),
        S(1, "container.checkpoint (config.v2.json)", "container-config", code=_CHECKPOINT.code),
        S(1, "events.log(commit)", events=("commit",), code=_EVENTS_LOG),
    ],
    "exec": [
        S(
            0,
            "daemon.exec_run (ContainerExecCreate + ContainerExecStart)",
            always=True,
            code=(exec_.exec_run,),
        ),
        S(1, "events.log(exec_create)", events=("exec_create",), code=_EVENTS_LOG),
        S(1, "events.log(exec_start)", events=("exec_start",), code=_EVENTS_LOG),
        S(1, "the process runs in the container's mount (files it wrote)", "driver-files:rw"),
        S(1, "events.log(exec_die)", events=("exec_die",), code=_EVENTS_LOG),
    ],
    "advance": [
        S(
            0,
            "clock.advance: sleeping processes wake and run",
            always=True,
            code=(DaemonClock.advance,),
        ),
        S(1, "the processes write (files they wrote)", "driver-files:rw"),
        S(
            1,
            "monitor: handle_container_exit",
            events=("die",),
            code=(monitor.handle_container_exit,),
        ),
        _UNMOUNT,
        S(
            2,
            "restart policy: container_start again",
            "driver-merged:+",
            events=("start",),
            code=(start.container_start,),
        ),
        S(
            2,
            "container.checkpoint (config.v2.json)",
            "container-config",
            "container-log",
            code=_CHECKPOINT.code,
        ),
    ],
}


# -- the trace -----------------------------------------------------------------------------


@dataclass
class Step:
    depth: int
    function: str
    files: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


@dataclass
class Trace:
    """An action's steps (moby functions) with the files and events seen for each."""

    action: str
    steps: list[Step]
    error: str | None = None
    #: driver layer id -> in-container paths the action wrote in that layer
    container_paths: dict[str, set[str]] = field(default_factory=dict)
    before: Snapshot | None = field(default=None, repr=False, compare=False)
    after: Snapshot | None = field(default=None, repr=False, compare=False)

    def functions(self) -> list[str]:
        return [s.function for s in self.steps]

    def files(self) -> list[tuple[str, str]]:
        return [f for s in self.steps for f in s.files]

    def step(self, prefix: str) -> Step:
        for s in self.steps:
            if s.function.startswith(prefix):
                return s
        raise KeyError(prefix)

    def to_text(self) -> str:
        lines = [f"$ {self.action}"]
        if self.error:
            lines.append(f"Error response from daemon: {self.error}")
        for s in self.steps:
            pad = "  " * s.depth
            lines.append(f"{pad}-> {s.function}")
            for e in s.events:
                lines.append(f"{pad}     event: {e}")
            shown = s.files[:MAX_FILES_PER_STEP]
            for mark, path in shown:
                lines.append(f"{pad}     {mark} {path}")
            if len(s.files) > len(shown):
                lines.append(f"{pad}     … and {len(s.files) - len(shown)} more")
        return "\n".join(lines)


def _event_key(ev: dict[str, Any]) -> tuple[str, dict[str, str]]:
    action = ev.get("Action", "")
    return action.split(":", 1)[0], ev.get("Actor", {}).get("Attributes", {})


def _event_matches(spec: str, ev: dict[str, Any]) -> bool:
    action, attrs = _event_key(ev)
    name, _, cond = spec.partition(":")
    if action != name:
        return False
    if not cond:
        return True
    if "!=" in cond:
        k, v = cond.split("!=", 1)
        return attrs.get(k) != v
    k, v = cond.split("=", 1)
    return attrs.get(k) == v


def format_event(ev: dict[str, Any]) -> str:
    """`container kill 1a2b3c4d5e6f (name=web, signal=15)`, like `docker events` (no time)."""
    attrs = ev.get("Actor", {}).get("Attributes", {})
    keep = {k: v for k, v in attrs.items() if k not in ("image",)}
    for k in ("imageID", "execID"):
        if k in keep:
            keep[k] = short(keep[k])
    extra = ", ".join(f"{k}={v}" for k, v in sorted(keep.items()))
    actor = short(ev.get("Actor", {}).get("ID", ""))
    return f"{ev.get('Type', '')} {ev.get('Action', '')} {actor} ({extra})"


def _role_matches(spec: str, role: Role, mark: str) -> bool:
    name, _, qual = spec.partition(":")
    if name != role.name:
        return False
    if not qual:
        return True
    if qual in ("+", "-", "~"):
        return mark == qual
    return role.layer == qual


def build_trace(
    action: str,
    verb: str,
    changes: list[Change],
    events: list[dict[str, Any]],
    classifier: Classifier,
    error: str | None = None,
    recipes: dict[str, list[StepSpec]] | None = None,
) -> Trace:
    """Attach each change and event to the first step of `verb`'s recipe that claims it."""
    specs = (RECIPES if recipes is None else recipes).get(verb, [S(0, action, always=True)])
    if error is not None:
        # refused: nothing of the recipe ran; list whatever was written anyway
        specs = [S(0, specs[0].function + ": refused")]
    steps = [Step(s.depth, s.function) for s in specs]
    other_files: list[tuple[str, str]] = []
    container_paths: dict[str, set[str]] = {}
    for ch in changes:
        if is_internal(ch.path):
            continue
        role = classifier.classify(ch.path)
        label = shorten_path(ch.path) + ("/" if ch.state.kind in ("d", "t") else "")
        if ch.state.kind == "t" and ch.mark != REMOVED:
            label += f" ({ch.state.files} entries)"
        wh = whiteout_note(ch.path, ch.state.kind)
        if wh is not None:
            label += f" ({wh})"
        if role.container_path is not None:
            container_paths.setdefault(role.driver_id, set()).add(role.container_path)
        for spec, step in zip(specs, steps):
            if any(_role_matches(r, role, ch.mark) for r in spec.roles):
                step.files.append((ch.mark, label))
                break
        else:
            other_files.append((ch.mark, label))
    other_events = []
    for ev in events:
        for spec, step in zip(specs, steps):
            if any(_event_matches(e, ev) for e in spec.events):
                step.events.append(format_event(ev))
                break
        else:
            other_events.append(format_event(ev))
    seen = [
        bool(st.files or st.events) or sp.always or error is not None
        for sp, st in zip(specs, steps)
    ]
    # a step with evidence below it is shown too
    for i in range(len(steps) - 1, -1, -1):
        if seen[i]:
            continue
        for j in range(i + 1, len(steps)):
            if steps[j].depth <= steps[i].depth:
                break
            if seen[j]:
                seen[i] = True
                break
    out = [st for st, ok in zip(steps, seen) if ok]
    if other_files or other_events:
        out.append(Step(0, "(not attributed to a step above)", other_files, other_events))
    return Trace(action, out, error, container_paths)


def trace_between(
    action: str,
    verb: str,
    before: Snapshot,
    after: Snapshot,
    events: list[dict[str, Any]],
    error: str | None = None,
) -> Trace:
    """The trace of one action from snapshots taken around it and the events it logged."""
    from dockerlayers.viz.snapshot import diff_snapshots

    if after.snapshot_keys or before.snapshot_keys:  # the containerd image store
        from dockerlayers.viz import trace_containerd as c8d

        classifier: Classifier = c8d.ContainerdClassifier(after.driver, before, after)
        changes = diff_snapshots(before, after)
        return build_trace(action, verb, changes, events, classifier, error, c8d.RECIPES)
    classifier = Classifier(after.driver, before, after)
    return build_trace(action, verb, diff_snapshots(before, after), events, classifier, error)


def run_traced(client: Any, verb: str, action: str, fn: Any) -> tuple[Any, Trace]:
    """Call `fn()` between two snapshots, collecting the events it logs; Docker's refusal
    (any DockerException) becomes the trace's `error` instead of being raised."""
    from dockerlayers.errors import DockerException
    from dockerlayers.viz._model import daemon_of
    from dockerlayers.viz.snapshot import take_snapshot

    daemon = daemon_of(client)
    before = take_snapshot(daemon)
    events: list[dict[str, Any]] = []
    cancel = daemon.events.subscribe(events.append)
    result, error = None, None
    try:
        result = fn()
    except DockerException as e:
        error = error_text(e)
    finally:
        cancel()
    after = take_snapshot(daemon)
    trace = trace_between(action, verb, before, after, events, error)
    trace.before, trace.after = before, after
    return result, trace


def error_text(e: BaseException) -> str:
    """Docker's message for an error (the daemon's text, without SDK decoration)."""
    msg = getattr(e, "explanation", None) or str(e)
    return str(msg)
