"""Language codes: the one list voicectl (and its sandbox) knows.

The service is the final judge of which ``language`` a clone may have; it
publishes no complete list. What is known:

* ``SDK_LANGUAGES``: the codes the published Python SDK names (its ``auto`` is
  in ``SPECIAL``), in the SDK's order;
* ``SPECIAL``: ``auto`` (detect) and ``multi`` (named by the cloning docs);
* ``CLONE_LANGUAGES``: what lightning-v3.1 accepts for a clone. The fact sheet
  says "a subset, 20 codes plus auto" without naming them; the published
  lightning-v3.1 language list of Smallest AI's own AI-SDK provider names 22,
  of which these 21 are also SDK codes (its ``he`` is not). That reading is
  used, plus ``auto`` and ``multi``.

A code must be well formed (``LANGUAGE_PATTERN``) or the manifest is refused; a
well-formed code outside ``CLONE_LANGUAGES`` is only a warning, because the
list above is a best reading and the server decides.
"""

from __future__ import annotations

import re

SPECIAL = ("auto", "multi")

SDK_LANGUAGES = (
    "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr",
    "it", "nl", "sv", "pt", "ru", "el", "fi", "no", "pl", "ar", "zh", "id", "ja", "ko",
    "ms", "tr", "vi",
)  # fmt: skip

# lightning-v3.1's subset of SDK_LANGUAGES (see the module docstring).
LIGHTNING_V31_LANGUAGES = (
    "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or", "es", "de", "fr",
    "it", "nl", "sv", "pt", "ru", "pl", "ar",
)  # fmt: skip

KNOWN_LANGUAGES = SPECIAL + SDK_LANGUAGES
CLONE_LANGUAGES = SPECIAL + LIGHTNING_V31_LANGUAGES

LANGUAGE_PATTERN = r"^(auto|multi|[a-z]{2,3}(-[A-Za-z0-9]{2,8})*)$"
_LANGUAGE_RE = re.compile(LANGUAGE_PATTERN)

NAMES = {
    "en": "English", "hi": "Hindi", "mr": "Marathi", "kn": "Kannada", "ta": "Tamil",
    "bn": "Bengali", "gu": "Gujarati", "te": "Telugu", "ml": "Malayalam", "pa": "Punjabi",
    "or": "Odia", "es": "Spanish", "de": "German", "fr": "French", "it": "Italian",
    "nl": "Dutch", "sv": "Swedish", "pt": "Portuguese", "ru": "Russian", "el": "Greek",
    "fi": "Finnish", "no": "Norwegian", "pl": "Polish", "ar": "Arabic", "zh": "Chinese",
    "id": "Indonesian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "tr": "Turkish",
    "vi": "Vietnamese", "auto": "detect automatically", "multi": "multilingual",
}  # fmt: skip


def is_well_formed(code: str) -> bool:
    """True for ``auto``, ``multi`` or a lowercase 2–3 letter code with optional
    subtags (``en``, ``pt-BR``); anything else is refused outright."""
    return bool(_LANGUAGE_RE.match(code))


def is_clone_language(code: str) -> bool:
    """True when lightning-v3.1 is known to accept ``code`` for a clone."""
    return code in CLONE_LANGUAGES


def language_warning(code: str) -> str | None:
    """A warning for a well-formed code the service may refuse, else None.

    The warning lists the codes known to work, and suggests the base language
    for a regional code (``en-US`` → ``en``).
    """
    if not is_well_formed(code) or is_clone_language(code):
        return None
    known = " ".join(CLONE_LANGUAGES)
    base = code.split("-", 1)[0]
    if base != code and is_clone_language(base):
        hint = f" (did you mean {base!r}?)"
    elif code in SDK_LANGUAGES:
        hint = f" ({NAMES[code]} is in the SDK's list, but not known to work for clones)"
    else:
        hint = ""
    return (
        f"language {code!r} is not known to be accepted for lightning-v3.1 clones{hint}; "
        f"the service may refuse it. Known: {known}"
    )
