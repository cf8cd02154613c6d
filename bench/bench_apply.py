"""Benchmark: `voicectl apply` of a 60-voice manifest vs the ideal and vs a naive script.

Starts ``voicectl sandbox serve --latency-ms 200 --concurrency-limit 4`` and
runs the real CLI (a subprocess, so process start, manifest validation of 60
samples, the list, the plan and every lockfile write are all counted) to create
60 voices. Then, in the same run, it resets the sandbox and times what teams do
today: a throwaway script creating the clones one after another. It prints:

* apply elapsed / ideal, where ideal = one list + 60 creates at the server's
  capacity = 0.2 s + 60 x 0.2 s / 4 = 3.2 s;
* the speed-up over the naive script;
* a second apply (nothing to do): elapsed / ideal (one list, 0.2 s), and that the
  lockfile stayed byte-identical.

Run: ``python bench/bench_apply.py``. Absolute times depend on the machine; the
ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_create import KEY, ROOT, Sandbox, make_sample, run_naive

LATENCY = 0.2
LIMIT = 4


def write_project(folder: Path, count: int) -> Path:
    (folder / "samples").mkdir()
    lines = ["version: 1", "stack: bench", "defaults: {language: en}", "voices:"]
    for i in range(count):
        make_sample(folder / "samples" / f"v{i:02d}.wav", seconds=5.5, rate=16000 + i)
        lines += [f"  v{i:02d}:", f"    file: samples/v{i:02d}.wav"]
    manifest = folder / "voices.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def run_apply(url: str, manifest: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "SMALLEST_API_KEY": KEY, "VOICECTL_API_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "-f", str(manifest)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args(argv)
    count = args.count
    flags = ["--latency-ms", str(int(LATENCY * 1000)), "--concurrency-limit", str(LIMIT)]
    with tempfile.TemporaryDirectory() as tmp, Sandbox(flags) as sandbox:
        folder = Path(tmp)
        manifest = write_project(folder, count)
        elapsed, done = run_apply(sandbox.url, manifest)
        if done.returncode != 0:
            print(done.stdout + done.stderr)
            return 1
        lock_before = (folder / "voices.lock.json").read_bytes()
        stats = sandbox.hook("GET", "stats")
        noop_elapsed, noop = run_apply(sandbox.url, manifest)
        unchanged = (folder / "voices.lock.json").read_bytes() == lock_before
        sandbox.hook("POST", "reset")
        naive_elapsed, naive_failed = asyncio.run(
            run_naive(sandbox.url, folder / "samples" / "v00.wav", count)
        )
    ideal = LATENCY + count * LATENCY / LIMIT
    print(f"voices:              {count} (server limit {LIMIT}, not told; latency 200 ms)")
    print(f"apply elapsed:       {elapsed:.3f} s  (a new process: start, validate, list, plan)")
    print(f"ideal:               {ideal:.3f} s  (one list + {count} x 0.2 s / {LIMIT})")
    print(f"ratio elapsed/ideal: {elapsed / ideal:.3f}")
    print(f"naive script:        {naive_elapsed:.3f} s  ({count} sequential creates)")
    print(f"speed-up vs naive:   {naive_elapsed / elapsed:.2f}x")
    print(
        f"server:              {stats['rate_limited']} x 429, max admitted "
        f"{max(stats['max_admitted'].values())}, clones created {stats['clones_created']}"
    )
    print(
        f"no-op apply:         {noop_elapsed:.3f} s, ratio to one list (0.2 s): "
        f"{noop_elapsed / LATENCY:.1f}, exit {noop.returncode}, "
        f"lockfile byte-identical: {unchanged}"
    )
    print(f"failed operations:   0 (naive script: {naive_failed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
