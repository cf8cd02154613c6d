"""Models and their languages: the ONE table voicectl and its sandbox share.

The manifest checks (:func:`language_warning`), the emulator's create and TTS
checks (:func:`accepted`) and the compatibility probe all read this module, so
a code that validates without a warning is, by construction, a code the
sandbox accepts for that model (and the other way round).

What is known (the fact sheet's newest section, 2026-08):

* ``lightning-v3.1`` (the default clone model): 20 codes plus ``auto``;
* ``lightning-v3.1-pro``: those 20 plus 11 more (``el fi no zh ja ko id ms vi tr
  ar``) plus ``auto``;
* ``DOUBTFUL``: codes the service is reported to accept although its docs do not
  (``ar`` and ``he`` on v3.1), or that the older docs named and the newer ones
  dropped as stale (``multi``). The sandbox accepts them, like the live server;
  the manifest gets a warning that names the doubt.

Any other well-formed code is only a warning (the service is the final judge),
but the sandbox refuses it, in the live server's own wording
(:func:`refusal`). A malformed code is refused by the manifest outright.

Clone models are spelt with hyphens (``modelIds``: ``lightning-v3.1-pro``); the
TTS endpoint spells the same models with underscores (``lightning_v3.1_pro``):
:data:`TTS_MODELS` maps one to the other.
"""

from __future__ import annotations

import re

V31 = "lightning-v3.1"
PRO = "lightning-v3.1-pro"
LEGACY = "lightning-large"
DEFAULT_MODEL = V31
CLONE_MODELS = (V31, PRO)  # what a create may ask for; both are "current"
DEPRECATED_MODELS = ("lightning-v2",)
TTS_MODELS = {V31: "lightning_v3.1", PRO: "lightning_v3.1_pro"}

SPECIAL = ("auto", "multi")

SDK_LANGUAGES = (
    "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr",
    "it", "nl", "sv", "pt", "ru", "el", "fi", "no", "pl", "ar", "zh", "id", "ja", "ko",
    "ms", "tr", "vi",
)  # fmt: skip

LIGHTNING_V31_LANGUAGES = (
    "en", "es", "fr", "de", "it", "nl", "sv", "pt", "pl", "ru", "hi", "mr", "gu", "pa",
    "bn", "or", "ta", "te", "kn", "ml",
)  # fmt: skip
PRO_LANGUAGES = LIGHTNING_V31_LANGUAGES + (
    "el", "fi", "no", "zh", "ja", "ko", "id", "ms", "vi", "tr", "ar",
)  # fmt: skip

# The documented codes per clone model ("auto" first).
LANGUAGES: dict[str, tuple[str, ...]] = {
    V31: ("auto", *LIGHTNING_V31_LANGUAGES),
    PRO: ("auto", *PRO_LANGUAGES),
}

_UNDOCUMENTED = "reported to be accepted by the live server, but not in its documentation"
_STALE_MULTI = "dropped from the documentation as stale: it is not a cloning language"
DOUBTFUL: dict[str, dict[str, str]] = {
    V31: {"ar": _UNDOCUMENTED, "he": _UNDOCUMENTED, "multi": _STALE_MULTI},
    PRO: {"multi": _STALE_MULTI},
}

KNOWN_LANGUAGES = SPECIAL + SDK_LANGUAGES + ("he",)
# Back-compat name: what a lightning-v3.1 clone may have without a warning.
CLONE_LANGUAGES = LANGUAGES[V31]

LANGUAGE_PATTERN = r"^(auto|multi|[a-z]{2,3}(-[A-Za-z0-9]{2,8})*)$"
_LANGUAGE_RE = re.compile(LANGUAGE_PATTERN)

NAMES = {
    "en": "English", "hi": "Hindi", "mr": "Marathi", "kn": "Kannada", "ta": "Tamil",
    "bn": "Bengali", "gu": "Gujarati", "te": "Telugu", "ml": "Malayalam", "pa": "Punjabi",
    "or": "Odia", "es": "Spanish", "de": "German", "fr": "French", "it": "Italian",
    "nl": "Dutch", "sv": "Swedish", "pt": "Portuguese", "ru": "Russian", "el": "Greek",
    "fi": "Finnish", "no": "Norwegian", "pl": "Polish", "ar": "Arabic", "zh": "Chinese",
    "id": "Indonesian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "tr": "Turkish",
    "vi": "Vietnamese", "he": "Hebrew", "auto": "detect automatically",
    "multi": "multilingual",
}  # fmt: skip


def _model(model: str | None) -> str:
    return model if model in LANGUAGES else DEFAULT_MODEL


def is_well_formed(code: str) -> bool:
    """True for ``auto``, ``multi`` or a lowercase 2–3 letter code with optional
    subtags (``en``, ``pt-BR``); anything else is refused outright."""
    return _LANGUAGE_RE.fullmatch(code) is not None  # match with $ would take "en\n"


def accepted(model: str | None = DEFAULT_MODEL) -> tuple[str, ...]:
    """Every code the sandbox accepts for ``model``: documented, then doubtful."""
    m = _model(model)
    return LANGUAGES[m] + tuple(c for c in DOUBTFUL[m] if c not in LANGUAGES[m])


def is_clone_language(code: str, model: str | None = DEFAULT_MODEL) -> bool:
    """True when ``code`` is documented for ``model`` (no warning at all)."""
    return code in LANGUAGES[_model(model)]


def is_accepted(code: str, model: str | None = DEFAULT_MODEL) -> bool:
    """True when the sandbox (and, as far as is known, the service) accepts ``code``."""
    return code in accepted(model)


def tts_model(model: str | None) -> str:
    """The TTS spelling of a clone model (``lightning-v3.1-pro`` → ``lightning_v3.1_pro``)."""
    return TTS_MODELS[_model(model)]


def clone_model_of_tts(tts: str) -> str | None:
    """The clone model a TTS model name stands for, or None if it is not a current one."""
    for clone_model, spelt in TTS_MODELS.items():
        if spelt == tts:
            return clone_model
    return None


def refusal(code: str, model: str | None = DEFAULT_MODEL) -> str:
    """The live server's wording when it refuses ``code`` for ``model``."""
    m = _model(model)
    return (
        f"Language '{code}' is not supported on the {TTS_MODELS[m]} model. "
        f"Supported languages: {', '.join(LANGUAGES[m])}"
    )


def language_warning(code: str, model: str | None = DEFAULT_MODEL) -> str | None:
    """A warning for a well-formed code the service may refuse or doubt, else None.

    A doubtful code gets the doubt named; an unknown one the codes known to work
    (and the base language for a regional code: ``en-US`` → ``en``, or the model
    that does support it).
    """
    m = _model(model)
    if not is_well_formed(code) or is_clone_language(code, m):
        return None
    doubt = DOUBTFUL[m].get(code)
    if doubt is not None:
        return (
            f"language {code!r} on {m}: {doubt}; the service may refuse it or treat it differently"
        )
    known = " ".join(LANGUAGES[m])
    base = code.split("-", 1)[0]
    if base != code and is_clone_language(base, m):
        hint = f" (did you mean {base!r}?)"
    elif m == V31 and is_clone_language(code, PRO):
        hint = f" ({NAMES.get(code, code)} is supported by {PRO}: set model: {PRO})"
    elif code in SDK_LANGUAGES:
        hint = f" ({NAMES[code]} is in the SDK's list, but not known to work for clones)"
    else:
        hint = ""
    return (
        f"language {code!r} is not known to be accepted for {m} clones{hint}; "
        f"the service may refuse it. Known: {known}"
    )
