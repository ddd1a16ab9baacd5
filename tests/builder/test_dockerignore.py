""".dockerignore: Docker's documented examples, with the files Docker 20.10 sent for them
(built on the engine with `COPY . /ctx/` and listed from the layer)."""

from __future__ import annotations

import pytest

from dockerlayers.builder.dockerignore import IgnoreError, PatternMatcher, read_all
from dockerlayers.errors import BuildError
from tests.support.builds import layer_files, write_context

TREE = [
    "somedir/temporary.txt", "somedir/temp/x", "somedir/subdir/temporary.txt", "somedir/keep.txt",
    "tempa", "tempb", "tempab", "temp", "main.go", "somedir/util.go", "somedir/subdir/x.go",
    "README.md", "README-secret.md", "README-extra.md", "CHANGES.md", "other/deep/temp1/f",
    "other/tempz",
]  # fmt: skip
ALL = sorted([*TREE, "Dockerfile", ".dockerignore"])

CASES = [
    # the example of the docs: */temp*, */*/temp*, temp?
    ("# comment\n*/temp*\n*/*/temp*\ntemp?\n",
     ["somedir/temporary.txt", "somedir/temp/x", "other/tempz", "somedir/subdir/temporary.txt",
      "other/deep/temp1/f", "tempa", "tempb"]),
    ("**/*.go\n", ["main.go", "somedir/util.go", "somedir/subdir/x.go"]),
    ("*.md\n!README.md\n", ["README-secret.md", "README-extra.md", "CHANGES.md"]),
    # "no markdown files are included in the context except README files other than
    # README-secret.md"
    ("*.md\n!README*.md\nREADME-secret.md\n", ["README-secret.md", "CHANGES.md"]),
    # "all of the README files are included ... the middle line has no effect"
    ("*.md\nREADME-secret.md\n!README*.md\n", ["CHANGES.md"]),
    ("somedir\n!somedir/keep.txt\n",
     ["somedir/temporary.txt", "somedir/temp/x", "somedir/subdir/temporary.txt", "somedir/util.go",
      "somedir/subdir/x.go"]),
    ("**\n!Dockerfile\n!README.md\n", [p for p in ALL if p not in ("Dockerfile", "README.md")]),
    ("/somedir/subdir\n./tempa\nother/**/f\n",
     ["somedir/subdir/temporary.txt", "somedir/subdir/x.go", "tempa", "other/deep/temp1/f"]),
    # [...] is a regexp class: `[!t]` is not a negation in Docker 20.10
    ("temp[a-z]\n[!t]*.md\n", ["tempa", "tempb"]),
    ("**/temp1\n", ["other/deep/temp1/f"]),
    ("*\n!somedir/subdir\n", [p for p in ALL if not p.startswith("somedir/subdir/")]),
    ("so*dir/sub*\n!somedir/subdir/x.go\n", ["somedir/subdir/temporary.txt"]),
]  # fmt: skip


@pytest.mark.parametrize(("ignore", "excluded"), CASES)
def test_documented_examples(client, build, tmp_path, ignore, excluded):
    ctx = write_context(
        tmp_path / "c",
        {
            "Dockerfile": "FROM base:1\nCOPY . /ctx/\n",
            ".dockerignore": ignore,
            **{p: p + "\n" for p in TREE},
        },
    )
    img, _ = build("", context=ctx)
    (files,) = layer_files(client, img)
    assert files == ["ctx/" + p for p in ALL if p not in excluded]


def test_matcher_api():
    m = PatternMatcher(read_all("*.md\n!README*.md\nREADME-secret.md\n"))
    assert m.matches("CHANGES.md") and m.matches("README-secret.md")
    assert not m.matches("README.md") and not m.matches("docs/x.md")
    assert read_all("# c\n  # not a comment\n/abs/\n! ./x\n") == ["# not a comment", "abs", "!x"]
    with pytest.raises(IgnoreError):
        PatternMatcher(["!"])


def test_bad_pattern_is_a_build_error(build):
    with pytest.raises(BuildError) as e:
        build("FROM base:1\n", {".dockerignore": "!\n"})
    assert e.value.msg == 'error checking context: illegal exclusion pattern: "!"'


def test_ignored_files_change_nothing(build, tmp_path):
    ctx = write_context(
        tmp_path / "c",
        {"Dockerfile": "FROM base:1\nCOPY . /ctx/\n", ".dockerignore": "*.log\n", "a": "a"},
    )
    first, _ = build("", context=ctx)
    write_context(ctx, {"debug.log": "noise"})
    again, lines = build("", context=ctx)
    assert again.id == first.id and lines.count(" ---> Using cache") == 1
    assert lines[0] == "Sending build context to Docker daemon  4.096kB"
