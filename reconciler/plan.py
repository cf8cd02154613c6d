"""The plan: a PURE function from (manifest, lockfile, remote clones, options) to actions.

No I/O happens here, so the plan can be tested by the thousand with hypothesis.

Matching: a declared voice is matched to the clone its lockfile entry names, and
to every clone carrying this stack's ownership tags for its name (a lost or stale
lockfile is repaired, never a duplicate made). Of those candidates one is kept;
extra clones for the same name (a duplicate left by a fault, or the old clone of
an interrupted replacement) are deleted once the kept one is healthy.

Identity (see reconciler.identity): a clone whose ownership tags name another
stack is never a candidate, never replaced and never deleted by this stack (only
``prune: all`` deletes it, and says whose it is); a clone released by ``removed:``
is never pruned by ``prune: managed``; a lockfile of another organisation stops
the plan before any change.

Actions (in the order apply runs them):
  move / release  lockfile-only: ``moved:`` renames, ``removed:`` lets a clone go
  adopt / forget  lockfile-only repairs, no API call
  delete          orphans (per ``prune``), duplicates, superseded clones
  create          declared, nothing matches
  replace         create new, wait until completed, record, delete old
  wait            a clone still pending/processing: noted, not touched
  noop            nothing to do
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol

from reconciler import identity
from reconciler.actions import CHANGING, ORDER
from reconciler.api.models import CURRENT_MODEL, PRO_MODEL, Clone
from reconciler.lockfile.model import LockDocument, LockEntry
from reconciler.ownership import (
    Owner,
    delete_owner,
    ours,
    owner_of,
    recorded_ids,
    spec_digest,
    theirs,
    user_tags,
)
from reconciler.refusals import (
    DEFAULT_SAFETY,
    OtherOrganisation,
    PlanRefused,
    ProtectedVoice,
    Refusal,
    ReplacementNotReady,
    TooMuchChange,
    for_targets,
    too_much_change,
)

if TYPE_CHECKING:  # the declared voice: one shape, reconciler.manifest.spec (the plan reads
    # only its fields; the plan's tests pass stand-ins with the same attributes)
    from reconciler.manifest.spec import Declared, VoiceSpec

ActionKind = Literal[
    "move", "release", "adopt", "forget", "delete", "create", "replace", "wait", "noop"
]
BUSY = ("pending", "processing")
NOT_LISTED = "is not listed yet"  # the reason of a wait for a clone the list lags behind


def voice_model(voice: VoiceSpec, default: str = CURRENT_MODEL) -> str:
    """The clone model a voice asks for (``model`` in the manifest), else ``default``."""
    return getattr(voice, "model", None) or default


class ManifestLike(Protocol):
    stack: str
    prune: str
    ignore: tuple[str, ...]
    voices: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One metadata field that differs: the clone's value -> the manifest's."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    name: str | None
    voice_id: str | None = None
    reasons: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    display_name: str | None = None
    spec_digest: str | None = None
    status: str | None = None
    legacy: bool = False
    # a delete's why, as the lockfile records it when no route can delete it
    # (orphan | duplicate | replaced | migrated | failed)
    delete_reason: str | None = None
    awaiting: bool = False  # a delete recorded as awaiting deletion by an earlier run
    # the remote clone this action is about (delete/replace/adopt/noop/wait)
    clone: Clone | None = field(default=None, compare=False, repr=False)
    # what a create or replace makes the new clone from, for review: (field, value)
    # pairs of file, model, language, accent, tags, description (None: not set)
    spec: tuple[tuple[str, Any], ...] = ()
    # an adopt that finishes a `migrate --keep-legacy` replacement: the clone the
    # lockfile named is kept as retired (for `migrate --finish`), not deleted
    keep_old: bool = False

    @property
    def changes_anything(self) -> bool:
        return self.kind in CHANGING


@dataclass(frozen=True)
class PlanOptions:
    targets: frozenset[str] = frozenset()
    replace: frozenset[str] = frozenset()
    allow_mass_delete: bool = False
    legacy_only: bool = False  # `voicectl migrate`: only legacy replacements (+ their repairs)
    # `voicectl migrate --finish`: only the deletes of the old clones kept as retired whose
    # replacement is healthy (refused, all or nothing, while one is not), and their repairs
    finish_retired: bool = False
    model: str = CURRENT_MODEL
    # The time (epoch seconds) the remote list was taken, and how long a recorded
    # clone may be missing from the list before it counts as gone (list lag).
    now: float | None = None
    list_grace: float = 30.0
    # --new-organisation: the key's organisation is the project's from now on
    new_organisation: bool = False
    # --destroy-first NAME: replacements of these delete the old clone before the create
    destroy_first: frozenset[str] = frozenset()
    # `voicectl migrate --keep-legacy`: a legacy clone superseded by its new clone is
    # kept as retired, not deleted (a replacement begun so keeps it without the flag)
    keep_legacy: bool = False


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    warnings: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()  # the safety rules it breaks (reconciler.refusals)
    existing: int = 0  # clones the plan could touch, for the mass-delete check
    stack: str = ""
    stack_note: str = ""  # where the stack comes from, when the manifest names none

    @property
    def errors(self) -> tuple[str, ...]:
        """The refusals as one-line messages."""
        return tuple(r.message for r in self.refusals)

    def raise_if_unsafe(self, hint: str | None = None) -> None:
        """Raise :class:`PlanRefused` with every refusal (and ``hint``), if there is any."""
        if self.refusals:
            raise PlanRefused(self.refusals, plan=self, hint=hint)

    # voices with changes a migration leaves to `voicectl apply` (legacy_only)
    other_pending: tuple[str, ...] = ()
    # set by the caller: another run held the lock while this plan was made
    lock_held: bool = False

    @property
    def waiting(self) -> list[Action]:
        return self.of_kind("wait")

    @property
    def converged(self) -> bool:
        """Nothing to do AND nothing in flight: no change, no wait, no other run busy."""
        return not self.has_changes and not self.waiting and not self.lock_held

    def of_kind(self, *kinds: str) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.changes_anything]

    @property
    def has_changes(self) -> bool:
        return any(a.changes_anything for a in self.actions)

    def summary(self) -> dict[str, int]:
        counts = {k: 0 for k in ORDER}
        for a in self.actions:
            counts[a.kind] += 1
        return counts


def desired_digest(voice: VoiceSpec, model: str = CURRENT_MODEL) -> str:
    """The spec digest (ownership tag) a clone of ``voice`` carries."""
    return spec_digest(
        file_sha256=voice.file_sha256 or "",
        display_name=voice.display_name,
        language=voice.language,
        description=voice.description,
        accent=voice.accent,
        tags=voice.tags,
        model=model,
    )


def is_ignored(clone: Clone, patterns: Iterable[str]) -> bool:
    """True when a displayName glob or a voiceId in ``ignore`` matches the clone."""
    for pattern in patterns:
        if clone.voice_id == pattern or fnmatch.fnmatchcase(clone.display_name, pattern):
            return True
    return False


def _norm(value: Any) -> Any:
    return "" if value is None else value


def metadata_changes(clone: Clone, voice: Declared) -> list[Change]:
    """Field-by-field differences between a clone and its declaration.

    Ownership tags are ignored; tags compare as a set; a missing field equals "".
    The common case (nothing differs) is one comparison of two small dicts; the
    field list is built only when they differ. (The ownership digest cannot stand
    in for this: a dashboard edit changes metadata and keeps the tags.)
    """
    have = {
        "displayName": clone.display_name,
        "language": _norm(clone.language),
        "description": _norm(clone.description),
        "accent": _norm(clone.accent),
        "tags": sorted(set(user_tags(clone.tags))),
    }
    want = {
        "displayName": voice.display_name,
        "language": _norm(voice.language),
        "description": _norm(voice.description),
        "accent": _norm(voice.accent),
        "tags": sorted(set(voice.tags)),
    }
    if have == want:
        return []
    return [Change(f, have[f], want[f]) for f in sorted(have) if have[f] != want[f]]


def spec_of(voice: VoiceSpec, model: str) -> tuple[tuple[str, Any], ...]:
    """What a new clone of ``voice`` is made from, as a reviewer wants to see it."""
    sha = voice.file_sha256
    file = getattr(voice, "file_rel", None)
    return (
        ("file", f"{file} (sha256 {sha[:12]})" if file and sha else file),
        ("model", model),
        ("language", voice.language),
        ("accent", voice.accent),
        ("tags", list(voice.tags)),
        ("description", voice.description),
    )


@dataclass(frozen=True)
class _PendingView:
    """A pending entry as ``wait_if_young`` reads a voice's entry."""

    voice_id: str
    pending: Any

    @property
    def created_at(self) -> str | None:
        return self.pending.created_at

    listed_at = None


