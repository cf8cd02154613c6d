"""Sample audio checks: the real format (sniffed from the bytes), size, duration.

The Waves API accepts wav, mp3, mp4 and webm. A file's extension is not trusted:
its first bytes decide its format, and the MIME type an upload is sent with.

Everything here reads as little as it can: a few KB to sniff, the headers to find
a duration (never the audio data itself), and a chunked pass for the sha256.
Each format's duration has its own small function, so a new container is one
function and one entry in ``DURATION_READERS``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import filetype

MAX_BYTES = 5 * 1024 * 1024
MIN_SECONDS = 5.0
MAX_SECONDS = 15.0
SNIFF_BYTES = 8192

# The documented part MIME type for each accepted format (never audio/x-wav).
MIME_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp4": "audio/mp4",
    "webm": "audio/webm",
}
EXTENSIONS = {"wav": ".wav", "mp3": ".mp3", "mp4": ".mp4", "webm": ".webm"}
# What a file's extension claims, to warn when the bytes say otherwise.
EXTENSION_FORMATS = {
    ".wav": "wav",
    ".wave": "wav",
    ".mp3": "mp3",
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".webm": "webm",
}
FORMAT_NAMES = "wav, mp3, mp4 or webm"
# No codec the service takes goes below ~6 kbit/s; fewer bytes than this per
# second of stated duration means the file was cut short after its header.
MIN_BYTES_PER_SECOND = 250


class AudioError(Exception):
    """The audio cannot be read: corrupt, truncated, or missing what a duration needs."""


# --------------------------------------------------------------------------- sniffing

# ISO base media brands that mean "an MP4 file" (QuickTime `qt  ` and 3GPP are not).
_MP4_BRANDS = frozenset(
    {
        "isom",
        "iso2",
        "iso3",
        "iso4",
        "iso5",
        "iso6",
        "iso7",
        "iso8",
        "iso9",
        "mp41",
        "mp42",
        "mp71",
        "M4A ",
        "M4B ",
        "M4V ",
        "M4VH",
        "M4VP",
        "dash",
        "avc1",
        "msnv",
        "MSNV",
        "f4a ",
        "f4v ",
    }
)


def _syncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def _is_mpeg_audio_frame(head: bytes, pos: int = 0) -> bool:
    """True when ``head[pos:]`` starts with a plausible MPEG layer III frame header."""
    if len(head) < pos + 4:
        return False
    b0, b1, b2 = head[pos], head[pos + 1], head[pos + 2]
    if b0 != 0xFF or (b1 & 0xE0) != 0xE0:
        return False
    version = (b1 >> 3) & 0x03  # 01 is reserved
    layer = (b1 >> 1) & 0x03  # 01 is layer III
    bitrate = b2 >> 4  # 1111 is invalid
    rate = (b2 >> 2) & 0x03  # 11 is reserved
    return version != 0x01 and layer == 0x01 and bitrate != 0x0F and rate != 0x03


def _ebml_doctype(head: bytes) -> str | None:
    """The DocType of an EBML header (``webm``, ``matroska``), or None."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    pos = head.find(b"\x42\x82")
    while pos != -1 and pos + 3 <= len(head):
        size_byte = head[pos + 2]
        if size_byte & 0x80:  # a one-byte size, as every muxer writes it
            size = size_byte & 0x7F
            value = head[pos + 3 : pos + 3 + size]
            if len(value) == size:
                return value.rstrip(b"\0").decode("ascii", "replace")
        pos = head.find(b"\x42\x82", pos + 1)
    return None


def _mp4_brands(head: bytes) -> list[str]:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    size = struct.unpack(">I", head[:4])[0]
    end = min(len(head), max(size, 16))
    brands = [head[8:12].decode("latin-1")]
    brands += [head[i : i + 4].decode("latin-1") for i in range(16, end - 3, 4)]
    return brands


