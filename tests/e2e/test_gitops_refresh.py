"""`voicectl refresh`: the lockfile catches up with the service; no clone is touched."""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import DELETE

from reconciler.lockfile import RunLock

pytestmark = pytest.mark.e2e


def only_reads(project: Project) -> None:
    requests = project.server.stats()["requests"]
    assert {k for k, v in requests.items() if v} <= {"GET /waves/v1/voice-cloning"}, requests


def test_status_of_a_clone_still_processing_at_apply_is_refreshed(project):
    project.server.config(processing_seconds=3600)  # until the test says it is done
    project.write({"alpha": {}})
    r = project.run("apply", "--auto-approve", "--wait-timeout", "0.05", expect=1)
    assert "still processing" in r.out
    entry = project.lock()["voices"]["alpha"]
    assert entry["status"] == "processing"
    serial = project.lock()["serial"]
    project.server.finish_processing()
    project.server.reset_stats()
    r = project.run("refresh")
    voice_id = entry["voiceId"]
    assert f'~ alpha ({voice_id}): status: "processing" -> "completed"' in r.out
    assert f"Refreshed 1 voice in {project.lockfile} (serial {serial} -> {serial + 1})." in r.out
    assert project.lock()["voices"]["alpha"]["status"] == "completed"
    only_reads(project)


def test_lost_fields_are_restored_and_reported(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    good = project.lock()
    lock = json.loads(json.dumps(good))
    lock["voices"]["alpha"].update(samples=[], modelIds=["lightning-large"], createdAt=None)
    lock["voices"]["bravo"]["displayName"] = "stale name"
    project.lockfile.write_text(json.dumps(lock, indent=2))
    r = project.run("refresh")
    assert "~ alpha" in r.out and "samples: 0 samples -> 2 samples" in r.out
    assert "modelIds: [lightning-large] -> [lightning-v3.1]" in r.out
    assert 'displayName: "stale name" -> "bravo"' in r.out
    assert "Refreshed 2 voices" in r.out
    refreshed = project.lock()
    assert refreshed["voices"] == good["voices"]
    assert refreshed["serial"] == lock["serial"] + 1


def test_dashboard_rename_is_recorded_but_the_clone_is_not_touched(project):
    project.write({"alpha": {"displayName": "Alpha"}})
    project.run("apply", "--auto-approve")
    voice_id = project.ids()["alpha"]
    with project.server.client() as http:
        http.patch(f"/_sandbox/clones/{voice_id}", json={"displayName": "Renamed"})
    project.server.reset_stats()
    r = project.run("refresh", "--format", "json")
    doc = json.loads(r.out)
    assert doc["written"] is True and doc["missing"] == []
    assert doc["changes"] == [
        {
            "name": "alpha",
            "voiceId": voice_id,
            "field": "displayName",
            "old": "Alpha",
            "new": "Renamed",
        }
    ]
    only_reads(project)
    assert project.remote()[0]["displayName"] == "Renamed"
    plan = json.loads(project.run("plan", "--format", "json").out)
    assert [a["action"] for a in plan["actions"]] == ["replace"]  # still drift


def test_missing_clone_is_reported_and_kept(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    voice_id = project.ids()["alpha"]
    with project.server.client() as http:
        http.request("DELETE", DELETE, json={"voiceId": voice_id}).raise_for_status()
    before = project.lockfile.read_bytes()
    r = project.run("refresh")
    assert f"! alpha: clone {voice_id} is not listed by the service; entry kept" in r.err
    assert "is up to date" not in r.out
    assert "is not up to date: 1 recorded clone is missing from the service" in r.out
    assert project.lockfile.read_bytes() == before


def test_nothing_to_refresh_leaves_the_file_byte_identical(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    before = project.lockfile.read_bytes()
    r = project.run("refresh")
    assert r.out.strip() == f"{project.lockfile} is up to date."
    assert project.lockfile.read_bytes() == before


def test_refresh_needs_a_lockfile(project):
    project.write({"alpha": {}})
    r = project.run("refresh", expect=1)
    assert r.err.strip() == (
        f"Error: {project.lockfile}: no lockfile yet; run `voicectl apply` first"
    )


def test_refresh_respects_the_run_lock(project):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    with RunLock(project.lockfile):
        r = project.run("refresh", expect=1)
    assert "another voicectl run holds the lock" in r.err


def test_refresh_with_another_organisations_key_changes_nothing_and_says_so(project):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    recorded = project.lock()["organizationId"]
    before = project.lockfile.read_bytes()
    project.key = "sk-another-organisation"
    # its organisation lists nothing: no organisation to compare, the count says it all
    r = project.run("refresh")
    assert r.out.splitlines()[-1] == (
        f"{project.lockfile} is not up to date: 2 recorded clones are missing from the "
        "service: none of them is listed (is SMALLEST_API_KEY the key of another "
        "organisation?); run `voicectl plan` to see what to do."
    )
    # once it lists a clone of its own, its organisation is not the recorded one: refused
    theirs = project.server.seed_clone(key=project.key, displayName="Theirs", language="en")
    r = project.run("refresh", expect=1)
    assert r.err == (
        f"Error: {project.lockfile} records organisation {recorded}, but this key lists the "
        f"clones of organisation {theirs['organizationId']}: is SMALLEST_API_KEY the key of "
        "another organisation? Nothing was changed\n"
    )
    assert project.lockfile.read_bytes() == before
    # import too: the other organisation's clone is never adopted into this lockfile
    manifest = project.manifest.read_bytes()
    for args in (["import"], ["import", "--dry-run"]):
        r = project.run(*args, expect=1)
        assert r.err.startswith(f"Error: {project.lockfile} records organisation {recorded}")
        assert r.err.endswith("Nothing was changed\n")
    assert project.lockfile.read_bytes() == before and project.manifest.read_bytes() == manifest
