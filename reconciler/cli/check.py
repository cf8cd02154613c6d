"""`voicectl check`: is every voice in the lockfile usable on lightning-v3.1?

Exit 0 when all is well, 1 when anything is wrong (a missing clone, one not
completed, one without lightning-v3.1, or - with ``--probe`` - synthesised audio
too short to hold speech). Reads the lockfile only; the manifest need not be valid.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lockfile_option, text_or_json_options
from reconciler.cli.ui import logger_for, style_for
from reconciler.engine import environments, workflow
from reconciler.engine.checking import check_voices, checks_json, probe_cell
from reconciler.engine.inventory import table
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile
from reconciler.text import clean


@click.command()
@manifest_option
@lockfile_option
@click.option(
    "--probe",
    is_flag=True,
    help="Also synthesise a short phrase with lightning_v3.1 and flag audio too short "
    "to hold speech (one TTS request per voice).",
)
@click.option(
    "--probe-parallelism",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    envvar="VOICECTL_PROBE_PARALLELISM",
    help="TTS requests at a time (the base plan allows 1).",
)
@click.option(
    "--target", "targets", multiple=True, metavar="NAME", help="Check only this voice (repeatable)."
)
@text_or_json_options
@global_options
@click.pass_context
def check(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    probe: bool,
    probe_parallelism: int,
    targets: tuple[str, ...],
    fmt: str,
    as_json: bool,
) -> None:
    """Check that every voice in the lockfile exists, is completed and works on lightning-v3.1."""
    settings = settings_of(ctx)
    path = Path(manifest_file)
    env_target = environments.select(path, settings.env)
    lock_path = workflow.lockfile_path(path, lockfile, env_target)
    lock = Lockfile.load(lock_path)
    if not lock.exists:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` or `voicectl import`")
    for name in targets:
        if name not in lock.doc.voices:
            known = ", ".join(sorted(lock.doc.voices)) or "none"
            raise UserError(f"--target {name}: no voice of that name in {lock_path.name} ({known})")
    conn = workflow.connection(
        sandbox=settings.sandbox,
        api_url=settings.api_url,
        base_dir=path.parent,
        target=env_target,
    )

    async def run():
        async with workflow.open_client(
            conn, parallelism=max(2, probe_parallelism), logger=logger_for(settings)
        ) as client:
            remote = await client.list_clones()
            return await check_voices(
                client,
                lock.doc,
                remote,
                probe=probe,
                probe_parallelism=probe_parallelism,
                targets=targets,
            )

    checks = asyncio.run(run())
    failed = [c for c in checks if not c.ok]
    if as_json or fmt == "json":
        click.echo(json.dumps(checks_json(checks, probed=probe), indent=2, ensure_ascii=False))
    elif not checks:
        click.echo(f"No voices in {lock_path.name}.")
    else:
        style = style_for(settings)
        rows = []
        for c in checks:
            clone = c.clone
            rows.append(
                [
                    c.name,
                    clean(c.voice_id),
                    clean(clone.status) if clone is not None and clone.status else "missing",
                    ",".join(clean(m) for m in clone.models) if clone is not None else "-",
                    *([probe_cell(c)] if probe else []),
                    "ok" if c.ok else "FAIL",
                ]
            )
        headers = ["NAME", "VOICE ID", "STATUS", "MODELS", *(["PROBE"] if probe else []), "RESULT"]
        last = len(headers) - 1

        def paint(row: int, col: int, cell: str) -> str:
            if col != last:
                return cell
            return style(cell, "green" if checks[row].ok else "red", bold=not checks[row].ok)

        click.echo(table(headers, rows, style=paint))
        if failed:
            click.echo("")
            for c in failed:
                for problem in c.problems:
                    click.echo(f"  {c.name}: {clean(problem)}")
        click.echo("")
        n = len(checks)
        click.echo(
            f"{n} voice{'s' if n != 1 else ''} checked"
            + (" (with a lightning_v3.1 probe)" if probe else "")
            + f": {n - len(failed)} ok, {len(failed)} with problems."
        )
    if failed:
        ctx.exit(1)


COMMANDS = [check]
