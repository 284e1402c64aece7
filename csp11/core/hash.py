"""The state of a hash object: its algorithm, its engine, its value.

A :class:`Hash` is plain state, as rsaenh's ``CRYPTHASH`` is: the public
``PyCRYPTHASH`` (:mod:`csp11.win32crypt`) holds one, and
:mod:`csp11.ops.hashing` and :mod:`csp11.ops.signature` act on it.  How the
value is computed is the engine's business (:mod:`csp11.core.engines`).
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.engines import Engine, Finished, abort_engine, aborter
from csp11.core.watch import unwatch, watch
from csp11.errors import Fail
from csp11.model.algorithms import Algorithm
from csp11.model.hashes import HASH_SIZES
from csp11.token import Token, TokenKey

__all__ = ["Hash"]

_handles = itertools.count(1)


def _abort_later(
    held: tuple[Token, list[Engine | None], list[TokenKey | None]]
) -> None:
    token, slot, hmac_key = held
    token.later(aborter(slot, hmac_key))


class Hash:
    """A hash object's state (``HCRYPTHASH``)."""

    def __init__(self, ctx: Context, alg: Algorithm, engine: Engine | None,
                 hmac_key: TokenKey | None = None) -> None:
        self.ctx = ctx
        self.alg = alg
        self.algid = alg.algid
        # The engine sits in a one-item list that the finalizer shares: it
        # changes (HP_HMAC_INFO, HP_HASHVAL) after the finalizer is made.
        self._slot: list[Engine | None] = [engine]
        # CALG_HMAC: the key (a reference this hash owns, taken at
        # CryptCreateHash as Windows copies the key then), until HP_HMAC_INFO
        # names the hash.
        self._hmac_key: list[TokenKey | None] = [hmac_key]
        self.hmac_algid = 0
        self.value: bytes | None = None
        self._destroyed = False
        self.lock = threading.RLock()
        self.handle = next(_handles)
        # Dropped unclosed: the engine is ended at the token's next call (the
        # closure that does it is made only then).
        self._finalizer: weakref.ref[Any] | None = watch(
            self, _abort_later, (ctx.token, self._slot, self._hmac_key)
        )
        ctx.adopt(self)

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else ("finished" if self.value else "open")
        return f"<PyCRYPTHASH {self.handle} {self.alg.name} {state}>"

    @property
    def engine(self) -> Engine | None:
        """How the value is computed (None: an HMAC waiting for HP_HMAC_INFO)."""
        return self._slot[0]

    @engine.setter
    def engine(self, engine: Engine | None) -> None:
        self._slot[0] = engine

    @property
    def hmac_key(self) -> TokenKey | None:
        """CALG_HMAC: the key this hash owns, until the engine takes a share of it."""
        return self._hmac_key[0]

    # ---- state -----------------------------------------------------------------
    def live(self) -> None:
        """Fail unless the hash and its context are usable."""
        if self._destroyed:
            raise Fail(winerror.ERROR_INVALID_HANDLE, "the hash handle has been destroyed")
        self.ctx.check_live()

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

    def running(self) -> Engine:
        if self.engine is None:
            raise Fail(
                winerror.NTE_BAD_HASH_STATE, "set HP_HMAC_INFO before hashing with CALG_HMAC"
            )
        return self.engine

    def update(self, data: bytes) -> None:
        """Hash ``data`` (``CryptHashData``, and ``Hash`` of CryptEncrypt/CryptDecrypt)."""
        with self.lock:
            engine = self._slot[0]
            if (engine is None or self._destroyed or self.value is not None
                    or self.algid == con.CALG_SSL3_SHAMD5 or self.ctx.refs == 0):
                # Something to refuse: say what, in check_updatable's order.
                self.check_updatable()
                engine = self.running()
            engine.update(data)

    def finish(self) -> bytes:
        """The value, finishing the hash (``HP_HASHVAL``, signing, deriving)."""
        with self.lock:
            self.live()
            value = self.value
            if value is None:
                engine = self._slot[0]
                if engine is None:
                    engine = self.running()  # raises: an HMAC without HP_HMAC_INFO
                value = self.value = engine.finish()
            return value

    @property
    def size(self) -> int:
        """``HP_HASHSIZE``: the value's length in bytes."""
        if self.engine is not None:
            return self.engine.size
        if self.algid == con.CALG_HMAC:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "set HP_HMAC_INFO first")
        return HASH_SIZES[self.algid]

    @property
    def signed_algid(self) -> int:
        """The hash algorithm a signature names (HMAC's inner hash for CALG_HMAC)."""
        return self.hmac_algid or self.algid

    # ---- API -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the hash (CryptDestroyHash, or its context's release); harmless twice."""
        with self.lock:
            if self._destroyed:
                return
            self._destroyed = True
        self.ctx.disown(self)
        if self._finalizer is not None:
            unwatch(self._finalizer)
            self._finalizer = None  # dropped: a weakref that dies first never calls back
        abort_engine(self._slot, self._hmac_key)

    def duplicate(self) -> Hash:
        """An independent copy of the hash and its state (finished or not)."""
        with self.lock:
            self.live()
            engine: Engine | None
            if self.value is not None:
                engine = Finished(self.size)
            elif self.engine is not None:
                engine = self.engine.duplicate()
            else:
                engine = None  # an HMAC still waiting for HP_HMAC_INFO
            key = self.hmac_key
            try:
                shared = key.share() if key is not None else None
            except BaseException:
                if engine is not None:
                    engine.abort()
                raise
            twin = Hash(self.ctx, self.alg, engine, shared)
            twin.value, twin.hmac_algid = self.value, self.hmac_algid
            return twin
