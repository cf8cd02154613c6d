"""Run the real CLI in a fresh interpreter and read back which modules it imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent(
    """
    import atexit, json, runpy, sys
    out, args = sys.argv[1], sys.argv[2:]
    def loaded():  # a lazy module (reconciler.lazy) not yet used was never executed;
        # None marks a module as absent (cli._without_httpx_cli)
        return sorted(
            n for n, m in sys.modules.items()
            if m is not None and type(m).__name__ != "_LazyModule"
        )
    atexit.register(lambda: open(out, "w").write(json.dumps(loaded())))
    sys.argv = ["voicectl", *args]
    runpy.run_module("reconciler", run_name="__main__")
    """
)


def run_cli_probe(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``voicectl ARGS`` in ``cwd``: the finished process and the full names of the
    modules it had executed when it exited (lazy ones never used, and names marked
    absent, are left out)."""
    out = cwd / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, set(json.loads(out.read_text()))
