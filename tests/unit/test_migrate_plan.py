"""The plan's part in migration (pure, no server): imported clones, retired records,
the legacy-only plan, and deletes that lose no voice in the mass-delete check."""

from __future__ import annotations

import dataclasses

from plan_support import Voice, clone_of, foreign, lock_with, manifest

from reconciler.lockfile import LockDocument, LockEntry, RetiredEntry
from reconciler.plan import PlanOptions, make_plan


def kinds(plan):
    return sorted((a.kind, a.name) for a in plan.actions)


def imported(voice: Voice, clone, *, sha: str | None = None) -> LockDocument:
    """A lockfile as `voicectl import` writes it: no spec digest, maybe no sample sha."""
    doc = LockDocument(lineage="x", stack="test")
    doc.voices[voice.name] = LockEntry(
        voice_id=clone.voice_id,
        display_name=clone.display_name,
        language=clone.language,
        model_ids=clone.models,
        file_sha256=sha,
        status=clone.status,
        created_at=clone.created_at,
    )
    return doc


def test_an_imported_current_clone_is_a_noop_and_a_legacy_one_a_replace():
    v = Voice("promo", tags=("q3",))
    current = clone_of(v, tagged=False)
    assert kinds(make_plan(manifest(v), imported(v, current), [current])) == [("noop", "promo")]
    sha = imported(v, current, sha=v.file_sha256)
    assert kinds(make_plan(manifest(v), sha, [current])) == [("noop", "promo")]

    old = clone_of(v, tagged=False, models=("lightning-large",))
    plan = make_plan(manifest(v), imported(v, old), [old])
    (action,) = plan.actions
    assert action.kind == "replace" and action.legacy
    assert action.reasons[0].startswith("legacy clone (modelIds: lightning-large)")
    assert plan.warnings == ()  # managed through the lockfile: not "unmanaged"


def test_unmanaged_legacy_clones_are_warned_about():
    stray = [foreign(f"Old {i}", modelIds=["lightning-large"]) for i in range(3)]
    plan = make_plan(manifest(), LockDocument(lineage="x"), stray)
    assert plan.warnings == (
        "3 legacy lightning-large clones are unmanaged; `voicectl import` them to migrate",
    )


def _retired(doc: LockDocument, old, name: str, new_id: str, *, keep: bool) -> None:
    doc.retired[old.voice_id] = RetiredEntry(
        name=name, replaced_by=new_id, model_ids=old.models, keep=keep
    )


def test_interrupted_replacement_leftover_is_deleted_once_the_new_clone_is_healthy():
    v = Voice("narrator")
    new = clone_of(v)
    old = clone_of(v, tagged=False, models=("lightning-large",))
    doc = lock_with((v, new))
    _retired(doc, old, "narrator", new.voice_id, keep=False)
    for options in (PlanOptions(), PlanOptions(legacy_only=True)):
        plan = make_plan(manifest(v), doc, [old, new], options)
        assert kinds(plan) == [("delete", "narrator"), ("noop", "narrator")]
        delete = plan.of_kind("delete")[0]
        assert delete.voice_id == old.voice_id and delete.legacy
        assert "finishing an interrupted replacement" in delete.reasons[0]

    busy = dataclasses.replace(new, status="processing")
    plan = make_plan(manifest(v), doc, [old, busy])
    assert not plan.of_kind("delete")
    assert any("left until its replacement" in w for w in plan.warnings)

    gone = make_plan(manifest(v), doc, [new])
    assert kinds(gone) == [("forget", "narrator"), ("noop", "narrator")]


def test_kept_retired_clones_wait_for_finish():
    v = Voice("narrator")
    new = clone_of(v)
    old = clone_of(v, tagged=False, models=("lightning-large",))
    doc = lock_with((v, new))
    _retired(doc, old, "narrator", new.voice_id, keep=True)
    plan = make_plan(manifest(v), doc, [old, new])
    assert kinds(plan) == [("noop", "narrator")]
    assert plan.warnings == (
        "1 old clone is kept as retired; `voicectl migrate --finish` deletes it",
    )


def test_deletes_that_lose_no_voice_do_not_trip_the_mass_delete_check():
    voices = [Voice(f"v{i}") for i in range(10)]
    news = [clone_of(v) for v in voices]
    olds = [clone_of(v, tagged=False, models=("lightning-large",)) for v in voices]
    doc = lock_with(*zip(voices, news))
    for v, old, new in zip(voices, olds, news):
        _retired(doc, old, v.name, new.voice_id, keep=False)
    plan = make_plan(manifest(*voices), doc, [*olds, *news])
    assert plan.errors == () and len(plan.of_kind("delete")) == 10

    # duplicates of healthy clones (e.g. after ambiguous creates) are the same
    dupes = [clone_of(v) for v in voices]
    plan = make_plan(manifest(*voices), lock_with(*zip(voices, news)), [*news, *dupes])
    assert plan.errors == () and len(plan.of_kind("delete")) == 10

    # dropping voices still does
    plan = make_plan(manifest(*voices[:5]), lock_with(*zip(voices, news)), news)
    assert plan.errors and "refusing to delete or replace 5 of 10" in plan.errors[0]
