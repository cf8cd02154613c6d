"""Pre-generated samples of new clones: show their URLs, and save them to listen to.

The create answer carries ``samples`` (text + a signed ``audioUrl``) and the
applier keeps them in the lockfile entry. After an apply, each new clone's
samples are listed so a reviewer can listen before the new voiceIds go live;
``--download-samples DIR`` saves them as ``DIR/NAME-N.wav`` (N from 1). The
client sends the API key only to the API's own origin, never to the host of a
signed URL elsewhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api.errors import WavesError
from reconciler.apply import ApplyResult
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
    saved, errors = await download(client, clones, dest)
    if show and saved:
        echo(f"Saved {len(saved)} sample{'s' if len(saved) != 1 else ''} to {dest}/")
    for error in errors:
        echo(f"Error: could not save a sample: {clean(error)}", err=True)
    return not errors
