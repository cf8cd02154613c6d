"""``include:``: further files of voices, merged into the manifest.

Each entry is a glob relative to the manifest's folder (``voices.d/*.yaml``,
``squads/**/voices.yaml``); the files it matches, in sorted order, must be
inside that folder (no absolute pattern, no ``..``, no symlink on the way). An
included file holds ``voices:`` (and ``x-`` keys for YAML anchors) and nothing
else: the stack, defaults and environments are the manifest's. Every problem in
an included file is reported at that file's own line and column.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.manifest import controls
from reconciler.manifest.models import EXTENSION_PREFIX, IncludedDocument
from reconciler.manifest.report import _describe, _pydantic_problems, _Report, display_path
from reconciler.manifest.sources import read_yaml_file
from reconciler.manifest.spec import SourceFile


@dataclass
class Included:
    """One included file: where it is, its report, and its raw ``voices`` mapping."""

    file: SourceFile
    report: _Report
    voices: Any


def expand(patterns: Any, manifest: Path, root: Path, report: _Report) -> list[Path]:
    """The files ``include`` names, in order (each once; never the manifest itself).

    Problems with a pattern are reported at it; a pattern that matches nothing is
    a warning (a squad's folder may be empty for now).
    """
    if not isinstance(patterns, list):
        return []
    found: list[Path] = []
    own = Path(os.path.abspath(manifest))
    for i, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not pattern.strip():
            continue  # the schema reports it
        where = ("include", i)
        written = Path(pattern)
        if written.is_absolute() or pattern.startswith("~"):
            report.error(
                where,
                f"{pattern} is an absolute path; include globs are relative to the "
                "manifest's folder and stay inside it",
            )
            continue
        if ".." in written.parts:
            report.error(where, f"{pattern} goes outside the manifest's folder with '..'")
            continue
        try:
            matches = sorted(p for p in root.glob(pattern) if p.is_file())
        except (ValueError, NotImplementedError, OSError) as exc:
            report.error(where, f"{pattern} is not a usable glob: {exc}")
            continue
        if not matches and not glob.has_magic(pattern):
            # a file named outright: missing, its voices would be planned as deletes
            there = root / pattern
            if there.is_dir():
                what = "is a folder, not a file"
            else:
                what = "is not a regular file" if there.exists() else "does not exist"
            report.error(
                where,
                f"{pattern} {what} (a named include must exist; a glob such as "
                "voices.d/*.yaml may match nothing)",
            )
        elif not matches:
            report.warn(where, f"{pattern} matches no file")
        for match in matches:
            match = Path(os.path.abspath(match))
            if match == own or match in found:
                continue
            link = _first_symlink(root, match)
            if link is not None:
                report.error(
                    where,
                    f"{pattern} matches {match.relative_to(root).as_posix()}, which "
                    f"goes through a symlink ({link}); included files must really be inside "
                    "the manifest's folder",
                )
                continue
            found.append(match)
    return found


def _first_symlink(root: Path, path: Path) -> str | None:
    current = root
    walked = Path()
    for part in path.relative_to(root).parts:
        current, walked = current / part, walked / part
        if current.is_symlink():
            return walked.as_posix()
    return None


def read_included(path: Path, root: Path, manifest_source: str) -> Included:
    """Read one included file; its problems go to its own report (raised by the
    loader with the others), unreadable or unparsable files raise at once."""
    source = display_path(path)
    read = read_yaml_file(path, source, "the included file")
    file = SourceFile(path=path, rel=path.relative_to(root).as_posix(), sha256=read.sha256)
    report = _Report(source, read.doc)
    doc = read.doc
    if doc is None:
        return Included(file, report, None)
    for problem in doc.problems:
        report.error(problem.path, problem.message, pos=problem.pos)
    controls.report(report, read.controls, doc)
    data = doc.data
    if not isinstance(data, dict):
        report.error(
            (),
            "an included file must be a mapping with a 'voices:' field, got "
            f"{_describe(data, doc.nodes.get(()))}",
        )
        return Included(file, report, None)
    for key in data:
        if key != "voices" and not str(key).startswith(EXTENSION_PREFIX):
            report.error(
                (key,),
                f"unknown field {key!r}: an included file holds only 'voices' (and x- keys); "
                f"the stack, defaults, environments and the rest belong in {manifest_source}",
                key=True,
            )
    voices = data.get("voices")
    try:
        IncludedDocument.model_validate({"voices": voices})
    except ValidationError as exc:
        _pydantic_problems(exc, doc, report)
    return Included(file, report, voices)
