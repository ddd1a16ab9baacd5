"""Conformance scenarios: run the same docker commands against dockerlayers and a real engine.

A scenario (`scenarios/*.scn`) is a transcript, like a cram test: commands in docker CLI
syntax, each followed by the *engine's* normalised output recorded the last time the suite
ran against a real Docker 20.10 engine. Running a scenario means running every step on
dockerlayers (always) and on the engine (when one is reachable), normalising both, and
comparing: model vs engine (live), and model vs the recorded transcript (always, so the
comparison still means something where no engine can run).

File format (plain text, line oriented)::

    # comment (kept when the transcript is re-recorded)
    %title Lifecycle refusals
    %requires engine          whole scenario needs a live engine (cross-side transfers)
    %env NAME=VALUE           environment of the model side (e.g. DOCKERLAYERS_CLOCK=virtual)
    %compare stdout stderr exit    channels compared from here on (default: all three)
    %write PATH               write the following lines (up to `%end`) to $WORK/PATH, both sides
    %end
    %known KEY...             the next step may differ, for reasons listed in docs/differences.md
    %bug KEY                  the next step differs because of a model bug (also in the doc)
    %ignore                   run the next step, compare nothing (setup)
    %sizes                    normalise sizes (`2.05MB`) in the next step (drivers differ)
    %sort                     sort the next step's stdout (the engine's order is undefined)
    %raw                      live comparison of the next step without id normalisation
                              (same image ID on both sides); the transcript keeps it normalised
    $ docker ARGS...          a step: the docker CLI (shell quoting; $IMAGE, $WORK expanded)
    %inspect TARGET FIELD...  a step: `docker inspect TARGET`, the selected (dotted) fields
    %layout NAME              a step: the on-disk layout of container NAME under the data root
    %transfer engine->model IMAGE   engine `docker save` -> model `docker load` (and reverse)
    | text                    expected stdout line (recorded)
    ! text                    expected stderr line (recorded)
    [N]                       expected exit code when it is not 0 (recorded)

Normalisation (each rule is a *category*; every category is a row of docs/differences.md):
ids (64/12 hex, consistently mapped to <ID1>, <ID1.12> per side), overlay2 link names,
times (RFC 3339 and docker's human durations), the program name (`dockerlayers:` vs
`docker:`), paths of the data root and work folder, sizes where asked.

Command line::

    python -m tests.conformance.scenario_runner [--engine DIR] [--record] [--report F] [NAME...]

(from the checkout, so that `dockerlayers` and `tests` import without installing)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
PROJECT = HERE.parent.parent
DIFFERENCES_DOC = PROJECT / "docs" / "differences.md"
REAL_DOCKER_SH = PROJECT / "tools" / "real-docker.sh"
DOCKER_BIN = "/usr/bin/docker"  # Debian's 20.10 client, matching the daemon
IMAGE = "base:1"
CHANNELS = ("stdout", "stderr", "exit")

# ---------------------------------------------------------------------------------------
# Scenario files


@dataclass
class Step:
    """One thing to run on each side and compare."""

    kind: str  # "docker" | "inspect" | "layout" | "transfer"
    args: list[str]
    line: int
    text: str  # the source line, kept verbatim when re-recording
    compare: tuple[str, ...] = CHANNELS
    known: tuple[str, ...] = ()
    bug: tuple[str, ...] = ()
    ignore: bool = False
    sizes: bool = False
    raw: bool = False
    sort: bool = False  # the engine's order is not defined (e.g. readdir order): sort stdout
    expected: dict[str, list[str] | int] = field(default_factory=dict)
    prelude: list[str] = field(default_factory=list)  # comment/directive lines before it


@dataclass
class Scenario:
    name: str
    path: Path | None
    title: str = ""
    requires_engine: bool = False
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)  # lines before the first step
    steps: list[Step] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)


class ScenarioError(ValueError):
    """A malformed scenario file: the message names the file and line."""


def parse_scenario(text: str, name: str = "scenario", path: Path | None = None) -> Scenario:
    """Parse a .scn transcript (see the module docstring)."""
    sc = Scenario(name=name, path=path)
    compare: tuple[str, ...] = CHANNELS
    pending: dict = {}
    prelude: list[str] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    current: Step | None = None

    def fail(msg: str) -> ScenarioError:
        return ScenarioError(f"{path or name}:{i + 1}: {msg}")

    while i < len(lines):
        raw = lines[i]
        if raw.startswith(("| ", "! ")) or raw in ("|", "!") or re.fullmatch(r"\[-?\d+\]", raw):
            if current is None:
                raise fail("expected output before any step")
            if raw.startswith("|"):
                current.expected.setdefault("stdout", []).append(raw[2:])  # type: ignore[union-attr]
            elif raw.startswith("!"):
                current.expected.setdefault("stderr", []).append(raw[2:])  # type: ignore[union-attr]
            else:
                current.expected["exit"] = int(raw[1:-1])
            i += 1
            continue
        stripped = raw.strip()
        if stripped.startswith("%"):
            word, _, rest = stripped[1:].partition(" ")
            rest = rest.strip()
            if word == "write":
                if not rest:
                    raise fail("%write needs a path")
                body = []
                start = i
                i += 1
                while i < len(lines) and lines[i].strip() != "%end":
                    body.append(lines[i])
                    i += 1
                if i >= len(lines):
                    i = start
                    raise fail("%write without %end")
                sc.files[rest] = "\n".join(body) + "\n"
                prelude.extend(lines[start : i + 1])
                i += 1
                continue
            step_kind = {"inspect": "inspect", "layout": "layout", "transfer": "transfer"}.get(word)
            if step_kind:
                args = shlex.split(rest)
                if word == "transfer" and (
                    len(args) != 2 or args[0] not in ("engine->model", "model->engine")
                ):
                    raise fail("%transfer engine->model|model->engine IMAGE")
                if word in ("inspect",) and len(args) < 2:
                    raise fail("%inspect TARGET FIELD...")
                if word == "layout" and len(args) != 1:
                    raise fail("%layout NAME")
                current = _new_step(step_kind, args, i, raw, compare, pending, prelude)
                sc.steps.append(current)
                pending, prelude = {}, []
                i += 1
                continue
            if word == "title":
                sc.title = rest
            elif word == "requires":
                if rest != "engine":
                    raise fail(f"unknown requirement {rest!r}")
                sc.requires_engine = True
            elif word == "env":
                k, eq, v = rest.partition("=")
                if not eq or not k:
                    raise fail("%env NAME=VALUE")
                sc.env[k] = v
            elif word == "compare":
                chans = tuple(rest.split())
                bad = [c for c in chans if c not in CHANNELS]
                if bad or not chans:
                    raise fail(f"%compare takes {', '.join(CHANNELS)}")
                compare = chans
            elif word in ("known", "bug"):
                if not rest:
                    raise fail(f"%{word} needs a key from docs/differences.md")
                pending[word] = tuple(pending.get(word, ())) + tuple(rest.split())
            elif word in ("ignore", "sizes", "raw", "sort"):
                pending[word] = True
            elif word == "end":
                raise fail("%end without %write")
            else:
                raise fail(f"unknown directive %{word}")
            prelude.append(raw)
            i += 1
            continue
        if stripped.startswith("$ "):
            argv = shlex.split(stripped[2:])
            if not argv or argv[0] != "docker":
                raise fail("a step runs `docker ...`")
            current = _new_step("docker", argv[1:], i, raw, compare, pending, prelude)
            sc.steps.append(current)
            pending, prelude = {}, []
            i += 1
            continue
        if stripped == "" or stripped.startswith("#"):
            prelude.append(raw)
            i += 1
            continue
        raise fail(f"cannot parse {raw!r}")
    if pending:
        raise fail("directive %" + next(iter(pending)) + " not followed by a step")
    sc.trailer = prelude
    return sc


def _new_step(kind, args, i, raw, compare, pending, prelude) -> Step:
    return Step(
        kind=kind,
        args=list(args),
        line=i + 1,
        text=raw,
        compare=compare,
        known=tuple(pending.get("known", ())),
        bug=tuple(pending.get("bug", ())),
        ignore=bool(pending.get("ignore")),
        sizes=bool(pending.get("sizes")),
        raw=bool(pending.get("raw")),
        sort=bool(pending.get("sort")),
        prelude=list(prelude),
    )


def load_scenario(path: Path) -> Scenario:
    return parse_scenario(path.read_text(), name=path.stem, path=path)


def all_scenarios() -> list[Scenario]:
    return [load_scenario(p) for p in sorted(SCENARIOS.glob("*.scn"))]


def render_expected(exp: dict) -> list[str]:
    out = []
    out.extend("|" + (" " + s if s else "") for s in exp.get("stdout", []))
    out.extend("!" + (" " + s if s else "") for s in exp.get("stderr", []))
    if exp.get("exit", 0) != 0:
        out.append(f"[{exp['exit']}]")
    return out


def render_scenario(sc: Scenario, recorded: dict[int, dict] | None = None) -> str:
    """The scenario's text, with expected blocks taken from `recorded` (step index -> obs)."""
    out = list(sc.header)
    for n, step in enumerate(sc.steps):
        out.extend(step.prelude)
        out.append(step.text)
        exp = step.expected if recorded is None or n not in recorded else recorded[n]
        out.extend(render_expected(exp))
    out.extend(sc.trailer)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------
