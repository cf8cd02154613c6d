"""The Waves API emulator as a Starlette app.

``create_app()`` builds it; ``app.state.sandbox`` (a :class:`Sandbox`) holds the
live config, the clone store, the fault engine and the statistics, for tests that
run the app in-process (``httpx.ASGITransport``). ``voicectl sandbox serve`` runs
the same app under uvicorn.

Endpoints under ``/waves`` behave like the service (see
``/work/shared/waves-api.md``): Bearer auth, then the concurrency limit, then
latency and faults (:class:`WavesGate`), then the handler. Hooks under
``/_sandbox/`` need no key and never fault.

Choices where the service's behaviour is not published:

* Languages accepted on create: ``SUPPORTED_LANGUAGES`` (20 codes + ``auto`` +
  ``multi``), our chosen subset of the SDK's list. Without ``language`` the clone's
  language is ``null``.
* ``GET /waves/v1/voice-cloning`` filters (exact match, all optional, combined
  with AND): ``modelIds`` (the clone's modelIds contain it; comma-separated or
  repeated values match any), ``cloningType``, ``_id``, ``voiceId``, ``status``.
  Other parameters are ignored.
* ``get_cloned_voices`` lists only legacy (``add_voice``) clones.
* Legacy clones list without ``description``, ``accent`` and ``language`` keys
  (old entries may miss fields).
* ``tags`` sent several times: every value is split and the pieces concatenated.
* Deleting an unknown or already-deleted id: 400 ``{"error": "Invalid voice id"}``.
* TTS: unknown voice 404 ``{"error": ...}``; a clone not ``completed`` 400;
  ``output_format`` ``wav`` (default) or ``pcm``; ``sample_rate`` one of
  8000 16000 22050 24000 44100 48000; text up to 2000 characters.
* 502 and 503 faults carry ``{"error": "Bad gateway"}`` / ``{"error": "Service
  unavailable"}``; a 500 fault on a create carries ``error_code`` ``voice_clone_error``.
* A 429's ``Retry-After`` is ``retry_after`` seconds as a decimal number (``1``,
  ``0.5``); parse it as a float.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox import wav
from reconciler.sandbox.config import SandboxConfig, describe_validation_error, org_id_for_key
from reconciler.sandbox.drop import connection_of
from reconciler.sandbox.faults import CREATE_PATHS, Decision, FaultEngine, Stats
from reconciler.sandbox.state import (
    CURRENT_MODEL,
    LEGACY_MODEL,
    AudioInfo,
    CloneRecord,
    Store,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_DISPLAY_NAME = 500
MAX_TTS_CHARS = 2000
ACCEPTED_MIME_TYPES = frozenset({
    "audio/mpeg", "audio/mpeg-3", "audio/wav", "audio/wave",
    "audio/webm", "video/webm", "audio/mp4", "video/mp4",
})
OCTET_STREAM_EXTENSIONS = (".mp3", ".wav", ".mp4", ".webm")
SUPPORTED_LANGUAGES = (
    "auto", "en", "hi", "mr", "kn", "ta", "bn", "gu", "te", "ml", "pa", "or",
    "es", "de", "fr", "it", "nl", "sv", "pt", "ru", "multi",
)
DEPRECATED_MODEL_MESSAGE = "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"
TTS_MODELS = ("lightning_v3.1", "lightning_v3.1_pro", "lightning-large")
SAMPLE_TEXTS = (
    "Hello! This is a sample of your new voice, made by the Waves sandbox.",
    "The quick brown fox jumps over the lazy dog while the sandbox hums a tone.",
)

ORG_KEY = "voicectl.sandbox.org"
DECISION_KEY = "voicectl.sandbox.decision"


def model_object_id(model: str) -> str:
    """A stable 24-hex ``_id`` for a model name (the create response's ``model._id``)."""
    return hashlib.sha256(b"voicectl-sandbox-model:" + model.encode()).hexdigest()[:24]


class Sandbox:
    """The emulator's live state: config, clones, fault RNG and statistics."""

    def __init__(self, config: SandboxConfig | None = None, *, state_file: Path | None = None):
        self.baseline = config or SandboxConfig()
        self.config = self.baseline
        self.store = Store(state_file, id_seed=self.config.seed)
        self.faults = FaultEngine(self.config.seed)
        self.stats = Stats()

    def update_config(self, changes: dict[str, Any]) -> SandboxConfig:
        """Apply a partial config change (raises ``ValidationError``); a new seed reseeds."""
        new = self.config.updated(_normalise_keys(changes))
        self.config = new
        if "seed" in _normalise_keys(changes):
            self.faults.reseed(new.seed)
            self.store.reseed(new.seed)
        return new

    def reset(self, changes: dict[str, Any] | None = None) -> SandboxConfig:
        """Drop every clone and statistic; config = the startup config + ``changes``.

        The RNGs are reseeded, so a reset with a seed starts the same sequence again.
        """
        new = self.baseline.updated(_normalise_keys(changes or {}))
        self.config = new
        self.store.clear()
        self.stats.reset()
        self.faults.reseed(new.seed)
        self.store.reseed(new.seed)
        return new

    def state_view(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "config": self.config.public(),
            "orgs": {
                org_id: {"clones": [_state_entry(c, now) for c in org.clones.values()]}
                for org_id, org in self.store.orgs.items()
            },
        }


def _normalise_keys(changes: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in changes.items()}


# --------------------------------------------------------------------------- helpers


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _samples(clone: CloneRecord, base_url: str) -> list[dict[str, str]]:
    return [
        {"text": text, "audioUrl": f"{base_url}_sandbox/samples/{clone.voice_id}/{n}.wav"}
        for n, text in enumerate(SAMPLE_TEXTS, start=1)
    ]


def _list_entry(clone: CloneRecord, now: float, base_url: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"_id": clone.record_id, "voiceId": clone.voice_id,
                             "displayName": clone.display_name}
    if not clone.legacy:
        entry.update(description=clone.description, accent=clone.accent)
    entry["tags"] = list(clone.tags)
    if not clone.legacy:
        entry["language"] = clone.language
    entry.update(
        status=clone.status(now),
        cloningType=clone.cloning_type,
        modelIds=list(clone.model_ids),
        createdAt=clone.created_at,
        samples=_samples(clone, base_url),
    )
    return entry


def _state_entry(clone: CloneRecord, now: float) -> dict[str, Any]:
    entry = clone.to_json()
    entry["status"] = clone.status(now)
    entry["listed"] = clone.listed(now)
    return entry


def _new_clone(sandbox: Sandbox, request: Request, *, display_name: str, audio: AudioInfo,
               model_ids: list[str], legacy: bool, **metadata: Any) -> CloneRecord:
    config = sandbox.config
    decision: Decision | None = request.scope.get(DECISION_KEY)
    now_epoch, now_mono = time.time(), time.monotonic()
    clone = CloneRecord(
        record_id=sandbox.store.new_record_id(),
        voice_id=sandbox.store.new_voice_id(),
        display_name=display_name,
        model_ids=model_ids,
        created_epoch=now_epoch,
        ready_epoch=now_epoch + config.processing_seconds,
        outcome="failed" if decision is not None and decision.fails else "completed",
        listed_epoch=now_epoch + config.list_lag_ms / 1000.0,
        audio=audio,
        legacy=legacy,
        **metadata,
    )
    clone.anchor(now_epoch, now_mono)
    sandbox.store.add(request.scope[ORG_KEY], clone)
    sandbox.stats.clones_created += 1
    return clone


async def _read_form(request: Request) -> FormData | JSONResponse:
    try:
        return await request.form(max_files=4, max_fields=50, max_part_size=1024 * 1024)
    except HTTPException as exc:
        return _error(400, f"Invalid form body: {exc.detail}")


async def _read_upload(form: FormData) -> tuple[AudioInfo, None] | tuple[None, JSONResponse]:
    """Validate the ``file`` part: present, an accepted MIME type, 1 byte to 5 MB."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None, _error(400, "file is required")
    filename = upload.filename or "audio"
    content_type = (upload.content_type or "application/octet-stream").split(";")[0]
    content_type = content_type.strip().lower()
    octet_ok = (content_type == "application/octet-stream"
                and filename.lower().endswith(OCTET_STREAM_EXTENSIONS))
    if content_type not in ACCEPTED_MIME_TYPES and not octet_ok:
        return None, _error(
            400,
            f"Unsupported file type '{content_type}'. Accepted types: "
            + ", ".join(sorted(ACCEPTED_MIME_TYPES)),
        )
    digest = hashlib.sha256()
    size = 0
    while chunk := await upload.read(1 << 16):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return None, _error(400, "File too large: the maximum size is 5 MB")
        digest.update(chunk)
    if size == 0:
        return None, _error(400, "file is empty")
    return AudioInfo(filename=filename, size=size, sha256=digest.hexdigest(),
                     content_type=content_type), None


def _display_name(form: FormData) -> tuple[str, None] | tuple[None, JSONResponse]:
    value = form.get("displayName")
    if not isinstance(value, str) or value == "":
        return None, _error(400, "displayName is required")
    if len(value) > MAX_DISPLAY_NAME:
        return None, _error(400, f"displayName must be at most {MAX_DISPLAY_NAME} characters")
    return value, None


def _optional_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value != "" else None


def _limit_error(sandbox: Sandbox, org_id: str) -> JSONResponse | None:
    limit = sandbox.config.clone_limit
    if len(sandbox.store.org(org_id).clones) >= limit:
        return _error(
            400,
            f"Voice clone limit reached: this organization may hold at most {limit} clones "
            "(clone limit). Delete a clone first.",
        )
    return None


# --------------------------------------------------------------------------- /waves handlers


async def create_clone(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = await _read_form(request)
    if isinstance(form, Response):
        return form
    try:
        display_name, problem = _display_name(form)
        if problem is not None:
            return problem
        audio, problem = await _read_upload(form)
        if problem is not None:
            return problem
        model = _optional_text(form, "model") or CURRENT_MODEL
        if model == "lightning-v2":
            return _error(400, DEPRECATED_MODEL_MESSAGE)
        if model != CURRENT_MODEL:
            return _error(400, f"Unsupported model '{model}'. Please use {CURRENT_MODEL}")
        language = _optional_text(form, "language")
        if language is not None and language not in SUPPORTED_LANGUAGES:
            return _error(
                400,
                f"Unsupported language '{language}' for {CURRENT_MODEL}. "
                f"Supported: {', '.join(SUPPORTED_LANGUAGES)}",
            )
        tags = [
            piece.strip()
            for value in form.getlist("tags") if isinstance(value, str)
            for piece in value.split(",") if piece.strip()
        ]
        org_id = request.scope[ORG_KEY]
        problem = _limit_error(sandbox, org_id)
        if problem is not None:
            return problem
        assert display_name is not None and audio is not None
        clone = _new_clone(
            sandbox, request, display_name=display_name, audio=audio, model_ids=[model],
            legacy=False, description=_optional_text(form, "description"),
            accent=_optional_text(form, "accent"), tags=tags, language=language,
        )
    finally:
        await form.close()
    base_url = str(request.base_url)
    return JSONResponse({
        "message": "Voice clone created successfully",
        "data": {
            "voiceId": clone.voice_id,
            "displayName": clone.display_name,
            "status": clone.status(),
            "language": clone.language,
            "model": {"_id": model_object_id(model), "modelName": model},
            "audioFileNames": [audio.filename],
            "createdAt": clone.created_at,
            "organizationId": org_id,
            "samples": _samples(clone, base_url),
        },
    })


async def list_clones(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    org = sandbox.store.org(request.scope[ORG_KEY])
    query = request.query_params
    wanted_models = {
        piece.strip() for value in query.getlist("modelIds") for piece in value.split(",")
        if piece.strip()
    }
    now = time.monotonic()
    base_url = str(request.base_url)
    entries = []
    for clone in org.clones.values():
        if not clone.listed(now):
            continue
        if wanted_models and not wanted_models.intersection(clone.model_ids):
            continue
        if "cloningType" in query and clone.cloning_type != query["cloningType"]:
            continue
        if "_id" in query and clone.record_id != query["_id"]:
            continue
        if "voiceId" in query and clone.voice_id != query["voiceId"]:
            continue
        if "status" in query and clone.status(now) != query["status"]:
            continue
        entries.append(_list_entry(clone, now, base_url))
    return JSONResponse({"data": entries})


async def delete_clone(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "Request body must be JSON: {\"voiceId\": \"...\"}")
    voice_id = body.get("voiceId") if isinstance(body, dict) else None
    if not isinstance(voice_id, str) or not voice_id:
        return _error(400, "voiceId is required")
    org_id = request.scope[ORG_KEY]
    if sandbox.store.remove(org_id, voice_id) is None:
        return _error(400, "Invalid voice id")
    sandbox.stats.clones_deleted += 1
    return JSONResponse({"success": True, "voiceId": voice_id})


async def add_voice(request: Request) -> Response:
    """The deprecated endpoint: a clone that works only on lightning-large."""
    sandbox: Sandbox = request.app.state.sandbox
    form = await _read_form(request)
    if isinstance(form, Response):
        return form
    try:
        display_name, problem = _display_name(form)
        if problem is not None:
            return problem
        audio, problem = await _read_upload(form)
        if problem is not None:
            return problem
        problem = _limit_error(sandbox, request.scope[ORG_KEY])
        if problem is not None:
            return problem
        assert display_name is not None and audio is not None
        clone = _new_clone(sandbox, request, display_name=display_name, audio=audio,
                           model_ids=[LEGACY_MODEL], legacy=True)
    finally:
        await form.close()
    return JSONResponse({
        "message": "Voice added successfully",
        "data": {"voiceId": clone.voice_id, "model": LEGACY_MODEL, "status": clone.status()},
    })


async def get_cloned_voices(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    org = sandbox.store.org(request.scope[ORG_KEY])
    now = time.monotonic()
    voices = [
        {
            "displayName": c.display_name,
            "accent": c.accent,
            "tags": list(c.tags),
            "voiceId": c.voice_id,
            "model": LEGACY_MODEL,
            "status": c.status(now),
            "createdAt": c.created_at,
        }
        for c in org.clones.values()
        if c.legacy and c.listed(now)
    ]
    return JSONResponse({"voices": voices})


async def tts(request: Request) -> Response:
    return await _speech(request, path_model=None)


async def get_speech_v31(request: Request) -> Response:
    return await _speech(request, path_model="lightning_v3.1")


async def _speech(request: Request, *, path_model: str | None) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "Request body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "Request body must be a JSON object")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error(400, "text is required")
    if len(text) > MAX_TTS_CHARS:
        return _error(400, f"text must be at most {MAX_TTS_CHARS} characters")
    voice_id = body.get("voice_id")
    if not isinstance(voice_id, str) or not voice_id:
        return _error(400, "voice_id is required")
    model = path_model or body.get("model") or "lightning_v3.1"
    if model not in TTS_MODELS:
        return _error(400, f"Unsupported model '{model}'. Use one of: {', '.join(TTS_MODELS)}")
    sample_rate = body.get("sample_rate", wav.DEFAULT_SAMPLE_RATE)
    if isinstance(sample_rate, float) and sample_rate.is_integer():
        sample_rate = int(sample_rate)
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) \
            or sample_rate not in wav.SAMPLE_RATES:
        return _error(400, "sample_rate must be one of "
                      + ", ".join(str(r) for r in wav.SAMPLE_RATES))
    output_format = body.get("output_format") or "wav"
    if output_format not in ("wav", "pcm"):
        return _error(400, f"Unsupported output_format '{output_format}': use wav or pcm")
    language = body.get("language")
    if language is not None and language not in SUPPORTED_LANGUAGES:
        return _error(400, f"Unsupported language '{language}'")
    clone = sandbox.store.org(request.scope[ORG_KEY]).clones.get(voice_id)
    if clone is None:
        return _error(404, f"Voice not found: {voice_id}")
    status = clone.status()
    if status != "completed":
        return _error(400, f"Voice {voice_id} is not ready (status: {status})")
    if model.startswith("lightning_v3.1") and CURRENT_MODEL not in clone.model_ids:
        # The real service's bug: no error, just a WAV of almost nothing.
        pcm = b"\x00\x00" * wav.NEAR_EMPTY_FRAMES
    else:
        pcm = wav.pcm_tone(wav.speech_seconds(text), frequency=wav.voice_frequency(voice_id),
                           sample_rate=sample_rate)
    if output_format == "pcm":
        return Response(pcm, media_type="audio/pcm")
    return Response(wav.wav_bytes(pcm, sample_rate=sample_rate), media_type="audio/wav")


# --------------------------------------------------------------------------- /_sandbox hooks


async def _json_object(request: Request) -> dict[str, Any] | JSONResponse:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "body must be a JSON object")
    if body is None:
        return {}
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    return body


async def hook_state(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.state_view())


async def hook_reset(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    try:
        config = sandbox.reset(body)
    except ValidationError as exc:
        return _error(400, describe_validation_error(exc))
    return JSONResponse({"config": config.public()})


async def hook_config(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "GET":
        return JSONResponse(sandbox.config.public())
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    try:
        config = sandbox.update_config(body)
    except ValidationError as exc:
        return _error(400, describe_validation_error(exc))
    return JSONResponse(config.public())


async def hook_stats(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.stats.snapshot())


async def hook_stats_reset(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.stats.reset()
    return JSONResponse(sandbox.stats.snapshot())


async def hook_sample(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    voice_id = request.path_params["voice_id"]
    number = request.path_params["n"]
    if sandbox.store.find(voice_id) is None or not 1 <= number <= len(SAMPLE_TEXTS):
        return _error(404, "Not found")
    audio = wav.tone_wav(1.5, frequency=wav.voice_frequency(voice_id) + 20 * (number - 1))
    return Response(audio, media_type="audio/wav")


_EDITABLE = {"displayName": "display_name", "description": "description", "accent": "accent",
             "language": "language", "tags": "tags"}


async def hook_edit_clone(request: Request) -> Response:
    """``PATCH /_sandbox/clones/{voiceId}``: edit a clone's metadata in place, as the
    dashboard can (the API cannot), so tests can change a clone behind voicectl's back.

    Body: any of ``displayName`` (non-empty string), ``description``, ``accent``,
    ``language`` (string or null), ``tags`` (list of strings, or one comma-separated
    string). Answers the clone as ``GET /_sandbox/state`` shows it.
    """
    sandbox: Sandbox = request.app.state.sandbox
    found = sandbox.store.find(request.path_params["voice_id"])
    if found is None:
        return _error(404, "Not found")
    body = await _json_object(request)
    if isinstance(body, Response):
        return body
    unknown = sorted(set(body) - set(_EDITABLE))
    if unknown:
        return _error(400, f"cannot edit {', '.join(unknown)}; editable: {', '.join(_EDITABLE)}")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key == "tags":
            if isinstance(value, str):
                value = [t.strip() for t in value.split(",") if t.strip()]
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                return _error(400, "tags must be a list of strings or one comma-separated string")
        elif key == "displayName":
            if not isinstance(value, str) or not value:
                return _error(400, "displayName must be a non-empty string")
        elif value is not None and not isinstance(value, str):
            return _error(400, f"{key} must be a string or null")
        changes[_EDITABLE[key]] = value
    _org, clone = found
    for attr, value in changes.items():
        setattr(clone, attr, value)
    sandbox.store.save()
    return JSONResponse(_state_entry(clone, time.monotonic()))


# --------------------------------------------------------------------------- the gate


class _TrackedReceive:
    """Wraps ``receive`` to know whether the request body has been read to its end."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            self.done = True
        return message

    async def drain(self) -> None:
        while not self.done:
            await self()


def _parse_bearer(scope: Scope) -> tuple[str | None, str | None]:
    """(api key, None) or (None, error message)."""
    header = None
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            header = value.decode("latin-1")
            break
    if header is None or not header.strip():
        return None, "Missing API key: send 'Authorization: Bearer <key>'"
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None, "Malformed Authorization header: expected 'Bearer <key>'"
    return token, None


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_FAULT_BODIES = {
    "500": (500, {"error": "Internal server error"}),
    "502": (502, {"error": "Bad gateway"}),
    "503": (503, {"error": "Service unavailable"}),
}


class WavesGate:
    """ASGI middleware in front of /waves: auth, concurrency limit, latency, faults, stats."""

    def __init__(self, app: Callable[..., Awaitable[None]], sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/waves" or path.startswith("/waves/")):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        stats = sandbox.stats
        method = scope["method"]
        stats.requests[f"{method} {path}"] += 1

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                stats.responses[str(message["status"])] += 1
            await send(message)

        key, problem = _parse_bearer(scope)
        org_id = org_id_for_key(key) if key is not None else None
        allowed = sandbox.config.allowed_orgs
        if problem is None and allowed is not None and org_id not in allowed:
            problem = "Invalid API key"
        if problem is not None or org_id is None:
            stats.unauthorized += 1
            await _error(401, problem or "Invalid API key")(scope, receive, counted_send)
            return
        scope[ORG_KEY] = org_id

        stats.arrive(org_id)
        try:
            limit = sandbox.config.concurrency_limit
            if limit and stats.admitted[org_id] >= limit:
                stats.rate_limited += 1
                headers = {}
                if sandbox.config.retry_after is not None:
                    headers["Retry-After"] = _format_seconds(sandbox.config.retry_after)
                response = JSONResponse({"error": "Too many requests"}, status_code=429,
                                        headers=headers)
                await response(scope, receive, counted_send)
                return
            stats.admit(org_id)
            try:
                decision = sandbox.faults.decide(sandbox.config, method, path)
                scope[DECISION_KEY] = decision
                if decision.delay_s > 0:
                    await asyncio.sleep(decision.delay_s)
                await self._answer(scope, _TrackedReceive(receive), counted_send, decision)
            finally:
                stats.release(org_id)
        finally:
            stats.leave(org_id)

    async def _answer(self, scope: Scope, receive: _TrackedReceive, send: Send,
                      decision: Decision) -> None:
        stats = self.sandbox.stats
        fault = decision.fault
        if fault is None and not decision.ghost:
            await self.app(scope, receive, send)
            return
        if fault in ("500", "502", "503", "drop") and not decision.done_before_fault:
            stats.faults[fault] += 1
            await self._fail(scope, receive, send, fault)
            return
        # Run the handler (the change is made), then spoil its answer.
        status, headers, body = await self._buffered(scope, receive)
        if fault == "truncate":
            stats.faults["truncate"] += 1
            cut = body[: len(body) // 2]
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(cut)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": cut})
        elif fault is not None:
            stats.faults[fault] += 1
            await self._fail(scope, receive, send, fault)
        elif decision.ghost and status == 200:
            stats.faults["ghost"] += 1
            await _error(500, "Voice clone request timed out",
                         error_code="voice_clone_timeout")(scope, receive, send)
        else:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _buffered(self, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
        captured: dict[str, Any] = {"status": 500, "headers": []}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers") or [])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self.app(scope, receive, capture)
        return captured["status"], captured["headers"], b"".join(chunks)

    async def _fail(self, scope: Scope, receive: _TrackedReceive, send: Send, fault: str) -> None:
        if fault == "drop":
            self.sandbox.stats.responses["drop"] += 1
            await receive.drain()  # an unread body would turn our FIN into a reset
            handle = connection_of(scope)
            if handle is None:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            await handle.drop()
            return
        status, body = _FAULT_BODIES[fault]
        if fault == "500" and scope["method"] == "POST" and scope["path"] in CREATE_PATHS:
            body = {**body, "error_code": "voice_clone_error"}
        await JSONResponse(body, status_code=status)(scope, receive, send)


# --------------------------------------------------------------------------- the app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def create_app(config: SandboxConfig | None = None, *, state_file: Path | None = None) -> Starlette:
    """The emulator as a Starlette app; its live :class:`Sandbox` is ``app.state.sandbox``.

    ``state_file``: load clones from this JSON file and rewrite it (atomically)
    after every change; without it the state lives in memory only. Raises
    :class:`reconciler.sandbox.state.StateFileError` if the file cannot be read.
    """
    sandbox = Sandbox(config, state_file=state_file)
    routes = [
        Route("/waves/v1/voice-cloning", create_clone, methods=["POST"]),
        Route("/waves/v1/voice-cloning", list_clones, methods=["GET"]),
        Route("/waves/v1/lightning-large", delete_clone, methods=["DELETE"]),
        Route("/waves/v1/lightning-large/add_voice", add_voice, methods=["POST"]),
        Route("/waves/v1/lightning-large/get_cloned_voices", get_cloned_voices, methods=["GET"]),
        Route("/waves/v1/tts", tts, methods=["POST"]),
        Route("/waves/v1/lightning-v3.1/get_speech", get_speech_v31, methods=["POST"]),
        Route("/_sandbox/state", hook_state, methods=["GET"]),
        Route("/_sandbox/reset", hook_reset, methods=["POST"]),
        Route("/_sandbox/config", hook_config, methods=["GET", "POST"]),
        Route("/_sandbox/stats", hook_stats, methods=["GET"]),
        Route("/_sandbox/stats/reset", hook_stats_reset, methods=["POST"]),
        Route("/_sandbox/samples/{voice_id}/{n:int}.wav", hook_sample, methods=["GET"]),
        Route("/_sandbox/clones/{voice_id}", hook_edit_clone, methods=["PATCH"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(WavesGate, sandbox=sandbox)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app
