"""The client against the real `voicectl sandbox serve`, over sockets.

No mocks: the sandbox is made to misbehave (faults, ghosts, lag, 429s, slowness)
through its hooks, and the client's real code has to cope.
"""

from __future__ import annotations

import asyncio
import http.server
import shutil
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import KEY, Sandbox, run, sandbox_fixture
from sandbox_support import until_async, write_wav

from reconciler.api import (
    AmbiguousCreateError,
    AuthError,
    BadRequestError,
    CloneLimitError,
    CloneRequest,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    WavesClient,
    WavesError,
)
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.faults import FaultEngine

pytestmark = pytest.mark.e2e

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
WAV = AUDIO / "tone-6s.wav"
CLONES = "/waves/v1/voice-cloning"
DELETE = "/waves/v1/lightning-large"

srv_fixture = sandbox_fixture()


def client(srv: Sandbox, **kwargs) -> WavesClient:
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    return WavesClient(base_url=srv.url, **kwargs)


def request(name: str = "Narrator", **kwargs) -> CloneRequest:
    kwargs.setdefault("file", WAV)
    kwargs.setdefault("language", "en")
    return CloneRequest(display_name=name, **kwargs)


def seed_for(config: dict, plan: list[tuple[str, str, str | None, bool | None]]) -> int:
    """A seed whose first decisions match ``plan`` [(method, path, fault, done_before)].

    The sandbox draws every decision from one seeded RNG in request order, so a
    test can pick the seed that faults exactly the tries it wants.
    """
    cfg = SandboxConfig(**config)
    for seed in range(20_000):
        engine = FaultEngine(seed)
        ok = True
        for method, path, fault, done_before in plan:
            decision = engine.decide(cfg, method, path)
            if decision.fault != fault or decision.ghost:
                ok = False
                break
            if done_before is not None and decision.done_before_fault != done_before:
                ok = False
                break
        if ok:
            return seed
    raise AssertionError("no seed found")


# --------------------------------------------------------------------- endpoints


def test_every_endpoint_round_trip(srv: Sandbox, tmp_path: Path) -> None:
    async def main() -> None:
        async with client(srv) as api:
            made = await api.create_clone(
                request("Narrator", description="calm", accent="general", tags=("en", "demo"))
            )
            assert made.voice_id.startswith("voice_") and made.display_name == "Narrator"
            assert made.model == "lightning-v3.1" and made.is_current and made.samples

            listed = await api.list_clones()
            (mine,) = [c for c in listed if c.voice_id == made.voice_id]
            assert mine.tags == ["en", "demo"] and mine.description == "calm"
            assert mine.model_ids == ["lightning-v3.1"] and mine.cloning_type == "instant"

            legacy = await api.add_voice_legacy("Old voice", AUDIO / "tone-7s-id3.mp3")
            assert legacy.display_name == "Old voice" and legacy.is_legacy
            old = await api.list_legacy_voices()
            assert [v.voice_id for v in old] == [legacy.voice_id]
            assert old[0].models == ["lightning-large"]

            # Filters: sent to the server and applied locally.
            assert [c.voice_id for c in await api.list_clones(voice_id=made.voice_id)] == [
                made.voice_id
            ]
            current = await api.list_clones(model_ids="lightning-v3.1")
            assert {c.voice_id for c in current} == {made.voice_id}
            assert {c.voice_id for c in await api.list_clones(model_ids="lightning-large")} == {
                legacy.voice_id
            }

            audio = await api.tts(made.voice_id, "Hello there, this is a test.")
            assert audio[:4] == b"RIFF" and len(audio) > 1000
            tiny = await api.tts(legacy.voice_id, "Hello there, this is a test.")
            assert tiny[:4] == b"RIFF" and len(tiny) < 300  # the known legacy symptom

            dest = tmp_path / "sample.wav"
            written = await api.download(made.samples[0].audio_url, dest)
            assert written == dest.stat().st_size > 1000 and dest.read_bytes()[:4] == b"RIFF"
            assert list(tmp_path.iterdir()) == [dest]  # no temp file left behind

            gone = await api.delete_clone(made.voice_id)
            assert gone.voice_id == made.voice_id and not gone.already_gone
            again = await api.delete_clone(made.voice_id)
            assert again.already_gone
            assert [c.voice_id for c in await api.list_clones()] == [legacy.voice_id]

    run(main())
    stats = srv.stats()
    assert stats["requests"][f"DELETE {DELETE}"] == 2  # no retry of the definite 400


