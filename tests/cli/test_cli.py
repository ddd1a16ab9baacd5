"""The command line in-process: outputs, stderr texts and exit codes of docker 20.10
(with `dockerlayers` where docker names itself), on a seeded root with a virtual clock."""

from __future__ import annotations

import json

import pytest

WEB_ID = "4a23d5962217beaddbc496cb8e81973e0becd7b03898d190f9ebdacc0cb1e29c"
LOOP = ["sh", "-c", "while true; do sleep 1; done"]


@pytest.fixture
def web(cli):
    """A `hello` that ran and exited, a running `web`, two minutes later."""
    assert cli("run", "--name", "hello", "base", "echo", "hi").code == 0
    r = cli("run", "-d", "--name", "web", "base", *LOOP)
    assert (r.code, r.out, r.err) == (0, WEB_ID + "\n", "")
    # two minutes after the 6 daemon operations so far, each one step (1 ms) of the clock
    assert cli("clock", "advance", "2m").out == "2024-01-01T00:02:00.006Z\n"
    return cli


# -- bad input ------------------------------------------------------------------------------------
def test_unknown_command(cli):
    r = cli("foo")
    assert (r.code, r.out) == (1, "")
    assert (
        r.err == "dockerlayers: 'foo' is not a dockerlayers command.\nSee 'dockerlayers --help'\n"
    )


def test_unknown_flag_exits_125(cli):
    r = cli("run", "--x", "base")
    assert (r.code, r.err) == (125, "unknown flag: --x\nSee 'dockerlayers run --help'.\n")
    r = cli("ps", "-z")
    assert (r.code, r.err) == (
        125,
        "unknown shorthand flag: 'z' in -z\nSee 'dockerlayers ps --help'.\n",
    )
    r = cli("stop", "-t", "abc", "x")
    assert r.code == 125
    assert r.err.startswith(
        'invalid argument "abc" for "-t, --time" flag: strconv.ParseInt: parsing "abc"'
    )


def test_missing_arguments_exit_1_with_usage(cli):
    r = cli("start")
    assert r.code == 1
    assert r.err == (
        '"dockerlayers start" requires at least 1 argument.\n'
        "See 'dockerlayers start --help'.\n\n"
        "Usage:  dockerlayers start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
        "Start one or more stopped containers\n"
    )
    r = cli("rename", "a")
    assert r.err.startswith('"dockerlayers rename" requires exactly 2 arguments.\n')
    r = cli("ps", "x")
    assert r.err.startswith('"dockerlayers ps" accepts no arguments.\n')


def test_help_goes_to_stdout(cli):
    r = cli("stop", "--help")
    assert r.code == 0
    assert r.out.startswith(
        "\nUsage:  dockerlayers stop [OPTIONS] CONTAINER [CONTAINER...]\n\nStop one or more"
    )
    assert "  -t, --time int   Seconds to wait for stop before killing it (default 10)\n" in r.out


# -- run ------------------------------------------------------------------------------------------
def test_run_prints_output_and_exits_with_the_containers_code(cli):
    r = cli("run", "base", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.code, r.out) == (3, "out\n")
    assert r.err.endswith("err\n")


def test_attached_output_keeps_the_order_of_both_streams(cli):
    # the attach stream multiplexes stdout and stderr as written: `2>&1` shows them in order
    import io

    from dockerlayers.cli import main

    cli("run", "--name", "oo", "base", "sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2")
    for argv in (
        ["run", "--rm", "base", "sh", "-c", "echo a; echo b >&2; echo c"],
        ["start", "-a", "oo"],
    ):
        both = io.StringIO()
        main(argv, stdout=both, stderr=both, stdin=io.StringIO(""))
        assert both.getvalue() == ("a\nb\nc\n" if argv[0] == "run" else "1\n2\n3\n4\n")


def test_run_missing_executable_is_127(cli):
    cli("run", "base", "true")
    r = cli("run", "--rm", "base", "nosuchcmd")
    assert r.code == 127
    assert r.err == (
        "dockerlayers: Error response from daemon: failed to create shim task: OCI runtime create failed: "  # noqa: E501
        'runc create failed: unable to start container process: exec: "nosuchcmd": executable file not '  # noqa: E501
        "found in $PATH: unknown.\n"
    )
    assert cli("ps", "-aq").out.count("\n") == 1  # --rm removed the failed one


