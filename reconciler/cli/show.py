"""`voicectl show PLANFILE`: render a saved plan (`plan --out`) without any API call.

An apply job can show what it is about to apply: ``--format text`` (as `plan`
prints it, with where and when the plan was made), ``json`` (the plan document,
schemas/plan.schema.json) or ``markdown`` (as for a pull-request comment).
"""

from __future__ import annotations

from typing import Any

import click

from reconciler import savedplan
from reconciler.cli.common import global_options, settings_of
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import format_option
from reconciler.cli.ui import echo_warnings, emit, style_for
from reconciler.engine import showing
from reconciler.render import planning as _render
from reconciler.render.problems import failed_plan_json


@click.command()
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(dir_okay=False))
@format_option("text", "json", "markdown")
@global_options
@click.pass_context
def show(ctx: click.Context, plan_file: str, fmt: str) -> None:
    """Show a saved plan (from `voicectl plan --out`); no API call, no key needed.

    A plan file whose recorded paths were edited is refused, as `apply` refuses it.
    """
    # --format json: a plan file that cannot be shown is a (failed) plan document too
    with FailureReport("show", fmt, json_doc=_failed_plan, step_summary=False):
        shown = showing.read_checked(plan_file)
    if shown.stale:
        echo_warnings([_render.stale_warning(plan_file, shown.stale)])
    plan = savedplan.plan_of(shown.doc)
    emit(_render.saved_plan(shown.doc, plan, plan_file, fmt, style_for(settings_of(ctx))))


def _failed_plan(errors: list[str]) -> dict[str, Any]:
    return failed_plan_json(errors, [])


COMMANDS = [show]
