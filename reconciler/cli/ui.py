"""Terminal helpers for commands: colour decisions, warnings, confirmation, logging."""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import GlobalSettings
from reconciler.cli.failures import FailureReport
from reconciler.errors import UserError
from reconciler.lazy import lazy_module
from reconciler.text import clean

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    from collections.abc import Callable, Iterable

    import reconciler.engine.workflow as workflow
    import reconciler.render as _render
    import reconciler.render as render
    import reconciler.render.lines as _lines
    import reconciler.render.migrating as _render_migrating
    from reconciler.render.lines import Line, Shown
else:
    _render = lazy_module("reconciler.render")
    render = lazy_module("reconciler.render")
    _lines = lazy_module("reconciler.render.lines")
    _render_migrating = lazy_module("reconciler.render.migrating")
    workflow = lazy_module("reconciler.engine.workflow")


def color_enabled(settings: GlobalSettings, stream=None) -> bool:
    """Colour only on a TTY, and never with NO_COLOR or --no-color."""
    stream = stream or sys.stdout
    if settings.no_color or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def style_for(settings: GlobalSettings) -> _render.Style:
    return _render.Style(color=color_enabled(settings))


def echo_warnings(warnings: list[str]) -> None:
    if warnings:  # one write for all of them (a 10,000-voice manifest may have many)
        click.echo(_lines.warnings_text(warnings), err=True)


def emit(lines: Iterable[Line]) -> None:
    """Write what a renderer returned, in order, each line to its stream."""
    for line in lines:
        click.echo(line.text, err=line.err, nl=line.nl)


def show(shown: Shown) -> None:
    """Write a command's output, and append its Markdown to the job summary
    (``GITHUB_STEP_SUMMARY``; a file that cannot be written is a warning)."""
    emit(shown.lines)
    summarise(shown.markdown)


def summarise(markdown: str | Callable[[], str] | None) -> None:
    """Append a report to GitHub's job summary when ``GITHUB_STEP_SUMMARY`` is set."""
    if markdown is not None:
        problem = render.append_step_summary(markdown)
        echo_warnings([problem] if problem else [])


def connection_for(
    settings: GlobalSettings,
    manifest_path: Path,
    target: workflow.Target | None = None,
) -> workflow.Connection:
    """Where this command's client goes: the global options, the manifest's folder,
    the environment (``--env``) it works on (default: the manifest's plain one)."""
    if target is None:
        target = workflow.environments.PLAIN
    return workflow.connection(
        sandbox=settings.sandbox,
        api_url=settings.api_url,
        base_dir=manifest_path.parent,
        target=target,
        delete_via=settings.delete_via,
    )


