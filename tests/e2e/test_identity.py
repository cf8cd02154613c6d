"""Identity and ownership, end to end over real sockets (issue 9).

Each test drives the real CLI against the sandbox server: two projects sharing an
organisation, a copied lockfile, a key of another organisation, ``moved:`` and
``removed:``, a rename without ``moved``, FILL-ME-IN with other voices pending,
an interrupted ``--replace``, the clone limit, and hostile ids in ``output``.
The sandbox's request log (``stats()["log"]``) shows the order of what was sent.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from cli_support import Project
from sandbox_support import OTHER_KEY, org_of

pytestmark = pytest.mark.e2e

CLONES = "/waves/v1/voice-cloning"
POST = f"POST {CLONES}"


@pytest.fixture
def project(tmp_path, sandbox_server, capsys):
    (tmp_path / "a").mkdir()
    return Project(tmp_path / "a", sandbox_server, capsys)


def other_project(project: Project, name: str = "b", key: str | None = None) -> Project:
    root = project.root.parent / name
    root.mkdir(exist_ok=True)
    return Project(root, project.server, project.capsys, key=key or project.key)


def write_unstacked(project: Project, voices: dict) -> None:
    """voices.yaml without a ``stack`` (Project.write always writes one)."""
    project.write(voices)
    doc = yaml.safe_load(project.manifest.read_text())
    del doc["stack"]
    project.manifest.write_text(yaml.safe_dump(doc, sort_keys=False))


def edit_manifest(project: Project, **top) -> None:
    doc = yaml.safe_load(project.manifest.read_text())
    doc.update(top)
    project.manifest.write_text(yaml.safe_dump(doc, sort_keys=False))


def changing_requests(project: Project) -> list[str]:
    """The requests that change something, in the order the sandbox received them."""
    return [r for r in project.server.stats()["log"] if not r.startswith("GET ")]


def apply(project: Project, *args: str, expect: int = 0):
    return project.run("apply", "--auto-approve", "--list-grace", "0", *args, expect=expect)


def plan_json(project: Project, *args: str, expect: int | None = None) -> dict:
    r = project.run("plan", "--format", "json", "--list-grace", "0", *args, expect=expect)
    return json.loads(r.out)


def warnings_of(doc: dict) -> list[str]:
    """The plan's warnings as text (JSON holds them as objects: path, message...)."""
    return [": ".join(str(w[k]) for k in ("path", "message") if w.get(k)) for w in doc["warnings"]]


def kinds(doc: dict) -> list[tuple[str, str | None]]:
    return [(a["action"], a["name"]) for a in doc["actions"]]


# ------------------------------------------------------------------ one project, one stack


def test_two_projects_without_stack_never_prune_each_other(project):
    write_unstacked(project, {"narrator": {}})
    b = other_project(project)
    write_unstacked(b, {"promo": {}})
    text = project.run("plan").out
    assert "Stack: project-" in text and "names no stack" in text
    apply(project)
    apply(b)
    stack_a, stack_b = project.lock()["stack"], b.lock()["stack"]
    assert stack_a.startswith("project-") and stack_b.startswith("project-")
    assert stack_a != stack_b
    # each one's plan is empty: the other's clone is not an orphan of it
    assert kinds(plan_json(project)) == [("noop", "narrator")]
    assert kinds(plan_json(b)) == [("noop", "promo")]
    assert project.server.stats()["clones_deleted"] == 0
    # the stack is stable: the committed lockfile keeps it across runs
    apply(project)
    assert project.lock()["stack"] == stack_a
    assert {c["displayName"] for c in project.remote()} == {"narrator", "promo"}


def test_two_projects_with_their_own_stacks_leave_each_other_alone(project):
    project.write({"narrator": {}}, stack="web")
    b = other_project(project)
    b.write({"promo": {}}, stack="shop")
    apply(project)
    apply(b)
    assert kinds(plan_json(project)) == [("noop", "narrator")]
    assert project.server.stats()["clones_deleted"] == 0


def test_a_copied_lockfile_never_touches_the_other_projects_clones(project):
    project.write({"narrator": {}, "promo": {}}, stack="web")
    apply(project)
    theirs = project.ids()
    b = other_project(project)
    b.write({"narrator": {"description": "ours"}}, stack="shop")
    shutil.copy(project.lockfile, b.lockfile)  # copied from the other project
    project.server.reset_stats()
    doc = plan_json(b)
    assert ("create", "narrator") in kinds(doc)
    assert not any(a["action"] in ("delete", "replace") for a in doc["actions"])
    assert any("belongs to stack 'web'" in w for w in warnings_of(doc))
    forget = [a for a in doc["actions"] if a["action"] == "forget"]
    assert [a["voiceId"] for a in forget] == [theirs["promo"]]
    assert "made by stack 'web'" in forget[0]["reasons"][0]
    apply(b)
    assert not [r for r in changing_requests(b) if r.startswith("DELETE")]
    listed = {c["voiceId"] for c in project.remote()}
    assert set(theirs.values()) <= listed  # the other project's clones are all still there
    assert b.ids()["narrator"] not in theirs.values()
    assert "promo" not in b.ids()


