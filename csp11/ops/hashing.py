"""CryptCreateHash and the hash functions: hashes, HMACs and CBC-MACs on the token.

Where the value is computed is the engine's business
(:mod:`csp11.core.engines`); this module picks the engine, keys it, and
carries out ``CryptHashSessionKey``, ``CryptGetHashParam`` and
``CryptSetHashParam``.  Arguments arrive checked and normalised by the
public layer (:mod:`csp11.win32crypt`).

HMAC keys: tokens compute HMAC only with generic secret keys, and SoftHSM2
only with keys at least as long as the hash value.  A key imported with
``CRYPT_IPSEC_HMAC_KEY`` is stored as a generic secret, zero-padded to 64
bytes (which HMAC does anyway, see
:func:`csp11.model.hashes.hmac_material`); another session key is copied to
such a generic secret when it is exportable (its bytes are wrapped out as
for PLAINTEXTKEYBLOB), and refused (``NTE_BAD_KEY``) when it is not.
"""

from __future__ import annotations

from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import dword
from csp11.core.context import Context
from csp11.core.engines import CbcMac, Engine, Finished, SoftwareDigest, TokenDigest
from csp11.core.hash import Hash
from csp11.core.key import Key
from csp11.core.templates import HMAC_TWIN
from csp11.errors import Fail
from csp11.model.algorithms import ALGORITHMS, Algorithm, Family
from csp11.model.capabilities import capabilities
from csp11.model.hashes import HASHES, hmac_material
from csp11.token import Attribute, Token, TokenKey

__all__ = [
    "create_hash", "digest_once", "get_hash_param", "hash_session_key", "set_hash_param",
]

_PLANS = 64  # plain-digest plans kept per context (create_hash)


def create_hash(ctx: Context, algid: int, key: Key | None) -> Hash:
    """CryptCreateHash (flags already checked)."""
    ctx.check_live()
    plan = ctx.hash_plans.get(algid) if key is None else None
    if plan is not None:
        # A plain digest on the token made before in this context: the checks
        # below depend only on the ALG_ID, the context's provider and the
        # token's (fixed) mechanisms, and passed then.
        return Hash(ctx, plan[0], TokenDigest(ctx.token, "digest", plan[1], plan[2]))
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family not in (Family.HASH, Family.MAC):
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a hash")
    _offered(ctx, alg)
    if alg.family is Family.MAC:
        if key is None:
            raise Fail(winerror.NTE_BAD_KEY, f"{alg.name} needs a key")
        key.live()
        if algid == con.CALG_HMAC:
            return Hash(ctx, alg, None, _hmac_key(key))
        return Hash(ctx, alg, CbcMac(key))
    if algid == con.CALG_SSL3_SHAMD5:
        return Hash(ctx, alg, Finished(HASHES[algid].size))
    engine = _plain_engine(ctx.token, alg)
    if isinstance(engine, TokenDigest) and key is None and len(ctx.hash_plans) < _PLANS:
        ctx.hash_plans[algid] = (alg, HASHES[algid].digest, engine.size)
    return Hash(ctx, alg, engine)


def digest_once(token: Token, algid: int, data: bytes) -> bytes:
    """The plain digest of ``data`` with ``algid``, computed as CryptHashData would."""
    alg = ALGORITHMS.get(algid)
    if alg is None or algid not in HASHES or algid == con.CALG_SSL3_SHAMD5:
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a plain digest")
    engine = _plain_engine(token, alg)
    try:
        engine.update(data)
        return engine.finish()
    except BaseException:
        engine.abort()
        raise


def hash_session_key(hash_: Hash, key: Key, flag_bits: int) -> None:
    """CryptHashSessionKey: a session key's bytes, reversed by default, as stored
    with ``CRYPT_LITTLE_ENDIAN`` (see docs/differences.md for what the token allows)."""
    if flag_bits & ~con.CRYPT_LITTLE_ENDIAN:
        raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 or CRYPT_LITTLE_ENDIAN")
    with hash_.lock:
        hash_.check_updatable()
        key.live()
        if key.is_pair:
            raise Fail(winerror.NTE_BAD_KEY, "only session keys can be hashed")
        tkey = key.usable()
        exportable = bool(key.permissions & (con.CRYPT_EXPORT | con.CRYPT_ARCHIVE))
        if flag_bits & con.CRYPT_LITTLE_ENDIAN:
            # The value in the order the token stores it: C_DigestKey, so
            # the key never leaves the token; only where the token
            # refuses (SoftHSM2 with MD5) are an exportable key's bytes
            # wrapped out and hashed.
            try:
                hash_.running().digest_key(tkey)
                return
            except Fail as exc:
                if not exportable:
                    raise Fail(
                        winerror.NTE_BAD_KEY_STATE,
                        f"the token does not digest this key with {hash_.alg.name} "
                        "(C_DigestKey refused), and the key is not exportable, so csp11 "
                        "cannot hash its bytes either (docs/differences.md lists what each "
                        "token digests)",
                        ckr=exc.ckr,
                    ) from None
            hash_.running().update_secret(tkey.extract()[: key.material_size])
            return
        if not exportable:
            raise Fail(
                winerror.NTE_BAD_KEY_STATE,
                "hashing a key's bytes reversed needs them off the token: the key is not "
                "exportable (use CRYPT_LITTLE_ENDIAN, which hashes it on the token)",
            )
        hash_.running().update_secret(tkey.extract()[: key.material_size][::-1])


def get_hash_param(hash_: Hash, param: int) -> Any:
    """``HP_ALGID`` and ``HP_HASHSIZE`` (int), ``HP_HASHVAL`` (bytes; finishes the hash)."""
    if param == con.HP_HASHVAL:
        return hash_.finish()  # checks the handle first, under the hash's lock
    hash_.live()
    if param == con.HP_ALGID:
        return hash_.algid
    if param == con.HP_HASHSIZE:
        return hash_.size
    raise Fail(winerror.NTE_BAD_TYPE, f"unknown hash parameter {param}")


