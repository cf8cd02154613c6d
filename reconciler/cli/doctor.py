"""`voicectl doctor`: a read-only check of the key, the endpoint and the organisation.

Parse, call :func:`reconciler.engine.doctor.diagnose`, render (a table, or
``--format json`` per ``schemas/doctor.schema.json``), exit 1 when something
voicectl needs is missing. It makes no clone and deletes nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import lockfile_option, output_format, text_or_json_options
from reconciler.cli.ui import logger_for, style_for
from reconciler.engine import environments, workflow
from reconciler.engine.doctor import diagnose
from reconciler.lockfile import Lockfile
from reconciler.render import doctor as _render
from reconciler.render.lines import json_text


@click.command()
@manifest_option
@lockfile_option
@text_or_json_options
@global_options
@click.pass_context
def doctor(
    ctx: click.Context, manifest_file: str, lockfile: str | None, fmt: str, as_json: bool
) -> None:
    """Check the key, the endpoint and the organisation: which API world this is.

    Read-only: deletes are probed with a voiceId that cannot exist and creates
    without a file, so nothing is made or deleted. Exit 1 when something voicectl
    needs is missing (a key that lists, a create that accepts lightning-v3.1).
    A manifest is not needed; its lockfile, if there is one, tells managed clones.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    fmt = output_format(ctx, fmt, as_json)
    # --format json: a failure before any check (no key, an unknown environment, an
    # unreadable lockfile) is a document too
    with FailureReport("doctor", fmt, json_doc=_render.failed_doctor_json, step_summary=False):
        known = path.exists() or settings.env is not None  # --env: its manifest must be read
        target = environments.select(path, settings.env) if known else environments.PLAIN
        lock_path = workflow.lockfile_path(path, lockfile, target)
        lock = Lockfile.load(lock_path) if lock_path.exists() else None
        conn = workflow.connection(
            sandbox=settings.sandbox,
            api_url=settings.api_url,
            base_dir=path.parent,
            target=target,
            delete_via=settings.delete_via,
        )

        async def run():
            async with workflow.open_client(conn, logger=logger_for(settings)) as client:
                return await diagnose(
                    client, lock=lock.doc if lock else None, delete_via=conn.delete_via
                )

        report = asyncio.run(run())
    if fmt == "json":
        click.echo(json_text(_render.doctor_json(report)))
    else:
        click.echo(_render.doctor_text(report, style_for(settings)))
    for line in _render.doctor_errors(report):
        click.echo(f"Error: {line}", err=True)
    ctx.exit(0 if report.ok else 1)


COMMANDS = [doctor]
