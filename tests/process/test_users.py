"""Users: specs resolved as moby/sys/user resolves them, `id`/`whoami` as busybox prints them
(outputs recorded on the real engine with busybox 1.35, tests/conformance/scenarios/users.scn),
processes running as their uid/gid."""

from __future__ import annotations

import pytest

from dockerlayers.process.users import (
    ERR_RANGE,
    ExecUser,
    UserError,
    get_exec_user,
)

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n"
)
GROUP = "root:x:0:\napp:x:1000:\nstaff:x:50:app\nzz:x:2000:app\naa:x:7:app\nnogroup:x:65534:\n"


@pytest.fixture
def users_fs(fs):
    fs.write_text("/etc/passwd", PASSWD)
    fs.write_text("/etc/group", GROUP)
    fs.chmod("/tmp", 0o1777)  # as in the images
    return fs


@pytest.mark.parametrize(
    ("spec", "uid", "gid", "sgids", "home"),
    [
        (None, 0, 0, [], "/root"),
        ("", 0, 0, [], "/root"),
        ("root", 0, 0, [], "/root"),
        ("0", 0, 0, [], "/root"),
        ("0:1234", 0, 1234, [], "/root"),
        ("root:0", 0, 0, [], "/root"),
        (":5", 0, 5, [], "/root"),
        ("1234", 1234, 0, [], "/"),  # a number needs no entry: gid 0, home /
        ("1234:5678", 1234, 5678, [], "/"),
        ("app", 1000, 1000, [50, 2000, 7], "/home/app"),  # /etc/group's order
        ("1000", 1000, 1000, [50, 2000, 7], "/home/app"),
        ("app:staff", 1000, 50, [], "/home/app"),  # an explicit group: no supplementary
        ("1000:2000", 1000, 2000, [], "/home/app"),
        ("nobody", 65534, 65534, [], "/home"),
        ("nobody:nogroup", 65534, 65534, [], "/home"),
    ],
)
def test_specs_resolve_as_moby_sys_user(users_fs, spec, uid, gid, sgids, home):
    u = get_exec_user(users_fs, spec)
    assert (u.uid, u.gid, u.sgids, u.home) == (uid, gid, sgids, home)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nobody2", "unable to find user nobody2: no matching entries in passwd file"),
        ("nobody2:root", "unable to find user nobody2: no matching entries in passwd file"),
        ("abc:5", "unable to find user abc: no matching entries in passwd file"),
        ("0:nogroupx", "unable to find group nogroupx: no matching entries in group file"),
        ("app:nogroupx", "unable to find group nogroupx: no matching entries in group file"),
        ("99999999999", ERR_RANGE),
        ("0:99999999999", ERR_RANGE),
    ],
)
def test_missing_users_and_groups_fail_with_runcs_text(users_fs, spec, message):
    with pytest.raises(UserError) as e:
        get_exec_user(users_fs, spec)
    assert str(e.value) == message


def test_without_passwd_numbers_still_work_and_names_do_not(fs):
    fs.remove("/etc/passwd")
    fs.remove("/etc/group")
    assert get_exec_user(fs, "") == ExecUser(0, 0, [], "/")
    assert get_exec_user(fs, "5:6") == ExecUser(5, 6, [], "/")
    with pytest.raises(UserError, match="unable to find user root: no matching entries"):
        get_exec_user(fs, "root")


def test_groups_are_the_kernels_sorted_list(users_fs):
    assert get_exec_user(users_fs, "app").groups == [7, 50, 1000, 2000]
    assert get_exec_user(users_fs, "1234").groups == [0]


def _cred(fs, spec):
    return get_exec_user(fs, spec).to_state()


