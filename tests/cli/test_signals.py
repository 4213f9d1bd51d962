from __future__ import annotations

import signal

import pytest
from pyrunc.errors import PyruncError
from pyrunc.signals import SIGNALS, parse_signal, signal_name


@pytest.mark.parametrize("raw", ["KILL", "kill", "SIGKILL", "sigkill", "SigKill", "9", "+9"])
def test_signals_kill_spellings(raw):
    assert parse_signal(raw) == 9


def test_signals_match_host_numbers():
    for name, num in SIGNALS.items():
        host = getattr(signal, name, None)
        if host is not None:
            assert int(host) == num, name


def test_signals_realtime():
    lo, hi = int(signal.SIGRTMIN), int(signal.SIGRTMAX)
    assert parse_signal("SIGRTMIN") == lo
    assert parse_signal("rtmin+3") == lo + 3
    assert parse_signal("SIGRTMAX-1") == hi - 1
    assert parse_signal(str(lo + 1)) == lo + 1
    assert signal_name(lo + 2) == "SIGRTMIN+2"
    with pytest.raises(PyruncError):
        parse_signal(f"SIGRTMIN+{hi - lo + 1}")


@pytest.mark.parametrize("raw", ["FOO", "SIG", "", " 9", "9 ", "1_0", "SIGKILLX"])
def test_signals_unknown(raw):
    with pytest.raises(PyruncError) as e:
        parse_signal(raw)
    assert str(e.value) == f'unknown signal "{raw}"'


def test_signals_names():
    assert signal_name(15) == "SIGTERM"
    assert signal_name(6) == "SIGABRT"
    assert signal_name(17) == "SIGCHLD"
