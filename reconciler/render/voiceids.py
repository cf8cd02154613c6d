"""`voicectl output`: the lockfile's voiceIds in the format apps read (raw, json, env, yaml)."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.identity import env_name
from reconciler.render.lines import Line, json_text, out


def voice_ids(ids: Mapping[str, str], fmt: str) -> list[Line]:
    """``raw``: one voiceId a line; ``json``: name -> voiceId; ``env``: NAME=voiceId
    lines (``identity.env_name``); else YAML."""
    if fmt == "raw":
        return [out(voice_id) for voice_id in ids.values()]
    if fmt == "json":
        return [out(json_text(dict(ids), ensure_ascii=True, sort_keys=True))]
    if fmt == "env":
        return [out(f"{env_name(n)}={voice_id}") for n, voice_id in ids.items()]
    import yaml  # only for this format: completion and the others do without it

    return [Line(yaml.safe_dump(dict(ids), sort_keys=True, default_flow_style=False), nl=False)]
