"""The `voicectl` command line: parse, call the engine, render, exit code.

Global options (``--api-url``, ``--sandbox``, ``--debug``, ``--no-color``) are
accepted before or after the command name and from ``VOICECTL_*`` variables.
Every error a user can cause is printed as one line and exits 1; ``--debug``
adds the traceback.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback
from typing import Any, NoReturn

import click

from reconciler import __version__
from reconciler.api.errors import WavesError
from reconciler.cli.common import global_options
from reconciler.errors import UserError, internal_error, stdout_error

# Every command lives in its own module under reconciler/cli/, imported only when
# that command runs (or is completed): `voicectl --help`, `--version` and the
# completion of one command stay cheap. Name -> (module, the first sentence of its
# help, shown by `voicectl --help` without importing it; tests/unit/test_startup.py
# checks that both match the commands themselves).
COMMAND_TABLE: dict[str, tuple[str, str]] = {
    "apply": ("apply", "Create missing clones, replace changed or legacy ones, delete orphans."),
    "check": (
        "check",
        "Check that every voice in the lockfile exists, is completed and works on lightning-v3.1.",
    ),
    "show": ("show", "Show a saved plan (from `voicectl plan --out`); no API call, no key needed."),
    "doctor": (
        "doctor",
        "Check the key, the endpoint and the organisation: which API world this is.",
    ),
    "completion": ("completion", "Print the completion script for SHELL (bash, zsh or fish)."),
    "import": (
        "importer",
        "Adopt existing clones that no stack owns into the manifest and the lockfile.",
    ),
    "init": (
        "init",
        "Scaffold voices.yaml, samples/ and .gitignore entries in DIRECTORY (default: .).",
    ),
    "list": (
        "listing",
        "List the organisation's clones: status, models (LEGACY marked), owner, age.",
    ),
    "migrate": ("migrate", "Re-clone managed legacy (lightning-large) voices on lightning-v3.1."),
    "output": ("output", "Print the voiceIds recorded in the lockfile, for apps and scripts."),
    "plan": ("plan", "Show what `apply` would change."),
    "refresh": (
        "refresh",
        "Update the lockfile from the service (status, modelIds, samples...).",
    ),
    "samples": (
        "samples",
        "List (and with --download, fetch and check) the clones' sample clips.",
    ),
    "sandbox": (
        "sandbox",
        "The Waves API emulator, for tests and dry runs (no real clones are made).",
    ),
    "schema": (
        "schema",
        "Print a JSON Schema (NAME), or write/check them all (--write/--check).",
    ),
    "validate": ("validate", "Check voices.yaml and its sample audio without calling the API."),
}
COMMAND_MODULES = tuple(dict.fromkeys(module for module, _ in COMMAND_TABLE.values()))


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from :data:`COMMAND_TABLE`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_TABLE, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_TABLE:
            _load(COMMAND_TABLE[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from the table: no command module imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is None:
                loaded = click.Command(name, help=COMMAND_TABLE[name][1])
            if loaded.hidden:
                continue
            rows.append((name, loaded.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _load(module_name: str) -> None:
    module = importlib.import_module(f"reconciler.cli.{module_name}")
    for command in module.COMMANDS:
        if command.name not in cli.commands:
            cli.add_command(command)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicectl")
@global_options
def cli() -> None:
    """Declarative voice clones for the Smallest AI Waves API."""


def _register_commands() -> None:
    """Import every command now (tests, schema generation, the help-table check)."""
    for module_name in COMMAND_MODULES:
        _load(module_name)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn errors into exit codes."""
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args or os.environ.get("VOICECTL_DEBUG", "").lower() in ("1", "true")
    _without_httpx_cli()
    previous = _on_sigterm()
    stdout = sys.stdout
    if stdout is not None:
        sys.stdout = _MarkedStdout(stdout)
    try:
        _run(args, debug)
    finally:
        sys.stdout = stdout
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _without_httpx_cli() -> None:
    """Keep httpx from importing its own command line, which voicectl never runs.

    ``import httpx`` tries ``httpx._main`` (it imports click, pygments and rich) and
    falls back to a stub on ImportError; in an environment that has pygments and rich,
    that try alone cost ~12 ms and ~50 ms more on the 2-core machine, paid by every
    command that talks to the API. Marked absent before httpx is first imported, the
    try fails at once. Done in the entry point only, and only when httpx is not
    loaded yet: voicectl used as a library leaves ``sys.modules`` alone.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _interrupted() -> NoReturn:
    """Ctrl-C outside apply's own handling (validating, listing, planning): exit 130.

    click turns a KeyboardInterrupt raised inside a command into ``Abort`` (exit 1,
    "Aborted."); a Ctrl-C is 130 wherever it lands, as the README says.
    """
    click.echo("Interrupted (Ctrl-C); nothing more was started.", err=True)
    sys.exit(130)


def _on_sigterm():
    """SIGTERM (a CI runner cancelling) stops with a word and exit 143, not silently;
    Ctrl-C is a KeyboardInterrupt even when the parent started us with SIGINT ignored
    (as shells do for background jobs)."""
    from reconciler.cli.interrupts import raise_terminated

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread
        return None
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return previous


# Commands a CI step reads as JSON and in its job summary: a usage error (a bad flag)
# is their failure too, so it gets their document and report like any other.
_REPORTED = ("plan", "apply", "migrate")


def _usage_report(args: list[str], exc: click.UsageError) -> None:
    """The failure document of plan/apply/migrate for a command line click refused:
    the format is read from the words as given (their parse is what failed)."""
    command = next((a for a in args if a in COMMAND_TABLE), None)  # the first command word
    if command not in _REPORTED:
        return
    fmt = "text"
    for i, word in enumerate(args):
        if word == "--json":
            fmt = "json"
        elif word == "--format" and i + 1 < len(args):
            fmt = args[i + 1]
        elif word.startswith("--format="):
            fmt = word.split("=", 1)[1]
    from reconciler.cli.failures import FailureReport

    label = "plan --all-envs" if command == "plan" and "--all-envs" in args else command
    FailureReport(label, "json" if fmt == "json" else "text").report([exc.format_message()])


def _run(args: list[str], debug: bool) -> None:
    from reconciler.cli.interrupts import Terminated

    if sys.stdout is None:  # fd 1 closed (`>&-`): every line would go nowhere
        click.echo(f"Error: {stdout_error(None)}", err=True)
        sys.exit(1)  # before anything is done
    try:
        code = cli.main(args=args, prog_name="voicectl", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click's own, for a Ctrl-C
            _interrupted()
        click.echo("Aborted.", err=True)  # end of input at a prompt
        sys.exit(1)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError):
            _usage_report(args, exc)
        exc.show()
        sys.exit(1 if exc.exit_code == 2 else exc.exit_code)
    except UserError as exc:
        if debug:
            traceback.print_exc()
        for line in exc.message.splitlines() or [""]:
            click.echo(f"Error: {line}", err=True)
        sys.exit(exc.exit_code)
    except WavesError as exc:  # the service refused or failed: one line, no traceback
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except Terminated:
        click.echo("Terminated (SIGTERM); nothing more was started.", err=True)
        sys.exit(143)
    except BrokenPipeError:  # `voicectl output | head`
        sys.exit(0)
    except OSError as exc:
        if not getattr(exc, "voicectl_stdout", False):
            _internal(exc, debug)
        _drop_stdout()
        click.echo(f"Error: {stdout_error(exc)}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: still one line unless --debug
        _internal(exc, debug)
    sys.exit(code if isinstance(code, int) else 0)


def _internal(exc: BaseException, debug: bool) -> NoReturn:
    """A bug: still one line unless --debug."""
    if debug:
        traceback.print_exc()
    else:
        click.echo(f"Error: {internal_error(exc)}", err=True)
    sys.exit(1)


class _MarkedStdout:
    """stdout, whose write errors are marked as such (``voicectl_stdout``): a full
    disk behind ``> file`` is "cannot write the output", not an internal error."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            exc.voicectl_stdout = True  # type: ignore[attr-defined]
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            exc.voicectl_stdout = True  # type: ignore[attr-defined]
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _drop_stdout() -> None:
    """What could not be written to stdout is dropped, so that exiting does not fail
    on it once more (fd 1 goes to /dev/null)."""
    try:
        fd = sys.stdout.fileno()  # a stream without a descriptor (a test's) is left be
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
