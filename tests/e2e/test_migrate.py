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
import signal

import pytest
import yaml
from cli_support import Project
from sandbox_support import until
from test_import import dashboard, legacy
from test_interrupts import read_until, spawn

pytestmark = pytest.mark.e2e


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
    assert listed["summary"] == {"total": 5, "legacy": 4, "unmanaged": 5, "awaitingDeletion": 0}

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
    assert "No changes." not in out and "Nothing to migrate" in out
    assert "Not converged: 2 other changes are pending (alpha, new-voice)" in out
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


# Where a migrate run is killed (SIGKILL: no cleanup, nothing flushed beyond what was
# written), each reached by an event, not a guessed time: the server holds the run's
# requests of one kind until the test has killed it.
#   listing     - its first list is held: killed before anything was made;
#   creating    - a create is held at the server: the server makes the clone after the
#                 client is gone (an answer nobody read, nothing journalled);
#   processing  - every new clone made and still processing (pending, or answered but
#                 not yet journalled);
#   deleting    - a delete of an old clone is held: recorded, the old one not yet gone.
KILL_AT = {
    "listing": {"hold": {}},
    "creating": {"hold": {"method": "POST", "path": "/waves/v1/voice-cloning"}},
    "processing": {"processing_seconds": 3600},
    "deleting": {"hold": {"method": "DELETE"}},
}


def kill_migrate_at(project: Project, phase: str, args: list[str], *, new_clones: int) -> None:
    """Start ``voicectl ARGS`` and SIGKILL it once it reached ``phase`` (KILL_AT: an
    event at the server, never a guessed time); then let the server finish what it was
    doing for the dead run, and move on at once."""
    server = project.server
    seeded = server.stats()["clones_created"]
    how = KILL_AT[phase]
    if "hold" in how:
        server.hold(**how["hold"])
    else:
        server.config(processing_seconds=how["processing_seconds"])
    proc = project.spawn(*args)

    def reached() -> bool:
        if "hold" in how:
            return server.stats()["held_now"] >= 1
        return server.stats()["clones_created"] == seeded + new_clones

    until(lambda: reached() or proc.poll() is not None, f"the run to reach {phase}")
    assert proc.poll() is None, f"the run ended before {phase}: {proc.communicate()}"
    proc.kill()
    proc.communicate(timeout=60)
    server.release()
    until(lambda: not any(server.stats()["in_flight_now"].values()), "the server to be idle")
    server.config(processing_seconds=0)
    server.finish_processing()


@pytest.mark.parametrize(
    ("phase", "keep"),
    [
        *((phase, False) for phase in KILL_AT),
        ("listing", True),
        ("creating", True),
        ("processing", True),
    ],
    ids=lambda v: {False: "delete", True: "keep-legacy"}.get(v, v) if isinstance(v, bool) else v,
)
def test_killed_migration_converges(project, tmp_path, phase, keep):
    originals = seeded_org(project, n_legacy=6)
    import_all(project)
    server = project.server
    seeded = server.stats()["clones_created"]
    map_path = tmp_path / "map.json"
    args = ["migrate", "--auto-approve", "--wait-timeout", "600", "--map-out", str(map_path)]
    if keep:
        args.append("--keep-legacy")
    kill_migrate_at(project, phase, args, new_clones=len(originals))
    log = []
    for _attempt in range(6):
        r = project.run(*args, expect=None)
        log.append(r.text)
        if r.code == 0:
            break
        assert "migration not finished" in r.err or "Apply failed" in r.out, r.text
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


@pytest.mark.parametrize("phase", ["creating", "processing"])
@pytest.mark.parametrize("began_with_keep", [True, False], ids=["begun-keeping", "resumed-keeping"])
def test_a_killed_keep_legacy_migration_keeps_the_old_clones(
    project, tmp_path, phase, began_with_keep
):
    """Killed while a create is out (its clone made after the client died) or while the
    new clones process: the intent to keep the legacy clones was journalled before the
    first create, so even a plain `apply` finishing the replacements keeps them (apps
    may still use them) and its plan says so; a migration begun without --keep-legacy
    and resumed with it keeps them too."""
    originals = seeded_org(project, n_legacy=2)
    import_all(project)
    server = project.server
    seeded = server.stats()["clones_created"]
    args = ["migrate", "--auto-approve", "--wait-timeout", "600"]
    kept = ["--keep-legacy"] if began_with_keep else []
    kill_migrate_at(project, phase, [*args, *kept], new_clones=len(originals))
    if began_with_keep:  # a plain plan and apply: nothing is deleted
        plan = project.run("plan").out
        assert "to replace, 0 to delete." in plan, plan
        assert plan.count("kept as retired, as `migrate --keep-legacy` asked") == 2, plan
        project.run("apply", "--auto-approve")
    else:
        project.run(*args, "--keep-legacy")
    map_path = tmp_path / "map.json"
    project.run("migrate", "--auto-approve", "--map-out", str(map_path))
    assert_migrated(project, originals, kept=True, map_path=map_path)
    assert server.stats()["clones_created"] == seeded + len(originals)
    project.run("migrate", "--finish", "--auto-approve", "--map-out", str(map_path))
    assert_migrated(project, originals, kept=False, map_path=map_path)


