"""Token quirks: what a token advertises but does not do, declared as data.

Each quirk is named, explained and measured (notes/TOKEN-FACTS.md); code asks
``token.quirks.<name>`` instead of testing which token it is.  A token is
matched by the manufacturer and model it reports in ``C_GetTokenInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_QUIRKS", "Quirks", "quirks_for"]


@dataclass(frozen=True)
class Quirks:
    """Known deviations of one kind of token from what it advertises."""

    name: str = "none"
    # Smallest DSA prime the token really generates keys for.  SoftHSM2
    # advertises 512-1024 bits but fails below 1024 with CKR_GENERAL_ERROR,
    # even with domain parameters made elsewhere.
    dsa_min_bits: int = 0
    # Largest DSA prime accepted, where it differs from C_GetMechanismInfo.
    dsa_max_bits: int = 0
    # The token runs single DES through the process's OpenSSL 3, which keeps
    # DES in its "legacy" provider: without it C_EncryptInit(CKM_DES_*)
    # fails with CKR_MECHANISM_INVALID although the mechanism is listed
    # (SoftHSM2 2.6.1 on Debian 12, measured).  csp11 then loads the legacy
    # provider (and the default one, which loading any provider would
    # otherwise switch off) into the default OpenSSL context.
    openssl_legacy_des: bool = False
    # A process that writes token objects right after another process did
    # stops seeing that process's objects (SoftHSM2 2.6.1: its per-process
    # copy of the token's generation counter absorbs the other's increment;
    # measured, see csp11.token.softhsm).  csp11 bumps the counter again after
    # its own token-object writes, so that every process re-reads the store.
    generation_lost_update: bool = False


NO_QUIRKS = Quirks()

_SOFTHSM2 = Quirks(
    name="softhsm2",
    dsa_min_bits=1024,
    openssl_legacy_des=True,
    generation_lost_update=True,
)

# (manufacturer, model prefix) as the token reports them → quirks.
_TABLE: tuple[tuple[str, str, Quirks], ...] = (
    ("SoftHSM project", "SoftHSM v2", _SOFTHSM2),
)


def quirks_for(manufacturer: str, model: str) -> Quirks:
    """The quirks of a token, from its ``C_GetTokenInfo`` manufacturer and model."""
    for maker, model_prefix, quirks in _TABLE:
        if manufacturer.strip() == maker and model.strip().startswith(model_prefix):
            return quirks
    return NO_QUIRKS
