"""What voicectl prints must arrive: stdout on a full disk (``/dev/full``) or closed
(``>&-``) is a one-line error and exit 1, not an internal error or a silent exit 0;
a reader that stops early (``| head``) is still a success. The real entry point in a
subprocess, since the failures are the process's own file descriptors."""

from __future__ import annotations

import fcntl
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


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipe sizes")
def test_a_reader_that_stops_early_is_still_a_success() -> None:
    # A 4 KiB pipe, so the 19 KB schema cannot fit: the writer is still writing when
    # the reader goes away (like `| head -c 1`), and gets EPIPE for certain.
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    with os.fdopen(read_end, "rb") as reader:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "schema", "voices"],
            stdout=write_end, stderr=subprocess.PIPE, env=ENV, cwd=ROOT,
        )  # fmt: skip
        os.close(write_end)
        assert reader.read(1) == b"{"
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.wait(120) == 0 and err == b"", err
