"""Ownership markers: the tags every clone voicectl makes carries.

The Waves API splits the ``tags`` form field on commas, so a marker never holds
a comma. Three tags say who owns a clone and what it was made from:

* ``voicectl-stack:<stack>`` - the manifest's ``stack``;
* ``voicectl-name:<name>``   - the voice's key in the manifest;
* ``voicectl-spec:<digest>`` - 12 hex digits of the sha256 of the voice's spec
  (audio digest + every metadata field), so a clone found after an ambiguous
  create can be told apart from an older clone of the same voice.

This module is also the ownership POLICY, the one place that answers "is this
clone ours" (:func:`ours`: its tags name this stack), "which clones does the
lockfile record" (:func:`recorded_ids`), "who manages it" (:func:`manager_of`:
the tags, else the lockfile, for imported clones that carry no tags), "is it
another stack's" (:func:`theirs`: never replaced or deleted by this stack, only
``prune: all`` deletes it) and "whose is it", as a delete's plan line says it
(:func:`delete_owner`).

Pruning deletes only clones of this stack (octoDNS's ownership records and
kubectl's prune labels are the precedent). User-visible tag diffs ignore them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from reconciler.lockfile import LockDocument

PREFIX = "voicectl-"
STACK = PREFIX + "stack:"
NAME = PREFIX + "name:"
SPEC = PREFIX + "spec:"
DIGEST_LEN = 12


@dataclass(frozen=True)
class Owner:
    """Who owns a clone, as read back from its tags."""

    stack: str
    name: str
    spec: str | None = None


def is_marker(tag: str) -> bool:
    """True for a tag voicectl manages (never shown as a user tag diff)."""
    return tag.strip().startswith(PREFIX)


def user_tags(tags: Iterable[str]) -> list[str]:
    """The tags a user wrote: every tag except ownership markers."""
    return [t for t in tags if not is_marker(t)]


def marker_tags(stack: str, name: str, spec_digest: str) -> list[str]:
    """The three ownership tags for a clone of ``name`` in ``stack``."""
    return [STACK + stack, NAME + name, SPEC + spec_digest]


def owner_of(tags: Iterable[str] | None) -> Owner | None:
    """Read the owner from a clone's tags, or None when it has no complete marker."""
    stack = name = spec = None
    for raw in tags or ():
        tag = raw.strip()
        if tag.startswith(STACK):
            stack = tag[len(STACK) :]
        elif tag.startswith(NAME):
            name = tag[len(NAME) :]
        elif tag.startswith(SPEC):
            spec = tag[len(SPEC) :]
    if not stack or not name:
        return None
    return Owner(stack=stack, name=name, spec=spec or None)


def ours(owner: Owner | None, stack: str | None, name: str | None = None) -> TypeGuard[Owner]:
    """Whether the tags (read by :func:`owner_of`) name ``stack`` (and voice ``name``)."""
    return owner is not None and owner.stack == stack and (name is None or owner.name == name)


def theirs(owner: Owner | None, stack: str) -> TypeGuard[Owner]:
    """Whether the tags name ANOTHER stack: such a clone is never replaced or deleted
    by ``stack``, whatever its lockfile says (a lockfile copied from another project)."""
    return owner is not None and owner.stack != stack


def delete_owner(owner: Owner | None, stack: str, *, recorded: bool, imported: bool) -> str:
    """Whose a clone is, for the plan line of its delete: ``made by stack X``, ``not made
    by voicectl, deleted because prune: all``, or an imported clone whose audio is lost."""
    if theirs(owner, stack):
        return f"made by stack {owner.stack!r}, deleted because prune: all"
    if owner is not None:
        return f"made by stack {owner.stack!r}"
    if imported:
        return (
            "imported by `voicectl import`, not made by voicectl: voicectl does not have "
            "its audio, deleting it loses the voice"
        )
    if recorded:
        return f"not made by voicectl; recorded in the lockfile of stack {stack!r}"
    return "not made by voicectl, deleted because prune: all"


def recorded_ids(doc: LockDocument) -> set[str]:
    """Every voiceId the lockfile records: declared voices, pending creates, retired clones,
    clones awaiting deletion."""
    return (
        {e.voice_id for e in doc.voices.values()}
        | set(doc.pending)
        | set(doc.retired)
        | set(doc.awaiting)
    )


@dataclass(frozen=True)
class Manager:
    """Who manages a clone: ``stack/name``, and how we know (tags, lockfile, retired...)."""

    stack: str
    name: str
    via: str  # "tags" | "lockfile" | "retired" | "awaiting deletion"

    def label(self) -> str:
        base = f"{self.stack}/{self.name}"
        return base if self.via == "tags" else f"{base} ({self.via})"


def manager_of(clone: Any, lock: LockDocument | None) -> Manager | None:
    """The manager from the tags, else from the lockfile (imported clones), else None."""
    tagged = owner_of(clone.tags)
    if tagged is not None:
        return Manager(tagged.stack, tagged.name, "tags")
    if lock is not None:
        for name, entry in lock.voices.items():
            if entry.voice_id == clone.voice_id:
                return Manager(lock.stack, name, "lockfile")
        pending = lock.pending.get(clone.voice_id)
        if pending is not None:
            return Manager(lock.stack, pending.name, "lockfile")
        retired = lock.retired.get(clone.voice_id)
        if retired is not None:
            return Manager(lock.stack, retired.name, "retired")
        awaiting = lock.awaiting.get(clone.voice_id)
        if awaiting is not None:
            return Manager(lock.stack, awaiting.name or clone.display_name, "awaiting deletion")
    return None


def spec_digest(
    *,
    file_sha256: str,
    display_name: str,
    language: str | None,
    description: str | None,
    accent: str | None,
    tags: Iterable[str],
    model: str,
) -> str:
    """A short, stable digest of everything a clone is made from.

    Tags are compared as a set (order carries no meaning on the service).
    """
    canonical = json.dumps(
        {
            "file": file_sha256,
            "displayName": display_name,
            "language": language or "",
            "description": description or "",
            "accent": accent or "",
            "tags": sorted(set(user_tags(tags))),
            "model": model,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:DIGEST_LEN]
