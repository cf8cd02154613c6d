"""`voicectl migrate`'s text after the apply: the old -> new voiceId table and what is
left (other changes, old clones kept), or what ``--finish`` deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler import render
from reconciler.render.lines import Line, out
from reconciler.text import clean

if TYPE_CHECKING:
    from reconciler.engine.migrating import MigrateResult


def migrated(result: MigrateResult) -> list[str]:
    lines = []
    if result.map["voices"]:
        lines.append("Migrated voices (apps must use the new voiceIds):")
        lines.append(render.migration_table(result.doc))
    elif not result.run.changed and not result.waiting:
        lines.append("Nothing to migrate: no managed voice uses a legacy clone.")
    other = result.run.plan.other_pending
    if other:
        n = len(other)
        lines.append(
            f"Not converged: {n} other change{'s are' if n != 1 else ' is'} pending "
            f"({', '.join(clean(x) for x in other)}), not part of a migration; "
            "`voicectl apply` makes them."
        )
    kept = result.kept
    if kept:
        lines.append(
            f"{kept} old clone{'s are' if kept != 1 else ' is'} kept as retired; deploy the new "
            "voiceIds, then run `voicectl migrate --finish` to delete "
            f"{'them' if kept != 1 else 'it'}."
        )
    waiting = result.awaiting
    if waiting:
        lines.append(
            f"{waiting} old clone{'s are' if waiting != 1 else ' is'} awaiting deletion: no "
            "delete route works for this key yet; every plan shows "
            f"{'them' if waiting != 1 else 'it'} until a run can delete "
            f"{'them' if waiting != 1 else 'it'} (or delete {'them' if waiting != 1 else 'it'} "
            "in the dashboard)."
        )
    return lines


def finished(result: MigrateResult) -> list[str]:
    plan = result.run.plan
    if plan.of_kind("delete"):
        done = result.deleted
        return [f"Finished: {done} old clone{'s' if done != 1 else ''} deleted."]
    lines = []
    dropped = len(plan.of_kind("forget"))
    if dropped:
        lines.append(f"Dropped {dropped} retired record(s) whose clone no longer exists.")
    return [*lines, "Nothing to finish: no retired clone is left."]


def tail(result: MigrateResult, *, finish: bool, fmt: str) -> list[Line]:
    """After the apply's own output, with text: a blank line and the migration's lines."""
    if fmt != "text":
        return []
    return [out(""), *map(out, finished(result) if finish else migrated(result))]


def map_written(map_out: str, fmt: str) -> Line:
    """Where ``--map-out`` wrote the map (on stderr unless the output is text)."""
    return Line(f"Wrote the voiceId map to {map_out}.", err=fmt != "text")


def map_kept(map_out: str, fmt: str) -> Line:
    """``--map-out`` left as it was: this run migrated no voice yet."""
    return Line(
        f"Left the voiceId map in {map_out} as it was: no voice is migrated yet.",
        err=fmt != "text",
    )


def still_processing(result: MigrateResult, rerun: str = "voicectl migrate") -> str:
    """The error of a migration whose new clones are still being made."""
    names = ", ".join(clean(n) for n in result.waiting)
    it = "they have" if len(result.waiting) != 1 else "it has"
    return (
        f"migration not finished: {names} still being processed on the service; "
        f"run `{rerun}` again once {it} completed"
    )


def finish_question(deletes: int) -> list[str]:
    """What `migrate --finish` asks before deleting the old clones."""
    return [
        f"Delete these {deletes} old clone{'s' if deletes != 1 else ''}? Apps still using",
        "their voiceIds will stop working. Only 'yes' will be accepted to approve.",
    ]
