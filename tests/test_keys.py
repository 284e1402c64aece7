"""Key handles: flags of CryptGenKey, key parameters, destroy and duplicate,
CRYPT_PREGEN, certificates — and what the token itself enforces, checked with
python-pkcs11 directly (another PKCS#11 client than csp11)."""

from __future__ import annotations

import datetime
import struct
from collections.abc import Iterator
from typing import Any

import pkcs11
import pkcs11.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import Attribute
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

from .helpers import public_key_of, token_objects

VERIFY = con.CRYPT_VERIFYCONTEXT


def _ctx(prov_type: int = con.PROV_RSA_AES, flags: int = VERIFY) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(None, None, prov_type, flags)
    assert ctx is not None
    return ctx


@pytest.fixture
def dss() -> Iterator[PyCRYPTPROV]:
    with _ctx(con.PROV_DSS_DH) as ctx:
        yield ctx


def _code(info: pytest.ExceptionInfo[pywintypes.error]) -> int:
    return info.value.winerror


def _raw(key: PyCRYPTKEY, attr: Attribute, public: bool = False) -> object:
    """Read an attribute through python-pkcs11 itself (not csp11's key state)."""
    tkey = key._state.tkey
    assert tkey is not None
    obj: Any = tkey.public if public else tkey.obj
    return tkey.token.run_on(tkey.home, "read", lambda s: obj[attr])


# ---- flags ------------------------------------------------------------------------------
def test_exportable_maps_to_extractable(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE) as key:
        assert _raw(key, Attribute.EXTRACTABLE) is True
        assert _raw(key, Attribute.SENSITIVE) is True
        assert _raw(key, Attribute.TOKEN) is False
    with prov.CryptGenKey(con.CALG_AES_256, 0) as key:
        assert _raw(key, Attribute.EXTRACTABLE) is False
        assert _raw(key, Attribute.NEVER_EXTRACTABLE) is True
        assert _raw(key, Attribute.SENSITIVE) is True


def test_key_pair_protection_attributes(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.AT_KEYEXCHANGE, 0) as key:
        assert _raw(key, Attribute.EXTRACTABLE) is False
        assert _raw(key, Attribute.SENSITIVE) is True
        assert _raw(key, Attribute.DECRYPT) is True
        assert _raw(key, Attribute.PUBLIC_EXPONENT, public=True) == b"\x01\x00\x01"
    with prov.CryptGenKey(con.AT_SIGNATURE, con.CRYPT_EXPORTABLE) as key:
        assert _raw(key, Attribute.EXTRACTABLE) is True
        # A signature key cannot decrypt, enforced by the token (Windows: NTE_BAD_KEY).
        assert _raw(key, Attribute.DECRYPT) is False
        assert _raw(key, Attribute.SIGN) is True


def test_non_exportable_key_resists_another_client(prov: PyCRYPTPROV) -> None:
    """python-pkcs11 used directly, on its own session, can neither read nor wrap it."""
    with prov.CryptGenKey(con.CALG_AES_128, 0) as secret, \
            prov.CryptGenKey(con.AT_KEYEXCHANGE, 0) as kek:
        assert secret._state.tkey is not None and kek._state.tkey is not None
        token = prov._state.token
        handle = secret._state.tkey.obj.handle  # type: ignore[union-attr]
        wrapping: Any = kek._state.tkey.public

        def attack(session: pkcs11.Session) -> list[str]:
            outcomes = []
            for obj in session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY}):
                if obj.handle != handle:
                    continue
                try:
                    obj[pkcs11.Attribute.VALUE]
                    outcomes.append("read")
                except pkcs11.exceptions.AttributeSensitive:
                    outcomes.append("sensitive")
                try:
                    wrapping.wrap_key(obj)
                    outcomes.append("wrapped")
                except pkcs11.exceptions.KeyUnextractable:
                    outcomes.append("unextractable")
            return outcomes

        assert token.run("attack", attack) == ["sensitive", "unextractable"]


def test_archivable(prov: PyCRYPTPROV) -> None:
    key = prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_ARCHIVABLE)
    assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B | con.CRYPT_ARCHIVE
    # Exportable through this handle: the token object is extractable ...
    assert _raw(key, Attribute.EXTRACTABLE) is True
    handle = key._state.tkey.obj.handle if key._state.tkey and key._state.tkey.obj else None
    key.CryptDestroyKey()
    # ... and gone with the handle.
    found = prov._state.token.run("find", lambda s: [o.handle for o in s.get_objects(
        {Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY})])
    assert handle not in found


