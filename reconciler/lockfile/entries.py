"""The one converter from a clone (listed or just created) to a lockfile entry.

Apply (create, replace, adopt, refresh of an unchanged voice), ``refresh`` and
``import`` all record clones with :func:`entry_for`, so they agree on every
field: what the service reports wins; a field it does not report keeps what
the lockfile said of the SAME clone, else what the manifest declares.
"""

from __future__ import annotations

from typing import Any

from reconciler.api.models import CURRENT_MODELS
from reconciler.lockfile.model import LockEntry, LockSample


def entry_for(
    clone: Any,
    previous: LockEntry | None = None,
    *,
    voice: Any = None,
    digest: str | None = None,
    file_known: bool = True,
    file_sha256: str | None = None,
) -> LockEntry:
    """The lockfile entry for ``clone`` (a :class:`reconciler.api.models.Clone`).

    ``previous`` is the voice's entry so far (its clone may be another one: a
    replacement); ``voice`` the declared voice it was made from, if any.
    ``file_known`` False: the sample behind the clone is not known to be the
    declared one (an unchanged voice, a clone adopted with another digest), so
    the sample hash and spec digest recorded for the same clone are kept.
    ``file_sha256`` is the sample hash when there is no declared voice (import).
    When a list first showed the SAME clone (``listedAt``) is kept.
    """
    same = previous is not None and previous.voice_id == clone.voice_id
    base = previous if same else None
    samples = [LockSample(text=s.text, audioUrl=s.audio_url) for s in clone.samples]
    if not samples and base is not None:
        samples = list(base.samples)
    if voice is not None and file_known:
        file_sha, spec = voice.file_sha256, digest
    elif voice is None and base is None:
        file_sha, spec = file_sha256, digest
    else:
        file_sha = base.file_sha256 if base is not None else None
        spec = base.spec_digest if base is not None else None
    migrated_from = previous.migrated_from if previous is not None else None
    if previous is not None and not same and _legacy(previous.model_ids) and clone.is_current:
        migrated_from = previous.voice_id
    return LockEntry(  # by alias: what mypy's pydantic plugin knows of a dataclass
        voiceId=clone.voice_id,
        displayName=clone.display_name
        or (voice.display_name if voice is not None else None)
        or (base.display_name if base is not None else None),
        language=clone.language
        or (base.language if base is not None else None)
        or (voice.language if voice is not None else None),
        modelIds=list(clone.models) or (list(base.model_ids) if base is not None else []),
        fileSha256=file_sha,
        specDigest=spec,
        status=clone.status or (base.status if base is not None else None),
        createdAt=clone.created_at or (base.created_at if base is not None else None),
        protect=voice.protect if voice is not None else bool(base is not None and base.protect),
        samples=samples,
        migratedFrom=migrated_from,
        listedAt=base.listed_at if base is not None else None,
    )


def _legacy(model_ids: list[str]) -> bool:
    """True for recorded modelIds that name models but no current one (v3.1, v3.1-pro)."""
    return bool(model_ids) and not any(m in CURRENT_MODELS for m in model_ids)
