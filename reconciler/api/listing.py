"""Only the voiceIds of a list answer, for a caller that needs nothing else.

The applier's last list of a run (which clones a list has shown, for the lockfile's
``listedAt``) wants the ids alone: read as whole clones, 10,000 of them were the
peak of a 10,000-voice apply (the models, their samples and their strings, beside
everything the run keeps). Here pydantic reads the bytes into one small object per
entry and skips every other field, so the answer is a set of strings.

A body of another shape (an entry without a voiceId, another envelope) is read as
:func:`~reconciler.api.responses.parse_clone_list` reads it, with its warnings,
and gives the ids of the clones that reads.
"""

from __future__ import annotations

import logging

import httpx
from pydantic import AliasChoices, Field
from pydantic.dataclasses import dataclass

from reconciler.api.responses import Redact, parse_clone_list, whole_list


@dataclass(frozen=True, slots=True)
class _Listed:
    """One entry of the list: its voiceId (every other field is skipped unread)."""

    voice_id: str = Field(min_length=1, validation_alias=AliasChoices("voiceId", "voice_id"))


def parse_listed_ids(
    response: httpx.Response, key: str, op_name: str, *, log: logging.Logger, redact: Redact
) -> set[str]:
    """The voiceIds of a list answer (see the module docstring)."""
    listed = whole_list(response, key, _Listed)
    if listed is not None:
        return {entry.voice_id for entry in listed}
    return {c.voice_id for c in parse_clone_list(response, key, op_name, log=log, redact=redact)}
