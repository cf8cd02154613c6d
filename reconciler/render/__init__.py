"""Plan and apply results as human text, versioned JSON, Markdown, and progress lines.

Everything that came from the server or the manifest passes through ``clean()``
before it is printed, so a displayName cannot move the cursor or recolour the
terminal; in Markdown it also passes through ``md()`` (or ``html_text()`` inside
HTML), so it cannot open a link, a table cell, an image or an HTML element in a
pull-request comment either.

JSON goes through the pydantic models of ``reconciler.schemas``, the same models
``schemas/plan.schema.json`` and ``schemas/apply.schema.json`` are generated from.
"""

from __future__ import annotations

import html
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TextIO

import click

from reconciler.actions import FAILED, HEADINGS, PAST, SYMBOLS
from reconciler.api.models import CURRENT_MODEL, PRO_MODEL
from reconciler.lazy import lazy_module
from reconciler.plan import NOT_LISTED, Action, Plan
from reconciler.render.handoff import handoff_markdown, handoff_text
from reconciler.render.problems import problems_out
from reconciler.render.table import table as text_table  # (render.table is the module)
from reconciler.text import clean

if TYPE_CHECKING:  # types only: `validate` and `plan` render without loading the engine
    from reconciler.apply import ApplyResult, Outcome
    from reconciler.engine.samples import NewClone
    from reconciler.lockfile import LockDocument

# The JSON models are built (~30 ms of pydantic classes) only when JSON is asked for.
if TYPE_CHECKING:
    from reconciler import schemas
else:
    schemas = lazy_module("reconciler.schemas")
FORMAT_VERSION: Final = 2  # plan and apply documents: schemas.PLAN_FORMAT_VERSION (tested)


@dataclass
class Style:
    """Colours on a TTY only; NO_COLOR and --no-color switch them off."""

    color: bool

    def __call__(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        if not self.color or (fg is None and not bold):
            return text
        return click.style(text, fg=fg, bold=bold)


NONE = "(none)"


def _q(text: Any) -> str:
    if text is None or text == "":
        return NONE
    return json.dumps(clean(text), ensure_ascii=False)


def _label(action: Action) -> str:
    """The voice's name; a clone nobody declared is named by its displayName, as such."""
    if action.name:
        return clean(action.name)
    if action.display_name:
        return f"displayName {_q(action.display_name)}"
    return "(unnamed clone)"


def plan_text(plan: Plan, style: Style, *, show_noop: bool = False) -> str:
    """Terraform-like human plan: one block per change, then the summary line."""
    lines: list[str] = []
    if getattr(plan, "stack_note", ""):
        lines += [f"Stack: {clean(plan.stack)} ({clean(plan.stack_note)})", ""]
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
        if action.name and action.display_name and action.display_name != action.name:
            detail.append(_q(action.display_name))
        lines.append(" ".join(detail))
        for change in action.changes:
            lines.append(
                f"      {style('~', 'yellow')} {change.field}: {_q_any(change.old)} -> "
                f"{_q_any(change.new)}"
            )
        if action.kind == "create":
            width = max((len(k) for k, _ in action.spec), default=0)
            for key, value in action.spec:
                shown = clean(value) if key == "file" and value else _q_any(value)
                lines.append(f"      {key + ':':<{width + 1}} {shown}")
        lines.append("")
    for warning in plan.warnings:
        lines.append(style("Warning: ", "yellow", bold=True) + clean(warning))
    if plan.warnings:
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines)


def _q_any(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_q(v) for v in value) + "]" if value else NONE
    return _q(value)


def not_converged(plan: Plan) -> list[str]:
    """Sentences for what keeps a plan from being converged besides its changes."""
    notes = []
    # a wait for a listed clone: it is processing; for one the list (which can lag behind
    # creates) does not show yet, made moments ago: its reason says "not listed yet"
    waits = sum(1 for a in plan.waiting if not any(NOT_LISTED in r for r in a.reasons))
    if waits:
        notes.append(
            f"{waits} clone{'s are' if waits != 1 else ' is'} still being made; "
            "run again once completed"
        )
    unlisted = len(plan.waiting) - waits
    if unlisted:
        notes.append(
            f"{unlisted} clone{'s' if unlisted != 1 else ''} made moments ago "
            f"{'are' if unlisted != 1 else 'is'} not listed yet; run again shortly"
        )
    if plan.other_pending:
        n = len(plan.other_pending)
        names = ", ".join(clean(x) for x in plan.other_pending[:5])
        notes.append(
            f"{n} other change{'s are' if n != 1 else ' is'} pending ({names}"
            f"{', ...' if n > 5 else ''}): `voicectl apply` makes "
            f"{'them' if n != 1 else 'it'}"
        )
    if plan.lock_held:
        notes.append(
            "another voicectl run holds the lock and may be changing the clones now: "
            "plan again when it has finished"
        )
    return notes


