"""Dockerfile parsing and word processing (moby 20.10 parser/ and shell/lex.go cases)."""

from __future__ import annotations

import pytest

from dockerlayers.builder.parser import (
    DockerfileEmptyError,
    DockerfileParseError,
    ShellLex,
    key_values,
    parse,
    split_words,
)


def test_continuations_comments_and_lines():
    text = (
        "# a comment\nFROM base:1\n\nRUN echo a \\\n# inside\n    && echo b\\  "
        "\n\n    && echo c\n\tenv  A=1\n"
    )
    ins, escape = parse(text)
    assert escape == "\\"
    assert [(i.cmd, i.line) for i in ins] == [("from", 2), ("run", 4), ("env", 9)]
    assert ins[1].original == "RUN echo a     && echo b    && echo c"
    assert ins[2].args == "A=1"


def test_escape_directive():
    ins, escape = parse("# escape=`\nFROM base:1\nRUN echo a `\n  b\nCOPY c:\\x d\\\n")
    assert escape == "`"
    assert ins[1].original == "RUN echo a   b"
    assert ins[2].args == "c:\\x d\\"
    # a directive after anything else is a comment
    ins, escape = parse("FROM base:1\n# escape=`\nRUN a \\\n b\n")
    assert escape == "\\" and ins[1].original == "RUN a  b"
    with pytest.raises(DockerfileParseError, match="only one escape parser directive"):
        parse("# escape=`\n# escape=\\\nFROM x\n")


def test_flags_json_and_errors():
    (f, c, r) = parse(
        "FROM --platform=linux/amd64 base:1 AS b\n"
        'COPY --from=b --chown=1:2 ["a b", "c"]\n'
        'RUN ["echo", "x"]\n'
    )[0]
    assert f.flags == {"platform": "linux/amd64"} and f.args == "base:1 AS b"
    assert c.flags == {"from": "b", "chown": "1:2"} and c.json_form == ["a b", "c"]
    assert r.json_form == ["echo", "x"]
    assert parse("RUN [not json\n")[0][0].json_form is None
    with pytest.raises(DockerfileParseError) as e:
        parse("FROM x\nCOPY --frm=a b c\n")
    assert str(e.value) == "dockerfile parse error line 2: Unknown flag: frm"
    with pytest.raises(DockerfileParseError) as e:
        parse("FROM x\n\nfoo bar\n")
    assert str(e.value) == "dockerfile parse error line 3: unknown instruction: FOO"
    with pytest.raises(DockerfileParseError, match="FROM requires either one or three arguments"):
        parse("FROM a b\n")
    with pytest.raises(
        DockerfileParseError, match="SHELL requires the arguments to be in JSON form"
    ):
        parse("FROM a\nSHELL sh -c\n")
    with pytest.raises(DockerfileEmptyError):
        parse("\n# only comments\n\n")


def test_words_and_key_values():
    assert split_words("a \"b c\" d\\ e 'f g'") == ["a", '"b c"', "d\\ e", "'f g'"]
    assert key_values('A=1 B="two words"') == [("A", "1"), ("B", '"two words"')]
    assert key_values("KEY some value  here") == [("KEY", "some value  here")]
    with pytest.raises(ValueError, match="can't find = in"):
        key_values("A=1 B")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$A", "a"),
        ("${A}b", "ab"),
        ("'$A'", "$A"),
        ('"$A $B"', "a b c"),
        ("\\$A", "$A"),
        ("${NOPE:-dflt}", "dflt"),
        ("${A:-dflt}", "a"),
        ("${A:+alt}", "alt"),
        ("${NOPE:+alt}", ""),
        ("$", "$"),
        ('"a\\"b"', 'a"b'),
        ('"a\\nb"', "a\\nb"),
        ("x$NOPE-y", "x-y"),
    ],
)
def test_process_word(word, expected):
    assert ShellLex().process_word(word, {"A": "a", "B": "b c"}) == expected


def test_process_words_splits_unquoted_variables():
    assert ShellLex().process_words("$P 8080", {"P": "80 443"}) == ["80", "443", "8080"]
    assert ShellLex().process_words('"$P"', {"P": "80 443"}) == ["80 443"]
