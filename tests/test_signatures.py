"""CryptSignHash / CryptVerifySignature: RSA and DSS keys of named containers,
Windows vectors, cross-checks with ``cryptography``, and user-protected keys
that ask for their PIN at every use (signing, decrypting, unwrapping).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, padding, rsa, utils

import csp11
from csp11 import interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob, parse_key_blob
from csp11.token import PinRequest
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

from .conftest import REPO, run_python

_VECTORS = REPO / "tests" / "data" / "windows-kat.json"
VERIFY = con.CRYPT_VERIFYCONTEXT
WRONG = "not-the-pin-4e1d"
MESSAGE = b"A message to sign, of no particular length."
RSA_HASHES = {con.CALG_MD5: hashes.MD5(), con.CALG_SHA1: hashes.SHA1(),
              con.CALG_SHA_256: hashes.SHA256(), con.CALG_SHA_384: hashes.SHA384(),
              con.CALG_SHA_512: hashes.SHA512()}
NAMES = {con.CALG_MD5: "MD5", con.CALG_SHA1: "SHA1", con.CALG_SHA_256: "SHA256",
         con.CALG_SHA_384: "SHA384", con.CALG_SHA_512: "SHA512",
         con.AT_SIGNATURE: "AT_SIGNATURE", con.AT_KEYEXCHANGE: "AT_KEYEXCHANGE"}


# ---- helpers ------------------------------------------------------------------------------
def _code(exc: pytest.ExceptionInfo[pywintypes.error]) -> str:
    return winerror.name_of(exc.value.winerror)


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{os.urandom(4).hex()}"


def _acquire(container: str | None, flags: int, prov_type: int = con.PROV_RSA_AES
             ) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(container, None, prov_type, flags)
    assert ctx is not None
    return ctx


def _delete(name: str, prov_type: int = con.PROV_RSA_AES) -> None:
    assert win32crypt.CryptAcquireContext(name, None, prov_type, con.CRYPT_DELETEKEYSET) is None


def _kat() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_VECTORS.read_text())
    return data


def _sign(ctx: PyCRYPTPROV, algid: int, data: bytes, spec: int, flag_bits: int = 0) -> bytes:
    with ctx.CryptCreateHash(algid, None) as h:
        h.CryptHashData(data)
        sig = h.CryptSignHash(spec, flag_bits)
        assert isinstance(sig, bytes)
        # Signing finished the hash.
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"more")
        assert _code(exc) == "NTE_BAD_HASH_STATE"
        return sig


def _verify(ctx: PyCRYPTPROV, algid: int, data: bytes, sig: bytes, key: PyCRYPTKEY,
            flag_bits: int = 0) -> str:
    """``"ok"`` or the name of the error CryptVerifySignature raised."""
    with ctx.CryptCreateHash(algid, None) as h:
        h.CryptHashData(data)
        try:
            h.CryptVerifySignature(sig, key, flag_bits)
        except pywintypes.error as exc:
            assert exc.funcname == "CryptVerifySignature"
            return winerror.name_of(exc.winerror)
        return "ok"


def _rsa_public(key: PyCRYPTKEY) -> rsa.RSAPublicKey:
    public = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
    assert isinstance(public, rsa.RSAPublicKey)
    return public


def _recover(public: rsa.RSAPublicKey, sig: bytes) -> bytes:
    """The PKCS #1 block inside a little-endian RSA signature (raw RSA, no checks)."""
    numbers = public.public_numbers()
    size = (public.key_size + 7) // 8
    value = pow(int.from_bytes(sig[::-1], "big"), numbers.e, numbers.n)
    return value.to_bytes(size, "big")


def _type1(size: int, payload: bytes) -> bytes:
    return b"\x00\x01" + b"\xff" * (size - 3 - len(payload)) + b"\x00" + payload


@dataclass
class Box:
    """A named container on PROV_RSA_AES with both key pairs (1024 bits)."""

    name: str
    ctx: PyCRYPTPROV
    keys: dict[int, PyCRYPTKEY] = field(default_factory=dict)
    publics: dict[int, rsa.RSAPublicKey] = field(default_factory=dict)


