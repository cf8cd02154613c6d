"""The steps commands share: find the files, open the client, list, plan.

Kept apart from the click layer so that commands stay thin and the engine can be
driven from tests and other programs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import gcpause
from reconciler.api.models import Clone
from reconciler.engine import environments
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile
from reconciler.plan import Plan, PlanOptions, make_plan

if TYPE_CHECKING:
    from reconciler.manifest import LoadResult, Manifest

DEFAULT_MANIFEST = "voices.yaml"
LOCKFILE_NAME = environments.LOCKFILE_NAME
SANDBOX_STATE = Path(".voicectl") / "sandbox.json"
SANDBOX_KEY = environments.SANDBOX_KEY
SANDBOX_URL = "http://127.0.0.1"
Target = environments.Target


def lockfile_path(
    manifest_path: Path,
    override: str | Path | None = None,
    target: Target = environments.PLAIN,
) -> Path:
    """The lockfile: ``--lockfile`` if given, else voices.lock.json beside the manifest
    (voices.<env>.lock.json for an environment)."""
    return environments.lockfile_path(manifest_path, override, target)


def own_files(
    manifest_path: Path, override: str | Path | None = None, target: Target = environments.PLAIN
) -> dict[str, Path]:
    """The files a run keeps its state in, by description (whether they exist yet or
    not): an output file (``--out``, ``--map-out``) may never be one of them."""
    from reconciler.lockfile.journal import journal_path_for
    from reconciler.lockfile.runlock import lock_path_for

    lock = lockfile_path(manifest_path, override, target)
    files = {
        "the manifest": manifest_path,
        "the lockfile": lock,
        "the lockfile's journal": journal_path_for(lock),
        "the run lock": lock_path_for(lock),
    }
    for other in environments.declared(manifest_path).values():  # every environment's too
        theirs = lockfile_path(manifest_path, None, other)
        if theirs != lock:
            name = f"environment {other.environment!r}'s"
            files[f"{name} lockfile"] = theirs
            files[f"{name} lockfile journal"] = journal_path_for(theirs)
            files[f"{name} run lock"] = lock_path_for(theirs)
    return files


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the Waves API for one command (and one environment)."""

    sandbox: bool
    api_url: str | None
    state_file: Path | None = None
    target: Target = environments.PLAIN
    delete_via: str = "auto"  # --delete-via / VOICECTL_DELETE_VIA

    @property
    def url(self) -> str | None:
        """The API URL this connection uses (None: the real service)."""
        return None if self.sandbox else environments.api_url(self.target, self.api_url)


def connection(
    *,
    sandbox: bool,
    api_url: str | None,
    base_dir: Path,
    target: Target = environments.PLAIN,
    delete_via: str | None = None,
) -> Connection:
    from reconciler.api.routes import DELETE_VIA_ENV, check_via

    try:
        via = check_via(delete_via or os.environ.get(DELETE_VIA_ENV))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return Connection(
        sandbox=sandbox,
        api_url=api_url,
        state_file=(base_dir / SANDBOX_STATE) if sandbox else None,
        target=target,
        delete_via=via,
    )


DEADLINE_ENV = "VOICECTL_REQUEST_DEADLINE"
DEFAULT_DEADLINE = 120.0


def request_deadline(environ=None) -> float:
    """Seconds one request may take in all, retries and a slow answer included.

    ``VOICECTL_REQUEST_DEADLINE`` (default 120): a server that stalls or trickles
    its answer fails the request after this long instead of hanging the run.
    """
    raw = (os.environ if environ is None else environ).get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise UserError(f"{DEADLINE_ENV}={raw!r}: expected a number of seconds above 0")
    return value


def prepare_tls(conn: Connection) -> None:
    """Start making the TLS context the client of ``conn`` will use, on a helper
    thread (reconciler.api.tls), so that it is ready when the manifest is read."""
    if conn.sandbox:
        return  # the embedded emulator is called in-process
    import httpx

    from reconciler.api import tls
    from reconciler.api.client import DEFAULT_API_URL
    from reconciler.api.security import is_loopback_host

    try:
        host = httpx.URL(conn.url or DEFAULT_API_URL).host
    except httpx.InvalidURL:
        return  # the client refuses it, with the reason
    tls.prepare(trust_env=not is_loopback_host(host))


