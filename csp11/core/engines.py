"""Hash engines: how one hash object computes its value.

=================  ==========================================================
:class:`TokenDigest`  ``C_DigestInit/Update/Final`` (``CALG_MD5`` ...) or
                   ``C_SignInit/Update/Final`` with ``CKM_*_HMAC`` (``CALG_HMAC``)
                   on a session of the hash's own; input up to
                   :data:`ONE_SHOT` bytes is one ``C_Digest``/``C_Sign`` call
:class:`SoftwareDigest`  ``hashlib``, only for a plain digest the token lacks
                   (``CALG_MD4``, say)
:class:`CbcMac`    ``CALG_MAC``: ``C_Encrypt`` (``CKM_*_CBC``) of whole blocks as
                   they arrive; PKCS #5 padding at the end; the last block
:class:`Finished`  a value set with ``HP_HASHVAL``
=================  ==========================================================

PKCS#11 tokens rarely save an operation's state (SoftHSM2 answers
``C_GetOperationState`` with ``CKR_FUNCTION_NOT_SUPPORTED``), so
duplicating a token digest or HMAC replays the data hashed so far into a new
operation.  The engine keeps that data (references to the bytes given, no
copies) up to :data:`REPLAY_LIMIT` bytes; one that took more cannot be
duplicated (``NTE_NOT_SUPPORTED``), nor one that hashed a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from csp11 import winerror
from csp11.core.blockcipher import block_call, block_mechanisms, pad
from csp11.core.key import Key
from csp11.errors import Fail
from csp11.formats import legacy_digests
from csp11.formats.legacy_digests import Digest
from csp11.token import Operation, Token, TokenKey

__all__ = [
    "ONE_SHOT", "REPLAY_LIMIT", "CbcMac", "Engine", "Finished", "SoftwareDigest", "TokenDigest",
    "abort_engine", "aborter",
]

# Up to this much input a hash is one C_Digest/C_Sign call when its value is
# asked for (the input is kept, by reference, until then); it is also how much
# CryptDuplicateHash can replay.  One limit: until an operation runs, all the
# input must be at hand.
ONE_SHOT = REPLAY_LIMIT = 2 * 1024 * 1024


class Engine(Protocol):
    """How one hash object computes its value."""

    size: int

    def update(self, data: bytes) -> None: ...
    def update_secret(self, data: bytes) -> None: ...
    def digest_key(self, key: TokenKey) -> None: ...
    def finish(self) -> bytes: ...
    def duplicate(self) -> Engine: ...
    def abort(self) -> None: ...


class TokenDigest:
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
        if self._kind != "digest":
            # PKCS#11 has C_DigestKey but no "C_SignKey": an HMAC cannot take
            # a key's value on the token (CryptHashSessionKey then hashes the
            # bytes of an exportable key, and refuses any other).
            raise Fail(winerror.NTE_BAD_KEY, "an HMAC cannot hash a key's value on the token")
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

    def duplicate(self) -> TokenDigest:
        if self._chunks is None or self._lost:
            raise Fail(
                winerror.NTE_NOT_SUPPORTED,
                "this token cannot copy a running hash, and csp11 replays at most "
                f"{REPLAY_LIMIT} bytes of data (and no hashed session keys)",
            )
        key = self._key.share() if self._key is not None else None
        twin = TokenDigest(self._token, self._kind, self._mechanism, self.size, key)
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


class SoftwareDigest:
    """A plain digest the token does not have, in software (hashlib, or csp11's
    own MD2/MD4 where OpenSSL lacks them; documented)."""

    def __init__(self, name: str, size: int) -> None:
        self.size = size
        self._hash: Digest = legacy_digests.new(name)

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

    def duplicate(self) -> SoftwareDigest:
        twin = SoftwareDigest.__new__(SoftwareDigest)
        twin.size, twin._hash = self.size, self._hash.copy()
        return twin

    def abort(self) -> None:
        return None


class CbcMac:
    """CALG_MAC: CBC-MAC with a block cipher session key (state copied at creation)."""

    def __init__(self, key: Key) -> None:
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
        try:
            value = self._cbc(pad(self._pending, self.size))
        finally:
            self.abort()
        return value[-self.size:]

    def duplicate(self) -> CbcMac:
        twin = CbcMac.__new__(CbcMac)
        twin.size, twin._tkey, twin._cipher = self.size, self._key().share(), self._cipher
        twin._chain, twin._pending = self._chain, self._pending
        return twin

    def abort(self) -> None:
        """Let go of the key (once: finishing and destroying both end here)."""
        tkey, self._tkey = self._tkey, None
        if tkey is not None:
            tkey.release()


class Finished:
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

    def duplicate(self) -> Finished:
        return Finished(self.size)

    def abort(self) -> None:
        return None


def abort_engine(slot: list[Engine | None], hmac_key: list[TokenKey | None]) -> None:
    """End a hash's engine and let its HMAC key go (once: both are taken out)."""
    engine, slot[0] = slot[0], None
    key, hmac_key[0] = hmac_key[0], None
    try:
        if engine is not None:
            engine.abort()
    finally:
        if key is not None:
            key.release()


def aborter(
    slot: list[Engine | None], hmac_key: list[TokenKey | None]
) -> Callable[[], None]:
    """:func:`abort_engine` of these, to be called later."""
    return lambda: abort_engine(slot, hmac_key)