@pytest.fixture(scope="module")
def box() -> Iterator[Box]:
    name = _unique("sigs")
    ctx = _acquire(name, con.CRYPT_NEWKEYSET)
    found = Box(name, ctx)
    for spec in (con.AT_SIGNATURE, con.AT_KEYEXCHANGE):
        found.keys[spec] = ctx.CryptGenKey(spec, 1024 << 16)
        found.publics[spec] = _rsa_public(found.keys[spec])
    yield found
    ctx.CryptReleaseContext()
    _delete(name)


def test_a_key_spec_that_names_no_key_pair(box: Box) -> None:
    # Microsoft's CryptSignHash page: NTE_BAD_ALGID when dwKeySpec has an incorrect value
    # (Wine's rsaenh answers NTE_NO_KEY, from its CPGetUserKey), even in a container that
    # holds both pairs and with a hash that could be signed
    with box.ctx.CryptCreateHash(con.CALG_SHA1) as h:
        h.CryptHashData(b"data")
        for spec in (0, 3):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(spec)
            assert (_code(exc), exc.value.funcname) == ("NTE_BAD_ALGID", "CryptSignHash"), spec
        assert len(h.CryptSignHash(con.AT_SIGNATURE)) == 128


# ---- RSA -----------------------------------------------------------------------------------
@pytest.mark.parametrize("algid", RSA_HASHES, ids=NAMES.get)
@pytest.mark.parametrize("spec", [con.AT_SIGNATURE, con.AT_KEYEXCHANGE], ids=NAMES.get)
def test_rsa_signature_is_pkcs1_little_endian(box: Box, spec: int, algid: int) -> None:
    sig = _sign(box.ctx, algid, MESSAGE, spec)
    assert len(sig) == 128
    public = box.publics[spec]
    public.verify(sig[::-1], MESSAGE, padding.PKCS1v15(), RSA_HASHES[algid])
    with pytest.raises(InvalidSignature):
        public.verify(sig, MESSAGE, padding.PKCS1v15(), RSA_HASHES[algid])
    # PKCS #1 v1.5 signatures are deterministic.
    assert _sign(box.ctx, algid, MESSAGE, spec) == sig
    assert _verify(box.ctx, algid, MESSAGE, sig, box.keys[spec]) == "ok"
    # The other key pair of the container does not verify it.
    other = con.AT_KEYEXCHANGE if spec == con.AT_SIGNATURE else con.AT_SIGNATURE
    assert _verify(box.ctx, algid, MESSAGE, sig, box.keys[other]) == "NTE_BAD_SIGNATURE"


@pytest.mark.parametrize("algid", RSA_HASHES, ids=NAMES.get)
def test_nohashoid_signs_the_bare_hash(box: Box, algid: int) -> None:
    public = box.publics[con.AT_SIGNATURE]
    digest = hashlib.new(RSA_HASHES[algid].name, MESSAGE).digest()
    bare = _sign(box.ctx, algid, MESSAGE, con.AT_SIGNATURE, con.CRYPT_NOHASHOID)
    assert _recover(public, bare) == _type1(128, digest)
    with_oid = _sign(box.ctx, algid, MESSAGE, con.AT_SIGNATURE)
    recovered = _recover(public, with_oid)
    assert recovered.endswith(b"\x00" + _der_digest_info(algid, digest))
    assert bare != with_oid
    key = box.keys[con.AT_SIGNATURE]
    # Flags 0 accept both encodings; CRYPT_NOHASHOID only the bare one.
    assert _verify(box.ctx, algid, MESSAGE, bare, key) == "ok"
    assert _verify(box.ctx, algid, MESSAGE, with_oid, key) == "ok"
    assert _verify(box.ctx, algid, MESSAGE, bare, key, con.CRYPT_NOHASHOID) == "ok"
    assert _verify(box.ctx, algid, MESSAGE, with_oid, key, con.CRYPT_NOHASHOID) == \
        "NTE_BAD_SIGNATURE"


