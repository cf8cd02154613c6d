"""Pre-generated samples of new clones: show their URLs, and save them to listen to.

The create answer carries ``samples`` (text + a signed ``audioUrl``) and the
applier keeps them in the lockfile entry. After an apply, each new clone's
samples are listed so a reviewer can listen before the new voiceIds go live;
``--download-samples DIR`` saves them as ``DIR/NAME-N.wav`` (N from 1) and
checks each (engine/clips.py: a silent or near-empty clip is a warning). The
client sends the API key only to the API's own origin, never to the host of a
signed URL elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyResult
from reconciler.engine import clips
from reconciler.lockfile import LockDocument, LockEntry
from reconciler.text import clean


@dataclass(frozen=True)
class NewClone:
    name: str
    entry: LockEntry


def new_clones(result: ApplyResult, doc: LockDocument) -> list[NewClone]:
    """The clones this apply made (created or replacements), as the lockfile records them."""
    found: list[NewClone] = []
    for outcome in result.outcomes:
        name = outcome.action.name
        if not outcome.ok or outcome.action.kind not in ("create", "replace") or not name:
            continue
        entry = doc.voices.get(name)
        if entry is not None and entry.voice_id == outcome.new_voice_id:
            found.append(NewClone(name, entry))
    return sorted(found, key=lambda c: c.name)


def sample_lines(clones: list[NewClone]) -> list[str]:
    """Human lines: each new clone and the URLs of its samples."""
    with_samples = [c for c in clones if any(s.audio_url for s in c.entry.samples)]
    if not with_samples:
        return []
    lines = ["Samples of the new clones (listen before the new voiceIds go live):"]
    for c in with_samples:
        lines.append(f"  {clean(c.name)} ({clean(c.entry.voice_id)}):")
        for n, sample in enumerate(c.entry.samples, start=1):
            if sample.audio_url:
                text = f'  "{clean(sample.text)}"' if sample.text else ""
                lines.append(f"    {n}. {clean(sample.audio_url)}{text}")
    return lines


async def report(
    client: Any,
    result: ApplyResult,
    doc: LockDocument,
    *,
    show: bool,
    dest: Path | None,
    echo: Callable[..., None],
) -> bool:
    """After an apply: print the new clones' sample URLs (``show``) and save them (``dest``).

    Returns False when a download failed (each failure is echoed to stderr).
    """
    clones = new_clones(result, doc)
    if show:
        lines = sample_lines(clones)
        if lines:
            echo("")
            for line in lines:
                echo(line)
    if dest is None or not clones:
        return True
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        echo(
            f"Error: could not save a sample: --download-samples {dest}: cannot create the "
            f"folder: {exc.strerror or exc}",
            err=True,
        )
        return False
    found = [
        clips.Clip(c.name, c.entry.voice_id, n, sample.text, sample.audio_url)
        for c in clones
        for n, sample in enumerate(c.entry.samples, start=1)
        if sample.audio_url
    ]
    await clips.fetch(client, found, dest)
    saved = [c for c in found if c.path is not None]
    if show and saved:
        echo(f"Saved {len(saved)} sample{'s' if len(saved) != 1 else ''} to {dest}/")
    for clip in found:
        if clip.error:
            echo(f"Error: could not save a sample: {clip.file_name}: {clean(clip.error)}", err=True)
    # The same sanity check as `voicectl samples`: a silent clip means a clone that
    # will not speak. The clone is made and recorded, so it is a warning here.
    note = clips.check(saved)
    for clip in saved:
        if clip.problem:
            echo(f"warning: {clip.path}: {clip.problem}", err=True)
    if note:
        echo(f"warning: {note}", err=True)
    return not any(c.error for c in found)
