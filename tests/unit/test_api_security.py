"""The key's safety rules that need no server: env, URLs, redaction, repr."""

from __future__ import annotations

import httpx
import pytest

from reconciler.api import (
    DEFAULT_API_URL,
    AuthError,
    InsecureURLError,
    WavesClient,
    WavesError,
    api_key_from_env,
    is_loopback_host,
)
from reconciler.api.security import Redactor, safe_url, same_origin

KEY = "sk_test_Zq8RkT3wP0secretVALUE"


def test_key_from_env_strips_and_treats_blank_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLEST_API_KEY", f"  {KEY}\n")
    assert api_key_from_env() == KEY
    monkeypatch.setenv("SMALLEST_API_KEY", " \t\n")
    assert api_key_from_env() is None
    monkeypatch.delenv("SMALLEST_API_KEY")
    assert api_key_from_env() is None


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["", "api.smallest.ai", "10.0.0.1", "128.0.0.1", "localhost.evil.com", "::2", "0.0.0.0"]
)
def test_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("url", ["http://api.smallest.ai", "http://10.1.2.3:8080", "http://[::2]/"])
def test_plain_http_elsewhere_is_refused_with_a_key(url: str) -> None:
    with pytest.raises(InsecureURLError) as info:
        WavesClient(base_url=url, api_key=KEY)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


@pytest.mark.parametrize(
    "url", ["http://localhost:9", "http://127.0.0.1:9", "http://[::1]:9", DEFAULT_API_URL]
)
def test_https_and_loopback_are_allowed(url: str) -> None:
    client = WavesClient(base_url=url, api_key=KEY)
    assert KEY not in repr(client)


def test_plain_http_without_a_key_or_in_process_is_allowed() -> None:
    WavesClient(base_url="http://api.example.test", api_key=None)
    WavesClient(
        base_url="http://sandbox",
        api_key=KEY,
        transport=httpx.ASGITransport(app=lambda *a: None),  # never leaves the process
    )


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "https://"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(WavesError):
        WavesClient(base_url=url, api_key=KEY)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999", "port 99999 is not between 1 and 65535"),
        ("http://127.0.0.1:0", "port 0 is not between 1 and 65535"),  # not "port 80"
        ("http://127.0.0.1:8790/?a=b", "without a query or fragment"),
        ("https://api.example.com/#top", "without a query or fragment"),
    ],
)
def test_a_port_out_of_range_or_a_query_is_refused_before_any_connection(url, why) -> None:
    with pytest.raises(WavesError, match=why):
        WavesClient(base_url=url, api_key=KEY)


@pytest.mark.parametrize("bad", ["two words", "line\nbreak", "caf\u00e9"])
def test_unsendable_keys_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(AuthError) as info:
        WavesClient(api_key=bad)
    assert bad not in str(info.value)


def test_repr_shows_only_the_base_url() -> None:
    client = WavesClient(base_url="https://api.example.test:8443/v", api_key=KEY)
    assert repr(client) == "WavesClient(base_url='https://api.example.test:8443/v')"
    assert KEY not in repr(client)


def test_credentials_in_the_base_url_are_refused_without_showing_them() -> None:
    with pytest.raises(WavesError) as info:
        WavesClient(base_url="https://bob:hunter2@api.example.test:8443/v", api_key=KEY)
    assert "carries credentials" in str(info.value)
    assert "hunter2" not in str(info.value) and "bob" not in str(info.value)
    assert str(info.value).endswith("the key comes from SMALLEST_API_KEY")
    with pytest.raises(WavesError) as info:  # an environment's key: its own variable
        WavesClient(base_url="https://bob:x@h.test", api_key=KEY, key_env="KEY_PROD")
    assert str(info.value).endswith("the key comes from KEY_PROD")


def test_safe_url_drops_query_and_userinfo() -> None:
    assert safe_url("https://u:p@cdn.example/a/b.wav?X-Sig=abc") == "https://cdn.example/a/b.wav"
    assert safe_url(httpx.URL("http://[::1]:8080/x")) == "http://[::1]:8080/x"


def test_same_origin() -> None:
    base = httpx.URL("http://127.0.0.1:8000/")
    assert same_origin(httpx.URL("http://127.0.0.1:8000/_sandbox/x"), base)
    assert not same_origin(httpx.URL("http://localhost:8000/x"), base)
    assert not same_origin(httpx.URL("http://127.0.0.1:8001/x"), base)
    assert not same_origin(httpx.URL("https://127.0.0.1:8000/x"), base)


def test_redactor_removes_the_key_and_makes_one_line() -> None:
    redact = Redactor(KEY, limit=80)
    text = f"bad key {KEY}\r\n\x1b[31mred\x00 " + "x" * 200
    line = redact(text)
    assert KEY not in line and "\n" not in line and "\x1b" not in line
    assert line.startswith("bad key *** [31mred") and len(line) <= 80
    assert KEY not in repr(redact)


def test_a_short_key_is_masked_where_it_stands_as_a_word_not_inside_words() -> None:
    """A one-letter key ("e") masked everywhere turned the server's "Invalid API key"
    into "Invalid API k***y": a key that short is masked as a word only."""
    redact = Redactor("e")
    assert redact("Invalid API key") == "Invalid API key"
    assert redact("Authorization: Bearer e") == "Authorization: Bearer ***"
    assert redact("key=e;") == "key=***;"
    assert Redactor("a1B2c3d4")("xa1B2c3d4y") == "x***y"  # a real key: masked anywhere
