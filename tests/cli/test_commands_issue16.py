"""Commands and flags added for issue 16: system df/prune, image prune/inspect, container
inspect --size, update, top, port, attach, stats, pull, build -, version --format, the
run/create flags recorded in HostConfig, --read-only, --tmpfs, and import errors."""

from __future__ import annotations

import json

import pytest

LOOP = ["sh", "-c", "while true; do sleep 1; done"]


@pytest.fixture
def two(cli):
    """`done` exited after writing /f (6 bytes), `busy` runs."""
    assert cli("run", "--name", "done", "base", "sh", "-c", "echo hello > /f").code == 0
    assert cli("run", "-d", "--name", "busy", "base", *LOOP).code == 0
    return cli


def test_unknown_subcommand_of_a_group_prints_its_usage(cli):
    r = cli("system", "dfx")
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("\nUsage:  dockerlayers system COMMAND\n\nManage Docker\n")
    assert "  df          Show docker disk usage\n" in r.err
    assert "unknown shorthand" not in r.err


def test_system_df_counts_and_reclaimable(two):
    r = two("system", "df")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    images, containers = lines[1].split(), lines[2].split()
    assert images[:3] == ["Images", "1", "1"]
    assert containers[:3] == ["Containers", "2", "1"]
    # only the exited container's RW layer (6 bytes) is reclaimable
    assert containers[3:] == ["6B", "6B", "(100%)"]
    r = two("system", "df", "--format", "{{json .}}")
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert [row["Type"] for row in rows] == ["Images", "Containers", "Local Volumes", "Build Cache"]


def test_system_df_verbose_sections(two):
    r = two("system", "df", "-v")
    assert r.code == 0
    for title in (
        "Images space usage:",
        "Containers space usage:",
        "Local Volumes space usage:",
        "Build cache usage: 0B",
    ):
        assert title in r.out
    assert "virtual" not in r.out  # the CLI hides SizeRootFs here


def test_container_inspect_size_and_missing(two):
    r = two("container", "inspect", "--size", "-f", "{{.SizeRw}}", "done")
    assert (r.code, r.out) == (0, "6\n")
    r = two("inspect", "-s", "-f", "{{.SizeRw}}", "done")
    assert r.out == "6\n"
    r = two("container", "inspect", "nosuch")
    assert (r.code, r.out, r.err) == (1, "[]\n", "Error: No such container: nosuch\n")


def test_image_inspect(two):
    r = two("image", "inspect", "-f", "{{.RepoTags}}", "base", "done")
    assert r.code == 1
    assert r.out == "[base:latest]\n"
    assert r.err == "Error: No such image: done\n"


def test_update_restart_policy_and_resources(two):
    r = two("update", "--restart", "on-failure:3", "--memory", "64m", "--cpus", "1.5", "done")
    assert (r.code, r.out) == (0, "done\n")
    hc = json.loads(two("inspect", "-f", "{{json .HostConfig}}", "done").out)
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert (hc["Memory"], hc["NanoCpus"]) == (64 << 20, 1_500_000_000)
    r = two("update", "--restart", "bogus", "done")
    assert (r.code, r.err) == (1, "Error response from daemon: invalid restart policy 'bogus'\n")
    r = two("update", "done")
    assert r.err == "you must provide one or more flags when using this command\n"


def test_top_port_attach_stats(two):
    r = two("top", "busy")
    assert r.code == 0
    head, row = r.out.splitlines()
    assert head.split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert "sh -c while true; do sleep 1; done" in row
    r = two("top", "done")
    assert r.code == 1 and "is not running" in r.err
    r = two("top", "busy", "-o", "args")
    assert r.err == "Error response from daemon: Couldn't find PID field in ps output\n"
    r = two("port", "busy", "80")
    assert (r.code, r.err) == (1, "Error: No public port '80/tcp' published for busy\n")
    assert two("port", "busy").out == ""
    r = two("attach", "done")
    assert r.err == "You cannot attach to a stopped container, start it first\n"
    r = two("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}")
    assert r.out == "busy 1\n"


