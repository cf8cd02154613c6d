"""The Waves API emulator as a Starlette app.

``create_app()`` builds it; ``app.state.sandbox`` (a :class:`Sandbox`) holds the
live config, the clone store, the fault engine and the statistics, for tests that
run the app in-process (``httpx.ASGITransport``). ``voicectl sandbox serve`` runs
the same app under uvicorn. The parts live beside this module: ``sandbox.py``
(the state), ``gate.py`` (the middleware), ``forms.py``, ``cloning.py``,
``legacy.py`` and ``speech.py`` (the ``/waves`` handlers), ``hooks.py`` (the
``/_sandbox`` routes); their public names are re-exported here.

Endpoints under ``/waves`` behave like the service (see
``/work/shared/waves-api.md``): Bearer auth, then the concurrency limit, then
latency and faults (:class:`WavesGate`), then the handler. Hooks under
``/_sandbox/`` need no key and never fault.

Choices where the service's behaviour is not published:

* Which API world it plays: the profile (``seed`` or ``current``) and the single
  behaviours of :mod:`reconciler.sandbox.profiles` (the delete route, the legacy
  routes, the Pro model, TTS's ``Accept`` header).
* Languages accepted on create and TTS: per model, from the shared table
  :mod:`reconciler.languages` (``SUPPORTED_LANGUAGES`` is lightning-v3.1's).
  Without ``language`` the clone's language is ``null``.
* A create's model and language are checked before its file (so a create
  without a file tells whether a model is accepted, and makes nothing).
* ``GET /waves/v1/voice-cloning`` filters (exact match, all optional, combined
  with AND): ``modelIds`` (the clone's modelIds contain it; comma-separated or
  repeated values match any), ``cloningType``, ``_id``, ``voiceId``, ``status``.
  Other parameters are ignored.
* ``get_cloned_voices`` lists only legacy (``add_voice``) clones.
* Legacy clones list without ``description``, ``accent`` and ``language`` keys
  (old entries may miss fields).
* ``tags`` sent several times: every value is split and the pieces concatenated.
* Deleting an unknown or already-deleted id: 400 ``{"error": "Invalid voice id"}``
  (on either delete route). A retired route answers 410 in the published
  ``MODEL_DEPRECATED`` shape; the new route refusing API keys answers 401.
* TTS: unknown voice 404 ``{"error": ...}`` (``current``: 400 with the array
  shape); a clone not ``completed`` 400;
  ``output_format`` ``wav`` (default) or ``pcm``; ``sample_rate`` one of
  8000 16000 22050 24000 44100 48000; text up to 2000 characters.
* 502 and 503 faults carry ``{"error": "Bad gateway"}`` / ``{"error": "Service
  unavailable"}``; a 500 fault on a create carries ``error_code`` ``voice_clone_error``.
* A 429's ``Retry-After`` is ``retry_after`` seconds as a decimal number (``1``,
  ``0.5``); parse it as a float.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox.cloning import (
    DEPRECATED_MODEL_MESSAGE,
    SAMPLE_TEXTS,
    SUPPORTED_LANGUAGES,
    create_clone,
    delete_clone,
    delete_clone_v2,
    list_clones,
    model_object_id,
)
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.forms import (
    ACCEPTED_MIME_TYPES,
    MAX_DISPLAY_NAME,
    MAX_UPLOAD_BYTES,
    OCTET_STREAM_EXTENSIONS,
)
from reconciler.sandbox.gate import WavesGate
from reconciler.sandbox.hooks import (
    hook_config,
    hook_edit_clone,
    hook_hold,
    hook_reset,
    hook_sample,
    hook_seed_clone,
    hook_state,
    hook_stats,
    hook_stats_reset,
)
from reconciler.sandbox.legacy import add_voice, get_cloned_voices
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.speech import MAX_TTS_CHARS, TTS_MODELS, get_speech_v31, tts
from reconciler.sandbox.wire import DECISION_KEY, ORG_KEY

__all__ = [
    "ACCEPTED_MIME_TYPES",
    "DECISION_KEY",
    "DEPRECATED_MODEL_MESSAGE",
    "MAX_DISPLAY_NAME",
    "MAX_TTS_CHARS",
    "MAX_UPLOAD_BYTES",
    "OCTET_STREAM_EXTENSIONS",
    "ORG_KEY",
    "SAMPLE_TEXTS",
    "SUPPORTED_LANGUAGES",
    "TTS_MODELS",
    "Sandbox",
    "WavesGate",
    "create_app",
    "model_object_id",
]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )


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
        Route("/waves/v1/voice-cloning/delete", delete_clone_v2, methods=["POST"]),
        Route("/waves/v1/lightning-large/add_voice", add_voice, methods=["POST"]),
        Route("/waves/v1/lightning-large/get_cloned_voices", get_cloned_voices, methods=["GET"]),
        Route("/waves/v1/tts", tts, methods=["POST"]),
        Route("/waves/v1/lightning-v3.1/get_speech", get_speech_v31, methods=["POST"]),
        Route("/_sandbox/state", hook_state, methods=["GET"]),
        Route("/_sandbox/reset", hook_reset, methods=["POST"]),
        Route("/_sandbox/config", hook_config, methods=["GET", "POST"]),
        Route("/_sandbox/stats", hook_stats, methods=["GET"]),
        Route("/_sandbox/hold", hook_hold, methods=["POST"]),
        Route("/_sandbox/stats/reset", hook_stats_reset, methods=["POST"]),
        Route("/_sandbox/samples/{voice_id}/{n:int}.wav", hook_sample, methods=["GET"]),
        Route("/_sandbox/clones", hook_seed_clone, methods=["POST"]),
        Route("/_sandbox/clones/{voice_id}", hook_edit_clone, methods=["PATCH"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(WavesGate, sandbox=sandbox)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app
