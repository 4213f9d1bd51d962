"""--log / --log-format: the shapes engines parse (one error line per failure)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from pyrunc import log

TEXT_LINE = re.compile(r'^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=(\w+) msg=(.*)$')


def test_log_text_error_line_on_stderr(cli):
    r = cli("state", "a/b")
    lines = r.err.splitlines()
    assert len(lines) == 1
    m = TEXT_LINE.match(lines[0])
    assert m and m.group(2) == "error" and m.group(3) == '"invalid container ID format"'


def test_log_json_file_one_line_per_failure(cli, tmp_path):
    path = tmp_path / "log.json"
    for _ in range(2):
        r = cli("--log", str(path), "--log-format", "json", "state", "a/b")
        assert r.code == 1
        # With the log in a file, runc still prints the bare message on stderr.
        assert r.err == "invalid container ID format\n"
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # appended, one per failure
    for line in lines:
        obj = json.loads(line)
        assert list(obj) == ["level", "msg", "time"]
        assert obj["level"] == "error" and obj["msg"] == "invalid container ID format"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$", obj["time"])
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644 & ~_umask())


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_log_json_usage_error_is_one_line(cli, tmp_path):
    path = tmp_path / "log.json"
    r = cli("--log", str(path), "--log-format=json", "start")
    assert r.code == 1
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["msg"] == 'pyrunc: "start" requires exactly 1 argument(s)'


def test_log_single_dash_global_flags(cli, tmp_path):
    path = tmp_path / "l"
    r = cli("-log", str(path), "-log-format", "json", "state", "a/b")
    assert r.code == 1
    assert json.loads(path.read_text())["level"] == "error"


def test_log_debug_lines_only_with_debug(tmp_path):
    path = str(tmp_path / "d")
    log.configure(path, "json", debug=False)
    log.debug("hidden")
    log.info("shown")
    log.configure(path, "json", debug=True)
    log.debug("now shown", key="v")
    lines = [json.loads(x) for x in Path(path).read_text().splitlines()]
    assert [(x["level"], x["msg"]) for x in lines] == [("info", "shown"), ("debug", "now shown")]
    assert lines[1]["key"] == "v"


def test_log_warning_level_name(tmp_path):
    path = str(tmp_path / "w")
    log.configure(path, "text")
    log.warning("careful", path="/a b")
    line = Path(path).read_text()
    assert re.match(r'^time="[^"]+" level=warning msg=careful path="/a b"\n$', line)


@pytest.mark.parametrize(
    "value,quoted",
    [
        ("plain", "plain"),
        ("a-b.c_d/e@f^g+h", "a-b.c_d/e@f^g+h"),
        ("has space", '"has space"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("tab\there", '"tab\\there"'),
        ("\x01", '"\\x01"'),
        ("", ""),
    ],
)
def test_log_text_quoting_like_logrus(value, quoted):
    assert log._text_value(value) == quoted


def test_log_json_escapes_html_like_go(tmp_path):
    path = str(tmp_path / "h")
    log.configure(path, "json")
    log.error("<a&b>")
    raw = Path(path).read_text()
    assert "\\u003ca\\u0026b\\u003e" in raw
    assert json.loads(raw)["msg"] == "<a&b>"


def test_log_criu_flag_warns(cli):
    r = cli("--criu", "/usr/sbin/criu", "list")
    assert "level=warning" in r.err and "--criu" in r.err


def test_log_terminal_format_like_logrus():
    line = log.format_line("error", "boom", tty=True)
    assert re.match(r"^\x1b\[31mERRO\x1b\[0m\[\d{4}\] boom {40} \n$", line)
    line = log.format_line("warning", "w", {"k": "a b"}, tty=True)
    assert line.startswith("\x1b[33mWARN\x1b[0m[")
    assert line.endswith(' \x1b[33mk\x1b[0m="a b"\n')
