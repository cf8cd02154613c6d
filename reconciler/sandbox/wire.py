"""What the sandbox's gate, handlers and hooks agree on over the wire.

Every endpoint, ``/waves`` or ``/_sandbox``, answers an error as a JSON object
``{"error": message, ...}``; :func:`error_response` builds it. The gate
(:mod:`reconciler.sandbox.gate`) passes what it learnt about a request to the
handlers through the ASGI scope: the caller's organisation under ``ORG_KEY`` and
the fault decision under ``DECISION_KEY``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

ORG_KEY = "voicectl.sandbox.org"
DECISION_KEY = "voicectl.sandbox.decision"


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)
