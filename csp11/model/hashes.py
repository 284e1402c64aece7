"""Hash ALG_IDs on a PKCS#11 token: one table, :data:`HASHES`.

For each hash: its size, the token's digest and HMAC mechanisms (``None``
where PKCS#11 has none), and the DigestInfo prefix an RSA signature wraps the
value in (RFC 8017 §9.2, note 1).  Hash *operations* are in
:mod:`csp11.core.engines` and :mod:`csp11.ops.hashing`.
"""

from __future__ import annotations

from typing import Any

from csp11 import win32cryptcon as con
from csp11.structs import Struct
from csp11.token import Mechanism

__all__ = ["HASHES", "HASH_SIZES", "HMAC_BLOCK", "HashRow", "hmac_material"]


class HashRow(Struct):
    """What one hash ALG_ID is on a token."""

    size: int
    digest: Any  # CKM_* digest mechanism
    hmac: Any | None  # CKM_*_HMAC, if PKCS#11 has one
    # DigestInfo prefix for RSA signatures (RFC 8017 §9.2 note 1); None: none.
    digest_info: bytes | None


HASHES: dict[int, HashRow] = {
    con.CALG_MD5: HashRow(16, Mechanism._MD5, Mechanism._MD5_HMAC,
                          bytes.fromhex("3020300c06082a864886f70d020505000410")),
    con.CALG_SHA1: HashRow(20, Mechanism.SHA_1, Mechanism.SHA_1_HMAC,
                           bytes.fromhex("3021300906052b0e03021a05000414")),
    con.CALG_SHA_256: HashRow(32, Mechanism.SHA256, Mechanism.SHA256_HMAC,
                              bytes.fromhex("3031300d060960864801650304020105000420")),
    con.CALG_SHA_384: HashRow(48, Mechanism.SHA384, Mechanism.SHA384_HMAC,
                              bytes.fromhex("3041300d060960864801650304020205000430")),
    con.CALG_SHA_512: HashRow(64, Mechanism.SHA512, Mechanism.SHA512_HMAC,
                              bytes.fromhex("3051300d060960864801650304020305000440")),
    con.CALG_MD2: HashRow(16, Mechanism._MD2, Mechanism._MD2_HMAC,
                          bytes.fromhex("3020300c06082a864886f70d020205000410")),
    con.CALG_MD4: HashRow(16, None, None,
                          bytes.fromhex("3020300c06082a864886f70d020405000410")),
    con.CALG_SSL3_SHAMD5: HashRow(36, None, None, None),
}
HASH_SIZES = {algid: row.size for algid, row in HASHES.items()}

HMAC_BLOCK = 64


def hmac_material(key: bytes) -> bytes:
    """An HMAC key as a token will take it: zero-padded to 64 bytes.

    HMAC pads a key shorter than the hash's block with zeros anyway (RFC 2104
    §2; blocks are 64 or 128 bytes), so the MAC is the same; tokens, SoftHSM2
    among them, refuse keys shorter than the hash's output.
    """
    return key.ljust(HMAC_BLOCK, b"\0")
