"""`run`/`create`: every flag of Docker 20.10, its help line, what `docker inspect` shows
for it (values as the 20.10 engine recorded them, scenario run_flags_all), and the texts
of bad values (the client's pflag and parse() errors, and the daemon's)."""

# ruff: noqa: E501  (the table of Docker's error texts keeps one case a line)
from __future__ import annotations

import json

import pytest

#: the flags `dockerlayers run --help` lacked before (issue 16)
NEW_FLAGS = [
    "add-host",
    "attach",
    "blkio-weight",
    "blkio-weight-device",
    "cap-add",
    "cap-drop",
    "cgroup-parent",
    "cgroupns",
    "cidfile",
    "cpu-period",
    "cpu-quota",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpu-shares",
    "cpuset-cpus",
    "cpuset-mems",
    "detach-keys",
    "device",
    "device-cgroup-rule",
    "device-read-bps",
    "device-read-iops",
    "device-write-bps",
    "device-write-iops",
    "disable-content-trust",
    "dns",
    "dns-option",
    "dns-search",
    "domainname",
    "env-file",
    "expose",
    "gpus",
    "group-add",
    "health-cmd",
    "health-interval",
    "health-retries",
    "health-start-period",
    "health-timeout",
    "ip",
    "ip6",
    "ipc",
    "isolation",
    "kernel-memory",
    "label-file",
    "link",
    "link-local-ip",
    "log-driver",
    "log-opt",
    "mac-address",
    "memory-reservation",
    "memory-swap",
    "memory-swappiness",
    "network-alias",
    "no-healthcheck",
    "oom-kill-disable",
    "oom-score-adj",
    "pid",
    "pids-limit",
    "platform",
    "publish-all",
    "pull",
    "runtime",
    "security-opt",
    "shm-size",
    "sig-proxy",
    "storage-opt",
    "sysctl",
    "ulimit",
    "userns",
    "uts",
    "volume-driver",
    "volumes-from",
]


def _options(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if line.lstrip().startswith("-")]


def test_help_lists_every_flag_of_docker_20_10(cli):
    run = cli("run", "--help").out
    create = cli("create", "--help").out
    assert len(_options(run)) == 96
    assert len(_options(create)) == 93
    for name in NEW_FLAGS:
        if name not in ("detach-keys", "sig-proxy"):
            assert f"--{name} " in create or f"--{name}\n" in create, name
        assert f"--{name} " in run or f"--{name}\n" in run, name
    assert "detach-keys" not in create and "sig-proxy" not in create


def test_help_lines_are_dockers_wrapped_at_79_columns(cli):
    run = cli("run", "--help").out
    assert (
        "      --cgroupns string                Cgroup namespace to use\n"
        "                                       (host|private)\n"
        "                                       'host':    Run the container in\n"
        "                                       the Docker host's cgroup namespace\n"
    ) in run
    assert (
        "      --pull string                    Pull image before running\n"
        '                                       ("always"|"missing"|"never")\n'
        '                                       (default "missing")\n'
    ) in run
    assert "      --ulimit ulimit                  Ulimit options (default [])\n" in run
    assert "      --sysctl map                     Sysctl options (default map[])\n" in run
    assert "      --gpus gpu-request               GPU devices to add to the\n" in run
    assert "      --memory-swappiness int          Tune container memory swappiness\n" in run
    assert "      --disable-content-trust          Skip image verification (default true)\n" in run
    assert "      --help                           Print usage\n" in run
    assert all(len(line) <= 79 for line in run.splitlines())
    assert "Pull image before creating" in cli("create", "--help").out


def _inspect(cli, name: str) -> dict:
    r = cli("inspect", name)
    assert r.code == 0, r.err
    return json.loads(r.out)[0]


