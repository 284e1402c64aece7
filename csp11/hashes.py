"""``PyCRYPTHASH``: hashes, HMACs and CBC-MACs, computed on the token.

Where the value is computed (one *engine* per hash object):

=================  ==========================================================
``CALG_MD5`` ...   ``C_DigestInit/Update/Final`` on a session of the hash's
                   own while data arrives; in software (``hashlib``) only for
                   a plain digest the token lacks (``CALG_MD4``, say)
``CALG_HMAC``      ``C_SignInit/Update/Final`` with ``CKM_*_HMAC`` and the
                   key (a ``CKK_GENERIC_SECRET`` on the token, see below)
``CALG_MAC``       CBC-MAC: ``C_Encrypt`` (``CKM_*_CBC``) of whole blocks as
                   they arrive; PKCS #5 padding at the end; the last block
=================  ==========================================================

PKCS#11 tokens rarely save an operation's state (SoftHSM2 answers
``C_GetOperationState`` with ``CKR_FUNCTION_NOT_SUPPORTED``), so
``CryptDuplicateHash`` of a token digest or HMAC replays the data hashed so
far into a new operation.  The hash keeps that data (references to the bytes
given, no copies) up to :data:`REPLAY_LIMIT` bytes; a hash that took more
cannot be duplicated (``NTE_NOT_SUPPORTED``), nor one that hashed a key
with ``CryptHashSessionKey``.

HMAC keys: tokens compute HMAC only with generic secret keys, and SoftHSM2
only with keys at least as long as the hash value.  A key imported with
``CRYPT_IPSEC_HMAC_KEY`` is stored as a generic secret, zero-padded to 64
bytes (which HMAC does anyway, see :func:`hmac_material`); another session
key is copied to such a generic secret when it is exportable (its bytes are
wrapped out as for PLAINTEXTKEYBLOB), and refused (``NTE_BAD_KEY``) when it
is not.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.algorithms import ALGORITHMS, Algorithm, Family
from csp11.args import dword, flags
from csp11.capabilities import capabilities
from csp11.errors import Fail, api
from csp11.keys import PyCRYPTKEY
from csp11.token import Attribute, KeyType, Mechanism, ObjectClass, Operation, Token, TokenKey

if TYPE_CHECKING:
    from csp11.provider import PyCRYPTPROV

__all__ = [
    "HASHES", "HASH_SIZES", "HMAC_BLOCK", "ONE_SHOT", "REPLAY_LIMIT", "PyCRYPTHASH", "create_hash",
    "digest_once", "hmac_material",
]

# Up to this much input a hash is one C_Digest/C_Sign call when its value is
# asked for (the input is kept, by reference, until then); it is also how much
# CryptDuplicateHash can replay.  One limit: until an operation runs, all the
# input must be at hand.
ONE_SHOT = REPLAY_LIMIT = 2 * 1024 * 1024
_handles = itertools.count(1)


@dataclass(frozen=True)
class _HashRow:
    size: int
    digest: Any  # CKM_* digest mechanism
    hmac: Any | None  # CKM_*_HMAC, if PKCS#11 has one
    # DigestInfo prefix for RSA signatures (RFC 8017 §9.2 note 1); None: none.
    digest_info: bytes | None


HASHES: dict[int, _HashRow] = {
    con.CALG_MD5: _HashRow(16, Mechanism._MD5, Mechanism._MD5_HMAC,
                           bytes.fromhex("3020300c06082a864886f70d020505000410")),
    con.CALG_SHA1: _HashRow(20, Mechanism.SHA_1, Mechanism.SHA_1_HMAC,
                            bytes.fromhex("3021300906052b0e03021a05000414")),
    con.CALG_SHA_256: _HashRow(32, Mechanism.SHA256, Mechanism.SHA256_HMAC,
                               bytes.fromhex("3031300d060960864801650304020105000420")),
    con.CALG_SHA_384: _HashRow(48, Mechanism.SHA384, Mechanism.SHA384_HMAC,
                               bytes.fromhex("3041300d060960864801650304020205000430")),
    con.CALG_SHA_512: _HashRow(64, Mechanism.SHA512, Mechanism.SHA512_HMAC,
                               bytes.fromhex("3051300d060960864801650304020305000440")),
    con.CALG_MD2: _HashRow(16, Mechanism._MD2, Mechanism._MD2_HMAC,
                           bytes.fromhex("3020300c06082a864886f70d020205000410")),
    con.CALG_MD4: _HashRow(16, None, None,
                           bytes.fromhex("3020300c06082a864886f70d020405000410")),
    con.CALG_SSL3_SHAMD5: _HashRow(36, None, None, None),
}
HASH_SIZES = {algid: row.size for algid, row in HASHES.items()}


class _Engine(Protocol):
    """How one hash object computes its value."""

    size: int

    def update(self, data: bytes) -> None: ...
    def update_secret(self, data: bytes) -> None: ...
    def digest_key(self, key: TokenKey) -> None: ...
    def finish(self) -> bytes: ...
    def duplicate(self) -> _Engine: ...
    def abort(self) -> None: ...


class _TokenOperation:
    """A digest or HMAC on the token, with the replay log of its input.

    Input up to :data:`ONE_SHOT` bytes is only kept until the value is asked
    for and then goes to the token in one call (``C_Digest`` / ``C_Sign``):
    small hashes cost one token call, not three and a session.  Beyond that
    a multi-part operation runs on a session of its own.  The data is kept
    (references, not copies) up to :data:`REPLAY_LIMIT` bytes for
    ``CryptDuplicateHash``; secrets (a hashed session key) are never kept.
    """

    def __init__(self, token: Token, kind: str, mechanism: Any, size: int,
                 key: TokenKey | None = None) -> None:
        # ``key`` (an HMAC's) is a reference this operation owns and releases.
        self.size = size
        self._token, self._kind, self._mechanism, self._key = token, kind, mechanism, key
        self._op: Operation | None = None
        self._chunks: list[bytes] | None = []  # everything hashed, while replayable
        self._total = 0
        self._lost = False  # the token dropped the operation and it cannot be replayed

    def _started(self) -> Operation:
        """The running token operation, started (and fed the kept data) if need be."""
        if self._lost:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "the token lost this hash's state")
        if self._op is None:
            kept = self._kept()  # kept in full until an operation runs
            op = self._token.operation(
                self._kind, self._mechanism, None if self._key is None else self._key.obj
            )
            try:
                for chunk in kept:
                    op.update(chunk)
            except BaseException:
                op.abort()
                raise
            self._op = op
        return self._op

    def update(self, data: bytes) -> None:
        if self._op is None and not self._lost and self._total + len(data) <= ONE_SHOT:
            self._kept().append(data)
            self._total += len(data)
            return
        self._started().update(data)
        self._total += len(data)
        if self._chunks is not None:
            if self._total > REPLAY_LIMIT:
                self._chunks = None
            else:
                self._chunks.append(data)

    def update_secret(self, data: bytes) -> None:
        """Hash ``data`` without keeping it (a session key's bytes)."""
        self._started().update(data)
        self._chunks = None

    def digest_key(self, key: TokenKey) -> None:
        try:
            self._started().digest_key(key)
        except Fail:
            # The token refused (SoftHSM2 digests no key with MD5) and closed
            # the operation: it restarts from the kept data at the next
            # call, so the hash stays usable, as on Windows.
            self._op = None
            self._lost = self._chunks is None
            raise
        self._chunks = None  # a key's value cannot be replayed from here

    def finish(self) -> bytes:
        try:
            if self._op is None and not self._lost:
                data = b"".join(self._kept())
                if self._key is not None:
                    return self._key.sign(data, self._mechanism)
                return self._token.digest(data, self._mechanism)
            return self._started().finish()
        finally:
            # Whatever happened, this operation is over: a failed finish
            # leaves a hash that says so (NTE_BAD_HASH_STATE), not a broken one.
            self._lost = True
            self._done()

    def _kept(self) -> list[bytes]:
        if self._chunks is None:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "the hash's input is no longer at hand")
        return self._chunks

    def _done(self) -> None:
        self._chunks = None
        key, self._key = self._key, None
        if key is not None:
            key.release()

    def duplicate(self) -> _TokenOperation:
        if self._chunks is None or self._lost:
            raise Fail(
                winerror.NTE_NOT_SUPPORTED,
                "this token cannot copy a running hash, and csp11 replays at most "
                f"{REPLAY_LIMIT} bytes of data (and no hashed session keys)",
            )
        key = self._key.share() if self._key is not None else None
        twin = _TokenOperation(self._token, self._kind, self._mechanism, self.size, key)
        twin._chunks, twin._total = list(self._chunks), self._total
        if self._op is not None:
            try:
                twin._started()
            except BaseException:
                twin.abort()  # lets the key reference go
                raise
        return twin

    def abort(self) -> None:
        try:
            if self._op is not None:
                self._op.abort()
        finally:
            self._done()


