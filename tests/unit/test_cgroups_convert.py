"""v1 -> v2 value conversions (runc 1.2's formulas) and the resources accessor."""
from __future__ import annotations

import pytest
from pyrunc.cgroups import common, convert


@pytest.mark.parametrize("shares,weight", [(0, 0), (2, 1), (1024, 39), (512, 20), (262144, 10000)])
def test_cpu_shares_to_weight(shares, weight):
    assert convert.cpu_shares_to_weight(shares) == weight


@pytest.mark.parametrize("blkio,io", [(0, 0), (10, 1), (500, 4950), (1000, 10000)])
def test_blkio_weight_to_io_weight(blkio, io):
    assert convert.blkio_weight_to_io_weight(blkio) == io


@pytest.mark.parametrize("swap,mem,out", [
    (None, -1, -1),  # memory unlimited, swap unset: swap unlimited too
    (0, -1, -1),
    (-1, 100, -1),
    (None, 100, None),  # unset stays unset
    (None, None, None),
    (300, 100, 200),  # v1 memory+swap -> v2 swap only
    (100, 100, 0),
])
def test_memory_swap_to_v2(swap, mem, out):
    assert convert.memory_swap_to_v2(swap, mem) == out


@pytest.mark.parametrize("swap,mem,msg", [
    (100, None, "without memory limit"),
    (100, -1, "without memory limit"),
    (50, 100, "should be >= memory limit"),
    (100, -5, "invalid memory value"),
])
def test_memory_swap_to_v2_errors(swap, mem, msg):
    with pytest.raises(ValueError, match=msg):
        convert.memory_swap_to_v2(swap, mem)


@pytest.mark.parametrize("quota,period,cur,out", [
    (50000, 100000, "", "50000 100000"),
    (50000, None, "max 100000", "50000"),
    (-1, None, "50000 100000", "max"),
    (-1, 250000, "", "max 250000"),
    (None, 200000, "30000 100000", "30000 200000"),  # a period alone keeps the quota
    (None, 200000, "", "max 200000"),
    (None, None, "30000 100000", None),
])
def test_cpu_max(quota, period, cur, out):
    assert convert.cpu_max(quota, period, cur) == out


def test_num_to_v2():
    assert convert.num_to_v2(-1) == "max"
    assert convert.num_to_v2(0) == "0"
    assert convert.num_to_v2(4096) == "4096"


@pytest.mark.parametrize("page,size", [("64KB", 65536), ("2MB", 2 << 20), ("1GB", 1 << 30), ("512B", 512)])
def test_pagesize_bytes(page, size):
    assert convert.pagesize_bytes(page) == size


@pytest.mark.parametrize("page", ["2M", "MB", "2mb", "2 MB", ""])
def test_pagesize_bad(page):
    with pytest.raises(ValueError):
        convert.pagesize_bytes(page)


def test_kb_dir_to_pagesize():
    assert convert.kb_dir_to_pagesize("hugepages-2048kB") == "2MB"
    assert convert.kb_dir_to_pagesize("hugepages-1048576kB") == "1GB"
    assert convert.kb_dir_to_pagesize("hugepages-64kB") == "64KB"


@pytest.mark.parametrize("camel,snake", [
    ("disableOOMKiller", "disable_oom_killer"), ("throttleReadIOPSDevice", "throttle_read_iops_device"),
    ("classID", "class_id"), ("kernelTCP", "kernel_tcp"), ("blockIO", "block_io"),
    ("hugepageLimits", "hugepage_limits"), ("realtimeRuntime", "realtime_runtime"), ("limit", "limit"),
    ("hcaHandles", "hca_handles"), ("checkBeforeUpdate", "check_before_update"),
])
def test_snake(camel, snake):
    assert common.snake(camel) == snake


def test_get_takes_model_objects_and_json():
    class Mem:
        disable_oom_killer = True
        limit = 5

    assert common.get(Mem(), "disableOOMKiller") is True
    assert common.get(Mem(), "limit") == 5
    assert common.get(Mem(), "swap") is None
    assert common.get({"disableOOMKiller": False}, "disableOOMKiller") is False
    assert common.get({"disable_oom_killer": True}, "disableOOMKiller") is True
    assert common.get(None, "limit") is None


@pytest.mark.parametrize("raw,clean", [
    ("/a/b/", "/a/b"), ("/a/../../b", "/b"), ("a/../../b", "b"), ("../x", "x"), ("", ""), ("a//b", "a/b"),
])
def test_clean_path(raw, clean):
    assert common.clean_path(raw) == clean
