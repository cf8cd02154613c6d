"""API profiles: which world of the Waves API the sandbox plays.

``seed`` is the API of the seed page (spring 2026): ``DELETE
/waves/v1/lightning-large`` deletes any clone, the legacy ``lightning-large/*``
routes live, only ``lightning-v3.1`` may be cloned, TTS answers without an
``Accept`` header. ``current`` is the provider's newest published API
(2026-08): the old delete route answers 410 ``MODEL_DEPRECATED``, its successor
``POST /waves/v1/voice-cloning/delete`` refuses API keys (401), the legacy
routes answer 410, ``lightning-v3.1-pro`` may be cloned, and TTS needs
``Accept: audio/wav`` (without it the answer is empty, as the docs warn).

A profile only sets defaults: each behaviour can be set on its own
(``delete_route``, ``legacy_routes``, ``pro_model``, ``tts_accept_required``)
and changed at run time through ``POST /_sandbox/config``. :class:`Behaviour`
is the resolved view the handlers read.
"""

from __future__ import annotations

from dataclasses import dataclass

PROFILES = ("seed", "current")
DELETE_ROUTES = ("lightning-large", "voice-cloning", "none")
LEGACY_ROUTES = ("live", "gone")

OLD_DELETE_PATH = "/waves/v1/lightning-large"
NEW_DELETE_PATH = "/waves/v1/voice-cloning/delete"

_DEFAULTS = {
    "seed": {
        "delete_route": "lightning-large",
        "legacy_routes": "live",
        "pro_model": False,
        "tts_accept_required": False,
    },
    "current": {
        "delete_route": "none",
        "legacy_routes": "gone",
        "pro_model": True,
        "tts_accept_required": True,
    },
}


@dataclass(frozen=True)
class Behaviour:
    """The sandbox's API world, every knob resolved."""

    profile: str
    delete_route: str
    legacy_routes: str
    pro_model: bool
    tts_accept_required: bool

    @property
    def old_delete_works(self) -> bool:
        return self.delete_route == "lightning-large"

    @property
    def new_delete_exists(self) -> bool:
        """The new route exists (it may still refuse API keys)."""
        return self.delete_route != "lightning-large"

    @property
    def new_delete_works(self) -> bool:
        return self.delete_route == "voice-cloning"

    @property
    def array_errors(self) -> bool:
        """TTS validation errors as the newest reference shows them (an array)."""
        return self.profile == "current"


def resolve(profile: str, **overrides: object) -> Behaviour:
    """The behaviour of ``profile`` with every non-None override applied."""
    values = dict(_DEFAULTS[profile])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Behaviour(profile=profile, **values)  # type: ignore[arg-type]


def deprecated_body(message: str, recommended: str) -> dict[str, str]:
    """The 410 body of a retired route, in the published shape."""
    return {
        "status": "error",
        "error_code": "MODEL_DEPRECATED",
        "message": message,
        "recommended_endpoint": recommended,
    }


OLD_DELETE_GONE = deprecated_body(
    "DELETE /waves/v1/lightning-large is deprecated and no longer works. "
    "API delete is currently only available from the dashboard.",
    "POST " + NEW_DELETE_PATH,
)
LEGACY_GONE = deprecated_body(
    "The lightning-large model is deprecated: this endpoint no longer works.",
    "POST /waves/v1/voice-cloning",
)
NEW_DELETE_REFUSED = "Unauthorized: this endpoint does not accept API keys yet; use the dashboard"
