"""Benchmark: how the local cost of `voicectl` grows from 1,000 to 10,000 voices.

For each size N it writes a project of N voices (small generated WAV samples,
distinct bytes each), starts ``voicectl sandbox serve`` with no latency and the
clone limit raised, and runs the real CLI as a subprocess:

* ``apply`` of N creates: its wall time minus the emulator's own CPU time (read
  from ``/proc/<pid>/stat`` of the sandbox before and after: the service's cost
  of each request), divided by N = the local overhead per created voice.
  Target: <= 2 ms.
* a no-change ``plan``: its wall time minus the list call's own time (a bare
  httpx GET of the same N clones, best of 3) = the plan's local overhead.
  Targets: <= 0.3 s at 1,000, <= 2 s at 10,000.
* the 10,000 / 1,000 growth ratio of each (linear: <= 11x), and the peak RSS of
  each command (``wait4``'s ru_maxrss; target <= 150 MB at 10,000).

Also printed: the apply's own CPU time, a bare ``voicectl --version`` (process
start-up, included in both overheads), and the import floor: the same interpreter
importing only the libraries a plan is built on (click, pydantic, httpx and its
transport, PyYAML, asyncio), best of 5, as a share of the plan's local cost.

Run: ``python bench/bench_scale.py`` (both sizes), ``--sizes 1000`` for one, and
``--source DIR`` to measure the voicectl of another checkout (e.g. a "before"
worktree) with this script. A command that takes longer than ``--timeout``
seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import compileall
import os
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from bench_create import KEY, ROOT, Sandbox

CLK_TCK = os.sysconf("SC_CLK_TCK")


def make_sample(path: Path, index: int) -> None:
    """5.5 s of 8-bit mono audio at 1 kHz (5.5 kB), unique per index."""
    rate = 1000
    body = bytearray((128 + ((n * 7) % 50)) & 0xFF for n in range(int(5.5 * rate)))
    body[:4] = struct.pack("<I", index)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(bytes(body))


def write_project(folder: Path, count: int) -> Path:
    samples = folder / "samples"
    samples.mkdir()
    lines = ["version: 1", "stack: scale", "defaults: {language: en}", "voices:"]
    for i in range(count):
        make_sample(samples / f"v{i:05d}.wav", i)
        lines += [f"  v{i:05d}:", f"    file: samples/v{i:05d}.wav"]
    manifest = folder / "voices.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    old = time.time() - 3600  # samples written an hour ago, as in a real repository
    for path in samples.iterdir():
        os.utime(path, (old, old))
    return manifest


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Run:
    def __init__(self, wall: float, code: int, cpu: float, rss_mb: float, out: str):
        self.wall, self.code, self.cpu, self.rss_mb, self.out = wall, code, cpu, rss_mb, out


def voicectl(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Run:
    """Run ``python -m reconciler ARGS``; wall time, exit code, CPU time, peak RSS."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = 0
        out.seek(0)
        text = out.read()
    code = os.waitstatus_to_exitcode(status) if status != -1 else -1
    return Run(wall, code, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def list_time(url: str) -> tuple[float, int]:
    """Best of 3 bare GETs of the clone list: the service's own time for it."""
    best = float("inf")
    count = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        for _ in range(3):
            start = time.perf_counter()
            response = http.get("/waves/v1/voice-cloning", timeout=120)
            best = min(best, time.perf_counter() - start)
            response.raise_for_status()
            body = response.json()
            data = body.get("data", body) if isinstance(body, dict) else body
            count = len(data) if isinstance(data, list) else -1
    return best, count


# anyio's asyncio backend only where the plan's transport uses it: on 3.11+ httpcore
# talks through reconciler/api/network.py's asyncio streams instead.
_ANYIO = ", anyio._backends._asyncio" if sys.version_info < (3, 11) else ""
FLOOR = (
    f"import click, httpx, httpcore._async{_ANYIO}, yaml, asyncio\nfrom pydantic import BaseModel"
)


def import_floor() -> float:
    """Best of 5: the interpreter starting and importing only the libraries."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", FLOOR], check=True)
        best = min(best, time.perf_counter() - start)
    return best


def measure(count: int, *, source: Path, timeout: float) -> dict[str, float]:
    results: dict[str, float] = {}
    flags = ["--clone-limit", str(count + 100)]
    env = {**os.environ, "SMALLEST_API_KEY": KEY, "PYTHONPATH": str(source)}
    with tempfile.TemporaryDirectory() as tmp, Sandbox(flags) as sandbox:
        env["VOICECTL_API_URL"] = sandbox.url
        folder = Path(tmp)
        manifest = write_project(folder, count)
        version = voicectl(["--version"], env=env, cwd=source, timeout=60)
        results["start"] = version.wall

        assert sandbox.proc is not None
        server_before = cpu_seconds(sandbox.proc.pid)
        apply = voicectl(
            ["apply", "--auto-approve", "-f", str(manifest)], env=env, cwd=source, timeout=timeout
        )
        server_cpu = cpu_seconds(sandbox.proc.pid) - server_before
        if apply.code != 0:
            print(
                f"  apply of {count}: exit {apply.code}"
                + (" (stopped: --timeout)" if apply.code == -1 else "")
            )
            print("  " + "\n  ".join(apply.out.strip().splitlines()[-5:]))
            results["apply_failed"] = 1
            return results
        results.update(
            apply_wall=apply.wall,
            apply_cpu=apply.cpu,
            apply_server=server_cpu,
            apply_local=apply.wall - server_cpu,
            apply_rss=apply.rss_mb,
        )
        listed, n = list_time(sandbox.url)
        assert n == count, f"the sandbox lists {n} clones, not {count}"
        results["list"] = listed
        best: Run | None = None
        for _ in range(2):  # the first one may still hash samples the apply did not cache
            plan = voicectl(["plan", "-f", str(manifest)], env=env, cwd=source, timeout=timeout)
            if plan.code != 0 or "No changes" not in plan.out:
                print(f"  plan of {count}: exit {plan.code}\n  {plan.out.strip()[-400:]}")
                results["plan_failed"] = 1
                return results
            if best is None or plan.wall < best.wall:
                best = plan
        assert best is not None
        results.update(plan_wall=best.wall, plan_local=best.wall - listed, plan_rss=best.rss_mb)
        results["floor"] = import_floor()
    return results


def report(count: int, r: dict[str, float]) -> None:
    print(f"{count} voices:")
    print(f"  process start-up (voicectl --version) {r['start']:.3f} s")
    if "apply_wall" in r:
        per = r["apply_local"] / count * 1000
        print(
            f"  apply of {count} creates: wall {r['apply_wall']:.2f} s, emulator CPU "
            f"{r['apply_server']:.2f} s -> local {r['apply_local']:.2f} s = "
            f"{per:.2f} ms per created voice (target <= 2; voicectl CPU "
            f"{r['apply_cpu'] / count * 1000:.2f} ms/voice), peak RSS {r['apply_rss']:.0f} MB"
        )
    if "plan_wall" in r:
        target = 0.3 if count <= 1000 else 2.0
        print(
            f"  no-op plan: wall {r['plan_wall']:.3f} s, list call {r['list']:.3f} s -> local "
            f"{r['plan_local']:.3f} s (target <= {target:g}), "
            f"{r['plan_local'] - r['start']:.3f} s beyond process start-up, "
            f"peak RSS {r['plan_rss']:.0f} MB"
        )
        print(
            f"  import floor (the libraries alone, no voicectl code): {r['floor']:.3f} s = "
            f"{r['floor'] / r['plan_local']:.0%} of the plan's local cost"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose voicectl runs")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    load = os.getloadavg()
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores); voicectl from {args.source}"
    )
    # An installed voicectl has its bytecode compiled (pip does it); a checkout run with
    # PYTHONDONTWRITEBYTECODE set would compile ~100 modules on every command instead.
    compileall.compile_dir(str(args.source.resolve() / "reconciler"), quiet=1)
    measured = {}
    for count in sizes:
        measured[count] = measure(count, source=args.source.resolve(), timeout=args.timeout)
        report(count, measured[count])
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        a, b = measured[small], measured[big]
        scale = big / small
        print(f"growth {big}/{small} ({scale:g}x the voices; linear <= {scale * 1.1:g}x):")
        for key, label in (
            ("apply_local", "apply local overhead"),
            ("plan_local", "no-op plan local overhead"),
        ):
            if key in a and key in b:
                print(f"  {label}: {b[key] / a[key]:.2f}x")
        if "plan_rss" in b:
            print(
                f"  peak RSS at {big}: apply {b.get('apply_rss', 0):.0f} MB, "
                f"plan {b['plan_rss']:.0f} MB (target <= 150)"
            )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failed = any(k.endswith("_failed") for r in measured.values() for k in r)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
