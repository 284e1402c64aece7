"""Export, import and data operations seen from outside through OpenSC's pkcs11-spy:
the PKCS#11 calls, mechanisms and templates, and the token's own refusals."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from .conftest import REPO
from .spy import Call, find_spy, spy_calls

pytestmark = pytest.mark.skipif(
    find_spy() is None, reason="pkcs11-spy.so (Debian package opensc) is not installed"
)
_VECTORS = REPO / "tests" / "data" / "windows-kat.json"

SCRIPT = textwrap.dedent(
    """
    from csp11 import pywintypes, win32crypt, win32cryptcon as c
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                         Token=TOKEN)
    kept = ctx.CryptImportKey(bytes.fromhex(PRIVATE))          # not exportable
    try:
        kept.CryptExportKey(None, c.PRIVATEKEYBLOB)
    except pywintypes.error:
        pass
    kept._state.permissions |= c.CRYPT_EXPORT                  # csp11's check out of the way
    try:
        kept.CryptExportKey(None, c.PRIVATEKEYBLOB)
        raise SystemExit("exported a non-exportable key")
    except pywintypes.error as exc:
        assert exc.ckr == "CKR_KEY_UNEXTRACTABLE", exc
    session = ctx.CryptGenKey(c.CALG_AES_256, c.CRYPT_EXPORTABLE)
    simple = session.CryptExportKey(kept, c.SIMPLEBLOB)
    again = ctx.CryptImportKey(simple, kept)                   # not exportable
    data = again.CryptEncrypt(True, b"x" * 100)
    h = ctx.CryptCreateHash(c.CALG_SHA_256)
    h.CryptHashData(b"y" * 100)                                 # small: one C_Digest
    h.CryptGetHashParam(c.HP_HASHVAL)
    big = ctx.CryptCreateHash(c.CALG_SHA1)
    for _ in range(3):
        big.CryptHashData(b"z" * 900_000)                       # large: multi-part
    big.CryptGetHashParam(c.HP_HASHVAL)
    """
)


@pytest.fixture(scope="module")
def calls(
    csp11_home: Path, softhsm2_module: str, embedded_pin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Call]:
    private = json.loads(_VECTORS.read_text())["blobs"]["abPlainPrivateKey"]
    return spy_calls(f"PRIVATE = {private!r}\n" + SCRIPT, csp11_home, softhsm2_module,
                     tmp_path_factory.mktemp("spy-ops"))


def _without_probes(calls: list[Call]) -> list[Call]:
    """The calls without csp11's capability probes (a key labelled "csp11 probe",
    one block encrypted with it, the key destroyed)."""
    kept, probing = [], False
    for call in calls:
        if call.name == "C_GenerateKey" and "csp11 probe" in str(call.templates):
            probing = True
        if not probing:
            kept.append(call)
        elif call.name == "C_DestroyObject":
            probing = False
    return kept


def _named(calls: list[Call], name: str) -> list[Call]:
    return [c for c in _without_probes(calls) if c.name == name]


def test_imported_private_key_is_sensitive_and_unextractable(calls: list[Call]) -> None:
    private = [c for c in _named(calls, "C_CreateObject")
               if c.templates.get("pTemplate", {}).get("CKA_CLASS") == "CKO_PRIVATE_KEY"]
    assert len(private) == 1
    template = private[0].templates["pTemplate"]
    assert template["CKA_SENSITIVE"] is True
    assert template["CKA_EXTRACTABLE"] is False
    assert template["CKA_TOKEN"] is False


def test_the_token_refuses_to_wrap_it(calls: list[Call]) -> None:
    wraps = _named(calls, "C_WrapKey")
    refused = [c for c in wraps if c.returned == "CKR_KEY_UNEXTRACTABLE"]
    assert len(refused) == 1
    assert refused[0].mechanism == "0x0000210A"  # CKM_AES_KEY_WRAP_PAD (the spy has no name)
    # The SIMPLEBLOB: the session key wrapped with the RSA public key (python-pkcs11
    # calls C_WrapKey twice: for the size, then for the bytes).
    assert {c.mechanism for c in wraps if c.returned == "CKR_OK"} == {"CKM_RSA_PKCS"}


def test_simpleblob_unwraps_on_the_token(calls: list[Call]) -> None:
    (unwrap,) = _named(calls, "C_UnwrapKey")
    assert unwrap.mechanism == "CKM_RSA_PKCS"
    assert unwrap.returned == "CKR_OK"
    template = unwrap.templates["pTemplate"]
    assert template["CKA_SENSITIVE"] is True
    assert template["CKA_EXTRACTABLE"] is False
    assert template["CKA_TOKEN"] is False


def test_data_operations_run_on_the_token(calls: list[Call]) -> None:
    assert {c.mechanism for c in _named(calls, "C_EncryptInit")} == {"CKM_AES_CBC"}
    assert [c.mechanism for c in _named(calls, "C_DigestInit")] == ["CKM_SHA256", "CKM_SHA_1"]
    assert {c.returned for c in _named(calls, "C_Digest")} == {"CKR_OK"}
    # 2.7 MB in three calls: two kept (up to 2 MiB), then the operation started.
    assert len(_named(calls, "C_DigestUpdate")) == 3
    assert [c.returned for c in _named(calls, "C_DigestFinal")] == ["CKR_OK"]
