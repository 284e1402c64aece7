"""Several tokens in one process: chosen by URI, independent, containers kept apart."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import load_module

from .helpers import public_key_of


@pytest.fixture(scope="module")
def second_token(csp11_home: Path, softhsm2_module: str, embedded_pin: str) -> str:
    """A second SoftHSM2 token in the test store; its URI (with its own PIN)."""
    module = load_module(softhsm2_module)  # the embedded configuration, already loaded
    label = f"second-{uuid.uuid4().hex[:8]}"
    pin = secrets.token_hex(8)
    module.init_token(label, secrets.token_hex(8), pin)
    return f"pkcs11:token={label}?module-path={softhsm2_module}&pin-value={pin}"


def test_two_tokens_same_container_name(second_token: str, embedded_pin: str) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    first = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
    second = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET,
                                            Token=second_token)
    assert first is not None and second is not None
    assert first._state.token is not second._state.token
    assert first._state.token.serial != second._state.token.serial
    a = first.CryptGenKey(con.AT_SIGNATURE, 0)
    b = second.CryptGenKey(con.AT_SIGNATURE, 0)
    assert public_key_of(a).public_numbers() != public_key_of(b).public_numbers()
    # Each context finds its own token's key.
    assert public_key_of(first.CryptGetUserKey(con.AT_SIGNATURE)).public_numbers() == \
        public_key_of(a).public_numbers()
    assert public_key_of(second.CryptGetUserKey(con.AT_SIGNATURE)).public_numbers() == \
        public_key_of(b).public_numbers()
    assert first.CryptGetProvParam(con.PP_UNIQUE_CONTAINER) != \
        second.CryptGetProvParam(con.PP_UNIQUE_CONTAINER)
    # Deleting on one token leaves the other's container alone.
    first.CryptReleaseContext()
    assert win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES,
                                          con.CRYPT_DELETEKEYSET) is None
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET
    assert second.CryptGetUserKey(con.AT_SIGNATURE).CryptGetKeyParam(con.KP_KEYLEN) == 1024
    second.CryptReleaseContext()
    assert win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET,
                                          Token=second_token) is None


def test_wrong_pin_on_one_token_does_not_affect_the_other(second_token: str) -> None:
    embedded = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                              con.CRYPT_VERIFYCONTEXT)
    assert embedded is not None
    embedded._state.login()
    bad = second_token.split("&pin-value=", maxsplit=1)[0] + "&pin-value=not-it"
    other = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                           con.CRYPT_VERIFYCONTEXT, Token=bad)
    assert other is not None
    other._state.token.logout()
    with pytest.raises(Exception) as info:
        other._state.login()
    assert getattr(info.value, "code", None) == winerror.SCARD_W_WRONG_CHV
    assert not other._state.token.is_logged_in()
    assert embedded._state.token.is_logged_in()  # login state is per token
    other.CryptReleaseContext()
    embedded.CryptReleaseContext()


def test_ambiguous_uri_is_refused(second_token: str, softhsm2_module: str) -> None:
    # Both tokens come from SoftHSM2: naming only the manufacturer matches two.
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(
            None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT,
            Token=f"pkcs11:manufacturer=SoftHSM%20project?module-path={softhsm2_module}",
        )
    assert info.value.winerror == winerror.ERROR_INVALID_PARAMETER
    assert "tokens match" in info.value.strerror
