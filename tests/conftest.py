"""Shared fixtures: the Waves sandbox (real server and in-process) and test audio.

Real server (``python -m reconciler sandbox serve --port 0``, a subprocess):

* ``sandbox_server`` - THE fixture most tests want: a session-wide server, reset
  (no clones, zero stats, startup config, RNG reseeded) before the test. Change
  its behaviour with ``sandbox_server.config(fault_rate=1, fault_kinds=["drop"])``
  or ``sandbox_server.reset(seed=3, latency_ms=50)``; the next test gets it clean.
* ``sandbox_session_server`` - the same server without the reset.
* ``start_sandbox(*flags, env=None)`` - a dedicated server with its own flags
  (``"--state", str(path)``, ``"--api-key", "k"``), stopped at teardown; use it for
  restarts, signals and flags.

All three give a :class:`sandbox_support.SandboxServer`: ``.url``, ``.config(**kw)``,
``.reset(**kw)``, ``.stats()``, ``.reset_stats()``, ``.state()``, ``.clones(key)``,
``.client(key)`` / ``.async_client(key)``, ``.stop()`` (SIGTERM, returns the exit
status), ``.kill()`` (SIGKILL), ``.stdout_lines``, ``.stderr_text()``.

In-process (``httpx.ASGITransport``; fast, no sockets):

* ``sandbox_app(config=None, state_file=None, **settings)`` - a factory for a fresh
  app; ``app.state.sandbox`` is its live ``Sandbox``. Talk to it with
  ``sandbox_support.asgi_client(app, key)`` inside an async test
  (``@pytest.mark.anyio``; ``anyio_backend`` is pinned to asyncio here).

A voicectl project (``cli_support.Project``) on that server:

* ``project`` - a folder under ``tmp_path`` with ``voices.yaml`` helpers, run through
  the real CLI against ``sandbox_server``; processes it spawned are killed at the end.

Levels (markers; ``pytest -m "not e2e"`` is the fast subset, no server at all):

* ``e2e`` - starts or talks to a real ``voicectl sandbox serve``. Every test using
  a fixture built on ``sandbox_session_server`` or ``start_sandbox`` (``sandbox_server``,
  ``srv``, ``project`` ...) MUST be marked (``pytestmark = pytest.mark.e2e``): collection fails
  otherwise, so the fast subset never starts a server by accident.
* ``inprocess`` - the emulator app in-process (``sandbox_app``) or another
  subsystem end to end without sockets; ``property`` - hypothesis tests;
  ``unit`` - everything else. These three are given by this file, not by hand.

Audio:

* ``wav_file(name="sample.wav", seconds=8.0, freq=440, rate=16000)`` - writes a real
  16-bit mono WAV under ``tmp_path`` and returns its path
  (``sandbox_support.write_wav(path, ...)`` does the same anywhere).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Project
from hypothesis import settings
from sandbox_support import SandboxServer, write_wav

# scripts/test.sh (and so CI) runs hypothesis derandomized: the same examples every
# run, so a pass is reproducible. Plain `pytest` explores new random examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fresh_plan_builders() -> None:
    """plan_support numbers the clones it builds: from 1 in every test, whatever ran before."""
    import plan_support

    plan_support.reset()


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    """A run freezes what its builds made (reconciler.gcpause); a command's process
    then ends, the test process goes on: the next test starts with nothing frozen."""
    yield
    from reconciler import gcpause

    gcpause.thaw()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Async tests marked ``@pytest.mark.anyio`` run on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox_session_server() -> Iterator[SandboxServer]:
    """One ``voicectl sandbox serve`` for the whole session (default flags); not reset."""
    server = SandboxServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_server(sandbox_session_server: SandboxServer) -> SandboxServer:
    """The shared server, reset before the test: no clones, zero stats, default config."""
    if not sandbox_session_server.running:  # a test stopped or killed it: start afresh
        sandbox_session_server.start()
    sandbox_session_server.reset()
    return sandbox_session_server


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory: ``start_sandbox("--state", str(p), env={...})`` -> a started dedicated server.

    Every server it started is stopped (SIGTERM, then SIGKILL) at teardown.
    """
    started: list[SandboxServer] = []

    def start(
        *flags: str, env: dict[str, str] | None = None, startup_timeout: float = 30.0
    ) -> SandboxServer:
        server = SandboxServer(*flags, env=env, startup_timeout=startup_timeout)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        if server.process is not None and server.process.poll() is None:
            server.stop()