# Normalisation

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
HEX12 = re.compile(r"(?<![0-9a-zA-Z])[0-9a-f]{12}(?![0-9a-zA-Z])")
LINK = re.compile(r"(?<![0-9A-Za-z])[A-Z0-9]{26}(?![0-9A-Za-z])")
RFC3339 = re.compile(r"(?<!\d)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)(?!\d)")
ZERO_TIME = "0001-01-01T00:00:00Z"
_DURATION = (
    r"(?:Less than a second|About a minute|About an hour|1 second|"
    r"\d+ (?:seconds|minutes|hours|days|weeks|months|years))"
)
AGO = re.compile(_DURATION + r" ago")
UP = re.compile(r"\bUp " + _DURATION)
#: docker 20.10's CLI logs this after a failed `run` when its wait goroutine loses a race
CLI_WAIT_LOG = re.compile(
    r'^time="[^"]*" level=error msg="error waiting for container: context canceled"\n', re.M
)
SIZE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:B|kB|KB|MB|GB|TB)\b")
PROG = [
    (re.compile(r"^dockerlayers: ", re.M), "docker: "),
    (re.compile(r"'dockerlayers( [a-zA-Z -]+)?--help'"), r"'docker\1--help'"),
    (re.compile(r"^Usage:  dockerlayers\b", re.M), "Usage:  docker"),
    (re.compile(r'"dockerlayers( [a-z ]+)?" (requires|accepts)'), r'"docker\1" \2'),
]


