"""`voicectl migrate`: move managed legacy lightning-large clones to lightning-v3.1.

The use case (a plan and apply limited to legacy replacements; ``--finish``: to
deleting the old clones kept by ``--keep-legacy``; the old -> new voiceId map) is
``reconciler.engine.migrating``; this module parses, runs it through the apply
engine, and prints the map. ``--format json`` prints the apply document
(schemas/apply.schema.json) instead; the map's JSON (``--map-out``) is
schemas/migration-map.schema.json.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import (
    RunFlags,
    apply_options_of,
    apply_request,
    format_option,
    plan_options_of,
    run_options,
)
from reconciler.cli.ui import ApplyConsole, FinishConsole, emit
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.cli.apply as _cli_apply
    import reconciler.engine.applying as _engine_applying
    import reconciler.engine.migrating as migrating
    import reconciler.engine.workflow as workflow
    import reconciler.render.migrating as _render_migrating
else:
    _cli_apply = lazy_module("reconciler.cli.apply")
    _engine_applying = lazy_module("reconciler.engine.applying")
    migrating = lazy_module("reconciler.engine.migrating")
    _render_migrating = lazy_module("reconciler.render.migrating")
    workflow = lazy_module("reconciler.engine.workflow")


@click.command()
@manifest_option
@run_options(apply=True, download=True, destroy_first=True)
@click.option(
    "--keep-legacy",
    is_flag=True,
    help="Keep the old legacy clones (recorded as retired in the lockfile) until "
    "`voicectl migrate --finish`.",
)
@click.option(
    "--finish",
    is_flag=True,
    help="Delete the retired legacy clones kept by --keep-legacy (after checking that each "
    "replacement exists, is completed and on lightning-v3.1).",
)
@click.option(
    "--map-out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the old -> new voiceId map as JSON (for apps and config repos).",
)
@format_option("text", "json")
@global_options
@click.pass_context
def migrate(
    ctx: click.Context,
    manifest_file: str,
    flags: RunFlags,
    keep_legacy: bool,
    finish: bool,
    map_out: str | None,
    fmt: str,
) -> None:
    """Re-clone managed legacy (lightning-large) voices on lightning-v3.1.

    A plan and apply limited to legacy replacements; prints the old -> new voiceId
    table. Exit 1 if anything failed or a voice is still being processed. With
    --finish, deletes the old clones kept by --keep-legacy (the same plan, apply,
    progress, refusals, JSON and job summary as `voicectl apply`).
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    with FailureReport("migrate", fmt):  # --format json: an early refusal is one document too
        target = _engine_applying.select_target(path, settings.env)
        if map_out:  # before any clone is made: a lost map leaves apps on the old voiceIds
            own = workflow.own_files(path, flags.lockfile, target)
            migrating.check_map_writable(Path(map_out), own)
        if finish:
            if keep_legacy:
                raise UserError("--finish and --keep-legacy contradict each other; pick one")
            if flags.download_samples:
                raise UserError("--download-samples has no use with --finish (it makes no clone)")
            if flags.destroy_first:
                raise UserError("--destroy-first has no use with --finish (it makes no clone)")
            migrating.check_finishable(path, flags.lockfile, target)
    if finish:
        options = plan_options_of(flags, finish_retired=True)  # see engine.migrating
    else:
        options = plan_options_of(flags, legacy_only=True, keep_legacy=keep_legacy)
    apply_opts = apply_options_of(flags, options, keep_legacy=keep_legacy)
    hint = migrating.FINISH_HINT if finish else None
    request = apply_request(flags, settings, path, target, options, apply_opts, refusal_hint=hint)
    console = FinishConsole if finish else ApplyConsole
    lock_path = workflow.lockfile_path(path, flags.lockfile, target)

    def write_map(doc) -> None:
        if not map_out:
            return
        there = Path(map_out)
        if not migrating.migration_map(doc)["voices"] and there.is_file() and there.stat().st_size:
            # nothing migrated yet (new clones still processing): an earlier map stays
            emit([_render_migrating.map_kept(map_out, fmt)])
            return
        migrating.write_map(there, doc)
        emit([_render_migrating.map_written(map_out, fmt)])

    rerun = _rerun(finish=finish, keep_legacy=keep_legacy, map_out=map_out)
    run = _cli_apply.run_and_show(
        request,
        settings,
        fmt,
        command="migrate",
        console_type=console,
        rerun=rerun,
        # the voiceIds already changed are in the map, as in the lockfile
        on_interrupt=lambda run: write_map(migrating.result_of(run, lock_path).doc),
    )
    result = migrating.result_of(run, lock_path)
    emit(_render_migrating.tail(result, finish=finish, fmt=fmt))
    write_map(result.doc)
    if result.waiting and not finish:
        raise UserError(_render_migrating.still_processing(result, rerun))
    if not run.ok:
        ctx.exit(1)


def _rerun(*, finish: bool, keep_legacy: bool, map_out: str | None) -> str:
    """The migrate command that does the rest of an interrupted one (the same options
    that decide what happens to the old clones and where the map goes)."""
    words = ["voicectl migrate"]
    words += ["--finish"] if finish else []
    words += ["--keep-legacy"] if keep_legacy else []
    words += [f"--map-out {shlex.quote(map_out)}"] if map_out else []
    return " ".join(words)


COMMANDS = [migrate]
