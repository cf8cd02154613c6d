"""The voices.yaml document models: the format's source of truth and its JSON Schema.

Pydantic models with ``extra="forbid"`` and field names as written in YAML; each
field type carries its own validator (with the message the user sees) and its
JSON Schema (``WithJsonSchema``), and ``_schema_extra`` adds what pydantic cannot
say itself. ``schemas/voices.schema.json`` is ``ManifestDocument``'s schema, so
the class names here are its ``$defs`` names and must not change.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from reconciler import languages
from reconciler.audio.quality import KINDS as QUALITY_KINDS
from reconciler.manifest.controls import char_name
from reconciler.ownership import PREFIX as RESERVED_TAG_PREFIX

MANIFEST_VERSION = 1
DEFAULT_STACK = "default"
PRUNE_MODES = ("managed", "all", "none")
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
TAG_PATTERN = r"^(?!voicectl-)[^,\s](?:[^,]*[^,\s])?$"
DISPLAY_NAME_MAX = 500
EXTENSION_PREFIX = "x-"  # top-level keys for YAML anchors, ignored
# An environment's apiKeyEnv: the NAME of the variable holding its key, never the key.
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"
NOT_AN_ENV_VAR = (
    "not an environment variable name (the value is not shown, in case it is a key): "
    "apiKeyEnv names the variable that holds the key, such as SMALLEST_API_KEY_PROD "
    "(A-Z, 0-9 and _), never the key itself"
)
# What `voicectl import` writes as `file:` when it found no sample for a clone.
FILE_PLACEHOLDER = "FILL-ME-IN"

# The patterns are also the JSON Schema's (where $ ends the text); here every check is
# a fullmatch, as re.match with $ would let a trailing newline through ("alpha\n").
_NAME_RE = re.compile(NAME_PATTERN)
_ENV_VAR_RE = re.compile(ENV_VAR_PATTERN)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What a displayName may not hold besides those: format characters (zero-width, bidi
# controls, U+FEFF...) and the line and paragraph separators U+2028/U+2029.
_HIDDEN_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})


def _err(template: str, **values: Any) -> PydanticCustomError:
    """A validation error whose message is ``template.format(**values)``.

    The finished text goes through pydantic as one placeholder, so braces in a
    user's value are never taken for placeholders.
    """
    return PydanticCustomError("voicectl", "{message}", {"message": template.format(**values)})


def is_name(value: object) -> bool:
    """Whether ``value`` is a name (a voice key, stack or environment): the one check."""
    return isinstance(value, str) and _NAME_RE.fullmatch(value) is not None


def _check_name(value: str) -> str:
    if not is_name(value):
        raise _err(
            "{value!r} is not a valid name: use 1-63 characters from a-z 0-9 . _ -, "
            "starting with a letter or digit",
            value=value,
        )
    return value


def _check_tag(value: str) -> str:
    if value == "":
        raise _err("a tag may not be empty")
    if "," in value:
        raise _err(
            "tag {value!r} contains a comma (the service splits tags on commas)", value=value
        )
    if value != value.strip():
        raise _err("tag {value!r} starts or ends with spaces (the service trims them)", value=value)
    if value.startswith(RESERVED_TAG_PREFIX):
        raise _err(
            "tag {value!r} starts with {prefix!r}, which voicectl reserves for its ownership tags",
            value=value,
            prefix=RESERVED_TAG_PREFIX,
        )
    return value


def _check_language(value: str) -> str:
    if not languages.is_well_formed(value):
        raise _err(
            "{value!r} is not a language code: use a lowercase ISO 639 code "
            "such as 'en' or 'hi' (optionally with subtags, 'pt-BR'), 'auto' or 'multi'",
            value=value,
        )
    return value


def _check_model(value: str) -> str:
    # The service's own wording (the fact sheet), so the user meets it once, here.
    if value in languages.DEPRECATED_MODELS:
        raise _err("Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1")
    if value not in languages.CLONE_MODELS:
        raise _err(
            "{value!r}: Supported models: {models}",
            value=value,
            models=", ".join(languages.CLONE_MODELS),
        )
    return value


def _check_display_name(value: str) -> str:
    if not 1 <= len(value) <= DISPLAY_NAME_MAX:
        raise _err(
            "a displayName must be 1-{max} characters, this one has {n}",
            max=DISPLAY_NAME_MAX,
            n=len(value),
        )
    if match := _CONTROL_RE.search(value):
        raise _err(
            "a displayName must be one line, without control characters (it holds {char})",
            char=char_name(match.group()),
        )
    if not value.strip():
        raise _err("a displayName may not be blank (only spaces)")
    if not value.isprintable():  # in C; rare: a non-breaking space, or what is below
        _check_hidden(value)
    return value


def _check_hidden(value: str) -> None:
    """Refuse a displayName holding a format character (zero-width, bidi control,
    U+FEFF: they hide or reorder what the dashboard shows) or a line or paragraph
    separator (U+2028/U+2029: a line break); one of nothing else is blank."""
    hidden = {ch for ch in value if unicodedata.category(ch) in _HIDDEN_CATEGORIES}
    if not hidden:
        return
    if not "".join(ch for ch in value if ch not in hidden).strip():
        raise _err("a displayName may not be blank (only spaces and invisible characters)")
    ch = next(ch for ch in value if ch in hidden)
    raise _err(
        "a displayName must be one line, without control {invisible}characters (it holds "
        "{char}{name})",
        invisible="or invisible " if unicodedata.category(ch) == "Cf" else "",
        char=char_name(ch),
        name=f" {unicodedata.name(ch).lower()}" if unicodedata.name(ch, "") else "",
    )


def _check_nonempty(value: str) -> str:
    if not value.strip():
        raise _err("may not be empty (leave the field out instead)")
    return value


def is_env_var_name(value: object) -> bool:
    """Whether an apiKeyEnv can name a variable: the one check, here and wherever the
    value would be shown (anything else may be a key pasted in by mistake)."""
    return isinstance(value, str) and _ENV_VAR_RE.fullmatch(value) is not None


def _check_env_var(value: str) -> str:
    if not is_env_var_name(value):
        # The value is never shown: it may be a key pasted in by mistake.
        raise _err(NOT_AN_ENV_VAR)
    return value


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise _err("{value!r} is not an http:// or https:// URL", value=value)
    parts = urlsplit(value)
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="")
    if "@" in parts.netloc:
        raise _err(
            "{value!r} carries credentials (user:password@): remove them; the key comes from "
            "the environment's apiKeyEnv",
            value=shown.geturl(),
        )
    if parts.query or parts.fragment:
        raise _err(
            "{value!r}: give the base URL without a query or fragment (voicectl adds the "
            "API paths)",
            value=shown.geturl(),
        )
    if "/waves/v1" in parts.path:
        base = shown.geturl().split("/waves/v1", 1)[0]
        raise _err(
            "{value!r}: give the base URL without /waves/v1 (voicectl adds the API paths): "
            "{base!r}",
            value=value,
            base=base,
        )
    return value


def _exact_int(value: Any) -> Any:
    # Literal[1] alone would take true and 1.0 (they equal 1).
    if type(value) is not int:
        raise PydanticCustomError("version_type", "not the number 1")
    return value


Name = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN}),
]
Tag = Annotated[
    str,
    AfterValidator(_check_tag),
    WithJsonSchema({"type": "string", "pattern": TAG_PATTERN, "minLength": 1}),
]
Language = Annotated[
    str,
    AfterValidator(_check_language),
    WithJsonSchema({"type": "string", "pattern": languages.LANGUAGE_PATTERN}),
]
Model = Annotated[
    str,
    AfterValidator(_check_model),
    WithJsonSchema({"type": "string", "enum": list(languages.CLONE_MODELS)}),
]
DisplayName = Annotated[
    str,
    AfterValidator(_check_display_name),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": DISPLAY_NAME_MAX, "pattern": r"\S"}
    ),
]
NonEmpty = Annotated[
    str, AfterValidator(_check_nonempty), WithJsonSchema({"type": "string", "minLength": 1})
]
EnvVarName = Annotated[
    str,
    AfterValidator(_check_env_var),
    WithJsonSchema({"type": "string", "pattern": ENV_VAR_PATTERN}),
]
Url = Annotated[
    str,
    AfterValidator(_check_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://.+"}),
]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DefaultsDocument(_Document):
    """Values every voice gets unless it sets its own."""

    language: Language | None = Field(
        default=None, description="Default language code of each voice's sample (e.g. en, hi)."
    )
    accent: NonEmpty | None = Field(
        default=None, description="Default accent (free text, e.g. general, indian)."
    )
    model: Model | None = Field(
        default=None,
        description="Default clone model: lightning-v3.1 (the default) or lightning-v3.1-pro.",
    )
    description: str | None = Field(default=None, description="Default description.")
    tags: list[Tag] | None = Field(
        default=None,
        description="Tags every voice gets; a voice's own tags are added after these "
        "(union, in order, without repeats).",
    )


def _finite(value: float) -> float:
    if value != value or value in (float("inf"), float("-inf")):
        raise _err("expected a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite), WithJsonSchema({"type": "number"})]


class QualityDocument(_Document):
    """Limits of the sample quality checks (each unset limit keeps its default).

    Set at the top of the manifest for every voice, and per voice over that.
    """

    min_speech_seconds: Number | None = Field(
        default=None,
        alias="minSpeechSeconds",
        description="Error: less speech than this, in seconds (default 3).",
    )
    padded_speech_seconds: Number | None = Field(
        default=None,
        alias="paddedSpeechSeconds",
        description="Warning (mostly padding): less speech than this, in seconds (default 5).",
    )
    min_speech_percent: Number | None = Field(
        default=None,
        alias="minSpeechPercent",
        description="Warning (mostly padding): less of the file than this is speech, in "
        "percent (default 60).",
    )
    max_silence_seconds: Number | None = Field(
        default=None,
        alias="maxSilenceSeconds",
        description="Warning: a silence inside the speech longer than this, in seconds "
        "(default 2).",
    )
    max_clipping_percent: Number | None = Field(
        default=None,
        alias="maxClippingPercent",
        description="Warning: more samples than this at full scale, in percent (default 0.1).",
    )
    error_clipping_percent: Number | None = Field(
        default=None,
        alias="errorClippingPercent",
        description="Error: more samples than this at full scale, in percent (default 1).",
    )
    min_loudness: Number | None = Field(
        default=None,
        alias="minLoudness",
        description="Warning: quieter than this integrated loudness, in LUFS (default -35).",
    )
    error_loudness: Number | None = Field(
        default=None,
        alias="errorLoudness",
        description="Error: quieter than this integrated loudness, in LUFS (default -50).",
    )
    max_loudness: Number | None = Field(
        default=None,
        alias="maxLoudness",
        description="Warning: louder than this integrated loudness, in LUFS (default -8).",
    )
    min_snr: Number | None = Field(
        default=None,
        alias="minSnr",
        description="Warning: an estimated signal-to-noise ratio below this, in dB (default 20).",
    )
    min_sample_rate: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        alias="minSampleRate",
        description="Warning: a sample rate below this, in Hz (default 16000).",
    )


QualityKind = Literal[QUALITY_KINDS]  # type: ignore[valid-type]


class VoiceDocument(_Document):
    """One voice clone. Its key in ``voices`` is its stable name."""

    file: NonEmpty = Field(
        description="The sample audio (wav, mp3, mp4 or webm; at most 5 MB; 5-15 s of "
        "speech), relative to the manifest's folder and inside it."
    )
    display_name: DisplayName | None = Field(
        default=None,
        alias="displayName",
        description="The clone's name on the service (1-500 characters). Default: the key.",
    )
    language: Language | None = Field(
        default=None,
        description="Language code of the sample (en, hi, multi, ...). Default: "
        "defaults.language; null means none even when a default is set.",
    )
    description: str | None = Field(
        default=None, description="Free text. Default: defaults.description."
    )
    accent: NonEmpty | None = Field(
        default=None, description="Accent (e.g. general, indian). Default: defaults.accent."
    )
    model: Model | None = Field(
        default=None,
        description="The clone model: lightning-v3.1 or lightning-v3.1-pro. Default: "
        "defaults.model, else lightning-v3.1. Changing it replaces the clone.",
    )
    tags: list[Tag] | None = Field(
        default=None,
        description="Tags, added after defaults.tags. No commas, no surrounding spaces, "
        "no 'voicectl-' prefix (reserved for ownership tags).",
    )
    protect: bool = Field(
        default=False, description="Never delete or replace this clone (default false)."
    )
    quality: QualityDocument | None = Field(
        default=None,
        description="Quality limits for this voice's sample, over the top-level quality.",
    )
    allow_quality: list[QualityKind] | None = Field(
        default=None,
        alias="allowQuality",
        description="Quality findings this voice accepts on purpose (e.g. [clipping]): "
        "they are not reported.",
    )
    environments: list[Name] | None = Field(
        default=None,
        min_length=1,
        description="Only in these environments (names declared under the manifest's "
        "environments). Default: in every environment.",
    )


class SafetyDocument(_Document):
    """The mass-change rule's thresholds (octoDNS's update/delete thresholds)."""

    max_change_fraction: float = Field(
        default=0.30,
        gt=0,
        le=1,
        alias="maxChangeFraction",
        description="Refuse a plan that deletes or replaces more than this fraction of the "
        "existing clones (without --allow-mass-delete). Default 0.3.",
    )
    min_existing: int = Field(
        default=10,
        ge=0,
        alias="minExisting",
        description="Apply the rule only once at least this many clones exist. Default 10.",
    )


class EnvironmentDocument(_Document):
    """One environment (an organisation): where its key is, and what differs there."""

    api_key_env: EnvVarName = Field(
        alias="apiKeyEnv",
        description="The name of the environment variable that holds this environment's "
        "API key (never the key itself), e.g. SMALLEST_API_KEY_PROD.",
    )
    api_url: Url | None = Field(
        default=None,
        alias="apiUrl",
        description="This environment's Waves API base URL. Default: --api-url / "
        "VOICECTL_API_URL, else the real service.",
    )
    defaults: DefaultsDocument | None = Field(
        default=None,
        description="Defaults for this environment, over the manifest's defaults field by "
        "field (tags are added after the manifest's).",
    )


class MovedDocument(_Document):
    """A voice key renamed: the clone recorded as ``from`` is ``to``'s now (no API call)."""

    from_: Name = Field(alias="from", description="The old key (no longer in voices).")
    to: Name = Field(description="The new key (declared in voices).")


