"""Unit tests of the pure plan function: each action and each reason."""

from __future__ import annotations

from dataclasses import replace

from plan_support import Voice, clone_of, foreign, lock_with, manifest

from reconciler.lockfile import LockDocument, ReleasedEntry, ReplaceIntent, RetiredEntry
from reconciler.plan import PlanOptions, make_plan

EMPTY = LockDocument(lineage="x")


def kinds(plan):
    return [(a.kind, a.name) for a in plan.actions]


def test_create_when_nothing_exists():
    v = Voice("narrator")
    plan = make_plan(manifest(v), EMPTY, [])
    assert kinds(plan) == [("create", "narrator")]
    assert plan.has_changes
    assert plan.summary()["create"] == 1


def test_noop_when_lockfile_and_clone_agree():
    v = Voice("narrator", tags=("brand",))
    c = clone_of(v)
    plan = make_plan(manifest(v), lock_with((v, c)), [c])
    assert kinds(plan) == [("noop", "narrator")]
    assert not plan.has_changes


def test_adopt_by_ownership_tags_when_lockfile_lost():
    v = Voice("narrator")
    c = clone_of(v)
    plan = make_plan(manifest(v), EMPTY, [c])
    assert kinds(plan) == [("adopt", "narrator")]
    assert plan.actions[0].voice_id == c.voice_id


def test_other_stack_is_not_adopted_and_not_pruned():
    v = Voice("narrator")
    other = clone_of(v, stack="someone-else")
    plan = make_plan(manifest(v), EMPTY, [other])
    assert kinds(plan) == [("create", "narrator")]


def test_replace_legacy_clone():
    v = Voice("narrator")
    c = clone_of(v, models=("lightning-large",))
    plan = make_plan(manifest(v), lock_with((v, c)), [c])
    (action,) = plan.actions
    assert action.kind == "replace" and action.legacy
    assert "legacy" in action.reasons[0]


def test_replace_on_audio_change():
    old = Voice("narrator")
    c = clone_of(old)
    new = replace(old, file_sha256="f" * 64)
    plan = make_plan(manifest(new), lock_with((old, c)), [c])
    (action,) = plan.actions
    assert action.kind == "replace"
    was = old.file_sha256[:12]
    assert action.reasons == (f"audio file changed (the sample: sha256 {was} -> ffffffffffff)",)


def test_replace_on_each_metadata_field():
    base = Voice("narrator", description="warm", accent="general", tags=("a",))
    c = clone_of(base)
    for field, value in [
        ("display_name", "Narrator 2"),
        ("language", "hi"),
        ("description", "cold"),
        ("accent", "indian"),
        ("tags", ("a", "b")),
    ]:
        changed = replace(base, **{field: value})
        plan = make_plan(manifest(changed), lock_with((base, c)), [c])
        (action,) = plan.actions
        assert action.kind == "replace", field
        assert len(action.changes) == 1, (field, action.changes)
        assert "metadata changed" in action.reasons[0]


def test_tag_order_and_ownership_tags_do_not_count():
    v = Voice("narrator", tags=("a", "b"))
    c = clone_of(v)
    reordered = replace(v, tags=("b", "a"))
    plan = make_plan(manifest(reordered), lock_with((v, c)), [c])
    assert kinds(plan) == [("noop", "narrator")]


def test_replace_failed_clone_and_forced():
    v = Voice("narrator")
    failed = clone_of(v, status="failed")
    plan = make_plan(manifest(v), lock_with((v, failed)), [failed])
    assert plan.actions[0].kind == "replace"
    assert "failed" in plan.actions[0].reasons[0]
    ok = clone_of(v)
    plan = make_plan(
        manifest(v), lock_with((v, ok)), [ok], PlanOptions(replace=frozenset({"narrator"}))
    )
    assert plan.actions[0].reasons == ("forced with --replace",)


def test_processing_clone_is_noted_not_touched():
    v = Voice("narrator")
    c = clone_of(v, status="processing")
    plan = make_plan(manifest(v), lock_with((v, c)), [c])
    assert kinds(plan) == [("wait", "narrator")]
    assert not plan.has_changes


