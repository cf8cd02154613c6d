"""Plan and apply JSON: built through reconciler.schemas, valid against schemas/*.json."""

from __future__ import annotations

import json

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_support import ROOT

from reconciler.apply import ApplyResult, Outcome
from reconciler.plan import ORDER, Action, Change, Plan
from reconciler.refusals import Refusal
from reconciler.render import apply_json, plan_json

PLAN_SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
APPLY_SCHEMA = json.loads((ROOT / "schemas" / "apply.schema.json").read_text())

values = st.one_of(st.none(), st.text(), st.lists(st.text(), max_size=3))
changes = st.builds(Change, st.sampled_from(["displayName", "tags", "language"]), values, values)
actions = st.builds(
    Action,
    st.sampled_from(ORDER),
    st.one_of(st.none(), st.text()),
    st.one_of(st.none(), st.text()),
    reasons=st.lists(st.text(), max_size=2).map(tuple),
    changes=st.lists(changes, max_size=2).map(tuple),
    display_name=st.one_of(st.none(), st.text()),
)
plans = st.builds(
    Plan,
    st.lists(actions, max_size=6).map(tuple),
    warnings=st.lists(st.text(), max_size=2).map(tuple),
    refusals=st.lists(st.text().map(Refusal), max_size=2).map(tuple),
)


def test_plan_json_shape():
    plan = Plan(
        (
            Action("create", "alpha", None, ("declared, no clone exists",), display_name="A"),
            Action(
                "replace",
                "bravo",
                "voice_1",
                ("metadata changed (tags)",),
                changes=(Change("tags", ["x"], ["y"]),),
            ),
        ),
        warnings=("careful",),
    )
    doc = plan_json(plan)
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert list(doc) == ["formatVersion", "actions", "summary", "stack", "warnings", "errors"]
    assert doc["formatVersion"] == 2  # 2: errors and warnings are objects (1: strings)
    assert doc["actions"][0] == {
        "action": "create",
        "name": "alpha",
        "voiceId": None,
        "displayName": "A",
        "reasons": ["declared, no clone exists"],
        "changes": [],
        "spec": None,
    }
    assert doc["actions"][1]["changes"] == [{"field": "tags", "old": ["x"], "new": ["y"]}]
    assert doc["summary"] == {
        "create": 1,
        "replace": 1,
        "delete": 0,
        "move": 0,
        "release": 0,
        "adopt": 0,
        "forget": 0,
        "wait": 0,
        "noop": 0,
        "changes": 2,
    }


@settings(deadline=None, max_examples=60)
@given(plans)
def test_any_plan_json_is_valid(plan):
    jsonschema.validate(plan_json(plan), PLAN_SCHEMA)


@settings(deadline=None, max_examples=60)
@given(plans, st.data())
def test_any_apply_json_is_valid(plan, data):
    outcomes = [
        Outcome(
            a,
            data.draw(st.booleans()),
            data.draw(st.floats(min_value=0, max_value=1e4)),
            new_voice_id=data.draw(st.one_of(st.none(), st.text())),
            error=data.draw(st.one_of(st.none(), st.text())),
        )
        for a in plan.actions
    ]
    doc = apply_json(plan, ApplyResult(outcomes=outcomes, notes=["n"]))
    jsonschema.validate(doc, APPLY_SCHEMA)
    assert doc["ok"] == all(o.ok for o in outcomes)


def test_the_schema_refuses_unknown_keys_and_other_versions():
    doc = plan_json(Plan(()))
    jsonschema.validate(doc, PLAN_SCHEMA)
    for bad in ({**doc, "extra": 1}, {**doc, "formatVersion": 1}, {**doc, "formatVersion": 3}):
        try:
            jsonschema.validate(bad, PLAN_SCHEMA)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"accepted {bad}")
