"""Shell completion of voice names (``--target``, ``--replace``, ``output NAME``).

Read straight from the manifest's YAML (and the lockfile's JSON), with nothing
else imported and no network call: completion runs on every TAB. A manifest
that cannot be read completes nothing rather than failing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from reconciler.fsutil import read_regular


def _manifest_path(ctx: click.Context) -> Path:
    given = ctx.params.get("manifest_file")
    return Path(given or os.environ.get("VOICECTL_FILE") or "voices.yaml")


def _voices_of(path: Path) -> tuple[list[str], object]:
    """The voice names one YAML file declares, and the file's data (None: unreadable)."""
    try:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(read_regular(path).decode("utf-8-sig"), Loader=loader)
    except Exception:  # any unreadable file: nothing to offer
        return [], None
    voices = data.get("voices") if isinstance(data, dict) else None
    return ([str(name) for name in voices] if isinstance(voices, dict) else []), data


def manifest_voice_names(path: Path) -> list[str]:
    """The voice names a manifest declares, its ``include:``d files' too.

    Include globs are taken as the manifest loader takes them (relative to the
    manifest's folder, no absolute pattern, no ``..``); one that does not match
    or cannot be read adds nothing.
    """
    names, data = _voices_of(path)
    patterns = data.get("include") if isinstance(data, dict) else None
    if isinstance(patterns, str):
        patterns = [patterns]
    root = path.parent
    for pattern in patterns if isinstance(patterns, list) else ():
        if not isinstance(pattern, str) or os.path.isabs(pattern) or ".." in Path(pattern).parts:
            continue
        try:
            matches = sorted(p for p in root.glob(pattern) if p.is_file())
        except (ValueError, OSError):
            continue
        for match in matches:
            names += _voices_of(match)[0]
    return names


def lockfile_voice_names(path: Path) -> list[str]:
    try:
        voices = json.loads(read_regular(path)).get("voices")
    except Exception:
        return []
    return [str(name) for name in voices] if isinstance(voices, dict) else []


def voice_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Click ``shell_complete`` callback: declared (and recorded) voices matching ``incomplete``."""
    manifest = _manifest_path(ctx)
    names = manifest_voice_names(manifest)
    lockfile = ctx.params.get("lockfile")
    # --env NAME (or VOICECTL_ENV): that environment's own lockfile, voices.NAME.lock.json
    env = getattr(ctx.find_root().obj, "env", None) or os.environ.get("VOICECTL_ENV") or None
    default = f"voices.{env}.lock.json" if env else "voices.lock.json"
    recorded = Path(lockfile) if lockfile else manifest.parent / default
    names += lockfile_voice_names(recorded)
    return [CompletionItem(n) for n in sorted(set(names)) if n.startswith(incomplete)]
