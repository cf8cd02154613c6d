"""The run's TLS context, made on a helper thread (reconciler.api.tls)."""

from __future__ import annotations

import ssl

import certifi
import pytest

from reconciler.api import tls


def test_the_context_verifies_like_httpxs_default_and_is_made_once_per_setting():
    tls.prepare(trust_env=True)
    made = tls.context(trust_env=True)
    assert made.verify_mode is ssl.CERT_REQUIRED and made.check_hostname
    assert made.cert_store_stats()["x509_ca"] > 0  # certifi's authorities are loaded
    assert tls.context(trust_env=True) is made
    assert tls.context(trust_env=False) is not made


def test_a_trusted_environment_names_its_own_authorities(monkeypatch):
    default = tls.context(trust_env=True)
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    tls.prepare(trust_env=True)
    own = tls.context(trust_env=True)
    assert own is not default and own.verify_mode is ssl.CERT_REQUIRED
    assert tls.context(trust_env=False) is not own  # a loopback URL ignores the variable


def test_authorities_that_cannot_be_read_fail_where_the_client_is_made(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    tls.prepare(trust_env=True)  # the thread's failure waits for the client
    with pytest.raises(FileNotFoundError):
        tls.context(trust_env=True)
