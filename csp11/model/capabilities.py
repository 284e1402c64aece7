"""What a provider personality offers on a given token (docs/differences.md).

A personality's table (:mod:`csp11.model.providers`) is intersected with the
token's mechanism list, and key lengths are clipped to what
``C_GetMechanismInfo`` reports (not for the DES family, whose sizes PKCS#11
leaves unused) and to the token's declared quirks.  A keyed hash (CALG_MAC,
CALG_HMAC) is offered only where a key for it can exist on the token.  The
result drives CryptGenKey's and CryptCreateHash's checks and
``PP_ENUMALGS(_EX)``, so they always agree: an ALG_ID is usable exactly when
it is enumerated.

:class:`TokenModel` is what csp11 learns about a token beyond its mechanism
list, by cheap probes made once per token per process (each cleans up what it
made) and from the named quirk table (:mod:`csp11.token.quirks`) for what a
token does not say:

* whether ``C_GenerateKey`` really works for a listed key-generation
  mechanism (tpm2-pkcs11 lists ``CKM_AES_KEY_GEN`` and answers
  ``CKR_FUNCTION_NOT_SUPPORTED``): a session key of the smallest size;
* whether CBC with its IV parameter works (p11-kit 0.24's RPC carries no
  ``CKM_*_CBC`` parameters: ``CKR_MECHANISM_INVALID`` through
  p11-kit-client.so, while ECB works): one block with that key.  Where it
  fails, one ECB block is tried: when ECB works csp11 runs CBC itself over
  the token's ECB (:func:`csp11.core.blockcipher.block_call`; the key never
  leaves the token), otherwise the block cipher is not offered — CryptoAPI's
  default mode is CBC;
* whether the token makes session objects and session key pairs (tpm2-pkcs11
  makes neither: ``CKR_ATTRIBUTE_VALUE_INVALID``); without session pairs a
  verify context's pairs are token objects marked ephemeral
  (:mod:`csp11.ops.keygen`).  Asked only when first needed: it costs a pair;
* which objects carry csp11's container records (:mod:`csp11.core.records`):
  private data objects, or private secret keys that can do nothing as keys
  on a token that keeps no token data objects (the quirk
  ``no_token_data_objects``; on a token the table does not name, learned
  when the token refuses a data record or one is found in secret keys —
  never by a probe, which would write to the token).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from csp11 import win32cryptcon as con
from csp11.errors import Fail
from csp11.model.algorithms import ALGORITHMS, Algorithm, Family, software_digest_available
from csp11.model.mechanisms import BLOCK_MECHANISMS
from csp11.model.providers import Offer, Personality
from csp11.token import (
    DEFAULT,
    Attribute,
    ChildSafeLock,
    KeyType,
    Mechanism,
    ObjectClass,
    PinSources,
    Token,
    TokenKey,
    on_token_unloaded,
)

__all__ = [
    "PROBE_LABEL", "RECORDS_IN_DATA", "RECORDS_IN_KEYS", "Capabilities", "TokenModel",
    "capabilities", "token_model",
]

# The two carriers of container records (csp11.core.records.CARRIERS).
RECORDS_IN_DATA = "data objects"
RECORDS_IN_KEYS = "secret keys"

# What a token answers when it cannot do what a probe asked (as opposed to a
# failure that says nothing about the ability: a lost session, a PIN).  The
# generic errors are here because tokens use them for "not like this"
# (tpm2-pkcs11's template mismatch is CKR_GENERAL_ERROR).
_CANNOT = frozenset({
    "CKR_FUNCTION_NOT_SUPPORTED", "CKR_MECHANISM_INVALID", "CKR_MECHANISM_PARAM_INVALID",
    "CKR_TEMPLATE_INCONSISTENT", "CKR_TEMPLATE_INCOMPLETE", "CKR_ATTRIBUTE_VALUE_INVALID",
    "CKR_ATTRIBUTE_TYPE_INVALID", "CKR_KEY_SIZE_RANGE", "CKR_GENERAL_ERROR",
    "CKR_FUNCTION_FAILED", "CKR_DEVICE_ERROR", "CKR_KEY_TYPE_INCONSISTENT",
    # tpm2-pkcs11 creates no object at all, session or token, before a login.
    "CKR_SESSION_READ_ONLY",
})
_PROBE_DATA = bytes(32)
# CKA_LABEL of everything a probe makes (so that a PKCS#11 log tells them apart).
PROBE_LABEL = "csp11 probe"


class TokenModel:
    """What one token can do beyond its mechanism list (probed once, cached)."""

    def __init__(self, token: Token) -> None:
        self.token = token
        self._lock = threading.Lock()
        # gen mechanism → (C_GenerateKey works, CBC with an IV works, ECB works)
        self._keygen: dict[int, tuple[bool, bool, bool]] = {}
        # Test-only switch: run CBC over ECB even where the token's CBC works
        # (so the emulation is checked on SoftHSM2 against cryptography).
        self.force_cbc_on_ecb = False
        self._session_objects: bool | None = None
        self._session_key_pairs: bool | None = None
        # The carrier of container records and why; None: data objects, not
        # yet confirmed by the token (see records()).
        self._records: tuple[str, str] | None = (
            (RECORDS_IN_KEYS, f"quirk {token.quirks.name}")
            if token.quirks.no_token_data_objects else None
        )

    # ---- secret keys ------------------------------------------------------------
    def secret_key(self, alg: Algorithm, bits: int) -> tuple[bool, bool]:
        """(C_GenerateKey makes ``alg`` keys, CBC works: the token's own or csp11's
        over the token's ECB) on this token."""
        generates, cbc, ecb = self._secret(alg, bits)
        return generates, cbc or ecb

    def cbc_on_ecb(self, alg: Algorithm) -> bool:
        """Whether csp11 runs ``alg``'s CBC itself over the token's ECB (the
        token's CBC with an IV fails and its ECB works, or the test switch)."""
        if self.force_cbc_on_ecb:
            return True
        _, cbc, ecb = self._secret(alg, _smallest_bits(alg, self.token))
        return ecb and not cbc

    def _secret(self, alg: Algorithm, bits: int) -> tuple[bool, bool, bool]:
        mech = int(alg.gen_mechanism)
        found = self._keygen.get(mech)  # probed once: no lock on the hot path
        if found is None:
            with self._lock:
                found = self._keygen.get(mech)
                if found is None:
                    found = self._probe_secret(alg, bits)
                    self._keygen[mech] = found
        return found

    def _probe_secret(self, alg: Algorithm, bits: int) -> tuple[bool, bool, bool]:
        template: dict[Any, object] = {
            Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: alg.key_type,
            Attribute.TOKEN: False, Attribute.PRIVATE: False, Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
            Attribute.VALUE_LEN: DEFAULT if alg.parity_bits else bits // 8,
            Attribute.LABEL: PROBE_LABEL,
        }
        try:
            tkey = self.token.generate_key(alg.key_type, bits + alg.parity_bits,
                                           mechanism=alg.gen_mechanism, template=template,
                                           pins=None)
        except Fail as exc:
            if exc.ckr in _CANNOT:
                return False, False, False
            raise
        try:
            block = BLOCK_MECHANISMS.get(alg.key_type)
            if block is None or not alg.block_bits or alg.key_type == KeyType._RC2:
                # Stream ciphers have no IV; RC2's parameter is csp11's own
                # packing (CK_RC2_CBC_PARAMS), tested on the token that has it.
                return True, True, False
            size = alg.block_bits // 8
            cbc = self._works(tkey, block.cbc, _PROBE_DATA[:size], bytes(size))
            ecb = not cbc and self._works(tkey, block.ecb, _PROBE_DATA[:size], None)
            return True, cbc, ecb
        finally:
            tkey.release()

    def _works(self, tkey: TokenKey, mechanism: Mechanism, data: bytes,
               param: bytes | None) -> bool:
        """Whether one encryption of ``data`` with ``mechanism`` works."""
        if int(mechanism) not in self.token.mechanisms():
            return False
        try:
            tkey.encrypt(data, mechanism, param)
        except Fail as exc:
            if exc.ckr in _CANNOT:
                return False
            raise
        return True

    # ---- objects ----------------------------------------------------------------
    @property
    def session_objects(self) -> bool:
        """Whether the token makes session (CKA_TOKEN false) objects."""
        with self._lock:
            if self._session_objects is None:
                self._session_objects = self._probe_session_object()
            return self._session_objects

    def _probe_session_object(self) -> bool:
        template = {Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: False,
                    Attribute.PRIVATE: False, Attribute.APPLICATION: "csp11-probe",
                    Attribute.LABEL: PROBE_LABEL,
                    Attribute.VALUE: b"probe"}
        try:
            self.token.create_and_destroy(template)
        except Fail as exc:
            if exc.ckr in _CANNOT:
                return False
            raise
        return True

    def session_key_pairs(self, pins: PinSources | None) -> bool:
        """Whether the token makes session key pairs (probed with the smallest
        RSA pair it makes, at first need; ``pins`` log in if the token wants it)."""
        with self._lock:
            if self._session_key_pairs is None:
                self._session_key_pairs = self._probe_session_pair(pins)
            return self._session_key_pairs

    def _probe_session_pair(self, pins: PinSources | None) -> bool:
        info = self.token.mechanisms().get(int(Mechanism.RSA_PKCS_KEY_PAIR_GEN))
        if info is None:
            return False
        bits = max(info.min_key_size, 1024)
        public = {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: KeyType.RSA,
                  Attribute.TOKEN: False, Attribute.PRIVATE: False, Attribute.VERIFY: True,
                  Attribute.MODULUS_BITS: bits, Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01",
                  Attribute.LABEL: PROBE_LABEL}
        private = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.RSA,
                   Attribute.TOKEN: False, Attribute.PRIVATE: False,
                   Attribute.SENSITIVE: True, Attribute.SIGN: True,
                   Attribute.LABEL: PROBE_LABEL}
        try:
            pair = self.token.generate_key_pair(
                KeyType.RSA, bits, mechanism=Mechanism.RSA_PKCS_KEY_PAIR_GEN,
                public=public, private=private, pins=pins,
            )
        except Fail as exc:
            if exc.ckr in _CANNOT:
                return False
            raise
        pair.release()
        return True

    # ---- container records ------------------------------------------------------
    def records(self) -> tuple[str, bool]:
        """(carrier of container records, settled).

        Unsettled means "data objects, as far as csp11 knows": the token is
        not in the quirk table and this process has neither written nor found
        a record yet.  Until it is settled a search that finds no record in
        data objects looks in secret keys too (another process may have
        learned that the token refuses data objects).
        """
        found = self._records  # one reference read: no lock needed
        return (RECORDS_IN_DATA, False) if found is None else (found[0], True)

    def settle_records(self, carrier: str, why: str) -> None:
        """Record what the token showed about the carrier (the first answer stays)."""
        with self._lock:
            if self._records is None:
                self._records = (carrier, why)

    def describe(self, pins: PinSources | None = None) -> dict[str, object]:
        """The model as plain data (``csp11 info``); with ``pins`` it also asks
        the session-pair question (it costs a key pair, and may need a login)."""
        keygen: dict[str, object] = {}
        mechanisms = self.token.mechanisms()
        for alg in ALGORITHMS.values():
            if alg.family is not Family.SESSION or int(alg.gen_mechanism) not in mechanisms:
                continue
            # python-pkcs11 spells CKM_DES_KEY_GEN "_DES_KEY_GEN"; users read PKCS #11's name.
            name = alg.gen_mechanism.name.lstrip("_")
            if name in keygen:
                continue
            generates, cbc, ecb = self._secret(alg, _smallest_bits(alg, self.token))
            # CBC applies to block ciphers csp11 probes (RC2's parameter is its own).
            probed = generates and alg.block_bits and alg.key_type != KeyType._RC2
            entry: dict[str, object] = {"generates": generates,
                                        "cbc_with_iv": cbc if probed else None}
            if probed and (ecb or self.force_cbc_on_ecb):
                entry["cbc"] = "emulated on ECB"
            keygen[name] = entry
        quirks = self.token.quirks
        with self._lock:
            pairs = self._session_key_pairs
        if pins is not None:
            pairs = self.session_key_pairs(pins)
        records = self._records
        return {
            "container_records": {
                "carrier": RECORDS_IN_DATA if records is None else records[0],
                "why": "default: the token is not known to refuse them" if records is None
                else records[1],
            },
            "session_objects": self.session_objects,
            "session_key_pairs": pairs,
            "secret_keygen": keygen,
            "quirks": quirks.name,
            "rsa_pairs_dual_use": quirks.rsa_pairs_dual_use,
            "extractable_private_keys": not quirks.no_extractable_private_keys,
            "rsa_lengths": list(quirks.rsa_lengths) or "any in range",
            "handle_anchor": quirks.handle_anchor,
            "imports_private_keys": not quirks.creates_public_keys_only,
            "objects_read_at_load": quirks.objects_read_at_load,
        }


