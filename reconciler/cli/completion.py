"""`voicectl completion bash|zsh|fish`: print the shell completion script.

The script calls voicectl back with ``_VOICECTL_COMPLETE`` set (click's shell
completion), so commands, options and choices complete from the installed
version. Install it with, for example::

    voicectl completion bash > ~/.local/share/bash-completion/completions/voicectl
    voicectl completion zsh > "${fpath[1]}/_voicectl"
    voicectl completion fish > ~/.config/fish/completions/voicectl.fish
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from reconciler.cli.common import global_options

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_VOICECTL_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@global_options
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    from reconciler.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every name in SHELLS is one click knows
    script = cls(cli, {}, "voicectl", COMPLETE_VAR).source()
    click.echo(script.rstrip("\n"))


COMMANDS = [completion]
