"""Drift detection: clones changed behind voicectl's back, seen by `plan --detailed-exitcode`.

Each case is checked in all three formats (text, json, markdown): exit 2 and the
right action. The JSON is validated against the committed schemas/plan.schema.json.
The real CLI runs against `voicectl sandbox serve`; the sandbox's hooks play the
person who changed things by hand (the dashboard's edits: PATCH /_sandbox/clones).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from cli_support import Project
from sandbox_support import ADD_VOICE, CLONES, DELETE, ROOT

pytestmark = pytest.mark.e2e

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
FORMATS = ("text", "json", "markdown")


def apply(project: Project, *args: str) -> None:
    project.run("apply", "--auto-approve", *args)


def plan(project: Project, fmt: str, *args: str, expect: int = 2):
    """`plan --detailed-exitcode --list-grace 0 --format FMT` (JSON parsed and validated)."""
    r = project.run(
        "plan", "--detailed-exitcode", "--list-grace", "0", "--format", fmt, *args, expect=expect
    )
    if fmt == "json":
        doc = json.loads(r.out)
        jsonschema.validate(doc, PLAN_SCHEMA)
        return doc
    return r.out


def hand_clone(project: Project, display_name: str, *, legacy: bool = False, **fields) -> str:
    """Make a clone directly on the service, as someone in the dashboard would."""
    path = project.root / "samples" / "hand.wav"
    if not path.exists():
        project.sample("hand")
    with project.server.client() as http, open(path, "rb") as fh:
        r = http.post(
            ADD_VOICE if legacy else CLONES,
            data={"displayName": display_name, **fields},
            files={"file": ("hand.wav", fh, "audio/wav")},
        )
    r.raise_for_status()
    return r.json()["data"]["voiceId"]


def delete_remote(project: Project, voice_id: str) -> None:
    with project.server.client() as http:
        http.request("DELETE", DELETE, json={"voiceId": voice_id}).raise_for_status()


def edit_remote(project: Project, voice_id: str, **fields) -> None:
    with project.server.client() as http:
        http.patch(f"/_sandbox/clones/{voice_id}", json=fields).raise_for_status()


def only(doc: dict, kind: str) -> dict:
    found = [a for a in doc["actions"] if a["action"] == kind]
    assert len(found) == 1, doc["actions"]
    return found[0]


def md_row(out: str, kind: str, name: str) -> str:
    rows = [line for line in out.splitlines() if line.startswith(f"| {kind} | {name} |")]
    assert len(rows) == 1, out
    return rows[0]


# ----------------------------------------------------------------------------- cases


@pytest.mark.parametrize("fmt", FORMATS)
def test_clone_deleted_behind_our_back_is_created_again(project, fmt):
    project.write({"alpha": {}, "bravo": {}})
    apply(project)
    gone = project.ids()["alpha"]
    delete_remote(project, gone)
    out = plan(project, fmt)
    reason = f"clone {gone} no longer exists on the service"
    if fmt == "json":
        action = only(out, "create")
        assert action["name"] == "alpha" and action["voiceId"] is None
        assert action["reasons"] == [reason]
        assert out["summary"]["create"] == 1 and out["summary"]["changes"] == 1
    elif fmt == "markdown":
        assert out.startswith("### voicectl plan: 1 to create, 0 to replace, 0 to delete\n")
        assert reason.replace("_", "\\_") in md_row(out, "create", "alpha")
        assert "<details><summary>create alpha</summary>" in out
    else:
        assert "# alpha will be created" in out and reason in out
        assert "Plan: 1 to create, 0 to replace, 0 to delete." in out


def test_deleted_clone_made_moments_ago_is_drift_at_once(project):
    """A clone the run that made it saw listed (listedAt), deleted by hand seconds later,
    is drift at once: --list-grace covers only clones never listed yet (list lag)."""
    project.write({"alpha": {}, "bravo": {}})
    apply(project)
    assert all(e["listedAt"] for e in project.lock()["voices"].values())
    alpha = project.ids()["alpha"]
    delete_remote(project, alpha)
    r = project.run("plan", "--detailed-exitcode", "--format", "json", expect=2)
    actions = {a["name"]: a for a in json.loads(r.out)["actions"]}
    assert actions["alpha"]["action"] == "create", actions  # well within the 30 s grace
    assert actions["alpha"]["reasons"] == [f"clone {alpha} no longer exists on the service"]
    assert actions["bravo"]["action"] == "noop"


@pytest.mark.parametrize("fmt", FORMATS)
def test_clone_added_by_hand_is_deleted_with_prune_all(project, fmt):
    project.write({"alpha": {}}, prune="all")
    apply(project)
    stray = hand_clone(project, "Made <by> hand")
    out = plan(project, fmt)
    if fmt == "json":
        action = only(out, "delete")
        assert action["voiceId"] == stray and action["name"] is None
        assert action["displayName"] == "Made <by> hand"
        assert action["reasons"] == [
            "not declared (prune: all)",
            "not made by voicectl, deleted because prune: all",
        ]
    elif fmt == "markdown":
        row = md_row(out, "delete", "displayName Made &lt;by&gt; hand")
        assert stray.replace("_", "\\_") in row and "prune\\: all" in row
    else:
        assert f'- displayName "Made <by> hand" {stray}' in out
        assert "Plan: 0 to create, 0 to replace, 1 to delete." in out


def test_clone_added_by_hand_is_left_alone_with_prune_managed(project):
    project.write({"alpha": {}})
    apply(project)
    hand_clone(project, "Someone else's")
    doc = plan(project, "json", expect=0)
    assert [a["action"] for a in doc["actions"]] == ["noop"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_hand_made_duplicate_with_our_tags_is_deleted(project, fmt):
    """A copy carrying this stack's ownership tags for alpha is ours: a duplicate."""
    project.write({"alpha": {}})
    apply(project)
    (original,) = project.remote()
    dup = hand_clone(project, "alpha", language="en", tags=", ".join(original["tags"]))
    out = plan(project, fmt)
    why = f"duplicate of {original['voiceId']} (same ownership tags)"
    if fmt == "json":
        action = only(out, "delete")
        assert (action["name"], action["voiceId"], action["reasons"]) == (
            "alpha",
            dup,
            [why, "made by stack 'e2e'"],
        )
    elif fmt == "markdown":
        assert dup.replace("_", "\\_") in md_row(out, "delete", "alpha")
    else:
        assert why in out and f"  - alpha {dup}" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_legacy_clone_recorded_for_a_voice_is_replaced(project, fmt):
    """A voice whose recorded clone is a legacy lightning-large one (as `voicectl import`
    records it) must be re-cloned on lightning-v3.1."""
    project.write({"alpha": {}})
    apply(project)
    legacy = hand_clone(project, "alpha", legacy=True)
    delete_remote(project, project.ids()["alpha"])
    lock = project.lock()
    lock["voices"]["alpha"]["voiceId"] = legacy
    project.lockfile.write_text(json.dumps(lock, indent=2))
    out = plan(project, fmt)
    if fmt == "json":
        action = only(out, "replace")
        assert action["voiceId"] == legacy
        assert any("legacy clone (modelIds: lightning-large)" in r for r in action["reasons"])
    elif fmt == "markdown":
        assert "legacy clone \\(modelIds\\: lightning-large\\)" in md_row(out, "replace", "alpha")
    else:
        assert "# alpha must be replaced (legacy clone" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_unmanaged_legacy_clone_appearing_is_a_warning(project, fmt):
    project.write({"alpha": {}})
    apply(project)
    hand_clone(project, "Old voice", legacy=True)
    out = plan(project, fmt, expect=0)
    warning = "1 legacy lightning-large clone is unmanaged; `voicectl import` them to migrate"
    if fmt == "json":
        assert [w["message"] for w in out["warnings"]] == [warning]
        assert [a["action"] for a in out["actions"]] == ["noop"]
    elif fmt == "markdown":
        assert "> **Warning:** 1 legacy lightning-large clone is unmanaged" in out
        assert "\\`voicectl import\\`" in out
    else:
        assert f"Warning: {warning}" in out


