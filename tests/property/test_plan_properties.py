"""Property tests of the pure plan against a model of the service.

Hypothesis builds arbitrary starting points - lost or stale lockfiles, duplicates
left by faults, legacy and failed clones, other stacks' and hand-made clones, any
prune mode - and a small model executes each plan the way apply does. Then:

* after apply, the next plan has no changes (convergence in one step);
* applying twice equals applying once (the second apply does nothing);
* every declared voice ends with exactly one clone of its own (no duplicate);
* ``moved:`` keeps the voiceId (no delete of a moved clone), ``removed:`` and
  released clones are never deleted unless ``prune: all``, and a lockfile whose
  clones are all missing is refused as another organisation's until
  ``--new-organisation``.

The real apply engine against the emulator, with faults, is tested end to end in
test_apply_properties.py.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_support import Voice, clone_of, foreign, manifest

from reconciler.lockfile import LockDocument, LockEntry, ReleasedEntry
from reconciler.ownership import marker_tags, owner_of
from reconciler.plan import PlanOptions, desired_digest, make_plan

NAMES = ["alpha", "bravo", "charlie", "delta"]
_ids = itertools.count(1)


def _new_id() -> str:
    return f"voice_m{next(_ids):07d}"


def simulate_apply(m, lock: LockDocument, remote: dict, plan) -> None:
    """Execute ``plan`` on the model: what apply does, minus HTTP."""
    for a in plan.of_kind("move"):
        old = next(n for n, e in lock.voices.items() if e.voice_id == a.voice_id)
        lock.voices[a.name] = lock.voices.pop(old)
    for a in plan.of_kind("release"):
        for n, e in list(lock.voices.items()):
            if e.voice_id == a.voice_id:
                del lock.voices[n]
        lock.released[a.voice_id] = ReleasedEntry(name=a.name)
    for a in plan.of_kind("adopt"):
        lock.released.pop(a.voice_id, None)
        lock.voices[a.name] = LockEntry(
            voice_id=a.voice_id,
            file_sha256=m.voices[a.name].file_sha256,
            spec_digest=a.spec_digest,
        )
    for a in plan.of_kind("forget"):
        for n, e in list(lock.voices.items()):
            if e.voice_id == a.voice_id:
                del lock.voices[n]
    for a in plan.of_kind("delete"):
        remote.pop(a.voice_id, None)
        lock.released.pop(a.voice_id, None)
        for n, e in list(lock.voices.items()):
            if e.voice_id == a.voice_id:
                del lock.voices[n]
    for a in plan.of_kind("create", "replace"):
        voice = m.voices[a.name]
        new = clone_of(voice, stack=m.stack, voice_id=_new_id())
        remote[new.voice_id] = new
        lock.voices[a.name] = LockEntry(
            voice_id=new.voice_id, file_sha256=voice.file_sha256, spec_digest=a.spec_digest
        )
        if a.kind == "replace":
            remote.pop(a.voice_id, None)
            for n, e in list(lock.voices.items()):  # a rename without moved: the old name
                if e.voice_id == a.voice_id:
                    del lock.voices[n]


@st.composite
def scenarios(draw):
    declared = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=4))
    voices = []
    for name in declared:
        voices.append(
            Voice(
                name,
                description=draw(st.sampled_from([None, "warm", "cold"])),
                tags=tuple(draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True))),
            )
        )
    prune = draw(st.sampled_from(["managed", "all", "none"]))
    undeclared = [n for n in NAMES if n not in declared]
    moved: list[tuple[str, str]] = []
    if undeclared and declared and draw(st.booleans()):
        moved.append((draw(st.sampled_from(undeclared)), draw(st.sampled_from(declared))))
    moved_from = {old for old, _ in moved}
    removed = tuple(n for n in undeclared if n not in moved_from and draw(st.integers(0, 3)) == 0)
    m = manifest(*voices, prune=prune, moved=tuple(moved), removed=removed)
    remote: dict = {}
    lock = LockDocument(lineage="l", stack=m.stack)
    for name in NAMES:
        base = m.voices.get(name) or Voice(name)
        for _ in range(draw(st.integers(0, 2))):  # 0-2 clones per name: duplicates happen
            variant = base
            if draw(st.booleans()):
                variant = replace(base, description=draw(st.sampled_from(["old", None])))
            if draw(st.integers(0, 5)) == 0:
                variant = replace(variant, file_sha256="0" * 64)
            clone = clone_of(
                variant,
                stack=m.stack,
                voice_id=_new_id(),
                status=draw(st.sampled_from(["completed"] * 4 + ["failed"])),
                models=draw(st.sampled_from([("lightning-v3.1",)] * 3 + [("lightning-large",)])),
                tagged=draw(st.integers(0, 4)) > 0,
            )
            remote[clone.voice_id] = clone
            if draw(st.booleans()):  # recorded in the lockfile (or lost)
                lock.voices[name] = LockEntry(
                    voice_id=clone.voice_id,
                    file_sha256=variant.file_sha256,
                    spec_digest=desired_digest(variant),
                )
        if draw(st.integers(0, 6)) == 0:  # a stale entry for a clone that vanished
            lock.voices[name] = LockEntry(voice_id=_new_id())
    for i in range(draw(st.integers(0, 2))):
        c = foreign(f"Hand made {i}")
        remote[c.voice_id] = c
    for vid in sorted(remote):  # clones let go by an earlier removed:
        if draw(st.integers(0, 8)) == 0 and vid not in {e.voice_id for e in lock.voices.values()}:
            lock.released[vid] = ReleasedEntry(name="gone")
    if draw(st.booleans()):
        other = clone_of(Voice("alpha"), stack="other-team", voice_id=_new_id())
        remote[other.voice_id] = other
    return m, lock, remote


OPTIONS = PlanOptions(allow_mass_delete=True)
MOVED_ORG = PlanOptions(allow_mass_delete=True, new_organisation=True)


def first_plan(m, lock, remote):
    """The first plan; a lockfile none of whose clones is listed (and no clone of this
    stack either) is refused as another organisation's, and then applied on purpose
    (--new-organisation)."""
    recorded = {e.voice_id for e in lock.voices.values()}
    plan = make_plan(m, lock, list(remote.values()), OPTIONS)
    ours = [c for c in remote.values() if (o := owner_of(c.tags)) and o.stack == m.stack]
    if recorded and not recorded & set(remote) and not ours:
        assert not plan.actions and "SMALLEST_API_KEY" in plan.errors[0]
        plan = make_plan(m, lock, list(remote.values()), MOVED_ORG)
    return plan


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_apply_converges_in_one_step(scenario):
    m, lock, remote = scenario
    first = first_plan(m, lock, remote)
    assert not first.errors
    simulate_apply(m, lock, remote, first)
    second = make_plan(m, lock, list(remote.values()), OPTIONS)
    assert not second.has_changes, second.changes
    # applying the (empty) second plan changes nothing: apply twice == apply once
    before = (dict(remote), lock.model_dump())
    simulate_apply(m, lock, remote, second)
    assert (dict(remote), lock.model_dump()) == before


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_declared_voice_ends_with_exactly_one_clone(scenario):
    m, lock, remote = scenario
    released = set(lock.released)
    removed = {
        e.voice_id for n, e in lock.voices.items() if n in m.removed and e.voice_id in remote
    }
    moved = {
        lock.voices[old].voice_id: new
        for old, new in m.moved
        if old in lock.voices and new not in lock.voices
    }
    plan = first_plan(m, lock, remote)
    deleted = {a.voice_id for a in plan.of_kind("delete")}
    for vid, new in moved.items():
        rivals = [
            c
            for c in remote.values()
            if c.voice_id != vid and (o := owner_of(c.tags)) and o.name == new
        ]
        if not rivals:  # nothing else claims the new name: the moved clone is kept
            assert vid not in deleted
    simulate_apply(m, lock, remote, plan)
    if m.prune != "all":
        assert (released | removed) <= set(remote)  # let go: never pruned
        assert removed <= set(lock.released)
    for name, voice in m.voices.items():
        ours = [
            c
            for c in remote.values()
            if (o := owner_of(c.tags))
            and o.stack == m.stack
            and o.name == name
            and c.voice_id not in lock.released  # let go: no longer this stack's
        ]
        locked = lock.voices[name].voice_id
        assert locked in remote
        assert [c.voice_id for c in ours if c.voice_id != locked] == []
        assert remote[locked].tags[-3:] == marker_tags(m.stack, name, desired_digest(voice)) or (
            owner_of(remote[locked].tags) is None
        )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_plan_is_deterministic_and_pure(scenario):
    m, lock, remote = scenario
    snapshot = lock.model_dump()
    clones = list(remote.values())
    a = make_plan(m, lock, clones, MOVED_ORG)
    b = make_plan(m, lock, list(reversed(clones)), MOVED_ORG)
    assert [(x.kind, x.name, x.voice_id) for x in a.actions] == [
        (x.kind, x.name, x.voice_id) for x in b.actions
    ]
    assert lock.model_dump() == snapshot  # the plan never changes its inputs
