"""Text from the server or the manifest made safe to show: the one sanitiser.

Engine modules and renderers both need it (a displayName must not move the
cursor or recolour the terminal, whoever formats it), so it lives here rather
than in ``reconciler.render``, and the engine never imports the renderer.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def clean(value: Any) -> str:
    """Text safe for a terminal: control/format characters dropped, line breaks made spaces."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case, in C: no control, format or separator chars
        return text.strip()
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category in ("Zl", "Zp"):
            out.append(" ")
        elif not category.startswith("C"):
            out.append(ch)
    return "".join(out).strip()


def escape(value: Any) -> str:
    """Text shown as it is, but on one line that cannot recolour or reorder the
    terminal: each character that is not printable (``str.isprintable``: control,
    format and bidi characters, line and paragraph separators, spaces other than
    " ") is written as its Python escape (``\\n``, ``\\u2028``, ``\\u202e``).

    :func:`clean` drops such characters, for text from the server; this keeps them
    visible, for echoing a value the user wrote (what is wrong with it may be them).
    """
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case, in C
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def count(n: int, word: str) -> str:
    """``n`` and ``word``, plural unless n is 1 ("1 clone", "3 clones")."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def where_not_utf8(raw: bytes, exc: UnicodeDecodeError) -> tuple[str, str]:
    """(``LINE:COL``, ``byte 0xNN``): where ``raw`` stops being UTF-8 (``exc`` from
    decoding it), and the byte found there."""
    before = raw[: exc.start]
    line = before.count(b"\n") + 1
    col = exc.start - (before.rfind(b"\n") + 1) + 1
    return f"{line}:{col}", f"byte 0x{raw[exc.start]:02x}"