def summary_line(plan: Plan) -> str:
    """The last line of a plan; it says "No changes" only when nothing differs."""
    if plan.errors:
        n = len(plan.errors)
        return f"Plan refused: {n} problem{'s' if n != 1 else ''} (below); nothing will change."
    notes = "".join(f" {n[0].upper()}{n[1:]}." for n in not_converged(plan))
    if not plan.has_changes:
        if notes:
            return "Nothing to do now, but not converged." + notes
        return "No changes. The voice clones match the manifest."
    counts, repairs = _counts(plan)
    return f"Plan: {counts}." + (f" {repairs}." if repairs else "") + notes


def _counts(plan: Plan) -> tuple[str, str]:
    """'2 to create, 1 to replace, 0 to delete' and '1 lockfile repair' (or '')."""
    s = plan.summary()
    counts = f"{s['create']} to create, {s['replace']} to replace, {s['delete']} to delete"
    repairs = s["adopt"] + s["forget"] + s["move"] + s["release"]
    return counts, (f"{repairs} lockfile repair{'s' if repairs != 1 else ''}" if repairs else "")


def plan_document(plan: Plan, warnings: Sequence[str] = ()) -> schemas.PlanDocument:
    """The plan as its versioned model (schemas/plan.schema.json); ``warnings`` (the
    manifest's) come before the plan's own."""
    return schemas.PlanDocument(
        format_version=FORMAT_VERSION,
        actions=[
            schemas.PlanAction(
                action=a.kind,
                name=a.name,
                voice_id=a.voice_id,
                display_name=a.display_name,
                reasons=list(a.reasons),
                changes=[
                    schemas.PlanChange(
                        field=c.field, old=_json_value(c.old), new=_json_value(c.new)
                    )
                    for c in a.changes
                ],
                spec={k: _json_value(v) for k, v in a.spec} if a.spec else None,
            )
            for a in plan.actions
        ],
        summary=schemas.PlanSummary(**plan.summary(), changes=len(plan.changes)),
        stack=plan.stack or None,
        warnings=problems_out([*warnings, *plan.warnings, *_json_notes(plan)]),
        errors=problems_out(plan.errors),
    )


def _json_notes(plan: Plan) -> list[str]:
    """What keeps the plan from converging that its actions do not show (JSON warnings)."""
    return [
        n for n in not_converged(plan) if "still being made" not in n and "not listed yet" not in n
    ]


def _json_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return None if value is None else str(value)


def plan_json(plan: Plan, warnings: Sequence[str] = ()) -> dict[str, Any]:
    """The versioned machine form of a plan (schemas/plan.schema.json)."""
    return plan_document(plan, warnings).model_dump(by_alias=True, mode="json")


