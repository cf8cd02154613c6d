"""Execute a Plan: order, concurrency, exactly-once creates, journal to the lockfile.

Order: lockfile repairs (adopt/forget), then deletes (they free the clone limit),
then creates and replacement creates concurrently (the client's adaptive limiter
bounds them), each waiting until its clone is ``completed``; a replacement's old
clone is deleted only after its new clone is completed and recorded.

Invariants kept here (see design.md):
* nothing lost - every voiceId the service returns is written to the lockfile
  (``voices`` or the ``pending`` journal) before the next step of its operation;
* exactly-once create - after an ambiguous failure the clone is looked for by its
  ownership tags and spec digest before the create is sent again;
* create before destroy - see above;
* one failed operation does not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler.api.errors import AmbiguousCreateError, CloneLimitError, WavesError
from reconciler.api.models import CURRENT_MODEL, Clone, CloneRequest
from reconciler.lockfile import (
    LockEntry,
    Lockfile,
    LockSample,
    PendingEntry,
    ReleasedEntry,
    ReplaceIntent,
    RetiredEntry,
)
from reconciler.ownership import marker_tags, owner_of
from reconciler.plan import BUSY, Action, Plan, VoiceLike, desired_digest


class ClientLike(Protocol):
    async def list_clones(self, **filters: Any) -> list[Clone]: ...
    async def create_clone(self, request: CloneRequest) -> Clone: ...
    async def delete_clone(self, voice_id: str) -> Any: ...


class Reporter(Protocol):
    """Receives progress: one call when an operation starts, one when it ends."""

    def started(self, action: Action, verb: str) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...
    def note(self, message: str) -> None: ...


class SilentReporter:
    def started(self, action: Action, verb: str) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass
class ApplyOptions:
    wait_timeout: float = 600.0  # seconds a new clone may stay pending/processing
    poll_initial: float = 0.25
    poll_max: float = 5.0
    confirm_window: float = 5.0  # how long to look for the clone of an ambiguous create
    max_create_attempts: int = 4
    keep_legacy: bool = False  # keep replaced legacy clones, recorded as retired
    model: str = CURRENT_MODEL
    # --destroy-first NAME: the old clone of these replacements is deleted before the create
    destroy_first: frozenset[str] = frozenset()
    # --replace NAME: recorded as an intent before the create, so an interruption keeps it
    forced: frozenset[str] = frozenset()
    # creates in flight at once (as --parallelism): a create waiting for its turn is
    # not sent once the clone limit has refused one
    create_parallelism: int = 8


@dataclass
class Outcome:
    action: Action
    ok: bool
    elapsed: float
    new_voice_id: str | None = None
    error: str | None = None
    detail: str | None = None
    retired: bool = False
    not_attempted: bool = False  # skipped: the clone limit already refused a create


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action.kind == kind)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def entry_for(
    clone: Clone,
    voice: VoiceLike,
    digest: str | None,
    previous: LockEntry | None = None,
    *,
    file_known: bool = True,
) -> LockEntry:
    """The lockfile entry for ``clone`` made from ``voice``."""
    samples = [LockSample(text=s.text, audio_url=s.audio_url) for s in clone.samples]
    same = previous is not None and previous.voice_id == clone.voice_id
    if not samples and same:
        samples = list(previous.samples)
    file_sha = voice.file_sha256 if file_known else (previous.file_sha256 if same else None)
    migrated_from = previous.migrated_from if previous is not None else None
    legacy_before = previous is not None and _legacy_models(previous.model_ids)
    if previous is not None and legacy_before and not same and clone.is_current:
        migrated_from = previous.voice_id
    return LockEntry(
        voice_id=clone.voice_id,
        display_name=clone.display_name or voice.display_name,
        language=clone.language or (previous.language if same else None) or voice.language,
        model_ids=clone.models or (previous.model_ids if same else []),
        file_sha256=file_sha,
        spec_digest=digest if file_known else (previous.spec_digest if same else None),
        status=clone.status or (previous.status if same else None),
        created_at=clone.created_at or (previous.created_at if same else None),
        protect=voice.protect,
        samples=samples,
        migrated_from=migrated_from,
    )


def _legacy_models(model_ids: list[str]) -> bool:
    """True for recorded modelIds that name models but not lightning-v3.1."""
    return bool(model_ids) and CURRENT_MODEL not in model_ids


class StatusWatcher:
    """Waits for clones to leave pending/processing, with ONE shared polling loop.

    However many operations wait, one list call per interval serves them all;
    the interval grows from ``initial`` to ``maximum`` (backoff).
    """

    def __init__(self, client: ClientLike, *, initial: float, maximum: float):
        self.client = client
        self.initial = initial
        self.maximum = maximum
        self._waiters: dict[str, list[asyncio.Future[Clone]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def wait(self, voice_id: str, timeout: float) -> Clone | None:
        """The clone once completed or failed; None if ``timeout`` passes first."""
        fut: asyncio.Future[Clone] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(voice_id, []).append(fut)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            futs = self._waiters.get(voice_id, [])
            if fut in futs:
                futs.remove(fut)
            if not futs:
                self._waiters.pop(voice_id, None)

    async def _poll(self) -> None:
        delay = self.initial
        while self._waiters:
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
                delay = self.initial  # a new waiter: look soon
            try:
                clones = {c.voice_id: c for c in await self.client.list_clones()}
            except WavesError:
                delay = min(delay * 2, self.maximum)
                continue
            for voice_id, futs in list(self._waiters.items()):
                clone = clones.get(voice_id)
                if clone is not None and clone.status not in BUSY:
                    for fut in futs:
                        if not fut.done():
                            fut.set_result(clone)
            delay = min(delay * 1.6, self.maximum)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _NotAttempted(Exception):
    """A create not sent: the clone limit already refused one in this run."""


class Applier:
    """Runs one plan. ``voices`` maps names to declared voices (VoiceSpec)."""

    def __init__(
        self,
        *,
        client: ClientLike,
        lock: Lockfile,
        stack: str,
        voices: dict[str, VoiceLike],
        plan: Plan,
        remote: Iterable[Clone],
        options: ApplyOptions | None = None,
        reporter: Reporter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.lock = lock
        self.stack = stack
        self.voices = voices
        self.plan = plan
        self.opts = options or ApplyOptions()
        self.reporter = reporter or SilentReporter()
        self.clock = clock
        self.remote_by_id: dict[str, Clone] = {c.voice_id: c for c in remote}
        self.initial_ids: frozenset[str] = frozenset(self.remote_by_id)
        self.known_ids: set[str] = set(self.initial_ids)
        self.ambiguous = 0
        self.result = ApplyResult()
        # The clone limit: once a create is refused with it, no further create is sent.
        self.limit_hit = False
        self.held = len(self.initial_ids)  # clones the organisation holds now (estimate)
        self.create_gate = asyncio.Semaphore(max(1, self.opts.create_parallelism))

    # -- lockfile journal ------------------------------------------------------------
    def save(self) -> None:
        """Write the lockfile now (atomic; nothing if unchanged)."""
        self.lock.save()

    def forget_voice_id(self, voice_id: str) -> None:
        doc = self.lock.doc
        for name, entry in list(doc.voices.items()):
            if entry.voice_id == voice_id:
                del doc.voices[name]
        doc.pending.pop(voice_id, None)
        doc.retired.pop(voice_id, None)
        doc.released.pop(voice_id, None)

    # -- running ---------------------------------------------------------------------
    async def run(self) -> ApplyResult:
        self.watcher = StatusWatcher(
            self.client, initial=self.opts.poll_initial, maximum=self.opts.poll_max
        )
        try:
            self.sync_unchanged()
            self.record_organisation()
            for action in self.plan.of_kind("move", "release", "adopt", "forget"):
                self.repair(action)
            self.drop_stale_intents()
            self.save()
            deletes = self.plan.of_kind("delete")
            await asyncio.gather(*(self.guard(a, self.delete) for a in deletes))
            makes = self.plan.of_kind("create", "replace")
            await asyncio.gather(*(self.guard(a, self.make) for a in makes))
            if self.ambiguous:
                await self.sweep_strays()
            self.report_limit()
        finally:
            await self.watcher.close()
            self.drop_stale_intents()
            self.save()
        return self.result

    def not_attempted(self, action: Action) -> Outcome:
        return Outcome(
            action,
            False,
            0.0,
            error="not attempted: the organisation's clone limit already refused a create",
            not_attempted=True,
        )

    def record_organisation(self) -> None:
        """The lockfile learns its organisation from the list, when the list says it."""
        orgs = {c.organization_id for c in self.remote_by_id.values() if c.organization_id}
        if len(orgs) == 1:
            self.lock.doc.organization_id = next(iter(orgs))

    def drop_stale_intents(self) -> None:
        """A forced-replacement intent is done once its voice no longer names the old clone."""
        doc = self.lock.doc
        for name, intent in list(doc.replacing.items()):
            entry = doc.voices.get(name)
            if entry is None or entry.voice_id != intent.replaces:
                del doc.replacing[name]

    def report_limit(self) -> None:
        skipped = [o for o in self.result.outcomes if o.not_attempted]
        if not self.limit_hit:
            return
        refused = [o for o in self.result.outcomes if not o.ok and not o.not_attempted
                   and o.error and "clone limit" in o.error]
        missing = len(skipped) + len(refused)
        names = ", ".join(sorted(o.action.name or "?" for o in skipped))
        line = (
            f"clone limit: the organisation is full (it holds about {self.held} clones); "
            f"{missing} more slot{'s are' if missing != 1 else ' is'} needed"
        )
        if skipped:
            line += f"; {len(skipped)} create{'s' if len(skipped) != 1 else ''} not attempted: "
            line += names
        line += (
            ". Delete clones (or raise the limit), or pass --destroy-first NAME for a "
            "replacement"
        )
        self.result.notes.append(line)

    async def guard(self, action: Action, op: Callable[[Action], Any]) -> None:
        """Run one operation; a failure is recorded, never raised to the others."""
        start = self.clock()
        try:
            outcome = await op(action)
        except WavesError as exc:
            outcome = Outcome(action, False, 0.0, error=str(exc))
        except Exception as exc:  # a bug must not lose the other operations' results
            outcome = Outcome(action, False, 0.0, error=f"{type(exc).__name__}: {exc}")
        outcome.elapsed = self.clock() - start
        self.result.outcomes.append(outcome)
        if not outcome.not_attempted:  # those are reported once, together (report_limit)
            self.reporter.finished(outcome)

    def sync_unchanged(self) -> None:
        """Refresh lockfile fields (status, modelIds...) of voices with nothing to do."""
        for action in self.plan.of_kind("noop", "wait"):
            voice = self.voices.get(action.name or "")
            previous = self.lock.doc.voices.get(action.name or "")
            if voice is None or action.clone is None:
                continue
            if previous is None or previous.voice_id != action.voice_id:
                continue
            self.lock.doc.voices[voice.name] = entry_for(
                action.clone, voice, previous.spec_digest, previous, file_known=False
            )

    def repair(self, action: Action) -> None:
        doc = self.lock.doc
        verbs = {"adopt": "Adopting", "move": "Moving", "release": "Releasing"}
        self.reporter.started(action, verbs.get(action.kind, "Forgetting"))
        start = self.clock()
        if action.kind == "adopt" and action.clone is not None and action.name:
            voice = self.voices[action.name]
            owner = owner_of(action.clone.tags)
            known = bool(owner and owner.spec == action.spec_digest)
            previous = doc.voices.get(action.name)
            entry = entry_for(action.clone, voice, action.spec_digest, previous, file_known=known)
            if previous is not None and previous.voice_id != entry.voice_id:
                old = self.remote_by_id.get(previous.voice_id)
                if old is not None and old.is_legacy and entry.migrated_from is None:
                    entry.migrated_from = previous.voice_id
                if previous.voice_id in self._planned_deletes():
                    # Journal it: a crash before its delete must not leave it unrecorded.
                    self.retire(previous.voice_id, action.name, entry.voice_id, keep=False)
            doc.voices[action.name] = entry
            doc.pending.pop(action.clone.voice_id, None)
        elif action.kind == "forget" and action.voice_id:
            self.forget_voice_id(action.voice_id)
        elif action.kind == "move" and action.voice_id and action.name:
            # moved: the entry changes its name, nothing else (the voiceId stays)
            for old, entry in list(doc.voices.items()):
                if entry.voice_id == action.voice_id and old != action.name:
                    doc.voices[action.name] = doc.voices.pop(old)
                    if old in doc.replacing:
                        doc.replacing[action.name] = doc.replacing.pop(old)
            for table in (doc.pending, doc.retired):
                for vid, item in list(table.items()):
                    if item.name != action.name and vid == action.voice_id:
                        table[vid] = item.model_copy(update={"name": action.name})
        elif action.kind == "release" and action.voice_id:
            self.forget_voice_id(action.voice_id)
            doc.released[action.voice_id] = ReleasedEntry(
                name=action.name or "",
                display_name=action.display_name,
                released_at=_now_iso(),
            )
        outcome = Outcome(action, True, self.clock() - start, new_voice_id=action.voice_id)
        self.result.outcomes.append(outcome)
        self.reporter.finished(outcome)

    def _planned_deletes(self) -> set[str]:
        return {a.voice_id for a in self.plan.of_kind("delete") if a.voice_id}

    def retire(self, voice_id: str, name: str, replaced_by: str | None, *, keep: bool) -> None:
        """Record ``voice_id`` as the retired old clone of ``name`` (in memory; save after)."""
        doc = self.lock.doc
        known = doc.retired.get(voice_id)
        clone = self.remote_by_id.get(voice_id)
        doc.retired[voice_id] = RetiredEntry(
            name=name,
            replaced_by=replaced_by,
            model_ids=list(clone.models) if clone else (known.model_ids if known else []),
            display_name=clone.display_name if clone else (known.display_name if known else None),
            retired_at=known.retired_at if known and known.retired_at else _now_iso(),
            keep=keep,
        )

    async def delete(self, action: Action) -> Outcome:
        assert action.voice_id
        doc = self.lock.doc
        current = doc.voices.get(action.name or "")
        if (
            self.opts.keep_legacy
            and action.legacy
            and current is not None
            and current.voice_id != action.voice_id
        ):
            # migrate --keep-legacy: a superseded legacy clone is kept, not deleted.
            self.reporter.started(action, "Retiring")
            self.retire(action.voice_id, action.name or "", current.voice_id, keep=True)
            self.save()
            return Outcome(action, True, 0.0, new_voice_id=current.voice_id, retired=True)
        self.reporter.started(action, "Destroying")
        result = await self.client.delete_clone(action.voice_id)
        self.forget_voice_id(action.voice_id)
        self.held -= 1
        self.save()
        gone = getattr(result, "already_gone", False)
        return Outcome(action, True, 0.0, detail="was already gone" if gone else None)

    async def make(self, action: Action) -> Outcome:
        """Create (or replace): exactly-once create, wait, record, then delete the old."""
        name = action.name or ""
        voice = self.voices[name]
        digest = action.spec_digest or desired_digest(voice, self.opts.model)
        replacing = action.kind == "replace"
        doc = self.lock.doc
        destroy_first = bool(replacing and action.voice_id and name in self.opts.destroy_first)
        if self.limit_hit and not destroy_first:
            return self.not_attempted(action)
        self.reporter.started(action, "Replacing" if replacing else "Creating")
        if replacing and action.voice_id and name in self.opts.forced:
            doc.replacing[name] = ReplaceIntent(replaces=action.voice_id)
            self.save()  # the intent is durable before the create
        if destroy_first:
            assert action.voice_id
            # --destroy-first: the old clone goes first (the voice has no voiceId meanwhile)
            await self.client.delete_clone(action.voice_id)
            self.forget_voice_id(action.voice_id)
            self.held -= 1
            self.save()
            action = Action(
                "create",
                name,
                reasons=action.reasons,
                display_name=action.display_name,
                spec_digest=action.spec_digest,
            )
            replacing = False
        try:
            async with self.create_gate:
                if self.limit_hit and not destroy_first:  # its own delete made room
                    raise _NotAttempted
                clone = await self.create_once(voice, digest)
        except _NotAttempted:
            return self.not_attempted(action)
        except CloneLimitError:
            if not self.limit_hit:
                self.limit_hit = True
                doc.clone_limit = self.held
                self.save()
            raise
        self.held += 1
        if clone.organization_id:
            doc.organization_id = clone.organization_id
        if replacing:
            doc.pending[clone.voice_id] = PendingEntry(
                name=name,
                kind="replace",
                replaces=action.voice_id,
                spec_digest=digest,
                file_sha256=voice.file_sha256,
            )
        else:
            doc.voices[name] = entry_for(clone, voice, digest, doc.voices.get(name))
        self.save()

        if clone.status in BUSY or clone.status is None:
            settled = await self.watcher.wait(clone.voice_id, self.opts.wait_timeout)
            if settled is None:
                return Outcome(
                    action,
                    False,
                    0.0,
                    new_voice_id=clone.voice_id,
                    error=f"clone {clone.voice_id} still {clone.status or 'pending'} after "
                    f"{self.opts.wait_timeout:g}s (--wait-timeout); run apply again later",
                )
            clone = _merge(clone, settled)
        problem = None
        if clone.status == "failed":
            problem = f"the service reports clone {clone.voice_id} as failed"
        elif not clone.is_current:
            models = ", ".join(clone.models) or "none"
            problem = (
                f"clone {clone.voice_id} is not lightning-v3.1 compatible (modelIds: {models})"
            )
        if problem:
            if replacing:  # keep the old clone; drop the useless new one
                with contextlib.suppress(WavesError):
                    await self.client.delete_clone(clone.voice_id)
                    self.forget_voice_id(clone.voice_id)
            else:
                doc.voices[name] = entry_for(clone, voice, digest, doc.voices.get(name))
            self.save()
            return Outcome(action, False, 0.0, new_voice_id=clone.voice_id, error=problem)

        previous = doc.voices.get(name)
        doc.voices[name] = entry_for(clone, voice, digest, previous)
        if replacing and action.legacy and action.voice_id:
            doc.voices[name].migrated_from = action.voice_id
        doc.pending.pop(clone.voice_id, None)
        if not replacing:
            self.save()
            return Outcome(action, True, 0.0, new_voice_id=clone.voice_id)

        old = action.voice_id
        assert old
        keep = self.opts.keep_legacy and action.legacy
        # Journalled as retired in the same write that records the new clone, so a crash
        # before the delete below leaves a record the next run finishes (keep=False).
        self.retire(old, name, clone.voice_id, keep=keep)
        self.save()
        if keep:
            return Outcome(action, True, 0.0, new_voice_id=clone.voice_id, retired=True)
        try:
            await self.client.delete_clone(old)
        except WavesError as exc:
            return Outcome(
                action,
                False,
                0.0,
                new_voice_id=clone.voice_id,
                error=f"new clone {clone.voice_id} recorded, but deleting the old {old} failed: "
                f"{exc} (the next apply deletes it)",
            )
        self.forget_voice_id(old)
        self.held -= 1
        self.save()
        return Outcome(action, True, 0.0, new_voice_id=clone.voice_id)

    # -- exactly-once create ------------------------------------------------------------
    def request_for(self, voice: VoiceLike, digest: str) -> CloneRequest:
        tags = tuple(voice.tags) + tuple(marker_tags(self.stack, voice.name, digest))
        return CloneRequest(
            display_name=voice.display_name,
            file=voice.file,  # type: ignore[attr-defined]
            language=voice.language,
            description=voice.description,
            accent=voice.accent,
            tags=tags,
            model=self.opts.model,
        )

    async def create_once(self, voice: VoiceLike, digest: str) -> Clone:
        """Create the clone exactly once, even when the service answers ambiguously."""
        request = self.request_for(voice, digest)
        before = set(self.known_ids)
        last: AmbiguousCreateError | None = None
        for _attempt in range(self.opts.max_create_attempts):
            try:
                clone = await self.client.create_clone(request)
            except AmbiguousCreateError as exc:
                self.ambiguous += 1
                last = exc
                found = await self.find_created(voice.name, digest, before)
                if found is not None:
                    self.reporter.note(
                        f"{voice.name}: create answered ambiguously ({exc.cause}); "
                        f"found the clone it made: {found.voice_id}"
                    )
                    self.known_ids.add(found.voice_id)
                    return found
                self.reporter.note(
                    f"{voice.name}: create answered ambiguously ({exc.cause}) and no clone "
                    "appeared; sending it again"
                )
                continue
            self.known_ids.add(clone.voice_id)
            return clone
        assert last is not None
        raise last

    async def find_created(self, name: str, digest: str, before: set[str]) -> Clone | None:
        """Look for a clone with this create's ownership tags that was not there before.

        The list may lag behind a create, so it is polled for ``confirm_window``
        seconds before the clone is declared absent.
        """
        deadline = self.clock() + self.opts.confirm_window
        delay = 0.1
        failures_after_deadline = 0
        while True:
            try:
                clones = await self.client.list_clones()
            except WavesError as exc:
                # Absence may only be concluded from a list that worked. If listing
                # keeps failing, the outcome stays unknown: fail this operation rather
                # than risk a duplicate (the next run adopts the clone by its tags).
                if self.clock() >= deadline:
                    failures_after_deadline += 1
                    if failures_after_deadline >= 3:
                        raise AmbiguousCreateError(
                            f"create {name!r}: the outcome is unknown and the clones could "
                            f"not be listed to find out ({exc}); run apply again",
                            cause=exc,
                        ) from exc
                clones = None
            if clones is not None:
                for clone in clones:
                    owner = owner_of(clone.tags)
                    if (
                        owner
                        and owner.stack == self.stack
                        and owner.name == name
                        and owner.spec == digest
                        and clone.voice_id not in before
                    ):
                        return clone
                if self.clock() >= deadline:
                    return None
            remaining = deadline - self.clock()
            await asyncio.sleep(min(delay, remaining) if remaining > 0 else delay)
            delay = min(delay * 2, 1.0)

    async def sweep_strays(self) -> None:
        """After ambiguous creates, delete clones of ours that no record knows.

        A create that was answered with an error but happened anyway, and then was
        sent again, leaves a duplicate; it carries our ownership tags but appears in
        neither the lockfile nor the pending journal.
        """
        try:
            clones = await self.client.list_clones()
        except WavesError as exc:
            self.result.notes.append(f"could not check for duplicate clones: {exc}")
            return
        doc = self.lock.doc
        recorded = {e.voice_id for e in doc.voices.values()} | set(doc.pending) | set(doc.retired)
        for clone in clones:
            owner = owner_of(clone.tags)
            if not owner or owner.stack != self.stack or owner.name not in self.voices:
                continue
            if clone.voice_id in recorded or clone.status in BUSY:
                continue
            if clone.voice_id in self.initial_ids:
                continue  # existed before this run: the plan decides about it
            try:
                await self.client.delete_clone(clone.voice_id)
                self.result.notes.append(
                    f"{owner.name}: deleted duplicate {clone.voice_id} left by an ambiguous create"
                )
            except WavesError as exc:
                self.result.notes.append(
                    f"{owner.name}: duplicate {clone.voice_id} could not be deleted: {exc}"
                )


def _merge(created: Clone, listed: Clone) -> Clone:
    """The listed clone's fields, keeping the create answer's samples if the list has none."""
    if listed.samples or not created.samples:
        return listed
    return listed.model_copy(update={"samples": created.samples})
