"""`voicectl doctor` in every world of the API, over real sockets.

The answers are pinned per world; the emulator's statistics prove that no
request doctor sends can create or delete anything.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from sandbox_support import OTHER_KEY

from reconciler import schemas

pytestmark = pytest.mark.e2e


def seed_org(project: Project) -> None:
    server = project.server
    server.seed_clone(displayName="Old", modelIds=["lightning-large"])
    server.seed_clone(displayName="Pro", modelIds=["lightning-v3.1-pro"])
    server.seed_clone(displayName="Broken", status="failed")
    server.seed_clone(displayName="Plain", language="en")


WORLDS = [
    (
        {},
        "seed",
        "lightning-large",
        {"lightning-large": "deletes", "voice-cloning": "absent (404)"},
        {"lightning-v3.1": True, "lightning-v3.1-pro": False},
        "live",
    ),
    (
        {"profile": "current"},
        "current",
        None,
        {
            "lightning-large": "retired (410 MODEL_DEPRECATED)",
            "voice-cloning": "refuses this key (401)",
        },
        {"lightning-v3.1": True, "lightning-v3.1-pro": True},
        "gone",
    ),
    (
        {"profile": "current", "delete_route": "voice-cloning"},
        "current",
        "voice-cloning",
        {"lightning-large": "retired (410 MODEL_DEPRECATED)", "voice-cloning": "deletes"},
        {"lightning-v3.1": True, "lightning-v3.1-pro": True},
        "gone",
    ),
    (
        {"delete_route": "none", "pro_model": True},
        "mixed",
        None,
        {
            "lightning-large": "retired (410 MODEL_DEPRECATED)",
            "voice-cloning": "refuses this key (401)",
        },
        {"lightning-v3.1": True, "lightning-v3.1-pro": True},
        "live",
    ),
]


@pytest.mark.parametrize(("config", "world", "route", "routes", "models", "legacy"), WORLDS)
def test_doctor_in_every_world(project, config, world, route, routes, models, legacy):
    project.server.reset(**config)
    seed_org(project)
    before = sorted(c["voiceId"] for c in project.remote())
    project.server.reset_stats()
    data = json.loads(project.run("doctor", "--format", "json").out)
    schemas.DoctorDocument.model_validate(data)  # the schema's shape
    assert data["ok"] is True and data["world"] == world
    assert data["deleteRoute"] == route and data["deleteRoutes"] == routes
    assert data["createModels"] == models and data["legacyRoutes"] == legacy
    assert data["clones"] == {"total": 4, "legacy": 1, "pro": 1, "failed": 1, "unmanaged": 4}
    statuses = {c["check"]: c["status"] for c in data["checks"]}
    assert statuses["key"] == statuses["create lightning-v3.1"] == statuses["tts"] == "ok"
    assert statuses["delete"] == ("ok" if route else "warn")
    assert all(c["means"] for c in data["checks"])
    # Read-only on every server: nothing created, nothing deleted.
    stats = project.server.stats()
    assert stats["clones_created"] == 0 and stats["clones_deleted"] == 0
    assert sorted(c["voiceId"] for c in project.remote()) == before

    text = project.run("doctor").out
    assert f"(API world: {world})" in text and "voicectl can work here." in text
    if route is None:
        assert "no delete route works for this key" in text and "handed off" in text


def test_doctor_fails_on_a_key_that_cannot_list(project):
    project.server.reset(api_keys=[OTHER_KEY])
    result = project.run("doctor", "--format", "json", expect=1)
    data = json.loads(result.out)
    assert data["ok"] is False
    assert data["checks"][0]["check"] == "key" and data["checks"][0]["status"] == "fail"
    assert "401" in data["checks"][0]["result"]
    assert data["world"] is None  # nothing could be probed: not "mixed"
    [error] = data["errors"]
    assert error["message"].startswith("key: ") and "401" in error["message"]
    text = project.run("doctor", expect=1)
    assert "Something voicectl needs is missing" in text.out
    assert "(API world: unknown, nothing could be probed)" in text.out
    assert text.err.startswith("Error: key: ") and len(text.err.splitlines()) == 1
    assert project.server.stats()["clones_created"] == 0


def test_doctor_probes_tts_with_the_clone_model(project):
    project.server.reset(profile="current")
    project.server.seed_clone(displayName="Pro", modelIds=["lightning-v3.1-pro"])
    project.server.reset_stats()
    data = json.loads(project.run("doctor", "--json").out)
    tts = next(c for c in data["checks"] if c["check"] == "tts")
    assert tts["status"] == "ok" and "lightning_v3.1_pro" in tts["result"]
    assert project.server.stats()["requests"]["POST /waves/v1/tts"] == 1