class Normaliser:
    """Per side and per scenario: ids get placeholders in order of first appearance, so two
    runs that print the same ids in the same places normalise to the same text."""

    def __init__(self, paths: dict[str, str] | None = None) -> None:
        self.ids: dict[str, int] = {}  # full 64-hex id -> number
        self.shorts: dict[str, int] = {}  # 12-hex seen before its full id -> number
        self.links: dict[str, int] = {}
        self.paths = dict(paths or {})  # real path -> placeholder
        self.fired: set[str] = set()

        self.next = 1

    def id_number(self, full: str) -> int:
        if full not in self.ids:
            n = self.shorts.get(full[:12])
            if n is None:
                n, self.next = self.next, self.next + 1
            self.ids[full] = n
        return self.ids[full]

    def _short(self, m: re.Match) -> str:
        s = m.group(0)
        for full, n in self.ids.items():
            if full.startswith(s):
                return f"<ID{n}.12>"
        if s not in self.shorts:
            self.shorts[s], self.next = self.next, self.next + 1
        return f"<ID{self.shorts[s]}.12>"

    def adopt(self, other: Normaliser, moved: list[str]) -> None:
        """After an image moved from the other side, its ids (`moved`: image ID and diff
        IDs) get the numbers they have there, and both sides count on from the same place."""
        for full in moved:
            self.ids[full] = other.id_number(full)
        self.next = max(self.next, other.next)

    def normalise(self, text: str, *, sizes: bool = False, ids: bool = True) -> str:
        if not text:
            return text
        for real, ph in sorted(self.paths.items(), key=lambda kv: -len(kv[0])):
            if real and real in text:
                text = text.replace(real, ph)
                self.fired.add("paths")
        for pat, rep in PROG:
            text, n = pat.subn(rep, text)
            if n:
                self.fired.add("prog-name")
        if ids:
            text, n1 = HEX64.subn(lambda m: f"<ID{self.id_number(m.group(0))}>", text)
            text, n2 = HEX12.subn(self._short, text)
            text, n3 = LINK.subn(self._link, text)
            if n1 or n2:
                self.fired.add("ids")
            if n3:
                self.fired.add("overlay2-links")
        text, n = CLI_WAIT_LOG.subn("", text)
        if n:
            self.fired.add("cli-wait-log")
        timed = False
        text, n = RFC3339.subn(lambda m: m.group(0) if m.group(0) == ZERO_TIME else "<time>", text)
        timed |= bool(n)
        text, n = AGO.subn("<duration> ago", text)
        timed |= bool(n)
        text, n = UP.subn("Up <duration>", text)
        timed |= bool(n)
        if timed:
            self.fired.add("times")
        sized = False
        if sizes:
            text, n = SIZE.subn("<size>", text)
            sized = bool(n)
            if sized:
                self.fired.add("sizes")
        if timed or sized:
            # column widths follow the widest cell: realign tables after substitution
            text = re.sub(r"(?<=\S) {2,}", "   ", text)
            text = re.sub(r" +$", "", text, flags=re.M)
        return text

    def _link(self, m: re.Match) -> str:
        s = m.group(0)
        if s not in self.links:
            self.links[s] = len(self.links) + 1
        return f"<L{self.links[s]}>"


