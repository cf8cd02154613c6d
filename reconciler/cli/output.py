"""`voicectl output`: print voiceIds from the lockfile (no API call).

It hands out only what apps can use: voices whose clone is ``completed`` (others
are refused by name unless ``--any-status``), and only plausible voiceIds (a
hand-edited or hostile lockfile is refused with its name, whatever the format,
so ``--format env`` can never emit a second variable).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.complete import manifest_voice_names, voice_names
from reconciler.cli.options import lockfile_option
from reconciler.cli.ui import emit
from reconciler.errors import UserError
from reconciler.identity import env_name, plausible_voice_id
from reconciler.lazy import lazy_module

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.engine.environments as environments
    import reconciler.engine.workflow as workflow
    import reconciler.lockfile as _lockfile
    import reconciler.render.voiceids as _render
else:
    _render = lazy_module("reconciler.render.voiceids")
    _lockfile = lazy_module("reconciler.lockfile")
    environments = lazy_module("reconciler.engine.environments")
    workflow = lazy_module("reconciler.engine.workflow")


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


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
@click.option(
    "--any-status",
    is_flag=True,
    help="Also hand out voices whose clone is not completed (processing, failed, ...).",
)
@global_options
def output(
    name: str | None,
    manifest_file: str,
    lockfile: str | None,
    fmt: str | None,
    any_status: bool,
) -> None:
    """Print the voiceIds recorded in the lockfile, for apps and scripts.

    With environments, --env NAME reads that environment's lockfile.
    """
    settings = settings_of(click.get_current_context())
    target = environments.select(Path(manifest_file), settings.env)
    path = workflow.lockfile_path(Path(manifest_file), lockfile, target)
    lock = workflow.load_recorded(path, target)
    if not lock.known:
        raise UserError(f"{path}: no lockfile yet; run `voicectl apply` first")
    ids = {n: e.voice_id for n, e in sorted(lock.doc.voices.items())}
    if not ids and manifest_voice_names(Path(manifest_file)):
        # voices declared, none recorded (a first apply whose every create failed): not
        # "{}" for apps; a manifest of no voice (or only removed: ones) has nothing to say
        raise UserError(f"{path}: records no voice yet; run `voicectl apply` first")
    if name is not None:
        if name not in ids:
            known = ", ".join(ids) or "none"
            raise UserError(f"{path}: no voice named {name!r} (recorded: {known})")
        ids = {name: ids[name]}
        fmt = fmt or "raw"
    fmt = fmt or "json"
    hostile = sorted(n for n, voice_id in ids.items() if not plausible_voice_id(voice_id))
    if hostile:
        raise UserError(
            f"{path}: the voiceId of {_listed(hostile)} is not a plausible voiceId (control "
            "characters, spaces, '=' or path separators): the lockfile was edited by hand or "
            "is not to be trusted; nothing was printed"
        )
    if not any_status:
        status = {n: lock.doc.voices[n].status for n in ids}
        busy = sorted(n for n, s in status.items() if s != "completed")
        if busy:
            what = ", ".join(f"{n} ({status[n] or 'unknown'})" for n in busy[:5])
            more = f" and {len(busy) - 5} more" if len(busy) > 5 else ""
            raise UserError(
                f"{path}: not completed, so apps cannot use them yet: {what}{more}; run "
                "`voicectl apply` again once they are, or pass --any-status"
            )
    if fmt == "env":
        by_var: dict[str, str] = {}
        for n in ids:
            other = by_var.setdefault(env_name(n), n)
            if other != n:
                raise UserError(
                    f"{path}: voices {other!r} and {n!r} both map to {env_name(n)}; "
                    "rename one of them"
                )
    emit(_render.voice_ids(ids, fmt))


COMMANDS = [output]
