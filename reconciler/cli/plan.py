"""`voicectl plan`: show how the organisation differs from the manifest.

``--format text|json|markdown``; ``--detailed-exitcode`` exits 2 when changes are
pending (drift included); ``--out FILE`` saves the plan for ``voicectl apply FILE``
(see ``reconciler.savedplan``). With ``GITHUB_STEP_SUMMARY`` set, the Markdown
form is appended to that file too, whatever ``--format`` says.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport, mark_reported
from reconciler.cli.options import RunFlags, format_option, plan_options_of, run_options
from reconciler.cli.ui import connection_for, echo_warnings, logger_for, style_for
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.allenvs as allenvs
    import reconciler.engine.environments as environments
    import reconciler.engine.planning as _engine_planning
    import reconciler.manifest as _manifest
    import reconciler.refusals as _refusals
    import reconciler.render as render
else:
    _engine_planning = lazy_module("reconciler.engine.planning")
    _manifest = lazy_module("reconciler.manifest")
    _refusals = lazy_module("reconciler.refusals")
    allenvs = lazy_module("reconciler.engine.allenvs")
    environments = lazy_module("reconciler.engine.environments")
    render = lazy_module("reconciler.render")


@click.command()
@manifest_option
@run_options(replace=True, identity=True)
@format_option("text", "json", "markdown")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when converged, 2 when changes are pending or clones are still being "
    "made, 1 on error.",
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
    flags: RunFlags,
    fmt: str,
    detailed_exitcode: bool,
    all_envs: bool,
    out: str | None,
) -> None:
    """Show what `apply` would change. Makes no change anywhere (except --out FILE)."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    if all_envs:
        for flag, value in (
            ("--out", out),
            ("--lockfile", flags.lockfile),
            ("--env", settings.env),
        ):
            if value:
                raise UserError(
                    f"--all-envs cannot be used with {flag} (it plans each "
                    "environment with its own lockfile)"
                )
        code = _plan_all_envs(settings, path, flags, fmt=fmt)
        if code == 1:
            ctx.exit(1)
        if detailed_exitcode and code == 2:
            ctx.exit(2)
        return
    with FailureReport("plan", fmt, _manifest.display_path(path)) as report:
        changes = _plan(settings, path, manifest_file, report, flags, fmt=fmt, out=out)
    if detailed_exitcode and changes:
        ctx.exit(2)


def _plan(
    settings,
    path: Path,
    manifest_file: str,
    report: FailureReport,
    flags: RunFlags,
    *,
    fmt: str,
    out: str | None,
) -> bool:
    """Load, list, plan, save (--out), print; True when anything is not converged."""
    target = environments.select(path, settings.env)

    def warn(warnings) -> None:
        report.warnings = list(warnings)
        echo_warnings(report.warnings)

    run = _engine_planning.run_plan(
        path,
        connection_for(settings, path, target),
        plan_options_of(flags),
        lockfile=flags.lockfile,
        allow_outside_files=flags.allow_outside_files,
        allow_any_duration=flags.allow_any_duration,
        parallelism=flags.parallelism,
        logger=logger_for(settings),
        warn=warn,
        out=Path(out) if out is not None else None,
    )
    the_plan = run.plan
    if out is not None and not the_plan.errors:  # before printing: a failed save is a failure
        _engine_planning.save_plan(
            run,
            Path(out),
            manifest_arg=manifest_file,
            allow_outside_files=flags.allow_outside_files,
            allow_any_duration=flags.allow_any_duration,
        )
    source = _manifest.display_path(path)
    if target.environment is not None:
        source = f"{source} ({target.environment})"
    report.source = source
    warnings = run.loaded.warnings
    markdown = render.plan_markdown(the_plan, source=source, warnings=warnings)
    problem = render.append_step_summary(markdown)
    echo_warnings([problem] if problem else [])
    if fmt == "json":
        doc_json = render.plan_json(the_plan, warnings)
        click.echo(json.dumps(doc_json, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(markdown, nl=False)
    else:
        click.echo(render.plan_text(the_plan, style_for(settings)))
    try:
        the_plan.raise_if_unsafe()
    except _refusals.PlanRefused as exc:
        raise mark_reported(exc) from None
    if out is not None:
        click.echo(
            f"\nSaved the plan to {out}. To apply exactly this plan: voicectl apply {out}",
            err=fmt != "text",
        )
    return not the_plan.converged  # changes, clones still being made, another run busy


def _plan_all_envs(settings, path: Path, flags: RunFlags, *, fmt: str) -> int:
    """Plan every environment: 0 no changes, 2 changes somewhere, 1 one failed or
    was refused (the others are still planned and shown)."""
    from reconciler.render import environments as render_envs

    targets = environments.every(path)
    allenvs.check_keys(targets, sandbox=settings.sandbox)
    plans, warnings = allenvs.load_all(
        path,
        targets=targets,
        allow_outside_files=flags.allow_outside_files,
        allow_any_duration=flags.allow_any_duration,
    )
    echo_warnings(warnings)
    conns = [connection_for(settings, path, t) for t in targets]
    asyncio.run(
        allenvs.fetch_all(plans, conns, parallelism=flags.parallelism, logger=logger_for(settings))
    )
    allenvs.plan_all(plans, plan_options_of(flags))
    result = allenvs.AllPlans(plans, warnings)
    source = _manifest.display_path(path)
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
