"""The sample clips the service made for each clone: list them, fetch them, check them.

A create answer's ``samples`` (text + a signed ``audioUrl``) are recorded in the
lockfile; ``recorded`` lists them (all voices, or one), ``fetch`` downloads them
as ``DIR/NAME-N.wav`` concurrently, and ``check`` measures each downloaded clip
with the same analysis as the manifest's samples (audio.analyse) as a sanity
check: a clip that is silent or near-empty (the ~150-byte WAV a legacy clone
answers with) means the clone will not speak. Nothing here prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.api.errors import WavesError
from reconciler.audio.analyse import analyse
from reconciler.audio.cache import AnalysisCache
from reconciler.audio.decode import INSTALL_HINT, decoder_missing
from reconciler.audio.measurement import Measurement
from reconciler.audio.sniff import file_sha256
from reconciler.engine import workflow
from reconciler.errors import UserError
from reconciler.lockfile import LockDocument, Lockfile

# A clip with less speech than this cannot hold the sample sentence the service reads.
MIN_CLIP_SPEECH_SECONDS = 0.5
MIN_CLIP_BYTES = 1000  # the legacy symptom is ~150 bytes in all


@dataclass
class Clip:
    """One recorded sample clip, and what fetching and checking it found."""

    name: str
    voice_id: str
    n: int  # 1-based, as in the file name
    text: str | None
    url: str | None
    path: Path | None = None  # where it was saved
    size: int | None = None
    error: str | None = None  # the download failed
    measurement: Measurement | None = None
    problem: str | None = None  # silent, near-empty, cannot be decoded

    @property
    def file_name(self) -> str:
        """``NAME-N.wav``; voice names are [a-z0-9._-], safe as file names."""
        return f"{self.name}-{self.n}.wav"


class UnknownVoice(Exception):
    def __init__(self, name: str, known: list[str]):
        super().__init__(name)
        self.name, self.known = name, known


def recorded(doc: LockDocument, name: str | None = None) -> list[Clip]:
    """Every recorded clip (of ``name`` only, when given), by voice name then number."""
    if name is not None and name not in doc.voices:
        raise UnknownVoice(name, sorted(doc.voices))
    clips = []
    for voice, entry in sorted(doc.voices.items()):
        if name is not None and voice != name:
            continue
        for n, sample in enumerate(entry.samples, start=1):
            clips.append(Clip(voice, entry.voice_id, n, sample.text, sample.audio_url))
    return clips


async def fetch(client: Any, clips: list[Clip], dest: Path) -> None:
    """Download every clip with a URL to ``dest`` (set ``path``/``size`` or ``error``)."""

    async def one(clip: Clip) -> None:
        assert clip.url is not None
        target = dest / clip.file_name
        try:
            clip.size = await client.download(clip.url, target)
            clip.path = target
        except WavesError as exc:
            clip.error = str(exc)

    await asyncio.gather(*(one(c) for c in clips if c.url))


def check(clips: list[Clip]) -> str | None:
    """Measure every downloaded clip and set its ``problem``; returns a note when the
    decoder is missing (then only the size is checked)."""
    saved = [c for c in clips if c.path is not None]
    for clip in saved:
        if clip.size is not None and clip.size < MIN_CLIP_BYTES:
            clip.problem = (
                f"near-empty: {clip.size} bytes (a clip that holds speech has more than "
                f"{MIN_CLIP_BYTES}); the clone may not speak (the legacy-clone symptom)"
            )
    missing = decoder_missing()
    if missing is not None:
        return f"sample clips were not measured: {missing} (`{INSTALL_HINT}` enables it)"
    files = [(c, c.path, file_sha256(c.path)) for c in saved if c.path is not None]
    measured = analyse(((path, sha) for _, path, sha in files), AnalysisCache(None))
    for clip, _, sha in files:
        result = measured[sha]
        if isinstance(result, str):
            clip.problem = clip.problem or f"its audio {result}"
            continue
        clip.measurement = result
        if clip.problem is None:
            clip.problem = clip_problem(result)
    return None


def clip_problem(m: Measurement) -> str | None:
    """Why a measured clip cannot be the clone speaking, or None."""
    if m.speech_seconds == 0 and m.silent_seconds >= m.seconds - 0.05:
        return f"silent: {m.seconds:.1f} s without sound; the clone may not speak"
    if m.speech_seconds < MIN_CLIP_SPEECH_SECONDS:
        return (
            f"near-empty: {m.speech_seconds:.1f} s of sound in {m.seconds:.2f} s "
            f"(needs {MIN_CLIP_SPEECH_SECONDS:g} s); the clone may not speak"
        )
    return None


@dataclass
class SamplesRun:
    """`voicectl samples`' outcome: the clips (saved and measured with ``--download``)."""

    clips: list[Clip]
    lock_path: Path
    downloaded: bool
    note: str | None = None  # why the clips could not be measured (no decoder)

    @property
    def bad(self) -> list[Clip]:
        """Clips that failed to download or have a problem."""
        return [c for c in self.clips if c.error or c.problem]


def run_samples(
    connect: Callable[[], workflow.Connection],
    lock_path: Path,
    name: str | None,
    dest: Path | None,
    *,
    logger: Any = None,
) -> SamplesRun:
    """The use case: the clips the lockfile records (every voice, or ``name``); with
    ``dest``, fetch them into that folder (``connect``: the service) and check each one."""
    lock = Lockfile.load(lock_path)
    if not lock.known:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` first")
    try:
        found = recorded(lock.doc, name)
    except UnknownVoice as exc:
        known = ", ".join(exc.known) or "none"
        raise UserError(f"{lock_path}: no voice named {exc.name!r} (recorded: {known})") from None
    run = SamplesRun(found, lock_path, downloaded=dest is not None)
    if dest is None:
        return run
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"--download {dest}: cannot create the folder: {exc.strerror or exc}"
        ) from None

    async def fetch_all() -> None:
        async with workflow.open_client(connect(), logger=logger) as client:
            await fetch(client, found, dest)

    asyncio.run(fetch_all())
    run.note = check(found)
    return run
