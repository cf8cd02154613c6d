"""`voicectl show PLANFILE`: render a saved plan (`plan --out`) without any API call.

An apply job can show what it is about to apply: ``--format text`` (as `plan`
prints it, with where and when the plan was made), ``json`` (the plan document,
schemas/plan.schema.json) or ``markdown`` (as for a pull-request comment).
"""

from __future__ import annotations

import json

import click

from reconciler import render, savedplan
from reconciler.cli.common import global_options, settings_of
from reconciler.cli.options import format_option
from reconciler.cli.ui import echo_warnings, style_for
from reconciler.engine import showing


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
    doc = shown.doc
    if shown.stale:
        echo_warnings(
            [
                f"{plan_file} is stale: {'; '.join(shown.stale)}; `voicectl apply "
                f"{plan_file}` would refuse it"
            ]
        )
    plan = savedplan.plan_of(doc)
    manifest = doc.inputs.manifest.path
    if doc.inputs.environment:
        manifest = f"{manifest} ({doc.inputs.environment})"
    if fmt == "json":
        click.echo(
            json.dumps(
                doc.plan.model_dump(by_alias=True, mode="json"), indent=2, ensure_ascii=False
            )
        )
        return
    if fmt == "markdown":
        click.echo(render.plan_markdown(plan, source=manifest), nl=False)
        return
    click.echo(
        f"Saved plan {render.clean(plan_file)}: made {doc.created_at} by voicectl "
        f"{doc.voicectl_version} from {render.clean(manifest)}, against "
        f"{render.clean(doc.inputs.remote.endpoint)}."
    )
    click.echo(f"`voicectl apply {render.clean(plan_file)}` applies exactly this plan.\n")
    click.echo(render.plan_text(plan, style_for(settings_of(ctx))))


COMMANDS = [show]
