"""What a provider personality offers on a given token (docs/differences.md).

A personality's table (:mod:`csp11.model.providers`) is intersected with the
token's mechanism list, and key lengths are clipped to what
``C_GetMechanismInfo`` reports and to the token's declared quirks.  The
result drives CryptGenKey's checks and ``PP_ENUMALGS(_EX)``, so the two
always agree: an ALG_ID is generatable exactly when it is enumerated.
"""

from __future__ import annotations

from csp11.model.algorithms import ALGORITHMS, Algorithm, Family, software_digest_available
from csp11.model.providers import Offer, Personality
from csp11.token import ChildSafeLock, Mechanism, Token

__all__ = ["Capabilities", "capabilities"]

# C_GetMechanismInfo reports key sizes in bytes for these generation
# mechanisms, in bits for the others (PKCS#11 v2.40 §2).
_SIZES_IN_BYTES = frozenset(
    int(m)
    for m in (
        Mechanism.AES_KEY_GEN,
        Mechanism._DES_KEY_GEN,
        Mechanism.DES2_KEY_GEN,
        Mechanism.DES3_KEY_GEN,
        Mechanism.GENERIC_SECRET_KEY_GEN,
    )
)


class Capabilities:
    """A personality's offers on one token, in PP_ENUMALGS order."""

    def __init__(self, personality: Personality, token: Token) -> None:
        self.personality = personality
        self.offers: tuple[Offer, ...] = tuple(
            clipped
            for offer in personality.offers
            if (clipped := _clip(offer, ALGORITHMS[offer.algid], token)) is not None
        )
        self._by_algid = {offer.algid: offer for offer in self.offers}

    def offer(self, algid: int) -> Offer | None:
        """The (clipped) offer for ``algid``, or ``None`` if not available here."""
        return self._by_algid.get(algid)


def _clip(offer: Offer, alg: Algorithm, token: Token) -> Offer | None:
    mechanisms = token.mechanisms()
    has_all = bool(alg.requires) and all(int(m) in mechanisms for m in alg.requires)
    if alg.family in (Family.HASH, Family.MAC):
        software = bool(alg.hashlib_name) and software_digest_available(alg.hashlib_name or "")
        return offer if has_all or software else None
    info = mechanisms.get(int(alg.gen_mechanism))
    if not has_all or info is None:
        return None
    low, high = _token_sizes(alg, token, info.min_key_size, info.max_key_size)
    if high <= 0:
        # 0/0: the token does not report sizes (SoftHSM2's DES family).
        return offer
    minimum, maximum = max(offer.minimum, low), min(offer.maximum, high)
    if offer.step:
        # Stay on the provider's grid (multiples of the step from its minimum).
        minimum += -(minimum - offer.minimum) % offer.step
        maximum -= (maximum - offer.minimum) % offer.step
    if minimum > maximum:
        return None
    default = min(max(offer.default, minimum), maximum)
    return Offer(offer.algid, default, minimum, maximum, offer.step)


def _token_sizes(alg: Algorithm, token: Token, low: int, high: int) -> tuple[int, int]:
    """The token's key-size range for ``alg`` in the offer's unit (bits, no parity)."""
    if int(alg.gen_mechanism) in _SIZES_IN_BYTES:
        low, high = low * 8, high * 8
    if alg.parity_bits and high > 0:
        # Tokens count DES keys with parity; the offer does not.
        low, high = low - alg.parity_bits, high - alg.parity_bits
    if alg.family is Family.DSA:
        quirks = token.quirks
        if quirks.dsa_min_bits:
            low = max(low, quirks.dsa_min_bits)
        if quirks.dsa_max_bits:
            high = min(high, quirks.dsa_max_bits)
    return low, high


_cache: dict[tuple[str, Token], Capabilities] = {}
_cache_lock = ChildSafeLock(_cache.clear)  # a child forgets the parent's tokens


def capabilities(personality: Personality, token: Token) -> Capabilities:
    """The personality's capabilities on ``token`` (computed once per pair)."""
    key = (personality.name, token)
    found = _cache.get(key)
    if found is None:
        found = Capabilities(personality, token)
        with _cache_lock:
            _cache[key] = found
    return found
