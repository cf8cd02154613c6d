"""Options shared by several commands (plan, apply, migrate, import, refresh...).

The plan/apply options are declared once, in :func:`run_options`, which hands
their values to a command as one :class:`RunFlags`; the one place those values
become ``PlanOptions``, ``ApplyOptions`` and an apply request is here too
(:func:`plan_options_of`, :func:`apply_options_of`, :func:`apply_request`), so
plan, apply and migrate cannot each read them differently."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.common import apply_decorators

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.apply import ApplyOptions
    from reconciler.cli.common import GlobalSettings
    from reconciler.engine.applying import ApplyRequest
    from reconciler.engine.environments import Target
    from reconciler.plan import PlanOptions
from reconciler.cli.complete import voice_names
from reconciler.errors import UserError


class _Seconds(click.FloatRange):
    """Seconds: 0 or more, and a real number (click's FloatRange lets nan and inf by:
    a wait of nan seconds would fail deep inside the run, not at the prompt)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds.", param, ctx)
        return seconds


SECONDS = _Seconds(min=0)

lockfile_option = click.option(
    "--lockfile",
    envvar="VOICECTL_LOCKFILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Lockfile path (default: voices.lock.json beside the manifest).",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    type=SECONDS,
    default=0.0,
    show_default=True,
    envvar="VOICECTL_LOCK_TIMEOUT",
    help="Seconds to wait for another run's lock on the lockfile (0: fail at once).",
)
download_samples_option = click.option(
    "--download-samples",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Save each new clone's pre-generated samples as DIR/NAME-N.wav.",
)

PLAN_OPTIONS = [
    lockfile_option,
    click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="NAME",
        shell_complete=voice_names,
        help="Limit the plan to this voice (repeatable).",
    ),
    click.option(
        "--allow-mass-delete",
        is_flag=True,
        envvar="VOICECTL_ALLOW_MASS_DELETE",
        help="Allow deleting or replacing more than 30% of 10 or more existing clones "
        "(thresholds: the manifest's safety:).",
    ),
    click.option(
        "--allow-outside-files",
        is_flag=True,
        help="Allow sample files outside the manifest's folder.",
    ),
    click.option(
        "--allow-any-duration",
        is_flag=True,
        help="Only warn about samples shorter than 5 s or longer than 15 s.",
    ),
    click.option(
        "--list-grace",
        type=SECONDS,
        default=30.0,
        show_default=True,
        envvar="VOICECTL_LIST_GRACE",
        help="Seconds a just-made clone may be missing from the list before it counts as "
        "gone (the list can lag behind creates).",
    ),
    click.option(
        "--parallelism",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        envvar="VOICECTL_PARALLELISM",
        help="Most requests in flight; the tool adapts below it to the server's limit.",
    ),
]

REPLACE_OPTIONS = [
    click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="NAME",
        shell_complete=voice_names,
        help="Force a re-clone of this voice (repeatable).",
    )
]

IDENTITY_OPTIONS = [
    click.option(
        "--new-organisation",
        "new_organisation",
        is_flag=True,
        help="Move the project to the key's organisation on purpose: its voices are cloned "
        "there and the lockfile records it (without it, a key of another organisation stops "
        "plan and apply).",
    ),
]

DESTROY_FIRST_OPTIONS = [
    click.option(
        "--destroy-first",
        "destroy_first",
        multiple=True,
        metavar="NAME",
        help="At the clone limit: replace NAME by deleting its old clone BEFORE the create "
        "(NAME has no voiceId in between; a failed create loses it until the next apply).",
    ),
]

APPLY_OPTIONS = [
    click.option(
        "--auto-approve",
        is_flag=True,
        envvar="VOICECTL_AUTO_APPROVE",
        help="Apply without asking for confirmation.",
    ),
    click.option(
        "--wait-timeout",
        type=SECONDS,
        default=600.0,
        show_default=True,
        envvar="VOICECTL_WAIT_TIMEOUT",
        help="Seconds to wait for a new clone to become completed.",
    ),
    lock_timeout_option,
]


@dataclass(frozen=True)
class RunFlags:
    """The shared plan/apply flags of one command line, as parsed (:func:`run_options`).

    A flag the command does not take keeps its default here; ``None`` for
    ``list_grace``/``wait_timeout`` leaves ``PlanOptions``/``ApplyOptions``' own.
    """

    lockfile: str | None = None
    targets: tuple[str, ...] = ()
    allow_mass_delete: bool = False
    allow_outside_files: bool = False
    allow_any_duration: bool = False
    list_grace: float | None = None
    parallelism: int = 8
    replace: tuple[str, ...] = ()
    new_organisation: bool = False
    destroy_first: tuple[str, ...] = ()
    auto_approve: bool = False
    wait_timeout: float | None = None
    lock_timeout: float = 0.0
    download_samples: str | None = None


