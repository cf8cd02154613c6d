"""What the client makes of the server's answer, or of its lack of one.

:func:`status_error`, :func:`transport_error` and :func:`bad_body_error` turn an
error status, an httpx exception or an unreadable 2xx body into a one-line typed
error from ``errors.py`` that names the operation and never holds the key, and
say whether the request was sent and may be retried; :func:`definite` says after
which errors the server surely did nothing.
:func:`parse_clone_list` and :func:`parse_created` read a 2xx body into
:class:`Clone` objects, raising :class:`BadBody` when it cannot be understood, and
:func:`filter_clones` applies the list filters the server may have ignored. No
I/O happens here: :class:`reconciler.api.client.WavesClient` sends, retries and
calls these.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from reconciler.api.errors import (
    AuthError,
    BadRequestError,
    CloneLimitError,
    ConnectionFailedError,
    DeprecatedRouteError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TimedOutError,
    TransportError,
    WavesError,
)
from reconciler.api.models import Clone

Redact = Callable[[object], str]

_CLONE_LIMIT = re.compile(
    r"clone limit|limit of \d* ?(voice )?clones|(max(imum)?|number of) (voice )?clones"
    r"|clones? (quota|limit)|limit (reached|exceeded)",
    re.IGNORECASE,
)
_INVALID_VOICE = re.compile(
    r"invalid voice ?id|voice ?id .*(not found|invalid|does not exist)"
    r"|voice not found|no such voice",
    re.IGNORECASE,
)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_LOCAL = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)


class StatusFailure(Exception):
    """A try answered with an error status (internal)."""

    def __init__(self, response: httpx.Response):
        super().__init__(response.status_code)
        self.response = response


class BadBody(Exception):
    """A 2xx answer whose body could not be understood (internal)."""


class PagedList(BadBody):
    """A list answer that says it is one page of more: read as the whole list, the
    clones on the other pages would look deleted (and be re-created)."""


_MORE_FLAGS = ("hasMore", "has_more", "next", "nextCursor", "next_cursor", "nextPageToken")
_TOTALS = ("total", "totalCount", "total_count")


def check_whole(envelope: Any, entries: list[Any]) -> None:
    """Raise PagedList when a list answer's envelope says more entries exist (the API
    publishes no pagination; if it starts paging, stop rather than lose clones)."""
    if not isinstance(envelope, dict):
        return
    for key in _MORE_FLAGS:
        if envelope.get(key) not in (None, False, "", 0):
            raise PagedList(
                f"the clone list is one page of more ({key}: {envelope[key]!r}); this voicectl "
                "reads only a whole list (the clones on other pages would look deleted), "
                "so nothing was changed"
            )
    for key in _TOTALS:
        total = envelope.get(key)
        if type(total) is int and total > len(entries):
            raise PagedList(
                f"the clone list holds {len(entries)} of {key} {total} clones; this voicectl "
                "reads only a whole list (the others would look deleted), so nothing was "
                "changed"
            )


# -- classification -------------------------------------------------------------


def status_error(
    name: str,
    response: httpx.Response,
    retry_after: float | None,
    *,
    redact: Redact,
    has_key: bool,
    base: str = "",
    key_env: str = "SMALLEST_API_KEY",
) -> tuple[WavesError, bool, bool]:
    """(error, sent, retryable) for an error status. ``base``: the API URL, for messages;
    ``key_env``: the variable the key came from (an environment's apiKeyEnv)."""
    status = response.status_code
    message, code = server_message(response, redact)
    detail = f": {message}" if message else ""
    if status == 410 or code == "MODEL_DEPRECATED":
        recommended = _recommended_endpoint(response, redact)
        instead = f" (use {recommended} instead)" if recommended else ""
        return (
            DeprecatedRouteError(
                f"{name}: retired by the service ({status} {code or 'Gone'}){detail}{instead}",
                server_message=message,
                recommended_endpoint=recommended,
                status=status,
            ),
            True,
            False,
        )
    if status in (401, 403):
        where = base or "the server"
        if not has_key:
            hint = f" (no API key was given to {where}: set {key_env})"
        elif status == 401:
            hint = (
                f" ({where} refused the key in {key_env}: check that it is this "
                "service's key and still valid)"
            )
        else:
            hint = f" ({where}: the key in {key_env} may not do this)"
        return (
            AuthError(f"{name}: authentication failed ({status}){detail}{hint}", status=status),
            True,
            False,
        )
    if status == 429:
        wait = f", retry after {retry_after:g}s" if retry_after is not None else ""
        return (
            RateLimitedError(f"{name}: rate limited (429){wait}{detail}", retry_after=retry_after),
            False,
            True,
        )
    voice_unknown = bool(_INVALID_VOICE.search(message or ""))
    if status == 404 or (status == 400 and voice_unknown):
        if status == 404 and message == "an HTML page":  # a web server, not the API's answer
            detail += (
                f" ({base or 'the server'} is not the Waves API, or not at this path: "
                "check --api-url / VOICECTL_API_URL)"
            )
        return (
            NotFoundError(
                f"{name}: not found ({status}){detail}", status=status, voice_unknown=voice_unknown
            ),
            True,
            False,
        )
    if status == 400 and _CLONE_LIMIT.search(message or ""):
        return (
            CloneLimitError(f"{name}: clone limit reached (400){detail}", status=status),
            True,
            False,
        )
    if 400 <= status < 500:
        return (
            BadRequestError(f"{name}: bad request ({status}){detail}", status=status),
            True,
            False,
        )
    if status >= 500:
        code_text = f" {code}" if code else ""
        return (
            ServerError(
                f"{name}: server error {status}{code_text}{detail}",
                status=status,
                error_code=code,
            ),
            True,
            True,
        )
    return (
        WavesError(f"{name}: unexpected response status {status}{detail}", status=status),
        True,
        False,
    )


def server_message(response: httpx.Response, redact: Redact) -> tuple[str, str | None]:
    """The server's ``error`` message and ``error_code``, redacted, one line."""
    message = ""
    code = None
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError, httpx.ResponseNotRead):
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                message = value
                break
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                message = value["message"]
                break
            if isinstance(value, list) and value:  # [{"code", "path", "message"}, ...]
                message = "; ".join(_issue_text(issue) for issue in value)
                if message:
                    break
        raw_code = body.get("error_code") or body.get("errorCode") or body.get("code")
        if isinstance(raw_code, str | int):
            code = redact(raw_code)
    elif body is None:
        try:
            text = response.text
        except Exception:
            text = ""
        html = "html" in response.headers.get("content-type", "") or text.lstrip()[:1] == "<"
        message = "an HTML page" if html else " ".join(text[:200].split())
    if not message:
        message = response.reason_phrase or ""
    return redact(message), code