def open_client(conn: Connection, *, parallelism: int = 8, logger=None):
    """A WavesClient for ``conn``: the embedded emulator, or the service with the key.

    Without ``--sandbox`` the key comes from SMALLEST_API_KEY (an environment's:
    the variable its apiKeyEnv names); its absence is a clear error, not a 401
    later. With ``--sandbox`` each environment is its own emulated organisation.
    """
    from reconciler.api.client import DEFAULT_API_URL, WavesClient

    if parallelism < 1:
        raise UserError(f"--parallelism must be at least 1, not {parallelism}")
    deadline = request_deadline()
    if conn.sandbox:
        from reconciler.sandbox.embedded import embedded_transport

        assert conn.state_file is not None
        return WavesClient(
            base_url=SANDBOX_URL,
            api_key=conn.target.sandbox_key,
            parallelism=parallelism,
            transport=embedded_transport(conn.state_file, embedded_config()),
            logger=logger,
            deadline=deadline,
            delete_via=conn.delete_via,
        )
    key = environments.api_key(conn.target)
    url = conn.url or DEFAULT_API_URL
    return WavesClient(
        base_url=url,
        api_key=key,
        parallelism=parallelism,
        logger=logger,
        delete_via=conn.delete_via,
        deadline=deadline,
        key_env=conn.target.key_env or environments.API_KEY_ENV,
    )


# The API-world knobs ``--sandbox`` reads from the environment (as ``sandbox serve`` does).
EMBEDDED_KNOBS = (
    "profile",
    "delete_route",
    "legacy_routes",
    "pro_model",
    "tts_accept_required",
    "empty_sample_rate",
)


def embedded_config():
    """The embedded sandbox's config: its API world from ``VOICECTL_SANDBOX_PROFILE``
    and the single-behaviour variables (``VOICECTL_SANDBOX_DELETE_ROUTE`` ...)."""
    from pydantic import ValidationError

    from reconciler.sandbox.config import SandboxConfig, describe_validation_error

    settings = {}
    for knob in EMBEDDED_KNOBS:
        value = os.environ.get("VOICECTL_SANDBOX_" + knob.upper(), "").strip()
        if value:
            settings[knob] = value
    try:
        return SandboxConfig.model_validate(settings)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        knob = problem.split(":", 1)[0]
        raise UserError(f"VOICECTL_SANDBOX_{knob.upper()}: {problem.split(': ', 1)[1]}") from None


def refuse_other_organisation(lock: Lockfile, remote: Sequence[Clone], target: Any) -> None:
    """A key that lists another organisation's clones than the lockfile records stops a
    command that writes from the list (refresh, import) before it writes anything."""
    from reconciler import identity

    recorded = lock.doc.organization_id
    listed = identity.organisations_of(remote)
    if recorded and listed and recorded not in listed:
        hint = identity.key_hint_for(target.environment, target.key_env)
        raise UserError(
            f"{lock.path} records organisation {recorded}, but this key lists the clones "
            f"of organisation {', '.join(listed)}: {hint} Nothing was changed"
        )


async def list_for_plan(client: Any, lock: Lockfile) -> list[Clone]:
    """The clone list a plan is made from. When a clone the lockfile records (or a
    pending one) is missing from it, the list is asked once more before anything is
    concluded (a list can lag or drop an entry for a moment): a recorded clone counts
    as missing only when two lists in a row lack it. The second answer is used, plus
    any clone only the first showed (never forget on a single missing entry)."""
    with gcpause.paused():  # the clones live to the end of the run
        remote = list(await client.list_clones())
        recorded = {e.voice_id for e in lock.doc.voices.values()} | set(lock.doc.pending)
        if recorded <= {c.voice_id for c in remote}:
            return remote
        again = list(await client.list_clones())
        seen = {c.voice_id for c in again}
        return again + [c for c in remote if c.voice_id not in seen]


