"""`voicectl schema`: print or write the JSON Schemas generated from the models.

``voicectl schema NAME`` prints one (voices, voices.lock, plan, apply,
saved-plan); ``voicectl schema --write [--dir schemas]`` writes them all,
deterministically (sorted keys, 2-space indent, trailing newline), so a
committed copy can be compared with ``voicectl schema --check``.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import schemas
from reconciler.cli.common import global_options
from reconciler.errors import UserError
from reconciler.render.setup import schemas_up_to_date, schemas_written


@click.command()
@click.argument("name", required=False, type=click.Choice(list(schemas.SCHEMAS)))
@click.option("--write", "write", is_flag=True, help="Write every schema into --dir.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when the files in --dir differ from what this voicectl generates.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=schemas.DEFAULT_DIR,
    show_default=True,
    help="Where --write and --check look.",
)
@global_options
def schema(name: str | None, write: bool, check: bool, directory: str) -> None:
    """Print a JSON Schema (NAME), or write/check them all (--write/--check)."""
    given = [
        w for w, on in ((name, name is not None), ("--write", write), ("--check", check)) if on
    ]
    if len(given) != 1:
        both = f" (not {' and '.join(str(g) for g in given)} together)" if given else ""
        raise UserError(
            "give one of NAME (" + ", ".join(schemas.SCHEMAS) + f"), --write or --check{both}"
        )
    folder = Path(directory)
    if name is not None:
        click.echo(schemas.schema_text(name), nl=False)
        return
    if check:
        if not folder.is_dir():
            raise UserError(
                f"{folder}: no such folder, so there are no schemas to check; "
                f"run `voicectl schema --write --dir {folder}` (or give --dir)"
            )
        stale = schemas.differences(folder)
        if stale:
            missing = [f for f in stale if not (folder / f).exists()]
            differ = [f for f in stale if f not in missing]
            parts = [f"{', '.join(missing)} missing"] if missing else []
            parts += [f"{', '.join(differ)} differ from the models"] if differ else []
            what = "; ".join(parts)
            raise UserError(f"{folder}: {what}; run `voicectl schema --write --dir {folder}`")
        click.echo(schemas_up_to_date(folder, len(schemas.SCHEMAS)))
        return
    stale = schemas.differences(folder)
    for key, (file_name, _make) in schemas.SCHEMAS.items():
        if file_name in stale:
            target = folder / file_name
            try:
                folder.mkdir(parents=True, exist_ok=True)
                target.write_text(schemas.schema_text(key), encoding="utf-8", newline="\n")
            except OSError as exc:
                raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    if stale:
        click.echo(schemas_written(folder, stale))
    else:
        click.echo(schemas_up_to_date(folder, len(schemas.SCHEMAS)))


COMMANDS = [schema]
