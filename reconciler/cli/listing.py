"""`voicectl list`: the organisation's clones as a table (or versioned JSON).

(The module is not named list.py: importing it would bind `reconciler.cli.list` in the
package namespace and shadow the builtin `list` inside reconciler/cli/__init__.py.)

The manifest is optional: ownership comes from the clones' tags, and when a
lockfile is found (beside ``-f``, or ``--lockfile``) clones recorded there, such
as imported ones, show their stack/name too. Nothing is changed anywhere.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.failures import FailureReport
from reconciler.cli.options import lockfile_option, output_format, text_or_json_options
from reconciler.cli.ui import connection_for, logger_for, style_for
from reconciler.engine import environments, workflow
from reconciler.engine.inventory import run_list
from reconciler.render.inventory import failed_inventory_json, inventory_json, list_text
from reconciler.render.lines import json_text


@click.command("list")
@manifest_option
@lockfile_option
@text_or_json_options
@click.option("--legacy", "only_legacy", is_flag=True, help="Only clones without lightning-v3.1.")
@click.option("--unmanaged", "only_unmanaged", is_flag=True, help="Only clones nobody manages.")
@global_options
@click.pass_context
def list_(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    fmt: str,
    as_json: bool,
    only_legacy: bool,
    only_unmanaged: bool,
) -> None:
    """List the organisation's clones: status, models (LEGACY marked), owner, age."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    fmt = output_format(ctx, fmt, as_json)
    # --json: a failure (no key, an unknown environment, no service) is a document too
    with FailureReport("list", fmt, json_doc=failed_inventory_json, step_summary=False):
        target = environments.select(path, settings.env)
        conn = connection_for(settings, path, target)
        rows = run_list(
            conn,
            workflow.lockfile_path(path, lockfile, target),
            only_legacy=only_legacy,
            only_unmanaged=only_unmanaged,
            logger=logger_for(settings),
        )
    if fmt == "json":
        click.echo(json_text(inventory_json(rows)))
        return
    style = style_for(settings)

    def mark(text: str) -> str:
        return style(text, "yellow", bold=True)

    for line in list_text(rows, filtered=only_legacy or only_unmanaged, mark=mark):
        click.echo(line)


COMMANDS = [list_]
