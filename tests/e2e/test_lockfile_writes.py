"""Nothing is created that cannot be recorded.

Before its first change, apply proves it can write the journal and the lockfile
(a read-only folder, a full disk: a one-line error naming the path, no request
sent). A write that fails in the middle stops every operation not yet started;
the next run (with room to write) finishes without a duplicate.

A full disk is a real file-size limit (RLIMIT_FSIZE) on the apply process: its
writes fail with EFBIG exactly as they would with ENOSPC, no code is faked.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

import pytest
from cli_support import ROOT, Project
from privileges import unprivileged_prefix
from sandbox_support import until

from reconciler.lockfile import journal_path_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    root = tmp_path / "repo"
    root.mkdir()
    return Project(root, sandbox_server, capsys)


def _apply(project: Project, *extra: str, file_limit: int | None = None, prefix=()):
    def limit() -> None:  # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT), **project.env())
    return subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            "--auto-approve",
            "-f",
            str(project.manifest),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
        stdin=subprocess.DEVNULL,
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def test_a_read_only_lockfile_folder_stops_apply_before_any_request(project):
    project.write({"alpha": {}, "bravo": {}})
    (project.root / ".voicectl").mkdir()  # the run lock and journal may be written...
    project.root.chmod(0o555)  # ...but not the lockfile's folder
    try:
        done = _apply(project, prefix=unprivileged_prefix())
    finally:
        project.root.chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _errors(done.stderr) == [
        f"Error: {project.lockfile}: cannot write the lockfile: Permission denied"
    ]
    assert "Traceback" not in done.stderr
    assert project.server.stats()["clones_created"] == 0 and project.remote() == []
    assert not project.lockfile.exists()
    assert not journal_path_for(project.lockfile).exists()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".voices")] == []


def test_a_full_disk_stops_apply_before_any_request(project):
    project.write({"alpha": {}, "bravo": {}})
    done = _apply(project, file_limit=0)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = _errors(done.stderr)
    assert len(errors) == 1 and str(project.lockfile) in errors[0], done.stderr
    assert "File too large" in errors[0]
    assert project.server.stats()["clones_created"] == 0
    assert not project.lockfile.exists()
    assert not journal_path_for(project.lockfile).exists()


def test_a_journal_write_failing_mid_run_stops_new_creates(project):
    """The disk fills up mid-run: while the first creates are out (held at the
    server), the apply's file-size limit drops to its journal's size, so the next
    journal line cannot be written (the probe before the first create had room)."""
    names = [f"v{i:02d}" for i in range(40)]
    project.write({n: {} for n in names})
    journal = journal_path_for(project.lockfile)
    server = project.server
    server.hold(method="POST", path="/waves/v1/voice-cloning")
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT), **project.env())
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "2",
         "-f", str(project.manifest)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN),  # EFBIG instead
    )  # fmt: skip
    until(lambda: server.stats()["held_now"] >= 1 or proc.poll() is not None, "a create")
    assert proc.poll() is None, proc.communicate()
    full = journal.stat().st_size  # the header: the journal exists before the first create
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (full, full))
    server.release()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stdout + stderr
    errors = _errors(stderr)
    assert errors == [f"Error: {journal}: cannot write the lockfile journal: File too large"]
    assert "Traceback" not in stderr
    created = project.server.stats()["clones_created"]
    assert 0 < created < len(names)  # stopped: most creates were never sent

    again = _apply(project)  # room again: replays what was journalled, adopts the rest
    assert again.returncode == 0, again.stdout + again.stderr
    assert sorted(project.owned()) == names
    assert all(len(ids) == 1 for ids in project.owned().values())  # no duplicate
    assert project.server.stats()["clones_created"] == len(names)
    assert {n: [v] for n, v in project.ids().items()} == project.owned()
    assert not journal.exists()
