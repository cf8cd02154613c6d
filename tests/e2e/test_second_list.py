"""A recorded clone missing from one list is listed once more before anything is concluded.

Every command that reasons about the lockfile from a clone list (plan, apply,
`plan --all-envs`, migrate, import, refresh, check) goes through the same
``workflow.list_for_plan``. The emulator drops a clone from exactly one list
(``skipLists: 1``, a list that loses an entry for a moment); each command must
ask again and see it, instead of calling it drift, re-creating it or reporting
it missing.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import CLONES
from test_e2e_environments import PROD_KEY, STAGING_KEY, EnvProject

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def lists(project: Project) -> int:
    """Clone lists the sandbox answered since the last reset_stats."""
    return sum(
        1
        for line in project.server.stats()["log"]
        if line.startswith("GET ") and line.endswith(CLONES)
    )


def drop_from_next_list(project: Project, voice_id: str) -> None:
    project.server.edit_clone(voice_id, skipLists=1)
    project.server.reset_stats()


def applied(project: Project, voices: dict) -> dict[str, str]:
    project.write(voices)
    project.run("apply", "--auto-approve")
    return project.ids()


def test_the_emulator_drops_a_clone_from_exactly_one_list(project):
    alpha = applied(project, {"alpha": {}})["alpha"]
    project.server.edit_clone(alpha, skipLists=1)
    with project.server.client() as http:
        first, second = (http.get(CLONES).json()["data"] for _ in range(2))
    assert [c["voiceId"] for c in first] == []
    assert [c["voiceId"] for c in second] == [alpha]


def test_refresh_lists_again_before_reporting_a_clone_missing(project):
    alpha = applied(project, {"alpha": {}, "bravo": {}})["alpha"]
    before = project.lockfile.read_bytes()
    drop_from_next_list(project, alpha)
    r = project.run("refresh")
    assert lists(project) == 2
    assert r.out.strip() == f"{project.lockfile} is up to date.", r.text
    assert "not listed" not in r.err and project.lockfile.read_bytes() == before


def test_check_lists_again_before_failing_a_recorded_clone_as_missing(project):
    alpha = applied(project, {"alpha": {}})["alpha"]
    drop_from_next_list(project, alpha)
    doc = json.loads(project.run("check", "--json").out)
    assert lists(project) == 2
    assert doc["ok"] is True, doc


def test_import_lists_again_and_counts_a_dropped_clone_as_managed(project):
    bravo = applied(project, {"alpha": {}, "bravo": {}})["bravo"]
    drop_from_next_list(project, bravo)
    r = project.run("import", "--dry-run")
    assert lists(project) == 2
    assert "2 clones already managed by this stack." in r.err, r.text


def test_migrate_lists_again_before_calling_a_recorded_clone_gone(project):
    alpha = applied(project, {"alpha": {}})["alpha"]
    drop_from_next_list(project, alpha)
    r = project.run("migrate", "--auto-approve", "--list-grace", "0")
    assert lists(project) == 2
    assert "Nothing to migrate: no managed voice uses a legacy clone." in r.out, r.text
    assert "Not converged" not in r.out and project.ids()["alpha"] == alpha


@pytest.fixture
def envs(tmp_path, sandbox_server, capsys, monkeypatch):
    for name in ("SMALLEST_API_KEY", "KEY_STAGING", "KEY_PROD", "VOICECTL_ENV"):
        monkeypatch.delenv(name, raising=False)
    p = EnvProject(tmp_path, sandbox_server, capsys)
    p.setup()
    return p


def test_plan_all_envs_lists_each_environment_again_when_one_lacks_a_clone(envs):
    envs.run("apply", "--env", "staging", "--auto-approve")
    envs.run("apply", "--env", "prod", "--auto-approve")
    narrator = envs.lock_of("prod")["voices"]["narrator"]["voiceId"]
    envs.server.edit_clone(narrator, skipLists=1)
    envs.server.reset_stats()
    r = envs.run("plan", "--all-envs", "--format", "json", "--list-grace", "0")
    doc = json.loads(r.out)
    log = envs.server.stats()["log"]
    assert sum(1 for line in log if line == f"GET {CLONES}") == 3  # staging once, prod twice
    for env in doc["environments"]:
        assert env["plan"]["summary"]["changes"] == 0, env
    assert {c["voiceId"] for c in envs.server.clones(PROD_KEY)} >= {narrator}
    assert envs.server.clones(STAGING_KEY)