def test_prune_modes():
    keep = Voice("keep")
    gone = Voice("gone")
    kc, gc = clone_of(keep), clone_of(gone)
    stranger = foreign("Hand made")
    remote = [kc, gc, stranger]
    lock = lock_with((keep, kc), (gone, gc))
    managed = make_plan(manifest(keep), lock, remote)
    assert [(a.kind, a.voice_id) for a in managed.changes] == [("delete", gc.voice_id)]
    everything = make_plan(manifest(keep, prune="all"), lock, remote)
    assert {a.voice_id for a in everything.changes} == {gc.voice_id, stranger.voice_id}
    nothing = make_plan(manifest(keep, prune="none"), lock, remote)
    assert [(a.kind, a.voice_id) for a in nothing.changes] == [("forget", gc.voice_id)]


def test_ignore_by_glob_and_voice_id():
    keep = Voice("keep")
    kc = clone_of(keep)
    a, b = foreign("Test one"), foreign("Other")
    plan = make_plan(manifest(keep, prune="all", ignore=("Test *", b.voice_id)), EMPTY, [kc, a, b])
    assert [a.kind for a in plan.actions] == ["adopt"]


def test_duplicate_by_tags_is_deleted():
    v = Voice("narrator")
    first = clone_of(v)
    dup = clone_of(v)
    plan = make_plan(manifest(v), lock_with((v, first)), [first, dup])
    assert kinds(plan) == [("delete", "narrator"), ("noop", "narrator")]
    assert plan.actions[0].voice_id == dup.voice_id


def test_interrupted_replacement_is_finished():
    old = Voice("narrator")
    old_clone = clone_of(old)
    new = replace(old, description="new text")
    new_clone = clone_of(new)
    plan = make_plan(manifest(new), lock_with((old, old_clone)), [old_clone, new_clone])
    assert [(a.kind, a.voice_id) for a in plan.actions] == [
        ("adopt", new_clone.voice_id),
        ("delete", old_clone.voice_id),
    ]
    assert "superseded" in plan.actions[1].reasons[0]


def test_interrupted_replacement_still_processing_waits():
    old = Voice("narrator")
    old_clone = clone_of(old)
    new = replace(old, description="new text")
    new_clone = clone_of(new, status="processing")
    plan = make_plan(manifest(new), lock_with((old, old_clone)), [old_clone, new_clone])
    assert kinds(plan) == [("wait", "narrator")]


def test_vanished_clone_is_recreated_and_undeclared_forgotten():
    v, w, k = Voice("narrator"), Voice("gone"), Voice("kept")
    vc, wc, kc = clone_of(v), clone_of(w), clone_of(k)
    plan = make_plan(manifest(v, k), lock_with((v, vc), (w, wc), (k, kc)), [kc])
    assert kinds(plan) == [("forget", "gone"), ("create", "narrator"), ("noop", "kept")]
    assert "no longer exists" in plan.actions[1].reasons[0]


def test_protect_refuses_replace_and_delete():
    v = Voice("narrator", protect=True)
    c = clone_of(v, models=("lightning-large",))
    plan = make_plan(manifest(v), lock_with((v, c)), [c])
    assert plan.errors and "protect" in plan.errors[0]
    plan = make_plan(manifest(), lock_with((v, c)), [c])
    assert plan.errors and "refusing to delete" in plan.errors[0]


def test_mass_delete_threshold():
    voices = [Voice(f"v{i}") for i in range(10)]
    clones = [clone_of(v) for v in voices]
    lock = lock_with(*zip(voices, clones))
    three = make_plan(manifest(*voices[:7]), lock, clones)
    assert not three.errors  # 3 of 10 is not more than 30%
    four = make_plan(manifest(*voices[:6]), lock, clones)
    assert four.errors and "refusing" in four.errors[0]
    allowed = make_plan(manifest(*voices[:6]), lock, clones, PlanOptions(allow_mass_delete=True))
    assert not allowed.errors
    small = make_plan(manifest(), lock_with(*zip(voices[:9], clones[:9])), clones[:9])
    assert not small.errors  # fewer than 10 existing clones


