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
    "mkdir -p b a; touch z y; ls z b y a; ls -d b z a",
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
    # sed (busybox 1.35's editors/sed.c): addresses, commands, regexes, its error words
    "printf 'a\\nb\\nc\\nd\\n' | sed -n '/b/,/c/p'; printf 'a\\nb\\nc\\n' | sed '2,3!d'",
    "printf 'a\\nb\\nc\\n' | sed -n '$p'; printf 'a\\nb\\nc\\n' | sed 2q; "
    "printf 'a\\nb\\n' | sed -n =",
    "echo hello world | sed 's/o/0/g'; echo hello world | sed 's/o/0/2'; "
    "echo hello | sed 's/L/x/I'",
    "echo hello | sed 's/\\(h\\)\\(e\\)/\\2\\1/'; echo hello | sed -E 's/(l+)/[\\1]/'",
    "echo hello | sed 's/l\\+/L/'; echo aaa | sed 's/a\\{2\\}/X/'; echo 'a+b' | sed 's/a+b/X/'",
    "echo hello | sed 's/x*/-/g'; echo abc | sed 's/b*/X/g'; echo ab | sed 's/a/[&]/;s/b/\\&/'",
    "echo hi | sed 'a\\\nafter'; echo hi | sed 'i before'; printf 'a\\nb\\n' | sed '1c changed'",
    "echo hello | sed 'y/elo/ELO/'; printf 'a\\nb\\nc\\n' | sed -n '2{p;p}'; "
    "printf 'x' | sed 's/x/y/'",
    "printf 'a\\nb\\n' | sed -e 's/a/1/' -e 's/b/2/'; printf 'a\\nb\\nc\\n' | sed '$!N;s/\\n/+/'",
    "printf 'a\\nb\\nc\\n' | sed -n '1!G;h;$p'; printf 'l1\\nl2\\nl3\\n' | sed -n '2,+1p'",
    "echo a | sed ':a;s/a/b/;ta'; echo a | sed 'bend;s/a/b/;:end'; "
    "printf 'a b\\n' | sed 's/[[:space:]]/_/'",
    "echo a | sed 's/a/b'; echo a | sed 's/a/b/x'; echo a | sed k; echo a | sed '/a'; echo $?",
    "echo a | sed 's/\\(a/b/'; echo a | sed 's/a\\{1/b/'; echo a | sed 's/a**/b/'; "
    "echo a | sed 'b nolabel'",
    "sed; echo $?; echo a | sed -n; echo $?; sed p nofile; echo $?",
    "printf 'one\\ntwo\\n' > f; sed -i 's/o/0/' f; cat f; sed -i.bak 's/t/T/' f; cat f f.bak; ls",
    "sed -i s/a/b/ nofile; echo $?; sed -i s/a/b/; echo $?",
    "printf 'k=v\\n' | sed -n 's/^\\([^=]*\\)=\\(.*\\)$/\\2=\\1/p'; "
    "echo 'foo bar' | sed 's/\\<b/B/'",
    # applets ash runs by name (the standalone shell)
    "yes | head -n 2; yes abc | head -n 1; (yes; echo $? >&2) | head -n 1",
    "seq 1 100000 | tail -n 1; seq 1 100000 | wc -c; yes | head -n 100000 | wc -l",
    "i=0; while :; do echo $i; i=$((i+1)); done | head -n 3",
    "printf 'b 1\\na 1\\nc 2\\n' | sort -u -k2; printf '10\\n9\\n-1\\nx\\n1.5\\n' | sort -n",
    "printf 'b:2\\na:10\\nc:1\\n' | sort -t: -k2 -n -r; printf ' b\\na\\nB\\n' | sort; "
    "sort -k0; sort nofile",
    "printf 'a\\na\\nb\\na\\n' | uniq -c; printf 'a\\na\\nb\\n' | uniq -d; "
    "printf 'a\\na\\nb\\n' | uniq -u",
    "echo 'a:b:c' | cut -d: -f1,3; echo abcdef | cut -c2-4; echo 'a b' | cut -f2; "
    "echo a,b | cut -d, -f2 -s",
    "echo hello | tr a-y b-z; echo hello | tr -d l; echo heelloo | tr -s eo; "
    "echo abc | tr '[:lower:]' '[:upper:]'",
    "printf 'abc' | od; printf 'abc\\n' | od -c; printf 'abc\\n' | od -x; "
    "printf 'abc\\n' | od -A x -c",
    "printf 'ab' | od -d; printf 'ab' | od -b; printf 'a\\001\\t\\000\\377' | od -c; "
    "echo hi | od -t x1",
    "printf %s aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | od -c; printf abc | od -A n -c",
    "printf 'abcdef' | dd bs=4; printf 'abcdef' | dd bs=2 skip=1 count=1; dd nofile; echo $?",
    "printf 'XY' > f; printf 'ab' | dd of=f bs=1 seek=1 conv=notrunc 2>/dev/null; cat f; "
    "dd if=nofile",
    "echo hi > f; md5sum f; sha1sum f; sha256sum f; md5sum f > s; md5sum -c s; echo hi | md5sum",
    "echo hello | base64; echo aGVsbG8K | base64 -d; md5sum nofile; base64 nofile",
    "mkdir d; ln -s d l; readlink l; cd d; readlink -f ../l | sed 's|.*/||'; realpath nofile",
    "truncate -s 3 x; wc -c < x; truncate -s 1k x; wc -c < x; truncate -s +2 x; echo $?",
    "expr 1 + 2; expr 7 / 2; expr 3 \\* 4; expr abc : 'a\\(.\\)'; expr length hello; "
    "expr 1 / 0; expr",
    "echo a b c | xargs echo X; echo a b c | xargs -n 1 echo; seq 1 10 | xargs -n 3",
    "echo 'a \"b c\" d\\ e' | xargs -n 1 echo; echo | xargs -r echo X; "
    "printf 'a\\0b\\0' | xargs -0 echo",
    "type sed yes; command -v yes; which sed; busybox yes | head -n 1; busybox nosuch; echo $?",
    "printf '\\0101|\\101|\\08|\\1010' | od -c; echo -e 'a\\0101\\x41\\0377' | od -c",
    "ps -o foo; echo $?",
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


