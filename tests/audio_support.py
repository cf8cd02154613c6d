"""Test audio for the quality checks: real speech and each defect, in all four formats.

Speech is the committed espeak-ng example (``examples/narrator.wav`` and
``examples/asistente-es.wav``, 16 kHz mono), read with stdlib ``wave``; the
defects are made from it with numpy; ``write`` stores any signal as wav (stdlib
``wave``) or encodes it with PyAV as mp3 (LAME), m4a (AAC in MP4) or webm (Opus).
Nothing here needs a program beyond the ``quality`` extra.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
# The container and codec for each format a sample may have.
FORMATS = {
    "wav": (None, None),
    "mp3": ("mp3", "libmp3lame"),
    "m4a": ("ipod", "aac"),
    "webm": ("webm", "libopus"),
}


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM wav as float32 in [-1, 1] (mono) and its rate."""
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
    assert width == 2
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768
    return data.reshape(-1, channels).mean(axis=1), rate


def speech(seconds: float = 10.0) -> np.ndarray:
    """``seconds`` of real (espeak-ng) speech at 16 kHz: the two examples, joined, cut."""
    parts = [read_wav(ROOT / "examples" / name)[0] for name in ("narrator.wav", "asistente-es.wav")]
    joined = np.concatenate([parts[0], np.zeros(RATE // 5, np.float32), parts[1]])
    need = int(seconds * RATE)
    while joined.size < need:
        joined = np.concatenate([joined, joined])
    return joined[:need].copy()


def room_noise(seconds: float, dbfs: float, seed: int = 1) -> np.ndarray:
    """White noise at ``dbfs`` RMS."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * RATE)) * 10 ** (dbfs / 20)).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """Store mono float samples in the format of ``path``'s suffix (.wav .mp3 .m4a .webm)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clipped = np.clip(samples, -1.0, 1.0)
    fmt = path.suffix.lstrip(".")
    if fmt == "wav":
        pcm = np.round(clipped * 32767).astype("<i2")
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm.tobytes())
        return path
    import av

    container_format, codec = FORMATS[fmt]
    with av.open(str(path), "w", format=container_format) as out:
        out_rate = 48000 if codec == "libopus" else rate
        stream = out.add_stream(codec, rate=out_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            clipped.astype(np.float32)[None, :], format="flt", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = None
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def defect(name: str) -> tuple[np.ndarray, int]:
    """A 10 s signal with one defect (or none: ``clean``), and its rate."""
    s = speech(10.0)
    make = {
        "clean": lambda: s,
        "silence": lambda: np.zeros_like(s),  # digital silence throughout
        "near-silence": lambda: room_noise(10.0, -75.0),  # hiss, nothing else
        "short-speech": lambda: np.concatenate([s[: int(2.6 * RATE)], room_noise(7.4, -55.0)]),
        "padded": lambda: np.concatenate([s[: int(4.0 * RATE)], room_noise(6.0, -55.0)]),
        "clipped": lambda: np.clip(s * 8, -1.0, 1.0),  # +18 dB into the rails
        "quiet": lambda: s * 10 ** (-40 / 20),  # a whisper 40 dB down
        "noisy": lambda: s + room_noise(10.0, -30.0),
        "dropout": lambda: np.concatenate(  # 3 s of digital silence mid-sentence
            [s[: 5 * RATE], np.zeros(3 * RATE, np.float32), s[5 * RATE : 7 * RATE]]
        ),
    }
    if name == "telephone":  # 8 kHz, as telephone audio is
        return s[::2].copy(), RATE // 2
    return make[name](), RATE