def test_run_unknown_image_cannot_be_pulled(cli):
    r = cli("run", "nosuch")
    assert r.code == 125
    assert r.err == (
        "Unable to find image 'nosuch:latest' locally\n"
        'dockerlayers: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: '  # noqa: E501
        "lookup registry-1.docker.io: no such host.\nSee 'dockerlayers run --help'.\n"
    )


def test_run_conflicting_rm_and_restart(cli):
    r = cli("run", "--rm", "--restart", "always", "base", "true")
    assert (r.code, r.err) == (
        125,
        "dockerlayers: Conflicting options: --restart and --rm.\nSee 'dockerlayers run --help'.\n",
    )


def test_run_rm_removes_after_output(cli):
    r = cli("run", "--rm", "base", "echo", "bye")
    assert (r.code, r.out) == (0, "bye\n")
    assert "Up" not in cli("ps", "-a").out
    assert cli("ps", "-aq").out == ""


def test_create_then_start_attached(cli):
    cli("run", "base", "true")
    r = cli("create", "--name", "c1", "-e", "WHO=you", "base", "sh", "-c", 'echo "hi $WHO"; exit 4')
    assert r.code == 0 and len(r.out.strip()) == 64
    assert "Created" in cli("ps", "-a", "--format", "{{.Names}} {{.Status}}").out
    r = cli("start", "-a", "c1")
    assert (r.code, r.out) == (4, "hi you\n")
    r = cli("start", "-a", "c1")  # only the new output is attached
    assert (r.code, r.out) == (4, "hi you\n")
    assert cli("logs", "c1").out == "hi you\nhi you\n"


# -- ps, stop, lifecycle ----------------------------------------------------------------------------  # noqa: E501
def test_ps_tables(web):
    assert web("ps", "-a").out == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                     PORTS     NAMES\n"  # noqa: E501
        '4a23d5962217   base      "sh -c \'while true; …"   2 minutes ago   Up 2 minutes                         web\n'  # noqa: E501
        '11e20b8f6b0d   base      "echo hi"                2 minutes ago   Exited (0) 2 minutes ago             hello\n'  # noqa: E501
    )
    assert web("ps", "-s").out == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES     SIZE\n"  # noqa: E501
        '4a23d5962217   base      "sh -c \'while true; …"   2 minutes ago   Up 2 minutes             web       '  # noqa: E501
        "0B (virtual 501B)\n"
    )
    assert web("ps", "-q").out == "4a23d5962217\n"
    assert web("ps", "-aq", "--no-trunc").out.splitlines()[0] == WEB_ID
    assert web("ps", "-l", "--format", "{{.Names}}").out == "web\n"
    assert web("ps", "-a", "-f", "status=exited", "--format", "{{.Names}}").out == "hello\n"
    assert (
        web("ps", "--format", "table {{.Names}}\t{{.Size}}").out
        == "NAMES     SIZE\nweb       0B (virtual 501B)\n"
    )
    full = web("ps", "--no-trunc", "--format", "{{.Command}}").out
    assert full == "\"sh -c 'while true; do sleep 1; done'\"\n"


def test_stop_waits_the_timeout_then_kills(web):
    r = web("stop", "web")
    assert (r.code, r.out, r.err) == (0, "web\n", "")
    # 10 s after the stop's own operation step: sh ignores TERM
    assert web("clock", "show").out == "2024-01-01T00:02:10.007Z (virtual)\n"
    assert web("ps", "-a", "--format", "{{.Names}}: {{.Status}}").out == (
        "web: Exited (137) Less than a second ago\nhello: Exited (0) 2 minutes ago\n"
    )
    r = web("stop", "web")  # already stopped: not an error
    assert (r.code, r.out) == (0, "web\n")


def test_stop_time_flag(web):
    web("stop", "-t", "3", "web")
    assert web("clock", "show").out == "2024-01-01T00:02:03.007Z (virtual)\n"  # 3 s + one step


