"""The pull/push progress display (moby: pkg/jsonmessage DisplayJSONMessagesStream):
one line per event off a terminal, without progress bars; on a terminal each layer's
line is redrawn in place (cursor up, erase line, cursor down)."""

from __future__ import annotations

import io

from dockerlayers.cli.commands.registry import JSONMessageDisplay

EVENTS = [
    {"status": "Pulling from x", "id": "1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
    {
        "status": "Downloading",
        "progressDetail": {"current": 5, "total": 10},
        "progress": "[==>  ]",
        "id": "aaa",
    },
    {"status": "Download complete", "progressDetail": {}, "id": "aaa"},
    {"progressDetail": {}, "aux": {"Tag": "1"}},
    {"status": "Digest: sha256:d"},
]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_one_line_per_event_without_bars():
    out = io.StringIO()
    show = JSONMessageDisplay(out, tty=False)
    for e in EVENTS:
        show(e)
    assert out.getvalue() == (
        "1: Pulling from x\n"
        "aaa: Pulling fs layer\n"
        "bbb: Pulling fs layer\n"
        "aaa: Download complete\n"
        "Digest: sha256:d\n"
    )


def test_terminal_redraws_each_layer_line_in_place():
    out = _Tty()
    show = JSONMessageDisplay(out, tty=True)
    for e in EVENTS:
        show(e)
    up, down, clear = "\x1b[{}A", "\x1b[{}B", "\x1b[2K\r"
    assert out.getvalue() == (
        "1: Pulling from x\n"
        "\n"
        + up.format(1)
        + clear
        + "aaa: Pulling fs layer \r"
        + down.format(1)
        + "\n"
        + up.format(1)
        + clear
        + "bbb: Pulling fs layer \r"
        + down.format(1)
        + up.format(2)
        + clear
        + "aaa: Downloading [==>  ]\r"
        + down.format(2)
        + up.format(2)
        + clear
        + "aaa: Download complete \r"
        + down.format(2)
        + "Digest: sha256:d\n"
    )