@pytest.mark.parametrize("flag", [con.CRYPT_CREATE_IV, con.CRYPT_DATA_KEY, con.CRYPT_KEK,
                                  con.CRYPT_INITIATOR, con.CRYPT_ONLINE, con.CRYPT_RECIPIENT,
                                  con.CRYPT_SF, con.CRYPT_SGCKEY, con.CRYPT_VOLATILE])
def test_unused_flags_are_accepted(prov: PyCRYPTPROV, flag: int) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, flag) as key:
        assert key.CryptGetKeyParam(con.KP_ALGID) == con.CALG_AES_128


@pytest.mark.parametrize("flag", [con.CRYPT_USER_PROTECTED, con.CRYPT_FORCE_KEY_PROTECTION_HIGH])
@pytest.mark.parametrize("algid", [con.AT_SIGNATURE, con.CALG_AES_128])
def test_protection_on_verify_context_is_silent_context(
    prov: PyCRYPTPROV, flag: int, algid: int
) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGenKey(algid, flag)
    assert _code(info) == winerror.NTE_SILENT_CONTEXT


def test_length_in_flags_or_keylen() -> None:
    with _ctx(con.PROV_RSA_FULL) as ctx:
        with ctx.CryptGenKey(con.CALG_RSA_SIGN, 0, 768) as key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == 768
        with ctx.CryptGenKey(con.CALG_RSA_SIGN, 768 << 16, 768) as key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == 768
        with ctx.CryptGenKey(con.AT_KEYEXCHANGE, con.RSA1024BIT_KEY) as key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == 1024
            assert key.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_KEYX
        with pytest.raises(pywintypes.error) as info:
            ctx.CryptGenKey(con.CALG_RSA_SIGN, 768 << 16, 1024)
        assert _code(info) == winerror.NTE_BAD_FLAGS


def test_signed_flags_from_pywin32(prov: PyCRYPTPROV) -> None:
    # pywin32 code may pass a length shifted into the sign bit: 0x8000 << 16.
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGenKey(con.CALG_RSA_KEYX, -0x80000000)
    assert _code(info) == winerror.ERROR_INVALID_PARAMETER  # 32768 bits > 16384


def test_released_provider(prov: PyCRYPTPROV) -> None:
    ctx = _ctx()
    key = ctx.CryptGenKey(con.CALG_AES_128, 0)
    ctx.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        ctx.CryptGenKey(con.CALG_AES_128, 0)
    assert _code(info) == winerror.NTE_BAD_UID
    # The context's keys went with it.
    with pytest.raises(pywintypes.error) as info:
        key.CryptGetKeyParam(con.KP_ALGID)
    assert _code(info) == winerror.ERROR_INVALID_HANDLE


