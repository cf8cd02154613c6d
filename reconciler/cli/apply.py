"""`voicectl apply [PLANFILE]`: make the organisation's clones match the manifest.

Without PLANFILE it lists, plans, shows the plan and asks. With PLANFILE (made by
``voicectl plan --out``) it applies exactly that plan without asking, after
checking that none of its inputs changed (``reconciler.savedplan``); a stale plan
is refused with what changed. With ``GITHUB_STEP_SUMMARY`` set, the outcome is
appended there as Markdown too.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from reconciler import render, savedplan
from reconciler.apply import Applier, ApplyOptions, ApplyResult
from reconciler.cli.common import global_options, manifest_option, settings_of
from reconciler.cli.options import (
    apply_options,
    download_samples_option,
    format_option,
    plan_options,
    replace_option,
)
from reconciler.cli.ui import confirm_apply, echo_notice, echo_warnings, logger_for, style_for
from reconciler.engine import environments, samples, workflow
from reconciler.errors import UserError
from reconciler.lockfile import Lockfile, RunLock
from reconciler.manifest import display_path
from reconciler.plan import Plan, PlanOptions
from reconciler.schemas import SavedPlanDocument

# Options a saved plan fixes: giving them with PLANFILE is refused.
_FIXED_BY_PLAN = {
    "targets": "--target",
    "replace": "--replace",
    "allow_mass_delete": "--allow-mass-delete",
    "allow_outside_files": "--allow-outside-files",
    "allow_any_duration": "--allow-any-duration",
    "list_grace": "--list-grace",
}


@click.command()
@click.argument("plan_file", required=False, metavar="[PLANFILE]")
@manifest_option
@plan_options
@replace_option
@apply_options
@format_option("text", "json", "markdown")
@download_samples_option
@global_options
@click.pass_context
def apply(
    ctx: click.Context,
    plan_file: str | None,
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
    download_samples: str | None,
) -> None:
    """Create missing clones, replace changed or legacy ones, delete orphans.

    Lists the clones again, plans again, shows the plan and asks for 'yes'
    (unless --auto-approve). Every success is written to the lockfile at once.

    With PLANFILE (from `voicectl plan --out`), applies exactly that plan without
    asking, or refuses it as stale if the manifest, a sample, the lockfile or the
    remote clones changed since it was made.
    """
    settings = settings_of(ctx)
    path = Path(manifest_file)
    saved = None
    if plan_file is not None:
        saved, path, lockfile = _saved_plan(ctx, plan_file, path, lockfile)
        options = savedplan.plan_options(saved)
        allow_outside_files = saved.options.allow_outside_files
        allow_any_duration = saved.options.allow_any_duration
        auto_approve = True  # the plan was reviewed when it was saved (as Terraform)
    else:
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
        saved=saved,
        plan_file=plan_file,
        download_samples=Path(download_samples) if download_samples else None,
    )
    ok = run.execute()
    if not ok:
        ctx.exit(1)


def _saved_plan(
    ctx: click.Context, plan_file: str, path: Path, lockfile: str | None
) -> tuple[SavedPlanDocument, Path, str | None]:
    """Read PLANFILE; the manifest and lockfile are the plan's unless given explicitly."""
    given = click.core.ParameterSource
    for param, flag in _FIXED_BY_PLAN.items():
        if ctx.get_parameter_source(param) == given.COMMANDLINE:
            raise UserError(
                f"{flag} cannot be used with a saved plan: {plan_file} already fixes it "
                "(make a new plan with it instead)"
            )
    saved = savedplan.read(Path(plan_file))
    explicit = (given.COMMANDLINE, given.ENVIRONMENT)
    if ctx.get_parameter_source("manifest_file") not in explicit:
        path = Path(saved.inputs.manifest.path)
    if ctx.get_parameter_source("lockfile") not in explicit:
        lockfile = saved.inputs.lockfile.path
    return saved, path, lockfile


