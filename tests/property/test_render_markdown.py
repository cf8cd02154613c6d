"""Markdown for pull-request comments and job summaries: golden files and escaping.

Everything from the manifest or the server is escaped, so a displayName cannot open
a link, an image, a table cell or an HTML element. Regenerate the golden files
after a deliberate change with
``VOICECTL_UPDATE_GOLDEN=1 pytest tests/property/test_render_markdown.py``.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.api.models import Clone
from reconciler.apply import ApplyResult, Outcome
from reconciler.plan import Action, Change, Plan
from reconciler.refusals import Refusal
from reconciler.render import apply_markdown, clean, html_text, md, plan_markdown

GOLDEN = Path(__file__).parents[1] / "golden"
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "| pipe | table |",
    "**bold** [link](http://evil)",
    "`code` and ```fence```",
    "line one\nline two\r\n# heading",
    "![image](http://evil/x.png) <script>alert('x')</script>",
    "@everyone ~~strike~~ _under_ &amp; \\| escaped?",
    "</details><details open>",
]
SPECIALS = set("\\`*_{}[]()#!|~:@")
ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27);")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("VOICECTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{name} differs from its golden file"


def hostile_plan() -> Plan:
    clone = Clone.from_api({"voiceId": "voice_old1", "displayName": HOSTILE[0]})
    actions = [
        Action("adopt", "found", "voice_adopt", ("no lockfile entry; found by ownership tags",)),
        Action(
            "delete",
            None,
            "voice_hand|1",
            ("not declared (prune: all)",),
            display_name=HOSTILE[1],
        ),
        Action("create", "alpha", None, ("declared, no clone exists",), display_name=HOSTILE[2]),
        Action(
            "replace",
            "bravo",
            "voice_old1",
            ("metadata changed (displayName, tags)", "forced with --replace"),
            changes=(
                Change("displayName", HOSTILE[0], HOSTILE[3]),
                Change("tags", [HOSTILE[4], "ok"], [HOSTILE[5]]),
                Change("description", None, HOSTILE[6]),
            ),
            display_name=HOSTILE[3],
            clone=clone,
        ),
        Action("wait", "charlie", "voice_busy", ("clone is processing; run again later",)),
        Action("noop", "delta", "voice_fine", display_name=HOSTILE[7]),
    ]
    return Plan(
        tuple(actions),
        warnings=(f"{HOSTILE[7]} is processing; not deleted until it settles",),
        refusals=(),
    )


def test_plan_markdown_golden_with_hostile_display_names():
    golden("plan_hostile.md", plan_markdown(hostile_plan(), source="conf/<voices>.yaml"))


def test_plan_markdown_golden_no_changes():
    plan = Plan((Action("noop", "alpha", "voice_1"), Action("noop", "bravo", "voice_2")))
    golden("plan_no_changes.md", plan_markdown(plan))


def test_plan_markdown_golden_refused():
    plan = Plan(
        (Action("delete", "alpha", "voice_1", ("no longer declared",), display_name="A"),),
        refusals=(Refusal("voices.alpha: protect is true, refusing to delete voice_1 (**no**)"),),
    )
    golden("plan_refused.md", plan_markdown(plan))


def test_a_refused_plan_with_nothing_to_change_never_says_the_clones_match():
    """Another organisation's key: nothing was compared, so neither the heading nor a
    line may say the clones match; apply's refused report neither."""
    plan = Plan(
        (Action("noop", "alpha", "voice_1"),),
        refusals=(Refusal("the lockfile records organisation a, but this key lists b"),),
    )
    for text, heading in (
        (plan_markdown(plan), "### voicectl plan: refused, 1 problem\n"),
        (apply_markdown(plan, None), "### voicectl apply (refused): refused, 1 problem\n"),
    ):
        assert text.startswith(heading)
        assert "match the manifest" not in text and "no changes" not in text
        assert "> **Error:** the lockfile records organisation a" in text


def test_apply_markdown_golden_with_failures_and_hostile_errors():
    plan = hostile_plan()
    a = {x.kind: x for x in plan.actions}
    result = ApplyResult(
        outcomes=[
            Outcome(a["adopt"], True, 0.0, new_voice_id="voice_adopt"),
            Outcome(a["delete"], True, 0.5, detail="was already gone"),
            Outcome(a["create"], True, 3.2, new_voice_id="voice_new|1"),
            Outcome(a["replace"], False, 9.9, new_voice_id="voice_new2", error=HOSTILE[5]),
        ],
        notes=[f"alpha: deleted duplicate {HOSTILE[1]}"],
    )
    golden("apply_failed.md", apply_markdown(plan, result, source="voices.yaml"))


def test_apply_markdown_golden_no_changes():
    plan = Plan((Action("noop", "alpha", "voice_1"),))
    golden("apply_no_changes.md", apply_markdown(plan, ApplyResult()))


# ----------------------------------------------------------------------------- escaping


def unescaped_specials(text: str) -> list[str]:
    """Markdown specials in ``text`` that are not backslash-escaped (entities aside)."""
    text = ENTITY.sub("", text)
    found, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            assert i + 1 < len(text) and text[i + 1] in SPECIALS, text
            i += 2
            continue
        if ch in SPECIALS:
            found.append(ch)
        i += 1
    return found


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", html.unescape(text))


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escapes_every_special(text):
    out = md(text)
    assert unescaped_specials(out) == []
    assert not set(out) & set("<>\"'\n\r")
    assert unescape(out) == clean(text)


@settings(deadline=None, max_examples=60)
@given(st.text())
def test_md_is_inert_and_reversible_for_any_text(text):
    out = md(text)
    assert unescaped_specials(out) == []
    assert not set(out) & set("<>\"'\n\r\t")
    for amp in re.finditer("&", out):
        assert ENTITY.match(out, amp.start()), out
    assert unescape(out) == clean(text)


@settings(deadline=None, max_examples=60)
@given(st.text())
def test_html_text_cannot_close_the_summary(text):
    out = html_text(text)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert html.unescape(out) == clean(text)


def test_table_rows_keep_their_cells_whatever_the_names():
    out = plan_markdown(hostile_plan())
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows
    for row in rows:
        assert len(unescaped_pipes(row)) == row.count("|") - row.count("\\|")
        assert len(unescaped_pipes(row)) in (4, 5), row  # 4 columns (3 for field diffs)
    assert "<img" not in out and "<script" not in out and "](http" not in out
    assert out.count("<details>") == out.count("</details>") == 4


def unescaped_pipes(row: str) -> list[int]:
    return [m.start() for m in re.finditer(r"(?<!\\)\|", row)]


def test_a_delete_kept_as_retired_is_counted_as_kept_not_deleted():
    """migrate --keep-legacy finishing an interrupted run: the planned deletes of the
    superseded legacy clones keep them as retired; no summary may say they were deleted."""
    from reconciler.render import apply_json, apply_summary

    keep = Action("delete", "m0", "voice_old", ("superseded by voice_new",), legacy=True)
    gone = Action("delete", "x", "voice_x", ("no longer declared",))
    result = ApplyResult(
        outcomes=[
            Outcome(keep, True, 0.0, new_voice_id="voice_new", retired=True),
            Outcome(gone, True, 0.0),
        ]
    )
    assert result.count("delete") == 1 and result.kept_retired == 1
    assert apply_summary(result) == (
        "Apply complete! 0 created, 0 replaced, 1 deleted, 1 kept as retired."
    )
    assert apply_json(Plan((keep, gone)), result)["summary"]["deleted"] == 1
