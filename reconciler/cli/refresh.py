"""`voicectl refresh`: bring the lockfile up to date with the service, changing no clone.

The use case is ``reconciler.engine.refreshing`` (what is copied, what is kept);
this module parses, calls it and renders (``reconciler.render.refresh``).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import format_option, lock_timeout_option, lockfile_option
from reconciler.cli.ui import connection_for, echo_notice, emit, logger_for
from reconciler.engine import environments, workflow
from reconciler.engine.refreshing import run_refresh
from reconciler.render.lines import json_text
from reconciler.render.refresh import failed_refresh_json, refresh_json, refresh_text


@click.command()
@manifest_option
@lockfile_option
@lock_timeout_option
@format_option("text", "json")
@global_options
@click.pass_context
def refresh(
    ctx: click.Context, manifest_file: str, lockfile: str | None, lock_timeout: float, fmt: str
) -> None:
    """Update the lockfile from the service (status, modelIds, samples...).

    Never creates, deletes or adopts a clone. A recorded clone the service no
    longer lists is reported and kept in the lockfile; `voicectl plan` shows what
    to do about it. The manifest is not read, only its folder (for the lockfile).
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    # --format json: a failure (no lockfile, no key, no service) is a document too
    failures = FailureReport("refresh", fmt, json_doc=failed_refresh_json, step_summary=False)
    with failures:
        target = environments.select(path, settings.env)
        lock_path = workflow.lockfile_path(path, lockfile, target)
        failures.json_doc = lambda errors: failed_refresh_json(errors, lock_path)
        result = run_refresh(
            path,
            connection_for(settings, path, target),
            lockfile=lockfile,
            lock_timeout=lock_timeout,
            logger=logger_for(settings),
            on_wait=echo_notice,
        )
    if fmt == "json":
        click.echo(json_text(refresh_json(result)))
        return
    emit(refresh_text(result))


COMMANDS = [refresh]
