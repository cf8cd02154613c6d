"""`voicectl import`: adopt existing clones that no stack owns into voices.yaml and the lockfile.

It only lists clones: nothing on the service is created, changed or deleted. The
manifest keeps its comments, order and formatting (see reconciler/engine/adoption.py);
the lockfile records each adopted voiceId, so the next plan knows the clone
(imported clones carry no ownership tags: the service has no update endpoint).
Both files are written while holding the run lock; the manifest first, and it is
put back if the lockfile cannot be written, so nothing is left half-done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lock_timeout_option, lockfile_option
from reconciler.cli.ui import echo_notice, echo_warnings, logger_for
from reconciler.engine import adoption, environments, workflow
from reconciler.engine.inventory import LEGACY_MARK, table
from reconciler.errors import UserError
from reconciler.fsutil import atomic_write
from reconciler.lockfile import Lockfile, RunLock
from reconciler.manifest import FILE_PLACEHOLDER, NAME_PATTERN, display_path
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
    env_target = environments.select(path, settings.env)
    lock_path = workflow.lockfile_path(path, lockfile, env_target)
    if stack is not None and not re.match(NAME_PATTERN, stack):
        raise UserError(
            f"--stack {stack!r}: use 1-63 characters from a-z 0-9 . _ -, starting with "
            "a letter or digit"
        )
    target = adoption.read_target(path, stack=stack, environment=env_target.environment)
    samples = _samples_dir(samples_dir, target, allow_outside_files)
    if dry_run:
        lock = Lockfile.load(lock_path, stack=target.stack)
        adoptions, skipped = _prepare(settings, path, target, lock, samples, select, exclude)
        _report_skips(skipped, select)
        if not adoptions:
            _nothing(select)
            return
        echo_warnings(_notes(adoptions))
        click.echo("voices:")
        click.echo(adoption.stanzas_text(adoptions), nl=False)
        click.echo(
            f"Would import {_count(len(adoptions), 'clone')} into {display_path(path)}; "
            "nothing was written (--dry-run).",
            err=True,
        )
        return
    with RunLock(lock_path, timeout=lock_timeout, on_wait=echo_notice):
        # again, under the lock
        target = adoption.read_target(path, stack=stack, environment=env_target.environment)
        lock = Lockfile.load(lock_path, stack=target.stack)
        if lock.exists and lock.doc.stack != target.stack:
            echo_warnings(
                [
                    f"{lock.path.name}: recorded for stack {lock.doc.stack!r}, the manifest "
                    f"says {target.stack!r}; the lockfile will follow the manifest"
                ]
            )
        lock.set_stack(target.stack)
        adoptions, skipped = _prepare(settings, path, target, lock, samples, select, exclude)
        _report_skips(skipped, select)
        if not adoptions:
            _nothing(select)
            return
        _write(target, lock, adoptions)
    echo_warnings(_notes(adoptions))
    _summary(path, lock.path, adoptions)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _samples_dir(value: str | None, target: adoption.Target, allow_outside: bool) -> Path | None:
    if value is None:
        return None
    folder = Path(value)
    if not folder.exists():
        raise UserError(f"--samples {value}: no such folder")
    if not folder.is_dir():
        raise UserError(f"--samples {value}: not a folder")
    if not allow_outside:
        try:
            folder.resolve().relative_to(target.root.resolve())
        except ValueError:
            raise UserError(
                f"--samples {value}: outside the manifest's folder ({target.root}); samples "
                "must be inside it (--allow-outside-files writes absolute paths instead)"
            ) from None
    return folder


def _prepare(settings, path, target, lock, samples, select, exclude):
    conn = workflow.connection(
        sandbox=settings.sandbox,
        api_url=settings.api_url,
        base_dir=path.parent,
        target=environments.select(path, settings.env),
    )

    async def fetch():
        async with workflow.open_client(conn, logger=logger_for(settings)) as client:
            return await client.list_clones()

    remote = asyncio.run(fetch())
    chosen, skipped = adoption.choose(remote, lock.doc, target, select=select, exclude=exclude)
    adoptions, problems = adoption.plan_adoptions(chosen, lock.doc, target, samples_dir=samples)
    if problems:
        raise UserError(
            "\n".join([*problems, f"nothing was imported ({_count(len(problems), 'problem')})"])
        )
    return adoptions, skipped


def _label(clone) -> str:
    return f"{clean(clone.voice_id)} ({json.dumps(clean(clone.display_name), ensure_ascii=False)})"


def _report_skips(skipped, select) -> None:
    for skip in skipped:
        if skip.managed and not select:
            continue
        click.echo(f"Skipped {_label(skip.clone)}: {clean(skip.reason)}", err=True)
    managed = sum(1 for s in skipped if s.managed)
    if managed and not select:
        click.echo(f"{_count(managed, 'clone')} already managed by this stack.", err=True)


def _nothing(select) -> None:
    if select:
        raise UserError(
            "--select " + " ".join(select) + ": no importable clone matches "
            "(`voicectl list --unmanaged` shows the candidates)"
        )
    click.echo("Nothing to import: every clone is managed, owned by a stack, or ignored.")


def _notes(adoptions) -> list[str]:
    return [f"voices.{a.name}: {note}" for a in adoptions for note in a.notes]


def _write(target: adoption.Target, lock: Lockfile, adoptions) -> None:
    """Manifest first, then the lockfile; the manifest is put back if the lockfile fails."""
    if target.exists:
        assert target.text is not None
        new_text = adoption.add_voices(target.text, adoptions)
    else:
        new_text = adoption.new_manifest_text(target.stack, adoptions)
    for a in adoptions:
        lock.adopt(a.name, a.lock_entry())
    bom = "\ufeff" if target.bom else ""
    try:
        atomic_write(target.path, bom + new_text)
    except OSError as exc:
        raise UserError(
            f"{display_path(target.path)}: cannot write the manifest: {exc.strerror or exc}; "
            "nothing was imported"
        ) from None
    try:
        lock.save()
    except BaseException as exc:
        with contextlib.suppress(OSError):
            if target.exists:
                atomic_write(target.path, bom + (target.text or ""))
            else:
                os.unlink(target.path)
        if isinstance(exc, OSError):
            raise UserError(
                f"{lock.path}: cannot write the lockfile: {exc.strerror or exc}; "
                f"{display_path(target.path)} was put back, nothing was imported"
            ) from None
        raise


def _summary(path: Path, lock_path: Path, adoptions) -> None:
    name = display_path(path)
    click.echo(
        f"Imported {_count(len(adoptions), 'clone')} into {name} and {lock_path.name}; "
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
            f"{_count(missing, 'voice')} {needs}: set `file:` where {name} says "
            f"{FILE_PLACEHOLDER}, then run `voicectl validate`."
        )
    if legacy:
        click.echo(
            f"{_count(legacy, 'imported clone')} {'is' if legacy == 1 else 'are'} {LEGACY_MARK} "
            "(lightning-large only): `voicectl migrate` re-clones "
            f"{'it' if legacy == 1 else 'them'} on lightning-v3.1."
        )
    if not missing and not legacy:
        click.echo("`voicectl plan` should now show no changes for these voices.")


COMMANDS = [import_]