class _SoftwareDigest:
    """A plain digest the token does not have, in hashlib (documented)."""

    def __init__(self, name: str, size: int) -> None:
        self.size = size
        self._hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def update_secret(self, data: bytes) -> None:
        self._hash.update(data)

    def digest_key(self, key: TokenKey) -> None:
        raise Fail(
            winerror.NTE_BAD_KEY,
            "a digest computed in software cannot take a key's value from the token",
        )

    def finish(self) -> bytes:
        return self._hash.digest()

    def duplicate(self) -> _SoftwareDigest:
        twin = _SoftwareDigest.__new__(_SoftwareDigest)
        twin.size, twin._hash = self.size, self._hash.copy()
        return twin

    def abort(self) -> None:
        return None


class _CbcMac:
    """CALG_MAC: CBC-MAC with a block cipher session key (state copied at creation)."""

    def __init__(self, key: PyCRYPTKEY) -> None:
        from csp11.cipher import block_mechanisms  # noqa: PLC0415 - import cycle

        block_mechanisms(key)  # refuses other keys before a reference is taken
        self._cipher = key  # its algorithm (and RC2 effective length), for block_call
        self.size = key.alg.block_bits // 8
        self._tkey: TokenKey | None = key.usable().share()
        self._chain = key.iv
        self._pending = b""

    def _key(self) -> TokenKey:
        if self._tkey is None:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "the MAC is finished")
        return self._tkey

    def _cbc(self, data: bytes) -> bytes:
        from csp11.cipher import block_call  # noqa: PLC0415 - import cycle

        return block_call(self._cipher, self._key(), data, ecb=False, iv=self._chain,
                          encrypting=True)

    def update(self, data: bytes) -> None:
        data = self._pending + data
        whole = len(data) - len(data) % self.size
        self._pending = data[whole:]
        if whole:
            self._chain = self._cbc(data[:whole])[-self.size:]

    def update_secret(self, data: bytes) -> None:
        raise Fail(winerror.NTE_BAD_KEY, "CALG_MAC does not hash session keys")

    def digest_key(self, key: TokenKey) -> None:
        raise Fail(winerror.NTE_BAD_KEY, "CALG_MAC does not hash session keys")

    def finish(self) -> bytes:
        from csp11.cipher import pad  # noqa: PLC0415 - import cycle

        try:
            value = self._cbc(pad(self._pending, self.size))
        finally:
            self.abort()
        return value[-self.size:]

    def duplicate(self) -> _CbcMac:
        twin = _CbcMac.__new__(_CbcMac)
        twin.size, twin._tkey, twin._cipher = self.size, self._key().share(), self._cipher
        twin._chain, twin._pending = self._chain, self._pending
        return twin

    def abort(self) -> None:
        """Let go of the key (once: finishing and destroying both end here)."""
        tkey, self._tkey = self._tkey, None
        if tkey is not None:
            tkey.release()