def _smallest_bits(alg: Algorithm, token: Token) -> int:
    """The key length (bits, no parity) a secret-key probe of ``alg`` asks for."""
    if alg.parity_bits:
        return alg.block_bits - 8 if alg.key_type == KeyType._DES else (
            112 if alg.key_type == KeyType.DES2 else 168)
    info = token.mechanisms().get(int(alg.gen_mechanism))
    low = info.min_key_size if info is not None else 0
    if int(alg.gen_mechanism) in _SIZES_IN_BYTES:
        low *= 8
    return max(low, 128 if alg.key_type == KeyType.AES else 40)

# C_GetMechanismInfo reports key sizes in bytes for these generation
# mechanisms, in bits for the others (PKCS#11 v2.40 §2).  The DES family's
# sizes are not read at all (_token_sizes).
_SIZES_IN_BYTES = frozenset(
    int(m) for m in (Mechanism.AES_KEY_GEN, Mechanism.GENERIC_SECRET_KEY_GEN)
)


class Capabilities:
    """A personality's offers on one token, in PP_ENUMALGS order.

    Found when first asked (a process's first key is part of its cold start,
    issue #16): a session algorithm's offer costs a probe of the token (a
    key generated and used), so :meth:`offer` of one algorithm clips that
    one alone; the whole list (:attr:`offers`, an enumeration) and a keyed
    hash (whose offer depends on the block ciphers offered) clip them all.
    """

    def __init__(self, personality: Personality, token: Token) -> None:
        self.personality = personality
        self._token = token
        self._rows = {offer.algid: offer for offer in personality.offers}
        self._lock = threading.RLock()
        self._clipped: dict[int, Offer | None] = {}  # algorithms other than keyed hashes
        self._absent: dict[int, str] = {}
        self._offers: tuple[Offer, ...] | None = None
        self._by_algid: dict[int, Offer] = {}

    def _clip_one(self, algid: int) -> Offer | None:
        with self._lock:
            if algid not in self._clipped:
                self._clipped[algid] = _clip(self._rows[algid], ALGORITHMS[algid], self._token)
            return self._clipped[algid]

    def _complete(self) -> tuple[Offer, ...]:
        with self._lock:
            if self._offers is None:
                self._offers = self._clip_all()
                self._by_algid = {offer.algid: offer for offer in self._offers}
            return self._offers

    def _clip_all(self) -> tuple[Offer, ...]:
        token = self._token
        # Keyed hashes last: whether one is offered depends on the session
        # algorithms offered (the keys the token can hold for it).
        clipped: dict[int, Offer] = {}
        for offer in self.personality.offers:
            alg = ALGORITHMS[offer.algid]
            if alg.family is not Family.MAC and (found := self._clip_one(offer.algid)):
                clipped[offer.algid] = found
        mechanisms = token.mechanisms()
        for offer in self.personality.offers:
            alg = ALGORITHMS[offer.algid]
            if alg.family is not Family.MAC:
                continue
            if (found := _clip(offer, alg, token)) is None:
                lacks = ", ".join(f"CKM_{m.name.lstrip('_')}" for m in alg.requires
                                  if int(m) not in mechanisms)
                self._absent[offer.algid] = (f"the token has no {lacks}" if lacks
                                             else "the token cannot compute it")
            else:
                missing = _keyed_hash_missing(alg, token, clipped.values())
                if missing is None:
                    clipped[offer.algid] = found
                else:
                    self._absent[offer.algid] = missing
        return tuple(
            clipped[offer.algid] for offer in self.personality.offers if offer.algid in clipped
        )

    @property
    def offers(self) -> tuple[Offer, ...]:
        """Every (clipped) offer, in the personality's PP_ENUMALGS order."""
        return self._complete()

    def offer(self, algid: int) -> Offer | None:
        """The (clipped) offer for ``algid``, or ``None`` if not available here."""
        if algid not in self._rows:
            return None
        if ALGORITHMS[algid].family is not Family.MAC:
            return self._clip_one(algid)
        self._complete()
        return self._by_algid.get(algid)

    def absent_because(self, algid: int) -> str | None:
        """Why a keyed hash the personality has is not offered on this token (a
        mechanism it lacks, or no key for it can exist there), or ``None``."""
        self._complete()
        return self._absent.get(algid)


