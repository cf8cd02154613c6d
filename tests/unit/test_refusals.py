"""The plan's typed refusals: protect and mass change, filtered by voice name, with the
manifest's `safety:` thresholds."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from dataclasses import replace as with_fields
from pathlib import Path

import pytest
from plan_support import Manifest, Voice, clone_of, lock_with, manifest

from reconciler.errors import ManifestError
from reconciler.manifest import load_manifest
from reconciler.plan import PlanOptions, make_plan
from reconciler.refusals import (
    DEFAULT_SAFETY,
    PlanRefused,
    ProtectedVoice,
    Refusal,
    Safety,
    TooMuchChange,
)


@dataclass
class SafeManifest(Manifest):
    safety: Safety = DEFAULT_SAFETY


def test_protected_voice_refusals_are_typed_and_carry_the_name() -> None:
    v = Voice("narrator", protect=True)
    c = clone_of(v, models=("lightning-large",))
    replace = make_plan(manifest(v), lock_with((v, c)), [c])
    assert [type(r) for r in replace.refusals] == [ProtectedVoice]
    refusal = replace.refusals[0]
    assert (refusal.name, refusal.voice_id, refusal.verb) == ("narrator", c.voice_id, "replace")
    delete = make_plan(manifest(), lock_with((v, c)), [c])
    assert [(type(r), r.name, r.verb) for r in delete.refusals] == [
        (ProtectedVoice, "narrator", "delete")
    ]
    assert delete.errors == (delete.refusals[0].message,)
    with pytest.raises(PlanRefused) as info:
        delete.raise_if_unsafe()
    assert info.value.refusals == list(delete.refusals) and info.value.plan is delete
    healthy = clone_of(v)
    make_plan(manifest(v), lock_with((v, healthy)), [healthy]).raise_if_unsafe()


def test_target_keeps_the_refusals_of_the_targeted_voices_by_name() -> None:
    # "a" is a prefix of "ab" and of "a.b": a substring filter would mix them up.
    voices = [Voice(n, protect=True) for n in ("a", "ab", "a.b")]
    clones = [clone_of(v, models=("lightning-large",)) for v in voices]
    lock = lock_with(*zip(voices, clones))
    for target in ("a", "ab", "a.b"):
        plan = make_plan(manifest(*voices), lock, clones, PlanOptions(targets=frozenset([target])))
        assert [r.name for r in plan.refusals] == [target]
    none = make_plan(manifest(*voices), lock, clones, PlanOptions(targets=frozenset(["zz"])))
    assert none.refusals == ()


def test_too_much_change_with_the_manifests_thresholds() -> None:
    voices = [Voice(f"v{i}") for i in range(6)]
    clones = [clone_of(v) for v in voices]
    lock = lock_with(*zip(voices, clones))
    keep_three = {v.name: v for v in voices[:3]}
    # default: fewer than 10 existing clones, never refused
    assert make_plan(SafeManifest(voices=keep_three), lock, clones).refusals == ()
    strict = SafeManifest(voices=keep_three, safety=Safety(max_change_fraction=0.4, min_existing=5))
    refused = make_plan(strict, lock, clones)
    assert len(refused.refusals) == 1
    refusal = refused.refusals[0]
    assert isinstance(refusal, TooMuchChange) and refusal.name is None
    assert (refusal.destructive, refusal.existing) == (3, 6)
    assert "more than 40%" in refusal.message
    loose = SafeManifest(voices=keep_three, safety=Safety(max_change_fraction=0.5, min_existing=5))
    assert make_plan(loose, lock, clones).refusals == ()  # 3 of 6 is not more than half
    allowed = make_plan(strict, lock, clones, PlanOptions(allow_mass_delete=True))
    assert allowed.refusals == ()


def test_refusals_compare_by_kind_message_and_name() -> None:
    assert Refusal("x", name="a") == Refusal("x", name="a")
    assert Refusal("x", name="a") != Refusal("x", name="b")
    assert TooMuchChange(4, 10) == TooMuchChange(4, 10)
    assert TooMuchChange(4, 10) != Refusal(TooMuchChange(4, 10).message)


def _write(folder: Path, safety: str) -> Path:
    path = folder / "voices.yaml"
    path.write_text(textwrap.dedent(f"version: 1\n{safety}voices: {{}}\n"))
    return path


def test_manifest_safety_is_read_and_checked(tmp_path: Path) -> None:
    path = _write(tmp_path, "safety:\n  maxChangeFraction: 0.5\n  minExisting: 4\n")
    assert load_manifest(path).manifest.safety == Safety(0.5, 4)
    assert load_manifest(_write(tmp_path, "")).manifest.safety == DEFAULT_SAFETY
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, "safety:\n  maxChangeFraction: 2\n"))
    assert [p.split("voices.yaml:", 1)[1] for p in info.value.problems] == [
        "3:22: safety.maxChangeFraction: Input should be less than or equal to 1"
    ]
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, "safety:\n  minimum: 3\n"))
    assert any("safety.minimum" in p for p in info.value.problems), info.value.problems


def test_a_protected_voice_renamed_without_moved_is_refused_not_replaced() -> None:
    # A rename without moved: makes a new clone, then deletes the old one: a protected
    # voice (in the lockfile, or in the manifest under its new name) is never lost so.
    old = Voice("narrator", protect=True)
    c = clone_of(old)
    for new_protect in (True, False):
        new = with_fields(
            Voice("narrator-en", display_name="narrator", protect=new_protect),
            file_sha256=old.file_sha256,
        )
        plan = make_plan(manifest(new), lock_with((old, c)), [c])
        assert not plan.of_kind("replace") and not plan.of_kind("delete")
        assert [(type(r), r.name, r.voice_id, r.verb) for r in plan.refusals] == [
            (ProtectedVoice, "narrator", c.voice_id, "replace")
        ]
        assert "add `moved: [{from: narrator, to: narrator-en}]`" in plan.refusals[0].message
    unprotected = Voice("narrator")
    new = with_fields(Voice("narrator-en", display_name="narrator"), file_sha256=old.file_sha256)
    plan = make_plan(manifest(new), lock_with((unprotected, c)), [c])
    assert [a.kind for a in plan.actions] == ["replace"] and plan.refusals == ()
