"""Failures reported in the format the caller asked for.

``with FailureReport("plan", fmt, source) as report:`` around a command's work:
if a user error or a service error escapes (an invalid manifest, an unreachable
server, a refused key, a held lock, a stale saved plan), the caller still gets
what it asked for before the one ``Error:`` line on stderr (printed by
``reconciler.cli.main``): ``--format json`` one document of the command's
versioned shape with the failure in ``errors``, ``--format markdown`` a report,
and with ``GITHUB_STEP_SUMMARY`` set, that report in the job summary. Warnings
noted on the way (``report.warnings``) are in it too. An error the command has
already reported in its output carries ``reported = True`` and is only re-raised.

Commands that never write a job summary (``list``, ``check``, ``doctor``,
``refresh``, ``samples``, ``show``) pass ``step_summary=False`` and their own failure document as
``json_doc``: their ``--format json`` / ``--json`` still prints one document on
failure, and nothing more is written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import click

from reconciler.errors import UserError
from reconciler.lazy import lazy_module
from reconciler.text import clean

# imported on first use: building the command (--help, completion) stays cheap
if TYPE_CHECKING:  # the real modules, for the type checker
    import reconciler.api.errors as _errors
    import reconciler.render as _render
    import reconciler.render.environments as _render_envs
    import reconciler.render.lines as _lines
    import reconciler.render.problems as rp
else:
    _lines = lazy_module("reconciler.render.lines")
    _errors = lazy_module("reconciler.api.errors")
    _render = lazy_module("reconciler.render")
    _render_envs = lazy_module("reconciler.render.environments")
    rp = lazy_module("reconciler.render.problems")

FAILURES = (UserError, _errors.WavesError)


def _interrupt_name(exc: BaseException) -> str | None:
    """ "Ctrl-C" or "SIGTERM" for the interrupts ``reconciler.cli.main`` reports itself."""
    from reconciler.cli.interrupts import Terminated

    if isinstance(exc, KeyboardInterrupt | click.exceptions.Abort):
        return "Ctrl-C"
    return "SIGTERM" if isinstance(exc, Terminated) else None


def mark_reported(exc: BaseException) -> BaseException:
    exc.reported = True  # type: ignore[attr-defined]
    return exc


@dataclass
class FailureReport:
    command: str  # plan | plan --all-envs | apply | migrate | list ...
    fmt: str
    source: str | None = None
    warnings: list[str] = field(default_factory=list)
    # For apply: the JSON/Markdown when a plan exists already (a refused plan).
    json_doc: Callable[[list[str]], dict[str, Any]] | None = None
    markdown_doc: Callable[[list[str]], str] | None = None
    changed: str = "Nothing was changed."  # what the report says was done
    step_summary: bool = True  # also append the Markdown report to GITHUB_STEP_SUMMARY

    def __enter__(self) -> FailureReport:
        return self

    def __exit__(self, kind, exc, tb) -> Literal[False]:
        if exc is None or getattr(exc, "reported", False):
            return False
        interrupt = _interrupt_name(exc)
        if interrupt is not None:  # Ctrl-C, or a CI job cancelled: a document all the same
            self.report([f"interrupted ({interrupt}); nothing more was started"])
            return False
        if not isinstance(exc, FAILURES):
            return False
        self.report(
            rp.error_lines(exc),
            warnings=getattr(exc, "warnings", None) or [],
            refused=getattr(exc, "refusal", False),
        )
        mark_reported(exc)
        return False

    def report(
        self, errors: list[str], *, warnings: list[str] | None = None, refused: bool = False
    ) -> None:
        """Print the failure document (json/markdown) and append the job summary."""
        seen = list(dict.fromkeys([*self.warnings, *(warnings or [])]))
        if self.fmt == "json":
            click.echo(_lines.json_text(self._json(errors, seen)))
        if self.fmt != "markdown" and not self.step_summary:
            return
        if self.markdown_doc is not None:
            markdown = self.markdown_doc(errors)
        else:
            markdown = rp.failure_markdown(
                self.command,
                errors,
                seen,
                source=self.source,
                changed=self.changed,
                refused=refused,
            )
        if self.fmt == "markdown":
            click.echo(markdown, nl=False)
        if not self.step_summary:
            return
        problem = _render.append_step_summary(markdown)
        if problem:
            click.echo(f"Warning: {clean(problem)}", err=True)

    def _json(self, errors: list[str], warnings: list[str]) -> dict[str, Any]:
        """The command's own document for a run that failed (``json_doc`` if given)."""
        if self.json_doc is not None:
            return self.json_doc(errors)
        if self.command == "plan":
            return rp.failed_plan_json(errors, warnings)
        if self.command == "plan --all-envs":
            return _render_envs.failed_all_json(errors)
        return rp.failed_apply_json(errors, warnings)
