"""Reading one YAML file of a manifest (the manifest itself or an included file).

Bytes, UTF-8 text and the positioned YAML document, each failure one
``file:line:col`` line; the same for the manifest and for every file it
includes, so an error inside an included file points at that file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ManifestError
from reconciler.fsutil import read_regular
from reconciler.manifest.controls import RawControl, raw_problems, strip_raw
from reconciler.manifest.report import manifest_error
from reconciler.text import where_not_utf8
from reconciler.yamlpos import YamlDocument, YamlSyntaxError, load_yaml


@dataclass
class ReadFile:
    """One file read and parsed: its bytes' digest and its document (None: empty)."""

    sha256: str
    doc: YamlDocument | None
    controls: list[RawControl] = field(default_factory=list)  # replaced by spaces


def read_yaml_file(path: Path, source: str, what: str = "the manifest") -> ReadFile:
    """Read, decode and parse ``path``; raise ManifestError naming ``source`` on failure."""
    raw = _read(path, source, what)
    text, found = strip_raw(_decode(raw, source, what))
    try:
        doc = load_yaml(text)
    except YamlSyntaxError as exc:
        lines = [f"{source}:{pos}: {message}" for pos, _path, message in raw_problems(found, None)]
        raise manifest_error(source, [*lines, f"{source}:{exc.pos}: {exc.message}"]) from None
    return ReadFile(sha256=hashlib.sha256(raw).hexdigest(), doc=doc, controls=found)


def _read(path: Path, source: str, what: str) -> bytes:
    noun = what.split()[-1]
    try:
        return read_regular(path)
    except FileNotFoundError:
        raise _error(source, f"{source}: {what} does not exist") from None
    except IsADirectoryError:
        raise _error(source, f"{source}: is a directory, not a {noun} file") from None
    except PermissionError:
        raise _error(source, f"{source}: cannot read {what}: permission denied") from None
    except OSError as exc:
        raise _error(source, f"{source}: cannot read {what}: {exc.strerror}") from None


def _decode(raw: bytes, source: str, what: str) -> str:
    wide = wide_encoding(raw)
    if wide:  # without a BOM it is valid UTF-8 (with NULs): one line, not one per NUL
        raise _error(source, f"{source}: {what} is {wide} text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at, byte = where_not_utf8(raw, exc)
        raise _error(source, f"{source}:{at}: {what} is not UTF-8 text ({byte})") from None


def wide_encoding(raw: bytes) -> str | None:
    """``"UTF-16"`` when ``raw`` looks like UTF-16 text (PowerShell 5's ``>``,
    Notepad's "Unicode"), ``"UTF-32"`` for a UTF-32 byte-order mark, else None.

    UTF-16: its byte-order mark (never UTF-8: 0xFF and 0xFE are not UTF-8 bytes), or,
    without one, a NUL at every other byte of its start, little or big endian, as
    mostly-ASCII text (``version: 1``) has: at least half of one byte position NUL, and
    not one NUL in the other.
    """
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    start = raw[:64]
    if len(start) < 4 or 0 not in start:
        return None
    for nul_at in (0, 1):  # big endian: NULs first; little endian: second
        nuls, others = start[nul_at::2], start[1 - nul_at :: 2]
        if 0 not in others and nuls.count(0) * 2 >= len(nuls):
            return "UTF-16"
    return None


def _error(source: str, line: str) -> ManifestError:
    return manifest_error(source, [line])
