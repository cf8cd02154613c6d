"""The duration of a RIFF/WAVE file: the stdlib ``wave`` module, else the chunks by hand.

Only the ``fmt``, ``fact`` and ``data`` chunk headers are read, never the
samples; the hand-reader covers what ``wave`` refuses (IEEE float, older
Pythons' WAVE_FORMAT_EXTENSIBLE) and streamed recordings whose data size is
missing or wrong.
"""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

from reconciler.audio.errors import AudioError


def wav_duration(path: Path) -> float:
    """Seconds of audio in a RIFF/WAVE file.

    The stdlib ``wave`` module reads plain PCM; it refuses IEEE float and (before
    Python 3.12) WAVE_FORMAT_EXTENSIBLE, so then the fmt and data chunks are read
    by hand. A data chunk whose size is 0 or 0xFFFFFFFF (a streamed recording) or
    larger than the file counts the bytes actually there.
    """
    size = os.path.getsize(path)
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
            frame_bytes = wav.getsampwidth() * wav.getnchannels()
        if rate > 0 and frames > 0 and frames * frame_bytes <= size:
            return frames / rate
    except (wave.Error, EOFError, struct.error):
        pass
    return _wav_duration_by_hand(path, size)


def _wav_duration_by_hand(path: Path, size: int) -> float:
    fmt: tuple[int, int, int, int, int] | None = None  # tag, channels, rate, byte rate, align
    fact_frames: int | None = None
    with open(path, "rb") as fh:
        riff = fh.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise AudioError("no RIFF/WAVE header")
        while True:
            header = fh.read(8)
            if len(header) < 8:
                raise AudioError("no data chunk" if fmt else "no fmt chunk")
            chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
            start = fh.tell()
            if chunk_id == b"fmt ":
                body = fh.read(min(chunk_size, 64))
                if len(body) < 16:
                    raise AudioError("fmt chunk is truncated")
                fmt = struct.unpack("<HHIIH", body[:14])
                if fmt[0] == 0xFFFE and len(body) >= 26:  # EXTENSIBLE: the real tag follows
                    fmt = (struct.unpack("<H", body[24:26])[0], *fmt[1:])
            elif chunk_id == b"fact" and chunk_size >= 4:
                fact_frames = struct.unpack("<I", fh.read(4))[0]
            elif chunk_id == b"data":
                if fmt is None:
                    raise AudioError("data chunk before the fmt chunk")
                available = size - start
                if chunk_size in (0, 0xFFFFFFFF) or chunk_size > available:
                    chunk_size = available
                return _wav_seconds(fmt, chunk_size, fact_frames)
            fh.seek(start + chunk_size + (chunk_size & 1))


def _wav_seconds(fmt: tuple[int, int, int, int, int], data_bytes: int, fact: int | None) -> float:
    tag, channels, rate, byte_rate, align = fmt
    if channels == 0 or rate == 0:
        raise AudioError(f"fmt chunk says {channels} channels at {rate} Hz")
    if tag not in (1, 3) and fact:  # compressed: the fact chunk counts the frames
        return fact / rate
    if align:
        return (data_bytes // align) / rate
    if byte_rate:
        return data_bytes / byte_rate
    raise AudioError("fmt chunk has neither a block align nor a byte rate")
