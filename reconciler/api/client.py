"""The async Waves client: one ``httpx.AsyncClient``, typed errors, careful retries.

Every request goes through :meth:`WavesClient._run`, which

* holds a slot of the client's single :class:`AdaptiveLimiter` while the try is
  in flight (each retry takes a slot again), and tells it how the try went;
* turns every failure into a one-line typed error from ``errors.py`` that names
  the operation (``create "Narrator": server error 500 voice_clone_timeout: ...``)
  and never holds the key;
* retries what is safe to retry: 429, 5xx and transport failures of reads and
  deletes, with full-jitter backoff or the server's ``Retry-After``, within
  ``max_tries`` and a total ``deadline``.

A create is different: sending it twice can make two clones. Only a 429 ("not
done") or a connection that never opened ("not sent") is retried; a 5xx, a
timeout after sending, a dropped connection or an unreadable 200 raises
:class:`AmbiguousCreateError`, and the caller (the reconciler) checks the list
before it creates again.

Reading the answers (status and transport errors to typed errors, JSON bodies to
:class:`Clone` objects) is done by ``responses.py``; this module sends, retries
and decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.api import tls
from reconciler.api.errors import (
    AmbiguousCreateError,
    AuthError,
    BadRequestError,
    CloneLimitError,
    ConnectionFailedError,
    DeleteUnavailableError,
    DeprecatedRouteError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    WavesError,
)
from reconciler.api.limiter import AdaptiveLimiter
from reconciler.api.listing import parse_listed_ids
from reconciler.api.models import TTS_MODEL, Clone, CloneRequest, DeleteResult
from reconciler.api.responses import (
    BadBody,
    StatusFailure,
    bad_body_error,
    deadline_error,
    definite,
    filter_clones,
    parse_clone_list,
    parse_created,
    status_error,
    transport_error,
)
from reconciler.api.retry import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    RetryBudget,
    RetryPolicy,
    parse_retry_after,
)
from reconciler.api.routes import (
    ROUTES,
    Route,
    RouteVerdict,
    candidates,
    check_via,
    unavailable_reason,
)
from reconciler.api.security import (
    API_KEY_ENV,
    Redactor,
    api_key_from_env,
    check_api_key,
    check_base_url,
    is_loopback_host,
    safe_url,
    same_origin,
)
from reconciler.api.upload import (
    Coalesced,
    UploadError,
    clone_form,
    describe_upload,
    open_upload,
)
from reconciler.fsutil import usual_mode

__all__ = ["DEFAULT_API_URL", "WavesClient", "api_key_from_env"]

T = TypeVar("T")


if sys.version_info >= (3, 11):

    async def _within(step: Awaitable[T], seconds: float) -> T:
        """``step``, cancelled after ``seconds`` (TimeoutError): in this task, where
        ``asyncio.wait_for`` would start a task for every try."""
        async with asyncio.timeout(seconds):
            return await step

else:  # pragma: no cover - Python 3.10
    _within = asyncio.wait_for


def _asyncio_transport(trust_env: bool, limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
    """httpx's transport on plain asyncio sockets (api/network.py), or None for
    httpx's own: on Python 3.10, and where a proxy is configured."""
    if sys.version_info < (3, 11):
        return None
    from reconciler.api import network

    if trust_env and network.proxied():
        return None
    return network.transport(ssl_context=tls.context(trust_env), limits=limits)


DEFAULT_API_URL = "https://api.smallest.ai"

CLONES_PATH = "/waves/v1/voice-cloning"
DELETE_PATH = ROUTES["lightning-large"].path
DELETE_V2_PATH = ROUTES["voice-cloning"].path
# A voiceId that cannot exist (voice ids are voice_ + 10 letters or digits):
# a delete probe with it tells which route works and deletes nothing.
PROBE_VOICE_ID = "voice_voicectl-probe-cannot-exist"
ADD_VOICE_PATH = "/waves/v1/lightning-large/add_voice"
LEGACY_LIST_PATH = "/waves/v1/lightning-large/get_cloned_voices"
TTS_PATH = "/waves/v1/tts"


@dataclass
class _Op:
    """What one operation learnt across its tries."""

    name: str
    method: str
    url: str  # for logs: no query string, no user info
    create: bool = False
    maybe_done: bool = False  # an earlier try may have reached the server and acted
    tries: int = 0
    status: int | None = None  # of the last answer, for the log