def _issue_text(issue: Any) -> str:
    """One issue of the array error shape: ``voice_id: Invalid Voice ID``."""
    if not isinstance(issue, dict):
        return str(issue)
    text = str(issue.get("message") or issue.get("code") or "")
    path = issue.get("path")
    if isinstance(path, list) and path:
        text = ".".join(str(p) for p in path) + ": " + text
    elif isinstance(path, str) and path:
        text = f"{path}: {text}"
    return text


def _recommended_endpoint(response: httpx.Response, redact: Redact) -> str | None:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError, httpx.ResponseNotRead):
        return None
    value = body.get("recommended_endpoint") if isinstance(body, dict) else None
    return redact(value) if isinstance(value, str) and value.strip() else None


def transport_error(
    name: str, exc: httpx.HTTPError, redact: Redact, base: str = ""
) -> tuple[WavesError, bool, bool]:
    """(error, sent, retryable) for an exception from httpx. ``base``: the API URL."""
    what = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    to = f" to {base}" if base else ""
    if isinstance(exc, _LOCAL):
        return WavesError(f"{name}: request could not be sent: {what}"), False, False
    if isinstance(exc, _NOT_SENT):
        return ConnectionFailedError(f"{name}: connection{to} failed: {what}"), False, True
    if isinstance(exc, httpx.TimeoutException):
        return (
            TimedOutError(f"{name}: timed out waiting for the server: {what}"),
            True,
            True,
        )
    return TransportError(f"{name}: connection dropped: {what}"), True, True


def deadline_error(name: str, deadline: float, base: str = "") -> TimedOutError:
    """The total deadline ran out while an answer was still being sent or read."""
    frm = f" from {base}" if base else ""
    return TimedOutError(
        f"{name}: no complete answer{frm} within the {deadline:g}s deadline "
        "(the server is too slow or stalled)"
    )


