"""`voicectl apply`: make the organisation's clones match the manifest."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from reconciler import render, workflow
from reconciler.apply import Applier, ApplyOptions
from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import apply_options, format_option, plan_options, replace_option
from reconciler.cli.ui import confirm_apply, echo_warnings, logger_for, style_for
from reconciler.errors import UserError
from reconciler.lockfile import RunLock
from reconciler.plan import PlanOptions


@click.command()
@manifest_option
@plan_options
@replace_option
@apply_options
@format_option("text", "json")
@global_options
@click.pass_context
def apply(
    ctx: click.Context,
    manifest_file: str,
    lockfile: str | None,
    targets: tuple[str, ...],
    allow_mass_delete: bool,
    allow_outside_files: bool,
    allow_any_duration: bool,
    list_grace: float,
    parallelism: int,
    replace: tuple[str, ...],
    auto_approve: bool,
    wait_timeout: float,
    lock_timeout: float,
    fmt: str,
) -> None:
    """Create missing clones, replace changed or legacy ones, delete orphans.

    Lists the clones again, plans again, shows the plan and asks for 'yes'
    (unless --auto-approve). Every success is written to the lockfile at once.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    options = PlanOptions(
        targets=frozenset(targets),
        replace=frozenset(replace),
        allow_mass_delete=allow_mass_delete,
        list_grace=list_grace,
    )
    run = ApplyRun(
        settings=settings,
        path=path,
        lockfile=lockfile,
        plan_options=options,
        apply_options=ApplyOptions(wait_timeout=wait_timeout),
        parallelism=parallelism,
        auto_approve=auto_approve,
        fmt=fmt,
        allow_outside_files=allow_outside_files,
        allow_any_duration=allow_any_duration,
        lock_timeout=lock_timeout,
    )
    ok = run.execute()
    if not ok:
        ctx.exit(1)


class ApplyRun:
    """One apply from start to end; `voicectl migrate` drives it with its own options."""

    def __init__(
        self,
        *,
        settings,
        path: Path,
        lockfile: str | None,
        plan_options: PlanOptions,
        apply_options: ApplyOptions,
        parallelism: int,
        auto_approve: bool,
        fmt: str,
        allow_outside_files: bool = False,
        allow_any_duration: bool = False,
        lock_timeout: float = 0.0,
    ):
        self.settings = settings
        self.path = path
        self.lockfile = lockfile
        self.plan_options = plan_options
        self.apply_options = apply_options
        self.parallelism = parallelism
        self.auto_approve = auto_approve
        self.fmt = fmt
        self.allow_outside_files = allow_outside_files
        self.allow_any_duration = allow_any_duration
        self.lock_timeout = lock_timeout
        self.plan = None
        self.result = None

    def execute(self) -> bool:
        """Validate, lock, list, plan, confirm, apply. True when every operation succeeded."""
        loaded = workflow.load(
            self.path,
            lockfile=self.lockfile,
            allow_outside_files=self.allow_outside_files,
            allow_any_duration=self.allow_any_duration,
        )
        echo_warnings(loaded.warnings)
        with RunLock(loaded.lock.path, timeout=self.lock_timeout):
            # Re-read under the lock: another run may have written it meanwhile.
            loaded = workflow.load(
                self.path,
                lockfile=self.lockfile,
                allow_outside_files=self.allow_outside_files,
                allow_any_duration=self.allow_any_duration,
            )
            return asyncio.run(self._run(loaded))

    async def _run(self, loaded: workflow.Loaded) -> bool:
        conn = workflow.connection(
            sandbox=self.settings.sandbox, api_url=self.settings.api_url, base_dir=self.path.parent
        )
        style = style_for(self.settings)
        text = self.fmt == "text"
        async with workflow.open_client(
            conn, parallelism=self.parallelism, logger=logger_for(self.settings)
        ) as client:
            remote = await client.list_clones()
            plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, self.plan_options)
            self.plan = plan
            if text:
                click.echo(render.plan_text(plan, style))
            if plan.errors:
                raise workflow.PlanRefused(plan.errors)
            if not plan.has_changes:
                applier = self._applier(client, loaded, plan, remote, None)
                self.result = await applier.run()  # refreshes lockfile fields only
                if not text:
                    click.echo(json.dumps(render.apply_json(plan, self.result), indent=2))
                return True
            if not self.auto_approve:
                if not text:
                    raise UserError("--format json needs --auto-approve")
                confirm_apply()
            printer = None
            if text:
                printer = render.ProgressPrinter(
                    style=style,
                    live=sys.stdout.isatty(),
                    total=len(plan.changes),
                )
                click.echo("")
            applier = self._applier(client, loaded, plan, remote, printer)
            try:
                result = await applier.run()
            finally:
                if printer is not None:
                    printer.close()
            self.result = result
            if text:
                for note in result.notes:
                    click.echo(f"Note: {render.clean(note)}")
                click.echo("")
                click.echo(render.apply_summary(result))
            else:
                click.echo(json.dumps(render.apply_json(plan, result), indent=2))
            return result.ok

    def _applier(self, client, loaded, plan, remote, printer) -> Applier:
        return Applier(
            client=client,
            lock=loaded.lock,
            stack=loaded.manifest.stack,
            voices=loaded.manifest.voices,
            plan=plan,
            remote=remote,
            options=self.apply_options,
            reporter=printer,
        )


COMMANDS = [apply]