def test_the_part_mime_type_is_the_sniffed_one_and_the_file_is_whole(
    srv: Sandbox, tmp_path: Path
) -> None:
    lying = tmp_path / "voice.mp3"  # a wav with an mp3 name
    shutil.copy(WAV, lying)

    async def main() -> str:
        async with client(srv) as api:
            return (await api.create_clone(request("Liar", file=lying))).voice_id

    voice_id = run(main())
    (record,) = srv.clones(KEY)
    assert record["voiceId"] == voice_id
    assert record["audio"]["contentType"] == "audio/wav"
    assert record["audio"]["filename"] == "voice.mp3"
    assert record["audio"]["size"] == WAV.stat().st_size


# --------------------------------------------------------------------- faults of reads


@pytest.mark.parametrize(
    ("kind", "error", "text"),
    [
        (
            "500",
            ServerError,
            "list clones: server error 500: Internal server error (after 3 tries)",
        ),
        ("502", ServerError, "list clones: server error 502: Bad gateway (after 3 tries)"),
        ("503", ServerError, "list clones: server error 503: Service unavailable (after 3 tries)"),
        ("drop", TransportError, "list clones: connection dropped: RemoteProtocolError"),
        ("truncate", TransportError, "list clones: unreadable response: invalid JSON"),
    ],
)
def test_reads_retry_every_fault_kind_then_give_up(
    srv: Sandbox, kind: str, error: type, text: str
) -> None:
    srv.reset(fault_rate=1.0, fault_kinds=[kind])

    async def main() -> Exception:
        async with client(srv, max_tries=3) as api:
            with pytest.raises(error) as info:
                await api.list_clones()
            return info.value

    exc = run(main())
    assert str(exc).startswith(text) and "\n" not in str(exc)
    if kind in ("drop", "truncate"):
        assert str(exc).endswith("(after 3 tries)")
    if isinstance(exc, ServerError):
        assert exc.status == int(kind)
    assert srv.stats()["requests"][f"GET {CLONES}"] == 3


def test_reads_get_through_a_faulty_server(srv: Sandbox) -> None:
    srv.reset(fault_rate=0.5, seed=11)

    async def main() -> None:
        async with client(srv, max_tries=10) as api:
            for _ in range(10):
                await api.list_clones()
            await api.list_legacy_voices()

    run(main())
    stats = srv.stats()
    assert sum(stats["faults"].values()) >= 5  # they did happen, and were retried


def test_a_timeout_is_retried_for_reads(srv: Sandbox) -> None:
    srv.reset(latency_ms=600)

    async def main() -> Exception:
        async with client(srv, timeout=0.15, max_tries=2) as api:
            with pytest.raises(TransportError) as info:
                await api.list_clones()
            return info.value

    exc = run(main())
    assert str(exc).startswith("list clones: timed out waiting for the server: ReadTimeout")
    assert srv.stats()["requests"][f"GET {CLONES}"] == 2


def test_connection_refused_is_retried_then_a_transport_error() -> None:
    async def main() -> None:
        async with WavesClient(
            base_url="http://127.0.0.1:9", api_key=KEY, max_tries=3, backoff_base=0.01
        ) as api:
            refused = r"^list clones: connection to http://127.0.0.1:9 failed: .*sandbox running\?"
            with pytest.raises(TransportError, match=refused):
                await api.list_clones()
            # A create that never connected is definitely not done: retried, not ambiguous.
            never = r'^create "N": connection to .* failed: .*3 tries'
            with pytest.raises(TransportError, match=never):
                await api.create_clone(request("N"))

    run(main())


