"""A service slower than the client's patience: a create that is not answered in time
may still be made. It is never sent again in the same run (that made one clone per
try), and the next run adopts the clone it made.
"""

from __future__ import annotations

import pytest
from cli_support import Project
from sandbox_support import until

pytestmark = pytest.mark.e2e


def test_an_unanswered_create_is_sent_once_and_adopted_next_run(project: Project) -> None:
    project.write({"alpha": {}, "bravo": {}})
    server = project.server
    server.hold(method="POST", path="/waves/v1/voice-cloning")  # never answered in time
    # the client gives up after 2 s (the request deadline); the test waits on events
    proc = project.spawn("apply", "--auto-approve", extra_env={"VOICECTL_REQUEST_DEADLINE": "2"})
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    text = out + err
    failed = [
        ln for ln in text.splitlines() if ln.startswith(("  alpha (create)", "  bravo (create)"))
    ]
    assert len(failed) == 2, text
    assert all(
        "not sent again in this run (the service may still be making it)" in line for line in failed
    ), text
    assert server.stats()["held_now"] == 2  # one create per voice, no second try
    server.release()
    until(lambda: server.stats()["clones_created"] == 2, "the held creates to finish")
    until(lambda: not any(server.stats()["in_flight_now"].values()), "the server to be idle")
    again = project.run("apply", "--auto-approve").out
    assert "2 adopted" in again
    owned = project.owned()
    assert sorted(owned) == ["alpha", "bravo"] and all(len(v) == 1 for v in owned.values())
    assert {n: ids[0] for n, ids in owned.items()} == project.ids()
    assert project.server.stats()["clones_created"] == 2


def test_an_apply_with_ambiguous_creates_says_the_next_plan_checks_again(project: Project):
    """Creates made but answered with an error (ghosts): found by their tags, and the
    summary says a clone the list does not show yet is the next plan's to find."""
    project.write({"alpha": {}, "bravo": {}})
    project.server.config(ghost_rate=1.0)
    r = project.run("apply", "--auto-approve")
    project.server.config(ghost_rate=0.0)
    assert r.text.count("create answered ambiguously") == 2, r.text
    assert "2 creates were answered ambiguously: a clone the list does not show yet" in r.text
    assert "No changes." in project.run("plan").out
    assert sorted(project.owned()) == ["alpha", "bravo"]
    assert all(len(ids) == 1 for ids in project.owned().values())