def echo_notice(message: str) -> None:
    """A one-line notice on stderr (e.g. that the run waits for the lock)."""
    click.echo(clean(message), err=True)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now, not the stream it was made with
    (a run in the same process may have replaced and closed that one)."""

    debugging = False  # set by a --debug run (which also set the logger's level)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def logger_for(settings: GlobalSettings) -> logging.Logger:
    """The client's logger: HTTP activity on stderr with --debug (the key never appears).

    Only for runs with --debug: a later run in the same process without it logs nothing.
    """
    logger = logging.getLogger("voicectl")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:  # (with a handler of its own, never Python's bare last-resort line)
        handler = _StderrHandler()
        logger.addHandler(handler)
    if settings.debug:
        handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG)
        logger.setLevel(logging.DEBUG)
        handler.debugging = True
    else:  # the client's warnings (an entry it cannot read...), marked as warnings
        handler.setFormatter(logging.Formatter("Warning: %(message)s"))
        handler.setLevel(logging.WARNING)
        if handler.debugging:  # a --debug run before, in this process
            logger.setLevel(logging.NOTSET)
            handler.debugging = False
    return logger


def confirm(what: str, question: list[str], *, approve: str, cancelled: str) -> None:
    """Ask as Terraform does (only 'yes' approves); refuse clearly when there is no
    terminal to ask on. ``what`` names the command, ``approve`` what --auto-approve
    would do without asking, ``cancelled`` says what was (not) done."""
    if not sys.stdin.isatty():
        raise UserError(
            f"{what} needs confirmation but stdin is not a terminal; "
            f"pass --auto-approve to {approve} without asking"
        )
    click.echo(_lines.question_text(question))
    # The prompt blocks inside the event loop, where asyncio's own SIGINT handler
    # would only cancel a task that cannot run: Ctrl-C must interrupt the read itself.
    try:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread
        previous = None
    try:
        if previous is None:
            answer = click.prompt("  Enter a value", default="", show_default=False)
        else:
            answer = _answer("  Enter a value: ")
    except (click.exceptions.Abort, KeyboardInterrupt):  # Ctrl-C (or end of input)
        from reconciler.cli.interrupts import Interrupted

        click.echo("", err=True)
        raise Interrupted(f"{what} cancelled at the prompt; {cancelled}") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if answer.strip() != "yes":
        raise UserError(f"{what} cancelled (the answer was not 'yes'); {cancelled}")


def _answer(prompt: str) -> str:
    """One line typed on the terminal; Ctrl-C raises KeyboardInterrupt at once.

    A plain blocking read misses a Ctrl-C that lands between the prompt being
    written and the read starting (the signal only sets a flag; the read then
    waits for Enter). Here the read waits on the terminal AND on a signal wake-up
    pipe, which the interpreter writes to whenever a signal arrives, before or
    during the wait, so the interrupt is never lost. End of input: ``Abort``.
    """
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    before = signal.set_wakeup_fd(wake_w)
    try:
        click.echo(prompt, nl=False)
        while True:
            ready, _, _ = select.select([sys.stdin, wake_r], [], [])
            if wake_r in ready:  # a signal came; Ctrl-C's handler has raised by now
                os.read(wake_r, 64)  # another signal's: wait on
                continue
            line = sys.stdin.readline()
            if not line:
                raise click.exceptions.Abort()
            return line.rstrip("\n")
    finally:
        signal.set_wakeup_fd(before)
        os.close(wake_r)
        os.close(wake_w)


def confirm_apply() -> None:
    confirm(
        "apply",
        [
            "Do you want to perform these actions?",
            "  voicectl will perform the actions described above.",
            "  Only 'yes' will be accepted to approve.",
        ],
        approve="apply",
        cancelled="nothing was changed",
    )


class ApplyConsole:
    """The terminal side of an apply (``engine.applying.ApplyUI``).

    Warnings go to stderr; with ``--format text`` the plan and the progress lines
    go to stdout and the confirmation is asked for; other formats print nothing
    while the apply runs and need ``--auto-approve`` to change anything.
    """

    def __init__(
        self, settings: GlobalSettings, fmt: str = "text", failures: FailureReport | None = None
    ):
        self.fmt = fmt
        self.text = fmt == "text"
        self.style = style_for(settings)
        self.failures = failures
        self.seen: list[str] = []  # the manifest's warnings, for the JSON and Markdown forms

    def warnings(self, messages) -> None:
        self.seen = list(messages)
        if self.failures is not None:
            self.failures.warnings = self.seen
        echo_warnings(self.seen)

    def planned(self, plan) -> None:
        if self.text:
            click.echo(render.plan_text(plan, self.style))

    def notice(self, message: str) -> None:
        click.echo(message, err=True)

    def confirm(self, plan) -> None:
        if not self.text:
            raise UserError(f"--format {self.fmt} needs --auto-approve")
        confirm_apply()

    def progress(self, plan) -> render.ProgressPrinter | None:
        if self.failures is not None:  # from here on, a failure may come after changes
            self.failures.changed = (
                "Some operations may have run: every one that finished is in the lockfile; "
                "run `voicectl plan` to see what is left."
            )
        if not self.text:
            return None
        printer = render.ProgressPrinter(
            style=self.style, live=sys.stdout.isatty(), total=len(plan.changes)
        )
        click.echo("")
        return printer


class FinishConsole(ApplyConsole):
    """`migrate --finish`: asks before deleting old clones (lockfile repairs alone
    need no confirmation)."""

    def confirm(self, plan) -> None:
        deletes = len(plan.of_kind("delete"))
        if not deletes:
            return
        if not self.text:
            raise UserError(f"--format {self.fmt} needs --auto-approve")
        confirm(
            "migrate --finish",
            _render_migrating.finish_question(deletes),
            approve="delete",
            cancelled="nothing was deleted",
        )
