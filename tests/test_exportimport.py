"""CryptExportKey / CryptImportKey on the token: Windows vectors, every BLOB type,
cross-checks with ``cryptography``, what the token enforces, malformed input."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.asymmetric import dsa, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import (
    aes_key_unwrap_with_padding,
    aes_key_wrap_with_padding,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csp11 import interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.formats.blobs import (
    DhPrivateBlob,
    DhPublicBlob,
    DssSeed,
    PlaintextKeyBlob,
    SimpleBlob,
    dsa_private_to_blob,
    parse_key_blob,
    rsa_private_from_blob,
    rsa_public_to_blob,
)
from csp11.win32crypt import PyCRYPTPROV

from .conftest import REPO
from .helpers import code_name as _code
from .helpers import token_objects as _objects

_VECTORS = REPO / "tests" / "data" / "windows-kat.json"
VERIFY = con.CRYPT_VERIFYCONTEXT


def _blobs() -> dict[str, bytes]:
    data = json.loads(_VECTORS.read_text())["blobs"]
    return {name: bytes.fromhex(value) for name, value in data.items()}


def _ctx(prov_type: int = con.PROV_RSA_AES, container: str | None = None,
         flags: int = VERIFY) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(container, None, prov_type, flags)
    assert ctx is not None
    return ctx


@pytest.fixture
def dss() -> Iterator[PyCRYPTPROV]:
    with _ctx(con.PROV_DSS_DH) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def rsa_keyx() -> Iterator[Any]:
    """An exportable RSA exchange key of a module-wide context (1024 bits: fast)."""
    ctx = _ctx()
    key = ctx.CryptGenKey(con.CALG_RSA_KEYX, con.CRYPT_EXPORTABLE | (1024 << 16))
    yield key
    ctx.CryptReleaseContext()


# ---- Windows vectors -----------------------------------------------------------------
def test_windows_private_key_round_trips_byte_for_byte(prov: PyCRYPTPROV) -> None:
    blob = _blobs()["abPlainPrivateKey"]
    with prov.CryptImportKey(blob, None, con.CRYPT_EXPORTABLE) as key:
        assert key.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_KEYX
        assert key.CryptGetKeyParam(con.KP_KEYLEN) == 1024
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3F
        assert key.CryptExportKey(None, con.PRIVATEKEYBLOB) == blob
        # The public half is what cryptography computes from the same numbers.
        parsed = parse_key_blob(blob)
        private = rsa_private_from_blob(parsed)  # type: ignore[arg-type]
        expected = rsa_public_to_blob(private.public_key(), con.CALG_RSA_KEYX).to_bytes()
        assert key.CryptExportKey(None, con.PUBLICKEYBLOB) == expected


@pytest.mark.parametrize("name", ["abPlainPublicKey", "abPubKey"])
def test_windows_public_keys_round_trip(prov: PyCRYPTPROV, name: str) -> None:
    blob = _blobs()[name]
    with prov.CryptImportKey(blob) as key:
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        assert key.CryptExportKey(None, con.PUBLICKEYBLOB) == blob
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PRIVATEKEYBLOB)
        assert exc.value.winerror in (winerror.NTE_BAD_KEY_STATE, winerror.NTE_BAD_KEY)


def test_imported_private_key_without_exportable_stays_on_the_token(prov: PyCRYPTPROV) -> None:
    blob = _blobs()["abPlainPrivateKey"]
    with prov.CryptImportKey(blob) as key:
        assert key.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PRIVATEKEYBLOB)
        assert _code(exc) == "NTE_BAD_KEY_STATE"
        # Even with csp11's own check out of the way the token refuses.
        key._state.permissions |= con.CRYPT_EXPORT
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PRIVATEKEYBLOB)
        assert _code(exc) == "NTE_BAD_KEY_STATE"
        assert exc.value.ckr == "CKR_KEY_UNEXTRACTABLE"


# ---- key pairs -----------------------------------------------------------------------------
def test_generated_pair_exports_only_when_exportable(prov: PyCRYPTPROV) -> None:
    with prov.CryptGenKey(con.CALG_RSA_SIGN, 1024 << 16) as key:
        public = key.CryptExportKey(None, con.PUBLICKEYBLOB)
        assert public[:8] == struct.pack("<BBHI", 6, 2, 0, con.CALG_RSA_SIGN)
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PRIVATEKEYBLOB)
        assert _code(exc) == "NTE_BAD_KEY_STATE"
        key._state.permissions |= con.CRYPT_EXPORT  # the token still says no
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(None, con.PRIVATEKEYBLOB)
        assert exc.value.ckr == "CKR_KEY_UNEXTRACTABLE"


def test_exported_private_key_matches_the_public_key(rsa_keyx: Any) -> None:
    private_blob = rsa_keyx.CryptExportKey(None, con.PRIVATEKEYBLOB)
    private = interop.key_from_blob(private_blob)
    assert isinstance(private, rsa.RSAPrivateKey)
    public = interop.key_from_blob(rsa_keyx.CryptExportKey(None, con.PUBLICKEYBLOB))
    assert public == private.public_key()
    assert len(private_blob) == 20 + 9 * 1024 // 16


@pytest.mark.parametrize("alg", [con.CALG_DSS_SIGN, con.CALG_DH_SF])
@pytest.mark.parametrize("ver3", [0, con.CRYPT_BLOB_VER3])
def test_dss_and_dh_pairs_round_trip(dss: PyCRYPTPROV, alg: int, ver3: int) -> None:
    with dss.CryptGenKey(alg, con.CRYPT_EXPORTABLE | (1024 << 16)) as key:
        private = key.CryptExportKey(None, con.PRIVATEKEYBLOB, ver3)
        public = key.CryptExportKey(None, con.PUBLICKEYBLOB, ver3)
        assert private[1] == (3 if ver3 else 2)
        with dss.CryptImportKey(private, None, con.CRYPT_EXPORTABLE) as again:
            assert again.CryptExportKey(None, con.PRIVATEKEYBLOB, ver3) == private
            assert again.CryptExportKey(None, con.PUBLICKEYBLOB, ver3) == public
            assert again.CryptGetKeyParam(con.KP_P) == key.CryptGetKeyParam(con.KP_P)


def test_dss_seed_survives_import_and_export(dss: PyCRYPTPROV) -> None:
    key = dsa.generate_private_key(1024)
    seed = DssSeed(1234, os.urandom(20))
    blob = dsa_private_to_blob(key, con.CALG_DSS_SIGN, seed).to_bytes()
    with dss.CryptImportKey(blob, None, con.CRYPT_EXPORTABLE) as imported:
        assert imported.CryptExportKey(None, con.PRIVATEKEYBLOB) == blob
        duplicate = imported.CryptDuplicateKey()
        assert duplicate.CryptExportKey(None, con.PRIVATEKEYBLOB) == blob
        public = interop.key_from_blob(imported.CryptExportKey(None, con.PUBLICKEYBLOB))
        assert public == key.public_key()
        duplicate.CryptDestroyKey()


def test_private_key_goes_to_the_container_slot_its_algid_names() -> None:
    name = f"import-{os.getpid()}-{os.urandom(4).hex()}"
    sign_key = rsa.generate_private_key(65537, 1024)
    keyx_blob = _blobs()["abPlainPrivateKey"]
    sign_blob = interop.blob_from_key(sign_key, con.CALG_RSA_SIGN)
    with _ctx(container=name, flags=con.CRYPT_NEWKEYSET) as ctx:
        ctx.CryptImportKey(keyx_blob, None, con.CRYPT_EXPORTABLE).CryptDestroyKey()
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptGetUserKey(con.AT_SIGNATURE)
        assert _code(exc) == "NTE_NO_KEY"
        ctx.CryptImportKey(sign_blob).CryptDestroyKey()
        # A PUBLICKEYBLOB leaves the container as it is.
        ctx.CryptImportKey(_blobs()["abPubKey"]).CryptDestroyKey()
    with _ctx(container=name, flags=0) as ctx:
        keyx = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        assert keyx.CryptExportKey(None, con.PRIVATEKEYBLOB) == keyx_blob
        sign = ctx.CryptGetUserKey(con.AT_SIGNATURE)
        assert sign.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
        public = interop.key_from_blob(sign.CryptExportKey(None, con.PUBLICKEYBLOB))
        assert public == sign_key.public_key()
        keyx.CryptDestroyKey()
        sign.CryptDestroyKey()
        # Importing again replaces the slot's key.
        other = interop.blob_from_key(rsa.generate_private_key(65537, 1024), con.CALG_RSA_SIGN)
        ctx.CryptImportKey(other, None, con.CRYPT_EXPORTABLE).CryptDestroyKey()
        again = ctx.CryptGetUserKey(con.AT_SIGNATURE)
        assert again.CryptExportKey(None, con.PRIVATEKEYBLOB) == other
        again.CryptDestroyKey()
    win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET)


# ---- session keys ---------------------------------------------------------------------------
_SESSION = [con.CALG_DES, con.CALG_3DES_112, con.CALG_3DES, con.CALG_AES_128,
            con.CALG_AES_192, con.CALG_AES_256]


@pytest.mark.parametrize("alg", _SESSION)
def test_session_key_blobs_round_trip_and_cross_check(
    prov: PyCRYPTPROV, rsa_keyx: Any, alg: int
) -> None:
    rsa_private = interop.key_from_blob(rsa_keyx.CryptExportKey(None, con.PRIVATEKEYBLOB))
    assert isinstance(rsa_private, rsa.RSAPrivateKey)
    kek = prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE)
    kek_bytes = parse_key_blob(kek.CryptExportKey(None, con.PLAINTEXTKEYBLOB)).key  # type: ignore[union-attr]
    with prov.CryptGenKey(alg, con.CRYPT_EXPORTABLE) as key:
        plain = key.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        material = parse_key_blob(plain).key  # type: ignore[union-attr]
        assert len(material) == key.CryptGetKeyParam(con.KP_KEYLEN) // 8
        # PLAINTEXTKEYBLOB
        with prov.CryptImportKey(plain, None, con.CRYPT_EXPORTABLE) as again:
            assert again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
        # SIMPLEBLOB, PKCS #1 v1.5 and OAEP: cryptography decrypts the reversed bytes.
        for oaep, pad in ((0, padding.PKCS1v15()), (con.CRYPT_OAEP, padding.OAEP(
                padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))):
            simple = key.CryptExportKey(rsa_keyx, con.SIMPLEBLOB, oaep)
            assert simple[:12] == struct.pack("<BBHII", 1, 2, 0, alg, con.CALG_RSA_KEYX)
            assert rsa_private.decrypt(simple[12:][::-1], pad) == material
            with prov.CryptImportKey(simple, rsa_keyx, oaep | con.CRYPT_EXPORTABLE) as again:
                assert again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
            # ... and the other way round: cryptography encrypts, csp11 imports.
            foreign = SimpleBlob.from_ciphertext(
                alg, con.CALG_RSA_KEYX, rsa_private.public_key().encrypt(material, pad)
            ).to_bytes()
            with prov.CryptImportKey(foreign, rsa_keyx, oaep | con.CRYPT_EXPORTABLE) as again:
                assert again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
        # SYMMETRICWRAPKEYBLOB: RFC 5649 under the AES key.
        wrapped = key.CryptExportKey(kek, con.SYMMETRICWRAPKEYBLOB)
        assert aes_key_unwrap_with_padding(kek_bytes, wrapped[12:]) == material
        with prov.CryptImportKey(wrapped, kek, con.CRYPT_EXPORTABLE) as again:
            assert again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
        foreign = wrapped[:12] + aes_key_wrap_with_padding(kek_bytes, material)
        with prov.CryptImportKey(foreign, kek) as again:
            assert again.CryptGetKeyParam(con.KP_PERMISSIONS) == 0x3B
    kek.CryptDestroyKey()


def test_non_exportable_session_key_never_leaves(prov: PyCRYPTPROV, rsa_keyx: Any) -> None:
    kek = prov.CryptGenKey(con.CALG_AES_128, 0)
    with prov.CryptGenKey(con.CALG_AES_128, 0) as key:
        for exp, kind in ((None, con.PLAINTEXTKEYBLOB), (rsa_keyx, con.SIMPLEBLOB),
                          (kek, con.SYMMETRICWRAPKEYBLOB)):
            with pytest.raises(pywintypes.error) as exc:
                key.CryptExportKey(exp, kind)
            assert _code(exc) == "NTE_BAD_KEY_STATE"
            key._state.permissions |= con.CRYPT_EXPORT  # csp11 told to allow it: the token refuses
            with pytest.raises(pywintypes.error) as exc:
                key.CryptExportKey(exp, kind)
            assert exc.value.ckr == "CKR_KEY_UNEXTRACTABLE"
            key._state.permissions &= ~con.CRYPT_EXPORT
    kek.CryptDestroyKey()


def test_export_errors(prov: PyCRYPTPROV, rsa_keyx: Any) -> None:
    with prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as key:
        cases = [
            (key, None, con.PUBLICKEYBLOB, 0, "NTE_BAD_KEY"),
            (key, None, con.PRIVATEKEYBLOB, 0, "NTE_BAD_KEY"),
            (key, None, 0x55, 0, "NTE_BAD_TYPE"),
            (key, None, con.OPAQUEKEYBLOB, 0, "NTE_BAD_TYPE"),
            (key, None, con.PLAINTEXTKEYBLOB, 0x1000, "NTE_BAD_FLAGS"),
            # Microsoft's CryptExportKey page: NTE_NO_KEY when a session key is exported and
            # hExpKey is no public key (Wine's rsaenh: NTE_BAD_PUBLIC_KEY, marked FIXME there)
            (key, None, con.SIMPLEBLOB, 0, "NTE_NO_KEY"),
            (key, key, con.SIMPLEBLOB, 0, "NTE_BAD_KEY"),
            (key, rsa_keyx, con.PLAINTEXTKEYBLOB, 0, "NTE_BAD_KEY"),
            (key, rsa_keyx, con.SYMMETRICWRAPKEYBLOB, 0, "NTE_BAD_KEY"),
            (rsa_keyx, key, con.PUBLICKEYBLOB, 0, "NTE_BAD_KEY"),
            (rsa_keyx, None, con.PLAINTEXTKEYBLOB, 0, "NTE_BAD_KEY"),
        ]
        for subject, exp, kind, flag_bits, code in cases:
            with pytest.raises(pywintypes.error) as exc:
                subject.CryptExportKey(exp, kind, flag_bits)
            assert (_code(exc), exc.value.funcname) == (code, "CryptExportKey"), (kind, code)
    with pytest.raises(TypeError):
        rsa_keyx.CryptExportKey("not a key", con.PUBLICKEYBLOB)


def test_import_errors(prov: PyCRYPTPROV, rsa_keyx: Any) -> None:
    aes = PlaintextKeyBlob(con.CALG_AES_128, bytes(16)).to_bytes()
    session = prov.CryptGenKey(con.CALG_AES_128, 0)
    cases: list[tuple[bytes, Any, int, str]] = [
        (aes, None, 0x8000, "NTE_BAD_FLAGS"),
        (PlaintextKeyBlob(con.CALG_AES_128, bytes(15)).to_bytes(), None, 0, "NTE_BAD_DATA"),
        (PlaintextKeyBlob(con.CALG_AES_256, bytes(16)).to_bytes(), None, 0, "NTE_BAD_DATA"),
        (PlaintextKeyBlob(con.CALG_DES, bytes(7)).to_bytes(), None, 0, "NTE_BAD_DATA"),
        (PlaintextKeyBlob(con.CALG_AES, bytes(16)).to_bytes(), None, 0, "NTE_BAD_ALGID"),
        (PlaintextKeyBlob(con.CALG_RSA_KEYX, bytes(16)).to_bytes(), None, 0, "NTE_BAD_ALGID"),
        (PlaintextKeyBlob(con.CALG_SHA1, bytes(16)).to_bytes(), None, 0, "NTE_BAD_ALGID"),
        (aes, rsa_keyx, 0, "NTE_BAD_KEY"),
        (b"", None, 0, "NTE_BAD_LEN"),
        (aes[:-1], None, 0, "NTE_BAD_LEN"),
        (b"\x63" + aes[1:], None, 0, "NTE_BAD_TYPE"),
        (aes[:1] + b"\x07" + aes[2:], None, 0, "NTE_BAD_VER"),
        # No exchange key, or one that is none: rsaenh's NTE_BAD_PUBLIC_KEY (Microsoft's
        # CryptImportKey page names no code for it)
        (SimpleBlob(con.CALG_AES_128, con.CALG_RSA_KEYX, bytes(128)).to_bytes(), None, 0,
         "NTE_BAD_PUBLIC_KEY"),
        (SimpleBlob(con.CALG_AES_128, con.CALG_RSA_KEYX, bytes(128)).to_bytes(), session, 0,
         "NTE_BAD_PUBLIC_KEY"),
        (SimpleBlob(con.CALG_AES_128, con.CALG_RSA_SIGN, bytes(128)).to_bytes(), rsa_keyx, 0,
         "NTE_BAD_ALGID"),
        (SimpleBlob(con.CALG_AES_128, con.CALG_RSA_KEYX, bytes(64)).to_bytes(), rsa_keyx, 0,
         "NTE_BAD_DATA"),
        (SimpleBlob(con.CALG_AES_128, con.CALG_RSA_KEYX, os.urandom(128)).to_bytes(), rsa_keyx,
         0, "NTE_BAD_DATA"),
    ]
    before = _objects(prov)
    for data, pub, flag_bits, code in cases:
        with pytest.raises(pywintypes.error) as exc:
            prov.CryptImportKey(data, pub, flag_bits)
        assert (_code(exc), exc.value.funcname) == (code, "CryptImportKey"), (data[:12], code)
    assert _objects(prov) == before
    with pytest.raises(TypeError):
        prov.CryptImportKey("text")  # type: ignore[arg-type]


def test_the_base_provider_has_no_aes(rsa_keyx: Any) -> None:
    with _ctx(con.PROV_RSA_FULL) as base:
        with pytest.raises(pywintypes.error) as exc:
            base.CryptImportKey(PlaintextKeyBlob(con.CALG_AES_128, bytes(16)).to_bytes())
        assert _code(exc) == "NTE_BAD_ALGID"


# ---- interop ---------------------------------------------------------------------------------
def test_pem_and_der_round_trip() -> None:
    blob = _blobs()["abPlainPrivateKey"]
    pem = interop.blob_to_pem(blob)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert interop.blob_from_pem(pem, con.CALG_RSA_KEYX) == blob
    assert interop.blob_from_der(interop.blob_to_der(blob), con.CALG_RSA_KEYX) == blob
    public = _blobs()["abPubKey"]
    assert interop.blob_from_pem(interop.blob_to_pem(public), con.CALG_RSA_SIGN) == public
    dsa_key = dsa.generate_private_key(1024)
    dsa_blob = interop.blob_from_key(dsa_key, con.CALG_DSS_SIGN)
    assert interop.key_from_blob(dsa_blob).private_numbers() == dsa_key.private_numbers()  # type: ignore[union-attr]
    for bad in (b"", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"):
        with pytest.raises(pywintypes.error) as exc:
            interop.blob_from_pem(bad, con.CALG_RSA_KEYX)
        assert _code(exc) == "NTE_BAD_DATA"
    with pytest.raises(pywintypes.error) as exc:
        interop.key_from_blob(PlaintextKeyBlob(con.CALG_AES_128, bytes(16)).to_bytes())
    assert _code(exc) == "NTE_BAD_TYPE"


@pytest.mark.parametrize("bad", [None, -1, 2**64, 5, 1.5, "text", (1, b"x"), object()])
def test_interop_refuses_what_is_not_bytes(bad: object) -> None:
    # bytes(-1) is a ValueError and bytes(5) five zero bytes: the data must be
    # bytes-like, checked once, so no foreign exception becomes NTE_FAIL.
    for call in (interop.key_from_blob, interop.blob_to_pem, interop.blob_to_der):
        with pytest.raises(TypeError):
            call(bad)  # type: ignore[arg-type]
    for decode in (interop.blob_from_pem, interop.blob_from_der):
        with pytest.raises(TypeError):
            decode(bad, con.CALG_RSA_KEYX)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-(2**31) - 1, 2**32, 2**64])
def test_interop_aikeyalg_must_be_a_dword(bad: int) -> None:
    key = rsa.generate_private_key(65537, 1024)
    with pytest.raises(pywintypes.error) as exc:
        interop.blob_from_key(key, bad)
    assert _code(exc) == "NTE_BAD_ALGID"
    with pytest.raises(TypeError):
        interop.blob_from_key(key, [1])  # type: ignore[arg-type]
    blob = interop.blob_from_key(key, con.CALG_RSA_KEYX)
    with pytest.raises(pywintypes.error) as exc:
        interop.blob_from_pem(interop.blob_to_pem(blob), bad)
    assert _code(exc) == "NTE_BAD_ALGID"


def test_a_pair_blob_whose_algid_is_of_another_family_is_refused() -> None:
    # An RSA BLOB naming CALG_DSS_SIGN became a DSA private key object with RSA
    # attributes: C_CreateObject failed (NTE_FAIL) and SoftHSM2 kept the
    # half-made object.  The BLOB's layout decides the family; aiKeyAlg must fit.
    rsa_key = rsa.generate_private_key(65537, 1024)
    dsa_key = dsa.generate_private_key(1024)
    cases = [
        (con.PROV_DSS_DH, rsa_key, con.CALG_DSS_SIGN),
        (con.PROV_DSS_DH, rsa_key.public_key(), con.CALG_DH_SF),
        (con.PROV_DSS_DH, dsa_key, con.CALG_DH_SF),
        (con.PROV_RSA_AES, dsa_key, con.CALG_RSA_KEYX),
        (con.PROV_RSA_AES, dsa_key.public_key(), con.CALG_RSA_SIGN),
    ]
    observer = _ctx()
    before = _objects(observer)
    for prov_type, key, algid in cases:
        with _ctx(prov_type) as ctx:
            with pytest.raises(pywintypes.error) as exc:
                ctx.CryptImportKey(interop.blob_from_key(key, algid))  # type: ignore[arg-type]
            assert _code(exc) == "NTE_BAD_ALGID"
        assert _objects(observer) == before
    observer.CryptReleaseContext()


# ---- malformed input -----------------------------------------------------------------------
def _valid_blobs() -> list[bytes]:
    blobs = list(_blobs().values())
    blobs.append(PlaintextKeyBlob(con.CALG_AES_128, bytes(range(16))).to_bytes())
    blobs.append(PlaintextKeyBlob(con.CALG_3DES, bytes(range(24))).to_bytes())
    return blobs


def _mutations() -> st.SearchStrategy[bytes]:
    def mutate(args: tuple[bytes, int, int, int]) -> bytes:
        blob, where, value, cut = args
        data = bytearray(blob)
        data[where % len(data)] = value
        return bytes(data[: len(data) - cut % 8]) if cut % 3 == 0 else bytes(data)

    return st.one_of(
        st.binary(max_size=600),
        st.tuples(st.sampled_from(_valid_blobs()), st.integers(0, 10_000), st.integers(0, 255),
                  st.integers(0, 100)).map(mutate),
        st.tuples(st.sampled_from(_valid_blobs()), st.integers(0, 600)).map(
            lambda args: args[0][: args[1]]
        ),
    )


_FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # the context is reused, on purpose


def _fuzz_once(prov: PyCRYPTPROV, data: bytes, flag_bits: int) -> None:
    # In a context of its own: a BLOB that still parses as a private key fills
    # the verify context's slot until the context is released.
    del prov
    with _ctx() as ctx:
        try:
            key = ctx.CryptImportKey(data, None, flag_bits)
        except pywintypes.error as exc:
            assert exc.funcname == "CryptImportKey"
            assert exc.winerror in (
                winerror.NTE_BAD_DATA, winerror.NTE_BAD_TYPE, winerror.NTE_BAD_VER,
                winerror.NTE_BAD_LEN, winerror.NTE_BAD_ALGID, winerror.NTE_BAD_KEY,
                winerror.NTE_BAD_PUBLIC_KEY,  # a SIMPLEBLOB with no exchange key to open it
            ), exc
        else:
            key.CryptDestroyKey()


@settings(max_examples=150, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(data=_mutations(), exportable=st.booleans())
def test_malformed_blobs_fail_cleanly_and_leave_nothing(
    prov: PyCRYPTPROV, data: bytes, exportable: bool
) -> None:
    before = _objects(prov)
    _fuzz_once(prov, data, con.CRYPT_EXPORTABLE if exportable else 0)
    assert _objects(prov) == before


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(data=_mutations())
def test_malformed_blobs_long_run(prov: PyCRYPTPROV, data: bytes) -> None:
    before = _objects(prov)
    _fuzz_once(prov, data, 0)
    assert _objects(prov) == before


# ---- PRIVATEKEYBLOB under a session key ----------------------------------------------------
def test_private_blob_encrypted_under_a_session_key(prov: PyCRYPTPROV) -> None:
    blob = _blobs()["abPlainPrivateKey"]
    before = _objects(prov)
    outer, prov = prov, _ctx()
    with prov.CryptImportKey(blob, None, con.CRYPT_EXPORTABLE) as key, \
            prov.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as session:
        encrypted = key.CryptExportKey(session, con.PRIVATEKEYBLOB)
        assert encrypted[:8] == blob[:8]
        # Everything after the header, AES-128-CBC with a zero IV and PKCS #5.
        aes = parse_key_blob(session.CryptExportKey(None, con.PLAINTEXTKEYBLOB)).key  # type: ignore[union-attr]
        decryptor = Cipher(algorithms.AES(aes), modes.CBC(bytes(16))).decryptor()
        body = decryptor.update(encrypted[8:]) + decryptor.finalize()
        unpadder = sympadding.PKCS7(128).unpadder()
        assert blob[:8] + unpadder.update(body) + unpadder.finalize() == blob
        with prov.CryptImportKey(encrypted, session, con.CRYPT_EXPORTABLE) as again:
            assert again.CryptExportKey(None, con.PRIVATEKEYBLOB) == blob
        with prov.CryptGenKey(con.CALG_AES_128, 0) as wrong:
            with pytest.raises(pywintypes.error) as exc:
                prov.CryptImportKey(encrypted, wrong)
            assert _code(exc) == "NTE_BAD_DATA"
        with pytest.raises(pywintypes.error) as exc:
            key.CryptExportKey(key, con.PRIVATEKEYBLOB)
        assert _code(exc) == "NTE_BAD_KEY"
    assert _objects(outer) == before + 2  # the imported pair, in the context's slot
    prov.CryptReleaseContext()
    assert _objects(outer) == before


# ---- Diffie-Hellman agreement -----------------------------------------------------------------
def _dh_pair(ctx: PyCRYPTPROV, like: Any | None = None, flag_bits: int = 0) -> Any:
    if like is None:
        return ctx.CryptGenKey(con.CALG_DH_EPHEM, flag_bits | (1024 << 16))
    key = ctx.CryptGenKey(con.CALG_DH_EPHEM, flag_bits | con.CRYPT_PREGEN | (1024 << 16))
    key.CryptSetKeyParam(con.KP_P, like.CryptGetKeyParam(con.KP_P))
    key.CryptSetKeyParam(con.KP_G, like.CryptGetKeyParam(con.KP_G))
    key.CryptSetKeyParam(con.KP_X, None)
    return key


def test_dh_agreement_gives_both_peers_the_same_key() -> None:
    with _ctx(con.PROV_DSS_DH) as alice, _ctx(con.PROV_DSS_DH) as bob:
        mine = _dh_pair(alice, flag_bits=con.CRYPT_EXPORTABLE)
        theirs = _dh_pair(bob, like=mine)
        mine_public = mine.CryptExportKey(None, con.PUBLICKEYBLOB)
        theirs_public = theirs.CryptExportKey(None, con.PUBLICKEYBLOB)
        agreed = alice.CryptImportKey(theirs_public, mine, con.CRYPT_EXPORTABLE)
        other = bob.CryptImportKey(mine_public, theirs)
        assert agreed.CryptGetKeyParam(con.KP_ALGID) == con.CALG_AGREEDKEY_ANY
        with pytest.raises(pywintypes.error):
            agreed.CryptEncrypt(True, b"too early")
        agreed.CryptSetKeyParam(con.KP_ALGID, con.CALG_3DES)
        other.CryptSetKeyParam(con.KP_ALGID, con.CALG_3DES)
        assert agreed.CryptGetKeyParam(con.KP_ALGID) == con.CALG_3DES
        message = b"attack at dawn, bring coffee"
        assert other.CryptDecrypt(True, agreed.CryptEncrypt(True, message)) == message
        # The key is the first 24 bytes of Z, little-endian (Z computed here).
        private = parse_key_blob(mine.CryptExportKey(None, con.PRIVATEKEYBLOB))
        assert isinstance(private, DhPrivateBlob)
        peer_y = parse_key_blob(theirs_public).y  # type: ignore[union-attr]
        z = pow(peer_y, private.secret, private.prime).to_bytes(128, "big")
        material = parse_key_blob(agreed.CryptExportKey(None, con.PLAINTEXTKEYBLOB)).key  # type: ignore[union-attr]
        assert material == z[::-1][:24]
        with pytest.raises(pywintypes.error) as exc:
            agreed.CryptSetKeyParam(con.KP_ALGID, con.CALG_AES_128)
        assert _code(exc) == "NTE_BAD_TYPE"


def test_dh_agreement_refuses_bad_peers() -> None:
    with _ctx(con.PROV_DSS_DH) as ctx:
        mine = _dh_pair(ctx)
        public = parse_key_blob(mine.CryptExportKey(None, con.PUBLICKEYBLOB))
        assert isinstance(public, DhPublicBlob)
        before = _objects(ctx)
        for y in (0, 1):
            bad = DhPublicBlob(public.aiKeyAlg, public.bitlen, y).to_bytes()
            with pytest.raises(pywintypes.error) as exc:
                ctx.CryptImportKey(bad, mine)
            assert _code(exc) == "NTE_BAD_DATA"
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptImportKey(public.to_bytes())  # no PubKey: nothing to agree with
        assert _code(exc) == "NTE_BAD_KEY"
        agreed = ctx.CryptImportKey(public.to_bytes(), mine)
        with pytest.raises(pywintypes.error) as exc:
            agreed.CryptSetKeyParam(con.KP_ALGID, con.CALG_RSA_KEYX)
        assert _code(exc) == "NTE_BAD_ALGID"
        agreed.CryptDestroyKey()
        assert _objects(ctx) == before


def test_imported_non_exportable_key_resists_another_process(
    csp11_home: Any, softhsm2_module: str
) -> None:
    from .outside import labelled, objects

    name = f"import-outside-{os.getpid()}-{os.urandom(4).hex()}"
    with _ctx(container=name, flags=con.CRYPT_NEWKEYSET) as ctx:
        ctx.CryptImportKey(_blobs()["abPlainPrivateKey"]).CryptDestroyKey()
    label = f"csp11 user/{name} AT_KEYEXCHANGE"
    rows = labelled(objects(csp11_home, softhsm2_module, attack_label=label), label)
    private = next(r for r in rows if "wrap" in r)
    assert private["read_PRIVATE_EXPONENT"] == "AttributeSensitive"
    assert private["wrap"] == "KeyUnextractable"
    assert private["EXTRACTABLE"] is False
    # Imported material was outside the token once: never "never-extractable".
    assert private["NEVER_EXTRACTABLE"] is False
    win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET)


def test_a_simpleblob_with_a_key_of_the_wrong_size(prov: PyCRYPTPROV, rsa_keyx: Any) -> None:
    """Caught where the key can be measured (exportable); documented otherwise."""
    rsa_private = interop.key_from_blob(rsa_keyx.CryptExportKey(None, con.PRIVATEKEYBLOB))
    assert isinstance(rsa_private, rsa.RSAPrivateKey)
    short = rsa_private.public_key().encrypt(os.urandom(16), padding.PKCS1v15())
    blob = SimpleBlob.from_ciphertext(con.CALG_AES_256, con.CALG_RSA_KEYX, short).to_bytes()
    before = _objects(prov)
    with pytest.raises(pywintypes.error) as exc:
        prov.CryptImportKey(blob, rsa_keyx, con.CRYPT_EXPORTABLE)
    assert _code(exc) == "NTE_BAD_DATA"
    assert "16 bytes" in exc.value.strerror
    assert _objects(prov) == before
