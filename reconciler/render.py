"""Plan and apply results as human text, versioned JSON, and progress lines.

Everything that came from the server or the manifest passes through ``clean()``
before it is printed, so a displayName cannot move the cursor or recolour the
terminal.
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from reconciler.apply import ApplyResult, Outcome
from reconciler.plan import Action, Plan

FORMAT_VERSION = 1

SYMBOLS = {
    "create": ("+", "green"),
    "delete": ("-", "red"),
    "replace": ("-/+", "yellow"),
    "adopt": ("=", "cyan"),
    "forget": ("~", "cyan"),
    "wait": ("…", "blue"),
    "noop": (" ", None),
}
HEADINGS = {
    "create": "will be created",
    "delete": "will be deleted",
    "replace": "must be replaced",
    "adopt": "will be recorded in the lockfile",
    "forget": "will be dropped from the lockfile",
    "wait": "is still being made; left alone",
}


def clean(value: Any) -> str:
    """Text safe for a terminal: control/format characters dropped, line breaks made spaces."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category in ("Zl", "Zp"):
            out.append(" ")
        elif not category.startswith("C"):
            out.append(ch)
    return "".join(out).strip()


@dataclass
class Style:
    """Colours on a TTY only; NO_COLOR and --no-color switch them off."""

    color: bool

    def __call__(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        if not self.color or (fg is None and not bold):
            return text
        return click.style(text, fg=fg, bold=bold)


def _q(text: Any) -> str:
    return json.dumps(clean(text), ensure_ascii=False)


def _label(action: Action) -> str:
    name = clean(action.name) if action.name else clean(action.display_name) or "(unnamed)"
    return name


def plan_text(plan: Plan, style: Style, *, show_noop: bool = False) -> str:
    """Terraform-like human plan: one block per change, then the summary line."""
    lines: list[str] = []
    changes = [a for a in plan.actions if a.kind not in ("noop",) or show_noop]
    if any(a.changes_anything or a.kind == "wait" for a in changes):
        lines.append("voicectl will perform the following actions:")
        lines.append("")
    for action in changes:
        if action.kind == "noop":
            continue
        symbol, color = SYMBOLS[action.kind]
        heading = HEADINGS[action.kind]
        why = "; ".join(clean(r) for r in action.reasons)
        lines.append(
            style(f"  # {_label(action)} {heading}" + (f" ({why})" if why else ""), bold=True)
        )
        detail = [style(f"{symbol:>3}", color), _label(action)]
        if action.voice_id:
            detail.append(clean(action.voice_id))
        if action.display_name and action.display_name != action.name:
            detail.append(_q(action.display_name))
        lines.append(" ".join(detail))
        for change in action.changes:
            lines.append(
                f"      {style('~', 'yellow')} {change.field}: {_q_any(change.old)} -> "
                f"{_q_any(change.new)}"
            )
        lines.append("")
    for warning in plan.warnings:
        lines.append(style("Warning: ", "yellow", bold=True) + clean(warning))
    if plan.warnings:
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines)


def _q_any(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    return _q(value)


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The voice clones match the manifest."
    s = plan.summary()
    line = f"Plan: {s['create']} to create, {s['replace']} to replace, {s['delete']} to delete."
    repairs = s["adopt"] + s["forget"]
    if repairs:
        line += f" {repairs} lockfile repair{'s' if repairs != 1 else ''}."
    return line


def plan_json(plan: Plan) -> dict[str, Any]:
    """The versioned machine form of a plan (schemas/plan.schema.json)."""
    return {
        "formatVersion": FORMAT_VERSION,
        "actions": [
            {
                "action": a.kind,
                "name": a.name,
                "voiceId": a.voice_id,
                "displayName": a.display_name,
                "reasons": list(a.reasons),
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in a.changes],
            }
            for a in plan.actions
        ],
        "summary": {**plan.summary(), "changes": len(plan.changes)},
        "warnings": list(plan.warnings),
        "errors": list(plan.errors),
    }


# -- apply progress ---------------------------------------------------------------------
PAST = {
    "Creating": "Creation complete",
    "Replacing": "Replacement complete",
    "Destroying": "Destruction complete",
    "Adopting": "Recorded",
    "Forgetting": "Dropped from the lockfile",
}
FAILED = {
    "Creating": "Creation failed",
    "Replacing": "Replacement failed",
    "Destroying": "Destruction failed",
}


