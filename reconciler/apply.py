"""Execute a Plan: order, concurrency, exactly-once creates, journal to the lockfile.

Order: lockfile repairs (move/release/adopt/forget), then deletes (they free the clone limit),
then creates and replacement creates concurrently (the client's adaptive limiter
bounds them), each waiting until its clone is ``completed``; a replacement's old
clone is deleted only after its new clone is completed and recorded.

Invariants kept here (see design.md):
* nothing lost - every voiceId the service returns is journalled (``voices`` or
  ``pending``, through the lockfile's owner) before the next step of its operation;
  a journal that cannot be written stops every operation not yet started;
* exactly-once create - after an ambiguous failure the clone is looked for by its
  ownership tags and spec digest before the create is sent again;
* create before destroy - see above (``--destroy-first NAME`` is the one opt-out);
* one failed operation does not stop the others, except the clone limit: once a
  create is refused with it, no further create is sent (they are reported once,
  as not attempted, with the number of missing slots).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.actions import KIND
from reconciler.api.errors import (
    AmbiguousCreateError,
    CloneLimitError,
    DeleteUnavailableError,
    TimedOutError,
    WavesError,
)
from reconciler.api.models import CURRENT_MODEL, Clone, CloneRequest
from reconciler.lockfile import (
    AwaitingEntry,
    Lockfile,
    LockfileWriteError,
    PendingEntry,
    ReleasedEntry,
    ReplaceIntent,
    RetiredEntry,
    entry_for,
)
from reconciler.ownership import marker_tags, ours, owner_of, recorded_ids
from reconciler.plan import BUSY, Action, Plan, age_of, desired_digest, voice_model

if TYPE_CHECKING:
    from reconciler.manifest.spec import VoiceSpec

NOT_ATTEMPTED = "not attempted: the lockfile cannot be written"
AT_LIMIT = "not attempted: the organisation's clone limit already refused a create"
NOT_STARTED = "not started: the run was interrupted"


class NotStarted(Exception):
    """The run is stopping (an interrupt): an operation that sent nothing yet does not start."""


class ClientLike(Protocol):
    async def list_clones(self, **filters: Any) -> list[Clone]: ...
    async def list_voice_ids(self) -> set[str]: ...
    async def create_clone(
        self, request: CloneRequest, *, before_send: Callable[[], None] | None = None
    ) -> Clone: ...
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
    # --list-grace: a recorded clone younger than this may still be unseen by the list
    list_grace: float = 30.0


@dataclass
class Outcome:
    action: Action
    ok: bool
    elapsed: float
    new_voice_id: str | None = None
    error: str | None = None
    detail: str | None = None
    retired: bool = False
    not_attempted: bool = False  # not sent: the clone limit already refused a create
    awaiting: bool = False  # its delete could not be done: handed off, recorded


@dataclass(frozen=True)
class HandOff:
    """A clone to delete in the dashboard: no delete route works for this key."""

    name: str | None
    display_name: str | None
    voice_id: str
    reason: str  # orphan | duplicate | replaced | migrated | failed

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "voiceId": self.voice_id,
            "reason": self.reason,
        }


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # clones no route could delete, in the order met (recorded in the lockfile)
    awaiting_deletion: list[HandOff] = field(default_factory=list)
    delete_unavailable: str | None = None  # why no route deletes, once known

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, kind: str) -> int:
        """Operations of ``kind`` done (a delete handed off as awaiting, or kept as
        retired by --keep-legacy, is no delete)."""
        return sum(
            1
            for o in self.outcomes
            if o.ok
            and o.action.kind == kind
            and not (kind == "delete" and (o.awaiting or o.retired))
        )

    @property
    def kept_retired(self) -> int:
        """Old clones kept as retired instead of deleted (--keep-legacy): by a planned
        delete, or by an adopt that finished a replacement begun with it."""
        return sum(
            1
            for o in self.outcomes
            if o.ok and ((o.action.kind == "delete" and o.retired) or o.action.keep_old)
        )


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        self.seen: set[str] = set()  # every voiceId its lists showed

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
            self.seen.update(clones)
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


class _AtLimit(Exception):
    """Raised before a create is sent once the clone limit refused one in this run."""


class Applier:
    """Runs one plan. ``voices`` maps names to declared voices (VoiceSpec)."""

    def __init__(
        self,
        *,
        client: ClientLike,
        lock: Lockfile,
        stack: str,
        voices: Mapping[str, VoiceSpec],
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
        self.listed: set[str] = set(self.initial_ids)  # every voiceId a list of this run showed
        self.recorded_before = frozenset(e.voice_id for e in lock.doc.voices.values())
        # voiceId -> when this run first knew it (0: listed at the start). A create
        # remembers the count when it began: a clone known by then is not its own. (A
        # copy of the known set per create costs O(clones) each: quadratic at scale.)
        self.known_since: dict[str, int] = dict.fromkeys(self.initial_ids, 0)
        self._known_count = 0
        # Creates past the limiter's window wait here, before they build a request,
        # open a file or hold a client coroutine: 10,000 queued creates cost a small
        # frame each, not kilobytes. Wide enough that the limiter never waits for it.
        window = getattr(getattr(client, "limiter", None), "max_window", 8)
        self._admission = asyncio.Semaphore(max(32, 4 * window))
        self.ambiguous = 0
        self.result = ApplyResult()
        # Set on an interrupt (Ctrl-C, SIGTERM): no new operation starts; the ones in
        # flight finish and are recorded.
        self.stopping: str | None = None
        self.limit_hit = False  # a create was refused at the clone limit
        self.held = len(self.initial_ids)  # clones the organisation holds (as far as known)

    # -- lockfile journal ------------------------------------------------------------
    def save(self) -> None:
        """Fold the journal into the lockfile (atomic; nothing if unchanged)."""
        self.lock.fold()

    def halted(self) -> LockfileWriteError | None:
        """The write error that stops new operations, once the journal failed."""
        return self.lock.failed

    def stop_if_halted(self) -> None:
        """Called before every request that changes something: nothing unrecordable is sent."""
        failed = self.lock.failed
        if failed is not None:
            raise failed

    # -- running ---------------------------------------------------------------------
    async def run(self) -> ApplyResult:
        if self.plan.has_changes:  # before the first change: prove both files can be written
            # concurrent operations share fsyncs; room is proved for every planned change
            self.lock.begin(group_commit=True, steps=len(self.plan.changes))
        self.watcher = StatusWatcher(
            self.client, initial=self.opts.poll_initial, maximum=self.opts.poll_max
        )
        try:
            self.sync_unchanged()
            self.record_organisation()
            for action in self.plan.of_kind("move", "release", "adopt", "forget"):
                self.repair(action)
            self.drop_stale_intents()
            self.intend_kept_replacements()
            await self.lock.durable()
            deletes = self.plan.of_kind("delete")
            await asyncio.gather(*(self.guard(a, self.delete) for a in deletes))
            makes = self.plan.of_kind("create", "replace")
            await asyncio.gather(*(self.guard(a, self.make) for a in makes))
            if self.ambiguous:
                await self.sweep_strays()
            self.report_limit()
            await self.mark_listed()
        finally:
            await self.watcher.close()
            failed = self.halted()
            if failed is None:
                self.drop_stale_intents()
            try:
                self.save()
            except LockfileWriteError:
                if failed is None:
                    raise
                self.lock.close()  # the journal stays; the next run replays it
        if failed is not None:
            raise failed
        return self.result

    async def mark_listed(self) -> None:
        """Record ``listedAt`` on the entries a list of this run showed: the clones this
        run recorded, and recorded ones still within --list-grace. A clone once listed
        and later missing from two lists is gone at once (``Plan.not_listed_yet``).

        A clone recorded from its create answer (done at once, never waited for in a
        list) is looked for in ONE more list; one the list lags behind stays unmarked.
        """
        now = time.time()
        targets = [
            (name, entry)
            for name, entry in self.lock.doc.voices.items()
            if entry.listed_at is None
            and (entry.voice_id not in self.recorded_before or self._young(entry, now))
        ]
        if not targets:
            return
        self.listed |= self.watcher.seen
        unseen = any(entry.voice_id not in self.listed for _name, entry in targets)
        if unseen and not self.stopping and self.halted() is None:
            with contextlib.suppress(WavesError):  # unmarked: the next plan gives the grace
                self.listed |= await self.client.list_voice_ids()  # its ids alone
        listed = [name for name, entry in targets if entry.voice_id in self.listed]
        self.lock.mark_listed(listed, now_iso())  # one journal line, not one per voice

    def _young(self, entry: Any, now: float) -> bool:
        age = age_of(entry.created_at, now)
        return age is not None and age < self.opts.list_grace

    async def guard(self, action: Action, op: Callable[[Action], Any]) -> None:
        """Run one operation; a failure is recorded, never raised to the others."""
        start = self.clock()
        try:
            if self.halted():
                outcome = Outcome(action, False, 0.0, error=NOT_ATTEMPTED)
            elif self.stopping:
                outcome = Outcome(action, False, 0.0, error=NOT_STARTED)
            else:
                outcome = await op(action)
                await self.lock.durable()  # what the operation recorded, before it is reported
        except NotStarted:
            outcome = Outcome(action, False, 0.0, error=NOT_STARTED)
        except LockfileWriteError as exc:
            outcome = Outcome(action, False, 0.0, error=exc.message)
        except WavesError as exc:
            outcome = Outcome(action, False, 0.0, error=str(exc))
        except Exception as exc:  # a bug must not lose the other operations' results
            outcome = Outcome(action, False, 0.0, error=f"{type(exc).__name__}: {exc}")
        outcome.elapsed = self.clock() - start
        self.result.outcomes.append(outcome)
        self.reporter.finished(outcome)  # a not-attempted one prints nothing there

    # -- identity: organisation, forced-replacement intents, the clone limit ------------
    def record_organisation(self) -> None:
        """The lockfile learns its organisation from the list, when the list says it."""
        orgs = {c.organization_id for c in self.remote_by_id.values() if c.organization_id}
        if len(orgs) == 1 and (self.plan.has_changes or self.lock.exists):
            self.lock.set_organisation(next(iter(orgs)))

    def _keeps(self, action: Action) -> bool | None:
        """True for a legacy replacement whose old clone is kept as retired: this run is
        `migrate --keep-legacy`, or the one that planned it was (its journalled intent)."""
        if not action.legacy:
            return None
        asked = self.lock.doc.keeps_old(action.name or "", action.voice_id)
        return True if self.opts.keep_legacy or asked else None

    def intend_kept_replacements(self) -> None:
        """`migrate --keep-legacy`: before the first create, journal the intent to keep
        the old clone of every legacy replacement planned, so whichever run finishes
        one (after a crash, a Ctrl-C, even a plain apply) keeps its old clone too."""
        for action in self.plan.of_kind("replace"):
            if self._keeps(action) and action.name and action.voice_id:
                forced = action.name in self.opts.forced
                intent = ReplaceIntent(replaces=action.voice_id, forced=forced, keep_old=True)
                self.lock.intend_replacement(action.name, intent)

    def drop_stale_intents(self) -> None:
        """A forced-replacement intent is done once its voice no longer names the old clone."""
        doc = self.lock.doc
        for name, intent in list(doc.replacing.items()):
            entry = doc.voices.get(name)
            if entry is None or entry.voice_id != intent.replaces:
                self.lock.drop_intent(name)

    def report_limit(self) -> None:
        """One note for every create the clone limit stopped, with the slots missing."""
        if not self.limit_hit:
            return
        skipped = [o for o in self.result.outcomes if o.not_attempted]
        refused = [
            o
            for o in self.result.outcomes
            if not o.ok and not o.not_attempted and "clone limit" in (o.error or "")
        ]
        missing = len(skipped) + len(refused)
        line = (
            f"clone limit: the organisation is full (about {self.held} clones); "
            f"{missing} more slot{'s are' if missing != 1 else ' is'} needed"
        )
        if skipped:
            line += f" ({len(skipped)} create{'s' if len(skipped) != 1 else ''} not sent)"
        line += (
            ". Delete clones or raise the limit, or replace with --destroy-first NAME (that "
            "voice has no voiceId between the delete and the create)"
        )
        self.result.notes.append(line)

    def at_limit(self, action: Action) -> Outcome:
        return Outcome(action, False, 0.0, error=AT_LIMIT, not_attempted=True)

    def sync_unchanged(self) -> None:
        """Refresh lockfile fields (status, modelIds...) of voices with nothing to do."""
        for action in self.plan.of_kind("noop", "wait"):
            voice = self.voices.get(action.name or "")
            previous = self.lock.doc.voices.get(action.name or "")
            if voice is None or action.clone is None:
                continue
            if previous is None or previous.voice_id != action.voice_id:
                continue
            self.lock.refresh(
                voice.name,
                entry_for(action.clone, previous, voice=voice, file_known=False),
            )

    def repair(self, action: Action) -> None:
        doc = self.lock.doc
        self.reporter.started(action, KIND[action.kind].verb or "Forgetting")
        start = self.clock()
        if action.kind == "adopt" and action.clone is not None and action.name:
            voice = self.voices[action.name]
            owner = owner_of(action.clone.tags)
            known = bool(owner and owner.spec == action.spec_digest)
            previous = doc.voices.get(action.name)
            entry = entry_for(
                action.clone, previous, voice=voice, digest=action.spec_digest, file_known=known
            )
            with self.lock.step():
                if previous is not None and previous.voice_id != entry.voice_id:
                    old = self.remote_by_id.get(previous.voice_id)
                    if old is not None and old.is_legacy and entry.migrated_from is None:
                        entry = entry.model_copy(update={"migrated_from": previous.voice_id})
                    if action.keep_old:  # migrate --keep-legacy, finished by this run
                        self.retire(previous.voice_id, action.name, entry.voice_id, keep=True)
                    elif previous.voice_id in self._planned_deletes():
                        # Journal it: a crash before its delete must not leave it unrecorded.
                        self.retire(previous.voice_id, action.name, entry.voice_id, keep=False)
                self.lock.adopt(action.name, entry)
        elif action.kind == "forget" and action.voice_id:
            self.lock.forget(action.voice_id)
        elif action.kind == "move" and action.voice_id and action.name:
            # moved: the entry changes its name, nothing else (the voiceId stays)
            old_name = next(
                (n for n, e in doc.voices.items() if e.voice_id == action.voice_id), None
            )
            if old_name is not None:
                self.lock.move(old_name, action.name)
        elif action.kind == "release" and action.voice_id:
            self.lock.release(
                action.voice_id,
                ReleasedEntry(
                    name=action.name or "",
                    display_name=action.display_name,
                    released_at=now_iso(),
                ),
            )
        outcome = Outcome(action, True, self.clock() - start, new_voice_id=action.voice_id)
        self.result.outcomes.append(outcome)
        self.reporter.finished(outcome)

    def _planned_deletes(self) -> set[str]:
        return {a.voice_id for a in self.plan.of_kind("delete") if a.voice_id}

    def retire(self, voice_id: str, name: str, replaced_by: str | None, *, keep: bool) -> None:
        """Journal ``voice_id`` as the retired old clone of ``name``."""
        known = self.lock.doc.retired.get(voice_id)
        clone = self.remote_by_id.get(voice_id)
        self.lock.retire(
            voice_id,
            RetiredEntry(
                name=name,
                replaced_by=replaced_by,
                model_ids=list(clone.models) if clone else (known.model_ids if known else []),
                display_name=clone.display_name
                if clone
                else (known.display_name if known else None),
                retired_at=known.retired_at if known and known.retired_at else now_iso(),
                keep=keep,
            ),
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
            return Outcome(action, True, 0.0, new_voice_id=current.voice_id, retired=True)
        self.stop_if_halted()
        if self.stopping:
            raise NotStarted()
        self.reporter.started(action, KIND["delete"].verb or "")
        try:
            result = await self.client.delete_clone(action.voice_id)
        except DeleteUnavailableError as exc:
            if current is not None and current.voice_id == action.voice_id:
                self.lock.forget_name(action.name or "")  # no longer the voice's clone
            self.hand_off(
                action.voice_id,
                action.name,
                action.display_name,
                action.delete_reason or "orphan",
                exc,
                # a retired old clone's successor, as its retired record names it
                replaced_by=getattr(doc.retired.get(action.voice_id), "replaced_by", None),
            )
            return Outcome(action, True, 0.0, detail="awaiting deletion", awaiting=True)
        self.lock.forget(action.voice_id)
        self.held -= 1
        gone = getattr(result, "already_gone", False)
        return Outcome(action, True, 0.0, detail="was already gone" if gone else None)

    def hand_off(
        self,
        voice_id: str,
        name: str | None,
        display_name: str | None,
        reason: str,
        exc: DeleteUnavailableError,
        *,
        replaced_by: str | None,
    ) -> None:
        """No route deletes: record the clone as awaiting deletion and hand it to the user."""
        clone = self.remote_by_id.get(voice_id)
        display = display_name or (clone.display_name if clone else None)
        self.lock.await_deletion(
            voice_id,
            AwaitingEntry(
                name=name,
                display_name=display,
                reason=reason,
                replaced_by=replaced_by,
                model_ids=list(clone.models) if clone else [],
                since=now_iso(),
                why=exc.reason,
            ),
        )
        self.result.delete_unavailable = exc.reason
        if all(h.voice_id != voice_id for h in self.result.awaiting_deletion):
            self.result.awaiting_deletion.append(HandOff(name, display, voice_id, reason))

    async def make(self, action: Action) -> Outcome:
        """Create (or replace): exactly-once create, wait, record, then delete the old."""
        name = action.name or ""
        voice = self.voices[name]
        digest = action.spec_digest or desired_digest(voice, voice_model(voice, self.opts.model))
        replacing = action.kind == "replace"
        destroy_first = bool(replacing and action.voice_id and name in self.opts.destroy_first)
        if self.limit_hit and not destroy_first:
            return self.at_limit(action)
        verb = KIND[action.kind].verb or ""
        # Queued until its request goes out (the limiter may hold it back): only then
        # "Creating..." is printed and its clock starts.
        queued = getattr(self.reporter, "queued", None)
        if queued is not None:
            queued(action, verb)
        sent = False

        def going_out() -> None:
            nonlocal sent
            if not sent:
                if self.stopping:
                    raise NotStarted()
                sent = True
                self.reporter.started(action, verb)

        if destroy_first:
            going_out()
        # the old clone of a legacy replacement, recorded as the new clone's migratedFrom
        migrated_from = action.voice_id if replacing and action.legacy else None
        if replacing and action.voice_id and name in self.opts.forced:
            self.lock.intend_replacement(
                name, ReplaceIntent(replaces=action.voice_id, keep_old=self._keeps(action))
            )
        if destroy_first:
            assert action.voice_id
            # --destroy-first: the old clone goes first (the voice has no voiceId meanwhile)
            self.stop_if_halted()
            await self.client.delete_clone(action.voice_id)
            self.lock.forget(action.voice_id)
            self.held -= 1
            replacing = False
        try:
            async with self._admission:  # released once the create is answered
                clone = await self.create_once(voice, digest, room=destroy_first, on_send=going_out)
        except _AtLimit:
            return self.at_limit(action)
        except CloneLimitError:
            if not self.limit_hit:
                self.limit_hit = True
                self.lock.set_clone_limit(self.held)
            raise
        self.held += 1
        if clone.organization_id:
            self.lock.set_organisation(clone.organization_id)
        if replacing:
            self.lock.begin_replacement(
                clone.voice_id,
                PendingEntry(
                    name=name,
                    kind="replace",
                    replaces=action.voice_id,
                    spec_digest=digest,
                    file_sha256=voice.file_sha256,
                    created_at=clone.created_at or now_iso(),  # its --list-grace runs from here
                    # the intent to keep the old clone survives a crash before it is retired
                    keep_old=self._keeps(action),
                ),
            )
        else:
            self.lock.record(name, self._entry(clone, voice, digest, migrated_from))
        await self.lock.durable()  # the voiceId is on disk before the next step

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
                try:
                    await self.client.delete_clone(clone.voice_id)
                    self.lock.forget(clone.voice_id)
                except DeleteUnavailableError as exc:
                    self.hand_off(
                        clone.voice_id, name, clone.display_name, "failed", exc, replaced_by=None
                    )
                except WavesError:
                    pass
            else:
                self.lock.record(name, self._entry(clone, voice, digest, migrated_from))
            return Outcome(action, False, 0.0, new_voice_id=clone.voice_id, error=problem)

        # --destroy-first made this a plain create: its legacy origin is recorded all the same
        entry = self._entry(clone, voice, digest, migrated_from)
        if not replacing:
            self.lock.record(name, entry)
            return Outcome(action, True, 0.0, new_voice_id=clone.voice_id)

        old = action.voice_id
        assert old
        keep = bool(self._keeps(action))
        # Journalled as retired in the same step that records the new clone, so a crash
        # before the delete below leaves a record the next run finishes (keep=False).
        with self.lock.step():
            self.lock.record(name, entry)
            self.retire(old, name, clone.voice_id, keep=keep)
            for renamed_from in self.lock.names_of(old):
                # a rename without moved: the old name is no voice's any more (the old
                # clone stays recorded as retired, and awaiting deletion if no route works)
                self.lock.forget_name(renamed_from)
        await self.lock.durable()
        if keep:
            return Outcome(action, True, 0.0, new_voice_id=clone.voice_id, retired=True)
        try:
            self.stop_if_halted()
            await self.client.delete_clone(old)
        except DeleteUnavailableError as exc:
            # The new clone is live and recorded; the old one is handed off (it stays
            # retired with keep=False too, so every plan deletes it once a route works).
            self.hand_off(
                old,
                name,
                None,
                "migrated" if action.legacy else "replaced",
                exc,
                replaced_by=clone.voice_id,
            )
            return Outcome(
                action,
                True,
                0.0,
                new_voice_id=clone.voice_id,
                awaiting=True,
                detail=f"old clone {old} awaiting deletion",
            )
        except WavesError as exc:
            return Outcome(
                action,
                False,
                0.0,
                new_voice_id=clone.voice_id,
                error=f"new clone {clone.voice_id} recorded, but deleting the old {old} failed: "
                f"{exc} (the next apply deletes it)",
            )
        self.lock.forget(old)
        self.held -= 1
        return Outcome(action, True, 0.0, new_voice_id=clone.voice_id)

    def _entry(self, clone: Clone, voice: VoiceSpec, digest: str, migrated_from: str | None = None):
        entry = entry_for(clone, self.lock.doc.voices.get(voice.name), voice=voice, digest=digest)
        if migrated_from is not None:  # the legacy clone this one replaces, for the map
            entry = entry.model_copy(update={"migrated_from": migrated_from})
        return entry

    # -- exactly-once create ------------------------------------------------------------
    def request_for(self, voice: VoiceSpec, digest: str) -> CloneRequest:
        tags = tuple(voice.tags) + tuple(marker_tags(self.stack, voice.name, digest))
        return CloneRequest(
            display_name=voice.display_name,
            file=voice.file,
            language=voice.language,
            description=voice.description,
            accent=voice.accent,
            tags=tags,
            model=voice_model(voice, self.opts.model),
        )

    async def create_once(
        self,
        voice: VoiceSpec,
        digest: str,
        *,
        room: bool = False,
        on_send: Callable[[], None] | None = None,
    ) -> Clone:
        """Create the clone exactly once, even when the service answers ambiguously.

        Once the clone limit refused a create in this run, none is sent any more
        (:class:`_AtLimit`), checked when its concurrency slot is taken; ``room``: this
        create's own delete made room for it (--destroy-first). ``on_send`` runs when a
        try holds its slot and is about to go out.
        """
        request = self.request_for(voice, digest)
        began = self._known_count
        last: AmbiguousCreateError | None = None

        def before_send() -> None:
            self.stop_if_halted()
            if self.limit_hit and not room:
                raise _AtLimit

        for _attempt in range(self.opts.max_create_attempts):
            before_send()

            def slot_taken() -> None:
                before_send()
                if on_send is not None:
                    on_send()

            try:
                clone = await self.client.create_clone(request, before_send=slot_taken)
            except AmbiguousCreateError as exc:
                self.ambiguous += 1
                last = exc
                found = await self.find_created(voice.name, digest, began)
                if found is not None:
                    self.reporter.note(
                        f"{voice.name}: create answered ambiguously ({exc.cause}); "
                        f"found the clone it made: {found.voice_id}"
                    )
                    self.knows(found.voice_id)
                    return found
                if isinstance(exc.cause, TimedOutError):
                    # Unanswered: the service may still be making it (slow cloning), and
                    # not being listed yet proves nothing. Sent again, it would be made
                    # twice; the next run adopts it by its tags, or creates it then.
                    raise AmbiguousCreateError(
                        f"{exc.message}; not listed yet, so not sent again in this run "
                        "(the service may still be making it): the next apply adopts it if "
                        "it was made",
                        cause=exc.cause,
                    ) from None
                self.reporter.note(
                    f"{voice.name}: create answered ambiguously ({exc.cause}) and no clone "
                    "appeared; sending it again"
                )
                continue
            self.knows(clone.voice_id)
            return clone
        assert last is not None
        raise last

    def knows(self, voice_id: str) -> None:
        """This run now knows the clone ``voice_id`` (made or found by one of its creates)."""
        if voice_id not in self.known_since:
            self._known_count += 1
            self.known_since[voice_id] = self._known_count

    def known_by(self, voice_id: str, count: int) -> bool:
        """Was ``voice_id`` known once this run knew ``count`` clones of its own?"""
        since = self.known_since.get(voice_id)
        return since is not None and since <= count

    async def find_created(self, name: str, digest: str, began: int) -> Clone | None:
        """Look for a clone with this create's ownership tags that was not known when
        it ``began`` (:meth:`knows` had counted that many clones).

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
                self.listed.update(c.voice_id for c in clones)
                for clone in clones:
                    owner = owner_of(clone.tags)
                    if (
                        ours(owner, self.stack, name)
                        and owner.spec == digest
                        and not self.known_by(clone.voice_id, began)
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
        n = self.ambiguous
        self.result.notes.append(
            f"{n} create{'s were' if n != 1 else ' was'} answered ambiguously: a clone the "
            "list does not show yet (it can lag behind creates) is found by the next plan, "
            "which deletes a duplicate; run `voicectl plan` again shortly"
        )
        try:
            clones = await self.client.list_clones()
        except WavesError as exc:
            self.result.notes.append(f"could not check for duplicate clones: {exc}")
            return
        self.listed.update(c.voice_id for c in clones)
        doc = self.lock.doc
        recorded = recorded_ids(doc)
        for clone in clones:
            owner = owner_of(clone.tags)
            if not ours(owner, self.stack) or owner.name not in self.voices:
                continue
            if clone.voice_id in recorded or clone.status in BUSY:
                continue
            entry = doc.voices.get(owner.name)
            if entry is None or entry.voice_id not in self.known_since:
                # no clone of this run serves the voice: this one is no duplicate but
                # the clone of a create that went unanswered; the next plan adopts it
                continue
            if clone.voice_id in self.initial_ids:
                continue  # existed before this run: the plan decides about it
            try:
                await self.client.delete_clone(clone.voice_id)
                self.result.notes.append(
                    f"{owner.name}: deleted duplicate {clone.voice_id} left by an ambiguous create"
                )
            except DeleteUnavailableError as exc:
                self.hand_off(
                    clone.voice_id,
                    owner.name,
                    clone.display_name,
                    "duplicate",
                    exc,
                    replaced_by=None,
                )
            except WavesError as exc:
                self.result.notes.append(
                    f"{owner.name}: duplicate {clone.voice_id} could not be deleted: {exc}"
                )


def _merge(created: Clone, listed: Clone) -> Clone:
    """The listed clone's fields, keeping the create answer's samples if the list has none."""
    if listed.samples or not created.samples:
        return listed
    return dataclasses.replace(listed, samples=created.samples)
