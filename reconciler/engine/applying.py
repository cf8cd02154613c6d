"""The apply use case: validate, lock, list, plan, confirm, apply, fetch samples.

``run_apply`` is what `voicectl apply` (and `voicectl migrate`) call. It never
prints: it tells its ``ApplyUI`` what happens (warnings, the plan, progress),
asks it to confirm, and returns an :class:`ApplyRun` that the command renders.
A refused plan raises ``refusals.PlanRefused`` (carrying the plan) and a stale
saved plan ``savedplan.StalePlan``; both before anything changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reconciler import savedplan
from reconciler.apply import Applier, ApplyOptions, ApplyResult, Reporter
from reconciler.endpoint import endpoint_for
from reconciler.engine import environments, samples, workflow
from reconciler.engine.stopping import GracefulStop
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile, RunLock
from reconciler.plan import Plan, PlanOptions
from reconciler.schemas import SavedPlanDocument


class Progress(Reporter, Protocol):
    """The applier's reporter, plus a clock tick about once a second and a close."""

    def tick(self) -> None: ...
    def close(self) -> None: ...


class ApplyUI(Protocol):
    """What an apply tells and asks its caller; the CLI renders, a test can record."""

    def warnings(self, messages: Sequence[str]) -> None: ...

    def planned(self, plan: Plan) -> None:
        """The plan, before anything is changed (also when it is refused or empty)."""

    def confirm(self, plan: Plan) -> None:
        """Ask before changing anything; raise ``UserError`` to cancel."""

    def progress(self, plan: Plan) -> Progress | None:
        """Where the operations' progress goes, or None for none."""

    def notice(self, message: str) -> None:
        """A word while the operations run (an interrupt was received)."""


@dataclass(frozen=True)
class ApplyRequest:
    """Everything one apply needs; ``saved`` set means apply exactly that saved plan."""

    path: Path
    conn: workflow.Connection
    plan_options: PlanOptions
    apply_options: ApplyOptions
    lockfile: str | None = None
    parallelism: int = 8
    auto_approve: bool = False
    allow_outside_files: bool = False
    allow_any_duration: bool = False
    lock_timeout: float = 0.0
    saved: SavedPlanDocument | None = None
    plan_file: str | None = None
    download_samples: Path | None = None
    logger: logging.Logger | None = None
    on_wait: Callable[[str], None] | None = None  # told once when the run waits for the lock
    refusal_hint: str | None = None  # the last line of a refusal (what to do about it)


@dataclass
class ApplyRun:
    """The outcome of one apply: the plan, what each operation did, the new samples."""

    plan: Plan
    result: ApplyResult
    lock: Lockfile
    new_clones: list[samples.NewClone] = field(default_factory=list)
    saved_samples: list[tuple[Path, int]] = field(default_factory=list)
    sample_errors: list[str] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped the run early, if one did
    sample_warnings: list[str] = field(default_factory=list)  # silent or near-empty clips

    @property
    def changed(self) -> bool:
        """Whether the plan had operations to run (else only lockfile fields were refreshed)."""
        return self.plan.has_changes

    @property
    def ok(self) -> bool:
        return self.result.ok and not self.sample_errors


def select_target(
    path: Path,
    environment: str | None,
    saved: SavedPlanDocument | None = None,
    plan_file: str | None = None,
) -> environments.Target:
    """The environment to apply (``--env``; a saved plan's own unless --env names another)."""
    if saved is not None:
        planned = saved.inputs.environment
        if environment is not None and environment != planned:
            raise UserError(
                f"{plan_file or 'the saved plan'} was planned for "
                f"{'environment ' + repr(planned) if planned else 'no environment'}, "
                f"not {environment!r} (--env / VOICECTL_ENV); nothing was changed"
            )
        environment = planned
    return environments.select(path, environment)


def run_apply(request: ApplyRequest, ui: ApplyUI) -> ApplyRun:
    """Validate, lock, list, plan, confirm, apply (see the module doc)."""
    workflow.prepare_tls(request.conn)  # on a helper thread, while the manifest is read
    if request.saved is not None:
        return _run_saved(request, ui)
    # A bad manifest fails here (no lock taken, nothing written, nothing sent), but for
    # its samples' quality: they are measured while the list is sent, and their
    # problems come first (workflow.manifest_first), before any change is sent.
    loaded = _load(request, ui, defer_quality=True)
    lock = RunLock(loaded.lock.path, timeout=request.lock_timeout, on_wait=request.on_wait)
    with workflow.manifest_first(loaded), lock:
        # Re-read under the lock: another run may have written the lockfile meanwhile.
        loaded.lock = workflow.read_lockfile(loaded.lock.path, loaded.manifest, [])
        loaded.manifest = workflow.bind_stack(loaded.manifest, loaded.lock)
        return asyncio.run(_run(request, ui, loaded))


