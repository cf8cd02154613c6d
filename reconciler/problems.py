"""A problem or warning as one line AND as its parts, for every output format.

Text output prints ``voices.yaml:12:7: voices.narrator.file: samples/n.wav does
not exist``; JSON needs ``{"file", "line", "column", "path", "message"}`` and a
workflow annotation needs the file, line and column apart. :class:`Problem` is a
``str`` (the line, so it flows through every list of messages unchanged) that
also carries its parts. :func:`parts_of` gives the parts of any message: those
of a Problem, or what can be told of a plain line.
"""

from __future__ import annotations

import re
from typing import Any

_POSITIONED = re.compile(r"^(?P<file>[^\s:][^:]*?):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$", re.S)
_FILE_FIRST = re.compile(r"^(?P<file>[^\s:]+\.(?:ya?ml|json)): (?P<rest>.*)$", re.S)


class Problem(str):
    """One message line that knows its file, position and field path.

    The parts live in one tuple, and the path and message are read back from the
    line: a manifest of 10,000 voices can warn 20,000 times."""

    _parts: tuple[str | None, int | None, int | None, int, int]  # file, line, column,
    # where the path starts (-1: none), where the message starts

    def __new__(
        cls,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> Problem:
        where = ""
        if file:
            where = f"{file}:{line}:{column}: " if line is not None else f"{file}: "
        head = f"{where}{path + ': ' if path else ''}"
        self = super().__new__(cls, head + message)
        self._parts = (file, line, column, len(where) if path else -1, len(head))
        return self

    @property
    def file(self) -> str | None:
        return self._parts[0]

    @property
    def line(self) -> int | None:
        return self._parts[1]

    @property
    def column(self) -> int | None:
        return self._parts[2]

    @property
    def path(self) -> str | None:
        start = self._parts[3]
        return None if start < 0 else self[start : self._parts[4] - 2]

    @property
    def message(self) -> str:
        return self[self._parts[4] :]

    def __reduce__(self):  # keep the parts through copy/pickle
        return (_rebuild, (self.message, self.file, self.line, self.column, self.path))


def _rebuild(message, file, line, column, path) -> Problem:
    return Problem(message, file=file, line=line, column=column, path=path)


def from_text(text: str) -> Problem:
    """A Problem from a line written by hand (``file:line:col: message`` or not)."""
    if isinstance(text, Problem):
        return text
    parts = parts_of(text)
    return Problem(parts["message"], file=parts["file"], line=parts["line"], column=parts["column"])


def parts_of(text: str) -> dict[str, Any]:
    """``{"file", "line", "column", "path", "message"}`` of a message (None where unknown)."""
    if isinstance(text, Problem):
        return {
            "file": text.file,
            "line": text.line,
            "column": text.column,
            "path": text.path,
            "message": text.message,
        }
    text = str(text)
    match = _POSITIONED.match(text)
    if match:
        return {
            "file": match["file"],
            "line": int(match["line"]),
            "column": int(match["col"]),
            "path": None,
            "message": match["rest"],
        }
    match = _FILE_FIRST.match(text)
    if match:
        return {
            "file": match["file"],
            "line": None,
            "column": None,
            "path": None,
            "message": match["rest"],
        }
    return {"file": None, "line": None, "column": None, "path": None, "message": text}
