"""`voicectl sandbox serve`: run the Waves API emulator as a real HTTP server.

Numeric flags are taken as text and validated by ``SandboxConfig``, so a bad
value is one line (``Error: --fault-rate: ...``) and exit status 1, like every
other user error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from reconciler.cli.common import global_options
from reconciler.errors import UserError

ENV = "VOICECTL_SANDBOX_"
_NONE_WORDS = {"none", "off", "no", "null", ""}


def _option(name: str, help_text: str, metavar: str = "N", **kwargs: Any):
    envvar = ENV + name.lstrip("-").replace("-", "_").upper()
    return click.option(
        name,
        envvar=envvar,
        default=None,
        metavar=metavar,
        show_envvar=True,
        help=help_text,
        **kwargs,
    )


@click.group("sandbox")
def sandbox() -> None:
    """The Waves API emulator, for tests and dry runs (no real clones are made)."""


@sandbox.command("serve")
@global_options
@_option("--host", "Address to listen on (default 127.0.0.1).", metavar="HOST")
@_option("--port", "Port (default 8765; 0 picks a free one).", metavar="PORT")
@_option(
    "--state",
    "Keep clones in this JSON file across restarts (default: memory only).",
    metavar="FILE",
)
@_option(
    "--profile",
    "The API world: seed (the seed page's API, the default) or current (the newest "
    "published one: old delete 410, new delete 401 for keys, legacy routes 410, Pro "
    "models, TTS needs Accept: audio/wav).",
    metavar="seed|current",
)
@_option(
    "--delete-route",
    "Which delete route works for a key: lightning-large, voice-cloning or none "
    "(default: the profile's).",
    metavar="ROUTE",
)
@_option(
    "--legacy-routes",
    "The /waves/v1/lightning-large/* routes: live or gone (410) (default: the profile's).",
    metavar="live|gone",
)
@_option(
    "--pro-model",
    "Create accepts lightning-v3.1-pro: true or false (default: the profile's).",
    metavar="BOOL",
)
@_option(
    "--tts-accept-required",
    "TTS answers an empty body without 'Accept: audio/wav': "
    "true or false (default: the profile's).",
    metavar="BOOL",
)
@_option("--seed", "Seed of the fault RNG: same seed, same faults (default: random).")
@_option("--latency-ms", "Latency added to every /waves request.", metavar="MS")
@_option("--jitter-ms", "Uniform +/- jitter around the latency.", metavar="MS")
@_option("--concurrency-limit", "Requests in flight per organisation before 429 (0: none).")
@_option(
    "--tts-concurrency",
    "Text-to-speech requests in flight per organisation before 429 (default 1; 0: none).",
)
@_option(
    "--retry-after",
    "Send 'Retry-After: SECONDS' on 429s ('none': no header, the default).",
    metavar="SECONDS",
)
@click.option(
    "--no-retry-after",
    is_flag=True,
    default=False,
    help="Send no Retry-After header on 429s (the default).",
)
@_option("--fault-rate", "Fraction of /waves requests that fault (0-1).", metavar="F")
@_option(
    "--fault-kinds",
    "Comma-separated faults to pick from: 500,502,503,drop,truncate.",
    metavar="LIST",
)
@_option(
    "--ghost-rate",
    "Fraction of creates answered 500 voice_clone_timeout although made.",
    metavar="F",
)
@_option("--list-lag-ms", "A new clone appears in lists this much later.", metavar="MS")
@_option(
    "--list-page-size",
    "Answer clone lists a page of at most N at a time (hasMore, total); 0: whole lists.",
)
@_option("--processing-seconds", "A new clone is 'processing' this long.", metavar="S")
@_option("--failure-rate", "Fraction of new clones that end 'failed' (0-1).", metavar="F")
@_option(
    "--empty-sample-rate",
    "Fraction of clones whose sample clips are near-empty WAVs (0-1).",
    metavar="F",
)
@_option("--clone-limit", "Clones an organisation may hold (default 100).")
@_option(
    "--api-key",
    "Accept only this key (repeatable; env: space-separated). "
    "Default: any key, each its own organisation.",
    metavar="KEY",
    multiple=True,
)
@click.option(
    "--access-log",
    envvar=ENV + "ACCESS_LOG",
    is_flag=True,
    default=False,
    show_envvar=True,
    help="Log every request to stderr (method, path, status; never the key).",
)
def serve_command(
    host: str | None,
    port: str | None,
    state: str | None,
    no_retry_after: bool,
    api_key: tuple[str, ...],
    access_log: bool,
    **knobs: str | None,
) -> None:
    """Serve the emulator until Ctrl-C or SIGTERM.

    Prints one line, 'Waves sandbox listening on http://HOST:PORT', once it
    accepts connections. Hooks for tests live under /_sandbox/ (state, reset,
    config, stats).
    """
    from reconciler.sandbox.config import SandboxConfig, describe_validation_error
    from reconciler.sandbox.server import SandboxStartError
    from reconciler.sandbox.server import serve as run_server
    from reconciler.sandbox.state import StateFileError

    settings: dict[str, Any] = {k: v for k, v in knobs.items() if v is not None}
    retry_after = settings.pop("retry_after", None)
    given = retry_after is not None and retry_after.strip().lower() not in _NONE_WORDS
    if no_retry_after and given:
        raise UserError("--retry-after and --no-retry-after cannot be used together")
    if retry_after is not None:
        settings["retry_after"] = (
            None if retry_after.strip().lower() in _NONE_WORDS else retry_after
        )
    if api_key:
        settings["api_keys"] = list(api_key)
    try:
        config = SandboxConfig.model_validate(settings)
    except ValidationError as exc:
        raise UserError(describe_validation_error(exc, flag_style=True)) from None

    port_number = _port(port)
    state_file = Path(state) if state else None

    def ready(url: str) -> None:
        from reconciler.render.setup import listening

        click.echo(listening(url))

    try:
        run_server(
            config,
            host=host or "127.0.0.1",
            port=port_number,
            state_file=state_file,
            access_log=access_log,
            on_ready=ready,
        )
    except SandboxStartError as exc:
        raise UserError(str(exc)) from None
    except StateFileError as exc:  # unreadable, or could never be written: before serving
        raise UserError(f"--state {exc}") from None


def _port(value: str | None) -> int:
    if value is None:
        return 8765
    try:
        number = int(value)
    except ValueError:
        raise UserError(f"--port: not a port number (got {value!r})") from None
    if not 0 <= number <= 65535:
        raise UserError(f"--port: must be between 0 and 65535 (got {number})")
    return number


COMMANDS = [sandbox]
