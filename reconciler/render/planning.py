"""`voicectl plan`'s output: the plan in the asked-for format, and the saved-plan line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler import render
from reconciler.render.applying import source_label
from reconciler.render.lines import Line, Shown, in_format, json_text, out
from reconciler.text import clean

if TYPE_CHECKING:
    from reconciler.plan import Plan
    from reconciler.schemas import SavedPlanDocument


def planned(
    plan: Plan, fmt: str, style: render.Style, *, source: str, warnings: Sequence[str]
) -> Shown:
    """The plan as text, JSON or Markdown; the Markdown also goes to the job summary."""

    def markdown() -> str:
        return render.plan_markdown(plan, source=source, warnings=warnings)

    if fmt == "text":
        return Shown([out(render.plan_text(plan, style))], markdown)
    return Shown(in_format(fmt, lambda: render.plan_json(plan, warnings), markdown), markdown)


def saved(plan_file: str, fmt: str) -> Line:
    """Where ``--out`` saved the plan (on stderr unless the output is text)."""
    return Line(
        f"\nSaved the plan to {plan_file}. To apply exactly this plan: voicectl apply {plan_file}",
        err=fmt != "text",
    )


def stale_warning(plan_file: str, reasons: Sequence[str]) -> str:
    return (
        f"{plan_file} is stale: {'; '.join(reasons)}; `voicectl apply {plan_file}` would refuse it"
    )


def saved_plan(doc: SavedPlanDocument, plan: Plan, plan_file: str, fmt: str, style) -> list[Line]:
    """`voicectl show PLANFILE`: the plan document (json), the report (markdown), or
    where and when the plan was made, then the plan as `plan` prints it (text)."""
    manifest = source_label(doc.inputs.manifest.path, doc.inputs.environment or None)
    if fmt == "json":
        return [out(json_text(doc.plan.model_dump(by_alias=True, mode="json")))]
    if fmt == "markdown":
        return [Line(render.plan_markdown(plan, source=manifest), nl=False)]
    return [
        out(
            f"Saved plan {clean(plan_file)}: made {doc.created_at} by voicectl "
            f"{doc.voicectl_version} from {clean(manifest)}, against "
            f"{clean(doc.inputs.remote.endpoint)}."
        ),
        out(f"`voicectl apply {clean(plan_file)}` applies exactly this plan.\n"),
        out(render.plan_text(plan, style)),
    ]
