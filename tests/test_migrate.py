"""Legacy migration end to end against `voicectl sandbox serve`.

The organisation is seeded the realistic way: clones made through the emulator's
deprecated ``add_voice`` (lightning-large only) and dashboard-style clones made with
the current endpoint without ownership tags. Then: list -> import -> plan shows
the legacy replacements -> migrate --map-out -> check --probe all green; the same
with --keep-legacy then --finish; and a migration killed (SIGKILL) at random points
and run again converges: every voice on lightning-v3.1, no duplicate ever made, no
legacy clone left unless kept on purpose, lockfile and map agreeing with the service.
"""

from __future__ import annotations

import json
import os
import random
import time

import pytest
import yaml
from cli_support import Project
from test_import import dashboard, legacy

SEEDS = [int(s) for s in os.environ.get("VOICECTL_KILL_SEEDS", "1 2 3").split()]


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


def seeded_org(project: Project, n_legacy: int = 3) -> dict[str, str]:
    """n legacy clones (samples/voice-N.wav) and one dashboard clone (samples/promo.wav).

    Returns name -> the legacy voiceId that the import will adopt under that name.
    """
    originals = {}
    for i in range(n_legacy):
        name = f"voice-{i}"
        project.sample(name)
        originals[name] = legacy(project, f"Voice {i}", f"samples/{name}.wav")
    project.sample("promo")
    dashboard(project, "Promo", "samples/promo.wav", language="en", tags="promo, q3")
    return originals


def import_all(project: Project, *args: str) -> None:
    samples = str(project.root / "samples")
    project.run("import", "--stack", "e2e", "--samples", samples, *args)


def assert_migrated(project: Project, originals: dict[str, str], *, kept: bool, map_path) -> None:
    """Every voice on lightning-v3.1, no duplicate, legacy gone unless kept; map agrees."""
    lock = project.lock()
    ids = project.ids()
    remote = {c["voiceId"]: c for c in project.remote()}
    assert set(ids) == set(originals) | {"promo"}
    for name, voice_id in ids.items():
        clone = remote[voice_id]
        assert clone["status"] == "completed", (name, clone)
        assert "lightning-v3.1" in clone["modelIds"], (name, clone)
    assert project.owned() == {name: [ids[name]] for name in originals}  # one new clone each
    legacy_left = {vid for vid, c in remote.items() if "lightning-v3.1" not in c["modelIds"]}
    assert legacy_left == (set(originals.values()) if kept else set())
    assert set(remote) == set(ids.values()) | legacy_left
    assert not lock.get("pending")
    retired = lock.get("retired", {})
    assert set(retired) == legacy_left
    assert all(r["keep"] and r["replacedBy"] == ids[r["name"]] for r in retired.values())
    for name, old in originals.items():
        assert lock["voices"][name]["migratedFrom"] == old
    data = json.loads(map_path.read_text())
    assert data == {
        "formatVersion": 1,
        "voices": {
            name: {"old": old, "new": ids[name], "oldKept": kept} for name, old in originals.items()
        },
        "ids": {old: ids[name] for name, old in originals.items()},
    }


def test_list_import_plan_migrate_check(project, tmp_path):
    originals = seeded_org(project)
    project.sample("stray")
    stray = legacy(project, "Stray", "samples/stray.wav")  # stays unmanaged on purpose

    listed = json.loads(project.run("list", "--json").out)
    assert listed["summary"] == {"total": 5, "legacy": 4, "unmanaged": 5,
                                 "awaitingDeletion": 0}

    import_all(project, "--exclude", "Stray")
    assert yaml.safe_load(project.manifest.read_text())["voices"]["voice-0"] == {
        "file": "samples/voice-0.wav",
        "displayName": "Voice 0",
    }
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    for name, old in originals.items():
        assert f"# {name} must be replaced (legacy clone (modelIds: lightning-large)" in plan
        assert f"-/+ {name} {old}" in plan
    assert "promo" not in plan
    assert "1 legacy lightning-large clone is unmanaged; `voicectl import` them to migrate" in plan
    assert "Plan: 0 to create, 3 to replace, 0 to delete." in plan

    map_path = tmp_path / "out" / "voice-map.json"
    out = project.run("migrate", "--auto-approve", "--map-out", str(map_path)).out
    assert "Apply complete! 0 created, 3 replaced, 0 deleted." in out
    ids = project.ids()
    for name, old in originals.items():
        line = next(x for x in out.splitlines() if x.startswith(name + " "))
        assert line.split() == [name, old, "->", ids[name], "deleted"]
    assert f"Wrote the voiceId map to {map_path}." in out
    remote = {c["voiceId"] for c in project.remote()}
    assert stray in remote  # the unmanaged legacy clone is never touched
    assert remote - {stray} == set(ids.values())
    assert json.loads(map_path.read_text())["ids"] == {old: ids[n] for n, old in originals.items()}

    probe = project.run("check", "--probe").out
    assert "4 voices checked (with a lightning_v3.1 probe): 4 ok, 0 with problems." in probe
    assert project.run("plan", "--detailed-exitcode").code == 0
    again = project.run("migrate", "--auto-approve", "--map-out", str(map_path)).out
    assert "No changes." in again and "Migrated voices" in again  # the map stays complete
    assert len(json.loads(map_path.read_text())["voices"]) == 3


