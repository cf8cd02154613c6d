"""`voicectl validate`: check the manifest and its sample files, offline.

Prints each warning as ``warning: <line>`` and each problem as its own line
(``voices.yaml:12:7: voices.narrator.file: samples/n.wav does not exist``) on
stderr, then ``Error: N problems in voices.yaml`` and exits 1. On success it
prints one summary line on stdout, then the environments it declares and the
files it read (when it includes others). No API key and no network are needed.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option
from reconciler.errors import ManifestError, UserError
from reconciler.manifest import display_path, load_manifest


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@click.command()
@manifest_option
@click.option(
    "--allow-outside-files",
    envvar="VOICECTL_ALLOW_OUTSIDE_FILES",
    is_flag=True,
    help="Accept sample files outside the manifest's folder (.., absolute paths, symlinks).",
)
@click.option(
    "--allow-any-duration",
    envvar="VOICECTL_ALLOW_ANY_DURATION",
    is_flag=True,
    help="Warn instead of failing when a sample is not 5-15 s long.",
)
@global_options
def validate(manifest_file: str, allow_outside_files: bool, allow_any_duration: bool) -> None:
    """Check voices.yaml and its sample audio without calling the API."""
    path = Path(manifest_file)
    name = display_path(path)
    try:
        result = load_manifest(
            path,
            allow_outside_files=allow_outside_files,
            allow_any_duration=allow_any_duration,
        )
    except ManifestError as exc:
        for warning in getattr(exc, "warnings", []):
            click.echo(f"warning: {warning}", err=True)
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise UserError(f"{_plural(len(exc.problems), 'problem')} in {name}") from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    manifest = result.manifest
    voices = _plural(len(manifest.voices), "voice")
    click.echo(f'{name} is valid: {voices} (stack "{manifest.stack}").')
    if manifest.environments:
        click.echo(f"Environments: {', '.join(manifest.environments)}.")
    if manifest.included:
        read = [name, *(display_path(f.path) for f in manifest.included)]
        click.echo(f"Read {_plural(len(read), 'file')}: {', '.join(read)}.")


COMMANDS = [validate]