#: (flags, [(section, field, value the 20.10 engine shows)])
RECORDED = [
    (["--add-host", "db:10.0.0.2"], [("HostConfig", "ExtraHosts", ["db:10.0.0.2"])]),
    (["-a", "stdout"], [("Config", "AttachStdout", True), ("Config", "AttachStderr", False)]),
    (["--blkio-weight", "300"], [("HostConfig", "BlkioWeight", 300)]),
    (
        ["--blkio-weight-device", "/dev/sda:200"],
        [("HostConfig", "BlkioWeightDevice", [{"Path": "/dev/sda", "Weight": 200}])],
    ),
    (["--cap-add", "NET_ADMIN"], [("HostConfig", "CapAdd", ["NET_ADMIN"])]),
    (["--cap-drop", "MKNOD"], [("HostConfig", "CapDrop", ["MKNOD"])]),
    (["--cgroup-parent", "/cg"], [("HostConfig", "CgroupParent", "/cg")]),
    (["--cgroupns", "private"], [("HostConfig", "CgroupnsMode", "private")]),
    (["--cpu-period", "100000"], [("HostConfig", "CpuPeriod", 100000)]),
    (["--cpu-quota", "50000"], [("HostConfig", "CpuQuota", 50000)]),
    (["--cpu-rt-period", "1000"], [("HostConfig", "CpuRealtimePeriod", 1000)]),
    (["--cpu-rt-runtime", "500"], [("HostConfig", "CpuRealtimeRuntime", 500)]),
    (["-c", "512"], [("HostConfig", "CpuShares", 512)]),
    (["--cpuset-cpus", "0"], [("HostConfig", "CpusetCpus", "0")]),
    (["--cpuset-mems", "0"], [("HostConfig", "CpusetMems", "0")]),
    (
        ["--device", "/dev/null:/dev/xnull:rw"],
        [
            (
                "HostConfig",
                "Devices",
                [
                    {
                        "PathOnHost": "/dev/null",
                        "PathInContainer": "/dev/xnull",
                        "CgroupPermissions": "rw",
                    }
                ],
            )
        ],
    ),
    (
        ["--device", "/dev/null"],
        [
            (
                "HostConfig",
                "Devices",
                [
                    {
                        "PathOnHost": "/dev/null",
                        "PathInContainer": "/dev/null",
                        "CgroupPermissions": "rwm",
                    }
                ],
            )
        ],
    ),
    (["--device-cgroup-rule", "c 1:3 mr"], [("HostConfig", "DeviceCgroupRules", ["c 1:3 mr"])]),
    (
        ["--device-read-bps", "/dev/sda:1mb"],
        [("HostConfig", "BlkioDeviceReadBps", [{"Path": "/dev/sda", "Rate": 1048576}])],
    ),
    (
        ["--device-read-iops", "/dev/sda:100"],
        [("HostConfig", "BlkioDeviceReadIOps", [{"Path": "/dev/sda", "Rate": 100}])],
    ),
    (
        ["--device-write-bps", "/dev/sda:2mb"],
        [("HostConfig", "BlkioDeviceWriteBps", [{"Path": "/dev/sda", "Rate": 2097152}])],
    ),
    (
        ["--device-write-iops", "/dev/sda:200"],
        [("HostConfig", "BlkioDeviceWriteIOps", [{"Path": "/dev/sda", "Rate": 200}])],
    ),
    (["--dns", "8.8.8.8"], [("HostConfig", "Dns", ["8.8.8.8"])]),
    (["--dns-option", "ndots:2"], [("HostConfig", "DnsOptions", ["ndots:2"])]),
    (["--dns-search", "example.com"], [("HostConfig", "DnsSearch", ["example.com"])]),
    (["--domainname", "dom"], [("Config", "Domainname", "dom")]),
    (
        ["--expose", "7000-7001/udp"],
        [("Config", "ExposedPorts", {"7000/udp": {}, "7001/udp": {}})],
    ),
    (
        ["--gpus", "all"],
        [
            (
                "HostConfig",
                "DeviceRequests",
                [
                    {
                        "Driver": "",
                        "Count": -1,
                        "DeviceIDs": None,
                        "Capabilities": [["gpu"]],
                        "Options": {},
                    }
                ],
            )
        ],
    ),
    (["--group-add", "10"], [("HostConfig", "GroupAdd", ["10"])]),
    (
        [
            "--health-cmd",
            "true",
            "--health-interval",
            "5s",
            "--health-retries",
            "3",
            "--health-start-period",
            "1s",
            "--health-timeout",
            "2s",
        ],
        [
            (
                "Config",
                "Healthcheck",
                {
                    "Test": ["CMD-SHELL", "true"],
                    "Interval": 5000000000,
                    "Timeout": 2000000000,
                    "StartPeriod": 1000000000,
                    "Retries": 3,
                },
            )
        ],
    ),
    (["--no-healthcheck"], [("Config", "Healthcheck", {"Test": ["NONE"]})]),
    (["--ipc", "shareable"], [("HostConfig", "IpcMode", "shareable")]),
    (["--isolation", "default"], [("HostConfig", "Isolation", "default")]),
    (["--kernel-memory", "10m"], [("HostConfig", "KernelMemory", 10485760)]),
    (
        ["--log-driver", "json-file", "--log-opt", "max-size=10m"],
        [("HostConfig", "LogConfig", {"Type": "json-file", "Config": {"max-size": "10m"}})],
    ),
    (["--log-driver", "none"], [("HostConfig", "LogConfig", {"Type": "none", "Config": {}})]),
    (["--mac-address", "92:d0:c6:0a:29:33"], [("Config", "MacAddress", "92:d0:c6:0a:29:33")]),
    (
        ["-m", "64m", "--memory-reservation", "32m", "--memory-swap", "128m"],
        [
            ("HostConfig", "Memory", 67108864),
            ("HostConfig", "MemoryReservation", 33554432),
            ("HostConfig", "MemorySwap", 134217728),
        ],
    ),
    (["--memory-swappiness", "10"], [("HostConfig", "MemorySwappiness", 10)]),
    (["--memory-swappiness", "-1"], [("HostConfig", "MemorySwappiness", None)]),
    (["--oom-kill-disable"], [("HostConfig", "OomKillDisable", True)]),
    (["--oom-score-adj", "100"], [("HostConfig", "OomScoreAdj", 100)]),
    (
        ["--pid", "host"],
        [("HostConfig", "PidMode", "host"), ("HostConfig", "SecurityOpt", ["label=disable"])],
    ),
    (["--pids-limit", "50"], [("HostConfig", "PidsLimit", 50)]),
    (["--pids-limit", "-1"], [("HostConfig", "PidsLimit", None)]),
    (["-P"], [("HostConfig", "PublishAllPorts", True)]),
    (
        ["--security-opt", "no-new-privileges", "--ipc", "host"],
        [("HostConfig", "SecurityOpt", ["no-new-privileges", "label=disable"])],
    ),
    (
        ["--security-opt", "systempaths=unconfined"],
        [
            ("HostConfig", "SecurityOpt", None),
            ("HostConfig", "MaskedPaths", []),
            ("HostConfig", "ReadonlyPaths", []),
        ],
    ),
    (["--shm-size", "32m"], [("HostConfig", "ShmSize", 33554432)]),
    (["--storage-opt", "size=1G"], [("HostConfig", "StorageOpt", {"size": "1G"})]),
    (
        ["--sysctl", "net.core.somaxconn=1024"],
        [("HostConfig", "Sysctls", {"net.core.somaxconn": "1024"})],
    ),
    (
        ["--ulimit", "nofile=1024:2048", "--ulimit", "nproc=64"],
        [
            (
                "HostConfig",
                "Ulimits",
                [
                    {"Name": "nofile", "Hard": 2048, "Soft": 1024},
                    {"Name": "nproc", "Hard": 64, "Soft": 64},
                ],
            )
        ],
    ),
    (["--userns", "host"], [("HostConfig", "UsernsMode", "host")]),
    (["--uts", "host"], [("HostConfig", "UTSMode", "host")]),
    (["--volume-driver", "local"], [("HostConfig", "VolumeDriver", "local")]),
    (["--runtime", "runc"], [("HostConfig", "Runtime", "runc")]),
    (["--network", "none"], [("HostConfig", "NetworkMode", "none")]),
    (["--link", "other:alias"], [("HostConfig", "Links", ["other:alias"])]),
    (["--cidfile", "CID"], [("HostConfig", "ContainerIDFile", "CID")]),
    (
        ["-i"],
        [
            ("Config", "OpenStdin", True),
            ("Config", "AttachStdin", True),
            ("Config", "StdinOnce", True),
        ],
    ),
    (["--platform", "linux/amd64", "--pull", "missing"], [("HostConfig", "Memory", 0)]),
    (["--sig-proxy=false", "--detach-keys", "ctrl-x", "--disable-content-trust"], []),
]


