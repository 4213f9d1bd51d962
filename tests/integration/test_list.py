"""`list`: runc's table, json (null when empty) and -q."""
from __future__ import annotations

import json

from conftest import Bundle, Runtime


def test_list_empty(runtime: Runtime, runc: Runtime) -> None:
    for rt in (runtime, runc):
        rt.root.mkdir(mode=0o700, exist_ok=True)
        assert rt.ok("list").out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"
        assert rt.ok("list", "-f", "json").out == "null\n"
        assert rt.ok("list", "-q").out == ""


def test_list_containers(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    a, b = sorted([runtime.new_id("a"), runtime.new_id("b")])
    runtime.ok("create", "-b", str(bundle.path), a)
    runtime.ok("run", "-d", "-b", str(bundle.path), b)
    try:
        items = json.loads(runtime.ok("list", "-f", "json").out)
        assert [i["id"] for i in items] == [a, b]
        assert [i["status"] for i in items] == ["created", "running"]
        assert all(i["owner"] == "root" for i in items)
        assert list(items[0]) == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]
        assert runtime.ok("list", "-q").out == f"{a}\n{b}\n"
        lines = runtime.ok("list").out.splitlines()
        assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
        row = lines[1].split()
        assert row == [a, str(items[0]["pid"]), "created", str(bundle.path), items[0]["created"], "root"]
        # tabwriter: each column is its widest cell + 3 spaces.
        assert lines[1].index("created") == lines[0].index("STATUS")
    finally:
        runtime.ok("delete", "-f", a)
        runtime.ok("delete", "-f", b)


def test_list_table_same_as_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    ours, theirs = runtime.new_id(), runc.new_id()
    assert len(ours) == len(theirs)
    runtime.ok("create", "-b", str(bundle.path), ours)
    runc.ok("create", "-b", str(bundle.path), theirs)
    try:
        a = json.loads(runtime.ok("list", "-f", "json").out)[0]
        b = json.loads(runc.ok("list", "-f", "json").out)[0]
        assert list(a) == list(b)
        ta = runtime.ok("list").out.replace(ours, "ID").replace(str(a["pid"]), "PID").replace(a["created"], "T")
        tb = runc.ok("list").out.replace(theirs, "ID").replace(str(b["pid"]), "PID").replace(b["created"], "T")
        # Column widths depend on the created time's length (Go drops trailing zeros).
        if len(a["created"]) == len(b["created"]) and len(str(a["pid"])) == len(str(b["pid"])):
            assert ta == tb
    finally:
        runtime.ok("delete", "-f", ours)
        runc.ok("delete", "-f", theirs)
