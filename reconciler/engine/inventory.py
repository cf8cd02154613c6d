"""The organisation's clones as an inventory: who owns each, which are legacy.

Used by ``voicectl list`` (and its table helper by ``check`` and ``migrate``).
Ownership comes first from a clone's ownership tags (``voicectl-stack:``/
``voicectl-name:``); a clone without them may still be managed through the
lockfile beside the manifest (an imported clone: the service has no update
endpoint, so imported clones never carry tags), or kept there as retired.

Everything the server sent passes through ``text.clean()`` before it is
printed or put in the JSON, so a displayName cannot move the cursor.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.api.models import Clone
from reconciler.lockfile import LockDocument
from reconciler.ownership import owner_of
from reconciler.text import clean

FORMAT_VERSION = 1
LEGACY_MARK = "LEGACY"
UNMANAGED = "unmanaged"


@dataclass(frozen=True)
class Owner:
    """Who manages a clone: ``stack/name``, and how we know (tags, lockfile, retired)."""

    stack: str
    name: str
    via: str  # "tags" | "lockfile" | "retired"

    def label(self) -> str:
        base = f"{self.stack}/{self.name}"
        return base if self.via == "tags" else f"{base} ({self.via})"


@dataclass(frozen=True)
class Row:
    clone: Clone
    owner: Owner | None

    @property
    def legacy(self) -> bool:
        return self.clone.is_legacy

    def to_json(self) -> dict[str, Any]:
        c = self.clone
        return {
            "voiceId": clean(c.voice_id),
            "displayName": clean(c.display_name),
            "status": clean(c.status) if c.status is not None else None,
            "modelIds": [clean(m) for m in c.models],
            "legacy": self.legacy,
            "owner": (
                {"stack": self.owner.stack, "name": self.owner.name, "via": self.owner.via}
                if self.owner
                else None
            ),
            "language": clean(c.language) if c.language is not None else None,
            "description": clean(c.description) if c.description is not None else None,
            "accent": clean(c.accent) if c.accent is not None else None,
            "tags": [clean(t) for t in c.tags],
            "cloningType": clean(c.cloning_type) if c.cloning_type is not None else None,
            "createdAt": clean(c.created_at) if c.created_at is not None else None,
        }


def owner_for(clone: Clone, lock: LockDocument | None) -> Owner | None:
    """The owner from the tags, else from the lockfile (imported clones), else None."""
    tagged = owner_of(clone.tags)
    if tagged is not None:
        return Owner(tagged.stack, tagged.name, "tags")
    if lock is not None:
        for name, entry in lock.voices.items():
            if entry.voice_id == clone.voice_id:
                return Owner(lock.stack, name, "lockfile")
        pending = lock.pending.get(clone.voice_id)
        if pending is not None:
            return Owner(lock.stack, pending.name, "lockfile")
        retired = lock.retired.get(clone.voice_id)
        if retired is not None:
            return Owner(lock.stack, retired.name, "retired")
    return None


def inventory(clones: Iterable[Clone], lock: LockDocument | None = None) -> list[Row]:
    """One row per clone, oldest first (createdAt, then voiceId)."""
    rows = [Row(c, owner_for(c, lock)) for c in clones]
    rows.sort(key=lambda r: (r.clone.created_at or "", r.clone.voice_id))
    return rows


def inventory_json(rows: Sequence[Row]) -> dict[str, Any]:
    """The versioned machine form: ``{"formatVersion": 1, "clones": [...], "summary": {...}}``."""
    return {
        "formatVersion": FORMAT_VERSION,
        "clones": [r.to_json() for r in rows],
        "summary": summary(rows),
    }


def summary(rows: Sequence[Row]) -> dict[str, int]:
    return {
        "total": len(rows),
        "legacy": sum(1 for r in rows if r.legacy),
        "unmanaged": sum(1 for r in rows if r.owner is None),
    }


def inventory_table(rows: Sequence[Row], *, mark=lambda text: text) -> str:
    """Aligned text table; ``mark`` styles the LEGACY mark (colour on a TTY)."""
    headers = ["VOICE ID", "DISPLAY NAME", "STATUS", "MODELS", "OWNER", "CREATED"]
    body = []
    for r in rows:
        c = r.clone
        models = ",".join(clean(m) for m in c.models) or "-"
        body.append(
            [
                clean(c.voice_id),
                clean(c.display_name) or "-",
                clean(c.status) or "-",
                models + (f" {LEGACY_MARK}" if r.legacy else ""),
                r.owner.label() if r.owner else UNMANAGED,
                clean(c.created_at) or "-",
            ]
        )

    def style(row: int, col: int, cell: str) -> str:
        if col == 3 and row >= 0 and rows[row].legacy:
            at = cell.rfind(LEGACY_MARK)
            return cell[:at] + mark(LEGACY_MARK) + cell[at + len(LEGACY_MARK) :]
        return cell

    return table(headers, body, style=style)


def width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    gap: int = 2,
    style: Callable[[int, int, str], str] | None = None,
) -> str:
    """Columns padded to their widest cell (display width); the last is not padded.

    ``style(row, col, cell)`` may wrap a padded body cell in colour codes (row -1 is
    the header, never styled); widths are measured before styling.
    """
    widths = [width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], width(cell))
    lines = []
    for r, row in enumerate([list(headers), *[list(x) for x in rows]], start=-1):
        cells = []
        for i, cell in enumerate(row):
            last = i == len(row) - 1
            padded = cell if last else cell + " " * (widths[i] - width(cell) + gap)
            if style is not None and r >= 0:
                padded = style(r, i, padded)
            cells.append(padded)
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)
