"""YAML to plain Python values, remembering where every value and key was written.

PyYAML's ``safe_load`` forgets positions and silently keeps the last of two
duplicate keys. Here the document is composed into nodes (which carry marks),
then built by hand: each value's path (``("voices", "narrator", "tags", 1)``)
maps to the line and column of its node and of its key, duplicate keys at any
level are problems naming the first one's line, merge keys (``<<``) and aliases
work, and alias bombs and recursive aliases are refused. Scalars are typed by
PyYAML's SafeConstructor, so ``yes`` is a boolean as in any YAML 1.1 reader;
whether a scalar was written plain (unquoted) is kept for friendlier messages.

The text is composed by libyaml's C parser when PyYAML has it (``CSafeLoader``:
several times faster, with the same marks), else by the pure-Python one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.text import escape

Path = tuple[Any, ...]  # keys (str) and list indexes (int)


class _Invalid:
    """Stands for a value that could not be built (its problem is already reported)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID = _Invalid()
# values built, aliases counted each time they are used: 10,000 voices of ~10 values
# each fit many times over; an alias bomb (9 levels of 9: 387 million) does not
MAX_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class Pos(NamedTuple):
    """A 1-based line and column (a tuple: a 10,000-voice manifest makes ~50,000)."""

    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


class NodeInfo(NamedTuple):
    """Where a value was written, and how."""

    pos: Pos  # the value itself
    key_pos: Pos | None  # its key, for a mapping entry
    kind: str  # 'scalar' | 'sequence' | 'mapping'
    plain: bool = False  # an unquoted scalar (so YAML typed it: yes, 1.0, 2024-01-01)
    text: str | None = None  # a scalar's source text
    end: Pos | None = None  # where a scalar ends (just after its last character)


@dataclass
class YamlProblem:
    pos: Pos
    path: Path
    message: str


@dataclass
class YamlDocument:
    """A built document: ``data``, positions by path, and problems found on the way."""

    data: Any
    nodes: dict[Path, NodeInfo] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def pos_of(self, path: Path, *, key: bool = False) -> Pos:
        """The position of ``path`` (its key with ``key=True``), or of its nearest
        ancestor that has one."""
        for end in range(len(path), -1, -1):
            info = self.nodes.get(tuple(path[:end]))
            if info is None:
                continue
            if key and end == len(path) and info.key_pos is not None:
                return info.key_pos
            return info.pos
        return Pos(1, 1)


class YamlSyntaxError(Exception):
    """The text is not YAML (or not a single document); ``pos`` says where."""

    def __init__(self, pos: Pos, message: str):
        super().__init__(f"{pos}: {message}")
        self.pos = pos
        self.message = message


_new_pos = tuple.__new__  # Pos(...) without the namedtuple's own __new__ (~50,000 calls)


def _pos(mark: Any) -> Pos:
    if mark is None:
        return Pos(1, 1)
    return _new_pos(Pos, (mark.line + 1, mark.column + 1))


