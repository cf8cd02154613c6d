"""`voicectl import`'s output: what it skipped, what it would add (``--dry-run``), and
the table of what it adopted with what is left to do."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.manifest.models import FILE_PLACEHOLDER
from reconciler.render.inventory import LEGACY_MARK
from reconciler.render.lines import Line, err, out
from reconciler.render.table import table
from reconciler.text import clean, count

if TYPE_CHECKING:
    from reconciler.engine.adoption import Adoption


def _label(clone) -> str:
    return f"{clean(clone.voice_id)} ({json.dumps(clean(clone.display_name), ensure_ascii=False)})"


def skipped(skips: Sequence, select: Sequence[str]) -> list[Line]:
    """Why each clone was left out (those this stack manages already: one count line,
    unless ``--select`` asked for clones by name)."""
    lines = []
    for skip in skips:
        if skip.managed and not select:
            continue
        lines.append(err(f"Skipped {_label(skip.clone)}: {clean(skip.reason)}"))
    managed = sum(1 for s in skips if s.managed)
    if managed and not select:
        lines.append(err(f"{count(managed, 'clone')} already managed by this stack."))
    return lines


def no_match(select: Sequence[str]) -> str:
    """The error when ``--select`` matched no importable clone."""
    return (
        "--select " + " ".join(select) + ": no importable clone matches "
        "(`voicectl list --unmanaged` shows the candidates)"
    )


NOTHING = "Nothing to import: every clone is managed, owned by a stack, or ignored."


def notes(adoptions: Sequence[Adoption]) -> list[str]:
    """What each stanza could not carry over (shown as warnings)."""
    return [f"voices.{a.name}: {note}" for a in adoptions for note in a.notes]


def dry_run(adoptions: Sequence[Adoption], stanzas: str, manifest: str) -> list[Line]:
    """``--dry-run``: the YAML it would add, and on stderr that nothing was written."""
    return [
        out("voices:"),
        Line(stanzas, nl=False),
        err(
            f"Would import {count(len(adoptions), 'clone')} into {manifest}; "
            "nothing was written (--dry-run)."
        ),
    ]


def imported(manifest: str, lock_name: str, adoptions: Sequence[Adoption]) -> list[str]:
    """What was adopted: a table, then what is left to do (samples to fill in,
    legacy clones to migrate)."""
    lines = [
        f"Imported {count(len(adoptions), 'clone')} into {manifest} and {lock_name}; "
        "nothing on the service was changed.",
        "",
    ]
    rows = []
    for a in adoptions:
        models = ",".join(clean(m) for m in a.clone.models) or "-"
        rows.append(
            [
                a.name,
                clean(a.clone.voice_id),
                clean(a.clone.display_name) or "-",
                models + (f" {LEGACY_MARK}" if a.legacy else ""),
                f"{FILE_PLACEHOLDER} (fill in)" if a.placeholder else str(a.stanza["file"]),
            ]
        )
    lines.append(table(["NAME", "VOICE ID", "DISPLAY NAME", "MODELS", "FILE"], rows))
    missing = sum(1 for a in adoptions if a.placeholder)
    legacy = sum(1 for a in adoptions if a.legacy)
    lines.append("")
    if missing:
        needs = "needs its original sample" if missing == 1 else "need their original samples"
        lines.append(
            f"{count(missing, 'voice')} {needs}: set `file:` where {manifest} says "
            f"{FILE_PLACEHOLDER}, then run `voicectl validate`."
        )
    if legacy:
        lines.append(
            f"{count(legacy, 'imported clone')} {'is' if legacy == 1 else 'are'} {LEGACY_MARK} "
            "(lightning-large only): `voicectl migrate` re-clones "
            f"{'it' if legacy == 1 else 'them'} on lightning-v3.1."
        )
    if not missing and not legacy:
        lines.append("`voicectl plan` should now show no changes for these voices.")
    return lines
