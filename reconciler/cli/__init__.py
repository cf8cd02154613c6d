"""The `voicectl` command line: parse, call the engine, render, exit code.

Global options (``--api-url``, ``--sandbox``, ``--debug``, ``--no-color``) are
accepted before or after the command name and from ``VOICECTL_*`` variables.
Every error a user can cause is printed as one line and exits 1; ``--debug``
adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from reconciler import __version__
from reconciler.api.errors import WavesError
from reconciler.cli.common import global_options
from reconciler.errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicectl")
@global_options
def cli() -> None:
    """Declarative voice clones for the Smallest AI Waves API."""


# Each command lives in its own module under reconciler/cli/; they are imported
# when the CLI runs so `import reconciler.cli` stays cheap.
COMMAND_MODULES = (
    "sandbox",
    "plan",
    "apply",
    "output",
    "validate",
    "refresh",
    "schema",
    "init",
    "completion",
    "listing",
    "importer",
    "migrate",
    "check",
    "samples",
    "doctor",
)


def _register_commands() -> None:
    import importlib

    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"reconciler.cli.{module_name}")
        for command in module.COMMANDS:
            if command.name not in cli.commands:
                cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn errors into exit codes."""
    _register_commands()
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args or os.environ.get("VOICECTL_DEBUG", "").lower() in ("1", "true")
    try:
        code = cli.main(args=args, prog_name="voicectl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
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
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `voicectl output | head`
        sys.exit(0)
    except Exception as exc:  # a bug: still one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"Error: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)",
                err=True,
            )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
