"""PullProgress fed recorded Engine API progress dicts (what `dockerlayers.distribution`
emits and docker-py's `api.pull(stream=True, decode=True)` yields): no network needed."""

from __future__ import annotations

import pytest

from dockerlayers.errors import APIError
from dockerlayers.viz import PanelRunner, PullProgress

# A pull of an image whose first layer the store already has: recorded from
# dockerlayers.distribution.pull (Downloading dicts trimmed to three per layer).
RECORDED = [
    {"status": "Pulling from dockerlayers/web", "id": "full"},
    {"status": "Already exists", "progressDetail": {}, "id": "3f1c9e2a0b11"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "a0d4b7c81e22"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "b55e0f6c9d33"},
    {
        "status": "Downloading",
        "progressDetail": {"current": 524288, "total": 1572864},
        "progress": "[================>                                  ]  524.3kB/1.573MB",
        "id": "a0d4b7c81e22",
    },
    {
        "status": "Downloading",
        "progressDetail": {"current": 1572864, "total": 1572864},
        "progress": "[==================================================>]  1.573MB/1.573MB",
        "id": "a0d4b7c81e22",
    },
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "a0d4b7c81e22"},
    {"status": "Download complete", "progressDetail": {}, "id": "a0d4b7c81e22"},
    {
        "status": "Downloading",
        "progressDetail": {"current": 180, "total": 180},
        "progress": "[==================================================>]     180B/180B",
        "id": "b55e0f6c9d33",
    },
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "b55e0f6c9d33"},
    {"status": "Download complete", "progressDetail": {}, "id": "b55e0f6c9d33"},
    {
        "status": "Extracting",
        "progressDetail": {"current": 1572864, "total": 1572864},
        "progress": "[==================================================>]  1.573MB/1.573MB",
        "id": "a0d4b7c81e22",
    },
    {"status": "Pull complete", "progressDetail": {}, "id": "a0d4b7c81e22"},
    {
        "status": "Extracting",
        "progressDetail": {"current": 180, "total": 180},
        "progress": "[==================================================>]     180B/180B",
        "id": "b55e0f6c9d33",
    },
    {"status": "Pull complete", "progressDetail": {}, "id": "b55e0f6c9d33"},
    {"status": "Digest: sha256:" + "d" * 64},
    {"status": "Status: Downloaded newer image for dockerlayers/web:full"},
]


def test_one_bar_per_layer_in_order_of_appearance():
    p = PullProgress()
    for msg in RECORDED:
        p.feed(msg)
    assert list(p.statuses()) == ["3f1c9e2a0b11", "a0d4b7c81e22", "b55e0f6c9d33"]
    assert set(p.statuses().values()) == {"Already exists", "Pull complete"}
    assert len(p.controls["layers"].children) == 3
    assert all(row.bar.value == 1.0 and row.bar.bar_style == "success" for row in p.rows.values())
    r = PanelRunner(p)
    assert r.text("header") == "full: Pulling from dockerlayers/web"
    assert r.status.splitlines() == [
        "Digest: sha256:" + "d" * 64,
        "Status: Downloaded newer image for dockerlayers/web:full",
    ]
    assert r.error == ""


def test_text_is_what_the_cli_leaves_on_a_terminal():
    p = PullProgress()
    for msg in RECORDED:
        p.feed(msg)
    assert p.text().splitlines() == [
        "full: Pulling from dockerlayers/web",
        "3f1c9e2a0b11: Already exists",
        "a0d4b7c81e22: Pull complete",
        "b55e0f6c9d33: Pull complete",
        "Digest: sha256:" + "d" * 64,
        "Status: Downloaded newer image for dockerlayers/web:full",
    ]


def test_bars_move_with_the_download_and_change_colour_by_phase():
    p = PullProgress()
    seen = []
    for msg in RECORDED[:9]:
        p.feed(msg)
        row = p.rows.get("a0d4b7c81e22")
        if row is not None:
            seen.append((row.status, round(row.bar.value, 2), row.bar.bar_style))
    assert ("Pulling fs layer", 0.0, "") in seen
    assert ("Downloading", 0.33, "info") in seen
    assert ("Downloading", 1.0, "info") in seen
    row = p.rows["b55e0f6c9d33"]
    assert row.status == "Downloading" and "180B/180B" in row.label.value
    assert p.rows["a0d4b7c81e22"].line() == "a0d4b7c81e22: Download complete"


def test_waiting_layers_show_an_empty_bar():
    p = PullProgress()
    p.feed({"status": "Pulling fs layer", "progressDetail": {}, "id": "x" * 12})
    p.feed({"status": "Waiting", "progressDetail": {}, "id": "x" * 12})
    row = p.rows["x" * 12]
    assert row.bar.value == 0.0 and row.label.value == "Waiting"


def test_an_error_in_the_stream_is_shown_and_raised_by_pull():
    failed = [
        *RECORDED[:4],
        {
            "errorDetail": {"message": "filesystem layer verification failed for digest sha256:x"},
            "error": "filesystem layer verification failed for digest sha256:x",
        },
    ]

    class Api:
        def pull(self, ref, stream, decode, **kw):
            assert (ref, stream, decode) == ("dockerlayers/web:full", True, True)
            return iter(failed)

    class Client:
        api = Api()

    p = PullProgress()
    with pytest.raises(APIError, match="verification failed"):
        p.pull(Client(), "dockerlayers/web:full")
    assert "verification failed" in PanelRunner(p).error
    assert p.text().endswith("filesystem layer verification failed for digest sha256:x")


def test_pull_feeds_every_dict_and_returns_the_image():
    class Api:
        def pull(self, ref, stream, decode, **kw):
            return iter(RECORDED)

    class Images:
        def get(self, ref):
            return ("image", ref)

    class Client:
        api = Api()
        images = Images()

    p = PullProgress()
    assert p.pull(Client(), "dockerlayers/web:full") == ("image", "dockerlayers/web:full")
    assert p.messages == len(RECORDED)
    assert repr(p) == "<PullProgress>"
