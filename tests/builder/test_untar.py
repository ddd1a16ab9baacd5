"""ADD of a local tar: moby's chrooted untar (paths resolve inside the destination) and
the daemon's words for what it refuses, as a real 20.10.24 engine printed them for the
same archives (`failed to copy files: Error processing tar file(exit status 1): ...`)."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from dockerlayers.errors import BuildError
from tests.support.builds import log_lines, write_context

PREFIX = "failed to copy files: Error processing tar file(exit status 1): "


def _tar(*members: tuple[str, str, bytes | str]) -> bytes:
    """(name, kind, data-or-linkname) with kind file|dir|symlink|hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}.get(
                kind, tarfile.LNKTYPE
            )
            info.linkname = data if isinstance(data, str) else ""
            t.addfile(info)
    return buf.getvalue()


def _add(client, tmp_path, archive: bytes, run: str = "true"):
    ctx = write_context(
        tmp_path / "ctx",
        {"Dockerfile": f"FROM base:1\nADD a.tar /d/\nRUN {run}\n", "a.tar": archive},
    )
    image, lines = client.images.build(path=ctx, nocache=True)
    return image


def _refused(client, tmp_path, archive: bytes) -> str:
    with pytest.raises(BuildError) as e:
        _add(client, tmp_path, archive)
    return e.value.msg


def test_a_truncated_tar(client, tmp_path):
    whole = _tar(("ok.txt", "file", b"hello" * 1000))
    assert _refused(client, tmp_path, whole[:1500]) == PREFIX + "unexpected EOF"


def test_a_hard_link_to_a_missing_file(client, tmp_path):
    archive = _tar(("link", "hardlink", "missing"))
    assert (
        _refused(client, tmp_path, archive)
        == PREFIX + "link /missing /link: no such file or directory"
    )


def test_a_hard_link_out_of_the_destination_stays_inside_it(client, tmp_path):
    """`../../etc/passwd` is `/etc/passwd` of the chroot: `/d/etc/passwd`, not the image's."""
    archive = _tar(("link", "hardlink", "../../etc/passwd"))
    assert (
        _refused(client, tmp_path, archive)
        == PREFIX + "link /etc/passwd /link: no such file or directory"
    )


def test_a_symlink_on_the_way_resolves_inside_the_destination(client, tmp_path):
    archive = _tar(("sl", "symlink", "/etc"), ("sl/through", "file", b"x"))
    assert (
        _refused(client, tmp_path, archive)
        == PREFIX + "open /sl/through: no such file or directory"
    )


def test_names_climbing_out_land_inside(client, tmp_path):
    archive = _tar(
        ("../evil", "file", b"x"),
        ("etc/", "dir", b""),
        ("sl", "symlink", "/etc"),
        ("sl/in", "file", b"y"),
        ("hl", "hardlink", "/evil"),
    )
    image = _add(client, tmp_path, gzip.compress(archive))
    out = client.containers.run(
        image, ["sh", "-c", "cat /d/evil /d/etc/in /d/hl; ls /evil; echo $?"]
    )
    assert out == b"xyx1\n"  # (ls's complaint went to stderr)


@pytest.mark.slow
def test_more_than_125_layers_is_max_depth_exceeded(client, tmp_path):
    """The 126th layer is refused at its commit (moby: layer/layer_store.go maxLayerDepth),
    with the error alone, as the daemon prints it; no traceback."""
    steps = "".join(f"RUN echo {i} > /f{i}\n" for i in range(125))
    ctx = write_context(tmp_path / "deep", {"Dockerfile": "FROM base:1\n" + steps})
    with pytest.raises(BuildError) as e:
        client.images.build(path=ctx)
    assert e.value.msg == "max depth exceeded"
    assert "Step 126/126 : RUN echo 124 > /f124" in log_lines(e.value.build_log)
