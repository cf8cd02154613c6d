"""The Waves API client: the only code in voicectl that speaks HTTP.

``WavesClient`` (client.py) is the entry point; ``AdaptiveLimiter`` (limiter.py)
finds the server's unpublished concurrency limit; retry.py holds the backoff and
``Retry-After`` rules; upload.py builds streamed multipart bodies; security.py
keeps the key secret; routes.py knows which delete route the service allows
today (found out once per run); responses.py reads the answers (error statuses to typed
errors, bodies to clones). Errors are in errors.py, data shapes in models.py.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {  # name -> module: imported on first use (PEP 562), so that
    # `import reconciler.api.errors` (or models) does not load httpx
    "API_KEY_ENV": "reconciler.api.security",
    "AdaptiveLimiter": "reconciler.api.limiter",
    "AmbiguousCreateError": "reconciler.api.errors",
    "AuthError": "reconciler.api.errors",
    "BadRequestError": "reconciler.api.errors",
    "CURRENT_MODEL": "reconciler.api.models",
    "Clone": "reconciler.api.models",
    "CloneLimitError": "reconciler.api.errors",
    "CloneRequest": "reconciler.api.models",
    "DEFAULT_API_URL": "reconciler.api.client",
    "DeleteResult": "reconciler.api.models",
    "DeleteUnavailableError": "reconciler.api.errors",
    "DeprecatedRouteError": "reconciler.api.errors",
    "InsecureURLError": "reconciler.api.errors",
    "LEGACY_MODEL": "reconciler.api.models",
    "LimiterStats": "reconciler.api.limiter",
    "NotFoundError": "reconciler.api.errors",
    "RateLimitedError": "reconciler.api.errors",
    "Signal": "reconciler.api.limiter",
    "RetryPolicy": "reconciler.api.retry",
    "ServerError": "reconciler.api.errors",
    "TTS_MODEL": "reconciler.api.models",
    "TransportError": "reconciler.api.errors",
    "WavesClient": "reconciler.api.client",
    "WavesError": "reconciler.api.errors",
    "api_key_from_env": "reconciler.api.security",
    "backoff_delay": "reconciler.api.retry",
    "is_loopback_host": "reconciler.api.security",
    "parse_retry_after": "reconciler.api.retry",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "API_KEY_ENV",
    "CURRENT_MODEL",
    "DEFAULT_API_URL",
    "LEGACY_MODEL",
    "TTS_MODEL",
    "AdaptiveLimiter",
    "AmbiguousCreateError",
    "AuthError",
    "BadRequestError",
    "Clone",
    "CloneLimitError",
    "CloneRequest",
    "DeleteResult",
    "DeleteUnavailableError",
    "DeprecatedRouteError",
    "InsecureURLError",
    "LimiterStats",
    "NotFoundError",
    "Signal",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "WavesClient",
    "WavesError",
    "api_key_from_env",
    "backoff_delay",
    "is_loopback_host",
    "parse_retry_after",
]
