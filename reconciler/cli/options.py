"""Options shared by several commands (plan, apply, migrate, import, refresh...), and
the one place their parsed values become ``PlanOptions`` and ``ApplyOptions``
(:func:`plan_options_of`, :func:`apply_options_of`), so plan, apply and migrate
cannot each read them differently."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.common import apply_decorators

if TYPE_CHECKING:
    from reconciler.apply import ApplyOptions
    from reconciler.plan import PlanOptions
from reconciler.cli.complete import voice_names

lockfile_option = click.option(
    "--lockfile",
    envvar="VOICECTL_LOCKFILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Lockfile path (default: voices.lock.json beside the manifest).",
)
lock_timeout_option = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
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
        type=click.FloatRange(min=0),
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


def plan_options(func):
    return apply_decorators(func, PLAN_OPTIONS)


IDENTITY_OPTIONS = [
    click.option(
        "--new-organisation",
        "new_organisation",
        is_flag=True,
        help="Move the project to the key's organisation on purpose: its voices are cloned "
        "there and the lockfile records it (without it, a key of another organisation stops "
        "plan and apply).",
    ),
    click.option(
        "--destroy-first",
        "destroy_first",
        multiple=True,
        metavar="NAME",
        help="At the clone limit: replace NAME by deleting its old clone BEFORE the create "
        "(NAME has no voiceId in between; a failed create loses it until the next apply).",
    ),
]


def identity_options(func):
    return apply_decorators(func, IDENTITY_OPTIONS)


def replace_option(func):
    return click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="NAME",
        shell_complete=voice_names,
        help="Force a re-clone of this voice (repeatable).",
    )(func)


APPLY_OPTIONS = [
    click.option(
        "--auto-approve",
        is_flag=True,
        envvar="VOICECTL_AUTO_APPROVE",
        help="Apply without asking for confirmation.",
    ),
    click.option(
        "--wait-timeout",
        type=click.FloatRange(min=0),
        default=600.0,
        show_default=True,
        envvar="VOICECTL_WAIT_TIMEOUT",
        help="Seconds to wait for a new clone to become completed.",
    ),
    lock_timeout_option,
]


def apply_options(func):
    return apply_decorators(func, APPLY_OPTIONS)


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


def plan_options_of(params: Mapping[str, Any], **fixed: Any) -> PlanOptions:
    """The plan options the shared flags ask for (``ctx.params``); ``fixed`` sets what a
    command decides itself (``legacy_only`` for migrate, ``finish_retired`` for --finish)."""
    from reconciler.plan import PlanOptions

    values: dict[str, Any] = {
        "targets": frozenset(params.get("targets") or ()),
        "replace": frozenset(params.get("replace") or ()),
        "allow_mass_delete": bool(params.get("allow_mass_delete")),
        "new_organisation": bool(params.get("new_organisation")),
        "destroy_first": frozenset(params.get("destroy_first") or ()),
    }
    if params.get("list_grace") is not None:
        values["list_grace"] = params["list_grace"]
    return PlanOptions(**{**values, **fixed})


def apply_options_of(params: Mapping[str, Any], plan: PlanOptions, **fixed: Any) -> ApplyOptions:
    """The apply options of the shared flags, for ``plan`` (its --replace and
    --destroy-first carry over)."""
    from reconciler.apply import ApplyOptions

    values: dict[str, Any] = {"destroy_first": plan.destroy_first, "forced": plan.replace}
    if params.get("wait_timeout") is not None:
        values["wait_timeout"] = params["wait_timeout"]
    return ApplyOptions(**{**values, **fixed})
