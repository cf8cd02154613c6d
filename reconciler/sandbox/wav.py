"""Real WAV files for the emulator: voice samples and text-to-speech output.

The audio is a plain tone whose pitch depends on the voice, so two voices sound
different and a client can check it got audio of the expected length. Nothing
here pretends to be speech; what matters is that the files parse and that their
length grows with the text, as the real service's do.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from array import array

SECONDS_PER_CHAR = 0.06
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
DEFAULT_SAMPLE_RATE = 24000
# The legacy-clone bug: a WAV of a header and a few samples (44 + 2 * 53 = 150 bytes).
NEAR_EMPTY_FRAMES = 53


def voice_frequency(voice_id: str) -> int:
    """A stable pitch (an integer number of Hz, 110-329) for a voice id."""
    digest = hashlib.sha256(voice_id.encode("utf-8")).digest()
    return 110 + int.from_bytes(digest[:2], "big") % 220


def voice_fraction(voice_id: str) -> float:
    """A stable number in [0, 1) for a voice id (which clones a rate picks)."""
    digest = hashlib.sha256(b"voicectl-sandbox-fraction:" + voice_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _one_second(frequency: int, sample_rate: int, amplitude: float) -> bytes:
    # With an integer frequency one second holds whole periods, so seconds can be
    # repeated without a click and only sample_rate sines are ever computed.
    peak = int(32767 * amplitude)
    step = 2.0 * math.pi * frequency / sample_rate
    samples = array("h", (int(peak * math.sin(step * i)) for i in range(sample_rate)))
    if samples.itemsize != 2:  # pragma: no cover - every CPython platform has 16-bit shorts
        raise RuntimeError("array('h') is not 16-bit here")
    if struct.pack("=h", 1) != struct.pack("<h", 1):  # pragma: no cover - big-endian hosts
        samples.byteswap()
    return samples.tobytes()


def pcm_tone(
    seconds: float,
    *,
    frequency: int = 220,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    amplitude: float = 0.3,
) -> bytes:
    """16-bit little-endian mono PCM of a tone lasting ``seconds``."""
    frames = max(0, int(round(seconds * sample_rate)))
    second = _one_second(frequency, sample_rate, amplitude)
    whole, rest = divmod(frames * 2, len(second))
    return second * whole + second[:rest]


def wav_bytes(pcm: bytes, *, sample_rate: int = DEFAULT_SAMPLE_RATE) -> bytes:
    """Wrap 16-bit mono PCM in a WAV (RIFF) container."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def tone_wav(
    seconds: float,
    *,
    frequency: int = 220,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    amplitude: float = 0.3,
) -> bytes:
    """A complete WAV file of a tone lasting ``seconds``."""
    pcm = pcm_tone(seconds, frequency=frequency, sample_rate=sample_rate, amplitude=amplitude)
    return wav_bytes(pcm, sample_rate=sample_rate)


def speech_seconds(text: str) -> float:
    """How long the emulator's 'speech' for ``text`` lasts (grows with the text)."""
    return max(0.25, SECONDS_PER_CHAR * len(text))


def near_empty_wav(*, sample_rate: int = DEFAULT_SAMPLE_RATE) -> bytes:
    """What a lightning-large-only clone gets on lightning-v3.1: ~150 bytes of nothing."""
    return wav_bytes(b"\x00\x00" * NEAR_EMPTY_FRAMES, sample_rate=sample_rate)
