"""Sample audio checks: the real format (sniffed from the bytes), size, duration.

The Waves API accepts wav, mp3, mp4 and webm. A file's extension is not trusted:
its first bytes decide its format, and the MIME type an upload is sent with.
Everything here reads as little as it can: a few KB to sniff, the headers to find
a duration (never the audio data itself), and a chunked pass for the sha256.
Each format's duration has its own small function in its own module (wav.py,
mpeg.py for mp3 and mp4, webm.py), so a new container is one module and one
entry in ``DURATION_READERS`` (sample.py); sniff.py recognises the formats and
holds their MIME types, sample.py checks a whole sample the way the service will.
This package re-exports every public name, so callers import from
``reconciler.audio`` alone.
"""

from __future__ import annotations

from reconciler.audio.errors import AudioError
from reconciler.audio.mpeg import mp3_duration, mp4_duration
from reconciler.audio.sample import (
    DURATION_READERS,
    MAX_BYTES,
    MAX_SECONDS,
    MIN_BYTES_PER_SECOND,
    MIN_SECONDS,
    SampleCheck,
    SampleInfo,
    check_sample,
    duration_of,
)
from reconciler.audio.sniff import (
    EXTENSION_FORMATS,
    EXTENSIONS,
    FORMAT_NAMES,
    MIME_TYPES,
    SNIFF_BYTES,
    describe_content,
    file_sha256,
    sniff_file,
    sniff_format,
)
from reconciler.audio.wav import wav_duration
from reconciler.audio.webm import webm_duration

__all__ = [
    "DURATION_READERS",
    "EXTENSIONS",
    "EXTENSION_FORMATS",
    "FORMAT_NAMES",
    "MAX_BYTES",
    "MAX_SECONDS",
    "MIME_TYPES",
    "MIN_BYTES_PER_SECOND",
    "MIN_SECONDS",
    "SNIFF_BYTES",
    "AudioError",
    "SampleCheck",
    "SampleInfo",
    "check_sample",
    "describe_content",
    "duration_of",
    "file_sha256",
    "mp3_duration",
    "mp4_duration",
    "sniff_file",
    "sniff_format",
    "wav_duration",
    "webm_duration",
]
