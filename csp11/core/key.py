"""The state of a key handle: its token objects and what CryptoAPI keeps beside them.

A :class:`Key` holds a :class:`csp11.token.TokenKey` (the objects on the
token, shared with duplicates of the handle) and the per-handle state
CryptoAPI keeps beside a key: mode, IV, padding, salt, permissions.  It is
plain state, as rsaenh's ``CRYPTKEY`` is: the public ``PyCRYPTKEY``
(:mod:`csp11.win32crypt`) holds one, and :mod:`csp11.ops` acts on it.

A state that was destroyed answers ``ERROR_INVALID_HANDLE``; so
does one whose context was released, since the context's keys are destroyed
with it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.watch import unwatch, watch
from csp11.errors import Fail
from csp11.formats.blobs import DssSeed
from csp11.formats.byteorder import be_to_le
from csp11.model.algorithms import Algorithm, Family
from csp11.token import Attribute, Operation, TokenKey

__all__ = ["Key"]

_handles = itertools.count(1)
# Zero IVs by length in bytes (block sizes: 8 and 16).
_ZEROS = {size: bytes(size) for size in range(33)}


class Key:
    """A key handle's state (``HCRYPTKEY``); the key lives on a token."""

    # What most keys keep as made: class defaults, so that a new key (made on
    # the CryptGenKey hot path) sets only what differs.  Assigning on an
    # instance overrides them.
    mode_bits = 8
    padding = con.PKCS5_PADDING
    effective_keylen = 0  # 0: the key length (RC2 only)
    pregen = False
    # The DSSSEED a DSS/DH PRIVATEKEYBLOB or PUBLICKEYBLOB was imported
    # with, so that the key exports again byte for byte (handle state:
    # PKCS#11 has no attribute for it).
    seed: DssSeed | None = None
    # CryptEncrypt/CryptDecrypt's chaining value between calls (None: KP_IV).
    chain: bytes | None = None
    # A PLAINTEXTKEYBLOB imported with CRYPT_IPSEC_HMAC_KEY: a generic
    # secret on the token that only keys HMACs.
    hmac_only = False
    # A Diffie-Hellman agreed key before KP_ALGID: (own private key,
    # peer's public value big-endian, CryptImportKey flags).
    agreement: tuple[TokenKey, bytes, int] | None = None
    # An RC4 keystream running between CryptEncrypt/CryptDecrypt calls.
    stream: Operation | None = None
    # CryptGenKey's low flags, for a CRYPT_PREGEN key finished later.
    gen_flags = 0
    _destroyed = False
    _finalizer: weakref.ref[Any] | None = None

    def __init__(
        self,
        ctx: Context,
        alg: Algorithm,
        bits: int,
        tkey: TokenKey | None,
        *,
        permissions: int,
        salt: bytes = b"",
        domain: dict[str, bytes] | None = None,
        pregen: bool = False,
    ) -> None:
        self.ctx = ctx
        self.alg = alg
        self.algid = alg.algid
        # Key length without parity bits (KP_KEYLEN adds them for DES).
        self.bits = bits
        self.tkey = tkey
        self.permissions = permissions
        self.salt = salt
        block = alg.block_bits
        self.iv = _ZEROS[block // 8] if block else b""
        self.mode = con.CRYPT_MODE_CBC if block else 0
        # DSA/DH domain parameters, little-endian: "P", "Q", "G" (and "Y").
        self.domain: dict[str, bytes] = dict(domain) if domain else {}
        if pregen:
            self.pregen = pregen
        self.cipher_lock = threading.Lock()
        self.handle = next(_handles)
        # The handle's lock: parameter changes, duplication, destruction.
        self.lock = threading.Lock()
        if tkey is not None:  # attach_finalizer, inline (hot path)
            self._finalizer = watch(self, tkey.token.bury, tkey)
        ctx.adopt(self)

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else ("pregen" if self.pregen else "live")
        return f"<PyCRYPTKEY {self.handle} {self.alg.name} {self.bits} bits {state}>"

    # ---- lifetime --------------------------------------------------------------
    def attach_finalizer(self) -> None:
        """Release the token objects if the handle is dropped without CryptDestroyKey."""
        if self._finalizer is not None:
            unwatch(self._finalizer)
            self._finalizer = None
        held = self.tkey if self.tkey is not None else (
            self.agreement[0] if self.agreement is not None else None
        )
        if held is not None:
            self._finalizer = watch(self, held.token.bury, held)

    def live(self) -> None:
        """Fail unless the handle and its context are usable."""
        if self._destroyed:
            raise Fail(winerror.ERROR_INVALID_HANDLE, "the key handle has been destroyed")
        self.ctx.check_live()

    def usable(self) -> TokenKey:
        """The token objects, failing for a destroyed handle or an unfinished PREGEN key."""
        self.live()
        if self.tkey is None:
            if self.agreement is not None:
                raise Fail(
                    winerror.NTE_BAD_KEY_STATE,
                    "an agreed key is usable once KP_ALGID names its algorithm",
                )
            raise Fail(
                winerror.NTE_BAD_KEY_STATE,
                "the CRYPT_PREGEN key has no key yet: set KP_P, KP_G (KP_Q) and then KP_X",
            )
        return self.tkey

    def close(self) -> None:
        """Release the handle's objects (CryptDestroyKey, or its context's release).

        Keys of a named container stay on the token (only the handle closes);
        closing twice is harmless.
        """
        with self.lock:
            if self._destroyed:
                return
            self._destroyed = True
            tkey, self.tkey = self.tkey, None
            agreement, self.agreement = self.agreement, None
            stream, self.stream = self.stream, None
        self.ctx.disown(self)
        if self._finalizer is not None:
            unwatch(self._finalizer)
            # Dropped: a weakref that dies before its key never calls back.
            self._finalizer = None
        if stream is not None:
            stream.abort()
        if tkey is not None:
            tkey.release()
        if agreement is not None:
            agreement[0].release()

    def duplicate(self) -> Key:
        """A new state for the same key objects, with a copy of this one's (IV, mode, ...)."""
        with self.lock:
            # Under the handle's lock: a concurrent destroy cannot release
            # the objects between the check and the new reference.
            self.live()
            shared = self.tkey.share() if self.tkey is not None else None
        twin = Key(
            self.ctx, self.alg, self.bits, shared,
            permissions=self.permissions, salt=self.salt, domain=self.domain,
            pregen=self.pregen,
        )
        twin.gen_flags = self.gen_flags
        twin.seed, twin.chain, twin.hmac_only = self.seed, self.chain, self.hmac_only
        if self.agreement is not None:
            own, peer, flag_bits = self.agreement
            twin.agreement = (own.share(), peer, flag_bits)
            twin.attach_finalizer()
        twin.iv, twin.mode, twin.mode_bits = self.iv, self.mode, self.mode_bits
        twin.padding, twin.effective_keylen = self.padding, self.effective_keylen
        return twin

    # ---- facts -------------------------------------------------------------------------
    @property
    def is_pair(self) -> bool:
        """Whether this is a public/private key pair (RSA, DSS, DH)."""
        return self.alg.family in (Family.RSA, Family.DSA, Family.DH)

    @property
    def material_size(self) -> int:
        """A session key's size in bytes, parity bits included (KP_KEYLEN / 8)."""
        return (self.bits + self.alg.parity_bits) // 8

    def domain_value(self, name: str) -> bytes:
        """A DSA/DH parameter (P, Q, G, Y) little-endian, read from the token once."""
        if self.alg.family not in (Family.DSA, Family.DH):
            raise Fail(winerror.NTE_BAD_TYPE, f"KP_{name} applies to DSS and DH keys only")
        if name not in self.domain and self.tkey is not None and self.tkey.public is not None:
            attrs = {"P": Attribute.PRIME, "Q": Attribute.SUBPRIME, "G": Attribute.BASE,
                     "Y": Attribute.VALUE}
            if name == "Q" and self.alg.family is Family.DH:
                raise Fail(winerror.NTE_BAD_TYPE, "PKCS#3 Diffie-Hellman keys have no Q")
            value = self.tkey.attribute(attrs[name], self.tkey.public)
            self.domain[name] = be_to_le(bytes(value))
        if name not in self.domain:
            raise Fail(winerror.NTE_BAD_KEY_STATE, f"KP_{name} has not been set")
        return self.domain[name]