class PyCRYPTHASH:
    """A CryptoAPI hash object (``HCRYPTHASH``)."""

    def __init__(self, prov: PyCRYPTPROV, alg: Algorithm, engine: _Engine | None,
                 hmac_key: TokenKey | None = None) -> None:
        self._prov = prov
        self.alg = alg
        self.algid = alg.algid
        # The engine sits in a one-item list that the finalizer shares: it
        # changes (HP_HMAC_INFO, HP_HASHVAL) after the finalizer is made.
        self._slot: list[_Engine | None] = [engine]
        # CALG_HMAC: the key (a reference this hash owns, taken at
        # CryptCreateHash as Windows copies the key then), until HP_HMAC_INFO
        # names the hash.
        self._hmac_key: list[TokenKey | None] = [hmac_key]
        self._hmac_algid = 0
        self.value: bytes | None = None
        self._destroyed = False
        self._lock = threading.RLock()
        self._handle = next(_handles)
        self._finalizer = weakref.finalize(
            self, prov.token.later, _aborter(self._slot, self._hmac_key)
        )
        prov.adopt(self)

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else ("finished" if self.value else "open")
        return f"<PyCRYPTHASH {self._handle} {self.alg.name} {state}>"

    def __enter__(self) -> PyCRYPTHASH:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.CryptDestroyHash()

    @property
    def HCRYPTHASH(self) -> int:
        """The hash's handle, an int unique within the process."""
        return self._handle

    @property
    def prov(self) -> PyCRYPTPROV:
        """The provider context of the hash."""
        return self._prov

    @property
    def _engine(self) -> _Engine | None:
        return self._slot[0]

    @_engine.setter
    def _engine(self, engine: _Engine | None) -> None:
        self._slot[0] = engine

    # ---- state -----------------------------------------------------------------
    def live(self) -> None:
        """Fail unless the hash and its context are usable."""
        if self._destroyed:
            raise Fail(winerror.ERROR_INVALID_HANDLE, "the hash handle has been destroyed")
        self._prov.check_live()

    def check_updatable(self) -> None:
        """Fail unless data may still be hashed (``NTE_BAD_HASH_STATE`` once finished)."""
        self.live()
        if self.value is not None:
            raise Fail(
                winerror.NTE_BAD_HASH_STATE, "the hash value has been read: the hash is finished"
            )
        if self.algid == con.CALG_SSL3_SHAMD5:
            raise Fail(
                winerror.NTE_BAD_ALGID, "CALG_SSL3_SHAMD5 takes its value from HP_HASHVAL only"
            )

    def _running(self) -> _Engine:
        if self._engine is None:
            raise Fail(
                winerror.NTE_BAD_HASH_STATE, "set HP_HMAC_INFO before hashing with CALG_HMAC"
            )
        return self._engine

    def update(self, data: bytes) -> None:
        """Hash ``data`` (``CryptHashData``, and ``Hash`` of CryptEncrypt/CryptDecrypt)."""
        with self._lock:
            self.check_updatable()
            self._running().update(data)

    def finish(self) -> bytes:
        """The value, finishing the hash (``HP_HASHVAL``, signing, deriving)."""
        with self._lock:
            self.live()
            if self.value is None:
                self.value = self._running().finish()
            return self.value

    @property
    def size(self) -> int:
        """``HP_HASHSIZE``: the value's length in bytes."""
        if self._engine is not None:
            return self._engine.size
        if self.algid == con.CALG_HMAC:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "set HP_HMAC_INFO first")
        return HASH_SIZES[self.algid]

    @property
    def signed_algid(self) -> int:
        """The hash algorithm a signature names (HMAC's inner hash for CALG_HMAC)."""
        return self._hmac_algid or self.algid

    # ---- API -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the hash (CryptDestroyHash, or its context's release)."""
        with self._lock:
            if self._destroyed:
                return
            self._destroyed = True
        self._finalizer.detach()
        _aborter(self._slot, self._hmac_key)()

    @api("CryptDestroyHash")
    def CryptDestroyHash(self) -> None:
        """Close the hash; destroying it twice is harmless."""
        self.close()

    @api("CryptDuplicateHash")
    def CryptDuplicateHash(self, Flags: int = 0) -> PyCRYPTHASH:
        """An independent copy of the hash and its state (finished or not)."""
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        with self._lock:
            self.live()
            engine: _Engine | None
            if self.value is not None:
                engine = _Finished(self.size)
            elif self._engine is not None:
                engine = self._engine.duplicate()
            else:
                engine = None  # an HMAC still waiting for HP_HMAC_INFO
            key = self._hmac_key[0]
            try:
                shared = key.share() if key is not None else None
            except BaseException:
                if engine is not None:
                    engine.abort()
                raise
            twin = PyCRYPTHASH(self._prov, self.alg, engine, shared)
            twin.value, twin._hmac_algid = self.value, self._hmac_algid
            return twin

    @api("CryptHashData")
    def CryptHashData(self, Data: bytes, Flags: int = 0) -> None:
        """Hash more data."""
        if not isinstance(Data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Data must be bytes, not {type(Data).__name__}")
        if flags(Flags) & ~con.CRYPT_USERDATA:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 or CRYPT_USERDATA")
        self.update(bytes(Data))

    @api("CryptHashSessionKey")
    def CryptHashSessionKey(self, Key: PyCRYPTKEY, Flags: int = 0) -> None:
        """Hash a session key's bytes: reversed by default, as stored with
        ``CRYPT_LITTLE_ENDIAN`` (see docs/differences.md for what the token allows)."""
        if not isinstance(Key, PyCRYPTKEY):
            raise TypeError(f"Key must be a PyCRYPTKEY, not {type(Key).__name__}")
        flag_bits = flags(Flags)
        if flag_bits & ~con.CRYPT_LITTLE_ENDIAN:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 or CRYPT_LITTLE_ENDIAN")
        with self._lock:
            self.check_updatable()
            Key.live()
            if Key.is_pair:
                raise Fail(winerror.NTE_BAD_KEY, "only session keys can be hashed")
            tkey = Key.usable()
            exportable = bool(Key.permissions & (con.CRYPT_EXPORT | con.CRYPT_ARCHIVE))
            if flag_bits & con.CRYPT_LITTLE_ENDIAN:
                # The value in the order the token stores it: C_DigestKey, so
                # the key never leaves the token; only where the token
                # refuses (SoftHSM2 with MD5) are an exportable key's bytes
                # wrapped out and hashed.
                try:
                    self._running().digest_key(tkey)
                    return
                except Fail:
                    if not exportable:
                        raise
                self._running().update_secret(tkey.extract()[: Key.material_size])
                return
            if not exportable:
                raise Fail(
                    winerror.NTE_BAD_KEY_STATE,
                    "hashing a key's bytes reversed needs them off the token: the key is not "
                    "exportable (use CRYPT_LITTLE_ENDIAN, which hashes it on the token)",
                )
            self._running().update_secret(tkey.extract()[: Key.material_size][::-1])

    @api("CryptSignHash")
    def CryptSignHash(self, KeySpec: int, Flags: int = 0) -> bytes:
        """Sign the hash value with the context's ``KeySpec`` key (finishes the hash)."""
        from csp11.signature import sign_hash  # noqa: PLC0415 - import cycle

        with self._lock:
            return sign_hash(self, KeySpec, Flags)

    @api("CryptVerifySignature")
    def CryptVerifySignature(self, Signature: bytes, PubKey: PyCRYPTKEY, Flags: int = 0) -> None:
        """Check ``Signature`` over the hash value with ``PubKey``; ``NTE_BAD_SIGNATURE``
        when it does not verify."""
        from csp11.signature import verify_signature  # noqa: PLC0415 - import cycle

        if not isinstance(Signature, (bytes, bytearray, memoryview)):
            raise TypeError(f"Signature must be bytes, not {type(Signature).__name__}")
        if not isinstance(PubKey, PyCRYPTKEY):
            raise TypeError(f"PubKey must be a PyCRYPTKEY, not {type(PubKey).__name__}")
        with self._lock:
            verify_signature(self, bytes(Signature), PubKey, Flags)

    @api("CryptGetHashParam")
    def CryptGetHashParam(self, Param: int, Flags: int = 0) -> Any:
        """``HP_ALGID`` and ``HP_HASHSIZE`` (int), ``HP_HASHVAL`` (bytes; finishes the hash)."""
        param = dword(Param, "Param")
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        self.live()
        if param == con.HP_ALGID:
            return self.algid
        if param == con.HP_HASHSIZE:
            return self.size
        if param == con.HP_HASHVAL:
            return self.finish()
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown hash parameter {param}")

    @api("CryptSetHashParam")
    def CryptSetHashParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """``HP_HASHVAL`` (bytes: a value computed elsewhere, to sign) and
        ``HP_HMAC_INFO`` (the HMAC's hash: an ALG_ID, a tuple ``(HashAlgid,
        pbInnerString, pbOuterString)`` or a dict with those keys)."""
        param = dword(Param, "Param")
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        with self._lock:
            self.live()
            if param == con.HP_HASHVAL:
                self._set_value(Data)
            elif param == con.HP_HMAC_INFO:
                self._set_hmac_info(Data)
            else:
                raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only hash parameter {param}")

    def _set_value(self, data: object) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"HP_HASHVAL takes bytes, not {type(data).__name__}")
        value = bytes(data)
        if self.algid in (con.CALG_MAC, con.CALG_HMAC):
            raise Fail(winerror.NTE_BAD_TYPE, "a MAC's value cannot be set")
        if len(value) != self.size:
            raise Fail(
                winerror.NTE_BAD_LEN, f"HP_HASHVAL takes {self.size} bytes, got {len(value)}"
            )
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.abort()
        self._engine = _Finished(self.size)
        self.value = value

    def _set_hmac_info(self, data: object) -> None:
        if self.algid != con.CALG_HMAC:
            raise Fail(winerror.NTE_BAD_TYPE, "HP_HMAC_INFO applies to CALG_HMAC hashes")
        if self._engine is not None or self.value is not None:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "HP_HMAC_INFO is set once, before any data")
        algid, inner, outer = _hmac_info(data)
        row = HASHES.get(algid)
        alg = ALGORITHMS.get(algid)
        if row is None or alg is None or row.hmac is None or algid == con.CALG_SSL3_SHAMD5:
            raise Fail(winerror.NTE_BAD_ALGID, f"HMAC over ALG_ID 0x{algid:04X} is not available")
        _offered(self._prov, alg)
        if inner not in (b"", bytes([0x36]) * 64) or outer not in (b"", bytes([0x5C]) * 64):
            raise Fail(
                winerror.NTE_NOT_SUPPORTED,
                "the token computes standard HMAC only: inner and outer strings must be "
                "empty (the defaults)",
            )
        token = self._prov.token
        if int(row.hmac) not in token.mechanisms():
            raise Fail(winerror.NTE_BAD_ALGID, f"the token has no {row.hmac.name}")
        key = self._hmac_key[0]
        if key is None:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "the HMAC's key is gone")
        self._engine = _TokenOperation(token, "sign", row.hmac, row.size, key.share())
        self._hmac_algid = algid


