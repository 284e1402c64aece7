"""CryptDeriveKey: a session key from a hash value (WINDOWS-FACTS, "CryptDeriveKey").

The key is the first *n* bytes of the hash value, *n* the key size in bytes
with parity.  For 3DES and AES (any size) with a hash that is not SHA-2 the
value is first expanded, as Microsoft documents it::

    buf1 = 64 bytes of 0x36, buf2 = 64 bytes of 0x5C, each XORed with the hash value
    material = H(buf1) ‖ H(buf2)

DES and 3DES_112 are never expanded (3DES_112 takes 16 bytes; K3 = K1).
The expansion hashes run on the token like every csp11 hash.

The material is then imported onto the token (``C_CreateObject``): a
derived key existed outside the token for a moment, so it is never
"never-extractable" (``CKA_NEVER_EXTRACTABLE`` false, ``CKA_LOCAL`` false),
however it is flagged.  Without ``CRYPT_EXPORTABLE`` it is not extractable.
"""

from __future__ import annotations

from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.hash import Hash
from csp11.core.key import Key
from csp11.core.policy import SALT_BYTES, permissions_for, salt_for
from csp11.core.templates import material_template
from csp11.errors import Fail
from csp11.model.algorithms import ALGORITHMS, Family
from csp11.ops.hashing import digest_once
from csp11.ops.keygen import key_length, resolve_algid
from csp11.token import Attribute

__all__ = ["DERIVE_FLAGS", "derive_key", "key_material"]

DERIVE_FLAGS = (
    con.CRYPT_EXPORTABLE | con.CRYPT_CREATE_SALT | con.CRYPT_NO_SALT | con.CRYPT_UPDATE_KEY
    | con.CRYPT_SERVER
)
_SHA2 = frozenset({con.CALG_SHA_256, con.CALG_SHA_384, con.CALG_SHA_512})
_EXPANDED = frozenset({con.CALG_3DES, con.CALG_AES_128, con.CALG_AES_192, con.CALG_AES_256})


def key_material(algid: int, hash_algid: int, value: bytes, size: int,
                 digest: Any) -> bytes:
    """The first ``size`` key bytes from a hash ``value`` (pure but for ``digest``,
    which hashes a 64-byte buffer with the same algorithm)."""
    if algid in _EXPANDED and hash_algid not in _SHA2:
        buf1 = bytes(0x36 ^ b for b in value) + bytes([0x36]) * (64 - len(value))
        buf2 = bytes(0x5C ^ b for b in value) + bytes([0x5C]) * (64 - len(value))
        value = digest(buf1) + digest(buf2)
    if len(value) < size:
        raise Fail(
            winerror.NTE_BAD_LEN,
            f"a {len(value)}-byte hash value is too short for a {size}-byte key",
        )
    return value[:size]


def derive_key(ctx: Context, algid: int, base: Hash, flag_bits: int) -> Key:
    """CryptDeriveKey (see the module docstring); arguments normalised."""
    ctx.check_live()
    base.live()
    low, field = flag_bits & 0xFFFF, flag_bits >> 16
    if low & ~DERIVE_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{low & ~DERIVE_FLAGS:X}")
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family is not Family.SESSION:
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a session key algorithm")
    alg, offer = resolve_algid(ctx, algid)
    bits = key_length(alg, offer, field)
    size = (bits + alg.parity_bits) // 8
    value = base.finish()
    hash_algid = base.signed_algid

    def digest(data: bytes) -> bytes:
        return digest_once(ctx.token, hash_algid, data)

    material = key_material(algid, hash_algid, value, size, digest)
    extractable = bool(low & con.CRYPT_EXPORTABLE)
    template = {**material_template(alg, bits, extractable, False), Attribute.VALUE: material}
    tkey = ctx.token.create_key(template, pins=ctx.pins)
    # CRYPT_CREATE_SALT: the hash bytes after the key (rsaenh, Windows-tested).
    salt = salt_for(ctx.personality, alg, bits, low,
                    created=lambda: value[size : size + SALT_BYTES])
    permissions = permissions_for(low)
    return Key(ctx, alg, bits, tkey, permissions=permissions, salt=salt)