@dataclass
class ProgressPrinter:
    """Terraform-style lines per operation, and a live status line on a TTY."""

    style: Style
    out: TextIO = field(default_factory=lambda: sys.stdout)
    live: bool = False
    total: int = 0
    clock: Callable[[], float] = time.monotonic
    _verbs: dict[int, str] = field(default_factory=dict)
    _starts: dict[int, float] = field(default_factory=dict)
    _done: int = 0
    _bar_shown: bool = False
    _t0: float = 0.0

    def __post_init__(self) -> None:
        self._t0 = self.clock()

    def _print(self, line: str) -> None:
        if self._bar_shown:
            self.out.write("\r\x1b[2K")
            self._bar_shown = False
        self.out.write(line + "\n")
        self._bar()
        self.out.flush()

    def _bar(self) -> None:
        if not self.live or not self.total:
            return
        running = len(self._verbs)
        width = 24
        filled = int(width * self._done / self.total)
        bar = "#" * filled + "." * (width - filled)
        elapsed = self.clock() - self._t0
        self.out.write(f"[{bar}] {self._done}/{self.total} done, {running} running, {elapsed:.0f}s")
        self._bar_shown = True

    def started(self, action: Action, verb: str) -> None:
        self._verbs[id(action)] = verb
        self._starts[id(action)] = self.clock()
        suffix = f" [id={clean(action.voice_id)}]" if action.voice_id else ""
        self._print(f"{_label(action)}: {verb}...{suffix}")

    def finished(self, outcome: Outcome) -> None:
        action = outcome.action
        verb = self._verbs.pop(id(action), None) or {"delete": "Destroying"}.get(
            action.kind, "Creating"
        )
        self._starts.pop(id(action), None)
        self._done += 1
        secs = f"{outcome.elapsed:.0f}s"
        if outcome.ok:
            done = PAST.get(verb, "Done")
            ids = ""
            if outcome.new_voice_id and action.kind in ("create", "replace"):
                ids = f" [id={clean(outcome.new_voice_id)}"
                ids += f", was {clean(action.voice_id)}]" if action.kind == "replace" else "]"
            extra = f" ({clean(outcome.detail)})" if outcome.detail else ""
            kept = " (old clone kept as retired)" if outcome.retired else ""
            self._print(f"{_label(action)}: {done} after {secs}{ids}{extra}{kept}")
        else:
            failed = FAILED.get(verb, "Failed")
            self._print(
                self.style(f"{_label(action)}: {failed} after {secs}: ", "red")
                + clean(outcome.error)
            )

    def note(self, message: str) -> None:
        self._print(self.style("Note: ", "yellow") + clean(message))

    def close(self) -> None:
        if self._bar_shown:
            self.out.write("\r\x1b[2K")
            self.out.flush()
            self._bar_shown = False


def apply_summary(result: ApplyResult) -> str:
    counts = (
        f"{result.count('create')} created, {result.count('replace')} replaced, "
        f"{result.count('delete')} deleted."
    )
    adopted = result.count("adopt")
    if adopted:
        counts = counts[:-1] + f", {adopted} adopted."
    if result.ok:
        return f"Apply complete! {counts}"
    lines = [f"Apply failed: {len(result.failed)} operation(s) failed; {counts}"]
    for outcome in result.failed:
        a = outcome.action
        lines.append(f"  {_label(a)} ({a.kind}): {clean(outcome.error)}")
    return "\n".join(lines)


def apply_json(plan: Plan, result: ApplyResult) -> dict[str, Any]:
    return {
        "formatVersion": FORMAT_VERSION,
        "ok": result.ok,
        "plan": plan_json(plan),
        "outcomes": [
            {
                "action": o.action.kind,
                "name": o.action.name,
                "voiceId": o.action.voice_id,
                "newVoiceId": o.new_voice_id,
                "ok": o.ok,
                "error": o.error,
                "elapsedSeconds": round(o.elapsed, 3),
                "retired": o.retired,
            }
            for o in result.outcomes
        ],
        "summary": {
            "created": result.count("create"),
            "replaced": result.count("replace"),
            "deleted": result.count("delete"),
            "adopted": result.count("adopt"),
            "failed": len(result.failed),
        },
        "notes": list(result.notes),
    }
