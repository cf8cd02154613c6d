"""`voicectl list` end to end: LEGACY marks, owners (tags, lockfile, unmanaged), JSON."""

from __future__ import annotations

import json

import pytest
from test_import import dashboard, legacy

from reconciler.render.table import table, width


@pytest.mark.e2e
def test_list_marks_legacy_and_owners_and_strips_control_characters(project):
    project.sample("s")
    old = legacy(project, "Old IVR", "samples/s.wav")
    evil = dashboard(project, "Evil\x1b[31m\u202eName", "samples/s.wav", tags="a, b")
    project.write({"alpha": {"displayName": "Alpha"}})
    project.run("apply", "--auto-approve")
    alpha = project.ids()["alpha"]
    project.sample("hand")
    hand = dashboard(project, "Hand made", "samples/hand.wav", language="en")
    project.run("import", "--select", "Hand*")

    out = project.run("list").out
    assert "\x1b" not in out and "\u202e" not in out
    lines = out.splitlines()
    header = lines[0]
    assert header.split() == [
        "VOICE",
        "ID",
        "DISPLAY",
        "NAME",
        "STATUS",
        "MODELS",
        "OWNER",
        "CREATED",
    ]
    rows = {line.split()[0]: line for line in lines[1:5]}
    assert "lightning-large LEGACY" in rows[old] and "unmanaged" in rows[old]
    assert "Evil[31mName" in rows[evil] and "unmanaged" in rows[evil]
    assert "LEGACY" not in rows[alpha] and "e2e/alpha " in rows[alpha] + " "
    assert "e2e/hand-made (lockfile)" in rows[hand]
    for line in lines[1:5]:  # columns line up under the header
        assert line.index("completed") == header.index("STATUS")
    assert "4 clones, 1 LEGACY (no lightning-v3.1), 2 unmanaged." in out

    data = json.loads(project.run("list", "--json").out)
    assert data["formatVersion"] == 1
    assert data["summary"] == {"total": 4, "legacy": 1, "unmanaged": 2, "awaitingDeletion": 0}
    by_id = {c["voiceId"]: c for c in data["clones"]}
    assert by_id[old]["legacy"] is True and by_id[old]["modelIds"] == ["lightning-large"]
    assert by_id[old]["owner"] is None
    assert by_id[alpha]["owner"] == {"stack": "e2e", "name": "alpha", "via": "tags"}
    assert by_id[hand]["owner"] == {"stack": "e2e", "name": "hand-made", "via": "lockfile"}
    assert by_id[evil]["displayName"] == "Evil[31mName" and by_id[evil]["tags"] == ["a", "b"]
    assert set(by_id[alpha]) == {
        "voiceId", "displayName", "status", "modelIds", "legacy", "awaitingDeletion", "owner",
        "language",
        "description", "accent", "tags", "cloningType", "createdAt",
    }  # fmt: skip

    only = json.loads(project.run("list", "--format", "json", "--legacy").out)
    assert [c["voiceId"] for c in only["clones"]] == [old]
    unmanaged = project.run("list", "--unmanaged").out
    assert old in unmanaged and evil in unmanaged and alpha not in unmanaged


@pytest.mark.e2e
def test_list_needs_no_manifest(project, tmp_path):
    project.sample("s")
    legacy(project, "Old", "samples/s.wav")
    r = project.run("list", "-f", str(tmp_path / "nowhere" / "voices.yaml"))
    assert "Old" in r.out and "LEGACY" in r.out
    project.server.reset()
    assert project.run("list").out.strip() == "No clones."


def test_table_aligns_wide_characters():
    text = table(["A", "B"], [["日本", "x"], ["ab", "y"]])
    lines = text.splitlines()
    assert [width(line[: line.index(c)]) for line, c in zip(lines[1:], "xy")] == [6, 6]
