"""The `sh -c` subset: each construct, with busybox ash's output and exit status."""

import pytest

from dockerlayers.process.shell import vm
from dockerlayers.process.shell.compiler import compile_source
from dockerlayers.process.shell.parser import parse_program


@pytest.mark.parametrize(
    "script, out, code",
    [
        ("echo hello world", "hello world\n", 0),
        ("echo a; echo b", "a\nb\n", 0),
        ("true && echo yes || echo no", "yes\n", 0),
        ("false && echo yes || echo no", "no\n", 0),
        ("false; echo $?", "1\n", 0),
        ("! false; echo $?", "0\n", 0),
        ("! true; echo $?", "1\n", 0),
        ("exit 3", "", 3),
        ("exit 256", "", 0),
        ("false", "", 1),
        ("# just a comment\necho x # trailing", "x\n", 0),
        # quoting and escapes
        ("echo 'a  b' \"c  d\" e\\ f", "a  b c  d e f\n", 0),
        ("x=1; echo '$x' \"$x\" \\$x", "$x 1 $x\n", 0),
        ("echo \"a\\\"b\" 'c'\\''d'", "a\"b c'd\n", 0),
        ('x="a  b"; echo $x; echo "$x"', "a b\na  b\n", 0),
        # parameters
        ("x=5; echo $x ${x} ${y:-def} ${y-d2} ${x:+alt} ${#x}", "5 5 def d2 alt 1\n", 0),
        ("y=; echo [${y:-e}] [${y-u}]", "[e] []\n", 0),
        ("echo ${z:=set}; echo $z", "set\nset\n", 0),
        (
            "f=archive.tar.gz; echo ${f%.gz} ${f%%.*} ${f#*.} ${f##*.}",
            "archive.tar archive tar.gz gz\n",
            0,
        ),
        ("set -- 'x y' z; echo $#; for a in \"$@\"; do echo [$a]; done", "2\n[x y]\n[z]\n", 0),
        ("set -- 'x y' z; for a in $@; do echo [$a]; done", "[x]\n[y]\n[z]\n", 0),
        ('set -- a b; echo "$*"; for a; do echo $a; done', "a b\na\nb\n", 0),
        ("echo $$", "1\n", 0),
        ("A=1 B=2; echo $A$B", "12\n", 0),
        ("export FOO=bar; env | grep FOO", "FOO=bar\n", 0),
        ("FOO=tmp env | grep FOO; echo [$FOO]", "FOO=tmp\n[]\n", 0),
        ("set -- x y z; echo $# $2; shift; echo $1", "3 y\ny\n", 0),
        # arithmetic
        ("i=3; echo $((i*2+1)) $((10/3)) $((10%3)) $((1<2)) $((0x10))", "7 3 1 1 16\n", 0),
        ("i=0; i=$((i+1)); : $((i+=5)); echo $i", "6\n", 0),
        ("echo $((1/0))", "", 2),
        # command substitution
        ("x=$(echo hi); echo [$x]", "[hi]\n", 0),
        ("echo `echo back` $(echo $(echo nested))", "back nested\n", 0),
        ("x=$(printf 'a\\n\\n\\n'); echo \"[$x]\"", "[a]\n", 0),
        ("x=$(exit 4); echo $?", "4\n", 0),
        ("echo $(exit 4) $?", "0\n", 0),
        # pipes
        ("echo hello | cat", "hello\n", 0),
        ("printf 'b\\na\\nc\\n' | grep -v a | wc -l", "2\n", 0),
        ("false | true; echo $?", "0\n", 0),
        ("true | false; echo $?", "1\n", 0),
        ("! echo x | grep -q y; echo $?", "0\n", 0),
        # redirections
        ("echo hi > /tmp/f; cat /tmp/f", "hi\n", 0),
        ("echo a > /tmp/f; echo b >> /tmp/f; cat < /tmp/f", "a\nb\n", 0),
        ("ls /nope 2>&1", "ls: /nope: No such file or directory\n", 1),
        ("ls /nope 2>/dev/null; echo $?", "1\n", 0),
        ("echo gone >/dev/null", "", 0),
        ("echo err >&2", "", 0),
        ("{ echo a; echo b; } > /tmp/g; cat /tmp/g", "a\nb\n", 0),
        ("cat <<EOF\nhome=$HOME\nEOF", "home=/root\n", 0),
        ("cat <<'EOF'\n$HOME\nEOF", "$HOME\n", 0),
        # control flow
        ("if true; then echo a; fi", "a\n", 0),
        ("if false; then echo a; elif false; then echo b; else echo c; fi", "c\n", 0),
        ("if false; then echo a; fi; echo $?", "0\n", 0),
        ("for i in 1 2 3; do echo $i; done", "1\n2\n3\n", 0),
        ("for i in a b; do for j in 1 2; do echo $i$j; done; done", "a1\na2\nb1\nb2\n", 0),
        ("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done", "0\n1\n2\n", 0),
        ("i=0; until [ $i -ge 2 ]; do echo $i; i=$((i+1)); done", "0\n1\n", 0),
        ("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", "1\n2\n", 0),
        ("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", "1\n3\n", 0),
        ("for i in 1 2; do for j in 1 2; do break 2; done; echo no; done; echo out", "out\n", 0),
        ("while read l; do echo [$l]; done < /etc/hostname", "[abc123]\n", 0),
        ("printf '1\\n2\\n' | while read n; do echo n$n; done", "n1\nn2\n", 0),
        ("case hello in h*) echo H;; *) echo other;; esac", "H\n", 0),
        ("case x in a|b) echo ab;; x|y) echo xy;; esac", "xy\n", 0),
        ("case x in a) echo a;; esac; echo $?", "0\n", 0),
        ("{ echo in; false; }; echo $?", "in\n1\n", 0),
        ("(cd /etc; pwd); pwd", "/etc\n/\n", 0),
        ("(exit 5); echo $?", "5\n", 0),
        ("x=1; (x=2); echo $x", "1\n", 0),
        ("f() { echo f:$1:$#; return 2; }; f a b; echo $?", "f:a:2\n2\n", 0),
        ("greet() {\n  echo hi $1\n}\ngreet you", "hi you\n", 0),
        ("eval 'x=7; echo $x'", "7\n", 0),
        ("cd /etc && pwd && cd .. && pwd", "/etc\n/\n", 0),
        ("cd /tmp; echo x > rel; cat /tmp/rel", "x\n", 0),
        # set -e
        ("set -e; echo a; false; echo b", "a\n", 1),
        ("set -e; false || true; if false; then :; fi; ! true; echo ok", "ok\n", 0),
        ("set -e; false && true; echo ok", "ok\n", 0),
        ("set -e; (false); echo no", "", 1),
        # traps and exit
        ("trap 'echo bye' EXIT; echo hi", "hi\nbye\n", 0),
        ("trap 'echo bye' EXIT; exit 4", "bye\n", 4),
        ("trap 'echo x' TERM INT; trap", "trap -- 'echo x' INT\ntrap -- 'echo x' TERM\n", 0),
        ("trap 'echo x' TERM; trap - TERM; trap", "", 0),
        ("trap '' HUP; trap", "trap -- '' HUP\n", 0),
        ("kill -TERM $$; echo still", "still\n", 0),
        ("trap 'echo got; exit 7' USR1; kill -USR1 $$; echo no", "got\n", 7),
        # background and wait
        ("sleep 2 & echo started; wait; echo done", "started\ndone\n", 0),
        ("(sleep 1; exit 3) & wait $!; echo $?", "3\n", 0),
        ("sleep 1 & kill $!; wait $!; echo $?", "143\n", 0),
        ("wait 4242; echo $?", "127\n", 0),
        # globbing
        ("cd /etc; echo *", "group hostname passwd\n", 0),
        ("echo /etc/pass*", "/etc/passwd\n", 0),
        ("echo /nomatch*", "/nomatch*\n", 0),
        ("echo '/etc/*'", "/etc/*\n", 0),
        # exec
        ("exec echo replaced; echo not reached", "replaced\n", 0),
        ("exec > /tmp/o; echo into; cat /tmp/o >&2", "", 0),
        ("command -v ls; type cd", "ls\ncd is a shell builtin\n", 0),
        ("busybox echo via-busybox", "via-busybox\n", 0),
    ],
)
def test_script(sh, script, out, code):
    r = sh(script)
    assert r.stdout == out, r.stderr
    assert r.proc.exit_code == code


