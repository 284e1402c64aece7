"""Provider personalities: which Microsoft provider's rules a context follows.

``CryptAcquireContext``'s ``Provider`` and ``ProvType`` pick one row of
:data:`PERSONALITIES`; csp11 then behaves as that Microsoft provider does, on
whatever token is in use (docs/mapping.md).  Provider names match case-insensitively,
as Windows' registry lookup does.
"""

from __future__ import annotations

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail
from csp11.structs import Struct

__all__ = ["DEFAULT_FOR_TYPE", "PERSONALITIES", "Offer", "Personality", "choose"]


class Offer(Struct):
    """An ALG_ID a provider offers, with its key lengths in bits (PROV_ENUMALGS_EX).

    ``step`` is the increment valid lengths move in (RSA 8, DSS/DH 64; 0 for
    a fixed length).  For the DES family the lengths are without parity, as
    PP_ENUMALGS reports them.
    """

    algid: int
    default: int
    minimum: int
    maximum: int
    step: int = 0


class Personality(Struct):
    """One Microsoft provider csp11 can stand in for."""

    name: str
    prov_type: int
    # What the provider offers, in its PP_ENUMALGS order.
    offers: tuple[Offer, ...] = ()
    # PP_VERSION as Microsoft's providers report it (major in the high byte).
    version: int = 0x0200
    # PP_SIG_KEYSIZE_INC / PP_KEYX_KEYSIZE_INC
    keysize_inc: int = 8
    # PP_KEYSPEC: which of AT_KEYEXCHANGE / AT_SIGNATURE the provider has.
    keyspec: int = con.AT_KEYEXCHANGE | con.AT_SIGNATURE
    # What AT_KEYEXCHANGE and AT_SIGNATURE mean here (0: not available).
    exchange_algid: int = 0
    signature_algid: int = 0
    # RC2/RC4 salt: CRYPT_CREATE_SALT gives an 11-byte random salt at any key
    # length on the Base and Strong providers; the Enhanced family gives none
    # (Windows-observed, see docs/differences.md).
    create_salt: bool = False
    # Largest KP_EFFECTIVE_KEYLEN for RC2 (Base: 40 only; Enhanced: 1..1024).
    rc2_effective_max: int = 1024

    def offer(self, algid: int) -> Offer | None:
        """The provider's row for ``algid``, or ``None``."""
        for row in self.offers:
            if row.algid == algid:
                return row
        return None


def _hashes(*algids: int) -> tuple[Offer, ...]:
    sizes = {
        con.CALG_SHA1: 160, con.CALG_SHA_256: 256, con.CALG_SHA_384: 384,
        con.CALG_SHA_512: 512, con.CALG_MD2: 128, con.CALG_MD4: 128, con.CALG_MD5: 128,
        con.CALG_SSL3_SHAMD5: 288, con.CALG_MAC: 0, con.CALG_HMAC: 0,
    }
    return tuple(Offer(a, sizes[a], sizes[a], sizes[a]) for a in algids)


# Rows and their order follow rsaenh's and dssenh's PP_ENUMALGS_EX tables
# (Wine's conformance-tested copies; notes/WINDOWS-FACTS.md; the seed's
# length table).  CALG_CYLINK_MEK is not offered: it is a 40-bit DES variant
# whose key must have 16 bits forced to zero, which a token cannot generate.
_RC_BASE = (Offer(con.CALG_RC2, 40, 40, 56, 8), Offer(con.CALG_RC4, 40, 40, 56, 8))
_RC_ENH = (Offer(con.CALG_RC2, 128, 40, 128, 8), Offer(con.CALG_RC4, 128, 40, 128, 8))
_DES = Offer(con.CALG_DES, 56, 56, 56)
_3DES = (Offer(con.CALG_3DES_112, 112, 112, 112), Offer(con.CALG_3DES, 168, 168, 168))
_AES = (
    Offer(con.CALG_AES_128, 128, 128, 128),
    Offer(con.CALG_AES_192, 192, 192, 192),
    Offer(con.CALG_AES_256, 256, 256, 256),
)
_RSA_ENH = (
    Offer(con.CALG_RSA_SIGN, 1024, 384, 16384, 8),
    Offer(con.CALG_RSA_KEYX, 1024, 384, 16384, 8),
)
_DSS = Offer(con.CALG_DSS_SIGN, 1024, 512, 1024, 64)

_BASE_OFFERS = (
    *_RC_BASE, _DES,
    *_hashes(con.CALG_SHA1, con.CALG_MD2, con.CALG_MD4, con.CALG_MD5,
             con.CALG_SSL3_SHAMD5, con.CALG_MAC),
    Offer(con.CALG_RSA_SIGN, 512, 384, 16384, 8),
    Offer(con.CALG_RSA_KEYX, 512, 384, 1024, 8),
    *_hashes(con.CALG_HMAC),
)
_ENH_OFFERS = (
    *_RC_ENH, _DES, *_3DES,
    *_hashes(con.CALG_SHA1, con.CALG_MD2, con.CALG_MD4, con.CALG_MD5,
             con.CALG_SSL3_SHAMD5, con.CALG_MAC),
    *_RSA_ENH,
    *_hashes(con.CALG_HMAC),
)
_AES_OFFERS = (
    *_RC_ENH, _DES, *_3DES, *_AES,
    *_hashes(con.CALG_SHA1, con.CALG_SHA_256, con.CALG_SHA_384, con.CALG_SHA_512,
             con.CALG_MD2, con.CALG_MD4, con.CALG_MD5, con.CALG_SSL3_SHAMD5, con.CALG_MAC),
    *_RSA_ENH,
    *_hashes(con.CALG_HMAC),
)
_KEYX, _SIGN = con.CALG_RSA_KEYX, con.CALG_RSA_SIGN