def test_image_prune_all_removes_unused_images(two):
    assert two("commit", "done", "kept:1").code == 0
    assert two("rm", "done").code == 0
    r = two("image", "prune", "-f")
    assert r.out == "Total reclaimed space: 0B\n"  # nothing dangling
    r = two("image", "prune", "-a", "-f")
    assert r.out.startswith("Deleted Images:\nuntagged: kept:1\ndeleted: sha256:")
    assert "base" not in r.out  # `busy` uses it
    assert two("images", "-q").out.count("\n") == 1


def test_system_prune_removes_stopped_containers(two):
    r = two("system", "prune", stdin="n\n")
    assert r.out.startswith("WARNING! This will remove:\n  - all stopped containers\n")
    assert two("ps", "-aq").out.count("\n") == 2
    r = two("system", "prune", "-f")
    assert r.out.startswith("Deleted Containers:\n")
    assert two("ps", "-a", "--format", "{{.Names}}").out == "busy\n"


def test_pull_only_base(cli):
    r = cli("pull", "base")
    assert r.code == 0
    assert r.out.splitlines()[0] == "Using default tag: latest"
    assert r.out.endswith("docker.io/library/base:latest\n")
    r = cli("pull", "busybox:1.36")
    assert r.code == 1
    assert r.err.startswith('Error response from daemon: Get "https://registry-1.docker.io/v2/"')


def test_build_from_stdin(cli):
    cli("pull", "base")
    r = cli("build", "-t", "piped:1", "-", stdin="FROM base\nRUN echo hi > /x\n")
    assert r.code == 0, r.err
    assert "Successfully tagged piped:1" in r.out
    assert cli("run", "--rm", "piped:1", "cat", "/x").out == "hi\n"


def test_version_format(cli):
    assert cli("version", "--format", "{{.Client.APIVersion}}").out == "1.41\n"
    r = cli("version", "--format", "{{.Bogus}}")
    assert r.code == 1
    assert r.err == (
        'template: version:1:2: executing "version" at <.Bogus>: '
        "can't evaluate field Bogus in type system.versionInfo\n"
    )


