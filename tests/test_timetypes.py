"""`--since`/`--until` values as moby's GetTimestamp reads them."""

from __future__ import annotations

import pytest

from dockerlayers.timetypes import get_timestamp

NOW = 1_700_000_000.0


def test_zero_is_the_epoch_not_a_zero_duration():
    # moby: api/types/time/timestamp.go (`value != "0"` before the duration parse)
    assert get_timestamp("0", NOW) == 0.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10m", NOW - 600),
        ("1h30m", NOW - 5400),
        ("1700000000", 1_700_000_000.0),
        ("1700000000.5", 1_700_000_000.5),
        ("2023-11-14T22:13:20Z", 1_700_000_000.0),
    ],
)
def test_durations_seconds_and_dates(value, expected):
    assert get_timestamp(value, NOW) == pytest.approx(expected)


def test_garbage_is_docker_s_error():
    with pytest.raises(ValueError, match='failed to parse value as time or duration: "soon"'):
        get_timestamp("soon", NOW)