async def _tick(printer: render.ProgressPrinter, every: float = 1.0) -> None:
    """Keep the progress alive: the live bar's clock, and 'Still creating...' lines."""
    while True:
        await asyncio.sleep(every)
        printer.tick()


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
        saved: SavedPlanDocument | None = None,
        plan_file: str | None = None,
        download_samples: Path | None = None,
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
        self.saved = saved
        self.plan_file = plan_file or "the saved plan"
        self.download_samples = download_samples
        self.source = display_path(path)
        self.plan: Plan | None = None
        self.result: ApplyResult | None = None
        self.target = environments.PLAIN

    def _select(self) -> None:
        """The environment (--env; a saved plan's own unless --env names another)."""
        chosen = self.settings.env
        if self.saved is not None:
            planned = self.saved.inputs.environment
            if chosen is not None and chosen != planned:
                raise UserError(
                    f"{self.plan_file} was planned for "
                    f"{'environment ' + repr(planned) if planned else 'no environment'}, "
                    f"not {chosen!r} (--env / VOICECTL_ENV); nothing was changed"
                )
            chosen = planned
        self.target = environments.select(self.path, chosen)
        if self.target.environment is not None:
            self.source = f"{display_path(self.path)} ({self.target.environment})"

    def execute(self) -> bool:
        """Validate, lock, list, plan, confirm, apply. True when every operation succeeded."""
        self._select()
        if self.saved is not None:
            try:
                return self._execute_saved()
            except savedplan.StalePlan as exc:
                self._summary(render.error_markdown("voicectl apply: refused", exc.message))
                raise
        loaded = self._load()  # a bad manifest fails here: no lock taken, nothing written
        with RunLock(loaded.lock.path, timeout=self.lock_timeout, on_wait=echo_notice):
            # Re-read under the lock: another run may have written the lockfile meanwhile.
            loaded.lock = workflow.read_lockfile(loaded.lock.path, loaded.manifest.stack, [])
            return asyncio.run(self._run(loaded))

    def _load(self) -> workflow.Loaded:
        """Validate the manifest (before any API call), read the lockfile, show warnings."""
        loaded = workflow.load(
            self.path,
            lockfile=self.lockfile,
            allow_outside_files=self.allow_outside_files,
            allow_any_duration=self.allow_any_duration,
            target=self.target,
        )
        echo_warnings(loaded.warnings)
        return loaded

    def _execute_saved(self) -> bool:
        """Apply a saved plan: refuse it if any input changed, else apply exactly it."""
        assert self.saved is not None
        endpoint = savedplan.endpoint_for(
            sandbox=self.settings.sandbox, api_url=self._connection().url
        )
        lock_path = workflow.lockfile_path(self.path, self.lockfile, self.target)
        with RunLock(lock_path, timeout=self.lock_timeout, on_wait=echo_notice):
            reasons = savedplan.endpoint_changes(self.saved, endpoint)
            reasons += savedplan.file_changes(self.saved, self.path, Lockfile.load(lock_path))
            if reasons:
                raise savedplan.StalePlan(self.plan_file, reasons)
            loaded = self._load()
            reasons = savedplan.include_changes(self.saved, loaded.manifest)
            if reasons:
                raise savedplan.StalePlan(self.plan_file, reasons)
            return asyncio.run(self._run(loaded))

    def _summary(self, markdown: str) -> None:
        problem = render.append_step_summary(markdown)
        if problem:
            echo_warnings([problem])

    def _connection(self) -> workflow.Connection:
        return workflow.connection(
            sandbox=self.settings.sandbox,
            api_url=self.settings.api_url,
            base_dir=self.path.parent,
            target=self.target,
            delete_via=self.settings.delete_via,
        )

    async def _run(self, loaded: workflow.Loaded) -> bool:
        conn = self._connection()
        style = style_for(self.settings)
        text = self.fmt == "text"
        async with workflow.open_client(
            conn, parallelism=self.parallelism, logger=logger_for(self.settings)
        ) as client:
            remote = await client.list_clones()
            if self.saved is not None:
                reasons = savedplan.remote_changes(
                    self.saved, remote, manifest=loaded.manifest, lock=loaded.lock
                )
                if reasons:
                    raise savedplan.StalePlan(self.plan_file, reasons)
            plan = workflow.plan_for(loaded.manifest, loaded.lock, remote, self.plan_options)
            if self.saved is not None:
                reasons = savedplan.plan_changes(self.saved, plan)
                if reasons:
                    raise savedplan.StalePlan(self.plan_file, reasons)
            self.plan = plan
            if text:
                click.echo(render.plan_text(plan, style))
            if plan.errors:
                self._summary(render.apply_markdown(plan, None, source=self.source))
                raise workflow.PlanRefused(plan.errors)
            if not plan.has_changes:
                applier = self._applier(client, loaded, plan, remote, None)
                self.result = await applier.run()  # refreshes lockfile fields only
                self._finish(plan, self.result)
                return True
            if not self.auto_approve:
                if not text:
                    raise UserError(f"--format {self.fmt} needs --auto-approve")
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
            ticker = asyncio.create_task(_tick(printer)) if printer is not None else None
            try:
                result = await applier.run()
            finally:
                if ticker is not None:
                    ticker.cancel()
                if printer is not None:
                    printer.close()
            self.result = result
            if text:
                for note in result.notes:
                    click.echo(f"Note: {render.clean(note)}")
                click.echo("")
                click.echo(render.apply_summary(result))
            samples_ok = await samples.report(
                client,
                result,
                loaded.lock.doc,
                show=text,
                dest=self.download_samples,
                echo=click.echo,
            )
            self._finish(plan, result)
            return result.ok and samples_ok

    def _finish(self, plan, result) -> None:
        """The machine or Markdown form of the outcome, and the job summary."""
        markdown = render.apply_markdown(plan, result, source=self.source)
        if self.fmt == "json":
            click.echo(json.dumps(render.apply_json(plan, result), indent=2, ensure_ascii=False))
        elif self.fmt == "markdown":
            click.echo(markdown, nl=False)
        self._summary(markdown)

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