def age_of(created_at: str | None, now: float | None) -> float | None:
    """Seconds from an ISO timestamp to ``now``; None when either is unknown."""
    if not created_at or now is None:
        return None
    try:
        then = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, now - then.timestamp())


def not_listed_yet(entry: Any, now: float | None, grace: float) -> float | None:
    """The age of a recorded clone that the list may just not show yet, else None.

    The grace (``--list-grace``) covers list lag only: a clone made less than that
    long ago AND never seen in a list (``listedAt`` unset). A clone that a list has
    shown once and that two lists in a row now lack was deleted: drift at once,
    however young. A pending entry of an older voicectl has no time (``createdAt``):
    no grace.
    """
    if getattr(entry, "listed_at", None) is not None:
        return None
    age = age_of(entry.created_at, now)
    if age is None or age >= grace:
        return None
    return age


def _migration_action(action: Action) -> bool:
    """Actions `voicectl migrate` keeps: legacy replacements and their repairs (the
    delete of a legacy clone its new clone superseded; an undeclared voice's legacy
    clone has no replacement: pruning it is `voicectl apply`'s, never migrate's)."""
    if action.kind == "create":
        return False
    return action.kind != "delete" or (action.legacy and action.delete_reason == "migrated")


def _created_key(clone: Clone) -> tuple[str, str]:
    return (clone.created_at or "", clone.voice_id)


def _healthy(clone: Clone) -> bool:
    return clone.status not in ("failed", *BUSY) and clone.is_current