def _syntax_message(exc: yaml.YAMLError) -> tuple[Pos, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    message = f"YAML syntax error: {problem}"
    if context:
        where = f" on line {context_mark.line + 1}" if context_mark is not None else ""
        message += f" ({context}{where})"
    return _pos(mark), message


def _unreadable(text: str, exc: yaml.reader.ReaderError) -> YamlSyntaxError:
    """A character YAML refuses to read, at its line:col (the reader gives an offset).

    Callers that read a manifest replace such characters first and name the field
    (reconciler.manifest.controls); this is the one line for anyone who did not.
    """
    position = exc.position if isinstance(exc.position, int) else 0
    character = exc.character
    if isinstance(character, int) and not (
        0 <= position < len(text) and ord(text[position]) == character
    ):
        # libyaml counts bytes of the UTF-8 text, not characters: the reader stops at
        # the first character it refuses, so the first one of its kind is the one
        found = text.find(chr(character))
        position = max(found, 0)
    line = text.count("\n", 0, position) + 1
    col = position - (text.rfind("\n", 0, position) + 1) + 1
    what = f"U+{character:04X}" if isinstance(character, int) else "a byte"
    return YamlSyntaxError(
        Pos(line, col), f"character {what} cannot be read as YAML (a control character?): remove it"
    )


_WORD = re.compile(r"[\w-]+")  # \w: what str.isalnum() accepts, and _


def format_path(path: Path) -> str:
    """``("voices", "narrator-en", "tags", 1)`` → ``voices.narrator-en.tags[1]``.

    A key that is not a plain word (it holds a dot, a space, …) is quoted:
    ``voices."narrator.v2".file``; a character that is not printable (a newline,
    a bidi control) is escaped in it, so the path stays on one line as written.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = str(part)
        word = _WORD.fullmatch(text) is not None  # letters, digits, _ and - only
        text = text if word else '"' + escape(text).replace('"', '\\"') + '"'
        out += ("." if out else "") + text
    return out


_STR_TAG = "tag:yaml.org,2002:str"
# What SafeConstructor raises, besides YAMLError, for a scalar its tag cannot hold: an
# impossible date (2024-02-30), an integer past Python's digit limit, !!bool maybe.
_CONSTRUCT_ERRORS = (ValueError, OverflowError, TypeError, AttributeError, LookupError)
_TAG_WORDS = {"timestamp": "date", "int": "whole number", "float": "number", "bool": "boolean"}


def _unbuildable(node: ScalarNode, exc: Exception) -> str:
    """The problem with a scalar its (implicit or explicit) tag could not build."""
    # plain and untagged (its source is exactly its text): YAML typed it, quotes undo that
    implicit = not node.style and node.end_mark.index - node.start_mark.index == len(node.value)
    notes = []
    kind = node.tag.rsplit(":", 1)[-1]
    if str(exc).startswith("Exceeds the limit"):  # int(): more digits than Python converts
        what = f"number too large ({sum(ch.isdigit() for ch in node.value)} digits)"
    else:
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        what = f"not a valid {_TAG_WORDS.get(kind, kind)}: {shown!r}"
        if kind == "timestamp" and isinstance(exc, ValueError):
            notes.append(str(exc))  # datetime's words: "day is out of range for month"
    if implicit:
        notes.append("put it in quotes to keep it as text")
    return what + (f" ({'; '.join(notes)})" if notes else "")


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc: YamlDocument):
        self.loader = loader
        self.doc = doc
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Node, path: Path, key_pos: Pos | None) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlSyntaxError(
                _pos(node.start_mark),
                f"the document expands to more than {MAX_NODES} values (an alias bomb?)",
            )
        if id(node) in self.active:
            self.doc.problems.append(
                YamlProblem(_pos(node.start_mark), path, "a recursive alias (it contains itself)")
            )
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path, key_pos)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.doc.nodes[path] = NodeInfo(_pos(node.start_mark), key_pos, "sequence")
                return [self.build(child, (*path, i), None) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                self.doc.nodes[path] = NodeInfo(_pos(node.start_mark), key_pos, "mapping")
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        kind = getattr(node, "id", type(node).__name__)
        raise YamlSyntaxError(_pos(node.start_mark), f"unexpected YAML node {kind}")

    def _scalar(self, node: ScalarNode, path: Path, key_pos: Pos | None) -> Any:
        plain = not node.style  # None from the pure parser, "" from libyaml
        self.doc.nodes[path] = NodeInfo(
            _pos(node.start_mark),
            key_pos,
            "scalar",
            plain=plain,
            text=node.value,
            end=_pos(node.end_mark),
        )
        if node.tag == _STR_TAG:  # most values: what SafeConstructor would return
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            if node.tag.startswith("tag:yaml.org,2002:"):
                message = (
                    f"not a valid {node.tag.rsplit(':', 1)[-1]}: {getattr(exc, 'problem', exc)}"
                )
            else:
                message = f"the YAML tag {node.tag!r} is not supported (write a plain value)"
            self.doc.problems.append(YamlProblem(_pos(node.start_mark), path, message))
            return INVALID
        except _CONSTRUCT_ERRORS as exc:  # PyYAML's constructors let these through
            self.doc.problems.append(
                YamlProblem(_pos(node.start_mark), path, _unbuildable(node, exc))
            )
            return INVALID

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        pairs = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        merge_line = 0
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            key_pos = _pos(key_node.start_mark)
            if merge_line:  # a second << : readers disagree on which one wins
                self.doc.problems.append(
                    YamlProblem(
                        key_pos,
                        (*path, key_node.value),
                        f"duplicate key {key_node.value!r} (first defined on line "
                        f"{merge_line}); to merge several mappings, write <<: [*a, *b]",
                    )
                )
                continue
            merge_line = key_pos.line
            self._merge(value_node, path, result)  # merged keys first: explicit ones override
        first_line: dict[str, int] = {}
        for key_node, value_node in pairs:
            key_pos = _pos(key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                self.doc.problems.append(
                    YamlProblem(key_pos, path, "a key must be plain text, not a list or mapping")
                )
                continue
            key = key_node.value
            if key in first_line:
                self.doc.problems.append(
                    YamlProblem(
                        key_pos,
                        (*path, key),
                        f"duplicate key {key!r} (first defined on line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = key_pos.line
            result[key] = self.build(value_node, (*path, key), key_pos)
        return result

    def _merge(self, source: Node, path: Path, result: dict[str, Any]) -> None:
        """``<<: *anchor`` (or a list of them; earlier ones win): add their keys."""
        sources = source.value if isinstance(source, SequenceNode) else [source]
        own = self.doc.nodes[path]
        for item in sources:
            if not isinstance(item, MappingNode):
                self.doc.problems.append(
                    YamlProblem(_pos(item.start_mark), path, "a merge key (<<) needs a mapping")
                )
                continue
            merged = self.build(item, path, None)
            self.doc.nodes[path] = own
            for key, value in (merged or {}).items():
                result.setdefault(key, value)


LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


def _refuse_a_bomb(root: Node) -> None:
    """Refuse a document whose aliases expand past MAX_NODES values, counting each
    node once (memoised) instead of building the expansion first: an alias bomb is
    refused in milliseconds, not after a million values were built."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active or isinstance(node, ScalarNode):
            return 1  # a recursive alias is reported by the builder
        active.add(key)
        if isinstance(node, SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total = 1 + sum(size(value) for _key, value in node.value)
        else:
            total = 1
        active.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise YamlSyntaxError(
                _pos(node.start_mark),
                f"the document expands to more than {MAX_NODES} values (an alias bomb?)",
            )
        return total

    size(root)


_last: tuple[str, YamlDocument | None] | None = None


def _remember(text: str, doc: YamlDocument | None) -> None:
    global _last
    _last = (text, doc)


def forget() -> None:
    """Drop the remembered document (its reader is done: a big manifest's nodes and
    positions are megabytes the rest of the run does not need)."""
    global _last
    _last = None


def load_yaml(text: str, *, loader_class: type | None = None) -> YamlDocument | None:
    """Build the single YAML document in ``text``; None when it holds no document.

    Raises YamlSyntaxError for text that is not YAML or holds several documents.
    ``loader_class``: ``yaml.SafeLoader`` or ``yaml.CSafeLoader`` (default: the
    C one when PyYAML was built with libyaml). libyaml words syntax errors its
    own way, so text it refuses is parsed again by the pure loader, whose
    messages are the ones users see either way.
    """
    if loader_class is None:
        # One run reads its manifest twice (its environments, then the whole of it):
        # the second read of the same text is the document the first one built.
        # Documents are read-only to their users, so sharing one is safe.
        if _last is not None and _last[0] == text:
            return _last[1]
        try:
            doc = load_yaml(text, loader_class=LOADER)
        except YamlSyntaxError:
            if LOADER is yaml.SafeLoader:
                raise
            doc = load_yaml(text, loader_class=yaml.SafeLoader)
        _remember(text, doc)
        return doc
    try:
        # the pure loader's Reader checks every character here, before any parsing:
        # a raw control character (a pasted colour code) is refused by this call
        loader = (loader_class or LOADER)(text)
    except yaml.reader.ReaderError as exc:
        raise _unreadable(text, exc) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.reader.ReaderError as exc:  # libyaml finds it while parsing
            raise _unreadable(text, exc) from None
        except yaml.YAMLError as exc:
            pos, message = _syntax_message(exc)
            raise YamlSyntaxError(pos, message) from None
        except RecursionError:
            raise YamlSyntaxError(Pos(1, 1), "the document is nested too deeply") from None
        if root is None:
            return None
        doc = YamlDocument(data=None)
        try:
            if "*" in text:  # no alias without a '*': nothing can expand
                _refuse_a_bomb(root)
            doc.data = _Builder(loader, doc).build(root, (), None)
        except RecursionError:
            raise YamlSyntaxError(
                _pos(root.start_mark), "the document is nested too deeply"
            ) from None
        return doc
    finally:
        loader.dispose()