def set_hash_param(hash_: Hash, param: int, data: object) -> None:
    """``HP_HASHVAL`` (bytes: a value computed elsewhere, to sign) and
    ``HP_HMAC_INFO`` (the HMAC's hash: an ALG_ID, a tuple ``(HashAlgid,
    pbInnerString, pbOuterString)`` or a dict with those keys)."""
    with hash_.lock:
        hash_.live()
        if param == con.HP_HASHVAL:
            _set_value(hash_, data)
        elif param == con.HP_HMAC_INFO:
            _set_hmac_info(hash_, data)
        else:
            raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only hash parameter {param}")


def _set_value(hash_: Hash, data: object) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"HP_HASHVAL takes bytes, not {type(data).__name__}")
    value = bytes(data)
    if hash_.algid in (con.CALG_MAC, con.CALG_HMAC):
        raise Fail(winerror.NTE_BAD_TYPE, "a MAC's value cannot be set")
    if len(value) != hash_.size:
        raise Fail(
            winerror.NTE_BAD_LEN, f"HP_HASHVAL takes {hash_.size} bytes, got {len(value)}"
        )
    engine, hash_.engine = hash_.engine, None
    if engine is not None:
        engine.abort()
    hash_.engine = Finished(hash_.size)
    hash_.value = value


def _set_hmac_info(hash_: Hash, data: object) -> None:
    if hash_.algid != con.CALG_HMAC:
        raise Fail(winerror.NTE_BAD_TYPE, "HP_HMAC_INFO applies to CALG_HMAC hashes")
    if hash_.engine is not None or hash_.value is not None:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "HP_HMAC_INFO is set once, before any data")
    algid, inner, outer = _hmac_info(data)
    row = HASHES.get(algid)
    alg = ALGORITHMS.get(algid)
    if row is None or alg is None or row.hmac is None or algid == con.CALG_SSL3_SHAMD5:
        raise Fail(winerror.NTE_BAD_ALGID, f"HMAC over ALG_ID 0x{algid:04X} is not available")
    _offered(hash_.ctx, alg)
    if inner not in (b"", bytes([0x36]) * 64) or outer not in (b"", bytes([0x5C]) * 64):
        raise Fail(
            winerror.NTE_NOT_SUPPORTED,
            "the token computes standard HMAC only: inner and outer strings must be "
            "empty (the defaults)",
        )
    token = hash_.ctx.token
    if int(row.hmac) not in token.mechanisms():
        raise Fail(winerror.NTE_BAD_ALGID, f"the token has no {row.hmac.name}")
    key = hash_.hmac_key
    if key is None:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "the HMAC's key is gone")
    hash_.engine = TokenDigest(token, "sign", row.hmac, row.size, key.share())
    hash_.hmac_algid = algid


def _hmac_info(data: object) -> tuple[int, bytes, bytes]:
    if isinstance(data, int):
        return dword(data, "HashAlgid"), b"", b""
    if isinstance(data, dict):
        values = (data.get("HashAlgid"), data.get("pbInnerString") or b"",
                  data.get("pbOuterString") or b"")
    elif isinstance(data, (tuple, list)) and len(data) in (1, 3):
        values = (data[0], *(data[1:] or (b"", b"")))
        values = (values[0], values[1] or b"", values[2] or b"")
    else:
        raise TypeError("HP_HMAC_INFO takes an ALG_ID, (HashAlgid, inner, outer) or a dict")
    algid, inner, outer = values
    if not isinstance(algid, int) or not isinstance(inner, bytes) or not isinstance(outer, bytes):
        raise TypeError("HP_HMAC_INFO: HashAlgid is an int, the strings bytes")
    return dword(algid, "HashAlgid"), inner, outer


def _hmac_key(key: Key) -> TokenKey:
    """A generic secret on the token that HMACs as ``key`` does (a new reference)."""
    tkey = key.usable()
    if key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, "an HMAC takes a session key")
    if key.hmac_only:  # imported with CRYPT_IPSEC_HMAC_KEY: a generic secret already
        return tkey.share()
    if not key.permissions & (con.CRYPT_EXPORT | con.CRYPT_ARCHIVE):
        raise Fail(
            winerror.NTE_BAD_KEY,
            f"the token computes HMAC with generic secrets only, and this {key.alg.name} key "
            "is not exportable, so csp11 cannot copy it to one (import HMAC keys with "
            "CRYPT_IPSEC_HMAC_KEY)",
        )
    material = hmac_material(tkey.extract()[: key.material_size])
    return key.ctx.token.create_key({**HMAC_TWIN, Attribute.VALUE: material},
                                    pins=key.ctx.pins)


def _offered(ctx: Context, alg: Algorithm) -> None:
    caps = capabilities(ctx.personality, ctx.token)
    if caps.offer(alg.algid) is None:
        why = caps.absent_because(alg.algid)
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"{ctx.personality.name} does not offer {alg.name} here"
            + (f": {why}" if why else ""),
        )


def _plain_engine(token: Token, alg: Algorithm) -> Engine:
    """A plain digest: on the token when it has the mechanism, else hashlib."""
    row = HASHES[alg.algid]
    if row.digest is not None and int(row.digest) in token.mechanisms():
        return TokenDigest(token, "digest", row.digest, row.size)
    if alg.hashlib_name is None or "+" in alg.hashlib_name:
        raise Fail(winerror.NTE_BAD_ALGID, f"{alg.name} cannot be computed here")
    return SoftwareDigest(alg.hashlib_name, row.size)
