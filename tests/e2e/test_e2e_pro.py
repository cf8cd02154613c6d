"""Pro clones end to end: the real CLI against `voicectl sandbox serve --profile current`.

A ``model: lightning-v3.1-pro`` voice is created with that model; a Pro clone is
current, never planned as legacy; changing a voice's model is a replacement
(create before destroy) with that reason; ``check --probe`` speaks each clone on
its own TTS model.
"""

from __future__ import annotations

import json

import pytest
from cli_support import Project

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(project):
    # The current world, but with a working delete route so replacements finish.
    project.server.reset(profile="current", delete_route="voice-cloning")
    return project


def apply(project: Project, *args: str, expect: int = 0):
    return project.run("apply", "--auto-approve", *args, expect=expect)


def test_pro_voice_is_created_on_pro_and_stays(project):
    project.write(
        {"pro": {"model": "lightning-v3.1-pro", "language": "ja"}, "plain": {}},
        defaults={"language": "en"},
    )
    apply(project)
    models = {c["displayName"]: c["modelIds"] for c in project.remote()}
    assert models == {"pro": ["lightning-v3.1-pro"], "plain": ["lightning-v3.1"]}
    assert project.lock()["voices"]["pro"]["modelIds"] == ["lightning-v3.1-pro"]
    plan = project.run("plan", "--detailed-exitcode", expect=0).out
    assert plan.startswith("No changes.") and "legacy" not in plan
    checked = json.loads(project.run("check", "--probe", "--format", "json").out)
    assert checked["ok"] is True and all(v["probe"]["ok"] for v in checked["voices"])
    text = project.run("check", "--probe").out  # names the models it probed on
    assert "2 voices checked (with a lightning_v3.1 / lightning_v3.1_pro probe)" in text


def test_defaults_model_applies_to_every_voice(project):
    project.write(
        {"a": {}, "b": {"model": "lightning-v3.1"}}, defaults={"model": "lightning-v3.1-pro"}
    )
    apply(project)
    models = {c["displayName"]: c["modelIds"] for c in project.remote()}
    assert models == {"a": ["lightning-v3.1-pro"], "b": ["lightning-v3.1"]}


def test_a_model_change_is_a_replacement(project):
    project.write({"alpha": {}})
    apply(project)
    old = project.ids()["alpha"]
    project.write({"alpha": {"model": "lightning-v3.1-pro"}})
    plan = project.run("plan", "--detailed-exitcode", expect=2).out
    assert "-/+" in plan and "model changed (lightning-v3.1 -> lightning-v3.1-pro)" in plan
    out = apply(project).out
    assert "1 replaced" in out
    new = project.ids()["alpha"]
    assert new != old
    assert [(c["voiceId"], c["modelIds"]) for c in project.remote()] == [
        (new, ["lightning-v3.1-pro"])
    ]
    assert project.run("plan", "--detailed-exitcode", expect=0).out.startswith("No changes.")


def test_a_seeded_pro_clone_is_adopted_not_migrated(project):
    project.server.seed_clone(displayName="Hand Pro", modelIds=["lightning-v3.1-pro"])
    project.server.seed_clone(displayName="Old", modelIds=["lightning-large"])
    listing = project.run("list", "--format", "json").out
    entries = {c["displayName"]: c for c in json.loads(listing)["clones"]}
    assert entries["Hand Pro"]["legacy"] is False and entries["Old"]["legacy"] is True


@pytest.mark.parametrize(
    "model, message",
    [
        (
            "lightning-v2",
            "voices.alpha.model: Voice cloning for lightning-v2 is deprecated. "
            "Please use lightning-v3.1",
        ),
        (
            "lightning-v9",
            "voices.alpha.model: 'lightning-v9': Supported models: lightning-v3.1, "
            "lightning-v3.1-pro",
        ),
    ],
)
def test_validate_refuses_other_models_at_file_line(project, model, message):
    project.write({"alpha": {"model": model}})
    result = project.run("validate", expect=1)
    assert "voices.yaml:5:" in result.err and message in result.err
    assert project.server.stats()["requests"] == {}


def test_an_imported_pro_clone_keeps_its_model_and_is_not_replaced(project):
    project.write({})
    pro = project.server.seed_clone(
        displayName="Hand Pro", modelIds=["lightning-v3.1-pro"], language="en"
    )
    project.sample("hand-pro")
    project.run("import", "--samples", str(project.root / "samples"))
    text = project.manifest.read_text()
    assert "model: lightning-v3.1-pro" in text
    assert project.ids() == {"hand-pro": pro["voiceId"]}
    assert project.run("plan", "--detailed-exitcode", expect=0).out.startswith("No changes.")
