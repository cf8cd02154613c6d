"""Run a command without the power to read every file, even as root.

Root ignores file permissions (CAP_DAC_OVERRIDE), so a test that makes a file
unreadable would pass vacuously in a root CI container. ``setpriv`` (util-linux)
drops those capabilities from the bounding set, so the child, still uid 0, meets
``permission denied`` like any user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:  # pragma: no cover - util-linux is part of every Debian system
        pytest.skip("running as root without setpriv: cannot drop the power to read any file")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def run_unprivileged(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in ``cwd`` without the power to bypass file permissions."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [*unprivileged_prefix(), sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
