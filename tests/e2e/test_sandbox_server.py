"""`voicectl sandbox serve` as a real process: sockets, signals, flags, the state file.

Timing assertions are one-sided (at least, never at most) or polled with a
generous deadline, so a loaded machine makes these slower, not red.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sandbox_support import (
    ADD_VOICE,
    CLONES,
    KEY,
    OTHER_KEY,
    ROOT,
    TTS,
    auth,
    multipart,
    org_of,
    until_async,
)

pytestmark = pytest.mark.e2e


def poll(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Call ``predicate`` until it returns something truthy (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def raw_request(url: str, request: bytes, timeout: float = 15.0) -> bytes:
    """Send raw bytes on a fresh socket; return everything the server sent until it closed."""
    match = re.match(r"http://([^:/]+):(\d+)", url)
    assert match
    with socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def get_request(path: str, key: str = KEY) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {key}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


# --------------------------------------------------------------------------- the process


def test_serve_prints_one_line_and_stops_cleanly_on_sigterm(start_sandbox) -> None:
    server = start_sandbox()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
    assert int(server.url.rsplit(":", 1)[1]) > 0
    with server.client() as client:
        assert client.get(CLONES).status_code == 200
    assert server.stop() == 0
    assert server.stdout_lines == [f"Waves sandbox listening on {server.url}"]
    assert "Traceback" not in server.stderr_text()


def test_sigint_stops_cleanly_too(start_sandbox) -> None:
    server = start_sandbox()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(15) == 0
    assert "Traceback" not in server.stderr_text()


def test_sigterm_during_a_slow_request_still_exits_0(start_sandbox) -> None:
    server = start_sandbox("--latency-ms", "1000")

    async def main() -> None:
        async with server.async_client() as client:
            slow = asyncio.ensure_future(client.get(CLONES))
            await until_async(
                lambda: any(server.stats()["in_flight_now"].values()), "the request at the server"
            )
            server.process.send_signal(signal.SIGTERM)
            try:
                response = await slow
                assert response.status_code == 200  # graceful: in-flight requests finish
            except httpx.TransportError:
                pass

    asyncio.run(main())
    assert server.process.wait(15) == 0
    assert "Traceback" not in server.stderr_text()


def run_serve(*flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOICECTL_SANDBOX_")}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", *flags],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--fault-rate", "2"), "--fault-rate"),
        (("--ghost-rate", "-0.1"), "--ghost-rate"),
        (("--latency-ms", "slow"), "--latency-ms"),
        (("--port", "70000"), "--port"),
        (("--concurrency-limit", "1.5"), "--concurrency-limit"),
        (("--retry-after", "soon"), "--retry-after"),
        (("--retry-after", "1", "--no-retry-after"), "--no-retry-after"),
        (("--fault-kinds", "500,explode"), "explode"),
        (("--api-key", "has space"), "--api-key"),
    ],
)
def test_bad_flag_values_are_one_line_and_exit_1(flags, message) -> None:
    result = run_serve("--port", "0", *flags)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert result.stdout == ""
    assert "has space" not in result.stderr  # a key is never echoed


def test_a_taken_port_is_one_line_and_exit_1(start_sandbox) -> None:
    server = start_sandbox()
    port = server.url.rsplit(":", 1)[1]
    result = run_serve("--port", port)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot listen" in result.stderr


def test_a_corrupt_state_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    state.write_text("{not json")
    result = run_serve("--port", "0", "--state", str(state))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "sandbox.json" in result.stderr


def test_flags_come_from_the_environment_too(start_sandbox) -> None:
    server = start_sandbox(
        env={
            "VOICECTL_SANDBOX_SEED": "5",
            "VOICECTL_SANDBOX_CLONE_LIMIT": "1",
            "VOICECTL_SANDBOX_RETRY_AFTER": "0.25",
            "VOICECTL_SANDBOX_FAULT_KINDS": "drop,503",
            "VOICECTL_SANDBOX_LATENCY_MS": "1",
            "VOICECTL_SANDBOX_API_KEY": f"{KEY} {OTHER_KEY}",
        }
    )
    config = server.state()["config"]
    assert config["seed"] == 5 and config["clone_limit"] == 1 and config["retry_after"] == 0.25
    assert config["fault_kinds"] == ["drop", "503"] and config["latency_ms"] == 1
    assert config["api_key_count"] == 2
    with server.client("sk-unknown") as client:
        assert client.get(CLONES).status_code == 401


def test_flags_set_the_startup_config(start_sandbox) -> None:
    server = start_sandbox(
        "--seed",
        "3",
        "--latency-ms",
        "2",
        "--jitter-ms",
        "1",
        "--concurrency-limit",
        "4",
        "--retry-after",
        "1",
        "--fault-rate",
        "0.1",
        "--fault-kinds",
        "500",
        "--ghost-rate",
        "0.2",
        "--list-lag-ms",
        "10",
        "--list-page-size",
        "500",
        "--processing-seconds",
        "0.5",
        "--failure-rate",
        "0.3",
        "--clone-limit",
        "7",
        "--access-log",
        "--profile",
        "current",
        "--delete-route",
        "voice-cloning",
    )
    expected = {
        "seed": 3,
        "latency_ms": 2,
        "jitter_ms": 1,
        "concurrency_limit": 4,
        "tts_concurrency": 1,
        "retry_after": 1,
        "fault_rate": 0.1,
        "fault_kinds": ["500"],
        "ghost_rate": 0.2,
        "list_lag_ms": 10,
        "list_page_size": 500,
        "list_barrier": 0,
        "list_barrier_timeout": 10.0,
        "processing_seconds": 0.5,
        "failure_rate": 0.3,
        "empty_sample_rate": 0.0,
        "clone_limit": 7,
        "api_key_count": 0,
        "allowed_orgs": None,
        "profile": "current",
        "delete_route": "voice-cloning",
        "legacy_routes": None,
        "pro_model": None,
        "tts_accept_required": None,
        "behaviour": {
            "profile": "current",
            "delete_route": "voice-cloning",
            "legacy_routes": "gone",
            "pro_model": True,
            "tts_accept_required": True,
        },
    }
    assert server.state()["config"] == expected
    server.config(fault_rate=0)
    assert server.reset() == expected  # reset goes back to the flags
    with server.client() as client:
        client.get(CLONES)
    assert server.stop() == 0
    assert f"GET {CLONES}" in server.stderr_text()  # --access-log
    assert KEY not in server.stderr_text()


# --------------------------------------------------------------------------- faults over sockets


def test_drop_closes_the_socket_without_any_response(sandbox_server) -> None:
    sandbox_server.config(fault_rate=1.0, fault_kinds=["drop"])
    with sandbox_server.client() as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.get(CLONES)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(CLONES, **multipart("dropped"))
    assert raw_request(sandbox_server.url, get_request(CLONES)) == b""  # not one byte
    stats = sandbox_server.stats()
    assert stats["faults"]["drop"] == 3
    assert stats["responses"].get("500") is None


def test_truncated_body_over_the_wire(sandbox_server) -> None:
    sandbox_server.config(fault_rate=1.0, fault_kinds=["truncate"])
    raw = raw_request(sandbox_server.url, get_request(CLONES))
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0] == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body) == len(b'{"data":[]}') // 2
    with sandbox_server.client() as client:
        response = client.post(CLONES, **multipart("cut"))
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            response.json()
    assert len(sandbox_server.clones()) == 1  # the create happened


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors_over_the_wire(sandbox_server, kind: str) -> None:
    sandbox_server.config(fault_rate=1.0, fault_kinds=[kind])
    with sandbox_server.client() as client:
        response = client.post(CLONES, **multipart())
        assert response.status_code == int(kind) and response.json()["error"]
        if kind == "500":
            assert response.json()["error_code"] == "voice_clone_error"
    assert sandbox_server.stats()["faults"][kind] == 1


def test_ghost_over_the_wire(sandbox_server) -> None:
    sandbox_server.config(ghost_rate=1.0)
    with sandbox_server.client() as client:
        response = client.post(CLONES, **multipart("Ghost"))
        assert response.status_code == 500
        assert response.json()["error_code"] == "voice_clone_timeout"
        listed = client.get(CLONES).json()["data"]
        assert [c["displayName"] for c in listed] == ["Ghost"]
    assert sandbox_server.stats()["faults"]["ghost"] == 1


def test_list_lag_over_the_wire(sandbox_server) -> None:
    sandbox_server.config(list_lag_ms=500)
    with sandbox_server.client() as client:
        made = client.post(CLONES, **multipart()).json()["data"]
        listed = poll(lambda: client.get(CLONES).json()["data"])
        assert [c["voiceId"] for c in listed] == [made["voiceId"]]


def test_lifecycle_over_the_wire(sandbox_server) -> None:
    sandbox_server.config(processing_seconds=0.4, failure_rate=0.0)
    with sandbox_server.client() as client:
        made = client.post(CLONES, **multipart()).json()["data"]
        assert made["status"] == "processing"
        poll(lambda: client.get(CLONES).json()["data"][0]["status"] == "completed")
        audio = client.post(TTS, json={"text": "Hello", "voice_id": made["voiceId"]})
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"


def test_429_with_and_without_retry_after(sandbox_server) -> None:
    async def burst(n: int) -> list[httpx.Response]:
        async with sandbox_server.async_client() as client:
            return await asyncio.gather(*(client.get(CLONES) for _ in range(n)))

    sandbox_server.config(concurrency_limit=1, latency_ms=700, retry_after=0.5)
    responses = asyncio.run(burst(5))
    refused = [r for r in responses if r.status_code == 429]
    assert refused and len(refused) < 5
    assert all(r.json() == {"error": "Too many requests"} for r in refused)
    assert all(r.headers["retry-after"] == "0.5" for r in refused)
    stats = sandbox_server.stats()
    org = org_of(KEY)
    assert stats["rate_limited"] == len(refused)
    assert stats["max_admitted"][org] == 1
    assert stats["max_in_flight"][org] >= 2  # refused requests were counted in flight
    assert stats["in_flight_now"][org] == 0

    sandbox_server.config(retry_after=None)
    refused = [r for r in asyncio.run(burst(5)) if r.status_code == 429]
    assert refused and all("retry-after" not in r.headers for r in refused)


def test_in_flight_counting_without_a_limit(sandbox_server) -> None:
    sandbox_server.config(latency_ms=400)

    async def burst() -> None:
        async with sandbox_server.async_client() as client:
            await asyncio.gather(*(client.get(CLONES) for _ in range(4)))

    asyncio.run(burst())
    stats = sandbox_server.stats()
    assert 2 <= stats["max_in_flight"][org_of(KEY)] <= 4
    assert stats["requests"][f"GET {CLONES}"] == 4 and stats["rate_limited"] == 0


def test_same_seed_same_faults_over_the_wire(sandbox_server) -> None:
    def sequence() -> list[str]:
        results = []
        with sandbox_server.client() as client:
            for _ in range(25):
                try:
                    response = client.get(CLONES)
                except httpx.TransportError as exc:
                    results.append(type(exc).__name__)
                    continue
                try:
                    response.json()
                    results.append(str(response.status_code))
                except json.JSONDecodeError:
                    results.append("truncate")
        return results

    sandbox_server.reset(seed=1234, fault_rate=0.5)
    first = sequence()
    assert len(set(first)) >= 3  # a real mix of outcomes
    sandbox_server.reset(seed=1234, fault_rate=0.5)
    assert sequence() == first
    sandbox_server.reset(seed=4321, fault_rate=0.5)
    assert sequence() != first


# --------------------------------------------------------------------------- auth and state


def test_api_key_flag_restricts_access(start_sandbox) -> None:
    allowed, second = "sk-live-allowed-7f3a", "sk-live-second-9c2b"
    server = start_sandbox("--api-key", allowed, "--api-key", second)
    with server.client("sk-live-unknown") as client:
        response = client.get(CLONES)
        assert response.status_code == 401 and response.json()["error"]
    with server.client(None) as client:
        assert client.get(CLONES).status_code == 401
    with server.client(allowed) as one, server.client(second) as two:
        one.post(CLONES, **multipart("one"))
        assert [c["displayName"] for c in one.get(CLONES).json()["data"]] == ["one"]
        assert two.get(CLONES).json()["data"] == []  # each key its own organisation
    dump = json.dumps(server.state())
    assert allowed not in dump and second not in dump
    assert server.stop() == 0
    assert allowed not in server.stderr_text() and allowed not in "".join(server.stdout_lines)


def test_state_file_survives_a_restart(start_sandbox, tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    server = start_sandbox("--state", str(state), "--processing-seconds", "3600")
    with server.client() as client, server.client(OTHER_KEY) as other:
        made = client.post(CLONES, **multipart("Kept", tags="a,b", language="en")).json()["data"]
        client.post(ADD_VOICE, **multipart("Legacy"))
        other.post(CLONES, **multipart("Theirs"))
    assert server.stop() == 0
    raw = state.read_text()
    assert KEY not in raw and OTHER_KEY not in raw
    assert set(json.loads(raw)["orgs"]) == {org_of(KEY), org_of(OTHER_KEY)}

    again = start_sandbox("--state", str(state))
    with again.client() as client, again.client(OTHER_KEY) as other:
        listed = client.get(CLONES).json()["data"]
        assert [c["displayName"] for c in listed] == ["Kept", "Legacy"]
        assert listed[0]["voiceId"] == made["voiceId"] and listed[0]["tags"] == ["a", "b"]
        assert listed[0]["status"] == "processing"  # still an hour to go
        assert [c["displayName"] for c in other.get(CLONES).json()["data"]] == ["Theirs"]
        response = client.request(
            "DELETE", "/waves/v1/lightning-large", json={"voiceId": made["voiceId"]}
        )
        assert response.status_code == 200
    assert again.stop() == 0
    assert [
        c["displayName"] for c in json.loads(state.read_text())["orgs"][org_of(KEY)]["clones"]
    ] == ["Legacy"]


def test_state_file_is_whole_after_a_kill(start_sandbox, tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    server = start_sandbox("--state", str(state))

    async def create_many() -> None:
        async with server.async_client() as client:
            await asyncio.gather(*(client.post(CLONES, **multipart(f"v{i}")) for i in range(20)))

    asyncio.run(create_many())
    server.kill()
    data = json.loads(state.read_text())  # never half written
    assert len(data["orgs"][org_of(KEY)]["clones"]) == 20
    assert not list(tmp_path.glob("*.tmp"))
    again = start_sandbox("--state", str(state))
    with again.client() as client:
        assert len(client.get(CLONES).json()["data"]) == 20


def test_samples_are_served_by_the_sandbox(sandbox_server) -> None:
    with sandbox_server.client() as client:
        made = client.post(CLONES, **multipart()).json()["data"]
    for sample in made["samples"]:
        assert sample["audioUrl"].startswith(sandbox_server.url + "/_sandbox/samples/")
        response = httpx.get(sample["audioUrl"], timeout=15)  # a signed URL: no key needed
        assert response.status_code == 200 and response.content[:4] == b"RIFF"


def test_the_shared_fixture_starts_clean(sandbox_server) -> None:
    assert sandbox_server.state()["orgs"] == {} or all(
        org["clones"] == [] for org in sandbox_server.state()["orgs"].values()
    )
    assert sandbox_server.stats()["requests"] == {}
    with httpx.Client(base_url=sandbox_server.url, headers=auth()) as client:
        assert client.get(CLONES).json() == {"data": []}
