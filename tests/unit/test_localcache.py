"""The sample-hash cache under .voicectl/: used while a file is unchanged, never over it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.audio import file_sha256
from reconciler.localcache import HashCache, JsonCache, cache_path


class Counting:
    """The real hasher, counting how often it reads a file."""

    def __init__(self):
        self.reads = 0

    def __call__(self, path):
        self.reads += 1
        return file_sha256(path)


def _aged(path, seconds=60):
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_an_unchanged_file_is_read_once_across_runs(tmp_path):
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"RIFF" + b"x" * 1000)
    _aged(sample)
    hasher = Counting()
    first = HashCache(tmp_path, hasher=hasher)
    assert first.sha256(sample) == file_sha256(sample)
    assert first.save() is True
    assert cache_path(tmp_path, "sample-hashes.json").exists()
    second = HashCache(tmp_path, hasher=hasher)  # the next run
    assert second.sha256(sample) == file_sha256(sample)
    assert hasher.reads == 1 and second.hits == 1
    assert second.save() is False  # nothing new: not rewritten


def test_a_changed_file_is_rehashed_even_with_the_same_size_and_mtime(tmp_path):
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"one" * 100)
    _aged(sample)
    hasher = Counting()
    cache = HashCache(tmp_path, hasher=hasher)
    cache.sha256(sample)
    cache.save()
    mtime = sample.stat().st_mtime_ns
    sample.write_bytes(b"two" * 100)  # same size...
    os.utime(sample, ns=(mtime, mtime))  # ...and the same mtime (ctime still moves)
    again = HashCache(tmp_path, hasher=hasher)
    assert again.sha256(sample) == file_sha256(sample)
    assert hasher.reads == 2


def test_a_file_replaced_by_another_inode_is_rehashed(tmp_path):
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"one" * 100)
    _aged(sample)
    hasher = Counting()
    cache = HashCache(tmp_path, hasher=hasher)
    cache.sha256(sample)
    cache.save()
    other = tmp_path / "b.wav"
    other.write_bytes(b"two" * 100)
    _aged(other)
    os.replace(other, sample)
    assert HashCache(tmp_path, hasher=hasher).sha256(sample) == file_sha256(sample)
    assert hasher.reads == 2


def test_a_file_written_just_now_is_not_cached(tmp_path):
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"fresh")
    hasher = Counting()
    cache = HashCache(tmp_path, hasher=hasher)
    cache.sha256(sample)
    assert cache.save() is False
    HashCache(tmp_path, hasher=hasher).sha256(sample)
    assert hasher.reads == 2


def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path):
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"data" * 10)
    _aged(sample)
    path = cache_path(tmp_path, "sample-hashes.json")
    path.parent.mkdir()
    wrong_stamp = json.dumps({"version": 1, "entries": {str(sample): {"stamp": 1, "sha256": "f"}}})
    for text in ("{not json", '{"version": 99, "entries": {}}', "[]", wrong_stamp):
        path.write_text(text)
        assert HashCache(tmp_path, hasher=file_sha256).sha256(sample) == file_sha256(sample)


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path):
    (tmp_path / ".voicectl").write_text("a file where the folder should be")
    cache = JsonCache(cache_path(tmp_path, "x.json"))
    cache.put("k", {"v": 1})
    assert cache.save() is False
    assert cache.get("k") == {"v": 1}


def test_a_samples_header_is_read_once_while_its_stamp_holds(tmp_path, wav_file):
    """check_sample with the cache: the next run takes format and duration from it
    (shown here by editing the remembered duration), and a touched file is read again."""
    from reconciler.audio import check_sample

    sample = wav_file("a.wav", seconds=8.0)
    _aged(sample)
    first = HashCache(tmp_path, hasher=file_sha256)
    checked = check_sample(sample, name="a.wav", cache=first)
    assert checked.info is not None and checked.info.duration == 8.0
    assert first.save() is True
    entry = first.known(sample, sample.stat())
    assert entry is not None and entry["facts"] == {"format": "wav", "duration": 8.0}

    path = cache_path(tmp_path, "sample-hashes.json")
    doc = json.loads(path.read_text())
    doc["entries"][os.path.abspath(sample)]["facts"]["duration"] = 20.0
    path.write_text(json.dumps(doc))
    remembered = check_sample(sample, name="a.wav", cache=HashCache(tmp_path, hasher=file_sha256))
    assert remembered.errors == [
        "a.wav is 20.0 s long; the service wants 5-15 s of clean speech "
        "(--allow-any-duration accepts it)"
    ]

    os.utime(sample)  # touched: a new stamp, so the header is read again
    _aged(sample)
    again = check_sample(sample, name="a.wav", cache=HashCache(tmp_path, hasher=file_sha256))
    assert again.errors == [] and again.info is not None and again.info.duration == 8.0


def test_a_header_with_something_to_say_is_not_remembered(tmp_path):
    """An mp3 whose header overstates its audio warns on every run (never cached away)."""
    from reconciler.audio import check_sample

    data = (Path(__file__).parents[2] / "examples" / "support-agent.mp3").read_bytes()
    sample = tmp_path / "cut.mp3"
    sample.write_bytes(data[: len(data) // 3])
    _aged(sample)
    cache = HashCache(tmp_path, hasher=file_sha256)
    first = check_sample(sample, name="s.mp3", allow_any_duration=True, cache=cache)
    assert any("cut short" in w for w in first.warnings)
    cache.save()
    entry = HashCache(tmp_path, hasher=file_sha256).known(sample, sample.stat())
    assert entry is None or "facts" not in entry


# An entry whose stamp matches but whose values are not what HashCache writes (edited
# by hand, by another tool, by a merge): a miss, the file read again and the entry
# rewritten, never a crash in check_sample nor a made-up digest in the lockfile.
WRONG_ENTRIES = [
    ("sha256", "f"),
    ("sha256", 7),
    ("sha256", "A" * 64),
    ("sha256", "a" * 64 + "\n"),
    ("facts", {"format": "wav", "duration": "8.0"}),
    ("facts", {"format": "wav", "duration": None}),
    ("facts", {"format": "wav", "duration": "abc"}),
    ("facts", {"format": "wav", "duration": True}),
    ("facts", {"format": "wav", "duration": float("nan")}),
    ("facts", {"format": "wav"}),
    ("facts", {"format": ["wav"], "duration": 8.0}),
    ("facts", {}),
    ("facts", "wav"),
]


@pytest.mark.parametrize(
    ("field", "value"), WRONG_ENTRIES, ids=[repr(v) for _f, v in WRONG_ENTRIES]
)
def test_a_wrong_typed_entry_is_a_miss_and_rewritten(tmp_path, wav_file, field, value):
    from reconciler.audio import check_sample

    sample = wav_file("a.wav", seconds=8.0)
    _aged(sample)
    first = HashCache(tmp_path, hasher=file_sha256)
    assert check_sample(sample, name="a.wav", cache=first).errors == []
    first.save()
    path = cache_path(tmp_path, "sample-hashes.json")
    written = path.read_text()
    doc = json.loads(written)
    doc["entries"][os.path.abspath(sample)][field] = value
    path.write_text(json.dumps(doc))

    hasher = Counting()
    cache = HashCache(tmp_path, hasher=hasher)
    assert cache.known(sample, sample.stat()) is None
    checked = check_sample(sample, name="a.wav", cache=cache)
    assert checked.errors == [] and checked.info is not None
    assert (checked.info.sha256, checked.info.duration) == (file_sha256(sample), 8.0)
    assert hasher.reads == 1 and cache.hits == 0
    assert cache.save() is True and path.read_text() == written


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "entries": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"version": 1, "entries": {"k": ' + "9" * 5000 + "}}",
    ],
    ids=["nested-too-deeply", "5000-digit-number"],
)
def test_a_cache_past_the_json_parsers_limits_is_a_miss(tmp_path, text):
    """Nested 100,000 deep (json.loads: RecursionError) or a 5000-digit number
    (ValueError): a miss like any corrupt cache, and the next save replaces it."""
    sample = tmp_path / "a.wav"
    sample.write_bytes(b"data" * 10)
    _aged(sample)
    path = cache_path(tmp_path, "sample-hashes.json")
    path.parent.mkdir()
    path.write_text(text)
    hasher = Counting()
    cache = HashCache(tmp_path, hasher=hasher)
    assert cache.sha256(sample) == file_sha256(sample) and hasher.reads == 1
    assert cache.save() is True
    assert HashCache(tmp_path, hasher=hasher).sha256(sample) and hasher.reads == 1
    analysis = JsonCache(cache_path(tmp_path, "sample-analysis.json"))
    analysis.path.write_text(text)
    assert analysis.get("k") is None
