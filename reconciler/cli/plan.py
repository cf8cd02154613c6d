"""`voicectl plan`: show how the organisation differs from the manifest.

``--format text|json|markdown``; ``--detailed-exitcode`` exits 2 when changes are
pending (drift included); ``--out FILE`` saves the plan for ``voicectl apply FILE``
(see ``reconciler.savedplan``). With ``GITHUB_STEP_SUMMARY`` set, the Markdown
form is appended to that file too, whatever ``--format`` says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport, mark_reported
from reconciler.cli.options import RunFlags, format_option, plan_options_of, run_options
from reconciler.cli.ui import (
    connection_for,
    echo_warnings,
    emit,
    logger_for,
    style_for,
    summarise,
)
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.allenvs as allenvs
    import reconciler.engine.environments as environments
    import reconciler.engine.planning as _engine_planning
    import reconciler.manifest as _manifest
    import reconciler.refusals as _refusals
    import reconciler.render.applying as _render_applying
    import reconciler.render.environments as render_envs
    import reconciler.render.planning as _render_planning
else:
    _engine_planning = lazy_module("reconciler.engine.planning")
    _manifest = lazy_module("reconciler.manifest")
    _refusals = lazy_module("reconciler.refusals")
    allenvs = lazy_module("reconciler.engine.allenvs")
    environments = lazy_module("reconciler.engine.environments")
    _render_applying = lazy_module("reconciler.render.applying")
    _render_planning = lazy_module("reconciler.render.planning")
    render_envs = lazy_module("reconciler.render.environments")


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
        with FailureReport("plan --all-envs", fmt, _manifest.display_path(path)):
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
            code = _plan_all_envs(settings, path, flags, fmt)
    else:
        with FailureReport("plan", fmt, _manifest.display_path(path)) as report:
            code = _plan(settings, path, manifest_file, report, flags, fmt, out)
    if code == 1 or (detailed_exitcode and code == 2):
        ctx.exit(code)


def _plan(settings, path: Path, manifest_arg: str, report, flags: RunFlags, fmt: str, out):
    """One environment: 0 converged, 2 not (changes, clones still being made, another
    run busy); a refused plan is shown, then raised."""
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
        manifest_arg=manifest_arg,
    )
    report.source = _render_applying.source_label(_manifest.display_path(path), target.environment)
    shown = _render_planning.planned(
        run.plan, fmt, style_for(settings), source=report.source, warnings=run.loaded.warnings
    )
    summarise(shown.markdown)  # before the plan: it is appended even when the plan is refused
    emit(shown.lines)
    try:
        run.plan.raise_if_unsafe()
    except _refusals.PlanRefused as exc:
        raise mark_reported(exc) from None
    if out is not None:
        emit([_render_planning.saved(out, fmt)])
    return 0 if run.plan.converged else 2


def _plan_all_envs(settings, path: Path, flags: RunFlags, fmt: str) -> int:
    """Every environment: 0 no changes, 2 changes somewhere, 1 one failed or was
    refused (the others are still planned and shown)."""
    result = allenvs.run_all(
        path,
        lambda target: connection_for(settings, path, target),
        plan_options_of(flags),
        sandbox=settings.sandbox,
        parallelism=flags.parallelism,
        logger=logger_for(settings),
        warn=echo_warnings,
        allow_outside_files=flags.allow_outside_files,
        allow_any_duration=flags.allow_any_duration,
    )
    source = _manifest.display_path(path)
    shown = render_envs.all_shown(result, fmt, style_for(settings), source=source)
    summarise(shown.markdown)
    emit(shown.lines)
    if result.failed or result.refused:
        return 1
    return 2 if result.has_changes else 0


COMMANDS = [plan]