def test_run_flags_recorded_in_host_config(cli):
    r = cli(
        "create", "--name", "fl", "-p", "8080:80", "-p", "127.0.0.1:9000:9000/udp", "-p", "53",
        "-m", "64m", "--cpus", "1.5", "--privileged", "--init", "--read-only",
        "--tmpfs", "/run", "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m", "base", "true",
    )  # fmt: skip
    assert r.code == 0, r.err
    info = json.loads(cli("inspect", "fl").out)[0]
    hc = info["HostConfig"]
    assert hc["PortBindings"] == {
        "53/tcp": [{"HostIp": "", "HostPort": ""}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
    }
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"]) == (64 << 20, 128 << 20, 1500000000)
    assert (hc["Privileged"], hc["SecurityOpt"], hc["MaskedPaths"]) == (
        True,
        ["label=disable"],
        None,
    )
    assert (hc["Init"], hc["ReadonlyRootfs"], hc["Tmpfs"]) == (True, True, {"/run": ""})
    assert hc["Mounts"] == [
        {"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 1048576}}
    ]
    assert info["Config"]["ExposedPorts"] == {"53/tcp": {}, "80/tcp": {}, "9000/udp": {}}
    cli("create", "--name", "plain", "base", "true")
    plain = json.loads(cli("inspect", "plain").out)[0]["HostConfig"]
    assert "Init" not in plain and "Mounts" not in plain  # left out when unset, as Docker
    assert (plain["Memory"], plain["MemorySwap"], plain["Privileged"]) == (0, 0, False)


@pytest.mark.parametrize(
    ("spec", "code", "err"),
    [
        ("type=bind,dst=/x", 1, 'invalid mount config for type "bind": field Source must not be empty'),  # noqa: E501
        ("type=tmpfs,src=/a,dst=/x", 1, 'invalid mount config for type "tmpfs": field Source must not be specified'),  # noqa: E501
        ("type=bogus,dst=/x", 1, 'invalid mount config for type "bogus": mount type unknown'),
        ("src=a", 125, 'invalid argument "src=a" for "--mount" flag: target is required'),
        ("dst", 125, "invalid field 'dst' must be a key=value pair"),
        ("type=volume,target=/x,tmpfs-size=1m", 125, "cannot mix 'tmpfs-*' options with mount type 'volume'"),  # noqa: E501
    ],
)  # fmt: skip
def test_mount_validation_texts(cli, spec, code, err):
    cli("pull", "base")
    r = cli("create", "--mount", spec, "base", "true")
    assert r.code == code
    assert err in r.err
    assert cli("ps", "-aq").out == ""  # an error changes nothing


def test_read_only_rootfs_and_tmpfs(cli):
    r = cli("run", "--rm", "--read-only", "--tmpfs", "/run", "base", "sh", "-c",
            "echo x > /f; echo y > /run/y && cat /run/y")  # fmt: skip
    assert r.out == "y\n"
    assert "can't create /f: Read-only file system" in r.err
    assert cli("run", "-d", "--name", "tm", "--tmpfs", "/scratch", "base", *LOOP).code == 0
    assert cli("exec", "tm", "sh", "-c", "echo x > /scratch/x; echo rw > /rw").code == 0
    assert cli("exec", "tm", "ls", "/scratch").out == "x\n"
    assert sorted(cli("diff", "tm").out.splitlines()) == ["A /rw", "A /scratch"]
    assert cli("restart", "-t", "0", "tm").code == 0
    assert cli("exec", "tm", "ls", "/scratch").out == ""  # a tmpfs is empty again


def test_import_errors_without_traceback(cli, tmp_path):
    r = cli("import", str(tmp_path / "nosuch"))
    assert (r.code, r.err) == (1, f"open {tmp_path / 'nosuch'}: no such file or directory\n")
    bad = tmp_path / "bad"
    bad.write_text("not a tar\n")
    r = cli("import", str(bad))
    assert (r.code, r.err) == (
        1,
        "Error response from daemon: Error processing tar file(exit status 1): unexpected EOF\n",
    )
    r = cli("import", str(tmp_path))
    assert r.code == 1 and "is a directory" in r.err and "Traceback" not in r.err


def test_run_i_forwards_what_is_piped_in(cli):
    """`echo ... | docker run -i IMAGE cat` prints it; without -i the process reads nothing
    (recorded on 20.10.24: `hi`, then nothing)."""
    r = cli("run", "-i", "--rm", "base", "sh", "-c", "read x; echo got $x; cat", stdin="hi\nrest\n")
    assert (r.code, r.out) == (0, "got hi\nrest\n")
    r = cli("run", "--rm", "base", "cat", stdin="hi\n")
    assert (r.code, r.out) == (0, "")


def test_exec_i_and_start_i_forward_stdin(cli):
    assert cli("run", "-d", "--name", "busy", "base", *LOOP).code == 0
    r = cli("exec", "-i", "busy", "wc", "-c", stdin="12345")
    assert r.out.split() == ["5"]
    assert cli("create", "--name", "cc", "-i", "base", "cat").code == 0
    r = cli("start", "-i", "cc", stdin="again\n")
    assert (r.code, r.out) == (0, "again\n")


def test_build_file_is_relative_to_the_current_directory_or_stdin(cli, tmp_path, monkeypatch):
    # the 20.10 CLI: `-f D1 ../ctx` reads ./D1; a Dockerfile outside the context (or `-f -`)
    # goes in as .dockerfile.<random>, listed in a .dockerignore that names itself, so
    # `COPY . /x` sees neither (recorded: `ls -a /x` gives . .. f)
    ctx, wd = tmp_path / "ctx", tmp_path / "wd"
    ctx.mkdir()
    wd.mkdir()
    (ctx / "f").write_text("hello\n")
    (wd / "D1").write_text("FROM base\nCOPY . /x\nRUN ls -a /x\n")
    monkeypatch.chdir(wd)
    r = cli("build", "--no-cache", "-f", "D1", "../ctx")
    assert r.code == 0, r.err
    assert ".\n..\nf\nRemoving intermediate" in r.out
    r = cli("build", "-f", "-", "../ctx", stdin="FROM base\nCOPY . /y\nRUN ls -a /y\n")
    assert r.code == 0 and ".\n..\nf\nRemoving intermediate" in r.out, r.err
    r = cli("build", "-f", "nope", "../ctx")
    assert r.code == 1
    assert r.err == (
        "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
        f"lstat {wd}/nope: no such file or directory\n"
    )