class ManifestDocument(_Document):
    """voices.yaml: which voice clones should exist, for one stack."""

    model_config = ConfigDict(
        title="voicectl manifest (voices.yaml)",
        json_schema_extra=lambda schema: _schema_extra(schema),
    )

    version: Annotated[Literal[1], BeforeValidator(_exact_int)] = Field(
        description="The manifest format version; must be 1."
    )
    stack: Name | None = Field(
        default=None,
        description="Whose clones these are: voicectl tags every clone it makes with it, "
        "and prunes only clones of this stack. Left out: the project gets a stack of its "
        "own, made once and recorded in the lockfile.",
    )
    prune: Literal["managed", "all", "none"] = Field(
        default="managed",
        description="What to delete: clones of this stack not in the manifest (managed), "
        "every clone not in the manifest (all), or nothing (none).",
    )
    ignore: list[NonEmpty] | None = Field(
        default=None,
        description="displayName globs (fnmatch, case-sensitive) or voiceIds of clones "
        "voicectl never touches.",
    )
    defaults: DefaultsDocument | None = Field(
        default=None, description="Defaults for language, accent, description and tags."
    )
    quality: QualityDocument | None = Field(
        default=None, description="Limits of the sample quality checks, for every voice."
    )
    environments: dict[Name, EnvironmentDocument] | None = Field(
        default=None,
        min_length=1,
        description="The environments (organisations) this manifest is applied to, by "
        "name; each has its own key, lockfile (voices.<env>.lock.json) and stack. When "
        "declared, every command that talks to the service needs --env NAME.",
    )
    safety: SafetyDocument | None = Field(
        default=None,
        description="Thresholds of the plan's mass-change refusal (default: more than 30% "
        "of at least 10 existing clones).",
    )
    include: list[NonEmpty] | None = Field(
        default=None,
        description="Globs of further files whose voices are merged into this manifest, "
        "relative to its folder and inside it (e.g. voices.d/*.yaml).",
    )
    voices: dict[Name, VoiceDocument] | None = Field(
        default=None,
        description="The voices, by stable name. Empty or missing means none: with prune, "
        "every clone this stack owns is deleted.",
    )
    moved: list[MovedDocument] | None = Field(
        default=None,
        description="Renamed voice keys ({from: OLD, to: NEW}): the clone stays, only the "
        "lockfile is rewritten.",
    )
    removed: list[Name] | None = Field(
        default=None,
        description="Voice keys voicectl stops managing without deleting their clones "
        "(released: never pruned afterwards).",
    )