def test_keep_legacy_then_finish(project, tmp_path):
    originals = seeded_org(project)
    import_all(project)
    map_path = tmp_path / "map.json"
    out = project.run("migrate", "--auto-approve", "--keep-legacy", "--map-out", str(map_path)).out
    assert "(old clone kept as retired)" in out
    assert "3 old clones are kept as retired; deploy the new voiceIds" in out
    assert_migrated(project, originals, kept=True, map_path=map_path)
    plan = project.run("plan", "--detailed-exitcode").out  # nothing to do, but a reminder
    assert "3 old clones are kept as retired; `voicectl migrate --finish` deletes them" in plan
    assert "3 LEGACY" in project.run("list").out and "(retired)" in project.run("list").out
    assert project.run("check", "--probe").code == 0  # the recorded voices are the new ones

    # refused, all or nothing, while a replacement is missing
    gone = project.ids()["voice-1"]
    with project.server.client() as http:
        http.request("DELETE", "/waves/v1/lightning-large", json={"voiceId": gone})
    r = project.run("migrate", "--finish", "--auto-approve", expect=1)
    assert f"voice-1: its replacement {gone} does not exist on the service" in r.err
    assert "nothing was deleted" in r.err
    assert set(originals.values()) <= {c["voiceId"] for c in project.remote()}
    r = project.run("migrate", "--finish", "--target", "voice-0", expect=1)
    assert "pass --auto-approve" in r.err  # no terminal to confirm on

    fin = project.run(
        "migrate", "--finish", "--auto-approve", "--target", "voice-0", "--target", "voice-2",
        "--map-out", str(map_path),
    ).out  # fmt: skip
    assert "Finished: 2 old clones deleted." in fin
    remote = {c["voiceId"] for c in project.remote()}
    assert originals["voice-0"] not in remote and originals["voice-2"] not in remote
    assert set(project.lock()["retired"]) == {originals["voice-1"]}
    voices = json.loads(map_path.read_text())["voices"]
    assert [voices[n]["oldKept"] for n in sorted(voices)] == [False, True, False]


def test_migrate_touches_only_legacy_clones(project):
    project.write({"alpha": {"description": "one"}})
    project.run("apply", "--auto-approve")
    alpha = project.ids()["alpha"]
    project.write({"alpha": {"description": "two"}, "new-voice": {}})
    out = project.run("migrate", "--auto-approve").out
    assert "No changes." in out and "Nothing to migrate" in out
    assert project.ids() == {"alpha": alpha}  # no replace, no create
    assert "Plan: 1 to create, 1 to replace" in project.run("plan").out


def test_migrating_many_needs_allow_mass_delete(project):
    originals = seeded_org(project, n_legacy=10)
    import_all(project)
    r = project.run("migrate", "--auto-approve", expect=1)
    assert "refusing to delete or replace 10 of 11 existing clones" in r.err
    assert "pass --allow-mass-delete" in r.err
    assert project.server.stats()["clones_created"] == 11  # only the seeding
    project.run("migrate", "--auto-approve", "--allow-mass-delete")
    assert all("lightning-v3.1" in c["modelIds"] for c in project.remote())
    assert set(project.ids()) == set(originals) | {"promo"}


def test_placeholders_block_only_their_own_voice_in_migrate(project):
    seeded_org(project, n_legacy=1)
    project.run("import", "--stack", "e2e")  # no --samples: placeholders
    r = project.run("migrate", "--auto-approve")
    assert "voices.voice-0: its file is still the FILL-ME-IN placeholder" in r.text
    assert "left alone (not re-cloned, not deleted)" in r.text
    stats = project.server.stats()
    assert stats["clones_created"] == 2 and stats["clones_deleted"] == 0


@pytest.mark.parametrize("keep", [False, True], ids=["delete", "keep-legacy"])
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_migration_converges(project, tmp_path, seed, keep):
    originals = seeded_org(project, n_legacy=6)
    import_all(project)
    seeded = project.server.stats()["clones_created"]
    # A run takes ~1.5 s here (process start ~0.5 s, then list, 6 creates, processing,
    # records and deletes), so kill times in 0.4-1.8 s land in every phase: before the
    # creates, with creates in flight or answered but not journalled, clones processing
    # (pending), recorded but the old clone not yet deleted (retired keep=false), deletes.
    project.server.config(latency_ms=40, processing_seconds=0.6)
    map_path = tmp_path / "map.json"
    args = ["migrate", "--auto-approve", "--wait-timeout", "30", "--map-out", str(map_path)]
    if keep:
        args.append("--keep-legacy")
    rng = random.Random(seed)
    for _ in range(4):  # until a run is not killed, or 4 kills
        proc = project.spawn(*args)
        time.sleep(rng.uniform(0.4, 1.8))
        if proc.poll() is not None:
            proc.communicate(timeout=60)
            break
        proc.kill()  # SIGKILL: no cleanup, nothing flushed beyond what was written
        proc.communicate(timeout=60)
    log = []
    for _attempt in range(12):
        r = project.run(*args, expect=None)
        log.append(r.text)
        if r.code == 0:
            break
        assert "migration not finished" in r.err or "Apply failed" in r.out, r.text
        time.sleep(0.5)
    else:
        raise AssertionError("migrate did not converge:\n" + "\n".join(log))
    project.server.config(latency_ms=0, processing_seconds=0)
    assert_migrated(project, originals, kept=keep, map_path=map_path)
    # exactly once: the service never made more than one new clone per voice
    assert project.server.stats()["clones_created"] == seeded + len(originals), log
    assert project.run("plan", "--detailed-exitcode").code == 0
    assert project.run("check", "--probe").code == 0
    if keep:
        project.run("migrate", "--finish", "--auto-approve", "--map-out", str(map_path))
        assert_migrated(project, originals, kept=False, map_path=map_path)
