"""`voicectl samples --download`: a recorded sample URL that cannot be fetched fails that
clip alone (audit C3, C6).

A URL httpx cannot parse (a control character in a hand-edited or damaged lockfile)
is a per-clip error, like a ``file://`` URL: the other clips are still downloaded and
``--format json`` still prints its document. A download that cannot connect names
the host it tried (the sample's own), not the API URL.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator

import jsonschema
import pytest
from sandbox_support import ROOT

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _edit_url(project, name: str, n: int, url: str) -> None:
    lock = project.lock()
    lock["voices"][name]["samples"][n - 1]["audioUrl"] = url
    project.lockfile.write_text(json.dumps(lock, indent=2))


def test_a_control_character_in_a_sample_url_fails_that_clip_only(project, tmp_path):
    project.write({"alpha": {}, "bravo": {}})
    project.run("apply", "--auto-approve")
    good = project.lock()["voices"]["alpha"]["samples"][0]["audioUrl"]
    bad = good.replace("/1.wav", "/a\x1bb.wav") + "?sig=s3cret"
    _edit_url(project, "alpha", 1, bad)

    listed = project.run("samples").out  # the URL fetched, its odd character shown
    assert "/a\\x1bb.wav" in listed and "\x1b" not in listed

    dest = tmp_path / "d"
    r = project.run("samples", "--download", str(dest), expect=1)
    assert "internal error" not in r.text
    shown = good.replace("/1.wav", "/a\\x1bb.wav")  # escaped, and without the query
    assert (
        f"Error: could not save alpha-1.wav: download {shown}: not a valid URL "
        "(invalid non-printable ASCII character in URL, '\\x1b' at position"
    ) in r.err, r.err
    assert "s3cret" not in r.err
    assert r.err.strip().splitlines()[-1] == "Error: 1 sample clip has a problem"
    assert sorted(p.name for p in dest.iterdir()) == ["alpha-2.wav", "bravo-1.wav", "bravo-2.wav"]

    r = project.run("samples", "--download", str(tmp_path / "j"), "--format", "json", expect=1)
    doc = json.loads(r.out)
    jsonschema.validate(doc, json.loads((ROOT / "schemas" / "samples.schema.json").read_text()))
    clips = {(v["name"], c["n"]): c for v in doc["voices"] for c in v["samples"]}
    assert clips["alpha", 1]["file"] is None and "not a valid URL" in clips["alpha", 1]["error"]
    assert all(c["file"] and c["error"] is None for k, c in clips.items() if k != ("alpha", 1))
    assert doc["problems"] == 1


def test_a_failed_download_names_the_samples_host_not_the_api(project, tmp_path):
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    port = closed_port()
    _edit_url(project, "alpha", 1, f"http://127.0.0.1:{port}/s/1.wav?sig=x")

    r = project.run("samples", "--download", str(tmp_path / "d"), expect=1)
    line = next(x for x in r.err.splitlines() if "alpha-1.wav" in x)
    assert line.startswith(
        f"Error: could not save alpha-1.wav: download http://127.0.0.1:{port}/s/1.wav: "
        f"connection to http://127.0.0.1:{port} failed: "
    ), line
    assert project.server.url not in line and "api.smallest.ai" not in line
    assert "is the sandbox running? start it with `voicectl sandbox serve`" not in line
    assert (tmp_path / "d" / "alpha-2.wav").exists()  # the API's own clip: fetched


def test_an_api_call_still_names_the_api_url(project, monkeypatch):
    """The messages of API calls are unchanged: the connection names the API URL."""
    port = closed_port()
    project.write({"alpha": {}})
    project.env = lambda: {
        "SMALLEST_API_KEY": project.key,
        "VOICECTL_API_URL": f"http://127.0.0.1:{port}",
    }
    r = project.run("list", expect=1)
    assert f"connection to http://127.0.0.1:{port} failed" in r.err
    assert "is the sandbox running? start it with `voicectl sandbox serve`" in r.err


class _Refusing(http.server.BaseHTTPRequestHandler):
    """A sample host that refuses every link (an expired signature, say)."""

    def do_GET(self) -> None:
        body = b"Forbidden"
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_sample_host_refusing_the_link_is_not_blamed_on_the_key(project, tmp_path, refusing):
    """No key goes to another host: its 403 is the link's, not "the key in
    SMALLEST_API_KEY may not do this" about the API."""
    project.write({"alpha": {}})
    project.run("apply", "--auto-approve")
    _edit_url(project, "alpha", 1, f"{refusing}/s/1.wav?sig=expired")
    r = project.run("samples", "--download", str(tmp_path / "d"), expect=1)
    line = next(x for x in r.err.splitlines() if "alpha-1.wav" in x)
    assert line == (
        f"Error: could not save alpha-1.wav: download {refusing}/s/1.wav: refused by "
        f"{refusing} (403): voicectl sends no key to another host, so the link itself was "
        "refused (expired?)"
    )