def sniff_format(head: bytes) -> str | None:
    """The accepted format ('wav', 'mp3', 'mp4', 'webm') of these leading bytes, or None.

    Only the bytes count: a text file named ``x.wav`` is None, an mp3 named
    ``x.wav`` is 'mp3'. MP3 is recognised with or without an ID3v2 tag; after a tag
    that fits in ``head`` a real MPEG audio frame must follow (FLAC files carry ID3
    tags too).
    """
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" and len(head) >= 10:
        end = 10 + _syncsafe(head[6:10]) + (10 if head[5] & 0x10 else 0)
        if end + 4 > len(head):
            return "mp3"  # a large tag (cover art): trust it
        # Some encoders pad between the tag and the first frame.
        pos = end
        while pos < len(head) and head[pos] == 0:
            pos += 1
        return "mp3" if _is_mpeg_audio_frame(head, pos) else None
    if _is_mpeg_audio_frame(head):
        return "mp3"
    brands = _mp4_brands(head)
    if brands and any(b in _MP4_BRANDS for b in brands):
        return "mp4"
    if _ebml_doctype(head) == "webm":
        return "webm"
    return None


def sniff_file(path: Path) -> str | None:
    """The accepted format of the file at ``path``, from its first bytes."""
    with open(path, "rb") as fh:
        return sniff_format(fh.read(SNIFF_BYTES))


def describe_content(head: bytes) -> str:
    """What these leading bytes look like, for an error about a file that is not audio.

    E.g. ``text ("hello, this is not a wav…")``, ``a FLAC file (audio/x-flac)``,
    ``Matroska (mkv) video, which is not WebM``.
    """
    if not head:
        return "an empty file"
    text = _as_text(head)
    if text is not None:
        snippet = " ".join(text.split())[:40]
        return f"text ({snippet!r})" if snippet else "blank text"
    doctype = _ebml_doctype(head)
    if doctype is not None:
        return f"a {doctype} EBML file, not WebM"
    brands = _mp4_brands(head)
    if brands:
        return f"an ISO media file with brand {brands[0].strip()!r} (not MP4)"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return f"a RIFF {head[8:12].decode('latin-1')!r} file, not WAVE"
    if head[:3] == b"ID3":
        return "an ID3 tag followed by something that is not MPEG audio"
    kind = filetype.guess(head)
    if kind is not None:
        return f"a {kind.extension.upper()} file ({kind.mime})"
    return f"unrecognised binary data (starts with {head[:8].hex(' ')})"


def _as_text(head: bytes) -> str | None:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte char cut at the end
            return None
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if text and printable / len(text) > 0.95 else None


# --------------------------------------------------------------------------- durations


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


