"""`voicectl validate`'s output: problems and warnings as text, one JSON document
(schemas/validate.schema.json) or GitHub workflow annotations; the summary of a
valid manifest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler import schemas
from reconciler.render.lines import Line, err, json_text, out
from reconciler.render.problems import annotation, problems_out
from reconciler.text import count


def report(
    fmt: str, name: str, manifest: Any, problems: Sequence[str], warnings: Sequence[str]
) -> list[Line]:
    """What validate found (``manifest`` None: it is invalid)."""
    if fmt == "json":
        doc = schemas.ValidateDocument(
            format_version=schemas.FORMAT_VERSION,
            valid=not problems,
            manifest=name,
            stack=manifest.stack if manifest is not None else None,
            voices=len(manifest.voices) if manifest is not None else None,
            errors=problems_out(problems),
            warnings=problems_out(warnings),
        )
        return [out(json_text(doc.model_dump(by_alias=True, mode="json"), ensure_ascii=True))]
    if fmt == "github":
        return [out(annotation(w, "warning")) for w in warnings] + [
            out(annotation(p, "error")) for p in problems
        ]
    return [err(f"warning: {w}") for w in warnings] + [err(p) for p in problems]


def invalid(n: int, name: str) -> str:
    """The error line after the problems."""
    return f"{count(n, 'problem')} in {name}"


def valid(name: str, manifest: Any, read: Sequence[str]) -> list[str]:
    """The summary of a valid manifest (``read``: its files, when it includes others)."""
    which = f" in environment {manifest.environment!r}" if manifest.environment else ""
    lines = [
        f"{name} is valid: {count(len(manifest.voices), 'voice')}{which} "
        f'(stack "{manifest.stack}").'
    ]
    if manifest.environments:
        lines.append(f"Environments: {', '.join(manifest.environments)}.")
    if manifest.included:
        lines.append(f"Read {count(len(read), 'file')}: {', '.join(read)}.")
    return lines
