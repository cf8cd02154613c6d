"""Sample audio: sniffing the real format, durations for wav/mp3/mp4/webm, bad files."""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

import pytest
import sandbox_support
from privileges import run_unprivileged

from reconciler import audio
from reconciler.audio import (
    AudioError,
    check_sample,
    describe_content,
    duration_of,
    sniff_file,
    sniff_format,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "audio"

# file, sniffed format, duration (s)
FIXTURE_FILES = [
    ("tone-6s.wav", "wav", 6.0),
    ("tone-2s.wav", "wav", 2.0),
    ("tone-1.5s-float.wav", "wav", 1.5),
    ("tone-1.5s-24bit.wav", "wav", 1.5),
    ("tone-7s-id3.mp3", "mp3", 7.2),
    ("tone-7s-noid3.mp3", "mp3", 7.2),
    ("tone-20s.mp3", "mp3", 20.16),
    ("tone-8s.m4a", "mp4", 8.1),
    ("tone-6s.mp4", "mp4", 6.1),
    ("tone-6s-fragmented.mp4", "mp4", 6.1),
    ("tone-9s.webm", "webm", 9.0),
    ("tone-9s-noduration.webm", "webm", 9.0),
]
EXAMPLES = Path(__file__).parents[2] / "examples"


def write_wav(path: Path, seconds: float, rate: int = 8000) -> Path:
    """Silence: the suite's one writer (sandbox_support.write_wav) with no tone."""
    return sandbox_support.write_wav(path, seconds, freq=0, rate=rate)


def riff(chunks: list[tuple[bytes, bytes]], *, sizes: dict[bytes, int] | None = None) -> bytes:
    body = b"WAVE"
    for cid, data in chunks:
        size = (sizes or {}).get(cid, len(data))
        body += cid + struct.pack("<I", size) + data + (b"\0" if len(data) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int, channels: int, rate: int, bits: int) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


# ---------------------------------------------------------------- EBML (WebM) writer


def _small(n: int) -> bytes:
    for width in range(1, 9):
        if n < (1 << (7 * width)) - 1:
            return ((1 << (7 * width)) | n).to_bytes(width, "big")
    raise ValueError(n)


def el(ident: int, payload: bytes | None = None, *, unknown: bool = False) -> bytes:
    head = ident.to_bytes((ident.bit_length() + 7) // 8, "big")
    if unknown:
        return head + b"\x01" + b"\xff" * 7  # an unknown size
    return head + _small(len(payload or b"")) + (payload or b"")


def uint(ident: int, value: int) -> bytes:
    return el(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def simple_block(rel: int, payload_len: int = 10) -> bytes:
    return el(0xA3, b"\x81" + struct.pack(">h", rel) + b"\x80" + b"\0" * payload_len)


EBML_HEADER = el(0x1A45DFA3, el(0x4282, b"webm") + uint(0x4287, 4) + uint(0x4285, 2))


def webm(*children: bytes, unknown_segment: bool = True) -> bytes:
    body = b"".join(children)
    segment = el(0x18538067, unknown=True) + body if unknown_segment else el(0x18538067, body)
    return EBML_HEADER + segment


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(("name", "fmt", "_seconds"), FIXTURE_FILES)
def test_sniffs_each_fixture(name: str, fmt: str, _seconds: float) -> None:
    assert sniff_file(FIXTURES / name) == fmt


@pytest.mark.parametrize(("name", "fmt"), [
    ("narrator.wav", "wav"), ("support-agent.mp3", "mp3"), ("asistente-es.wav", "wav")
])  # fmt: skip
def test_example_samples_are_real_speech_files_in_range(name: str, fmt: str) -> None:
    result = check_sample(EXAMPLES / name)
    assert result.ok, result.errors
    assert result.info is not None and result.info.format == fmt
    assert 5 <= result.info.duration <= 15
    assert result.info.size < 300 * 1024


def test_text_file_named_wav_is_not_audio(tmp_path: Path) -> None:
    fake = tmp_path / "voice.wav"
    fake.write_text("hello, this is not a wav file at all\n")
    assert sniff_file(fake) is None
    result = check_sample(fake, name="samples/voice.wav")
    assert result.errors == [
        "samples/voice.wav is not wav, mp3, mp4 or webm audio: it looks like "
        "text ('hello, this is not a wav file at all')"
    ]


def test_mp3_with_and_without_id3() -> None:
    with_tag = (FIXTURES / "tone-7s-id3.mp3").read_bytes()[:4096]
    bare = (FIXTURES / "tone-7s-noid3.mp3").read_bytes()[:4096]
    assert with_tag.startswith(b"ID3") and not bare.startswith(b"ID3")
    assert sniff_format(with_tag) == "mp3"
    assert sniff_format(bare) == "mp3"


def test_id3_tag_in_front_of_flac_is_not_mp3() -> None:
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 10]) + b"\0" * 10
    head = tag + b"fLaC\x00\x00\x00\x22" + b"\0" * 40
    assert sniff_format(head) is None
    assert "ID3 tag followed by something" in describe_content(head)


def test_id3_tag_larger_than_the_sniffed_bytes_is_trusted() -> None:
    head = b"ID3\x03\x00\x00" + bytes([0, 1, 0, 0]) + b"\0" * 100  # a 16 KB tag
    assert sniff_format(head) == "mp3"


@pytest.mark.parametrize(
    ("head", "looks_like"),
    [
        (b"", "an empty file"),
        (b"fLaC\x00\x00\x00\x22" + b"\x10" * 40, "FLAC"),
        (b"OggS\x00\x02" + b"\0" * 40, "OGG"),
        (b"RIFF\x24\x00\x00\x00AVI LIST" + b"\0" * 20, "RIFF 'AVI ' file"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\0" * 8, "brand 'qt'"),
        (EBML_HEADER.replace(b"\x84webm", b"\x88matroska"), "matroska EBML file, not WebM"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "PNG"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", "unrecognised binary data"),
        (b'{"voices": []}', "text"),
    ],
)
def test_other_content_is_refused_and_described(head: bytes, looks_like: str) -> None:
    assert sniff_format(head) is None
    assert looks_like in describe_content(head)


def test_mpeg_layer_ii_and_adts_aac_are_not_mp3() -> None:
    assert sniff_format(b"\xff\xfd\x90\x00" + b"\0" * 10) is None  # MPEG-1 layer II
    assert sniff_format(b"\xff\xf1\x50\x80" + b"\0" * 10) is None  # ADTS AAC


def test_sniffing_reads_only_the_head(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    path.write_bytes((FIXTURES / "tone-6s.wav").read_bytes()[:44])
    with open(path, "ab") as fh:  # sparse: 50 MB that are never read
        fh.truncate(50 * 1024 * 1024)
    assert sniff_file(path) == "wav"


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(("name", "fmt", "seconds"), FIXTURE_FILES)
def test_duration_of_each_fixture(name: str, fmt: str, seconds: float) -> None:
    assert duration_of(FIXTURES / name) == pytest.approx(seconds, abs=0.15)
    assert audio.DURATION_READERS[fmt](FIXTURES / name) == pytest.approx(seconds, abs=0.15)


def test_webm_fixture_without_duration_really_has_none() -> None:
    # 0x4489 is Duration; with an 8-byte float its header is 44 89 88.
    info_with = (FIXTURES / "tone-9s.webm").read_bytes()[:300]
    info_without = (FIXTURES / "tone-9s-noduration.webm").read_bytes()[:300]
    assert b"\x44\x89\x88" in info_with
    assert b"\x44\x89\x88" not in info_without


def test_wav_float_without_extensible_header(tmp_path: Path) -> None:
    data = b"\0" * (4 * 16000 * 6)  # 6 s of 32-bit float mono at 16 kHz
    path = tmp_path / "float.wav"
    path.write_bytes(riff([(b"fmt ", fmt_chunk(3, 1, 16000, 32)), (b"data", data)]))
    with pytest.raises(wave.Error):
        wave.open(str(path)).close()
    assert audio.wav_duration(path) == pytest.approx(6.0)


def test_wav_streamed_data_size_counts_the_bytes_there(tmp_path: Path) -> None:
    data = b"\0" * (2 * 8000 * 7)
    path = tmp_path / "stream.wav"
    chunks = [(b"LIST", b"INFOISFT\x04\x00\x00\x00abc\x00"), (b"fmt ", fmt_chunk(1, 1, 8000, 16)),
              (b"data", data)]  # fmt: skip
    path.write_bytes(riff(chunks, sizes={b"data": 0xFFFFFFFF}))
    assert audio.wav_duration(path) == pytest.approx(7.0)


def test_wav_truncated_data_counts_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    whole = write_wav(tmp_path / "whole.wav", 10).read_bytes()
    path.write_bytes(whole[: 44 + 2 * 8000 * 6])  # header says 10 s, 6 s are there
    assert audio.wav_duration(path) == pytest.approx(6.0)


def test_webm_with_unknown_size_segment_and_clusters_no_duration(tmp_path: Path) -> None:
    info = el(0x1549A966, uint(0x2AD7B1, 1_000_000) + el(0x4D80, b"test"))
    tracks = el(0x1654AE6B, el(0xAE, uint(0xD7, 1) + uint(0x23E383, 20_000_000)))
    cluster1 = el(0x1F43B675, unknown=True) + uint(0xE7, 0) + simple_block(0) + simple_block(20)
    cluster2 = (
        el(0x1F43B675, unknown=True)
        + uint(0xE7, 6000)
        + simple_block(0)
        + simple_block(1460)
        + simple_block(1480)
    )
    path = tmp_path / "rec.webm"
    path.write_bytes(webm(info, tracks, cluster1, cluster2))
    # last block at 7.48 s, plus one 20 ms frame (the track's DefaultDuration)
    assert audio.webm_duration(path) == pytest.approx(7.5)


def test_webm_block_group_duration_and_cues_after_clusters(tmp_path: Path) -> None:
    info = el(0x1549A966, uint(0x2AD7B1, 100_000))  # 0.1 ms ticks
    group = el(0xA0, el(0xA1, b"\x81" + struct.pack(">h", 500) + b"\x00" + b"\0" * 5)
               + uint(0x9B, 2_000))  # fmt: skip
    cluster = el(0x1F43B675, unknown=True) + uint(0xE7, 60_000) + simple_block(0) + group
    cues = el(0x1C53BB6B, b"\0" * 8)
    path = tmp_path / "g.webm"
    path.write_bytes(webm(info, cluster, cues))
    # (60000 + 500) ticks + a 2000-tick block = 62500 × 0.1 ms
    assert audio.webm_duration(path) == pytest.approx(6.25)


@pytest.mark.parametrize("fmt", [">f", ">d"])
def test_webm_duration_as_4_or_8_byte_float(tmp_path: Path, fmt: str) -> None:
    info = el(0x1549A966, uint(0x2AD7B1, 1_000_000) + el(0x4489, struct.pack(fmt, 8250.0)))
    path = tmp_path / "d.webm"
    path.write_bytes(webm(info, el(0x1F43B675, uint(0xE7, 0)), unknown_segment=False))
    assert audio.webm_duration(path) == pytest.approx(8.25)


def test_webm_skips_block_payloads_instead_of_reading_them(tmp_path: Path) -> None:
    path = tmp_path / "sparse.webm"
    info = el(0x1549A966, uint(0x2AD7B1, 1_000_000))
    big = 64 * 1024 * 1024
    block_head = (0xA3).to_bytes(1, "big") + ((1 << 56) | big).to_bytes(8, "big")
    with open(path, "wb") as fh:
        fh.write(webm(info) + el(0x1F43B675, unknown=True) + uint(0xE7, 9000))
        fh.write(block_head + b"\x81\x00\x00\x80")
        fh.truncate(fh.tell() + big - 4)  # a sparse 64 MB payload
        fh.seek(0, os.SEEK_END)
        fh.write(simple_block(10))
    assert audio.webm_duration(path) == pytest.approx(9.01)


@pytest.mark.parametrize(
    ("fmt", "content", "reason"),
    [
        ("wav", b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
        ("wav", riff([(b"data", b"\0" * 100)]), "data chunk before the fmt chunk"),
        ("wav", riff([(b"fmt ", fmt_chunk(1, 0, 8000, 16)), (b"data", b"\0" * 8)]), "0 channels"),
        ("wav", riff([(b"fmt ", fmt_chunk(1, 1, 8000, 16))]), "no data chunk"),
        ("mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 2000, "no readable MPEG audio"),
        ("mp4", b"\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom", "no readable MP4 audio track"),
        ("webm", EBML_HEADER, "no Segment"),
        ("webm", webm(el(0x1549A966, uint(0x2AD7B1, 1_000_000))), "neither a Duration nor"),
        ("webm", b"\x1a\x45\xdf\xa3\x00", "invalid EBML number"),
    ],
)
def test_corrupt_files_raise_audio_error(tmp_path: Path, fmt: str, content: bytes,
                                         reason: str) -> None:  # fmt: skip
    path = tmp_path / f"bad.{fmt}"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=reason):
        audio.DURATION_READERS[fmt](path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tone-8s.m4a", "is not readable mp4 audio"),  # moov comes after the data
        ("tone-9s.webm", "looks truncated: its header says 9.0 s"),  # Info survived
        ("tone-7s-id3.mp3", "looks truncated: its header says 7.2 s"),  # Xing survived
    ],
)
def test_real_files_cut_short_are_refused(tmp_path: Path, name: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes((FIXTURES / name).read_bytes()[:400])
    errors = check_sample(path, name=name).errors
    assert len(errors) == 1 and errors[0].startswith(f"{name} {expected}"), errors


# ---------------------------------------------------------------- check_sample


def test_check_sample_ok_gives_format_mime_duration_and_sha256() -> None:
    result = check_sample(FIXTURES / "tone-7s-id3.mp3")
    assert result.ok and not result.warnings
    info = result.info
    assert info is not None
    assert (info.format, info.mime_type) == ("mp3", "audio/mpeg")
    assert info.sha256 == audio.file_sha256(FIXTURES / "tone-7s-id3.mp3")
    assert info.duration == pytest.approx(7.2, abs=0.1)


def test_check_sample_missing_directory_empty(tmp_path: Path) -> None:
    assert check_sample(tmp_path / "nope.wav", name="nope.wav").errors == [
        "nope.wav does not exist"
    ]
    assert check_sample(tmp_path, name="x").errors == ["x is a directory, not an audio file"]
    (tmp_path / "empty.wav").write_bytes(b"")
    assert check_sample(tmp_path / "empty.wav", name="e").errors == ["e is empty"]


def test_check_sample_over_5_mb_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    path.write_bytes((FIXTURES / "tone-6s.wav").read_bytes()[:44])
    with open(path, "ab") as fh:
        fh.truncate(audio.MAX_BYTES + 1)
    errors = check_sample(path, name="big.wav").errors
    assert errors == [
        "big.wav is 5.0 MB (5000001 bytes); the service accepts at most 5 MB (5000000 bytes)"
    ]


def test_check_sample_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "locked.wav"
    path.write_bytes((FIXTURES / "tone-6s.wav").read_bytes())
    path.chmod(0)
    code = (
        "import sys; from pathlib import Path; from reconciler.audio import check_sample; "
        "print(check_sample(Path(sys.argv[1]), name='locked.wav').errors)"
    )
    try:
        done = run_unprivileged(["-c", code, str(path)], cwd=tmp_path)
    finally:
        path.chmod(0o644)
    assert done.stdout.strip() == "['locked.wav cannot be read: permission denied']", done.stderr


def test_check_sample_duration_bounds_and_allow_any_duration() -> None:
    short = check_sample(FIXTURES / "tone-2s.wav", name="s.wav")
    assert short.errors == [
        "s.wav is 2.0 s long; the service wants 5-15 s of clean speech "
        "(--allow-any-duration accepts it)"
    ]
    long = check_sample(FIXTURES / "tone-20s.mp3", name="l.mp3", allow_any_duration=True)
    assert long.ok and long.info is not None
    assert long.warnings == ["l.mp3 is 20.2 s long; the service wants 5-15 s of clean speech"]


def test_check_sample_warns_when_the_extension_lies(tmp_path: Path) -> None:
    path = tmp_path / "voice.wav"
    path.write_bytes((FIXTURES / "tone-7s-id3.mp3").read_bytes())
    result = check_sample(path, name="voice.wav")
    assert result.ok and result.info is not None and result.info.mime_type == "audio/mpeg"
    assert result.warnings == [
        "voice.wav is really mp3, not wav as its name says; it is uploaded as audio/mpeg"
    ]


def test_check_sample_reports_corrupt_audio(tmp_path: Path) -> None:
    path = tmp_path / "c.wav"
    path.write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    assert check_sample(path, name="c.wav").errors == [
        "c.wav is not readable wav audio: no fmt chunk"
    ]


def test_zero_length_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "z.wav"
    path.write_bytes(riff([(b"fmt ", fmt_chunk(1, 1, 8000, 16)), (b"data", b"")]))
    assert check_sample(path, name="z.wav").errors == [
        "z.wav contains no audio (its duration is 0 s)"
    ]


def test_check_sample_unreadable_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path as test_check_sample_unreadable, for runs as root (CI containers)."""
    path = tmp_path / "locked.wav"
    path.write_bytes((FIXTURES / "tone-6s.wav").read_bytes())

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(audio.sample, "open", refuse, raising=False)  # where check_sample opens
    assert check_sample(path, name="locked.wav").errors == [
        "locked.wav cannot be read: permission denied"
    ]
