"""A second kind of token: NSS's softokn, loaded directly (``x-init-reserved``).

It has what SoftHSM2 lacks — RC2 and RC4, DSA below 1024 bits — so the salt
rules of 40-bit keys and the RC2 effective length are tested here, against
the Windows-observed table (Wine's conformance tests, run on Windows).
"""

from __future__ import annotations

import ctypes
import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import (
    CKF_RW_SESSION,
    CKF_SERIAL_SESSION,
    CKR_OK,
    CKU_SO,
    Attribute,
)
from csp11.token.module import load_module
from csp11.win32crypt import PyCRYPTPROV

SOFTOKN_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
    "/usr/lib/aarch64-linux-gnu/libsoftokn3.so",
    "/usr/lib64/libsoftokn3.so",
    "/usr/lib/libsoftokn3.so",
)
SOFTOKN = next((p for p in SOFTOKN_CANDIDATES if os.path.exists(p)), None)
pytestmark = pytest.mark.skipif(SOFTOKN is None, reason="NSS softokn (libnss3) is not installed")


CERT_DB_PIN = "nss-user-pin"


@pytest.fixture(scope="module")
def nss_init(tmp_path_factory: pytest.TempPathFactory) -> str:
    """softokn's configuration (``x-init-reserved``) for a new database whose
    key-database token, NSS Certificate DB, has a user PIN.

    softokn is loaded once per process, with one configuration: every test of
    this module uses this database.  The PIN is set as a user would (C_InitPIN
    after the SO's login with the empty PIN of a new database) before csp11
    opens the token, so csp11 sees a token that needs a login.
    """
    assert SOFTOKN is not None
    db = tmp_path_factory.mktemp("nssdb")
    init = f"configdir='sql:{db}' certPrefix='' keyPrefix='' secmod='secmod.db' flags=''"
    module = load_module(SOFTOKN, init_reserved=init)
    ck = module.cryptoki
    slot = next(s.slot_id for s in module.lib.get_slots(token_present=True)
                if s.get_token().label == "NSS Certificate DB")
    handle = ctypes.c_ulong()
    assert ck.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, None, None,
                            ctypes.byref(handle)) == CKR_OK
    try:
        assert ck.login(handle.value, CKU_SO, "") == CKR_OK
        pin = CERT_DB_PIN.encode()
        assert ck.C_InitPIN(handle.value, pin, len(pin)) == CKR_OK
        ck.C_Logout(handle.value)
    finally:
        ck.C_CloseSession(handle.value)
    return init


def _uri(init: str, token: str, pin: str | None = None) -> str:
    return (
        f"pkcs11:token={urllib.parse.quote(token)}?module-path={SOFTOKN}"
        f"&x-init-reserved={urllib.parse.quote(init, safe='')}"
        + (f"&pin-value={pin}" if pin is not None else "")
    )


@pytest.fixture(scope="module")
def nss_uri(nss_init: str) -> str:
    return _uri(nss_init, "NSS Generic Crypto Services")


def _ctx(uri: str, provider: str, prov_type: int = con.PROV_RSA_FULL) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(None, provider, prov_type, con.CRYPT_VERIFYCONTEXT,
                                         Token=uri)
    assert ctx is not None
    return ctx


@pytest.fixture
def base(nss_uri: str) -> Iterator[PyCRYPTPROV]:
    with _ctx(nss_uri, con.MS_DEF_PROV) as ctx:
        yield ctx


@pytest.fixture
def enhanced(nss_uri: str) -> Iterator[PyCRYPTPROV]:
    with _ctx(nss_uri, con.MS_ENHANCED_PROV) as ctx:
        yield ctx


ZERO, RANDOM, NONE = "zero", "random", "none"
# (provider, flags, length) → (KP_KEYLEN, salt): Windows' answers for RC4.
SALT_TABLE = [
    (con.MS_DEF_PROV, 0, 0, 40, ZERO),
    (con.MS_DEF_PROV, 0, 40, 40, ZERO),
    (con.MS_DEF_PROV, con.CRYPT_NO_SALT, 40, 40, NONE),
    (con.MS_DEF_PROV, 0, 56, 56, NONE),
    (con.MS_DEF_PROV, con.CRYPT_CREATE_SALT, 56, 56, RANDOM),
    (con.MS_ENHANCED_PROV, 0, 0, 128, NONE),
    (con.MS_ENHANCED_PROV, 0, 40, 40, ZERO),
    (con.MS_ENHANCED_PROV, con.CRYPT_NO_SALT, 40, 40, NONE),
    (con.MS_ENHANCED_PROV, con.CRYPT_CREATE_SALT, 40, 40, NONE),
    (con.MS_ENHANCED_PROV, con.CRYPT_CREATE_SALT, 56, 56, NONE),
    (con.MS_ENHANCED_PROV, con.CRYPT_CREATE_SALT, 128, 128, NONE),
]