@pytest.mark.parametrize(("flags", "expected"), RECORDED, ids=[" ".join(f) for f, _ in RECORDED])
def test_each_flag_is_recorded_as_the_engine_records_it(
    cli, tmp_path, monkeypatch, flags, expected
):
    monkeypatch.chdir(tmp_path)
    assert cli("create", "--name", "other", "base", "true").code == 0
    cmd = "run" if "--sig-proxy=false" in flags else "create"
    extra = ["-d"] if cmd == "run" else []
    r = cli(cmd, *extra, "--name", "rfx", *flags, "base", "true")
    assert r.code == 0, r.err
    info = _inspect(cli, "rfx")
    for section, key, value in expected:
        assert info[section][key] == value, (section, key)


#: (flags, exit code, stderr) as the 20.10 client and engine print them
BAD = [
    (["--ulimit", "bogus"], 125, 'invalid argument "bogus" for "--ulimit" flag: invalid ulimit argument: bogus'),
    (["--ulimit", "nofile=a"], 125, 'invalid argument "nofile=a" for "--ulimit" flag: strconv.ParseInt: parsing "a": invalid syntax'),
    (["--ulimit", "nofile=2:1"], 125, 'invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1'),
    (["--env-file", "/nonexistent"], 125, "dockerlayers: open /nonexistent: no such file or directory."),
    (["--label-file", "/nonexistent"], 125, "dockerlayers: open /nonexistent: no such file or directory."),
    (["--health-interval", "xyz"], 125, 'invalid argument "xyz" for "--health-interval" flag: time: invalid duration "xyz"'),
    (["--health-interval", "-1s"], 125, "dockerlayers: --health-interval cannot be negative."),
    (["--health-retries", "-1"], 125, "dockerlayers: --health-retries cannot be negative."),
    (["--no-healthcheck", "--health-cmd", "x"], 125, "dockerlayers: --no-healthcheck conflicts with --health-* options."),
    (["--device", "bad"], 125, "dockerlayers: bad is not an absolute path."),
    (["--device", "/dev/null:rel"], 125, "dockerlayers: rel is not an absolute path."),
    (["--device", "/dev/null:/x:bogus"], 125, "dockerlayers: bad mode specified: bogus."),
    (["--device", "a:b:c:d"], 125, "dockerlayers: bad format for path: a:b:c:d."),
    (["--add-host", "bad"], 125, 'invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"'),
    (["--add-host", "h:notip"], 125, 'invalid argument "h:notip" for "--add-host" flag: invalid IP address in add-host: "notip"'),
    (["--memory-swap", "1g"], 1, "Error response from daemon: You should always set the Memory limit when using Memoryswap limit, see usage"),
    (["-m", "1g", "--memory-swap", "512m"], 1, "Error response from daemon: Minimum memoryswap limit should be larger than memory limit, see usage"),
    (["--memory-reservation", "2g", "-m", "1g"], 1, "Error response from daemon: Minimum memory limit can not be less than memory reservation limit, see usage"),
    (["--cpus", "1", "--cpu-period", "100"], 1, "Error response from daemon: Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    (["--cpus", "1", "--cpu-quota", "100"], 1, "Error response from daemon: Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    (["--isolation", "bogus"], 1, "Error response from daemon: Invalid isolation: \"bogus\" - linux only supports 'default'"),
    (["--ipc", "container:nonexist"], 1, "Error response from daemon: No such container: nonexist"),
    (["--pid", "container:nonexist"], 1, "Error response from daemon: No such container: nonexist"),
    (["--pid", "bogus"], 125, "dockerlayers: --pid: invalid PID mode."),
    (["--uts", "bogus"], 125, "dockerlayers: --uts: invalid UTS mode."),
    (["--userns", "bogus"], 125, "dockerlayers: --userns: invalid USER mode."),
    (["--cgroupns", "bogus"], 125, "dockerlayers: --cgroupns: invalid CGROUP mode."),
    (["--log-opt", "foo"], 1, "Error response from daemon: unknown log opt 'foo' for json-file log driver"),
    (["--log-driver", "none", "--log-opt", "a=b"], 125, "dockerlayers: invalid logging opts for driver none."),
    (["--log-driver", "bogus"], 1, 'Error response from daemon: error looking up logging plugin bogus: plugin "bogus" not found'),
    (["--memory-swappiness", "200"], 125, "dockerlayers: invalid value: 200. Valid memory swappiness range is 0-100."),
    (["--oom-score-adj", "2000"], 1, "Error response from daemon: Invalid value 2000, range for oom score adj is [-1000, 1000]"),
    (["--blkio-weight", "70000"], 125, 'invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range'),
    (["--blkio-weight-device", "bad"], 125, 'invalid argument "bad" for "--blkio-weight-device" flag: bad format: bad'),
    (["--device-read-bps", "/dev/sda:zz"], 125, 'invalid argument "/dev/sda:zz" for "--device-read-bps" flag: invalid rate for device: /dev/sda:zz. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb'),
    (["--device-read-iops", "/dev/sda:zz"], 125, 'invalid argument "/dev/sda:zz" for "--device-read-iops" flag: invalid rate for device: /dev/sda:zz. The correct format is <device-path>:<number>. Number must be a positive integer'),
    (["--device-cgroup-rule", "bad"], 125, "invalid argument \"bad\" for \"--device-cgroup-rule\" flag: invalid device cgroup format 'bad'"),
    (["--dns", "notanip"], 125, 'invalid argument "notanip" for "--dns" flag: notanip is not an ip address'),
    (["--dns-search", ".bad"], 125, 'invalid argument ".bad" for "--dns-search" flag: .bad is not a valid domain'),
    (["--sysctl", "bad"], 125, "invalid argument \"bad\" for \"--sysctl\" flag: sysctl 'bad' is not whitelisted"),
    (["--sysctl", "kernel.foo=1"], 125, "invalid argument \"kernel.foo=1\" for \"--sysctl\" flag: sysctl 'kernel.foo=1' is not whitelisted"),
    (["--security-opt", "bogus"], 125, 'dockerlayers: Invalid --security-opt: "bogus".'),
    (["--security-opt", "seccomp=/nonexistent"], 125, "dockerlayers: opening seccomp profile (/nonexistent) failed: open /nonexistent: no such file or directory."),
    (["--storage-opt", "bad"], 125, "dockerlayers: invalid storage option."),
    (["--mac-address", "zz"], 125, "dockerlayers: zz is not a valid mac address."),
    (["--expose", "1:2"], 125, "dockerlayers: invalid port format for --expose: 1:2."),
    (["--expose", "abc"], 125, 'dockerlayers: invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax.'),
    (["--link", "bad:a:b"], 125, 'invalid argument "bad:a:b" for "--link" flag: bad format for links: bad:a:b'),
    (["--link", "other"], 1, "Error response from daemon: could not get container for other: No such container: other"),
    (["--volumes-from", "nonexist"], 1, "Error response from daemon: No such container: nonexist"),
    (["--gpus", "bogus"], 125, 'invalid argument "bogus" for "--gpus" flag: count must be an integer: strconv.Atoi: parsing "bogus": invalid syntax'),
    (["--attach", "bogus"], 125, 'invalid argument "bogus" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'),
    (["--shm-size", "zz"], 125, "invalid argument \"zz\" for \"--shm-size\" flag: invalid size: 'zz'"),
    (["--kernel-memory", "zz"], 125, "invalid argument \"zz\" for \"--kernel-memory\" flag: invalid size: 'zz'"),
    (["--runtime", "bogus"], 1, "Error response from daemon: Unknown runtime specified bogus"),
    (["--stop-timeout", "x"], 125, 'invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax'),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "code", "err"), BAD, ids=[" ".join(f) for f, _, _ in BAD])