def _keyed_hash_missing(alg: Algorithm, token: Token, offered: Iterable[Offer]) -> str | None:
    """What the token lacks to hold a key for the keyed hash ``alg`` (``None``:
    nothing; it is offered).

    A keyed hash the token computes but for which no key can exist there
    would be enumerated and never work (tpm2-pkcs11 lists CKM_SHA_1_HMAC and
    makes no secret keys at all).  CALG_MAC runs on a block cipher session
    key (:class:`csp11.core.engines.CbcMac`), so it needs a block cipher
    offered.  CALG_HMAC runs on a generic secret session object that csp11
    creates in every case (:func:`csp11.ops.hashing._hmac_key`: an
    ``CRYPT_IPSEC_HMAC_KEY`` import, or a copy of an exportable session
    key, generated or imported), so it needs a token that creates secret
    keys from their value as session objects; a generated key alone cannot
    key an HMAC there.
    """
    offers = [ALGORITHMS[offer.algid] for offer in offered]
    if alg.algid == con.CALG_MAC:
        if not any(a.family is Family.SESSION and a.block_bits for a in offers):
            return "the token holds no block cipher session key (DES, 3DES, AES, RC2) to MAC with"
        return None
    if token.quirks.creates_public_keys_only:
        return (f"the token creates no secret key from its value (quirk {token.quirks.name}), "
                "so no HMAC key can exist on it")
    if not token_model(token).session_objects:
        return ("the token makes no session objects, so no HMAC key (a session generic "
                "secret) can exist on it")
    return None


