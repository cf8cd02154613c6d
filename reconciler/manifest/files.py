"""A voice's sample file: where it resolves to, and whether it may be used.

A sample path is relative to the file that names it (the manifest, or an
included file in a subfolder) and must stay inside the manifest's folder (no
absolute path, no ``..`` that leaves it, no symlink on the way) unless
``--allow-outside-files``; with ``check_files`` it must also pass
``audio.check_sample``, whose messages are reported at the voice's ``file``
value. ``_Context`` carries the loader's options and the naming file's report
and folder to here.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler import audio
from reconciler.localcache import HashCache
from reconciler.manifest.controls import has_control
from reconciler.manifest.models import FILE_PLACEHOLDER
from reconciler.manifest.report import _Report


@dataclass
class _Context:
    report: _Report
    root: Path  # the manifest's folder: samples must stay inside it
    allow_outside_files: bool
    allow_any_duration: bool
    check_files: bool
    base: Path | None = None  # the folder of the file naming the samples (default: root)
    hashes: HashCache | None = None  # sample sha256s remembered under .voicectl/
    # plan/apply: a FILL-ME-IN file blocks only its voice (held; the plan warns);
    # validate: it is an error.
    hold_placeholders: bool = False
    held: list[str] = field(default_factory=list)
    real_folders: set[str] = field(default_factory=set)  # no symlink (files._first_symlink)

    @property
    def folder(self) -> Path:
        return self.base if self.base is not None else self.root

    def for_file(self, report: _Report, base: Path) -> _Context:
        """The same options, for the voices of another (included) file."""
        return _Context(
            report,
            self.root,
            self.allow_outside_files,
            self.allow_any_duration,
            self.check_files,
            base,
            self.hashes,
            self.hold_placeholders,
            self.held,
            self.real_folders,
        )


def relative_name(ctx: _Context, rel: str, target: Path) -> str:
    """How a sample is recorded: as written when the manifest names it, else relative
    to the manifest's folder (saved plans resolve it from there)."""
    if ctx.base is None or ctx.base == ctx.root:
        return rel
    try:
        return target.relative_to(ctx.root).as_posix()
    except ValueError:
        return Path(os.path.relpath(target, ctx.root)).as_posix()


def _inside(root: Path, path: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _check_file(
    voice_path: tuple[Any, ...], raw: dict[str, Any], ctx: _Context
) -> tuple[Path, audio.SampleInfo | None] | Literal[False] | None:
    """Check a voice's ``file``: (absolute path, audio info or None without
    check_files), False when it has problems, None when ``file`` is not text."""
    rel = raw.get("file")
    if not isinstance(rel, str) or not rel.strip():
        return None
    if has_control(rel):  # reported by the loader's control-character check
        return False
    path = (*voice_path, "file")
    report = ctx.report
    # Plain string operations: this runs once per voice (10,000 in a large manifest).
    parts = _parts(rel)
    if os.path.isabs(rel) or rel.startswith("~"):
        if not ctx.allow_outside_files:
            report.error(
                path,
                f"{rel} is an absolute path; a sample must be inside the "
                "manifest's folder (--allow-outside-files allows it)",
            )
            return False
    elif (
        ".." in parts
        and not ctx.allow_outside_files
        and not _inside(ctx.root, _absolute(ctx.folder, rel, resolve=False))
    ):
        report.error(
            path,
            f"{rel} goes outside the manifest's folder with '..' (--allow-outside-files allows it)",
        )
        return False
    if not ctx.check_files:
        return (_absolute(ctx.folder, rel, resolve=False), None)
    if rel.strip() == FILE_PLACEHOLDER and ctx.hold_placeholders:
        ctx.held.append(str(voice_path[-1]))  # the plan warns, naming it
        return False
    if rel.strip() == FILE_PLACEHOLDER:
        report.error(
            path,
            f"{FILE_PLACEHOLDER} is a placeholder left by `voicectl import`: set it to the "
            "sample audio this clone was made from (the API cannot download it)",
        )
        return False
    if not ctx.allow_outside_files:
        link = _first_symlink(ctx.folder, parts, ctx.real_folders)
        if link is not None:
            report.error(
                path,
                f"{rel} goes through a symlink ({link}); a sample must really be "
                "inside the manifest's folder (--allow-outside-files allows it)",
            )
            return False
    target = _absolute(ctx.folder, rel, resolve=ctx.allow_outside_files)
    check = audio.check_sample(
        target,
        name=rel,
        allow_any_duration=ctx.allow_any_duration,
        sha256_of=ctx.hashes.sha256 if ctx.hashes is not None else None,
        cache=ctx.hashes,
    )
    for message in check.errors:
        report.error(path, message)
    for message in check.warnings:
        report.warn(path, message)
    if check.info is None:
        return False
    return (target, check.info)


def _parts(rel: str) -> list[str]:
    """The parts of a written path, as ``Path(rel).parts`` has them (no "" or ".")."""
    if os.altsep:
        rel = rel.replace(os.altsep, os.sep)
    return [p for p in rel.split(os.sep) if p not in ("", ".")]


def _absolute(root: Path, rel: str, *, resolve: bool) -> Path:
    joined = os.path.join(root, os.path.expanduser(rel))
    return Path(os.path.realpath(joined) if resolve else os.path.normpath(joined))


def _first_symlink(root: Path, parts: list[str], real_folders: set[str]) -> str | None:
    """The first part of ``root/written`` below ``root`` that is a symlink, as written.

    ``real_folders`` holds the folders already found not to be symlinks (the
    voices of one manifest share a few folders: each is looked at once per run).
    """
    current = str(root)
    walked = ""
    for part in parts:  # parts hold no separator: plain concatenation is a join
        current = current + os.sep + part if current != os.sep else os.sep + part
        walked = walked + os.sep + part if walked else part
        if current in real_folders:
            continue
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return None  # missing: check_sample reports it
        if stat.S_ISLNK(mode):
            return walked
        if stat.S_ISDIR(mode):
            real_folders.add(current)
    return None