def test_type_errors(prov: PyCRYPTPROV) -> None:
    with pytest.raises(TypeError):
        prov.CryptGenKey("AES", 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        prov.CryptGenKey(con.CALG_AES_128, None)  # type: ignore[arg-type]


# ---- destroy, duplicate -------------------------------------------------------------------
def test_destroy_removes_session_objects(prov: PyCRYPTPROV) -> None:
    def count(session: pkcs11.Session) -> int:
        return len(list(session.get_objects({pkcs11.Attribute.TOKEN: False})))

    before = prov._state.token.run("count", count)
    ctx = _ctx()
    keys = [ctx.CryptGenKey(con.CALG_AES_128, 0), ctx.CryptGenKey(con.AT_SIGNATURE, 0)]
    assert prov._state.token.run("count", count) == before + 3
    for key in keys:
        key.CryptDestroyKey()
        key.CryptDestroyKey()  # twice is harmless
    # The verify context's AT_SIGNATURE slot keeps the pair (as on Windows)...
    assert prov._state.token.run("count", count) == before + 2
    ctx.CryptReleaseContext()
    # ... until the context is released.
    assert prov._state.token.run("count", count) == before
    with pytest.raises(pywintypes.error) as info:
        keys[0].CryptGetKeyParam(con.KP_KEYLEN)
    assert _code(info) == winerror.ERROR_INVALID_HANDLE
    assert info.value.funcname == "CryptGetKeyParam"


def test_dropped_handles_are_released(prov: PyCRYPTPROV) -> None:
    import gc

    def count(session: pkcs11.Session) -> int:
        return len(list(session.get_objects({pkcs11.Attribute.TOKEN: False})))

    before = prov._state.token.run("count", count)
    for _ in range(5):
        prov.CryptGenKey(con.CALG_AES_128, 0)  # never destroyed
    gc.collect()
    prov.CryptGenRandom(1)  # the next token call releases them
    assert prov._state.token.run("count", count) == before


def test_duplicate(prov: PyCRYPTPROV) -> None:
    key = prov.CryptGenKey(con.CALG_AES_128, 0)
    key.CryptSetKeyParam(con.KP_IV, b"\x01" * 16)
    twin = key.CryptDuplicateKey()
    assert twin.HCRYPTKEY != key.HCRYPTKEY
    assert twin.HCRYPTPROV == key.HCRYPTPROV == prov.HCRYPTPROV
    assert twin.CryptGetKeyParam(con.KP_IV) == b"\x01" * 16
    twin.CryptSetKeyParam(con.KP_IV, b"\x02" * 16)
    assert key.CryptGetKeyParam(con.KP_IV) == b"\x01" * 16  # state is per handle
    key.CryptDestroyKey()
    assert twin.CryptGetKeyParam(con.KP_KEYLEN) == 128  # the key lives on in the twin
    assert _raw(twin, Attribute.VALUE_LEN) == 16
    twin.CryptDestroyKey()
    with pytest.raises(pywintypes.error) as info:
        key.CryptDuplicateKey(1)
    assert _code(info) == winerror.ERROR_INVALID_PARAMETER


# ---- key parameters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("algid", "keylen", "blocklen", "mode", "iv"),
    [
        (con.CALG_DES, 64, 64, con.CRYPT_MODE_CBC, 8),
        (con.CALG_3DES_112, 128, 64, con.CRYPT_MODE_CBC, 8),
        (con.CALG_3DES, 192, 64, con.CRYPT_MODE_CBC, 8),
        (con.CALG_AES_128, 128, 128, con.CRYPT_MODE_CBC, 16),
        (con.CALG_AES_256, 256, 128, con.CRYPT_MODE_CBC, 16),
    ],
)
def test_session_key_defaults(
    prov: PyCRYPTPROV, algid: int, keylen: int, blocklen: int, mode: int, iv: int
) -> None:
    with prov.CryptGenKey(algid, 0) as key:
        get = key.CryptGetKeyParam
        assert get(con.KP_ALGID) == algid
        assert get(con.KP_KEYLEN) == keylen
        assert get(con.KP_BLOCKLEN) == blocklen
        assert get(con.KP_MODE) == mode
        assert get(con.KP_IV) == bytes(iv)
        assert get(con.KP_PADDING) == con.PKCS5_PADDING
        assert get(con.KP_MODE_BITS) == 8
        assert get(con.KP_PERMISSIONS) == 0x3B
        with pytest.raises(pywintypes.error) as info:  # rsaenh: only RC2/RC4 have a salt
            get(con.KP_SALT)
        assert _code(info) == winerror.NTE_BAD_KEY


def test_rsa_key_params(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.AT_KEYEXCHANGE, 1536 << 16) as key:
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == 1536
        assert key.CryptGetKeyParam(con.KP_BLOCKLEN) == 1536
        assert key.CryptGetKeyParam(con.KP_MODE) == 0
        with pytest.raises(pywintypes.error) as info:
            key.CryptGetKeyParam(con.KP_SALT)
        assert _code(info) == winerror.NTE_BAD_KEY
        # KP_IV is KP_BLOCKLEN/8 bytes (Microsoft), zeros: what rsaenh answers.
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(1536 // 8)
        for param in (con.KP_P, con.KP_Y):
            with pytest.raises(pywintypes.error) as info:
                key.CryptGetKeyParam(param)
            assert _code(info) == winerror.NTE_BAD_TYPE
        public = public_key_of(key)
        assert isinstance(public, rsa.RSAPublicKey)
        assert public.key_size == 1536


def test_get_and_set_errors(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        for bad in (0, 999, con.KP_ADMIN_PIN):
            with pytest.raises(pywintypes.error) as info:
                key.CryptGetKeyParam(bad)
            assert _code(info) == winerror.NTE_BAD_TYPE
        with pytest.raises(pywintypes.error) as info:
            key.CryptGetKeyParam(con.KP_ALGID, 1)
        assert _code(info) == winerror.NTE_BAD_FLAGS
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_KEYLEN, 64)
        assert _code(info) == winerror.NTE_BAD_TYPE
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_IV, bytes(16), 1)
        assert _code(info) == winerror.NTE_BAD_FLAGS
        with pytest.raises(TypeError):
            key.CryptSetKeyParam(con.KP_IV, "0" * 16)


