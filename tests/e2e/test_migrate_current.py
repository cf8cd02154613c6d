"""Migration in today's world (`sandbox serve --profile current`): ``add_voice`` is gone
(410), so the legacy clones are seeded through ``POST /_sandbox/clones``; no delete
route works for the key, so the migration completes with the legacy clones handed
off; once the service lets the key delete, ``migrate --finish`` deletes them,
exactly once.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(project):
    project.server.reset(profile="current")
    return project


def seed_legacy(project: Project, n: int) -> dict[str, str]:
    originals = {}
    for i in range(n):
        name = f"voice-{i}"
        project.sample(name)
        made = project.server.seed_clone(displayName=f"Voice {i}", modelIds=["lightning-large"])
        originals[name] = made["voiceId"]
    return originals


def test_migration_completes_without_deletes_and_finish_deletes_later(project, tmp_path):
    originals = seed_legacy(project, 2)
    with project.server.client() as http:  # the legacy routes are gone in this world
        gone = http.get("/waves/v1/lightning-large/get_cloned_voices")
        assert gone.status_code == 410 and gone.json()["error_code"] == "MODEL_DEPRECATED"
    listing = json.loads(project.run("list", "--json").out)
    assert listing["summary"]["legacy"] == 2
    project.run("import", "--stack", "e2e", "--samples", str(project.root / "samples"))

    map_path = tmp_path / "map.json"
    out = project.run("migrate", "--auto-approve", "--map-out", str(map_path)).out
    assert "Apply complete! 0 created, 2 replaced, 0 deleted." in out
    assert "Awaiting deletion: 2 clones could not be deleted" in out
    ids = project.ids()
    for name, old in originals.items():  # the table agrees with the map's oldKept
        row = next(x for x in out.splitlines() if x.startswith(name + " "))
        assert row.split() == [name, old, "->", ids[name], "awaiting", "deletion"]
    data = json.loads(map_path.read_text())
    assert data["ids"] == {old: ids[name] for name, old in originals.items()}
    assert all(v["oldKept"] for v in data["voices"].values())
    lock = project.lock()
    assert {v: e["reason"] for v, e in lock["awaitingDeletion"].items()} == {
        old: "migrated" for old in originals.values()
    }
    remote = {c["voiceId"]: c["modelIds"] for c in project.remote()}
    assert remote == {
        **{v: ["lightning-large"] for v in originals.values()},
        **{v: ["lightning-v3.1"] for v in ids.values()},
    }
    assert project.run("check", "--probe").code == 0  # the recorded voices are the new ones

    # Still no route: --finish hands them off again, exit 0, nothing lost.
    finish = project.run("migrate", "--finish", "--auto-approve").out
    assert "Finished: 0 old clones deleted." in finish and "Awaiting deletion: 2" in finish
    assert len(project.remote()) == 4

    project.server.config(delete_route="voice-cloning")
    project.server.reset_stats()
    finish = project.run("migrate", "--finish", "--auto-approve").out
    assert "Finished: 2 old clones deleted." in finish and "Awaiting" not in finish
    assert project.server.stats()["clones_deleted"] == 2
    assert sorted(c["voiceId"] for c in project.remote()) == sorted(ids.values())
    lock = project.lock()
    assert "awaitingDeletion" not in lock and "retired" not in lock
    assert project.run("plan", "--detailed-exitcode").code == 0
    again = project.run("migrate", "--finish", "--auto-approve").out
    assert "Nothing to finish" in again


def test_kept_clones_that_finish_could_not_delete_are_deleted_by_the_next_apply(project):
    # --keep-legacy, then --finish while no route works: the finish approved the
    # deletes, so every plan shows them (never "No changes") and the first apply that
    # can delete does, as for any clone awaiting deletion.
    originals = seed_legacy(project, 2)
    project.run("import", "--stack", "e2e", "--samples", str(project.root / "samples"))
    project.run("migrate", "--auto-approve", "--keep-legacy")
    finish = project.run("migrate", "--finish", "--auto-approve").out
    assert "Finished: 0 old clones deleted." in finish and "Awaiting deletion: 2" in finish
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "No changes" not in plan and "Plan: 0 to create, 0 to replace, 2 to delete." in plan
    assert plan.count("awaiting deletion (migrated); not made by voicectl; recorded in ") == 2
    assert all(old in plan for old in originals.values())
    assert "prune: all" not in plan and "kept as retired" not in plan
    # migrate again: the summary says they await deletion, not "run --finish"
    again = project.run("migrate", "--auto-approve").out
    assert "kept as retired" not in again and "--finish" not in again
    assert "2 old clones are awaiting deletion: no delete route works for this key yet" in again

    project.server.config(delete_route="voice-cloning")
    out = project.run("apply", "--auto-approve").out
    assert "Apply complete! 0 created, 0 replaced, 2 deleted." in out
    assert sorted(c["voiceId"] for c in project.remote()) == sorted(project.ids().values())
    lock = project.lock()
    assert "awaitingDeletion" not in lock and "retired" not in lock
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_a_migration_to_the_pro_pool_says_pro(project):
    """`defaults: {model: lightning-v3.1-pro}`: the table and the finish name the pool
    the new clones are on, not plain lightning-v3.1."""
    seed_legacy(project, 1)
    project.run("import", "--stack", "e2e", "--samples", str(project.root / "samples"))
    text = project.manifest.read_text()
    project.manifest.write_text(
        text.replace("voices:", "defaults: {model: lightning-v3.1-pro}\nvoices:", 1)
    )
    out = project.run("migrate", "--auto-approve", "--keep-legacy").out
    assert "NEW (lightning-v3.1-pro)" in out and "NEW (lightning-v3.1)" not in out
    plan = project.run("migrate", "--finish", "--auto-approve").out
    assert "is completed on lightning-v3.1-pro" in plan
