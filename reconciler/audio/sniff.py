"""Which accepted format a file really is, from its first bytes, and its sha256.

Holds the table of accepted formats (their MIME types, extensions and what an
extension claims), the sniffers for wav, mp3, mp4 and webm, ``describe_content``
for the error about a file that is none of them, and ``file_sha256``. Only the
bytes decide: a file's extension is never trusted, and only ``SNIFF_BYTES`` of
it are read.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

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
    import filetype  # only for bytes that are none of the formats above

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


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (memory stays flat)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
