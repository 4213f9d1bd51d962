#!/usr/bin/env python3
"""pyrunc against runc and crun, side by side in one run, reported as ratios.

Measures, per runtime: `create`, `start`, `state`, `delete` of a /bin/true
container (and their sum), `run` alone, `--version` (CLI start-up), the
memory (PSS) of a created container's waiting init, and for pyrunc also
`python -c pass` (the interpreter's own floor). Each time is the median of
--rounds runs, wall clock and CPU (user+sys of the child, from wait4: far
less sensitive to a busy machine than wall time). Needs root,
/bin/busybox (busybox-static), runc and crun.

pyrunc is measured as installed from a wheel: pip byte-compiles a wheel at
install time, while the editable dev install does not (and with
PYTHONDONTWRITEBYTECODE every run recompiles every module). So before
measuring, the package and click are byte-compiled in place (compileall,
what pip runs) and PYTHONDONTWRITEBYTECODE is dropped from pyrunc's
environment; the report says so. --no-compile measures the dev case instead.

With --instructions, user-space instructions of `--version`, `state`,
`start` and `delete` are counted under valgrind (callgrind): exact and
repeatable even on a loaded machine (perf counters are not available in
most VMs). These are the Python process's own, the init excluded; pyrunc
only (valgrind cannot run Go programs such as runc).

    sudo .venv/bin/python benchmarks/lifecycle.py [--rounds 20] [--instructions]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VENV_PYRUNC = os.path.join(REPO, ".venv", "bin", "pyrunc")
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
STEPS = ("create", "start", "state", "delete")


def make_bundle(path: str, args: list[str]) -> None:
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "true", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run(["runc", "spec"], cwd=path, check=True)
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


def pyrunc_python() -> str:
    exe = runtime_cmd("pyrunc")[0]
    with open(shutil.which(exe) or exe, "rb") as f:
        first = f.readline()
    return first[2:].decode().strip() if first.startswith(b"#!") else sys.executable


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(cmd: list[str], cwd: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, user+sys CPU of the child) in seconds; fails on a non-zero exit."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return wall, ru.ru_utime + ru.ru_stime


def pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def measure(name: str, rounds: int, work: str) -> dict[str, list[float]]:
    env = child_env()
    rt = runtime_cmd(name) + ["--root", os.path.join(work, f"state-{name}")]
    true_b, sleep_b = os.path.join(work, "true"), os.path.join(work, "sleep")
    samples: dict[str, list[float]] = {}

    def add(metric: str, wall_cpu: tuple[float, float]) -> tuple[float, float]:
        samples.setdefault(metric, []).append(wall_cpu[0])
        samples.setdefault(metric + " cpu", []).append(wall_cpu[1])
        return wall_cpu

    for i in range(rounds):
        cid = f"bench-{name}-{os.getpid()}-{i}"
        total = [0.0, 0.0]
        for step, args in (("create", ["create", cid]), ("start", ["start", cid]),
                           ("state", ["state", cid]), ("delete", ["delete", "-f", cid])):
            w, c = add(step, timed(rt + args, true_b, env))
            total[0] += w
            total[1] += c
        add("create+start+state+delete", (total[0], total[1]))
        add("run", timed(rt + ["run", cid + "r"], true_b, env))
        add("--version", timed(runtime_cmd(name) + ["--version"], work, env))
        if name == "pyrunc":
            add("python -c pass", timed([pyrunc_python(), "-c", "pass"], work, env))
    for i in range(min(rounds, 5)):
        cid = f"bench-{name}-{os.getpid()}-pss{i}"
        pidfile = os.path.join(work, f"{cid}.pid")
        subprocess.run(rt + ["create", "--pid-file", pidfile, cid], cwd=sleep_b, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(pidfile) as f:
            samples.setdefault("init PSS (KiB)", []).append(pss_kib(int(f.read())))
        subprocess.run(rt + ["delete", "-f", cid], env=env, check=True)
    return samples


def instructions(name: str, work: str) -> dict[str, float]:
    """Callgrind's instruction count (Ir) of --version, state, start, delete."""
    env = child_env()
    rt = runtime_cmd(name) + ["--root", os.path.join(work, f"state-{name}")]
    true_b = os.path.join(work, "true")
    cid = f"bench-{name}-{os.getpid()}-ir"

    def ir(args: list[str]) -> float:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args]
        out = subprocess.run(cmd, cwd=true_b, env=env, capture_output=True, text=True, check=True).stderr
        m = re.search(r"Collected : (\d+)", out)
        return float(m.group(1)) if m else float("nan")

    out = {"--version": ir(runtime_cmd(name) + ["--version"])}
    if name == "pyrunc":
        out["python -c pass"] = ir([pyrunc_python(), "-c", "pass"])
    subprocess.run(rt + ["create", cid], cwd=true_b, env=env, check=True)
    try:
        out["state"] = ir(rt + ["state", cid])
        out["start"] = ir(rt + ["start", cid])
        out["delete"] = ir(rt + ["delete", cid])
    finally:
        subprocess.run(rt + ["delete", "-f", cid], env=env, check=False, stderr=subprocess.DEVNULL)
    return out


