"""Applets: outputs and busybox's error texts; every change lands in the RootFS."""

import os
import stat

import pytest

from dockerlayers import platform


@pytest.fixture
def tree(root):
    (root / "d/sub").mkdir(parents=True)
    (root / "d/f").write_text("hi\n")
    os.symlink("f", root / "d/l")
    (root / "t.txt").write_text("one\ntwo\nthree\nfour\n")
    # modes set, not left to the host's umask (Emscripten's file system ignores it)
    for p, mode in (("d", 0o755), ("d/sub", 0o755), ("d/f", 0o644), ("t.txt", 0o644)):
        os.chmod(root / p, mode)
    return root


@pytest.mark.parametrize(
    "script, out",
    [
        ("echo -n a; echo b", "ab\n"),
        ("echo -e 'a\\tb'", "a\tb\n"),
        ("echo 'a\\tb'", "a\\tb\n"),
        ("printf '%s-%d\\n' a 5 b 6", "a-5\nb-6\n"),
        ("printf '%5.2f|%x|%o|%c|%%|%b\\n' 3.14159 255 8 hello 'a\\tb'", " 3.14|ff|10|h|%|a\tb\n"),
        ("cat /d/f /d/l", "hi\nhi\n"),
        ("echo piped | cat - /d/f", "piped\nhi\n"),
        ("ls /d", "f\nl\nsub\n"),
        ("ls -1 /d/f /d", "/d/f\n\n/d:\nf\nl\nsub\n"),
        ("ls -a /d/sub", ".\n..\n"),
        ("ls -R /d", "/d:\nf\nl\nsub\n\n/d/sub:\n"),
        ("ls -d /d", "/d\n"),
        ("cd /d && ls", "f\nl\nsub\n"),
        ("head -n 2 /t.txt", "one\ntwo\n"),
        ("head -1 /t.txt", "one\n"),
        ("tail -n 1 /t.txt", "four\n"),
        ("tail -n +3 /t.txt", "three\nfour\n"),
        ("head -c 2 /t.txt", "on"),
        ("wc -l /t.txt", "4 /t.txt\n"),
        ("wc -l < /t.txt", "4\n"),
        ("wc /d/f", "        1         1         3 /d/f\n"),
        ("wc < /d/f", "        1         1         3\n"),
        ("echo 'a b' | wc -w", "2\n"),
        ("grep t /t.txt", "two\nthree\n"),
        ("grep -v t /t.txt", "one\nfour\n"),
        ("grep -c o /t.txt", "3\n"),
        ("grep -i TWO /t.txt", "two\n"),
        ("grep -q one /t.txt && echo found", "found\n"),
        ("grep '^t.*e$' /t.txt", "three\n"),
        ("grep -E 'one|four' /t.txt", "one\nfour\n"),
        ("grep -F '.*' /t.txt; echo $?", "1\n"),
        ("grep -n four /t.txt", "4:four\n"),
        ("seq 3", "1\n2\n3\n"),
        ("seq 2 2 7", "2\n4\n6\n"),
        ("basename /a/b.txt .txt; dirname /a/b; dirname b", "b\n/a\n.\n"),
        ("pwd; cd /d; pwd; /bin/pwd", "/\n/d\n/d\n"),
        ("id; whoami; id -u", "uid=0(root) gid=0(root) groups=0(root)\nroot\n0\n"),
        ("uname; uname -n; uname -m", "Linux\nabc123\nx86_64\n"),
        ("hostname", "abc123\n"),
        ("true; echo $?; false; echo $?; /bin/true; echo $?", "0\n1\n0\n"),
        ("env -i A=1 env", "A=1\n"),
        ("env -i A=1 printenv A", "1\n"),
        ("date", "Mon Jan  1 00:00:00 UTC 2024\n"),
        ("date -u +%Y-%m-%dT%H:%M:%S%z", "2024-01-01T00:00:00+0000\n"),
        ("date +%s", "1704067200\n"),
        ("stat -c '%n %s %a %F' /d/f /d/l", "/d/f 3 644 regular file\n/d/l 1 777 symbolic link\n"),
        ("find /d", "/d\n/d/f\n/d/l\n/d/sub\n"),
        ("find /d -type f -name 'f*'", "/d/f\n"),
        ("find /d -type d", "/d\n/d/sub\n"),
        ("cd /d; find . -name l", "./l\n"),
        ("echo x | tee /tmp/tee; cat /tmp/tee", "x\nx\n"),
        ("[ -f /d/f ] && [ -d /d ] && [ -L /d/l ] && [ ! -e /nope ] && echo ok", "ok\n"),
        ("test 2 -gt 1 && test abc = abc && test -n x && test -z '' && echo ok", "ok\n"),
        ("[ 1 -lt 2 -a 3 -lt 4 ] && echo and; [ 1 -gt 2 -o 3 -lt 4 ] && echo or", "and\nor\n"),
        ("[ -x /bin/busybox ] && [ -s /d/f ] && echo ok", "ok\n"),
        ("kill -l 15", "TERM\n"),
    ],
)
def test_output(sh, tree, script, out):
    r = sh(script)
    assert r.stdout == out, r.stderr
    assert r.stderr == ""


def test_stat_of_folder_size(sh, tree):
    # a folder's size depends on the host filesystem; just check the shape
    r = sh("stat -c '%F %a' /d")
    assert r.stdout == "directory 755\n"


