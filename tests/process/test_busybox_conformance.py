"""Differential test: the same scripts under the real busybox ash (when installed) and
under the model, in the same folder layout; outputs and exit codes must match."""

import os
import shutil
import subprocess

import pytest

BUSYBOX = shutil.which("busybox")
pytestmark = pytest.mark.skipif(BUSYBOX is None, reason="busybox is not installed")

SCRIPTS = [
    "echo a; echo b >&2; exit 3",
    "x=5; echo ${x} ${y:-d} ${#x} $((x*3)) ${x:+alt}",
    "f=a.tar.gz; echo ${f%.*} ${f%%.*} ${f#*.} ${f##*.}",
    "for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done",
    "i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done",
    "case foo in f*) echo yes;; *) echo no;; esac",
    "false && echo x || echo y; ! true; echo $?",
    'x=$(echo a; echo b); echo "$x"; echo $x',
    "printf '%s|%5s|%-3d|%x\\n' a b 7 255",
    "echo 'a  b' \"c  $HOME\" \\$x",
    "set -- 'a b' c; echo $#; for x in \"$@\"; do echo [$x]; done",
    "set -e; echo 1; false; echo 2",
    "trap 'echo bye' EXIT; echo hi; exit 2",
    "mkdir -p w/x; echo data > w/x/f; cat w/x/f; ls w; ls w/x; rm -r w; ls",
    "echo one > f; echo two >> f; wc -l < f; grep -c o f; head -n 1 f; tail -n 1 f",
    "cat nofile; echo $?",
    "rm nofile; rmdir nodir; mkdir -p d; mkdir d; echo $?",
    "nosuchcmd; echo $?",
    "cd nodir; echo $?",
    "echo $((7/2)) $((-7%3)) $((1<<4)) $((2>1&&0))",
    "x=1; (x=2; echo $x); echo $x",
    "f() { echo in $1; return 4; }; f arg; echo $?",
    "echo abc | grep -q b && echo found",
    "seq 3 | while read n; do echo n=$n; done",
    "if [ -d . ] && [ ! -f nope ]; then echo ok; fi",
    "echo ${unset?oops}",
    "fi",
    "echo $((1+))",
    "basename /a/b/c.txt .txt; dirname /a/b/c.txt",
    "trap 'echo t' TERM INT; trap; trap - INT; trap",
    "type cd; command -v cd",
    "echo x > f; ln -s f l; cat l; ln -s f l; echo $?",
    "printf '%d\\n' abc; echo $?",
    "echo $- ; set -e; echo $-; set -x; echo $-",
    "echo abc | grep -o b; echo $?",
    "return 3; echo $?",
    "test 1 -lt; [ 1 = 1; printf",
    "sleep 0.1 & wait $!; echo $?",
    "echo 'a b c' > f; read x y < f; echo [$x] [$y]",
    "cat <<EOF\nx=$((1+1)) $(echo sub)\nEOF",
    "IFS=:; x=a:b:c; for i in $x; do echo $i; done",
    "x=$(false); echo $?; y=$(true) z=$(false); echo $?",
    "echo x | { read y; echo got $y; }",
    "case a in (a) echo paren;; esac",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_same_as_busybox(sh, root, tmp_path, script):
    host = tmp_path / "host"
    host.mkdir()
    real = subprocess.run(
        [BUSYBOX, "sh", "-c", script],
        cwd=host,
        capture_output=True,
        env={"PATH": "/bin:/usr/bin", "HOME": "/root"},
        timeout=10,
    )
    os.makedirs(root / "work", exist_ok=True)
    ours = sh(script, cwd="/work", env=["PATH=/bin:/usr/bin", "HOME=/root"])
    assert ours.stdout == real.stdout.decode()
    assert ours.stderr == real.stderr.decode()
    assert ours.proc.exit_code == real.returncode
