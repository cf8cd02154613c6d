"""`voicectl plan`'s output: the plan in the asked-for format, and the saved-plan line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler import render
from reconciler.render.lines import Line, Shown, in_format, out

if TYPE_CHECKING:
    from reconciler.plan import Plan


def planned(
    plan: Plan, fmt: str, style: render.Style, *, source: str, warnings: Sequence[str]
) -> Shown:
    """The plan as text, JSON or Markdown; the Markdown also goes to the job summary."""
    markdown = render.plan_markdown(plan, source=source, warnings=warnings)
    if fmt == "text":
        return Shown([out(render.plan_text(plan, style))], markdown)
    return Shown(in_format(fmt, lambda: render.plan_json(plan, warnings), markdown), markdown)


def saved(plan_file: str, fmt: str) -> Line:
    """Where ``--out`` saved the plan (on stderr unless the output is text)."""
    return Line(
        f"\nSaved the plan to {plan_file}. To apply exactly this plan: voicectl apply {plan_file}",
        err=fmt != "text",
    )
