"""What a migration leaves behind when a team changes course: a legacy voice removed
while no delete route works, a kept legacy clone whose voice is dropped, a migrate
--finish after a migration that was cut short. Each ends converged, and nothing
the team still declares is deleted from under it.
"""

from __future__ import annotations

import pytest
import yaml
from cli_support import Project
from test_migrate import ctrl_c_keep_legacy, import_all, seeded_org

pytestmark = pytest.mark.e2e


def undeclare(project: Project, name: str) -> None:
    data = yaml.safe_load(project.manifest.read_text())
    del data["voices"][name]
    project.manifest.write_text(yaml.safe_dump(data, sort_keys=False))


def legacy_ids(project: Project) -> set[str]:
    return {c["voiceId"] for c in project.remote() if "lightning-v3.1" not in c["modelIds"]}


def test_a_removed_legacy_voice_awaiting_deletion_is_not_offered_for_import(project):
    """No route deletes: the removed voice's clone awaits deletion. It is managed (not
    "unmanaged; import them"), and `import` does not take it back."""
    originals = seeded_org(project, n_legacy=2)
    import_all(project)
    project.server.config(delete_route="none")
    undeclare(project, "voice-1")
    project.run("apply", "--auto-approve")  # voice-0 is migrated, voice-1 handed off
    assert originals["voice-1"] in project.lock()["awaitingDeletion"]
    plan = project.run("plan").text
    assert "unmanaged" not in plan
    out = project.run("import", "--samples", str(project.root / "samples")).text
    assert "voice-1:" not in yaml.safe_load(project.manifest.read_text())["voices"]
    assert originals["voice-1"] not in project.ids().values(), out
    assert "Nothing to import" in out
    project.server.config(delete_route=None)  # the profile's route works again
    project.run("apply", "--auto-approve")
    assert set(originals.values()).isdisjoint(c["voiceId"] for c in project.remote())
    assert set(project.ids()) == {"voice-0", "promo"}


def test_migrate_keep_legacy_never_prunes_an_undeclared_legacy_clone(project):
    """migrate re-clones declared legacy voices; an undeclared one has no successor, so
    its clone is left to `voicectl apply` (pruning is the manifest's, not migrate's)."""
    originals = seeded_org(project, n_legacy=3)
    import_all(project)
    undeclare(project, "voice-2")
    out = project.run("migrate", "--auto-approve", "--keep-legacy").text
    assert "unmanaged" not in out
    assert originals["voice-2"] in legacy_ids(project)
    assert "1 other change is pending" in out
    assert project.lock()["voices"]["voice-2"]["voiceId"] == originals["voice-2"]


def test_a_kept_legacy_clone_of_a_dropped_voice_is_pruned_not_stuck(project):
    """After `migrate --keep-legacy` the team drops a voice: its kept legacy clone is an
    orphan like any other (a plain apply prunes it), never a `--finish` refused for ever
    while plan says "No changes"."""
    originals = seeded_org(project, n_legacy=3)
    import_all(project)
    project.run("migrate", "--auto-approve", "--keep-legacy")
    assert legacy_ids(project) == set(originals.values())
    undeclare(project, "voice-2")
    out = project.run("apply", "--auto-approve").out  # voice-2's new clone and its old one
    assert "Apply complete! 0 created, 0 replaced, 2 deleted." in out
    assert originals["voice-2"] not in legacy_ids(project)
    out = project.run("migrate", "--finish", "--auto-approve").out
    assert "Finished: 2 old clones deleted." in out
    assert legacy_ids(project) == set()
    assert project.run("plan", "--detailed-exitcode").code == 0


def test_finish_after_a_cut_short_keep_legacy_migration_is_refused(project):
    """Ctrl-C before the first new clone was recorded: the lockfile still names the
    legacy clones. `migrate --finish` says the migration is not finished (exit 1),
    not "Nothing to finish"."""
    seeded_org(project, n_legacy=2)
    import_all(project)
    code, text = ctrl_c_keep_legacy(project)
    assert code == 130, text
    finish = project.run("migrate", "--finish", "--auto-approve", expect=1)
    assert "its `migrate --keep-legacy` was cut short: run it again first" in finish.err
    assert "Nothing to finish" not in finish.text
    project.run("migrate", "--auto-approve", "--keep-legacy")
    assert (
        "Finished: 2 old clones deleted."
        in project.run("migrate", "--finish", "--auto-approve").out
    )


def test_a_removed_voice_lets_go_of_its_kept_legacy_clone_too(project):
    """`removed:` keeps a voice's clone on the service: after `migrate --keep-legacy`
    that is its old clone as well (never deleted by a plain apply or by --finish)."""
    originals = seeded_org(project, n_legacy=2)
    import_all(project)
    project.run("migrate", "--auto-approve", "--keep-legacy")
    kept_new = project.ids()["voice-1"]
    data = yaml.safe_load(project.manifest.read_text())
    del data["voices"]["voice-1"]
    data["removed"] = ["voice-1"]
    project.manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    out = project.run("apply", "--auto-approve").out
    assert "0 deleted" in out, out
    remote = {c["voiceId"] for c in project.remote()}
    assert {originals["voice-1"], kept_new} <= remote
    assert {originals["voice-1"], kept_new} <= set(project.lock()["released"])
    fin = project.run("migrate", "--finish", "--auto-approve").out
    assert "Finished: 1 old clone deleted." in fin
    assert originals["voice-1"] in {c["voiceId"] for c in project.remote()}


def test_a_dropped_voice_s_cut_short_intent_does_not_block_finish(project):
    """A voice dropped from the manifest after a cut-short --keep-legacy: its intent
    is not "run migrate again" (migrate never touches it); the other voice still is."""
    seeded_org(project, n_legacy=2)
    import_all(project)
    ctrl_c_keep_legacy(project)
    undeclare(project, "voice-1")
    finish = project.run("migrate", "--finish", "--auto-approve", expect=None)
    assert "voice-1" not in finish.err, finish.err