# --------------------------------------------------------------------- creates


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "truncate"])
def test_a_create_that_may_have_happened_is_ambiguous_and_not_retried(
    srv: Sandbox, kind: str
) -> None:
    srv.reset(fault_rate=1.0, fault_kinds=[kind])

    async def main() -> AmbiguousCreateError:
        async with client(srv) as api:
            with pytest.raises(AmbiguousCreateError) as info:
                await api.create_clone(request("Narrator"))
            return info.value

    exc = run(main())
    assert str(exc).startswith('create "Narrator": ')
    assert str(exc).endswith("(outcome unknown: the clone may exist)")
    if kind in ("500", "502", "503"):
        assert isinstance(exc.cause, ServerError) and exc.cause.status == int(kind)
        assert exc.status == int(kind)
    else:
        assert isinstance(exc.cause, TransportError)
    if kind == "500":
        assert "server error 500 voice_clone_error: Internal server error" in str(exc)
    assert srv.stats()["requests"][f"POST {CLONES}"] == 1  # never blindly retried


def test_a_ghost_create_is_ambiguous_and_the_clone_exists(srv: Sandbox) -> None:
    srv.reset(ghost_rate=1.0)

    async def main() -> None:
        async with client(srv) as api:
            with pytest.raises(AmbiguousCreateError) as info:
                await api.create_clone(request("Ghost", tags=("voicectl.key=ghost",)))
            exc = info.value
            assert isinstance(exc.cause, ServerError)
            assert exc.cause.error_code == "voice_clone_timeout"
            assert str(exc).startswith(
                'create "Ghost": server error 500 voice_clone_timeout: '
                "Voice clone request timed out"
            )
            (ghost,) = await api.list_clones()
            assert ghost.display_name == "Ghost" and ghost.tags == ["voicectl.key=ghost"]

    run(main())
    assert srv.stats()["faults"]["ghost"] == 1


def test_a_create_that_timed_out_is_ambiguous_and_may_exist(srv: Sandbox) -> None:
    srv.reset(latency_ms=500)

    async def main() -> None:
        async with client(srv, timeout=0.2) as api:
            with pytest.raises(AmbiguousCreateError) as info:
                await api.create_clone(request("Slow"))
            assert "timed out waiting for the server" in str(info.value)
            await until_async(lambda: srv.clones(KEY), "the server to finish the create")
            srv.config(latency_ms=0)
            assert [c.display_name for c in await api.list_clones()] == ["Slow"]  # it was made

    run(main())
    assert srv.stats()["requests"][f"POST {CLONES}"] == 1


def test_list_lag_hides_a_new_clone_for_a_while(srv: Sandbox) -> None:
    srv.reset(list_lag_ms=3_600_000)  # an hour: hidden for the whole test

    async def main() -> None:
        async with client(srv) as api:
            hidden = await api.create_clone(request("Hidden"))
            assert await api.list_clones() == []
            srv.config(list_lag_ms=100)  # a clone made now is listed soon
            made = await api.create_clone(request("Laggy"))

            async def listed() -> list[str]:
                return [c.voice_id for c in await api.list_clones()]

            seen = await listed()
            while not seen:  # wait for it (an event), however long the lag really takes
                seen = await listed()
            assert seen == [made.voice_id] and hidden.voice_id not in seen

    run(main())


