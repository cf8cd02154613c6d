"""Every fault kind of the emulator: apply converges to exactly the declared set.

The sandbox misbehaves on purpose (seeded, so each case is reproducible): 5xx,
dropped connections, truncated JSON, ghost creates (500 although the clone was
made), list lag, 429s from an unpublished concurrency limit, slow and failing
clone processing. apply is re-run until it succeeds (as a CI job would be); the
organisation must then hold exactly one clone per declared voice, the lockfile
must agree, and - where the list does not lag - no duplicate was ever created.
"""

from __future__ import annotations

import os

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e

SEEDS = [int(s) for s in os.environ.get("VOICECTL_FAULT_SEEDS", "1 2").split()]
VOICES = {f"v{i}": {} for i in range(6)}

CASES = {
    "5xx": dict(fault_rate=0.35, fault_kinds=["500", "502", "503"]),
    "drop": dict(fault_rate=0.35, fault_kinds=["drop"]),
    "truncate": dict(fault_rate=0.35, fault_kinds=["truncate"]),
    "mixed": dict(fault_rate=0.3),
    "ghost": dict(ghost_rate=0.6),
    "ghost+lag": dict(ghost_rate=0.5, list_lag_ms=700),
    "429-no-retry-after": dict(concurrency_limit=2, latency_ms=50),
    "429-retry-after": dict(concurrency_limit=2, latency_ms=50, retry_after=0.2),
    "processing": dict(processing_seconds=1.0),
    "failing": dict(processing_seconds=0.3, failure_rate=0.4),
    "everything": dict(
        fault_rate=0.2, ghost_rate=0.3, concurrency_limit=3, latency_ms=30, list_lag_ms=300
    ),
}


def converge(project: Project, *, tries: int = 8, log: list[str] | None = None) -> int:
    """Run apply until it exits 0; return how many runs it took."""
    for attempt in range(1, tries + 1):
        r = project.run("apply", "--auto-approve", "--wait-timeout", "20", expect=None)
        if log is not None:
            log.append(r.text)
        if r.code == 0:
            return attempt
        assert r.code == 1, r.text
        assert "Apply failed" in r.out or "Error:" in r.err, r.text
    raise AssertionError(f"apply did not converge in {tries} runs:\n{r.text}")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", SEEDS)
def test_apply_converges_under_faults(project, case, seed):
    config = CASES[case]
    project.server.reset(seed=seed, **config)
    project.write(VOICES)
    log: list[str] = []
    runs = converge(project, log=log)

    project.server.config(fault_rate=0, ghost_rate=0, failure_rate=0, list_lag_ms=0)
    plan = project.run("plan", "--detailed-exitcode", expect=None)
    if plan.code == 2:  # a duplicate surfaced late (list lag): one more apply removes it
        log.append(plan.text)
        runs += converge(project, log=log)
        plan = project.run("plan", "--detailed-exitcode", expect=None)
    assert plan.code == 0, "\n".join([*log, plan.text])

    ids = project.ids()
    assert set(ids) == set(VOICES)
    owned = project.owned()
    assert owned == {name: [voice_id] for name, voice_id in ids.items()}, (case, runs)
    remote = {c["voiceId"]: c for c in project.remote()}
    assert set(remote) == set(ids.values())
    assert all(c["status"] == "completed" for c in remote.values())
    created = project.server.stats()["clones_created"]
    if not config.get("list_lag_ms") and not config.get("failure_rate"):
        # exactly-once: every clone the service ever made is one of the declared set
        assert created == len(VOICES), (case, created)


@pytest.mark.parametrize("command", ["plan", "apply", "refresh"])
def test_a_paged_clone_list_stops_the_run_instead_of_looking_like_deletes(project, command):
    """Pagination is not published. Should the list start paging, the clones on the
    other pages must not look deleted (re-created: duplicates): one line, nothing done."""
    project.write({"a": {}, "b": {}, "c": {}})
    project.run("apply", "--auto-approve")
    lock = project.lockfile.read_bytes()
    project.server.config(list_page_size=2)
    project.server.reset_stats()
    args = [command] + (["--auto-approve"] if command == "apply" else [])
    r = project.run(*args, expect=1)
    [line] = [x for x in r.err.splitlines() if x.startswith("Error:")]
    assert "the clone list is one page of more (hasMore: True); this voicectl reads only a " in line
    assert project.server.stats()["requests"] == {"GET /waves/v1/voice-cloning": 1}  # no retry
    assert project.lockfile.read_bytes() == lock and len(project.remote()) == 3
