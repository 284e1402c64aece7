"""A context remembers its container's key pairs (CryptSignHash and
CryptGetUserKey do not search the token at every call), and still sees what
another process or another context did to the container.

On Windows a context keeps the keys it loaded from its container.  On a token
another process's replacement destroys the old pair's objects, so a context
cannot keep using them: csp11 then uses the pair the container holds now,
and a deleted container answers ``NTE_BAD_KEYSET`` (docs/differences.md).
"""

from __future__ import annotations

import contextlib
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.win32crypt import PyCRYPTPROV

from .conftest import run_python
from .spy import Call, find_spy, spy_calls

AES = con.PROV_RSA_AES
_DATA = b"signed by whichever key the container holds"


@pytest.fixture
def box(embedded_pin: str) -> Iterator[str]:
    """A fresh container with an RSA-1024 signature key, deleted afterwards."""
    name = f"remember-{uuid.uuid4().hex[:10]}"
    ctx = win32crypt.CryptAcquireContext(name, None, AES, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16).CryptDestroyKey()
    ctx.CryptReleaseContext()
    yield name
    with contextlib.suppress(pywintypes.error):
        win32crypt.CryptAcquireContext(name, None, AES, con.CRYPT_DELETEKEYSET)


def _sign(ctx: PyCRYPTPROV) -> bytes:
    h = ctx.CryptCreateHash(con.CALG_SHA_256)
    h.CryptHashData(_DATA)
    signature: bytes = h.CryptSignHash(con.AT_SIGNATURE)
    h.CryptDestroyHash()
    return signature


def _verifies(public_blob: bytes, signature: bytes) -> bool:
    verifier = win32crypt.CryptAcquireContext(None, None, AES, con.CRYPT_VERIFYCONTEXT)
    assert verifier is not None
    with verifier:
        h = verifier.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(_DATA)
        try:
            h.CryptVerifySignature(signature, verifier.CryptImportKey(public_blob))
        except pywintypes.error as exc:
            assert exc.winerror == winerror.NTE_BAD_SIGNATURE
            return False
        return True


def _public(ctx: PyCRYPTPROV) -> bytes:
    key = ctx.CryptGetUserKey(con.AT_SIGNATURE)
    blob: bytes = key.CryptExportKey(None, con.PUBLICKEYBLOB)
    key.CryptDestroyKey()
    return blob


def _elsewhere(name: str, action: str) -> bytes:
    """Replace the container's signature key ("replace") or delete the container
    ("delete") in another process; the new public key BLOB for "replace"."""
    code = textwrap.dedent(f"""
        from csp11 import win32crypt, win32cryptcon as con
        name = {name!r}
        if {action!r} == "replace":
            ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
            key = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
            print(key.CryptExportKey(None, con.PUBLICKEYBLOB).hex())
            ctx.CryptReleaseContext()
        else:
            win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES,
                                           con.CRYPT_DELETEKEYSET)
            print("")
    """)
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    return bytes.fromhex(result.stdout.strip())


