"""Pre-generated samples of new clones: which they are, and saving them to listen to.

The create answer carries ``samples`` (text + a signed ``audioUrl``) and the
applier keeps them in the lockfile entry. After an apply, each new clone's
samples are listed (``render.sample_lines``) so a reviewer can listen before
the new voiceIds go live;
``--download-samples DIR`` saves them as ``DIR/NAME-N.wav`` (N from 1), and
``check_saved`` measures them (engine/clips.py: a silent or near-empty clip is
a warning, the clone being made and recorded already). The
client sends the API key only to the API's own origin, never to the host of a
signed URL elsewhere.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api.errors import WavesError
from reconciler.apply import ApplyResult
from reconciler.engine import clips
from reconciler.lockfile import LockDocument, LockEntry


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


def file_name(name: str, n: int) -> str:
    """``NAME-N.wav``; voice names are [a-z0-9._-], safe as file names."""
    return f"{name}-{n}.wav"


async def download(
    client: Any, clones: list[NewClone], dest: Path
) -> tuple[list[tuple[Path, int]], list[str]]:
    """Save every sample to ``dest``: (saved paths and sizes, one error line per failure)."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [], [f"--download-samples {dest}: cannot create the folder: {exc.strerror or exc}"]
    jobs = [
        (dest / file_name(c.name, n), sample.audio_url)
        for c in clones
        for n, sample in enumerate(c.entry.samples, start=1)
        if sample.audio_url
    ]

    async def one(path: Path, url: str) -> tuple[Path, int | None, str | None]:
        try:
            return path, await client.download(url, path), None
        except WavesError as exc:
            return path, None, f"{path.name}: {exc}"

    results = await asyncio.gather(*(one(p, u) for p, u in jobs))
    saved = [(p, n) for p, n, err in results if err is None and n is not None]
    errors = [err for _, _, err in results if err is not None]
    return saved, errors


def check_saved(saved: list[tuple[Path, int]]) -> list[str]:
    """The same sanity check as `voicectl samples` on the saved clips: one warning
    line per silent or near-empty clip (and one when they could not be measured)."""
    found = []
    for path, size in saved:
        clip = clips.Clip(path.stem, "", 0, None, None, path=path, size=size)
        found.append(clip)
    note = clips.check(found)
    lines = [f"{c.path}: {c.problem}" for c in found if c.problem]
    return [*lines, note] if note else lines