def bad_body_error(name: str, exc: BadBody, redact: Redact) -> tuple[WavesError, bool, bool]:
    """(error, sent, retryable) for a 2xx answer that could not be read (a paged list:
    not retried, the next answer is paged too)."""
    if isinstance(exc, PagedList):
        return TransportError(f"{name}: {redact(exc)}"), True, False
    return TransportError(f"{name}: unreadable response: {redact(exc)}"), True, True


def definite(error: WavesError) -> bool:
    """Errors after which the server definitely did nothing (4xx answers)."""
    return isinstance(error, AuthError | BadRequestError | NotFoundError) or (
        error.status is not None and 400 <= error.status < 500
    )


# -- parsing ---------------------------------------------------------------------


def parse_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested too deeply
        raise BadBody(
            f"invalid JSON ({exc.__class__.__name__}) in a {response.status_code}"
            f" answer of {len(response.content)} bytes"
        ) from None


T = TypeVar("T")
ID_KEYS = ("voiceId", "voice_id")


def whole_list(
    body: bytes, key: str, kind: type[T], make: Callable[[list[tuple[str, Any]]], T]
) -> list[T] | None:
    """Every entry of a ``{key: [...]}`` answer as ``kind``, made by ``make`` from its
    fields the moment the JSON reader has read the entry (an object hook: the whole
    answer is never a tree of dicts, nor pydantic's JSON tree, beside its bytes);
    None when the envelope or any entry does not read. An entry is an object with a
    voiceId; ``make`` raises ValueError for one it cannot read."""

    def hook(pairs: list[tuple[str, Any]]) -> Any:
        if any(k in ID_KEYS for k, _ in pairs):
            try:
                return make(pairs)
            except ValueError:  # pydantic's ValidationError is one
                pass
        return dict(pairs)

    try:
        data = json.loads(body, object_pairs_hook=hook)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(type(e) is kind for e in entries):
        return None
    check_whole(data, entries)
    return entries


def _clone_of(pairs: list[tuple[str, Any]]) -> Clone:
    return Clone.from_api(dict(pairs))


def parse_clone_list(
    response: httpx.Response, key: str, op_name: str, *, log: logging.Logger, redact: Redact
) -> list[Clone]:
    """The clones of a list answer. A body whose every entry reads is read in one
    pass, each clone made as soon as its entry is read (:func:`whole_list`); any
    other body is read entry by entry, each entry that cannot be read being logged
    and left out."""
    whole = whole_list(response.content, key, Clone, _clone_of)
    if whole is not None:
        return whole
    body = parse_json(response)  # read it the lenient way
    if isinstance(body, dict):
        entries = body.get(key)
        if entries is None and key != "data":
            entries = body.get("data")
    else:
        entries = body
    if not isinstance(entries, list):
        raise BadBody(f"expected a list under {key!r}")
    check_whole(body, entries)
    clones: list[Clone] = []
    for index, entry in enumerate(entries):
        entries[index] = None  # each parsed entry goes as its model comes: not both at once
        if not isinstance(entry, dict) or not (entry.get("voiceId") or entry.get("voice_id")):
            log.warning("%s: entry %d has no voiceId; ignored", op_name, index)
            continue
        try:
            clones.append(Clone.from_api(entry))
        except ValueError as exc:
            log.warning(
                "%s: entry %d unreadable (%s); ignored",
                op_name,
                index,
                redact(str(exc).splitlines()[0]),
            )
    return clones


def parse_created(response: httpx.Response, display_name: str) -> Clone:
    body = parse_json(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not (data.get("voiceId") or data.get("voice_id")):
        raise BadBody("the answer has no data.voiceId")
    try:
        clone = Clone.from_api(data)
    except ValueError:
        raise BadBody("the created clone could not be read") from None
    if not clone.display_name:
        clone.display_name = display_name
    return clone


def filter_clones(
    clones: list[Clone],
    *,
    model_ids: str | None,
    cloning_type: str | None,
    voice_id: str | None,
) -> list[Clone]:
    wanted_models = {m.strip() for m in (model_ids or "").split(",") if m.strip()}
    result = []
    for clone in clones:
        if voice_id is not None and clone.voice_id != voice_id:
            continue
        if cloning_type is not None and clone.cloning_type != cloning_type:
            continue
        if wanted_models and not wanted_models.intersection(clone.models):
            continue
        result.append(clone)
    return result
