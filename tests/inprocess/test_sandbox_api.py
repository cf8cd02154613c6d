"""The sandbox's wire format, endpoint by endpoint, against the API fact sheet.

In-process (``httpx.ASGITransport``): the real Starlette app, no sockets, fast.
The same app is served over real sockets in ``test_sandbox_server.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import wave
from pathlib import Path

import httpx
import pytest
from sandbox_support import (
    ADD_VOICE,
    CLONES,
    DELETE,
    GET_SPEECH,
    KEY,
    LEGACY_LIST,
    OTHER_KEY,
    TTS,
    asgi_client,
    multipart,
    org_of,
    small_wav,
)

from reconciler.sandbox.app import ACCEPTED_MIME_TYPES, SUPPORTED_LANGUAGES

pytestmark = pytest.mark.anyio

VOICE_ID = re.compile(r"^voice_[A-Za-z0-9]{10}$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LIST_KEYS = {
    "_id",
    "voiceId",
    "displayName",
    "description",
    "accent",
    "tags",
    "language",
    "status",
    "cloningType",
    "modelIds",
    "createdAt",
}


async def create(client: httpx.AsyncClient, name: str = "Narrator", **kwargs) -> httpx.Response:
    return await client.post(CLONES, **multipart(name, **kwargs))


async def made(client: httpx.AsyncClient, name: str = "Narrator", **kwargs) -> dict:
    response = await create(client, name, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def listed(client: httpx.AsyncClient, **params) -> list[dict]:
    response = await client.get(CLONES, params=params)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"data"}
    return response.json()["data"]


def parse_wav(data: bytes) -> tuple[int, int, int, int]:
    """(channels, sample width, rate, frames) of a WAV, or an assertion error."""
    with wave.open(io.BytesIO(data), "rb") as audio:
        return (
            audio.getnchannels(),
            audio.getsampwidth(),
            audio.getframerate(),
            audio.getnframes(),
        )


async def assert_error(response: httpx.Response, status: int, pattern: str = "") -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    if pattern:
        assert re.search(pattern, body["error"]), body
    return body["error"]


# --------------------------------------------------------------------------- create


async def test_create_answers_the_documented_shape(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await create(client, "My voice", language="en", filename="take1.wav")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"message", "data"}
        assert body["message"] == "Voice clone created successfully"
        data = body["data"]
        assert set(data) == {
            "voiceId",
            "displayName",
            "status",
            "language",
            "model",
            "audioFileNames",
            "createdAt",
            "organizationId",
            "samples",
        }
        assert VOICE_ID.match(data["voiceId"])
        assert data["displayName"] == "My voice"
        assert data["status"] == "completed"
        assert data["language"] == "en"
        assert set(data["model"]) == {"_id", "modelName"}
        assert data["model"]["modelName"] == "lightning-v3.1" and HEX24.match(data["model"]["_id"])
        assert data["audioFileNames"] == ["take1.wav"]
        assert ISO_MS.match(data["createdAt"])
        assert data["organizationId"] == org_of(KEY)
        assert len(data["samples"]) == 2
        for sample in data["samples"]:
            assert set(sample) == {"text", "audioUrl"} and sample["text"]
            assert sample["audioUrl"].startswith("http://sandbox.test/_sandbox/samples/")
            audio = await client.get(sample["audioUrl"], headers={"Authorization": ""})
            assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
            channels, width, rate, frames = parse_wav(audio.content)
            assert (channels, width) == (1, 2) and frames / rate >= 1.0


async def test_the_stored_clone_lists_with_every_field(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        data = await made(
            client,
            "Narrator",
            language="hi",
            description="calm and slow",
            accent="indian",
            tags="en, tone-test",
        )
        (entry,) = await listed(client)
        assert set(entry) >= LIST_KEYS
        assert HEX24.match(entry["_id"])
        assert entry["voiceId"] == data["voiceId"]
        assert entry["displayName"] == "Narrator"
        assert entry["description"] == "calm and slow" and entry["accent"] == "indian"
        assert entry["tags"] == ["en", "tone-test"]
        assert entry["language"] == "hi"
        assert entry["status"] == "completed"
        assert entry["cloningType"] == "instant"
        assert entry["modelIds"] == ["lightning-v3.1"]
        assert entry["createdAt"] == data["createdAt"]


async def test_optional_fields_default(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await made(client, "Bare")
        (entry,) = await listed(client)
        assert entry["tags"] == [] and entry["description"] is None and entry["accent"] is None
        assert entry["language"] is None
        assert entry["modelIds"] == ["lightning-v3.1"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("en, tone-test", ["en", "tone-test"]),
        ("  a ,, b ,", ["a", "b"]),
        ("single", ["single"]),
        (" , ", []),
        ("voicectl-stack:prod,voicectl-name:n", ["voicectl-stack:prod", "voicectl-name:n"]),
    ],
)
async def test_tags_are_one_string_split_on_commas_and_trimmed(sandbox_app, sent, stored) -> None:
    async with asgi_client(sandbox_app()) as client:
        await made(client, tags=sent)
        (entry,) = await listed(client)
        assert entry["tags"] == stored


async def test_display_name_must_be_1_to_500_characters(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await assert_error(await create(client, None), 400, "displayName")
        await assert_error(await create(client, ""), 400, "displayName")
        await assert_error(await create(client, "x" * 501), 400, "500")
        assert (await create(client, "x" * 500)).status_code == 200
        assert (await create(client, "y")).status_code == 200
        assert len(await listed(client)) == 2


async def test_file_is_required(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await client.post(CLONES, data={"displayName": "x"})
        await assert_error(response, 400, "file")
        # A plain field named file is not a file either.
        response = await client.post(CLONES, data={"displayName": "x", "file": "abc"})
        await assert_error(response, 400, "file")
        await assert_error(await create(client, audio=b""), 400, "empty")
        assert await listed(client) == []


async def test_file_at_most_5_mb(sandbox_app) -> None:
    limit = 5_000_000
    async with asgi_client(sandbox_app()) as client:
        assert (await create(client, audio=b"\0" * limit)).status_code == 200
        await assert_error(await create(client, audio=b"\0" * (limit + 1)), 400, "too large")
        assert len(await listed(client)) == 1


@pytest.mark.parametrize("mime", sorted(ACCEPTED_MIME_TYPES))
async def test_each_accepted_mime_type(sandbox_app, mime: str) -> None:
    async with asgi_client(sandbox_app()) as client:
        assert (await create(client, content_type=mime)).status_code == 200
        assert (await create(client, content_type=mime + "; charset=binary")).status_code == 200


@pytest.mark.parametrize("filename", ["a.mp3", "a.wav", "b.MP4", "c.webm"])
async def test_octet_stream_with_an_audio_extension_is_accepted(sandbox_app, filename) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await create(client, filename=filename, content_type="application/octet-stream")
        assert response.status_code == 200, response.text
        assert response.json()["data"]["audioFileNames"] == [filename]


@pytest.mark.parametrize(
    ("filename", "mime"),
    [
        ("a.ogg", "application/octet-stream"),
        ("sample", "application/octet-stream"),
        ("a.wav", "audio/x-wav"),  # what httpx guesses for .wav: refused like the service does
        ("a.wav", "text/plain"),
        ("a.flac", "audio/flac"),
        ("a.m4a", "audio/x-m4a"),
    ],
)
async def test_other_types_are_refused(sandbox_app, filename: str, mime: str) -> None:
    async with asgi_client(sandbox_app()) as client:
        await assert_error(
            await create(client, filename=filename, content_type=mime), 400, "Unsupported file type"
        )
        assert await listed(client) == []


async def test_models(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await create(client, model="lightning-v2")
        assert response.status_code == 400
        assert response.json() == {
            "error": "Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"
        }
        for model in ("lightning-large", "lightning_v3.1", "nope"):
            await assert_error(await create(client, model=model), 400, re.escape(model))
        data = await made(client, model="lightning-v3.1")
        assert data["model"]["modelName"] == "lightning-v3.1"
        assert len(await listed(client)) == 1


async def test_languages(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        for bad in ("xx", "EN", "el", "zh", "english"):
            await assert_error(await create(client, language=bad), 400, f"'{re.escape(bad)}'")
        for code in SUPPORTED_LANGUAGES:
            data = await made(client, f"voice-{code}", language=code)
            assert data["language"] == code
        assert len(await listed(client)) == len(SUPPORTED_LANGUAGES) == 21 + 3  # ar he multi


async def test_clone_limit(sandbox_app) -> None:
    app = sandbox_app(clone_limit=2)
    async with asgi_client(app) as client, asgi_client(app, OTHER_KEY) as other:
        first = await made(client, "one")
        await made(client, "two")
        error = await assert_error(await create(client, "three"), 400)
        assert "clone limit" in error.lower()
        await assert_error(await client.post(ADD_VOICE, **multipart("legacy")), 400, "clone limit")
        assert (await create(other, "elsewhere")).status_code == 200  # per organisation
        assert (
            await client.request("DELETE", DELETE, json={"voiceId": first["voiceId"]})
        ).status_code == 200
        assert (await create(client, "three")).status_code == 200


async def test_a_broken_multipart_body_is_a_400(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await client.post(
            CLONES,
            content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nbroken",
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        )
        await assert_error(response, 400)


# --------------------------------------------------------------------------- list


async def test_list_filters(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        a = await made(client, "a")
        b = await made(client, "b")
        legacy = (await client.post(ADD_VOICE, **multipart("old"))).json()["data"]
        everything = await listed(client)
        assert [e["voiceId"] for e in everything] == [a["voiceId"], b["voiceId"], legacy["voiceId"]]
        ids = {e["voiceId"]: e["_id"] for e in everything}

        def voice_ids(entries: list[dict]) -> list[str]:
            return [e["voiceId"] for e in entries]

        assert voice_ids(await listed(client, modelIds="lightning-v3.1")) == [
            a["voiceId"],
            b["voiceId"],
        ]
        assert voice_ids(await listed(client, modelIds="lightning-large")) == [legacy["voiceId"]]
        assert len(await listed(client, modelIds="lightning-large,lightning-v3.1")) == 3
        assert voice_ids(await listed(client, voiceId=b["voiceId"])) == [b["voiceId"]]
        assert voice_ids(await listed(client, _id=ids[a["voiceId"]])) == [a["voiceId"]]
        assert len(await listed(client, cloningType="instant")) == 3
        assert await listed(client, cloningType="professional") == []
        assert await listed(client, voiceId="voice_nope") == []
        assert len(await listed(client, unknownFilter="x")) == 3


async def test_list_is_per_organisation(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as mine, asgi_client(app, OTHER_KEY) as theirs:
        await made(mine, "mine")
        assert len(await listed(mine)) == 1
        assert await listed(theirs) == []
        assert (await theirs.get(LEGACY_LIST)).json() == {"voices": []}


# --------------------------------------------------------------------------- delete


async def test_delete_removes_any_clone_of_the_organisation(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        current = await made(client, "current")
        legacy = (await client.post(ADD_VOICE, **multipart("old"))).json()["data"]
        for voice_id in (legacy["voiceId"], current["voiceId"]):
            response = await client.request("DELETE", DELETE, json={"voiceId": voice_id})
            assert response.status_code == 200
            assert response.json() == {"success": True, "voiceId": voice_id}
        assert await listed(client) == []
        # Already gone, never existed, malformed: all the same 400.
        for voice_id in (current["voiceId"], "voice_AAAAAAAAAA", "rubbish"):
            response = await client.request("DELETE", DELETE, json={"voiceId": voice_id})
            assert response.status_code == 400
            assert response.json() == {"error": "Invalid voice id"}


async def test_delete_needs_a_voice_id(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await assert_error(await client.request("DELETE", DELETE, json={}), 400, "voiceId")
        await assert_error(await client.request("DELETE", DELETE, content=b"{nope"), 400)
        await assert_error(await client.request("DELETE", DELETE, json=["x"]), 400)


async def test_delete_cannot_touch_another_organisation(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as mine, asgi_client(app, OTHER_KEY) as theirs:
        data = await made(mine)
        response = await theirs.request("DELETE", DELETE, json={"voiceId": data["voiceId"]})
        assert response.status_code == 400 and response.json() == {"error": "Invalid voice id"}
        assert len(await listed(mine)) == 1


# --------------------------------------------------------------------------- legacy


async def test_add_voice_makes_a_lightning_large_only_clone(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        response = await client.post(
            ADD_VOICE, **multipart("Old narrator", language="en", tags="a,b", model="x")
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"message", "data"} and body["message"]
        assert set(body["data"]) == {"voiceId", "model", "status"}
        assert body["data"]["model"] == "lightning-large"
        assert body["data"]["status"] == "completed"
        assert VOICE_ID.match(body["data"]["voiceId"])
        (entry,) = await listed(client)
        assert entry["modelIds"] == ["lightning-large"]
        assert entry["tags"] == []  # the legacy endpoint takes only displayName + file
        assert "language" not in entry  # old entries miss fields


async def test_add_voice_validates_like_create(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await assert_error(await client.post(ADD_VOICE, **multipart("")), 400, "displayName")
        await assert_error(await client.post(ADD_VOICE, data={"displayName": "x"}), 400, "file")
        await assert_error(
            await client.post(ADD_VOICE, **multipart("x", content_type="image/png")), 400
        )


async def test_get_cloned_voices_lists_legacy_clones_only(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await made(client, "current")
        legacy = (await client.post(ADD_VOICE, **multipart("Old"))).json()["data"]
        response = await client.get(LEGACY_LIST)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"voices"}
        (voice,) = body["voices"]
        assert set(voice) == {
            "displayName",
            "accent",
            "tags",
            "voiceId",
            "model",
            "status",
            "createdAt",
        }
        assert voice["voiceId"] == legacy["voiceId"] and voice["displayName"] == "Old"
        assert voice["model"] == "lightning-large" and voice["status"] == "completed"
        assert voice["tags"] == [] and ISO_MS.match(voice["createdAt"])


# --------------------------------------------------------------------------- tts


async def test_tts_returns_a_wav_that_grows_with_the_text(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        voice = (await made(client))["voiceId"]
        lengths = []
        for text in ("Hello there.", "Hello there. " * 10):
            response = await client.post(
                TTS,
                json={
                    "text": text,
                    "voice_id": voice,
                    "model": "lightning_v3.1",
                    "sample_rate": 16000,
                    "output_format": "wav",
                    "language": "en",
                },
            )
            assert response.status_code == 200
            assert response.headers["content-type"] == "audio/wav"
            channels, width, rate, frames = parse_wav(response.content)
            assert (channels, width, rate) == (1, 2, 16000)
            assert frames / rate == pytest.approx(0.06 * len(text), abs=0.01)
            lengths.append(len(response.content))
        assert lengths[1] > 5 * lengths[0]
        # Defaults: 24 kHz, wav; the pro model too; pcm is raw samples.
        response = await client.post(
            TTS, json={"text": "Hi there", "voice_id": voice, "model": "lightning_v3.1_pro"}
        )
        assert parse_wav(response.content)[2] == 24000
        response = await client.post(
            TTS,
            json={
                "text": "Hi there",
                "voice_id": voice,
                "output_format": "pcm",
                "sample_rate": 8000,
            },
        )
        assert response.status_code == 200
        assert len(response.content) == 2 * int(round(0.06 * 8 * 8000))


async def test_a_legacy_clone_on_lightning_v31_gets_a_near_empty_wav(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        legacy = (await client.post(ADD_VOICE, **multipart("Old"))).json()["data"]["voiceId"]
        text = "This sentence should take a few seconds to say."
        for path, model in (
            (TTS, "lightning_v3.1"),
            (TTS, "lightning_v3.1_pro"),
            (GET_SPEECH, None),
        ):
            body = {"text": text, "voice_id": legacy, "sample_rate": 24000}
            if model:
                body["model"] = model
            response = await client.post(path, json=body)
            assert response.status_code == 200  # no error: the real service's bug
            assert 100 <= len(response.content) <= 200
            assert parse_wav(response.content)[3] < 100  # frames: almost nothing
        # On its own model it speaks.
        response = await client.post(
            TTS, json={"text": text, "voice_id": legacy, "model": "lightning-large"}
        )
        assert response.status_code == 200 and len(response.content) > 10_000


async def test_get_speech_speaks_current_clones(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        voice = (await made(client))["voiceId"]
        response = await client.post(GET_SPEECH, json={"text": "Hello world", "voice_id": voice})
        assert response.status_code == 200 and len(response.content) > 10_000


async def test_tts_errors(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as client, asgi_client(app, OTHER_KEY) as other:
        voice = (await made(client))["voiceId"]
        await assert_error(
            await client.post(TTS, json={"text": "hi", "voice_id": "voice_nope"}), 404, "voice_nope"
        )
        await assert_error(await other.post(TTS, json={"text": "hi", "voice_id": voice}), 404)
        await assert_error(await client.post(TTS, json={"voice_id": voice}), 400, "text")
        await assert_error(await client.post(TTS, json={"text": "hi"}), 400, "voice_id")
        await assert_error(
            await client.post(
                TTS, json={"text": "hi", "voice_id": voice, "model": "lightning-v3.1"}
            ),
            400,
            "model",
        )
        await assert_error(
            await client.post(TTS, json={"text": "hi", "voice_id": voice, "sample_rate": 12345}),
            400,
            "sample_rate",
        )
        await assert_error(
            await client.post(TTS, json={"text": "hi", "voice_id": voice, "output_format": "ogg"}),
            400,
        )
        await assert_error(await client.post(TTS, content=b"not json"), 400)


# --------------------------------------------------------------------------- auth


async def test_every_waves_endpoint_needs_a_bearer_key(sandbox_app) -> None:
    app = sandbox_app()
    endpoints = [
        ("POST", CLONES),
        ("GET", CLONES),
        ("DELETE", DELETE),
        ("POST", ADD_VOICE),
        ("GET", LEGACY_LIST),
        ("POST", TTS),
        ("POST", GET_SPEECH),
        ("GET", "/waves/v1/unknown"),
    ]
    bad_headers = [
        {},
        {"Authorization": ""},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer a b"},
        {"X-Api-Key": KEY},
    ]
    async with asgi_client(app, key=None) as client:
        for method, path in endpoints:
            for headers in bad_headers:
                response = await client.request(method, path, headers=headers)
                await assert_error(response, 401)
        # Hooks need no key.
        assert (await client.get("/_sandbox/stats")).status_code == 200
    assert app.state.sandbox.stats.unauthorized == len(endpoints) * len(bad_headers)


async def test_each_key_is_its_own_organisation(sandbox_app) -> None:
    app = sandbox_app()
    async with asgi_client(app) as mine, asgi_client(app, OTHER_KEY) as theirs:
        mine_data = await made(mine, "mine")
        theirs_data = await made(theirs, "theirs")
        assert mine_data["organizationId"] == org_of(KEY)
        assert theirs_data["organizationId"] == org_of(OTHER_KEY) != org_of(KEY)
        assert [e["displayName"] for e in await listed(mine)] == ["mine"]
        assert [e["displayName"] for e in await listed(theirs)] == ["theirs"]
        state = (await mine.get("/_sandbox/state")).json()
        assert set(state["orgs"]) == {org_of(KEY), org_of(OTHER_KEY)}
        assert KEY not in json.dumps(state) and OTHER_KEY not in json.dumps(state)


async def test_api_keys_restrict_access(sandbox_app) -> None:
    app = sandbox_app(api_keys=["sk-allowed-one", "sk-allowed-two"])
    async with asgi_client(app, "sk-allowed-one") as one, asgi_client(app, "sk-other") as other:
        assert (await one.get(CLONES)).status_code == 200
        await assert_error(await other.get(CLONES), 401, "Invalid API key")
        config = (await one.get("/_sandbox/config")).json()
        assert config["api_key_count"] == 2
        assert sorted(config["allowed_orgs"]) == sorted(
            [org_of("sk-allowed-one"), org_of("sk-allowed-two")]
        )
        assert "sk-allowed" not in json.dumps((await one.get("/_sandbox/state")).json())


# --------------------------------------------------------------------------- lifecycle


async def _settled(client) -> dict:
    """The one listed clone once it is no longer processing (however long that takes)."""
    while True:
        (entry,) = await listed(client)
        if entry["status"] != "processing":
            return entry
        await asyncio.sleep(0.02)


async def test_processing_then_completed(sandbox_app) -> None:
    app = sandbox_app(processing_seconds=3600)  # processing for the whole test
    async with asgi_client(app) as client:
        data = await made(client)
        assert data["status"] == "processing"
        (entry,) = await listed(client)
        assert entry["status"] == "processing"
        tts = await client.post(TTS, json={"text": "hi", "voice_id": data["voiceId"]})
        await assert_error(tts, 400, "not ready")
    app = sandbox_app(processing_seconds=0.3)  # and it ends by itself
    async with asgi_client(app) as client:
        await made(client)
        assert (await _settled(client))["status"] == "completed"


async def test_failure_rate_makes_clones_end_failed(sandbox_app) -> None:
    app = sandbox_app(processing_seconds=0.2, failure_rate=1.0)
    async with asgi_client(app) as client:
        await made(client)
        assert (await _settled(client))["status"] == "failed"
    # With no processing time the outcome is there at once; a rate mixes them.
    app = sandbox_app(failure_rate=0.5, seed=3)
    async with asgi_client(app) as client:
        statuses = [(await made(client, f"v{i}"))["status"] for i in range(30)]
        assert set(statuses) == {"completed", "failed"}


async def test_no_processing_time_means_completed_at_once(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        assert (await made(client))["status"] == "completed"


# --------------------------------------------------------------------------- state file


async def test_state_file_survives_a_new_app(sandbox_app, tmp_path: Path) -> None:
    state_file = tmp_path / "nested" / "sandbox.json"
    app = sandbox_app(state_file=state_file, processing_seconds=3600)
    async with asgi_client(app) as client:
        data = await made(client, "Kept", tags="x,y", language="en")
        await client.post(ADD_VOICE, **multipart("Old"))
        gone = await made(client, "Gone")
        await client.request("DELETE", DELETE, json={"voiceId": gone["voiceId"]})
    raw = state_file.read_text()
    stored = json.loads(raw)
    assert KEY not in raw and set(stored["orgs"]) == {org_of(KEY)}
    audio = stored["orgs"][org_of(KEY)]["clones"][0]["audio"]
    assert audio["size"] == len(small_wav()) and len(audio["sha256"]) == 64
    assert len(raw) < 10_000  # metadata only, never the audio bytes
    assert not list(state_file.parent.glob("*.tmp"))

    again = sandbox_app(state_file=state_file)
    async with asgi_client(again) as client:
        entries = await listed(client)
        assert [e["displayName"] for e in entries] == ["Kept", "Old"]
        assert entries[0]["voiceId"] == data["voiceId"] and entries[0]["tags"] == ["x", "y"]
        assert entries[0]["status"] == "processing"  # the ready time is stored, not reset
        assert entries[1]["modelIds"] == ["lightning-large"]


async def test_a_corrupt_state_file_is_refused(tmp_path: Path) -> None:
    from reconciler.sandbox import StateFileError, create_app

    bad = tmp_path / "sandbox.json"
    broken_clone = '{"version": 1, "orgs": {"x": {"clones": [{}]}}}'
    for content in ("{", "[]", '{"version": 99}', broken_clone):
        bad.write_text(content)
        with pytest.raises(StateFileError, match="sandbox.json"):
            create_app(state_file=bad)


# --------------------------------------------------------------------------- misc


async def test_unknown_paths_and_methods_answer_json(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        await assert_error(await client.get("/waves/v1/nothing"), 404)
        await assert_error(await client.put(CLONES), 405)
        await assert_error(await client.get("/_sandbox/samples/voice_nope/1.wav"), 404)


async def test_hooks(sandbox_app) -> None:
    app = sandbox_app(latency_ms=5)
    async with asgi_client(app) as client:
        config = (await client.post("/_sandbox/config", json={"fault-rate": 0.25})).json()
        assert config["fault_rate"] == 0.25 and config["latency_ms"] == 5
        assert set(config) >= {
            "seed",
            "latency_ms",
            "jitter_ms",
            "concurrency_limit",
            "retry_after",
            "fault_rate",
            "fault_kinds",
            "ghost_rate",
            "list_lag_ms",
            "processing_seconds",
            "failure_rate",
            "clone_limit",
            "api_key_count",
            "allowed_orgs",
        }
        await assert_error(
            await client.post("/_sandbox/config", json={"fault_rate": 2}), 400, "fault_rate"
        )
        await assert_error(await client.post("/_sandbox/config", json={"bogus": 1}), 400, "bogus")
        await assert_error(await client.post("/_sandbox/config", content=b"[1]"), 400)
        await client.post("/_sandbox/config", json={"fault_rate": 0})
        await made(client)
        stats = (await client.get("/_sandbox/stats")).json()
        assert set(stats) >= {
            "requests",
            "max_in_flight",
            "max_admitted",
            "in_flight_now",
            "rate_limited",
            "faults",
            "clones_created",
        }
        assert stats["requests"] == {f"POST {CLONES}": 1}
        assert stats["clones_created"] == 1
        assert stats["faults"] == {
            "500": 0,
            "502": 0,
            "503": 0,
            "drop": 0,
            "truncate": 0,
            "ghost": 0,
        }
        assert stats["in_flight_now"] == {org_of(KEY): 0}
        assert stats["max_in_flight"] == {org_of(KEY): 1}
        zeroed = (await client.post("/_sandbox/stats/reset")).json()
        assert zeroed["requests"] == {} and zeroed["clones_created"] == 0
        assert len(await listed(client)) == 1  # stats reset keeps clones
        # reset: startup config (latency 5) plus the body; clones gone.
        reset = (await client.post("/_sandbox/reset", json={"clone_limit": 3})).json()
        assert reset["config"]["clone_limit"] == 3 and reset["config"]["latency_ms"] == 5
        assert reset["config"]["fault_rate"] == 0
        assert await listed(client) == []
        assert (await client.post("/_sandbox/reset")).json()["config"]["clone_limit"] == 100


async def test_tts_accepts_a_whole_float_sample_rate(sandbox_app) -> None:
    async with asgi_client(sandbox_app()) as client:
        voice = (await made(client))["voiceId"]
        response = await client.post(
            TTS, json={"text": "hi", "voice_id": voice, "sample_rate": 16000.0}
        )
        assert response.status_code == 200 and parse_wav(response.content)[2] == 16000
        response = await client.post(
            TTS, json={"text": "hi", "voice_id": voice, "sample_rate": 16000.5}
        )
        await assert_error(response, 400, "sample_rate")


async def test_ids_stay_unique_when_a_seeded_sandbox_restarts_on_its_state(
    sandbox_app, tmp_path: Path
) -> None:
    state_file = tmp_path / "sandbox.json"
    for _ in range(2):  # the same seed replays the same id sequence: no collisions
        async with asgi_client(sandbox_app(seed=1, state_file=state_file)) as client:
            await made(client, "a")
            await made(client, "b")
    async with asgi_client(sandbox_app(state_file=state_file)) as client:
        entries = await listed(client)
    assert len({e["voiceId"] for e in entries}) == len({e["_id"] for e in entries}) == 4


async def test_a_real_wav_file_upload(sandbox_app, wav_file) -> None:
    path = wav_file("narrator.wav", seconds=8.0, freq=220)
    assert parse_wav(path.read_bytes()) == (1, 2, 16000, 128000)
    app = sandbox_app()
    async with asgi_client(app) as client:
        with path.open("rb") as fh:
            response = await client.post(
                CLONES,
                data={"displayName": "Narrator", "language": "en"},
                files={"file": (path.name, fh, "audio/wav")},
            )
        assert response.status_code == 200
    clone = next(iter(app.state.sandbox.store.all_clones()))
    assert clone.audio.size == path.stat().st_size and clone.audio.filename == "narrator.wav"


async def test_embedded_transport_keeps_state_beside_the_manifest(tmp_path: Path) -> None:
    from reconciler.sandbox import embedded_transport

    state_file = tmp_path / ".voicectl" / "sandbox.json"
    transport = embedded_transport(state_file)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://sandbox",
        headers={"Authorization": "Bearer any-key-at-all"},
    ) as client:
        responses = await asyncio.gather(
            *(client.post(CLONES, **multipart(f"v{i}")) for i in range(8))
        )
        assert {r.status_code for r in responses} == {200}
    assert state_file.exists()
    async with httpx.AsyncClient(
        transport=embedded_transport(state_file),
        base_url="http://sandbox",
        headers={"Authorization": "Bearer any-key-at-all"},
    ) as client:
        entries = (await client.get(CLONES)).json()["data"]
        assert sorted(e["displayName"] for e in entries) == [f"v{i}" for i in range(8)]
    config = transport.app.state.sandbox.config
    assert config.fault_rate == 0 and config.api_keys == [] and config.latency_ms == 0
