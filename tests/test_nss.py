"""A second kind of token: NSS's softokn, loaded directly (``x-init-reserved``).

It has what SoftHSM2 lacks — RC2 and RC4, DSA below 1024 bits — so the salt
rules of 40-bit keys and the RC2 effective length are tested here, against
the Windows-observed table (Wine's conformance tests, run on Windows).
Its key-database token, NSS Certificate DB, keeps no token data objects:
key containers live there with their records in secret keys, checked below
(docs/containers.md, "Where the records live").
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as asympad
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from csp11 import interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import (
    CKF_RW_SESSION,
    CKF_SERIAL_SESSION,
    CKR_OK,
    CKU_SO,
)
from csp11.token.module import load_module
from csp11.win32crypt import PyCRYPTPROV

from . import test_container_protocol as protocol
from .conftest import REPO
from .helpers import container_names, enumerated
from .nss_token import SOFTOKN, init_string, outside, uri

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
    init = init_string(tmp_path_factory.mktemp("nssdb"))
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
    return uri(init, token, pin)


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
        rows = enumerated(ctx, con.PP_ENUMALGS_EX)
        dss = next(r for r in rows if r.aiAlgid == con.CALG_DSS_SIGN)
        assert (dss.dwMinLen, dss.dwMaxLen) == (512, 1024)
        with ctx.CryptGenKey(con.AT_SIGNATURE, 512 << 16) as key:
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == 512
            assert len(key.CryptGetKeyParam(con.KP_Q)) == 20


def test_two_key_3des_whatever_size_the_token_reports(nss_uri: str) -> None:
    """softokn reports CKM_DES2_KEY_GEN's key sizes as 24..24 (bytes), which
    PKCS#11 leaves unused for the DES family: CALG_3DES_112 is offered at 112
    bits all the same, generates and round-trips, and a known key encrypts
    byte for byte as cryptography's TripleDES with the key K1K2K1."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives import padding

    with _ctx(nss_uri, con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES) as ctx:
        rows = enumerated(ctx, con.PP_ENUMALGS_EX)
        two = [r for r in rows if r.aiAlgid == con.CALG_3DES_112]
        assert [(r.dwDefaultLen, r.dwMinLen, r.dwMaxLen) for r in two] == [(112, 112, 112)]
        data = os.urandom(29)
        with ctx.CryptGenKey(con.CALG_3DES_112, 0) as key:
            assert key.CryptGetKeyParam(con.KP_BLOCKLEN) == 64
            out = key.CryptEncrypt(True, data)
            assert len(out) == 32 and key.CryptDecrypt(True, out) == data
        material = os.urandom(16)
        known: Any = _plain_key(ctx, con.CALG_3DES_112, material)
        iv = os.urandom(8)
        known.CryptSetKeyParam(con.KP_IV, iv)
        padder = padding.PKCS7(64).padder()
        encryptor = Cipher(TripleDES(material + material[:8]), modes.CBC(iv)).encryptor()
        expected = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
        assert known.CryptEncrypt(True, data) == expected
        known.CryptDestroyKey()


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


