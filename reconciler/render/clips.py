"""`voicectl samples`' output: each voice's clips (where they are, what they measure)
as text, or the versioned JSON document (schemas/samples.schema.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.engine.clips import SamplesRun
from reconciler.render.lines import Line, err, out
from reconciler.render.problems import problems_out
from reconciler.schemas import FORMAT_VERSION, SampleClipOut, SamplesDocument, SamplesVoice
from reconciler.text import clean, escape


def samples_text(run: SamplesRun, name: str | None, *, embedded: bool = False) -> list[Line]:
    """With the embedded sandbox (``--sandbox``) no URL would open: none is printed."""
    found = run.clips
    if not found:
        whose = f"{name!r}" if name else "any voice"
        return [out(f"No sample clips recorded for {whose} in {run.lock_path.name}.")]
    lines = []
    current = None
    for clip in found:
        if clip.name != current:
            current = clip.name
            lines.append(out(f"{clean(clip.name)} ({clean(clip.voice_id)}):"))
        text = f'  "{clean(clip.text)}"' if clip.text else ""
        # escaped, not cleaned: the URL shown is the one fetched, odd characters and all
        where = "(in the embedded sandbox)" if embedded else escape(clip.url or "(no URL)")
        lines.append(out(f"  {clip.n}. {where}{text}"))
        if clip.path is not None:
            m = clip.measurement
            measured = (
                f": {m.seconds:.1f} s, {m.speech_seconds:.1f} s of sound, "
                f"{m.loudness_lufs:.1f} LUFS"
                if m is not None
                else ""
            )
            lines.append(out(f"     saved {clip.path} ({clip.size} bytes){measured}"))
    for clip in found:
        if clip.error:
            lines.append(err(f"Error: could not save {clip.file_name}: {clean(clip.error)}"))
        elif clip.problem and clip.path is not None:
            lines.append(err(f"Error: {clip.path}: {clip.problem}"))
    if run.note:
        lines.append(err(f"warning: {run.note}"))
    if embedded and all(clip.path is None for clip in found):
        lines.append(out("--download DIR saves them as files."))
    return lines


def samples_json(run: SamplesRun) -> dict[str, Any]:
    voices: dict[str, SamplesVoice] = {}
    for clip in run.clips:
        voice = voices.setdefault(
            clip.name, SamplesVoice(name=clip.name, voice_id=clip.voice_id, samples=[])
        )
        m = clip.measurement
        voice.samples.append(
            SampleClipOut(
                n=clip.n,
                text=clip.text,
                audio_url=clip.url,
                file=str(clip.path) if clip.path is not None else None,
                bytes=clip.size,
                error=clip.error,
                seconds=m.seconds if m else None,
                speech_seconds=m.speech_seconds if m else None,
                loudness_lufs=m.loudness_lufs if m else None,
                problem=clip.problem,
            )
        )
    doc = SamplesDocument(
        format_version=FORMAT_VERSION,
        voices=list(voices.values()),
        downloaded=run.downloaded,
        problems=len(run.bad),
        note=run.note,
        errors=problems_out([problems(run)] if run.bad else []),  # what exit 1 is for
    )
    return doc.model_dump(by_alias=True, mode="json")


def failed_samples_json(errors: Sequence[str]) -> dict[str, Any]:
    """The samples document of a run that listed no clip, and why (``errors``)."""
    doc = SamplesDocument(
        format_version=FORMAT_VERSION,
        voices=[],
        downloaded=False,
        problems=0,
        note=None,
        errors=problems_out(errors),
    )
    return doc.model_dump(by_alias=True, mode="json")


def problems(run: SamplesRun) -> str:
    """The error when some clips failed or have a problem."""
    n = len(run.bad)
    return f"{n} sample clip{'' if n == 1 else 's'} {'has' if n == 1 else 'have'} a problem"