@pytest.mark.parametrize(
    "script, err, code",
    [
        ("nosuch", "sh: nosuch: not found\n", 127),
        ("/etc", "sh: /etc: Permission denied\n", 126),
        ("/etc/passwd", "sh: /etc/passwd: Permission denied\n", 126),
        ("cd /nonexist", "sh: cd: line 0: can't cd to /nonexist: No such file or directory\n", 2),
        (
            "echo\ncd /nonexist",
            "sh: cd: line 1: can't cd to /nonexist: No such file or directory\n",
            2,
        ),
        ("exit foo", "sh: exit: line 0: Illegal number: foo\n", 2),
        ("echo x > /nodir/x", "sh: can't create /nodir/x: nonexistent directory\n", 1),
        ("cat < /nofile", "sh: can't open /nofile: no such file\n", 1),
        ("echo x > /etc", "sh: can't create /etc: Is a directory\n", 1),
        ("echo ${x:?}", "sh: x: parameter not set or null\n", 2),
        ("echo ${x?custom message}", "sh: x: custom message\n", 2),
        ("set -u; echo $nope", "sh: nope: parameter not set\n", 2),
        ("echo $((1+))", "sh: arithmetic syntax error\n", 2),
        ("echo $((1/0))", "sh: divide by zero\n", 2),
        ("trap 'x' FOO", "sh: trap: line 0: FOO: invalid signal specification\n", 1),
        ("kill -FOO 1", "sh: bad signal name 'FOO'\n", 1),
        ("kill 4242", "sh: can't kill pid 4242: No such process\n", 1),
        ("exec nosuch; echo no", "sh: exec: line 0: nosuch: not found\n", 127),
    ],
)
def test_errors(sh, script, err, code):
    r = sh(script)
    assert r.stderr == err
    assert r.proc.exit_code == code


