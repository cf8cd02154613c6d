"""apply on a real terminal (a pty): the confirmation prompt and the live progress bar."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest
from cli_support import Project
from sandbox_support import ROOT


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def run_on_pty(project: Project, answer: str, *args: str) -> tuple[int, str]:
    master, slave = os.openpty()
    env = dict(os.environ, **project.env())
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "-f", str(project.manifest), *args],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Enter a value:" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(master)
    return proc.wait(10), seen.decode(errors="replace")


def test_yes_applies_with_a_live_bar(project):
    project.write({"alpha": {}, "bravo": {}})
    code, out = run_on_pty(project, "yes")
    assert code == 0, out
    assert "Only 'yes' will be accepted to approve." in out
    assert "\x1b[" in out  # colour and the redrawn status line on a terminal
    assert "done," in out and "running" in out  # the live bar
    assert "Apply complete! 2 created, 0 replaced, 0 deleted." in out
    assert len(project.remote()) == 2


def test_anything_but_yes_cancels(project):
    project.write({"alpha": {}})
    code, out = run_on_pty(project, "y")
    assert code == 1
    assert "apply cancelled" in out
    assert project.remote() == []


def test_no_color_on_a_terminal(project):
    project.write({"alpha": {}})
    code, out = run_on_pty(project, "yes", "--no-color")
    assert code == 0, out
    plan_part = out.split("Enter a value:")[0]
    assert "\x1b[" not in plan_part
