"""Errors a user can cause. The CLI prints them as one line and exits 1."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment, shown without a traceback.

    ``message`` is one line that says what and where, e.g.
    ``voices.yaml:12:7: voices.narrator.file: samples/n.wav does not exist``.
    """

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ManifestError(UserError):
    """One or more problems in the manifest; ``problems`` holds each line, ``source``
    the file they are in (an included one, when they are all there), if known."""

    def __init__(self, problems: list[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__("\n".join(self.problems))


def internal_error(exc: BaseException) -> str:
    """The one line a bug (an exception nobody expected) is reported with."""
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def stdout_error(exc: OSError | None) -> str:
    """The one line for output that could not be written: stdout failed (``exc``: a
    full disk, a closed descriptor) or was closed before the run (None)."""
    if exc is None:
        return "stdout is closed, so the output would be lost (use >/dev/null to discard it)"
    return f"cannot write the output to stdout: {exc.strerror or exc}"
