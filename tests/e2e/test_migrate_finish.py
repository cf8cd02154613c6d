"""`migrate --finish` through the same planner and applier as every run: the plan's
deletes of the kept old clones, its typed refusals, JSON output and the job summary."""

from __future__ import annotations

import json

import pytest
from cli_support import Project
from plan_support import Voice, clone_of, lock_with, manifest
from test_migrate import import_all, seeded_org

from reconciler.lockfile import RetiredEntry
from reconciler.plan import PlanOptions, make_plan
from reconciler.refusals import ReplacementNotReady

FINISH = PlanOptions(finish_retired=True)


def _kept(voices_and_new, olds):
    """A lockfile whose voices are on their new clones, each old one kept as retired."""
    lock = lock_with(*voices_and_new)
    for (voice, new), old in zip(voices_and_new, olds):
        lock.retired[old.voice_id] = RetiredEntry(name=voice.name, replaced_by=new.voice_id)
    return lock


def test_finish_plans_only_the_deletes_of_kept_old_clones() -> None:
    a, b, c = Voice("a"), Voice("b"), Voice("c")
    new_a, new_b = clone_of(a), clone_of(b)
    old_a, old_b = (clone_of(v, models=("lightning-large",)) for v in (a, b))
    lock = _kept([(a, new_a), (b, new_b)], [old_a, old_b])
    remote = [new_a, new_b, old_a, old_b]
    plan = make_plan(manifest(a, b, c), lock, remote, FINISH)  # c would be a create
    assert [(x.kind, x.name, x.voice_id) for x in plan.actions] == [
        ("delete", "a", old_a.voice_id),
        ("delete", "b", old_b.voice_id),
    ]
    assert "its replacement" in plan.actions[0].reasons[0]
    assert plan.refusals == () and not plan.warnings
    only_b = make_plan(
        manifest(a, b, c), lock, remote, PlanOptions(finish_retired=True, targets=frozenset(["b"]))
    )
    assert [x.name for x in only_b.actions] == ["b"]
    # without --finish, the kept clones stay, with a reminder
    plain = make_plan(manifest(a, b), lock, remote)
    assert not plain.of_kind("delete") and "migrate --finish" in plain.warnings[-1]


def test_finish_is_refused_all_or_nothing_while_a_replacement_is_not_ready() -> None:
    a, b = Voice("a"), Voice("b")
    new_a = clone_of(a)
    new_b = clone_of(b, status="processing")
    old_a, old_b = (clone_of(v, models=("lightning-large",)) for v in (a, b))
    lock = _kept([(a, new_a), (b, new_b)], [old_a, old_b])
    plan = make_plan(manifest(a, b), lock, [new_a, new_b, old_a, old_b], FINISH)
    assert [(type(r), r.name, r.old_id) for r in plan.refusals] == [
        (ReplacementNotReady, "b", old_b.voice_id)
    ]
    assert f"its replacement {new_b.voice_id} is processing" in plan.refusals[0].message
    gone = make_plan(manifest(a, b), lock, [new_a, old_a, old_b], FINISH)
    assert "does not exist on the service" in gone.refusals[0].message
    ok_a = make_plan(
        manifest(a, b),
        lock,
        [new_a, new_b, old_a, old_b],
        PlanOptions(finish_retired=True, targets=frozenset(["a"])),
    )
    assert ok_a.refusals == () and [x.name for x in ok_a.of_kind("delete")] == ["a"]


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    return Project(tmp_path, sandbox_server, capsys)


@pytest.mark.e2e
def test_finish_speaks_json_and_writes_the_job_summary(project, tmp_path, monkeypatch):
    originals = seeded_org(project, n_legacy=2)
    import_all(project)
    project.run("migrate", "--auto-approve", "--keep-legacy")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = project.run("migrate", "--finish", "--format", "json", expect=1)
    assert "--format json needs --auto-approve" in r.err  # asks nobody, deletes nothing
    out = project.run("migrate", "--finish", "--auto-approve", "--format", "json").out
    doc = json.loads(out)
    assert doc["formatVersion"] == 2 and doc["ok"] is True
    deleted = {o["voiceId"] for o in doc["outcomes"] if o["action"] == "delete" and o["ok"]}
    assert deleted == set(originals.values())
    assert doc["summary"]["deleted"] == 2
    assert "### voicectl apply: complete" in summary.read_text()
    assert not project.lock().get("retired")
    again = project.run("migrate", "--finish", "--auto-approve").out
    assert "Nothing to finish" in again


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--finish", "--keep-legacy"), "--finish and --keep-legacy contradict each other"),
        (("--finish",), "there is nothing to finish"),  # no lockfile yet
    ],
)
def test_migrates_early_refusals_are_one_json_document_too(project: Project, args, message):
    import jsonschema
    from sandbox_support import ROOT

    project.write({"narrator": {}})
    r = project.run("migrate", *args, "--auto-approve", "--format", "json", expect=1)
    doc = json.loads(r.out)  # the failure in the asked-for format
    jsonschema.validate(doc, json.loads((ROOT / "schemas" / "apply.schema.json").read_text()))
    assert doc["ok"] is False and doc["outcomes"] == []
    assert len(doc["errors"]) == 1 and message in doc["errors"][0]["message"]
    assert project.server.stats()["clones_created"] == 0