def _der_digest_info(algid: int, digest: bytes) -> bytes:
    """DigestInfo DER (RFC 8017 §9.2, note 1), built here from the OIDs."""
    oids = {
        con.CALG_MD5: bytes.fromhex("06082a864886f70d0205"),
        con.CALG_SHA1: bytes.fromhex("06052b0e03021a"),
        con.CALG_SHA_256: bytes.fromhex("0609608648016503040201"),
        con.CALG_SHA_384: bytes.fromhex("0609608648016503040202"),
        con.CALG_SHA_512: bytes.fromhex("0609608648016503040203"),
    }
    algorithm = oids[algid] + b"\x05\x00"
    algorithm = b"\x30" + bytes([len(algorithm)]) + algorithm
    octets = b"\x04" + bytes([len(digest)]) + digest
    body = algorithm + octets
    return b"\x30" + bytes([len(body)]) + body


def test_bad_signatures_are_refused(box: Box) -> None:
    key = box.keys[con.AT_SIGNATURE]
    sig = _sign(box.ctx, con.CALG_SHA_256, MESSAGE, con.AT_SIGNATURE)
    flipped = bytearray(sig)
    flipped[5] ^= 0x01
    cases = {
        "one bit changed": bytes(flipped),
        "big-endian": sig[::-1],
        "half": sig[:64],
        "a byte short": sig[:-1],
        "a byte long": sig + b"\x00",
        "empty": b"",
        "zeros": bytes(128),
    }
    for what, bad in cases.items():
        assert _verify(box.ctx, con.CALG_SHA_256, MESSAGE, bad, key) == "NTE_BAD_SIGNATURE", what
    assert _verify(box.ctx, con.CALG_SHA_256, MESSAGE + b"!", sig, key) == "NTE_BAD_SIGNATURE"
    assert _verify(box.ctx, con.CALG_SHA_384, MESSAGE, sig, key) == "NTE_BAD_SIGNATURE"
    assert _verify(box.ctx, con.CALG_SHA_256, MESSAGE, sig, key) == "ok"