def test_target_limits_plan():
    a, b = Voice("a"), Voice("b")
    plan = make_plan(manifest(a, b), EMPTY, [], PlanOptions(targets=frozenset({"b"})))
    assert kinds(plan) == [("create", "b")]


def test_unmanaged_legacy_warning():
    legacy = [foreign(f"Old {i}", modelIds=["lightning-large"]) for i in range(3)]
    plan = make_plan(manifest(), EMPTY, legacy)
    assert plan.warnings == (
        "3 legacy lightning-large clones are unmanaged; `voicectl import` them to migrate",
    )


def test_retired_clones_are_left_alone():
    v = Voice("narrator")
    old = clone_of(v, models=("lightning-large",))
    new = clone_of(v)
    lock = lock_with((v, new))
    lock.retired[old.voice_id] = RetiredEntry(name="narrator", replaced_by=new.voice_id)
    plan = make_plan(manifest(v), lock, [old, new])
    assert kinds(plan) == [("noop", "narrator")]


def test_legacy_only_plan_keeps_only_migrations():
    legacy, current, fresh = Voice("legacy"), Voice("current"), Voice("fresh")
    lc = clone_of(legacy, models=("lightning-large",))
    cc = clone_of(current)
    changed = replace(current, description="changed")
    plan = make_plan(
        manifest(legacy, changed, fresh),
        lock_with((legacy, lc), (current, cc)),
        [lc, cc],
        PlanOptions(legacy_only=True),
    )
    assert [(a.kind, a.name) for a in plan.changes] == [("replace", "legacy")]


def test_recent_clone_missing_from_a_lagging_list_is_waited_for():
    v = Voice("narrator")
    c = clone_of(v, createdAt="2026-01-01T00:00:00.000Z")
    lock = lock_with((v, c))
    lock.voices["narrator"].created_at = "2026-01-01T00:00:00.000Z"
    made = 1767225600.0  # 2026-01-01T00:00:00Z
    soon = make_plan(manifest(v), lock, [], PlanOptions(now=made + 5))
    assert kinds(soon) == [("wait", "narrator")]
    assert "not listed yet" in soon.actions[0].reasons[0]
    # Later, an empty list could be another organisation's: refused...
    later = make_plan(manifest(v), lock, [], PlanOptions(now=made + 500))
    assert kinds(later) == [] and "SMALLEST_API_KEY" in later.errors[0]
    # ...unless the list shows the recorded organisation (its other clones), or on purpose.
    lock.organization_id = "org_1"
    same_org = [foreign("Dashboard", organizationId="org_1")]
    later = make_plan(manifest(v), lock, same_org, PlanOptions(now=made + 500))
    assert kinds(later) == [("create", "narrator")]
    strict = make_plan(
        manifest(v), lock, [], PlanOptions(now=made + 5, list_grace=0, new_organisation=True)
    )
    assert kinds(strict) == [("create", "narrator")]


# -- identity (issue 9) ----------------------------------------------------------------
def test_a_clone_of_another_stack_is_never_replaced_or_deleted_whatever_the_lockfile():
    v, gone = Voice("narrator"), Voice("gone")
    theirs, theirs_gone = clone_of(v, stack="shop"), clone_of(gone, stack="shop")
    lock = lock_with((v, theirs), (gone, theirs_gone))  # a lockfile copied from "shop"
    plan = make_plan(manifest(v), lock, [theirs, theirs_gone])
    assert kinds(plan) == [("forget", "gone"), ("create", "narrator")]
    assert "made by stack 'shop'" in plan.actions[1].reasons[0]
    assert any("belongs to stack 'shop'" in w for w in plan.warnings)
    # only prune: all deletes it, and says whose it is
    plan = make_plan(manifest(prune="all"), EMPTY, [theirs])
    assert [(a.kind, a.voice_id) for a in plan.actions] == [("delete", theirs.voice_id)]
    assert plan.actions[0].reasons[1] == "made by stack 'shop', deleted because prune: all"


