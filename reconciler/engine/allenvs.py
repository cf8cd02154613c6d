"""``plan --all-envs``: plan every environment of a manifest in one run.

Every environment is loaded (its voices, defaults, stack, lockfile) and checked
for its key before anything is sent; then their clone lists are fetched
concurrently, one client per environment, and each is planned on its own. An
environment the service cannot answer for (unreachable, a refused key) fails
alone: the others still plan, and the result names it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.api.errors import WavesError
from reconciler.api.models import Clone
from reconciler.engine import environments, workflow
from reconciler.errors import UserError
from reconciler.plan import Plan, PlanOptions


@dataclass
class EnvironmentPlan:
    """One environment's outcome: its plan, or why it could not be planned."""

    target: environments.Target
    loaded: workflow.Loaded
    remote: Sequence[Clone] | None = None
    plan: Plan | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.target.label


@dataclass
class AllPlans:
    plans: list[EnvironmentPlan]
    warnings: list[str]

    @property
    def failed(self) -> list[EnvironmentPlan]:
        return [p for p in self.plans if p.error is not None]

    @property
    def refused(self) -> list[EnvironmentPlan]:
        return [p for p in self.plans if p.plan is not None and p.plan.errors]

    @property
    def has_changes(self) -> bool:
        return any(p.plan is not None and not p.plan.converged for p in self.plans)


def load_all(
    manifest_path, *, targets: list[environments.Target], **load_options
) -> tuple[list[EnvironmentPlan], list[str]]:
    """Load the manifest for each environment (a manifest problem stops everything)."""
    plans, warnings = [], []
    for target in targets:
        loaded = workflow.load(manifest_path, target=target, **load_options)
        warnings += [w for w in loaded.warnings if w not in warnings]
        plans.append(EnvironmentPlan(target=target, loaded=loaded))
    return plans, warnings


def check_keys(targets: list[environments.Target], *, sandbox: bool) -> None:
    """Every environment's key variable must be set, or nothing is sent at all."""
    if sandbox:
        return
    missing = environments.missing_keys(targets)
    if missing:
        raise UserError(environments.missing_key_message(missing))


async def _list(
    env_plan: EnvironmentPlan, conn: workflow.Connection, parallelism: int, logger
) -> list[Clone]:
    async with workflow.open_client(conn, parallelism=parallelism, logger=logger) as client:
        return await workflow.list_for_plan(client, env_plan.loaded.lock)  # lists again if need be


async def fetch_all(
    plans: list[EnvironmentPlan], conns: list[workflow.Connection], *, parallelism: int, logger
) -> None:
    """Every environment's clone list, concurrently; a failure is kept as its error."""
    results = await asyncio.gather(
        *(_list(p, conn, parallelism, logger) for p, conn in zip(plans, conns)),
        return_exceptions=True,
    )
    for env_plan, result in zip(plans, results):
        if isinstance(result, (WavesError, UserError)):
            message = result.message if isinstance(result, UserError) else str(result)
            env_plan.error = message
        elif isinstance(result, BaseException):
            raise result
        else:
            env_plan.remote = result


def plan_all(plans: list[EnvironmentPlan], options: PlanOptions) -> None:
    """Plan each environment that listed, all at the same instant."""
    if options.now is None:
        options = dataclasses.replace(options, now=time.time())
    for env_plan in plans:
        if env_plan.remote is None:
            continue
        try:
            env_plan.plan = workflow.plan_for(
                env_plan.loaded.manifest, env_plan.loaded.lock, env_plan.remote, options
            )
        except UserError as exc:  # e.g. a --target unknown in this environment
            env_plan.error = exc.message


def run_all(
    manifest_path,
    connect: Callable[[environments.Target], workflow.Connection],
    options: PlanOptions,
    *,
    sandbox: bool,
    parallelism: int,
    logger=None,
    warn: Callable[[list[str]], None] = lambda _warnings: None,
    **load_options,
) -> AllPlans:
    """The use case: check every key, load every environment (``warn`` hears the
    manifest's warnings before any request), fetch their lists concurrently, plan each."""
    targets = environments.every(manifest_path)
    check_keys(targets, sandbox=sandbox)
    plans, warnings = load_all(manifest_path, targets=targets, **load_options)
    warn(warnings)
    conns = [connect(t) for t in targets]
    asyncio.run(fetch_all(plans, conns, parallelism=parallelism, logger=logger))
    plan_all(plans, options)
    return AllPlans(plans, warnings)
