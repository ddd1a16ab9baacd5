"""Multi-stage builds with the legacy builder's semantics (Docker 17.05+, as in 20.10)."""

from __future__ import annotations

import pytest

from dockerlayers.errors import BuildError
from tests.support.builds import history, layer_files, log_lines
from tests.support.dockerfiles import MULTISTAGE_DOCKERFILE as DOCKERFILE
from tests.support.dockerfiles import MULTISTAGE_FILES as FILES
from tests.support.dockerfiles import STAGE_ERRORS as ERRORS


def test_final_image_has_exactly_the_final_stages_layers(client, build):
    img, lines = build(DOCKERFILE, FILES, tag="ms")
    base = client.daemon.image_service.get_image("base:1")
    assert img.rootfs.diff_ids[:1] == base.rootfs.diff_ids
    assert layer_files(client, img) == [["app/artifact"], ["out2/artifact", "out2/built"]]
    # the same hashes as the engine's (files read from the builder stage's image)
    assert history(img)[1:] == [
        (
            (
                "/bin/sh -c #(nop) COPY "
                "file:b7dc4ebb62240af48985378aa17d13161be2ac6bd6e70a02e1319f454c70309c "
                "in /app/artifact "
            ),
            False,
        ),
        (
            (
                "/bin/sh -c #(nop) COPY "
                "dir:a0ae97eefef95f098bf373783a995bcea76ce6f726993645d4d91757f9904f9b "
                "in /out2 "
            ),
            False,
        ),
        ("/bin/sh -c ls /app", True),
    ]
    assert "base is base:1" in lines and "artifact" in lines
    assert lines[1:4] == [
        "Step 1/11 : ARG BASE=base:1",
        "Step 2/11 : ARG UNUSED=x",
        "Step 3/11 : FROM $BASE AS builder",
    ]
    assert not any("[Warning]" in line for line in lines)


def test_intermediate_stage_is_left_dangling_and_unreferenced(client, build):
    img, _ = build(DOCKERFILE, FILES, tag="ms")
    store = client.daemon.image_service.image_store
    stage, _ = build(DOCKERFILE, FILES, target="builder")  # all from the cache
    assert stage.id != img.id
    # the final image's chain never passes through the builder stage
    chain = []
    cur = img.id
    while cur:
        chain.append(cur)
        cur = store.get_parent(cur)
    assert stage.id not in chain
    assert not set(stage.rootfs.diff_ids[1:]) & set(img.rootfs.diff_ids)
    # `docker images` lists it as <none>:<none> (dangling), until `image prune`
    dangling = {i.id for i in client.images.list(filters={"dangling": True})}
    assert stage.id in dangling
    client.images.prune()
    assert stage.id not in store.map()
    assert img.id in store.map()


def test_target_builds_an_earlier_stage(client, build):
    img, lines = build(DOCKERFILE, FILES, target="builder", tag="ms:b")
    assert lines[-1] == "Successfully tagged ms:b"
    assert layer_files(client, img) == [["secret.txt"], ["out/artifact", "out/built"]]
    assert history(img)[1:] == [
        ("/bin/sh -c #(nop)  ARG BASE", True),
        ('|1 BASE=base:1 /bin/sh -c echo "base is $BASE"', True),
        (
            (
                "/bin/sh -c #(nop) COPY "
                "file:b3fd6f0435acbb557b3bc8e20f96cf8ea4d50e8d18f2151eb3b8e9b5a3faa768 "
                "in /secret.txt "
            ),
            False,
        ),
        (
            (
                "|1 BASE=base:1 /bin/sh -c mkdir /out && cat /secret.txt > /out/built "
                "&& echo art > /out/artifact"
            ),
            False,
        ),
    ]
    assert (
        "Step 7/7 : RUN mkdir /out && cat /secret.txt > /out/built && echo art > /out/artifact"
        in lines
    )


def test_rebuild_uses_the_cache_across_stages(build, tmp_path):
    from tests.support.builds import write_context

    ctx = write_context(tmp_path / "c", {"Dockerfile": DOCKERFILE, **FILES})
    a, _ = build("", context=ctx)
    b, lines = build("", context=ctx)
    assert a.id == b.id and lines.count(" ---> Using cache") == 7


def test_copy_from_an_image_and_from_a_stage_by_name(client, build):
    img, _ = build(
        "FROM base:1 AS one\nRUN echo 1 > /one\nFROM scratch AS empty\nFROM base:1\n"
        "COPY --from=base:1 /etc/passwd /p\nCOPY --from=ONE /one /one\n"
    )
    assert layer_files(client, img) == [["p"], ["one"]]


@pytest.mark.parametrize(("dockerfile", "message"), ERRORS)
def test_errors(build, dockerfile, message):
    with pytest.raises(BuildError) as e:
        build(dockerfile)
    assert e.value.msg == message


def test_unknown_target(build):
    with pytest.raises(BuildError) as e:
        build(DOCKERFILE, FILES, target="nope")
    assert e.value.msg == "failed to reach build target nope in Dockerfile"
    assert not any(line.startswith("Step") for line in log_lines(e.value.build_log))
