"""The list use case: the organisation's clones as an inventory, who owns each.

Used by ``voicectl list`` (rendered by ``reconciler.render.inventory``).
Ownership comes first from a clone's ownership tags (``voicectl-stack:``/
``voicectl-name:``); a clone without them may still be managed through the
lockfile beside the manifest (an imported clone: the service has no update
endpoint, so imported clones never carry tags), or kept there as retired.

The renderer passes everything the server sent through ``text.clean()``
before it is printed or put in the JSON, so a displayName cannot move the cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.api.models import Clone
from reconciler.engine import workflow
from reconciler.lockfile import LockDocument
from reconciler.ownership import Manager, manager_of


@dataclass(frozen=True)
class Row:
    clone: Clone
    owner: Manager | None
    awaiting: str | None = None  # why it awaits deletion (lockfile), or None

    @property
    def legacy(self) -> bool:
        return self.clone.is_legacy


def inventory(clones: Iterable[Clone], lock: LockDocument | None = None) -> list[Row]:
    """One row per clone, oldest first (createdAt, then voiceId)."""
    awaiting = lock.awaiting if lock is not None else {}
    rows = [
        Row(c, manager_of(c, lock), awaiting[c.voice_id].reason if c.voice_id in awaiting else None)
        for c in clones
    ]
    rows.sort(key=lambda r: (r.clone.created_at or "", r.clone.voice_id))
    return rows


def run_list(
    conn: workflow.Connection,
    lock_path: Path,
    *,
    only_legacy: bool = False,
    only_unmanaged: bool = False,
    logger: logging.Logger | None = None,
) -> list[Row]:
    """List the clones and classify them (the lockfile, if there is one, names owners)."""
    lock = workflow.load_recorded(lock_path, conn.target)
    doc = lock.doc if lock.known else None

    async def fetch():
        async with workflow.open_client(conn, logger=logger) as client:
            return await client.list_clones()

    rows = inventory(asyncio.run(fetch()), doc)
    if only_legacy:
        rows = [r for r in rows if r.legacy]
    if only_unmanaged:
        rows = [r for r in rows if r.owner is None]
    return rows