def test_delete_lines_name_the_owner(project):
    project.write({"narrator": {}, "promo": {}}, prune="all")
    apply(project)
    project.sample("hand")
    with project.server.client() as http, open(project.root / "samples/hand.wav", "rb") as fh:
        http.post(
            CLONES, data={"displayName": "Hand"}, files={"file": ("h.wav", fh, "audio/wav")}
        ).raise_for_status()
    project.write({"narrator": {}}, prune="all")
    doc = plan_json(project)
    reasons = {
        a["name"] or a["displayName"]: a["reasons"]
        for a in doc["actions"]
        if a["action"] == "delete"
    }
    assert reasons["promo"] == ["no longer declared", "made by stack 'e2e'"]
    assert reasons["Hand"][1] == "not made by voicectl, deleted because prune: all"
    text = project.run("plan").out
    assert "made by stack 'e2e'" in text and "not made by voicectl" in text


# ------------------------------------------------------------------ the organisation


def test_the_lockfile_records_its_organisation(project):
    project.write({"narrator": {}})
    apply(project)
    assert project.lock()["organizationId"] == org_of(project.key)


def test_a_key_of_another_organisation_stops_before_any_change(project):
    project.write({"narrator": {}})
    apply(project)
    recorded = project.ids()
    other = Project(project.root, project.server, project.capsys, key=OTHER_KEY)
    # the other organisation holds a clone of its own: its list names its organisation
    other.sample("theirs")
    with (
        project.server.client(OTHER_KEY) as http,
        open(project.root / "samples/theirs.wav", "rb") as fh,
    ):
        http.post(
            CLONES, data={"displayName": "Theirs"}, files={"file": ("t.wav", fh, "audio/wav")}
        ).raise_for_status()
    project.server.reset_stats()
    for command in (("plan",), ("apply", "--auto-approve")):
        r = other.run(*command, expect=1)
        error = [ln for ln in r.err.splitlines() if ln.startswith("Error:")]
        assert len(error) == 1, r.err
        assert f"records organisation {org_of(project.key)}" in error[0]
        assert org_of(OTHER_KEY) in error[0] and "SMALLEST_API_KEY" in error[0]
    assert changing_requests(project) == []  # only lists were sent
    assert project.ids() == recorded
    # on purpose: the project moves there, its voices are cloned in that organisation
    other.run("apply", "--auto-approve", "--new-organisation", "--list-grace", "0")
    assert other.lock()["organizationId"] == org_of(OTHER_KEY)
    assert other.ids()["narrator"] != recorded["narrator"]
    assert {c["displayName"] for c in project.server.clones(OTHER_KEY)} == {"Theirs", "narrator"}
    assert [c["voiceId"] for c in project.remote()] == [recorded["narrator"]]


def test_an_empty_organisation_with_none_of_the_recorded_clones_stops(project):
    project.write({"narrator": {}, "promo": {}})
    apply(project)
    other = Project(project.root, project.server, project.capsys, key=OTHER_KEY)
    project.server.reset_stats()
    r = other.run("apply", "--auto-approve", "--list-grace", "0", expect=1)
    assert "none of the 2 clones the lockfile records is listed" in r.err
    assert "SMALLEST_API_KEY" in r.err and "--new-organisation" in r.err
    assert changing_requests(project) == []
    assert project.server.clones(OTHER_KEY) == []


# ------------------------------------------------------------------ moved, removed, renames


def test_moved_renames_without_any_api_call(project):
    project.write({"narrator": {"displayName": "Narrator"}})
    apply(project)
    voice_id = project.ids()["narrator"]
    project.write(
        {"narrator-en": {"file": "samples/narrator.wav", "displayName": "Narrator"}},
        moved=[{"from": "narrator", "to": "narrator-en"}],
    )
    text = project.run("plan").out
    assert "narrator-en will be renamed in the lockfile (no API call)" in text
    assert "moved from narrator" in text
    project.server.reset_stats()
    apply(project)
    assert changing_requests(project) == []
    assert project.ids() == {"narrator-en": voice_id}
    assert kinds(plan_json(project)) == [("noop", "narrator-en")]
    # a lost lockfile: the clone is still found (its tags carry the old name)
    project.lockfile.unlink()
    doc = plan_json(project)
    assert kinds(doc) == [("adopt", "narrator-en")] and doc["actions"][0]["voiceId"] == voice_id
    apply(project)
    assert changing_requests(project) == [] and project.ids() == {"narrator-en": voice_id}


