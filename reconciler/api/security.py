"""Keeping the API key secret: where it comes from, where it may go, and redaction.

The key is read from the environment, checked to be sendable as a header, and
only ever sent over https or to a loopback address. Anything the client turns
into text (an error message, a log line) goes through :class:`Redactor` first,
so a server that echoes the key back cannot make the client print it.
"""

from __future__ import annotations

import ipaddress
import os
import re

import httpx

from reconciler.api.errors import AuthError, InsecureURLError, WavesError

API_KEY_ENV = "SMALLEST_API_KEY"

_LOOPBACK_NAMES = {"localhost", "localhost."}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SENDABLE_KEY = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces


def api_key_from_env(
    environ: dict[str, str] | None = None, *, name: str = API_KEY_ENV
) -> str | None:
    """The key from ``SMALLEST_API_KEY`` (or the variable ``name``: an environment's
    apiKeyEnv), whitespace stripped; None if unset or blank."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_api_key(api_key: str | None) -> str | None:
    """Refuse a key that cannot go in an HTTP header (without showing it)."""
    if api_key is None:
        return None
    if not _SENDABLE_KEY.fullmatch(api_key):
        raise AuthError(
            "the API key contains spaces, control or non-ASCII characters and cannot be sent"
        )
    return api_key


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (also IPv4-mapped)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_base_url(
    base_url: str, api_key: str | None, *, in_process: bool = False, key_env: str = API_KEY_ENV
) -> httpx.URL:
    """Parse the API base URL; refuse plain http to a non-loopback host when a key is set.

    ``in_process``: the transport never leaves the process (``httpx.ASGITransport``,
    the embedded sandbox), so any host name is as safe as loopback.
    """
    text = base_url.strip()
    if "://" not in text:
        shown = _strip_userinfo(text)
        raise WavesError(f"invalid API URL {shown!r}: no scheme; did you mean 'https://{shown}'?")
    try:
        url = httpx.URL(text)
    except Exception as exc:  # httpx.InvalidURL and friends
        raise WavesError(f"invalid API URL {_strip_userinfo(text)!r}: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise WavesError(f"invalid API URL {safe_url(url)!r}: expected http(s)://host[:port]")
    if url.userinfo:
        raise WavesError(
            f"invalid API URL {safe_url(url)!r}: it carries credentials (user:password@); "
            f"remove them: the key comes from {key_env}"
        )
    if url.port is not None and not 0 < url.port <= 65535:
        raise WavesError(
            f"invalid API URL {safe_url(url)!r}: port {url.port} is not between 1 and 65535"
        )
    if url.query or url.fragment:
        raise WavesError(
            f"invalid API URL {safe_url(url)!r}: give the base URL without a query or "
            "fragment (voicectl adds the API paths)"
        )
    if "/waves/v1" in url.path:
        base = safe_url(url).split("/waves/v1", 1)[0]
        raise WavesError(
            f"invalid API URL {safe_url(url)!r}: give the base URL without /waves/v1 "
            f"(voicectl adds the API paths): {base!r}"
        )
    insecure = url.scheme == "http" and not in_process and not is_loopback_host(url.host)
    if insecure and api_key is not None:
        raise InsecureURLError(
            f"refusing to send the API key over plain http to {url.host}: "
            "use https (plain http is allowed only to localhost/127.0.0.1/::1)"
        )
    return url


def _strip_userinfo(text: str) -> str:
    """``text`` without anything up to an ``@`` in its authority (for messages)."""
    scheme, sep, rest = text.rpartition("://")
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: where the key may be sent."""
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def safe_url(url: httpx.URL | str) -> str:
    """The URL for messages and logs: no user info, no query (signed URLs carry secrets)."""
    if isinstance(url, str):
        try:
            url = httpx.URL(url)
        except Exception:
            return "<invalid URL>"
    netloc = url.host
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if url.port is not None:
        netloc = f"{netloc}:{url.port}"
    return f"{url.scheme}://{netloc}{url.path}"


class Redactor:
    """Turns untrusted text into one safe line: key removed, control chars gone, bounded."""

    MASK = "***"

    SHORT = 8  # a key shorter than this is masked only where it stands as a word

    def __init__(self, secret: str | None, *, limit: int = 300):
        self._secret = secret
        self._limit = limit
        # "e" as the key would otherwise turn "Invalid API key" into "Invalid API k***y"
        self._word = (
            re.compile(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])")
            if secret and len(secret) < self.SHORT
            else None
        )

    def _mask(self, line: str) -> str:
        if self._word is not None:
            return self._word.sub(self.MASK, line)
        return line.replace(self._secret, self.MASK) if self._secret else line

    def __call__(self, text: object) -> str:
        line = self._mask(str(text))
        line = _CONTROL.sub(" ", line).strip()
        line = re.sub(r"\s{2,}", " ", line)
        if len(line) > self._limit:
            line = line[: self._limit - 1] + "…"
        return self._mask(line)  # a cut could not re-create it, but be certain

    def __repr__(self) -> str:
        return "Redactor()"