def test_verify_finishes_the_hash(box: Box) -> None:
    sig = _sign(box.ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
    with box.ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptHashData(MESSAGE)
        h.CryptVerifySignature(sig, box.keys[con.AT_SIGNATURE])
        with pytest.raises(pywintypes.error) as exc:
            h.CryptHashData(b"more")
        assert _code(exc) == "NTE_BAD_HASH_STATE"
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha1(MESSAGE).digest()


def test_empty_hash_signs_the_empty_message(box: Box) -> None:
    with box.ctx.CryptCreateHash(con.CALG_SHA_256, None) as h:
        sig = h.CryptSignHash(con.AT_SIGNATURE)
    box.publics[con.AT_SIGNATURE].verify(sig[::-1], b"", padding.PKCS1v15(), hashes.SHA256())


def test_verifies_what_cryptography_signs(prov: PyCRYPTPROV) -> None:
    private = rsa.generate_private_key(65537, 1024)
    blob = interop.blob_from_key(private.public_key(), con.CALG_RSA_SIGN)
    with prov.CryptImportKey(blob) as public:
        for algid, algorithm in RSA_HASHES.items():
            sig = private.sign(MESSAGE, padding.PKCS1v15(), algorithm)[::-1]
            assert _verify(prov, algid, MESSAGE, sig, public) == "ok", NAMES[algid]
            assert _verify(prov, algid, MESSAGE, sig, public, con.CRYPT_NOHASHOID) == \
                "NTE_BAD_SIGNATURE"
            # A bare-hash signature made with cryptography's raw-RSA primitive.
            digest = hashlib.new(algorithm.name, MESSAGE).digest()
            numbers = private.private_numbers()
            block = int.from_bytes(_type1(128, digest), "big")
            bare = pow(block, numbers.d, numbers.public_numbers.n).to_bytes(128, "big")[::-1]
            assert _verify(prov, algid, MESSAGE, bare, public) == "ok"
            assert _verify(prov, algid, MESSAGE, bare, public, con.CRYPT_NOHASHOID) == "ok"


def test_windows_signature_vectors(prov: PyCRYPTPROV) -> None:
    kat = _kat()
    sigs = {name: bytes.fromhex(value)
            for name, value in kat["signatures_over_Wine_rocks_nul"].items()}
    data = b"Wine rocks!\0"
    with prov.CryptImportKey(bytes.fromhex(kat["blobs"]["abPubKey"])) as public:
        assert _verify(prov, con.CALG_MD5, data, sigs["MD5"], public) == "ok"
        assert _verify(prov, con.CALG_MD5, data, sigs["MD5NoOID"], public) == "ok"
        assert _verify(prov, con.CALG_MD5, data, sigs["MD5NoOID"], public,
                       con.CRYPT_NOHASHOID) == "ok"
        assert _verify(prov, con.CALG_MD5, data, sigs["MD5"], public,
                       con.CRYPT_NOHASHOID) == "NTE_BAD_SIGNATURE"
        assert _verify(prov, con.CALG_MD5, data[:-1], sigs["MD5"], public) == "NTE_BAD_SIGNATURE"
        assert _verify(prov, con.CALG_SHA1, data, sigs["MD5"], public) == "NTE_BAD_SIGNATURE"
        # cryptography agrees about the DigestInfo one.
        rsa_public = interop.key_from_blob(bytes.fromhex(kat["blobs"]["abPubKey"]))
        assert isinstance(rsa_public, rsa.RSAPublicKey)
        rsa_public.verify(sigs["MD5"][::-1], data, padding.PKCS1v15(), hashes.MD5())
        digest = hashlib.md5(data).digest()
        assert _recover(rsa_public, sigs["MD5NoOID"]) == _type1(len(sigs["MD5NoOID"]), digest)


def test_sign_a_hash_value_set_by_the_caller(box: Box) -> None:
    public = box.publics[con.AT_SIGNATURE]
    with box.ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptSetHashParam(con.HP_HASHVAL, hashlib.sha1(b"computed elsewhere").digest())
        sig = h.CryptSignHash(con.AT_SIGNATURE)
    public.verify(sig[::-1], b"computed elsewhere", padding.PKCS1v15(), hashes.SHA1())
    # SSL3_SHAMD5 (MD5 || SHA-1, 36 bytes) is signed bare: it has no DigestInfo.
    value = hashlib.md5(MESSAGE).digest() + hashlib.sha1(MESSAGE).digest()
    with box.ctx.CryptCreateHash(con.CALG_SSL3_SHAMD5, None) as h:
        h.CryptSetHashParam(con.HP_HASHVAL, value)
        sig = h.CryptSignHash(con.AT_KEYEXCHANGE)
    assert _recover(box.publics[con.AT_KEYEXCHANGE], sig) == _type1(128, value)
    with box.ctx.CryptCreateHash(con.CALG_SSL3_SHAMD5, None) as h:
        h.CryptSetHashParam(con.HP_HASHVAL, value)
        h.CryptVerifySignature(sig, box.keys[con.AT_KEYEXCHANGE])


def test_no_key_to_sign_with(prov: PyCRYPTPROV) -> None:
    with prov.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptHashData(b"x")
        for spec in (con.AT_SIGNATURE, con.AT_KEYEXCHANGE):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(spec)
            assert (_code(exc), exc.value.funcname) == ("NTE_NO_KEY", "CryptSignHash")
    name = _unique("nokey")
    with _acquire(name, con.CRYPT_NEWKEYSET) as ctx:
        with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(con.AT_SIGNATURE)
            assert _code(exc) == "NTE_NO_KEY"
        ctx.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16).CryptDestroyKey()
        with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(con.AT_SIGNATURE)
            assert _code(exc) == "NTE_NO_KEY"
        with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
            assert len(h.CryptSignHash(con.AT_KEYEXCHANGE)) == 128
    _delete(name)