# ---- key containers on NSS Certificate DB (records in secret keys) ----------------
# NSS Certificate DB keeps no token CKO_DATA object (CKR_ATTRIBUTE_VALUE_INVALID,
# logged in or not): csp11's container records are private secret keys there
# (docs/containers.md, "Where the records live").  Every process below names
# the token by URI, as a user's programs would; the checks of what is on the
# token come from tests.nss_token.outside, a process that is not csp11.
def _in_process(code: str, uri: str, *argv: str, quirk: bool = True) -> Any:
    """Run csp11 ``code`` in a process of its own (``uri``, ``argv`` and ``out``
    given); returns the JSON of ``out``.  ``quirk=False`` takes NSS softokn out
    of the quirk table first: the process finds out what the token refuses."""
    prelude = textwrap.dedent(
        """
        import json, sys
        from csp11 import pywintypes, win32crypt, winerror, win32cryptcon as c
        from csp11.token import quirks
        if sys.argv[2] == "0":
            quirks._TABLE = tuple(r for r in quirks._TABLE if r[2].name != "nss-softokn")
        uri, argv, out = sys.argv[1], sys.argv[3:], {}
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code) + "\nprint(json.dumps(out))",
         uri, "1" if quirk else "0", *argv],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


_MAKE = """
ctx = win32crypt.CryptAcquireContext(argv[0], None, c.PROV_RSA_AES, c.CRYPT_NEWKEYSET, Token=uri)
for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
    ctx.CryptGenKey(spec, int(argv[1]) << 16).CryptDestroyKey()
from csp11.model.capabilities import token_model
out["records"] = token_model(ctx._state.token).describe()["container_records"]
ctx.CryptReleaseContext()
"""

_DELETE = """
try:
    ctx = win32crypt.CryptAcquireContext(argv[0], None, c.PROV_RSA_AES, 0, Token=uri)
    ctx.CryptGetUserKey(c.AT_KEYEXCHANGE).CryptDestroyKey()
    from csp11.model.capabilities import token_model
    out["records"] = token_model(ctx._state.token).describe()["container_records"]
    ctx.CryptReleaseContext()
    out["deleted"] = win32crypt.CryptAcquireContext(argv[0], None, c.PROV_RSA_AES,
                                                    c.CRYPT_DELETEKEYSET, Token=uri)
except pywintypes.error as exc:
    out["error"] = winerror.name_of(exc.winerror)
"""

_RECORD_ID = b"csp11\x00".hex()  # application ‖ 0x00 ‖ JSON record (csp11.core.records)


def _of(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [r for r in rows if str(r["LABEL"]).startswith(f"csp11 user/{name}")]


def test_certificate_db_keeps_a_container(nss_init: str) -> None:
    """The container story on NSS Certificate DB: made with both RSA-2048 pairs in
    one process; opened in this one (which had the database open, and had looked
    for the container, before the other process made it: softokn's sql: store
    shows it anyway), signing (checked by cryptography from the PUBLICKEYBLOB) and
    unwrapping a SIMPLEBLOB; listed; deleted by a third process, after which this
    one no longer finds it and the token holds what it held before."""
    uri = _uri(nss_init, "NSS Certificate DB", CERT_DB_PIN)
    before = outside(nss_init, CERT_DB_PIN)
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-box", None, con.PROV_RSA_AES, 0, Token=uri)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET
    made = _in_process(_MAKE, uri, "nss-box", "2048")
    assert made["records"] == {"carrier": "secret keys", "why": "quirk nss-softokn"}

    # What is on the token, seen from outside: one marker, a secret key that can
    # do nothing as a key, and the two pairs; no claim, no intent, no data object.
    rows = _of(outside(nss_init, CERT_DB_PIN, attack=True), "nss-box")
    marker = [r for r in rows if r["CLASS"] == 4]
    assert len(marker) == 1 and marker[0]["LABEL"] == "csp11 user/nss-box", rows
    record = marker[0]
    assert record["KEY_TYPE"] == 0x10 and record["ID"].startswith(_RECORD_ID)
    assert json.loads(bytes.fromhex(record["ID"][len(_RECORD_ID):]))["name"] == "nss-box"
    assert {k: record[k] for k in ("PRIVATE", "SENSITIVE", "EXTRACTABLE", "MODIFIABLE")} == {
        "PRIVATE": True, "SENSITIVE": True, "EXTRACTABLE": False, "MODIFIABLE": False}
    usage = ("ENCRYPT", "DECRYPT", "WRAP", "UNWRAP", "SIGN", "VERIFY", "DERIVE")
    assert not any(record[k] for k in usage), record
    assert record["read_VALUE"] == "SENSITIVE" and record["sign_init"] != "0x0", record
    pairs = sorted((r["CLASS"], r["LABEL"]) for r in rows if r["CLASS"] in (2, 3))
    assert pairs == [(cls, f"csp11 user/nss-box {spec}") for cls in (2, 3)
                     for spec in ("AT_KEYEXCHANGE", "AT_SIGNATURE")]
    assert len(rows) == 5, rows
    assert all(r["CLASS"] != 0 for r in outside(nss_init, CERT_DB_PIN))

    ctx = win32crypt.CryptAcquireContext("nss-box", None, con.PROV_RSA_AES, 0, Token=uri)
    assert ctx is not None
    with ctx:
        assert "nss-box" in container_names(ctx)
        for spec in (con.AT_SIGNATURE, con.AT_KEYEXCHANGE):
            key = ctx.CryptGetUserKey(spec)
            public: Any = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
            assert public.key_size == 2048
            h = ctx.CryptCreateHash(con.CALG_SHA_256)
            h.CryptHashData(b"on NSS Certificate DB")
            public.verify(h.CryptSignHash(spec)[::-1], b"on NSS Certificate DB",
                          asympad.PKCS1v15(), hashes.SHA256())
        secret = os.urandom(16)
        exchange = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        public = interop.key_from_blob(exchange.CryptExportKey(None, con.PUBLICKEYBLOB))
        blob = (bytes([con.SIMPLEBLOB, 2, 0, 0]) + con.CALG_AES_128.to_bytes(4, "little")
                + con.CALG_RSA_KEYX.to_bytes(4, "little")
                + public.encrypt(secret, asympad.PKCS1v15())[::-1])
        session = ctx.CryptImportKey(blob, exchange, 0)
        encryptor = Cipher(algorithms.AES(secret), modes.CBC(bytes(16))).encryptor()
        expected = encryptor.update(b"sixteen bytes!!!" + bytes([16]) * 16) + encryptor.finalize()
        assert session.CryptEncrypt(True, b"sixteen bytes!!!") == expected

    deleted = _in_process(_DELETE, uri, "nss-box")
    assert deleted == {"records": made["records"], "deleted": None}
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext("nss-box", None, con.PROV_RSA_AES, 0, Token=uri)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET
    assert outside(nss_init, CERT_DB_PIN) == before


def test_a_token_that_refuses_data_objects_is_found_out(nss_init: str) -> None:
    """Without the quirk table's word, a process learns the carrier from the token:
    its first record (the lock's claim) is refused as a data object and goes to
    secret keys; a second process, which has written nothing, finds the marker
    there when its search of data objects comes back empty."""
    uri = _uri(nss_init, "NSS Certificate DB", CERT_DB_PIN)
    before = outside(nss_init, CERT_DB_PIN)
    made = _in_process(_MAKE, uri, "nss-learnt", "1024", quirk=False)
    assert made["records"] == {
        "carrier": "secret keys",
        "why": "the token refused a data object (CKR_ATTRIBUTE_VALUE_INVALID)"}
    assert [r["CLASS"] for r in _of(outside(nss_init, CERT_DB_PIN), "nss-learnt")].count(4) == 1
    deleted = _in_process(_DELETE, uri, "nss-learnt", quirk=False)
    assert deleted == {"records": {"carrier": "secret keys",
                                   "why": "records found in secret keys"}, "deleted": None}
    assert outside(nss_init, CERT_DB_PIN) == before


def test_keys_commands_on_certificate_db(nss_init: str) -> None:
    """``csp11 keys create/list/delete`` as a user runs them, with CSP11_TOKEN."""
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "CSP11_TOKEN": _uri(nss_init, "NSS Certificate DB", CERT_DB_PIN)}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "csp11", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        assert "CKR_" not in done.stderr
        return done.stdout + done.stderr

    before = outside(nss_init, CERT_DB_PIN)
    assert "created key container 'nss-cli'" in cli("keys", "create", "nss-cli")
    listed = json.loads(cli("keys", "list", "--json"))["containers"]
    mine = [c for c in listed if c["name"] == "nss-cli"]
    assert len(mine) == 1 and not mine[0]["found"], listed
    assert [(k["spec"], k["bits"], k["exportable"]) for k in mine[0]["keys"]] == [
        ("exchange", 2048, False)]
    info = json.loads(cli("info", "--json"))
    assert info["token"]["label"] == "NSS Certificate DB"
    assert info["capabilities"]["container_records"]["carrier"] == "secret keys"
    assert "deleted key container 'nss-cli'" in cli("keys", "delete", "nss-cli", "--yes")
    assert "nss-cli" not in cli("keys", "list")
    assert outside(nss_init, CERT_DB_PIN) == before


# The lock protocol (tests/test_container_protocol.py, there on SoftHSM2): a
# representative part on NSS Certificate DB, with the same writer processes.
_NSS_CRASHES = [("create", "claims-read"), ("genkey", "commit-marker-written"),
                ("delete", "delete-markers-destroyed")]


def _protocol_env(nss_init: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO),
            "CSP11_TOKEN": _uri(nss_init, "NSS Certificate DB", CERT_DB_PIN)}


def _writer(nss_init: str, name: str, op: str, step: str = "-",
            action: str = "-") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", protocol._WRITER, name, op, step, action],
        env=_protocol_env(nss_init), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def _outcome(proc: subprocess.Popen[str]) -> str:
    return protocol._result(proc)


def _clean(nss_init: str, name: str) -> None:
    """After one more call: one marker (or none), a pair per named spec, nothing else."""
    opened = _outcome(_writer(nss_init, name, "getkey"))
    assert opened in protocol.ALLOWED, opened
    rows = _of(outside(nss_init, CERT_DB_PIN), name)
    markers = [r for r in rows if r["CLASS"] == 4 and r["LABEL"] == f"csp11 user/{name}"]
    keys = [r for r in rows if r["CLASS"] in (2, 3)]
    if opened == "NTE_BAD_KEYSET":
        assert markers == []
        assert _outcome(_writer(nss_init, name, "create")) == "ok"
        rows = _of(outside(nss_init, CERT_DB_PIN), name)
        assert [r["CLASS"] for r in rows] == [4], rows
    else:
        assert len(markers) == 1, rows
        assert len(keys) == (2 if opened == "ok" else 0), rows
        assert len(rows) == 1 + len(keys), rows  # no claim, no intent
    assert _outcome(_writer(nss_init, name, "delete")) == "ok"
    assert _of(outside(nss_init, CERT_DB_PIN), name) == []


def _setup(nss_init: str, name: str, op: str) -> None:
    if protocol.SETUP[op] == "keyed":
        assert _outcome(_writer(nss_init, name, "create")) == "ok"
        assert _outcome(_writer(nss_init, name, "genkey")) == "ok"


def _killed(nss_init: str, op: str, step: str) -> None:
    name = f"nss-kill-{op}-{step}"
    _setup(nss_init, name, op)
    proc = _writer(nss_init, name, op, step, "kill")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    _clean(nss_init, name)


@pytest.mark.parametrize(("op", "step"), _NSS_CRASHES, ids=[f"{o}@{s}" for o, s in _NSS_CRASHES])
def test_lock_protocol_writer_killed(nss_init: str, op: str, step: str) -> None:
    _killed(nss_init, op, step)


_OTHER_CRASHES = [c for c in protocol.CRASHES if c not in _NSS_CRASHES]


@pytest.mark.slow
@pytest.mark.parametrize(("op", "step"), _OTHER_CRASHES,
                         ids=[f"{o}@{s}" for o, s in _OTHER_CRASHES])
def test_lock_protocol_writer_killed_at_every_other_step(nss_init: str, op: str,
                                                         step: str) -> None:
    _killed(nss_init, op, step)


@pytest.mark.slow
@pytest.mark.parametrize(("op", "step", "other"), protocol.INTERLEAVINGS,
                         ids=[f"{o}@{s}+{x}" for o, s, x in protocol.INTERLEAVINGS])
def test_lock_protocol_every_interleaving(nss_init: str, op: str, step: str,
                                          other: str) -> None:
    name = f"nss-il-{op}-{step}-{other}"
    _setup(nss_init, name, op)
    first = _writer(nss_init, name, op, step, "pause")
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "paused"
    second = _writer(nss_init, name, other)
    time.sleep(0.5)  # the second call runs now, or waits for the first's lock
    first.stdin.write("\n")
    first.stdin.flush()
    results = {_outcome(first), _outcome(second)}
    assert results <= protocol.ALLOWED, results
    _clean(nss_init, name)


def test_lock_protocol_two_writers_at_the_commit_point(nss_init: str) -> None:
    """A writer stopped at its commit point, inside the lock, while another
    process makes a key in the same container: the second waits for the lock
    (its claim is on the token beside the first's), both end well, one pair stays."""
    name = "nss-interleave"
    assert _outcome(_writer(nss_init, name, "create")) == "ok"
    assert _outcome(_writer(nss_init, name, "genkey")) == "ok"
    first = _writer(nss_init, name, "genkey", "commit-marker-written", "pause")
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "paused"
    second = _writer(nss_init, name, "genkey")
    time.sleep(0.5)  # the second is now waiting for the lock
    claims = [r for r in _of(outside(nss_init, CERT_DB_PIN), name)
              if r["LABEL"] == f"csp11 user/{name} (lock)"]
    assert len(claims) >= 1 and all(r["CLASS"] == 4 for r in claims), claims
    first.stdin.write("\n")
    first.stdin.flush()
    assert {_outcome(first), _outcome(second)} == {"ok"}
    _clean(nss_init, name)


def test_lock_protocol_three_processes_race(nss_init: str) -> None:
    name = "nss-race"
    before = outside(nss_init, CERT_DB_PIN)
    racers = [subprocess.Popen([sys.executable, "-c", protocol._RACER, name, "2"],
                               env=_protocol_env(nss_init), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(3)]
    seen: set[str] = set()
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err[-2000:]
        counts, why = json.loads(out.splitlines()[-1])
        assert set(counts) <= protocol.ALLOWED, (counts, why)
        seen.update(counts)
    assert "ok" in seen
    with contextlib.suppress(pywintypes.error):
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET,
                                       Token=_uri(nss_init, "NSS Certificate DB", CERT_DB_PIN))
    assert outside(nss_init, CERT_DB_PIN) == before


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


@pytest.mark.parametrize(("algid", "size"), [
    (con.CALG_AES_128, 16), (con.CALG_AES_256, 32), (con.CALG_3DES, 24), (con.CALG_DES, 8),
])
def test_plaintext_export_of_a_key_on_softokn(nss_uri: str, algid: int, size: int) -> None:
    """softokn's CKM_AES_KEY_WRAP_PAD is RFC 3394 over PKCS #7-padded material
    (not RFC 5649, as SoftHSM2's): a PLAINTEXTKEYBLOB export gives back the
    very material imported (was NTE_FAIL, "did not unwrap")."""
    from csp11.formats.blobs import PlaintextKeyBlob

    material = bytes(range(1, size + 1))
    if algid in (con.CALG_3DES, con.CALG_DES):  # odd parity, as DES keys are kept
        material = bytes(b | (bin(b >> 1).count("1") + 1) % 2 for b in (x & 0xFE for x in material))
    with _ctx(nss_uri, con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES) as ctx:
        key = ctx.CryptImportKey(PlaintextKeyBlob(algid, material).to_bytes(), None,
                                 con.CRYPT_EXPORTABLE)
        exported = key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        key.CryptDestroyKey()
    assert exported == PlaintextKeyBlob(algid, material).to_bytes()
