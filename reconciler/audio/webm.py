"""The duration of a WebM file, from a minimal forward EBML reader.

The Segment's Info gives Duration x TimecodeScale when the muxer wrote it;
browsers' MediaRecorder does not, so then the Clusters are scanned for the last
block's timestamp. Only element headers and the small Info/Tracks elements are
read; block payloads are skipped with seek, so memory stays flat however long
the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reconciler.audio.errors import AudioError

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
        if head is None:
            return
        ident, size, child = head
        if size is None:
            return
        if ident == _BLOCK:
            tick = _block_tick(reader, child, cluster_tick)
        elif ident == _BLOCK_DURATION:
            duration = _ebml_uint(reader.read(size))
        fh.seek(child + size)
    if tick is not None and tick >= (scan.last_tick or 0):
        scan.last_tick = tick
        scan.last_block_ns = (duration or 0) * scan.scale
