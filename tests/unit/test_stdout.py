"""What voicectl prints must arrive: stdout on a full disk (``/dev/full``) or closed
(``>&-``) is a one-line error and exit 1, not an internal error or a silent exit 0;
a reader that stops early (``| head``) is still a success. The real entry point in a
subprocess, since the failures are the process's own file descriptors."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_")},
    "PYTHONPATH": str(ROOT),
}


def voicectl(*args: str, stdout) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        stdout=stdout, stderr=subprocess.PIPE, text=True, env=ENV, timeout=120, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("schema", "voices"), ("--help",), ("completion", "bash")])
def test_a_full_disk_behind_stdout_is_one_line_and_exit_1(args) -> None:
    with open("/dev/full", "w") as full:
        proc = voicectl(*args, stdout=full)
    assert proc.returncode == 1
    assert proc.stderr == "Error: cannot write the output to stdout: No space left on device\n"


def test_closed_stdout_is_not_a_silent_success() -> None:
    # closed before the start (`>&-`: sys.stdout is None)...
    proc = subprocess.run(
        f"exec {shlex.quote(sys.executable)} -m reconciler schema voices >&-",
        shell=True, stderr=subprocess.PIPE, text=True, env=ENV, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: stdout is closed, so the output would be lost (use >/dev/null to discard it)\n"
    )
    # ... and while running
    proc = subprocess.run(
        [sys.executable, "-c", "import os, runpy, sys; os.close(1); sys.argv = "
         "['voicectl', 'schema', 'voices']; runpy.run_module('reconciler', run_name='__main__')"],
        stderr=subprocess.PIPE, text=True, env=ENV, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == "Error: cannot write the output to stdout: Bad file descriptor\n"


def test_a_reader_that_stops_early_is_still_a_success() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "schema", "voices"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()  # like `| head -c 1`
    err = proc.stderr.read()
    assert proc.wait(120) == 0 and b"Error" not in err, err