def test_a_rate_limited_create_is_retried_with_the_whole_file(srv: Sandbox) -> None:
    srv.reset(concurrency_limit=1)

    async def main() -> None:
        async with client(srv) as api:
            srv.hold()  # the first create is held at the server, so the next draws a 429
            creates = asyncio.gather(*(api.create_clone(request(f"V{n}")) for n in range(4)))
            await until_async(lambda: srv.stats()["rate_limited"], "a 429")
            srv.release()
            made = await creates
            assert len({c.voice_id for c in made}) == 4
            assert api.limiter.stats.rate_limited >= 1

    run(main())
    stats = srv.stats()
    assert stats["rate_limited"] >= 1
    records = srv.clones(KEY)
    assert len(records) == 4  # no duplicates
    for record in records:  # each retried upload started again from byte 0
        assert record["audio"]["size"] == WAV.stat().st_size


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"language": "xx"}, BadRequestError, "bad request (400): Language 'xx' is not supported"),
        (
            {"model": "lightning-v2"},
            BadRequestError,
            "bad request (400): Voice cloning for lightning-v2 is deprecated. "
            "Please use lightning-v3.1",
        ),
        (
            {"file": AUDIO / "tone-9s.webm", "display_name": "x" * 501},
            BadRequestError,
            "bad request (400): displayName must be at most 500 characters",
        ),
    ],
)
def test_bad_requests_carry_the_server_message(
    srv: Sandbox, kwargs: dict, error: type, text: str
) -> None:
    name = kwargs.pop("display_name", "Narrator")

    async def main() -> Exception:
        async with client(srv) as api:
            with pytest.raises(error) as info:
                await api.create_clone(request(name, **kwargs))
            return info.value

    exc = run(main())
    assert text in str(exc) and exc.status == 400 and not isinstance(exc, AmbiguousCreateError)
    assert srv.stats()["requests"][f"POST {CLONES}"] == 1


def test_a_file_over_5_mb_is_refused_by_the_server(srv: Sandbox, tmp_path: Path) -> None:
    big = big_wav(tmp_path / "big.wav", 5_000_000 + 10)

    async def main() -> None:
        async with client(srv) as api:
            with pytest.raises(BadRequestError, match="File too large"):
                await api.create_clone(request("Big", file=big))

    run(main())


def test_the_clone_limit(srv: Sandbox) -> None:
    srv.reset(clone_limit=1)

    async def main() -> None:
        async with client(srv) as api:
            await api.create_clone(request("One"))
            with pytest.raises(CloneLimitError) as info:
                await api.create_clone(request("Two"))
            assert str(info.value).startswith('create "Two": clone limit reached (400): ')
            with pytest.raises(CloneLimitError):
                await api.add_voice_legacy("Three", WAV)

    run(main())


# --------------------------------------------------------------------- deletes


def test_a_retried_delete_whose_first_try_worked_ends_as_success(srv: Sandbox) -> None:
    async def main() -> None:
        async with client(srv) as api:
            made = await api.create_clone(request("Doomed"))
            faults = {"fault_rate": 0.5, "fault_kinds": ["drop"]}
            seed = seed_for(
                faults,
                [
                    ("DELETE", DELETE, "drop", True),
                    ("DELETE", DELETE, None, None),
                    ("GET", CLONES, None, None),
                ],
            )
            srv.config(seed=seed, **faults)
            result = await api.delete_clone(made.voice_id)
            # The first try deleted it and then lost the answer: done, not "already gone".
            assert result.voice_id == made.voice_id and result.already_gone is False
            srv.config(fault_rate=0)
            assert await api.list_clones() == []

    run(main())
    stats = srv.stats()
    assert stats["faults"]["drop"] == 1 and stats["requests"][f"DELETE {DELETE}"] == 2


def test_deleting_an_unknown_id_is_already_gone_after_checking_the_list(srv: Sandbox) -> None:
    async def main() -> None:
        async with client(srv) as api:
            result = await api.delete_clone("voice_doesNotExist")
            assert result.already_gone

    run(main())
    assert srv.stats()["requests"][f"GET {CLONES}"] == 1  # it looked


def test_deleting_another_organisations_clone_touches_nothing(srv: Sandbox) -> None:
    """Keys are organisations: another org's id is "invalid" for us and not in our list,
    so for us it is already gone, and their clone stays. (The opposite case, an id the
    server calls invalid while the list still shows it, is in test_api_odd_servers.py.)"""

    async def main() -> None:
        async with client(srv) as api, client(srv, api_key=KEY + "-other") as other:
            made = await other.create_clone(request("Theirs"))
            mine = await api.create_clone(request("Mine"))
            # Our org cannot delete their clone: 400 invalid id, and it is not in OUR list.
            assert (await api.delete_clone(made.voice_id)).already_gone
            assert [c.voice_id for c in await other.list_clones()] == [made.voice_id]
            assert (await api.delete_clone(mine.voice_id)).already_gone is False

    run(main())


