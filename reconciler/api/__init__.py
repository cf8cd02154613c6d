"""The Waves API client: the only code in voicectl that speaks HTTP.

``WavesClient`` (client.py) is the entry point; ``AdaptiveLimiter`` (limiter.py)
finds the server's unpublished concurrency limit; retry.py holds the backoff and
``Retry-After`` rules; upload.py builds streamed multipart bodies; security.py
keeps the key secret; routes.py knows which delete route the service allows
today (found out once per run); responses.py reads the answers (error statuses to typed
errors, bodies to clones). Errors are in errors.py, data shapes in models.py.
"""

from __future__ import annotations

from reconciler.api.client import DEFAULT_API_URL, WavesClient
from reconciler.api.errors import (
    AmbiguousCreateError,
    AuthError,
    BadRequestError,
    CloneLimitError,
    DeleteUnavailableError,
    DeprecatedRouteError,
    InsecureURLError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    WavesError,
)
from reconciler.api.limiter import AdaptiveLimiter, LimiterStats, Signal
from reconciler.api.models import (
    CURRENT_MODEL,
    LEGACY_MODEL,
    TTS_MODEL,
    Clone,
    CloneRequest,
    DeleteResult,
)
from reconciler.api.retry import RetryPolicy, backoff_delay, parse_retry_after
from reconciler.api.security import API_KEY_ENV, api_key_from_env, is_loopback_host

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
