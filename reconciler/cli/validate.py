"""`voicectl validate`: check the manifest and its sample files, offline.

``--format text`` (default) prints each warning as ``warning: <line>`` and each
problem as its own line (``voices.yaml:12:7: voices.narrator.file: samples/n.wav
does not exist``) on stderr, then ``Error: N problems in voices.yaml`` and exits
1. On success it prints one summary line on stdout, then the environments it
declares and the files it read (when it includes others). ``--format json``
prints one document (schemas/validate.schema.json) whatever happens;
``--format github`` prints each problem as a workflow annotation
(``::error file=voices.yaml,line=12,col=7::...``) so it shows on the pull
request's diff. No API key and no network are needed.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.ui import emit
from reconciler.errors import ManifestError, UserError
from reconciler.manifest import display_path, load_manifest
from reconciler.render import validation as _render
from reconciler.render.problems import error_lines


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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    envvar="VOICECTL_VALIDATE_FORMAT",
    help="text, one JSON document, or GitHub workflow annotations (::error file=...).",
)
@global_options
@click.pass_context
def validate(
    ctx: click.Context,
    manifest_file: str,
    allow_outside_files: bool,
    allow_any_duration: bool,
    fmt: str,
) -> None:
    """Check voices.yaml and its sample audio without calling the API."""
    path = Path(manifest_file)
    name = display_path(path)
    environment = settings_of(ctx).env  # --env: that environment's voices and defaults
    try:
        result = load_manifest(
            path,
            allow_outside_files=allow_outside_files,
            allow_any_duration=allow_any_duration,
            environment=environment,
        )
    except UserError as exc:
        problems = error_lines(exc)
        warnings = list(getattr(exc, "warnings", None) or [])
        if not isinstance(exc, ManifestError) and fmt == "text":
            raise  # not the manifest's problem (a bad VOICECTL_* value, say): said as it is
        emit(_render.report(fmt, name, None, problems, warnings))
        if not isinstance(exc, ManifestError):
            raise
        where = exc.source or name
        raise UserError(_render.invalid(len(problems), where)) from None
    emit(_render.report(fmt, name, result.manifest, [], result.warnings))
    if fmt == "text":
        manifest = result.manifest
        read = [name, *(display_path(f.path) for f in manifest.included)]
        for line in _render.valid(name, manifest, read):
            click.echo(line)


COMMANDS = [validate]
