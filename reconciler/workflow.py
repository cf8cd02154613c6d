"""The steps commands share: find the files, open the client, list, plan.

Kept apart from the click layer so that commands stay thin and the engine can be
driven from tests and other programs.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.api.models import Clone
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile
from reconciler.plan import Plan, PlanOptions, make_plan

DEFAULT_MANIFEST = "voices.yaml"
LOCKFILE_NAME = "voices.lock.json"
SANDBOX_STATE = Path(".voicectl") / "sandbox.json"
SANDBOX_KEY = "sandbox-key"
SANDBOX_URL = "http://127.0.0.1"


def lockfile_path(manifest_path: Path, override: str | Path | None = None) -> Path:
    """The lockfile: ``--lockfile`` if given, else voices.lock.json beside the manifest."""
    if override:
        return Path(override)
    return manifest_path.parent / LOCKFILE_NAME


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the Waves API for one command."""

    sandbox: bool
    api_url: str | None
    state_file: Path | None = None


def connection(*, sandbox: bool, api_url: str | None, base_dir: Path) -> Connection:
    return Connection(
        sandbox=sandbox,
        api_url=api_url,
        state_file=(base_dir / SANDBOX_STATE) if sandbox else None,
    )


def open_client(conn: Connection, *, parallelism: int = 8, logger=None):
    """A WavesClient for ``conn``: the embedded emulator, or the service with the key.

    Without ``--sandbox`` the key comes from SMALLEST_API_KEY; its absence is a
    clear error, not a 401 later.
    """
    from reconciler.api.client import DEFAULT_API_URL, WavesClient, api_key_from_env

    if parallelism < 1:
        raise UserError(f"--parallelism must be at least 1, not {parallelism}")
    if conn.sandbox:
        from reconciler.sandbox.embedded import embedded_transport

        assert conn.state_file is not None
        return WavesClient(
            base_url=SANDBOX_URL,
            api_key=SANDBOX_KEY,
            parallelism=parallelism,
            transport=embedded_transport(conn.state_file),
            logger=logger,
        )
    key = api_key_from_env()
    if not key:
        raise UserError(
            "SMALLEST_API_KEY is not set: export your Waves API key, or add --sandbox "
            "to run against the built-in emulator"
        )
    url = conn.api_url or os.environ.get("VOICECTL_API_URL") or DEFAULT_API_URL
    return WavesClient(base_url=url, api_key=key, parallelism=parallelism, logger=logger)


def plan_for(
    manifest,
    lock: Lockfile,
    remote: Sequence[Clone],
    options: PlanOptions,
) -> Plan:
    """Plan, after checking that every ``--target``/``--replace`` names a voice."""
    known = set(manifest.voices) | set(lock.doc.voices)
    for flag, names in (("--target", options.targets), ("--replace", options.replace)):
        for name in sorted(names):
            if name not in known:
                raise UserError(
                    f"{flag} {name}: no voice of that name in {manifest.path.name} or the lockfile"
                )
    for flag, names in (("--replace", options.replace), ("--destroy-first", options.destroy_first)):
        for name in sorted(names):
            if name not in manifest.voices:
                raise UserError(
                    f"{flag} {name}: the voice is not declared in {manifest.path.name}"
                )
    if options.now is None:
        options = dataclasses.replace(options, now=time.time())
    return make_plan(manifest, lock.doc, remote, options)


@dataclass
class Loaded:
    """A validated manifest, its warnings, and its lockfile."""

    manifest: object
    warnings: list[str]
    lock: Lockfile


def load(
    manifest_path: Path,
    *,
    lockfile: str | Path | None = None,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
) -> Loaded:
    """Validate the manifest (before any API call) and read the lockfile."""
    from reconciler.manifest import load_manifest

    result = load_manifest(
        manifest_path,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        hold_placeholders=True,
    )
    path = lockfile_path(manifest_path, lockfile)
    lock = read_lockfile(path, result.manifest, result.warnings)
    return Loaded(bind_stack(result.manifest, lock), result.warnings, lock)


def read_lockfile(path: Path, manifest, warnings: list[str]) -> Lockfile:
    """Read the lockfile for the manifest's stack; a lockfile of another stack follows
    the manifest. A manifest that names no stack takes the lockfile's (a new lockfile
    makes one of its own)."""
    if not getattr(manifest, "stack_declared", True):
        return Lockfile.load(path, stack=None)
    stack = manifest.stack
    lock = Lockfile.load(path, stack=stack)
    if lock.exists and lock.doc.stack != stack:
        warnings.append(
            f"{lock.path.name}: recorded for stack {lock.doc.stack!r}, the manifest says "
            f"{stack!r}; the lockfile will follow the manifest (clones tagged "
            f"{lock.doc.stack!r} are left alone)"
        )
    lock.doc.stack = stack
    return lock


def bind_stack(manifest, lock: Lockfile):
    """The manifest with the stack it really has (the lockfile's when it names none)."""
    if getattr(manifest, "stack_declared", True) or manifest.stack == lock.doc.stack:
        return manifest
    return dataclasses.replace(manifest, stack=lock.doc.stack)


class PlanRefused(UserError):
    """The plan breaks a safety rule (protect, mass delete); nothing was changed."""

    def __init__(self, errors: Sequence[str]):
        super().__init__("\n".join(errors))