def test_removed_lets_a_clone_go_without_deleting_it(project):
    project.write({"narrator": {}, "promo": {}})
    apply(project)
    promo = project.ids()["promo"]
    project.write({"narrator": {}}, removed=["promo"])
    doc = plan_json(project)
    assert ("release", "promo") in kinds(doc)
    project.server.reset_stats()
    apply(project)
    assert changing_requests(project) == []
    lock = project.lock()
    assert "promo" not in lock["voices"] and lock["released"][promo]["name"] == "promo"
    # without the removed: entry, prune: managed still never deletes it
    project.write({"narrator": {}})
    assert kinds(plan_json(project)) == [("noop", "narrator")]
    apply(project)
    assert promo in {c["voiceId"] for c in project.remote()}


def test_a_rename_without_moved_makes_the_new_clone_before_deleting_the_old(project):
    project.write({"narrator": {"displayName": "Narrator"}})
    apply(project)
    old = project.ids()["narrator"]
    project.write({"narrator-en": {"file": "samples/narrator.wav", "displayName": "Narrator"}})
    doc = plan_json(project)
    (action,) = doc["actions"]
    assert (action["action"], action["voiceId"]) == ("replace", old)
    assert "renamed from narrator without a moved: entry" in action["reasons"][0]
    project.server.reset_stats()
    apply(project)
    sent = changing_requests(project)
    assert sent[0] == POST and sent[-1].startswith("DELETE")  # POST before DELETE
    ids = project.ids()
    assert list(ids) == ["narrator-en"] and ids["narrator-en"] != old
    assert old not in {c["voiceId"] for c in project.remote()}


def test_a_rename_whose_create_fails_keeps_the_old_clone(project):
    project.write({"narrator": {"displayName": "Narrator"}})
    apply(project)
    old = project.ids()["narrator"]
    project.write({"narrator-en": {"file": "samples/narrator.wav", "displayName": "Narrator"}})
    project.server.config(clone_limit=1)  # the create is refused
    project.server.reset_stats()
    apply(project, expect=1)
    assert not [r for r in changing_requests(project) if r.startswith("DELETE")]
    assert [c["voiceId"] for c in project.remote()] == [old]
    assert project.ids() == {"narrator": old}  # still recorded under its old name


# ------------------------------------------------------------------ FILL-ME-IN placeholders


def test_a_placeholder_voice_blocks_only_itself(project):
    project.sample("legacy")
    with project.server.client() as http, open(project.root / "samples/legacy.wav", "rb") as fh:
        http.post(
            CLONES, data={"displayName": "Promo"}, files={"file": ("p.wav", fh, "audio/wav")}
        ).raise_for_status()
    before = project.manifest.read_text() if project.manifest.exists() else None
    project.write({"narrator": {}})
    project.run("import")  # no --samples: promo's file is FILL-ME-IN
    manifest = yaml.safe_load(project.manifest.read_text())
    assert manifest["voices"]["promo"]["file"] == "FILL-ME-IN"
    promo = project.ids()["promo"]
    text = project.run("plan").out
    assert "voices.promo: its file is still the FILL-ME-IN placeholder" in text
    assert "# narrator will be created" in text
    apply(project)
    assert set(project.ids()) == {"narrator", "promo"} and project.ids()["promo"] == promo
    assert promo in {c["voiceId"] for c in project.remote()}
    # back to the manifest from before the import: the delete line says what is lost
    assert before is None
    project.write({"narrator": {}})
    doc = plan_json(project)
    (delete,) = [a for a in doc["actions"] if a["action"] == "delete"]
    assert delete["voiceId"] == promo
    assert "imported by `voicectl import`" in delete["reasons"][1]
    assert "voicectl does not have its audio" in delete["reasons"][1]


# ------------------------------------------------------------------ replacements that stick


