"""Manifest problems as ``file:line:col: path: message`` lines, sorted by position.

``_Report`` collects problems and warnings with their positions,
``manifest_error`` turns them into the ManifestError the CLI prints, and
``_pydantic_problems`` maps pydantic's validation errors to messages that say
what YAML read (``the boolean no``) and what was expected. Messages name the
manifest as the user gave it: a relative path stays as written
(``voices.yaml``, ``conf/voices.yaml``), an absolute one inside the current
directory is shown relative to it, any other absolute path is shown in full.
Positions are 1-based and point at the offending value, or at the key for an
unknown or duplicate field, or at the enclosing key for a missing field.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from reconciler.errors import ManifestError
from reconciler.manifest.models import MANIFEST_VERSION, _field_names, _model_at
from reconciler.problems import Problem, from_text
from reconciler.text import escape
from reconciler.yamlpos import INVALID, NodeInfo, Pos, YamlDocument, format_path


def display_path(path: Path) -> str:
    """How messages name a file the user gave (see the module docstring)."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Report:
    """Problems and warnings, each a ``file:line:col: path: message`` line."""

    def __init__(self, source: str, doc: YamlDocument | None = None):
        self.source = source
        self.doc = doc
        self.problems: list[tuple[Pos, int, Problem]] = []
        self.warnings: list[tuple[Pos, int, Problem]] = []

    def _line(self, pos: Pos, path: tuple[Any, ...], message: str) -> Problem:
        kind = Problem if message.isprintable() else _Escaped  # in C: nearly always Problem
        return kind(
            message,
            file=self.source,
            line=pos.line,
            column=pos.col,
            path=format_path(path) if path else None,  # escapes what is not printable
        )

    def _pos(self, path: tuple[Any, ...], pos: Pos | None, key: bool) -> Pos:
        if pos is not None:
            return pos
        return self.doc.pos_of(path, key=key) if self.doc else Pos(1, 1)

    def error(
        self, path: tuple[Any, ...], message: str, *, pos: Pos | None = None, key: bool = False
    ) -> None:
        at = self._pos(path, pos, key)
        self.problems.append((at, len(self.problems), self._line(at, path, message)))

    def warn(
        self, path: tuple[Any, ...], message: str, *, pos: Pos | None = None, key: bool = False
    ) -> None:
        at = self._pos(path, pos, key)
        self.warnings.append((at, len(self.warnings), self._line(at, path, message)))

    def note(self, message: str) -> None:
        """A warning about the whole manifest, without a position; listed first."""
        note = Problem(message, file=self.source)
        self.warnings.append((Pos(0, 0), len(self.warnings), note))

    def add_line(self, line: str) -> None:
        """A problem already written as its line (a file that could not be read)."""
        problem = from_text(line)
        self.problems.append((Pos(1, 1), len(self.problems), problem))

    def problem_lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.problems)]

    def warning_lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.warnings)]

    def fail(self) -> ManifestError:
        return manifest_error(self.source, self.problem_lines(), self.warning_lines())


class _Escaped(Problem):
    """A problem whose message echoes a value holding what is not printable (a
    ``file:`` path with a newline or a bidi control).

    Its line (the text output) shows those characters escaped (``text.escape``), so
    it stays one line and reads in order on a terminal; its ``message`` part keeps
    them as written, for JSON and workflow annotations, which clean them their own
    way (``text.clean``)."""

    _raw: str

    def __new__(cls, message: str, **where: Any) -> _Escaped:
        self = cast(_Escaped, super().__new__(cls, escape(message), **where))
        self._raw = message
        return self

    @property
    def message(self) -> str:
        return self._raw

    def __reduce__(self):  # keep the raw message through copy/pickle
        return (_escaped, (self._raw, self.file, self.line, self.column, self.path))


def _escaped(message, file, line, column, path) -> _Escaped:
    return _Escaped(message, file=file, line=line, column=column, path=path)


