"""Decode a sample (wav, mp3, mp4/m4a, webm/opus) to float PCM with PyAV.

PyAV wraps FFmpeg and ships it inside its wheels, so one library reads all four
formats the service takes, with no program to install beside it. It is the
``quality`` extra (``pip install 'voicectl[quality]'``) because of its size:
without it ``decoder_missing()`` says why, and the quality checks are skipped
(the header checks in check.py never need it). ``decode_count()`` counts the files
decoded by this process, so the analysis cache can be shown to spare them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.audio.errors import AudioError

log = logging.getLogger("voicectl.audio")

INSTALL_HINT = "pip install 'voicectl[quality]'"
_decoded = 0
_count_lock = threading.Lock()


@dataclass(frozen=True)
class Pcm:
    """Decoded audio: ``samples`` is a float32 array (channels, frames) in [-1, 1]."""

    samples: Any  # numpy.ndarray, shape (channels, frames)
    rate: int  # Hz, as the stream is coded
    channels: int
    codec: str

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.rate if self.rate else 0.0


def decoder_missing() -> str | None:
    """None when PyAV and numpy import; else what is missing, as a short phrase."""
    try:
        import av  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or 'av'} is not installed"
    return None


def decode_count() -> int:
    """How many files this process has decoded so far."""
    return _decoded


def decode(path: Path) -> Pcm:
    """Every sample of the first audio stream of ``path`` as float32; raises AudioError."""
    global _decoded
    import av
    import numpy as np

    with _count_lock:
        _decoded += 1
    log.debug("decoding %s", path)
    parts: list[Any] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError("no audio stream")
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
            resampler = av.AudioResampler(format="fltp")
            for frame in container.decode(stream):
                parts.extend(f.to_ndarray() for f in resampler.resample(frame))
            parts.extend(f.to_ndarray() for f in resampler.resample(None))
            codec = ctx.name
    except av.error.FFmpegError as exc:
        raise AudioError(f"cannot be decoded ({_reason(exc)})") from exc
    if not parts or rate <= 0:
        raise AudioError("holds no decodable audio")
    samples = np.concatenate(parts, axis=1).astype(np.float32, copy=False)
    return Pcm(samples=samples, rate=rate, channels=samples.shape[0] or channels, codec=codec)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).splitlines()[0][:120]
