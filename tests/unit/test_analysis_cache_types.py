"""A sample-analysis cache entry with a field of the wrong type is a miss: measured
again and rewritten, never trusted (reconciler.audio.cache, Measurement.from_json).

The file is JSON anyone can edit (or another tool, or a merge): ``"seconds": "8.8"``
used to reach the quality policy's arithmetic and stop validate, plan and apply with
an internal error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import audio_support
import pytest
from cli_support import run_main

from reconciler.audio import decode as decoder
from reconciler.audio.analyse import analyse
from reconciler.audio.cache import AnalysisCache
from reconciler.audio.measurement import Measurement

SHA = "a" * 64

WRONG = [
    ("seconds", "8.8"),
    ("snr_db", None),
    ("rate", "16000"),
    ("rate", 16000.0),
    ("channels", True),
    ("clipped_runs", 1.5),
    ("speech_seconds", [8.0]),
    ("seconds", math.nan),
    ("peak_dbfs", -math.inf),
    ("codec", 5),
]
IDS = [f"{name}={value!r}" for name, value in WRONG]


@pytest.fixture
def measured(tmp_path: Path) -> tuple[Path, Path, Measurement]:
    """A real sample, measured once into the cache file: (sample, cache file, result)."""
    sample = audio_support.write(tmp_path / "a.wav", audio_support.speech(6.0))
    store = tmp_path / "cache.json"
    (result,) = analyse([(sample, SHA)], AnalysisCache(store)).values()
    assert isinstance(result, Measurement)
    return sample, store, result


def _edit_entry(store: Path, name: str, value: object) -> None:
    doc = json.loads(store.read_text())
    doc["entries"][SHA][name] = value
    store.write_text(json.dumps(doc))  # NaN and Infinity too, as json.loads reads them


@pytest.mark.parametrize(("name", "value"), WRONG, ids=IDS)
def test_from_json_refuses_a_field_of_the_wrong_type(measured, name, value):
    _, _, result = measured
    data = result.to_json()
    assert Measurement.from_json(data) == result
    with pytest.raises(ValueError, match=f"not a Measurement: {name} is not"):
        Measurement.from_json({**data, name: value})


def test_from_json_takes_a_whole_number_where_a_float_was_written(measured):
    _, _, result = measured
    data = {**result.to_json(), "clipped_percent": 0}
    assert Measurement.from_json(data).clipped_percent == 0


@pytest.mark.parametrize(("name", "value"), WRONG, ids=IDS)
def test_a_wrong_typed_entry_is_measured_again_and_rewritten(measured, name, value):
    sample, store, result = measured
    written = store.read_text()
    _edit_entry(store, name, value)
    before = decoder.decode_count()
    assert analyse([(sample, SHA)], AnalysisCache(store)) == {SHA: result}
    assert decoder.decode_count() - before == 1  # not trusted: decoded again
    assert store.read_text() == written  # ... and rewritten as it was (True == 1 too)
    before = decoder.decode_count()
    assert analyse([(sample, SHA)], AnalysisCache(store)) == {SHA: result}
    assert decoder.decode_count() - before == 0  # the next run trusts the new entry


@pytest.mark.parametrize(("name", "value"), WRONG[:3], ids=IDS[:3])
def test_validate_measures_again_instead_of_failing(tmp_path, monkeypatch, capsys, name, value):
    """Through the CLI: the reported case (``"seconds": "8.8"`` in the real cache)."""
    monkeypatch.chdir(tmp_path)
    audio_support.write(tmp_path / "a.wav", audio_support.speech(6.0))
    (tmp_path / "voices.yaml").write_text("version: 1\nvoices:\n  a: {file: a.wav, language: en}\n")
    assert run_main(capsys, "validate").code == 0
    store = tmp_path / ".voicectl" / "sample-analysis.json"
    written = store.read_text()
    doc = json.loads(written)
    ((_sha, entry),) = doc["entries"].items()
    entry[name] = value
    store.write_text(json.dumps(doc))
    result = run_main(capsys, "validate")
    assert (result.code, result.err) == (0, "")
    assert "is valid" in result.out
    assert store.read_text() == written
