"""voicectl's own files must be regular files: a FIFO in the place of the manifest,
an included file, the lockfile, its journal or a cache is one line (or, for a cache,
a miss), never a command that waits for a writer that will not come.

Every FIFO here has a writer thread that opens it and closes it again, and the test
lets that writer finish at the end: code that reads the FIFO in the blocking way gets
an empty file and fails the assertions; it does not hang the suite.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_main

from reconciler.cli.complete import lockfile_voice_names, manifest_voice_names
from reconciler.fsutil import NotRegularFile, read_regular
from reconciler.localcache import JsonCache

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")

MANIFEST = "version: 1\ndefaults: {language: en}\nvoices: {}\n"


@contextlib.contextmanager
def fifo(path: Path) -> Iterator[Path]:
    os.mkfifo(path)
    writer = threading.Thread(target=lambda: open(path, "wb").close(), daemon=True)
    writer.start()
    try:
        yield path
    finally:
        # a reader that does not block lets the writer's open return: it closes and ends
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        writer.join()
        os.close(fd)


def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path):
    (tmp_path / "a.json").write_bytes(b"{}")
    assert read_regular(tmp_path / "a.json") == b"{}"
    with pytest.raises(IsADirectoryError):
        read_regular(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.json")
    with fifo(tmp_path / "pipe.json") as pipe, pytest.raises(NotRegularFile) as info:
        read_regular(pipe)
    assert info.value.strerror == "not a regular file (a FIFO)"


def test_a_fifo_manifest_is_one_line(tmp_path, capsys):
    with fifo(tmp_path / "voices.yaml") as manifest:
        result = run_main(capsys, "validate", "-f", str(manifest))
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"{manifest}: cannot read the manifest: not a regular file (a FIFO)"
    )


def test_a_fifo_named_as_an_include_is_not_called_missing(tmp_path, capsys):
    manifest = tmp_path / "voices.yaml"
    manifest.write_text("version: 1\ninclude: [team.yaml]\nvoices: {}\n")
    with fifo(tmp_path / "team.yaml"):
        result = run_main(capsys, "validate", "-f", str(manifest))
    assert result.code == 1
    assert f"{manifest}:2:11: include[0]: team.yaml is not a regular file" in result.err


@pytest.mark.parametrize("which", ["voices.lock.json", ".voicectl/voices.lock.json.journal"])
def test_a_fifo_lockfile_or_journal_is_one_line(tmp_path, capsys, which):
    manifest = tmp_path / "voices.yaml"
    manifest.write_text(MANIFEST)
    if which != "voices.lock.json":  # the journal beside a lockfile
        (tmp_path / "voices.lock.json").write_text(
            '{"lineage": "x", "serial": 0, "stack": "default", "version": 1, "voices": {}}\n'
        )
    (tmp_path / ".voicectl").mkdir()
    with fifo(tmp_path / which) as pipe:
        result = run_main(capsys, "output", "-f", str(manifest))
    assert result.code == 1
    assert result.err.endswith(": not a regular file (a FIFO)\n"), result.err
    assert result.err.startswith(f"Error: {pipe}: cannot read the lockfile")
    assert result.err.count("\n") == 1


def test_a_lockfile_that_is_not_utf8_names_the_place(tmp_path, capsys):
    manifest = tmp_path / "voices.yaml"
    manifest.write_text(MANIFEST)
    (tmp_path / "voices.lock.json").write_bytes(b'{"version": 1,\n "lineage": "\xff"}\n')
    result = run_main(capsys, "output", "-f", str(manifest))
    assert result.code == 1
    assert result.err == (
        f"Error: {tmp_path / 'voices.lock.json'}:2:14: the lockfile is not UTF-8 text (byte 0xff)\n"
    )


def test_a_fifo_cache_is_a_miss(tmp_path):
    with fifo(tmp_path / "cache.json") as pipe:
        cache = JsonCache(pipe)
        assert cache.get("anything") is None


def test_completion_offers_nothing_from_a_fifo(tmp_path):
    with fifo(tmp_path / "voices.yaml") as manifest:
        assert manifest_voice_names(manifest) == []
    with fifo(tmp_path / "voices.lock.json") as lockfile:
        assert lockfile_voice_names(lockfile) == []


def test_output_of_a_lockfile_that_records_no_voice_is_an_error_not_an_empty_map(tmp_path, capsys):
    """A first apply whose every create failed leaves a lockfile of no voice: `output`
    says so (exit 1) instead of giving apps `{}`."""
    manifest = tmp_path / "voices.yaml"
    manifest.write_text("version: 1\nvoices:\n  alpha: {file: a.wav, language: en}\n")
    (tmp_path / "voices.lock.json").write_text(
        '{"lineage": "x", "serial": 1, "stack": "default", "version": 1, "voices": {}}\n'
    )
    result = run_main(capsys, "output", "-f", str(manifest))
    assert result.code == 1 and result.out == ""
    assert result.err == (
        f"Error: {tmp_path / 'voices.lock.json'}: records no voice yet; run `voicectl apply` "
        "first\n"
    )
    manifest.write_text(MANIFEST)  # a manifest of no voice: nothing to hand out, and fine
    result = run_main(capsys, "output", "-f", str(manifest))
    assert result.code == 0 and result.out.strip() == "{}"