class _Planner:
    def __init__(
        self,
        manifest: ManifestLike,
        lock: LockDocument,
        remote: Sequence[Clone],
        options: PlanOptions,
    ):
        self.m = manifest
        self.opts = options
        self.remote = {c.voice_id: c for c in remote}
        self.moved: tuple[tuple[str, str], ...] = tuple(getattr(manifest, "moved", ()))
        self.removed: tuple[str, ...] = tuple(getattr(manifest, "removed", ()))
        self.held: tuple[str, ...] = tuple(getattr(manifest, "held", ()))
        self.lock = lock
        self.moves: list[tuple[str, str, str]] = []  # (from, to, voiceId) to record
        # Indexes, built once, so that matching is linear in voices + clones.
        self.owners = {vid: owner_of(c.tags) for vid, c in self.remote.items()}
        self.tagged: dict[str, list[Clone]] = {}  # this stack's ownership name -> clones
        for vid, clone in self.remote.items():
            owner = self.owners[vid]
            if ours(owner, manifest.stack):
                self.tagged.setdefault(owner.name, []).append(clone)
        self.actions: list[Action] = []
        self.warnings: list[str] = []
        self.refusals: list[Refusal] = []
        self.lock = self.apply_moves(lock)
        self.pending_of: dict[str, list[str]] = {}  # voice name -> pending voiceIds
        for vid, pending in self.lock.pending.items():
            self.pending_of.setdefault(pending.name, []).append(vid)
        self.other_pending: list[str] = []
        self.claimed: set[str] = set()  # voiceIds accounted for by a declared voice
        # Deletes that lose no voice: extra clones (duplicates, superseded ones) of a voice
        # whose kept clone is healthy. Not counted by the mass-delete check, so finishing an
        # interrupted run is never refused when the run itself was allowed.
        self.safe_deletes: set[str] = set()
        self.renamed: set[str] = set()  # old clones a rename without moved: replaces
        self._recorded: set[str] | None = None  # every voiceId the lockfile records
        self._name_of: dict[str, str] | None = None  # voiceId -> its lockfile (or pending) name
        # lockfile names no longer declared, by the sha256 of their sample (renames)
        self._undeclared_by_sha: dict[str, list[str]] | None = None

    # -- identity ---------------------------------------------------------------------
    def foreign(self, clone: Clone | None) -> Owner | None:
        """The owner of a clone tagged with ANOTHER stack (never touched by this one)."""
        owner = self.owners.get(clone.voice_id) if clone is not None else None
        return owner if theirs(owner, self.m.stack) else None

    def owner_text(self, clone: Clone) -> str:
        """Whose a clone is, for the plan line of its delete (ownership.delete_owner)."""
        if self._recorded is None:
            self._recorded = recorded_ids(self.lock)  # retired and awaiting clones too
        recorded = self.recorded_name(clone.voice_id)
        entry = self.lock.voices[recorded] if recorded else None
        return delete_owner(
            self.owners.get(clone.voice_id),
            self.m.stack,
            recorded=clone.voice_id in self._recorded,
            imported=entry is not None and not entry.file_sha256,
        )

    def apply_moves(self, lock: LockDocument) -> LockDocument:
        """The lockfile as it reads once ``moved:`` is applied (renames only)."""
        todo = [
            (old, new) for old, new in self.moved if old in lock.voices and new not in lock.voices
        ]
        for old, new in self.moved:
            if old in lock.voices and new in lock.voices:
                self.warnings.append(
                    f"moved: {old} -> {new}: the lockfile records both names; the move is "
                    f"ignored (voices.{old}'s clone {lock.voices[old].voice_id} is no longer "
                    "declared)"
                )
        renames = dict(todo)
        pending_names = {p.name for p in lock.pending.values()} | {
            r.name for r in lock.retired.values()
        }
        if not todo and not (renames.keys() & pending_names):
            return lock
        view = lock.model_copy(deep=True)
        for old, new in todo:
            entry = view.voices.pop(old)
            view.voices[new] = entry
            self.moves.append((old, new, entry.voice_id))
        tables: tuple[dict[str, Any], ...] = (view.pending, view.retired)
        for table in tables:
            for key, item in list(table.items()):
                if item.name in renames:
                    table[key] = item.model_copy(update={"name": renames[item.name]})
        if any(old in view.replacing for old in renames):
            view.replacing = {renames.get(k, k): v for k, v in view.replacing.items()}
        return view

    def organisation_problem(self) -> OtherOrganisation | None:
        """Why the key looks like one of another organisation, or None."""
        if self.opts.new_organisation:
            return None
        lock = self.lock
        recorded = {e.voice_id: e for e in lock.voices.values()}
        seen = tuple(identity.organisations_of(self.remote.values()))
        listed_orgs = set(seen)
        rec = lock.organization_id
        if rec and listed_orgs and rec not in listed_orgs:
            return OtherOrganisation(
                f"the lockfile records organisation {rec}, but this key lists the clones of "
                f"organisation {', '.join(seen)}: {identity.key_hint(self.m)} Nothing was changed; "
                "--new-organisation moves the project there on purpose",
                recorded=rec,
                seen=seen,
            )
        ids = set(recorded) | set(lock.pending) | set(lock.retired)
        if not ids or ids & set(self.remote) or (rec and rec in listed_orgs) or self.tagged:
            return None  # a recorded clone, the recorded organisation or this stack's tags
        young = [e for e in recorded.values() if self.not_listed_yet(e) is not None]
        if recorded and len(young) == len(recorded):
            return None  # the list may lag behind the creates of moments ago
        n = len(ids)
        return OtherOrganisation(
            f"none of the {n} clone{'s' if n != 1 else ''} the lockfile records is listed by "
            f"this key's organisation ({len(self.remote)} clones listed): "
            f"{identity.key_hint(self.m)} "
            "Nothing was changed; if they were deleted on purpose, --new-organisation "
            "clones them again",
            recorded=rec,
            seen=seen,
        )

    # -- moved, removed, held ------------------------------------------------------------
    def plan_moves(self) -> None:
        for old, new, voice_id in self.moves:
            self.add(
                Action(
                    "move",
                    new,
                    voice_id,
                    reasons=(f"moved from {old} (moved:); no API call, the voiceId stays",),
                    display_name=getattr(self.remote.get(voice_id), "display_name", None),
                )
            )

    def plan_removed(self) -> None:
        """``removed:`` names: drop from the lockfile, keep the clone, mark it released."""
        for name in self.removed:
            found: dict[str, Clone | None] = {}
            entry = self.lock.voices.get(name)
            if entry is not None:
                found[entry.voice_id] = self.remote.get(entry.voice_id)
            for voice_id, old in sorted(self.lock.retired.items()):
                if old.name == name:  # its old clone, kept by --keep-legacy: let go too
                    found[voice_id] = self.remote.get(voice_id)
            for clone in sorted(self.tagged.get(name, ()), key=_created_key):
                if clone.voice_id not in self.lock.released and not self.recorded_elsewhere(
                    clone.voice_id, name
                ):
                    found[clone.voice_id] = clone
            for voice_id, listed in found.items():
                self.claimed.add(voice_id)
                if (
                    listed is None
                    and entry is not None
                    and voice_id == entry.voice_id
                    and self.wait_if_young(name, entry)
                ):
                    continue
                if listed is None:
                    self.add(
                        Action("forget", name, voice_id, ("removed: the clone no longer exists",))
                    )
                    continue
                self.add(
                    Action(
                        "release",
                        name,
                        voice_id,
                        reasons=(
                            "removed: dropped from the lockfile; the clone is kept on the "
                            "service and never pruned by this stack",
                        ),
                        display_name=listed.display_name,
                        clone=listed,
                    )
                )

    def plan_held(self) -> None:
        """Voices whose file is import's placeholder: claimed (never deleted), untouched."""
        for name in self.held:
            cands = self.candidates(name)
            self.claimed.update(c.voice_id for c in cands)
            entry = self.lock.voices.get(name)
            if entry is not None:
                self.claimed.add(entry.voice_id)
            self.warnings.append(
                f"voices.{name}: its file is still the FILL-ME-IN placeholder; the voice is "
                "left alone (not re-cloned, not deleted) until file: names its sample"
            )

    # -- candidates ---------------------------------------------------------------------
    def name_of(self, voice_id: str) -> str | None:
        """The voice the lockfile records ``voice_id`` for (its voices, else its pending
        clones), or None; the index is built once per plan."""
        if self._name_of is None:
            self._name_of = {vid: p.name for vid, p in self.lock.pending.items()}
            self._name_of.update((e.voice_id, n) for n, e in self.lock.voices.items())
        return self._name_of.get(voice_id)

    def recorded_elsewhere(self, voice_id: str, name: str) -> bool:
        """Whether the lockfile records ``voice_id`` for another voice than ``name``.
        Such a clone is never this voice's, whatever its tags say: a clone ``moved:``
        renamed keeps its old name's tag for good."""
        other = self.name_of(voice_id)
        return other is not None and other != name

    def recorded_name(self, voice_id: str) -> str | None:
        """The lockfile name whose entry in voices records ``voice_id``, or None."""
        name = self.name_of(voice_id)
        entry = self.lock.voices.get(name) if name is not None else None
        return name if entry is not None and entry.voice_id == voice_id else None

    def candidates(self, name: str) -> list[Clone]:
        found: dict[str, Clone] = {}
        entry = self.lock.voices.get(name)
        names = {name}
        if entry is None:
            # a lost lockfile: a moved voice's clones carry the old name's tag. With an
            # entry, a clone tagged with the old name is not this voice's (an ignored
            # move's, or one prune: none let go): never deleted as its duplicate
            names |= {old for old, new in self.moved if new == name}
        listed = self.remote.get(entry.voice_id) if entry else None
        if listed is not None and not self.foreign(listed):
            found[listed.voice_id] = listed
        for voice_id in self.pending_of.get(name, ()):
            clone = self.remote.get(voice_id)
            if clone is not None and not self.foreign(clone):
                found[voice_id] = clone
        for tagged_name in sorted(names):
            for clone in self.tagged.get(tagged_name, ()):
                if not self.recorded_elsewhere(clone.voice_id, name):
                    found[clone.voice_id] = clone
        for voice_id in list(found):
            set_aside = voice_id in self.lock.retired or voice_id in self.lock.awaiting
            if (set_aside and (entry is None or voice_id != entry.voice_id)) or (
                voice_id in self.lock.released  # released: never taken back
            ):
                del found[voice_id]
        return sorted(found.values(), key=_created_key)

    # -- one declared voice ---------------------------------------------------------------
    def plan_voice(self, name: str, voice: VoiceSpec) -> None:
        digest = desired_digest(voice, voice_model(voice, self.opts.model))
        entry = self.lock.voices.get(name)
        cands = self.candidates(name)
        self.claimed.update(c.voice_id for c in cands)
        common: dict[str, Any] = {
            "name": name,
            "display_name": voice.display_name,
            "spec_digest": digest,
        }
        spec = spec_of(voice, voice_model(voice, self.opts.model))
        if self.wait_for_pending(name, cands, common):
            return

        if not cands:
            reason = "declared, no clone exists"
            let_go = [
                c.voice_id for c in self.tagged.get(name, ()) if c.voice_id in self.lock.released
            ]
            if let_go:
                reason = (
                    f"declared; its earlier clone {let_go[0]} was released (removed:) and is "
                    "never taken back, so a new clone is made"
                )
            theirs = self.foreign(self.remote.get(entry.voice_id)) if entry else None
            if entry is not None and theirs is not None:
                reason = (
                    f"the lockfile names clone {entry.voice_id}, but it was made by stack "
                    f"{theirs.stack!r}: left alone, this stack makes its own"
                )
                self.warnings.append(
                    f"voices.{name}: clone {entry.voice_id} belongs to stack {theirs.stack!r} "
                    f"(its ownership tags), not {self.m.stack!r}: it is never replaced or "
                    "deleted from here (manage it from its own project, or delete it with "
                    "prune: all)"
                )
                self.claimed.add(entry.voice_id)
                self.add(Action("create", reasons=(reason,), **common))
                return
            old = self.rename_source(name, voice)
            if old is not None:
                old_name, clone = old
                self.renamed.add(clone.voice_id)
                self.claimed.add(clone.voice_id)
                reasons = [
                    f"renamed from {old_name} without a moved: entry: a new clone is made and "
                    f"completed before {old_name}'s clone {clone.voice_id} is deleted (add "
                    f"`moved: [{{from: {old_name}, to: {name}}}]` to keep that clone instead)"
                ]
                reasons += self.destroy_first_reason(name, clone.voice_id)
                if voice.protect or self.lock.voices[old_name].protect:
                    # The old clone is deleted once the new one is made: a protected
                    # voice is never lost to a rename (moved: keeps its clone).
                    self.refusals.append(
                        ProtectedVoice(
                            old_name, clone.voice_id, "replace", reasons[0], also=(name,)
                        )
                    )
                    return
                self.add(
                    Action(
                        "replace",
                        voice_id=clone.voice_id,
                        reasons=tuple(reasons),
                        status=clone.status,
                        legacy=clone.is_legacy,
                        clone=clone,
                        **common,
                    )
                )
                return
            if entry is not None:
                age = self.not_listed_yet(entry)
                if age is not None:
                    # The list may lag behind a create: a clone made moments ago, and
                    # never listed, is not "gone" yet. Re-creating it could duplicate it.
                    self.add(
                        Action(
                            "wait",
                            voice_id=entry.voice_id,
                            status=entry.status,
                            reasons=(
                                f"clone {entry.voice_id} was made {age:.0f}s ago and {NOT_LISTED}",
                            ),
                            **common,
                        )
                    )
                    return
                reason = f"clone {entry.voice_id} no longer exists on the service"
            self.add(Action("create", reasons=(reason,), spec=spec, **common))
            return

        def matches(c: Clone) -> bool:
            owner = self.owners.get(c.voice_id)
            return bool(owner and owner.spec == digest)

        locked = entry.voice_id if entry else None
        intent = self.lock.replacing.get(name)
        if intent is not None and intent.replaces == locked:
            # A forced --replace was interrupted: the new clone is the one to keep.
            newer = [c for c in cands if c.voice_id != locked and matches(c)]
            if any(c.status in BUSY for c in newer) and not any(_healthy(c) for c in newer):
                self.add_wait(next(c for c in newer if c.status in BUSY), common)
                return
            if any(_healthy(c) for c in newer):
                locked = None  # prefer the new clone below
        good = [c for c in cands if matches(c) and _healthy(c)]
        busy = [c for c in cands if matches(c) and c.status in BUSY and c.is_current]
        if good:
            keeper = next((c for c in good if c.voice_id == locked), None)
            if keeper is None and intent is not None and locked is None:
                keeper = next((c for c in reversed(good) if c.voice_id != intent.replaces), None)
            keeper = keeper or good[0]
        elif busy:
            # A new clone of this exact spec is still being made: note it, touch nothing.
            self.add_wait(busy[-1], common)
            return
        else:
            keeper = next((c for c in cands if c.voice_id == locked), cands[-1])

        reasons, changes = self.replace_reasons(name, voice, keeper, entry, digest)
        kept_old: Clone | None = None  # the recorded legacy clone, kept as retired
        # Extra clones for this name: delete once the keeper is healthy, else leave them.
        for extra in cands:
            if extra.voice_id == keeper.voice_id:
                continue
            if not _healthy(keeper) and extra.status in BUSY:
                continue
            if extra.status in BUSY:
                self.warnings.append(
                    f"{name}: extra clone {extra.voice_id} is {extra.status}; left alone for now"
                )
                continue
            if extra.status == "failed":
                why, code = "a failed clone of this voice", "failed"
            elif entry is not None and extra.voice_id == entry.voice_id:
                why = f"superseded by {keeper.voice_id}"
                code = "migrated" if extra.is_legacy else "replaced"
                keep = code == "migrated" and _healthy(keeper) and not reasons
                if keep and self.keeps_old(name, entry, keeper):
                    kept_old = extra  # the adopt below records it as retired
                    continue
            else:
                why, code = f"duplicate of {keeper.voice_id} (same ownership tags)", "duplicate"
            if _healthy(keeper):
                self.safe_deletes.add(extra.voice_id)
            self.add_delete(extra, name, why, code)

        if keeper.status in BUSY and not reasons:
            self.add_wait(keeper, common)
            return
        if reasons:
            kept = entry is not None and entry.voice_id == keeper.voice_id and entry.protect
            if voice.protect or kept:
                # the lockfile remembers protect: lifting it takes an apply of its own
                why = "; ".join(reasons)
                if not voice.protect:
                    why += (
                        "; the lockfile still records protect: true: apply with protect: "
                        "false and no other change first"
                    )
                self.refusals.append(ProtectedVoice(name, keeper.voice_id, "replace", why))
                return
            if self.opts.legacy_only and not keeper.is_legacy:
                self.other_pending.append(name)
                self.add(Action("noop", voice_id=keeper.voice_id, clone=keeper, **common))
                return
            if keeper.is_legacy and entry is not None and self.keeps_old(name, entry, keeper):
                reasons.append(
                    "the legacy clone is kept as retired, as `migrate --keep-legacy` asked "
                    "(`voicectl migrate --finish` deletes it)"
                )
            self.add(
                Action(
                    "replace",
                    voice_id=keeper.voice_id,
                    reasons=tuple(reasons),
                    changes=tuple(changes),
                    status=keeper.status,
                    legacy=keeper.is_legacy,
                    clone=keeper,
                    spec=spec,
                    **common,
                )
            )
            return
        if entry is None or entry.voice_id != keeper.voice_id:
            why = (
                "no lockfile entry; found by ownership tags"
                if entry is None
                else f"lockfile names {entry.voice_id}, the clone in use is {keeper.voice_id}"
            )
            if kept_old is not None:
                why += (
                    f"; the legacy clone {kept_old.voice_id} is kept as retired, as "
                    "`migrate --keep-legacy` asked: `voicectl migrate --finish` deletes it"
                )
            self.add(
                Action(
                    "adopt",
                    voice_id=keeper.voice_id,
                    reasons=(why,),
                    clone=keeper,
                    keep_old=kept_old is not None,
                    **common,
                )
            )
            return
        self.add(Action("noop", voice_id=keeper.voice_id, clone=keeper, **common))

    def keeps_old(self, name: str, entry: LockEntry, keeper: Clone) -> bool:
        """Whether the legacy clone of ``entry`` that ``keeper`` supersedes is kept as
        retired: asked for (``migrate --keep-legacy``), or by the run that began the
        replacement (journalled before its create, and with the new clone)."""
        return self.opts.keep_legacy or self.lock.keeps_old(name, entry.voice_id, keeper.voice_id)

    def replace_reasons(
        self,
        name: str,
        voice: VoiceSpec,
        clone: Clone,
        entry: LockEntry | None,
        digest: str,
    ) -> tuple[list[str], list[Change]]:
        reasons: list[str] = []
        if clone.is_legacy:
            models = ", ".join(clone.models) or "unknown"
            reasons.append(f"legacy clone (modelIds: {models}); lightning-v3.1 needs a re-clone")
        if clone.status == "failed":
            reasons.append("the clone failed on the service")
        want_model = voice_model(voice, self.opts.model)
        model_changed = clone.is_current and clone.clone_model != want_model
        if model_changed:
            reasons.append(f"model changed ({clone.clone_model} -> {want_model})")
        recorded_sha = entry.file_sha256 if entry and entry.voice_id == clone.voice_id else None
        changes = metadata_changes(clone, voice)
        if recorded_sha and voice.file_sha256 and recorded_sha != voice.file_sha256:
            file = getattr(voice, "file_rel", None) or "the sample"
            reasons.append(
                f"audio file changed ({file}: sha256 {recorded_sha[:12]} -> "
                f"{voice.file_sha256[:12]})"
            )
        elif not recorded_sha and not changes and not model_changed:
            owner = self.owners.get(clone.voice_id) or owner_of(clone.tags)
            if ours(owner, self.m.stack) and owner.spec and owner.spec != digest:
                reasons.append(f"spec changed (digest {owner.spec} -> {digest})")
        if changes:
            fields = ", ".join(c.field for c in changes)
            reasons.append(f"metadata changed ({fields})")
        if name in self.opts.replace:
            reasons.append("forced with --replace")
        else:
            intent = self.lock.replacing.get(name)
            if intent is not None and intent.forced and intent.replaces == clone.voice_id:
                reasons.append("finishing a --replace that was interrupted")
        if reasons:
            reasons += self.destroy_first_reason(name, clone.voice_id)
        return reasons, changes

    def destroy_first_reason(self, name: str, voice_id: str) -> list[str]:
        if name not in self.opts.destroy_first:
            return []
        return [
            f"--destroy-first: {voice_id} is deleted BEFORE the new clone is made; {name} has "
            "no voiceId between the delete and the create"
        ]

    def rename_source(self, name: str, voice: VoiceSpec) -> tuple[str, Clone] | None:
        """The clone of an undeclared name made from this voice's audio: a rename that
        has no ``moved:`` entry (replaced create-before-destroy, never lost first)."""
        if not voice.file_sha256:
            return None
        if self._undeclared_by_sha is None:  # built once: this runs for every create
            gone = set(self.m.voices) | set(self.held) | set(self.removed)
            self._undeclared_by_sha = {}
            for old_name, entry in sorted(self.lock.voices.items()):
                if old_name not in gone and entry.file_sha256:
                    self._undeclared_by_sha.setdefault(entry.file_sha256, []).append(old_name)
        for old_name in self._undeclared_by_sha.get(voice.file_sha256, ()):
            entry = self.lock.voices[old_name]
            clone = self.remote.get(entry.voice_id)
            if clone is None or clone.voice_id in self.renamed or self.foreign(clone):
                continue
            if clone.voice_id in self.lock.released or clone.status in BUSY:
                continue
            return old_name, clone
        return None

    # -- everything not declared -------------------------------------------------------
    def plan_orphans(self) -> None:
        declared = set(self.m.voices) | set(self.held)
        locked_ids = {e.voice_id: n for n, e in self.lock.voices.items()}
        pending_ids = {vid: p.name for vid, p in self.lock.pending.items()}
        for locked, entry in sorted(self.lock.voices.items()):
            if locked not in declared and entry.voice_id not in self.remote:
                if self.wait_if_young(locked, entry):
                    continue
                self.add(Action("forget", locked, entry.voice_id, ("clone no longer exists",)))
        for vid, pend in sorted(self.lock.pending.items()):
            if vid not in self.remote and pend.name not in declared:
                if self.wait_if_young(pend.name, _PendingView(vid, pend)):
                    continue
                self.add(Action("forget", pend.name, vid, ("pending clone no longer exists",)))
        busy_new = {
            p.replaces
            for vid, p in self.lock.pending.items()
            if p.replaces and vid in self.remote and self.remote[vid].status in BUSY
        }
        for clone in sorted(self.remote.values(), key=_created_key):
            if (
                clone.voice_id in self.claimed
                or clone.voice_id in self.lock.retired
                or clone.voice_id in self.lock.awaiting
            ):
                continue
            owner = self.owners[clone.voice_id]
            tagged = ours(owner, self.m.stack)
            name = locked_ids.get(clone.voice_id) or pending_ids.get(clone.voice_id)
            in_lock = clone.voice_id in locked_ids or clone.voice_id in pending_ids
            if name is None and owner is not None and tagged:
                name = owner.name
            if clone.voice_id in self.lock.released:
                let_go = self.lock.released[clone.voice_id].name in self.removed
                if self.m.prune == "all" and not let_go:
                    self.add_delete(clone, name, "not declared (prune: all); it was released")
                continue
            if clone.voice_id in busy_new:
                self.warnings.append(
                    f"{name or clone.display_name}: old clone {clone.voice_id} is kept until its "
                    "replacement has completed"
                )
                continue
            theirs = self.foreign(clone)
            if theirs is not None:
                if in_lock:
                    self.add(
                        Action(
                            "forget",
                            name,
                            clone.voice_id,
                            (
                                f"made by stack {theirs.stack!r}, not {self.m.stack!r}: left on "
                                "the service, dropped from this lockfile",
                            ),
                            display_name=clone.display_name,
                        )
                    )
                    self.warnings.append(
                        f"{clone.voice_id} ({clone.display_name}) is stack {theirs.stack!r}'s "
                        f"(its ownership tags) although this lockfile names it: stack "
                        f"{self.m.stack!r} never replaces or deletes it; prune: all would "
                        "delete it"
                    )
                    continue
                if self.m.prune == "all":
                    self.add_delete(clone, name, "not declared (prune: all)")
                continue
            managed = tagged or in_lock
            if self.m.prune == "none" or (self.m.prune == "managed" and not managed):
                if clone.voice_id in locked_ids or clone.voice_id in pending_ids:
                    # kept on the service, but no longer the manifest's: drop the record
                    self.add(
                        Action(
                            "forget",
                            name,
                            clone.voice_id,
                            ("no longer declared (prune: none keeps the clone)",),
                            display_name=clone.display_name,
                        )
                    )
                continue
            why = "no longer declared" if managed else "not declared (prune: all)"
            self.add_delete(clone, name, why, "orphan")

    def plan_retired(self) -> None:
        """Old clones recorded as retired: kept ones wait for `migrate --finish`; those of
        a replacement interrupted before its delete (keep=False) are deleted now."""
        kept = 0
        for voice_id, old in sorted(self.lock.retired.items()):
            if old.name in self.removed:
                continue  # released (plan_removed) or forgotten with its voice
            clone = self.remote.get(voice_id)
            if clone is None:
                self.add(Action("forget", old.name, voice_id, ("retired clone no longer exists",)))
                continue
            current = self.lock.voices.get(old.name)
            new_id = current.voice_id if current is not None else old.replaced_by
            new = self.remote.get(new_id or "")
            if old.name not in self.m.voices:
                # its voice is no longer declared: an orphan like any other (kept on
                # purpose or not), pruned as the manifest says; nothing can finish it
                if self.m.prune != "none":
                    self.add_delete(clone, old.name, "no longer declared", "orphan")
                else:
                    self.warnings.append(
                        f"{old.name}: old clone {voice_id} is no longer declared and is kept "
                        "(prune: none)"
                    )
                continue
            if old.keep and self.opts.finish_retired:
                self.finish_retired(voice_id, old.name, clone, new_id, new)
                continue
            if old.keep:
                # awaiting deletion too: `migrate --finish` approved its delete, and no
                # route could do it then: plan_awaiting plans it for the next apply
                if voice_id not in self.lock.awaiting:
                    kept += 1
                continue
            if new is not None and _healthy(new):
                self.safe_deletes.add(voice_id)
                waiting = self.lock.awaiting.get(voice_id)
                why = f"superseded by {new_id} " + (
                    f"(awaiting deletion: {waiting.reason})"
                    if waiting is not None
                    else "(finishing an interrupted replacement)"
                )
                self.add_delete(clone, old.name, why, "migrated" if clone.is_legacy else "replaced")
            elif old.name not in self.m.voices and self.m.prune != "none":
                self.add_delete(clone, old.name, "no longer declared", "orphan")
            else:
                self.warnings.append(
                    f"{old.name}: old clone {voice_id} is left until its replacement "
                    f"{new_id or '(none)'} is completed"
                )
        if kept:
            self.warnings.append(
                f"{kept} old clone{'s are' if kept != 1 else ' is'} kept as retired; "
                f"`voicectl migrate --finish` deletes {'them' if kept != 1 else 'it'}"
            )

    def finish_retired(
        self, voice_id: str, name: str, clone: Clone, new_id: str | None, new: Clone | None
    ) -> None:
        """`migrate --finish`: delete a kept old clone once its replacement is healthy."""
        if new is None:
            problem = f"its replacement {new_id or '(unknown)'} does not exist on the service"
        elif new.status != "completed":
            problem = f"its replacement {new_id} is {new.status or 'of unknown status'}"
        elif not new.is_current:
            models = ", ".join(new.models) or "none"
            problem = f"its replacement {new_id} is not on lightning-v3.1 (modelIds: {models})"
        else:
            self.safe_deletes.add(voice_id)  # the voice lives on in its replacement
            pool = PRO_MODEL if PRO_MODEL in new.models else CURRENT_MODEL
            why = f"kept as retired; its replacement {new_id} is completed on {pool}"
            self.add_delete(clone, name, why, "migrated", awaiting=voice_id in self.lock.awaiting)
            return
        self.refusals.append(ReplacementNotReady(name, voice_id, problem))

    def unfinished_migrations(self) -> list[Refusal]:
        """`migrate --finish`: voices whose `migrate --keep-legacy` was cut short (its
        intent or new clone journalled, the old clone not yet retired): nothing of theirs
        is finished yet, so the finish is refused rather than called done."""
        names = {p.name for p in self.lock.pending.values() if p.keep_old}
        names |= {n for n, i in self.lock.replacing.items() if i.keep_old}
        names &= set(self.m.voices)  # a dropped voice's intent: the next apply clears it
        problem = "its `migrate --keep-legacy` was cut short: run it again first"
        refusals: list[Refusal] = []
        for name in sorted(names):
            entry = self.lock.voices.get(name)
            refusals.append(ReplacementNotReady(name, entry.voice_id if entry else "?", problem))
        return refusals

    def _finishing(self, action: Action) -> bool:
        """Actions `migrate --finish` keeps: about retired (or handed-off migrated) clones."""
        vid = action.voice_id or ""
        waiting = self.lock.awaiting.get(vid)
        return action.kind in ("delete", "forget") and (
            vid in self.lock.retired or (waiting is not None and waiting.reason == "migrated")
        )

    def plan_awaiting(self) -> None:
        """Clones an earlier run could not delete (no route worked): every plan shows
        them as deletes until a run deletes them; one that is gone is forgotten."""
        planned = {a.voice_id for a in self.actions if a.kind == "delete"}
        for voice_id, waiting in sorted(self.lock.awaiting.items()):
            if voice_id in planned:
                continue
            if voice_id in self.claimed:
                # a declared voice's clone again (its voice came back): never deleted
                # from under it; a replacement deletes it after the new clone is made
                continue
            clone = self.remote.get(voice_id)
            if clone is None:
                self.add(
                    Action(
                        "forget",
                        waiting.name,
                        voice_id,
                        ("awaiting deletion, and no longer exists",),
                        display_name=waiting.display_name,
                        awaiting=True,
                    )
                )
                continue
            self.safe_deletes.add(voice_id)  # approved by the run that handed it off
            self.add_delete(
                clone,
                waiting.name,
                f"awaiting deletion ({waiting.reason})",
                waiting.reason,
                awaiting=True,
            )

    def add_delete(
        self,
        clone: Clone,
        name: str | None,
        why: str,
        code: str = "orphan",
        *,
        awaiting: bool = False,
    ) -> None:
        if is_ignored(clone, self.m.ignore) and not awaiting:
            return
        if clone.status in BUSY:
            self.warnings.append(
                f"{clone.voice_id} ({name or clone.display_name}) is {clone.status}; "
                "not deleted until it settles"
            )
            return
        theirs = self.foreign(clone)
        if theirs is not None and self.m.prune != "all":
            return  # never: a clone of another stack (only prune: all deletes it)
        recorded = self.recorded_name(clone.voice_id)
        entry = self.lock.voices.get(recorded) if recorded else None
        if recorded and entry is not None and entry.protect:
            # protect is the lockfile entry's that records this clone, whatever name
            # the delete was planned under
            self.refusals.append(
                ProtectedVoice(recorded, clone.voice_id, "delete", why, also=(name or recorded,))
            )
            return
        self.add(
            Action(
                "delete",
                name,
                clone.voice_id,
                reasons=(why, self.owner_text(clone)),
                display_name=clone.display_name,
                status=clone.status,
                legacy=clone.is_legacy,
                clone=clone,
                delete_reason=code,
                awaiting=awaiting or clone.voice_id in self.lock.awaiting,
            )
        )

    def not_listed_yet(self, entry: Any) -> float | None:
        """:func:`not_listed_yet` with this plan's clock and ``--list-grace``."""
        return not_listed_yet(entry, self.opts.now, self.opts.list_grace)

    def wait_for_pending(self, name: str, cands: list[Clone], common: dict[str, Any]) -> bool:
        """A replacement made moments ago (pending in the journal) that the list does
        not show yet: wait for it rather than replace the voice once more."""
        for voice_id in self.pending_of.get(name, ()):
            if voice_id in self.remote or any(c.voice_id == voice_id for c in cands):
                continue
            age = self.not_listed_yet(self.lock.pending[voice_id])
            if age is None:
                continue
            self.add(
                Action(
                    "wait",
                    voice_id=voice_id,
                    reasons=(
                        f"its new clone {voice_id} was made {age:.0f}s ago and is not "
                        "listed yet; it stays recorded until the list shows it or it is gone",
                    ),
                    **common,
                )
            )
            return True
        return False

    def wait_if_young(self, name: str, entry: Any) -> bool:
        """A recorded clone missing from the list is forgotten only on evidence it is
        gone: one made less than --list-grace ago, and never listed, may just not be
        listed yet, so it stays recorded (a wait) instead of being dropped."""
        age = self.not_listed_yet(entry)
        if age is None:
            return False
        self.add(
            Action(
                "wait",
                name,
                entry.voice_id,
                (
                    f"clone {entry.voice_id} was made {age:.0f}s ago and {NOT_LISTED}; "
                    "it stays recorded until the list shows it is gone",
                ),
            )
        )
        return True

    def add_wait(self, clone: Clone, common: dict[str, Any]) -> None:
        """Note a clone still being made; nothing is done to it in this run (a --replace
        of its voice waits too, and says so)."""
        name = common.get("name")
        if name in self.opts.replace:
            self.warnings.append(
                f"--replace {name}: its clone {clone.voice_id} is still being made "
                f"({clone.status}); nothing is replaced now (if that clone is the replacement "
                "asked for, run apply again without --replace once it has completed)"
            )
        self.add(
            Action(
                "wait",
                voice_id=clone.voice_id,
                status=clone.status,
                reasons=(f"clone is {clone.status}; run again once it has completed",),
                clone=clone,
                **common,
            )
        )

    def add(self, action: Action) -> None:
        self.actions.append(action)

    # -- whole plan -----------------------------------------------------------------------
    def run(self) -> Plan:
        stack_note = self.stack_note()
        problem = self.organisation_problem()
        if problem is not None:
            return Plan((), (), (problem,), 0, self.m.stack, stack_note)
        self.plan_moves()
        self.plan_removed()
        self.plan_held()
        for name, voice in self.m.voices.items():
            self.plan_voice(name, voice)
        self.plan_orphans()
        self.plan_retired()
        self.plan_awaiting()
        self.warn_unmanaged_legacy()
        self.warn_clone_limit()
        actions = self.actions
        if self.opts.targets:
            actions = [a for a in actions if a.name in self.opts.targets]
        if self.opts.legacy_only:
            self.other_pending += [
                a.name or a.voice_id or "?"
                for a in actions
                if a.changes_anything
                and not _migration_action(a)
                and (not self.opts.targets or a.name in self.opts.targets)
            ]
            actions = [a for a in actions if _migration_action(a)]
        if self.opts.finish_retired:
            actions = [a for a in actions if self._finishing(a)]
            self.refusals = [r for r in self.refusals if isinstance(r, ReplacementNotReady)]
            self.refusals += self.unfinished_migrations()
        existing = self.existing_count()
        refusals = list(self.refusals)
        if self.opts.targets:
            refusals = for_targets(refusals, self.opts.targets)
        destructive = sum(
            1
            for a in actions
            if a.kind in ("delete", "replace") and a.voice_id not in self.safe_deletes
        )
        safety = getattr(self.m, "safety", None) or DEFAULT_SAFETY
        if not self.opts.allow_mass_delete and too_much_change(destructive, existing, safety):
            refusals.append(TooMuchChange(destructive, existing, safety))
        actions = sorted(actions, key=lambda a: ORDER.index(a.kind))
        return Plan(
            tuple(actions),
            tuple(self.warnings),
            tuple(refusals),
            existing,
            self.m.stack,
            stack_note,
            other_pending=tuple(dict.fromkeys(self.other_pending)),
        )

    def stack_note(self) -> str:
        if getattr(self.m, "stack_declared", True):
            return ""
        return (
            "voices.yaml names no stack: this project's own, recorded in the lockfile"
            if self.lock.stack == self.m.stack
            else ""
        )

    def warn_clone_limit(self) -> None:
        """Once a create was refused at the clone limit, say when this plan cannot fit."""
        limit = self.lock.clone_limit
        if limit is None:
            return
        deletes = sum(1 for a in self.actions if a.kind == "delete")
        creates = sum(1 for a in self.actions if a.kind == "create")
        replaces = [a for a in self.actions if a.kind == "replace"]
        first = sum(1 for a in replaces if a.name not in self.opts.destroy_first)
        room = limit - (len(self.remote) - deletes)
        need = creates + first
        if need <= room:
            return
        missing = need - max(room, 0)
        self.warnings.append(
            f"clone limit: the organisation held {limit} clones when a create was refused at "
            f"its limit; this plan needs {need} new clone{'s' if need != 1 else ''} at once and "
            f"{missing} slot{'s are' if missing != 1 else ' is'} missing: the service will "
            "refuse the creates that do not fit (the first refusal stops the rest: they are "
            "not sent). A replacement makes its new clone first; delete clones, or pass "
            "--destroy-first NAME (that voice has no voiceId between the delete and the create)"
        )

    def existing_count(self) -> int:
        remote = [c for c in self.remote.values() if c.voice_id not in self.safe_deletes]
        if self.m.prune == "all":
            return sum(1 for c in remote if not is_ignored(c, self.m.ignore))
        locked = {e.voice_id for e in self.lock.voices.values()}
        count = 0
        for clone in remote:
            owner = self.owners[clone.voice_id]
            if clone.voice_id in locked or ours(owner, self.m.stack):
                count += 1
        return count

    def warn_unmanaged_legacy(self) -> None:
        """Legacy clones nothing here records, claims or deletes: import them to migrate."""
        deleted = {a.voice_id for a in self.actions if a.kind == "delete"}
        unmanaged = [
            c
            for c in self.remote.values()
            if c.is_legacy
            and c.voice_id not in self.claimed
            and c.voice_id not in self.lock.retired
            and c.voice_id not in self.lock.awaiting
            and c.voice_id not in deleted
            and self.recorded_name(c.voice_id) is None
            and self.owners[c.voice_id] is None
            and not is_ignored(c, self.m.ignore)
        ]
        if unmanaged:
            n = len(unmanaged)
            self.warnings.append(
                f"{n} legacy lightning-large clone{'s are' if n != 1 else ' is'} unmanaged; "
                "`voicectl import` them to migrate"
            )


def make_plan(
    manifest: ManifestLike,
    lock: LockDocument,
    remote: Sequence[Clone],
    options: PlanOptions | None = None,
) -> Plan:
    """Compute the actions that make the organisation match the manifest. Pure."""
    return _Planner(manifest, lock, remote, options or PlanOptions()).run()
