"""`voicectl refresh`: what changed in the lockfile, as text and as versioned JSON
(schemas/refresh.schema.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler import schemas
from reconciler.engine.refreshing import RefreshResult
from reconciler.render.lines import Line, err, out
from reconciler.render.problems import problems_out
from reconciler.text import clean

FORMAT_VERSION = 1


def refresh_json(result: RefreshResult) -> dict[str, Any]:
    doc = {
        "formatVersion": FORMAT_VERSION,
        "lockfile": str(result.lockfile),
        "written": result.written,
        "serial": result.serial,
        "changes": [
            {"name": c.name, "voiceId": c.voice_id, "field": c.field, "old": c.old, "new": c.new}
            for c in result.changes
        ],
        "missing": [{"name": n, "voiceId": v} for n, v in result.missing],
    }
    return schemas.RefreshDocument.model_validate(doc).model_dump(by_alias=True, mode="json")


def failed_refresh_json(errors: Sequence[str], lockfile: Path | None = None) -> dict[str, Any]:
    """The refresh document of a run that refreshed nothing: nothing written, and why
    (``lockfile``: the lockfile it was to refresh, when known)."""
    doc = {
        "formatVersion": FORMAT_VERSION,
        "lockfile": str(lockfile) if lockfile is not None else None,
        "written": False,
        "serial": None,
        "changes": [],
        "missing": [],
        "errors": problems_out(errors),
    }
    return schemas.RefreshDocument.model_validate(doc).model_dump(by_alias=True, mode="json")


def _show(field: str, value: Any) -> str:
    if field == "samples":
        n = len(value or [])
        return f"{n} sample{'s' if n != 1 else ''}"
    if isinstance(value, list):
        return "[" + ", ".join(clean(v) for v in value) + "]"
    return "null" if value is None else json.dumps(clean(value), ensure_ascii=False)


def refresh_lines(result: RefreshResult) -> list[str]:
    """One line per changed field, then the outcome line (for stdout)."""
    lines = [
        f"~ {clean(c.name)} ({clean(c.voice_id)}): {c.field}: "
        f"{_show(c.field, c.old)} -> {_show(c.field, c.new)}"
        for c in result.changes
    ]
    gone = ""
    if result.missing:
        n = len(result.missing)
        gone = (
            f" {n} recorded clone{'s are' if n != 1 else ' is'} missing from the service: "
            + (f"none of them is listed ({result.key_hint}); " if result.key_hint else "")
            + "run `voicectl plan` to see what to do."
        )
    if result.written:
        voices = result.voices_changed
        n = result.recovered
        folded = (
            f"; folded in the {n} step{'s' if n != 1 else ''} a crashed run had journalled"
            if n
            else ""
        )
        lines.append(
            f"Refreshed {voices} voice{'s' if voices != 1 else ''} in {result.lockfile} "
            f"(serial {result.serial_before} -> {result.serial}){folded}.{gone}"
        )
    elif result.missing:  # "up to date" would be untrue
        lines.append(f"{result.lockfile} is not up to date:{gone}")
    else:
        lines.append(f"{result.lockfile} is up to date.")
    return lines


def missing_lines(result: RefreshResult) -> list[str]:
    """One line per recorded clone the service no longer lists (for stderr)."""
    return [
        f"! {clean(name)}: clone {clean(voice_id)} is not listed by the service; entry kept "
        "(see `voicectl plan`)"
        for name, voice_id in result.missing
    ]


def refresh_text(result: RefreshResult) -> list[Line]:
    """The text form: what changed, the missing clones (on stderr), the summary line."""
    lines = refresh_lines(result)
    return [*map(out, lines[:-1]), *map(err, missing_lines(result)), out(lines[-1])]
