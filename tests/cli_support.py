"""A voicectl project on disk, driven through the real CLI against a real sandbox.

``Project.run(...)`` calls ``reconciler.cli.main`` in-process (fast; the client
still talks to the sandbox over real sockets); ``Project.spawn(...)`` runs
``python -m reconciler`` as a separate process (for concurrency and crash tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_support import KEY, ROOT, SandboxServer, write_wav

from reconciler.cli import main
from reconciler.ownership import owner_of


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Project:
    def __init__(self, root: Path, server: SandboxServer, capsys: Any, key: str = KEY):
        self.root = root
        self.server = server
        self.capsys = capsys
        self.key = key
        self.manifest = root / "voices.yaml"
        self.lockfile = root / "voices.lock.json"
        (root / "samples").mkdir(exist_ok=True)

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
        self.capsys.readouterr()
        with pytest.MonkeyPatch.context() as mp:
            for k, v in self.env().items():
                mp.setenv(k, v)
            mp.delenv("NO_COLOR", raising=False)
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = self.capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        if expect is not None:
            assert code == expect, f"exit {code} != {expect}\n{result.text}"
        assert "Traceback" not in result.text
        return result

    def spawn(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """``python -m reconciler ARGS -f voices.yaml`` as its own process."""
        env = dict(os.environ)
        env.update(self.env())
        env.update(extra_env or {})
        return subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args, "-f", str(self.manifest)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