@pytest.mark.parametrize(
    ("spec", "script", "out", "err", "code"),
    [
        ("", "id", "uid=0(root) gid=0(root) groups=0(root)\n", "", 0),
        ("1234", "id", "uid=1234 gid=0(root) groups=0(root)\n", "", 0),
        (
            "1234:5678",
            "id; id -u; id -g; id -G",
            "uid=1234 gid=5678 groups=5678\n1234\n5678\n5678\n",
            "",
            0,
        ),
        ("1234:5", "id -un", "1234\n", "id: unknown ID 1234\n", 1),
        ("1234:5", "id -gn", "5\n", "id: unknown ID 5\n", 1),
        ("0:1234", "id", "uid=0(root) gid=1234 groups=1234\n", "", 0),
        (
            "app",
            "id; id -G; id -Gn; id app",
            "uid=1000(app) gid=1000(app) groups=7(aa),50(staff),1000(app),2000(zz)\n"
            "1000 7 50 2000\napp aa staff zz\n"
            "uid=1000(app) gid=1000(app) groups=1000(app),50(staff),2000(zz),7(aa)\n",
            "",
            0,
        ),
        ("app:staff", "id", "uid=1000(app) gid=50(staff) groups=50(staff)\n", "", 0),
        ("", "whoami", "root\n", "", 0),
        ("app", "whoami", "app\n", "", 0),
        ("1234", "whoami", "", "whoami: unknown uid 1234\n", 1),
        ("", "id nobody2", "", "id: unknown user nobody2\n", 1),
        ("", "id 0", "", "id: unknown user 0\n", 1),
    ],
)
def test_id_and_whoami_print_what_busybox_prints(users_fs, sh, spec, script, out, err, code):
    r = sh(script, user=_cred(users_fs, spec))
    assert (r.stdout, r.stderr, r.proc.exit_code) == (out, err, code)


@pytest.mark.parametrize("args", ["-n", "-r", "-ug", "-x"])
def test_id_refuses_what_busybox_refuses(users_fs, sh, args):
    r = sh(f"id {args}")
    assert r.proc.exit_code == 1
    assert "Usage: id [-ugGnr] [USER]" in r.stderr


def test_files_a_process_makes_are_its_uid_and_gid(users_fs, sh, fs):
    r = sh(
        "touch /tmp/f && mkdir /tmp/d && ln -s f /tmp/l && echo x > /tmp/r", user=_cred(fs, "app")
    )
    assert r.proc.exit_code == 0, r.stderr
    for p in ("/tmp/f", "/tmp/d", "/tmp/l", "/tmp/r"):
        st = fs.lstat(p)
        assert (st.st_uid, st.st_gid) == (1000, 1000), p
    # root with another group: the group is the process's
    sh("touch /tmp/g", user=_cred(fs, "0:1234"))
    st = fs.stat("/tmp/g")
    assert (st.st_uid, st.st_gid) == (0, 1234)


def test_a_setgid_folder_gives_its_group(users_fs, sh, fs):
    fs.mkdir("/shared")
    fs.chown("/shared", 0, 50)
    fs.chmod("/shared", 0o2777)
    r = sh("touch /shared/f && mkdir /shared/d", user=_cred(fs, "1234"))
    assert r.proc.exit_code == 0, r.stderr
    assert fs.stat("/shared/f").st_gid == 50
    assert fs.stat("/shared/d").st_gid == 50
    assert fs.stat("/shared/d").st_mode & 0o2000


@pytest.mark.parametrize(
    ("script", "err"),
    [
        ("echo x >> /etc/passwd", "sh: can't create /etc/passwd: Permission denied\n"),
        ("mkdir /d", "mkdir: can't create directory '/d': Permission denied\n"),
        ("rm /etc/passwd", "rm: can't remove '/etc/passwd': Permission denied\n"),
    ],
)
def test_an_unprivileged_process_gets_eacces_where_the_kernel_gives_it(
    users_fs, sh, fs, script, err
):
    before = fs.read_bytes("/etc/passwd")
    r = sh(script, user=_cred(fs, "1234"))
    assert (r.stderr, r.proc.exit_code) == (err, 1)
    assert fs.read_bytes("/etc/passwd") == before
    assert not fs.exists("/d")


