"""`voicectl migrate`: move managed legacy lightning-large clones to lightning-v3.1.

``migrate`` is a plan and apply limited to legacy replacements (and the lockfile
repairs and leftover deletes they need): each legacy clone is re-cloned from its
sample through the current endpoint, the new clone is waited for and recorded,
and only then is the old one deleted - or, with ``--keep-legacy``, kept and
recorded as ``retired`` until ``migrate --finish`` deletes it, so a team can
deploy the new voiceIds first and remove the old ones after.

The old -> new map is derived from the lockfile (each voice records the legacy
voiceId it replaced in ``migratedFrom``), not from this run's outcomes, so after a
run that was killed half-way and run again the map is still complete. JSON shape
(``--map-out FILE``)::

    {"formatVersion": 1,
     "voices": {"narrator": {"old": "voice_a", "new": "voice_b", "oldKept": false}},
     "ids": {"voice_a": "voice_b"}}

``oldKept`` is true while the old clone is kept as retired (``--keep-legacy``).
The mass-delete safety applies as for apply: replacing more than 30% of 10 or
more managed clones needs ``--allow-mass-delete``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import apply_options, download_samples_option, plan_options
from reconciler.cli.ui import connection_for, echo_notice, logger_for
from reconciler.errors import UserError
from reconciler.lazy import lazy_module
from reconciler.text import clean

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.api.errors as _api_errors
    import reconciler.apply as _apply
    import reconciler.cli.apply as _cli_apply
    import reconciler.engine.applying as _engine_applying
    import reconciler.engine.environments as environments
    import reconciler.engine.migrating as _engine_migrating
    import reconciler.engine.workflow as workflow
    import reconciler.lockfile as _lockfile
    import reconciler.plan as _planner
    import reconciler.render as render
    import reconciler.render.handoff as _render_handoff
    import reconciler.render.table as _render_table
else:
    _api_errors = lazy_module("reconciler.api.errors")
    _apply = lazy_module("reconciler.apply")
    _cli_apply = lazy_module("reconciler.cli.apply")
    _engine_applying = lazy_module("reconciler.engine.applying")
    _engine_migrating = lazy_module("reconciler.engine.migrating")
    _lockfile = lazy_module("reconciler.lockfile")
    _planner = lazy_module("reconciler.plan")
    _render_handoff = lazy_module("reconciler.render.handoff")
    _render_table = lazy_module("reconciler.render.table")
    environments = lazy_module("reconciler.engine.environments")
    render = lazy_module("reconciler.render")
    workflow = lazy_module("reconciler.engine.workflow")


@click.command()
@manifest_option
@plan_options
@apply_options
@click.option(
    "--keep-legacy",
    is_flag=True,
    help="Keep the old legacy clones (recorded as retired in the lockfile) until "
    "`voicectl migrate --finish`.",
)
@click.option(
    "--finish",
    is_flag=True,
    help="Delete the retired legacy clones kept by --keep-legacy (after checking that each "
    "replacement exists, is completed and on lightning-v3.1).",
)
@click.option(
    "--map-out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the old -> new voiceId map as JSON (for apps and config repos).",
)
@download_samples_option
@global_options
@click.pass_context
def migrate(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    targets: tuple[str, ...],
    allow_mass_delete: bool,
    allow_outside_files: bool,
    allow_any_duration: bool,
    list_grace: float,
    parallelism: int,
    auto_approve: bool,
    wait_timeout: float,
    lock_timeout: float,
    keep_legacy: bool,
    finish: bool,
    map_out: str | None,
    download_samples: str | None,
) -> None:
    """Re-clone managed legacy (lightning-large) voices on lightning-v3.1.

    A plan and apply limited to legacy replacements; prints the old -> new voiceId
    table. Exit 1 if anything failed or a voice is still being processed.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    if finish:
        if keep_legacy:
            raise UserError("--finish and --keep-legacy contradict each other; pick one")
        if download_samples:
            raise UserError("--download-samples has no use with --finish (it makes no clone)")
        ok = _finish(
            settings,
            path,
            lockfile=lockfile,
            targets=set(targets),
            parallelism=parallelism,
            auto_approve=auto_approve,
            lock_timeout=lock_timeout,
            map_out=Path(map_out) if map_out else None,
        )
        if not ok:
            ctx.exit(1)
        return
    target = _engine_applying.select_target(path, settings.env)
    request = _engine_applying.ApplyRequest(
        path=path,
        conn=connection_for(settings, path, target),
        lockfile=lockfile,
        plan_options=_planner.PlanOptions(
            targets=frozenset(targets),
            allow_mass_delete=allow_mass_delete,
            legacy_only=True,
            list_grace=list_grace,
        ),
        apply_options=_apply.ApplyOptions(wait_timeout=wait_timeout, keep_legacy=keep_legacy),
        parallelism=parallelism,
        auto_approve=auto_approve,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        lock_timeout=lock_timeout,
        download_samples=Path(download_samples) if download_samples else None,
        logger=logger_for(settings),
        on_wait=echo_notice,
    )
    run = _cli_apply.run_and_show(request, settings, "text", command="migrate")
    ok = run.ok
    lock = _lockfile.Lockfile.load(workflow.lockfile_path(path, lockfile, target))
    plan = run.plan
    waiting: list[_planner.Action] = plan.of_kind("wait") if plan is not None else []
    click.echo("")
    if _engine_migrating.migration_map(lock.doc)["voices"]:
        click.echo("Migrated voices (apps must use the new voiceIds):")
        click.echo(render.migration_table(lock.doc))
    elif plan is not None and not plan.has_changes and not waiting:
        click.echo("Nothing to migrate: no managed voice uses a legacy clone.")
    if map_out:
        _engine_migrating.write_map(Path(map_out), lock.doc)
        click.echo(f"Wrote the voiceId map to {map_out}.")
    kept = sum(1 for r in lock.doc.retired.values() if r.keep)
    if kept:
        click.echo(
            f"{kept} old clone{'s are' if kept != 1 else ' is'} kept as retired; deploy the new "
            "voiceIds, then run `voicectl migrate --finish` to delete "
            f"{'them' if kept != 1 else 'it'}."
        )
    if waiting:
        names = ", ".join(clean(a.name) for a in waiting)
        raise UserError(
            f"migration not finished: {names} still being processed on the service; "
            "run `voicectl migrate` again once it has completed"
        )
    if not ok:
        ctx.exit(1)


