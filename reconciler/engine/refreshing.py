"""The refresh use case: the lockfile brought up to date with the service, no clone changed.

For every voice the lockfile records, the clone's current ``status``,
``modelIds``, ``displayName``, ``language``, ``createdAt`` and ``samples`` are
copied from the service's list. Nothing is created, deleted or adopted (that is
`apply`'s job): a recorded clone that is missing from the list (and from a
second list, asked for at once: ``workflow.list_for_plan``) is reported and its
entry KEPT, because the list can lag behind creates and a lost voiceId is the one
thing voicectl must never do; `voicectl plan` says what to do about it.

The lockfile is written atomically under the run lock, and only when something
changed (then ``serial`` grows); with no change it stays byte-identical.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import identity
from reconciler.engine import workflow
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile, RunLock, entry_for

# the lockfile fields a refresh copies from the listed clone
FIELDS = ("displayName", "language", "modelIds", "status", "createdAt", "samples")


@dataclass(frozen=True)
class FieldChange:
    """One lockfile field of one voice, as it was and as the service reports it now."""

    name: str
    voice_id: str
    field: str
    old: Any
    new: Any


@dataclass
class RefreshResult:
    """What a refresh changed, and the recorded voices the service no longer lists."""

    lockfile: Path
    written: bool
    serial_before: int
    serial: int
    changes: list[FieldChange] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (name, voiceId)
    # none of the recorded clones is listed: the question to ask about the key
    key_hint: str | None = None
    recovered: int = 0  # steps of a crashed run's journal folded in by this refresh

    @property
    def voices_changed(self) -> int:
        return len({c.name for c in self.changes})


def refresh_lock(lock: Lockfile, remote: list[Any]) -> tuple[list[FieldChange], list[str]]:
    """Update the lockfile's entries from ``remote``; returns (changes, missing names)."""
    by_id = {c.voice_id: c for c in remote}
    changes: list[FieldChange] = []
    missing: list[str] = []
    for name, entry in sorted(lock.doc.voices.items()):
        clone = by_id.get(entry.voice_id)
        if clone is None:
            missing.append(name)
            continue
        updated = entry_for(clone, entry)  # the one clone -> entry converter
        before = entry.model_dump(by_alias=True, mode="json")
        fresh = updated.model_dump(by_alias=True, mode="json")
        diff = {f: (before[f], fresh[f]) for f in FIELDS if before[f] != fresh[f]}
        if not diff:
            continue
        lock.refresh(name, updated)
        for name_of_field, (old, new) in diff.items():
            changes.append(FieldChange(name, entry.voice_id, name_of_field, old, new))
    return changes, missing


def run_refresh(
    path: Path,
    conn: workflow.Connection,
    *,
    lockfile: str | None = None,
    lock_timeout: float = 0.0,
    logger: logging.Logger | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> RefreshResult:
    """List the clones and refresh the lockfile beside ``path`` under the run lock."""
    lock_path = workflow.lockfile_path(path, lockfile, conn.target)
    if not workflow.load_recorded(lock_path, conn.target).known:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` first")

    async def fetch(lock: Lockfile):
        async with workflow.open_client(conn, logger=logger) as client:
            return await workflow.list_for_plan(client, lock)  # a missing one: listed again

    with RunLock(lock_path, timeout=lock_timeout, on_wait=on_wait):
        lock = workflow.load_recorded(lock_path, conn.target)  # again, under the lock
        remote = asyncio.run(fetch(lock))
        workflow.refuse_other_organisation(lock, remote, conn.target)
        hint = identity.key_hint_for(conn.target.environment, conn.target.key_env)
        serial = lock.doc.serial
        recovered = lock.recovered
        changes, missing = refresh_lock(lock, remote)
        written = lock.save()
    every = bool(missing) and len(missing) == len(lock.doc.voices)
    return RefreshResult(
        lockfile=lock_path,
        written=written,
        serial_before=serial,
        serial=lock.doc.serial,
        changes=changes,
        missing=[(n, lock.doc.voices[n].voice_id) for n in missing],
        key_hint=hint if every else None,
        recovered=recovered,
    )
