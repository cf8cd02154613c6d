"""Create bodies: form fields, the part's sniffed MIME type and filename, streaming."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

import httpx
import pytest

from reconciler.api import BadRequestError, CloneRequest, WavesClient
from reconciler.api.upload import UploadError, clone_form, describe_upload

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("tone-6s.wav", "audio/wav"),
        ("tone-7s-id3.mp3", "audio/mpeg"),
        ("tone-7s-noid3.mp3", "audio/mpeg"),
        ("tone-6s.mp4", "audio/mp4"),
        ("tone-8s.m4a", "audio/mp4"),
        ("tone-9s.webm", "audio/webm"),
    ],
)
def test_mime_type_comes_from_the_bytes(name: str, mime: str) -> None:
    upload = describe_upload(AUDIO / name)
    assert upload.mime_type == mime and upload.filename == name


def test_extension_is_not_trusted(tmp_path: Path) -> None:
    lying = tmp_path / "voice.mp3"
    shutil.copy(AUDIO / "tone-6s.wav", lying)
    upload = describe_upload(lying)
    assert upload.mime_type == "audio/wav"  # never audio/x-wav, never audio/mpeg
    assert upload.filename == "voice.mp3"


def test_unreadable_or_foreign_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("hello")
    with pytest.raises(UploadError, match="not a wav, mp3, mp4 or webm"):
        describe_upload(text)
    with pytest.raises(UploadError, match="cannot read"):
        describe_upload(tmp_path / "missing.wav")


def test_form_fields_and_tags_as_one_string(tmp_path: Path) -> None:
    request = CloneRequest(
        display_name="Narrator",
        file=tmp_path / "x.wav",
        language="en",
        description="calm",
        accent="general",
        tags=("en", " tone-test ", "", "voicectl.stack=demo"),
    )
    assert clone_form(request) == {
        "displayName": "Narrator",
        "model": "lightning-v3.1",
        "language": "en",
        "description": "calm",
        "accent": "general",
        "tags": "en,tone-test,voicectl.stack=demo",
    }
    bare = clone_form(CloneRequest(display_name="N", file=tmp_path / "x.wav"))
    assert bare == {"displayName": "N", "model": "lightning-v3.1"}


class RecordingTransport(httpx.AsyncBaseTransport):
    """A stand-in server (a real transport, not a patch): reads the request body
    chunk by chunk as a socket would and answers like a create."""

    def __init__(self) -> None:
        self.chunk_sizes: list[int] = []
        self.body = b""
        self.headers: httpx.Headers | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers = request.headers
        parts = []
        async for chunk in request.stream:  # type: ignore[union-attr]
            self.chunk_sizes.append(len(chunk))
            parts.append(chunk)
        self.body = b"".join(parts)
        data = {
            "voiceId": "voice_rec",
            "displayName": "Big",
            "status": "completed",
            "model": {"modelName": "lightning-v3.1"},
        }
        return httpx.Response(200, json={"message": "ok", "data": data})


def test_the_file_is_sent_in_bounded_chunks_with_its_own_part_headers(tmp_path: Path) -> None:
    big = tmp_path / "big-sample.mp4"
    payload = (AUDIO / "tone-6s.wav").read_bytes()
    with open(big, "wb") as fh:  # a 3 MB wav named .mp4
        fh.write(payload)
        fh.write(b"\x00" * (3 * 1024 * 1024 - len(payload)))
    transport = RecordingTransport()

    async def main() -> None:
        async with WavesClient(
            base_url="https://api.example.test", api_key="k-123", transport=transport
        ) as client:
            clone = await client.create_clone(
                CloneRequest(display_name="Big", file=big, tags=("a", "b"))
            )
            assert clone.voice_id == "voice_rec" and clone.model == "lightning-v3.1"

    asyncio.run(main())
    assert transport.headers is not None
    assert transport.headers["authorization"] == "Bearer k-123"
    assert transport.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(transport.headers["content-length"]) == len(transport.body)  # sized, not read
    assert max(transport.chunk_sizes) <= 64 * 1024  # streamed in chunks, never whole
    assert len(transport.chunk_sizes) > 40
    head = transport.body[: transport.body.index(b"RIFF")]
    assert b'name="file"; filename="big-sample.mp4"' in head
    assert b"Content-Type: audio/wav" in head
    assert b'name="tags"\r\n\r\na,b\r\n' in transport.body


def test_a_missing_file_is_a_definite_error_before_anything_is_sent(tmp_path: Path) -> None:
    transport = RecordingTransport()

    async def main() -> None:
        async with WavesClient(
            base_url="https://api.example.test", api_key="k", transport=transport
        ) as client:
            with pytest.raises(BadRequestError, match=r'^create "Gone": cannot read'):
                await client.create_clone(
                    CloneRequest(display_name="Gone", file=tmp_path / "nope.wav")
                )

    asyncio.run(main())
    assert transport.headers is None


def test_a_small_create_goes_out_as_one_chunk(tmp_path: Path) -> None:
    """httpx yields ~4 chunks per form field; they are joined, not written one by one."""
    small = tmp_path / "small.wav"
    with wave.open(str(small), "wb") as out:  # 1 s of 8 kHz 16-bit silence: 16 kB
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000)
    transport = RecordingTransport()

    async def main() -> None:
        async with WavesClient(
            base_url="https://api.example.test", api_key="k", transport=transport
        ) as client:
            request = CloneRequest(
                display_name="Small", file=small, language="en", description="d", tags=("a",)
            )
            await client.create_clone(request)

    asyncio.run(main())
    assert transport.headers is not None
    assert transport.chunk_sizes == [len(transport.body)]  # one chunk: the whole body
    assert int(transport.headers["content-length"]) == len(transport.body)
    boundary = transport.headers["content-type"].split("boundary=")[1].encode()
    assert transport.body.endswith(small.read_bytes() + b"\r\n--" + boundary + b"--\r\n")
    for field in (b'name="displayName"\r\n\r\nSmall\r\n', b'name="tags"\r\n\r\na\r\n'):
        assert field in transport.body