@pytest.mark.parametrize("algid", [con.CALG_RC4, con.CALG_RC2])
@pytest.mark.parametrize(("provider", "flags", "length", "keylen", "salt"), SALT_TABLE)
def test_salt_rules(
    nss_uri: str, algid: int, provider: str, flags: int, length: int, keylen: int, salt: str
) -> None:
    with _ctx(nss_uri, provider) as ctx, \
            ctx.CryptGenKey(algid, flags | con.CRYPT_EXPORTABLE | (length << 16)) as key:
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == keylen
        value = key.CryptGetKeyParam(con.KP_SALT)
        if salt == NONE:
            assert value == b""
        elif salt == ZERO:
            assert value == bytes(11)
        else:
            assert len(value) == 11
            assert any(value)
            with ctx.CryptGenKey(algid, flags | (length << 16)) as other:
                assert other.CryptGetKeyParam(con.KP_SALT) != value


def test_set_salt(base: PyCRYPTPROV) -> None:
    with base.CryptGenKey(con.CALG_RC4, 0) as key:
        key.CryptSetKeyParam(con.KP_SALT, bytes(range(11)))
        assert key.CryptGetKeyParam(con.KP_SALT) == bytes(range(11))
        key.CryptSetKeyParam(con.KP_SALT_EX, b"\x01\x02\x03")
        assert key.CryptGetKeyParam(con.KP_SALT) == b"\x01\x02\x03"
        key.CryptSetKeyParam(con.KP_SALT_EX, b"")
        assert key.CryptGetKeyParam(con.KP_SALT) == b""
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_SALT_EX, bytes(25))
        assert info.value.winerror == winerror.NTE_BAD_DATA
        with pytest.raises(pywintypes.error) as info:
            key.CryptSetKeyParam(con.KP_SALT, bytes(5))
        assert info.value.winerror == winerror.NTE_BAD_DATA


def test_rc2_effective_length(base: PyCRYPTPROV, enhanced: PyCRYPTPROV) -> None:
    with base.CryptGenKey(con.CALG_RC2, 56 << 16) as key:
        assert key.CryptGetKeyParam(con.KP_EFFECTIVE_KEYLEN) == 56
        key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, 40)
        for bad in (0, 56, 128):  # the Base provider allows only 40
            with pytest.raises(pywintypes.error) as info:
                key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, bad)
            assert info.value.winerror == winerror.NTE_BAD_DATA
    with enhanced.CryptGenKey(con.CALG_RC2, 0) as key:
        key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, 1024)
        assert key.CryptGetKeyParam(con.KP_EFFECTIVE_KEYLEN) == 1024
        for bad in (0, 1025):
            with pytest.raises(pywintypes.error) as info:
                key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, bad)
            assert info.value.winerror == winerror.NTE_BAD_DATA
    with enhanced.CryptGenKey(con.CALG_RC4, 0) as key, pytest.raises(pywintypes.error) as info:
        key.CryptSetKeyParam(con.KP_EFFECTIVE_KEYLEN, 40)
    assert info.value.winerror == winerror.NTE_BAD_TYPE


def test_rc_lengths(enhanced: PyCRYPTPROV) -> None:
    with enhanced.CryptGenKey(con.CALG_RC4, 48 << 16) as key:
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == 48
        assert key.CryptGetKeyParam(con.KP_BLOCKLEN) == 0
        assert key.CryptGetKeyParam(con.KP_MODE) == 0
    with pytest.raises(pywintypes.error) as info:
        enhanced.CryptGenKey(con.CALG_RC4, 44 << 16)
    assert info.value.winerror == winerror.NTE_BAD_FLAGS
    with pytest.raises(pywintypes.error) as info:
        enhanced.CryptGenKey(con.CALG_RC2, 136 << 16)
    assert info.value.winerror == winerror.ERROR_INVALID_PARAMETER
    with enhanced.CryptGenKey(con.CALG_RC2, 0) as key:
        assert key.CryptGetKeyParam(con.KP_BLOCKLEN) == 64
        assert key.CryptGetKeyParam(con.KP_IV) == bytes(8)