@pytest.mark.parametrize(
    "script, msg",
    [
        ("if", 'syntax error: unexpected end of file (expecting "then")'),
        ("fi", 'syntax error: unexpected "fi"'),
        ("if true; fi", 'syntax error: unexpected "fi" (expecting "then")'),
        ("if true; then fi", 'syntax error: unexpected "fi"'),
        ("while true; done", 'syntax error: unexpected "done" (expecting "do")'),
        ("for x in a b; do echo $x", 'syntax error: unexpected end of file (expecting "done")'),
        ('echo "abc', "syntax error: unterminated quoted string"),
        ("echo 'abc", "syntax error: unterminated quoted string"),
        ("echo a; )", 'syntax error: unexpected ")"'),
        ("(", 'syntax error: unexpected end of file (expecting ")")'),
        ("echo a |", "syntax error: unexpected end of file"),
        ("&& echo", 'syntax error: unexpected "&&"'),
        (";", 'syntax error: unexpected ";"'),
        ("{ echo a }", 'syntax error: unexpected end of file (expecting "}")'),
        ("echo ${x", "syntax error: missing '}'"),
        ("case x in", 'syntax error: unexpected end of file (expecting ")")'),
        ("case x in a) echo", 'syntax error: unexpected end of file (expecting ";;")'),
        ("echo $(", 'syntax error: unexpected end of file (expecting ")")'),
    ],
)
def test_syntax_errors_like_busybox(sh, script, msg):
    lines, err = parse_program(script)
    assert err is not None and err.msg == msg
    r = sh(script)
    assert r.stderr == f"sh: {msg}\n"
    assert r.proc.exit_code == 2


def test_positional_parameters_of_sh_c(sh):
    r = sh('echo $#; echo $0 $1 $2; echo "$@"', "name", "a", "b")
    assert r.stdout == "2\nname a b\na b\n"


def test_lines_before_a_syntax_error_run_first(sh):
    r = sh("echo a\necho b\nfi\necho never")
    assert r.stdout == "a\nb\n"
    assert r.stderr == 'sh: syntax error: unexpected "fi"\n'
    assert r.proc.exit_code == 2


def test_syntax_error_in_a_script_names_file_and_line(spawn, fs):
    fs.write_text("/s.sh", "echo a\n\nfi\n", mode=0o755)
    r = spawn(["sh", "/s.sh"])
    r.proc.run(0)
    assert r.stdout == "a\n"
    assert r.stderr == '/s.sh: line 3: syntax error: unexpected "fi"\n'


def test_not_found_in_a_script_names_the_line(spawn, fs):
    fs.write_text("/s.sh", "echo a\nfoo\n")
    r = spawn(["sh", "/s.sh"])
    r.proc.run(0)
    assert r.stderr == "/s.sh: line 2: foo: not found\n"


def test_compile_is_deterministic_and_cached():
    src = "while true; do echo $(date); sleep 1; done"
    assert compile_source(src) is compile_source(src)
    assert [i[0] for i in compile_source(src)[0]][:3] == ["LOOP_PUSH", "CMD", "JF"]


def test_endless_loop_without_sleep_does_not_hang(sh, monkeypatch):
    monkeypatch.setattr(vm, "MAX_STEPS", 5_000)
    r = sh("i=0; while true; do i=$((i+1)); done", limit=1)
    assert not r.proc.exited
    assert r.proc.busy
    assert r.proc.wake_at == 1704067200.0 + vm.BUSY_SLICE  # T0 (conftest) plus one slice
    i = int(r.proc.to_state()["shells"]["1"]["vars"]["i"])
    r.proc.run(1704067300.0)  # continues, still busy
    assert r.proc.busy
    assert int(r.proc.to_state()["shells"]["1"]["vars"]["i"]) > i
    r.proc.signal("KILL", 1704067301.0)
    assert r.proc.exit_code == 137


def test_busy_process_time_moves_with_the_caller(sh, monkeypatch):
    monkeypatch.setattr(vm, "MAX_STEPS", 2_000)
    r = sh("while true; do date +%s > /tmp/now; done", limit=1)
    r.proc.run(1704067500.0)
    assert r.proc.busy
    assert r.proc.to_state()["jobs"][0]["t"] == 1704067500.0


def test_date_follows_the_process_clock(sh):
    r = sh("date; sleep 61; date +%s; date -d @0")
    assert r.stdout == "Mon Jan  1 00:00:00 UTC 2024\n1704067261\nThu Jan  1 00:00:00 UTC 1970\n"
