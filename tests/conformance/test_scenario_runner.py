"""The runner without an engine: scenario parsing and rendering, normalisation, comparison,
known/stale annotations (driven by scripted sides), save archives, the differences table."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.conformance import scenario_runner as sr

ID_A = "a" * 63 + "1"
ID_B = "b" * 63 + "2"


def test_parse_steps_directives_and_expected():
    sc = sr.parse_scenario(
        "# intro\n%title T\n%env DOCKERLAYERS_CLOCK=virtual\n"
        "%write ctx/Dockerfile\nFROM base:1\n%end\n"
        "$ docker run --name x $IMAGE sh -c 'echo hi'\n| hi\n"
        "%compare exit\n%known held-mount\n%sizes\n$ docker pause x\n! Error\n[1]\n"
        '%inspect x State.Status\n| State.Status="running"\n%layout x\n'
        "%transfer engine->model base:1\n",
        name="t",
    )
    assert sc.title == "T" and sc.env == {"DOCKERLAYERS_CLOCK": "virtual"}
    assert sc.files == {"ctx/Dockerfile": "FROM base:1\n"}
    run, pause, insp, lay, tr = sc.steps
    assert run.args == ["run", "--name", "x", "$IMAGE", "sh", "-c", "echo hi"]
    assert run.expected == {"stdout": ["hi"]} and run.compare == sr.CHANNELS
    assert pause.compare == ("exit",) and pause.known == ("held-mount",) and pause.sizes
    assert pause.expected == {"stderr": ["Error"], "exit": 1}
    assert insp.kind == "inspect" and insp.compare == ("exit",)
    assert (lay.kind, tr.kind, tr.args) == ("layout", "transfer", ["engine->model", "base:1"])
    assert not sc.requires_engine


def test_render_round_trips_and_records():
    text = "# c\n%title T\n\n$ docker ps -a\n| A\n|\n! e\n[3]\n# tail\n"
    sc = sr.parse_scenario(text)
    assert sr.render_scenario(sc) == text
    rec = sr.render_scenario(sc, {0: {"stdout": ["B"], "stderr": [], "exit": 0}})
    assert rec == "# c\n%title T\n\n$ docker ps -a\n| B\n# tail\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("| out\n", "expected output before any step"),
        ("$ ls\n", "a step runs `docker ...`"),
        ("%write f\nno end\n", "%write without %end"),
        ("%frob\n$ docker ps\n", "unknown directive %frob"),
        ("%known\n$ docker ps\n", "needs a key"),
        ("%compare stdout nonsense\n$ docker ps\n", "%compare takes"),
        ("$ docker ps\n%ignore\n", "not followed by a step"),
        ("%transfer sideways x\n", "%transfer engine->model"),
        ("random text\n", "cannot parse"),
    ],
)
def test_parse_errors_name_the_line(text, message):
    with pytest.raises(sr.ScenarioError, match=message) as e:
        sr.parse_scenario(text, name="bad")
    assert str(e.value).startswith("bad:")


def test_ids_are_numbered_consistently_short_and_long():
    n = sr.Normaliser()
    out = n.normalise(f"{ID_A}\n{ID_B[:12]} then {ID_B} and sha256:{ID_A} / {ID_A[:12]}\n")
    assert out == "<ID1>\n<ID2.12> then <ID2> and sha256:<ID1> / <ID1.12>\n"
    assert n.fired == {"ids"}
    other = sr.Normaliser()  # the same shape of output on another side normalises the same
    assert (
        other.normalise(f"{ID_B}\n{ID_A[:12]} then {ID_A} and sha256:{ID_B} / {ID_B[:12]}\n") == out
    )


def test_adopt_gives_moved_ids_the_source_numbers():
    engine, model = sr.Normaliser(), sr.Normaliser()
    engine.normalise(ID_A)
    model.normalise("c" * 64)
    model.adopt(engine, [ID_A, ID_B])
    assert model.normalise(f"{ID_B} {ID_A}") == engine.normalise(f"{ID_B} {ID_A}") == "<ID2> <ID1>"
    assert model.next == engine.next == 3


def test_times_durations_and_table_realignment():
    n = sr.Normaliser()
    table = (
        "NAMES   STATUS                     CREATED\n"
        "web     Up Less than a second      2 minutes ago\n"
        "db      Exited (137) 3 seconds ago About an hour ago\n"
    )
    assert n.normalise(table) == (
        "NAMES   STATUS   CREATED\n"
        "web   Up <duration>   <duration> ago\n"
        "db   Exited (137) <duration> ago <duration> ago\n"
    )
    assert n.normalise('"2024-05-01T10:00:00.123456789Z" "0001-01-01T00:00:00Z"') == (
        '"<time>" "0001-01-01T00:00:00Z"'
    )
    assert n.fired == {"times"}


def test_sizes_only_when_asked_and_prog_name_and_paths():
    n = sr.Normaliser({"/tmp/r1": "$ROOT"})
    assert n.normalise("size 2.048kB") == "size 2.048kB"
    assert n.normalise("size 2.048kB, 1.98MB, 0B", sizes=True) == "size <size>, <size>, <size>"
    assert n.normalise("dockerlayers: Error.\nSee 'dockerlayers run --help'.\n") == (
        "docker: Error.\nSee 'docker run --help'.\n"
    )
    assert n.normalise("/tmp/r1/overlay2/l/ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "$ROOT/overlay2/l/<L1>"
    assert n.fired == {"sizes", "prog-name", "paths", "overlay2-links"}


def test_split_lines_keeps_carriage_returns_visible():
    assert sr.split_lines("a\r\r\nb\n") == ["a\\r\\r", "b"]
    assert sr.split_lines("") == []


def test_network_none_is_added_to_run_create_build_only():
    assert sr._with_network_none(["run", "-d", "x"]) == ["run", "--network", "none", "-d", "x"]
    assert sr._with_network_none(["container", "create", "x"])[:4] == [
        "container",
        "create",
        "--network",
        "none",
    ]
    assert sr._with_network_none(["image", "build", "."])[2:4] == ["--network", "none"]
    assert sr._with_network_none(["ps", "-a"]) == ["ps", "-a"]


def test_dig_selects_dotted_fields():
    obj = {"State": {"Status": "running", "Pid": 3}, "Args": ["-c", "x"]}
    assert sr.dig(obj, "State.Status") == "running"
    assert sr.dig(obj, "Args.1") == "x"
    assert sr.dig(obj, "State.Nope") == "<missing>"


class Scripted(sr.Side):
    """A side whose docker answers come from a dict: (args tuple) -> Result."""

    def __init__(self, name: str, answers: dict, tmp: Path) -> None:
        self.name = name
        self.answers = answers
        self.data_root = tmp / name / "root"
        self.work = tmp / name / "work"
        self.calls: list[list[str]] = []

    def setup(self, sc):
        self.work.mkdir(parents=True, exist_ok=True)
        self.data_root.mkdir(parents=True, exist_ok=True)

    def docker(self, args, env=None):
        self.calls.append(args)
        return self.answers.get(tuple(args), sr.Result(0, "", ""))


SCN = """$ docker run -d --name web base:1 sleep 9
| <ID1>
%bug bug:x
$ docker pause web
! Error response from daemon: Container <ID1> is not running
[1]
$ docker ps -a --format '{{.Status}}'
| Up <duration>
"""


def _answers(pause_err: str, status: str) -> dict:
    return {
        ("run", "-d", "--name", "web", "base:1", "sleep", "9"): sr.Result(0, ID_A + "\n", ""),
        ("pause", "web"): sr.Result(1, "", pause_err),
        ("ps", "-a", "--format", "{{.Status}}"): sr.Result(0, status, ""),
    }


def test_transcript_comparison_known_unexplained_and_stale(tmp_path):
    sc = sr.parse_scenario(SCN, name="s")
    # the annotated step differs (known), the ps step differs (unexplained)
    model = Scripted("model", _answers("other\n", "Exited (0) 1 second ago\n"), tmp_path)
    res = sr.run_scenario(sc, model)
    assert [m.category for m in res.mismatches] == ["bug:x", "unexplained"]
    assert len(res.unexplained) == 1 and not res.ok and not res.stale
    assert res.unexplained[0].expected == ["Up <duration>"]
    # the annotated step now matches: stale; the rest matches
    good = _answers(
        f"Error response from daemon: Container {ID_B} is not running\n", "Up 1 second\n"
    )
    good[("run", "-d", "--name", "web", "base:1", "sleep", "9")] = sr.Result(0, ID_B + "\n", "")
    res = sr.run_scenario(sc, Scripted("model", good, tmp_path))
    assert not res.mismatches and res.stale and not res.ok
    assert "remove %known/%bug bug:x" in res.stale[0]
    assert res.categories == {"ids", "times"}


def test_live_comparison_records_engine_and_reports_drift(tmp_path):
    sc = sr.parse_scenario(SCN, name="s")
    engine = Scripted(
        "engine",
        _answers(
            f"Error response from daemon: Container {ID_A} is not running\n", "Up 3 seconds\n"
        ),
        tmp_path,
    )
    model = Scripted("model", _answers("x\n", "Up 1 second\n"), tmp_path)
    res = sr.run_scenario(sc, model, engine)
    assert [(m.against, m.channel, m.category) for m in res.mismatches] == [
        ("engine", "stderr", "bug:x")
    ]
    assert not res.engine_drift and res.ok
    assert res.recorded[1] == {
        "stdout": [],
        "stderr": ["Error response from daemon: Container <ID1> is not running"],
        "exit": 1,
    }
    text = sr.render_scenario(sc, res.recorded)
    assert sr.parse_scenario(text).steps[1].expected == sc.steps[1].expected
    # the engine printing something else than its transcript is drift
    engine.answers[("ps", "-a", "--format", "{{.Status}}")] = sr.Result(0, "Created\n", "")
    res = sr.run_scenario(sc, model, engine)
    assert [m.line for m in res.engine_drift] == [7]


def test_scenarios_needing_an_engine_are_skipped_without_one(tmp_path):
    sc = sr.parse_scenario("%requires engine\n%transfer engine->model base:1\n", name="t")
    res = sr.run_scenario(sc, Scripted("model", {}, tmp_path))
    assert res.skipped and res.ok


def _save_archive(path: Path, config: dict) -> str:
    import hashlib

    raw = json.dumps(config).encode()
    hexid = hashlib.sha256(raw).hexdigest()
    manifest = json.dumps([{"Config": f"{hexid}.json", "RepoTags": ["x:1"], "Layers": []}]).encode()
    with tarfile.open(path, "w") as tf:
        for name, data in ((f"{hexid}.json", raw), ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return hexid


def test_saved_ids_reads_image_and_diff_ids(tmp_path):
    hexid = _save_archive(
        tmp_path / "s.tar", {"rootfs": {"type": "layers", "diff_ids": [f"sha256:{ID_A}"]}}
    )
    assert sr.saved_ids(tmp_path / "s.tar") == [hexid, ID_A]


def test_base_rootfs_tar_matches_the_engines_base(tmp_path):
    fake = tmp_path / "busybox"
    fake.write_bytes(b"\x7fELF...")
    tar = sr.base_rootfs_tar(tmp_path / "b.tar", busybox=fake)
    with tarfile.open(tar) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert members["./bin/sh"].issym() and members["./bin/sh"].linkname == "busybox"
    assert members["./bin/busybox"].size == len(b"\x7fELF...")
    assert members["./tmp"].mode == 0o1777
    assert "./etc/os-release" in members


def test_documented_keys_parse_the_table(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text(
        "| Key | Kind | a | b |\n|---|---|---|---|\n"
        "| `ids` | normalised | x | y |\n| `bug:z` | model bug | x | y |\n"
    )
    assert sr.documented_keys(doc) == {"ids": "normalised", "bug:z": "model bug"}


def test_every_scenario_file_parses():
    names = [s.name for s in sr.all_scenarios()]
    assert {
        "lifecycle",
        "names",
        "restart_story",
        "diff",
        "commit",
        "build",
        "saveload",
        "layout",
    } <= set(names)


def test_the_cli_wait_race_line_is_dropped():
    n = sr.Normaliser()
    err = (
        "docker: Error response from daemon: x.\n"
        'time="2024-01-01T00:00:00Z" level=error '
        'msg="error waiting for container: context canceled"\n'
    )
    assert n.normalise(err) == "docker: Error response from daemon: x.\n"
    assert n.fired == {"cli-wait-log"}