def test_sign_and_verify_argument_errors(box: Box, prov: PyCRYPTPROV) -> None:
    with box.ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        for spec in (0, 3, 0x10):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(spec)
            assert _code(exc) in ("NTE_BAD_ALGID", "NTE_NO_KEY"), spec
        for bits in (0x8, 0x100, 0x10000):
            with pytest.raises(pywintypes.error) as exc:
                h.CryptSignHash(con.AT_SIGNATURE, bits)
            assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)
            with pytest.raises(pywintypes.error) as exc:
                h.CryptVerifySignature(bytes(128), box.keys[con.AT_SIGNATURE], bits)
            assert _code(exc) == "NTE_BAD_FLAGS", hex(bits)
        with pytest.raises(TypeError):
            h.CryptVerifySignature("sig", box.keys[con.AT_SIGNATURE])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            h.CryptVerifySignature(bytes(128), None)  # type: ignore[arg-type]
    with prov.CryptGenKey(con.CALG_AES_128, 0) as session:
        assert _verify(box.ctx, con.CALG_SHA1, b"x", bytes(128), session) == "NTE_BAD_KEY"
    dead = box.ctx.CryptGetUserKey(con.AT_SIGNATURE)
    dead.CryptDestroyKey()
    assert _verify(box.ctx, con.CALG_SHA1, b"x", bytes(128), dead) == "ERROR_INVALID_HANDLE"
    h = box.ctx.CryptCreateHash(con.CALG_SHA1, None)
    h.CryptDestroyHash()
    with pytest.raises(pywintypes.error) as exc:
        h.CryptSignHash(con.AT_SIGNATURE)
    assert (_code(exc), exc.value.funcname) == ("ERROR_INVALID_HANDLE", "CryptSignHash")
    with pytest.raises(pywintypes.error) as exc:
        h.CryptVerifySignature(bytes(128), box.keys[con.AT_SIGNATURE])
    assert _code(exc) == "ERROR_INVALID_HANDLE"


def test_container_keys_persist_and_verify_later(box: Box) -> None:
    sig = _sign(box.ctx, con.CALG_SHA_512, MESSAGE, con.AT_SIGNATURE)
    with _acquire(box.name, 0) as again:
        with again.CryptGetUserKey(con.AT_SIGNATURE) as key:
            assert _verify(again, con.CALG_SHA_512, MESSAGE, sig, key) == "ok"
        assert _sign(again, con.CALG_SHA_512, MESSAGE, con.AT_SIGNATURE) == sig


# ---- DSS -----------------------------------------------------------------------------------
@dataclass
class DssBox:
    ctx: PyCRYPTPROV
    key: PyCRYPTKEY
    public: dsa.DSAPublicKey


@pytest.fixture(scope="module")
def dss_box() -> Iterator[DssBox]:
    name = _unique("dss")
    ctx = _acquire(name, con.CRYPT_NEWKEYSET, con.PROV_DSS_DH)
    key = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
    public = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
    assert isinstance(public, dsa.DSAPublicKey)
    yield DssBox(ctx, key, public)
    ctx.CryptReleaseContext()
    _delete(name, con.PROV_DSS_DH)


def _dss_der(sig: bytes) -> bytes:
    return utils.encode_dss_signature(int.from_bytes(sig[:20], "little"),
                                      int.from_bytes(sig[20:], "little"))


