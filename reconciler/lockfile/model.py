"""The lockfile's document: its pydantic models, its canonical text, its parser.

The lockfile is the record of what voicectl made: every voice's ``voiceId``
and what it was made from. Apps and CI read it; the next run reconciles from it.

* Deterministic: sorted keys, 2-space indent, trailing newline.
* ``serial`` grows with every write; ``lineage`` is set once, when the file is
  born (Terraform's state serial and lineage, used to refuse stale saved plans).
Nothing here changes a document: :mod:`reconciler.lockfile.store` is the one
place that does (and journals it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from reconciler.errors import UserError
from reconciler.identity import auto_stack

LOCK_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


_SLOTTED = ConfigDict(populate_by_name=True, extra="forbid")


@dataclass(slots=True, config=_SLOTTED)
class LockSample:
    """A pre-generated sample of a clone: its text and audio URL."""

    # A slotted dataclass, not a model: a lockfile of 10,000 voices holds 20,000.
    text: str | None = None
    audio_url: str | None = Field(default=None, alias="audioUrl")


@dataclass(slots=True, config=_SLOTTED)
class LockEntry:
    """One voice as voicectl last recorded it."""

    # A slotted dataclass, not a model: a lockfile of 10,000 voices holds 10,000 (~0.5 KB
    # each instead of ~1.8). It has the three model methods its callers use.

    voice_id: str = Field(alias="voiceId", description="The clone's voiceId; what apps use.")
    display_name: str | None = Field(default=None, alias="displayName")
    language: str | None = None
    model_ids: list[str] = Field(default_factory=list, alias="modelIds")
    file_sha256: str | None = Field(
        default=None, alias="fileSha256", description="sha256 of the sample it was cloned from"
    )
    spec_digest: str | None = Field(
        default=None, alias="specDigest", description="digest of file + metadata (ownership tag)"
    )
    status: str | None = Field(default=None, description="pending|processing|completed|failed")
    created_at: str | None = Field(default=None, alias="createdAt")
    protect: bool = Field(default=False, description="never deleted or replaced")
    samples: list[LockSample] = Field(default_factory=list)
    migrated_from: str | None = Field(
        default=None,
        alias="migratedFrom",
        description="the legacy lightning-large voiceId this voice replaced "
        "(kept for `voicectl migrate --map-out`)",
    )
    listed_at: str | None = Field(
        default=None,
        alias="listedAt",
        description="when a list of the service first showed the clone (recorded by the run "
        "that made it); a clone once listed and then missing is gone, with no --list-grace",
    )

    def model_dump(self, **options: Any) -> dict[str, Any]:
        return _entry_adapter().dump_python(self, **options)

    def model_copy(self, *, update: dict[str, Any]) -> LockEntry:
        return dataclasses.replace(self, **update)

    @classmethod
    def model_validate(cls, data: Any) -> LockEntry:
        return _entry_adapter().validate_python(data)


@cache
def _entry_adapter() -> TypeAdapter[LockEntry]:
    return TypeAdapter(LockEntry)


class PendingEntry(_Model):
    """A clone made by an operation that has not finished (journal for crash recovery)."""

    name: str
    kind: str = Field(description="create|replace")
    replaces: str | None = Field(default=None, description="the voiceId it replaces")
    spec_digest: str | None = Field(default=None, alias="specDigest")
    file_sha256: str | None = Field(default=None, alias="fileSha256")
    created_at: str | None = Field(
        default=None,
        alias="createdAt",
        description="when the clone was made (absent in journals of older voicectl): within "
        "--list-grace of it, a pending clone missing from the list is waited for, not forgotten",
    )
    keep_old: bool | None = Field(
        default=None,
        alias="keepOld",
        description="true: made by `migrate --keep-legacy`; the clone it replaces is kept as "
        "retired, not deleted, by whichever run finishes the replacement (absent: deleted)",
    )


class RetiredEntry(_Model):
    """An old clone kept on purpose after its voice moved to a new clone."""

    name: str
    replaced_by: str | None = Field(default=None, alias="replacedBy")
    model_ids: list[str] = Field(default_factory=list, alias="modelIds")
    display_name: str | None = Field(default=None, alias="displayName")
    retired_at: str | None = Field(default=None, alias="retiredAt")
    keep: bool = Field(
        default=True,
        description="true: kept on purpose until `migrate --finish`; false: the old clone of "
        "a replacement interrupted before it was deleted (the next apply or migrate deletes it)",
    )


class ReleasedEntry(_Model):
    """A clone this stack let go of (``removed:``): kept on the service, never pruned."""

    name: str
    display_name: str | None = Field(default=None, alias="displayName")
    released_at: str | None = Field(default=None, alias="releasedAt")


class ReplaceIntent(_Model):
    """A replacement asked for (``--replace``) and not finished yet: the next run
    finishes it rather than keeping the old clone."""

    replaces: str = Field(description="the voiceId being replaced")
    forced: bool = Field(default=True, description="asked for with --replace")
    keep_old: bool | None = Field(
        default=None,
        alias="keepOld",
        description="true: a `migrate --keep-legacy` replacement, journalled before its "
        "create is sent: the old clone is kept as retired by whichever run finishes it",
    )


AWAITING_REASONS = ("orphan", "duplicate", "replaced", "migrated", "failed")


class AwaitingEntry(_Model):
    """A clone voicectl should have deleted but could not: no delete route works for
    the key (retired, or refusing API keys). Kept until a run deletes it (or finds it
    gone), handed to the user meanwhile, and planned as a delete by every plan."""

    name: str | None = Field(default=None, description="the voice it belonged to, if any")
    display_name: str | None = Field(default=None, alias="displayName")
    reason: str = Field(
        description="orphan (no longer declared) | duplicate | replaced | migrated (a "
        "legacy clone replaced on lightning-v3.1) | failed (a failed new clone)"
    )
    replaced_by: str | None = Field(default=None, alias="replacedBy")
    model_ids: list[str] = Field(default_factory=list, alias="modelIds")
    since: str | None = Field(default=None, description="when it was first handed off")
    why: str | None = Field(default=None, description="why no route deleted it, one line")


class LockDocument(_Model):
    """The whole voices.lock.json."""

    version: int = Field(default=LOCK_VERSION, strict=True)  # "1" is a hand edit, not 1
    lineage: str = Field(description="uuid set when the lockfile was first written")
    serial: int = Field(default=0, ge=0, strict=True, description="grows with every write")
    stack: str = "default"
    organization_id: str | None = Field(
        default=None,
        alias="organizationId",
        description="the organisation the clones live in (from the create answer)",
    )
    clone_limit: int | None = Field(
        default=None,
        alias="cloneLimit",
        description="clones the organisation held when a create was refused at its clone limit",
    )
    voices: dict[str, LockEntry] = Field(default_factory=dict)
    pending: dict[str, PendingEntry] = Field(
        default_factory=dict, description="voiceId -> operation that made it, not yet finished"
    )
    retired: dict[str, RetiredEntry] = Field(
        default_factory=dict, description="voiceId -> old clone kept until `migrate --finish`"
    )
    released: dict[str, ReleasedEntry] = Field(
        default_factory=dict, description="voiceId -> clone let go by `removed:` (never pruned)"
    )
    replacing: dict[str, ReplaceIntent] = Field(
        default_factory=dict, description="name -> a forced replacement not finished yet"
    )
    awaiting: dict[str, AwaitingEntry] = Field(
        default_factory=dict,
        alias="awaitingDeletion",
        description="voiceId -> clone to delete that no delete route could delete yet",
    )

    def keeps_old(self, name: str, old_id: str | None, new_id: str | None = None) -> bool:
        """Whether a `migrate --keep-legacy` run asked to keep ``name``'s old clone
        ``old_id``: its intent, journalled before the create, or (once made) the pending
        entry of the new clone ``new_id`` says so."""
        intent = self.replacing.get(name)
        if intent is not None and intent.keep_old and intent.replaces == old_id:
            return True
        pending = self.pending.get(new_id or "")
        return bool(pending is not None and pending.keep_old)


_SECTIONS = ("voices", "pending", "retired", "released", "replacing", "awaiting")


def to_text(doc: LockDocument) -> str:
    """The canonical text of a lockfile: sorted keys, 2-space indent, newline."""
    return "".join(chunks(doc))


def chunks(doc: LockDocument) -> Iterator[str]:
    """:func:`to_text` in pieces, one section entry at a time: written as they come,
    the text of 10,000 voices is never one string."""
    data = doc.model_dump(by_alias=True, mode="json", exclude=set(_SECTIONS))
    for name in _SECTIONS:  # dumped one entry at a time by chunks_of
        data[LockDocument.model_fields[name].alias or name] = getattr(doc, name)
    return chunks_of(data)


_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(doc: LockDocument) -> bytes:
    """A digest of what the document says, its serial aside: equal digests, equal
    documents. Each entry is hashed on its own, by the C encoder (the indenting one
    that writes the file is pure Python: ~4x slower), so even 10,000 voices are
    never one string or one tree of dicts."""
    digest = hashlib.sha256()
    head = doc.model_dump(by_alias=True, mode="json", exclude={*_SECTIONS, "serial"})
    digest.update(_COMPACT.encode(head).encode("utf-8"))
    for name in _SECTIONS:
        for key, entry in sorted(getattr(doc, name).items()):
            data = [name, key, entry.model_dump(by_alias=True, mode="json")]
            digest.update(_COMPACT.encode(data).encode("utf-8"))
    return digest.digest()


# Empty or unset, these are left out of the file.
_OPTIONAL = frozenset(
    (
        "pending",
        "retired",
        "awaitingDeletion",
        "released",
        "replacing",
        "organizationId",
        "cloneLimit",
    )
)
_PRETTY = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)


def chunks_of(data: dict[str, Any]) -> Iterator[str]:
    """The text of a document's JSON data, in pieces (``data`` is not changed; the
    entries of its sections may still be models).

    The same text as ``json.dumps(data, indent=2, sort_keys=True)``, but each entry of
    a section is encoded on its own: the pure-Python encoder (the only one that
    indents) otherwise holds every fragment of the whole file at once, tens of MB
    for 10,000 voices.
    """
    keys = sorted(k for k, v in data.items() if v or k not in _OPTIONAL)
    yield "{"
    for i, key in enumerate(keys):
        value = data[key]
        yield f"{',' if i else ''}\n  {_key(key)}: "
        if isinstance(value, dict) and value:  # a section: one entry at a time
            yield "{"
            for j, (name, entry) in enumerate(sorted(value.items())):
                if isinstance(entry, (BaseModel, LockEntry)):
                    entry = entry.model_dump(by_alias=True, mode="json")
                entry = _without_nulls(entry, _NULLABLE.get(key, ()))
                yield f"{',' if j else ''}\n    {_key(name)}: {_indented(entry, 2)}"
            yield "\n  }"
        else:
            yield _indented(value, 1)
    yield "\n}\n" if keys else "}\n"


# Fields of a section's entries left out while unset (older lockfiles never had them).
_NULLABLE: dict[str, tuple[str, ...]] = {
    "voices": ("migratedFrom", "listedAt"),
    "pending": ("createdAt", "keepOld"),
    "replacing": ("keepOld",),
}


def _without_nulls(entry: Any, fields: tuple[str, ...]) -> Any:
    if isinstance(entry, dict) and any(f in entry and entry[f] is None for f in fields):
        return {k: v for k, v in entry.items() if not (k in fields and v is None)}
    return entry


def _key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _indented(value: Any, level: int) -> str:
    """``value`` pretty-printed as if nested ``level`` deep (JSON strings hold no newline)."""
    return _PRETTY.encode(value).replace("\n", "\n" + "  " * level)


def new_document(stack: str | None) -> LockDocument:
    """A new lockfile's document; ``stack`` None gives it a stack of its own."""
    lineage = str(uuid.uuid4())
    return LockDocument(lineage=lineage, serial=0, stack=stack or auto_stack(lineage))


