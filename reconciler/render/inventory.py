"""`voicectl list`: the inventory as a table and as versioned JSON (schemas/list.schema.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler import schemas
from reconciler.engine.inventory import Row
from reconciler.render.problems import problems_out
from reconciler.render.table import table
from reconciler.text import clean

FORMAT_VERSION = 1
LEGACY_MARK = "LEGACY"
UNMANAGED = "unmanaged"


def row_json(row: Row) -> dict[str, Any]:
    c = row.clone
    return {
        "voiceId": clean(c.voice_id),
        "displayName": clean(c.display_name),
        "status": clean(c.status) if c.status is not None else None,
        "modelIds": [clean(m) for m in c.models],
        "legacy": row.legacy,
        "awaitingDeletion": row.awaiting,
        "owner": (
            {"stack": row.owner.stack, "name": row.owner.name, "via": row.owner.via}
            if row.owner
            else None
        ),
        "language": clean(c.language) if c.language is not None else None,
        "description": clean(c.description) if c.description is not None else None,
        "accent": clean(c.accent) if c.accent is not None else None,
        "tags": [clean(t) for t in c.tags],
        "cloningType": clean(c.cloning_type) if c.cloning_type is not None else None,
        "createdAt": clean(c.created_at) if c.created_at is not None else None,
    }


def inventory_json(rows: Sequence[Row]) -> dict[str, Any]:
    """The versioned machine form: ``{"formatVersion": 1, "clones": [...], "summary": {...}}``."""
    doc = {
        "formatVersion": FORMAT_VERSION,
        "clones": [row_json(r) for r in rows],
        "summary": summary(rows),
    }
    return schemas.ListDocument.model_validate(doc).model_dump(by_alias=True, mode="json")


def failed_inventory_json(errors: Sequence[str]) -> dict[str, Any]:
    """The list document of a run that listed nothing: no clones, and why (``errors``)."""
    doc = schemas.ListDocument.model_validate(
        {
            "formatVersion": FORMAT_VERSION,
            "clones": [],
            "summary": summary([]),
            "errors": problems_out(errors),
        }
    )
    return doc.model_dump(by_alias=True, mode="json")


def summary(rows: Sequence[Row]) -> dict[str, int]:
    return {
        "total": len(rows),
        "legacy": sum(1 for r in rows if r.legacy),
        "unmanaged": sum(1 for r in rows if r.owner is None),
        "awaitingDeletion": sum(1 for r in rows if r.awaiting),
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
                (r.owner.label() if r.owner else UNMANAGED)
                + (f" AWAITING DELETION ({r.awaiting})" if r.awaiting else ""),
                clean(c.created_at) or "-",
            ]
        )

    def style(row: int, col: int, cell: str) -> str:
        if col == 3 and row >= 0 and rows[row].legacy:
            at = cell.rfind(LEGACY_MARK)
            return cell[:at] + mark(LEGACY_MARK) + cell[at + len(LEGACY_MARK) :]
        return cell

    return table(headers, body, style=style)


def list_text(rows: Sequence[Row], *, filtered: bool, mark=lambda text: text) -> list[str]:
    """`voicectl list`'s lines: the table and its counts (``filtered``: --legacy or
    --unmanaged narrowed the list)."""
    if not rows:
        return ["No matching clones." if filtered else "No clones."]
    counts = summary(rows)
    n = counts["total"]
    line = f"\n{n} clone{'s' if n != 1 else ''}"
    line += f", {counts['legacy']} {LEGACY_MARK} (no lightning-v3.1)"
    line += f", {counts['unmanaged']} unmanaged."
    if counts["awaitingDeletion"]:
        line += (
            f" {counts['awaitingDeletion']} awaiting deletion: no delete route worked; "
            "delete them in the dashboard, or the next apply that can will."
        )
    lines = [inventory_table(rows, mark=mark), line]
    if counts["unmanaged"]:
        lines.append("`voicectl import` adopts unmanaged clones into the manifest.")
    return lines