def test_dss_signature_is_r_s_little_endian(dss_box: DssBox) -> None:
    sig = _sign(dss_box.ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
    assert len(sig) == 40
    digest = hashlib.sha1(MESSAGE).digest()
    dss_box.public.verify(_dss_der(sig), digest, utils.Prehashed(hashes.SHA1()))
    dss_box.public.verify(_dss_der(sig), MESSAGE, hashes.SHA1())
    with pytest.raises(InvalidSignature):
        dss_box.public.verify(_dss_der(sig[:20][::-1] + sig[20:][::-1]), MESSAGE, hashes.SHA1())
    again = _sign(dss_box.ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
    assert again != sig  # DSA signatures are randomised
    for one in (sig, again):
        assert _verify(dss_box.ctx, con.CALG_SHA1, MESSAGE, one, dss_box.key) == "ok"


def test_dss_bad_signatures(dss_box: DssBox) -> None:
    sig = _sign(dss_box.ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
    flipped = bytearray(sig)
    flipped[30] ^= 0x80
    for bad in (bytes(flipped), sig[:20][::-1] + sig[20:][::-1], sig[20:] + sig[:20],
                sig[:39], sig + b"\x00", bytes(40), b""):
        assert _verify(dss_box.ctx, con.CALG_SHA1, MESSAGE, bad, dss_box.key) == \
            "NTE_BAD_SIGNATURE", bad.hex()
    assert _verify(dss_box.ctx, con.CALG_SHA1, b"other", sig, dss_box.key) == "NTE_BAD_SIGNATURE"


def test_dss_verifies_what_cryptography_signs(dss_box: DssBox) -> None:
    # A key on the token's own domain parameters: no parameter generation needed.
    private = dss_box.public.parameters().generate_private_key()
    blob = interop.blob_from_key(private.public_key(), con.CALG_DSS_SIGN)
    with dss_box.ctx.CryptImportKey(blob) as public:
        r, s = utils.decode_dss_signature(private.sign(MESSAGE, hashes.SHA1()))
        sig = r.to_bytes(20, "little") + s.to_bytes(20, "little")
        assert _verify(dss_box.ctx, con.CALG_SHA1, MESSAGE, sig, public) == "ok"
        assert _verify(dss_box.ctx, con.CALG_SHA1, MESSAGE, sig, dss_box.key) == \
            "NTE_BAD_SIGNATURE"


def test_dss_signs_sha1_only(dss_box: DssBox) -> None:
    with dss_box.ctx.CryptCreateHash(con.CALG_MD5, None) as h:
        h.CryptHashData(MESSAGE)
        with pytest.raises(pywintypes.error) as exc:
            h.CryptSignHash(con.AT_SIGNATURE)
        assert (_code(exc), exc.value.funcname) == ("NTE_BAD_ALGID", "CryptSignHash")
    with pytest.raises(pywintypes.error) as exc:
        dss_box.ctx.CryptCreateHash(con.CALG_SHA_256, None)
    assert _code(exc) == "NTE_BAD_ALGID"
    with dss_box.ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        with pytest.raises(pywintypes.error) as exc:
            h.CryptSignHash(con.AT_KEYEXCHANGE)  # the container has no exchange key
        assert _code(exc) == "NTE_NO_KEY"


# ---- user-protected keys ----------------------------------------------------------------------
class Prompt:
    """A PIN prompt that records what it was asked and answers ``answer``."""

    def __init__(self) -> None:
        self.asked: list[PinRequest] = []
        self.answer: str | None = None

    def __call__(self, request: PinRequest) -> str | None:
        self.asked.append(request)
        return self.answer


@pytest.fixture
def prompt(embedded_pin: str) -> Iterator[Prompt]:
    fn = Prompt()
    fn.answer = embedded_pin
    csp11.set_pin_prompt(fn)
    try:
        yield fn
    finally:
        csp11.set_pin_prompt(None)


@dataclass
class Protected:
    name: str
    ctx: PyCRYPTPROV
    publics: dict[int, rsa.RSAPublicKey]


@pytest.fixture(scope="module")
def protected() -> Iterator[Protected]:
    """A named, non-silent container whose two key pairs are user-protected."""
    name = _unique("protected")
    ctx = _acquire(name, con.CRYPT_NEWKEYSET)
    csp11.set_pin_prompt(lambda request: None)  # generation itself must not need the prompt
    try:
        publics = {}
        for spec in (con.AT_SIGNATURE, con.AT_KEYEXCHANGE):
            with ctx.CryptGenKey(spec, con.CRYPT_USER_PROTECTED | (1024 << 16)) as key:
                publics[spec] = _rsa_public(key)
    finally:
        csp11.set_pin_prompt(None)
    yield Protected(name, ctx, publics)
    ctx.CryptReleaseContext()
    _delete(name)


def _key_use(prompt: Prompt, protected: Protected) -> list[PinRequest]:
    return [PinRequest(prompt.asked[0].token_label, protected.name, "key-use")] * len(
        prompt.asked)


def test_user_protected_key_asks_at_every_signature(
    protected: Protected, prompt: Prompt
) -> None:
    public = protected.publics[con.AT_SIGNATURE]
    for count in (1, 2, 3):
        sig = _sign(protected.ctx, con.CALG_SHA_256, MESSAGE, con.AT_SIGNATURE)
        public.verify(sig[::-1], MESSAGE, padding.PKCS1v15(), hashes.SHA256())
        assert len(prompt.asked) == count
    assert prompt.asked == _key_use(prompt, protected)
    assert all(request.reason == "key-use" for request in prompt.asked)
    # Verifying needs only the public key: no prompt.
    with protected.ctx.CryptGetUserKey(con.AT_SIGNATURE) as key:
        assert _verify(protected.ctx, con.CALG_SHA_256, MESSAGE, sig, key) == "ok"
    assert len(prompt.asked) == 3


def test_user_protected_key_cancelled_prompt(protected: Protected, prompt: Prompt,
                                             embedded_pin: str) -> None:
    prompt.answer = None
    with protected.ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptHashData(MESSAGE)
        with pytest.raises(pywintypes.error) as exc:
            h.CryptSignHash(con.AT_SIGNATURE)
        assert (_code(exc), exc.value.funcname) == ("SCARD_W_CANCELLED_BY_USER", "CryptSignHash")
    assert [request.reason for request in prompt.asked] == ["key-use"]
    # The right PIN works afterwards.
    prompt.answer = embedded_pin
    sig = _sign(protected.ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
    protected.publics[con.AT_SIGNATURE].verify(sig[::-1], MESSAGE, padding.PKCS1v15(),
                                               hashes.SHA1())
    assert len(prompt.asked) == 2


def test_context_pin_answers_for_the_key(protected: Protected, prompt: Prompt,
                                         embedded_pin: str) -> None:
    with _acquire(protected.name, 0) as ctx:
        ctx.CryptSetProvParam(con.PP_SIGNATURE_PIN, embedded_pin)
        sig = _sign(ctx, con.CALG_SHA1, MESSAGE, con.AT_SIGNATURE)
        assert prompt.asked == []
        protected.publics[con.AT_SIGNATURE].verify(sig[::-1], MESSAGE, padding.PKCS1v15(),
                                                   hashes.SHA1())


def test_silent_context_does_not_prompt_for_the_key(protected: Protected, prompt: Prompt) -> None:
    with _acquire(protected.name, con.CRYPT_SILENT) as ctx, \
            ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
        h.CryptHashData(MESSAGE)
        with pytest.raises(pywintypes.error) as exc:
            h.CryptSignHash(con.AT_SIGNATURE)
        assert _code(exc) == "NTE_SILENT_CONTEXT"
    assert prompt.asked == []


def test_user_protected_exchange_key_asks_to_decrypt(
    protected: Protected, prompt: Prompt
) -> None:
    public = protected.publics[con.AT_KEYEXCHANGE]
    with protected.ctx.CryptGetUserKey(con.AT_KEYEXCHANGE) as key:
        out = key.CryptEncrypt(True, b"for the owner")
        assert prompt.asked == []  # encryption uses the public key
        foreign = public.encrypt(b"from outside", padding.PKCS1v15())[::-1]
        assert key.CryptDecrypt(True, out) == b"for the owner"
        assert key.CryptDecrypt(True, foreign) == b"from outside"
        assert [request.reason for request in prompt.asked] == ["key-use", "key-use"]
        assert prompt.asked == _key_use(prompt, protected)
        prompt.answer = None
        with pytest.raises(pywintypes.error) as exc:
            key.CryptDecrypt(True, out)
        assert (_code(exc), exc.value.funcname) == ("SCARD_W_CANCELLED_BY_USER", "CryptDecrypt")
        assert len(prompt.asked) == 3


def _objects(ctx: PyCRYPTPROV) -> int:
    ctx._state.login()
    _, (found,) = ctx._state.token.find([{}], ctx._state.pins)
    return len(found)


def test_user_protected_exchange_key_asks_to_import(protected: Protected, prompt: Prompt,
                                                    embedded_pin: str) -> None:
    ctx = protected.ctx
    with ctx.CryptGetUserKey(con.AT_KEYEXCHANGE) as keyx, \
            ctx.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE) as session:
        plain = session.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
        simple = session.CryptExportKey(keyx, con.SIMPLEBLOB)
        assert prompt.asked == []  # wrapping uses the public key
        with ctx.CryptImportKey(simple, keyx, con.CRYPT_EXPORTABLE) as again:
            assert again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
        assert [request.reason for request in prompt.asked] == ["key-use"]
        before = _objects(ctx)
        prompt.answer = None
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptImportKey(simple, keyx, con.CRYPT_EXPORTABLE)
        assert (_code(exc), exc.value.funcname) == ("SCARD_W_CANCELLED_BY_USER", "CryptImportKey")
        assert _objects(ctx) == before  # nothing was unwrapped
        assert len(prompt.asked) == 2
        prompt.answer = embedded_pin
        with ctx.CryptImportKey(simple, keyx, con.CRYPT_EXPORTABLE) as again:
            material = parse_key_blob(again.CryptExportKey(None, con.PLAINTEXTKEYBLOB))
            assert isinstance(material, PlaintextKeyBlob)
            assert PlaintextKeyBlob(con.CALG_AES_256, material.key).to_bytes() == plain


# ---- a wrong key-use PIN, in processes of their own ---------------------------------------------
# Each operation is tried in a new process: what a wrong PIN leaves behind
# (an operation still active in a session, as SoftHSM2 leaves it) must not
# hide behind the state of other tests.
_WRONG_PIN_SCRIPT = """
import os
import csp11
from csp11 import win32crypt, pywintypes, winerror
from csp11 import win32cryptcon as con
from csp11.errors import Fail

OP = "__OP__"
with open(os.path.join(os.environ["CSP11_HOME"], "pin")) as f:
    PIN = f.read().strip()
answer = ["__WRONG__"]
csp11.set_pin_prompt(lambda request: answer[0])
name = "wrongpin-%d-%s" % (os.getpid(), os.urandom(4).hex())
ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
spec = con.AT_SIGNATURE if OP == "sign" else con.AT_KEYEXCHANGE
key = ctx.CryptGenKey(spec, con.CRYPT_USER_PROTECTED | (1024 << 16))
simple = plain = b""
if OP == "import":
    session = ctx.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE)
    simple = session.CryptExportKey(key, con.SIMPLEBLOB)
    plain = session.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
    session.CryptDestroyKey()
ciphertext = key.CryptEncrypt(True, b"m") if OP == "decrypt" else b""


def objects():
    ctx._state.login()
    _, (found,) = ctx._state.token.find([{}], ctx._state.pins)
    return len(found)


def attempt():
    if OP == "sign":
        h = ctx.CryptCreateHash(con.CALG_SHA1, None)
        h.CryptHashData(b"m")
        try:
            return len(h.CryptSignHash(con.AT_SIGNATURE)) == 128
        finally:
            h.CryptDestroyHash()
    if OP == "decrypt":
        return key.CryptDecrypt(True, ciphertext) == b"m"
    again = ctx.CryptImportKey(simple, key, con.CRYPT_EXPORTABLE)
    try:
        return again.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain
    finally:
        again.CryptDestroyKey()


def step(label, fn):
    try:
        result = fn()
        print(label, "ok" if result is True else result)
    except pywintypes.error as exc:
        print(label, winerror.name_of(exc.winerror), exc.funcname)
    except Fail as exc:  # the internal object count
        print(label, winerror.name_of(exc.code))


before = objects()
step("wrong", attempt)
step("objects", lambda: "same" if objects() == before else "differs")
answer[0] = PIN
step("after", attempt)
ctx.CryptReleaseContext()
step("delete", lambda: win32crypt.CryptAcquireContext(
    name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET) is None)
"""
_OPS = {"sign": "CryptSignHash", "decrypt": "CryptDecrypt", "import": "CryptImportKey"}


@pytest.fixture(scope="module")
def wrong_pin_runs(embedded_pin: str) -> dict[str, dict[str, str]]:
    """What each operation did with a wrong key-use PIN, then the right one."""
    del embedded_pin  # the token exists before the children use it
    runs: dict[str, dict[str, str]] = {}
    for op in _OPS:
        result = run_python(_WRONG_PIN_SCRIPT.replace("__OP__", op).replace("__WRONG__", WRONG))
        assert result.returncode == 0, result.stderr[-2000:]
        runs[op] = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    return runs


@pytest.mark.parametrize("op", _OPS)
def test_wrong_key_use_pin_is_refused(wrong_pin_runs: dict[str, dict[str, str]], op: str) -> None:
    assert wrong_pin_runs[op]["wrong"] == f"SCARD_W_WRONG_CHV {_OPS[op]}"


@pytest.mark.parametrize("op", _OPS)
def test_after_a_wrong_key_use_pin_everything_still_works(
    wrong_pin_runs: dict[str, dict[str, str]], op: str
) -> None:
    run = wrong_pin_runs[op]
    assert run["objects"] == "same"  # (for import: the refused key left no object)
    assert run["after"] == "ok"
    assert run["delete"] == "ok"