def byte_compile() -> str:
    """What pip does at install time: .pyc files for pyrunc and click."""
    py = pyrunc_python()
    code = ("import compileall, os, sys, click, pyrunc\n"
            "ok = all([compileall.compile_dir(os.path.dirname(m.__file__), quiet=1) for m in (pyrunc, click)])\n"
            "sys.exit(0 if ok else 1)\n")
    subprocess.run([py, "-c", code], check=True, env=child_env())
    return "byte-compiled in place (as pip does for a wheel), PYTHONDONTWRITEBYTECODE unset"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--runtimes", default="pyrunc,runc,crun")
    ap.add_argument("--no-compile", action="store_true", help="measure the dev install without .pyc files")
    ap.add_argument("--instructions", action="store_true", help="also count instructions under valgrind")
    ap.add_argument("--json", help="also write the raw medians to this file")
    ap.add_argument("--inner", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:  # one runtime, already in the right mount namespace
        res = {"samples": measure(a.inner, a.rounds, a.work)}
        if a.instructions:
            res["instructions"] = instructions(a.inner, a.work)
        print(json.dumps(res))
        return
    if a.no_compile:
        how = "dev install as is (no byte-compiling)"
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        how = byte_compile()
    work = tempfile.mkdtemp(prefix="pyrunc-bench-", dir="/run" if os.path.isdir("/run") else None)
    try:
        make_bundle(os.path.join(work, "true"), ["true"])
        make_bundle(os.path.join(work, "sleep"), ["sleep", "1000"])
        results = {}
        for name in a.runtimes.split(","):
            if not shutil.which(runtime_cmd(name)[0]):
                print(f"skipping {name}: not installed", file=sys.stderr)
                continue
            inner = [sys.executable, os.path.abspath(__file__), "--inner", name, "--work", work,
                     "--rounds", str(a.rounds)]
            if a.instructions and name == "pyrunc":  # valgrind cannot run Go binaries (runc)
                inner.append("--instructions")
            if name == "crun" and os.path.ismount("/sys/fs/cgroup/unified"):
                # crun refuses hybrid hosts: hide the empty cgroup2 mount in a private namespace.
                inner = ["unshare", "-m", "--", "sh", "-c", 'umount /sys/fs/cgroup/unified && exec "$@"', "sh"] + inner
            proc = subprocess.run(inner, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{name} failed:\n{proc.stderr}", file=sys.stderr)
                continue
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(header(a.rounds, how))
        report(results)
        if a.json:
            with open(a.json, "w") as f:
                json.dump({n: {m: statistics.median(v) for m, v in r["samples"].items()}
                           for n, r in results.items()}, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def header(rounds: int, how: str) -> str:
    load = os.getloadavg()[0]
    return (f"# {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {os.cpu_count()} CPUs, "
            f"kernel {platform.release()}, load {load:.1f}, median of {rounds} rounds\n"
            f"# pyrunc: {how}; python {platform.python_version()}; state under /run")


def report(results: dict[str, dict]) -> None:
    names = list(results)
    if not names:
        return
    med = {n: {m: statistics.median(v) for m, v in results[n]["samples"].items()} for n in names}
    ratios = [b for b in ("runc", "crun") if b in med and "pyrunc" in med]
    order = ["create+start+state+delete", *STEPS, "run", "--version", "python -c pass", "init PSS (KiB)"]
    print(f"{'':<28}" + "".join(f"{n:>20}" for n in names) + "".join(f"  pyrunc/{b:<5}" for b in ratios))
    print(f"{'':<28}" + "".join(f"{'wall / cpu':>20}" for _ in names))
    for m in order:
        if not any(m in med[n] for n in names):
            continue
        row = f"{m:<28}"
        for n in names:
            if m not in med[n]:
                row += f"{'-':>20}"
            elif "KiB" in m:
                row += f"{med[n][m]:>20.0f}"
            else:
                row += f"{med[n][m] * 1000:>9.1f} / {med[n].get(m + ' cpu', 0) * 1000:>5.1f} ms"
        for b in ratios:
            if m in med["pyrunc"] and m in med[b] and med[b][m]:
                row += f"  {med['pyrunc'][m] / med[b][m]:>11.2f}x"
        print(row)
    if any("instructions" in results[n] for n in names):
        print("\ninstructions (callgrind, millions)")
        for n in names:
            ins = results[n].get("instructions") or {}
            if ins:
                print(f"  {n:<8}" + "  ".join(f"{k} {v / 1e6:.0f}M" for k, v in ins.items()))


if __name__ == "__main__":
    main()
