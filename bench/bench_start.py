"""Benchmark: how quickly the quick commands answer, against bare Python.

In one run, with the same interpreter, it times (best and median of ``--runs``
fresh processes each):

* ``python -c pass`` - the floor: the interpreter's own start-up;
* ``voicectl --help`` and ``voicectl --version``;
* a shell completion of voice names (``voicectl plan --target <TAB>`` as bash
  asks for it) in a 1,000-voice project;
* ``voicectl validate`` of a one-voice manifest.

and prints each as seconds and as a ratio to bare Python. Targets: ``--help`` and
``--version`` <= 0.15 s and <= 10x bare Python; completion <= 0.2 s.

Run: ``python bench/bench_start.py`` (``--source DIR`` measures the voicectl of
another checkout, ``--runs N``).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {done.stdout}{done.stderr}")
    return min(walls), statistics.median(walls)


def project(folder: Path, voices: int) -> Path:
    with wave.open(str(folder / "a.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(1000)
        out.writeframes(bytes(128 + n % 40 for n in range(6000)))
    lines = ["version: 1", "stack: start", "defaults: {language: en}", "voices:"]
    lines += [f"  v{i:04d}: {{file: a.wav}}" for i in range(voices)]
    path = folder / f"voices-{voices}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose voicectl runs")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    source = args.source.resolve()
    compileall.compile_dir(str(source / "reconciler"), quiet=1)  # as pip installs it
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("_VOICECTL_COMPLETE", None)
    load = os.getloadavg()
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores); voicectl from {source}; {args.runs} runs each"
    )
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = project(folder, 1000)
        small = project(folder, 1)
        words = f"voicectl plan -f {big} --target v09"
        complete_env = {
            **env,
            "_VOICECTL_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        cases = [
            ("python -c pass", [py, "-c", "pass"], env),
            ("voicectl --help", [py, "-m", "reconciler", "--help"], env),
            ("voicectl --version", [py, "-m", "reconciler", "--version"], env),
            (
                "completion: plan --target v09<TAB> (1,000 voices)",
                [py, "-m", "reconciler"],
                complete_env,
            ),
            ("validate (1 voice)", [py, "-m", "reconciler", "validate", "-f", str(small)], env),
        ]
        results = {}
        for label, cmd, case_env in cases:
            results[label] = timed(cmd, cwd=source, env=case_env, runs=args.runs)
    bare = results["python -c pass"][0]
    targets = {"voicectl --help": "<= 0.15 s, <= 10x", "voicectl --version": "<= 0.15 s, <= 10x"}
    for label, (best, median) in results.items():
        target = targets.get(label, "<= 0.2 s" if label.startswith("completion") else "")
        print(
            f"  {label:50s} best {best:.3f} s  median {median:.3f} s  "
            f"= {best / bare:.1f}x bare Python" + (f"  (target {target})" if target else "")
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
