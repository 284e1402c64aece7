"""A TPM 2.0 token (tpm2-pkcs11 on swtpm behind tpm2-abrmd): what it cannot do is
refused up front with the Windows error, what it can do keeps working without
exhausting the TPM, and a verify context's pairs (token objects here, the
token makes no session pairs) do not outlive their process.

The container round trip across processes is in tests/test_matrix.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from csp11 import interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import Attribute
from csp11.win32crypt import PyCRYPTPROV

from .conftest import REPO
from .tokens_tpm import TpmToken


def _objects(ctx: PyCRYPTPROV) -> int:
    """Token objects other than the anchor (see Quirks.handle_anchor)."""
    ctx._state.login()
    _, (found, anchors) = ctx._state.token.find(
        [{Attribute.TOKEN: True}, {Attribute.APPLICATION: "csp11-anchor"}], ctx._state.pins
    )
    return len(found) - len(anchors)


@pytest.fixture
def tpm(tpm_token: TpmToken) -> Iterator[PyCRYPTPROV]:
    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT,
                                         Token=tpm_token.uri)
    assert ctx is not None
    with ctx:
        yield ctx


def _code(exc: pytest.ExceptionInfo[pywintypes.error]) -> int:
    return int(exc.value.winerror)


def test_aes_is_absent_and_refused(tpm: PyCRYPTPROV) -> None:
    """tpm2-pkcs11 lists CKM_AES_KEY_GEN but C_GenerateKey is not supported."""
    enumerated = []
    flags = con.CRYPT_FIRST
    while True:
        try:
            row = tpm.CryptGetProvParam(con.PP_ENUMALGS, flags)
        except pywintypes.error:
            break
        flags = 0
        enumerated.append(row[0] if isinstance(row, tuple) else row["aiAlgid"])
    assert con.CALG_RSA_SIGN in enumerated and con.CALG_RSA_KEYX in enumerated
    for algid in (con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256):
        assert algid not in enumerated
        with pytest.raises(pywintypes.error) as exc:
            tpm.CryptGenKey(algid, 0)
        assert _code(exc) == winerror.NTE_BAD_ALGID
        assert "CKR_" not in exc.value.strerror


def test_what_the_tpm_cannot_make_is_refused_first(tpm: PyCRYPTPROV) -> None:
    before = _objects(tpm)
    with pytest.raises(pywintypes.error) as exc:
        tpm.CryptGenKey(con.AT_SIGNATURE, (2048 << 16) | con.CRYPT_EXPORTABLE)
    assert _code(exc) == winerror.NTE_BAD_FLAGS and "CKR_" not in exc.value.strerror
    with pytest.raises(pywintypes.error) as exc:
        tpm.CryptGenKey(con.AT_SIGNATURE, 1536 << 16)
    assert _code(exc) == winerror.NTE_BAD_FLAGS and "CKR_" not in exc.value.strerror
    assert _objects(tpm) == before


def test_twenty_signatures_and_three_pairs_in_one_process(tpm: PyCRYPTPROV,
                                                          tpm_token: TpmToken) -> None:
    """Made and destroyed in one process without running out of TPM object slots."""
    before = _objects(tpm)
    for _ in range(3):
        ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                             con.CRYPT_VERIFYCONTEXT, Token=tpm_token.uri)
        assert ctx is not None
        key = ctx.CryptGenKey(con.AT_SIGNATURE, 2048 << 16)
        public = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
        assert isinstance(public, rsa.RSAPublicKey)
        for i in range(7):
            message = b"message %d" % i
            h = ctx.CryptCreateHash(con.CALG_SHA_256)
            h.CryptHashData(message)
            signature = h.CryptSignHash(con.AT_SIGNATURE)
            public.verify(signature[::-1], message, padding.PKCS1v15(), hashes.SHA256())
        assert _objects(tpm) == before + 2  # the pair, as ephemeral token objects
        ctx.CryptReleaseContext()
        assert _objects(tpm) == before


_COUNT = textwrap.dedent(
    """
    import sys
    from csp11 import win32crypt, win32cryptcon as c
    from csp11.token import Attribute
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                         Token=sys.argv[1])
    ctx._state.login()
    _, (found, anchors) = ctx._state.token.find(
        [{Attribute.TOKEN: True}, {Attribute.APPLICATION: "csp11-anchor"}], ctx._state.pins)
    print(len(found) - len(anchors))
    """
)


def _run(code: str, tpm_token: TpmToken) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, tpm_token.uri],
        env={**os.environ, "PYTHONPATH": str(REPO), **tpm_token.env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


_ORPHAN = textwrap.dedent(
    """
    import os, sys
    from csp11 import win32crypt, win32cryptcon as c
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                         Token=sys.argv[1])
    ctx.CryptGenKey(c.AT_SIGNATURE, 1024 << 16)
    print("made", flush=True)
    os._exit(0)  # a crash: no CryptReleaseContext, no finalizers
    """
)


def test_a_crashed_process_ephemeral_pairs_are_destroyed_by_the_next(
    tpm_token: TpmToken,
) -> None:
    # Counted by fresh processes: tpm2-pkcs11 reads its objects at C_Initialize
    # and does not see what other processes make later.
    before = int(_run(_COUNT, tpm_token))
    assert _run(_ORPHAN, tpm_token) == "made"
    assert int(_run(_COUNT, tpm_token)) == before + 2  # left behind by the crash
    # The next process that makes an ephemeral pair sweeps the dead one's.
    assert _run(_ORPHAN.replace("os._exit(0)", "ctx.CryptReleaseContext()"), tpm_token) == "made"
    assert int(_run(_COUNT, tpm_token)) == before


def test_info_shows_the_model(tpm_token: TpmToken) -> None:
    """`csp11 info --json` reports what csp11 learned about the TPM token."""
    result = subprocess.run(
        [sys.executable, "-m", "csp11", "--token", tpm_token.uri, "info", "--json"],
        env={**os.environ, "PYTHONPATH": str(REPO), **tpm_token.env},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    model = json.loads(result.stdout)["capabilities"]
    assert model["session_objects"] is False
    assert model["session_key_pairs"] is False
    assert model["secret_keygen"]["AES_KEY_GEN"] == {"generates": False, "cbc_with_iv": None}
    assert model["quirks"] == "tpm2-pkcs11" and model["rsa_lengths"] == [1024, 2048, 3072]


def test_a_public_key_import_fails_in_words_or_works(tpm: PyCRYPTPROV) -> None:
    # tpm2-pkcs11 may refuse the public key's session object (CKR_SESSION_READ_ONLY
    # before a login): the message says so in words, the code stays in .ckr.
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    blob = interop.blob_from_key(private.public_key(), con.CALG_RSA_SIGN)
    try:
        key = tpm.CryptImportKey(blob, None, 0)
    except pywintypes.error as exc:
        assert "CKR_" not in exc.strerror, exc.strerror
    else:
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == 2048
        key.CryptDestroyKey()