def split_lines(text: str) -> list[str]:
    """Lines split on \n only; a carriage return (progress output) stays visible as `\r`."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.replace("\r", "\\r") for line in lines]


# ---------------------------------------------------------------------------------------
# Sides


@dataclass
class Result:
    code: int
    out: str
    err: str


class Side:
    """Something that runs docker commands and has a data root on disk."""

    name = "side"
    data_root: Path
    work: Path

    def docker(self, args: list[str], env: dict[str, str] | None = None) -> Result:
        raise NotImplementedError

    def setup(self, sc: Scenario) -> None:  # noqa: B027 - optional hook
        pass

    def teardown(self) -> None:  # noqa: B027 - optional hook
        pass


class ModelSide(Side):
    """dockerlayers on a fresh root (copied from a template holding `base:1`), driven through
    `dockerlayers.cli.main` in-process (fast) or `python -m dockerlayers` (mode="subprocess")."""

    name = "model"

    def __init__(self, template: Path, tmp: Path, mode: str = "inprocess") -> None:
        self.template = template
        self.tmp = tmp
        self.mode = mode
        self.env: dict[str, str] = {}

    def setup(self, sc: Scenario) -> None:
        base = Path(tempfile.mkdtemp(prefix=f"model-{sc.name}-", dir=self.tmp))
        self.data_root = base / "root"
        shutil.copytree(self.template, self.data_root, symlinks=True)
        self.work = base / "work"
        self.work.mkdir()
        self.env = dict(sc.env)

    def teardown(self) -> None:
        # containers still "running" are simulated: nothing to stop, but kernel mounts may remain
        _unmount_under(self.data_root)
        shutil.rmtree(self.data_root.parent, ignore_errors=True)

    def docker(self, args: list[str], env: dict[str, str] | None = None) -> Result:
        env = {**self.env, **(env or {})}
        argv = ["--root", str(self.data_root), *args]
        if self.mode == "subprocess":
            p = subprocess.run(
                [sys.executable, "-m", "dockerlayers", *argv],
                capture_output=True,
                env={**os.environ, **env, "PYTHONPATH": _pythonpath()},
                cwd=self.work,
                timeout=120,
            )
            return Result(p.returncode, _text(p.stdout), _text(p.stderr))
        from dockerlayers.cli import main

        out, err = io.StringIO(), io.StringIO()
        with _environ(env), _cwd(self.work):
            try:
                code = main(argv, stdout=out, stderr=err, stdin=io.StringIO(""))
            except SystemExit as e:  # a command that exits instead of returning
                code = e.code if isinstance(e.code, int) else 1
            except Exception as e:  # a crash is a model bug: show it as the step's output
                import traceback

                where = traceback.extract_tb(e.__traceback__)[-1]
                err.write(
                    f"<crash> {type(e).__name__}: {e} "
                    f"({Path(where.filename).name}:{where.lineno})\n"
                )
                code = 255
        return Result(code, out.getvalue(), err.getvalue())


class EngineSide(Side):
    """A real dockerd started by tools/real-docker.sh under `state`; every container and
    build gets `--network none` (the engine has no bridge here; the model has no network)."""

    name = "engine"

    def __init__(self, state: Path, tmp: Path) -> None:
        self.state = state
        self.tmp = tmp
        self.data_root = state / "data-root"
        self.base_id = ""

    def env_vars(self) -> dict[str, str]:
        return {
            "DOCKER_HOST": f"unix://{self.state}/docker.sock",
            "DOCKER_CONFIG": str(self.state / "client"),
            "DOCKER_BUILDKIT": "0",
        }

    def setup(self, sc: Scenario) -> None:
        base = Path(tempfile.mkdtemp(prefix=f"engine-{sc.name}-", dir=self.tmp))
        self.work = base / "work"
        self.work.mkdir()
        if not self.base_id:
            self.base_id = self.docker(["image", "inspect", "-f", "{{.Id}}", IMAGE]).out.strip()
        # an engine of its own (CI's) is emptied after each scenario but for base:1; on an
        # engine shared with other work (DOCKERLAYERS_ENGINE_SHARED=1) what was there before
        # the scenario stays (but then an earlier scenario's leftovers stay too)
        self.kept_containers: set[str] = set()
        self.kept_images: set[str] = set()
        if os.environ.get("DOCKERLAYERS_ENGINE_SHARED"):
            self.kept_containers = set(self.docker(["ps", "-aq"]).out.split())
            self.kept_images = set(self._image_lines())

    def _image_lines(self) -> list[str]:
        fmt = "{{.ID}} {{.Repository}}:{{.Tag}}"
        return self.docker(["images", "-a", "--format", fmt]).out.splitlines()

    def teardown(self) -> None:
        """Remove the containers and images the scenario made (never base:1, nor what was
        there before it), so scenarios do not see each other."""
        kept = getattr(self, "kept_containers", set())
        ids = [i for i in self.docker(["ps", "-aq"]).out.split() if i not in kept]
        if ids:
            self.docker(["rm", "-f", *ids])
        refs = []
        for line in self._image_lines():
            if line in getattr(self, "kept_images", set()):
                continue
            iid, _, ref = line.partition(" ")
            if not self.base_id.startswith("sha256:" + iid) and ref != IMAGE:
                refs.append(ref if not ref.startswith("<none>") else iid)
        if refs:
            self.docker(["rmi", "-f", *refs])
        if self.docker(["image", "inspect", IMAGE]).code != 0:  # a transfer replaced the base
            subprocess.run(
                ["bash", str(REAL_DOCKER_SH), "base", str(self.state)], capture_output=True
            )
            self.base_id = ""
        shutil.rmtree(self.work.parent, ignore_errors=True)

    def docker(self, args: list[str], env: dict[str, str] | None = None) -> Result:
        args = _with_network_none(args)
        p = subprocess.run(
            [DOCKER_BIN, *args],
            capture_output=True,  # bytes: text mode would turn the CLI's \r into \n
            env={**os.environ, **self.env_vars()},
            cwd=getattr(self, "work", None),
            timeout=120,
        )
        return Result(p.returncode, _text(p.stdout), _text(p.stderr))


def _pythonpath() -> str:
    """The checkout first, so `python -m dockerlayers` works without installing it."""
    return os.pathsep.join(p for p in (str(PROJECT), os.environ.get("PYTHONPATH", "")) if p)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _with_network_none(args: list[str]) -> list[str]:
    """Insert `--network none` after the subcommand of run/create/build."""
    i = 0
    if args[:1] in (["container"], ["image"], ["builder"]):
        i = 1
    if len(args) > i and args[i] in ("run", "create", "build"):
        return [*args[: i + 1], "--network", "none", *args[i + 1 :]]
    return args


@contextlib.contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _unmount_under(path: Path) -> None:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    targets = sorted(
        (
            m.split()[1]
            for m in mounts
            if len(m.split()) > 1 and m.split()[1].startswith(f"{path}/")
        ),
        reverse=True,
    )
    for t in targets:
        subprocess.run(["umount", t], capture_output=True)


# ---------------------------------------------------------------------------------------
# The base image: the same busybox rootfs on both sides


def base_rootfs_tar(dest: Path, busybox: Path = Path("/bin/busybox")) -> Path:
    """The rootfs tools/real-docker.sh imports as base:1 (a busybox, its applets as symlinks,
    /etc/passwd, /etc/group, /etc/os-release), made with Python's tarfile. Without a host
    busybox, /bin/busybox is a stand-in: the model picks applets by name, never runs it."""
    applets = [
        "sh",
        "echo",
        "cat",
        "ls",
        "rm",
        "mkdir",
        "rmdir",
        "touch",
        "sleep",
        "date",
        "cp",
        "mv",
        "ln",
        "chmod",
        "env",
        "true",
        "false",
        "test",
        "hostname",
        "head",
        "tail",
        "wc",
        "grep",
        "sed",
        "id",
        "ps",
        "kill",
        "find",
        "stat",
        "du",
        "printf",
        "uname",
    ]
    mtime = 1704067200
    data = busybox.read_bytes() if busybox.exists() else b"#!simulated busybox\n"
    files = {
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n",
        "etc/group": b"root:x:0:\n",
        "etc/os-release": b"NAME=base\nID=base\n",
    }
    dirs = {"bin": 0o755, "dev": 0o755, "etc": 0o755, "proc": 0o755, "root": 0o755}
    dirs.update({"sys": 0o755, "tmp": 0o1777, "var": 0o755, "var/log": 0o755})
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []

    def info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.mtime, ti.linkname = kind, mode, size, mtime, link
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    entries.append((info("./", tarfile.DIRTYPE, 0o755), None))
    for d, mode in dirs.items():
        entries.append((info(f"./{d}/", tarfile.DIRTYPE, mode), None))
    entries.append((info("./bin/busybox", tarfile.REGTYPE, 0o755, len(data)), data))
    for a in applets:
        entries.append((info(f"./bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox"), None))
    for f, body in files.items():
        entries.append((info(f"./{f}", tarfile.REGTYPE, 0o644, len(body)), body))
    entries.sort(key=lambda e: e[0].name.rstrip("/"))
    with tarfile.open(dest, "w", format=tarfile.GNU_FORMAT) as tf:
        for ti, body in entries:
            tf.addfile(ti, io.BytesIO(body) if body is not None else None)
    return dest


def make_model_template(tmp: Path, base_tar: Path) -> Path:
    """A dockerlayers root holding only `base:1`, imported from `base_tar` (copied per scenario)."""
    template = tmp / "model-template"
    if template.exists():
        return template
    tmp.mkdir(parents=True, exist_ok=True)
    side = ModelSide(template, tmp)
    side.data_root = template
    side.work = tmp
    r = side.docker(["import", str(base_tar), IMAGE])
    if r.code != 0:
        raise RuntimeError(f"cannot import the base image into the model: {r.err}")
    return template


# ---------------------------------------------------------------------------------------
# Steps


def run_step(side: Side, step: Step, norm: Normaliser, state: dict) -> dict:
    """Run one step; returns the normalised observation {stdout: [...], stderr: [...], exit: n}."""
    if step.kind == "docker":
        args = [_expand(a, side) for a in step.args]
        r = side.docker(args)
        return _observe(r, norm, step)
    if step.kind == "inspect":
        return _inspect(side, step, norm)
    if step.kind == "layout":
        lines = layout(side, step.args[0], state)
        if state.pop("rootless-whiteouts", False):
            norm.fired.add("rootless-whiteouts")
        return {"stdout": [norm.normalise(s) for s in lines]}
    raise ValueError(f"step kind {step.kind} runs on both sides at once")


def _expand(arg: str, side: Side) -> str:
    return arg.replace("$IMAGE", IMAGE).replace("$WORK", str(side.work))


def _observe(r: Result, norm: Normaliser, step: Step, *, ids: bool = True) -> dict:
    out = split_lines(norm.normalise(r.out, sizes=step.sizes, ids=ids))
    if step.sort:
        out.sort()
        norm.fired.add("order")
    return {
        "stdout": out,
        "stderr": split_lines(norm.normalise(r.err, sizes=step.sizes, ids=ids)),
        "exit": r.code,
    }


def _inspect(side: Side, step: Step, norm: Normaliser, *, ids: bool = True) -> dict:
    target, fields = _expand(step.args[0], side), step.args[1:]
    r = side.docker(["inspect", target])
    if r.code != 0:
        return _observe(r, norm, step, ids=ids)
    try:
        obj = json.loads(r.out)[0]
    except (ValueError, IndexError) as e:
        return {"stdout": [], "stderr": [f"inspect output is not JSON: {e}"], "exit": r.code}
    lines = []
    for f in fields:
        val = dig(obj, f)
        if f.endswith(".Pid") and isinstance(val, int) and val > 0:
            val = "<pid>"  # simulated processes have pids of their own
        lines.append(f"{f}={json.dumps(val, sort_keys=True)}")
    return {"stdout": [norm.normalise(s, sizes=step.sizes, ids=ids) for s in lines], "exit": 0}


def dig(obj, dotted: str):
    """obj["A"]["B"] for "A.B"; "<missing>" when a key is absent."""
    for key in dotted.lstrip(".").split("."):
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return "<missing>"
    return obj


def layout(side: Side, name: str, state: dict) -> list[str]:
    """The files a container has under the data root (graphdriver store, overlay2):
    layerdb/mounts/<id>/{mount-id,init-id,parent}, overlay2/<mount-id>{,-init}/ and
    containers/<id>/, with types and modes; relations checked rather than printed raw."""
    root = side.data_root
    known = state.setdefault("layout", {})
    r = side.docker(["inspect", "--type", "container", "-f", "{{.Id}}", name])
    cid = r.out.strip() if r.code == 0 else ""
    if cid:
        known[name] = {"id": cid}
    elif name not in known:
        return [f"container {name}: never seen"]
    cid = cid or known[name]["id"]
    out = [f"container {name}: {'present' if r.code == 0 else 'gone'}"]
    mounts = root / "image" / "overlay2" / "layerdb" / "mounts" / cid
    out.append(
        "layerdb/mounts/<id>/: " + (" ".join(_names(mounts)) if mounts.is_dir() else "absent")
    )
    mount_id = known[name].get("mount")
    if mounts.is_dir():
        if (mounts / "mount-id").exists():
            mount_id = (mounts / "mount-id").read_text()
            known[name]["mount"] = mount_id
        if (mounts / "init-id").exists():
            init = (mounts / "init-id").read_text()
            out.append(f"  init-id == mount-id + '-init': {init == f'{mount_id}-init'}")
        if (mounts / "parent").exists():
            parent = (mounts / "parent").read_text()
            chain = parent.removeprefix("sha256:")
            layer_dir = root / "image" / "overlay2" / "layerdb" / "sha256" / chain
            out.append(f"  parent is sha256:<chain id>: {parent.startswith('sha256:')}")
            out.append(f"  parent in layerdb/sha256: {layer_dir.is_dir()}")
    if mount_id:
        for suffix in ("", "-init"):
            d = root / "overlay2" / (mount_id + suffix)
            label = f"overlay2/<mount-id>{suffix}/"
            if not d.is_dir():
                out.append(f"{label}: absent")
                continue
            out.append(f"{label}: " + " ".join(_names(d)))
            lower = d / "lower"
            if lower.exists():
                parts = lower.read_text().strip().split(":")
                ok = all((root / "overlay2" / p).is_symlink() for p in parts)
                out.append(f"  lower: {len(parts)} link(s), all in overlay2/l: {ok}")
            link = d / "link"
            if link.exists():
                target = root / "overlay2" / "l" / link.read_text().strip()
                out.append(f"  link -> overlay2/l/<link>: {target.is_symlink()}")
            out.extend(
                "  diff" + s for s in _tree(d / "diff", modes=suffix == "-init", state=state)
            )
    cdir = root / "containers" / cid
    if cdir.is_dir():
        out.append(f"containers/<id>/ ({_mode(cdir)}):")
        out.extend("  " + s for s in _tree(cdir, modes=True, files_only_mode=True))
    else:
        out.append("containers/<id>/: absent")
    return out


def _names(d: Path) -> list[str]:
    return sorted(p.name + ("/" if p.is_dir() and not p.is_symlink() else "") for p in d.iterdir())


def _mode(p: Path) -> str:
    return oct(p.lstat().st_mode & 0o7777)[2:]


def _tree(
    top: Path, modes: bool, files_only_mode: bool = False, state: dict | None = None
) -> list[str]:
    """`find`-like listing: `/path type [mode]`; whiteouts (0:0 char devices) shown as `wh`,
    opaque directories as `d(opaque)`. Without root the model's user-space overlay2 keeps
    them as AUFS-style `.wh.<name>` files and `.wh..wh..opq` markers: shown the same way."""
    if not top.is_dir():
        return []
    out = []
    opaque: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = Path(dirpath, n)
            rel_dir = "/" + str(p.parent.relative_to(top)) if p.parent != top else ""
            if n == ".wh..wh..opq":
                opaque.add(rel_dir)
                if state is not None:
                    state["rootless-whiteouts"] = True
                continue
            st = p.lstat()
            kind = _kind(p, st)
            if n.startswith(".wh.") and kind == "f":
                kind, n = "wh", n[len(".wh.") :]
                if state is not None:
                    state["rootless-whiteouts"] = True
            rel = f"{rel_dir}/{n}"
            extra = f" {_mode(p)}" if modes and (kind == "f" or not files_only_mode) else ""
            out.append(f"{rel} {kind}{extra}")
    out = [
        line.replace(" d", " d(opaque)", 1)
        if line.split(" ")[0] in opaque and " d" in line
        else line
        for line in out
    ]
    return sorted(out, key=lambda line: HEX64.sub("ID", line))


def _kind(p: Path, st: os.stat_result) -> str:
    import stat as s

    if s.S_ISCHR(st.st_mode):
        return "wh" if st.st_rdev == 0 else "c"
    if s.S_ISLNK(st.st_mode):
        return "l"
    if s.S_ISDIR(st.st_mode):
        try:
            opaque = os.getxattr(p, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
        except OSError:
            opaque = False
        return "d(opaque)" if opaque else "d"
    return "f"


def transfer(step: Step, engine: Side, model: Side) -> tuple[dict, dict, list[str]]:
    """`docker save` on one side, `docker load` on the other; observations for both sides
    (the loading side's output, the saving side's exit code), and the ids that moved."""
    direction, image = step.args
    src, dst = (engine, model) if direction == "engine->model" else (model, engine)
    image = _expand(image, src)
    tar = dst.work / "transfer.tar"
    saved = src.docker(["save", "-o", str(tar), image])
    moved: list[str] = []
    if saved.code != 0:
        loaded = Result(saved.code, "", f"save failed: {saved.err}")
    else:
        moved = saved_ids(tar)
        loaded = dst.docker(["load", "-i", str(tar)])
    # the loading side must accept the archive silently but for its `Loaded image` line
    ok = {"stdout": [], "stderr": [], "exit": 0}
    got = {"stdout": [], "stderr": loaded.err.splitlines(), "exit": loaded.code}
    if direction == "engine->model":
        return ok, got, moved
    return got, ok, moved


def saved_ids(tar: Path) -> list[str]:
    """The image IDs and diff IDs in a `docker save` archive (≤24 and OCI forms), as hex."""
    found: list[str] = []
    with tarfile.open(tar) as tf:
        names = set(tf.getnames())

        def read(name: str) -> bytes:
            f = tf.extractfile(name)
            return f.read() if f else b""

        if "manifest.json" not in names:
            return found
        for entry in json.loads(read("manifest.json")):
            cfg_name = entry.get("Config", "")
            hexid = re.sub(r"^blobs/sha256/|\.json$", "", cfg_name)
            found.append(hexid)
            cfg = json.loads(read(cfg_name))
            found += [d.removeprefix("sha256:") for d in cfg.get("rootfs", {}).get("diff_ids", [])]
    return [h for h in found if HEX64.fullmatch(h)]


# ---------------------------------------------------------------------------------------
# Comparison


@dataclass
class Mismatch:
    scenario: str
    line: int
    command: str
    channel: str
    against: str  # "engine" (live) or "transcript"
    expected: list[str] | int
    got: list[str] | int
    known: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        return ",".join(self.known) if self.known else "unexplained"

    def describe(self) -> str:
        exp = "\n".join(self.expected) if isinstance(self.expected, list) else str(self.expected)
        got = "\n".join(self.got) if isinstance(self.got, list) else str(self.got)
        return (
            f"{self.scenario}:{self.line}: {self.command}\n  {self.channel} vs {self.against} "
            f"[{self.category}]\n  --- expected\n{_indent(exp)}\n  --- dockerlayers\n{_indent(got)}"
        )


def _indent(s: str) -> str:
    return "\n".join("    " + x for x in s.split("\n"))


@dataclass
class ScenarioResult:
    scenario: str
    mismatches: list[Mismatch] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # %known/%bug annotations that matched
    engine_drift: list[Mismatch] = field(default_factory=list)  # engine vs transcript
    categories: set[str] = field(default_factory=set)  # normalisation rules that fired
    recorded: dict[int, dict] = field(default_factory=dict)
    skipped: str = ""
    seconds: float = 0.0

    @property
    def unexplained(self) -> list[Mismatch]:
        return [m for m in self.mismatches if not m.known]

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.stale

    def summary(self) -> str:
        if self.skipped:
            return f"{self.scenario}: skipped ({self.skipped})"
        known = sorted({k for m in self.mismatches for k in m.known})
        known_text = ": " + ", ".join(known) if known else ""
        state = "ok" if self.ok else "FAIL"
        return (
            f"{self.scenario}: {state} ({len(self.unexplained)} unexplained, "
            f"{len(self.mismatches) - len(self.unexplained)} known{known_text}; "
            f"{len(self.stale)} stale; {self.seconds:.1f}s)"
        )


def compare(step: Step, expected: dict, got: dict, scenario: str, against: str) -> list[Mismatch]:
    out = []
    for ch in step.compare:
        e = expected.get(ch, 0 if ch == "exit" else [])
        g = got.get(ch, 0 if ch == "exit" else [])
        if e != g:
            out.append(
                Mismatch(
                    scenario, step.line, step.text.strip(), ch, against, e, g, step.known + step.bug
                )
            )
    return out


def _only(obs: dict, chans: tuple[str, ...]) -> dict:
    return {k: v for k, v in obs.items() if k in chans}


def run_scenario(
    sc: Scenario,
    model: Side,
    engine: Side | None = None,
    *,
    record: bool = False,
) -> ScenarioResult:
    """Run every step on the model (and the engine), compare, collect mismatches."""
    res = ScenarioResult(sc.name)
    if sc.requires_engine and engine is None:
        res.skipped = "needs a live engine (cross-side transfer)"
        return res
    t0 = time.monotonic()
    sides = [s for s in (engine, model) if s is not None]
    norms, states = {}, {}
    for side in sides:
        side.setup(sc)
        for rel, body in sc.files.items():
            p = side.work / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(body)
        norms[side.name] = Normaliser({str(side.data_root): "$ROOT", str(side.work): "$WORK"})
        states[side.name] = {}
    try:
        for n, step in enumerate(sc.steps):
            if step.kind == "transfer":
                e_obs, m_obs, moved = transfer(step, engine, model)  # type: ignore[arg-type]
                # an image that moved keeps the numbers its ids have on the side it came from
                src, dst = (
                    ("engine", "model") if step.args[0] == "engine->model" else ("model", "engine")
                )
                norms[dst].adopt(norms[src], moved)
            else:
                e_obs = (
                    run_step(engine, step, norms["engine"], states["engine"]) if engine else None
                )
                m_obs = run_step(model, step, norms["model"], states["model"])
            if e_obs is not None:
                res.recorded[n] = _only(e_obs, step.compare) if not step.ignore else {}
            if step.ignore:
                continue
            step_mm: list[Mismatch] = []
            if e_obs is not None and not record:
                if step.raw:
                    raw_e, raw_m = _raw_pair(step, engine, model)  # type: ignore[arg-type]
                    step_mm += compare(step, raw_e, raw_m, sc.name, "engine")
                else:
                    step_mm += compare(step, e_obs, m_obs, sc.name, "engine")
                drift = compare(step, step.expected, e_obs, sc.name, "transcript")
                if not step.raw:
                    for d in drift:
                        d.known = ()
                    res.engine_drift += drift
            elif e_obs is None:
                step_mm += compare(step, step.expected, m_obs, sc.name, "transcript")
            res.mismatches += step_mm
            if (step.known or step.bug) and not step_mm and not record:
                res.stale.append(
                    f"{sc.name}:{step.line}: {step.text.strip()} matches now; "
                    f"remove %known/%bug {' '.join(step.known + step.bug)}"
                )
    finally:
        for side in sides:
            res.categories |= norms[side.name].fired
            side.teardown()
    res.seconds = time.monotonic() - t0
    return res


def _raw_pair(step: Step, engine: Side, model: Side) -> tuple[dict, dict]:
    """Re-run a %raw step on both sides without id normalisation (its effects are idempotent:
    only inspect/images-like steps are marked %raw)."""
    plain_e, plain_m = Normaliser(), Normaliser()
    out = []
    for side, norm in ((engine, plain_e), (model, plain_m)):
        if step.kind == "inspect":
            out.append(_inspect(side, step, norm, ids=False))
        else:
            r = side.docker([_expand(a, side) for a in step.args])
            out.append(_observe(r, norm, step, ids=False))
    return out[0], out[1]


# ---------------------------------------------------------------------------------------
# Known differences (docs/differences.md)


def documented_keys(doc: Path = DIFFERENCES_DOC) -> dict[str, str]:
    """Keys of the differences table: rows whose first cell is `key`; -> the row's kind."""
    keys = {}
    for line in doc.read_text().splitlines():
        m = re.match(r"^\|\s*`([a-z0-9:._-]+)`\s*\|\s*([^|]+?)\s*\|", line)
        if m:
            keys[m.group(1)] = m.group(2)
    return keys


