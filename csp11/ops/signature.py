"""CryptSignHash and CryptVerifySignature.

RSA: PKCS #1 v1.5 over the hash value wrapped in its DigestInfo
(``CRYPT_NOHASHOID``: the bare value), ``C_Sign(CKM_RSA_PKCS)`` with the
container's key, and the signature byte-reversed (little-endian, as
CryptoAPI has it).  Verification with flags 0 accepts both encodings, as
Windows does.  DSS: ``C_Sign(CKM_DSA)`` over a SHA-1 value; the signature is
r then s, each 20 bytes little-endian.

Signing finishes the hash.  A user-protected key asks for its key-use PIN
for every signature; the token checks it (``C_Login(CKU_CONTEXT_SPECIFIC)``).
"""

from __future__ import annotations

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.hash import Hash
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.model.algorithms import Family
from csp11.model.hashes import HASHES
from csp11.model.mechanisms import DSS_SIGN, RSA_SIGN
from csp11.ops.userkey import use_stored

__all__ = ["sign_hash", "verify_signature"]

_SIGN_FLAGS = con.CRYPT_NOHASHOID | con.CRYPT_TYPE2_FORMAT  # TYPE2: "not used"
_DSS_HALF = 20


def _encoded(hash_: Hash, value: bytes, with_oid: bool) -> bytes:
    if not with_oid:
        return value
    row = HASHES.get(hash_.signed_algid)
    prefix = row.digest_info if row is not None else None
    if prefix is None:
        return value  # CALG_SSL3_SHAMD5 and MACs have no DigestInfo
    return prefix + value


def sign_hash(hash_: Hash, key_spec: int, flag_bits: int) -> bytes:
    """CryptSignHash with the context's ``key_spec`` key (see the module docstring)."""
    hash_.live()
    if flag_bits & ~_SIGN_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~_SIGN_FLAGS:X}")
    if key_spec not in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE):
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"KeySpec {key_spec} is neither AT_KEYEXCHANGE nor AT_SIGNATURE",
        )
    # The context's pair as it last found it; looked up again if the token
    # says it is gone (replaced or deleted by another process).
    return use_stored(hash_.ctx, key_spec, lambda key: _sign_with(key, hash_, flag_bits))


def _sign_with(key: Key, hash_: Hash, flag_bits: int) -> bytes:
    tkey = key.usable()
    if key.alg.family is Family.DSA:
        if hash_.signed_algid != con.CALG_SHA1:
            raise Fail(winerror.NTE_BAD_ALGID, "DSS signs SHA-1 hashes only")
        value = hash_.finish()
        pin = tkey.key_use_pin(key.ctx.pins, key.ctx.container_name)
        rs = tkey.sign(value, DSS_SIGN, pin)
        return rs[:_DSS_HALF][::-1] + rs[_DSS_HALF:][::-1]
    if key.alg.family is not Family.RSA:
        raise Fail(winerror.NTE_BAD_KEY, f"{key.alg.name} keys do not sign")
    if hash_.algid in (con.CALG_MAC, con.CALG_HMAC):
        raise Fail(winerror.NTE_BAD_HASH, "a MAC is not signed")
    value = hash_.finish()
    data = _encoded(hash_, value, not flag_bits & con.CRYPT_NOHASHOID)
    if len(data) > key.bits // 8 - 11:
        raise Fail(winerror.NTE_BAD_LEN, f"a {key.bits}-bit key cannot sign {len(data)} bytes")
    pin = tkey.key_use_pin(key.ctx.pins, key.ctx.container_name)
    return tkey.sign(data, RSA_SIGN, pin)[::-1]


def verify_signature(hash_: Hash, signature: bytes, pub_key: Key,
                     flag_bits: int) -> None:
    """CryptVerifySignature; ``NTE_BAD_SIGNATURE`` when it does not verify."""
    hash_.live()
    pub_key.live()
    if flag_bits & ~_SIGN_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~_SIGN_FLAGS:X}")
    tkey = pub_key.usable()
    if tkey.public is None:
        raise Fail(winerror.NTE_BAD_KEY, "PubKey is a session key, not a key pair")
    if pub_key.alg.family is Family.DSA:
        if len(signature) != 2 * _DSS_HALF:
            raise Fail(winerror.NTE_BAD_SIGNATURE, "a DSS signature is 40 bytes")
        value = hash_.finish()
        rs = signature[:_DSS_HALF][::-1] + signature[_DSS_HALF:][::-1]
        if not tkey.verify(value, rs, DSS_SIGN):
            raise Fail(winerror.NTE_BAD_SIGNATURE, "the signature does not verify")
        return
    if pub_key.alg.family is not Family.RSA:
        raise Fail(winerror.NTE_BAD_KEY, f"{pub_key.alg.name} keys do not verify signatures")
    if len(signature) != pub_key.bits // 8:
        raise Fail(winerror.NTE_BAD_SIGNATURE, f"an RSA signature is {pub_key.bits // 8} bytes")
    value = hash_.finish()
    big_endian = signature[::-1]
    candidates = [_encoded(hash_, value, with_oid=False)]
    if not flag_bits & con.CRYPT_NOHASHOID:
        candidates.insert(0, _encoded(hash_, value, with_oid=True))
    for data in dict.fromkeys(candidates):
        if tkey.verify(data, big_endian, RSA_SIGN):
            return
    raise Fail(winerror.NTE_BAD_SIGNATURE, "the signature does not verify")
