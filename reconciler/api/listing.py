"""Only the voiceIds of a list answer, for a caller that needs nothing else.

The applier's last list of a run (which clones a list has shown, for the lockfile's
``listedAt``) wants the ids alone, and comes when the run holds the most: read as
whole clones, 10,000 of them were the peak of a 10,000-voice apply. Even read by
pydantic into one small object per entry, the answer's whole JSON tree is built
first (~18 MB beside a 7 MB answer of 10,000 clones). Here the standard library's
JSON reader hands each object to a hook as soon as it is read
(``responses.whole_list``): an object with a voiceId becomes that id and everything
else in it is dropped at once, so the answer costs its own bytes and a set of
strings (and reads in ~60 % of the time).

A body of another shape (an entry without a voiceId, another envelope) is read as
:func:`~reconciler.api.responses.parse_clone_list` reads it, with its warnings,
and gives the ids of the clones that reads.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from reconciler.api.responses import ID_KEYS, Redact, parse_clone_list, whole_list


class _Id(str):
    """A voiceId the hook read from its object (told apart from a plain string value)."""

    __slots__ = ()


def _id_of(pairs: list[tuple[str, Any]]) -> _Id:
    """An entry's voiceId, read as a Clone reads it (voiceId before voice_id, the last
    of a repeated key), or ValueError."""
    fields = dict(pairs)
    value = next((fields[k] for k in ID_KEYS if k in fields), None)
    if not isinstance(value, str) or not value:
        raise ValueError("no voiceId")
    return _Id(value)


def listed_ids(body: bytes, key: str) -> set[str] | None:
    """The voiceIds of a ``{key: [clone, ...]}`` body; None unless every entry has one."""
    entries = whole_list(body, key, _Id, _id_of)
    return None if entries is None else set(entries)


def parse_listed_ids(
    response: httpx.Response, key: str, op_name: str, *, log: logging.Logger, redact: Redact
) -> set[str]:
    """The voiceIds of a list answer (see the module docstring)."""
    listed = listed_ids(response.content, key)
    if listed is not None:
        return listed
    return {c.voice_id for c in parse_clone_list(response, key, op_name, log=log, redact=redact)}