class _Finished:
    """The engine of a hash whose value was set with HP_HASHVAL."""

    def __init__(self, size: int) -> None:
        self.size = size

    def update(self, data: bytes) -> None:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "the hash is finished")

    def update_secret(self, data: bytes) -> None:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "the hash is finished")

    def digest_key(self, key: TokenKey) -> None:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "the hash is finished")

    def finish(self) -> bytes:
        raise Fail(winerror.NTE_BAD_HASH_STATE, "the hash has no value: set HP_HASHVAL")

    def duplicate(self) -> _Finished:
        return _Finished(self.size)

    def abort(self) -> None:
        return None


def _aborter(
    slot: list[_Engine | None], hmac_key: list[TokenKey | None]
) -> Callable[[], None]:
    """What ends a hash's engine and lets its HMAC key go (once)."""
    def abort() -> None:
        engine, slot[0] = slot[0], None
        key, hmac_key[0] = hmac_key[0], None
        try:
            if engine is not None:
                engine.abort()
        finally:
            if key is not None:
                key.release()
    return abort


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


def _hmac_key(key: PyCRYPTKEY) -> TokenKey:
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
    return key.prov.token.create_key({**_HMAC_TWIN, Attribute.VALUE: material},
                                     pins=key.prov.pins)


HMAC_BLOCK = 64


