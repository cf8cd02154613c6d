"""How much MPEG audio an MP3 file really holds, counted frame by frame.

An MP3's Xing/VBRI header states a frame count and mutagen believes it, so a
file cut short after its header (a broken download, a copy that ran out of
space) still "lasts" what the header says. :func:`measured_mp3_seconds` walks
the frame headers from the first frame to the last complete one and adds up
their samples: the audio that is actually there.
"""

from __future__ import annotations

from pathlib import Path

# kbit/s by [version group][layer][index]; version group 0 = MPEG-1, 1 = MPEG-2/2.5.
_BITRATES = {
    (0, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (0, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (0, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (1, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (1, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (1, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _frame(header: bytes) -> tuple[int, int, int] | None:
    """(frame length in bytes, samples, sample rate) of a frame header, or None."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 3  # 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    layer = 4 - ((header[1] >> 1) & 3)  # 1, 2 or 3 (4: reserved)
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    group = 0 if version == 3 else 1
    bitrate = _BITRATES[(group, layer)][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384, rate
    if layer == 3 and group == 1:
        return 72 * bitrate // rate + padding, 576, rate
    return 144 * bitrate // rate + padding, 1152, rate


def _id3_end(data: bytes) -> int:
    if len(data) >= 10 and data[:3] == b"ID3":
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def measured_mp3_seconds(path: Path) -> float:
    """Seconds of audio in the complete MPEG frames of ``path`` (0.0 if none)."""
    data = Path(path).read_bytes()  # a sample is at most 5 MB
    pos = _id3_end(data)
    # Find the first frame whose successor is also a frame (not a stray 0xFF).
    while pos + 4 <= len(data):
        frame = _frame(data[pos : pos + 4])
        if frame:
            after = pos + frame[0]
            if after == len(data) or _frame(data[after : after + 4]):
                break
        pos += 1
    seconds = 0.0
    while pos + 4 <= len(data):
        frame = _frame(data[pos : pos + 4])
        if frame is None or frame[0] < 4:
            break
        length, samples, rate = frame
        if pos + length > len(data):  # the last frame was cut
            break
        seconds += samples / rate
        pos += length
    return seconds
