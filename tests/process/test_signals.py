import pytest

from dockerlayers.process.signals import SIGKILL, SIGTERM, SIGUSR1, parse_signal, signal_name


@pytest.mark.parametrize("value", ["SIGTERM", "TERM", "term", "sigterm", "15", 15])
def test_parse_signal_spellings(value):
    assert parse_signal(value) == SIGTERM


def test_parse_signal_numbers_and_realtime():
    assert parse_signal("9") == SIGKILL
    assert parse_signal("USR1") == SIGUSR1 == 10
    assert parse_signal("SIGSTOP") == 19
    assert parse_signal("RTMIN+1") == 35
    assert parse_signal("RTMAX") == 64
    assert parse_signal(40) == 40  # docker accepts any non-zero number


@pytest.mark.parametrize("value", ["FOO", "SIGFOO", "0", 0, ""])
def test_parse_signal_invalid(value):
    with pytest.raises(ValueError, match=f"^Invalid signal: {value}$"):
        parse_signal(value)


def test_signal_name():
    assert signal_name(15) == "SIGTERM"
    assert signal_name(9) == "SIGKILL"
    assert signal_name(6) == "SIGABRT"
    assert signal_name(99) == "SIG99"
