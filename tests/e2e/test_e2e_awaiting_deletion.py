"""When no delete route works (the ``current`` world), nothing is lost or forgotten.

The real CLI against `voicectl sandbox serve --profile current` over sockets:
prune, replacement and duplicate deletes are handed off and recorded as awaiting
deletion; every plan keeps showing them (``--detailed-exitcode`` 2); ``list``
marks them; when the emulator is switched at run time to a world where a route
deletes, the next apply deletes each exactly once and clears the records.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import DELETE, DELETE_V2

pytestmark = pytest.mark.e2e

NO_ROUTE = (
    "DELETE /waves/v1/lightning-large: retired (410 MODEL_DEPRECATED); "
    "POST /waves/v1/voice-cloning/delete: this key may not delete (401)"
)


@pytest.fixture
def project(project):
    project.server.reset(profile="current")
    return project


def apply(project: Project, *args: str, expect: int = 0):
    return project.run("apply", "--auto-approve", *args, expect=expect)


def deletes_sent(project: Project) -> int:
    requests = project.server.stats()["requests"]
    return requests.get(f"DELETE {DELETE}", 0) + requests.get(f"POST {DELETE_V2}", 0)


WORLDS = [
    pytest.param({"profile": "current"}, "voice-cloning", id="current-then-new-route"),
    pytest.param(
        {"profile": "seed", "delete_route": "none"}, "lightning-large", id="seed-then-old-route"
    ),
]


@pytest.mark.parametrize(("world", "later"), WORLDS)
def test_prune_and_replace_hand_off_then_finish_when_deleting_works(project, world, later):
    project.server.reset(**world)
    project.write({"keep": {}, "drop": {}, "change": {"description": "old"}})
    apply(project)
    ids = project.ids()
    project.write({"keep": {}, "change": {"description": "new"}})
    project.server.reset_stats()
    out = apply(project, "--allow-mass-delete").out
    assert deletes_sent(project) == 2  # one probe of each route for the whole run
    assert "Apply complete! 0 created, 1 replaced, 0 deleted." in out
    assert "Awaiting deletion: 2 clones could not be deleted" in out and NO_ROUTE in out
    new_change = project.ids()["change"]
    assert new_change != ids["change"] and set(project.ids()) == {"keep", "change"}
    for line in (
        ("drop", ids["drop"], "no longer declared"),
        ("change", ids["change"], "replaced by a new clone"),
    ):
        assert any(all(cell in row for cell in line) for row in out.splitlines()), line

    lock = project.lock()
    awaiting = lock["awaitingDeletion"]
    assert {v: (e["name"], e["reason"]) for v, e in awaiting.items()} == {
        ids["drop"]: ("drop", "orphan"),
        ids["change"]: ("change", "replaced"),
    }
    assert awaiting[ids["change"]]["replacedBy"] == new_change
    assert awaiting[ids["drop"]]["why"] == NO_ROUTE

    # Every plan keeps showing them as deletes.
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "Plan: 0 to create, 0 to replace, 2 to delete." in plan
    assert "awaiting deletion (orphan)" in plan or ids["drop"] in plan
    plan_json = json.loads(project.run("plan", "--format", "json").out)
    deleting = {a["voiceId"] for a in plan_json["actions"] if a["action"] == "delete"}
    assert deleting == {ids["drop"], ids["change"]}
    listing = json.loads(project.run("list", "--format", "json").out)
    marked = {c["voiceId"]: c.get("awaitingDeletion") for c in listing["clones"]}
    assert marked[ids["drop"]] == "orphan" and marked[ids["change"]] == "replaced"
    assert marked[ids["keep"]] is None
    assert "awaiting deletion" in project.run("list").out

    # A second apply in the same world: hands off again, loses nothing, duplicates nothing.
    again = json.loads(apply(project, "--format", "json").out)
    assert again["ok"] is True
    assert sorted((h["name"], h["reason"]) for h in again["awaitingDeletion"]) == [
        ("change", "replaced"),
        ("drop", "orphan"),
    ]
    assert {h["voiceId"] for h in again["awaitingDeletion"]} == {ids["drop"], ids["change"]}
    assert len(project.remote()) == 4

    # The service starts accepting the key on the new route: the next apply deletes them.
    project.server.config(delete_route=later)
    project.server.reset_stats()
    done = apply(project)
    assert "0 created, 0 replaced, 2 deleted." in done.out and "Awaiting" not in done.out
    assert project.server.stats()["clones_deleted"] == 2
    assert sorted(c["voiceId"] for c in project.remote()) == sorted([ids["keep"], new_change])
    lock = project.lock()
    assert "awaitingDeletion" not in lock and "retired" not in lock
    assert project.run("plan", "--detailed-exitcode", expect=0).out.startswith("No changes.")


def test_a_rename_whose_old_clone_cannot_be_deleted_leaves_no_entry_under_the_old_name(
    project,
):
    """A rename without moved: makes the new clone; the old one, which no route can
    delete, is recorded as awaiting deletion only: `output` never hands it out under the
    name the manifest no longer declares."""
    project.write({"alpha": {"file": project.sample("alpha")}})
    apply(project)
    old = project.ids()["alpha"]
    project.write({"alpha2": {"file": "samples/alpha.wav", "displayName": "alpha"}})
    r = apply(project)
    out = r.out
    assert f"(old clone {old} awaiting deletion)" in out
    # the client's warning is marked as one (it was Python's bare last-resort line)
    assert [x for x in r.err.splitlines() if "no delete route works" in x] == [
        f"Warning: no delete route works for this key: {NO_ROUTE}"
    ]
    new = project.ids()["alpha2"]
    assert project.ids() == {"alpha2": new} and new != old
    assert project.lock()["awaitingDeletion"][old]["name"] == "alpha2"
    assert project.run("output", "--format", "env").out == f"VOICE_ID_ALPHA2={new}\n"
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert f"superseded by {new} (awaiting deletion: replaced)" in plan
    assert "interrupted" not in plan
    project.server.config(delete_route="voice-cloning")
    apply(project)
    assert [c["voiceId"] for c in project.remote()] == [new]
    assert project.ids() == {"alpha2": new} and "awaitingDeletion" not in project.lock()


def test_a_record_whose_clone_is_gone_is_cleared_once(project):
    project.write({"a": {}, "b": {}})
    apply(project)
    gone = project.ids()["b"]
    project.write({"a": {}})
    apply(project)
    assert gone in project.lock()["awaitingDeletion"]
    # Someone deletes it in the dashboard (the hook plays the dashboard).
    project.server.config(delete_route="lightning-large")
    with project.server.client() as http:
        assert http.request("DELETE", DELETE, json={"voiceId": gone}).status_code == 200
    project.server.config(delete_route="none")
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "no longer exists" in plan
    out = apply(project).out
    assert "Awaiting" not in out
    assert "awaitingDeletion" not in project.lock()
    assert project.run("plan", "--detailed-exitcode", expect=0).out.startswith("No changes.")


def test_apply_markdown_and_job_summary_carry_the_hand_off(project, tmp_path, monkeypatch):
    project.write({"a": {}, "b": {}})
    apply(project)
    b = project.ids()["b"]
    project.write({"a": {}})
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    md = apply(project, "--format", "markdown").out
    for text in (md, summary.read_text()):
        assert "#### Awaiting deletion: delete these clones in the dashboard" in text
        assert f"| b | b | {b.replace('_', chr(92) + '_')} | no longer declared |" in text


def test_a_duplicate_is_handed_off_as_duplicate_and_deleted_once(project):
    project.write({"a": {}})
    apply(project)
    (mine,) = project.remote()
    twin = project.server.seed_clone(
        displayName=mine["displayName"], tags=mine["tags"], language="en"
    )  # same ownership tags: a duplicate
    out = apply(project).out
    assert "Awaiting deletion: 1 clone could not be deleted" in out
    assert project.lock()["awaitingDeletion"][twin["voiceId"]]["reason"] == "duplicate"
    assert project.ids() == {"a": mine["voiceId"]}
    project.run("plan", "--detailed-exitcode", expect=2)
    project.server.config(delete_route="voice-cloning")
    project.server.reset_stats()
    apply(project)
    assert project.server.stats()["clones_deleted"] == 1
    assert [c["voiceId"] for c in project.remote()] == [mine["voiceId"]]
    assert "awaitingDeletion" not in project.lock()
    apply(project)
    assert project.server.stats()["clones_deleted"] == 1  # cleared exactly once


def test_delete_via_pins_the_route_from_the_command_line_and_the_environment(project, monkeypatch):
    project.server.reset(profile="current", delete_route="voice-cloning")
    project.write({"a": {}, "b": {}})
    apply(project)
    project.write({"a": {}})
    out = apply(project, "--delete-via", "lightning-large").out  # pinned to the retired one
    assert "Awaiting deletion: 1 clone" in out and "retired (410 MODEL_DEPRECATED)" in out
    assert "voice-cloning/delete" not in out.split("Awaiting deletion")[1].splitlines()[0]
    monkeypatch.setenv("VOICECTL_DELETE_VIA", "voice-cloning")
    done = apply(project).out
    assert "0 created, 0 replaced, 1 deleted." in done
    monkeypatch.setenv("VOICECTL_DELETE_VIA", "sideways")
    bad = project.run("apply", "--auto-approve", expect=1)
    assert "sideways" in bad.err
