"""Which environment a command works on, and what that environment is made of.

A manifest that declares ``environments:`` is applied to each of them on its
own: ``--env NAME`` (or ``VOICECTL_ENV``) chooses one, and every command that
talks to the service, or reads the lockfile, needs one. An environment has

* its own lockfile, ``voices.<env>.lock.json`` beside the manifest, so two
  environments' applies never contend for one file (and each records its own
  organisation);
* its own key, read from the variable its ``apiKeyEnv`` names (never from the
  manifest); a missing variable stops the command before any request;
* its own API URL when it sets ``apiUrl`` (else ``--api-url`` /
  ``VOICECTL_API_URL``, else the real service);
* with ``--sandbox``, its own emulated organisation (the embedded emulator is
  given a key per environment).

The environments are read from the manifest here with a light parse (only its
``environments`` field), so commands that never validate the whole manifest
(``output``, ``list``) still find them; the full load reports any problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import gcpause
from reconciler.api.security import API_KEY_ENV
from reconciler.errors import UserError
from reconciler.fsutil import read_regular
from reconciler.manifest import display_path
from reconciler.manifest.controls import strip_raw
from reconciler.manifest.environments import STACK_SEPARATOR, UnknownEnvironment
from reconciler.manifest.models import NOT_AN_ENV_VAR, is_env_var_name
from reconciler.yamlpos import YamlSyntaxError, load_yaml

LOCKFILE_NAME = "voices.lock.json"
SANDBOX_KEY = "sandbox-key"
__all__ = ["STACK_SEPARATOR", "Target", "declared", "every", "lockfile_path", "select"]


@dataclass(frozen=True)
class Target:
    """One environment of a manifest (or the manifest itself, when it declares none)."""

    environment: str | None
    key_env: str  # the variable holding the key
    api_url: str | None  # the environment's own URL (None: the global one)
    # its fields read as the schema reads them (the light parse keeps only the strings)
    well_formed: bool = field(default=True, compare=False)

    @property
    def sandbox_key(self) -> str:
        """The key the embedded emulator is given: one organisation per environment."""
        return SANDBOX_KEY if self.environment is None else f"{SANDBOX_KEY}-{self.environment}"

    @property
    def label(self) -> str:
        return self.environment or "default"


PLAIN = Target(environment=None, key_env=API_KEY_ENV, api_url=None)


_FIELDS: dict[str, Any] = {
    "apiKeyEnv": str,
    "apiUrl": (str, type(None)),
    "defaults": (dict, type(None)),
}


@gcpause.paused()  # the document it builds is the one the run's load goes on to use
def declared(manifest_path: Path) -> dict[str, Target]:
    """The environments the manifest declares (none when it cannot be read: the
    command's own load of the manifest reports why)."""
    try:
        # read as the full load reads it (bytes, control characters replaced), so a
        # pasted colour code neither hides the environments nor stops this parse,
        # and the full load is given the document built here
        text, _found = strip_raw(read_regular(Path(manifest_path)).decode("utf-8-sig"))
        doc = load_yaml(text)
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return {}
    data = doc.data if doc is not None else None
    raw = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return {}
    found = {}
    for name, value in raw.items():
        ok = isinstance(value, dict) and all(
            k in _FIELDS and isinstance(v, _FIELDS[k]) for k, v in value.items()
        )
        value = value if isinstance(value, dict) else {}
        key_env = value.get("apiKeyEnv")
        url = value.get("apiUrl")
        found[str(name)] = Target(
            environment=str(name),
            key_env=key_env if isinstance(key_env, str) else "",
            api_url=url if isinstance(url, str) else None,
            well_formed=ok and isinstance(key_env, str),
        )
    return found


def _manifest_problem(manifest_path: Path) -> None:
    """Raise what the full load of the manifest finds wrong (a missing file, a list
    for environments:, a mistyped field), so that --env is not blamed for it."""
    from reconciler.manifest import load_manifest

    load_manifest(Path(manifest_path), check_files=False)


def select(manifest_path: Path, environment: str | None, *, required: bool = True) -> Target:
    """The target ``--env`` names: PLAIN for a manifest without environments; with
    environments, the named one (``required``: one must be named)."""
    envs = declared(manifest_path)
    if environment is not None and (environment not in envs or not envs[environment].well_formed):
        _manifest_problem(manifest_path)
    source = display_path(Path(manifest_path))
    if environment is None:
        if envs and required:
            raise UnknownEnvironment(
                f"{source} declares environments ({', '.join(envs)}): choose one with "
                "--env NAME or VOICECTL_ENV"
            )
        return PLAIN
    if not envs:
        raise UnknownEnvironment(
            f"environment {environment!r} (--env / VOICECTL_ENV): {source} declares no "
            "environments; run without --env"
        )
    if environment not in envs:
        raise UnknownEnvironment(
            f"environment {environment!r} (--env / VOICECTL_ENV) is not declared in "
            f"{source}; it declares: {', '.join(envs)}"
        )
    return envs[environment]


def every(manifest_path: Path) -> list[Target]:
    """Every declared environment, in the manifest's order (``plan --all-envs``)."""
    envs = declared(manifest_path)
    if not envs:
        raise UserError(f"--all-envs: {display_path(Path(manifest_path))} declares no environments")
    return list(envs.values())


def lockfile_path(
    manifest_path: Path, override: str | Path | None = None, target: Target = PLAIN
) -> Path:
    """``--lockfile`` if given, else voices.lock.json (voices.<env>.lock.json for an
    environment) beside the manifest."""
    if override:
        return Path(override)
    if target.environment is None:
        return Path(manifest_path).parent / LOCKFILE_NAME
    return Path(manifest_path).parent / f"voices.{target.environment}.lock.json"


def api_key(target: Target) -> str:
    """The target's key from its variable; a clear error naming the variable if unset
    (or the field, if its apiKeyEnv is not a variable name: that value is never shown)."""
    from reconciler.api.security import api_key_from_env

    key = api_key_from_env(name=target.key_env) if is_env_var_name(target.key_env) else None
    if key:
        return key
    if target.environment is None:
        state = "is blank" if os.environ.get(API_KEY_ENV) is not None else "is not set"
        raise UserError(
            f"{API_KEY_ENV} {state}: export your Waves API key, or add --sandbox "
            "to run against the built-in emulator"
        )
    raise UserError(missing_key_message([target]))


def missing_keys(targets: list[Target]) -> list[Target]:
    """The targets without a key: their variable is unset or blank, or their apiKeyEnv
    names no variable at all."""
    from reconciler.api.security import api_key_from_env

    return [
        t for t in targets if not (is_env_var_name(t.key_env) and api_key_from_env(name=t.key_env))
    ]


def missing_key_message(targets: list[Target]) -> str:
    """Why these targets have no key, one line per problem. An apiKeyEnv that is not a
    variable name (a key pasted there?) is never echoed: the manifest's own check
    decides (``is_env_var_name``) and its field is named instead, as validate does."""
    unnamed = [t for t in targets if t.key_env and not is_env_var_name(t.key_env)]
    lines = [f"environments.{t.environment}.apiKeyEnv: {NOT_AN_ENV_VAR}" for t in unnamed]
    unset = [t for t in targets if t not in unnamed]
    if unset:
        parts = [f"{t.key_env or '(no apiKeyEnv)'} (environment {t.environment!r})" for t in unset]
        lines.append(
            f"{', '.join(parts)} {'is' if len(parts) == 1 else 'are'} not set: export "
            "the environment's Waves API key in the variable its apiKeyEnv names, or add "
            "--sandbox; nothing was sent"
        )
    return "\n".join(lines)


def api_url(target: Target, global_url: str | None) -> str | None:
    """The environment's own URL, else ``--api-url`` / VOICECTL_API_URL (None: the
    real service)."""
    return target.api_url or global_url or os.environ.get("VOICECTL_API_URL") or None
