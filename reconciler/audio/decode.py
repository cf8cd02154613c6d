"""Decode a sample (wav, mp3, mp4/m4a, webm/opus) to float PCM with PyAV.

PyAV wraps FFmpeg and ships it inside its wheels, so one library reads all four
formats the service takes, with no program to install beside it. It is the
``quality`` extra (``pip install 'voicectl[quality]'``) because of its size:
without it ``decoder_missing()`` says why, and the quality checks are skipped
(the header checks in check.py never need it). ``decode_count()`` counts the files
decoded by this process, so the analysis cache can be shown to spare them.
"""

from __future__ import annotations

import importlib.util
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
    """None when numpy imports and PyAV is installed; else what is missing, as a short
    phrase.

    PyAV is looked for, not imported (that is ~0.1 s and ~20 MB): a plain PCM WAV
    is read without it (:func:`_plain_wav`), so samples that are all such WAVs never
    load it; the first file that needs FFmpeg does (:func:`decode_with_ffmpeg`).
    """
    try:
        import numpy  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or 'numpy'} is not installed"
    try:
        found = importlib.util.find_spec("av")
    except (ImportError, ValueError):
        found = None
    return None if found is not None else "av is not installed"


def decode_count() -> int:
    """How many files this process has decoded so far."""
    return _decoded


def decode(path: Path) -> Pcm:
    """Every sample of the first audio stream of ``path`` as float32; raises AudioError."""
    global _decoded
    import numpy as np

    with _count_lock:
        _decoded += 1
    log.debug("decoding %s", path)
    return _plain_wav(path, np) or decode_with_ffmpeg(path)


def decode_with_ffmpeg(path: Path) -> Pcm:
    """:func:`decode` through FFmpeg (PyAV) for every format, plain WAV included.

    A PyAV that is there but does not import makes this file undecodable (its
    quality is not checked), not the run fail.
    """
    try:
        import av
    except ImportError as exc:
        raise AudioError(f"cannot be decoded (PyAV does not import: {_reason(exc)})") from exc
    import numpy as np

    parts: list[Any] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError("no audio stream")
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
            for frame in container.decode(stream):
                parts.append(_planes(frame, np))
            codec = ctx.name
    except av.error.FFmpegError as exc:
        raise AudioError(f"cannot be decoded ({_reason(exc)})") from exc
    if not parts or rate <= 0:
        raise AudioError("holds no decodable audio")
    samples = np.concatenate(parts, axis=1).astype(np.float32, copy=False)
    return Pcm(samples=samples, rate=rate, channels=samples.shape[0] or channels, codec=codec)


_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "flt": 1.0, "dbl": 1.0}
# Integer PCM WAV as the standard library reads it: sample width -> (format, dtype, codec).
_WAV_PCM = {
    1: ("u8", "u1", "pcm_u8"),
    2: ("s16", "<i2", "pcm_s16le"),
    4: ("s32", "<i4", "pcm_s32le"),
}


def _plain_wav(path: Path, np: Any) -> Pcm | None:
    """A plain integer-PCM WAV read whole with the ``wave`` module, or None for anything
    else (float, 24-bit, extensible headers, damage: FFmpeg decodes those).

    FFmpeg hands a WAV over in packets of a few hundred samples, and each costs a
    frame object and an array; one read of the data chunk gives the same samples
    (the same float32 values: the same conversion as :func:`_planes`) at a fraction
    of the cost.
    """
    import wave

    try:
        with wave.open(str(path), "rb") as reader:
            width, channels, rate = (
                reader.getsampwidth(),
                reader.getnchannels(),
                reader.getframerate(),
            )
            if width not in _WAV_PCM or channels < 1 or rate <= 0:
                return None
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError, OSError, ValueError):
        return None
    packed, dtype, codec = _WAV_PCM[width]
    usable = len(raw) - len(raw) % (width * channels)
    if usable <= 0:
        return None  # no whole frame: let FFmpeg say what it makes of it
    data = np.frombuffer(raw[:usable], dtype=dtype).reshape(-1, channels).T.astype(np.float32)
    if packed == "u8":
        data -= 128.0
    data /= _SCALE[packed]
    return Pcm(samples=data, rate=rate, channels=channels, codec=codec)


def _planes(frame: Any, np: Any) -> Any:
    """One decoded frame as float32 (channels, samples), without a resampler.

    Packed formats come as one interleaved row, planar ones as a row per channel.
    """
    name = frame.format.name
    packed = name.rstrip("p") if frame.format.is_planar else name
    data = frame.to_ndarray()
    if packed not in _SCALE:
        raise AudioError(f"an unusual sample format ({name})")
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    data = data.astype(np.float32)
    if packed == "u8":
        data -= 128.0
    if _SCALE[packed] != 1.0:
        data /= _SCALE[packed]
    return data


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).splitlines()[0][:120]
