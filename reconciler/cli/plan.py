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
from reconciler.engine import allenvs, environments, workflow
from reconciler.errors import UserError
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
    "--all-envs",
    is_flag=True,
    help="Plan every environment the manifest declares (lists fetched concurrently): "
    "a summary table, then each plan.",
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
    all_envs: bool,
    out: str | None,
) -> None:
    """Show what `apply` would change. Makes no change anywhere (except --out FILE)."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    options = PlanOptions(
        targets=frozenset(targets),
        replace=frozenset(replace),
        allow_mass_delete=allow_mass_delete,
        list_grace=list_grace,
    )
    if all_envs:
        for flag, value in (("--out", out), ("--lockfile", lockfile), ("--env", settings.env)):
            if value:
                raise UserError(f"--all-envs cannot be used with {flag} (it plans each "
                                "environment with its own lockfile)")
        code = _plan_all_envs(
            settings, path, options, fmt=fmt, parallelism=parallelism,
            allow_outside_files=allow_outside_files, allow_any_duration=allow_any_duration,
        )
        if code == 1:
            ctx.exit(1)
        if detailed_exitcode and code == 2:
            ctx.exit(2)
        return
    target = environments.select(path, settings.env)
    loaded = workflow.load(
        path,
        lockfile=lockfile,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        target=target,
    )
    echo_warnings(loaded.warnings)
    conn = workflow.connection(
        sandbox=settings.sandbox, api_url=settings.api_url, base_dir=path.parent, target=target
    )
    endpoint = savedplan.endpoint_for(sandbox=settings.sandbox, api_url=conn.url)

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
    if target.environment is not None:
        source = f"{source} ({target.environment})"
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


def _plan_all_envs(
    settings, path: Path, options: PlanOptions, *, fmt: str, parallelism: int, **load_options
) -> int:
    """Plan every environment: 0 no changes, 2 changes somewhere, 1 one failed or
    was refused (the others are still planned and shown)."""
    from reconciler.render import environments as render_envs

    targets = environments.every(path)
    allenvs.check_keys(targets, sandbox=settings.sandbox)
    plans, warnings = allenvs.load_all(path, targets=targets, **load_options)
    echo_warnings(warnings)
    conns = [
        workflow.connection(
            sandbox=settings.sandbox, api_url=settings.api_url, base_dir=path.parent, target=t
        )
        for t in targets
    ]
    asyncio.run(
        allenvs.fetch_all(plans, conns, parallelism=parallelism, logger=logger_for(settings))
    )
    allenvs.plan_all(plans, options)
    result = allenvs.AllPlans(plans, warnings)
    source = display_path(path)
    markdown = render_envs.all_markdown(result, source=source)
    problem = render.append_step_summary(markdown)
    echo_warnings([problem] if problem else [])
    if fmt == "json":
        click.echo(json.dumps(render_envs.all_json(result), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(markdown, nl=False)
    else:
        click.echo(render_envs.all_text(result, style_for(settings)))
    for env_plan in result.failed:
        click.echo(
            f"Error: environment {env_plan.name}: could not be planned: {env_plan.error}",
            err=True,
        )
    for env_plan in result.refused:
        click.echo(f"Error: environment {env_plan.name}: the plan was refused", err=True)
    if result.failed or result.refused:
        return 1
    return 2 if result.has_changes else 0


COMMANDS = [plan]
