"""The whole check of one sample file, the way the service will check it.

``check_sample`` answers exists, at most 5 MB, a real wav/mp3/mp4/webm, 5-15 s
long, with every problem as a message that names the file and carries no
position (the manifest loader adds that). ``DURATION_READERS`` maps each format
to its reader in wav.py, mpeg.py or webm.py; ``duration_of`` is the same lookup
for a single duration.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.audio.errors import AudioError
from reconciler.audio.mpeg import mp3_duration, mp4_duration
from reconciler.audio.mpegframes import measured_mp3_seconds
from reconciler.audio.sniff import (
    EXTENSION_FORMATS,
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

if TYPE_CHECKING:
    from reconciler.localcache import HashCache

# "at most 5 MB": whether that is 5,000,000 bytes or 5 MiB is not published, so the
# smaller (a sample between the two may be refused by the service).
MAX_BYTES = 5_000_000
MIN_SECONDS = 5.0
MAX_SECONDS = 15.0
# No codec the service takes goes below ~6 kbit/s; fewer bytes than this per
# second of stated duration means the file was cut short after its header.
MIN_BYTES_PER_SECOND = 250


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
    return f"{size / 1_000_000:.1f} MB"


def _real_mp3_seconds(path: Path, name: str, stated: float, result: SampleCheck) -> float:
    """The audio an MP3 really holds; a warning when its header claims more."""
    measured = measured_mp3_seconds(path)
    if measured >= stated - max(0.25, stated * 0.02):
        return stated
    result.warnings.append(
        f"{name} is cut short: its header says {stated:.1f} s, but its complete frames "
        f"hold {measured:.1f} s of audio; {measured:.1f} s is what counts"
    )
    return measured


def check_sample(
    path: Path,
    *,
    name: str | None = None,
    allow_any_duration: bool = False,
    want_sha256: bool = True,
    sha256_of: Callable[[Path], str] | None = None,
    cache: HashCache | None = None,
) -> SampleCheck:
    """Check one sample file the way the service will: exists, ≤ 5 MB, a real
    wav/mp3/mp4/webm, 5–15 s long (a warning instead with ``allow_any_duration``).

    ``name`` is how messages refer to the file (default: ``path``);
    ``sha256_of`` hashes it (default: read it all). With ``cache`` (a
    :class:`HashCache`) the sha256 comes from there, and a file whose stat is what
    it was when its header read cleanly is not opened again: its format and
    duration are the remembered ones.
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
    known = cache.known(path, st) if cache is not None else None
    facts = known.get("facts") if known is not None else None
    if isinstance(facts, dict) and facts.get("format") in DURATION_READERS:
        sha = known.get("sha256") if known is not None else None
        return _judge(
            path,
            name,
            st,
            facts["format"],
            float(facts["duration"]),
            result,
            allow_any_duration=allow_any_duration,
            want_sha256=want_sha256,
            sha256_of=(lambda _path: sha) if isinstance(sha, str) else sha256_of,
            cache=None if isinstance(sha, str) else cache,
        )
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
    if fmt == "mp3":
        seconds = _real_mp3_seconds(path, name, seconds, result)
        if seconds <= 0:
            result.errors.append(f"{name} contains no complete MPEG audio frame")
            return result
    # Remembered only when reading the header found nothing to say about it.
    remember = cache is not None and not result.warnings
    return _judge(
        path,
        name,
        st,
        fmt,
        seconds,
        result,
        allow_any_duration=allow_any_duration,
        want_sha256=want_sha256,
        sha256_of=sha256_of,
        cache=cache if remember else None,
    )


def _judge(
    path: Path,
    name: str,
    st: os.stat_result,
    fmt: str,
    seconds: float,
    result: SampleCheck,
    *,
    allow_any_duration: bool,
    want_sha256: bool,
    sha256_of: Callable[[Path], str] | None,
    cache: HashCache | None,
) -> SampleCheck:
    """The checks on what the header said (format, duration); the sha256 last."""
    claimed = EXTENSION_FORMATS.get(path.suffix.lower())
    if claimed is not None and claimed != fmt:
        result.warnings.append(
            f"{name} is really {fmt}, not {claimed} as its name says; "
            f"it is uploaded as {MIME_TYPES[fmt]}"
        )
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
    if not want_sha256:
        digest = None
    elif cache is not None:
        digest = cache.sha256(path, facts={"format": fmt, "duration": seconds})
    else:
        digest = (sha256_of or file_sha256)(path)
    result.info = SampleInfo(
        path=path, size=st.st_size, format=fmt, duration=seconds, sha256=digest
    )
    return result
