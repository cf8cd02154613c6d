"""plan and apply measure new samples while their list is sent, and report as before.

The samples' quality checks are the slow part of a first run (decoding and
analysing each new sample); the list is mostly a wait on the service. So once
every other check of the manifest has passed, the samples are measured on a
thread while the list goes out (workflow.list_while_measuring). What a run
reports does not change: a sample that fails its checks fails the run with the
same errors as `validate`, before any change is sent, and ahead of any other
failure (no key, no service); the warnings are the same lines, in the same order.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import audio_support
import pytest
from cli_support import Project, run_main

from reconciler.api.client import WavesClient
from reconciler.audio import decode as decoder
from reconciler.audio.cache import AnalysisCache
from reconciler.engine import workflow

pytestmark = pytest.mark.e2e

COMMANDS = [("plan",), ("apply", "--auto-approve")]


def _problem_lines(text: str) -> list[str]:
    """The errors and warnings at a file:line of the manifest (not the summary line),
    as ``error: ...`` / ``warning: ...`` (validate prints its errors bare, plan and
    apply after ``Error:``)."""
    found = []
    for line in text.splitlines():
        if "voices.yaml:" not in line:
            continue
        if line.lower().startswith("warning: "):
            found.append("warning: " + line.split(": ", 1)[1])
        else:
            found.append("error: " + line.removeprefix("Error: "))
    return found


def _clipped(project: Project) -> None:
    signal, rate = audio_support.defect("clipped")  # an error: clipped beyond 1 %
    audio_support.write(project.root / "samples" / "loud.wav", signal, rate)
    project.write({"loud": {"file": "samples/loud.wav"}})


@pytest.mark.parametrize("command", COMMANDS, ids=["plan", "apply"])
def test_the_list_is_sent_while_the_samples_are_measured(
    project: Project,
    command: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Each decode waits until the client has logged its list: were the samples
    # measured before the list was sent, the wait would run out and the run fail.
    project.write({"alpha": {}, "bravo": {}})
    listed = threading.Event()

    class ListSeen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "(list clones, try" in record.getMessage():
                listed.set()

    caplog.set_level(logging.DEBUG, logger="voicectl")  # the CLI's client logs there
    handler = ListSeen()
    logging.getLogger("voicectl").addHandler(handler)
    real = decoder.decode
    waits: list[bool] = []

    def decode_after_the_list(path):
        waits.append(listed.wait(60))
        return real(path)

    monkeypatch.setattr(decoder, "decode", decode_after_the_list)
    try:
        result = project.run(*command)
    finally:
        logging.getLogger("voicectl").removeHandler(handler)
    assert waits == [True, True]  # both samples were measured, each after the list
    assert "Plan: 2 to create, 0 to replace, 0 to delete." in result.out


@pytest.mark.parametrize("command", COMMANDS, ids=["plan", "apply"])
def test_a_sample_failing_its_checks_fails_the_run_as_validate_does_and_changes_nothing(
    project: Project, command: tuple[str, ...]
) -> None:
    _clipped(project)
    project.server.reset_stats()
    result = project.run(*command, expect=1)
    sent = project.server.stats()["requests"]
    assert [k for k in sent if not k.startswith("GET ")] == [], sent  # at most the list
    assert not project.lockfile.exists()
    assert "Plan:" not in result.out
    errors = [line for line in _problem_lines(result.text) if line.startswith("error: ")]
    assert any("samples/loud.wav: clipped: " in line for line in errors), result.text
    validated = _problem_lines(project.run("validate", expect=1).text)
    assert errors == [line for line in validated if line.startswith("error: ")]


@pytest.mark.parametrize("command", COMMANDS, ids=["plan", "apply"])
@pytest.mark.parametrize("failure", ["no key", "no service"])
def test_the_samples_problems_come_before_any_other_failure(
    project: Project,
    command: tuple[str, ...],
    failure: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOICECTL_API_URL", project.server.url)
    monkeypatch.setenv("SMALLEST_API_KEY", project.key)
    if failure == "no key":
        monkeypatch.delenv("SMALLEST_API_KEY")
        other = "SMALLEST_API_KEY"
    else:
        monkeypatch.setenv("VOICECTL_API_URL", "http://127.0.0.1:9")  # nothing listens
        other = "127.0.0.1:9"
    args = [*command, "-f", str(project.manifest)]
    project.write({"fine": {}})  # the other failure, as it reads on its own
    alone = run_main(project.capsys, *args)
    assert alone.code == 1 and other in alone.err, alone.text
    _clipped(project)
    result = run_main(project.capsys, *args)
    assert result.code == 1, result.text
    assert "samples/loud.wav: clipped: " in result.err
    assert other not in result.text


def test_plan_warns_with_validate_s_lines_in_its_order(project: Project) -> None:
    # Samples with defects that are warnings, and a language warning from the
    # manifest's own checks: the same lines as validate's, in its order.
    for name in ("noisy", "padded", "dropout"):
        signal, rate = audio_support.defect(name)
        audio_support.write(project.root / "samples" / f"{name}.wav", signal, rate)
    project.write(
        {
            "zulu": {"file": "samples/noisy.wav"},
            "alpha": {"file": "samples/padded.wav", "language": "xx"},
            "mike": {"file": "samples/dropout.wav"},
        }
    )
    result = project.run("plan")
    warnings = _problem_lines(result.text)
    assert len(warnings) == 4, result.text
    assert warnings == _problem_lines(project.run("validate").text)


def test_an_interrupted_run_measures_no_further_sample(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Ctrl-C cancels the run while a sample is being measured: that one finishes
    # (and is cached), no other is started, so exiting does not wait for them all.
    monkeypatch.setenv("VOICECTL_QUALITY_WORKERS", "1")
    project.write({f"v{i}": {} for i in range(5)})
    started, release = threading.Event(), threading.Event()
    decoded: list[str] = []
    real = decoder.decode

    def held(path):
        decoded.append(path.name)
        started.set()
        assert release.wait(60)
        return real(path)

    monkeypatch.setattr(decoder, "decode", held)
    loaded = workflow.load(project.manifest, defer_quality=True)

    async def interrupted() -> None:
        async with WavesClient(base_url=project.server.url, api_key=project.key) as client:
            run = asyncio.ensure_future(
                workflow.list_while_measuring(client, loaded, lambda _warnings: None)
            )
            assert await asyncio.to_thread(started.wait, 60)
            run.cancel()  # what asyncio.run does with the run on a Ctrl-C
            with pytest.raises(asyncio.CancelledError):
                await run
            release.set()  # only now may the sample in flight finish

    asyncio.run(interrupted())
    # The cancelled run may not wait for the measuring thread (its wait on it can be
    # cancelled before it starts); the process would, at exit. So does this test:
    for thread in threading.enumerate():
        if thread.name.startswith("voicectl-quality"):
            thread.join(60)
            assert not thread.is_alive()
    assert len(decoded) == 1, decoded
    cache = AnalysisCache.beside(project.root)
    assert [cache.get(s.file_sha256) is not None for s in loaded.manifest.voices.values()].count(
        True
    ) == 1