@gcpause.paused()
def plan_for(
    manifest,
    lock: Lockfile,
    remote: Sequence[Clone],
    options: PlanOptions,
) -> Plan:
    """Plan, after checking that every ``--target``/``--replace`` names a voice."""
    where = manifest.path.name
    held = set(getattr(manifest, "held", ()))
    moved = {old: new for old, new in getattr(manifest, "moved", ()) if old not in manifest.voices}
    known = set(manifest.voices) | held | set(lock.doc.voices)
    for flag, names in (("--target", options.targets), ("--replace", options.replace)):
        for name in sorted(names):
            if name in moved:
                raise UserError(
                    f"{flag} {name}: {where} renames it to {moved[name]} (moved:); "
                    f"use {flag} {moved[name]}"
                )
            others = getattr(manifest, "elsewhere", {}).get(name)
            if others is not None and name not in known:
                plural = "s" if len(others) != 1 else ""
                raise UserError(
                    f"{flag} {name}: declared only for environment{plural} "
                    f"{', '.join(others)}, not {manifest.environment!r}"
                )
            if name not in known:
                raise UserError(f"{flag} {name}: no voice of that name in {where} or the lockfile")
    for flag, names in (("--replace", options.replace), ("--destroy-first", options.destroy_first)):
        for name in sorted(names):
            if name in held:
                raise UserError(
                    f"{flag} {name}: voices.{name}'s file is still the FILL-ME-IN placeholder; "
                    "set file: to its sample first"
                )
            if name not in manifest.voices:
                raise UserError(f"{flag} {name}: the voice is not declared in {where}")
            if options.targets and name not in options.targets:
                raise UserError(
                    f"{flag} {name}: not one of the --target voices "
                    f"({', '.join(sorted(options.targets))}); add --target {name}, or leave "
                    f"{flag} out"
                )
    if options.now is None:
        options = dataclasses.replace(options, now=time.time())
    return make_plan(manifest, lock.doc, remote, options)


@dataclass
class Loaded:
    """A validated manifest, its warnings, and its lockfile."""

    manifest: Manifest
    warnings: list[str]
    lock: Lockfile
    measuring: LoadResult | None = None  # its samples' quality still to settle

    def settle(self) -> None:
        """Wait for the samples' deferred quality checks (``load(defer_quality=True)``):
        raise the manifest's problems, or put its warnings before the lockfile's."""
        result = self.measuring  # kept until settled: stop_measuring() may come meanwhile
        if result is not None:
            result.settle()
            self.measuring = None
            self.warnings[:0] = result.warnings

    def stop_measuring(self) -> None:
        """The run is being interrupted: no further sample is measured (so that exiting
        does not wait for a thousand of them)."""
        if self.measuring is not None:
            self.measuring.stop_measuring()


@gcpause.paused()
def load(
    manifest_path: Path,
    *,
    lockfile: str | Path | None = None,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
    target: Target = environments.PLAIN,
    defer_quality: bool = False,
) -> Loaded:
    """Validate the manifest (before any API call) and read the lockfile (of the
    target environment: its voices, defaults, stack and lockfile).

    With ``defer_quality`` the samples may still be being measured when it returns
    (every other check has passed): ``list_while_measuring`` sends the list
    meanwhile and settles them, and ``manifest_first`` keeps their problems ahead
    of any other failure, so a run reports what it reported before.
    """
    from reconciler.manifest import load_manifest

    result = load_manifest(
        manifest_path,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        environment=target.environment,
        hold_placeholders=True,
        defer_quality=defer_quality,
    )
    path = lockfile_path(manifest_path, lockfile, target)
    measuring = result if result.finish is not None else None  # deferred, and under way
    warnings = [] if measuring is not None else result.warnings
    lock = read_lockfile(path, result.manifest, warnings)
    return Loaded(bind_stack(result.manifest, lock), warnings, lock, measuring)


async def list_while_measuring(
    client: Any, loaded: Loaded, warn: Callable[[Sequence[str]], None]
) -> list[Clone]:
    """``list_for_plan``, sent while the samples of ``loaded`` are still being measured
    (on their thread: the list is mostly a wait on the service). The manifest's
    problems, if the measuring finds any, are raised instead of whatever the list
    did; ``warn`` gets every warning once the checks are done. A ``loaded`` with
    nothing deferred just lists (its warnings went out when it was loaded)."""
    if loaded.measuring is None:
        return await list_for_plan(client, loaded.lock)
    listing = asyncio.ensure_future(list_for_plan(client, loaded.lock))
    try:
        await asyncio.to_thread(loaded.settle)
    except BaseException:
        loaded.stop_measuring()  # if interrupted: no further sample (else a no-op)
        listing.cancel()
        await asyncio.gather(listing, return_exceptions=True)  # its outcome is not the news
        raise
    warn(loaded.warnings)
    return await listing


