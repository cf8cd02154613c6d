"""What a command prints, as plain values: lines for stdout or stderr, in order.

A renderer returns ``Line``\\ s (or a ``Shown``: lines plus the Markdown for the
job summary); the command module only writes them out (``cli.ui.emit``), so no
text is built in ``cli/``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.text import clean


@dataclass(frozen=True)
class Line:
    """One piece of output: ``text`` (a newline follows unless ``nl`` is False) on
    stdout, or on stderr when ``err``."""

    text: str
    err: bool = False
    nl: bool = True


def out(text: str) -> Line:
    return Line(text)


def err(text: str) -> Line:
    return Line(text, err=True)


@dataclass
class Shown:
    """A command's output: its lines, and the Markdown report for GitHub's job summary
    (None: the command appends none)."""

    lines: list[Line] = field(default_factory=list)
    markdown: str | Callable[[], str] | None = None  # a function: built only when wanted


def json_text(doc: Any, *, ensure_ascii: bool = False, sort_keys: bool = False) -> str:
    """A JSON document as the commands print it (indented)."""
    return json.dumps(doc, indent=2, ensure_ascii=ensure_ascii, sort_keys=sort_keys)


def in_format(fmt: str, doc: Any, markdown: str | Callable[[], str]) -> list[Line]:
    """``--format json`` prints the document, ``markdown`` the report, text nothing more
    (``doc`` and ``markdown`` may be functions that build them: called only when wanted)."""
    if fmt == "json":
        return [out(json_text(doc() if callable(doc) else doc))]
    if fmt == "markdown":
        return [Line(markdown() if callable(markdown) else markdown, nl=False)]
    return []


def question_text(question: list[str]) -> str:
    """A confirmation question as it is shown above the prompt (blank lines around)."""
    return "\n" + "\n".join(question) + "\n"


def warnings_text(warnings: Sequence[str]) -> str:
    """Warnings as shown on stderr, one ``Warning:`` line each (one write for all)."""
    return "\n".join(f"Warning: {clean(w)}" for w in warnings)