def test_another_process_replaces_the_key(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    with ctx:
        old = _public(ctx)
        assert _verifies(old, _sign(ctx))  # the pair is now remembered
        held = ctx.CryptGetUserKey(con.AT_SIGNATURE)
        new = _elsewhere(box, "replace")
        assert new != old
        # A handle to the old pair: Windows keeps the key in memory; here its
        # objects are gone from the token (docs/differences.md).
        with pytest.raises(pywintypes.error) as info:
            held.CryptExportKey(None, con.PUBLICKEYBLOB)
        assert info.value.winerror == winerror.NTE_BAD_KEY
        # The old pair is gone from the token: this context signs with the
        # container's new pair, as a context opened now does.
        signature = _sign(ctx)
        assert _verifies(new, signature) and not _verifies(old, signature)
        assert _public(ctx) == new
        again = win32crypt.CryptAcquireContext(box, None, AES, 0)
        assert again is not None
        with again:
            assert _public(again) == new


def test_another_process_replaces_the_key_before_get_user_key(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    with ctx:
        old = _public(ctx)
        new = _elsewhere(box, "replace")
        # CryptGetUserKey checks the remembered pair: its handle is the new pair's.
        assert _public(ctx) == new != old
        assert _verifies(new, _sign(ctx))


def test_another_process_deletes_the_container(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    with ctx:
        _sign(ctx)
        _public(ctx)
        _elsewhere(box, "delete")
        for call in (_sign, _public):
            with pytest.raises(pywintypes.error) as info:
                call(ctx)
            assert info.value.winerror == winerror.NTE_BAD_KEYSET


def test_another_context_of_this_process_replaces_the_key(box: str) -> None:
    first = win32crypt.CryptAcquireContext(box, None, AES, 0)
    second = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert first is not None and second is not None
    with first, second:
        old = _public(first)
        _sign(first)
        remembered = first._state.found_key(con.AT_SIGNATURE)
        assert remembered is not None
        remembered.tkey.release()
        key = second.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
        # This process wrote token objects: what any context remembers is
        # looked up again (a token may give a destroyed object's handle to a
        # new object), not only when the token says it is gone.
        assert first._state.found_key(con.AT_SIGNATURE) is None
        new = key.CryptExportKey(None, con.PUBLICKEYBLOB)
        signature = _sign(first)
        assert _verifies(new, signature) and not _verifies(old, signature)
        assert _public(first) == new


def test_the_context_replaces_its_own_key(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    with ctx:
        old = _public(ctx)
        _sign(ctx)
        new = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16).CryptExportKey(
            None, con.PUBLICKEYBLOB)
        assert new != old
        assert _verifies(new, _sign(ctx))


def test_a_withdrawn_export_is_seen_by_the_next_handle(embedded_pin: str) -> None:
    name = f"remember-{uuid.uuid4().hex[:10]}"
    ctx = win32crypt.CryptAcquireContext(name, None, AES, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    try:
        ctx.CryptGenKey(con.AT_KEYEXCHANGE, con.CRYPT_EXPORTABLE | (1024 << 16))
        first = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        assert first.CryptGetKeyParam(con.KP_PERMISSIONS) & con.CRYPT_EXPORT
        first.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B)  # the token object: not extractable
        again = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        assert not again.CryptGetKeyParam(con.KP_PERMISSIONS) & con.CRYPT_EXPORT
    finally:
        ctx.CryptReleaseContext()
        win32crypt.CryptAcquireContext(name, None, AES, con.CRYPT_DELETEKEYSET)


def test_a_released_context_lets_its_pairs_go(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    _sign(ctx)
    state = ctx._state
    ctx.CryptReleaseContext()
    assert state.found_key(con.AT_SIGNATURE) is None


# ---- seen from outside: how often the token is searched -------------------------------
_SPY_SCRIPT = textwrap.dedent("""
    from csp11 import win32crypt, win32cryptcon as c
    name = "spy-remember"
    ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_NEWKEYSET,
                                         Token=TOKEN)
    ctx.CryptGenKey(c.AT_SIGNATURE, 1024 << 16).CryptDestroyKey()
    for _ in range(SIGNS):
        h = ctx.CryptCreateHash(c.CALG_SHA_256)
        h.CryptHashData(b"x")
        h.CryptSignHash(c.AT_SIGNATURE)
        h.CryptDestroyHash()
    for _ in range(GETS):
        ctx.CryptGetUserKey(c.AT_SIGNATURE).CryptDestroyKey()
    ctx.CryptReleaseContext()
    win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_DELETEKEYSET,
                                   Token=TOKEN)
""")


@pytest.mark.skipif(find_spy() is None, reason="pkcs11-spy.so (OpenSC) is not installed")
def test_the_token_is_searched_once_per_context(
    csp11_home: Path, softhsm2_module: str, embedded_pin: str, tmp_path: Path
) -> None:
    def count(signs: int, gets: int) -> dict[str, int]:
        calls: list[Call] = spy_calls(f"SIGNS = {signs}\nGETS = {gets}\n" + _SPY_SCRIPT,
                                      csp11_home, softhsm2_module,
                                      tmp_path / f"{signs}-{gets}")
        names = ("C_FindObjectsInit", "C_SignInit", "C_GetAttributeValue")
        return {n: sum(1 for c in calls if c.name == n) for n in names}

    for run in ("1-0", "5-0", "1-4"):
        (tmp_path / run).mkdir()
    one, five, gets = count(1, 0), count(5, 0), count(1, 4)
    assert five["C_SignInit"] - one["C_SignInit"] == 4
    # Four more signatures: no search, no attribute read.
    assert five["C_FindObjectsInit"] == one["C_FindObjectsInit"]
    assert five["C_GetAttributeValue"] == one["C_GetAttributeValue"]
    # Four more CryptGetUserKey: no search, one CKA_ID read each (two calls:
    # python-pkcs11 asks for the length, then the value).
    assert gets["C_FindObjectsInit"] == one["C_FindObjectsInit"]
    assert gets["C_GetAttributeValue"] - one["C_GetAttributeValue"] == 8


def _logout_behind_csp11s_back(ctx: PyCRYPTPROV) -> None:
    """``C_Logout`` as another component of the process might call it: csp11
    still believes the token logged in."""
    token = ctx._state.token
    pooled = token.acquire()
    try:
        token.module.cryptoki.C_Logout(pooled.handle)
    finally:
        token.release(pooled)


def test_signing_after_someone_logged_the_token_out(box: str) -> None:
    ctx = win32crypt.CryptAcquireContext(box, None, AES, 0)
    assert ctx is not None
    with ctx:
        public = _public(ctx)
        assert _verifies(public, _sign(ctx))
        _logout_behind_csp11s_back(ctx)
        assert _verifies(public, _sign(ctx))  # the token refuses; csp11 logs in again
        _logout_behind_csp11s_back(ctx)
        assert _public(ctx) == public
