"""`voicectl doctor`'s report: a table of findings and a verdict, or versioned JSON
(schemas/doctor.schema.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler import schemas
from reconciler.render import Style
from reconciler.render.problems import problems_out
from reconciler.render.table import table
from reconciler.text import clean

_COLOURS = {"ok": "green", "warn": "yellow", "fail": "red", "info": None}


def doctor_json(report: Any) -> dict[str, Any]:
    data = report.to_json()
    data["errors"] = problems_out(doctor_errors(report))
    doc = schemas.DoctorDocument.model_validate(data)
    return doc.model_dump(by_alias=True, mode="json")


def doctor_errors(report: Any) -> list[str]:
    """One line per failed check (the failure contract's errors)."""
    return [f"{f.check}: {clean(f.result)}" for f in report.findings if f.status == "fail"]


def failed_doctor_json(errors: Sequence[str]) -> dict[str, Any]:
    """The doctor document of a run that checked nothing (no key, an unknown
    environment ...): not ok, no endpoint or world, no checks, and why."""
    doc = schemas.DoctorDocument.model_validate(
        {
            "formatVersion": schemas.FORMAT_VERSION,
            "ok": False,
            "endpoint": None,
            "world": None,
            "deleteRoute": None,
            "deleteRoutes": {},
            "createModels": {},
            "legacyRoutes": None,
            "clones": None,
            "checks": [],
            "errors": problems_out(errors),
        }
    )
    return doc.model_dump(by_alias=True, mode="json")


def doctor_text(report: Any, style: Style) -> str:
    rows = [[f.check, f.status.upper(), clean(f.result), clean(f.means)] for f in report.findings]

    def colour(row: int, col: int, cell: str) -> str:
        hue = _COLOURS[report.findings[row].status]
        return style(cell, hue, bold=True) if col == 1 and hue else cell

    verdict = (
        "voicectl can work here."
        if report.ok
        else "Something voicectl needs is missing (FAIL above)."
    )
    return "\n".join(
        [
            f"Endpoint: {clean(report.endpoint)}  "
            f"(API world: {report.world or 'unknown, nothing could be probed'})\n",
            table(["CHECK", "STATUS", "RESULT", "MEANS FOR PLAN AND APPLY"], rows, style=colour),
            f"\n{verdict}",
        ]
    )
