"""`voicectl apply [PLANFILE]`: make the organisation's clones match the manifest.

Without PLANFILE it lists, plans, shows the plan and asks. With PLANFILE (made by
``voicectl plan --out``) it applies exactly that plan without asking, after
checking that none of its inputs changed (``reconciler.savedplan``); a stale plan
is refused with what changed. With ``GITHUB_STEP_SUMMARY`` set, the outcome is
appended there as Markdown too.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import GlobalSettings, global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport, mark_reported
from reconciler.cli.options import (
    RunFlags,
    apply_options_of,
    apply_request,
    format_option,
    plan_options_of,
    run_options,
)
from reconciler.cli.ui import ApplyConsole, show
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.applying as _engine_applying
    import reconciler.manifest as _manifest
    import reconciler.refusals as _refusals
    import reconciler.render.applying as _render_applying
    import reconciler.savedplan as savedplan
    import reconciler.schemas as _schemas
else:
    _engine_applying = lazy_module("reconciler.engine.applying")
    _manifest = lazy_module("reconciler.manifest")
    _refusals = lazy_module("reconciler.refusals")
    _render_applying = lazy_module("reconciler.render.applying")
    _schemas = lazy_module("reconciler.schemas")
    savedplan = lazy_module("reconciler.savedplan")

# Options a saved plan fixes: giving them with PLANFILE is refused.
_FIXED_BY_PLAN = {
    "targets": "--target",
    "replace": "--replace",
    "allow_mass_delete": "--allow-mass-delete",
    "allow_outside_files": "--allow-outside-files",
    "allow_any_duration": "--allow-any-duration",
    "list_grace": "--list-grace",
    "new_organisation": "--new-organisation",
    "destroy_first": "--destroy-first",
}


@click.command()
@click.argument("plan_file", required=False, metavar="[PLANFILE]")
@manifest_option
@run_options(replace=True, identity=True, apply=True, download=True)
@format_option("text", "json", "markdown")
@global_options
@click.pass_context
def apply(
    ctx: click.Context, plan_file: str | None, manifest_file: str, flags: RunFlags, fmt: str
) -> None:
    """Create missing clones, replace changed or legacy ones, delete orphans.

    Lists the clones again, plans again, shows the plan and asks for 'yes'
    (unless --auto-approve). Every success is written to the lockfile at once.

    With PLANFILE (from `voicectl plan --out`), applies exactly that plan without
    asking, or refuses it as stale if the manifest, a sample, the lockfile or the
    remote clones changed since it was made.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    saved = None
    # a saved plan that cannot be read or used, or no (or an unknown) --env: reported
    # in the asked-for format too, before anything is listed
    with FailureReport("apply", fmt, _manifest.display_path(path)):
        if plan_file is not None:
            saved, path, flags = _saved_plan(ctx, plan_file, path, flags)
            options = savedplan.plan_options(saved)
        else:
            options = plan_options_of(flags)
        target = _engine_applying.select_target(path, settings.env, saved, plan_file)
        apply_opts = apply_options_of(flags, options)
        request = apply_request(
            flags, settings, path, target, options, apply_opts, saved=saved, plan_file=plan_file
        )
    if not run_and_show(request, settings, fmt).ok:
        ctx.exit(1)


def run_and_show(
    request: _engine_applying.ApplyRequest,
    settings: GlobalSettings,
    fmt: str,
    command: str = "apply",
    console_type: type[ApplyConsole] = ApplyConsole,
    rerun: str = "voicectl apply",
    on_interrupt: Callable[[_engine_applying.ApplyRun], None] | None = None,
) -> _engine_applying.ApplyRun:
    """Run the apply engine and render its outcome (also `voicectl migrate`'s apply).
    Interrupted, it says to run ``rerun`` again, after ``on_interrupt`` (migrate
    writes its map of what is done).

    Whatever fails on the way is also reported in the asked-for format (see
    ``cli/failures.py``): a JSON document, a Markdown report, the job summary.
    """
    env = request.conn.target.environment
    source = _render_applying.source_label(_manifest.display_path(request.path), env)
    failures = FailureReport(command, fmt, source)
    console = console_type(settings, fmt, failures)
    with failures:
        try:
            run = _engine_applying.run_apply(request, console)
        except _refusals.PlanRefused as exc:
            if exc.plan is not None:
                show(_render_applying.refused(exc.plan, fmt, source, console.seen))
                raise mark_reported(exc) from None
            raise
        if run.interrupted is not None:  # exit 130 (Ctrl-C) / 143 (SIGTERM)
            from reconciler.cli.interrupts import Interrupted
            from reconciler.engine.stopping import NAMES

            name = NAMES.get(run.interrupted, "Ctrl-C")
            shown, message = _render_applying.interrupted(
                run, name, fmt, source, console.seen, rerun=rerun
            )
            show(shown)
            if on_interrupt is not None:
                on_interrupt(run)
            raise mark_reported(Interrupted(message, run.interrupted))
        tty = sys.stdout.isatty()
        embedded, folder = request.conn.sandbox, request.download_samples
        show(
            _render_applying.applied(
                run, fmt, source, console.seen, embedded=embedded, tty=tty, samples_dir=folder
            )
        )
    return run


def _saved_plan(
    ctx: click.Context, plan_file: str, path: Path, flags: RunFlags
) -> tuple[_schemas.SavedPlanDocument, Path, RunFlags]:
    """Read PLANFILE: the options it fixes are its own (giving one is refused), and the
    manifest and lockfile are the plan's unless given explicitly."""
    given = click.core.ParameterSource
    for param, flag in _FIXED_BY_PLAN.items():
        if ctx.get_parameter_source(param) == given.COMMANDLINE:
            raise UserError(
                f"{flag} cannot be used with a saved plan: {plan_file} already fixes it "
                "(make a new plan with it instead)"
            )
    saved = savedplan.read(Path(plan_file))
    explicit = (given.COMMANDLINE, given.ENVIRONMENT)
    own_manifest = ctx.get_parameter_source("manifest_file") not in explicit
    lockfile = flags.lockfile
    if own_manifest:
        path = Path(saved.inputs.manifest.path)
        if not path.exists():
            raise UserError(savedplan.manifest_not_here(plan_file, saved.inputs.manifest.path))
        if ctx.get_parameter_source("lockfile") not in explicit:
            lockfile = saved.inputs.lockfile.path
    # with -f, the lockfile is that manifest's (beside it) unless --lockfile says otherwise:
    # the plan's recorded path is relative to the folder the plan was made in
    flags = dataclasses.replace(
        flags,
        lockfile=lockfile,
        allow_outside_files=saved.options.allow_outside_files,
        allow_any_duration=saved.options.allow_any_duration,
    )
    return saved, path, flags


COMMANDS = [apply]
