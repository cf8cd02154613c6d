"""`voicectl plan`: show how the organisation differs from the manifest.

``--format text|json|markdown``; ``--detailed-exitcode`` exits 2 when changes are
pending (drift included); ``--out FILE`` saves the plan for ``voicectl apply FILE``
(see ``reconciler.savedplan``). With ``GITHUB_STEP_SUMMARY`` set, the Markdown
form is appended to that file too, whatever ``--format`` says.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path

import click

from reconciler import render, savedplan
from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import format_option, plan_options, replace_option
from reconciler.cli.ui import echo_warnings, logger_for, style_for
from reconciler.engine import workflow
from reconciler.manifest import display_path
from reconciler.plan import PlanOptions


@click.command()
@manifest_option
@plan_options
@replace_option
@format_option("text", "json", "markdown")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when changes are pending, 1 on error.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE",
    help="Save the plan to FILE; `voicectl apply FILE` then applies exactly it, or refuses "
    "if anything changed meanwhile. The file holds no secret.",
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
    out: str | None,
) -> None:
    """Show what `apply` would change. Makes no change anywhere (except --out FILE)."""
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
    endpoint = savedplan.endpoint_for(sandbox=settings.sandbox, api_url=settings.api_url)
    conn = workflow.connection(
        sandbox=settings.sandbox, api_url=settings.api_url, base_dir=path.parent
    )

    async def fetch():
        async with workflow.open_client(
            conn, parallelism=parallelism, logger=logger_for(settings)
        ) as client:
            return await client.list_clones()

    remote = asyncio.run(fetch())
    # The clock is part of the plan (list grace); a saved plan keeps it, so that
    # `apply FILE` plans again at this same instant.
    options = dataclasses.replace(options, now=time.time())
    the_plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, options)
    source = display_path(path)
    problem = render.append_step_summary(render.plan_markdown(the_plan, source=source))
    echo_warnings([problem] if problem else [])
    if fmt == "json":
        click.echo(json.dumps(render.plan_json(the_plan), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render.plan_markdown(the_plan, source=source), nl=False)
    else:
        click.echo(render.plan_text(the_plan, style_for(settings)))
    if the_plan.errors:
        raise workflow.PlanRefused(the_plan.errors)
    if out is not None:
        doc = savedplan.build(
            manifest=loaded.manifest,
            manifest_arg=manifest_file,
            lock=loaded.lock,
            remote=remote,
            plan=the_plan,
            options=options,
            endpoint=endpoint,
            allow_outside_files=allow_outside_files,
            allow_any_duration=allow_any_duration,
        )
        savedplan.write(Path(out), doc)
        click.echo(
            f"\nSaved the plan to {out}. To apply exactly this plan: voicectl apply {out}",
            err=fmt != "text",
        )
    if detailed_exitcode and the_plan.has_changes:
        ctx.exit(2)


COMMANDS = [plan]
