"""Benchmark: 60 concurrent creates against a sandbox with an unpublished limit.

Starts ``voicectl sandbox serve --latency-ms 200 --concurrency-limit 4`` as a
subprocess (the client is NOT told the limit; its parallelism stays at the
default 8), sends 60 creates at once through ``WavesClient`` and prints:

* elapsed, the ideal (60 x 0.2 s / 4 = 3 s) and the ratio elapsed / ideal
  (target: <= 1.3);
* the speed-up over a naive sequential loop (plain httpx, one create after
  another) measured in the same run;
* failed operations (target: 0), 429s seen, the server's max in-flight and the
  limiter's learned ceiling.

Run: ``python bench/bench_create.py`` (``--help`` for options). Absolute times
depend on the machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from reconciler.api import CloneRequest, WavesClient, WavesError  # noqa: E402

KEY = "bench-key-not-a-secret"
LISTENING = re.compile(r"listening on (http://\S+)")


def _syllable(t: float) -> float:
    phase = t % 0.3
    return math.sin(math.pi * phase / 0.22) ** 2 if phase < 0.22 else 0.0


def make_sample(path: Path, seconds: float = 6.0, rate: int = 16000) -> Path:
    """A small mono 16-bit WAV (stdlib only): a tone in 0.22 s syllables 0.08 s apart,
    so that the sample quality checks take it for speech (a steady tone has no pauses)."""
    frames = b"".join(
        struct.pack("<h", int(8000 * _syllable(n / rate) * math.sin(2 * math.pi * 220 * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


class Sandbox:
    """`voicectl sandbox serve` in a subprocess."""

    def __init__(self, args: list[str]):
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Sandbox:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0", *self.args]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return self
        self.__exit__()
        raise SystemExit("the sandbox did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def hook(self, method: str, name: str, body: dict | None = None) -> dict:
        response = httpx.request(method, f"{self.url}/_sandbox/{name}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


async def run_client(url: str, sample: Path, count: int) -> tuple[float, int, dict]:
    async with WavesClient(base_url=url, api_key=KEY) as client:
        requests = [
            CloneRequest(display_name=f"bench-{n:03d}", file=sample, language="en", tags=("bench",))
            for n in range(count)
        ]
        started = time.perf_counter()
        results = await asyncio.gather(
            *(client.create_clone(r) for r in requests), return_exceptions=True
        )
        elapsed = time.perf_counter() - started
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures[:5]:
            print(f"  failed: {failure}", file=sys.stderr)
        limiter = client.limiter
        info = {
            "ceiling": limiter.ceiling,
            "window": round(limiter.window, 2),
            **limiter.stats.as_dict(),
        }
        return elapsed, len(failures), info


async def run_naive(url: str, sample: Path, count: int) -> tuple[float, int]:
    """A plain sequential loop with httpx: one create after another, no retries."""
    failures = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        for n in range(count):
            with open(sample, "rb") as fh:
                response = await http.post(
                    "/waves/v1/voice-cloning",
                    headers={"Authorization": f"Bearer {KEY}"},
                    data={"displayName": f"naive-{n:03d}", "language": "en"},
                    files={"file": (sample.name, fh, "audio/wav")},
                )
            failures += response.status_code != 200
        return time.perf_counter() - started, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--limit", type=int, default=4, help="the server's concurrency limit")
    parser.add_argument(
        "--naive-count",
        type=int,
        default=None,
        help="creates in the naive sequential loop (default: all of them; fewer are "
        "extrapolated linearly)",
    )
    parser.add_argument(
        "--retry-after", type=float, default=None, help="make the sandbox send Retry-After"
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    args = parser.parse_args(argv)

    naive_count = args.naive_count or args.creates
    server_args = ["--latency-ms", f"{args.latency_ms:g}", "--concurrency-limit", str(args.limit)]
    if args.retry_after is not None:
        server_args += ["--retry-after", f"{args.retry_after:g}"]
    ideal = args.creates * args.latency_ms / 1000.0 / args.limit

    with tempfile.TemporaryDirectory() as tmp, Sandbox(server_args) as sandbox:
        sample = make_sample(Path(tmp) / "bench.wav")
        sandbox.hook("POST", "reset")
        elapsed, failed, limiter = asyncio.run(run_client(sandbox.url, sample, args.creates))
        stats = sandbox.hook("GET", "stats")
        sandbox.hook("POST", "reset")
        naive_elapsed, naive_failed = asyncio.run(run_naive(sandbox.url, sample, naive_count))

    naive_total = naive_elapsed * args.creates / naive_count
    result = {
        "creates": args.creates,
        "server_limit": args.limit,
        "latency_ms": args.latency_ms,
        "elapsed_s": round(elapsed, 3),
        "ideal_s": round(ideal, 3),
        "ratio_to_ideal": round(elapsed / ideal, 3),
        "naive_s": round(naive_total, 3),
        "naive_measured": f"{naive_count} sequential creates"
        + ("" if naive_count == args.creates else f", extrapolated to {args.creates}"),
        "speedup_over_naive": round(naive_total / elapsed, 2),
        "failed": failed,
        "naive_failed": naive_failed,
        "server_429s": stats.get("rate_limited"),
        "server_max_in_flight": max((stats.get("max_in_flight") or {0: 0}).values()),
        "server_max_admitted": max((stats.get("max_admitted") or {0: 0}).values()),
        "limiter": limiter,
    }
    print(
        f"creates:            {args.creates} (server limit {args.limit}, not told to the client;"
        f" latency {args.latency_ms:g} ms; client parallelism 8)"
    )
    print(f"elapsed:            {elapsed:.3f} s")
    print(
        f"ideal:              {ideal:.3f} s  ({args.creates} x {args.latency_ms / 1000:g} s"
        f" / {args.limit})"
    )
    print(f"ratio elapsed/ideal: {elapsed / ideal:.3f}  (target <= 1.3)")
    print(f"naive sequential:   {naive_total:.3f} s  ({result['naive_measured']})")
    print(f"speed-up vs naive:  {naive_total / elapsed:.2f}x")
    print(f"failed operations:  {failed}  (naive loop: {naive_failed})")
    print(
        f"server: {result['server_429s']} x 429, max in flight {result['server_max_in_flight']},"
        f" max admitted {result['server_max_admitted']}"
    )
    print(
        f"limiter: ceiling {limiter['ceiling']}, window {limiter['window']},"
        f" {limiter['rate_limited']} rate-limited tries, {limiter['decreases']} halvings"
    )
    if args.json:
        print(json.dumps(result, indent=2))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except WavesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
