"""The plan's safety rules as typed refusals, and the thresholds a manifest can set.

As octoDNS's ``Plan.raise_if_unsafe()`` raises ``TooMuchChange``, a voicectl
plan records every rule it breaks as a :class:`Refusal` (one class per rule) and
``Plan.raise_if_unsafe()`` raises :class:`PlanRefused` carrying them all, before
anything changes. Each refusal knows the voice it is about (``name``), so
``--target`` keeps the refusals of the targeted voices by name, never by
matching text. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UserError


@dataclass(frozen=True)
class Safety:
    """The mass-change rule: refuse deleting or replacing more than
    ``max_change_fraction`` of the existing clones, once there are at least
    ``min_existing`` of them (the manifest's ``safety:``; octoDNS's defaults)."""

    max_change_fraction: float = 0.30
    min_existing: int = 10


DEFAULT_SAFETY = Safety()


class Refusal(UserError):
    """One safety rule a plan breaks; ``name`` is the voice it is about, if any, and
    ``also`` other names it concerns (a rename's old name): ``--target`` of any keeps it."""

    def __init__(self, message: str, *, name: str | None = None, also: Sequence[str] = ()):
        super().__init__(message)
        self.name = name
        self.names = frozenset(([name] if name is not None else []) + list(also))

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and isinstance(other, Refusal)
            and (self.message, self.name) == (other.message, other.name)
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.message, self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, name={self.name!r})"


class TooMuchChange(Refusal):
    """More of the existing clones would be deleted or replaced than ``safety`` allows."""

    def __init__(self, destructive: int, existing: int, safety: Safety = DEFAULT_SAFETY):
        self.destructive = destructive
        self.existing = existing
        self.safety = safety
        super().__init__(
            f"refusing to delete or replace {destructive} of {existing} existing clones "
            f"(more than {safety.max_change_fraction:.0%}); pass --allow-mass-delete if you "
            "mean it"
        )


class ProtectedVoice(Refusal):
    """A voice marked ``protect: true`` would be deleted or replaced."""

    def __init__(self, name: str, voice_id: str, verb: str, why: str, *, also: Sequence[str] = ()):
        self.voice_id = voice_id
        self.verb = verb  # "delete" | "replace"
        suffix = "; set protect: false and apply first" if verb == "delete" else ""
        super().__init__(
            f"voices.{name}: protect is true, refusing to {verb} {voice_id} ({why}){suffix}",
            name=name,
            also=also,
        )


class OtherOrganisation(Refusal):
    """The key is of another organisation than the lockfile's: its organisation differs
    from the recorded one, or none of the recorded clones is listed. Stops plan and apply
    before any change; ``--new-organisation`` moves the project there on purpose."""

    def __init__(self, message: str, *, recorded: str | None, seen: tuple[str, ...]):
        self.recorded = recorded
        self.seen = seen
        super().__init__(message)


class ReplacementNotReady(Refusal):
    """``migrate --finish``: an old clone's replacement is missing, unfinished or not
    on lightning-v3.1, so the old clone must stay."""

    def __init__(self, name: str, old_id: str, problem: str):
        self.old_id = old_id
        super().__init__(f"{name}: {problem}; {old_id} is kept", name=name)


def too_much_change(destructive: int, existing: int, safety: Safety) -> bool:
    return existing >= safety.min_existing and destructive > safety.max_change_fraction * existing


def for_targets(refusals: Sequence[Refusal], targets: frozenset[str]) -> list[Refusal]:
    """The refusals about the targeted voices (by name)."""
    return [r for r in refusals if r.names & targets]


class PlanRefused(UserError):
    """The plan breaks a safety rule (protect, mass change...); nothing was changed."""

    refusal = True  # the failure report says "refused", not "failed"

    def __init__(
        self, refusals: Sequence[Refusal | str], plan: Any = None, hint: str | None = None
    ):
        self.refusals = [r if isinstance(r, Refusal) else Refusal(r) for r in refusals]
        self.plan = plan
        self.hint = hint  # a last line: what to do about it
        lines = [r.message for r in self.refusals] + ([hint] if hint else [])
        super().__init__("\n".join(lines))