def _clip(offer: Offer, alg: Algorithm, token: Token) -> Offer | None:
    mechanisms = token.mechanisms()
    has_all = bool(alg.requires) and all(int(m) in mechanisms for m in alg.requires)
    if alg.family in (Family.HASH, Family.MAC):
        software = bool(alg.hashlib_name) and software_digest_available(alg.hashlib_name or "")
        return offer if has_all or software else None
    info = mechanisms.get(int(alg.gen_mechanism))
    if not has_all or info is None:
        return None
    if alg.family is Family.SESSION:
        generates, cbc = token_model(token).secret_key(alg, _smallest_bits(alg, token))
        if not generates or not cbc:
            return None
    low, high = _token_sizes(alg, token, info.min_key_size, info.max_key_size)
    if high <= 0:
        # 0/0: the token does not report sizes (or they mean nothing).
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
    """The token's key-size range for ``alg`` in the offer's unit (bits, no
    parity); (0, 0) where the token does not say."""
    if alg.parity_bits:
        # The DES family's lengths are fixed by the key type: PKCS#11 says a
        # DES/3DES generation mechanism's ulMinKeySize/ulMaxKeySize are not
        # used (v2.20 §12.13.9, "General block cipher key generation"), and
        # tokens fill them as they like: SoftHSM2 0/0; NSS softokn DES 8/8,
        # DES3 24/24 and DES2_KEY_GEN 24/24 too (a CKK_DES2 value has 16
        # bytes), which read as a length lost CALG_3DES_112 there.
        return 0, 0
    if int(alg.gen_mechanism) in _SIZES_IN_BYTES:
        low, high = low * 8, high * 8
    if alg.family is Family.DSA:
        quirks = token.quirks
        if quirks.dsa_min_bits:
            low = max(low, quirks.dsa_min_bits)
        if quirks.dsa_max_bits:
            high = min(high, quirks.dsa_max_bits)
    return low, high


_cache: dict[tuple[str, Token], Capabilities] = {}
_cache_lock = ChildSafeLock(_cache.clear)  # a child forgets the parent's tokens
_models: dict[Token, TokenModel] = {}
_models_lock = ChildSafeLock(_models.clear)


@on_token_unloaded
def _forget(token: Token) -> None:
    with _models_lock:
        _models.pop(token, None)
    with _cache_lock:
        for key in [key for key in _cache if key[1] is token]:
            del _cache[key]


def token_model(token: Token) -> TokenModel:
    """The (cached) model of ``token``."""
    found = _models.get(token)
    if found is None:
        with _models_lock:
            found = _models.setdefault(token, TokenModel(token))
    return found


def capabilities(personality: Personality, token: Token) -> Capabilities:
    """The personality's capabilities on ``token`` (computed once per pair)."""
    key = (personality.name, token)
    found = _cache.get(key)
    if found is None:
        found = Capabilities(personality, token)
        with _cache_lock:
            _cache[key] = found
    return found
