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


def _manifest_path(ctx: click.Context) -> Path:
    given = ctx.params.get("manifest_file")
    return Path(given or os.environ.get("VOICECTL_FILE") or "voices.yaml")


def manifest_voice_names(path: Path) -> list[str]:
    """The voice names a manifest declares at its top level (not its included files)."""
    try:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=loader)
    except Exception:  # any unreadable manifest: nothing to offer
        return []
    voices = data.get("voices") if isinstance(data, dict) else None
    return [str(name) for name in voices] if isinstance(voices, dict) else []


def lockfile_voice_names(path: Path) -> list[str]:
    try:
        voices = json.loads(path.read_text(encoding="utf-8")).get("voices")
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
    recorded = Path(lockfile) if lockfile else manifest.parent / "voices.lock.json"
    names += lockfile_voice_names(recorded)
    return [CompletionItem(n) for n in sorted(set(names)) if n.startswith(incomplete)]
