"""Regressions for problems a review found (each reproduced first, then fixed)."""

from __future__ import annotations

import gc
import threading
import time
import uuid

import pytest

import csp11
from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.win32crypt import PyCRYPTPROV

from .helpers import public_key_of
from .test_keys import _self_signed_for


def _container() -> tuple[str, PyCRYPTPROV]:
    name = f"rr-{uuid.uuid4().hex[:8]}"
    ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    return name, ctx


def _delete(name: str) -> None:
    assert win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES,
                                          con.CRYPT_DELETEKEYSET) is None


def test_pool_does_not_grow_while_keys_are_busy(prov: PyCRYPTPROV) -> None:
    """Busy sessions (a key in use) used to be dropped from the pool for good."""
    keys = [prov.CryptGenKey(con.CALG_AES_128, 0) for _ in range(4)]
    stop = time.monotonic() + 1.5
    errors: list[BaseException] = []

    def use(key: object) -> None:
        try:
            while time.monotonic() < stop:
                # Reads an attribute through the key's home session, keeping it busy.
                key._state.tkey.attribute(csp11.token.Attribute.VALUE_LEN)  # type: ignore[attr-defined]
        except BaseException as exc:
            errors.append(exc)

    def churn() -> None:
        try:
            while time.monotonic() < stop:
                prov.CryptGenKey(con.CALG_AES_128, 0).CryptDestroyKey()
                prov.CryptGenRandom(16)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=use, args=(k,)) for k in keys]
    threads += [threading.Thread(target=churn) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert prov._state.token.session_count() <= 12
    for key in keys:
        key.CryptDestroyKey()


def test_concurrent_generation_and_reading_keep_the_container_whole(embedded_pin: str) -> None:
    name, ctx = _container()
    ctx.CryptGenKey(con.AT_SIGNATURE, 0).CryptDestroyKey()
    stop = time.monotonic() + 2.0
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            while time.monotonic() < stop:
                ctx.CryptGenKey(con.AT_SIGNATURE, 0).CryptDestroyKey()
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            while time.monotonic() < stop:
                ctx.CryptGetUserKey(con.AT_SIGNATURE).CryptDestroyKey()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (generate, generate, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ctx.CryptGetUserKey(con.AT_SIGNATURE).CryptGetKeyParam(con.KP_KEYLEN) == 1024
    ctx.CryptReleaseContext()
    _delete(name)


def test_container_certificate_persists_and_is_deleted(embedded_pin: str) -> None:
    name, ctx = _container()
    key = ctx.CryptGenKey(con.AT_SIGNATURE, 0)
    der = _self_signed_for(public_key_of(key))
    key.CryptSetKeyParam(con.KP_CERTIFICATE, der)
    ctx.CryptReleaseContext()
    again = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
    assert again is not None
    assert again.CryptGetUserKey(con.AT_SIGNATURE).CryptGetKeyParam(con.KP_CERTIFICATE) == der
    token = again._state.token
    again.CryptReleaseContext()
    _delete(name)
    found = token.run("find", lambda s: list(s.get_objects(
        {csp11.token.Attribute.VALUE: der})))
    assert found == []


def test_container_found_after_someone_logged_out(embedded_pin: str) -> None:
    name, ctx = _container()
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0).CryptDestroyKey()
    ctx._state.token.logout()  # as another component of the process might
    assert ctx.CryptGetUserKey(con.AT_KEYEXCHANGE).CryptGetKeyParam(con.KP_KEYLEN) == 1024
    ctx._state.token.logout()
    reopened = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
    assert reopened is not None
    reopened.CryptReleaseContext()
    ctx.CryptReleaseContext()
    _delete(name)


def test_unencodable_pin_does_not_travel_in_the_exception(prov: PyCRYPTPROV) -> None:
    secret = "secret-PIN-1234\udcff"
    prov._state.token.logout()
    prov._state.pins.set_context_pin(secret)
    try:
        with pytest.raises(csp11.errors.Fail) as info:
            prov._state.login()
    finally:
        prov._state.pins.set_context_pin(None)
    exc: BaseException | None = info.value
    while exc is not None:  # the whole chain
        assert "secret-PIN" not in repr(exc.args)
        assert not isinstance(exc, UnicodeError)
        exc = exc.__cause__ or exc.__context__
    assert info.value.code == winerror.SCARD_W_WRONG_CHV


def test_a_dropped_key_that_cannot_be_destroyed_does_not_break_other_calls(
    embedded_pin: str,
) -> None:
    name, ctx = _container()
    ctx.CryptGenKey(con.CALG_AES_128, con.CRYPT_USER_PROTECTED)  # private; handle dropped
    ctx._state.token.logout()
    gc.collect()
    assert len(ctx.CryptGenRandom(8)) == 8  # drains the graveyard; must not fail
    ctx.CryptReleaseContext()
    _delete(name)


def test_released_context_refuses_new_keys(embedded_pin: str) -> None:
    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    ctx.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGenKey(con.CALG_AES_128, 0)
    assert info.value.winerror == winerror.NTE_BAD_UID


# ---- session 2 review ----------------------------------------------------------------------
def test_user_protected_dh_keys_are_refused(embedded_pin: str) -> None:
    """No PKCS#11 operation of a DH key takes a context login: its per-use PIN could
    never be asked, so such keys are refused rather than silently unprotected."""
    name = f"rr-{uuid.uuid4().hex[:8]}"
    ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_DSS_DH, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    with ctx:
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptGenKey(con.CALG_DH_SF, con.CRYPT_USER_PROTECTED | (1024 << 16))
        assert exc.value.winerror == winerror.NTE_BAD_FLAGS
        blob = ctx.CryptGenKey(con.CALG_DH_EPHEM, con.CRYPT_EXPORTABLE | (1024 << 16)) \
            .CryptExportKey(None, con.PRIVATEKEYBLOB)
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptImportKey(blob, None, con.CRYPT_USER_PROTECTED)
        assert exc.value.winerror == winerror.NTE_BAD_FLAGS
    win32crypt.CryptAcquireContext(name, None, con.PROV_DSS_DH, con.CRYPT_DELETEKEYSET)


def test_key_material_is_not_kept_in_the_template_cache(prov: PyCRYPTPROV) -> None:
    from csp11 import token as token_module
    from csp11.formats.blobs import PlaintextKeyBlob
    from csp11.token import Attribute

    secret = bytes(range(100, 132))
    key = prov.CryptImportKey(PlaintextKeyBlob(con.CALG_AES_256, secret).to_bytes())
    key.CryptDestroyKey()
    for template in token_module._checked.values():
        assert Attribute.VALUE not in template
        assert Attribute.PRIVATE_EXPONENT not in template


def test_clearing_export_on_a_public_key(prov: PyCRYPTPROV) -> None:
    from .test_exportimport import _blobs

    key = prov.CryptImportKey(_blobs()["abPubKey"], None, con.CRYPT_EXPORTABLE)
    key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B)  # Windows accepts it; so does csp11
    assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
    key.CryptDestroyKey()


