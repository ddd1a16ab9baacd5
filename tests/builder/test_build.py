"""The legacy builder: output lines, history shape, layers, cache, COPY/ADD, errors.

The expected `created_by` strings (content hashes included) are those Docker 20.10.24
produced for the same Dockerfile and context (DOCKER_BUILDKIT=0)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile

import pytest

from dockerlayers.errors import BuildError
from tests.support.builds import history, layer_files, log_lines, write_context
from tests.support.dockerfiles import BUILD_ERRORS as ERRORS
from tests.support.dockerfiles import STEPS_DOCKERFILE as DOCKERFILE
from tests.support.dockerfiles import STEPS_FILES as FILES

FILE_A = "file:679c43c79a56cffbb3b002bda3050542c152a2f09757a0f1a9578871f7cda00d"
DIR_D = "dir:4e3c6cf16939f0a5c183b20fb9b5f3d4bcbd6b321c08127f0cce1e850bd49228"

#: `docker history --no-trunc` of the engine's build, bottom to top (after the base).
ENGINE_HISTORY = [
    ("/bin/sh -c #(nop)  ARG V=1", True),
    ("/bin/sh -c #(nop)  ENV A=1 B=two words", True),
    ("/bin/sh -c #(nop)  LABEL k=v", True),
    ("/bin/sh -c #(nop) WORKDIR /app/sub", False),
    ("|1 V=9 /bin/sh -c echo hi > f && echo out", False),
    (f"/bin/sh -c #(nop) COPY {FILE_A} in . ", False),
    (f"/bin/sh -c #(nop) COPY {FILE_A} in /dst/ ", False),
    (f"/bin/sh -c #(nop) COPY {DIR_D} in /dd ", False),
    (f"/bin/sh -c #(nop) COPY {DIR_D} in /dd2/ ", False),
    (f"/bin/sh -c #(nop) ADD {FILE_A} in /added ", False),
    ("|1 V=9 sh -c echo $V", True),
    ("/bin/sh -c #(nop)  EXPOSE 53/udp 80", True),
    ("/bin/sh -c #(nop)  USER root", True),
    ("/bin/sh -c #(nop)  VOLUME [/v]", True),
    ("/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]", True),
    ("|1 V=9 /bin/sh -ec echo shell", False),  # the volume's mount point: /v
    ('/bin/sh -ec #(nop)  ENTRYPOINT ["echo"]', True),
    ('/bin/sh -ec #(nop)  CMD ["/bin/sh" "-ec" "echo hi"]', True),
    ("/bin/sh -ec #(nop)  STOPSIGNAL SIGTERM", True),
]
#: the files of each non-base layer in the engine's image
ENGINE_LAYERS = [
    [],
    ["app/sub/f"],
    ["app/sub/a.txt"],
    ["dst/a.txt"],
    ["dd/sub/y", "dd/x"],
    ["dd2/sub/y", "dd2/x"],
    ["added"],
    [],
]
ID = re.compile(r"[0-9a-f]{12}")


def shape(lines: list[str]) -> list[str]:
    return [ID.sub("<id>", line) for line in lines]


def test_history_matches_the_legacy_builder(client, build):
    img, lines = build(DOCKERFILE, FILES, tag="t1", buildargs={"V": "9", "X": "2"})
    assert history(img)[1:] == ENGINE_HISTORY
    assert len(img.rootfs.diff_ids) == 1 + sum(1 for _, empty in ENGINE_HISTORY if not empty)
    assert layer_files(client, img) == ENGINE_LAYERS
    cfg = img.config
    assert cfg.env == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "A=1",
        "B=two words",
    ]
    assert cfg.cmd == ["/bin/sh", "-ec", "echo hi"]
    assert cfg.entrypoint == ["echo"]
    assert cfg.exposed_ports == {"53/udp": {}, "80/tcp": {}}
    assert cfg.volumes == {"/v": {}}
    assert cfg.working_dir == "/app/sub"
    assert cfg.labels == {"k": "v"}
    assert cfg.stop_signal == "SIGTERM"
    assert cfg.shell == ["/bin/sh", "-ec"]
    assert cfg.image.startswith("sha256:")  # the image the last step started from
    # metadata steps: the comment as two words after the shell; WORKDIR/COPY: one word
    assert img.container_config.cmd == ["/bin/sh", "-ec", "#(nop) ", "STOPSIGNAL SIGTERM"]
    check_output_lines(lines)


def check_output_lines(lines):
    out = shape(lines)
    assert out[0] == "Sending build context to Docker daemon  6.144kB"
    assert out[1:9] == [
        "Step 1/20 : FROM base:1",
        " ---> <id>",
        "Step 2/20 : ARG V=1",
        " ---> Running in <id>",
        "Removing intermediate container <id>",
        " ---> <id>",
        'Step 3/20 : ENV A=1 B="two words"',
        " ---> Running in <id>",
    ]
    i = out.index("Step 6/20 : RUN echo hi > f && echo out")
    assert out[i : i + 5] == [
        "Step 6/20 : RUN echo hi > f && echo out",
        " ---> Running in <id>",
        "out",
        "Removing intermediate container <id>",
        " ---> <id>",
    ]
    i = out.index("Step 7/20 : COPY a.txt .")
    assert out[i + 1] == " ---> <id>"  # COPY runs no container
    assert out[-3:] == [
        "[Warning] One or more build-args [X] were not consumed",
        "Successfully built <id>",
        "Successfully tagged t1:latest",
    ]


CACHE_DOCKERFILE = """\
FROM base:1
ARG V=1
ENV A=1
RUN echo one > /one
COPY a.txt /a.txt
RUN cat /a.txt
"""


def test_cache_hit_on_rebuild_and_miss_after_a_context_change(client, build, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": CACHE_DOCKERFILE, **FILES})
    first, _ = build("", context=ctx, buildargs={"V": "9"})
    before = set(client.daemon.image_service.image_store.map())
    again, lines = build("", context=ctx, buildargs={"V": "9"})
    assert again.id == first.id
    assert lines.count(" ---> Using cache") == 5
    assert not any("Running in" in line for line in lines)
    assert set(client.daemon.image_service.image_store.map()) == before
    # a context change: the steps before the COPY still come from the cache
    write_context(tmp_path / "c", {"a.txt": "changed\n"})
    changed, lines = build("", context=ctx, buildargs={"V": "9"})
    assert changed.id != first.id
    i = lines.index("Step 5/6 : COPY a.txt /a.txt")
    assert lines[:i].count(" ---> Using cache") == 3
    assert " ---> Using cache" not in lines[i:]  # after a miss, the rest is built
    assert "changed" in lines
    assert history(changed)[:4] == history(first)[:4]
    assert history(changed)[4] != history(first)[4]  # the COPY's content hash
    # a different build arg value misses at the first RUN
    _, lines = build("", context=ctx, buildargs={"V": "8"})
    i = lines.index("Step 4/6 : RUN echo one > /one")
    assert lines[:i].count(" ---> Using cache") == 2 and lines[i + 1] != " ---> Using cache"


def test_nocache(build, tmp_path):
    ctx = write_context(tmp_path / "c", {"Dockerfile": "FROM base:1\nENV A=1\n"})
    a, _ = build("", context=ctx)
    b, lines = build("", context=ctx, nocache=True)
    assert " ---> Using cache" not in lines and a.id != b.id


def test_workdir_creates_the_folder_and_relative_paths(client, build):
    img, _ = build("FROM base:1\nWORKDIR /a\nWORKDIR b/c\nWORKDIR /a/b/c\nRUN pwd > /where\n")
    assert img.config.working_dir == "/a/b/c"
    files = layer_files(client, img)
    assert history(img)[-2] == ("/bin/sh -c #(nop) WORKDIR /a/b/c", True)  # already there
    assert files[-1] == ["where"]
    c = client.containers.run(img.id, "cat /where", detach=True)
    c.wait()
    assert c.logs() == b"/a/b/c\n"


def test_entrypoint_resets_an_inherited_cmd_but_not_one_set_in_the_same_stage(build):
    img, _ = build('FROM base:1\nCMD ["x"]\nENTRYPOINT ["echo"]\n')
    assert img.config.cmd == ["x"]
    base_cmd, _ = build("FROM base:1\nENTRYPOINT echo hi\n")
    assert base_cmd.config.cmd is None
    assert base_cmd.config.entrypoint == ["/bin/sh", "-c", "echo hi"]


def test_arg_scoping_and_build_args(build):
    df = (
        "ARG TAG=1\nARG ONLY_META=m\nFROM base:${TAG}\n"
        'RUN echo "[$TAG][$ONLY_META]"\n'
        'ARG TAG\nARG LOCAL=l\nRUN echo "[$TAG][$LOCAL]"\n'
        'ENV LOCAL=env\nRUN echo "[$LOCAL]"\n'
    )
    img, lines = build(df, buildargs={"LOCAL": "cli", "UNUSED": "u", "HTTP_PROXY": "p"})
    assert "[][]" in lines  # meta args are visible only in FROM until redeclared
    assert "[1][cli]" in lines
    assert "[env]" in lines  # ENV wins over an ARG of the same name
    runs = [
        h.created_by for h in img.history if h.created_by.startswith("|") or "echo" in h.created_by
    ]
    assert runs == [
        '|0 /bin/sh -c echo "[$TAG][$ONLY_META]"',  # HTTP_PROXY given: counted, not shown
        '|2 LOCAL=cli TAG=1 /bin/sh -c echo "[$TAG][$LOCAL]"',
        '|1 TAG=1 /bin/sh -c echo "[$LOCAL]"',
    ]
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in lines
    assert ("/bin/sh -c #(nop)  ARG LOCAL=l", True) in history(img)


def test_exec_and_shell_forms_and_shell_instruction(build):
    img, lines = build(
        'FROM base:1\nRUN ["echo", "exec $HOME"]\nRUN echo shell $0\nSHELL ["/bin/sh", "-xc"]\n'
        "CMD run me\n"
    )
    assert "exec $HOME" in lines
    assert img.config.cmd == ["/bin/sh", "-xc", "run me"]
    assert history(img)[1] == ('echo "exec $HOME"'.replace('"', ""), True)


def test_copy_semantics(client, build):
    files = {"a": "a\n", "b": "b\n", "d/x": "x\n", "link": b"", "g1.txt": "1", "g2.txt": "2"}
    img, _ = build(
        "FROM base:1\nCOPY a /file\nCOPY a /dir/\nCOPY a b /multi/\nCOPY d /contents\n"
        "COPY g*.txt /globbed/\nWORKDIR /w\nCOPY a rel\n",
        files,
    )
    assert layer_files(client, img) == [
        ["file"],
        ["dir/a"],
        ["multi/a", "multi/b"],
        ["contents/x"],
        ["globbed/g1.txt", "globbed/g2.txt"],
        [],
        ["w/rel"],
    ]


@pytest.mark.parametrize("opener", [None, gzip.compress, bz2.compress, lzma.compress])
def test_add_extracts_local_tars(client, build, opener):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("top/one", b"1"), ("top/two", b"22")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    data = buf.getvalue() if opener is None else opener(buf.getvalue())
    img, _ = build("FROM base:1\nADD t.tar /x\nCOPY t.tar /y/\n", {"t.tar": data})
    assert layer_files(client, img) == [["x/top/one", "x/top/two"], ["y/t.tar"]]


@pytest.mark.parametrize(("dockerfile", "message"), ERRORS)
def test_errors_in_dockers_words(build, dockerfile, message):
    with pytest.raises(BuildError) as e:
        build(dockerfile, {"a": "a", "b": "b"})
    assert e.value.msg == message
    assert log_lines(e.value.build_log)[-1] == message


def test_failing_run_leaves_its_container_and_no_image(client, build):
    before = set(client.daemon.image_service.image_store.map())
    with pytest.raises(BuildError) as e:
        build("FROM base:1\nRUN echo partial > /p && false\n")
    assert not any(
        "Removing intermediate container" in line for line in log_lines(e.value.build_log)
    )
    exited = client.containers.list(all=True)
    assert len(exited) == 1 and exited[0].attrs["State"]["ExitCode"] == 1
    assert set(client.daemon.image_service.image_store.map()) == before


def test_scratch(client, build):
    img, lines = build("FROM scratch\nENV A=1\nCOPY a /a\n", {"a": "a"})
    assert shape(lines)[1:3] == ["Step 1/3 : FROM scratch", " ---> "]
    assert layer_members(client, img) == [["a"]]
    assert history(img)[0] == ("/bin/sh -c #(nop)  ENV A=1", True)


from tests.support.builds import layer_members  # noqa: E402
