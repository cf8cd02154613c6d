"""`voicectl refresh`: bring the lockfile up to date with the service, changing no clone.

For every voice the lockfile records, the clone's current ``status``,
``modelIds``, ``displayName``, ``language``, ``createdAt`` and ``samples`` are
copied from the service's list. Nothing is created, deleted or adopted (that is
`apply`'s job): a recorded clone that is missing from the list is reported and
its entry KEPT, because the list can lag behind creates and a lost voiceId is
the one thing voicectl must never do; `voicectl plan` says what to do about it.

The lockfile is written atomically under the run lock, and only when something
changed (then ``serial`` grows); with no change it stays byte-identical.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from reconciler import render
from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import format_option, lock_timeout_option, lockfile_option
from reconciler.cli.ui import echo_notice, logger_for
from reconciler.engine import environments, workflow
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile, RunLock, entry_for

# lockfile field -> how to read it from a listed clone
_FIELDS = ("displayName", "language", "modelIds", "status", "createdAt", "samples")


def _show(field: str, value: Any) -> str:
    if field == "samples":
        n = len(value or [])
        return f"{n} sample{'s' if n != 1 else ''}"
    if isinstance(value, list):
        return "[" + ", ".join(render.clean(v) for v in value) + "]"
    return "null" if value is None else json.dumps(render.clean(value), ensure_ascii=False)


def refresh_lock(lock: Lockfile, remote: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Update the lockfile's entries from ``remote``; returns (changes, missing names)."""
    by_id = {c.voice_id: c for c in remote}
    changes: list[dict[str, Any]] = []
    missing: list[str] = []
    for name, entry in sorted(lock.doc.voices.items()):
        clone = by_id.get(entry.voice_id)
        if clone is None:
            missing.append(name)
            continue
        updated = entry_for(clone, entry)  # the one clone -> entry converter
        before = entry.model_dump(by_alias=True, mode="json")
        fresh = updated.model_dump(by_alias=True, mode="json")
        diff = {f: (before[f], fresh[f]) for f in _FIELDS if before[f] != fresh[f]}
        if not diff:
            continue
        lock.refresh(name, updated)
        for field, (old, new) in diff.items():
            changes.append(
                {"name": name, "voiceId": entry.voice_id, "field": field, "old": old, "new": new}
            )
    return changes, missing


@click.command()
@manifest_option
@lockfile_option
@lock_timeout_option
@format_option("text", "json")
@global_options
@click.pass_context
def refresh(
    ctx: click.Context, manifest_file: str, lockfile: str | None, lock_timeout: float, fmt: str
) -> None:
    """Update the lockfile from the service (status, modelIds, samples...).

    Never creates, deletes or adopts a clone. A recorded clone the service no
    longer lists is reported and kept in the lockfile; `voicectl plan` shows what
    to do about it. The manifest is not read, only its folder (for the lockfile).
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    env_target = environments.select(path, settings.env)
    lock_path = workflow.lockfile_path(path, lockfile, env_target)
    if not Lockfile.load(lock_path).exists:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` first")
    conn = workflow.connection(
        sandbox=settings.sandbox,
        api_url=settings.api_url,
        base_dir=path.parent,
        target=env_target,
    )

    async def fetch():
        async with workflow.open_client(conn, logger=logger_for(settings)) as client:
            return await client.list_clones()

    with RunLock(lock_path, timeout=lock_timeout, on_wait=echo_notice):
        lock = Lockfile.load(lock_path)  # again, under the lock
        remote = asyncio.run(fetch())
        serial = lock.doc.serial
        changes, missing = refresh_lock(lock, remote)
        written = lock.save()
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "formatVersion": 1,
                    "lockfile": str(lock_path),
                    "written": written,
                    "serial": lock.doc.serial,
                    "changes": changes,
                    "missing": [
                        {"name": n, "voiceId": lock.doc.voices[n].voice_id} for n in missing
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for c in changes:
        click.echo(
            f"~ {render.clean(c['name'])} ({render.clean(c['voiceId'])}): {c['field']}: "
            f"{_show(c['field'], c['old'])} -> {_show(c['field'], c['new'])}"
        )
    for name in missing:
        click.echo(
            f"! {render.clean(name)}: clone {render.clean(lock.doc.voices[name].voice_id)} is not "
            "listed by the service; entry kept (see `voicectl plan`)",
            err=True,
        )
    if written:
        voices = len({c["name"] for c in changes})
        click.echo(
            f"Refreshed {voices} voice{'s' if voices != 1 else ''} in {lock_path} "
            f"(serial {serial} -> {lock.doc.serial})."
        )
    else:
        click.echo(f"{lock_path} is up to date.")


COMMANDS = [refresh]
