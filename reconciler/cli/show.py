"""`voicectl show PLANFILE`: render a saved plan (`plan --out`) without any API call.

An apply job can show what it is about to apply: ``--format text`` (as `plan`
prints it, with where and when the plan was made), ``json`` (the plan document,
schemas/plan.schema.json) or ``markdown`` (as for a pull-request comment).
"""

from __future__ import annotations

import click

from reconciler import savedplan
from reconciler.cli.common import global_options, settings_of
from reconciler.cli.options import format_option
from reconciler.cli.ui import echo_warnings, emit, style_for
from reconciler.engine import showing
from reconciler.render import planning as _render


@click.command()
@click.argument("plan_file", metavar="PLANFILE", type=click.Path(dir_okay=False))
@format_option("text", "json", "markdown")
@global_options
@click.pass_context
def show(ctx: click.Context, plan_file: str, fmt: str) -> None:
    """Show a saved plan (from `voicectl plan --out`); no API call, no key needed.

    A plan file whose recorded paths were edited is refused, as `apply` refuses it.
    """
    shown = showing.read_checked(plan_file)
    if shown.stale:
        echo_warnings([_render.stale_warning(plan_file, shown.stale)])
    plan = savedplan.plan_of(shown.doc)
    emit(_render.saved_plan(shown.doc, plan, plan_file, fmt, style_for(settings_of(ctx))))


COMMANDS = [show]