NORMALISATION_CATEGORIES = (
    "ids",
    "overlay2-links",
    "times",
    "sizes",
    "prog-name",
    "paths",
    "order",
    "rootless-whiteouts",
    "cli-wait-log",
)


def annotation_keys(scenarios: list[Scenario]) -> dict[str, list[str]]:
    """key -> where it is used (scenario:line)."""
    used: dict[str, list[str]] = {}
    for sc in scenarios:
        for st in sc.steps:
            for k in st.known + st.bug:
                used.setdefault(k, []).append(f"{sc.name}:{st.line}")
    return used


# ---------------------------------------------------------------------------------------
# Engine control (tools/real-docker.sh)


def engine_unavailable_reason() -> str:
    if os.geteuid() != 0:
        return "a real Docker engine needs root"
    if not REAL_DOCKER_SH.exists():
        return f"{REAL_DOCKER_SH} is missing"
    if os.environ.get("DOCKERLAYERS_NO_ENGINE"):
        return "DOCKERLAYERS_NO_ENGINE is set"
    return ""


def start_engine(state: Path, driver: str = "overlay2") -> None:
    """Start dockerd + containerd under `state` and import base:1; raises RuntimeError."""
    for cmd in (["start", str(state), driver], ["base", str(state)]):
        p = subprocess.run(
            ["bash", str(REAL_DOCKER_SH), *cmd], capture_output=True, text=True, timeout=600
        )
        if p.returncode != 0:
            log = state / "logs" / "dockerd.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"real-docker.sh {cmd[0]} failed: {p.stderr.strip()}\n{tail}")


