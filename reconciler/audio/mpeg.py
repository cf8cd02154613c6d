"""The duration of an MP3 or MP4 file, read by mutagen from the headers.

mutagen finds an MP3's length from its Xing/VBRI header or its bitrate, and an
MP4's from the ``mvhd``/``mdhd`` boxes. A fragmented MP4 (as some browsers
record) may state no duration there; then this module walks the boxes itself
and adds up the fragments' ``trun`` sample durations.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from reconciler.audio.errors import AudioError


def mp3_duration(path: Path) -> float:
    """Seconds of audio in an MP3 file (mutagen: Xing/VBRI header, else the bitrate)."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        length = MP3(path).info.length  # type: ignore[attr-defined]  # mutagen types it None
    except (MutagenError, OSError, struct.error, ValueError) as exc:
        raise AudioError(f"no readable MPEG audio frames ({_reason(exc)})") from exc
    return float(length)


def mp4_duration(path: Path) -> float:
    """Seconds of audio in an MP4 file (mutagen reads the ``mvhd``/``mdhd`` boxes).

    A fragmented MP4 (as some browsers record) may carry no duration in ``moov``;
    then the fragments' ``trun`` sample durations are added up.
    """
    from mutagen import MutagenError
    from mutagen.mp4 import MP4

    try:
        length = float(MP4(path).info.length)  # type: ignore[attr-defined]  # as above
    except (MutagenError, OSError, struct.error, ValueError) as exc:
        raise AudioError(f"no readable MP4 audio track ({_reason(exc)})") from exc
    if length > 0:
        return length
    return _fragmented_mp4_duration(path)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def _mp4_boxes(fh: BinaryIO, start: int, end: int):
    """Yield (type, body_start, body_end) for the boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        body = pos + 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8:
                return
            size, body = struct.unpack(">Q", large)[0], pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos:
            raise AudioError(f"MP4 box {kind!r} has an impossible size {size}")
        yield kind.decode("latin-1"), body, min(pos + size, end)
        pos += size


def _fragmented_mp4_duration(path: Path) -> float:
    with open(path, "rb") as fh:
        end = os.fstat(fh.fileno()).st_size
        timescale = 0
        total = 0  # in the audio track's timescale
        for kind, body, box_end in _mp4_boxes(fh, 0, end):
            if kind == "moov":
                timescale = _mp4_first_timescale(fh, body, box_end)
            elif kind == "moof":
                total += _mp4_fragment_ticks(fh, body, box_end)
    if timescale and total:
        return total / timescale
    raise AudioError("the MP4 file states no duration and has no sample timings")


def _mp4_first_timescale(fh: BinaryIO, start: int, end: int) -> int:
    for kind, body, box_end in _mp4_boxes(fh, start, end):
        if kind in ("trak", "mdia"):
            found = _mp4_first_timescale(fh, body, box_end)
            if found:
                return found
        elif kind == "mdhd":
            fh.seek(body)
            version = fh.read(1)
            fh.seek(body + (20 if version == b"\x01" else 12))
            raw = fh.read(4)
            return struct.unpack(">I", raw)[0] if len(raw) == 4 else 0
    return 0


def _mp4_fragment_ticks(fh: BinaryIO, start: int, end: int) -> int:
    ticks = 0
    for kind, body, box_end in _mp4_boxes(fh, start, end):
        if kind != "traf":
            continue
        default_duration = 0
        for sub, sub_body, _sub_end in _mp4_boxes(fh, body, box_end):
            fh.seek(sub_body)
            head = fh.read(8)
            if len(head) < 8:
                continue
            flags = int.from_bytes(head[1:4], "big")
            if sub == "tfhd":
                offset = sub_body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                if flags & 0x08:
                    fh.seek(offset)
                    default_duration = struct.unpack(">I", fh.read(4))[0]
            elif sub == "trun":
                count = struct.unpack(">I", head[4:8])[0]
                offset = sub_body + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
                if not flags & 0x100:
                    ticks += count * default_duration
                    continue
                stride = 4 * sum(bool(flags & f) for f in (0x100, 0x200, 0x400, 0x800))
                fh.seek(offset)
                for _ in range(count):
                    entry = fh.read(stride)
                    if len(entry) < 4:
                        break
                    ticks += struct.unpack(">I", entry[:4])[0]
    return ticks
