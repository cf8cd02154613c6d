"""voices.yaml → Manifest: every problem at once, each as ``file:line:col: path: message``.

Two layers:

* the document models (models.py: pydantic, ``extra="forbid"``, field names as
  written in YAML) are the source of truth for the format and for
  ``schemas/voices.schema.json`` (``ManifestDocument.model_json_schema()``);
* ``load_manifest`` (loader.py) turns a file into the resolved, defaults-applied
  ``Manifest`` of frozen ``VoiceSpec``\\ s (spec.py) the rest of the program
  uses, after checking what a schema cannot: duplicate keys, files (files.py:
  inside the manifest's folder, real audio, ≤ 5 MB, 5–15 s), repeated tags,
  displayName clashes.

report.py turns each problem into its positioned line. This package re-exports
every public name, so callers import from ``reconciler.manifest`` alone.
"""

from __future__ import annotations

from reconciler.manifest.loader import load_manifest
from reconciler.manifest.models import (
    DEFAULT_STACK,
    DISPLAY_NAME_MAX,
    EXTENSION_PREFIX,
    FILE_PLACEHOLDER,
    MANIFEST_VERSION,
    NAME_PATTERN,
    PRUNE_MODES,
    RESERVED_TAG_PREFIX,
    TAG_PATTERN,
    DefaultsDocument,
    DisplayName,
    Language,
    ManifestDocument,
    Name,
    NonEmpty,
    Tag,
    VoiceDocument,
    is_name,
)
from reconciler.manifest.report import display_path, manifest_error
from reconciler.manifest.spec import LoadResult, Manifest, VoiceSpec

__all__ = [
    "DEFAULT_STACK",
    "DISPLAY_NAME_MAX",
    "EXTENSION_PREFIX",
    "FILE_PLACEHOLDER",
    "MANIFEST_VERSION",
    "NAME_PATTERN",
    "PRUNE_MODES",
    "RESERVED_TAG_PREFIX",
    "TAG_PATTERN",
    "DefaultsDocument",
    "DisplayName",
    "Language",
    "LoadResult",
    "Manifest",
    "ManifestDocument",
    "Name",
    "NonEmpty",
    "Tag",
    "VoiceDocument",
    "VoiceSpec",
    "display_path",
    "is_name",
    "load_manifest",
    "manifest_error",
]
