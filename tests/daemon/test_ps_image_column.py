"""`ps`'s IMAGE column on a freshly opened root: the name a container was made from while it
still means the same image, else the image ID (moby daemon/list.go refreshImage). A fresh
daemon answers a name that still points at the container's image from `repositories.json`
and that image's config (`list.tag_points_at`), without making the image service (issue
16); every other case goes to the image service. Both must give the same column."""

from __future__ import annotations

import os

import pytest

from dockerlayers import DockerClient

KW = {"seed": 1, "clock": "virtual", "mounts": "user"}


def _column(root: str) -> tuple[dict[str, str], bool]:
    """(name -> IMAGE, whether the image service was made) from a fresh daemon."""
    with DockerClient(root=root, **KW) as cl:
        rows = cl.daemon.list(all=True)
        made = cl.daemon.image_service_made
    return {r["Names"][0].lstrip("/"): r["Image"] for r in rows}, made


def _expected(root: str) -> dict[str, str]:
    """The column as the image service resolves every name."""
    with DockerClient(root=root, **KW) as cl:
        d = cl.daemon
        out = {}
        for c in d.containers.values():
            name = c.config.get("Image") or c.image
            try:
                same = d.image_service.get_image(name).id == c.image
            except Exception:
                same = False
            out[c.name.lstrip("/")] = name if same else c.image
    return out


@pytest.fixture
def root(tmp_path):
    """`plain` from `base`, `tagged` from `other:1` (the same image), detached."""
    path = str(tmp_path / "root")
    with DockerClient(root=path, **KW) as cl:
        base = cl.images.base()
        base.tag("other", "1")
        cl.containers.create("base", ["true"], name="plain")
        cl.containers.create("other:1", ["true"], name="tagged")
    return path


def test_names_that_still_mean_the_image_need_no_image_service(root):
    column, made = _column(root)
    assert column == {"plain": "base", "tagged": "other:1"}
    assert not made
    assert column == _expected(root)


def test_a_tag_moved_to_another_image_shows_the_id(root, tmp_path):
    with DockerClient(root=root, **KW) as cl:
        ctx = tmp_path / "ctx"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text("FROM base\nRUN echo x > /x\n")
        cl.images.build(path=str(ctx), tag="other:1")
    column, _ = _column(root)
    assert column["plain"] == "base" and column["tagged"].startswith("sha256:")
    assert column == _expected(root)


def test_a_removed_tag_shows_the_id(root):
    with DockerClient(root=root, **KW) as cl:
        cl.images.remove("other:1")
    column, _ = _column(root)
    assert column["tagged"].startswith("sha256:")
    assert column == _expected(root)


def test_an_image_whose_config_does_not_verify_is_not_the_tags_image(root):
    """The image store's restore skips a config that no longer matches its ID: the tag then
    resolves to nothing, and the column shows the ID (as moby's ps does)."""
    with DockerClient(root=root, **KW) as cl:
        image_id = cl.images.get("base").id
    path = os.path.join(
        root, "image", "overlay2", "imagedb", "content", "sha256", image_id.split(":")[1]
    )
    with open(path, "ab") as f:
        f.write(b" ")
    column, _ = _column(root)
    assert column == {"plain": image_id, "tagged": image_id}
    assert column == _expected(root)