FLAG_NAMES = tuple(f.name for f in fields(RunFlags))


def run_options(
    *,
    replace: bool = False,
    identity: bool = False,
    destroy_first: bool = False,
    apply: bool = False,
    download: bool = False,
):
    """The shared plan/apply options, declared once: adds them to a command and hands
    their values to it as one ``flags: RunFlags`` argument, so the command's own
    signature lists only its own options. ``replace`` adds --replace, ``identity``
    --new-organisation/--destroy-first, ``destroy_first`` --destroy-first alone (migrate),
    ``apply`` --auto-approve/--wait-timeout/
    --lock-timeout, ``download`` --download-samples (the plan options always)."""
    groups = [
        *PLAN_OPTIONS,
        *(REPLACE_OPTIONS if replace else []),
        *(IDENTITY_OPTIONS if identity else []),
        *(DESTROY_FIRST_OPTIONS if identity or destroy_first else []),
        *(APPLY_OPTIONS if apply else []),
        *([download_samples_option] if download else []),
    ]

    def decorate(func):
        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            flags = RunFlags(**{name: kwargs.pop(name) for name in FLAG_NAMES if name in kwargs})
            return func(*args, flags=flags, **kwargs)

        return apply_decorators(command, groups)

    return decorate


def text_or_json_options(func):
    """``--format text|json`` and its shorthand ``--json`` (parameters ``fmt``, ``as_json``)."""
    return apply_decorators(
        func,
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
                help="Output format.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
        ],
    )


def output_format(ctx: click.Context, fmt: str, as_json: bool) -> str:
    """The format of :func:`text_or_json_options`: ``--json`` is ``--format json``, and
    ``--json --format text`` together are refused (one of them silently lost)."""
    from click.core import ParameterSource

    if as_json and fmt != "json" and ctx.get_parameter_source("fmt") is ParameterSource.COMMANDLINE:
        raise UserError(f"--json and --format {fmt} contradict each other; pick one")
    return "json" if as_json else fmt


def format_option(*choices: str, default: str = "text"):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        envvar="VOICECTL_FORMAT",
        help="Output format.",
    )


def plan_options_of(flags: RunFlags, **fixed: Any) -> PlanOptions:
    """The plan options the shared flags ask for; ``fixed`` sets what a command decides
    itself (``legacy_only`` for migrate, ``finish_retired`` for --finish)."""
    from reconciler.plan import PlanOptions

    values: dict[str, Any] = {
        "targets": frozenset(flags.targets),
        "replace": frozenset(flags.replace),
        "allow_mass_delete": flags.allow_mass_delete,
        "new_organisation": flags.new_organisation,
        "destroy_first": frozenset(flags.destroy_first),
    }
    if flags.list_grace is not None:
        values["list_grace"] = flags.list_grace
    return PlanOptions(**{**values, **fixed})


def apply_options_of(flags: RunFlags, plan: PlanOptions, **fixed: Any) -> ApplyOptions:
    """The apply options of the shared flags, for ``plan`` (its --replace and
    --destroy-first carry over)."""
    from reconciler.apply import ApplyOptions

    values: dict[str, Any] = {
        "destroy_first": plan.destroy_first,
        "forced": plan.replace,
        "list_grace": plan.list_grace,
    }
    if flags.wait_timeout is not None:
        values["wait_timeout"] = flags.wait_timeout
    return ApplyOptions(**{**values, **fixed})


def apply_request(
    flags: RunFlags,
    settings: GlobalSettings,
    path: Path,
    target: Target,
    plan: PlanOptions,
    apply: ApplyOptions,
    **more: Any,
) -> ApplyRequest:
    """The apply engine's request for these flags (``more``: what the command adds,
    e.g. a saved plan or a refusal hint)."""
    from pathlib import Path

    from reconciler.cli.ui import connection_for, echo_notice, logger_for
    from reconciler.engine.applying import ApplyRequest

    return ApplyRequest(
        path=path,
        conn=connection_for(settings, path, target),
        lockfile=flags.lockfile,
        plan_options=plan,
        apply_options=apply,
        parallelism=flags.parallelism,
        auto_approve=flags.auto_approve,
        allow_outside_files=flags.allow_outside_files,
        allow_any_duration=flags.allow_any_duration,
        lock_timeout=flags.lock_timeout,
        download_samples=Path(flags.download_samples) if flags.download_samples else None,
        logger=logger_for(settings),
        on_wait=echo_notice,
        **more,
    )
