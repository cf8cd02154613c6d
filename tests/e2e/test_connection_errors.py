"""Connection and auth failures through the real CLI: one line naming the URL (never
the key) and the likely cause; a server that trickles its answer forever is cut
off by the total request deadline."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e

SECRET = "sk-do-not-print-me-0123456789"


@pytest.fixture
def project(project):
    project.key = SECRET
    project.write({"a": {}})
    return project


def run_with(project: Project, monkeypatch, url: str, *args: str, **env: str):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    project.env = lambda: {"SMALLEST_API_KEY": SECRET, "VOICECTL_API_URL": url}
    result = project.run(*(args or ("plan",)), expect=1)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert SECRET not in result.text
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "api.smallest.ai",
            "invalid API URL 'api.smallest.ai': no scheme; did you mean 'https://api.smallest.ai'?",
        ),
        (
            "https://api.smallest.ai/waves/v1",
            "give the base URL without /waves/v1 "
            "(voicectl adds the API paths): 'https://api.smallest.ai'",
        ),
        (
            "https://bob:hunter2@api.example.com",
            "invalid API URL 'https://api.example.com/': "
            "it carries credentials (user:password@); remove them: the key comes from "
            "SMALLEST_API_KEY",
        ),
        ("bob:hunter2@api.example.com", "'api.example.com': no scheme"),
    ],
)
def test_bad_base_url_is_one_line_naming_the_cause(project, monkeypatch, url, expected):
    line = run_with(project, monkeypatch, url)
    assert line.startswith("Error: invalid API URL")
    assert expected in line
    assert "hunter2" not in line and "bob" not in line


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_loopback_names_the_url_and_the_sandbox(project, monkeypatch):
    port = closed_port()
    line = run_with(project, monkeypatch, f"http://127.0.0.1:{port}", "list")
    assert line.startswith(f"Error: list clones: connection to http://127.0.0.1:{port} failed")
    assert "is the sandbox running? start it with `voicectl sandbox serve`" in line


def test_default_url_unreachable_suggests_the_sandbox(project, monkeypatch):
    # No network in the test either way: every https request goes to a proxy
    # that is not there, so the default URL cannot be reached.
    port = closed_port()
    monkeypatch.delenv("VOICECTL_API_URL", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    line = run_with(
        project,
        monkeypatch,
        "",
        "list",
        HTTPS_PROXY=f"http://127.0.0.1:{port}",
        https_proxy=f"http://127.0.0.1:{port}",
        ALL_PROXY=f"http://127.0.0.1:{port}",
    )
    assert "connection to https://api.smallest.ai failed" in line
    assert line.endswith("no network? use --sandbox to try voicectl without an account")


def test_401_mentions_the_variable_and_the_url_not_the_key(
    start_sandbox, tmp_path, capsys, monkeypatch
):
    server = start_sandbox("--api-key", "sk-the-only-good-key")
    project = Project(tmp_path, server, capsys, key=SECRET)
    project.write({"a": {}})
    line = run_with(project, monkeypatch, server.url, "plan")
    assert "authentication failed (401)" in line and server.url in line
    assert "refused the key in SMALLEST_API_KEY" in line


def test_401_names_the_environments_own_key_variable(start_sandbox, tmp_path, capsys, monkeypatch):
    server = start_sandbox("--api-key", "sk-the-only-good-key")
    project = Project(tmp_path, server, capsys, key=SECRET)
    project.write({"a": {}}, environments={"prod": {"apiKeyEnv": "KEY_PROD"}})
    project.env = lambda: {"KEY_PROD": SECRET, "VOICECTL_API_URL": server.url}
    result = project.run("--env", "prod", "plan", expect=1)
    assert SECRET not in result.text
    assert "refused the key in KEY_PROD" in result.err, result.err
    assert "SMALLEST_API_KEY" not in result.err


class TrickleServer:
    """Answers every request with headers and then one body byte at a time, for ever
    (until the client goes away): each read arrives well within any read timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.requests += 1
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 100000000\r\n\r\n{"voices": ['
                )
                while not self.stop.wait(0.05):
                    conn.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    server = TrickleServer()
    yield server
    server.close()


@pytest.mark.timeout(60)
def test_trickling_answer_is_cut_by_the_total_deadline(project, monkeypatch, trickle):
    line = run_with(project, monkeypatch, trickle.url, "list", VOICECTL_REQUEST_DEADLINE="1.5")
    assert line == (
        f"Error: list clones: no complete answer from {trickle.url} within the 1.5s "
        "deadline (the server is too slow or stalled)"
    )
    assert trickle.requests == 1  # the deadline is spent: no further try


def test_bad_deadline_value_is_a_user_error(project, monkeypatch):
    line = run_with(
        project, monkeypatch, "http://127.0.0.1:1", "list", VOICECTL_REQUEST_DEADLINE="soon"
    )
    assert line == "Error: VOICECTL_REQUEST_DEADLINE='soon': expected a number of seconds above 0"