def stop_engine(state: Path) -> None:
    subprocess.run(
        ["bash", str(REAL_DOCKER_SH), "stop", str(state)], capture_output=True, timeout=300
    )


# ---------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--engine", metavar="STATE_DIR", help="an engine started by real-docker.sh")
    ap.add_argument(
        "--start-engine", action="store_true", help="start (and stop) one in a temp dir"
    )
    ap.add_argument("--record", action="store_true", help="rewrite the transcripts from the engine")
    ap.add_argument("--report", metavar="FILE", help="write a JSON report")
    ap.add_argument(
        "--subprocess", action="store_true", help="run the model as `python -m dockerlayers`"
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args(argv)
    scenarios = [s for s in all_scenarios() if not opts.names or s.name in opts.names]
    tmp = Path(tempfile.mkdtemp(prefix="conformance-"))
    state = Path(opts.engine) if opts.engine else None
    started = False
    try:
        if opts.start_engine and state is None:
            state = tmp / "engine"
            start_engine(state)
            started = True
        if opts.record and state is None:
            ap.error("--record needs an engine")
        base_tar = state / "base-rootfs.tar" if state else base_rootfs_tar(tmp / "base.tar")
        template = make_model_template(tmp, base_tar)
        model = ModelSide(template, tmp, "subprocess" if opts.subprocess else "inprocess")
        engine = EngineSide(state, tmp) if state else None
        results = []
        for sc in scenarios:
            res = run_scenario(sc, model, engine, record=opts.record)
            results.append(res)
            print(res.summary(), flush=True)
            if opts.verbose or not res.ok:
                for m in res.mismatches:
                    if opts.verbose or not m.known:
                        print(m.describe())
                for s in res.stale:
                    print("  stale: " + s)
            for d in res.engine_drift:
                print("  engine drift (re-record?): " + d.describe())
            if opts.record and sc.path and not res.skipped:
                sc.path.write_text(render_scenario(sc, res.recorded))
        if opts.report:
            Path(opts.report).write_text(json.dumps(report(results), indent=2))
        return 0 if all(r.ok for r in results) else 1
    finally:
        if started and state is not None:
            stop_engine(state)
        shutil.rmtree(tmp, ignore_errors=True)


def report(results: list[ScenarioResult]) -> dict:
    return {
        r.scenario: {
            "ok": r.ok,
            "skipped": r.skipped,
            "seconds": round(r.seconds, 2),
            "normalised": sorted(r.categories),
            "mismatches": [
                {
                    "line": m.line,
                    "command": m.command,
                    "channel": m.channel,
                    "against": m.against,
                    "category": m.category,
                    "expected": m.expected,
                    "got": m.got,
                }
                for m in r.mismatches
            ],
            "stale": r.stale,
            "engine_drift": [m.describe() for m in r.engine_drift],
        }
        for r in results
    }


if __name__ == "__main__":
    sys.exit(main())
