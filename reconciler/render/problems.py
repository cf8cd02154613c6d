"""Errors and warnings in every output format: JSON objects, workflow annotations,
Markdown notices, and a whole document for a run that failed before it had a result.

Whatever fails (an invalid manifest, an unreachable server, a refused key, a lock
held by another run, a stale saved plan), a caller that asked for ``--format json``
still gets one document of the command's own versioned shape with the failure in
its ``errors`` list, and a job summary still gets a report saying what failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.lazy import lazy_module
from reconciler.problems import parts_of
from reconciler.text import clean

if TYPE_CHECKING:
    from reconciler import schemas
else:  # built only when JSON is
    schemas = lazy_module("reconciler.schemas")


def problem_out(text: str) -> schemas.ProblemOut:
    """One message as its JSON object (positions where the message knows them)."""
    parts = parts_of(text)
    return schemas.ProblemOut(
        file=parts["file"],
        line=parts["line"],
        column=parts["column"],
        path=parts["path"],
        message=clean(parts["message"]),
    )


def problems_out(lines: Iterable[str]) -> list[schemas.ProblemOut]:
    return [problem_out(line) for line in lines]


def error_lines(exc: BaseException) -> list[str]:
    """The lines an error stands for: each problem of a ManifestError, else its message
    line by line (a refused plan holds one line per refusal)."""
    problems = getattr(exc, "problems", None)
    if problems:
        return list(problems)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return [line for line in str(message).splitlines() if line.strip()] or [str(message)]


def empty_plan(errors: Sequence[str], warnings: Sequence[str]) -> schemas.PlanDocument:
    """A plan document for a run that has no plan: no actions, and why."""
    return schemas.PlanDocument(
        format_version=schemas.PLAN_FORMAT_VERSION,
        actions=[],
        summary=schemas.PlanSummary(
            create=0, replace=0, delete=0, adopt=0, forget=0, wait=0, noop=0, changes=0
        ),
        warnings=problems_out(warnings),
        errors=problems_out(errors),
    )


def failed_plan_json(errors: Sequence[str], warnings: Sequence[str]) -> dict[str, Any]:
    return empty_plan(errors, warnings).model_dump(by_alias=True, mode="json")


def failed_apply_json(
    errors: Sequence[str],
    warnings: Sequence[str],
    plan: schemas.PlanDocument | None = None,
) -> dict[str, Any]:
    """An apply document for a run that stopped before any operation: ``plan`` when
    there was one (a refused plan), else an empty one carrying the warnings."""
    doc = schemas.ApplyDocument(
        format_version=schemas.PLAN_FORMAT_VERSION,
        ok=False,
        plan=plan if plan is not None else empty_plan([], warnings),
        outcomes=[],
        summary=schemas.ApplySummary(created=0, replaced=0, deleted=0, adopted=0, failed=0),
        notes=[],
        errors=problems_out(errors),
    )
    return doc.model_dump(by_alias=True, mode="json")


def failure_markdown(
    command: str,
    errors: Sequence[str],
    warnings: Sequence[str] = (),
    *,
    source: str | None = None,
    changed: str = "Nothing was changed.",
    refused: bool = False,
) -> str:
    """A job-summary report for a run that failed (or was refused): never empty."""
    from reconciler.render import md

    n = len(errors)
    what = "refused" if refused else "failed"
    lines = [f"### voicectl {command}: {what} ({n} error{'s' if n != 1 else ''})", ""]
    if source:
        lines += [f"Manifest: {md(source)}", ""]
    for error in errors:
        lines += [f"> **Error:** {md(error)}", ""]
    for warning in warnings:
        lines += [f"> **Warning:** {md(warning)}", ""]
    lines.append(changed)
    return "\n".join(lines) + "\n"


# -- GitHub workflow commands ----------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(text: str, level: str = "error") -> str:
    """``::error file=voices.yaml,line=3,col=7::voices.a.file: ...`` for one message,
    so the problem shows on the pull request's diff at its line."""
    parts = parts_of(text)
    props = []
    if parts["file"]:
        props.append(f"file={_escape_property(parts['file'])}")
    if parts["line"] is not None:
        props.append(f"line={parts['line']}")
    if parts["column"] is not None:
        props.append(f"col={parts['column']}")
    message = clean(parts["message"])
    if parts["path"]:
        message = f"{clean(parts['path'])}: {message}"
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"
