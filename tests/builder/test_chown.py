"""`COPY --chown`: numbers as they are, names from the image's /etc/passwd and /etc/group,
moby's texts when one is missing (recorded: tests/conformance/scenarios/users.scn)."""

from __future__ import annotations

import pytest

from dockerlayers.builder.copy import _parse_chown
from dockerlayers.builder.state import StepError
from dockerlayers.graphdriver.rootfs import DirRootFS

PREFIX = "unable to convert uid/gid chown string to host mapping: "


@pytest.fixture
def fs(tmp_path):
    fs = DirRootFS(str(tmp_path))
    fs.mkdir("/etc")
    fs.write_text("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:\n")
    fs.write_text("/etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\n")
    return fs


@pytest.mark.parametrize(
    ("spec", "ids"),
    [
        ("0", (0, 0)),
        ("4321", (4321, 4321)),  # a lone user is the group too
        ("1:2", (1, 2)),
        ("app", (1000, 1000)),
        ("app:staff", (1000, 50)),
        ("root:1234", (0, 1234)),
        ("5:staff", (5, 50)),
    ],
)
def test_chown_specs(fs, spec, ids):
    assert _parse_chown(spec, fs) == ids


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ("nobody2", "can't find uid for user nobody2: no such user: nobody2"),
        ("root:nogroupx", "can't find gid for group nogroupx: no such group: nogroupx"),
        ("1:2:3", "invalid chown string format: 1:2:3"),
    ],
)
def test_chown_refusals_in_mobys_words(fs, spec, text):
    with pytest.raises(StepError) as e:
        _parse_chown(spec, fs)
    assert str(e.value) == PREFIX + text
