"""One voice shape: the document's fields (``VoiceDocument``) and their one resolved
form (``Declared``, which ``VoiceSpec`` extends) cannot drift apart."""

from __future__ import annotations

import dataclasses

from reconciler.manifest import DefaultsDocument, VoiceDocument, VoiceSpec
from reconciler.manifest.spec import DECLARED_FIELDS, Declared, declared

# Fields of the document that are checked when the manifest is read and not carried
# further: the sample (VoiceSpec.file / file_rel, resolved and checked by the loader)
# and the quality limits (applied to the sample at load time).
READ_AT_LOAD = {"file", "quality", "allow_quality"}


def test_every_document_field_has_its_resolved_form():
    document = set(VoiceDocument.model_fields)
    assert document - READ_AT_LOAD == set(DECLARED_FIELDS)
    assert set(DefaultsDocument.model_fields) <= set(DECLARED_FIELDS)


def test_the_spec_is_the_declared_voice_plus_its_file():
    spec = {f.name for f in dataclasses.fields(VoiceSpec)}
    assert set(DECLARED_FIELDS) <= spec
    assert issubclass(VoiceSpec, Declared)


def test_defaults_apply_field_by_field_and_a_null_overrides_them():
    defaults = DefaultsDocument(language="en", accent="general", tags=["team"], model=None)
    voice = VoiceDocument.model_validate(
        {"file": "a.wav", "language": None, "tags": ["team", "promo"], "environments": ["a", "a"]}
    )
    got = declared("narrator", voice, defaults)
    assert got == Declared(
        display_name="narrator",
        language=None,
        description=None,
        accent="general",
        tags=("team", "promo"),
        protect=False,
        environments=("a",),
        model="lightning-v3.1",
    )
