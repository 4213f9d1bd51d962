"""runc's (Go flag + urfave/cli v1) argument rules."""
from __future__ import annotations

import pytest
from pyrunc.cli.goflag import FlagError, FlagSpec, parse, parse_bool, parse_duration, parse_int, reorder

SPECS = [
    FlagSpec(["all", "a"], "bool", "all"),
    FlagSpec(["bundle", "b"], "string", "bundle"),
    FlagSpec(["preserve-fds"], "int", "preserve_fds"),
    FlagSpec(["env", "e"], "slice", "env"),
    FlagSpec(["interval"], "duration", "interval"),
]


@pytest.mark.parametrize(
    "args",
    [["--bundle", "/b", "x"], ["-bundle", "/b", "x"], ["--bundle=/b", "x"], ["-bundle=/b", "x"], ["-b", "/b", "x"], ["--b=/b", "x"]],
)
def test_goflag_long_and_short_with_one_or_two_dashes(args):
    assert parse(SPECS, args) == ({"bundle": "/b"}, ["x"])


def test_goflag_interspersed_flags_after_positional():
    assert parse(SPECS, ["x", "--bundle", "/b"]) == ({"bundle": "/b"}, ["x"])


def test_goflag_bool_flag_pulls_next_positional_forward_like_urfave():
    # urfave/cli's reorderArgs moves the argument after a bool flag too:
    # `runc kill ID --all KILL` reads KILL as the container id.
    assert reorder(SPECS, ["ID", "--all", "KILL"]) == ["--all", "KILL", "ID"]
    assert parse(SPECS, ["ID", "--all", "KILL"]) == ({"all": True}, ["KILL", "ID"])


def test_goflag_double_dash_ends_flags():
    assert parse(SPECS, ["--", "-x"]) == ({}, ["-x"])
    assert parse(SPECS, ["x", "--", "--all"]) == ({}, ["x", "--all"])
    assert parse(SPECS, ["--all", "--", "x"]) == ({"all": True}, ["x"])


def test_goflag_no_reorder_stops_at_first_positional():
    values, rest = parse(SPECS, ["-e", "A=1", "ID", "sh", "-c", "--all"], reorder_args=False)
    assert values == {"env": ["A=1"]}
    assert rest == ["ID", "sh", "-c", "--all"]


@pytest.mark.parametrize("text,expected", [("--all=false", False), ("--all=0", False), ("-all=T", True), ("--all", True)])
def test_goflag_bool_values(text, expected):
    assert parse(SPECS, [text, "x"])[0] == {"all": expected}


def test_goflag_commas_never_split():
    assert parse(SPECS, ["-e", "A=1,2", "--env=B=3", "x"])[0] == {"env": ["A=1,2", "B=3"]}


@pytest.mark.parametrize(
    "args,message",
    [
        (["-dt", "x"], "flag provided but not defined: -dt"),
        (["--bogus", "x"], "flag provided but not defined: -bogus"),
        (["--bundle"], "flag needs an argument: -bundle"),
        (["--preserve-fds", "abc", "x"], 'invalid value "abc" for flag -preserve-fds: parse error'),
        (["--all=maybe", "x"], 'invalid boolean value "maybe" for -all: parse error'),
        (["---all", "x"], "bad flag syntax: ---all"),
    ],
)
def test_goflag_errors_use_go_wording(args, message):
    with pytest.raises(FlagError) as e:
        parse(SPECS, args)
    assert str(e.value) == message


def test_goflag_trailing_value_flag_takes_moved_positional():
    # reorder puts "--bundle" before "x", so x becomes its value (as in runc).
    assert parse(SPECS, ["x", "--bundle"]) == ({"bundle": "x"}, [])


def test_goflag_value_may_start_with_dash():
    assert parse(SPECS, ["--bundle", "-weird", "x"]) == ({"bundle": "-weird"}, ["x"])


def test_goflag_lone_dash_is_positional():
    assert parse(SPECS, ["-", "x"]) == ({}, ["-", "x"])


def test_goflag_numbers_like_strconv():
    assert parse_int("0x10") == 16
    assert parse_int("010") == 8
    assert parse_int("-5") == -5
    assert parse_int("1_000") == 1000
    for bad in ("", "1.5", "abc", " 1", "1__0"):
        with pytest.raises(ValueError):
            parse_int(bad)
    with pytest.raises(ValueError):
        parse_int("-1", unsigned=True)
    with pytest.raises(ValueError, match="out of range"):
        parse_int(str(2**63))


def test_goflag_durations():
    assert parse_duration("5s") == 5.0
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("250ms") == pytest.approx(0.25)
    assert parse_duration("1.5h") == 5400.0
    assert parse_duration("0") == 0.0
    for bad in ("5", "s", "", "5x"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse(SPECS, ["--interval", "2s", "x"])[0] == {"interval": 2.0}


def test_goflag_parse_bool_spellings():
    for t in ("1", "t", "T", "TRUE", "true", "True"):
        assert parse_bool(t) is True
    for f in ("0", "f", "F", "FALSE", "false", "False"):
        assert parse_bool(f) is False
    with pytest.raises(ValueError):
        parse_bool("yes")
