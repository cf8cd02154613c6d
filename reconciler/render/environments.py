"""``plan --all-envs`` output: one summary table (environment x create/replace/delete),
then each environment's plan, as text, Markdown or versioned JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler import schemas
from reconciler.render import Style, md, plan_document, plan_markdown, plan_text
from reconciler.render.lines import Shown, err, in_format, out
from reconciler.render.problems import problems_out
from reconciler.text import clean

COLUMNS = ("create", "replace", "delete")


def _row(env_plan) -> tuple[str, list[str], str]:
    """(name, the three counts or dashes, a note)."""
    if env_plan.plan is None:
        return env_plan.name, ["-"] * 3, f"not planned: {clean(env_plan.error or '?')}"
    summary = env_plan.plan.summary()
    note = (
        "refused"
        if env_plan.plan.errors
        else ("changes" if env_plan.plan.has_changes else "no changes")
    )
    return env_plan.name, [str(summary[c]) for c in COLUMNS], note


def summary_table(result) -> str:
    rows = [_row(p) for p in result.plans]
    width = max([len("environment"), *(len(name) for name, _, _ in rows)])
    lines = [f"{'environment':<{width}}  create  replace  delete"]
    for name, counts, note in rows:
        cells = f"{counts[0]:>6}  {counts[1]:>7}  {counts[2]:>6}"
        lines.append(f"{name:<{width}}  {cells}  {note}")
    return "\n".join(lines)


def all_text(result, style: Style) -> str:
    parts = [style("Environments:", bold=True), summary_table(result)]
    for env_plan in result.plans:
        lock = env_plan.loaded.lock.path.name
        parts += ["", style(f"== Environment {env_plan.name} ({lock}) ==", bold=True)]
        if env_plan.plan is None:
            parts.append(style("Error: ", "red", bold=True) + clean(env_plan.error or ""))
        else:
            parts.append(plan_text(env_plan.plan, style))
    return "\n".join(parts)


def all_markdown(result, *, source: str) -> str:
    lines = [f"## voicectl plan: every environment of {md(source)}", ""]
    lines.append("| Environment | Create | Replace | Delete | |")
    lines.append("|---|---|---|---|---|")
    for name, counts, note in (_row(p) for p in result.plans):
        lines.append(f"| {md(name)} | {' | '.join(counts)} | {md(note)} |")
    lines.append("")
    for env_plan in result.plans:
        if env_plan.plan is None:
            lines += [f"### {md(env_plan.name)}: not planned", "", md(env_plan.error or ""), ""]
        else:
            lines.append(plan_markdown(env_plan.plan, source=f"{source} ({env_plan.name})"))
    return "\n".join(lines).rstrip("\n") + "\n"


def all_json(result) -> dict[str, Any]:
    doc = schemas.AllEnvironmentsPlanDocument(
        format_version=schemas.PLAN_FORMAT_VERSION,
        environments=[
            schemas.EnvironmentPlanEntry(
                environment=p.name,
                lockfile=str(p.loaded.lock.path),
                plan=plan_document(p.plan) if p.plan is not None else None,
                error=p.error,
            )
            for p in result.plans
        ],
        has_changes=result.has_changes,
        failed=[p.name for p in result.failed],
        errors=problems_out(env_errors(result)),
    )
    return doc.model_dump(by_alias=True, mode="json")


def env_errors(result) -> list[str]:
    """Why each environment failed or was refused, one line each, naming it."""
    lines = [f"environment {p.name}: could not be planned: {p.error}" for p in result.failed]
    for p in result.refused:
        lines += [f"environment {p.name}: the plan was refused: {e}" for e in p.plan.errors]
    return lines


def failed_all_json(errors: Sequence[str]) -> dict[str, Any]:
    """The ``plan --all-envs`` document of a run that planned no environment (an
    invalid manifest, a key variable not set ...): no environments, and why."""
    doc = schemas.AllEnvironmentsPlanDocument(
        format_version=schemas.PLAN_FORMAT_VERSION,
        environments=[],
        has_changes=False,
        failed=[],
        errors=problems_out(errors),
    )
    return doc.model_dump(by_alias=True, mode="json")


def all_shown(result, fmt: str, style: Style, *, source: str) -> Shown:
    """The whole ``plan --all-envs`` output in ``fmt``, then one error line for each
    environment that could not be planned or was refused."""
    markdown = all_markdown(result, source=source)
    if fmt == "text":
        lines = [out(all_text(result, style))]
    else:
        lines = in_format(fmt, lambda: all_json(result), markdown)
    lines += [err(f"Error: {line}") for line in env_errors(result)]
    return Shown(lines, markdown)