def test_dss_512_where_the_token_can(nss_uri: str) -> None:
    """NSS makes 512-bit DSA keys (SoftHSM2 cannot): the range is not clipped."""
    with _ctx(nss_uri, con.MS_DEF_DSS_PROV, con.PROV_DSS) as ctx:
        rows, flags = [], con.CRYPT_FIRST
        while True:
            try:
                rows.append(ctx.CryptGetProvParam(con.PP_ENUMALGS_EX, flags))
            except pywintypes.error:
                break
            flags = con.CRYPT_NEXT
        dss = next(r for r in rows if r.aiAlgid == con.CALG_DSS_SIGN)
        assert (dss.dwMinLen, dss.dwMaxLen) == (512, 1024)
        with ctx.CryptGenKey(con.AT_SIGNATURE, 512 << 16) as key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == 512
            assert len(key.CryptGetKeyParam(con.KP_Q)) == 20


def test_two_kinds_of_token_in_one_process(nss_uri: str, prov: PyCRYPTPROV) -> None:
    with _ctx(nss_uri, con.MS_ENHANCED_PROV) as nss:
        assert nss._state.token.label == "NSS Generic Crypto Services"
        assert prov._state.token.label == "csp11"
        with nss.CryptGenKey(con.CALG_RC4, 0), prov.CryptGenKey(con.CALG_AES_128, 0):
            pass
        with pytest.raises(pywintypes.error) as info:
            prov.CryptGenKey(con.CALG_RC4, 0)
        assert info.value.winerror == winerror.NTE_BAD_ALGID



# ---- RC2 and RC4 encryption (the token has them; SoftHSM2 does not) ----------------
def _plain_key(ctx: PyCRYPTPROV, algid: int, material: bytes) -> object:
    from csp11.formats.blobs import PlaintextKeyBlob

    return ctx.CryptImportKey(PlaintextKeyBlob(algid, material).to_bytes(), None,
                              con.CRYPT_NO_SALT)


def test_rc4_streams_across_calls_and_restarts_after_final(enhanced: PyCRYPTPROV) -> None:
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
    from cryptography.hazmat.primitives.ciphers import Cipher

    material = os.urandom(16)
    key: Any = _plain_key(enhanced, con.CALG_RC4, material)
    data = os.urandom(1000)
    out = key.CryptEncrypt(False, data[:333]) + key.CryptEncrypt(True, data[333:])
    reference = Cipher(ARC4(material), mode=None).encryptor().update(data)
    assert out == reference
    # Final restarts the keystream; encryption and decryption share it.
    assert key.CryptDecrypt(True, out) == data
    assert key.CryptEncrypt(True, data) == reference
    key.CryptDestroyKey()


@pytest.mark.parametrize("mode", [con.CRYPT_MODE_CBC, con.CRYPT_MODE_ECB, con.CRYPT_MODE_CFB])
def test_rc2_modes_round_trip(enhanced: PyCRYPTPROV, mode: int) -> None:
    material = os.urandom(16)
    key: Any = _plain_key(enhanced, con.CALG_RC2, material)
    key.CryptSetKeyParam(con.KP_MODE, mode)
    key.CryptSetKeyParam(con.KP_IV, bytes(range(8)))
    data = os.urandom(50)
    out = key.CryptEncrypt(True, data)
    assert len(out) == 56
    assert key.CryptDecrypt(True, out) == data
    assert key.CryptEncrypt(True, data) == out  # the chain restarted
    key.CryptDestroyKey()


def test_rc2_cbc_matches_an_independent_implementation(enhanced: PyCRYPTPROV) -> None:
    from cryptography.hazmat.decrepit.ciphers.algorithms import RC2
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    material = os.urandom(16)
    key: Any = _plain_key(enhanced, con.CALG_RC2, material)
    # The effective key length stays the key's (128 bits), as OpenSSL's RC2 has it.
    assert key.CryptGetKeyParam(con.KP_EFFECTIVE_KEYLEN) == 128
    iv = os.urandom(8)
    key.CryptSetKeyParam(con.KP_IV, iv)
    data = os.urandom(40)
    padder = padding.PKCS7(64).padder()
    encryptor = Cipher(RC2(material), modes.CBC(iv)).encryptor()
    expected = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
    assert key.CryptEncrypt(True, data) == expected
    key.CryptDestroyKey()


def test_rc2_mac(enhanced: PyCRYPTPROV) -> None:
    key: Any = _plain_key(enhanced, con.CALG_RC2, os.urandom(16))
    h = enhanced.CryptCreateHash(con.CALG_MAC, key)
    h.CryptHashData(b"twenty-three bytes long")
    mac = h.CryptGetHashParam(con.HP_HASHVAL)
    # The MAC is the last block of the CBC encryption (zero IV, PKCS #5 padding).
    assert mac == key.CryptEncrypt(True, b"twenty-three bytes long")[-8:]
    key.CryptDestroyKey()


