"""Multi-part operations that live across CryptoAPI calls: a digest, a MAC
or a cipher stream kept in a session of its own, driven through csp11's
ctypes binding (python-pkcs11 only runs a whole multi-part operation in one
call).
"""

from __future__ import annotations

import ctypes
from typing import Any, Protocol

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.token.ckr import _ckr_name
from csp11.token.constants import CKR_OK
from csp11.token.cryptoki import _CK_MECHANISM, _ulong
from csp11.token.session import SESSION_LOST, SessionPool, _Pooled

_MAX_DIGEST = 128  # bytes: above every digest and MAC size
# The Windows code for an operation whose session the token lost, by kind.
_LOST_STATE = {
    "digest": winerror.NTE_BAD_HASH_STATE,
    "sign": winerror.NTE_BAD_HASH_STATE,
    "encrypt": winerror.NTE_BAD_KEY_STATE,
    "decrypt": winerror.NTE_BAD_KEY_STATE,
}


class KeyObject(Protocol):
    """A key as :meth:`Operation.digest_key` takes it: a
    :class:`csp11.token.keyobject.TokenKey` (described here rather than
    imported: keys start operations, so that module imports this one)."""

    @property
    def obj(self) -> Any:
        """The secret key's python-pkcs11 object."""


class Operation:
    """A multi-part ``C_Digest*``, ``C_Sign*`` (MAC), ``C_Encrypt*`` or
    ``C_Decrypt*`` operation on a session of its own.

    CryptoAPI hashes (and RC4 streams) live across many calls; PKCS#11 keeps
    such an operation's state inside a session.  The session belongs to the
    operation until :meth:`finish` or :meth:`abort`.  Not thread-safe by
    itself: the hash or key that owns it serialises its use.
    """

    __slots__ = ("_kind", "_pooled", "_token", "done")

    def __init__(self, token: SessionPool, pooled: _Pooled, kind: str) -> None:
        self._token = token
        self._pooled = pooled
        self._kind = kind
        self.done = False

    def _check(self, rv: int, doing: str) -> None:
        if rv != CKR_OK:
            # Tokens differ on whether a failed call ends the operation
            # (SoftHSM2's C_DigestKey does not): the session is closed, which
            # ends every operation in it, rather than given back.
            self.done = True
            self._token.discard_operation(self._pooled)
            ckr = _ckr_name(rv)
            if ckr in SESSION_LOST:
                # The operation's state went with the session: a hash (or a
                # cipher stream) that cannot go on, as its own error says.
                raise Fail(_LOST_STATE[self._kind],
                           f"{doing} failed: the token lost the session that held this "
                           f"{'hash' if self._kind in ('digest', 'sign') else 'stream'}; "
                           "start it again", ckr=ckr)
            raise fail_from_ckr(ckr, doing)

    def start(self, mechanism: int, key: int | None, param: bytes | None) -> None:
        """``C_DigestInit`` / ``C_SignInit``."""
        ck = self._token.module.cryptoki
        buf = ctypes.create_string_buffer(param, len(param)) if param else None
        mech = _CK_MECHANISM(mechanism, ctypes.cast(buf, ctypes.c_void_p) if buf else None,
                             len(param) if param else 0)
        handle = self._pooled.handle
        if self._kind == "digest":
            rv = ck.C_DigestInit(handle, ctypes.byref(mech))
        else:
            assert key is not None
            init = {"sign": ck.C_SignInit, "encrypt": ck.C_EncryptInit,
                    "decrypt": ck.C_DecryptInit}[self._kind]
            rv = init(handle, ctypes.byref(mech), key)
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), f"C_{self._kind.title()}Init")

    def crypt(self, data: bytes) -> bytes:
        """``C_EncryptUpdate`` / ``C_DecryptUpdate``: the output for ``data``."""
        self._live()
        ck = self._token.module.cryptoki
        call = ck.C_EncryptUpdate if self._kind == "encrypt" else ck.C_DecryptUpdate
        room = len(data) + _MAX_DIGEST  # a block more than the input, at most
        out = ctypes.create_string_buffer(room)
        size = _ulong(room)
        self._check(call(self._pooled.handle, data, len(data), out, ctypes.byref(size)),
                    f"C_{self._kind.title()}Update")
        return out.raw[: size.value]

    def _live(self) -> None:
        if self.done:
            raise Fail(winerror.NTE_BAD_HASH_STATE, "the token operation has ended")

    def update(self, data: bytes) -> None:
        """``C_DigestUpdate`` / ``C_SignUpdate`` of ``data``."""
        self._live()
        if not data:
            return
        ck = self._token.module.cryptoki
        call = ck.C_DigestUpdate if self._kind == "digest" else ck.C_SignUpdate
        self._check(call(self._pooled.handle, data, len(data)),
                    f"C_{self._kind.title()}Update")

    def digest_key(self, key: KeyObject) -> None:
        """``C_DigestKey``: the key's value goes into the digest, on the token."""
        if self._kind != "digest" or key.obj is None:
            # Not an assert: it must hold under python -O too.
            raise Fail(winerror.NTE_BAD_KEY, "only a plain digest takes a secret key's value")
        self._live()
        ck = self._token.module.cryptoki
        self._check(ck.C_DigestKey(self._pooled.handle, key.obj.handle), "C_DigestKey")

    def finish(self) -> bytes:
        """``C_DigestFinal`` / ``C_SignFinal``: the value; the session goes back."""
        self._live()
        ck = self._token.module.cryptoki
        call = {"digest": ck.C_DigestFinal, "sign": ck.C_SignFinal,
                "encrypt": ck.C_EncryptFinal, "decrypt": ck.C_DecryptFinal}[self._kind]
        out = ctypes.create_string_buffer(_MAX_DIGEST)
        size = _ulong(_MAX_DIGEST)
        self._check(call(self._pooled.handle, out, ctypes.byref(size)),
                    f"C_{self._kind.title()}Final")
        self.done = True
        self._token.end_operation(self._pooled)
        return out.raw[: size.value]

    def abort(self) -> None:
        """End the operation without a value (a destroyed hash)."""
        if self.done:
            return
        self.done = True
        # PKCS#11 has no cancel before v3.0: finishing into a buffer ends it;
        # where even that fails, closing the session does.
        ck = self._token.module.cryptoki
        call = {"digest": ck.C_DigestFinal, "sign": ck.C_SignFinal,
                "encrypt": ck.C_EncryptFinal, "decrypt": ck.C_DecryptFinal}[self._kind]
        out = ctypes.create_string_buffer(_MAX_DIGEST)
        rv = call(self._pooled.handle, out, ctypes.byref(_ulong(_MAX_DIGEST)))
        if rv == CKR_OK:
            self._token.end_operation(self._pooled)
        else:
            self._token.discard_operation(self._pooled)