def test_unmanaged_legacy_clone_is_deleted_with_prune_all(project):
    project.write({"alpha": {}}, prune="all")
    apply(project)
    legacy = hand_clone(project, "Old voice", legacy=True)
    doc = plan(project, "json")
    assert only(doc, "delete")["voiceId"] == legacy


@pytest.mark.parametrize("fmt", FORMATS)
def test_managed_clone_metadata_changed_in_the_dashboard(project, fmt):
    project.write({"alpha": {"displayName": "Alpha", "tags": ["x"]}})
    apply(project)
    voice_id = project.ids()["alpha"]
    (clone,) = project.remote()
    markers = [t for t in clone["tags"] if t.startswith("voicectl-")]
    edit_remote(project, voice_id, displayName="Alpha | *edited*", tags=["y", *markers])
    out = plan(project, fmt)
    if fmt == "json":
        action = only(out, "replace")
        assert action["voiceId"] == voice_id
        assert action["changes"] == [
            {"field": "displayName", "old": "Alpha | *edited*", "new": "Alpha"},
            {"field": "tags", "old": ["y"], "new": ["x"]},
        ]
    elif fmt == "markdown":
        assert "metadata changed \\(displayName, tags\\)" in md_row(out, "replace", "alpha")
        assert "| displayName | Alpha \\| \\*edited\\* | Alpha |" in out
        assert "| tags | [y] | [x] |" in out
    else:
        assert '~ displayName: "Alpha | *edited*" -> "Alpha"' in out
        assert "Plan: 0 to create, 1 to replace, 0 to delete." in out