def test_salted_keys_do_not_encrypt(base: PyCRYPTPROV) -> None:
    for algid in (con.CALG_RC4, con.CALG_RC2):
        key = base.CryptGenKey(algid, 0)  # 40 bits with eleven zero bytes of salt
        assert key.CryptGetKeyParam(con.KP_SALT) == bytes(11)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptEncrypt(True, b"data")
        assert exc.value.winerror == winerror.NTE_BAD_KEY
        assert "salted" in exc.value.strerror
        key.CryptDestroyKey()
        unsalted = base.CryptGenKey(algid, con.CRYPT_NO_SALT)
        assert unsalted.CryptDecrypt(True, unsalted.CryptEncrypt(True, b"data")) == b"data"
        unsalted.CryptDestroyKey()


# ---- key containers: softokn keeps none (its tokens refuse csp11's records) -------
def _token_objects(uri: str) -> list[int]:
    """The handles of every token object the token shows a logged-in user."""
    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT,
                                         Token=uri)
    assert ctx is not None
    with ctx:
        state: Any = ctx._state
        state.login()
        _pooled, (found,) = state.token.find([{Attribute.TOKEN: True}], state.pins)
        return sorted(obj.handle for obj in found)


def test_certificate_db_refuses_containers_in_words(nss_init: str) -> None:
    """NSS Certificate DB takes no token CKO_DATA object (measured:
    CKR_ATTRIBUTE_VALUE_INVALID, logged in or not), so it cannot keep a
    container: NTE_NOT_SUPPORTED naming the token, the CKR only in ``.ckr``,
    and the token as it was."""
    uri = _uri(nss_init, "NSS Certificate DB", CERT_DB_PIN)
    before = _token_objects(uri)
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-container", None, con.PROV_RSA_AES,
                                       con.CRYPT_NEWKEYSET, Token=uri)
    assert info.value.winerror == winerror.NTE_NOT_SUPPORTED
    assert info.value.strerror == (
        "token 'NSS Certificate DB' cannot keep csp11 key containers: it refuses their "
        "records, private data objects"
    )
    assert info.value.ckr == "CKR_ATTRIBUTE_VALUE_INVALID"
    assert _token_objects(uri) == before
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-container", None, con.PROV_RSA_AES, 0, Token=uri)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET


@pytest.mark.parametrize("pin", [None, "any"])
def test_generic_crypto_services_refuses_containers_in_words(
    nss_init: str, pin: str | None
) -> None:
    """NSS Generic Crypto Services is write-protected (it makes no token
    objects) and has no user: it logs nobody in (C_Login: CKR_USER_TYPE_INVALID)
    and has no PIN to ask for.  CRYPT_NEWKEYSET says why before trying either."""
    uri = _uri(nss_init, "NSS Generic Crypto Services", pin)
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-container", None, con.PROV_RSA_AES,
                                       con.CRYPT_NEWKEYSET | con.CRYPT_SILENT, Token=uri)
    assert info.value.winerror == winerror.NTE_NOT_SUPPORTED
    assert info.value.strerror == (
        "token 'NSS Generic Crypto Services' cannot keep csp11 key containers: it is "
        "write-protected and makes no token objects"
    )
    assert "CKR_" not in info.value.strerror


@pytest.mark.parametrize("pin", [None, "some-pin"], ids=["no-pin", "with-pin"])
@pytest.mark.parametrize("flags", [0, con.CRYPT_DELETEKEYSET], ids=["open", "delete"])
def test_generic_crypto_services_has_no_containers_to_open(
    nss_init: str, pin: str | None, flags: int
) -> None:
    """A token with no user (no login required, no user PIN) is not logged in
    to: opening or deleting a container there finds none (NTE_BAD_KEYSET), rather
    than a raw CKR_USER_TYPE_INVALID from C_Login or a prompt for a PIN it lacks.
    Deleting takes the container's lock, a record the token refuses: said in words."""
    uri = _uri(nss_init, "NSS Generic Crypto Services", pin)
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-container", None, con.PROV_RSA_AES,
                                       flags | con.CRYPT_SILENT, Token=uri)
    expected = winerror.NTE_NOT_SUPPORTED if flags else winerror.NTE_BAD_KEYSET
    assert info.value.winerror == expected, info.value.strerror
    assert "CKR_" not in info.value.strerror