def test_set_iv_mode_padding(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        key.CryptSetKeyParam(con.KP_IV, bytes(range(16)))
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(range(16))
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_IV, bytes(8))
        assert _code(info) == winerror.NTE_BAD_DATA
        for mode in (con.CRYPT_MODE_ECB, con.CRYPT_MODE_CFB, con.CRYPT_MODE_CBC):
            key.CryptSetKeyParam(con.KP_MODE, mode)
            assert key.CryptGetKeyParam(con.KP_MODE) == mode
        for mode in (con.CRYPT_MODE_OFB, con.CRYPT_MODE_CTS, 99):
            with pytest.raises(pywintypes.error) as info:
                key.CryptSetKeyParam(con.KP_MODE, mode)
            assert _code(info) == winerror.NTE_BAD_DATA
            assert key.CryptGetKeyParam(con.KP_MODE) == con.CRYPT_MODE_CBC
        key.CryptSetKeyParam(con.KP_PADDING, con.PKCS5_PADDING)
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_PADDING, con.ZERO_PADDING)
        assert _code(info) == winerror.NTE_BAD_DATA
        key.CryptSetKeyParam(con.KP_MODE_BITS, 8)
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_MODE_BITS, 64)
        assert _code(info) == winerror.NTE_BAD_DATA


def test_salt_only_for_rc2_rc4(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        for param in (con.KP_SALT, con.KP_SALT_EX):
            with pytest.raises(pywintypes.error) as info:
                key.CryptSetKeyParam(param, bytes(11))
            assert _code(info) == winerror.NTE_BAD_KEY
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, 40)
        assert _code(info) == winerror.NTE_BAD_TYPE
        assert key.CryptGetKeyParam(con.KP_EFFECTIVE_KEYLEN) == 128


def test_permissions(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3F)  # adding EXPORT
        assert _code(info) == winerror.NTE_BAD_DATA
        key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B & ~con.CRYPT_MAC)
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B & ~con.CRYPT_MAC
    with prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as key:
        assert _raw(key, Attribute.EXTRACTABLE) is True
        key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3B)  # withdraw export ...
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        assert _raw(key, Attribute.EXTRACTABLE) is False  # ... on the token too
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_PERMISSIONS, 0x3F)
        assert _code(info) == winerror.NTE_BAD_DATA


# ---- DSS and DH ------------------------------------------------------------------------------
def test_dss_params(dss: PyCRYPTPROV) -> None:
    with dss.CryptGenKey(con.AT_SIGNATURE, 0) as key:
        p, q, g, y = (key.CryptGetKeyParam(x) for x in (con.KP_P, con.KP_Q, con.KP_G, con.KP_Y))
        assert len(p) == 128 and len(q) == 20 and len(y) <= 128
        pn, qn, gn = (int.from_bytes(v, "little") for v in (p, q, g))
        assert pn.bit_length() == 1024 and qn.bit_length() == 160
        assert (pn - 1) % qn == 0 and pow(gn, qn, pn) == 1
        assert pow(gn, 0, pn) == 1
        assert key.CryptGetKeyParam(con.KP_VERIFY_PARAMS) == b""
        with pytest.raises(pywintypes.error) as info:
            key.CryptGetKeyParam(con.KP_X)
        assert _code(info) == winerror.NTE_BAD_KEY_STATE
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_P, p)
        assert _code(info) == winerror.NTE_FIXEDPARAMETER


