"""ALG_IDs and what they are on a PKCS#11 token: one table, :data:`ALGORITHMS`.

Each row says what kind of key or hash an ALG_ID is, which PKCS#11 key type
and generation mechanism make it, what the token must offer for csp11 to
provide it (an algorithm the token lacks is ``NTE_BAD_ALGID`` and absent from
``PP_ENUMALGS``: docs/mapping.md), and the facts CryptGetKeyParam reports (block
length, parity).  Which provider offers which ALG_ID, with which lengths, is
in :mod:`csp11.model.providers`.
"""

from __future__ import annotations

import enum
from typing import Any

from csp11 import win32cryptcon as con
from csp11.formats import legacy_digests
from csp11.structs import Struct
from csp11.token import KeyType, Mechanism

__all__ = ["AGREED_KEY", "ALGORITHMS", "Algorithm", "Family", "software_digest_available"]


class Family(enum.Enum):
    """What an ALG_ID is, as far as CryptGenKey and the enumeration care."""

    SESSION = "session"  # symmetric cipher key: C_GenerateKey
    RSA = "rsa"          # RSA key pair: C_GenerateKeyPair
    DSA = "dsa"          # DSS signature key pair (domain parameters needed)
    DH = "dh"            # Diffie-Hellman key pair (domain parameters needed)
    HASH = "hash"        # CryptCreateHash only
    MAC = "mac"          # keyed hash (CALG_MAC, CALG_HMAC)


class Algorithm(Struct):
    """One ALG_ID on a PKCS#11 token."""

    algid: int
    family: Family
    # Name and long name as PROV_ENUMALGS(_EX) reports them (rsaenh's table;
    # dssenh-only names are csp11's, Windows' are not documented).
    name: str
    long_name: str
    # PROV_ENUMALGS_EX.dwProtocols
    protocols: int = 0
    key_type: Any = None
    gen_mechanism: Any = None
    # The token must offer all of these for csp11 to offer the ALG_ID.
    requires: tuple[Any, ...] = ()
    # ... or, for plain digests, hashlib can compute it (issue: software
    # fallback for digests only).
    hashlib_name: str | None = None
    # KP_BLOCKLEN of a session key, in bits (0 for stream ciphers).
    block_bits: int = 0
    # DES family: KP_KEYLEN counts parity bits (56 → 64, 112 → 128, 168 → 192).
    parity_bits: int = 0
    # A key pair's use: exchange (encrypt/decrypt, wrap) and/or signature.
    exchange: bool = False
    signature: bool = False
    # RC2/RC4: the 40-bit salt rules apply.
    salted: bool = False


_SIG = con.CRYPT_FLAG_SIGNING
_IPSEC = con.CRYPT_FLAG_IPSEC