def ctrl_c_keep_legacy(project: Project, *extra: str) -> tuple[int, str]:
    """`migrate --keep-legacy` one voice at a time, Ctrl-C while its first create is
    held at the server; the one in flight then finishes. (exit code, all it printed)"""
    server = project.server
    server.hold(method="POST", path="/waves/v1/voice-cloning")
    args = ("--auto-approve", "--keep-legacy", "--parallelism", "1", *extra)
    proc = spawn(project, *args, command="migrate")
    seen: list[str] = []
    read_until(proc, ": Replacing...", seen)  # the first create's request is out
    proc.send_signal(signal.SIGINT)
    read_until(proc, "Interrupt (Ctrl-C) received", seen)
    server.release()  # the one in flight finishes; nothing more starts
    out, _ = proc.communicate(timeout=120)
    until(lambda: not any(server.stats()["in_flight_now"].values()), "the server to be idle")
    return proc.returncode, "".join(seen) + out


def test_ctrl_c_of_a_keep_legacy_migration_writes_the_map_and_names_migrate(project, tmp_path):
    """Ctrl-C after the first voice: the map holds what is done, the advice is to run
    the same migrate again, and even a plain apply keeps the old clones of the voices
    not started yet (their intent was journalled before the first create)."""
    originals = seeded_org(project, n_legacy=3)
    import_all(project)
    map_path = tmp_path / "map.json"
    code, text = ctrl_c_keep_legacy(project, "--map-out", str(map_path))
    assert code == 130, text
    rerun = f"voicectl migrate --keep-legacy --map-out {map_path}"
    assert f"Next: run `{rerun}` again" in text
    assert f"run `{rerun}` again to do the rest" in text
    voices = json.loads(map_path.read_text())["voices"]
    assert len(voices) == 1 and next(iter(voices.values()))["oldKept"] is True, voices
    plan = project.run("plan").out
    assert "Plan: 0 to create, 2 to replace, 0 to delete." in plan
    assert plan.count("the legacy clone is kept as retired, as `migrate --keep-legacy`") == 2
    assert project.run("apply", "--auto-approve").out.count("(old clone kept as retired)") == 2
    project.run("migrate", "--auto-approve", "--map-out", str(map_path))
    assert_migrated(project, originals, kept=True, map_path=map_path)


def test_destroy_first_at_the_clone_limit_keeps_the_voice_in_the_map(project, tmp_path):
    """The clone limit's own advice, `migrate --destroy-first NAME`, works, and the
    voice it migrates keeps its old -> new pair (migratedFrom) like any other."""
    originals = seeded_org(project, n_legacy=2)
    import_all(project)
    held = len(project.remote())
    project.server.config(clone_limit=held)  # full: no create fits
    map_path = tmp_path / "map.json"
    full = project.run("migrate", "--auto-approve", expect=1).text
    assert "--destroy-first NAME" in full
    out = project.run(
        "migrate", "--auto-approve", "--destroy-first", "voice-0", "--target", "voice-0",
        "--map-out", str(map_path),
    ).out  # fmt: skip
    assert "voice-0" in out
    new = project.ids()["voice-0"]
    assert project.lock()["voices"]["voice-0"]["migratedFrom"] == originals["voice-0"]
    voices = json.loads(map_path.read_text())["voices"]
    assert voices == {"voice-0": {"old": originals["voice-0"], "new": new, "oldKept": False}}
    refused = project.run("migrate", "--finish", "--destroy-first", "voice-1", expect=1)
    assert "--destroy-first has no use with --finish" in refused.err


def test_a_rerun_while_the_new_clones_process_keeps_an_earlier_map(project, tmp_path):
    """Nothing migrated yet (the new clones are still processing): the map already
    at --map-out is left as it was, not replaced by an empty one."""
    seeded_org(project, n_legacy=2)
    import_all(project)
    map_path = tmp_path / "map.json"
    earlier = '{"formatVersion": 1, "ids": {"voice_a": "voice_b"}, "voices": {}}\n'
    map_path.write_text(earlier)
    project.server.config(processing_seconds=3600)
    args = ["migrate", "--auto-approve", "--map-out", str(map_path)]
    project.run(*args, "--wait-timeout", "0.5", expect=1)  # made, still processing
    again = project.run(*args, expect=1)
    assert f"Left the voiceId map in {map_path} as it was: no voice is migrated yet." in again.out
    assert f"run `voicectl migrate --map-out {map_path}` again once they have completed" in (
        again.err
    )
    assert map_path.read_text() == earlier
    project.server.config(processing_seconds=0)
    project.server.finish_processing()
    project.run(*args)
    assert len(json.loads(map_path.read_text())["voices"]) == 2
