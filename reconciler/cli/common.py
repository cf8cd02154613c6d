"""Options and helpers shared by every voicectl command."""

from __future__ import annotations

from dataclasses import dataclass

import click


@dataclass
class GlobalSettings:
    """Options every command accepts, wherever they appear on the line."""

    api_url: str | None = None
    sandbox: bool = False
    debug: bool = False
    no_color: bool = False
    env: str | None = None  # --env / VOICECTL_ENV: the environment of the manifest
    delete_via: str | None = None


def settings_of(ctx: click.Context) -> GlobalSettings:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalSettings):
        root.obj = GlobalSettings()
    return root.obj


def _store(attr: str):
    def callback(ctx: click.Context, _param: click.Parameter, value):
        if value is not None and value is not False:
            setattr(settings_of(ctx), attr, value)
        return value

    return callback


def global_options(func):
    """Add the global options to a group or command (last one given wins)."""
    options = [
        click.option(
            "--api-url",
            envvar="VOICECTL_API_URL",
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_store("api_url"),
            help="Waves API base URL (default: the real service).",
        ),
        click.option(
            "--sandbox",
            envvar="VOICECTL_SANDBOX",
            is_flag=True,
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_store("sandbox"),
            help="Run against an embedded emulator (state in .voicectl/sandbox.json).",
        ),
        click.option(
            "--env",
            "env",
            envvar="VOICECTL_ENV",
            default=None,
            metavar="NAME",
            expose_value=False,
            is_eager=True,
            callback=_store("env"),
            help="The environment to work on, when the manifest declares environments "
            "(its own key, lockfile voices.NAME.lock.json and organisation).",
        ),
        click.option(
            "--delete-via",
            envvar="VOICECTL_DELETE_VIA",
            type=click.Choice(["auto", "lightning-large", "voice-cloning"]),
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_store("delete_via"),
            help="Which delete route to use: auto (default: find out once per run), "
            "lightning-large (DELETE /waves/v1/lightning-large) or voice-cloning "
            "(POST /waves/v1/voice-cloning/delete).",
        ),
        click.option(
            "--debug",
            envvar="VOICECTL_DEBUG",
            is_flag=True,
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_store("debug"),
            help="Show tracebacks and HTTP activity (the key is never shown).",
        ),
        click.option(
            "--no-color",
            envvar="VOICECTL_NO_COLOR",
            is_flag=True,
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_store("no_color"),
            help="Plain output without colour (NO_COLOR is honoured too).",
        ),
    ]
    return apply_decorators(func, options)


def apply_decorators(func, decorators):
    """Apply click option decorators so they show in ``--help`` in the order listed."""
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def manifest_option(func):
    """``-f/--file``: the manifest (default ./voices.yaml, or VOICECTL_FILE)."""
    return click.option(
        "-f",
        "--file",
        "manifest_file",
        envvar="VOICECTL_FILE",
        default="voices.yaml",
        show_default=True,
        metavar="PATH",
        help="The manifest.",
    )(func)
