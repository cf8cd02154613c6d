"""The endpoint a run talks to, as a saved plan records it: ``sandbox`` or the API URL
without user info, query or fragment (so a plan file never holds credentials)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import UserError

__all__ = ["endpoint_for", "safe_endpoint"]


def safe_endpoint(url: str) -> str:
    """The API URL as a plan file may hold it: no user info, query or fragment."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        raise UserError(f"the API URL {url!r} is not a valid URL") from None
    return urlunsplit((parts.scheme, host + port, parts.path.rstrip("/"), "", ""))


def endpoint_for(*, sandbox: bool, api_url: str | None) -> str:
    """``sandbox`` or the API base URL this run talks to (as ``workflow.open_client``)."""
    if sandbox:
        return "sandbox"
    from reconciler.api.client import DEFAULT_API_URL

    return safe_endpoint(api_url or os.environ.get("VOICECTL_API_URL") or DEFAULT_API_URL)
