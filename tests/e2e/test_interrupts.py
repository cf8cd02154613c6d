"""Ctrl-C and SIGTERM through the real CLI (a separate process) against the sandbox.

During apply the first signal stops new operations while the
one in flight finishes and is recorded; the run says what was done and not done
and exits 130 (Ctrl-C) or 143 (SIGTERM); a second Ctrl-C stops at once. Every
case ends with a lockfile the next apply converges from, without a duplicate.

Each test waits on what the process prints (events), never on a clock. The
sandbox holds every create at its gate (the hold hook), so the first create is
in flight when the signal is sent; the test releases it only after the process
printed that it saw the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from cli_support import Project
from sandbox_support import ROOT

pytestmark = pytest.mark.e2e

VOICES = ("alpha", "bravo", "charlie")


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    p = Project(tmp_path, sandbox_server, capsys)
    p.write({name: {} for name in VOICES})
    return p


def spawn(project: Project, *args: str, command: str = "apply") -> subprocess.Popen:
    env = dict(os.environ, **project.env())
    env.pop("NO_COLOR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", command, "-f", str(project.manifest), *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen, text: str, seen: list[str]) -> None:
    assert proc.stdout is not None
    while not any(text in line for line in seen):
        line = proc.stdout.readline()
        assert line, f"exited before printing {text!r}:\n{''.join(seen)}"
        seen.append(line)


def settled(project: Project) -> None:
    """Release held creates and wait until the server answered every request (a
    cut create finishes at the server: its clone must exist before the next list)."""
    server = project.server
    server.release()
    while server.stats()["held_now"] or any(server.stats()["in_flight_now"].values()):
        pass  # waits on the server's own counters, no clock


def converges(project: Project) -> None:
    """The next apply finishes the job: one clone per voice, all recorded."""
    settled(project)
    project.run("apply", "--auto-approve")
    owned = project.owned()
    assert sorted(owned) == list(VOICES) and all(len(v) == 1 for v in owned.values()), owned
    assert project.ids() == {n: ids[0] for n, ids in owned.items()}
    assert "No changes." in project.run("plan").out


@pytest.mark.parametrize(
    ("signum", "code", "name"),
    [
        (signal.SIGINT, 130, "Ctrl-C"),
        (signal.SIGTERM, 143, "SIGTERM"),
    ],
)
def test_signal_during_apply_lets_the_one_in_flight_finish(project, signum, code, name):
    project.server.hold(method="POST")  # creates wait at the server until released
    proc = spawn(project, "--auto-approve", "--parallelism", "1")
    seen: list[str] = []
    read_until(proc, ": Creating...", seen)  # the first create's request is out
    proc.send_signal(signum)
    read_until(proc, f"Interrupt ({name}) received: no new operation starts", seen)
    project.server.release()  # now the one in flight may finish
    out, _ = proc.communicate(timeout=120)
    text = "".join(seen) + out
    assert proc.returncode == code, text
    assert f"Interrupted ({name})." in text
    done = [line for line in text.splitlines() if line.startswith("  done:")]
    not_done = [line for line in text.splitlines() if line.startswith("  not done:")]
    assert len(done) + len(not_done) == len(VOICES), text
    assert done and not_done, text
    assert all("not started: the run was interrupted" in line for line in not_done), text
    assert "Next: run `voicectl apply` again" in text
    assert f"Error: apply interrupted ({name}): {len(done)} done, {len(not_done)} not done" in text
    assert "Traceback" not in text
    # What finished is recorded: the lockfile names exactly the clones that exist.
    owned = project.owned()
    assert project.ids() == {n: ids[0] for n, ids in owned.items()}
    assert len(owned) == len(done)
    converges(project)


def test_second_ctrl_c_stops_now_and_the_next_run_converges(project):
    project.server.hold(method="POST")  # the first create stays in flight: nothing ends it
    proc = spawn(project, "--auto-approve", "--parallelism", "1")
    seen: list[str] = []
    read_until(proc, ": Creating...", seen)
    proc.send_signal(signal.SIGINT)
    read_until(proc, "Interrupt (Ctrl-C) received", seen)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    text = "".join(seen) + out
    assert proc.returncode == 130, text
    assert "Second interrupt: stopping now." in text
    assert "Interrupted (Ctrl-C)." in text and "Traceback" not in text
    assert len([ln for ln in text.splitlines() if ln.startswith("  not done:")]) == len(VOICES)
    converges(project)  # a clone the cut create made is adopted by its tags, not duplicated


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGINT, 130, "Interrupted (Ctrl-C); nothing more was started."),
        (signal.SIGTERM, 143, "Terminated (SIGTERM); nothing more was started."),
    ],
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_signal_while_the_list_is_awaited_exits_as_an_interrupt(
    project, command, signum, code, message
):
    # Before any change (here: the list held at the server), a Ctrl-C is still exit
    # 130 with its line, not click's "Aborted." and 1.
    project.server.hold(method="GET")
    proc = spawn(project, command=command)
    while not project.server.stats()["held_now"]:
        assert proc.poll() is None, proc.communicate()[0]  # waits on the server's counter
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == code, out
    assert message in out and "Aborted." not in out and "Traceback" not in out
    settled(project)
    assert project.server.stats()["clones_created"] == 0 and not project.lockfile.exists()


@pytest.mark.parametrize("command", ["plan", "apply", "list", "check"])
def test_a_cancelled_ci_job_still_prints_its_json_document(project, tmp_path, command):
    """SIGTERM (a cancelled CI job) while the list is awaited: `--format json` still
    gets its one document, with the interrupt in ``errors``; plan and apply append
    the job summary too."""
    import json

    project.run("apply", "--auto-approve")  # check needs a lockfile
    project.server.hold(method="GET")
    summary = tmp_path / "summary.md"
    env = dict(os.environ, **project.env(), GITHUB_STEP_SUMMARY=str(summary))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", command, "-f", str(project.manifest),
         "--format", "json"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while not project.server.stats()["held_now"]:
        assert proc.poll() is None, proc.communicate()  # waits on the server's counter
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, out + err
    assert json.loads(out)["errors"][0]["message"] == (
        "interrupted (SIGTERM); nothing more was started"
    ), out
    assert "Terminated (SIGTERM); nothing more was started." in err
    assert summary.exists() == (command in ("plan", "apply"))
    settled(project)