def mp3_duration(path: Path) -> float:
    """Seconds of audio in an MP3 file (mutagen: Xing/VBRI header, else the bitrate)."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        length = MP3(path).info.length
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
        length = float(MP4(path).info.length)
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


# WebM (Matroska) element ids, marker bits included as the spec writes them.
_EBML, _SEGMENT, _INFO, _TRACKS = 0x1A45DFA3, 0x18538067, 0x1549A966, 0x1654AE6B
_CLUSTER = 0x1F43B675
_TIMECODE_SCALE, _DURATION, _TRACK_ENTRY, _DEFAULT_DURATION = 0x2AD7B1, 0x4489, 0xAE, 0x23E383
_TIMECODE, _SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _BLOCK_DURATION = 0xE7, 0xA3, 0xA0, 0xA1, 0x9B
# Elements that can only be children of the Segment: they end an unknown-size Cluster.
_LEVEL1 = frozenset(
    {0x114D9B74, _INFO, _TRACKS, _CLUSTER, 0x1C53BB6B, 0x1043A770, 0x1254C367, 0x1941A469}
)
_MAX_HEADER_ELEMENT = 1 << 20  # Info/Tracks bigger than this are not a voice sample


class _Ebml:
    """A forward reader of EBML element headers over an open file."""

    def __init__(self, fh: BinaryIO, size: int):
        self.fh, self.size = fh, size

    def _vint(self, keep_marker: bool) -> tuple[int, int, bool] | None:
        first = self.fh.read(1)
        if not first:
            return None
        b = first[0]
        if b == 0:
            raise AudioError(f"invalid EBML number at byte {self.fh.tell() - 1}")
        length = 8 - b.bit_length() + 1
        rest = self.fh.read(length - 1)
        if len(rest) < length - 1:
            return None
        value = b if keep_marker else b & (0xFF >> length)
        for byte in rest:
            value = (value << 8) | byte
        unknown = not keep_marker and value == (1 << (7 * length)) - 1
        return value, length, unknown

    def header(self) -> tuple[int, int | None, int] | None:
        """(element id, data size or None when unknown, data start); None at end of file."""
        ident = self._vint(keep_marker=True)
        if ident is None:
            return None
        size = self._vint(keep_marker=False)
        if size is None:
            return None
        return ident[0], (None if size[2] else size[0]), self.fh.tell()

    def read(self, size: int) -> bytes:
        if size > _MAX_HEADER_ELEMENT:
            raise AudioError(f"a {size}-byte header element is not plausible")
        data = self.fh.read(size)
        if len(data) < size:
            raise AudioError("the file ends inside a header element")
        return data


def _ebml_children(data: bytes):
    """Yield (id, payload) of the elements in a fully read master element."""
    pos = 0
    while pos < len(data):
        id_len = 8 - data[pos].bit_length() + 1 if data[pos] else 9
        if id_len > 4 or pos + id_len >= len(data):
            return
        ident = int.from_bytes(data[pos : pos + id_len], "big")
        pos += id_len
        size_len = 8 - data[pos].bit_length() + 1 if data[pos] else 9
        if size_len > 8 or pos + size_len > len(data):
            return
        size = data[pos] & (0xFF >> size_len)
        for byte in data[pos + 1 : pos + size_len]:
            size = (size << 8) | byte
        pos += size_len
        yield ident, data[pos : pos + size]
        pos += size


def _ebml_uint(payload: bytes) -> int:
    return int.from_bytes(payload, "big") if payload else 0


def _ebml_float(payload: bytes) -> float:
    if len(payload) == 4:
        return struct.unpack(">f", payload)[0]
    if len(payload) == 8:
        return struct.unpack(">d", payload)[0]
    raise AudioError(f"a {len(payload)}-byte EBML float")


@dataclass
class _WebmScan:
    scale: int = 1_000_000  # ns per tick (the spec's default TimecodeScale)
    duration: float | None = None  # ticks, from Info/Duration
    info_seen: bool = False
    last_tick: int | None = None  # the latest block's absolute timestamp, in ticks
    last_block_ns: int = 0  # that block's own duration, when known
    default_duration_ns: int = 0  # a track's DefaultDuration (frame length)


def webm_duration(path: Path) -> float:
    """Seconds of audio in a WebM file, from Segment → Info → Duration × TimecodeScale.

    Browsers' MediaRecorder writes no Duration (the length is unknown while
    recording, and the Segment and Clusters may have unknown sizes). Then the
    Clusters are scanned: the last block's timestamp (Cluster Timecode + the
    block's relative timecode) plus one frame. Only element headers are read;
    block payloads are skipped with seek.
    """
    with open(path, "rb") as fh:
        reader = _Ebml(fh, os.fstat(fh.fileno()).st_size)
        first = reader.header()
        if first is None or first[0] != _EBML or first[1] is None:
            raise AudioError("no EBML header")
        fh.seek(first[2] + first[1])
        segment = reader.header()
        while segment is not None and segment[0] != _SEGMENT:  # skip Void/CRC before it
            if segment[1] is None:
                raise AudioError("an unknown-size element before the Segment")
            fh.seek(segment[2] + segment[1])
            segment = reader.header()
        if segment is None:
            raise AudioError("no Segment")
        seg_end = reader.size if segment[1] is None else min(reader.size, segment[2] + segment[1])
        scan = _WebmScan()
        _scan_segment(reader, seg_end, scan)
    if scan.duration:
        return scan.duration * scan.scale / 1e9
    if scan.last_tick is None:
        raise AudioError("neither a Duration nor any audio blocks")
    tail = scan.last_block_ns or scan.default_duration_ns
    return (scan.last_tick * scan.scale + tail) / 1e9


def _scan_segment(reader: _Ebml, seg_end: int, scan: _WebmScan) -> None:
    fh = reader.fh
    pending = None
    while True:
        head = pending or (reader.header() if fh.tell() < seg_end else None)
        pending = None
        if head is None:
            return
        ident, size, start = head
        if ident == _INFO and size is not None:
            _read_info(reader.read(size), scan)
            if scan.duration:
                return
            continue
        if ident == _TRACKS and size is not None:
            _read_tracks(reader.read(size), scan)
            continue
        if ident == _CLUSTER:
            end = seg_end if size is None else min(seg_end, start + size)
            pending = _scan_cluster(reader, end, scan)
            continue
        if size is None:
            raise AudioError(f"an unknown-size element 0x{ident:X} in the Segment")
        if start + size > seg_end:
            return  # truncated at the end (a recording cut short): keep what was seen
        fh.seek(start + size)


def _read_info(data: bytes, scan: _WebmScan) -> None:
    scan.info_seen = True
    for ident, payload in _ebml_children(data):
        if ident == _TIMECODE_SCALE:
            scan.scale = _ebml_uint(payload) or 1_000_000
        elif ident == _DURATION:
            value = _ebml_float(payload)
            scan.duration = value if value > 0 else None


def _read_tracks(data: bytes, scan: _WebmScan) -> None:
    for ident, entry in _ebml_children(data):
        if ident == _TRACK_ENTRY:
            for sub, payload in _ebml_children(entry):
                if sub == _DEFAULT_DURATION:
                    scan.default_duration_ns = max(scan.default_duration_ns, _ebml_uint(payload))


def _block_tick(reader: _Ebml, start: int, cluster_tick: int) -> int:
    """The absolute timestamp of a (Simple)Block whose data starts at ``start``."""
    fh = reader.fh
    fh.seek(start)
    track = reader._vint(keep_marker=False)
    rel = fh.read(2)
    if track is None or len(rel) < 2:
        raise AudioError("the file ends inside a block header")
    return cluster_tick + struct.unpack(">h", rel)[0]


def _scan_cluster(reader: _Ebml, end: int, scan: _WebmScan):
    """Scan one Cluster; return the header that ended an unknown-size one, if any."""
    fh = reader.fh
    cluster_tick = 0
    while fh.tell() < end:
        head = reader.header()
        if head is None:
            return None
        ident, size, start = head
        if ident in _LEVEL1:
            return head  # the next top-level element: this cluster had an unknown size
        if size is None:
            raise AudioError(f"an unknown-size element 0x{ident:X} in a Cluster")
        if start + size > reader.size:
            return None  # truncated: keep what was seen
        if ident == _TIMECODE:
            cluster_tick = _ebml_uint(reader.read(size))
        elif ident == _SIMPLE_BLOCK:
            scan.last_tick = max(scan.last_tick or 0, _block_tick(reader, start, cluster_tick))
            scan.last_block_ns = 0
        elif ident == _BLOCK_GROUP:
            _scan_block_group(reader, start, start + size, cluster_tick, scan)
        fh.seek(start + size)
    return None


def _scan_block_group(
    reader: _Ebml, start: int, end: int, cluster_tick: int, scan: _WebmScan
) -> None:
    fh = reader.fh
    fh.seek(start)
    tick = duration = None
    while fh.tell() < end:
        head = reader.header()
        if head is None or head[1] is None:
            return
        ident, size, child = head
        if ident == _BLOCK:
            tick = _block_tick(reader, child, cluster_tick)
        elif ident == _BLOCK_DURATION:
            duration = _ebml_uint(reader.read(size))
        fh.seek(child + size)
    if tick is not None and tick >= (scan.last_tick or 0):
        scan.last_tick = tick
        scan.last_block_ns = (duration or 0) * scan.scale


DURATION_READERS: dict[str, Callable[[Path], float]] = {
    "wav": wav_duration,
    "mp3": mp3_duration,
    "mp4": mp4_duration,
    "webm": webm_duration,
}


def duration_of(path: Path, fmt: str | None = None) -> float:
    """Seconds of audio in ``path`` (format sniffed unless given); raises AudioError."""
    fmt = fmt or sniff_file(path)
    if fmt not in DURATION_READERS:
        raise AudioError(f"not {FORMAT_NAMES} audio")
    return DURATION_READERS[fmt](path)


# --------------------------------------------------------------------------- whole check


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (memory stays flat)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class SampleInfo:
    """What a sample file is, once it passed every check."""

    path: Path
    size: int
    format: str  # 'wav' | 'mp3' | 'mp4' | 'webm'
    duration: float  # seconds
    sha256: str | None  # None when not asked for

    @property
    def mime_type(self) -> str:
        """The MIME type to upload it with."""
        return MIME_TYPES[self.format]


@dataclass
class SampleCheck:
    """The result of ``check_sample``: ``info`` when usable, and every problem found.

    Messages name the file as the caller gave it (``name``) and carry no position:
    the manifest loader adds ``voices.yaml:LINE:COL: voices.x.file:`` in front.
    """

    info: SampleInfo | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_sample(
    path: Path,
    *,
    name: str | None = None,
    allow_any_duration: bool = False,
    want_sha256: bool = True,
) -> SampleCheck:
    """Check one sample file the way the service will: exists, ≤ 5 MB, a real
    wav/mp3/mp4/webm, 5–15 s long (a warning instead with ``allow_any_duration``).

    ``name`` is how messages refer to the file (default: ``path``).
    """
    name = name or str(path)
    result = SampleCheck()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        result.errors.append(f"{name} does not exist")
        return result
    except NotADirectoryError:
        result.errors.append(f"{name} does not exist (a part of its path is a file)")
        return result
    except OSError as exc:
        result.errors.append(f"{name} cannot be read: {exc.strerror or exc}")
        return result
    if stat.S_ISDIR(st.st_mode):
        result.errors.append(f"{name} is a directory, not an audio file")
        return result
    if not stat.S_ISREG(st.st_mode):
        result.errors.append(f"{name} is not a regular file")
        return result
    if st.st_size > MAX_BYTES:
        result.errors.append(
            f"{name} is {_megabytes(st.st_size)} ({st.st_size} bytes); "
            f"the service accepts at most 5 MB ({MAX_BYTES} bytes)"
        )
        return result
    if st.st_size == 0:
        result.errors.append(f"{name} is empty")
        return result
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except PermissionError:
        result.errors.append(f"{name} cannot be read: permission denied")
        return result
    except OSError as exc:
        result.errors.append(f"{name} cannot be read: {exc.strerror or exc}")
        return result

    fmt = sniff_format(head)
    if fmt is None:
        result.errors.append(
            f"{name} is not {FORMAT_NAMES} audio: it looks like {describe_content(head)}"
        )
        return result
    claimed = EXTENSION_FORMATS.get(path.suffix.lower())
    if claimed is not None and claimed != fmt:
        result.warnings.append(
            f"{name} is really {fmt}, not {claimed} as its name says; "
            f"it is uploaded as {MIME_TYPES[fmt]}"
        )
    try:
        seconds = DURATION_READERS[fmt](path)
    except AudioError as exc:
        result.errors.append(f"{name} is not readable {fmt} audio: {exc}")
        return result
    except OSError as exc:
        result.errors.append(f"{name} cannot be read: {exc.strerror or exc}")
        return result
    if seconds <= 0:
        result.errors.append(f"{name} contains no audio (its duration is 0 s)")
        return result
    if st.st_size < seconds * MIN_BYTES_PER_SECOND:
        result.errors.append(
            f"{name} looks truncated: its header says {seconds:.1f} s, but "
            f"{st.st_size} bytes cannot hold that much audio"
        )
        return result
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        message = (
            f"{name} is {seconds:.1f} s long; the service wants "
            f"{MIN_SECONDS:g}-{MAX_SECONDS:g} s of clean speech"
        )
        if allow_any_duration:
            result.warnings.append(message)
        else:
            result.errors.append(message + " (--allow-any-duration accepts it)")
            return result
    digest = file_sha256(path) if want_sha256 else None
    result.info = SampleInfo(
        path=path, size=st.st_size, format=fmt, duration=seconds, sha256=digest
    )
    return result
