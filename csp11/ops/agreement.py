"""Diffie-Hellman key agreement through CryptImportKey (WINDOWS-FACTS, "Key BLOBs").

``CryptImportKey(peer's DH PUBLICKEYBLOB, PubKey=own DH private key)``
returns a ``CALG_AGREEDKEY_ANY`` key; ``CryptSetKeyParam(KP_ALGID, CALG_3DES)``
(or another session algorithm) then makes it a usable session key, and both
peers get the same key.

On the token: until KP_ALGID is set the handle holds only a reference to the
own private key and the peer's public value — no secret.  Setting KP_ALGID
runs ``C_DeriveKey(CKM_DH_PKCS_DERIVE)`` for the shared secret Z and creates
the session key from its first bytes, Z taken little-endian as CryptoAPI
takes every DH value.  Which bytes Windows takes is not documented; this is
csp11's reading (docs/differences.md).  The agreed key's material passes
through csp11 (like CryptDeriveKey's), so it is never "never-extractable".
"""

from __future__ import annotations

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.key import Key
from csp11.core.policy import permissions_for
from csp11.core.templates import material_template
from csp11.errors import Fail
from csp11.formats.blobs import DhPublicBlob, DhPublicBlobV3
from csp11.formats.byteorder import int_from_le
from csp11.model.algorithms import AGREED_KEY, ALGORITHMS, Family
from csp11.ops.keygen import key_length, resolve_algid
from csp11.token import Attribute

__all__ = ["agree", "choose_algorithm"]


def agree(ctx: Context, blob: DhPublicBlob | DhPublicBlobV3, own: Key,
          flag_bits: int) -> Key:
    """The agreed key of ``own`` (a DH private key) and the peer's ``blob``."""
    if own.alg.family is not Family.DH:
        raise Fail(winerror.NTE_BAD_KEY, "key agreement needs your Diffie-Hellman key as PubKey")
    tkey = own.usable()
    if tkey.obj is None:
        raise Fail(winerror.NTE_BAD_KEY, "PubKey is a public key; agreement needs the private one")
    p = int_from_le(own.domain_value("P"))
    if isinstance(blob, DhPublicBlobV3):
        if blob.p != p or blob.g != int_from_le(own.domain_value("G")):
            raise Fail(winerror.NTE_BAD_DATA, "the peer's key is of another DH group")
        bits = blob.bitlenP
    else:
        bits = blob.bitlen
    if bits != own.bits:
        raise Fail(winerror.NTE_BAD_DATA, f"the peer's key is {bits} bits, yours {own.bits}")
    if not 2 <= blob.y <= p - 2:
        raise Fail(winerror.NTE_BAD_DATA, "the peer's public value is not in [2, P-2]")
    size = (p.bit_length() + 7) // 8
    key = Key(ctx, AGREED_KEY, bits, None,
                     permissions=permissions_for(flag_bits))
    key.agreement = (tkey.share(), blob.y.to_bytes(size, "big"), flag_bits)
    key.attach_finalizer()
    return key


def choose_algorithm(key: Key, algid: int) -> None:
    """``KP_ALGID`` on an agreed key: make it a session key of ``algid``."""
    assert key.agreement is not None
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family is not Family.SESSION:
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a session key algorithm")
    alg, offer = resolve_algid(key.ctx, algid)
    bits = key_length(alg, offer, 0)
    size = (bits + alg.parity_bits) // 8
    own, peer, flag_bits = key.agreement
    # A user-protected DH key (made by another tool: csp11 refuses to make
    # one) is refused here: the token cannot check its PIN per use.
    own.authorize_use(key.ctx.pins, key.ctx.container_name)
    z = own.agree(peer, len(peer))
    if size > len(z):
        raise Fail(winerror.NTE_BAD_LEN, f"the shared secret is too short for {alg.name}")
    material = z[::-1][:size]  # Z little-endian, its first bytes
    template = {
        **material_template(alg, bits, bool(flag_bits & con.CRYPT_EXPORTABLE), False),
        Attribute.VALUE: material,
    }
    key.tkey = key.ctx.token.create_key(template, pins=key.ctx.pins)
    key.agreement = None
    own.release()
    key.alg, key.algid, key.bits = alg, alg.algid, bits
    key.iv = bytes(alg.block_bits // 8)
    key.mode = con.CRYPT_MODE_CBC if alg.block_bits else 0
    key.chain = None
    key.attach_finalizer()
