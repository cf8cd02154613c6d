"""Text to speech: ``POST /waves/v1/tts`` and ``POST /waves/v1/lightning-v3.1/get_speech``.

Both validate the JSON body (text up to 2000 characters, a voice, a model, a
sample rate, ``wav`` or ``pcm``) and answer a tone whose pitch depends on the
voice and whose length grows with the text (:mod:`reconciler.sandbox.wav`). A
lightning-large-only clone spoken on lightning-v3.1 gets a near-empty WAV rather
than an error, as the real service does; so does a clone spoken on a model its
``modelIds`` lack (a v3.1 clone on ``lightning_v3.1_pro`` and the other way
round: not published, the safe reading). Languages are checked per model from
the shared table (:mod:`reconciler.languages`). In the ``current`` world a
request without ``Accept: audio/wav`` gets an empty body, and an unknown voice
the newest reference's array error.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from reconciler import languages
from reconciler.sandbox import wav
from reconciler.sandbox.runtime import Sandbox
from reconciler.sandbox.wire import ORG_KEY, error_response

MAX_TTS_CHARS = 2000
TTS_MODELS = (*languages.TTS_MODELS.values(), "lightning-large")


def _wants_wav(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(
        part.split(";")[0].strip().lower() in ("audio/wav", "audio/*") for part in accept.split(",")
    )


def _unknown_voice(sandbox: Sandbox, voice_id: str) -> Response:
    if sandbox.config.behaviour.array_errors:  # the newest reference's shape
        return JSONResponse(
            {"error": [{"code": "custom", "path": ["voice_id"], "message": "Invalid Voice ID"}]},
            status_code=400,
        )
    return error_response(404, f"Voice not found: {voice_id}")


async def tts(request: Request) -> Response:
    return await _speech(request, path_model=None)


async def get_speech_v31(request: Request) -> Response:
    return await _speech(request, path_model="lightning_v3.1")


async def _speech(request: Request, *, path_model: str | None) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return error_response(400, "Request body must be JSON")
    if not isinstance(body, dict):
        return error_response(400, "Request body must be a JSON object")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return error_response(400, "text is required")
    if len(text) > MAX_TTS_CHARS:
        return error_response(400, f"text must be at most {MAX_TTS_CHARS} characters")
    voice_id = body.get("voice_id")
    if not isinstance(voice_id, str) or not voice_id:
        return error_response(400, "voice_id is required")
    model = path_model or body.get("model") or "lightning_v3.1"
    if model not in TTS_MODELS:
        return error_response(
            400, f"Unsupported model '{model}'. Use one of: {', '.join(TTS_MODELS)}"
        )
    sample_rate = body.get("sample_rate", wav.DEFAULT_SAMPLE_RATE)
    if isinstance(sample_rate, float) and sample_rate.is_integer():
        sample_rate = int(sample_rate)
    if (
        not isinstance(sample_rate, int)
        or isinstance(sample_rate, bool)
        or sample_rate not in wav.SAMPLE_RATES
    ):
        return error_response(
            400, "sample_rate must be one of " + ", ".join(str(r) for r in wav.SAMPLE_RATES)
        )
    output_format = body.get("output_format") or "wav"
    if output_format not in ("wav", "pcm"):
        return error_response(400, f"Unsupported output_format '{output_format}': use wav or pcm")
    clone_model = languages.clone_model_of_tts(model)
    language = body.get("language")
    if (
        language is not None
        and clone_model is not None
        and not languages.is_accepted(language, clone_model)
    ):
        return error_response(400, languages.refusal(language, clone_model))
    clone = sandbox.store.org(request.scope[ORG_KEY]).clones.get(voice_id)
    if clone is None:
        return _unknown_voice(sandbox, voice_id)
    status = clone.status()
    if status != "completed":
        return error_response(400, f"Voice {voice_id} is not ready (status: {status})")
    if sandbox.config.behaviour.tts_accept_required and not _wants_wav(request):
        # "Omitting it can return an empty or unplayable response."
        return Response(b"", media_type="application/octet-stream")
    if clone_model is not None and clone_model not in clone.model_ids:
        # The real service's bug: no error, just a WAV of almost nothing.
        pcm = b"\x00\x00" * wav.NEAR_EMPTY_FRAMES
    else:
        pcm = wav.pcm_tone(
            wav.speech_seconds(text),
            frequency=wav.voice_frequency(voice_id),
            sample_rate=sample_rate,
        )
    if output_format == "pcm":
        return Response(pcm, media_type="audio/pcm")
    return Response(wav.wav_bytes(pcm, sample_rate=sample_rate), media_type="audio/wav")