# -- apply progress ---------------------------------------------------------------------
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
    still_every: float = 10.0
    _still: dict[int, int] = field(default_factory=dict)
    _labels: dict[int, str] = field(default_factory=dict)
    _queued: set[int] = field(default_factory=set)
    # Not on a TTY (a CI log, a file), lines are written out at most this often, and
    # on every tick and at the end: a burst of 1,000 quick creates is not 2,000
    # writes (each one a system call when Python runs unbuffered, as CI often sets).
    flush_every: float = 0.25
    _flushed: float = 0.0
    _pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._t0 = self.clock()
        self._flushed = self._t0 - self.flush_every

    def _print(self, line: str) -> None:
        if self._bar_shown:
            self._write("\r\x1b[2K")
            self._bar_shown = False
        self._write(line + "\n")
        self._bar()
        self._flush(force=self.live)

    def _write(self, text: str) -> None:
        self._pending.append(text)

    def _flush(self, *, force: bool = True) -> None:
        now = self.clock()
        if force or now - self._flushed >= self.flush_every:
            if self._pending:
                self.out.write("".join(self._pending))
                self._pending.clear()
            self.out.flush()
            self._flushed = now

    def _bar(self) -> None:
        if not self.live or not self.total:
            return
        running = len(self._verbs)
        width = 24
        filled = int(width * self._done / self.total)
        bar = "#" * filled + "." * (width - filled)
        elapsed = self.clock() - self._t0
        queued = f", {len(self._queued)} queued" if self._queued else ""
        self._write(
            f"[{bar}] {self._done}/{self.total} done, {running} running{queued}, {elapsed:.0f}s"
        )
        self._bar_shown = True

    def queued(self, action: Action, verb: str) -> None:
        """Waiting for its turn (a concurrency slot): counted, not yet 'Creating...'."""
        self._queued.add(id(action))
        self._bar_refresh()

    def _bar_refresh(self) -> None:
        if not self.live:
            return  # no bar to redraw
        if self._bar_shown:
            self._write("\r\x1b[2K")
            self._bar_shown = False
        self._bar()
        self._flush()

    def started(self, action: Action, verb: str) -> None:
        """The request goes out now: print it, and count its time from here."""
        self._queued.discard(id(action))
        self._verbs[id(action)] = verb
        self._starts[id(action)] = self.clock()
        self._labels[id(action)] = _label(action)
        suffix = f" [id={clean(action.voice_id)}]" if action.voice_id else ""
        self._print(f"{_label(action)}: {verb}...{suffix}")

    def finished(self, outcome: Outcome) -> None:
        from reconciler.apply import NOT_STARTED  # loaded already: this is an apply

        action = outcome.action
        verb = self._verbs.pop(id(action), None) or {"delete": "Destroying"}.get(
            action.kind, "Creating"
        )
        start = self._starts.pop(id(action), None)
        self._still.pop(id(action), None)
        self._labels.pop(id(action), None)
        self._queued.discard(id(action))
        self._done += 1
        if getattr(outcome, "not_attempted", False):
            return  # named once, together, in the summary
        secs = f"{(self.clock() - start) if start is not None else outcome.elapsed:.0f}s"
        if not outcome.ok and start is None and outcome.error == NOT_STARTED:
            self._print(f"{_label(action)}: {clean(outcome.error)}")
            return
        if outcome.ok and outcome.awaiting and action.kind == "delete":
            self._print(
                self.style(f"{_label(action)}: Not deleted: ", "yellow")
                + "no delete route works for this key; awaiting deletion (see the hand-off)"
            )
        elif outcome.ok:
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

    def tick(self) -> None:
        """Called about once a second: redraw the bar; every ``still_every`` seconds an
        operation runs, say so (Terraform's 'Still creating... [10s elapsed]')."""
        now = self.clock()
        for key, start in self._starts.items():
            elapsed = now - start
            marks = int(elapsed // self.still_every)
            if marks > self._still.get(key, 0):
                self._still[key] = marks
                verb = self._verbs.get(key, "Working")
                label = self._labels.get(key, "")
                self._print(
                    f"{label}: Still {verb.lower()}... [{marks * self.still_every:.0f}s elapsed]"
                )
        if self._bar_shown:
            self._write("\r\x1b[2K")
            self._bar_shown = False
            self._bar()
        self._flush()

    def close(self) -> None:
        if self._bar_shown:
            self._write("\r\x1b[2K")
            self._bar_shown = False
        self._flush()


def apply_summary(result: ApplyResult) -> str:
    counts = _apply_counts(result) + "."
    handoff = handoff_text(result.awaiting_deletion, result.delete_unavailable)
    if result.ok:
        return f"Apply complete! {counts}" + (f"\n\n{handoff}" if handoff else "")
    lines = [f"Apply failed: {len(result.failed)} operation(s) failed; {counts}"]
    skipped = [o for o in result.failed if getattr(o, "not_attempted", False)]
    for outcome in result.failed:
        a = outcome.action
        if outcome not in skipped:
            lines.append(f"  {_label(a)} ({a.kind}): {clean(outcome.error)}")
    if skipped:  # once, not one line each: they all failed for the same reason
        names = ", ".join(sorted(_label(o.action) for o in skipped))
        lines.append(f"  not attempted (the clone limit refused a create): {names}")
    if handoff:
        lines += ["", handoff]
    return "\n".join(lines)


SHORT_SAMPLES = 10  # clones named in a non-TTY run's sample block, at most


def sample_lines(
    clones: Sequence[NewClone], *, embedded: bool = False, tty: bool = True
) -> list[str]:
    """Human lines: each new clone and the URLs of its samples.

    The embedded sandbox (``--sandbox``) has no server, so its URLs open nothing:
    they are not printed as links; one line says where the samples are and how to
    save them. Without a terminal (CI logs) the block is short: one line per clone
    (its URLs, no texts), at most SHORT_SAMPLES clones."""
    with_samples = [c for c in clones if any(s.audio_url for s in c.entry.samples)]
    if not with_samples:
        return []
    if embedded:
        n = len(with_samples)
        return [
            f"Samples of the {n} new clone{'s' if n != 1 else ''} are in the embedded sandbox "
            "(--sandbox has no server, so no URL would open them); `apply --download-samples "
            "DIR` or `voicectl samples --sandbox --download DIR` saves them as files."
        ]
    lines = ["Samples of the new clones (listen before the new voiceIds go live):"]
    if not tty:
        for c in with_samples[:SHORT_SAMPLES]:
            urls = " ".join(clean(s.audio_url) for s in c.entry.samples if s.audio_url)
            lines.append(f"  {clean(c.name)} ({clean(c.entry.voice_id)}): {urls}")
        if len(with_samples) > SHORT_SAMPLES:
            more = len(with_samples) - SHORT_SAMPLES
            lines.append(f"  ... and {more} more (`voicectl samples` lists them all)")
        return lines
    for c in with_samples:
        lines.append(f"  {clean(c.name)} ({clean(c.entry.voice_id)}):")
        for n, sample in enumerate(c.entry.samples, start=1):
            if sample.audio_url:
                text = f'  "{clean(sample.text)}"' if sample.text else ""
                lines.append(f"    {n}. {clean(sample.audio_url)}{text}")
    return lines


def apply_json(
    plan: Plan,
    result: ApplyResult,
    warnings: Sequence[str] = (),
    errors: Sequence[str] = (),
) -> dict[str, Any]:
    """The versioned machine form of an apply (schemas/apply.schema.json)."""
    doc = schemas.ApplyDocument(
        format_version=FORMAT_VERSION,
        ok=result.ok and not errors,
        plan=plan_document(plan, warnings),
        outcomes=[
            schemas.ApplyOutcome(
                action=o.action.kind,
                name=o.action.name,
                voice_id=o.action.voice_id,
                new_voice_id=o.new_voice_id,
                ok=o.ok,
                error=o.error,
                elapsed_seconds=round(o.elapsed, 3),
                retired=o.retired,
                awaiting_deletion=o.awaiting,
            )
            for o in result.outcomes
        ],
        summary=schemas.ApplySummary(
            created=result.count("create"),
            replaced=result.count("replace"),
            deleted=result.count("delete"),
            adopted=result.count("adopt"),
            failed=len(result.failed),
        ),
        notes=list(result.notes),
        errors=problems_out(errors),
        awaiting_deletion=[
            schemas.AwaitingDeletion.model_validate(h.to_json()) for h in result.awaiting_deletion
        ],
        delete_unavailable=result.delete_unavailable,
    )
    return doc.model_dump(by_alias=True, mode="json")


# -- Markdown (pull-request comments, GitHub job summaries) ----------------------------
# Characters that could start Markdown syntax inside a line (emphasis, code, links,
# images, table cells, strikethrough, headings, autolinks, @mentions). They are
# backslash-escaped; the HTML specials are then turned into entities.
_MD_SPECIALS = frozenset("\\`*_{}[]()#!|~:@")
_MD_ESCAPES = str.maketrans({ch: "\\" + ch for ch in _MD_SPECIALS})


def md(value: Any) -> str:
    """Text from the manifest or the server, safe in a Markdown line or table cell.

    Control characters are dropped and line breaks become spaces (``clean()``), so
    the text stays on its line and in its cell; Markdown specials are
    backslash-escaped; ``& < > " '`` become entities, so no HTML element can open.
    """
    escaped = clean(value).translate(_MD_ESCAPES)
    return html.escape(escaped, quote=True)


def html_text(value: Any) -> str:
    """Text safe inside an HTML element (``<summary>``), where Markdown is not parsed."""
    return html.escape(clean(value), quote=True)


def _md_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(md(v) for v in value) + "]" if value else "(none)"
    if value is None or value == "":
        return "(none)"
    return md(value)


def _md_name(action: Action) -> str:
    if action.name:
        return md(action.name)
    return f"displayName {md(action.display_name)}" if action.display_name else "(unnamed clone)"


def _md_heading(plan: Plan) -> str:
    if plan.errors:
        n = len(plan.errors)
        refused = f"refused, {n} problem{'s' if n != 1 else ''}"
        if not plan.has_changes:
            return refused
        counts, repairs = _counts(plan)
        return f"{refused}: {counts}" + (f", {repairs}" if repairs else "")
    if not plan.has_changes:
        return "no changes" if plan.converged else "nothing to do now, not converged"
    counts, repairs = _counts(plan)
    return counts + (f", {repairs}" if repairs else "")


def _md_notices(plan: Plan, warnings: Sequence[str] = ()) -> list[str]:
    lines: list[str] = []
    for warning in [*warnings, *plan.warnings]:
        lines.append(f"> **Warning:** {md(warning)}")
        lines.append("")
    for error in plan.errors:
        lines.append(f"> **Error:** {md(error)}")
        lines.append("")
    if plan.errors:
        lines.append("**apply refuses this plan** until the errors above are resolved.")
        lines.append("")
    return lines


def plan_markdown(plan: Plan, *, source: str | None = None, warnings: Sequence[str] = ()) -> str:
    """The plan for a pull-request comment or a job summary.

    A summary table (Action | Name | Voice ID | Reasons), then one collapsible
    ``<details>`` block per change with its reasons and field differences.
    """
    lines = [f"### voicectl plan: {_md_heading(plan)}", ""]
    if source:
        lines += [f"Manifest: {md(source)}", ""]
    shown = [a for a in plan.actions if a.kind != "noop"]
    unchanged = len(plan.actions) - len(shown)
    if shown:
        lines.append("| Action | Name | Voice ID | Reasons |")
        lines.append("|---|---|---|---|")
        for a in shown:
            reasons = "; ".join(md(r) for r in a.reasons)
            lines.append(f"| {a.kind} | {_md_name(a)} | {md(a.voice_id)} | {reasons} |")
        lines.append("")
    if plan.converged and not plan.errors:  # refused: nothing was compared to the end
        lines.append("The voice clones match the manifest.")
        lines.append("")
    for note in not_converged(plan):
        lines.append(f"> **Not converged:** {md(note)}")
        lines.append("")
    if unchanged:
        lines.append(f"{unchanged} voice{'s' if unchanged != 1 else ''} unchanged.")
        lines.append("")
    for a in shown:
        if not a.changes_anything:
            continue
        label = html_text(
            a.name or (f"displayName {a.display_name}" if a.display_name else "(unnamed clone)")
        )
        voice = f" ({html_text(a.voice_id)})" if a.voice_id else ""
        lines.append(f"<details><summary>{a.kind} {label}{voice}</summary>")
        lines.append("")
        if a.display_name:
            lines.append(f"- displayName: {md(a.display_name)}")
        for reason in a.reasons:
            lines.append(f"- {md(reason)}")
        if a.kind == "create":
            for key, value in a.spec:
                lines.append(f"- {key}: {_md_value(value)}")
        lines.append("")
        if a.changes:
            lines.append("| Field | On the service | In the manifest |")
            lines.append("|---|---|---|")
            for c in a.changes:
                lines.append(f"| {md(c.field)} | {_md_value(c.old)} | {_md_value(c.new)} |")
            lines.append("")
        lines.append("</details>")
        lines.append("")
    lines += _md_notices(plan, warnings)
    return "\n".join(lines).rstrip("\n") + "\n"


def apply_markdown(
    plan: Plan,
    result: ApplyResult | None,
    *,
    source: str | None = None,
    warnings: Sequence[str] = (),
    errors: Sequence[str] = (),
) -> str:
    """The outcome of an apply for a job summary: a table of operations and notes.

    ``result`` None means nothing ran (the plan was refused): the plan is shown.
    """
    if result is None:
        return plan_markdown(plan, source=source, warnings=warnings).replace(
            "### voicectl plan:", "### voicectl apply (refused):", 1
        )
    done = [o for o in result.outcomes if o.action.changes_anything]
    if not done and result.ok:
        heading = "no changes"
    elif result.ok:
        heading = "complete, " + _apply_counts(result)
    else:
        heading = f"failed, {len(result.failed)} operation(s) failed; " + _apply_counts(result)
    if errors:
        heading = "interrupted, " + _apply_counts(result)
    lines = [f"### voicectl apply: {heading}", ""]
    if source:
        lines += [f"Manifest: {md(source)}", ""]
    for error in errors:
        lines += [f"> **Error:** {md(error)}", ""]
    if done:
        lines.append("| Action | Name | Voice ID | Result |")
        lines.append("|---|---|---|---|")
        for o in done:
            a = o.action
            voice = md(a.voice_id)
            if o.new_voice_id and a.kind == "replace":
                voice = f"{md(a.voice_id)} → {md(o.new_voice_id)}"
            elif o.new_voice_id and a.kind == "create":
                voice = md(o.new_voice_id)
            if o.ok and o.awaiting and a.kind == "delete":
                outcome = "**awaiting deletion** (see below)"
            elif o.ok:
                outcome = "done" + (" (old clone kept as retired)" if o.retired else "")
                if o.detail:
                    outcome += f" ({md(o.detail)})"
            else:
                outcome = f"**failed:** {md(o.error)}"
            lines.append(f"| {a.kind} | {_md_name(a)} | {voice} | {outcome} |")
        lines.append("")
    else:
        lines.append("The voice clones match the manifest.")
        lines.append("")
    lines += handoff_markdown(result.awaiting_deletion, result.delete_unavailable, md)
    for note in result.notes:
        lines.append(f"> **Note:** {md(note)}")
        lines.append("")
    for warning in [*warnings, *plan.warnings]:
        lines.append(f"> **Warning:** {md(warning)}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _apply_counts(result: ApplyResult) -> str:
    text = (
        f"{result.count('create')} created, {result.count('replace')} replaced, "
        f"{result.count('delete')} deleted"
    )
    adopted = result.count("adopt")
    kept = result.kept_retired
    return (
        text
        + (f", {adopted} adopted" if adopted else "")
        + (f", {kept} kept as retired" if kept else "")
    )


STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def append_step_summary(markdown: str | Callable[[], str], environ: Any = None) -> str | None:
    """Append ``markdown`` to the file ``$GITHUB_STEP_SUMMARY`` names, if it is set.

    GitHub Actions shows that file on the run's page. ``markdown`` may be a function
    that builds it, called only when the summary is wanted. Returns a warning to show
    when the file cannot be written (the command itself still succeeds), else None.
    """
    env = os.environ if environ is None else environ
    target = env.get(STEP_SUMMARY_ENV)
    if not target:
        return None
    text = markdown() if callable(markdown) else markdown
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n\n")
    except OSError as exc:
        return f"cannot append to {STEP_SUMMARY_ENV} ({target}): {exc.strerror or exc}"
    return None


def migration_table(doc: LockDocument) -> str:
    """The old -> new voiceId table `voicectl migrate` prints."""
    rows = []
    from reconciler.engine import migrating

    for name, item in migrating.migration_map(doc)["voices"].items():
        retired = doc.retired.get(item["old"])
        if item["old"] in doc.awaiting:  # no delete route worked: see the hand-off table
            state = "awaiting deletion"
        elif retired is None:
            state = "deleted"
        elif retired.keep:
            state = "kept (retired)"
        else:
            state = "to delete"
        rows.append([name, clean(item["old"]), "->", clean(item["new"]), state])
    # the new clones' pool: lightning-v3.1, or the Pro pool where they were made on it
    pools = {
        PRO_MODEL if PRO_MODEL in e.model_ids else CURRENT_MODEL
        for e in doc.voices.values()
        if e.migrated_from
    }
    new = "NEW (" + " / ".join(sorted(pools) or [CURRENT_MODEL]) + ")"
    return text_table(["NAME", "OLD (LEGACY)", "", new, "OLD CLONE"], rows)
