"""A recorded clone missing from the list is forgotten only on evidence it is gone.

A clone made moments ago may not be listed yet (list lag): dropping it from the
lockfile as "no longer exists" would lose it (and, declared again, duplicate it).
Within --list-grace of its createdAt it stays recorded, shown as a wait; past the
grace, still unlisted, it is forgotten.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import CLONES, DELETE

pytestmark = pytest.mark.e2e

HIDDEN = 86_400_000  # the sandbox lists a new clone a day later: "not listed yet"


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def made_but_unlisted(project: Project) -> str:
    """alpha is listed; bravo was just made and recorded, but the list lags."""
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    project.server.config(list_lag_ms=HIDDEN)
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve", expect=None)
    bravo = project.ids()["bravo"]
    listed = {c["voiceId"]: c["listedEpoch"] > c["createdEpoch"] for c in project.remote()}
    assert listed[bravo], listed  # made, and the list lags behind it
    return bravo


def test_young_unlisted_undeclared_clone_is_not_forgotten(project):
    bravo = made_but_unlisted(project)
    project.write({"alpha": {}})  # bravo undeclared, recorded, not listed yet
    plan = json.loads(project.run("plan", "--format", "json").out)
    kinds = {a["name"]: a["action"] for a in plan["actions"]}
    assert kinds.get("bravo") == "wait", plan
    assert "no longer exists" not in project.run("plan").out
    project.run("apply", "--auto-approve", expect=None)
    assert project.ids().get("bravo") == bravo  # still recorded: no evidence it is gone

    # once listed, it is what it is: an undeclared clone of this stack, deleted
    project.server.finish_processing()
    project.server.config(list_lag_ms=0)
    out = project.run("plan").out
    assert bravo in out and "no longer exists" not in out


def test_past_the_grace_an_unlisted_clone_is_forgotten(project):
    bravo = made_but_unlisted(project)
    project.write({"alpha": {}})
    out = project.run("plan", "--list-grace", "0").out
    assert "clone no longer exists" in out and "bravo" in out
    project.run("apply", "--auto-approve", "--list-grace", "0")
    assert "bravo" not in project.ids() and bravo


def lists(project: Project) -> int:
    return sum(
        1
        for line in project.server.stats()["log"]
        if line.startswith("GET ") and line.endswith(CLONES)
    )


def test_a_missing_recorded_clone_is_listed_once_more_before_concluding(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    project.server.reset_stats()
    project.run("plan")
    assert lists(project) == 1  # everything recorded is listed: one list is enough

    bravo = project.ids()["bravo"]
    with project.server.client() as http:  # deleted by hand
        http.request("DELETE", DELETE, json={"voiceId": bravo}).raise_for_status()
    project.server.reset_stats()
    out = project.run("plan", "--list-grace", "0").out
    assert lists(project) == 2, project.server.stats()["log"]  # asked again first
    assert f"clone {bravo} no longer exists on the service" in out  # then drift