@pytest.fixture
def project(tmp_path: Path, sandbox_server: SandboxServer, capsys: Any) -> Iterator[Project]:
    """A voicectl project folder driven through the CLI against the shared server."""
    made = Project(tmp_path, sandbox_server, capsys)
    yield made
    made.close()


# --------------------------------------------------------------------------- levels

# Every real-server fixture (sandbox_server, srv, project, ...) is built on one of these,
# and pytest lists a test's fixtures with everything they depend on.
REAL_SERVER_FIXTURES = frozenset({"sandbox_session_server", "start_sandbox"})
LEVELS = ("unit", "property", "inprocess", "e2e")


def level_of(item: pytest.Item) -> str | None:
    """A test's level from what it uses; None: it uses a real server but is not marked."""
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("e2e") is not None or item.get_closest_marker("live"):
        return "e2e"
    if fixtures & REAL_SERVER_FIXTURES:
        return None
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        return "property"
    if "sandbox_app" in fixtures or item.get_closest_marker("inprocess") is not None:
        return "inprocess"
    return "unit"


def folder_of(item: pytest.Item) -> str:
    """The level folder a test file sits in (tests/unit, tests/property, ...)."""
    return Path(str(item.path)).parent.name


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test its level marker, and keep each test in a folder of its level or above.

    A file sits in the folder of the highest level any of its tests needs (a unit test
    may share a file in tests/e2e with the end-to-end tests it belongs with, and still
    runs in the fast subset); a test needing more than its folder allows fails here.
    """
    unmarked: list[tuple[str, pytest.Item]] = []
    misplaced: list[str] = []
    for item in items:
        level = level_of(item)
        if level is None:
            uses = ", ".join(sorted(set(item.fixturenames) & REAL_SERVER_FIXTURES))
            unmarked.append((f"{item.nodeid} (uses {uses})", item))
            continue
        item.add_marker(getattr(pytest.mark, level))
        folder = folder_of(item)
        if folder not in LEVELS or LEVELS.index(level) > LEVELS.index(folder):
            misplaced.append(f"{item.nodeid} needs the {level} level: move it to tests/{level}/")
    if misplaced:
        raise pytest.UsageError("tests outside their level's folder:\n  " + "\n  ".join(misplaced))
    if not unmarked:
        return
    message = (
        "these tests use a real sandbox server but are not marked e2e "
        "(add pytestmark = pytest.mark.e2e):\n  " + "\n  ".join(n for n, _ in unmarked)
    )
    if not hasattr(config, "workerinput"):
        raise pytest.UsageError(message)
    # An xdist worker cannot fail the collection visibly: each such test fails instead.
    for _nodeid, item in unmarked:

        def refuse(*_args: Any, **_kwargs: Any) -> None:
            pytest.fail(message, pytrace=False)

        item.runtest = refuse  # type: ignore[method-assign]


@pytest.fixture
def sandbox_app() -> Callable[..., Any]:
    """Factory: ``sandbox_app(fault_rate=0.5, seed=1)`` or ``sandbox_app(config, state_file=p)``.

    Returns a fresh Starlette app (``app.state.sandbox`` is its live Sandbox).
    """
    from reconciler.sandbox.app import create_app
    from reconciler.sandbox.config import SandboxConfig

    def make(
        config: SandboxConfig | dict[str, Any] | None = None,
        *,
        state_file: Path | None = None,
        **settings: Any,
    ) -> Any:
        if isinstance(config, dict):
            settings = {**config, **settings}
            config = None
        if settings:
            config = (config or SandboxConfig()).updated(settings)
        return create_app(config, state_file=state_file)

    return make


@pytest.fixture
def wav_file(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``wav_file("a.wav", seconds=8.0, freq=440, rate=16000)`` -> a real WAV path."""

    def make(
        name: str = "sample.wav", seconds: float = 8.0, freq: float = 440.0, rate: int = 16000
    ) -> Path:
        return write_wav(tmp_path / name, seconds=seconds, freq=freq, rate=rate)

    return make