def test_dh_uses_published_groups(dss: PyCRYPTPROV) -> None:
    from csp11.formats.dhgroups import GROUPS

    with dss.CryptGenKey(con.CALG_DH_EPHEM, 4096 << 16) as key:
        assert int.from_bytes(key.CryptGetKeyParam(con.KP_P), "little") == GROUPS[4096].prime
        assert int.from_bytes(key.CryptGetKeyParam(con.KP_G), "little") == 2
        with pytest.raises(pywintypes.error) as info:
            key.CryptGetKeyParam(con.KP_Q)
        assert _code(info) == winerror.NTE_BAD_TYPE


def test_pregen_dh(dss: PyCRYPTPROV) -> None:
    with dss.CryptGenKey(con.CALG_DH_SF, 512 << 16) as model:
        p, g = model.CryptGetKeyParam(con.KP_P), model.CryptGetKeyParam(con.KP_G)
    shell = dss.CryptGenKey(con.CALG_DH_SF, (512 << 16) | con.CRYPT_PREGEN | con.CRYPT_EXPORTABLE)
    with pytest.raises(pywintypes.error) as info:
        shell.CryptGetKeyParam(con.KP_P)
    assert _code(info) == winerror.NTE_BAD_KEY_STATE
    with pytest.raises(pywintypes.error) as info:
        shell.CryptSetKeyParam(con.KP_X, None)  # P and G first
    assert _code(info) == winerror.NTE_BAD_KEY_STATE
    with pytest.raises(pywintypes.error) as info:
        shell.CryptSetKeyParam(con.KP_P, p + b"\x01")  # 520 bits, not 512
    assert _code(info) == winerror.NTE_BAD_LEN
    shell.CryptSetKeyParam(con.KP_P, p)
    shell.CryptSetKeyParam(con.KP_G, g)
    shell.CryptSetKeyParam(con.KP_X, None)
    assert shell.CryptGetKeyParam(con.KP_P) == p
    assert len(shell.CryptGetKeyParam(con.KP_Y)) <= 64
    assert _raw(shell, Attribute.EXTRACTABLE) is True
    with pytest.raises(pywintypes.error) as info:
        shell.CryptSetKeyParam(con.KP_X, None)  # not a shell any more
    assert _code(info) == winerror.NTE_FIXEDPARAMETER
    shell.CryptDestroyKey()


def test_pregen_dss_with_pub_params(dss: PyCRYPTPROV) -> None:
    with dss.CryptGenKey(con.AT_SIGNATURE, 0) as model:
        p, q, g = (model.CryptGetKeyParam(x) for x in (con.KP_P, con.KP_Q, con.KP_G))
    blob = struct.pack("<IIII", 0x33535344, 1024, 160, 0) + struct.pack("<I", 0xFFFFFFFF)
    blob += bytes(20) + p + q + g.ljust(128, b"\0")
    for data in (blob, struct.pack("<BBHI", con.PUBLICKEYBLOB, 3, 0, con.CALG_DSS_SIGN) + blob):
        shell = dss.CryptGenKey(con.CALG_DSS_SIGN, con.CRYPT_PREGEN)
        shell.CryptSetKeyParam(con.KP_PUB_PARAMS, data)
        shell.CryptSetKeyParam(con.KP_X, None)
        assert shell.CryptGetKeyParam(con.KP_Q) == q
        assert shell.CryptGetKeyParam(con.KP_VERIFY_PARAMS) == b""
        shell.CryptDestroyKey()
    shell = dss.CryptGenKey(con.CALG_DSS_SIGN, con.CRYPT_PREGEN)
    with pytest.raises(pywintypes.error) as info:
        shell.CryptSetKeyParam(con.KP_PUB_PARAMS, b"\0" * 10)
    assert _code(info) == winerror.NTE_BAD_LEN


def test_verify_params_detects_bad_parameters(dss: PyCRYPTPROV) -> None:
    shell = dss.CryptGenKey(con.CALG_DH_SF, (512 << 16) | con.CRYPT_PREGEN)
    shell.CryptSetKeyParam(con.KP_P, (2**511 + 1).to_bytes(64, "little"))  # not prime
    shell.CryptSetKeyParam(con.KP_G, (2).to_bytes(64, "little"))
    with pytest.raises(pywintypes.error) as info:
        shell.CryptGetKeyParam(con.KP_VERIFY_PARAMS)
    assert _code(info) == winerror.NTE_BAD_DATA
    shell.CryptDestroyKey()