def parse(text: str, *, source: str = "voices.lock.json") -> LockDocument:
    """Parse lockfile text, with a one-line error naming the place on failure.

    A good lockfile is read straight from its JSON into the models (no dict of the
    whole file beside them: at 10,000 voices that dict is ~25 MB); anything else
    takes the step-by-step way below, whose errors say what and where.
    """
    try:
        doc = LockDocument.model_validate_json(text)
    except ValueError:
        doc = None
    if doc is not None and doc.version == LOCK_VERSION:
        _unique_keys(text, source)
        return _one_name_per_clone(doc, source)
    try:
        data: Any = loads_json(text, object_pairs_hook=_pairs_checker(text, source, keep=True))
    except JsonBeyondLimits as exc:
        raise UserError(f"{source}: not valid JSON: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        conflict = _CONFLICT.search(text)
        if conflict is not None:
            line = text.count("\n", 0, conflict.start()) + 1
            raise UserError(
                f"{source}:{line}:1: git merge conflict markers (<<<<<<<): resolve the "
                "conflict, or keep one side and run `voicectl plan`, which finds the other "
                "side's clones by their ownership tags"
            ) from exc
        raise UserError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{source}: not a voicectl lockfile (expected a JSON object)")
    version = data.get("version")
    if version != LOCK_VERSION:
        raise UserError(
            f"{source}: unsupported lockfile version {version!r} "
            f"(this voicectl reads version {LOCK_VERSION})"
        )
    try:
        doc = LockDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{source}: {where}: {first['msg']}") from exc
    return _one_name_per_clone(doc, source)


class JsonBeyondLimits(ValueError):
    """Text that ``json.loads`` cannot read although it may be JSON in form: nested
    deeper than Python's stack allows, or an integer of more digits than Python
    converts (``sys.get_int_max_str_digits``). ``reason`` says which, for a message:
    ``not valid JSON: nested too deeply``. No position is known for either."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def loads_json(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads(text, **kwargs)``, raising :class:`JsonBeyondLimits` (a ValueError,
    as ``JSONDecodeError`` is) where json.loads raises RecursionError or the integer
    limit's bare ValueError, so a reader that names the file for ``JSONDecodeError``
    can do so for these too, and a cache that treats a ValueError as a miss does."""
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        raise JsonBeyondLimits("nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise  # the caller's hook, say
        limit = sys.get_int_max_str_digits()
        raise JsonBeyondLimits(f"a number too large, over {limit} digits") from None


_CONFLICT = re.compile(r"^<<<<<<< ", re.MULTILINE)


def _unique_keys(text: str, source: str) -> None:
    """Refuse a key that appears twice in one object (a hand edit or a merge gone
    wrong): JSON readers keep the last one silently, and the other voice's record,
    voiceId and all, would be lost. The objects are checked and dropped as they are
    read: no dict of the whole file is built."""
    try:
        loads_json(text, object_pairs_hook=_pairs_checker(text, source, keep=False))
    except JsonBeyondLimits as exc:  # pydantic read what json cannot: a 5000-digit serial
        raise UserError(f"{source}: not valid JSON: {exc.reason}") from None


def _pairs_checker(text: str, source: str, *, keep: bool) -> Callable[[list], Any]:
    def check(pairs: list[tuple[str, Any]]) -> Any:
        if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
            raise UserError(
                f"{source}{_where_twice(text, pairs)} appears twice in one object (a hand "
                "edit or a merge gone wrong): keep one, and run `voicectl plan`, which "
                "finds the other's clone by its ownership tags"
            )
        return dict(pairs) if keep else None

    return check


def _where_twice(text: str, pairs: list[tuple[str, Any]]) -> str:
    """``:LINE: key "K"`` for the repeated key, the line of its second occurrence when
    the key is written only twice in the file (a voice name); otherwise the key and
    the clone whose entry holds it."""
    seen: set[str] = set()
    twice = ""
    for key, _ in pairs:
        if key in seen:
            twice = key
            break
        seen.add(key)
    found = list(re.finditer(re.escape(_key(twice)) + r"\s*:", text))
    if len(found) == 2:
        return f":{text.count(chr(10), 0, found[1].start()) + 1}: key {_key(twice)}"
    clone = next((v for k, v in pairs if k == "voiceId" and isinstance(v, str)), None)
    return f": key {_key(twice)}" + (f" (in the entry of clone {clone})" if clone else "")


def _one_name_per_clone(doc: LockDocument, source: str) -> LockDocument:
    """Refuse a lockfile in which two voices record one clone (a hand edit or a merge
    gone wrong): trusted, the plan would delete that clone as the other's."""
    seen: dict[str, str] = {}
    for name, entry in doc.voices.items():
        first = seen.setdefault(entry.voice_id, name)
        if first != name:
            raise UserError(
                f"{source}: voices.{first} and voices.{name} both record clone "
                f"{entry.voice_id}: keep the entry of the voice it is (its ownership tags "
                "say which: `voicectl list`), delete the other, and run `voicectl plan`"
            )
    return doc
