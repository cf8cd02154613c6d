"""`voicectl import`: adopt existing clones that no stack owns into voices.yaml and the lockfile.

The use case (list, choose, write both files under the run lock, all or
nothing) is ``reconciler.engine.importing``; this module parses, calls it and
prints what it adopted.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lock_timeout_option, lockfile_option
from reconciler.cli.ui import connection_for, echo_notice, echo_warnings, emit, logger_for
from reconciler.engine import adoption, environments
from reconciler.engine.importing import run_import
from reconciler.errors import UserError
from reconciler.manifest import NAME_PATTERN, display_path
from reconciler.render import importing as _render
from reconciler.render.lines import out


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
    help="The stack of a NEW manifest (default: one of its own, project-<id>, recorded in "
    "the lockfile); an existing manifest keeps its own.",
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
    if stack is not None and not re.fullmatch(NAME_PATTERN, stack):
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
    emit(_render.skipped(result.skipped, select))
    if not result.adoptions:
        if select:
            raise UserError(_render.no_match(select))
        click.echo(_render.NOTHING)
        return
    echo_warnings(_render.notes(result.adoptions))
    name = display_path(path)
    if dry_run:
        emit(_render.dry_run(result.adoptions, adoption.stanzas_text(result.adoptions), name))
        return
    emit(map(out, _render.imported(name, result.lock_path.name, result.adoptions)))


COMMANDS = [import_]