class IncludedDocument(_Document):
    """A file named by the manifest's ``include``: more voices, nothing else."""

    model_config = ConfigDict(
        title="voicectl included voices file",
        json_schema_extra=lambda schema: _schema_extra(schema),
    )

    voices: dict[Name, VoiceDocument] | None = Field(
        default=None,
        description="More voices, by stable name; sample paths are relative to this file.",
    )


def _schema_extra(schema: dict[str, Any]) -> None:
    """What pydantic cannot say itself: ``x-`` keys are allowed at the top (YAML
    anchors live there), and voice keys must be names (``propertyNames``)."""
    schema["patternProperties"] = {"^x-": {}}
    for key in ("voices", "environments"):
        if key not in schema["properties"]:
            continue
        for option in schema["properties"][key].get("anyOf", []):
            if option.get("type") == "object":
                (value,) = option.pop("patternProperties").values()
                option["propertyNames"] = {"pattern": NAME_PATTERN}
                option["additionalProperties"] = value


# The document model at each depth of a path, for did-you-mean on unknown fields.
def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    if path == ():
        return ManifestDocument
    if path == ("defaults",):
        return DefaultsDocument
    if path == ("quality",) or (len(path) == 3 and path[0] == "voices" and path[2] == "quality"):
        return QualityDocument
    if len(path) == 2 and path[0] == "voices":
        return VoiceDocument
    if len(path) == 2 and path[0] == "moved":
        return MovedDocument
    if len(path) == 2 and path[0] == "environments":
        return EnvironmentDocument
    if len(path) == 3 and path[0] == "environments" and path[2] == "defaults":
        return DefaultsDocument
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]
