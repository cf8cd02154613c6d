"""`voicectl output`: print voiceIds from the lockfile (no API call)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click
import yaml

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.complete import voice_names
from reconciler.cli.options import lockfile_option
from reconciler.errors import UserError
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.environments as environments
    import reconciler.engine.workflow as workflow
    import reconciler.lockfile as _lockfile
else:
    _lockfile = lazy_module("reconciler.lockfile")
    environments = lazy_module("reconciler.engine.environments")
    workflow = lazy_module("reconciler.engine.workflow")


def env_name(name: str) -> str:
    """VOICE_ID_<NAME>, with every character that is not a letter or digit as _."""
    return "VOICE_ID_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@click.command()
@click.argument("name", required=False, shell_complete=voice_names)
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
    lock = _lockfile.Lockfile.load(path)
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
