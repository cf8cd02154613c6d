"""The import use case: adopt existing clones that no stack owns into voices.yaml
and the lockfile.

It only lists clones: nothing on the service is created, changed or deleted. The
manifest keeps its comments, order and formatting (``engine.adoption`` edits its
text); the lockfile records each adopted voiceId, so the next plan knows the
clone (imported clones carry no ownership tags: the service has no update
endpoint). Both files are written while holding the run lock; the manifest
first, and it is put back if the lockfile cannot be written, so nothing is left
half-done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.engine import adoption, workflow
from reconciler.errors import UserError
from reconciler.fsutil import atomic_write, probe_write
from reconciler.lockfile import Lockfile, RunLock
from reconciler.manifest import display_path
from reconciler.text import count


@dataclass
class ImportResult:
    """What an import adopted (or, with ``dry_run``, would adopt) and what it left out."""

    target: adoption.Target
    lock_path: Path
    adoptions: list[adoption.Adoption] = field(default_factory=list)
    skipped: list[adoption.Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False


def run_import(
    path: Path,
    conn: workflow.Connection,
    *,
    lockfile: str | None = None,
    samples_dir: str | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dry_run: bool = False,
    stack: str | None = None,
    allow_outside_files: bool = False,
    lock_timeout: float = 0.0,
    logger: logging.Logger | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> ImportResult:
    """List, choose, prepare the stanzas; unless ``dry_run``, write both files under the lock."""
    lock_path = workflow.lockfile_path(path, lockfile, conn.target)
    environment = conn.target.environment
    target = adoption.read_target(path, stack=stack, environment=environment)
    samples = _samples_dir(samples_dir, target, allow_outside_files)
    if dry_run:
        lock = workflow.refuse_other_environment(
            Lockfile.load(lock_path, stack=target.stack), environment
        )
        target.stack = lock.doc.stack  # a manifest naming none: the lockfile's own
        adoptions, skipped = _prepare(conn, logger, target, lock, samples, select, exclude)
        return ImportResult(target, lock_path, adoptions, skipped)
    with RunLock(lock_path, timeout=lock_timeout, on_wait=on_wait):
        # again, under the lock
        target = adoption.read_target(path, stack=stack, environment=environment)
        lock = Lockfile.load(lock_path, stack=target.stack)
        workflow.refuse_other_environment(lock, environment)
        if target.stack is None:  # no stack named: the lockfile's own (a new one makes it)
            target.stack = lock.doc.stack
        warnings = []
        if lock.exists and lock.doc.stack != target.stack:
            warnings.append(
                f"{lock.path.name}: recorded for stack {lock.doc.stack!r}, the manifest "
                f"says {target.stack!r}; the lockfile will follow the manifest"
            )
        lock.set_stack(target.stack)
        _check_writable(target, lock)  # before the list: nothing is read in vain
        adoptions, skipped = _prepare(conn, logger, target, lock, samples, select, exclude)
        result = ImportResult(target, lock.path, adoptions, skipped, warnings)
        if adoptions:
            _write(target, lock, adoptions)
            result.written = True
        return result


def _samples_dir(value: str | None, target: adoption.Target, allow_outside: bool) -> Path | None:
    if value is None:
        return None
    folder = Path(value)
    if not folder.exists():
        raise UserError(f"--samples {value}: no such folder")
    if not folder.is_dir():
        raise UserError(f"--samples {value}: not a folder")
    if not allow_outside:
        try:
            folder.resolve().relative_to(target.root.resolve())
        except ValueError:
            raise UserError(
                f"--samples {value}: outside the manifest's folder ({target.root}); samples "
                "must be inside it (--allow-outside-files writes absolute paths instead)"
            ) from None
    return folder


def _prepare(conn, logger, target, lock, samples, select, exclude):
    async def fetch():
        async with workflow.open_client(conn, logger=logger) as client:
            # a recorded clone missing from the list is listed again: it is "already
            # managed", not a candidate that vanished
            return await workflow.list_for_plan(client, lock)

    remote = asyncio.run(fetch())
    workflow.refuse_other_organisation(lock, remote, conn.target)  # before a stanza is made
    chosen, skipped = adoption.choose(remote, lock.doc, target, select=select, exclude=exclude)
    adoptions, problems = adoption.plan_adoptions(chosen, lock.doc, target, samples_dir=samples)
    if problems:
        raise UserError(
            "\n".join([*problems, f"nothing was imported ({count(len(problems), 'problem')})"])
        )
    return adoptions, skipped


def _check_writable(target: adoption.Target, lock: Lockfile) -> None:
    """Both files must be writable (a read-only folder or file, a full disk), or
    nothing is imported; nothing is created to find out (``fsutil.probe_write``)."""
    for path, what in ((target.path, "the manifest"), (lock.path, "the lockfile")):
        try:
            probe_write(path)
        except OSError as exc:
            raise UserError(
                f"{display_path(path)}: cannot write {what}: {exc.strerror or exc}; "
                "nothing was imported"
            ) from None


def _write(target: adoption.Target, lock: Lockfile, adoptions) -> None:
    """Manifest first, then the lockfile; the manifest is put back if the lockfile fails."""
    if target.exists:
        assert target.text is not None
        new_text = adoption.add_voices(target.text, adoptions)
    else:
        assert target.stack is not None, "resolved from the lockfile before writing"
        new_text = adoption.new_manifest_text(target.stack, adoptions)
    for a in adoptions:
        lock.adopt(a.name, a.lock_entry())
    bom = "\ufeff" if target.bom else ""
    try:
        atomic_write(target.path, bom + new_text)
    except OSError as exc:
        raise UserError(
            f"{display_path(target.path)}: cannot write the manifest: {exc.strerror or exc}; "
            "nothing was imported"
        ) from None
    try:
        lock.save()
    except BaseException as exc:
        with contextlib.suppress(OSError):
            if target.exists:
                atomic_write(target.path, bom + (target.text or ""))
            else:
                os.unlink(target.path)
        if isinstance(exc, OSError):
            raise UserError(
                f"{lock.path}: cannot write the lockfile: {exc.strerror or exc}; "
                f"{display_path(target.path)} was put back, nothing was imported"
            ) from None
        raise
