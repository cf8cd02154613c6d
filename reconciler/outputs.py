"""Where a command may write the file it was asked to (``plan --out``, ``migrate
--map-out``): never over one of the run's own files, never over a file it did not write.

A mistyped path must not cost the lockfile (every voiceId), the manifest or a
sample. So the path may not be the lockfile or its journal, even before they
exist (a first plan saved as ``voices.lock.json`` would be read as the lockfile
by the next run), and an existing file is replaced only when it is empty or a
document of the same kind (an older saved plan, an older map).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import UserError


def _same(a: Path, b: Path) -> bool:
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    if os.path.realpath(a) == os.path.realpath(b):  # a link to it, before it exists too:
        return True  # a write goes to the link's target (fsutil.write_target)
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_output(
    option: str,
    path: Path,
    *,
    inputs: Mapping[str, Path],
    ours: Callable[[Any], bool],
    what: str,
) -> None:
    """Refuse ``option path`` (one line, nothing written) when ``path`` is one of
    ``inputs`` (a description -> its path) or an existing, non-empty file that
    ``ours`` does not recognise (given its parsed JSON) as ``what``."""
    for name, own in inputs.items():
        if _same(path, own):
            raise UserError(
                f"{option} {path}: that is {name}; writing {what} there would replace it "
                "(choose another path)"
            )
    try:
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            return  # new, empty (a mktemp file), or not a file: the write reports it
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:  # unreadable: the write reports it
        return
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON (or past the parser's limits): not ours
        data = None
    if not ours(data):
        raise UserError(
            f"{option} {path}: the file exists and is not {what}, so it is not overwritten "
            "(remove it, or choose another path)"
        )