def test_bad_values_get_dockers_texts(cli, flags, code, err):
    assert cli("pull", "base").code == 0
    r = cli("create", *flags, "base", "true")
    assert r.code == code
    if code == 125:
        assert r.err == f"{err}\nSee 'dockerlayers create --help'.\n"
    else:
        assert r.err == err + "\n"
    assert cli("ps", "-aq").out == ""


def test_env_file_and_label_file_follow_dockers_line_rules(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FROM_HOST", "h")
    monkeypatch.delenv("NOT_SET", raising=False)
    env = tmp_path / "env"
    env.write_bytes(
        b"\xef\xbb\xbf# comment\n\nA=1\n  B=  spaced \nFROM_HOST\nNOT_SET\nC=a=b\r\nEMPTY=\n"
    )
    labels = tmp_path / "labels"
    labels.write_text("tier=web\n#x\nbare\nowner=me\n")
    r = cli(
        "create", "--name", "rfx", "--env-file", str(env), "-e", "A=2", "--label-file",
        str(labels), "-l", "tier=db", "base", "true",
    )  # fmt: skip
    assert r.code == 0, r.err
    cfg = _inspect(cli, "rfx")["Config"]
    # the files' lines first, then -e (both kept, as the CLI sends them)
    assert [e for e in cfg["Env"] if not e.startswith("PATH=")] == [
        "A=1",
        "B=  spaced ",
        "FROM_HOST=h",
        "C=a=b",
        "EMPTY=",
        "A=2",
    ]
    assert cfg["Labels"] == {"tier": "db", "owner": "me"}
    bad = tmp_path / "bad"
    bad.write_text("export D=x\n")
    r = cli("create", "--env-file", str(bad), "base", "true")
    assert r.code == 125
    assert r.err.startswith(
        "dockerlayers: poorly formatted environment: variable 'export D' contains whitespaces.\n"
    )
    bad.write_text("=x\n")
    r = cli("run", "--env-file", str(bad), "base", "true")
    assert r.err.startswith(
        "dockerlayers: poorly formatted environment: no variable name on line '=x'.\n"
        "See 'dockerlayers run --help'."
    )


def test_cidfile_is_written_and_an_existing_one_refused(cli, tmp_path):
    cid = tmp_path / "cid"
    r = cli("create", "--cidfile", str(cid), "base", "true")
    assert r.code == 0
    assert cid.read_text() == r.out.strip()
    r = cli("create", "--cidfile", str(cid), "base", "true")
    assert (r.code, r.err) == (
        1,
        f"container ID file found, make sure the other container isn't running or delete {cid}\n",
    )
    r = cli("run", "--cidfile", str(cid), "base", "true")
    assert r.code == 125
    assert r.err == (
        "dockerlayers: container ID file found, make sure the other container isn't running "
        f"or delete {cid}.\nSee 'dockerlayers run --help'.\n"
    )
    assert len(cli("ps", "-aq").out.split()) == 1
    fresh = tmp_path / "run-cid"
    r = cli("run", "-d", "--cidfile", str(fresh), "base", "true")
    assert fresh.read_text() == r.out.strip()


def test_log_driver_none_keeps_nothing_and_logs_says_so(cli):
    assert cli("run", "--name", "rfq", "--log-driver", "none", "base", "echo", "hi").code == 0
    r = cli("logs", "rfq")
    assert (r.code, r.err) == (
        1,
        "Error response from daemon: configured logging driver does not support reading\n",
    )
    assert cli("run", "--name", "rfl", "--log-driver", "local", "base", "echo", "hi").out == "hi\n"
    assert cli("logs", "rfl").out == "hi\n"


def test_attach_shows_the_streams_asked_for(cli):
    assert cli("pull", "base").code == 0
    script = "echo to-out; echo to-err >&2; exit 3"
    r = cli("run", "-a", "stdout", "base", "sh", "-c", script)
    assert (r.code, r.out, r.err) == (3, "to-out\n", "")
    r = cli("run", "-a", "stderr", "base", "sh", "-c", script)
    assert (r.code, r.out, r.err) == (3, "", "to-err\n")
    r = cli("run", "-d", "-a", "stdout", "base", "true")
    assert (r.code, r.err) == (1, "Conflicting options: -a and -d\n")


def test_pull_policies(cli):
    r = cli("create", "--pull", "never", "nothere:1", "true")
    assert (r.code, r.err) == (1, "Error response from daemon: No such image: nothere:1\n")
    r = cli("run", "--pull", "never", "nothere:1", "true")
    assert r.code == 125
    assert r.err == (
        "dockerlayers: Error response from daemon: No such image: nothere:1.\n"
        "See 'dockerlayers run --help'.\n"
    )
    r = cli("create", "--pull", "always", "base", "true")
    assert r.code == 0
    assert r.err == "Status: Downloaded newer image for base:latest\n"
    r = cli("create", "--pull", "always", "base", "true")
    assert r.err == "Status: Image is up to date for base:latest\n"


def test_platform_is_checked_against_the_image(cli):
    assert cli("create", "--platform", "linux/amd64", "base", "true").code == 0
    r = cli("create", "--platform", "linux/arm64", "--pull", "never", "base", "true")
    assert r.code == 1
    assert r.err == (
        "Error response from daemon: image with reference base was found but does not match "
        "the specified platform: wanted linux/arm64, actual: linux/amd64\n"
    )
    r = cli("create", "--platform", "linux/a b", "base", "true")
    assert r.code == 1
    assert "error parsing specified platform" in r.err


def test_volumes_from_shares_the_volumes_read_only_when_asked(cli):
    assert cli("create", "--name", "src", "-v", "/data", "base", "true").code == 0
    r = cli("run", "--rm", "--volumes-from", "src", "base", "sh", "-c", "echo shared > /data/f")
    assert r.code == 0, r.err
    r = cli(
        "run", "--name", "ro", "--volumes-from", "src:ro", "base", "sh", "-c",
        "cat /data/f; echo x > /data/g",
    )  # fmt: skip
    assert (r.code, r.out) == (1, "shared\n")
    assert "Read-only file system" in r.err
    info = _inspect(cli, "ro")
    assert info["HostConfig"]["VolumesFrom"] == ["src:ro"]
    src = _inspect(cli, "src")["Mounts"][0]
    assert [(m["Name"], m["RW"]) for m in info["Mounts"]] == [(src["Name"], False)]


def test_oom_kill_disable_without_memory_warns(cli):
    assert cli("pull", "base").code == 0
    r = cli("create", "--oom-kill-disable", "base", "true")
    assert r.err == (
        "WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' "
        "limit may be dangerous.\n"
    )
    r = cli("create", "--dns", "127.0.0.1", "base", "true")
    assert r.err == "WARNING: Localhost DNS setting (--dns=127.0.0.1) may fail in containers.\n"
