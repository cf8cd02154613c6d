"""The plan use case: validate, list, plan; and save the plan for `apply PLANFILE`.

``run_plan`` never prints: warnings go to the caller's ``warn`` once the
manifest's checks are done (a manifest that fails the checks of its text and
files sends nothing; its samples are measured while the list is sent, and their
problems are raised in its place), and the typed :class:`PlanRun` comes back for
the command to render. A refused plan is returned, not raised, so the
command can show it first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.api.models import Clone
from reconciler.endpoint import endpoint_for
from reconciler.engine import workflow
from reconciler.lockfile.runlock import held_by_another
from reconciler.plan import Plan, PlanOptions


@dataclass
class PlanRun:
    """A plan and the inputs it was made from (a saved plan fingerprints them)."""

    loaded: workflow.Loaded
    remote: list[Clone]
    plan: Plan
    options: PlanOptions
    endpoint: str


def run_plan(
    path: Path,
    conn: workflow.Connection,
    options: PlanOptions,
    *,
    lockfile: str | None = None,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
    parallelism: int = 8,
    logger: logging.Logger | None = None,
    warn: Callable[[Sequence[str]], None] = lambda _warnings: None,
    out: Path | None = None,
    manifest_arg: str | None = None,
) -> PlanRun:
    """Load, list, plan; with ``out``, save the plan there unless it is refused
    (``manifest_arg``: the manifest as the command line named it, for ``apply FILE``).
    ``out`` is proved writable first: a plan that cannot be saved is not worth the requests."""
    if out is not None:
        from reconciler import savedplan

        savedplan.check_writable(out, workflow.own_files(path, lockfile, conn.target))
    workflow.prepare_tls(conn)  # on a helper thread, while the manifest is read
    loaded = workflow.load(
        path,
        lockfile=lockfile,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        target=conn.target,
        defer_quality=True,  # the samples are measured while the list is sent
    )
    if loaded.measuring is None:  # nothing left to measure: the warnings are all here
        warn(loaded.warnings)
    endpoint = endpoint_for(sandbox=conn.sandbox, api_url=conn.url)

    async def fetch():
        async with workflow.open_client(conn, parallelism=parallelism, logger=logger) as client:
            return await workflow.list_while_measuring(client, loaded, warn)

    with workflow.manifest_first(loaded):
        remote = asyncio.run(fetch())
    # The clock is part of the plan (list grace); a saved plan keeps it, so that
    # `apply FILE` plans again at this same instant.
    options = dataclasses.replace(options, now=time.time())
    plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, options)
    if held_by_another(loaded.lock.path):  # an apply is changing the clones right now
        plan = dataclasses.replace(plan, lock_held=True)
    run = PlanRun(loaded, remote, plan, options, endpoint)
    if out is not None and not plan.errors:  # before anything is shown: a failed save fails
        save_plan(
            run,
            out,
            manifest_arg=manifest_arg or str(path),
            allow_outside_files=allow_outside_files,
            allow_any_duration=allow_any_duration,
        )
    return run


def save_plan(
    run: PlanRun,
    out: Path,
    *,
    manifest_arg: str,
    allow_outside_files: bool = False,
    allow_any_duration: bool = False,
) -> None:
    """Write ``run`` as a saved plan file (``reconciler.savedplan``)."""
    from reconciler import savedplan  # its schemas cost ~0.08 s: only plans that are saved

    doc = savedplan.build(
        manifest=run.loaded.manifest,
        manifest_arg=manifest_arg,
        lock=run.loaded.lock,
        remote=run.remote,
        plan=run.plan,
        options=run.options,
        endpoint=run.endpoint,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
    )
    savedplan.write(out, doc)
