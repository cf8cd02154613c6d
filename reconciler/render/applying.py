"""An apply's outcome as printed: `voicectl apply` (and `voicectl migrate`).

Three endings, each in the asked-for format plus the job summary's Markdown: a
plan refused before anything ran (:func:`refused`), a run stopped by Ctrl-C or
SIGTERM (:func:`interrupted`), and a run that finished (:func:`applied`: the
text tail of notes, the summary, the new clones' samples).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import render
from reconciler.render.lines import Line, Shown, err, in_format, out
from reconciler.render.problems import failed_apply_json
from reconciler.text import clean

if TYPE_CHECKING:
    from reconciler.engine.applying import ApplyRun
    from reconciler.plan import Plan


def source_label(source: str, environment: str | None) -> str:
    """The manifest as reports name it, with the environment applied (``--env``)."""
    return source if environment is None else f"{source} ({environment})"


def refused(plan: Plan, fmt: str, source: str, warnings: Sequence[str]) -> Shown:
    """A plan the safety rules refused: nothing ran (the text form showed the plan)."""
    markdown = render.apply_markdown(plan, None, source=source, warnings=warnings)

    def doc():
        planned = render.plan_document(plan, warnings)
        return failed_apply_json(plan.errors, [], plan=planned)

    return Shown(in_format(fmt, doc, markdown), markdown)


def interrupted(
    run: ApplyRun,
    signal_name: str,
    fmt: str,
    source: str,
    warnings: Sequence[str],
    rerun: str = "voicectl apply",
) -> tuple[Shown, str]:
    """What was done, what was not and what next (``rerun``: the command that does the
    rest); and the one-line error message."""
    plan, result = run.plan, run.result
    done = [o for o in result.outcomes if o.ok and o.action.changes_anything]
    finished = {id(o.action) for o in result.outcomes}
    not_done = [o.action for o in result.outcomes if not o.ok]
    not_done += [a for a in plan.changes if id(a) not in finished]
    message = (
        f"apply interrupted ({signal_name}): {len(done)} done, {len(not_done)} not done; every "
        f"operation that finished is in the lockfile; run `{rerun}` again to do the rest"
    )
    lines: list[Line] = []
    if fmt == "text":
        lines += [out(""), out(f"Interrupted ({signal_name}).")]
        for o in done:
            new = f" [id={clean(o.new_voice_id)}]" if o.new_voice_id else ""
            name = clean(o.action.name or o.action.voice_id)
            lines.append(out(f"  done:     {name} ({o.action.kind}){new}"))
        reasons = {id(o.action): o.error for o in result.outcomes if not o.ok}
        for a in not_done:
            why = reasons.get(id(a)) or "stopped before it finished"
            lines.append(out(f"  not done: {clean(a.name or a.voice_id)} ({a.kind}): {clean(why)}"))
        lines.append(out(f"Next: run `{rerun}` again; `voicectl plan` shows what is left."))
    markdown = render.apply_markdown(
        plan, result, source=source, warnings=warnings, errors=[message]
    )
    lines += in_format(fmt, lambda: render.apply_json(plan, result, warnings, [message]), markdown)
    return Shown(lines, markdown), message


def applied(
    run: ApplyRun,
    fmt: str,
    source: str,
    warnings: Sequence[str],
    *,
    embedded: bool,
    tty: bool,
    samples_dir: Path | None,
) -> Shown:
    """A finished run: with text, its notes, summary and new samples (the progress
    lines came before); the saved samples' problems; the JSON or Markdown."""
    lines: list[Line] = []
    if fmt == "text" and run.changed:
        lines += [out(f"Note: {clean(note)}") for note in run.result.notes]
        lines += [out(""), out(render.apply_summary(run.result))]
        samples = render.sample_lines(run.new_clones, embedded=embedded, tty=tty)
        if samples:
            lines += [out(""), *map(out, samples)]
        if run.saved_samples:
            n = len(run.saved_samples)
            lines.append(out(f"Saved {n} sample{'s' if n != 1 else ''} to {samples_dir}/"))
    lines += [err(f"Error: could not save a sample: {clean(e)}") for e in run.sample_errors]
    lines += [err(f"warning: {warning}") for warning in run.sample_warnings]

    def markdown() -> str:
        return render.apply_markdown(run.plan, run.result, source=source, warnings=warnings)

    lines += in_format(fmt, lambda: render.apply_json(run.plan, run.result, warnings), markdown)
    return Shown(lines, markdown)