def _load(request: ApplyRequest, ui: ApplyUI, *, defer_quality: bool = False) -> workflow.Loaded:
    """Validate the manifest (before any API call), read the lockfile, pass on warnings
    (when samples are still being measured, ``_run``'s list passes them on instead)."""
    loaded = workflow.load(
        request.path,
        lockfile=request.lockfile,
        allow_outside_files=request.allow_outside_files,
        allow_any_duration=request.allow_any_duration,
        target=request.conn.target,
        defer_quality=defer_quality,
    )
    if loaded.measuring is None:
        ui.warnings(loaded.warnings)
    return loaded


def _run_saved(request: ApplyRequest, ui: ApplyUI) -> ApplyRun:
    """Apply a saved plan: refuse it if any input changed, else apply exactly it."""
    assert request.saved is not None
    endpoint = endpoint_for(sandbox=request.conn.sandbox, api_url=request.conn.url)
    lock_path = workflow.lockfile_path(request.path, request.lockfile, request.conn.target)
    with RunLock(lock_path, timeout=request.lock_timeout, on_wait=request.on_wait):
        savedplan.check_paths(request.saved, request.path, _plan_file(request))
        reasons = savedplan.endpoint_changes(request.saved, endpoint)
        reasons += savedplan.file_changes(request.saved, request.path, Lockfile.load(lock_path))
        if reasons:
            raise savedplan.StalePlan(_plan_file(request), reasons)
        loaded = _load(request, ui)
        savedplan.sample_edits(request.saved, loaded.manifest, _plan_file(request))
        reasons = savedplan.include_changes(request.saved, loaded.manifest)
        if reasons:
            raise savedplan.StalePlan(_plan_file(request), reasons)
        return asyncio.run(_run(request, ui, loaded))


def _plan_file(request: ApplyRequest) -> str:
    return request.plan_file or "the saved plan"


async def _tick(progress: Progress, every: float = 1.0) -> None:
    """Keep the progress alive: the live bar's clock, and 'Still creating...' lines."""
    while True:
        await asyncio.sleep(every)
        progress.tick()


async def _run(request: ApplyRequest, ui: ApplyUI, loaded: workflow.Loaded) -> ApplyRun:
    saved = request.saved
    async with workflow.open_client(
        request.conn, parallelism=request.parallelism, logger=request.logger
    ) as client:
        remote = await workflow.list_while_measuring(client, loaded, ui.warnings)
        if saved is not None:
            reasons = savedplan.remote_changes(
                saved, remote, manifest=loaded.manifest, lock=loaded.lock
            )
            if reasons:
                raise savedplan.StalePlan(_plan_file(request), reasons)
        plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, request.plan_options)
        if saved is not None:
            reasons = savedplan.plan_changes(saved, plan)
            if reasons:
                raise savedplan.StalePlan(_plan_file(request), reasons)
        ui.planned(plan)
        plan.raise_if_unsafe(request.refusal_hint)

        def applier(reporter: Reporter | None) -> Applier:
            return Applier(
                client=client,
                lock=loaded.lock,
                stack=loaded.manifest.stack,
                voices=loaded.manifest.voices,
                plan=plan,
                remote=remote,
                options=request.apply_options,
                reporter=reporter,
            )

        if not plan.has_changes:
            result = await applier(None).run()  # refreshes lockfile fields only
            return ApplyRun(plan=plan, result=result, lock=loaded.lock)
        if not request.auto_approve and saved is None:
            ui.confirm(plan)
        progress = ui.progress(plan)
        ticker = asyncio.create_task(_tick(progress)) if progress is not None else None
        running = applier(progress)
        stop = GracefulStop(running, getattr(ui, "notice", lambda _message: None))
        task = asyncio.ensure_future(running.run())
        stop.install(task)
        try:
            result = await task
        except asyncio.CancelledError:
            if not stop.hard:
                raise
            result = running.result  # what finished before the second interrupt
        finally:
            stop.remove()
            if ticker is not None:
                ticker.cancel()
            if progress is not None:
                progress.close()
        run = ApplyRun(
            plan=plan,
            result=result,
            lock=loaded.lock,
            new_clones=samples.new_clones(result, loaded.lock.doc),
            interrupted=stop.signum,
        )
        if stop.signum is not None:
            return run
        if request.download_samples is not None and run.new_clones:
            run.saved_samples, run.sample_errors = await samples.download(
                client, run.new_clones, request.download_samples
            )
            run.sample_warnings = samples.check_saved(run.saved_samples)
        return run
