"""`voicectl check`: is every voice in the lockfile usable on lightning-v3.1?

Exit 0 when all is well, 1 when anything is wrong (a missing clone, one not
completed, one without lightning-v3.1, or - with ``--probe`` - synthesised audio
too short to hold speech). Reads the lockfile only; the manifest need not be valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.complete import voice_names
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import lockfile_option, output_format, text_or_json_options
from reconciler.cli.ui import connection_for, logger_for, style_for
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.checking as _engine_checking
    import reconciler.engine.environments as environments
    import reconciler.engine.workflow as workflow
    import reconciler.render.check as _render_check
    import reconciler.render.lines as _lines
else:
    _engine_checking = lazy_module("reconciler.engine.checking")
    _render_check = lazy_module("reconciler.render.check")
    _lines = lazy_module("reconciler.render.lines")
    environments = lazy_module("reconciler.engine.environments")
    workflow = lazy_module("reconciler.engine.workflow")


@click.command()
@manifest_option
@lockfile_option
@click.option(
    "--probe",
    is_flag=True,
    help="Also synthesise a short phrase with lightning_v3.1 and flag audio too short "
    "to hold speech (one TTS request per voice).",
)
@click.option(
    "--probe-parallelism",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    envvar="VOICECTL_PROBE_PARALLELISM",
    help="TTS requests at a time (the base plan allows 1).",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    shell_complete=voice_names,
    help="Check only this voice (repeatable).",
)
@text_or_json_options
@global_options
@click.pass_context
def check(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    probe: bool,
    probe_parallelism: int,
    targets: tuple[str, ...],
    fmt: str,
    as_json: bool,
) -> None:
    """Check that every voice in the lockfile exists, is completed and works on lightning-v3.1."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    fmt = output_format(ctx, fmt, as_json)

    def failed(errors: list[str]) -> dict:
        return _render_check.failed_checks_json(errors, probed=probe)

    # --json: a failure (no lockfile, no key, no service) is a document too
    with FailureReport("check", fmt, json_doc=failed, step_summary=False):
        target = environments.select(path, settings.env)
        result = _engine_checking.run_check(
            connection_for(settings, path, target),
            workflow.lockfile_path(path, lockfile, target),
            probe=probe,
            probe_parallelism=probe_parallelism,
            targets=targets,
            logger=logger_for(settings),
        )
    if fmt == "json":
        doc = _render_check.checks_json(result.checks, probed=probe)
        click.echo(_lines.json_text(doc))
    else:
        click.echo(_render_check.check_text(result, style_for(settings)))
    if result.failed:
        ctx.exit(1)


COMMANDS = [check]
