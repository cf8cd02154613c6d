"""The sandbox's state file when it cannot be used: one line that names the file, where
in it the problem is and what to do, never a KeyError's bare ``'_id'``; and a state file
that could never be written is refused when the sandbox starts, not by a 500 on its
first create.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import asgi_client, multipart

from reconciler.sandbox.state import StateFileError, check_place, check_writable

pytestmark = pytest.mark.anyio

AFRESH = "delete it to start the sandbox afresh (it holds only emulated clones)"


@pytest.fixture
async def state(sandbox_app, tmp_path: Path) -> dict[str, Any]:
    """A real state file with one clone, as the sandbox writes it."""
    state_file = tmp_path / "sandbox.json"
    async with asgi_client(sandbox_app(state_file=state_file)) as client:
        response = await client.post("/waves/v1/voice-cloning", **multipart("Kept"))
        assert response.status_code == 200, response.text
    return json.loads(state_file.read_text())


def clone_of(doc: dict[str, Any]) -> dict[str, Any]:
    [org] = doc["orgs"].values()
    return org["clones"][0]


def where(doc: dict[str, Any]) -> str:
    [org_id] = doc["orgs"]
    return f"orgs[{json.dumps(org_id)}].clones[0]"


def setting(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target = clone_of(doc)
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def dropping(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: clone_of(doc).pop(field)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (dropping("_id"), "{where}: no '_id' field"),
        (dropping("audio"), "{where}: no 'audio' field"),
        (setting("createdEpoch", "yesterday"), "{where}.createdEpoch: not a finite number"),
        (setting("createdEpoch", 1e300), "{where}.createdEpoch: not a time"),
        (setting("readyEpoch", None), "{where}.readyEpoch: not a finite number"),
        (setting("tags", "a,b"), "{where}.tags: not a list of strings"),
        (setting("description", 5), "{where}.description: not a string"),
        (setting("outcome", "maybe"), "{where}.outcome: neither 'completed' nor 'failed'"),
        (setting("audio.size", -1), "{where}.audio.size: not a whole number of bytes"),
        (setting("audio.sha256", None), "{where}.audio.sha256: not a string"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
async def test_a_malformed_clone_says_which_field(
    sandbox_app, tmp_path: Path, state: dict[str, Any], change, problem: str
) -> None:
    change(state)
    bad = tmp_path / "sandbox.json"
    bad.write_text(json.dumps(state))
    with pytest.raises(StateFileError) as caught:
        sandbox_app(state_file=bad)
    expected = f"{bad}: cannot read the sandbox state: {problem.format(where=where(state))}"
    message = str(caught.value)
    assert message.startswith(expected) and message.endswith(f"; {AFRESH}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{bad", "not JSON (line 1, column 2: Expecting property name enclosed in double quotes)"),
        (
            b'{"version": 1, "orgs": {"x": {"clones": [{"a": 1}]}}}',
            "orgs[\"x\"].clones[0]: no '_id' field",
        ),
        (b'{"version": 1, "orgs": {"x": {"clones": [7]}}}', 'orgs["x"].clones[0]: not an object'),
        (b'{"version": 1, "orgs": {"x": {"clones": "a"}}}', 'orgs["x"].clones: not a list'),
        (b'{"version": 1, "orgs": {"x": 3}}', 'orgs["x"]: not an object'),
        (b'{"version": 1, "orgs": [1]}', "orgs: not an object"),
        (b'{"version": true}', "not a version 1 sandbox state file"),
        (b"[]", "not a version 1 sandbox state file"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[" * 100_000, "nested too deeply to be a sandbox state file"),
    ],
    ids=range(10),
)
async def test_an_unreadable_state_file_is_one_line(
    sandbox_app, tmp_path: Path, content: bytes, problem: str
) -> None:
    bad = tmp_path / "sandbox.json"
    bad.write_bytes(content)
    with pytest.raises(StateFileError) as caught:
        sandbox_app(state_file=bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: cannot read the sandbox state: ")
    assert problem in message and message.endswith(f"; {AFRESH}") and "\n" not in message


async def test_a_state_file_that_could_never_be_written_is_refused_at_start(
    sandbox_app, tmp_path: Path
) -> None:
    in_the_way = tmp_path / "voices.yaml"
    in_the_way.write_text("version: 1\n")
    for state_file in (in_the_way / "x.json", in_the_way / "deeper" / "x.json"):
        with pytest.raises(StateFileError, match="voices.yaml is a file, not a folder"):
            sandbox_app(state_file=state_file)
    with pytest.raises(StateFileError, match="is a folder, not a sandbox state file"):
        sandbox_app(state_file=tmp_path)


async def test_serve_needs_an_existing_writable_folder(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "deeper" / "x.json"
    with pytest.raises(StateFileError, match="the folder .*deeper does not exist; create it"):
        check_place(missing, make_folder=False)
    assert not (tmp_path / "none").exists()
    check_place(missing)  # the embedded sandbox makes its .voicectl folder on first write
    check_place(tmp_path / "x.json", make_folder=False)
    check_writable(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []  # the probe left nothing behind
    with pytest.raises(StateFileError, match="cannot write the sandbox state in"):
        check_writable(missing)