@contextlib.contextmanager
def manifest_first(loaded: Loaded) -> Iterator[None]:
    """While the samples' quality is not settled, a failure of the run (no key, a held
    lock, an unreachable service) gives way to the manifest's own problems: what a
    run reports is what it reported when every check came before anything else."""
    try:
        yield
    except Exception:
        if loaded.measuring is not None:
            loaded.settle()  # raises the ManifestError, if the samples have problems
        raise
    except BaseException:  # Ctrl-C, SIGTERM: stop measuring, report nothing more
        loaded.stop_measuring()
        raise


def refuse_other_environment(lock: Lockfile, environment: str | None) -> Lockfile:
    """``--lockfile`` naming another environment's lockfile is refused, by every command
    that reads one for ``environment`` (its voiceIds are that environment's)."""
    theirs = lock.doc.stack.partition(environments.STACK_SEPARATOR)
    if lock.exists and environment is not None and theirs[1] and theirs[2] != environment:
        raise UserError(
            f"{lock.path}: the lockfile of environment {theirs[2]!r}, but this run is for "
            f"environment {environment!r}; nothing was changed (leave out --lockfile: each "
            "environment has its own)"
        )
    return lock


def load_recorded(lock_path: Path, target: Any) -> Lockfile:
    """The lockfile a command reads for ``target`` (output, list, check, refresh, import)."""
    return refuse_other_environment(Lockfile.load(lock_path), target.environment)


@gcpause.paused()
def read_lockfile(path: Path, manifest, warnings: list[str]) -> Lockfile:
    """Read the lockfile for the manifest's stack; a lockfile of another stack follows the
    manifest, except one of another environment of the same manifest (``--lockfile``
    mixed up), which is refused. A manifest that names no stack takes the lockfile's
    (a new lockfile makes one of its own: reconciler.identity)."""
    if not getattr(manifest, "stack_declared", True):
        return Lockfile.load(path, stack=None)
    stack = manifest.stack
    lock = Lockfile.load(path, stack=stack)
    sep = environments.STACK_SEPARATOR
    mine, theirs = stack.partition(sep), lock.doc.stack.partition(sep)
    if mine[1] and mine[0] == theirs[0]:
        refuse_other_environment(lock, mine[2])
    if lock.exists and lock.doc.stack != stack:
        warnings.append(
            f"{lock.path.name}: recorded for stack {lock.doc.stack!r}, the manifest says "
            f"{stack!r}; the lockfile will follow the manifest (clones tagged "
            f"{lock.doc.stack!r} are left alone)"
        )
    if not lock.exists and getattr(manifest, "environment", None):
        warnings.extend(_stranded(lock.path, manifest))
    lock.set_stack(stack)
    return lock


def _stranded(path: Path, manifest) -> list[str]:
    """An environment's first run beside lockfiles no declared environment owns (the
    plain one, from before ``environments:``, or one of a renamed environment): its
    clones are another stack's, so they are not reused. Said once, before any create."""
    owned = {path.name} | {
        lockfile_path(path, None, environments.Target(env, "", None)).name
        for env in getattr(manifest, "environments", None) or ()
    }
    found = [p.name for p in sorted(path.parent.glob("voices.*lock.json")) if p.name not in owned]
    return [
        f"{name} beside the manifest belongs to no environment it declares (made before "
        f"environments:, or by an environment since renamed): its clones are another "
        f"stack's, so environment {manifest.environment!r} ({path.name}, stack "
        f"{manifest.stack!r}) makes its own instead of reusing them"
        for name in found
    ]


def bind_stack(manifest, lock: Lockfile):
    """The manifest with the stack it really has (the lockfile's when it names none)."""
    if getattr(manifest, "stack_declared", True) or manifest.stack == lock.doc.stack:
        return manifest
    return dataclasses.replace(manifest, stack=lock.doc.stack)