def _confirm(count: int) -> None:
    if not sys.stdin.isatty():
        raise UserError(
            "migrate --finish needs confirmation but stdin is not a terminal; "
            "pass --auto-approve to delete without asking"
        )
    click.echo(f"\nDelete these {count} old clone{'s' if count != 1 else ''}? Apps still using")
    click.echo("their voiceIds will stop working. Only 'yes' will be accepted to approve.\n")
    answer = click.prompt("  Enter a value", default="", show_default=False)
    if answer.strip() != "yes":
        raise UserError(
            "migrate --finish cancelled (the answer was not 'yes'); nothing was deleted"
        )


def _finish(
    settings,
    path: Path,
    *,
    lockfile: str | None,
    targets: set[str],
    parallelism: int,
    auto_approve: bool,
    lock_timeout: float,
    map_out: Path | None,
) -> bool:
    """Delete every retired clone whose replacement is healthy; all or nothing."""
    env_target = environments.select(path, settings.env)
    lock_path = workflow.lockfile_path(path, lockfile, env_target)
    if not lock_path.exists():
        raise UserError(f"{lock_path}: no lockfile; there is nothing to finish")
    with _lockfile.RunLock(lock_path, timeout=lock_timeout, on_wait=echo_notice):
        lock = _lockfile.Lockfile.load(lock_path)
        doc = lock.doc
        for name in sorted(targets):
            if name not in doc.voices and all(r.name != name for r in doc.retired.values()):
                raise UserError(f"--target {name}: no voice of that name in {lock_path.name}")
        conn = connection_for(settings, path, env_target)
        try:
            return asyncio.run(
                _finish_async(conn, settings, lock, targets, parallelism, auto_approve, map_out)
            )
        finally:
            lock.fold()  # whatever was journalled, also after an error or an abort