def _origin_of(url: httpx.URL) -> str:
    """``scheme://host[:port]`` of ``url``: the host a download contacts."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}" + (f":{url.port}" if url.port is not None else "")


def _shown_url(url: str, limit: int = 160) -> str:
    """A URL httpx cannot parse, for a message: no query or fragment (a signed URL's
    secret) and no user info, every character that does not print escaped (the one
    that made it invalid, too: it is what the user must find), at most ``limit``."""
    text = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = text.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        text = scheme + sep + authority.rpartition("@")[2] + slash + path
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class WavesClient:
    """Async client for the Waves voice-cloning API. Use as ``async with``."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_API_URL,
        api_key: str | None,
        parallelism: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        max_tries: int = 6,
        deadline: float = 120.0,
        logger: logging.Logger | None = None,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        limiter: AdaptiveLimiter | None = None,
        delete_via: str = "auto",
        key_env: str = API_KEY_ENV,
    ):
        if parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        self._api_key = check_api_key(api_key)
        self._key_env = key_env  # named in auth errors: where the user put the key
        self._base = check_base_url(
            base_url,
            self._api_key,
            in_process=isinstance(transport, httpx.ASGITransport),
            key_env=key_env or API_KEY_ENV,
        )
        self._redact = Redactor(self._api_key)
        self._log = logger or logging.getLogger("reconciler.api")
        self._timeout = timeout
        self._policy = RetryPolicy(
            max_tries=max_tries, deadline=deadline, base=backoff_base, cap=backoff_cap
        )
        self._limiter = limiter or AdaptiveLimiter(parallelism)
        from reconciler import __version__

        # Environment proxies are for the outside world, not for a local sandbox.
        trust_env = not is_loopback_host(self._base.host)
        limits = httpx.Limits(
            max_connections=parallelism + 4, max_keepalive_connections=parallelism
        )
        if transport is None:
            transport = _asyncio_transport(trust_env, limits)
        self._http = httpx.AsyncClient(
            base_url=self._base,
            transport=transport,
            verify=tls.context(trust_env) if transport is None else True,
            timeout=timeout,
            follow_redirects=False,
            limits=limits,
            headers={"User-Agent": f"voicectl/{__version__}"},
            trust_env=trust_env,
        )
        self._urls: dict[str, httpx.URL] = {}  # request path -> its URL (a few constants)
        self._closed = False
        self._delete_via = check_via(delete_via)
        self._delete_route: Route | None = None  # the route that works, once known
        self._delete_verdicts: list[RouteVerdict] = []
        self._no_delete: str | None = None  # why no route deletes, once known
        self._route_lock = asyncio.Lock()
        self._lists_ok: bool | None = None  # did a list of this run succeed / get a 401?

    # -- lifecycle -----------------------------------------------------------

    async def __aenter__(self) -> WavesClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.aclose()

    def __repr__(self) -> str:
        return f"WavesClient(base_url={safe_url(self._base)!r})"

    @property
    def base_url(self) -> str:
        """The API URL for messages: no credentials, no query, no trailing slash."""
        return safe_url(self._base).rstrip("/")

    @property
    def limiter(self) -> AdaptiveLimiter:
        return self._limiter

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._policy

    @property
    def delete_via(self) -> str:
        return self._delete_via

    @property
    def delete_route(self) -> str | None:
        """The route deletes use this run (``lightning-large``/``voice-cloning``), once known."""
        return self._delete_route.name if self._delete_route else None

    @property
    def delete_unavailable(self) -> str | None:
        """Why no route deletes for this key (one line), once the run has found out."""
        return self._no_delete

    # -- the endpoints ---------------------------------------------------------

    async def list_clones(
        self,
        *,
        model_ids: str | None = None,
        cloning_type: str | None = None,
        voice_id: str | None = None,
    ) -> list[Clone]:
        """Every clone of the organisation (``GET /waves/v1/voice-cloning``).

        The filters are sent as query parameters AND applied here, so a server
        that ignores them still gives the right answer. ``model_ids`` may be a
        comma-separated list: a clone matches if it works on any of them.
        """
        params = {
            k: v
            for k, v in (
                ("modelIds", model_ids),
                ("cloningType", cloning_type),
                ("voiceId", voice_id),
            )
            if v is not None
        }
        op = self._op("list clones", "GET", CLONES_PATH)

        async def send(timeout: float) -> list[Clone]:
            response = await self._send(op, CLONES_PATH, timeout, params=params or None)
            return parse_clone_list(response, "data", op.name, log=self._log, redact=self._redact)

        clones = await self._run_list(op, send)
        return filter_clones(
            clones, model_ids=model_ids, cloning_type=cloning_type, voice_id=voice_id
        )

    async def list_voice_ids(self) -> set[str]:
        """The voiceIds of every clone of the organisation: the list of
        :meth:`list_clones`, read for its ids only (api/listing.py)."""
        op = self._op("list clones", "GET", CLONES_PATH)

        async def send(timeout: float) -> set[str]:
            response = await self._send(op, CLONES_PATH, timeout)
            return parse_listed_ids(response, "data", op.name, log=self._log, redact=self._redact)

        return await self._run_list(op, send)

    async def _run_list(self, op: _Op, send: Callable[[float], Awaitable[T]]) -> T:
        """:meth:`_run` for a list, remembering whether this run's key may list."""
        try:
            result = await self._run(op, send)
        except AuthError:
            self._lists_ok = False
            raise
        self._lists_ok = True
        return result

    async def create_clone(
        self, request: CloneRequest, *, before_send: Callable[[], None] | None = None
    ) -> Clone:
        """Create a clone (``POST /waves/v1/voice-cloning``); never blindly retried.

        Raises :class:`AmbiguousCreateError` when the clone may exist although the
        create failed; any other error means it was definitely not created.
        ``before_send`` is called once a concurrency slot is taken, right before
        the request goes out; what it raises cancels the create unsent (the
        applier stops queued creates this way once it cannot record them).
        """
        op = self._op(
            f"create {self._quote(request.display_name)}", "POST", CLONES_PATH, create=True
        )
        upload = self._describe_upload(op, request.file)
        form = clone_form(request)

        async def send(timeout: float) -> Clone:
            if before_send is not None:
                before_send()
            with open_upload(upload) as files:  # a fresh handle per try: rewound
                response = await self._send(op, CLONES_PATH, timeout, data=form, files=files)
            return parse_created(response, request.display_name)

        return await self._run(op, send)

    async def delete_clone(self, voice_id: str) -> DeleteResult:
        """Delete a clone of any model, on whichever route the service allows today.

        The first delete of the run finds the route (:mod:`reconciler.api.routes`);
        when none works it raises :class:`DeleteUnavailableError`, and so does every
        later delete, without a request. A 404 or "invalid voice id" is checked
        against the list: if the clone is not there, the delete is done
        (``already_gone=True``, or ``False`` when an earlier try of this call may
        have deleted it); if it is still listed, the error stands.
        """
        if self._delete_route is None and self._no_delete is None:
            async with self._route_lock:
                if self._delete_route is None and self._no_delete is None:
                    return await self._find_route(voice_id)
        if self._no_delete is not None:
            raise DeleteUnavailableError(
                f"delete {self._quote(voice_id)}: no delete route works for this key "
                f"({self._no_delete})",
                reason=self._no_delete,
            )
        assert self._delete_route is not None
        return await self._delete_on(self._delete_route, voice_id)

    async def probe_delete_route(self, name: str) -> RouteVerdict:
        """Ask one route whether this key may delete, with a voiceId that cannot exist.

        Nothing is deleted on any server; the run's own route choice is untouched.
        """
        route = ROUTES[name]
        op = self._op(f"delete probe on {route.label}", route.method, route.path)
        try:
            await self._send_delete(op, route, PROBE_VOICE_ID)
        except NotFoundError as exc:
            if exc.voice_unknown:
                return RouteVerdict(route, True, "accepts this key", status=exc.status)
            return RouteVerdict(route, False, f"absent ({exc.status})", status=exc.status)
        except BadRequestError as exc:
            if exc.status == 405:
                return RouteVerdict(route, False, "absent (405)", status=405)
            return RouteVerdict(route, True, "accepts this key", status=exc.status)
        except DeprecatedRouteError as exc:
            return self._retired(route, exc)
        except AuthError as exc:
            return RouteVerdict(route, False, f"refuses this key ({exc.status})", status=exc.status)
        return RouteVerdict(route, True, "accepts this key", status=200)

    async def probe_create_model(self, model: str) -> tuple[bool | None, str]:
        """Does the create endpoint accept ``model``? Asked WITHOUT a file, so nothing
        can be made on any server: (True, why) accepted (the only complaint is the
        missing file), (False, the server's words) refused, (None, why) unknown.
        """
        op = self._op(f"create probe for {model}", "POST", CLONES_PATH)
        # Plain form fields as multipart parts, and no file part at all.
        parts = {"displayName": (None, "voicectl doctor probe"), "model": (None, model)}

        async def send(timeout: float) -> None:
            await self._send(op, CLONES_PATH, timeout, files=parts)

        try:
            await self._run(op, send)
        except AuthError:
            raise
        except BadRequestError as exc:
            server = exc.message.removeprefix(f"{op.name}: ")
            said = server.lower()
            if "model" in said or "deprecated" in said:
                return False, server
            if "file" in said:
                return True, "accepted (the create was refused only for the missing file)"
            return None, server
        except WavesError as exc:
            return None, exc.message
        return None, "the service answered 2xx to a create without a file (unexpected)"

    def _retired(self, route: Route, exc: DeprecatedRouteError) -> RouteVerdict:
        return RouteVerdict(
            route,
            False,
            f"retired ({exc.status} MODEL_DEPRECATED)",
            status=exc.status,
            recommended_endpoint=exc.recommended_endpoint,
        )

    async def _find_route(self, voice_id: str) -> DeleteResult:
        """The run's first delete: try the routes in order (see routes.py); remember."""
        for route in candidates(self._delete_via):
            op = self._op(f"delete {self._quote(voice_id)}", route.method, route.path)
            try:
                await self._send_delete(op, route, voice_id)
            except DeprecatedRouteError as exc:
                self._delete_verdicts.append(self._retired(route, exc))
                continue
            except NotFoundError as exc:
                if not exc.voice_unknown and exc.status == 404:
                    # A bare 404: the route is absent, or the voice is. The list tells.
                    if not await self._still_listed(voice_id):
                        return DeleteResult(voice_id=voice_id, already_gone=not op.maybe_done)
                    self._delete_verdicts.append(
                        RouteVerdict(route, False, "absent (404)", status=404)
                    )
                    continue
                self._chosen(route)
                return await self._gone_or_raise(voice_id, exc, maybe_done=op.maybe_done)
            except BadRequestError as exc:
                if exc.status == 405:
                    self._delete_verdicts.append(
                        RouteVerdict(route, False, "absent (405)", status=405)
                    )
                    continue
                if isinstance(exc, CloneLimitError):
                    raise
                self._chosen(route)
                return await self._gone_or_raise(voice_id, exc, maybe_done=op.maybe_done)
            except AuthError as exc:
                if not await self._key_lists():
                    raise  # a key that cannot list either is a bad key, not a verdict
                self._delete_verdicts.append(
                    RouteVerdict(
                        route, False, f"this key may not delete ({exc.status})", status=exc.status
                    )
                )
                continue
            self._chosen(route)
            return DeleteResult(voice_id=voice_id)
        self._no_delete = unavailable_reason(self._delete_verdicts)
        self._log.warning("no delete route works for this key: %s", self._no_delete)
        raise DeleteUnavailableError(
            f"delete {self._quote(voice_id)}: no delete route works for this key "
            f"({self._no_delete})",
            reason=self._no_delete,
        )

    async def _key_lists(self) -> bool:
        """Does this key list fine? (Known from an earlier list of the run, else asked.)"""
        if self._lists_ok is None:
            try:
                await self.list_clones()
            except AuthError:
                self._lists_ok = False
        return bool(self._lists_ok)

    def _chosen(self, route: Route) -> None:
        self._delete_route = route
        self._delete_verdicts.append(RouteVerdict(route, True, "deletes"))
        self._log.info("deleting through %s", route.label)

    async def _send_delete(self, op: _Op, route: Route, voice_id: str) -> None:
        async def send(timeout: float) -> None:
            await self._send(op, route.path, timeout, json={"voiceId": voice_id})

        await self._run(op, send)

    async def _delete_on(self, route: Route, voice_id: str) -> DeleteResult:
        op = self._op(f"delete {self._quote(voice_id)}", route.method, route.path)

        async def send(timeout: float) -> DeleteResult:
            await self._send(op, route.path, timeout, json={"voiceId": voice_id})
            return DeleteResult(voice_id=voice_id)

        try:
            return await self._run(op, send)
        except (NotFoundError, BadRequestError) as exc:
            return await self._gone_or_raise(voice_id, exc, maybe_done=op.maybe_done)

    async def _gone_or_raise(
        self, voice_id: str, exc: WavesError, *, maybe_done: bool
    ) -> DeleteResult:
        if isinstance(exc, CloneLimitError) or not isinstance(exc, NotFoundError | BadRequestError):
            raise exc
        if await self._still_listed(voice_id):
            raise exc
        return DeleteResult(voice_id=voice_id, already_gone=not maybe_done)

    async def add_voice_legacy(self, display_name: str, file: Path) -> Clone:
        """Deprecated ``POST /waves/v1/lightning-large/add_voice``: a lightning-large-only
        clone. For seeding sandboxes and tests; a create, so never blindly retried."""
        op = self._op(f"add_voice {self._quote(display_name)}", "POST", ADD_VOICE_PATH, create=True)
        upload = self._describe_upload(op, Path(file))
        form = {"displayName": display_name}

        async def send(timeout: float) -> Clone:
            with open_upload(upload) as files:
                response = await self._send(op, ADD_VOICE_PATH, timeout, data=form, files=files)
            return parse_created(response, display_name)

        return await self._run(op, send)

    async def list_legacy_voices(self) -> list[Clone]:
        """Deprecated ``GET /waves/v1/lightning-large/get_cloned_voices``."""
        op = self._op("list legacy voices", "GET", LEGACY_LIST_PATH)

        async def send(timeout: float) -> list[Clone]:
            response = await self._send(op, LEGACY_LIST_PATH, timeout)
            return parse_clone_list(response, "voices", op.name, log=self._log, redact=self._redact)

        return await self._run(op, send)

    async def tts(
        self,
        voice_id: str,
        text: str,
        *,
        model: str = TTS_MODEL,
        language: str | None = None,
        sample_rate: int = 24000,
    ) -> bytes:
        """Synthesize ``text`` with a voice (``POST /waves/v1/tts``); the WAV bytes.

        ``model`` uses the TTS spelling (``lightning_v3.1``). A lightning-large-only
        clone used on lightning-v3.1 gets a tiny WAV rather than an error.
        """
        payload: dict[str, Any] = {
            "text": text,
            "voice_id": voice_id,
            "model": model,
            "sample_rate": sample_rate,
            "output_format": "wav",
        }
        if language:
            payload["language"] = language
        op = self._op(f"tts {self._quote(voice_id)}", "POST", TTS_PATH)

        async def send(timeout: float) -> bytes:
            # Required: "omitting it can return an empty or unplayable response".
            response = await self._send(
                op, TTS_PATH, timeout, json=payload, extra_headers={"Accept": "audio/wav"}
            )
            return response.content

        return await self._run(op, send)

    async def download(self, url: str, dest: Path) -> int:
        """Stream ``url`` to ``dest`` (atomically replaced); the number of bytes written.

        A relative URL is resolved against the API's base URL. The key is sent
        only to the API's own origin: signed sample URLs elsewhere get none. A URL
        that is not one (a control character, a bad host) fails like any download,
        as a WavesError: the other clips are still fetched. A failure names the
        host contacted (the sample's, not the API's).
        """
        try:
            target = self._base.join(url)
        except httpx.InvalidURL as exc:
            reason = str(exc).rstrip(".")
            reason = reason[:1].lower() + reason[1:]
            raise WavesError(f"download {_shown_url(url)}: not a valid URL ({reason})") from None
        if target.scheme not in ("http", "https"):
            raise WavesError(f"download {safe_url(target)}: not an http(s) URL")
        own = same_origin(target, self._base)
        op = _Op(f"download {safe_url(target)}", "GET", safe_url(target))
        origin = None if own else _origin_of(target)
        dest = Path(dest)

        async def send(timeout: float) -> int:
            headers = self._auth_headers() if own else {}
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
            )
            usual_mode(fd, like=dest)
            written = 0
            try:
                with os.fdopen(fd, "wb") as fh:
                    async with self._http.stream(
                        "GET",
                        target,
                        headers=headers,
                        timeout=timeout,
                        follow_redirects=True,  # httpx drops Authorization off-origin
                    ) as response:
                        op.status = response.status_code
                        if response.status_code >= 400:
                            await response.aread()
                            raise StatusFailure(response)
                        if response.status_code >= 300:
                            raise StatusFailure(response)
                        async for chunk in response.aiter_bytes():
                            fh.write(chunk)
                            written += len(chunk)
                os.replace(tmp_name, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
                raise
            return written

        try:
            return await self._run(op, send, learn=own, origin=origin)
        except OSError as exc:  # the destination, not the network (httpx errors are not OSError)
            raise WavesError(f"{op.name}: cannot write {dest}: {exc.strerror or exc}") from None

    # -- one try ------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    async def _send(
        self,
        op: _Op,
        path: str,
        timeout: float,
        *,
        extra_headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request with the key; raise StatusFailure on an error status."""
        headers = {**self._auth_headers(), **(extra_headers or {})}
        url = self._urls.get(path)
        if url is None:  # joined once: httpx would parse the path and join it every time
            base = self._http.base_url  # ends with "/", as httpx keeps it
            url = base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode("ascii"))
            self._urls[path] = url
        request = self._http.build_request(
            op.method, url, headers=headers, timeout=timeout, **kwargs
        )
        if "files" in kwargs and isinstance(request.stream, httpx.AsyncByteStream):
            request.stream = Coalesced(request.stream)  # multipart: few writes, not 4 a field
        response = await self._http.send(request)
        # httpx's response and its stream refer to each other: a cycle that kept every
        # answer (its request, the upload's file and buffers, the body) alive until a
        # collection found it, 54 objects a create. The body is read by now; a stream
        # of it in memory has no way back, so it all goes once the caller lets go.
        response.stream = httpx.ByteStream(response.content)
        op.status = response.status_code
        if response.status_code >= 300:
            raise StatusFailure(response)
        return response

    # -- the retry loop -------------------------------------------------------------

    async def _run(
        self,
        op: _Op,
        send: Callable[[float], Awaitable[T]],
        *,
        learn: bool = True,
        origin: str | None = None,
    ) -> T:
        """Run ``send`` with a limiter slot per try, classify failures, retry what is safe.

        ``origin``: the ``scheme://host[:port]`` ``send`` talks to when it is not the
        API (a sample's own host), named by the messages instead of the API URL.
        """
        budget = self._policy.budget()
        where = origin or self.base_url
        last_error: WavesError | None = None
        while True:
            retry_after: float | None = None
            async with self._limiter.slot() as slot:
                # The budget's clock starts once the first try holds a slot: time
                # queued behind other operations is not time spent retrying.
                budget.start_try()
                op.tries = budget.tries
                timeout = self._timeout
                if budget.tries > 1:  # shrink to the deadline, within reason
                    timeout = min(self._timeout, max(0.5, budget.remaining))
                started = time.monotonic()
                try:
                    # The total deadline holds while an answer is still arriving:
                    # httpx's timeout is per read, so a server trickling bytes
                    # would otherwise keep one try alive for ever.
                    result = await _within(send(timeout), max(0.001, budget.remaining))
                except asyncio.TimeoutError:
                    self._log_try(op, "deadline", started, budget.tries)
                    slot.neutral()
                    if last_error is not None:  # the earlier failure is the story
                        raise self._exhausted(op, last_error, budget, None) from None
                    error: WavesError = deadline_error(op.name, self._policy.deadline, where)
                    sent, retryable = True, False
                except StatusFailure as failure:
                    response = failure.response
                    status = response.status_code
                    self._log_try(op, str(status), started, budget.tries)
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if status == 429:
                        slot.rate_limited()
                    elif status < 500:
                        slot.succeeded()
                    error, sent, retryable = status_error(
                        op.name,
                        response,
                        retry_after,
                        redact=self._redact,
                        has_key=bool(self._api_key),
                        base=self.base_url,
                        key_env=self._key_env,
                    )
                    if origin is not None and isinstance(error, AuthError):
                        error = WavesError(  # not the key's fault: none is sent there
                            f"{op.name}: refused by {origin} ({status}): voicectl sends no "
                            "key to another host, so the link itself was refused (expired?)",
                            status=status,
                        )
                except BadBody as exc:
                    self._log_try(op, "unreadable body", started, budget.tries)
                    slot.succeeded()
                    error, sent, retryable = bad_body_error(op.name, exc, self._redact)
                except httpx.HTTPError as exc:
                    self._log_try(op, type(exc).__name__, started, budget.tries)
                    error, sent, retryable = transport_error(op.name, exc, self._redact, where)
                except UploadError as exc:
                    raise BadRequestError(f"{op.name}: {self._redact(exc)}") from None
                else:
                    slot.succeeded()
                    self._log_try(op, str(op.status), started, budget.tries)
                    return result
                finally:
                    if not learn:
                        slot.neutral()

            is_429 = isinstance(error, RateLimitedError)
            ambiguous = sent and not is_429 and not definite(error)
            if ambiguous:
                op.maybe_done = True
            if op.create and ambiguous:
                raise AmbiguousCreateError(
                    f"{error.message} (outcome unknown: the clone may exist)", cause=error
                ) from None
            if op.create and sent and not is_429:
                retryable = False
            if not retryable:
                raise self._with_hint(error, origin) from None
            last_error = error
            delay = budget.next_delay(retry_after)
            if delay is None:
                error = self._exhausted(op, error, budget, retry_after)
                raise self._with_hint(error, origin) from None
            self._log.info(
                "%s: %s; retrying in %.2fs (try %d of %d)",
                op.name,
                error.message.removeprefix(f"{op.name}: "),
                delay,
                budget.tries + 1,
                self._policy.max_tries,
            )
            await asyncio.sleep(delay)

    def _exhausted(
        self, op: _Op, error: WavesError, budget: RetryBudget, retry_after: float | None
    ) -> WavesError:
        """The last error, saying why there is no further try."""
        if budget.tries >= self._policy.max_tries:
            why = f"after {budget.tries} tries"
        elif retry_after is not None and retry_after >= budget.remaining:
            why = f"the server asks to retry after {retry_after:g}s, past the deadline"
        else:
            why = f"deadline of {self._policy.deadline:g}s reached after {budget.tries} tries"
        message = f"{error.message} ({why})"
        if isinstance(error, RateLimitedError):
            return RateLimitedError(message, retry_after=error.retry_after)
        if isinstance(error, ServerError):
            return ServerError(message, status=error.status or 500, error_code=error.error_code)
        return type(error)(message, status=error.status)  # TransportError, WavesError

    def _with_hint(self, error: WavesError, origin: str | None = None) -> WavesError:
        """A failed connection, with its likely cause (the URL is already in the message);
        ``origin``: the host contacted, when it is not the API (a sample's)."""
        if not isinstance(error, ConnectionFailedError):
            return error
        if origin is not None and is_loopback_host(httpx.URL(origin).host):
            hint = (
                "is the server that made the clone still running? (a clone of the "
                "embedded sandbox: `voicectl samples --sandbox --download DIR`)"
            )
        elif origin is not None:
            hint = "check the network (the sample's own host, not the API)"
        elif self.base_url == DEFAULT_API_URL:
            hint = "no network? use --sandbox to try voicectl without an account"
        elif is_loopback_host(self._base.host):
            hint = "is the sandbox running? start it with `voicectl sandbox serve`"
        else:
            hint = "check --api-url / VOICECTL_API_URL and the network"
        return ConnectionFailedError(f"{error.message}; {hint}", status=error.status)

    # -- helpers -----------------------------------------------------------------------

    def _describe_upload(self, op: _Op, path: Path):
        try:
            return describe_upload(path)
        except UploadError as exc:
            raise BadRequestError(f"{op.name}: {self._redact(exc)}") from None

    def _op(self, name: str, method: str, path: str, *, create: bool = False) -> _Op:
        return _Op(name, method, safe_url(self._base).rstrip("/") + path, create=create)

    def _quote(self, text: str) -> str:
        return '"' + self._redact(text).replace('"', '\\"') + '"'

    async def _still_listed(self, voice_id: str) -> bool:
        """Is the clone in the full list? (Filtering here: the server may ignore filters.)"""
        clones = await self.list_clones()
        return any(c.voice_id == voice_id for c in clones)

    def _log_try(self, op: _Op, result: str, started: float, tries: int) -> None:
        """One DEBUG line per try: method, URL (no query), status, elapsed. Never headers."""
        if self._log.isEnabledFor(logging.DEBUG):
            self._log.debug(
                "%s %s -> %s in %.3fs (%s, try %d)",
                op.method,
                op.url,
                result,
                time.monotonic() - started,
                op.name,
                tries,
            )