def test_tts_of_an_unknown_voice_is_not_found(srv: Sandbox) -> None:
    async def main() -> None:
        async with client(srv) as api:
            with pytest.raises(NotFoundError, match=r'^tts "voice_nope": not found \(404\)'):
                await api.tts("voice_nope", "Hello")

    run(main())


# --------------------------------------------------------------------- 429s and Retry-After


def test_429_with_retry_after_is_honoured(srv: Sandbox) -> None:
    srv.reset(concurrency_limit=1, retry_after=0.2)

    async def main() -> None:
        async with client(srv) as holder, client(srv, max_tries=2) as api:
            srv.hold()  # the holder's list keeps the one slot until released
            slow = asyncio.create_task(holder.list_clones())
            await until_async(lambda: srv.stats()["held_now"] == 1, "the holder at the server")
            started = time.monotonic()
            with pytest.raises(RateLimitedError) as info:
                await api.list_clones()
            waited = time.monotonic() - started
            exc = info.value
            assert exc.retry_after == 0.2 and exc.status == 429
            assert str(exc) == (
                "list clones: rate limited (429), retry after 0.2s: Too many requests "
                "(after 2 tries)"
            )
            assert waited >= 0.2  # it slept what the server asked, not a 10 ms jitter
            srv.release()
            await slow

    run(main())


def test_a_retry_after_past_the_deadline_gives_up_at_once(srv: Sandbox) -> None:
    srv.reset(concurrency_limit=1, retry_after=3600)  # waiting it out would hang the test

    async def main() -> None:
        async with client(srv) as holder, client(srv, deadline=5) as api:
            srv.hold()
            slow = asyncio.create_task(holder.list_clones())
            await until_async(lambda: srv.stats()["held_now"] == 1, "the holder at the server")
            with pytest.raises(RateLimitedError, match="past the deadline") as info:
                await api.list_clones()
            assert info.value.retry_after == 3600
            srv.release()
            await slow

    run(main())
    assert srv.stats()["rate_limited"] == 1


def test_429_without_retry_after_backs_off_and_gets_through(srv: Sandbox) -> None:
    srv.reset(concurrency_limit=1)

    async def main() -> None:
        async with client(srv, backoff_base=0.05, backoff_cap=0.2, max_tries=20) as api:
            srv.hold()  # the first list is held, so the second (window 2) draws a 429
            lists = asyncio.gather(*(api.list_clones() for _ in range(6)))
            await until_async(lambda: srv.stats()["rate_limited"], "a 429")
            srv.release()
            results = await lists
            assert results == [[]] * 6
            assert api.limiter.stats.rate_limited >= 1 and api.limiter.ceiling == 1

    run(main())
    assert srv.stats()["rate_limited"] >= 1


def test_the_deadline_bounds_a_retrying_operation(srv: Sandbox) -> None:
    srv.reset(fault_rate=1.0, fault_kinds=["503"], latency_ms=50)

    async def main() -> None:
        async with client(srv, max_tries=1000, deadline=0.6, backoff_base=0.1) as api:
            with pytest.raises(ServerError, match=r"deadline of 0.6s reached after \d+ tries"):
                await api.list_clones()

    run(main())


# --------------------------------------------------------------------- auth


def test_auth_errors_are_definite_and_say_what_failed(srv: Sandbox) -> None:
    srv.reset(api_keys=[KEY])

    async def main() -> None:
        async with client(srv, api_key="wrong-key-123") as api:
            with pytest.raises(AuthError) as info:
                await api.list_clones()
            assert str(info.value) == (
                "list clones: authentication failed (401): Invalid API key "
                f"({api.base_url} refused the key in SMALLEST_API_KEY: check that it is this "
                "service's key and still valid)"
            )
            with pytest.raises(AuthError, match=r'^create "N": authentication failed \(401\)'):
                await api.create_clone(request("N"))
            with pytest.raises(AuthError, match=r'^delete "voice_x": authentication failed'):
                await api.delete_clone("voice_x")
        async with client(srv, api_key=None) as anonymous:
            no_key = r"no API key was given to .*: set SMALLEST_API_KEY"
            with pytest.raises(AuthError, match=no_key):
                await anonymous.list_clones()

    run(main())
    stats = srv.stats()
    assert stats["unauthorized"] == 4  # one request each: never retried