@pytest.mark.parametrize(
    "script, err",
    [
        ("cat /nof", "cat: can't open '/nof': No such file or directory\n"),
        ("cat /d", "cat: read error: Is a directory\n"),
        ("rm /nof", "rm: can't remove '/nof': No such file or directory\n"),
        ("rm /d", "rm: '/d' is a directory\n"),
        ("rmdir /d", "rmdir: '/d': Directory not empty\n"),
        ("rmdir /nof", "rmdir: '/nof': No such file or directory\n"),
        ("mkdir /d", "mkdir: can't create directory '/d': File exists\n"),
        ("mkdir /nod/x", "mkdir: can't create directory '/nod/x': No such file or directory\n"),
        ("touch /nod/x", "touch: /nod/x: No such file or directory\n"),
        ("cp /nof /x", "cp: can't stat '/nof': No such file or directory\n"),
        ("cp /d /x", "cp: omitting directory '/d'\n"),
        ("mv /nof /x", "mv: can't rename '/nof': No such file or directory\n"),
        ("ln -s f /d/l", "ln: /d/l: File exists\n"),
        ("chmod 755 /nof", "chmod: /nof: No such file or directory\n"),
        ("chmod zz /d/f", "chmod: invalid mode 'zz'\n"),
        ("ls /nof", "ls: /nof: No such file or directory\n"),
        ("head /nof", "head: /nof: No such file or directory\n"),
        ("sleep abc", "sleep: invalid number 'abc'\n"),
        ("grep x /nof", "grep: /nof: No such file or directory\n"),
        ("test 1 -lt", "sh: -lt: argument expected\n"),
        ("/bin/test 1 -lt", "test: -lt: argument expected\n"),
        ("[ 1 = 1", "sh: missing ]\n"),
        ("/bin/[ 1 = 1", "[: missing ]\n"),
    ],
)
def test_error_texts(sh, tree, script, err):
    r = sh(script)
    assert r.stderr == err
    assert r.proc.exit_code != 0


def test_rm_f_is_quiet_and_rm_r_removes_trees(sh, tree):
    r = sh("rm -f /nof; rm -rf /d; echo $?")
    assert (r.stdout, r.stderr) == ("0\n", "")
    assert not (tree / "d").exists()


def test_mkdir_p_and_rmdir(sh, tree):
    r = sh("mkdir -p /a/b/c && mkdir -p /a/b && rmdir /a/b/c && echo ok")
    assert r.stdout == "ok\n"
    assert (tree / "a/b").is_dir() and not (tree / "a/b/c").exists()


def test_cp_mv_ln(sh, tree):
    r = sh(
        "cp /d/f /copy && cp -r /d /d2 && mv /copy /moved"
        " && ln -s /moved /link && ln /t.txt /hard && cat /link"
    )
    assert r.stdout == "hi\n", r.stderr
    assert (tree / "d2/sub").is_dir() and os.readlink(tree / "d2/l") == "f"
    assert not (tree / "copy").exists() and (tree / "moved").read_text() == "hi\n"
    # the same inode: the OS's, or the model's where the file system has no hard links
    ino = lambda name: platform.inode_key(os.lstat(tree / name))  # noqa: E731
    assert ino("hard") == ino("t.txt")


def test_cp_into_directory_and_preserve(sh, tree):
    os.chmod(tree / "d/f", 0o600)
    r = sh("mkdir /dst && cp -p /d/f /dst && cp -a /d /dst/")
    assert r.proc.exit_code == 0, r.stderr
    assert stat.S_IMODE(os.stat(tree / "dst/f").st_mode) == 0o600
    assert os.path.islink(tree / "dst/d/l")


def test_chmod_forms(sh, tree):
    r = sh(
        "chmod 700 /d/f && stat -c %a /d/f && chmod go+r /d/f && stat -c %a /d/f"
        " && chmod a-w,u+x /t.txt && stat -c %a /t.txt"
    )
    assert r.stdout == "700\n744\n544\n"


def test_chown_numeric(sh, tree):
    uid, gid = os.getuid(), os.getgid()
    r = sh(f"chown {uid}:{gid} /d/f && stat -c '%u %g' /d/f")
    assert r.stdout == f"{uid} {gid}\n"


def test_touch_sets_the_process_time(sh, tree):
    r = sh("sleep 10; touch /new /d/f")
    assert r.proc.exit_code == 0
    assert os.stat(tree / "new").st_mtime == 1704067210.0
    assert os.stat(tree / "d/f").st_mtime == 1704067210.0


def test_ls_long_format(sh, tree):
    os.utime(tree / "d/f", (1704067000, 1704067000))
    r = sh("ls -l /d/f")
    user = "root" if os.getuid() == 0 else str(os.getuid())
    group = "root" if os.getgid() == 0 else str(os.getgid())
    assert r.stdout == f"-rw-r--r--    1 {user:<8} {group:<8}         3 Dec 31 23:56 /d/f\n"


def test_du_s(sh, tree):
    r = sh("du -s /d")
    size, name = r.stdout.split()
    assert name == "/d" and int(size) >= 0


def test_kill_applet_signals_pid1(spawn):
    r = spawn(["sh", "-c", "trap 'echo term; exit 0' TERM; /bin/kill 1; sleep 100"])
    r.proc.run(1704067200.0)
    assert r.stdout == "term\n" and r.proc.exit_code == 0


def test_sleep_usage(sh):
    r = sh("sleep")
    assert r.stderr == (
        "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\n\n"
        "Usage: sleep [N]...\n\nPause for a time equal to the total of the args given,"
        " where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours,"
        " or (d)ays\n"
    )
    assert r.proc.exit_code == 1


def test_sleep_units_and_sum(sh):
    r = sh("sleep 1m 1.5; date +%s")
    assert r.stdout == f"{1704067200 + 61}\n"