def hmac_material(key: bytes) -> bytes:
    """An HMAC key as a token will take it: zero-padded to 64 bytes.

    HMAC pads a key shorter than the hash's block with zeros anyway (RFC 2104
    §2; blocks are 64 or 128 bytes), so the MAC is the same; tokens, SoftHSM2
    among them, refuse keys shorter than the hash's output.
    """
    return key.ljust(HMAC_BLOCK, b"\0")


_HMAC_TWIN: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
}


def _offered(prov: PyCRYPTPROV, alg: Algorithm) -> None:
    if capabilities(prov.personality, prov.token).offer(alg.algid) is None:
        raise Fail(
            winerror.NTE_BAD_ALGID, f"{prov.personality.name} does not offer {alg.name} here"
        )


def create_hash(prov: PyCRYPTPROV, Algid: int, Key: Any, Flags: int) -> PyCRYPTHASH:
    """CryptCreateHash."""
    algid = dword(Algid, "Algid")
    if Key is not None and not isinstance(Key, PyCRYPTKEY):
        raise TypeError(f"Key must be a PyCRYPTKEY or None, not {type(Key).__name__}")
    if flags(Flags) != 0:
        raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
    prov.check_live()
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family not in (Family.HASH, Family.MAC):
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a hash")
    _offered(prov, alg)
    if alg.family is Family.MAC:
        if Key is None:
            raise Fail(winerror.NTE_BAD_KEY, f"{alg.name} needs a key")
        Key.live()
        if algid == con.CALG_HMAC:
            return PyCRYPTHASH(prov, alg, None, _hmac_key(Key))
        return PyCRYPTHASH(prov, alg, _CbcMac(Key))
    if algid == con.CALG_SSL3_SHAMD5:
        return PyCRYPTHASH(prov, alg, _Finished(HASHES[algid].size))
    return PyCRYPTHASH(prov, alg, _plain_engine(prov.token, alg))


def _plain_engine(token: Token, alg: Algorithm) -> _Engine:
    """A plain digest: on the token when it has the mechanism, else hashlib."""
    row = HASHES[alg.algid]
    if row.digest is not None and int(row.digest) in token.mechanisms():
        return _TokenOperation(token, "digest", row.digest, row.size)
    if alg.hashlib_name is None or "+" in alg.hashlib_name:
        raise Fail(winerror.NTE_BAD_ALGID, f"{alg.name} cannot be computed here")
    return _SoftwareDigest(alg.hashlib_name, row.size)


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