def test_moved_renames_the_entry_and_keeps_the_clone():
    old, new = Voice("narrator"), Voice("narrator-en", display_name="narrator")
    new = replace(new, file_sha256=old.file_sha256)
    c = clone_of(old)
    plan = make_plan(manifest(new, moved=(("narrator", "narrator-en"),)), lock_with((old, c)), [c])
    assert [(a.kind, a.name, a.voice_id) for a in plan.actions] == [
        ("move", "narrator-en", c.voice_id),
        ("noop", "narrator-en", c.voice_id),
    ]
    # a lost lockfile: found by the tags, which carry the old name
    lost = make_plan(manifest(new, moved=(("narrator", "narrator-en"),)), EMPTY, [c])
    assert [(a.kind, a.voice_id) for a in lost.actions] == [("adopt", c.voice_id)]


def test_a_name_moved_away_and_declared_again_is_a_new_voice():
    """A moved clone keeps its old name's tag for good: the voice later declared under
    that name is made anew, and the clone the lockfile records for the moved voice is
    left to it (it was replaced and deleted as the new voice's)."""
    alpha = Voice("alpha")
    moved = replace(Voice("alpha2", display_name="alpha"), file_sha256=alpha.file_sha256)
    c = clone_of(alpha)  # tagged voicectl-name:alpha
    reused = Voice("alpha", display_name="Alpha new", file_sha256="c" * 64)
    plan = make_plan(manifest(moved, reused), lock_with((moved, c)), [c])
    assert sorted(kinds(plan)) == [("create", "alpha"), ("noop", "alpha2")]
    assert plan.refusals == ()
    # removed: [alpha] releases nothing the lockfile records for alpha2
    gone = make_plan(manifest(moved, removed=("alpha",)), lock_with((moved, c)), [c])
    assert kinds(gone) == [("noop", "alpha2")]


def test_an_ignored_move_takes_no_clone_and_protect_still_holds():
    alpha, bravo = Voice("alpha", protect=True), Voice("bravo")
    ac, bc = clone_of(alpha), clone_of(bravo)
    lock = lock_with((alpha, ac), (bravo, bc))
    plan = make_plan(manifest(bravo, moved=(("alpha", "bravo"),)), lock, [ac, bc])
    assert not plan.of_kind("delete")
    [refusal] = plan.refusals
    assert refusal.message.startswith(
        f"voices.alpha: protect is true, refusing to delete {ac.voice_id}"
    )
    assert any("the move is ignored" in w for w in plan.warnings)
    # prune: none deletes nothing, moved or not
    unprotected = lock_with((Voice("alpha"), ac), (bravo, bc))
    kept = make_plan(
        manifest(bravo, moved=(("alpha", "bravo"),), prune="none"), unprotected, [ac, bc]
    )
    assert sorted(kinds(kept)) == [("forget", "alpha"), ("noop", "bravo")]
    # once alpha is forgotten the move would apply, yet alpha's clone (tagged alpha) is
    # no duplicate of bravo's: prune: none keeps it on the next plan too
    after = lock_with((bravo, bc))
    again = make_plan(manifest(bravo, moved=(("alpha", "bravo"),), prune="none"), after, [ac, bc])
    assert kinds(again) == [("noop", "bravo")]


def test_the_lockfiles_protect_holds_through_a_move_or_a_dropped_line_with_a_change():
    alpha = Voice("alpha", protect=True)
    c = clone_of(alpha)
    lock = lock_with((alpha, c))
    renamed = Voice("alpha2", display_name="alpha", file_sha256="e" * 64)  # no protect line
    plan = make_plan(manifest(renamed, moved=(("alpha", "alpha2"),)), lock, [c])
    assert not plan.of_kind("replace")
    [refusal] = plan.refusals
    assert refusal.message.startswith(
        f"voices.alpha2: protect is true, refusing to replace {c.voice_id} (audio file changed"
    )
    assert refusal.message.endswith(
        "the lockfile still records protect: true: apply with protect: false and no other "
        "change first)"
    )
    dropped = make_plan(manifest(Voice("alpha", file_sha256="e" * 64)), lock, [c])
    assert not dropped.of_kind("replace") and len(dropped.refusals) == 1
    # protect: false with nothing else changed is how it is lifted: no refusal
    lifted = make_plan(manifest(Voice("alpha")), lock, [c])
    assert kinds(lifted) == [("noop", "alpha")] and lifted.refusals == ()


