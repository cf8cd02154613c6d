"""apply on a real terminal (a pty): the confirmation prompt and the live progress bar."""

from __future__ import annotations

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


def run_on_pty(project: Project, answer: str, *args: str) -> tuple[int, str]:
    terminal = project.spawn_on_pty("apply", *args)
    terminal.expect("Enter a value:")
    terminal.send(answer)
    return terminal.finish()


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


def test_ctrl_c_at_the_prompt_aborts_at_once_and_releases_the_lock(project):
    project.write({"alpha": {}})
    terminal = project.spawn_on_pty("apply")
    terminal.expect("Enter a value:")  # waiting for an answer, under the run lock
    terminal.ctrl_c()  # no answer, no newline: the interrupt alone ends it
    code, out = terminal.finish()
    assert code == 130, out
    assert "apply cancelled at the prompt; nothing was changed" in out
    assert "Traceback" not in out and "Aborted!" not in out
    assert project.remote() == [] and not project.lockfile.exists()
    # the lock is free: a run that may not wait for it (--lock-timeout 0) goes ahead
    project.run("apply", "--auto-approve", "--lock-timeout", "0")
    assert len(project.remote()) == 1
