"""Errors of the Waves client, as classes a caller can catch.

``WavesError`` is the root. A create that may or may not have happened raises
``AmbiguousCreateError``; every other error of a create means it definitely did
not happen. The API key never appears in any message or repr.
"""

from __future__ import annotations


class WavesError(Exception):
    """Any failure talking to the Waves API."""

    status: int | None = None
    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class AuthError(WavesError):
    """401/403: the key is missing, wrong or not allowed."""


class BadRequestError(WavesError):
    """400: the server refused the request; ``message`` is the server's own."""


class CloneLimitError(BadRequestError):
    """400: the organisation has reached its clone limit."""


class NotFoundError(WavesError):
    """404, or a 400 that says the voice id is unknown.

    ``voice_unknown`` is True when the server said the VOICE is unknown (a 400
    "invalid voice id", or a 404 whose message says so); a bare 404 means the
    route itself is not there.
    """

    def __init__(self, message: str, *, status: int | None = None, voice_unknown: bool = False):
        super().__init__(message, status=status)
        self.voice_unknown = voice_unknown


class DeprecatedRouteError(WavesError):
    """410 ``MODEL_DEPRECATED``: the service has retired this route.

    ``server_message`` is the server's own words and ``recommended_endpoint`` the
    route it recommends instead (either may be empty if the body lacked it).
    """

    def __init__(
        self,
        message: str,
        *,
        server_message: str = "",
        recommended_endpoint: str | None = None,
        status: int = 410,
    ):
        super().__init__(message, status=status)
        self.server_message = server_message
        self.recommended_endpoint = recommended_endpoint


class DeleteUnavailableError(WavesError):
    """No delete route works for this key today (retired, absent, or refusing the key).

    Not a failure of the run: the clone is handed to the user (and recorded) to be
    deleted in the dashboard or by a later apply. ``reason`` says why, in one line.
    """

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


class RateLimitedError(WavesError):
    """429 after every allowed retry. ``retry_after`` in seconds, if sent."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, status: int = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(WavesError):
    """5xx. ``error_code`` is the server's (``voice_clone_timeout`` ...), if any."""

    retryable = True

    def __init__(self, message: str, *, status: int, error_code: str | None = None):
        super().__init__(message, status=status)
        self.error_code = error_code


class TransportError(WavesError):
    """No usable HTTP answer: connection refused or dropped, timeout, bad JSON."""

    retryable = True


class TimedOutError(TransportError):
    """No answer in time: a request the server got may still be in progress there (a
    create timed out is not known to have failed: it may finish after the client gave up)."""


class ConnectionFailedError(TransportError):
    """No connection could be opened (refused, unknown host, no network): nothing was sent."""


class AmbiguousCreateError(WavesError):
    """A create whose outcome is unknown: the clone may exist although it failed.

    Never retry such a create blindly: list the clones and look for the one
    carrying this create's ownership tags first. ``cause`` is the underlying error.
    """

    def __init__(self, message: str, *, cause: WavesError):
        super().__init__(message, status=cause.status)
        self.cause = cause


class InsecureURLError(WavesError):
    """A plain http:// URL that is not loopback was given while a key is set."""