def test_a_refused_rename_of_a_protected_voice_is_kept_for_either_name_as_target():
    old = Voice("alpha", protect=True)
    new = replace(Voice("alpha2", display_name="alpha"), file_sha256=old.file_sha256)
    c = clone_of(old)
    for target in ("alpha2", "alpha"):
        options = PlanOptions(targets=frozenset({target}))
        plan = make_plan(manifest(new), lock_with((old, c)), [c], options)
        [refusal] = plan.refusals
        assert refusal.message.startswith("voices.alpha: protect is true, refusing to replace")
        assert not plan.of_kind("replace")


def test_a_rename_without_moved_is_a_replacement_not_a_delete_first():
    old = Voice("narrator")
    new = replace(Voice("narrator-en", display_name="narrator"), file_sha256=old.file_sha256)
    c = clone_of(old)
    plan = make_plan(manifest(new), lock_with((old, c)), [c])
    (action,) = plan.actions
    assert (action.kind, action.name, action.voice_id) == ("replace", "narrator-en", c.voice_id)
    assert "renamed from narrator without a moved: entry" in action.reasons[0]


def test_removed_releases_and_released_clones_are_never_pruned():
    v, w = Voice("narrator"), Voice("promo")
    vc, wc = clone_of(v), clone_of(w)
    plan = make_plan(manifest(v, removed=("promo",)), lock_with((v, vc), (w, wc)), [vc, wc])
    assert ("release", "promo") in kinds(plan) and not plan.of_kind("delete")
    lock = lock_with((v, vc))
    lock.released[wc.voice_id] = ReleasedEntry(name="promo")
    assert kinds(make_plan(manifest(v), lock, [vc, wc])) == [("noop", "narrator")]
    # declared again: a new clone, and the plan says why the listed one is not it
    again = make_plan(manifest(v, w), lock, [vc, wc])
    assert sorted(kinds(again)) == [("create", "promo"), ("noop", "narrator")]
    assert again.of_kind("create")[0].reasons == (
        f"declared; its earlier clone {wc.voice_id} was released (removed:) and is never "
        "taken back, so a new clone is made",
    )


def test_a_placeholder_voice_is_held_not_deleted():
    v, p = Voice("narrator"), Voice("promo")
    pc = clone_of(p, tagged=False)
    plan = make_plan(manifest(v, held=("promo",)), lock_with((p, pc)), [pc])
    assert kinds(plan) == [("create", "narrator")]
    assert any(
        "voices.promo: its file is still the FILL-ME-IN placeholder" in w for w in plan.warnings
    )


def test_an_interrupted_forced_replace_keeps_its_intent():
    v = Voice("narrator")
    old = clone_of(v)
    lock = lock_with((v, old))
    lock.replacing["narrator"] = ReplaceIntent(replaces=old.voice_id)
    # the create never happened: the next plan replaces again, without --replace
    (action,) = make_plan(manifest(v), lock, [old]).actions
    assert action.kind == "replace" and "interrupted" in action.reasons[-1]
    # the new clone exists (same tags and digest): kept, the old one deleted
    new = clone_of(v)
    plan = make_plan(manifest(v), lock, [old, new])
    assert [(a.kind, a.voice_id) for a in plan.actions] == [
        ("adopt", new.voice_id),
        ("delete", old.voice_id),
    ]
    busy = clone_of(v, status="processing")
    assert kinds(make_plan(manifest(v), lock, [old, busy])) == [("wait", "narrator")]


def test_a_key_of_another_organisation_is_refused_before_any_action():
    v = Voice("narrator")
    c = clone_of(v)
    lock = lock_with((v, c))
    lock.organization_id = "org_a"
    elsewhere = foreign("Theirs", organizationId="org_b")
    plan = make_plan(manifest(v), lock, [elsewhere])
    assert plan.actions == () and "records organisation org_a" in plan.errors[0]
    assert "SMALLEST_API_KEY" in plan.errors[0]
    moved = make_plan(manifest(v), lock, [elsewhere], PlanOptions(new_organisation=True))
    assert kinds(moved) == [("create", "narrator")]
