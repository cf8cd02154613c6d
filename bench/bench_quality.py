"""Benchmark: `voicectl validate` of 100 samples of 10 s, with the quality checks.

Writes 100 distinct 10 s speech samples (the espeak-ng examples with a little
room noise of their own, so no two share a hash; a quarter each as wav, mp3,
m4a and webm), then runs the real CLI (a subprocess: start-up, header checks,
hashing, decoding and measuring all count) three times in one run:

* cold: an empty analysis cache, so all 100 are decoded on the pool;
* cold with one worker (``VOICECTL_QUALITY_WORKERS=1``): the same work serially,
  for the speed-up the pool gives;
* warm: the cache filled, so nothing is decoded.

It prints cold elapsed / the 5 s limit (the target is below 1), the pool's
speed-up over one worker, and warm / cold. Run: ``python bench/bench_quality.py``
(``--count N`` for another size). The ratios are the result; the seconds
depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import audio_support  # noqa: E402

LIMIT_SECONDS = 5.0
FORMATS = ("wav", "mp3", "m4a", "webm")


def write_project(folder: Path, count: int) -> Path:
    speech = audio_support.speech(10.0)
    lines = ["version: 1", "stack: bench", "defaults: {language: en}", "voices:"]
    for i in range(count):
        rel = f"samples/v{i:03d}.{FORMATS[i % len(FORMATS)]}"
        noise = audio_support.room_noise(10.0, -70.0, seed=i)
        audio_support.write(folder / rel, speech + noise)
        lines += [f"  v{i:03d}:", f"    file: {rel}"]
    manifest = folder / "voices.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def validate(folder: Path, **env: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `voicectl validate` in ``folder``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0 or run.stderr:
        raise SystemExit(f"validate failed or warned:\n{run.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        folder = Path(tmp)
        write_project(folder, args.count)
        cache = folder / ".voicectl" / "sample-analysis.json"
        cold, cold_cpu = validate(folder)
        entries = len(json.loads(cache.read_text())["entries"])
        cache.unlink()
        serial, _ = validate(folder, VOICECTL_QUALITY_WORKERS="1")
        warm, warm_cpu = validate(folder)
    cores = os.cpu_count() or 1
    limit = LIMIT_SECONDS * args.count / 100
    load = os.getloadavg()[0]
    print(f"samples: {args.count} of 10 s ({', '.join(FORMATS)}), cache entries: {entries}")
    print(f"cores: {cores}, load average while measuring: {load:.1f}")
    print(f"cold validate: {cold:.2f} s wall, {cold_cpu:.2f} s CPU; limit {limit:g} s")
    print(f"ratio cold/limit: {cold / limit:.2f} (target < 1)")
    print(
        f"ratio (CPU / {cores} cores)/limit: {cold_cpu / cores / limit:.2f} "
        "(the wall time on an idle machine, at best; target < 1)"
    )
    print(f"speed-up of the pool over one worker: {serial / cold:.2f}x")
    print(
        f"ratio warm/cold (nothing decoded): {warm / cold:.2f} wall, {warm_cpu / cold_cpu:.2f} CPU"
    )
    if load > cores:
        print("note: the machine was busy (load > cores): wall-time ratios are pessimistic")


if __name__ == "__main__":
    main()
