"""Files voicectl writes get the usual permissions (0666 less the umask), not mkstemp's
0600: apps and CI read the lockfile, saved plans and downloaded samples."""

from __future__ import annotations

import os
import stat

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_written_files_follow_the_umask(project, umask):
    previous = os.umask(umask)
    try:
        project.write({"alpha": {}})
        plan_file = project.root / "plan.json"
        project.run("plan", "--out", str(plan_file))
        samples = project.root / "heard"
        samples.mkdir()
        project.run("apply", str(plan_file), "--download-samples", str(samples))
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    assert mode(project.lockfile) == expected
    assert mode(plan_file) == expected
    downloaded = list(samples.iterdir())
    assert downloaded and all(mode(p) == expected for p in downloaded)


def test_a_replaced_file_keeps_its_own_mode(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    os.chmod(project.lockfile, 0o640)
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    assert mode(project.lockfile) == 0o640
