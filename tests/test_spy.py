"""What csp11 asks the token for, seen from outside through OpenSC's pkcs11-spy."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .spy import Call, find_spy, spy_calls, ulong

pytestmark = pytest.mark.skipif(
    find_spy() is None, reason="pkcs11-spy.so (Debian package opensc) is not installed"
)

SCRIPT = textwrap.dedent(
    """
    from csp11 import win32crypt, win32cryptcon as c
    rsa = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                         Token=TOKEN)
    dss = win32crypt.CryptAcquireContext(None, None, c.PROV_DSS_DH, c.CRYPT_VERIFYCONTEXT,
                                         Token=TOKEN)
    rsa.CryptGenKey(c.CALG_AES_256, c.CRYPT_EXPORTABLE).CryptDestroyKey()
    rsa.CryptGenKey(c.CALG_AES_128, 0).CryptDestroyKey()
    rsa.CryptGenKey(c.CALG_DES, 0).CryptDestroyKey()
    rsa.CryptGenKey(c.CALG_3DES, c.CRYPT_ARCHIVABLE).CryptDestroyKey()
    rsa.CryptGenKey(c.AT_SIGNATURE, 2048 << 16).CryptDestroyKey()
    rsa.CryptGenKey(c.AT_KEYEXCHANGE, c.CRYPT_EXPORTABLE).CryptDestroyKey()
    dss.CryptGenKey(c.AT_SIGNATURE, 0).CryptDestroyKey()
    dss.CryptGenKey(c.AT_KEYEXCHANGE, 0).CryptDestroyKey()
    # The verify contexts' AT_* slots hold the last pairs until release.
    rsa.CryptReleaseContext()
    dss.CryptReleaseContext()
    """
)


@pytest.fixture(scope="module")
def calls(
    csp11_home: Path, softhsm2_module: str, embedded_pin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[Call]:
    return spy_calls(SCRIPT, csp11_home, softhsm2_module, tmp_path_factory.mktemp("spy"))


def _generated(calls: list[Call], name: str) -> list[Call]:
    # Leaving out the capability probes' keys (csp11.model.capabilities.PROBE_LABEL).
    return [c for c in calls if c.name == name and c.returned == "CKR_OK"
            and "csp11 probe" not in str(c.templates)]


def test_session_keys(calls: list[Call]) -> None:
    keys = [k for k in _generated(calls, "C_GenerateKey") if "PARAMETER" not in str(k.mechanism)]
    assert [k.mechanism for k in keys] == [
        "CKM_AES_KEY_GEN", "CKM_AES_KEY_GEN", "CKM_DES_KEY_GEN", "CKM_DES3_KEY_GEN",
    ]
    for key, extractable in zip(keys, (True, False, False, True), strict=True):
        t = key.templates["pTemplate"]
        assert t["CKA_CLASS"] == "CKO_SECRET_KEY"
        assert t["CKA_TOKEN"] is False
        assert t["CKA_SENSITIVE"] is True
        assert t["CKA_EXTRACTABLE"] is extractable
    assert ulong(keys[0].templates["pTemplate"]["CKA_VALUE_LEN"]) == 32
    assert ulong(keys[1].templates["pTemplate"]["CKA_VALUE_LEN"]) == 16
    # DES: SoftHSM2 refuses a CKA_VALUE_LEN; csp11 leaves it out.
    assert "CKA_VALUE_LEN" not in keys[2].templates["pTemplate"]


def test_key_pairs(calls: list[Call]) -> None:
    pairs = _generated(calls, "C_GenerateKeyPair")
    assert [p.mechanism for p in pairs] == [
        "CKM_RSA_PKCS_KEY_PAIR_GEN", "CKM_RSA_PKCS_KEY_PAIR_GEN",
        "CKM_DSA_KEY_PAIR_GEN", "CKM_DH_PKCS_KEY_PAIR_GEN",
    ]
    sign, keyx, dsa, dh = pairs
    assert ulong(sign.templates["pPublicKeyTemplate"]["CKA_MODULUS_BITS"]) == 2048
    assert ulong(keyx.templates["pPublicKeyTemplate"]["CKA_MODULUS_BITS"]) == 1024
    assert sign.templates["pPublicKeyTemplate"]["CKA_PUBLIC_EXPONENT"] == b"\x01\x00\x01"
    for pair, extractable in ((sign, False), (keyx, True), (dsa, False), (dh, False)):
        private = pair.templates["pPrivateKeyTemplate"]
        assert private["CKA_CLASS"] == "CKO_PRIVATE_KEY"
        assert private["CKA_SENSITIVE"] is True
        assert private["CKA_EXTRACTABLE"] is extractable
        assert private["CKA_TOKEN"] is False
        assert "CKA_ALWAYS_AUTHENTICATE" not in private
        assert pair.templates["pPublicKeyTemplate"]["CKA_TOKEN"] is False
    # A signature key may not decrypt or unwrap; an exchange key may.
    assert sign.templates["pPrivateKeyTemplate"]["CKA_DECRYPT"] is False
    assert sign.templates["pPrivateKeyTemplate"]["CKA_UNWRAP"] is False
    assert keyx.templates["pPrivateKeyTemplate"]["CKA_DECRYPT"] is True
    # DSS gets its domain parameters in the public template; DH a 1024-bit group.
    assert len(dsa.templates["pPublicKeyTemplate"]["CKA_PRIME"]) == 128  # type: ignore[arg-type]
    assert len(dsa.templates["pPublicKeyTemplate"]["CKA_SUBPRIME"]) == 20  # type: ignore[arg-type]
    assert len(dh.templates["pPublicKeyTemplate"]["CKA_PRIME"]) == 128  # type: ignore[arg-type]
    assert dh.templates["pPrivateKeyTemplate"]["CKA_DERIVE"] is True


def test_dss_parameters_are_made_on_the_token(calls: list[Call]) -> None:
    params = [
        c for c in _generated(calls, "C_GenerateKey") if c.mechanism == "CKM_DSA_PARAMETER_GEN"
    ]
    assert len(params) == 1
    assert ulong(params[0].templates["pTemplate"]["CKA_PRIME_BITS"]) == 1024
    # The 1024-bit DH key used a published group: no CKM_DH_PKCS_PARAMETER_GEN.
    assert not [c for c in calls if c.mechanism == "CKM_DH_PKCS_PARAMETER_GEN"]


def test_destroy_reaches_the_token(calls: list[Call]) -> None:
    destroyed = [c for c in calls if c.name == "C_DestroyObject" and c.returned == "CKR_OK"]
    # 4 secret keys + 4 pairs of two objects.
    assert len(destroyed) >= 12


def test_no_login_for_verify_context_keys(calls: list[Call]) -> None:
    assert not [c for c in calls if c.name == "C_Login"]


PROTECTED = textwrap.dedent(
    """
    from csp11 import win32crypt, win32cryptcon as c
    name = "spy-protected"
    try:
        win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_DELETEKEYSET,
                                       Token=TOKEN)
    except Exception:
        pass
    ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_NEWKEYSET,
                                         Token=TOKEN)
    ctx.CryptGenKey(c.AT_SIGNATURE, c.CRYPT_USER_PROTECTED).CryptDestroyKey()
    ctx.CryptGenKey(c.AT_KEYEXCHANGE, c.CRYPT_FORCE_KEY_PROTECTION_HIGH | c.CRYPT_EXPORTABLE)
    ctx.CryptGenKey(c.CALG_AES_128, c.CRYPT_USER_PROTECTED).CryptDestroyKey()
    ctx.CryptReleaseContext()
    win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_DELETEKEYSET, Token=TOKEN)
    """
)


def test_user_protected_keys(
    csp11_home: Path, softhsm2_module: str, embedded_pin: str, tmp_path: Path
) -> None:
    calls = spy_calls(PROTECTED, csp11_home, softhsm2_module, tmp_path)
    assert [c for c in calls if c.name == "C_Login"]
    pairs = _generated(calls, "C_GenerateKeyPair")
    assert len(pairs) == 2
    for pair in pairs:
        private = pair.templates["pPrivateKeyTemplate"]
        assert private["CKA_ALWAYS_AUTHENTICATE"] is True
        assert private["CKA_PRIVATE"] is True
        assert private["CKA_TOKEN"] is True  # a container's key pair is stored
        assert bytes(private["CKA_LABEL"]).startswith(b"csp11 user/spy-protected AT_")  # type: ignore[call-overload]
    assert pairs[0].templates["pPrivateKeyTemplate"]["CKA_EXTRACTABLE"] is False
    assert pairs[1].templates["pPrivateKeyTemplate"]["CKA_EXTRACTABLE"] is True
    secret = [c for c in _generated(calls, "C_GenerateKey") if c.mechanism == "CKM_AES_KEY_GEN"]
    assert secret[0].templates["pTemplate"]["CKA_PRIVATE"] is True
    assert secret[0].templates["pTemplate"]["CKA_TOKEN"] is False
    assert "CKA_ALWAYS_AUTHENTICATE" not in secret[0].templates["pTemplate"]