def _same_busybox() -> bool:
    """The host's busybox is the one the model copies (Debian 12's 1.35.0)."""
    from dockerlayers.process.applets.registry import BANNER

    out = subprocess.run([BUSYBOX], capture_output=True, text=True, timeout=10).stdout
    return out.startswith(BANNER + "\n")


def test_usage_texts_are_busybox_s(tmp_path):
    """Every usage text the model prints is what this busybox prints for `NAME --help`."""
    from dockerlayers.process.applets.registry import BANNER
    from dockerlayers.process.applets.usage_text import USAGE

    if not _same_busybox():
        pytest.skip("the host's busybox is not Debian 12's 1.35.0")
    for name, text in USAGE.items():
        real = subprocess.run([BUSYBOX, name, "--help"], capture_output=True, timeout=10)
        assert real.stderr.decode() == f"{BANNER}\n\n{text}\n", name


def test_the_applet_list_is_formatted_as_busybox_does():
    """`busybox` alone: our banner and help are its own; given its applet names, our
    `Currently defined functions:` lines are its lines."""
    from dockerlayers.process.applets.system import _BUSYBOX_HELP, function_list

    if not _same_busybox():
        pytest.skip("the host's busybox is not Debian 12's 1.35.0")
    names = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split()
    real = subprocess.run([BUSYBOX], capture_output=True, text=True).stdout
    head = real.split("\n", 1)[0]
    assert head == "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."
    assert real == head + "\n" + _BUSYBOX_HELP + function_list(names)
