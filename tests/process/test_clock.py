import pytest

from dockerlayers.process.clock import (
    ZERO_TIME,
    RealClock,
    VirtualClock,
    format_rfc3339nano,
    human_duration,
    make_clock,
    parse_rfc3339nano,
)

MIN, HOUR, DAY = 60, 3600, 86400
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


def test_virtual_clock_moves_only_when_asked():
    c = VirtualClock()
    assert c.now() == 1704067200.0
    assert c.now() == 1704067200.0
    assert c.advance(1.5) == 1704067201.5
    assert c.advance_to(1704067300.0) == 1704067300.0
    assert c.advance_to(0) == 1704067300.0  # never backwards
    with pytest.raises(ValueError):
        c.advance(-1)


def test_make_clock():
    assert isinstance(make_clock(None), RealClock)
    assert isinstance(make_clock("virtual"), VirtualClock)
    v = VirtualClock(5)
    assert make_clock(v) is v
    with pytest.raises(ValueError):
        make_clock("sundial")


@pytest.mark.parametrize(
    "t, text",
    [
        (1704067200.0, "2024-01-01T00:00:00Z"),
        (1704067200.5, "2024-01-01T00:00:00.5Z"),
        (1704067200.123456, "2024-01-01T00:00:00.123456Z"),
        (0.0, "1970-01-01T00:00:00Z"),
        (None, ZERO_TIME),
    ],
)
def test_rfc3339nano_round_trip(t, text):
    assert format_rfc3339nano(t) == text
    assert parse_rfc3339nano(text) == t


def test_parse_rfc3339nano_nanoseconds_and_offsets():
    assert parse_rfc3339nano("2024-01-01T00:00:00.123456789Z") == pytest.approx(
        1704067200.123456789
    )
    assert parse_rfc3339nano("2024-01-01T01:00:00+01:00") == 1704067200.0
    with pytest.raises(ValueError):
        parse_rfc3339nano("yesterday")


# go-units duration_test.go TestHumanDuration, case for case
@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.45, "Less than a second"),
        (1, "1 second"),
        (45, "45 seconds"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (3 * MIN, "3 minutes"),
        (35 * MIN + 40, "35 minutes"),
        (59 * MIN, "59 minutes"),
        (HOUR, "About an hour"),
        (HOUR + 29 * MIN, "About an hour"),
        (HOUR + 31 * MIN, "2 hours"),
        (3 * HOUR + 29 * MIN, "3 hours"),
        (3 * HOUR + 31 * MIN, "4 hours"),
        (24 * HOUR, "24 hours"),
        (DAY + 12 * HOUR, "36 hours"),
        (2 * DAY, "2 days"),
        (13 * DAY + 5 * HOUR, "13 days"),
        (2 * WEEK, "2 weeks"),
        (2 * WEEK + 4 * DAY, "2 weeks"),
        (MONTH, "4 weeks"),
        (MONTH + 2 * WEEK, "6 weeks"),
        (2 * MONTH, "2 months"),
        (5 * MONTH + 2 * WEEK, "5 months"),
        (24 * MONTH, "24 months"),
        (24 * MONTH + 2 * WEEK, "2 years"),
        (3 * YEAR + 2 * MONTH, "3 years"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text
