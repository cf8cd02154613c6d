"""Property tests of the real apply engine against the in-process emulator.

Hypothesis picks a sequence of manifest revisions (voices added, removed,
changed), a fault mix for the emulator (5xx, dropped connections, truncated
bodies, ghost creates), crash points (the run is cancelled when its k-th
operation starts, as a kill would stop it; the lockfile keeps what was written)
and lost lockfiles (deleted before a run, to be repaired from ownership tags).
Each revision is applied until a run succeeds. Then:

* the organisation holds exactly one clone per declared voice, all recorded;
* the next plan is empty, and applying again changes nothing;
* no fault or crash ever made a clone twice: the emulator's count of clones it
  ever created equals the number of (voice, spec) changes that needed one.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_support import write_wav

from reconciler.api.client import WavesClient
from reconciler.api.errors import WavesError
from reconciler.apply import Applier, ApplyOptions, SilentReporter
from reconciler.audio import file_sha256
from reconciler.lockfile import Lockfile
from reconciler.ownership import owner_of
from reconciler.plan import PlanOptions, desired_digest, make_plan
from reconciler.sandbox.app import create_app
from reconciler.sandbox.config import SandboxConfig

NAMES = ("alpha", "bravo", "charlie")
STACK = "props"


@dataclass(frozen=True)
class Voice:
    name: str
    display_name: str
    file: Path
    file_sha256: str
    description: str | None = None
    language: str | None = "en"
    accent: str | None = None
    tags: tuple[str, ...] = ()
    protect: bool = False


@dataclass
class Manifest:
    voices: dict
    stack: str = STACK
    prune: str = "managed"
    ignore: tuple[str, ...] = ()


def _audio(folder: Path, name: str, variant: int) -> Path:
    path = folder / f"{name}-{variant}.wav"
    if not path.exists():  # a tone unique to the name, 3 Hz apart per variant
        freq = 100 + zlib.crc32(name.encode()) % 1000 + 3 * variant
        write_wav(path, seconds=5, freq=freq, rate=8000)
    return path


revisions = st.lists(
    st.dictionaries(
        st.sampled_from(NAMES),
        st.tuples(st.integers(0, 1), st.sampled_from([None, "warm", "calm"])),
        max_size=3,
    ),
    min_size=1,
    max_size=3,
)
faults = st.fixed_dictionaries(
    {
        "fault_rate": st.sampled_from([0.0, 0.2, 0.4]),
        "fault_kinds": st.lists(
            st.sampled_from(["500", "502", "503", "drop", "truncate"]), min_size=1, unique=True
        ),
        "ghost_rate": st.sampled_from([0.0, 0.3, 0.6]),
        "seed": st.integers(0, 10_000),
    }
)


class CrashAt(SilentReporter):
    """Cancels the run when its k-th operation starts (None: never)."""

    def __init__(self, k: int | None, task_ref: list[asyncio.Task]):
        self.k = k
        self.n = 0
        self.task_ref = task_ref

    def started(self, action, verb):
        self.n += 1
        if self.k is not None and self.n == self.k:
            self.task_ref[0].cancel()


async def _one_run(app, folder: Path, m: Manifest, crash: int | None) -> bool:
    lock = Lockfile.load(folder / "voices.lock.json", stack=STACK)
    transport = httpx.ASGITransport(app=app)
    async with WavesClient(
        base_url="http://127.0.0.1",
        api_key="sk-props",
        transport=transport,
        backoff_base=0.001,
        backoff_cap=0.01,
    ) as client:
        try:
            remote = await client.list_clones()
        except WavesError:  # every retry faulted: this run fails before planning, as the CLI would
            return False
        plan = make_plan(m, lock.doc, remote, PlanOptions(allow_mass_delete=True))
        assert not plan.errors, plan.errors
        task_ref: list[asyncio.Task] = []
        applier = Applier(
            client=client,
            lock=lock,
            stack=STACK,
            voices=m.voices,
            plan=plan,
            remote=remote,
            options=ApplyOptions(confirm_window=0.05, poll_initial=0.01, poll_max=0.02),
            reporter=CrashAt(crash, task_ref),
        )
        task = asyncio.ensure_future(applier.run())
        task_ref.append(task)
        try:
            result = await task
        except asyncio.CancelledError:
            return False  # killed: what was written stays written
        return result.ok and not plan.has_changes


async def _scenario(folder: Path, revs, fault, crashes) -> tuple[int, int]:
    app = create_app(SandboxConfig(**fault))
    sandbox = app.state.sandbox
    needed = 0
    current: dict[str, str] = {}
    crash_iter = iter(crashes)
    for rev in revs:
        voices = {}
        for name, (variant, description) in rev.items():
            path = _audio(folder, name, variant)
            voices[name] = Voice(name, name.title(), path, file_sha256(path), description)
        m = Manifest(voices)
        for name in list(current):
            if name not in voices:
                del current[name]
        for name, voice in voices.items():
            digest = desired_digest(voice)
            if current.get(name) != digest:
                needed += 1
                current[name] = digest
        for _attempt in range(12):
            crash, lose_lockfile = next(crash_iter, (None, False))
            if lose_lockfile:  # e.g. a CI job that never committed it: repaired from tags
                (folder / "voices.lock.json").unlink(missing_ok=True)
            if await _one_run(app, folder, m, crash):
                break
        else:
            raise AssertionError("apply did not converge in 12 runs")
        # the organisation now holds exactly the declared set, recorded in the lockfile
        sandbox.update_config({"fault_rate": 0.0, "ghost_rate": 0.0})
        lock = Lockfile.load(folder / "voices.lock.json")
        async with WavesClient(
            base_url="http://127.0.0.1", api_key="sk-props", transport=httpx.ASGITransport(app=app)
        ) as client:
            remote = await client.list_clones()
        owners = [owner_of(c.tags) for c in remote]
        assert sorted(o.name for o in owners) == sorted(voices)
        assert {o.name: o.spec for o in owners} == current
        assert {n: e.voice_id for n, e in lock.doc.voices.items()} == {
            owner_of(c.tags).name: c.voice_id for c in remote
        }
        assert not make_plan(m, lock.doc, remote, PlanOptions()).has_changes
        sandbox.update_config(
            {"fault_rate": fault["fault_rate"], "ghost_rate": fault["ghost_rate"]}
        )
    return sandbox.stats.clones_created, needed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    revs=revisions,
    fault=faults,
    crashes=st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 4)), st.booleans()), max_size=4),
)
def test_faults_and_crashes_never_duplicate_a_clone(tmp_path_factory, revs, fault, crashes):
    folder = tmp_path_factory.mktemp("props")
    created, needed = asyncio.run(_scenario(folder, revs, fault, crashes))
    assert created == needed