def test_no_drift_is_exit_0_in_every_format(project):
    project.write({"alpha": {}})
    apply(project)
    for fmt in FORMATS:
        out = plan(project, fmt, expect=0)
        if fmt == "json":
            assert out["summary"]["changes"] == 0
        elif fmt == "markdown":
            assert out.startswith("### voicectl plan: no changes\n")
        else:
            assert out.startswith("No changes.")


def test_error_is_exit_1_even_with_detailed_exitcode(project):
    project.write({"alpha": {"protect": True}})
    apply(project)
    project.write({"alpha": {"protect": True, "description": "changed"}})
    r = project.run("plan", "--detailed-exitcode", "--format", "json", expect=1)
    doc = json.loads(r.out)
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert doc["errors"] and "protect is true" in r.err


def test_step_summary_gets_markdown_whatever_the_format(project, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.write({"alpha": {"displayName": "<b>Alpha</b>"}})
    out = plan(project, "text")
    assert "###" not in out
    text = summary.read_text()
    assert text.startswith("earlier step\n### voicectl plan: 1 to create")
    assert "&lt;b&gt;Alpha&lt;/b&gt;" in text and "<b>" not in text
    apply(project)
    text = summary.read_text()
    assert "### voicectl apply: complete, 1 created, 0 replaced, 0 deleted" in text
    assert text.count("### voicectl plan:") == 1  # and the apply's plan is not repeated


def test_unwritable_step_summary_is_a_warning_not_a_failure(project, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "dir" / "s.md"))
    project.write({"alpha": {}})
    r = project.run("plan")
    assert "Warning: cannot append to GITHUB_STEP_SUMMARY" in r.err


def test_apply_markdown_format_needs_auto_approve(project):
    project.write({"alpha": {}})
    r = project.run("apply", "--format", "markdown", expect=1)
    assert "--format markdown needs --auto-approve" in r.err
    r = project.run("apply", "--auto-approve", "--format", "markdown")
    assert r.out.startswith("### voicectl apply: complete, 1 created")
    voice_id = project.ids()["alpha"]
    assert f"| create | alpha | {voice_id.replace('_', chr(92) + '_')} | done |" in r.out


def test_plan_json_schema_accepts_what_apply_json_embeds(project):
    apply_schema = json.loads((Path(ROOT) / "schemas" / "apply.schema.json").read_text())
    project.write({"alpha": {}})
    r = project.run("apply", "--auto-approve", "--format", "json")
    doc = json.loads(r.out)
    jsonschema.validate(doc, apply_schema)
    jsonschema.validate(doc["plan"], PLAN_SCHEMA)
