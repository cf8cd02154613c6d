"""The action kinds, in ONE table: the order apply runs them, whether they change
anything, the plan's symbol and heading, the progress verb and its outcomes.

The plan (``ORDER``, ``CHANGING``, ``REPAIRS``), the renderer (``SYMBOLS``,
``HEADINGS``, ``PAST``, ``FAILED``) and the applier (``KIND[k].verb``) read
their tables from here; ``plan.ActionKind`` and ``schemas.ActionName`` list the
same names (a test keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    changes: bool  # counts as a change (`plan --detailed-exitcode` exits 2)
    repair: bool  # lockfile only: no API call
    symbol: str
    color: str | None
    heading: str | None  # "# NAME <heading>" in the plan (None: not shown)
    verb: str | None  # progress: "NAME: <verb>..."
    done: str | None  # progress: "NAME: <done> after 3s"
    failed: str | None  # progress: "NAME: <failed> after 3s: why"


KINDS: tuple[Kind, ...] = (  # in the order apply runs them
    Kind(
        "move",
        True,
        True,
        "→",
        "cyan",
        "will be renamed in the lockfile (no API call)",
        "Moving",
        "Renamed in the lockfile",
        None,
    ),
    Kind(
        "release",
        True,
        True,
        "~",
        "cyan",
        "will be let go: dropped from the lockfile, its clone kept",
        "Releasing",
        "Let go (clone kept)",
        None,
    ),
    Kind(
        "adopt",
        True,
        True,
        "=",
        "cyan",
        "will be recorded in the lockfile",
        "Adopting",
        "Recorded",
        None,
    ),
    Kind(
        "forget",
        True,
        True,
        "~",
        "cyan",
        "will be dropped from the lockfile",
        "Forgetting",
        "Dropped from the lockfile",
        None,
    ),
    Kind(
        "delete",
        True,
        False,
        "-",
        "red",
        "will be deleted",
        "Destroying",
        "Destruction complete",
        "Destruction failed",
    ),
    Kind(
        "create",
        True,
        False,
        "+",
        "green",
        "will be created",
        "Creating",
        "Creation complete",
        "Creation failed",
    ),
    Kind(
        "replace",
        True,
        False,
        "-/+",
        "yellow",
        "must be replaced",
        "Replacing",
        "Replacement complete",
        "Replacement failed",
    ),
    Kind("wait", False, False, "…", "blue", "is still being made; left alone", None, None, None),
    Kind("noop", False, False, " ", None, None, None, None, None),
)
KIND = {k.name: k for k in KINDS}

ORDER = tuple(k.name for k in KINDS)
CHANGING = tuple(k.name for k in KINDS if k.changes)
REPAIRS = tuple(k.name for k in KINDS if k.repair)
SYMBOLS = {k.name: (k.symbol, k.color) for k in KINDS}
HEADINGS = {k.name: k.heading for k in KINDS if k.heading}
PAST = {k.verb: k.done for k in KINDS if k.verb and k.done}
FAILED = {k.verb: k.failed for k in KINDS if k.verb and k.failed}
