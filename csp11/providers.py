"""Provider personalities: which Microsoft provider's rules a context follows.

``CryptAcquireContext``'s ``Provider`` and ``ProvType`` pick one row of
:data:`PERSONALITIES`; csp11 then behaves as that Microsoft provider does, on
whatever token is in use (SPEC §3).  Provider names match case-insensitively,
as Windows' registry lookup does.
"""

from __future__ import annotations

from dataclasses import dataclass

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail

__all__ = ["DEFAULT_FOR_TYPE", "PERSONALITIES", "Personality", "choose"]


@dataclass(frozen=True)
class Personality:
    """One Microsoft provider csp11 can stand in for."""

    name: str
    prov_type: int
    # PP_VERSION as Microsoft's providers report it (major in the high byte).
    version: int = 0x0200


PERSONALITIES: tuple[Personality, ...] = (
    Personality(con.MS_DEF_PROV, con.PROV_RSA_FULL),
    Personality(con.MS_STRONG_PROV, con.PROV_RSA_FULL),
    Personality(con.MS_ENHANCED_PROV, con.PROV_RSA_FULL),
    Personality(con.MS_ENH_RSA_AES_PROV, con.PROV_RSA_AES),
    Personality(con.MS_DEF_DSS_PROV, con.PROV_DSS),
    Personality(con.MS_DEF_DSS_DH_PROV, con.PROV_DSS_DH),
    Personality(con.MS_ENH_DSS_DH_PROV, con.PROV_DSS_DH),
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
    """The personality for ``(Provider, ProvType)``, or the SPEC §3 error.

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
