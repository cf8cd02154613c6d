"""Identity rules: whose clones a project may touch, and which ids it may hand out.

* Stack: a manifest without ``stack`` gets one of its own, made once (from the
  lockfile's lineage) and recorded in the committed lockfile, so two projects that
  both leave it out never prune each other's clones.
* Organisation: the lockfile records the organisation its clones live in; a key of
  another organisation stops plan and apply before any change.
* Ids: what ``voicectl output`` hands to apps is a plausible voiceId, never text
  that could smuggle a second variable into ``--format env``.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

AUTO_STACK_PREFIX = "project-"
_VOICE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
KEY_HINT = "is SMALLEST_API_KEY the key of another organisation?"


def key_hint(manifest: object) -> str:
    """KEY_HINT naming the variable the key really came from: an environment's
    apiKeyEnv when the manifest is one environment's."""
    env = getattr(manifest, "environment", None)
    declared = getattr(manifest, "environments", None) or {}
    if env is None or env not in declared:
        return KEY_HINT
    return key_hint_for(env, declared[env].api_key_env)


def key_hint_for(environment: str | None, key_env: str) -> str:
    """KEY_HINT for the key read from ``key_env`` (an environment's, if named)."""
    if environment is None:
        return KEY_HINT
    return f"is {key_env} (environment {environment!r}) the key of another organisation?"


def organisations_of(clones: Iterable[Any]) -> list[str]:
    """The organisations a list of clones belongs to, sorted (none: empty)."""
    return sorted({c.organization_id for c in clones if c.organization_id})


def auto_stack(lineage: str) -> str:
    """The stack of a manifest that names none: unique per lockfile (its lineage)."""
    return AUTO_STACK_PREFIX + re.sub(r"[^a-z0-9]", "", lineage.lower())[:12]


def env_name(name: str) -> str:
    """The environment variable `voicectl output --format env` gives a voice:
    VOICE_ID_<NAME>, every character that is not a letter or digit as _."""
    return "VOICE_ID_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def plausible_voice_id(value: object) -> bool:
    """True for text that can be a voiceId: letters, digits, ``_ . -``; no control
    characters, spaces, newlines, ``=`` or path separators; at most 128 characters."""
    # fullmatch: re.match with $ would hand "voice_x\n" to apps
    return isinstance(value, str) and _VOICE_ID_RE.fullmatch(value) is not None