PERSONALITIES: tuple[Personality, ...] = (
    Personality(con.MS_DEF_PROV, con.PROV_RSA_FULL, _BASE_OFFERS, exchange_algid=_KEYX,
                signature_algid=_SIGN, create_salt=True, rc2_effective_max=40),
    Personality(con.MS_STRONG_PROV, con.PROV_RSA_FULL, _ENH_OFFERS, exchange_algid=_KEYX,
                signature_algid=_SIGN, create_salt=True),
    Personality(con.MS_ENHANCED_PROV, con.PROV_RSA_FULL, _ENH_OFFERS, exchange_algid=_KEYX,
                signature_algid=_SIGN),
    Personality(con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES, _AES_OFFERS, exchange_algid=_KEYX,
                signature_algid=_SIGN),
    Personality(
        con.MS_DEF_DSS_PROV, con.PROV_DSS,
        (*_hashes(con.CALG_SHA1, con.CALG_MD5), _DSS),
        keysize_inc=64, keyspec=con.AT_SIGNATURE, signature_algid=con.CALG_DSS_SIGN,
    ),
    Personality(
        con.MS_DEF_DSS_DH_PROV, con.PROV_DSS_DH,
        (*_RC_BASE, _DES, *_hashes(con.CALG_SHA1, con.CALG_MD5), _DSS,
         Offer(con.CALG_DH_SF, 512, 512, 1024, 64), Offer(con.CALG_DH_EPHEM, 512, 512, 1024, 64)),
        keysize_inc=64, exchange_algid=con.CALG_DH_SF, signature_algid=con.CALG_DSS_SIGN,
        create_salt=True, rc2_effective_max=40,
    ),
    Personality(
        con.MS_ENH_DSS_DH_PROV, con.PROV_DSS_DH,
        (*_RC_ENH, _DES, *_3DES, *_hashes(con.CALG_SHA1, con.CALG_MD5), _DSS,
         Offer(con.CALG_DH_SF, 1024, 512, 4096, 64),
         Offer(con.CALG_DH_EPHEM, 1024, 512, 4096, 64)),
        keysize_inc=64, exchange_algid=con.CALG_DH_SF, signature_algid=con.CALG_DSS_SIGN,
    ),
)

# Windows XP shipped the AES provider under a "(Prototype)" name; code written
# then still asks for it.
_ALIASES: dict[str, str] = {
    "microsoft enhanced rsa and aes cryptographic provider (prototype)": con.MS_ENH_RSA_AES_PROV,
}

_BY_NAME: dict[str, Personality] = {p.name.lower(): p for p in PERSONALITIES}

# ProvType → the provider used when Provider is None (the seed: RSA_FULL → Strong).
DEFAULT_FOR_TYPE: dict[int, str] = {
    con.PROV_RSA_FULL: con.MS_STRONG_PROV,
    con.PROV_RSA_AES: con.MS_ENH_RSA_AES_PROV,
    con.PROV_DSS: con.MS_DEF_DSS_PROV,
    con.PROV_DSS_DH: con.MS_ENH_DSS_DH_PROV,
}

# Provider types Windows defines for which csp11 has no personality: asking
# for them is "type not defined" rather than "bad type".
_KNOWN_UNEMULATED_TYPES = frozenset(
    {2, 4, 5, 6, 12, 14, 15, 16, 17, 18, 20, 21, 22, 23}
)  # RSA_SIG, FORTEZZA, MS_EXCHANGE, SSL, RSA_SCHANNEL, EC_ECDSA_SIG, EC_ECNRA_SIG,
#    EC_ECDSA_FULL, EC_ECNRA_FULL, DH_SCHANNEL, SPYRUS_LYNKS, RNG, INTEL_SEC, REPLACE_OWF


def choose(provider: str | None, prov_type: int) -> Personality:
    """The personality for ``(Provider, ProvType)``, or the error Windows gives.

    Unknown type → ``NTE_BAD_PROV_TYPE`` (a type Windows defines but csp11
    does not emulate → ``NTE_PROV_TYPE_NOT_DEF``); unknown name →
    ``NTE_KEYSET_NOT_DEF``; a name of another type → ``NTE_PROV_TYPE_NO_MATCH``.
    """
    if prov_type not in DEFAULT_FOR_TYPE:
        if prov_type in _KNOWN_UNEMULATED_TYPES:
            raise Fail(
                winerror.NTE_PROV_TYPE_NOT_DEF,
                f"provider type {prov_type} exists on Windows but csp11 does not emulate it",
            )
        raise Fail(winerror.NTE_BAD_PROV_TYPE, f"invalid provider type {prov_type}")
    if provider is None or provider == "":
        return _BY_NAME[DEFAULT_FOR_TYPE[prov_type].lower()]
    key = provider.lower()
    personality = _BY_NAME.get(_ALIASES.get(key, key).lower())
    if personality is None:
        raise Fail(winerror.NTE_KEYSET_NOT_DEF, f"unknown provider {provider!r}")
    if personality.prov_type != prov_type:
        raise Fail(
            winerror.NTE_PROV_TYPE_NO_MATCH,
            f"{personality.name!r} is of type {personality.prov_type}, not {prov_type}",
        )
    return personality
