"""`voicectl samples`: the sample clips the service made for each clone, to listen to.

Lists the clips recorded in the lockfile (every voice, or NAME); with
``--download DIR`` saves them as ``DIR/NAME-N.wav`` and measures each one (the
same analysis as the manifest's samples): a silent or near-empty clip is
reported, because it means the clone will not speak. Exit 1 when a download
failed or a clip has a problem. ``--format json`` prints ``samples.schema.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.complete import voice_names
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import lockfile_option, output_format, text_or_json_options
from reconciler.cli.ui import emit, logger_for
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.clips as clip_engine
    import reconciler.engine.environments as environments
    import reconciler.engine.workflow as workflow
    import reconciler.render.clips as _render
    import reconciler.render.lines as _lines
else:
    clip_engine = lazy_module("reconciler.engine.clips")
    environments = lazy_module("reconciler.engine.environments")
    workflow = lazy_module("reconciler.engine.workflow")
    _render = lazy_module("reconciler.render.clips")
    _lines = lazy_module("reconciler.render.lines")


@click.command()
@click.argument("name", required=False, shell_complete=voice_names)
@manifest_option
@lockfile_option
@click.option(
    "--download",
    "dest",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Save the clips as DIR/NAME-N.wav and check each one (silent, near-empty).",
)
@text_or_json_options
@global_options
@click.pass_context
def samples(
    ctx: click.Context,
    name: str | None,
    manifest_file: str,
    lockfile: str | None,
    dest: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """List (and with --download, fetch and check) the clones' sample clips.

    With environments, --env NAME reads that environment's lockfile.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    fmt = output_format(ctx, fmt, as_json)
    # --json: a failure (no lockfile, no key, no service) is a document too
    with FailureReport("samples", fmt, json_doc=_render.failed_samples_json, step_summary=False):
        target = environments.select(path, settings.env)
        run = clip_engine.run_samples(
            lambda: workflow.connection(
                sandbox=settings.sandbox,
                api_url=settings.api_url,
                base_dir=path.parent,
                target=target,
            ),
            workflow.lockfile_path(path, lockfile, target),
            name,
            Path(dest) if dest is not None else None,
            logger=logger_for(settings),
        )
    if fmt == "json":
        click.echo(_lines.json_text(_render.samples_json(run)))
    else:
        emit(_render.samples_text(run, name, embedded=settings.sandbox))
    if run.bad:
        raise UserError(_render.problems(run))


COMMANDS = [samples]