def manifest_error(
    source: str, problems: list[str], warnings: list[str] | None = None
) -> ManifestError:
    """A ManifestError whose ``message`` reads well after the CLI's ``Error: ``.

    ``problems`` keeps one line per problem; ``message`` is those lines and a
    last one, ``N problems in voices.yaml`` (the CLI prefixes every line with
    ``Error: ``), so wherever the error propagates each problem stays on its
    own line with its position first. ``warnings`` are the warnings found
    before it failed.
    """
    problems = [p if isinstance(p, Problem) else _located(source, p) for p in problems]
    error = ManifestError(problems, source)
    count = len(problems)
    summary = f"{count} problem{'' if count == 1 else 's'} in {source}"
    error.message = "\n".join([*problems, summary])
    error.warnings = list(warnings or [])  # type: ignore[attr-defined]
    return error


def _located(source: str, line: str) -> Problem:
    """A problem line written by hand (``voices.yaml:3:1: ...`` or ``voices.yaml: ...``)."""
    rest = line.removeprefix(f"{source}:")
    if rest == line:
        return Problem(line)
    head, _, tail = rest.partition(": ")
    numbers = head.strip().split(":")
    if len(numbers) == 2 and all(n.isdigit() for n in numbers):
        return Problem(tail, file=source, line=int(numbers[0]), column=int(numbers[1]))
    return Problem(rest.strip(), file=source)


def _describe(value: Any, info: NodeInfo | None) -> str:
    """How a YAML value reads in a message: ``the boolean no``, ``a list``, ``"abc"``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = info.text if info is not None and info.text is not None else str(value)
    if value is None:
        return "nothing (null)" if not text or text in ("~", "null", "Null", "NULL") else text
    if isinstance(value, bool):
        return f"the boolean {text}"
    if isinstance(value, (int, float)):
        return f"the number {text}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{text} (read by YAML as a {type(value).__name__})"


_EXPECTED = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "list_type": "expected a list",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
}


def _pydantic_problems(exc: ValidationError, doc: YamlDocument, report: _Report) -> None:
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        is_key = bool(loc) and loc[-1] == "[key]"
        path = loc[:-1] if is_key else loc
        info = doc.nodes.get(path)
        value = err.get("input")
        if value is INVALID:
            continue  # a YAML value that could not be built: reported already
        if kind == "missing":
            parent, field_name = path[:-1], path[-1]
            if parent == () and field_name == "version":
                report.error(
                    (), "missing 'version: 1' (every manifest starts with it)", pos=Pos(1, 1)
                )
            else:
                report.error(parent, f"missing required field {field_name!r}", key=True)
        elif kind == "extra_forbidden":
            report.error(path, _unknown_field(path), key=True)
        elif is_key:
            report.error(path, err["msg"], key=True)
        elif kind in ("literal_error", "version_type") and path == ("version",):
            written = info.text if info is not None and info.text is not None else repr(value)
            if isinstance(value, str):
                written = repr(value)
            report.error(
                path,
                f"unsupported version {written}: this voicectl reads version "
                f"{MANIFEST_VERSION} (write 'version: {MANIFEST_VERSION}')",
            )
        elif kind == "too_short":
            report.error(path, "may not be empty (leave the field out instead)")
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            report.error(path, f"expected one of {expected}; got {_describe(value, info)}")
        elif kind in _EXPECTED:
            message = f"{_EXPECTED[kind]}, got {_describe(value, info)}"
            if kind == "string_type" and info is not None and info.plain and value is not None:
                message += f' (put it in quotes: "{info.text}")'
            report.error(path, message)
        else:
            report.error(path, err["msg"])


def _unknown_field(path: tuple[Any, ...]) -> str:
    name = str(path[-1])
    model = _model_at(path[:-1])
    if model is None:
        return f"unknown field {name!r}"
    known = _field_names(model)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:  # case slips (displayname, DisplayName)
        close = [k for k in known if k.lower() == name.lower().replace("_", "")]
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    return f"unknown field {name!r}; allowed: {', '.join(known)}"
