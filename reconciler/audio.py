"""Sample audio checks: the real format (sniffed from the bytes), size, duration.

The Waves API accepts wav, mp3, mp4 and webm. A file's extension is not trusted:
its first bytes decide its format, and the MIME type an upload is sent with.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

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

_FILETYPE_TO_FORMAT = {"wav": "wav", "mp3": "mp3", "mp4": "mp4", "m4a": "mp4", "webm": "webm"}


def sniff_format(head: bytes) -> str | None:
    """The accepted format ('wav', 'mp3', 'mp4', 'webm') of these leading bytes, or None."""
    kind = filetype.guess(head)
    if kind is not None:
        return _FILETYPE_TO_FORMAT.get(kind.extension)
    # MPEG audio without an ID3 header: a frame sync (11 set bits), layer III.
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) == 0x02:
        return "mp3"
    return None


def sniff_file(path: Path) -> str | None:
    """The accepted format of the file at ``path``, from its first bytes."""
    with open(path, "rb") as fh:
        return sniff_format(fh.read(SNIFF_BYTES))


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks (memory stays flat)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()
