"""The check use case: are the voices in the lockfile usable (``voicectl check``)?

For every recorded voice: its clone exists, is ``completed``, and its
``modelIds`` include lightning-v3.1. With a probe, a short phrase is also
synthesised through ``POST /waves/v1/tts`` with ``lightning_v3.1``: a
lightning-large-only clone gets no error there, only a ~100-200 byte WAV with
almost no audio, so the answer's audio is measured (WAV header, data length,
loudness) and flagged when it is too short, or too quiet, to hold speech.

Text to speech allows one request at a time on the base plan, so probes run
one at a time unless asked otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import languages
from reconciler.api.errors import WavesError
from reconciler.api.models import CURRENT_MODEL, PRO_MODEL, Clone
from reconciler.engine import workflow
from reconciler.errors import UserError
from reconciler.lockfile import LockDocument
from reconciler.plan import PlanOptions, not_listed_yet

PROBE_TEXT = "Hello! This is a short check of this voice by voicectl."
MIN_SPEECH_SECONDS = 0.3  # less audio than this cannot hold the probe phrase
MIN_AUDIO_BYTES = 1000  # the legacy symptom is ~100-200 bytes in all
SILENCE_PEAK = 64  # 16-bit peak below this (-54 dBFS) is silence


@dataclass(frozen=True)
class AudioInfo:
    """What a WAV answer holds."""

    size: int  # bytes in all
    seconds: float | None  # None when it is not a WAV that can be measured
    peak: int | None = None  # largest 16-bit sample magnitude, when PCM16
    problem: str | None = None  # why it cannot hold speech, or None


def measure_wav(data: bytes) -> AudioInfo:
    """Parse a RIFF/WAVE answer and judge whether it can hold speech.

    The data length is the smaller of what the header says and what arrived
    (streamed WAVs may declare 0 or 0xFFFFFFFF).
    """
    size = len(data)
    if size < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return AudioInfo(size, None, problem=f"the answer is not a WAV ({size} bytes)")
    pos = 12
    fmt: tuple[int, int, int, int] | None = None  # format tag, channels, rate, bits
    while pos + 8 <= size:
        chunk_id = data[pos : pos + 4]
        (chunk_size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = pos + 8
        if chunk_id == b"fmt " and chunk_size >= 16 and body + 16 <= size:
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack(
                "<HHIIHH", data[body : body + 16]
            )
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                break
            available = size - body
            length = available if chunk_size in (0, 0xFFFFFFFF) else min(chunk_size, available)
            return _judge(size, fmt, data[body : body + length])
        pos = body + chunk_size + (chunk_size & 1)
    return AudioInfo(size, None, problem=f"a WAV without audio data ({size} bytes)")


def _judge(size: int, fmt: tuple[int, int, int, int], pcm: bytes) -> AudioInfo:
    tag, channels, rate, bits = fmt
    frame = max(1, channels) * max(1, bits // 8)
    seconds = len(pcm) / (frame * rate) if rate else 0.0
    peak = None
    if tag == 1 and bits == 16 and len(pcm) >= 2:
        samples = array("h")
        samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
        if struct.pack("=h", 1) != struct.pack("<h", 1):  # pragma: no cover - big-endian
            samples.byteswap()
        peak = max(abs(s) for s in samples)
    problem = None
    if size < MIN_AUDIO_BYTES or seconds < MIN_SPEECH_SECONDS:
        problem = (
            f"audio too short to hold speech ({size} bytes, {seconds:.2f} s); the legacy "
            "lightning-large symptom"
        )
    elif peak is not None and peak < SILENCE_PEAK:
        problem = f"audio is silent ({seconds:.2f} s, peak {peak})"
    return AudioInfo(size, seconds, peak, problem)


@dataclass
class VoiceCheck:
    name: str
    voice_id: str
    clone: Clone | None
    probe: AudioInfo | None = None
    probe_error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


LIST_GRACE = PlanOptions().list_grace  # plan's default --list-grace


def static_problems(
    clone: Clone | None, voice_id: str, entry: Any = None, now: float | None = None
) -> list[str]:
    if clone is None:
        age = not_listed_yet(entry, now, LIST_GRACE) if entry is not None else None
        if age is not None:  # the list may lag behind a create (README, "List lag ...")
            return [
                f"clone {voice_id} was made {age:.0f}s ago and is not listed yet (the list "
                "lags behind creates): not checked; run check again in a moment"
            ]
        return [f"clone {voice_id} does not exist on the service"]
    problems = []
    if clone.status != "completed":
        problems.append(f"status is {clone.status or 'unknown'}, not completed")
    if not clone.is_current:
        models = ", ".join(clone.models) or "none"
        problems.append(f"modelIds ({models}) lack {CURRENT_MODEL} or {PRO_MODEL}")
    return problems


async def check_voices(
    client: Any,
    lock: LockDocument,
    remote: Sequence[Clone],
    *,
    probe: bool = False,
    probe_parallelism: int = 1,
    targets: Sequence[str] = (),
    text: str = PROBE_TEXT,
) -> list[VoiceCheck]:
    """Check every recorded voice (or ``targets``); probe the existing, completed ones."""
    by_id = {c.voice_id: c for c in remote}
    now = time.time()
    checks = []
    for name, entry in sorted(lock.voices.items()):
        if targets and name not in targets:
            continue
        clone = by_id.get(entry.voice_id)
        problems = static_problems(clone, entry.voice_id, entry, now)
        checks.append(VoiceCheck(name, entry.voice_id, clone, problems=problems))
    if probe:
        gate = asyncio.Semaphore(max(1, probe_parallelism))

        async def one(check: VoiceCheck) -> None:
            async with gate:
                # The TTS model matching the clone: lightning_v3.1 or lightning_v3.1_pro
                # (a legacy clone is probed on lightning_v3.1, where it is wanted).
                tts_model = languages.tts_model(check.clone.clone_model if check.clone else None)
                try:
                    audio = await client.tts(check.voice_id, text, model=tts_model)
                except WavesError as exc:
                    check.probe_error = str(exc)
                    check.problems.append(f"probe failed: {exc}")
                    return
            check.probe = measure_wav(audio)
            if check.probe.problem:
                check.problems.append(f"probe on {tts_model}: {check.probe.problem}")

        probed = [c for c in checks if c.clone is not None and c.clone.status == "completed"]
        await asyncio.gather(*(one(c) for c in probed))
    return checks


@dataclass
class CheckResult:
    lock_path: Path
    probed: bool
    checks: list[VoiceCheck]

    @property
    def failed(self) -> list[VoiceCheck]:
        return [c for c in self.checks if not c.ok]


def run_check(
    conn: workflow.Connection,
    lock_path: Path,
    *,
    probe: bool = False,
    probe_parallelism: int = 1,
    targets: Sequence[str] = (),
    logger: logging.Logger | None = None,
) -> CheckResult:
    """Read the lockfile, list the clones, check (and probe) every recorded voice."""
    lock = workflow.load_recorded(lock_path, conn.target)
    if not lock.known:
        raise UserError(f"{lock_path}: no lockfile yet; run `voicectl apply` or `voicectl import`")
    for name in targets:
        if name not in lock.doc.voices:
            known = ", ".join(sorted(lock.doc.voices)) or "none"
            raise UserError(f"--target {name}: no voice of that name in {lock_path.name} ({known})")

    async def run():
        async with workflow.open_client(
            conn, parallelism=max(2, probe_parallelism), logger=logger
        ) as client:
            remote = await workflow.list_for_plan(client, lock)  # a missing one: listed again
            return await check_voices(
                client,
                lock.doc,
                remote,
                probe=probe,
                probe_parallelism=probe_parallelism,
                targets=targets,
            )

    return CheckResult(lock_path, probe, asyncio.run(run()))
