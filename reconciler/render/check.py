"""`voicectl check`: the checks as a table and as versioned JSON (schemas/check.schema.json)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler import languages, schemas
from reconciler.engine.checking import CheckResult, VoiceCheck
from reconciler.render.problems import problems_out
from reconciler.render.table import table
from reconciler.text import clean

FORMAT_VERSION = 1


def check_json(check: VoiceCheck) -> dict[str, Any]:
    c = check.clone
    probe = None
    if check.probe is not None:
        probe = {
            "bytes": check.probe.size,
            "seconds": round(check.probe.seconds, 3) if check.probe.seconds is not None else None,
            "ok": check.probe.problem is None,
        }
    elif check.probe_error is not None:
        probe = {"bytes": None, "seconds": None, "ok": False}
    return {
        "name": check.name,
        "voiceId": clean(check.voice_id),
        "exists": c is not None,
        "status": clean(c.status) if c is not None and c.status else None,
        "modelIds": [clean(m) for m in c.models] if c is not None else [],
        "lightningV31": bool(c is not None and c.is_current),
        "probe": probe,
        "problems": [clean(p) for p in check.problems],
        "ok": check.ok,
    }


def checks_json(checks: Sequence[VoiceCheck], *, probed: bool) -> dict[str, Any]:
    failed = sum(1 for c in checks if not c.ok)
    doc = {
        "formatVersion": FORMAT_VERSION,
        "ok": failed == 0,
        "probe": probed,
        "voices": [check_json(c) for c in checks],
        "summary": {"checked": len(checks), "ok": len(checks) - failed, "failed": failed},
        # exit 1 says something failed: `errors` says it too (the details are per voice)
        "errors": problems_out(
            [f"{failed} voice{'s' if failed != 1 else ''} with problems (see voices[].problems)"]
            if failed
            else []
        ),
    }
    return schemas.CheckDocument.model_validate(doc).model_dump(by_alias=True, mode="json")


def failed_checks_json(errors: Sequence[str], *, probed: bool) -> dict[str, Any]:
    """The check document of a run that checked nothing: not ok, no voices, and why."""
    doc = {
        "formatVersion": FORMAT_VERSION,
        "ok": False,
        "probe": probed,
        "voices": [],
        "summary": {"checked": 0, "ok": 0, "failed": 0},
        "errors": problems_out(errors),
    }
    return schemas.CheckDocument.model_validate(doc).model_dump(by_alias=True, mode="json")


def probe_cell(check: VoiceCheck) -> str:
    if check.probe is not None:
        p = check.probe
        secs = f"{p.seconds:.2f} s" if p.seconds is not None else "? s"
        return f"{secs}, {_size(p.size)}"
    if check.probe_error is not None:
        return "error"
    return "-"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB"


def check_text(result: CheckResult, style: Callable[..., str]) -> str:
    """The table, the problems of the failed voices, and the count line."""
    checks = result.checks
    probe = result.probed
    if not checks:
        return f"No voices in {result.lock_path.name}."
    rows = []
    for c in checks:
        clone = c.clone
        rows.append(
            [
                c.name,
                clean(c.voice_id),
                clean(clone.status) if clone is not None and clone.status else "missing",
                ",".join(clean(m) for m in clone.models) if clone is not None else "-",
                *([probe_cell(c)] if probe else []),
                "ok" if c.ok else "FAIL",
            ]
        )
    headers = ["NAME", "VOICE ID", "STATUS", "MODELS", *(["PROBE"] if probe else []), "RESULT"]
    last = len(headers) - 1

    def paint(row: int, col: int, cell: str) -> str:
        if col != last:
            return cell
        return style(cell, "green" if checks[row].ok else "red", bold=not checks[row].ok)

    lines = [table(headers, rows, style=paint)]
    failed = result.failed
    if failed:
        lines.append("")
        for c in failed:
            for problem in c.problems:
                lines.append(f"  {c.name}: {clean(problem)}")
    lines.append("")
    n = len(checks)
    lines.append(
        f"{n} voice{'s' if n != 1 else ''} checked"
        + (f" (with a {_probe_models(checks)} probe)" if probe else "")
        + f": {n - len(failed)} ok, {len(failed)} with problems."
    )
    return "\n".join(lines)


def _probe_models(checks) -> str:
    """The TTS models the probes used: each clone's own (lightning_v3.1 or its _pro)."""
    used = {languages.tts_model(c.clone.clone_model if c.clone else None) for c in checks}
    return " / ".join(sorted(used)) or languages.tts_model(None)
