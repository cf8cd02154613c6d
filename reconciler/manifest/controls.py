"""Control characters in a manifest: named, placed at ``line:col``, in which field.

A terminal colour code or a NUL pasted into voices.yaml would otherwise stop the
YAML reader with a character offset (or, written as a ``"\\e"`` escape, reach a
file path or the service). :func:`strip_raw` finds every such character in the
text before YAML reads it and replaces it with a space, so the rest of the file
can still be checked; :func:`raw_problems` then names the field each was in, and
:func:`escaped_problems` finds the ones written as escapes inside quoted values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from reconciler.yamlpos import Pos, YamlDocument

# What the YAML reader refuses outright (PyYAML's Reader.NON_PRINTABLE).
_NON_PRINTABLE_SET = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
# What no value may hold, however it was written: C0 controls but tab and line
# breaks, DEL, C1 controls, and what the reader refuses.
# One negated class (the same set as "C0|DEL|C1|_NON_PRINTABLE", which compiles 7x
# slower): every character but tab, LF, CR and the printable ranges without C1.
_CONTROL_SET = "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
# Both sets, within ASCII (most manifests): a small class that compiles in
# microseconds, where the full ones take milliseconds (compiled only for text
# that is not ASCII).
_ASCII_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _non_printable(text: str) -> re.Pattern[str]:
    return _ASCII_BAD if text.isascii() else _compiled(_NON_PRINTABLE_SET)


def _control(text: str) -> re.Pattern[str]:
    return _ASCII_BAD if text.isascii() else _compiled(_CONTROL_SET)


_C0 = (
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
)


def char_name(ch: str) -> str:
    """``ESC (U+001B)``, ``NUL (U+0000)``, ``DEL (U+007F)``, ``U+0085``..."""
    code = ord(ch)
    if code < 0x20:
        return f"{_C0[code]} (U+{code:04X})"
    if code == 0x7F:
        return "DEL (U+007F)"
    return f"U+{code:04X}"


@dataclass(frozen=True)
class RawControl:
    pos: Pos
    char: str


def strip_raw(text: str) -> tuple[str, list[RawControl]]:
    """``text`` with each character YAML cannot read replaced by a space, and where
    each one was (1-based line and column)."""
    found: list[RawControl] = []
    for match in _non_printable(text).finditer(text):
        start = match.start()
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        found.append(RawControl(Pos(line, col), match.group()))
    if not found:
        return text, found
    return _non_printable(text).sub(" ", text), found


def _field_at(doc: YamlDocument | None, pos: Pos) -> tuple[tuple[Any, ...], bool] | None:
    """The field whose value (second item False) or key (True) holds ``pos``."""
    if doc is None:
        return None
    for path, info in doc.nodes.items():
        if info.end is not None and path and info.pos <= pos < info.end:
            return path, False
    for path, info in doc.nodes.items():
        key = info.key_pos
        if path and key is not None and key.line == pos.line and key <= pos < info.pos:
            return path, True
    return None


def raw_problems(
    found: list[RawControl], doc: YamlDocument | None
) -> list[tuple[Pos, tuple[Any, ...], str]]:
    """(position, field path or (), message) per raw control character."""
    problems = []
    for item in found:
        field = _field_at(doc, item.pos)
        path: tuple[Any, ...] = field[0] if field else ()
        where = " in the key" if field and field[1] else ""
        problems.append(
            (
                item.pos,
                path,
                f"control character {char_name(item.char)}{where}: remove it "
                "(pasted terminal output?)",
            )
        )
    return problems


def escaped_problems(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """(path, message) for each key or text value holding a control character (written
    as an escape such as ``"\\e"`` or ``"\\0"``; raw ones were replaced already)."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and (match := _control(key).search(key)):
                problems.append(
                    ((*path, key), f"the key contains control character {char_name(match.group())}")
                )
            problems.extend(escaped_problems(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            problems.extend(escaped_problems(value, (*path, i)))
    elif path and path[-1] == "displayName":
        pass  # the model's own check names the character (and refuses line breaks too)
    elif isinstance(data, str) and (match := _control(data).search(data)):
        problems.append((path, f"contains control character {char_name(match.group())}"))
    return problems


def has_control(text: str) -> bool:
    return _control(text).search(text) is not None


def report(rep: Any, found: list[RawControl], doc: YamlDocument) -> None:
    """Add every control-character problem of one parsed file to its ``_Report``."""
    for pos, where, message in raw_problems(found, doc):
        rep.error(where, message, pos=pos)
    for where, message in escaped_problems(doc.data):
        rep.error(where, message, key=message.startswith("the key"))
