"""List lag handled without hiding deletions.

`--list-grace` (30 s) covers only a clone never seen in a list: the run that makes
a clone records ``listedAt`` once a list shows it (its own lists, or one more list
at the end of the run). A recorded clone that was listed once and that two lists
in a row now lack was deleted: drift at once, however young. A clone the list lags
behind (never listed) keeps the grace. Pending entries (a replacement still being
made) carry ``createdAt``, so they get the same grace instead of being forgotten.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import DELETE

from reconciler.lockfile import Lockfile, journal_path_for

pytestmark = pytest.mark.e2e

HIDDEN = 86_400_000  # the sandbox lists a new clone a day later: "not listed yet"


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def delete_by_hand(project: Project, voice_id: str) -> None:
    with project.server.client() as http:
        http.request("DELETE", DELETE, json={"voiceId": voice_id}).raise_for_status()


def actions(project: Project, *args: str, expect: int | None = 0) -> dict[str, dict]:
    doc = json.loads(project.run("plan", "--format", "json", *args, expect=expect).out)
    return {f"{a['name']}/{a['voiceId']}": a for a in doc["actions"]}


def test_an_undeclared_clone_deleted_by_hand_moments_after_apply_is_forgotten(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    bravo = project.ids()["bravo"]
    assert project.lock()["voices"]["bravo"]["listedAt"]  # the apply saw it listed
    project.write({"alpha": {}})
    delete_by_hand(project, bravo)
    planned = actions(project)
    assert planned[f"bravo/{bravo}"]["action"] == "forget", planned
    assert "was made" not in json.dumps(planned)  # no "not listed yet" wait
    project.run("apply", "--auto-approve")
    assert "bravo" not in project.ids()


def test_a_clone_the_list_lags_behind_keeps_the_grace_until_it_is_listed(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    project.server.config(list_lag_ms=HIDDEN)
    project.write({"alpha": {}, "bravo": {}, "charlie": {}})
    project.run("apply", "--auto-approve")
    charlie = project.ids()["charlie"]
    assert "listedAt" not in project.lock()["voices"]["charlie"]  # never listed: no mark
    planned = actions(project, "--detailed-exitcode", expect=2)
    assert planned[f"charlie/{charlie}"]["action"] == "wait"  # may just be lag
    assert planned[f"charlie/{charlie}"]["reasons"][0].endswith("is not listed yet")
    text = project.run("plan", "--detailed-exitcode", expect=2).out  # lag, not processing
    assert "1 clone made moments ago is not listed yet; run again shortly" in text
    assert "1 clone is still being made" not in text
    checked = project.run("check", expect=1).out  # not verified, and says why
    assert f"charlie: clone {charlie} was made " in checked
    assert "is not listed yet (the list lags behind creates): not checked" in checked
    assert "does not exist" not in checked

    project.server.edit_clone(charlie, listed=True)  # the lag ends
    project.run("apply", "--auto-approve", "--list-grace", "3600")  # still young: marked now
    assert project.lock()["voices"]["charlie"]["listedAt"]
    delete_by_hand(project, charlie)
    planned = actions(project, "--detailed-exitcode", "--list-grace", "3600", expect=2)
    assert planned["charlie/None"]["action"] == "create"  # drift, even within an hour's grace
    assert planned["charlie/None"]["reasons"] == [
        f"clone {charlie} no longer exists on the service"
    ]


def test_old_lockfiles_without_listed_at_are_read_and_not_rewritten_by_a_no_op(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    doc = project.lock()
    del doc["voices"]["alpha"]["listedAt"]  # as an older voicectl wrote it
    project.lockfile.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    before = project.lockfile.read_bytes()
    # past the grace (0 s here; 30 s by default) the mark has no use: nothing is written
    assert "No changes." in project.run("apply", "--auto-approve", "--list-grace", "0").out
    assert project.lockfile.read_bytes() == before


def pending_replacement(project: Project) -> tuple[str, str]:
    """alpha's replacement was made and journalled as pending, but never listed."""
    project.write({"alpha": {"description": "one"}})
    project.run("apply", "--auto-approve")
    old = project.ids()["alpha"]
    project.server.config(list_lag_ms=HIDDEN, processing_seconds=3600)
    project.write({"alpha": {"description": "two"}})
    r = project.run("apply", "--auto-approve", "--wait-timeout", "0", expect=1)
    assert "still processing after 0s" in r.text or "still pending after 0s" in r.text, r.text
    (new,) = project.lock()["pending"]
    assert new != old and project.ids()["alpha"] == old
    return old, new


def test_a_pending_replacement_carries_its_time_and_is_waited_for(project):
    old, new = pending_replacement(project)
    pending = project.lock()["pending"][new]
    assert pending["createdAt"] and pending["replaces"] == old
    planned = actions(project, "--detailed-exitcode", expect=2)
    assert [a["action"] for a in planned.values()] == ["wait"], planned  # not a 2nd replace
    (wait,) = planned.values()
    assert wait["voiceId"] == new and "is not listed yet" in wait["reasons"][0]
    creates = project.server.stats()["clones_created"]
    project.run("apply", "--auto-approve")
    assert project.server.stats()["clones_created"] == creates  # nothing made twice
    assert new in project.lock()["pending"]


def test_an_undeclared_pending_clone_is_not_forgotten_within_the_grace(project):
    _old, new = pending_replacement(project)
    project.write({"bravo": {}})  # alpha no longer declared
    planned = actions(project, expect=None)
    assert planned[f"alpha/{new}"]["action"] == "wait", planned
    assert "pending clone no longer exists" not in json.dumps(planned)
    planned = actions(project, "--list-grace", "0", expect=None)  # past the grace: gone
    assert planned[f"alpha/{new}"]["action"] == "forget"


def test_a_journal_of_an_older_voicectl_without_pending_times_replays(tmp_path):
    lock = Lockfile.load(tmp_path / "voices.lock.json", stack="s")
    journal = journal_path_for(lock.path)
    journal.parent.mkdir()
    head = {"journal": 1, "lineage": lock.doc.lineage, "serial": 0, "stack": "s"}
    step = {"ops": [["set", "pending", "voice_new", {"name": "alpha", "kind": "replace"}]]}
    journal.write_text(json.dumps(head) + "\n" + json.dumps(step) + "\n")
    replayed = Lockfile.load(lock.path, stack="s")
    assert replayed.recovered == 1
    assert replayed.doc.pending["voice_new"].created_at is None  # no time: no grace
