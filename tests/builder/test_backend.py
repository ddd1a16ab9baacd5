"""The Daemon adapter of the builder's Backend: a build reaches the daemon only through
its public methods and attributes."""

from __future__ import annotations

from typing import Any

from dockerlayers.builder import build
from tests.support.builds import write_context

#: All the builder may touch on a Daemon (the adapter's whole reach).
PUBLIC = {
    "base_image",
    "create",
    "ids",
    "image_service",
    "layer_store",
    "logs",
    "mount",
    "remove",
    "root",
    "start",
    "wait",
}


class _Recorder:
    """Passes attribute reads through to the daemon, noting each name."""

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_names", set())

    def __getattr__(self, name: str) -> Any:
        self._names.add(name)
        return getattr(self._target, name)


def test_a_build_uses_only_the_daemons_public_face(client, tmp_path):
    ctx = write_context(
        tmp_path / "ctx",
        {
            "Dockerfile": (
                "FROM base AS one\n"
                "WORKDIR /w\n"
                "RUN echo hi > f\n"
                "FROM base:1\n"
                "COPY --from=one /w/f /f\n"
                "ADD a.txt /\n"
                "CMD cat /f\n"
            ),
            "a.txt": "a\n",
        },
    )
    daemon = _Recorder(client.daemon)
    image_id, lines = build(daemon, ctx, tags=["app:1"])
    assert lines[-2:] == [f"Successfully built {image_id[7:19]}", "Successfully tagged app:1"]
    assert client.daemon.image_service.get_image("app:1").id == image_id
    used = daemon._names
    assert used <= PUBLIC, used - PUBLIC
    assert {"create", "start", "wait", "logs", "remove", "mount", "layer_store"} <= used