def test_an_interrupted_forced_replace_is_finished_by_the_next_apply(project):
    project.write({"narrator": {}})
    apply(project)
    old = project.ids()["narrator"]
    project.server.config(processing_seconds=3600)
    r = apply(project, "--replace", "narrator", "--wait-timeout", "0.2", expect=1)
    assert "--wait-timeout" in r.text
    lock = project.lock()
    assert lock["replacing"]["narrator"]["replaces"] == old
    (new,) = [vid for vid, p in lock["pending"].items() if p["name"] == "narrator"]
    # while the new clone is processing, the next run waits for it (never deletes it)
    doc = plan_json(project)
    assert kinds(doc) == [("wait", "narrator")] and doc["actions"][0]["voiceId"] == new
    with project.server.client() as http:
        http.patch(f"/_sandbox/clones/{new}", json={"ready": True}).raise_for_status()
    project.server.reset_stats()
    apply(project)  # no --replace: the intent is in the lockfile
    assert project.ids() == {"narrator": new}
    assert {c["voiceId"] for c in project.remote()} == {new}
    assert "replacing" not in project.lock()
    assert POST not in changing_requests(project)


def test_the_clone_limit_stops_further_creates_and_says_how_many_slots(project):
    project.write({n: {} for n in ("a", "b", "c", "d", "e")})
    project.server.config(clone_limit=2)
    r = apply(project, "--parallelism", "1", expect=1)
    sent = [x for x in changing_requests(project) if x == POST]
    assert len(sent) == 3  # two made, one refused, then none sent
    assert "3 more slots are needed" in r.out
    assert r.out.count("not attempted") == 1, r.out  # once, naming them together
    assert "not attempted (the clone limit refused a create): d, e" in r.out
    assert "d: Creation failed" not in r.out
    assert project.lock()["cloneLimit"] == 2
    # the next plan knows the limit before sending anything
    doc = plan_json(project)
    assert any(
        w.startswith("clone limit:") and "3 slots are missing" in w for w in warnings_of(doc)
    )


def test_destroy_first_replaces_at_the_clone_limit(project):
    project.write({"a": {}, "b": {}})
    apply(project)
    project.server.config(clone_limit=2)
    project.write({"a": {"description": "new"}, "b": {}})
    project.server.reset_stats()
    apply(project, expect=1)  # create-before-destroy cannot fit
    assert not [x for x in changing_requests(project) if x.startswith("DELETE")]
    old = project.ids()["a"]
    text = project.run("plan", "--destroy-first", "a").out
    assert "--destroy-first" in text and "no voiceId between the delete and the create" in text
    project.server.reset_stats()
    apply(project, "--destroy-first", "a")
    sent = changing_requests(project)
    assert sent[0].startswith("DELETE") and sent[-1] == POST  # the delete first, on purpose
    assert project.ids()["a"] != old and len(project.remote()) == 2
    bad = project.run("plan", "--destroy-first", "nope", expect=1)
    assert "--destroy-first nope: the voice is not declared" in bad.err


# ------------------------------------------------------------------ output and validate


def test_output_refuses_clones_that_are_not_completed(project):
    project.write({"narrator": {}, "promo": {}})
    apply(project)
    data = project.lock()
    data["voices"]["promo"]["status"] = "processing"
    project.lockfile.write_text(json.dumps(data))
    for fmt in ("json", "env", "yaml", "raw"):
        r = project.run("output", "--format", fmt, expect=1)
        assert "promo (processing)" in r.err and r.out == ""
    ok = project.run("output", "--format", "env", "--any-status")
    assert "VOICE_ID_PROMO=" in ok.out and "VOICE_ID_NARRATOR=" in ok.out
    assert project.run("output", "narrator").out.strip() == project.ids()["narrator"]


@pytest.mark.parametrize(
    "hostile", ["voice_1\nVOICE_ID_ADMIN=evil", "../../etc/passwd", "voice 1", "a=b", "x\x1b[2J"]
)
def test_output_refuses_implausible_voice_ids_in_every_format(project, hostile):
    project.write({"narrator": {}})
    apply(project)
    data = project.lock()
    data["voices"]["narrator"]["voiceId"] = hostile
    project.lockfile.write_text(json.dumps(data))
    for fmt in ("json", "env", "yaml", "raw"):
        r = project.run("output", "--format", fmt, "--any-status", expect=1)
        assert r.out == ""
        assert "voices.lock.json" in r.err and "not a plausible voiceId" in r.err
        assert len(r.err.strip().splitlines()) == 1


def test_validate_refuses_names_that_map_to_the_same_variable(project):
    project.write({"narrator-en": {}, "narrator.en": {}, "narrator_en": {}})
    r = project.run("validate", expect=1)
    lines = [ln for ln in r.err.splitlines() if "VOICE_ID_NARRATOR_EN" in ln]
    assert len(lines) == 2, r.err
    assert "voices.narrator.en and voices.narrator-en (line" in lines[0]
    assert lines[0].split(":")[1].isdigit()  # file:line
    assert "voices.narrator_en and voices.narrator-en" in lines[1]
