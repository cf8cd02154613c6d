"""A voicectl project on disk, driven through the real CLI against a real sandbox.

``Project.run(...)`` calls ``reconciler.cli.main`` in-process (fast; the client
still talks to the sandbox over real sockets); ``Project.spawn(...)`` runs
``python -m reconciler`` as a separate process (for concurrency and crash tests);
``Project.spawn_on_pty(...)`` runs it on a pseudo-terminal (:class:`Terminal`), for
the confirmation prompt, which also holds a run still at a known point (waiting
for an answer, under the lock) for as long as a test needs.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_support import KEY, ROOT, SandboxServer, write_wav

from reconciler.cli import main
from reconciler.ownership import owner_of


def _take_terminal() -> None:  # pragma: no cover - runs in the child, before exec
    """Make stdin's pty the controlling terminal of the new session (after setsid)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A voicectl process on a pseudo-terminal: read what it prints, answer its prompt.

    ``expect(text)`` blocks until ``text`` has been printed (an event, not a delay;
    ``safety`` seconds only turn a hung process into a failure instead of a hang,
    shorter than pytest's own timeout so the failure shows what was printed).
    """

    def __init__(self, argv: list[str], env: dict[str, str], safety: float = 90.0) -> None:
        self.safety = safety
        self.seen = b""
        self._master, slave = os.openpty()
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
            start_new_session=True,  # its own session, and the pty its controlling terminal:
            preexec_fn=_take_terminal,  # so Ctrl-C typed on it is a SIGINT, as in a shell
        )
        os.close(slave)
        self._open = True

    @property
    def text(self) -> str:
        return self.seen.decode(errors="replace")

    def _read(self) -> bool:
        """Read what is there (waiting up to ``safety`` s for something); False at the end."""
        ready, _, _ = select.select([self._master], [], [], self.safety)
        assert ready, f"the process printed nothing for {self.safety}s:\n{self.text}"
        try:
            chunk = os.read(self._master, 4096)
        except OSError:  # the child closed the terminal
            chunk = b""
        self.seen += chunk
        return bool(chunk)

    def expect(self, text: str) -> str:
        """Wait until ``text`` was printed; everything printed so far is returned."""
        while text.encode() not in self.seen:
            assert self._read(), f"exited before printing {text!r}:\n{self.text}"
        return self.text

    def send(self, line: str) -> None:
        os.write(self._master, line.encode() + b"\n")

    def ctrl_c(self) -> None:
        """Type Ctrl-C: the terminal sends SIGINT to the process (no newline needed)."""
        os.write(self._master, b"\x03")

    def finish(self) -> tuple[int, str]:
        """Read to the end; (exit status, everything printed)."""
        while self._open and self._read():
            pass
        if self._open:
            os.close(self._master)
            self._open = False
        return self.process.wait(self.safety), self.text


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_main(capsys: Any, *args: str) -> Result:
    """``voicectl ARGS`` in-process (the real entry point, ``reconciler.cli.main``):
    its exit code and what it printed; it never ends in a traceback."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    result = Result(code, captured.out, captured.err)
    assert "Traceback" not in result.text
    return result


class Project:
    def __init__(self, root: Path, server: SandboxServer, capsys: Any, key: str = KEY):
        self.root = root
        self.server = server
        self.capsys = capsys
        self.key = key
        self.manifest = root / "voices.yaml"
        self.lockfile = root / "voices.lock.json"
        self._spawned: list[subprocess.Popen] = []
        (root / "samples").mkdir(exist_ok=True)

    def close(self) -> None:
        """Kill what :meth:`spawn` / :meth:`spawn_on_pty` started and is still running."""
        for process in self._spawned:
            if process.poll() is None:
                process.kill()
                process.wait(30)

    # -- files -------------------------------------------------------------------
    def sample(self, name: str, *, seconds: float = 6.0, variant: int = 0) -> str:
        """Write samples/<name>.wav (a tone unique to name+variant); return its path."""
        freq = 200 + zlib.crc32(f"{name}/{variant}".encode()) % 600
        rel = f"samples/{name}.wav"
        write_wav(self.root / rel, seconds=seconds, freq=freq, rate=16000)
        return rel

    def write(self, voices: dict[str, dict[str, Any]], **top: Any) -> None:
        """Write voices.yaml; a voice without ``file`` gets a generated sample."""
        doc: dict[str, Any] = {"version": 1, "stack": top.pop("stack", "e2e")}
        doc.update(top)
        doc["voices"] = {}
        for name, spec in voices.items():
            spec = dict(spec)
            if "file" not in spec:
                spec["file"] = (
                    f"samples/{name}.wav"
                    if (self.root / f"samples/{name}.wav").exists()
                    else self.sample(name)
                )
            spec.setdefault("language", "en")
            doc["voices"][name] = spec
        self.manifest.write_text(yaml.safe_dump(doc, sort_keys=False))

    def lock(self) -> dict[str, Any]:
        return json.loads(self.lockfile.read_text())

    def ids(self) -> dict[str, str]:
        return {n: e["voiceId"] for n, e in self.lock()["voices"].items()}

    # -- service -----------------------------------------------------------------
    def remote(self) -> list[dict[str, Any]]:
        return self.server.clones(self.key)

    def owned(self, stack: str = "e2e") -> dict[str, list[str]]:
        """name -> voiceIds of the clones carrying this stack's ownership tags."""
        found: dict[str, list[str]] = {}
        for clone in self.remote():
            owner = owner_of(clone.get("tags"))
            if owner and owner.stack == stack:
                found.setdefault(owner.name, []).append(clone["voiceId"])
        return found

    def env(self) -> dict[str, str]:
        return {"SMALLEST_API_KEY": self.key, "VOICECTL_API_URL": self.server.url}

    # -- running -----------------------------------------------------------------
    def run(self, *args: str, expect: int | None = 0) -> Result:
        """``voicectl -f voices.yaml ARGS`` in-process; assert the exit code if given."""
        argv = [*args]
        if "-f" not in argv and "--file" not in argv:
            argv += ["-f", str(self.manifest)]
        with pytest.MonkeyPatch.context() as mp:
            for k, v in self.env().items():
                mp.setenv(k, v)
            mp.delenv("NO_COLOR", raising=False)
            result = run_main(self.capsys, *argv)
        if expect is not None:
            assert result.code == expect, f"exit {result.code} != {expect}\n{result.text}"
        return result

    def spawn_on_pty(self, *args: str) -> Terminal:
        """``python -m reconciler ARGS -f voices.yaml`` on a pseudo-terminal."""
        env = dict(os.environ, **self.env())
        env.pop("NO_COLOR", None)
        terminal = Terminal(
            [sys.executable, "-m", "reconciler", *args, "-f", str(self.manifest)], env
        )
        self._spawned.append(terminal.process)
        return terminal

    def spawn(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """``python -m reconciler ARGS -f voices.yaml`` as its own process."""
        env = dict(os.environ)
        env.update(self.env())
        env.update(extra_env or {})
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args, "-f", str(self.manifest)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._spawned.append(process)
        return process
