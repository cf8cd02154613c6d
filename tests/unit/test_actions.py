"""The action kinds are one table (reconciler/actions.py): every list of them agrees."""

from __future__ import annotations

from typing import get_args

from reconciler import actions, plan, schemas


def test_the_kinds_are_listed_once() -> None:
    assert get_args(plan.ActionKind) == actions.ORDER
    assert get_args(schemas.ActionName) == actions.ORDER
    assert tuple(plan.Plan(()).summary()) == actions.ORDER


def test_every_change_has_a_heading_a_verb_and_an_outcome() -> None:
    for kind in actions.KINDS:
        if kind.changes:
            assert kind.heading and kind.verb and kind.done, kind
            assert actions.PAST[kind.verb] == kind.done
        if not kind.repair and kind.changes:
            assert actions.FAILED[kind.verb or ""], kind
    assert set(actions.REPAIRS) < set(actions.CHANGING)