def test_root_bypasses_permissions_but_not_a_missing_x_bit(users_fs, sh, fs):
    fs.chmod("/etc/passwd", 0o000)
    fs.write_bytes("/tmp/script", b"echo hi\n", 0o644)
    r = sh("cat /etc/passwd > /dev/null && echo >> /etc/passwd && echo ok; /tmp/script")
    assert r.stdout == "ok\n"
    assert "Permission denied" in r.stderr
    assert r.proc.exit_code == 126


def test_search_permission_on_the_way_and_read_permission_to_list(users_fs, sh, fs):
    fs.mkdir("/private", 0o700)
    fs.write_bytes("/private/secret", b"s\n", 0o644)
    fs.mkdir("/listless", 0o711)
    fs.write_bytes("/listless/known", b"k\n", 0o644)
    user = _cred(fs, "app")
    assert sh("cat /private/secret", user=user).proc.exit_code == 1
    r = sh("ls /private", user=user)
    assert (r.stderr, r.proc.exit_code) == ("ls: can't open '/private': Permission denied\n", 1)
    # x without r: a known name is reachable, the folder cannot be listed
    assert sh("cat /listless/known", user=user).stdout == "k\n"
    assert sh("ls /listless", user=user).proc.exit_code == 1


def test_sticky_tmp_protects_other_users_files(users_fs, sh, fs):
    sh("touch /tmp/mine", user=_cred(fs, "app"))
    r = sh("rm /tmp/mine", user=_cred(fs, "1234"))
    assert r.proc.exit_code == 1
    assert fs.exists("/tmp/mine")
    assert sh("rm /tmp/mine", user=_cred(fs, "app")).proc.exit_code == 0


def test_chmod_and_chown_need_ownership_or_root(users_fs, sh, fs):
    user = _cred(fs, "app")
    r = sh("chmod 777 /etc/passwd", user=user)
    assert r.proc.exit_code == 1
    assert fs.stat("/etc/passwd").st_mode & 0o777 == 0o644
    sh("touch /tmp/f && chmod 600 /tmp/f", user=user)
    assert fs.stat("/tmp/f").st_mode & 0o777 == 0o600
    assert sh("chown 0 /tmp/f", user=user).proc.exit_code == 1
    assert sh("chown 0:0 /tmp/f").proc.exit_code == 0
    assert (fs.stat("/tmp/f").st_uid, fs.stat("/tmp/f").st_gid) == (0, 0)


def test_test_rwx_ask_as_the_process(users_fs, sh, fs):
    script = (
        "test -r /etc/passwd && echo r; test -w /etc/passwd && echo w; test -x /bin/sh && echo x"
    )
    assert sh(script).stdout == "r\nw\nx\n"
    assert sh(script, user=_cred(fs, "app")).stdout == "r\nx\n"


def test_the_user_survives_a_saved_state(users_fs, spawn, fs):
    from dockerlayers.process import Process

    r = spawn(["sh", "-c", "sleep 1; id -u; touch /tmp/late"], user=_cred(fs, "app"))
    r.proc.run(0)
    state = r.proc.to_state()
    out = []
    again = Process.from_state(state, rootfs=fs, output=lambda s, d: out.append(d))
    again.run(2e9)
    assert b"".join(out) == b"1000\n"
    assert fs.stat("/tmp/late").st_uid == 1000


def test_states_saved_before_users_run_as_root(users_fs, spawn, fs):
    from dockerlayers.process import Process

    r = spawn(["sh", "-c", "sleep 1; id -u"])
    state = r.proc.to_state()
    del state["user"]
    out = []
    again = Process.from_state(state, rootfs=fs, output=lambda s, d: out.append(d))
    again.run(2e9)
    assert b"".join(out) == b"0\n"