# --------------------------------------------------------------------- download and streaming


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b"RIFF-not-really-audio" * 10
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def test_download_sends_the_key_only_to_the_api_host(recorder, tmp_path: Path) -> None:
    url, seen = recorder
    port = url.rsplit(":", 1)[1]

    async def main() -> None:
        async with WavesClient(base_url=url, api_key=KEY) as api:
            assert await api.download("/samples/a.wav?sig=1", tmp_path / "a.wav") == 210
            # Another host (localhost is not 127.0.0.1 by name): a signed URL elsewhere.
            await api.download(f"http://localhost:{port}/b.wav?X-Sig=s", tmp_path / "b.wav")

    run(main())
    assert seen[0].get("authorization") == f"Bearer {KEY}"
    assert "authorization" not in seen[1]
    assert (tmp_path / "b.wav").read_bytes().startswith(b"RIFF")


def big_wav(path: Path, size: int) -> Path:
    """A WAV header followed by silence, ``size`` bytes in all (written in chunks)."""
    write_wav(path, rate=48000, size=size)
    assert path.stat().st_size == size
    return path


def test_an_upload_streams_from_disk_memory_stays_flat(srv: Sandbox, tmp_path: Path) -> None:
    size = 5_000_000 - 1024
    sample = big_wav(tmp_path / "five-mb.wav", size)

    async def main() -> None:
        async with client(srv) as api:
            await api.list_clones()  # warm the connection and imports
            tracemalloc.start()
            try:
                await api.create_clone(request("Five", file=sample))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < size / 8, f"peak {peak} bytes while uploading {size}"

    run(main())
    (record,) = srv.clones(KEY)
    assert record["audio"]["size"] == size


def test_hooks_are_not_sent_through_the_client(srv: Sandbox) -> None:
    # Sanity: the sandbox hooks used by these tests need no key.
    assert httpx.get(f"{srv.url}/_sandbox/stats", timeout=5).status_code == 200


def test_time_queued_for_a_slot_does_not_eat_the_retry_deadline(srv: Sandbox) -> None:
    """Five lists through one slot, each at least 1 s at the server: the fifth waits at
    least 4 s in the queue, more than its 3.5 s deadline, and its first try meets a 503.
    It must still retry: the deadline counts from its first try (1 s), so the retry
    (another 1 s) fits with 1.5 s to spare. The latency is a lower bound: a busier
    machine only makes the queue longer, which the code must (and does) not count."""
    faults = {"fault_rate": 0.3, "fault_kinds": ["503"], "latency_ms": 1000}
    plan = [("GET", CLONES, None, None)] * 4 + [("GET", CLONES, "503", False)]
    seed = seed_for(faults, [*plan, ("GET", CLONES, None, None)])
    srv.reset(seed=seed, **faults)

    async def main() -> None:
        async with client(srv, parallelism=1, deadline=3.5, backoff_base=0.05) as api:
            assert await asyncio.gather(*(api.list_clones() for _ in range(5))) == [[]] * 5

    run(main())
    stats = srv.stats()
    assert stats["faults"]["503"] == 1 and stats["requests"][f"GET {CLONES}"] == 6


def test_download_errors(srv: Sandbox, tmp_path: Path) -> None:
    async def main() -> None:
        async with client(srv) as api:
            with pytest.raises(NotFoundError, match=r"^download http://.*/_sandbox/samples/"):
                await api.download("/_sandbox/samples/voice_nope/1.wav", tmp_path / "x.wav")
            made = await api.create_clone(request("S"))
            with pytest.raises(WavesError, match="cannot write"):
                await api.download(made.samples[0].audio_url, tmp_path / "no" / "dir.wav")
            assert list(tmp_path.iterdir()) == []

    run(main())
