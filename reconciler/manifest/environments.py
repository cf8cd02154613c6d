"""``environments:``: one manifest, several organisations (staging, prod, ...).

Each environment names the variable that holds its key (never the key), and may
set its own API URL and defaults. Choosing one (``--env NAME``) gives a
manifest of only the voices meant for it (``environments: [staging]`` on a
voice limits it), with the environment's defaults over the manifest's, and a
stack of its own (``<stack>@<env>``), so the ownership tags keep two
environments apart even when they share an organisation by mistake. The spec
digest does not include the stack, so the same sample and spec make the same
digest in every environment: that is what promotion compares.
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import UserError
from reconciler.manifest.models import DefaultsDocument
from reconciler.manifest.report import _Report
from reconciler.manifest.spec import Environment
from reconciler.text import escape

STACK_SEPARATOR = "@"  # not allowed in a name, so <stack>@<env> never clashes with a stack


class UnknownEnvironment(UserError):
    """``--env NAME`` names no environment of the manifest (or it declares none)."""


def environment_stack(stack: str, environment: str | None) -> str:
    """The stack one environment's clones carry."""
    return stack if environment is None else f"{stack}{STACK_SEPARATOR}{environment}"


def declared(raw: Any, report: _Report) -> dict[str, Environment]:
    """The environments as declared (only those whose fields are well formed)."""
    if not isinstance(raw, dict):
        return {}
    result = {}
    for name, value in raw.items():
        if not isinstance(value, dict):
            continue
        key_env, url = value.get("apiKeyEnv"), value.get("apiUrl")
        if not isinstance(key_env, str) or (url is not None and not isinstance(url, str)):
            continue
        line = report.doc.pos_of(("environments", name), key=True).line if report.doc else 0
        result[name] = Environment(name=name, api_key_env=key_env, api_url=url, line=line)
    return result


def check_voice_environments(
    path: tuple[Any, ...], raw: Any, names: list[str], report: _Report, source: str
) -> None:
    """A voice's ``environments`` must name declared environments."""
    if not isinstance(raw, list):
        return
    for i, name in enumerate(raw):
        if not isinstance(name, str):
            continue
        if not names:
            report.error(
                (*path, i),
                f"environment {name!r}: {source} declares no environments "
                "(add an 'environments:' field, or remove this one)",
            )
        elif name not in names:
            report.error(
                (*path, i),
                f"environment {name!r} is not declared; the manifest declares: {', '.join(names)}",
            )


def merged_defaults(base: DefaultsDocument, own: DefaultsDocument | None) -> DefaultsDocument:
    """An environment's defaults over the manifest's, field by field; tags are added
    after the manifest's (as a voice's own tags are)."""
    if own is None:
        return base
    update: dict[str, Any] = {}
    for field in own.model_fields_set:
        if field == "tags":
            update["tags"] = list(dict.fromkeys([*(base.tags or []), *(own.tags or [])]))
        else:
            update[field] = getattr(own, field)
    return base.model_copy(update=update)


def choose(environment: str | None, names: list[str], source: str) -> None:
    """Refuse an environment the manifest does not declare."""
    if environment is None:
        return
    if not names:
        raise UnknownEnvironment(
            f"environment {environment!r} (--env / VOICECTL_ENV): {source} declares no "
            "environments; run without --env"
        )
    if environment not in names:
        raise UnknownEnvironment(
            f"environment {environment!r} (--env / VOICECTL_ENV) is not declared in "
            f"{source}; it declares: {', '.join(map(escape, names))}"
        )


def required(environment: str | None, names: list[str], source: str) -> None:
    """Commands that talk to the service need an environment when some are declared."""
    if environment is None and names:
        raise UnknownEnvironment(
            f"{source} declares environments ({', '.join(map(escape, names))}): choose one with "
            "--env NAME or VOICECTL_ENV"
        )
