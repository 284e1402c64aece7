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
from csp11.keygen import public_key_of
from csp11.provider import PyCRYPTPROV

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
                key.tkey.attribute(csp11.token.Attribute.VALUE_LEN)  # type: ignore[attr-defined]
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
    assert prov.token.session_count() <= 12
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
    token = again.token
    again.CryptReleaseContext()
    _delete(name)
    found = token.run("find", lambda s: list(s.get_objects(
        {csp11.token.Attribute.VALUE: der})))
    assert found == []


def test_container_found_after_someone_logged_out(embedded_pin: str) -> None:
    name, ctx = _container()
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0).CryptDestroyKey()
    ctx.token.logout()  # as another component of the process might
    assert ctx.CryptGetUserKey(con.AT_KEYEXCHANGE).CryptGetKeyParam(con.KP_KEYLEN) == 1024
    ctx.token.logout()
    reopened = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
    assert reopened is not None
    reopened.CryptReleaseContext()
    ctx.CryptReleaseContext()
    _delete(name)


def test_unencodable_pin_does_not_travel_in_the_exception(prov: PyCRYPTPROV) -> None:
    secret = "secret-PIN-1234\udcff"
    prov.token.logout()
    prov.pins.set_context_pin(secret)
    try:
        with pytest.raises(csp11.errors.Fail) as info:
            prov.login()
    finally:
        prov.pins.set_context_pin(None)
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
    ctx.token.logout()
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
