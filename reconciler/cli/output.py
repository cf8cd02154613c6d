"""`voicectl output`: print voiceIds from the lockfile (no API call)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import yaml

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lockfile_option
from reconciler.engine import environments, workflow
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile


def env_name(name: str) -> str:
    """VOICE_ID_<NAME>, with every character that is not a letter or digit as _."""
    return "VOICE_ID_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@click.command()
@click.argument("name", required=False)
@manifest_option
@lockfile_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "env", "yaml", "raw"]),
    default=None,
    help="json (default for all voices), env (VOICE_ID_NAME=...), yaml, or raw "
    "(default for one NAME: the bare voiceId).",
)
@global_options
def output(name: str | None, manifest_file: str, lockfile: str | None, fmt: str | None) -> None:
    """Print the voiceIds recorded in the lockfile, for apps and scripts.

    With environments, --env NAME reads that environment's lockfile.
    """
    settings = settings_of(click.get_current_context())
    target = environments.select(Path(manifest_file), settings.env)
    path = workflow.lockfile_path(Path(manifest_file), lockfile, target)
    lock = Lockfile.load(path)
    if not lock.exists:
        raise UserError(f"{path}: no lockfile yet; run `voicectl apply` first")
    ids = {n: e.voice_id for n, e in sorted(lock.doc.voices.items())}
    if name is not None:
        if name not in ids:
            known = ", ".join(ids) or "none"
            raise UserError(f"{path}: no voice named {name!r} (recorded: {known})")
        ids = {name: ids[name]}
        fmt = fmt or "raw"
    fmt = fmt or "json"
    if fmt == "raw":
        for voice_id in ids.values():
            click.echo(voice_id)
    elif fmt == "json":
        click.echo(json.dumps(ids, indent=2, sort_keys=True))
    elif fmt == "env":
        for n, voice_id in ids.items():
            click.echo(f"{env_name(n)}={voice_id}")
    else:
        click.echo(yaml.safe_dump(ids, sort_keys=True, default_flow_style=False), nl=False)


COMMANDS = [output]