_ROWS: tuple[Algorithm, ...] = (
    # ---- session keys (C_GenerateKey) ---------------------------------------
    Algorithm(con.CALG_RC2, Family.SESSION, "RC2", "RSA Data Security's RC2",
              key_type=KeyType._RC2, gen_mechanism=Mechanism._RC2_KEY_GEN,
              requires=(Mechanism._RC2_KEY_GEN, Mechanism._RC2_ECB),
              block_bits=64, salted=True),
    Algorithm(con.CALG_RC4, Family.SESSION, "RC4", "RSA Data Security's RC4",
              key_type=KeyType._RC4, gen_mechanism=Mechanism._RC4_KEY_GEN,
              requires=(Mechanism._RC4_KEY_GEN, Mechanism._RC4),
              block_bits=0, salted=True),
    Algorithm(con.CALG_DES, Family.SESSION, "DES", "Data Encryption Standard (DES)",
              key_type=KeyType._DES, gen_mechanism=Mechanism._DES_KEY_GEN,
              requires=(Mechanism._DES_KEY_GEN, Mechanism._DES_ECB),
              block_bits=64, parity_bits=8),
    Algorithm(con.CALG_3DES_112, Family.SESSION, "3DES TWO KEY", "Two Key Triple DES",
              key_type=KeyType.DES2, gen_mechanism=Mechanism.DES2_KEY_GEN,
              requires=(Mechanism.DES2_KEY_GEN, Mechanism.DES3_ECB),
              block_bits=64, parity_bits=16),
    Algorithm(con.CALG_3DES, Family.SESSION, "3DES", "Three Key Triple DES",
              key_type=KeyType.DES3, gen_mechanism=Mechanism.DES3_KEY_GEN,
              requires=(Mechanism.DES3_KEY_GEN, Mechanism.DES3_ECB),
              block_bits=64, parity_bits=24),
    *(
        Algorithm(algid, Family.SESSION, f"AES-{bits}",
                  f"Advanced Encryption Standard (AES-{bits})",
                  key_type=KeyType.AES, gen_mechanism=Mechanism.AES_KEY_GEN,
                  requires=(Mechanism.AES_KEY_GEN, Mechanism.AES_ECB),
                  block_bits=128)
        for algid, bits in ((con.CALG_AES_128, 128), (con.CALG_AES_192, 192),
                            (con.CALG_AES_256, 256))
    ),
    # ---- hashes and MACs (CryptCreateHash) ------------------------------------
    Algorithm(con.CALG_SHA1, Family.HASH, "SHA-1", "Secure Hash Algorithm (SHA-1)",
              protocols=_SIG, requires=(Mechanism.SHA_1,), hashlib_name="sha1"),
    Algorithm(con.CALG_SHA_256, Family.HASH, "SHA-256", "Secure Hash Algorithm (SHA-256)",
              protocols=_SIG, requires=(Mechanism.SHA256,), hashlib_name="sha256"),
    Algorithm(con.CALG_SHA_384, Family.HASH, "SHA-384", "Secure Hash Algorithm (SHA-384)",
              protocols=_SIG, requires=(Mechanism.SHA384,), hashlib_name="sha384"),
    Algorithm(con.CALG_SHA_512, Family.HASH, "SHA-512", "Secure Hash Algorithm (SHA-512)",
              protocols=_SIG, requires=(Mechanism.SHA512,), hashlib_name="sha512"),
    Algorithm(con.CALG_MD2, Family.HASH, "MD2", "Message Digest 2 (MD2)",
              protocols=_SIG, requires=(Mechanism._MD2,), hashlib_name="md2"),
    Algorithm(con.CALG_MD4, Family.HASH, "MD4", "Message Digest 4 (MD4)",
              protocols=_SIG, requires=(), hashlib_name="md4"),  # PKCS#11 has no MD4
    Algorithm(con.CALG_MD5, Family.HASH, "MD5", "Message Digest 5 (MD5)",
              protocols=_SIG, requires=(Mechanism._MD5,), hashlib_name="md5"),
    Algorithm(con.CALG_SSL3_SHAMD5, Family.HASH, "SSL3 SHAMD5", "SSL3 SHAMD5",
              requires=(Mechanism._MD5, Mechanism.SHA_1), hashlib_name="md5+sha1"),
    Algorithm(con.CALG_MAC, Family.MAC, "MAC", "Message Authentication Code",
              requires=(Mechanism.DES3_CBC,)),
    Algorithm(con.CALG_HMAC, Family.MAC, "HMAC", "Hugo's MAC (HMAC)",
              requires=(Mechanism.SHA_1_HMAC,)),
    # ---- key pairs (C_GenerateKeyPair) -----------------------------------------
    Algorithm(con.CALG_RSA_SIGN, Family.RSA, "RSA_SIGN", "RSA Signature",
              protocols=_SIG | _IPSEC, key_type=KeyType.RSA,
              gen_mechanism=Mechanism.RSA_PKCS_KEY_PAIR_GEN,
              requires=(Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS),
              signature=True),
    Algorithm(con.CALG_RSA_KEYX, Family.RSA, "RSA_KEYX", "RSA Key Exchange",
              protocols=_SIG | _IPSEC, key_type=KeyType.RSA,
              gen_mechanism=Mechanism.RSA_PKCS_KEY_PAIR_GEN,
              requires=(Mechanism.RSA_PKCS_KEY_PAIR_GEN, Mechanism.RSA_PKCS),
              exchange=True, signature=True),
    Algorithm(con.CALG_DSS_SIGN, Family.DSA, "DSA_SIGN", "Digital Signature Algorithm",
              protocols=_SIG, key_type=KeyType.DSA, gen_mechanism=Mechanism.DSA_KEY_PAIR_GEN,
              requires=(Mechanism.DSA_KEY_PAIR_GEN, Mechanism.DSA), signature=True),
    Algorithm(con.CALG_DH_SF, Family.DH, "DH_KEYX", "Diffie-Hellman Store and Forward",
              key_type=KeyType.DH, gen_mechanism=Mechanism.DH_PKCS_KEY_PAIR_GEN,
              requires=(Mechanism.DH_PKCS_KEY_PAIR_GEN, Mechanism.DH_PKCS_DERIVE),
              exchange=True),
    Algorithm(con.CALG_DH_EPHEM, Family.DH, "DH_EPHEM", "Diffie-Hellman Ephemeral",
              key_type=KeyType.DH, gen_mechanism=Mechanism.DH_PKCS_KEY_PAIR_GEN,
              requires=(Mechanism.DH_PKCS_KEY_PAIR_GEN, Mechanism.DH_PKCS_DERIVE),
              exchange=True),
)

ALGORITHMS: dict[int, Algorithm] = {row.algid: row for row in _ROWS}

# What CryptImportKey of a peer's DH public key returns: a key of no cipher
# until CryptSetKeyParam(KP_ALGID) names one.  Not generatable or listed.
AGREED_KEY = Algorithm(con.CALG_AGREEDKEY_ANY, Family.SESSION, "AGREEDKEY_ANY",
                       "Diffie-Hellman agreed key")


def software_digest_available(name: str) -> bool:
    """Whether csp11 computes ``name`` in software here (hashlib, or csp11's own
    MD2/MD4); ``md5+sha1``: both."""
    try:
        for part in name.split("+"):
            legacy_digests.new(part)
    except ValueError:
        return False
    return True
