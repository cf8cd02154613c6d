"""`voicectl samples`: the sample clips the service made for each clone, to listen to.

Lists the clips recorded in the lockfile (every voice, or NAME); with
``--download DIR`` saves them as ``DIR/NAME-N.wav`` and measures each one (the
same analysis as the manifest's samples): a silent or near-empty clip is
reported, because it means the clone will not speak. Exit 1 when a download
failed or a clip has a problem. ``--format json`` prints ``samples.schema.json``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import lockfile_option, text_or_json_options
from reconciler.cli.ui import logger_for
from reconciler.engine import clips as clip_engine
from reconciler.engine import environments, workflow
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile
from reconciler.schemas import FORMAT_VERSION, SampleClipOut, SamplesDocument, SamplesVoice
from reconciler.text import clean


@click.command()
@click.argument("name", required=False)
@manifest_option
@lockfile_option
@click.option(
    "--download",
    "dest",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Save the clips as DIR/NAME-N.wav and check each one (silent, near-empty).",
)
@text_or_json_options
@global_options
@click.pass_context
def samples(
    ctx: click.Context,
    name: str | None,
    manifest_file: str,
    lockfile: str | None,
    dest: str | None,
    fmt: str,
    as_json: bool,
) -> None:
    """List (and with --download, fetch and check) the clones' sample clips.

    With environments, --env NAME reads that environment's lockfile.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    target = environments.select(path, settings.env)
    lock_path = workflow.lockfile_path(path, lockfile, target)
    lock = Lockfile.load(lock_path)
    if not lock.exists:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` first")
    try:
        found = clip_engine.recorded(lock.doc, name)
    except clip_engine.UnknownVoice as exc:
        known = ", ".join(exc.known) or "none"
        raise UserError(f"{lock_path}: no voice named {exc.name!r} (recorded: {known})") from None
    note = None
    if dest is not None:
        folder = Path(dest)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"--download {dest}: cannot create the folder: {exc.strerror or exc}"
            ) from None
        conn = workflow.connection(
            sandbox=settings.sandbox, api_url=settings.api_url, base_dir=path.parent, target=target
        )

        async def run() -> None:
            async with workflow.open_client(conn, logger=logger_for(settings)) as client:
                await clip_engine.fetch(client, found, folder)

        asyncio.run(run())
        note = clip_engine.check(found)
    bad = [c for c in found if c.error or c.problem]
    if as_json or fmt == "json":
        click.echo(
            json.dumps(
                _document(found, dest is not None, len(bad), note), indent=2, ensure_ascii=False
            )
        )
    else:
        _text(found, lock_path, name, note, embedded=settings.sandbox)
    if bad:
        raise UserError(
            f"{len(bad)} sample clip{'' if len(bad) == 1 else 's'} "
            f"{'has' if len(bad) == 1 else 'have'} a problem"
        )


def _text(
    found: list[clip_engine.Clip],
    lock_path: Path,
    name: str | None,
    note: str | None,
    *,
    embedded: bool = False,
):
    """With the embedded sandbox (``--sandbox``) no URL would open: none is printed."""
    if not found:
        whose = f"{name!r}" if name else "any voice"
        click.echo(f"No sample clips recorded for {whose} in {lock_path.name}.")
        return
    current = None
    for clip in found:
        if clip.name != current:
            current = clip.name
            click.echo(f"{clean(clip.name)} ({clean(clip.voice_id)}):")
        text = f'  "{clean(clip.text)}"' if clip.text else ""
        where = "(in the embedded sandbox)" if embedded else clean(clip.url or "(no URL)")
        click.echo(f"  {clip.n}. {where}{text}")
        if clip.path is not None:
            m = clip.measurement
            measured = (
                f": {m.seconds:.1f} s, {m.speech_seconds:.1f} s of sound, "
                f"{m.loudness_lufs:.1f} LUFS"
                if m is not None
                else ""
            )
            click.echo(f"     saved {clip.path} ({clip.size} bytes){measured}")
    for clip in found:
        if clip.error:
            click.echo(f"Error: could not save {clip.file_name}: {clean(clip.error)}", err=True)
        elif clip.problem and clip.path is not None:
            click.echo(f"Error: {clip.path}: {clip.problem}", err=True)
    if note:
        click.echo(f"warning: {note}", err=True)
    if embedded and all(clip.path is None for clip in found):
        click.echo("--download DIR saves them as files.")


def _document(
    found: list[clip_engine.Clip], downloaded: bool, problems: int, note: str | None
) -> dict:
    voices: dict[str, SamplesVoice] = {}
    for clip in found:
        voice = voices.setdefault(
            clip.name, SamplesVoice(name=clip.name, voice_id=clip.voice_id, samples=[])
        )
        m = clip.measurement
        voice.samples.append(
            SampleClipOut(
                n=clip.n,
                text=clip.text,
                audio_url=clip.url,
                file=str(clip.path) if clip.path is not None else None,
                bytes=clip.size,
                error=clip.error,
                seconds=m.seconds if m else None,
                speech_seconds=m.speech_seconds if m else None,
                loudness_lufs=m.loudness_lufs if m else None,
                problem=clip.problem,
            )
        )
    doc = SamplesDocument(
        format_version=FORMAT_VERSION,
        voices=list(voices.values()),
        downloaded=downloaded,
        problems=problems,
        note=note,
    )
    return doc.model_dump(by_alias=True, mode="json")


COMMANDS = [samples]