def test_error_texts_of_loops(web):
    r = web("stop", "nosuch", "web")
    assert (r.code, r.out, r.err) == (
        1,
        "web\n",
        "Error response from daemon: No such container: nosuch\n",
    )
    r = web("rm", "nosuch")
    assert (r.code, r.err) == (1, "Error: No such container: nosuch\n")
    r = web("start", "nosuch", "hello")
    assert (r.code, r.out) == (1, "hello\n")
    assert r.err == (
        "Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n"  # noqa: E501
    )


def test_rm_running_refused_then_forced(web):
    r = web("rm", "web")
    assert r.code == 1
    assert r.err == (
        f"Error response from daemon: You cannot remove a running container {WEB_ID}. "
        "Stop the container before attempting removal or force remove\n"
    )
    assert web("rm", "-f", "web").out == "web\n"
    assert web("ps", "-q").out == ""


def test_pause_unpause_kill_restart(web):
    assert web("pause", "web").out == "web\n"
    assert web("ps", "--format", "{{.Status}}").out == "Up 2 minutes (Paused)\n"
    r = web("pause", "web")
    assert r.err == f"Error response from daemon: Container {WEB_ID} is already paused\n"
    assert web("unpause", "web").out == "web\n"
    assert web("kill", "web").out == "web\n"
    assert web("ps", "-a", "-f", "name=web", "--format", "{{.Status}}").out == (
        "Exited (137) Less than a second ago\n"
    )
    r = web("kill", "web")
    assert r.code == 1
    assert r.err.startswith("Error response from daemon: ")
    assert r.err.endswith(f"Container {WEB_ID} is not running\n")
    assert web("restart", "web").out == "web\n"
    assert web("ps", "--format", "{{.Names}} {{.State}}").out == "web running\n"


def test_exec_diff_logs_wait_rename(web):
    r = web("exec", "web", "sh", "-c", "echo data > /tmp/f; exit 2")
    assert r.code == 2
    assert web("exec", "web", "cat", "/tmp/f").out == "data\n"
    assert web("diff", "web").out == "C /tmp\nA /tmp/f\n"
    r = web("exec", "hello", "true")
    assert r.code == 1 and "is not running" in r.err
    assert web("exec", "nosuch", "true").err == "Error: No such container: nosuch\n"
    assert web("logs", "hello").out == "hi\n"
    assert web("logs", "-t", "hello").out.endswith("Z hi\n")
    assert web("logs", "nosuch").err == "Error: No such container: nosuch\n"
    assert web("rename", "hello", "hi").code == 0
    assert web("wait", "hi").out == "0\n"
    web("kill", "-s", "TERM", "web")  # ignored by sh as PID 1
    assert web("ps", "-q").out == "4a23d5962217\n"


def test_inspect(web):
    r = web(
        "inspect",
        "-f",
        "{{.Name}} {{.State.Status}} {{.Config.Cmd}} {{json .Config.Entrypoint}}",
        "web",
    )
    assert r.out == "/web running [sh -c while true; do sleep 1; done] null\n"
    data = json.loads(web("inspect", "web").out)
    assert data[0]["Id"] == WEB_ID and data[0]["State"]["Running"] is True
    r = web("inspect", "nosuch")
    assert (r.code, r.out, r.err) == (1, "[]\n", "Error: No such object: nosuch\n")
    r = web("inspect", "--type", "container", "nosuch")
    assert r.err == "Error: No such container: nosuch\n"
    assert web("inspect", "-f", "{{.Id}}", "base").out.startswith("sha256:")
    # a template that does not parse: exit 64 and docker 20.10's lower-case text
    r = web("inspect", "-f", "{{.Nope", "base")
    assert (r.code, r.out) == (64, "")
    assert r.err == "template parsing error: template: :1: unclosed action\n"


def test_events(web):
    out = web("events", "--filter", "container=hello").out.splitlines()
    assert [line.split()[2] for line in out] == ["create", "start", "die"]
    assert out[0].startswith("2024-01-01T00:00:00.002000000Z container create ")  # 2nd op
    assert out[2].endswith(" (exitCode=0, image=base, name=hello)")
    assert web("events", "--since", "1m").out == ""


