"""The command line's latency (issue 16): what a command imports stays small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def _modules_after(code: str, *, env: dict[str, str] | None = None) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})},
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_building_the_command_tree_loads_no_model():
    mods = _modules_after("import dockerlayers.cli as c; c.build_root()")
    for heavy in (
        "dockerlayers.client",
        "dockerlayers.daemon.daemon",
        "dockerlayers.process.process",
        "dockerlayers.archive.tar",
        "dockerlayers.builder",
        "dockerlayers.viz",
        "matplotlib",
    ):
        assert heavy not in mods, heavy


def test_ps_with_a_running_container_loads_no_shell(tmp_path):
    env = {"DOCKERLAYERS_ROOT": str(tmp_path / "root")}
    setup = (
        "from dockerlayers.cli import main\n"
        "assert main(['run', '-d', '--name', 'up', 'base', 'sleep', '1000']) == 0\n"
    )
    subprocess.run(
        [sys.executable, "-c", setup],
        check=True,
        capture_output=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **env},
    )
    mods = _modules_after(
        "import io\nfrom dockerlayers.cli import main\n"
        "assert main(['ps', '-a'], stdout=io.StringIO()) == 0",
        env=env,
    )
    assert "dockerlayers.daemon.daemon" in mods
    assert "dockerlayers.process.process" not in mods
    assert "dockerlayers.daemon.commit" not in mods
    assert "dockerlayers.builder" not in mods


#: What a read-only command (`ps -a`, `inspect`, `diff`) must not load: other verbs, the
#: process model, the tar writers and readers, and stdlib modules only those need (issue 16).
READ_ONLY_MUST_NOT_LOAD = (
    "dockerlayers.daemon.create",
    "dockerlayers.daemon.start",
    "dockerlayers.daemon.delete",
    "dockerlayers.daemon.commit",
    "dockerlayers.daemon.exec",
    "dockerlayers.process.process",
    "dockerlayers.process.shell.state",
    "dockerlayers.builder",
    "dockerlayers.archive.tar",
    "dockerlayers.archive.tarsplit",
    "dockerlayers.archive.apply",
    "dockerlayers.image.importer",
    "dockerlayers.viz",
    "dockerlayers.client",
    "tarfile",
    "logging",
    "ctypes",
    "subprocess",
    "secrets",
    "calendar",
    "datetime",
    # a second round (issue 16): no dataclass on the path (defining one execs code, and
    # `dataclasses` loads `inspect`, `ast`, `dis`); the image service only where an
    # image is asked for; shutil/tempfile/random only where something is written
    "dataclasses",
    "inspect",
    "dockerlayers.image.service",
    "dockerlayers.image.image",
    "dockerlayers.image.store",
    "shutil",
    "tempfile",
    "random",
)


@pytest.fixture(scope="module")
def root_with_containers(tmp_path_factory):
    """A root with a running container and an exited one (restore has both kinds)."""
    env = {"DOCKERLAYERS_ROOT": str(tmp_path_factory.mktemp("lazy") / "root")}
    setup = (
        "from dockerlayers.cli import main\n"
        "assert main(['run', '-d', '--name', 'up', 'base', 'sh', '-c', "
        "'echo x > /new; sleep 1000']) == 0\n"
        "assert main(['run', '--name', 'done', 'base', 'true']) == 0\n"
    )
    subprocess.run(
        [sys.executable, "-c", setup],
        check=True,
        capture_output=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **env},
    )
    return env


@pytest.mark.parametrize(
    "args", [["ps", "-a"], ["inspect", "up"], ["diff", "up"], ["inspect", "done"]]
)
def test_read_only_commands_load_no_other_verb(root_with_containers, args):
    mods = _modules_after(
        "import io\nfrom dockerlayers.cli import main\n"
        f"out = io.StringIO()\nassert main({args!r}, stdout=out) == 0, out.getvalue()\n"
        "assert out.getvalue()",
        env=root_with_containers,
    )
    assert "dockerlayers.daemon.daemon" in mods
    loaded = [m for m in READ_ONLY_MUST_NOT_LOAD if m in mods]
    assert loaded == [], f"{' '.join(args)} loads {loaded}"
    if args[0] != "ps":  # no table or template to format (no -f), no image to resolve
        others = [
            m
            for m in (
                "dockerlayers.cli.formatter",
                "dockerlayers.cli.templates",
                "dockerlayers.image.reference",
                "hashlib",
            )
            if m in mods
        ]
        assert others == [], f"{' '.join(args)} loads {others}"


def test_each_command_builds_only_its_part_of_the_tree():
    """`build_root(word)` holds `word` exactly as the whole tree does (usage, subcommands,
    the function it runs), and every top-level word is in the table that picks the part."""
    import dockerlayers.cli as cli

    full = cli.build_root()
    assert sorted(cli._PART_OF) == sorted(full.subcommands)
    for word, whole in full.subcommands.items():
        part = cli.build_root(word).subcommands[word]
        assert (part.path, part.usage(), part.run) == (whole.path, whole.usage(), whole.run)
        for name, sub in whole.subcommands.items():
            assert part.subcommands[name].usage() == sub.usage(), (word, name)


def test_a_command_imports_only_its_own_commands_module():
    mods = _modules_after(
        "import io\nfrom dockerlayers.cli import main\n"
        "assert main(['ps', '--help'], stdout=io.StringIO()) == 0"
    )
    assert "dockerlayers.cli.commands.container" in mods
    for other in ("image", "system", "registry", "prune"):
        assert f"dockerlayers.cli.commands.{other}" not in mods, other
