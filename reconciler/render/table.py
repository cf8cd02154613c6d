"""Aligned text tables (display width aware) for every command's listings."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence


def width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    gap: int = 2,
    style: Callable[[int, int, str], str] | None = None,
) -> str:
    """Columns padded to their widest cell (display width); the last is not padded.

    ``style(row, col, cell)`` may wrap a padded body cell in colour codes (row -1 is
    the header, never styled); widths are measured before styling.
    """
    widths = [width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], width(cell))
    lines = []
    for r, row in enumerate([list(headers), *[list(x) for x in rows]], start=-1):
        cells = []
        for i, cell in enumerate(row):
            last = i == len(row) - 1
            padded = cell if last else cell + " " * (widths[i] - width(cell) + gap)
            if style is not None and r >= 0:
                padded = style(r, i, padded)
            cells.append(padded)
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)
