"""Typed shapes of what the Waves API sends and receives.

The service's entries vary: old clones miss fields, new fields appear, ``model``
is an object in the published example but a string in the schema, ``tags`` is
an array (but is sent as one comma-separated string). These models accept all
of that, drop unknown fields, and expose one normalised view.
"""

from __future__ import annotations

from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, ConfigDict, Field, TypeAdapter, field_validator
from pydantic.dataclasses import dataclass

if TYPE_CHECKING:  # a type only: the models do no file I/O (the plan imports them)
    from pathlib import Path

CURRENT_MODEL = "lightning-v3.1"  # the model id as clones' modelIds spell it
PRO_MODEL = "lightning-v3.1-pro"  # the premium Pro pool (changelog 2026-08-10)
CURRENT_MODELS = (CURRENT_MODEL, PRO_MODEL)  # a clone on either is current, never legacy
LEGACY_MODEL = "lightning-large"
TTS_MODEL = "lightning_v3.1"  # the same model as the TTS endpoint spells it


# Listed clones are held by the ten thousand: slotted dataclasses (no instance dict,
# no "fields set"), validated by pydantic all the same. Unknown fields are dropped.
_LENIENT = ConfigDict(populate_by_name=True, extra="ignore")


@dataclass(slots=True, config=_LENIENT)
class Sample:
    """A pre-generated clip of a new voice (a signed URL on the real service)."""

    text: str | None = None
    audio_url: str | None = Field(
        default=None, validation_alias=AliasChoices("audioUrl", "audio_url")
    )


def _model_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("modelName", "name", "_id", "id"):
            if isinstance(value.get(key), str):
                return value[key]
    return str(value)


def _split_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(t).strip() for t in value if str(t).strip()]


@dataclass(slots=True, config=_LENIENT)
class Clone:
    """One voice clone as the list or create endpoint reports it (``Clone.from_api``)."""

    voice_id: str = Field(min_length=1, validation_alias=AliasChoices("voiceId", "voice_id"))
    record_id: str | None = Field(default=None, validation_alias=AliasChoices("_id", "record_id"))
    display_name: str = Field(
        default="", validation_alias=AliasChoices("displayName", "display_name")
    )
    description: str | None = None
    accent: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    status: str | None = None
    cloning_type: str | None = Field(
        default=None, validation_alias=AliasChoices("cloningType", "cloning_type")
    )
    model_ids: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("modelIds", "model_ids")
    )
    model: str | None = None
    created_at: str | None = Field(
        default=None, validation_alias=AliasChoices("createdAt", "created_at")
    )
    samples: list[Sample] = Field(default_factory=list)
    organization_id: str | None = Field(
        default=None, validation_alias=AliasChoices("organizationId", "organization_id")
    )

    @classmethod
    def from_api(cls, data: Any) -> Clone:
        """Validate one entry as the service sends it; raises pydantic's ValidationError."""
        return _clone_adapter().validate_python(data)

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> str | None:
        return _model_name(value)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        return _split_tags(value)

    @field_validator("model_ids", mode="before")
    @classmethod
    def _model_ids(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        return [_model_name(v) or "" for v in value]

    @field_validator("samples", mode="before")
    @classmethod
    def _samples(cls, value: Any) -> list[Any]:
        return value or []

    @field_validator("organization_id", mode="before")
    @classmethod
    def _organization_id(cls, value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    @field_validator("display_name", mode="before")
    @classmethod
    def _display_name(cls, value: Any) -> str:
        return "" if value is None else str(value)

    @property
    def models(self) -> list[str]:
        """The models this clone works on: ``modelIds``, else its ``model``."""
        if self.model_ids:
            return list(self.model_ids)
        return [self.model] if self.model else []

    @property
    def is_current(self) -> bool:
        """True when the clone works on lightning-v3.1 or lightning-v3.1-pro."""
        # `models` without building its list (a plan asks four times per voice)
        return any(m in CURRENT_MODELS for m in (self.model_ids or (self.model,)))

    @property
    def is_legacy(self) -> bool:
        """True when the clone lacks every current model (e.g. made by add_voice)."""
        return not self.is_current

    @property
    def clone_model(self) -> str | None:
        """The current model this clone is on (Pro first), or None for a legacy one."""
        for model in (PRO_MODEL, CURRENT_MODEL):
            if model in self.models:
                return model
        return None


@plain_dataclass(frozen=True)
class CloneRequest:
    """What a create sends: the form fields of POST /waves/v1/voice-cloning."""

    display_name: str
    file: Path
    language: str | None = None
    description: str | None = None
    accent: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    model: str = CURRENT_MODEL


@plain_dataclass(frozen=True)
class DeleteResult:
    """The outcome of a delete: ``deleted`` now, or ``already_gone`` before."""

    voice_id: str
    already_gone: bool = False


@cache
def _clone_adapter() -> TypeAdapter[Clone]:
    """Clone's validator, built on first use."""
    return TypeAdapter(Clone)
