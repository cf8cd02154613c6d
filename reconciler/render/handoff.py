"""The hand-off: clones a person must delete in the dashboard, because no delete
route works for this key today (retired, or refusing API keys).

Shown after an apply (text and Markdown); the same list is the apply JSON's
``awaitingDeletion``. It is not an error: the apply's exit code ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.text import clean

if TYPE_CHECKING:
    from reconciler.apply import HandOff

REASONS = {
    "orphan": "no longer declared",
    "duplicate": "duplicate clone",
    "replaced": "replaced by a new clone",
    "migrated": "legacy clone, migrated to lightning-v3.1",
    "failed": "failed new clone",
}
HEADER = ("NAME", "DISPLAY NAME", "VOICE ID", "REASON")


def _rows(items: Sequence[HandOff], cell: Callable[[Any], str]) -> list[tuple[str, ...]]:
    return [
        (
            cell(h.name or "-"),
            cell(h.display_name or "-"),
            cell(h.voice_id),
            cell(REASONS.get(h.reason, h.reason)),
        )
        for h in items
    ]


def handoff_text(items: Sequence[HandOff], why: str | None) -> str:
    """A plain table (aligned columns) and what to do; empty when nothing waits."""
    if not items:
        return ""
    rows = [HEADER, *_rows(items, clean)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = [
        f"Awaiting deletion: {len(items)} clone{'s' if len(items) != 1 else ''} could not be "
        "deleted: no delete route works for this key" + (f" ({clean(why)})" if why else "") + ".",
        "Delete them in the dashboard. They stay recorded in the lockfile; every plan shows "
        "them, and the first apply that can delete them does (or notices they are gone).",
        "",
    ]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def handoff_markdown(
    items: Sequence[HandOff], why: str | None, md: Callable[[Any], str]
) -> list[str]:
    """The same hand-off as Markdown lines (a heading, a note and a table)."""
    if not items:
        return []
    lines = [
        "#### Awaiting deletion: delete these clones in the dashboard",
        "",
        "No delete route works for this key"
        + (f" ({md(why)})" if why else "")
        + ". They stay recorded in the lockfile; the first apply that can delete them does.",
        "",
        "| " + " | ".join(h.title() for h in HEADER) + " |",
        "|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(items, md)]
    lines.append("")
    return lines
