"""`voicectl import`: adopt existing clones that no stack owns into voices.yaml and the lockfile.

The use case (list, choose, write both files under the run lock, all or
nothing) is ``reconciler.engine.importing``; this module parses, calls it and
prints what it adopted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lock_timeout_option, lockfile_option
from reconciler.cli.ui import connection_for, echo_notice, echo_warnings, logger_for
from reconciler.engine import adoption, environments
from reconciler.engine.importing import count, run_import
from reconciler.errors import UserError
from reconciler.manifest import FILE_PLACEHOLDER, NAME_PATTERN, display_path
from reconciler.render.inventory import LEGACY_MARK
from reconciler.render.table import table
from reconciler.text import clean


@click.command("import")
@manifest_option
@lockfile_option
@click.option(
    "--samples",
    "samples_dir",
    type=click.Path(),
    default=None,
    metavar="DIR",
    help="Folder of original samples: a file named after a clone (its new name, its "
    "displayName or its voiceId; .wav .mp3 .mp4 .m4a .webm) becomes its `file:`.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="PATTERN",
    help="Import only clones whose voiceId or displayName matches this glob (repeatable).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERN",
    help="Leave out clones whose voiceId or displayName matches this glob (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print the YAML it would add; write nothing.")
@click.option(
    "--stack",
    default=None,
    metavar="NAME",
    help="The stack of a NEW manifest (default: default); an existing manifest keeps its own.",
)
@click.option(
    "--allow-outside-files",
    is_flag=True,
    help="Allow a --samples folder outside the manifest's folder (absolute paths are written).",
)
@lock_timeout_option
@global_options
@click.pass_context
def import_(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    samples_dir: str | None,
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    dry_run: bool,
    stack: str | None,
    allow_outside_files: bool,
    lock_timeout: float,
) -> None:
    """Adopt existing clones that no stack owns into the manifest and the lockfile.

    One stanza per clone, named after its displayName, with the metadata the
    service reports. Never deletes or re-clones anything.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    target = environments.select(path, settings.env)
    if stack is not None and not re.match(NAME_PATTERN, stack):
        raise UserError(
            f"--stack {stack!r}: use 1-63 characters from a-z 0-9 . _ -, starting with "
            "a letter or digit"
        )
    result = run_import(
        path,
        connection_for(settings, path, target),
        lockfile=lockfile,
        samples_dir=samples_dir,
        select=select,
        exclude=exclude,
        dry_run=dry_run,
        stack=stack,
        allow_outside_files=allow_outside_files,
        lock_timeout=lock_timeout,
        logger=logger_for(settings),
        on_wait=echo_notice,
    )
    echo_warnings(result.warnings)
    _report_skips(result.skipped, select)
    if not result.adoptions:
        _nothing(select)
        return
    echo_warnings(_notes(result.adoptions))
    if dry_run:
        click.echo("voices:")
        click.echo(adoption.stanzas_text(result.adoptions), nl=False)
        click.echo(
            f"Would import {count(len(result.adoptions), 'clone')} into {display_path(path)}; "
            "nothing was written (--dry-run).",
            err=True,
        )
        return
    _summary(path, result.lock_path, result.adoptions)


def _label(clone) -> str:
    return f"{clean(clone.voice_id)} ({json.dumps(clean(clone.display_name), ensure_ascii=False)})"


def _report_skips(skipped, select) -> None:
    for skip in skipped:
        if skip.managed and not select:
            continue
        click.echo(f"Skipped {_label(skip.clone)}: {clean(skip.reason)}", err=True)
    managed = sum(1 for s in skipped if s.managed)
    if managed and not select:
        click.echo(f"{count(managed, 'clone')} already managed by this stack.", err=True)


def _nothing(select) -> None:
    if select:
        raise UserError(
            "--select " + " ".join(select) + ": no importable clone matches "
            "(`voicectl list --unmanaged` shows the candidates)"
        )
    click.echo("Nothing to import: every clone is managed, owned by a stack, or ignored.")


def _notes(adoptions) -> list[str]:
    return [f"voices.{a.name}: {note}" for a in adoptions for note in a.notes]


def _summary(path: Path, lock_path: Path, adoptions) -> None:
    name = display_path(path)
    click.echo(
        f"Imported {count(len(adoptions), 'clone')} into {name} and {lock_path.name}; "
        "nothing on the service was changed."
    )
    click.echo("")
    rows = []
    for a in adoptions:
        models = ",".join(clean(m) for m in a.clone.models) or "-"
        rows.append(
            [
                a.name,
                clean(a.clone.voice_id),
                clean(a.clone.display_name) or "-",
                models + (f" {LEGACY_MARK}" if a.legacy else ""),
                f"{FILE_PLACEHOLDER} (fill in)" if a.placeholder else str(a.stanza["file"]),
            ]
        )
    click.echo(table(["NAME", "VOICE ID", "DISPLAY NAME", "MODELS", "FILE"], rows))
    missing = sum(1 for a in adoptions if a.placeholder)
    legacy = sum(1 for a in adoptions if a.legacy)
    click.echo("")
    if missing:
        needs = "needs its original sample" if missing == 1 else "need their original samples"
        click.echo(
            f"{count(missing, 'voice')} {needs}: set `file:` where {name} says "
            f"{FILE_PLACEHOLDER}, then run `voicectl validate`."
        )
    if legacy:
        click.echo(
            f"{count(legacy, 'imported clone')} {'is' if legacy == 1 else 'are'} {LEGACY_MARK} "
            "(lightning-large only): `voicectl migrate` re-clones "
            f"{'it' if legacy == 1 else 'them'} on lightning-v3.1."
        )
    if not missing and not legacy:
        click.echo("`voicectl plan` should now show no changes for these voices.")


COMMANDS = [import_]
