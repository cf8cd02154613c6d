"""The sandbox's knobs: faults, latency, limits and lifecycle, as one pydantic model.

Every field is also a ``voicectl sandbox serve`` flag (``latency_ms`` is
``--latency-ms``) and a ``VOICECTL_SANDBOX_*`` variable, and can be changed on a
running sandbox with ``POST /_sandbox/config``. Defaults describe a well-behaved
service: no faults, no latency, no concurrency limit, clones ready at once.

API keys are secrets: ``api_keys`` is never dumped, printed or persisted. The
public view (:meth:`SandboxConfig.public`) shows only how many keys there are and
the organisation ids they map to.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reconciler.sandbox import profiles

FAULT_KINDS = ("500", "502", "503", "drop", "truncate")

# The organisation id of a key: 24 hex digits of a salted sha256, like a Mongo id.
_ORG_SALT = b"voicectl-sandbox-org:"


def org_id_for_key(api_key: str) -> str:
    """The organisation a key belongs to (every distinct key is its own organisation)."""
    return hashlib.sha256(_ORG_SALT + api_key.encode("utf-8")).hexdigest()[:24]


class SandboxConfig(BaseModel):
    """How the emulator behaves. All fields are optional; the defaults misbehave in no way."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    seed: int | None = Field(
        default=None,
        description="Seed of the one RNG behind every fault decision (None: random).",
    )
    latency_ms: float = Field(
        default=0.0, ge=0, le=600_000, description="Added to every /waves request."
    )
    jitter_ms: float = Field(
        default=0.0, ge=0, le=600_000, description="Uniform +/- around latency_ms."
    )
    concurrency_limit: int = Field(
        default=0,
        ge=0,
        description="Requests in flight per organisation before a 429 (0: unlimited).",
    )
    tts_concurrency: int = Field(
        default=1,
        ge=0,
        description="Text-to-speech requests in flight per organisation before a 429 (the "
        "base plan's 1; 0: unlimited).",
    )
    retry_after: float | None = Field(
        default=None,
        ge=0,
        description="Seconds sent as Retry-After on a 429 (None: no header).",
    )
    fault_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of /waves requests that fault."
    )
    fault_kinds: list[str] = Field(
        default_factory=lambda: list(FAULT_KINDS),
        description="The faults fault_rate picks from (uniformly): 500 502 503 drop truncate.",
    )
    ghost_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Fraction of creates answered 500 voice_clone_timeout, clone made anyway.",
    )
    list_lag_ms: float = Field(
        default=0.0, ge=0, le=86_400_000, description="A new clone is listed this much later."
    )
    list_page_size: int = Field(
        default=0,
        ge=0,
        description="Answer clone lists one page at a time: at most this many entries, with "
        "hasMore and total (0: the whole list, as the API does today). Pagination is not "
        "published; this plays an API that starts paging.",
    )
    list_barrier: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Clone lists wait until this many (of any organisations) are in flight "
        "together (0: no barrier); for tests of concurrent listing (sandbox/barrier.py).",
    )
    list_barrier_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a list waits at the barrier before it is refused (400).",
    )
    processing_seconds: float = Field(
        default=0.0, ge=0, le=86_400, description="A new clone is 'processing' this long."
    )
    failure_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of new clones that end 'failed'."
    )
    empty_sample_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Fraction of clones whose sample clips are near-empty WAVs (~150 bytes, "
        "the legacy-clone symptom); which clones is fixed by their voiceId.",
    )
    clone_limit: int = Field(default=100, ge=0, description="Clones an organisation may hold.")
    profile: Literal["seed", "current"] = Field(
        default="seed",
        description="The API world: seed (the seed page's API) or current (the newest "
        "published one). The knobs below default to the profile's.",
    )
    delete_route: Literal["lightning-large", "voice-cloning", "none"] | None = Field(
        default=None,
        description="The route that deletes for an API key: lightning-large (DELETE "
        "/waves/v1/lightning-large), voice-cloning (POST /waves/v1/voice-cloning/delete) "
        "or none (old route 410, new route 401). None: the profile's.",
    )
    legacy_routes: Literal["live", "gone"] | None = Field(
        default=None,
        description="The /waves/v1/lightning-large/* routes: live, or gone (410). "
        "None: the profile's.",
    )
    pro_model: bool | None = Field(
        default=None, description="Create accepts lightning-v3.1-pro. None: the profile's."
    )
    tts_accept_required: bool | None = Field(
        default=None,
        description="TTS answers an empty body unless 'Accept: audio/wav' is sent. "
        "None: the profile's.",
    )
    api_keys: list[str] = Field(
        default_factory=list,
        exclude=True,
        repr=False,
        description="Accept only these keys (empty: any key, each its own organisation).",
    )

    @field_validator("fault_kinds", mode="before")
    @classmethod
    def _fault_kinds(cls, value: Any) -> list[str]:
        if value is None:
            return list(FAULT_KINDS)
        if isinstance(value, str):
            value = value.split(",")
        kinds = [str(v).strip() for v in value if str(v).strip()]
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(
                f"unknown fault kind {unknown[0]!r} (choose from {', '.join(FAULT_KINDS)})"
            )
        if not kinds:
            raise ValueError("at least one fault kind is needed")
        return kinds

    @field_validator("concurrency_limit", mode="before")
    @classmethod
    def _concurrency_limit(cls, value: Any) -> Any:
        return 0 if value is None else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _api_keys(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        for key in value:
            if not isinstance(key, str) or not key or any(c.isspace() for c in key):
                raise ValueError("an API key must be a non-empty string without spaces")
        return value

    @property
    def behaviour(self) -> profiles.Behaviour:
        """The API world these settings describe, every knob resolved."""
        return profiles.resolve(
            self.profile,
            delete_route=self.delete_route,
            legacy_routes=self.legacy_routes,
            pro_model=self.pro_model,
            tts_accept_required=self.tts_accept_required,
        )

    @property
    def allowed_orgs(self) -> frozenset[str] | None:
        """The organisations whose keys are accepted, or None when any key is."""
        if not self.api_keys:
            return None
        return frozenset(org_id_for_key(k) for k in self.api_keys)

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        """A copy with ``changes`` applied and validated (raises ``ValidationError``)."""
        data = self.model_dump()
        data["api_keys"] = list(self.api_keys)
        data.update(changes)
        return SandboxConfig.model_validate(data)

    def public(self) -> dict[str, Any]:
        """The config as the hooks show it: everything but the keys themselves."""
        data = self.model_dump()
        allowed = self.allowed_orgs
        data["api_key_count"] = len(self.api_keys)
        data["allowed_orgs"] = sorted(allowed) if allowed is not None else None
        data["behaviour"] = dataclasses.asdict(self.behaviour)
        return data


def describe_validation_error(exc: ValidationError, *, flag_style: bool = False) -> str:
    """One line naming the first bad field (as ``--flag-name`` when ``flag_style``)."""
    first = exc.errors()[0]
    loc = first.get("loc") or ("config",)
    name = str(loc[0])
    if flag_style:
        name = "--api-key" if name == "api_keys" else "--" + name.replace("_", "-")
    message = first.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    got = first.get("input")
    secret = str(loc[0]) == "api_keys"  # never echo a key back
    plain = got is not None and not isinstance(got, (dict, list))
    suffix = f" (got {got!r})" if plain and not secret else ""
    if len(exc.errors()) > 1:
        suffix += f" and {len(exc.errors()) - 1} more problem(s)"
    return f"{name}: {message}{suffix}"