async def _finish_async(conn, settings, lock, targets, parallelism, auto_approve, map_out) -> bool:
    doc = lock.doc
    async with workflow.open_client(
        conn, parallelism=parallelism, logger=logger_for(settings)
    ) as client:
        remote = {c.voice_id: c for c in await client.list_clones()}
        to_delete: list[tuple[str, str, str]] = []  # old, name, new
        gone: list[str] = []
        problems: list[str] = []
        for voice_id, old in sorted(doc.retired.items()):
            if targets and old.name not in targets:
                continue
            current = doc.voices.get(old.name)
            new_id = current.voice_id if current is not None else old.replaced_by
            new = remote.get(new_id or "")
            if voice_id not in remote:
                gone.append(voice_id)
            elif new is None:
                problems.append(
                    f"{old.name}: its replacement {new_id or '(unknown)'} does not exist on the "
                    f"service; {voice_id} is kept"
                )
            elif new.status != "completed":
                problems.append(
                    f"{old.name}: its replacement {new_id} is {new.status or 'of unknown status'}; "
                    f"{voice_id} is kept"
                )
            elif not new.is_current:
                problems.append(
                    f"{old.name}: its replacement {new_id} is not on lightning-v3.1 "
                    f"(modelIds: {', '.join(new.models) or 'none'}); {voice_id} is kept"
                )
            else:
                to_delete.append((voice_id, old.name, new_id or ""))
        if problems:
            raise UserError(
                "\n".join(
                    [
                        *(clean(p) for p in problems),
                        "nothing was deleted (fix these, or --target the other voices)",
                    ]
                )
            )
        lock.begin()  # journalled from here: each deletion is recorded as it happens
        for voice_id in gone:  # the old clone is not there any more: just drop the record
            lock.forget(voice_id)
        if not to_delete:
            if gone:
                click.echo(f"Dropped {len(gone)} retired record(s) whose clone no longer exists.")
            click.echo("Nothing to finish: no retired clone is left.")
            lock.fold()
            _map(lock, map_out)
            return True
        rows = [[name, clean(old), "->", clean(new)] for old, name, new in to_delete]
        click.echo("Old clones to delete (their replacements are completed on lightning-v3.1):")
        click.echo(_render_table.table(["NAME", "OLD (TO DELETE)", "", "REPLACED BY"], rows))
        if not auto_approve:
            _confirm(len(to_delete))
        click.echo("")

        handed: list[_apply.HandOff] = []
        why: list[str] = []

        async def delete(old: str, name: str, new: str) -> str | None:
            if lock.failed is not None:
                return f"{name}: not deleted: {lock.failed.message}"
            try:
                await client.delete_clone(old)
            except _api_errors.DeleteUnavailableError as exc:
                # Not an error: recorded (kept as retired too), handed to the user.
                clone = remote.get(old)
                display = clone.display_name if clone else None
                lock.await_deletion(old, _lockfile.AwaitingEntry(
                    name=name, display_name=display, reason="migrated", replaced_by=new,
                    model_ids=list(clone.models) if clone else [], since=_apply.now_iso(),
                    why=exc.reason,
                ))
                handed.append(_apply.HandOff(name, display, old, "migrated"))
                why[:] = [exc.reason]
                return None
            except _api_errors.WavesError as exc:
                return f"{name}: deleting {old} failed: {exc}"
            lock.forget(old)
            click.echo(f"{name}: deleted old clone {clean(old)}")
            return None

        outcomes = await asyncio.gather(*(delete(o, n, w) for o, n, w in to_delete))
        errors = [e for e in outcomes if e]
    lock.save()
    done = len(to_delete) - len(errors) - len(handed)
    click.echo(f"\nFinished: {done} old clone{'s' if done != 1 else ''} deleted.")
    if handed:
        click.echo("\n" + _render_handoff.handoff_text(handed, why[0] if why else None))
    for error in errors:
        click.echo(f"Error: {clean(error)}", err=True)
    _map(lock, map_out)
    return not errors


def _map(lock: _lockfile.Lockfile, map_out: Path | None) -> None:
    if map_out is not None:
        _engine_migrating.write_map(map_out, lock.doc)
        click.echo(f"Wrote the voiceId map to {map_out}.")


COMMANDS = [migrate]
