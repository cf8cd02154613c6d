"""`voicectl plan`: show how the organisation differs from the manifest."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from reconciler import render, workflow
from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import format_option, plan_options, replace_option
from reconciler.cli.ui import echo_warnings, logger_for, style_for
from reconciler.plan import PlanOptions


@click.command()
@manifest_option
@plan_options
@replace_option
@format_option("text", "json")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when changes are pending, 1 on error.",
)
@global_options
@click.pass_context
def plan(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    targets: tuple[str, ...],
    allow_mass_delete: bool,
    allow_outside_files: bool,
    allow_any_duration: bool,
    list_grace: float,
    parallelism: int,
    replace: tuple[str, ...],
    fmt: str,
    detailed_exitcode: bool,
) -> None:
    """Show what `apply` would change. Makes no change anywhere."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    loaded = workflow.load(
        path,
        lockfile=lockfile,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
    )
    echo_warnings(loaded.warnings)
    options = PlanOptions(
        targets=frozenset(targets),
        replace=frozenset(replace),
        allow_mass_delete=allow_mass_delete,
        list_grace=list_grace,
    )
    conn = workflow.connection(
        sandbox=settings.sandbox, api_url=settings.api_url, base_dir=path.parent
    )

    async def fetch():
        async with workflow.open_client(
            conn, parallelism=parallelism, logger=logger_for(settings)
        ) as client:
            return await client.list_clones()

    remote = asyncio.run(fetch())
    the_plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, options)
    if fmt == "json":
        click.echo(json.dumps(render.plan_json(the_plan), indent=2, ensure_ascii=False))
    else:
        click.echo(render.plan_text(the_plan, style_for(settings)))
    if the_plan.errors:
        raise workflow.PlanRefused(the_plan.errors)
    if detailed_exitcode and the_plan.has_changes:
        ctx.exit(2)


COMMANDS = [plan]
