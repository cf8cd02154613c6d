"""The lockfile's ONE owner: every change to a lockfile document goes through here.

A :class:`Lockfile` is the file on disk plus its current document. Callers read
``lock.doc`` freely but never change it; they call the transition methods
(:meth:`record`, :meth:`begin_replacement`, :meth:`retire`, :meth:`forget`...)
which change the document AND, during a run (after :meth:`begin`), append the
change to the journal, fsync'd, before returning. So a voiceId the service
returned is durable before the next step of its operation, at O(1) cost.

:meth:`fold` writes the deterministic lockfile once (temp file + fsync + rename,
only if its content changed: a no-op run leaves it byte-identical) and removes
the journal. :meth:`load` replays a journal left by a crashed run, so every
reader sees what that run recorded; the next run that writes folds it.

Group steps that must land together with ``with lock.step():`` (one journal line).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import UserError
from reconciler.fsutil import atomic_write, probe_write, read_regular
from reconciler.lockfile import journal
from reconciler.lockfile.journal import Journal, LockfileWriteError, Op, write_error
from reconciler.lockfile.model import (
    AwaitingEntry,
    LockDocument,
    LockEntry,
    PendingEntry,
    ReleasedEntry,
    ReplaceIntent,
    RetiredEntry,
    chunks,
    content_digest,
    new_document,
    parse,
)
from reconciler.text import where_not_utf8

# the document's maps a step may change, and the model of their values
SECTIONS: dict[str, Any] = {  # models, and LockEntry: a dataclass with their methods
    "voices": LockEntry,
    "pending": PendingEntry,
    "retired": RetiredEntry,
    "released": ReleasedEntry,
    "replacing": ReplaceIntent,
    "awaiting": AwaitingEntry,
}
# the document's single values a step may set (["meta", field, value]), and their type
META: dict[str, type] = {"organization_id": str, "clone_limit": int}


def _dump(value: Any) -> Any:
    """JSON data of a model (ops hold the models; the journal stores their data)."""
    if isinstance(value, _Listed):
        data = value.entry.model_dump(by_alias=True, mode="json")
        data["listedAt"] = value.stamp
        return data
    return value.model_dump(by_alias=True, mode="json")


class _Listed:
    """An entry as it is once its ``listedAt`` is ``stamp``: journalled before it changes."""

    __slots__ = ("entry", "stamp")

    def __init__(self, entry: LockEntry, stamp: str):
        self.entry, self.stamp = entry, stamp


def _checked(found: journal.Replay, line: int, ops: list[Any]) -> list[Op]:
    """A journalled step's ops as :meth:`Lockfile._apply` takes them (each value of a
    ``set`` made its model); JournalDamaged naming the line for one voicectl never wrote."""
    checked = []
    for number, op in enumerate(ops, start=1):
        try:
            checked.append(_checked_op(op))
        except ValueError as exc:
            what = f"operation {number} ({journal.brief(op)}): {exc}"
            raise journal.damaged(found.path, line, what) from None
    return checked


def _checked_op(op: Any) -> Op:
    if not (isinstance(op, list) and op and isinstance(op[0], str)):
        raise ValueError("not a list starting with the operation's kind")
    kind, args = op[0], op[1:]
    if kind == "stack":
        if len(args) != 1 or not isinstance(args[0], str):
            raise ValueError('expected ["stack", NAME]')
        return op
    if kind == "meta":
        if len(args) != 2 or args[0] not in META:
            raise ValueError(f'expected ["meta", FIELD, VALUE], FIELD one of {", ".join(META)}')
        if args[1] is not None and type(args[1]) is not META[args[0]]:  # exactly: no bool
            raise ValueError(f"{args[0]} must be {META[args[0]].__name__} or null")
        return op
    if kind not in ("set", "del"):
        raise ValueError(f"unknown operation {journal.brief(kind)}")
    if len(args) != (3 if kind == "set" else 2):
        shape = "SECTION, KEY, VALUE" if kind == "set" else "SECTION, KEY"
        raise ValueError(f'expected ["{kind}", {shape}]')
    section, key = args[0], args[1]
    if section not in SECTIONS:
        raise ValueError(f"unknown section {journal.brief(section)} (one of {', '.join(SECTIONS)})")
    if not isinstance(key, str):
        raise ValueError("the key is not text")
    if kind == "del":
        return op
    try:
        value = SECTIONS[section].model_validate(args[2])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: {first['msg']}" if where else first["msg"]) from None
    return [kind, section, key, value]


# Bytes one operation adds at most: its journal line(s) (~1.4 kB for a create with its
# samples) and its entry in the folded lockfile (~0.9 kB), rounded up.
ROOM_PER_STEP = 3072


class Lockfile:
    """A lockfile on disk and its current document (read ``doc``; change it only via methods)."""

    def __init__(self, path: Path, doc: LockDocument, *, exists: bool):
        self.path = path
        self.doc = doc
        self.exists = exists
        self.journal_path = journal.journal_path_for(path)
        # What the file says (serial aside), taken just before the first change: a run
        # that changes nothing never dumps the document. ``_pristine``: no change yet.
        self._saved: bytes | None = None
        self._pristine = exists
        self._journal: Journal | None = None
        self._batch: list[Op] | None = None
        self.recovered = 0  # steps replayed from a crashed run's journal
        self._stale_journal = False
        self._names: dict[str, set[str]] | None = None  # voiceId -> names (built on demand)
        self._group = False

    def __repr__(self) -> str:
        return f"Lockfile({str(self.path)!r}, serial={self.doc.serial})"

    @property
    def known(self) -> bool:
        """Something is recorded: the file, or a crashed first run's journal (replayed:
        its voiceIds are in ``doc`` before any file holds them)."""
        return self.exists or self.recovered > 0

    # -- reading -----------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, *, stack: str | None = "default") -> Lockfile:
        """Read ``path`` (a missing file gives a new, empty document, of ``stack`` or, when
        it is None, of a stack of its own) and replay its journal."""
        path = Path(path)
        try:
            raw = read_regular(path)
        except FileNotFoundError:
            lock = cls(path, new_document(stack), exists=False)
        except OSError as exc:
            raise UserError(f"{path}: cannot read the lockfile: {exc.strerror or exc}") from exc
        else:
            if raw[:3] == b"\xef\xbb\xbf":  # a BOM (Windows editors): read past it;
                raw = raw[3:]  # the next write leaves it out
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                at, byte = where_not_utf8(raw, exc)
                raise UserError(f"{path}:{at}: the lockfile is not UTF-8 text ({byte})") from None
            lock = cls(path, parse(text, source=str(path)), exists=True)
        found = journal.read(lock.journal_path)
        old_place = journal.journal_beside_link(path)
        if found is None and old_place is not None and old_place != lock.journal_path:
            found = journal.read(old_place)
            if found is not None:  # replayed, folded and removed from where it is
                lock.journal_path = old_place
        lock._replay(found)
        return lock

    def _replay(self, found: journal.Replay | None) -> None:
        if found is None:
            self._stale_journal = self.journal_path.exists()
            return
        doc = self.doc
        if self.exists and (found.lineage != doc.lineage or found.serial != doc.serial):
            self._stale_journal = True  # already folded (or another lockfile's): ignore
            return
        if found.damage is not None:
            raise found.damage
        # every step checked before any is applied: a damaged one stops the load whole
        steps = [_checked(found, line, ops) for line, ops in enumerate(found.steps, start=2)]
        if not self.exists:  # the crashed run was writing a new lockfile
            self.doc = doc = doc.model_copy(
                update={"lineage": found.lineage, "serial": found.serial, "stack": found.stack}
            )
        for ops in steps:
            for op in ops:
                self._apply(op)
        self.recovered = len(found.steps)
        self._stale_journal = True  # replayed into memory; the next fold removes it

    # -- the run: journal, then fold ---------------------------------------------------
    def begin(self, *, group_commit: bool = False, steps: int = 0) -> None:
        """Prove the journal and the lockfile can be written, then journal every change.

        Called before the first request that changes anything. A state recovered
        from a crashed run's journal is folded first. Raises a one-line
        :class:`LockfileWriteError` naming the path that cannot be written.

        ``steps``: about how many operations will be journalled (the plan's changes),
        for the room the journal and the new lockfile need on a nearly full disk.

        Each change is fsync'd before its method returns; with ``group_commit``
        it is only written, and the (async) caller must ``await lock.durable()``
        before the next step of that operation - concurrent operations then
        share fsyncs.
        """
        self._group = group_commit
        if self._journal is not None:
            return
        if self.recovered or self._stale_journal:
            self.fold()
        self._probe_lockfile(steps)
        self._journal = Journal.create(
            self.journal_path,
            lineage=self.doc.lineage,
            serial=self.doc.serial,
            stack=self.doc.stack,
        )

    def _probe_lockfile(self, steps: int = 0) -> None:
        """Prove the lockfile can be replaced (not read-only, immutable or bind-mounted),
        and write (and remove) a temp file in its folder as large as what the run needs
        there at once: the old lockfile's size again, and room for ``steps`` journal
        lines and the entries they add."""
        try:
            size = self.path.stat().st_size + 4096
        except OSError:
            size = 4096
        size += steps * ROOM_PER_STEP
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            probe_write(self.path, size)
        except OSError as exc:
            raise write_error(self.path, exc, "write the lockfile") from None
        self._probe_journal_disk(steps)

    def _probe_journal_disk(self, steps: int) -> None:
        """The journal's folder (``.voicectl``), when it exists: one voicectl can make files
        in, rename and remove them (not append-only); on a disk of its own (mounted
        apart), room there for the journal's lines too."""
        folder = self.journal_path.parent
        try:
            if not folder.is_dir():
                return  # made with the journal, in the lockfile's folder just proved
            apart = folder.stat().st_dev != journal.real_lockfile(self.path).parent.stat().st_dev
            probe_write(self.journal_path, 4096 + steps * ROOM_PER_STEP if apart else 0)
        except OSError as exc:
            raise write_error(self.journal_path, exc, "write the lockfile journal") from None

    async def durable(self) -> None:
        """Wait until every change made so far is on disk (group commit's other half)."""
        if self._journal is not None:
            await self._journal.flush()

    @property
    def failed(self) -> LockfileWriteError | None:
        """The write error that stopped this run's journal, if any."""
        return self._journal.failed if self._journal is not None else None

    def fold(self) -> bool:
        """Write the lockfile if its content changed, then remove the journal.

        Returns True when the lockfile was written. After a journal write failed,
        the lockfile is still written if it can be (what is in memory was either
        journalled or never acted upon); the journal stays if that fails too.
        """
        wrote = False
        if self._pristine:
            changed = False  # nothing changed since the file was read
        elif self._saved is None:
            changed = True  # a new lockfile
        else:
            changed = content_digest(self.doc) != self._saved
        if changed:
            self.doc.serial += 1
            try:
                atomic_write(self.path, chunks(self.doc))
            except OSError as exc:
                self.doc.serial -= 1
                raise write_error(self.path, exc, "write the lockfile") from None
            self.exists = True
            wrote = True
        if self.exists:  # the document is what the file says now
            self._saved, self._pristine = None, True
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self.recovered or self._stale_journal or wrote or self.journal_path.exists():
            journal.remove(self.journal_path)
        self.journal_path = journal.journal_path_for(self.path)  # an older one's place: done
        self.recovered = 0
        self._stale_journal = False
        return wrote

    def save(self) -> bool:
        """Alias of :meth:`fold` for one-shot commands (refresh, import, migrate --finish)."""
        return self.fold()

    def close(self) -> None:
        """Stop journalling without folding (the journal stays for the next run)."""
        if self._journal is not None:
            with contextlib.suppress(LockfileWriteError):
                self._journal.sync()
            self._journal.close()
            self._journal = None

    # -- steps ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Group the changes made inside into ONE journal line (all or nothing after a crash)."""
        if self._batch is not None:
            yield
            return
        self._batch = []
        try:
            yield
        finally:
            ops, self._batch = self._batch, None
        if ops:
            self._commit(ops)

    def _change(self, op: Op) -> None:
        if self._batch is not None:
            self._batch.append(op)
            self._apply(op)
        else:
            self._commit([op])

    def _commit(self, ops: list[Op]) -> None:
        if self._journal is not None:
            # durable before the caller goes on (group commit: once it awaits durable())
            self._journal.append(ops, default=_dump, sync=not self._group)
        if self._batch is None:
            for op in ops:
                self._apply(op)

    def _touch(self) -> None:
        """The document is about to change: keep what it says now (fold compares)."""
        if self._pristine:
            self._saved = content_digest(self.doc)
            self._pristine = False

    def _apply(self, op: Op) -> None:
        self._touch()
        doc = self.doc
        kind = op[0]
        if kind == "stack":
            doc.stack = op[1]
            return
        if kind == "meta":
            if op[1] in META:
                setattr(doc, op[1], op[2])
            return
        section: dict[str, Any] = getattr(doc, op[1])
        old = section.get(op[2])
        if kind == "set":
            model = SECTIONS[op[1]]
            section[op[2]] = op[3] if isinstance(op[3], model) else model.model_validate(op[3])
        elif kind == "del":
            section.pop(op[2], None)
        if op[1] == "voices" and self._names is not None:
            if old is not None:
                self._names.get(old.voice_id, set()).discard(op[2])
            if kind == "set":
                self._names.setdefault(section[op[2]].voice_id, set()).add(op[2])

    def names_of(self, voice_id: str) -> list[str]:
        """The voices whose entry names ``voice_id`` (an index, not a scan)."""
        if self._names is None:
            self._names = {}
            for name, entry in self.doc.voices.items():
                self._names.setdefault(entry.voice_id, set()).add(name)
        return sorted(self._names.get(voice_id, ()))

    def _set(self, section: str, key: str, value: Any) -> None:
        if getattr(self.doc, section).get(key) == value:
            return  # no change: nothing to journal
        self._change(["set", section, key, value])

    def _del(self, section: str, key: str) -> None:
        if key in getattr(self.doc, section):
            self._change(["del", section, key])

    # -- the transitions (the only ways a lockfile changes) ------------------------------
    def set_stack(self, stack: str) -> None:
        if self.doc.stack != stack:
            self._change(["stack", stack])

    def record(self, name: str, entry: LockEntry) -> None:
        """``name`` is now ``entry``'s clone; a pending record of that clone is settled,
        and it is no longer awaiting deletion (a voice's clone is never deleted for it)."""
        with self.step():
            self._set("voices", name, entry)
            self._del("pending", entry.voice_id)
            self._del("awaiting", entry.voice_id)

    def begin_replacement(self, voice_id: str, pending: PendingEntry) -> None:
        """Journal a new clone made for a voice whose old clone still serves it."""
        self._set("pending", voice_id, pending)

    def retire(self, voice_id: str, retired: RetiredEntry) -> None:
        """Record ``voice_id`` as an old clone kept (``keep``) or about to be deleted."""
        self._set("retired", voice_id, retired)

    def drop_retired(self, voice_id: str) -> None:
        self._del("retired", voice_id)

    def forget(self, voice_id: str) -> None:
        """The clone ``voice_id`` is gone (deleted) or not ours: drop every record of it."""
        with self.step():
            for name in self.names_of(voice_id):
                self._del("voices", name)
            self._del("pending", voice_id)
            self._del("retired", voice_id)
            self._del("released", voice_id)
            self._del("awaiting", voice_id)

    def await_deletion(self, voice_id: str, awaiting: AwaitingEntry) -> None:
        """No route could delete ``voice_id``: record it (with why) until a run can.

        Its other records stay as they are (a replaced clone stays ``retired``); the
        first date it was handed off is kept.
        """
        known = self.doc.awaiting.get(voice_id)
        if known is not None and known.since:
            awaiting = awaiting.model_copy(update={"since": known.since})
        self._set("awaiting", voice_id, awaiting)

    def forget_name(self, name: str) -> None:
        self._del("voices", name)

    def adopt(self, name: str, entry: LockEntry) -> None:
        """An existing clone found by its tags (or imported) becomes ``name``'s record."""
        self.record(name, entry)

    def refresh(self, name: str, entry: LockEntry) -> None:
        """The service reports new facts (status, modelIds, samples) about ``name``'s clone."""
        self._set("voices", name, entry)

    def mark_listed(self, names: Iterable[str], stamp: str) -> None:
        """A list of this run showed the clones of ``names``: their ``listedAt`` is
        ``stamp``, in ONE journal line.

        Journalled first, then the entries are changed in place: a copy of each
        (10,000 at the end of a large run, beside the originals) was a peak of the
        run's memory. Not for use inside a :meth:`step` (it is a line of its own).
        """
        assert self._batch is None, "mark_listed is a step of its own"
        voices = self.doc.voices
        todo = [(n, voices[n]) for n in names if n in voices and voices[n].listed_at != stamp]
        if not todo:
            return
        if self._journal is not None:
            ops: list[Op] = [["set", "voices", n, _Listed(e, stamp)] for n, e in todo]
            self._journal.append(ops, default=_dump, sync=not self._group)
        self._touch()
        for _name, entry in todo:
            entry.listed_at = stamp

    # -- identity (reconciler.identity): organisation, moved, removed, intents ----------
    def set_organisation(self, organization_id: str) -> None:
        """The organisation the clones live in (from a create answer or the list)."""
        if self.doc.organization_id != organization_id:
            self._change(["meta", "organization_id", organization_id])

    def set_clone_limit(self, held: int) -> None:
        """A create was refused at the clone limit while the organisation held ``held``."""
        if self.doc.clone_limit != held:
            self._change(["meta", "clone_limit", held])

    def move(self, old: str, new: str) -> None:
        """``moved:``: the voice ``old`` is ``new`` now; its clone (voiceId) stays."""
        entry = self.doc.voices.get(old)
        if entry is None or old == new:
            return
        with self.step():
            self._del("voices", old)
            self._set("voices", new, entry)
            for section in ("pending", "retired"):
                for vid, item in list(getattr(self.doc, section).items()):
                    if item.name == old:
                        self._set(section, vid, item.model_copy(update={"name": new}))
            intent = self.doc.replacing.get(old)
            if intent is not None:
                self._del("replacing", old)
                self._set("replacing", new, intent)

    def release(self, voice_id: str, released: ReleasedEntry) -> None:
        """``removed:``: drop every record of the clone, and remember it was let go."""
        with self.step():
            self.forget(voice_id)
            self._set("released", voice_id, released)

    def intend_replacement(self, name: str, intent: ReplaceIntent) -> None:
        """A forced replacement of ``name`` starts (durable before its create)."""
        self._set("replacing", name, intent)

    def drop_intent(self, name: str) -> None:
        self._del("replacing", name)


__all__ = ["Lockfile", "LockfileWriteError", "SECTIONS"]
