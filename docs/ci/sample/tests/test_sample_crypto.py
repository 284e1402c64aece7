"""The sample project's tests: they run against the token that the csp11 image's
``serve-token`` made and named in ``CSP11_TOKEN`` (never csp11's embedded one)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sample_crypto


@pytest.fixture(scope="session", autouse=True)
def _served_token() -> None:
    uri = os.environ.get("CSP11_TOKEN", "")
    assert uri.startswith("pkcs11:"), "run under `serve-token` (CSP11_TOKEN is not set)"


@pytest.fixture
def container() -> Iterator[Any]:
    name = f"sample-{uuid.uuid4().hex[:8]}"
    prov = sample_crypto.open_container(name)
    yield prov
    prov.CryptReleaseContext()
    sample_crypto.delete_container(name)


def test_sha256_on_the_token() -> None:
    data = b"hashed on a PKCS#11 token"
    assert sample_crypto.sha256(data) == hashlib.sha256(data).digest()


def test_sign_and_verify(container: Any) -> None:
    data = b"a release to sign"
    signature = sample_crypto.sign(container, data)
    assert len(signature) == 256  # RSA-2048
    assert sample_crypto.verify(container, data, signature)
    assert not sample_crypto.verify(container, data + b"!", signature)


def test_the_key_stays_on_the_token(container: Any) -> None:
    # CryptSignHash signs with the container's key pair, a token object: the
    # same key signs again (PKCS#1 v1.5 is deterministic).
    data = b"same key, same signature"
    assert sample_crypto.sign(container, data) == sample_crypto.sign(container, data)


def test_encrypt_and_decrypt(container: Any) -> None:
    data = os.urandom(1000)
    ciphertext, plaintext = sample_crypto.encrypt_decrypt(container, data)
    assert plaintext == data
    assert len(ciphertext) == 1008  # AES-CBC with PKCS#5 padding
    assert ciphertext[:16] != data[:16]