def test_hmac_keeps_its_key_from_creation(prov: PyCRYPTPROV) -> None:
    """Windows copies the key at CryptCreateHash: destroying the handle after it is fine."""
    import hashlib
    import hmac

    from csp11.formats.blobs import PlaintextKeyBlob

    secret = b"k" * 20
    key = prov.CryptImportKey(PlaintextKeyBlob(con.CALG_RC2, secret).to_bytes(), None,
                              con.CRYPT_IPSEC_HMAC_KEY)
    h = prov.CryptCreateHash(con.CALG_HMAC, key)
    key.CryptDestroyKey()
    h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA1)
    h.CryptHashData(b"data")
    assert h.CryptGetHashParam(con.HP_HASHVAL) == hmac.new(secret, b"data", hashlib.sha1).digest()


_BAD_TEXT_PIN = """
import sys
import csp11
from csp11 import pywintypes, win32crypt, winerror, win32cryptcon as con
name, pin = sys.argv[1], open(sys.argv[2]).read().strip()
answers = ["\\udcff", pin]
csp11.set_pin_prompt(lambda request: answers.pop(0) if request.reason == "key-use" else pin)
ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
h = ctx.CryptCreateHash(con.CALG_SHA1)
h.CryptHashData(b"x")
try:
    h.CryptSignHash(con.AT_SIGNATURE)
    print("first signed")
except pywintypes.error as exc:
    print("first", winerror.name_of(exc.winerror))
h = ctx.CryptCreateHash(con.CALG_SHA1)
h.CryptHashData(b"x")
print("second", len(h.CryptSignHash(con.AT_SIGNATURE)))
ctx.CryptReleaseContext()
print("deleted", win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES,
                                                con.CRYPT_DELETEKEYSET) is None)
"""


def test_a_key_use_pin_that_is_not_text_leaves_nothing_active(
    embedded_pin: str, csp11_home: object
) -> None:
    from pathlib import Path

    from .conftest import run_python

    name, ctx = _container()
    with ctx:
        ctx.CryptSetProvParam(con.PP_SIGNATURE_PIN, embedded_pin)
        ctx.CryptGenKey(con.AT_SIGNATURE, con.CRYPT_USER_PROTECTED | (1024 << 16)) \
            .CryptDestroyKey()
    pin_file = Path(str(csp11_home)) / "pin"
    result = run_python(f"import sys; sys.argv = ['x', {name!r}, {str(pin_file)!r}]\n"
                        + _BAD_TEXT_PIN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["first", "SCARD_W_WRONG_CHV", "second", "128",
                                     "deleted", "True"]
