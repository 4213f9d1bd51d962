#!/usr/bin/env python3
"""pyrunc against runc and crun, side by side in one run, reported as ratios.

Measures, per runtime: `create`+`start`+`delete -f` of a /bin/true container,
`run` alone, the memory (PSS) of a created container's waiting init, and the
CLI start-up (`--version`). Needs root, /bin/busybox (busybox-static), runc
and crun. Times are medians of --rounds runs; the machines are shared and
noisy, so this is a report, never a pass/fail test.

    sudo .venv/bin/python benchmarks/lifecycle.py [--rounds 20]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYRUNC = os.path.join(HERE, "..", ".venv", "bin", "pyrunc")


def make_bundle(path: str, args: list[str]) -> None:
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "true", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run([runtime_cmd("runc")[0], "spec"], cwd=path, check=True)
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    cfg["ociVersion"] = "1.0.2"  # the oldest version all three accept
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = args
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f)


def runtime_cmd(name: str) -> list[str]:
    if name == "pyrunc":
        exe = os.environ.get("PYRUNC") or (VENV_PYRUNC if os.path.exists(VENV_PYRUNC) else "pyrunc")
        return [exe]
    return [name]


def timed(cmd: list[str], cwd: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def measure(name: str, rounds: int, work: str) -> dict[str, float]:
    rt = runtime_cmd(name) + ["--root", os.path.join(work, f"state-{name}")]
    true_b, sleep_b = os.path.join(work, "true"), os.path.join(work, "sleep")
    lifecycle, run, pss = [], [], []
    for i in range(rounds):
        cid = f"bench-{name}-{os.getpid()}-{i}"
        t = timed(rt + ["create", cid], true_b)
        t += timed(rt + ["start", cid], true_b)
        t += timed(rt + ["delete", "-f", cid], true_b)
        lifecycle.append(t)
        run.append(timed(rt + ["run", cid + "r"], true_b))
    for i in range(min(rounds, 5)):
        cid = f"bench-{name}-{os.getpid()}-pss{i}"
        pidfile = os.path.join(work, f"{cid}.pid")
        subprocess.run(rt + ["create", "--pid-file", pidfile, cid], cwd=sleep_b, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(pidfile) as f:
            pss.append(pss_kib(int(f.read())))
        subprocess.run(rt + ["delete", "-f", cid], check=True)
    startup = [timed(runtime_cmd(name) + ["--version"], work) for _ in range(rounds)]
    return {
        "create+start+delete": statistics.median(lifecycle),
        "run": statistics.median(run),
        "init PSS (KiB)": statistics.median(pss),
        "--version": statistics.median(startup),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--runtimes", default="pyrunc,runc,crun")
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:  # one runtime, already in the right mount namespace
        print(json.dumps(measure(a.inner, a.rounds, a.work)))
        return
    work = tempfile.mkdtemp(prefix="pyrunc-bench-")
    try:
        make_bundle(os.path.join(work, "true"), ["true"])
        make_bundle(os.path.join(work, "sleep"), ["sleep", "1000"])
        results = {}
        for name in a.runtimes.split(","):
            if not shutil.which(runtime_cmd(name)[0]):
                print(f"skipping {name}: not installed", file=sys.stderr)
                continue
            inner = [sys.executable, os.path.abspath(__file__), "--inner", name, "--work", work, "--rounds", str(a.rounds)]
            if name == "crun" and os.path.ismount("/sys/fs/cgroup/unified"):
                # crun refuses hybrid hosts: hide the empty cgroup2 mount in a private namespace.
                inner = ["unshare", "-m", "--", "sh", "-c", 'umount /sys/fs/cgroup/unified && exec "$@"', "sh"] + inner
            proc = subprocess.run(inner, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name} failed:\n{proc.stderr}", file=sys.stderr)
                continue
            out = proc.stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
        report(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, dict[str, float]]) -> None:
    base = results.get("runc")
    names = list(results)
    metrics = list(next(iter(results.values())))
    print(f"{'metric':<22}" + "".join(f"{n:>12}" for n in names) + ("   pyrunc/runc  pyrunc/crun" if base else ""))
    for m in metrics:
        row = f"{m:<22}"
        for n in names:
            v = results[n][m]
            row += f"{v:>12.0f}" if "KiB" in m else f"{v * 1000:>10.1f}ms"
        if base and "pyrunc" in results:
            row += f"   {results['pyrunc'][m] / base[m]:>10.2f}x"
            if "crun" in results:
                row += f"  {results['pyrunc'][m] / results['crun'][m]:>10.2f}x"
        print(row)


if __name__ == "__main__":
    main()