# -- images ---------------------------------------------------------------------------------------
def test_images_build_commit_history_rmi(cli, tmp_path):
    assert cli("run", "--name", "ctr", "base", "sh", "-c", "echo x > /x").code == 0
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text('FROM base\nRUN echo hi > /f\nCMD ["cat", "/f"]\n')
    r = cli("build", "-t", "demo", str(ctx))
    assert r.code == 0
    assert "Step 2/3 : RUN echo hi > /f\n" in r.out and r.out.endswith(
        "Successfully tagged demo:latest\n"
    )
    assert cli("run", "--rm", "demo").out == "hi\n"
    r = cli("commit", "-m", "snap", "ctr", "snap:1")
    assert r.code == 0 and r.out.startswith("sha256:")
    table = cli("images").out.splitlines()
    assert table[0] == "REPOSITORY   TAG       IMAGE ID       CREATED                  SIZE"
    assert sorted(row.split()[:2] for row in table[1:]) == [
        ["base", "latest"],
        ["demo", "latest"],
        ["snap", "1"],
    ]
    assert cli("images", "-q", "snap").out.strip() == r.out.strip()[7:19]
    hist = cli("history", "demo").out.splitlines()
    assert (
        hist[0]
        == "IMAGE          CREATED                  CREATED BY                            SIZE      COMMENT"  # noqa: E501
    )
    assert "/bin/sh -c echo hi > /f" in hist[2]
    assert cli("history", "-q", "demo").out.count("\n") == 3
    assert cli("history", "nosuch").err == "Error: No such image: nosuch\n"
    r = cli("tag", "demo", "demo:v2")
    assert r.code == 0
    assert cli("rmi", "demo:v2").out == "Untagged: demo:v2\n"
    r = cli("rmi", "nosuch")
    assert (r.code, r.err) == (1, "Error: No such image: nosuch\n")


def test_build_failure_exits_with_the_steps_code(cli, tmp_path):
    cli("run", "base", "true")
    (tmp_path / "Dockerfile").write_text("FROM base\nRUN exit 3\n")
    r = cli("build", str(tmp_path))
    assert r.code == 3
    assert r.err == "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n"


def test_save_load_roundtrip(cli, tmp_path):
    cli("run", "base", "true")
    tar = tmp_path / "base.tar"
    assert cli("save", "-o", str(tar), "base").code == 0
    r = cli("load", "-i", str(tar))
    assert r.code == 0 and "base:latest" in r.out