def test_pregen_with_parameters_that_do_not_verify_is_bad_data(dss: PyCRYPTPROV) -> None:
    # They reached C_GenerateKeyPair, whose CKR_GENERAL_ERROR came out as NTE_FAIL.
    with dss.CryptGenKey(con.AT_SIGNATURE, 0) as model:
        p, q, g = (model.CryptGetKeyParam(x) for x in (con.KP_P, con.KP_Q, con.KP_G))
    before = token_objects(dss)
    not_prime = (int.from_bytes(p, "little") + 2).to_bytes(len(p), "little")
    for algid, values in (
        (con.CALG_DSS_SIGN, {con.KP_P: not_prime, con.KP_Q: q, con.KP_G: g}),
        (con.CALG_DSS_SIGN, {con.KP_P: p, con.KP_Q: q, con.KP_G: (5).to_bytes(128, "little")}),
        (con.CALG_DH_SF, {con.KP_P: not_prime, con.KP_G: g}),
        (con.CALG_DH_EPHEM, {con.KP_P: p, con.KP_G: (1).to_bytes(128, "little")}),
    ):
        shell = dss.CryptGenKey(algid, (1024 << 16) | con.CRYPT_PREGEN)
        for param, value in values.items():
            shell.CryptSetKeyParam(param, value)
        with pytest.raises(pywintypes.error) as info:
            shell.CryptSetKeyParam(con.KP_X, None)
        assert _code(info) == winerror.NTE_BAD_DATA
        shell.CryptDestroyKey()
    assert token_objects(dss) == before

# ---- certificates ---------------------------------------------------------------------------
def _self_signed_for(public: rsa.RSAPublicKey) -> bytes:
    signer = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csp11 test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(public).serial_number(1234567)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(signer, hashes.SHA256())
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def test_certificate(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.AT_SIGNATURE, 0) as key:
        with pytest.raises(pywintypes.error) as info:
            key.CryptGetKeyParam(con.KP_CERTIFICATE)
        assert _code(info) == winerror.SCARD_E_NO_SUCH_CERTIFICATE
        der = _self_signed_for(public_key_of(key))
        key.CryptSetKeyParam(con.KP_CERTIFICATE, der)
        assert key.CryptGetKeyParam(con.KP_CERTIFICATE) == der
        other = _self_signed_for(rsa.generate_private_key(65537, 1024).public_key())
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_CERTIFICATE, other)
        assert _code(info) == winerror.NTE_BAD_PUBLIC_KEY
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_CERTIFICATE, b"not a certificate")
        assert _code(info) == winerror.NTE_BAD_DATA
    with prov.CryptGenKey(con.CALG_AES_128, 0) as secret, pytest.raises(pywintypes.error) as info:
        secret.CryptSetKeyParam(con.KP_CERTIFICATE, der)
    assert _code(info) == winerror.NTE_BAD_KEY


def test_a_damaged_certificate_is_bad_data_not_nte_fail(prov: PyCRYPTPROV) -> None:
    # cryptography parses a certificate's fields lazily: damage in the key's
    # algorithm (UnsupportedAlgorithm), the version (InvalidVersion) or the
    # names (ValueError on first read) used to come out as NTE_FAIL.
    with prov.CryptGenKey(con.AT_SIGNATURE, 0) as key:
        der = _self_signed_for(public_key_of(key))
        rsa_oid = bytes.fromhex("06092a864886f70d010101")
        assert rsa_oid in der
        unknown_key_algorithm = der.replace(rsa_oid, rsa_oid[:-1] + b"\x7f", 1)
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_CERTIFICATE, unknown_key_algorithm)
        assert _code(info) == winerror.NTE_BAD_DATA
        allowed = {winerror.NTE_BAD_DATA, winerror.NTE_BAD_PUBLIC_KEY}
        for at in range(len(der)):
            for value in (0x00, 0x05, 0x7F, 0xFF):
                damaged = der[:at] + bytes([value]) + der[at + 1 :]
                try:
                    key.CryptSetKeyParam(con.KP_CERTIFICATE, damaged)
                except pywintypes.error as exc:
                    assert exc.winerror in allowed, (at, value, exc)
