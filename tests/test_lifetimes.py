"""Handles dropped without being destroyed: their token state is released at the
next token call (finalizers only queue), and nothing is left behind."""

from __future__ import annotations

import gc

from csp11 import win32cryptcon as con
from csp11.win32crypt import PyCRYPTPROV

from .helpers import token_objects as _objects


def test_dropped_hashes_give_back_their_sessions(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    prov.CryptGenRandom(1)  # settle the pool
    sessions = token.session_count()
    for _ in range(20):
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"left running")
        del h
        gc.collect()
        prov.CryptGenRandom(1)  # a token call drains what finalizers queued
    # Each dropped hash's session went back to be reused: not 20 new ones.
    assert token.session_count() <= sessions + 1


def test_dropped_hmac_releases_its_key_copy(prov: PyCRYPTPROV) -> None:
    key = prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE)
    before = _objects(prov)
    for _ in range(5):
        h = prov.CryptCreateHash(con.CALG_HMAC, key)
        h.CryptSetHashParam(con.HP_HMAC_INFO, con.CALG_SHA1)
        h.CryptHashData(b"data")
        assert _objects(prov) == before + 1  # the generic-secret copy of the key
        del h
        gc.collect()
        prov.CryptGenRandom(1)
        assert _objects(prov) == before
    key.CryptDestroyKey()


def test_released_context_ends_its_hashes(prov: PyCRYPTPROV) -> None:
    from csp11 import pywintypes, win32crypt, winerror

    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    h = ctx.CryptCreateHash(con.CALG_SHA1)
    h.CryptHashData(b"x")
    ctx.CryptReleaseContext()
    try:
        h.CryptHashData(b"y")
    except pywintypes.error as exc:
        assert exc.winerror == winerror.ERROR_INVALID_HANDLE
    else:
        raise AssertionError("a hash of a released context still hashed")


def test_a_key_dropped_inside_a_reference_cycle_is_released(prov: PyCRYPTPROV) -> None:
    # The handle's watch lives outside the handle (csp11.core.key._watched):
    # a weak reference held only by garbage in a cycle would be cleared by
    # the collector without its callback, leaving the key on the token.
    key = prov.CryptGenKey(con.CALG_AES_128, 0)
    before = _objects(prov)
    cycle: list[object] = [key._state]
    cycle.append(cycle)
    key._state.loop = cycle  # type: ignore[attr-defined]
    del key, cycle
    gc.collect()
    prov.CryptGenRandom(1)  # a token call drains what the callback queued
    assert _objects(prov) == before - 1


def test_a_context_tracks_only_what_is_alive(prov: PyCRYPTPROV) -> None:
    # The context keeps weak references to its keys and hashes (to release
    # them with itself): a destroyed one leaves at once, a dropped one is
    # swept later, so neither kind piles up.
    from csp11.core.context import _SWEEP_MIN

    ctx = prov._state
    live = [prov.CryptGenKey(con.CALG_AES_128, 0) for _ in range(3)]
    base = len(ctx._owned)
    for _ in range(300):
        prov.CryptGenKey(con.CALG_AES_128, 0).CryptDestroyKey()
        prov.CryptCreateHash(con.CALG_SHA1).CryptDestroyHash()
    assert len(ctx._owned) == base
    for _ in range(300):
        prov.CryptCreateHash(con.CALG_SHA1)  # dropped, never destroyed
    gc.collect()
    assert len(ctx._owned) <= max(_SWEEP_MIN, 2 * base)
    assert all(k._state in (ref() for ref in ctx._owned.values()) for k in live)
    for key in live:
        key.CryptDestroyKey()