# -- volumes, prune, clock --------------------------------------------------------------------------  # noqa: E501
def test_volumes(cli):
    assert cli("volume", "create", "data").out == "data\n"
    assert cli("volume", "ls").out == "DRIVER    VOLUME NAME\nlocal     data\n"
    assert cli("volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "data").out == "data local\n"
    assert cli("volume", "inspect", "nope").err == "Error: No such volume: nope\n"
    assert cli("volume", "rm", "data").out == "data\n"
    assert cli("volume", "ls", "-q").out == ""


def test_container_prune_asks_first(web):
    r = web("container", "prune", stdin="n\n")
    assert r.out == (
        "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "  # noqa: E501
        "Total reclaimed space: 0B\n"
    )
    r = web("container", "prune", "-f")
    assert r.out.startswith("Deleted Containers:\n11e20b8f6b0d")
    assert r.out.endswith("\n\nTotal reclaimed space: 0B\n")
    assert web("container", "ls", "-aq").out == "4a23d5962217\n"


def test_clock_needs_virtual(cli, monkeypatch):
    monkeypatch.delenv("DOCKERLAYERS_CLOCK")
    r = cli("clock", "advance", "1s")
    assert r.code == 1 and "DOCKERLAYERS_CLOCK=virtual" in r.err


def test_logs_follow_waits_for_the_end_and_details_lead_with_a_space(cli):
    # the 20.10 engine: `logs -f` of `echo start; sleep 2; echo end` prints both lines and
    # returns when the container stops; `--details` puts the (empty) attributes and a space
    # before each line
    cli("run", "-d", "--name", "fw", "base", "sh", "-c", "echo start; sleep 2; echo end")
    r = cli("logs", "-f", "fw")
    assert (r.code, r.out) == (0, "start\nend\n")
    assert cli("ps", "-aq", "--filter", "status=exited").out.strip() != ""
    assert cli("logs", "--details", "fw").out == " start\n end\n"
    assert cli("logs", "-f", "--tail", "1", "fw").out == "end\n"  # stopped: no waiting


def test_a_reader_that_goes_away_ends_the_command_quietly():
    # `dockerlayers logs C | head -1`: SIGPIPE's exit status, no Python traceback
    import io

    from dockerlayers.cli.app import run_main
    from dockerlayers.cli.commands import container

    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    root = container.container_commands()[0]  # any command: `run --help` writes help
    assert run_main(root, ["--help"], Closed(), io.StringIO(), None) == 141


def test_inspect_format_of_a_missing_key_fails_as_dockers_template_does(cli):
    # the 20.10 engine, recorded: an empty line on stdout, the error on stderr, exit 1; a
    # key a Go map lacks (Labels, LogConfig.Config) is `<no value>`
    cli("create", "--name", "ti", "base", "true")
    r = cli("inspect", "-f", "{{.State.status}}", "ti")
    assert (r.code, r.out) == (1, "\n")
    assert r.err == (
        'template parsing error: template: :1:8: executing "" at <.State.status>: '
        'map has no entry for key "status"\n'
    )
    r = cli("inspect", "-f", 'x {{.Id | printf "%.3s"}} {{.State.Nope}}', "ti")
    assert r.err.startswith('template parsing error: template: :1:34: executing "" at <.State.')
    for fmt in ("{{.Config.Labels.foo}}", "{{.HostConfig.LogConfig.Config.x}}"):
        assert cli("inspect", "-f", fmt, "ti").out == "<no value>\n"


def test_it_needs_a_terminal_and_rm_f_of_nothing_is_no_failure(cli):
    # the 20.10 CLI: `run -it`/`exec -it` with stdin not a terminal refuse before anything
    # is made (CheckTty, exit 1); `rm -f` of a missing container reports it, exit 0
    r = cli("run", "-it", "--rm", "base", "echo", "hi")
    assert (r.code, r.out, r.err) == (1, "", "the input device is not a TTY\n")
    assert cli("ps", "-aq").out == ""
    cli("run", "-d", "--name", "tt", "base", "sleep", "100")
    r = cli("exec", "-it", "tt", "echo", "hi")
    assert (r.code, r.err) == (1, "the input device is not a TTY\n")
    r = cli("rm", "-f", "nope-x")
    assert (r.code, r.out, r.err) == (0, "", "Error: No such container: nope-x\n")
    assert cli("rm", "nope-x").code == 1


def test_volume_rm_of_a_missing_volume_uses_the_clients_words(cli):
    # the 20.10 CLI: `volume rm X` -> "Error: No such volume: X" (1); with -f it is no error
    r = cli("volume", "rm", "nope-v")
    assert (r.code, r.err) == (1, "Error: No such volume: nope-v\n")
    assert cli("volume", "rm", "-f", "nope-v").code == 0


def test_cp_of_something_missing_uses_the_clients_container_path_words(cli):
    # the 20.10 CLI: a 404 of the archive calls is "No such container:path: C:PATH", the
    # destination's parent folder on the way in
    cli("create", "--name", "cpx", "base", "true")
    for args, shown in (
        (["cpx:/nope", "-"], "cpx:/nope"),
        (["nocont-x:/a", "-"], "nocont-x:/a"),
        (["/etc/hostname", "nocont-x:/a"], "nocont-x:/"),
        (["/etc/hostname", "cpx:/nodir/x"], "cpx:/nodir"),
    ):
        r = cli("cp", *args)
        assert (r.code, r.err) == (1, f"Error: No such container:path: {shown}\n"), args


def test_logs_since_of_a_bad_value_names_the_option(cli):
    # the 20.10 client wraps the parse error: `invalid value for "since": ...`
    cli("create", "--name", "lgs", "base", "true")
    r = cli("logs", "--since", "bogus", "lgs")
    assert (r.code, r.err) == (
        1,
        'invalid value for "since": failed to parse value as time or duration: "bogus"\n',
    )
