"""csp11's ``win32crypt``: the CryptoAPI provider functions, on a PKCS#11 token.

A drop-in for the CSP part of pywin32's ``win32crypt``: code written against
it runs on a token by changing its imports::

    from csp11 import win32crypt, win32cryptcon
    prov = win32crypt.CryptAcquireContext(None, None, win32cryptcon.PROV_RSA_AES,
                                          win32cryptcon.CRYPT_VERIFYCONTEXT)

This module is the boundary.  ``PyCRYPTPROV``, ``PyCRYPTKEY`` and
``PyCRYPTHASH`` are thin handles: each holds a reference to its state
(:mod:`csp11.core`) and every method checks its arguments once — types, DWORD
ranges, the flags that are the same for every case — then calls one
operation (:mod:`csp11.ops`).  ``@api`` turns every failure into
:class:`csp11.pywintypes.error` named after the function.  docs/architecture.md
shows the layers.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, overload

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import (
    DWORD_MAX,
    bytes_arg,
    container_name,
    dword,
    flags,
    optional_bytes,
    optional_str,
)
from csp11.core.context import Context
from csp11.core.hash import Hash
from csp11.core.key import Key
from csp11.errors import Fail, api
from csp11.ops import provider as provider_ops
from csp11.ops.cipher import decrypt, encrypt
from csp11.ops.derive import derive_key
from csp11.ops.exportkey import export_key
from csp11.ops.hashing import create_hash, get_hash_param, hash_session_key, set_hash_param
from csp11.ops.importkey import import_key
from csp11.ops.keygen import generate
from csp11.ops.keyparams import get_key_param, set_key_param
from csp11.ops.provider import PROV_ENUMALGS, PROV_ENUMALGS_EX
from csp11.ops.signature import sign_hash, verify_signature
from csp11.ops.userkey import get_user_key

__all__ = [
    "PROV_ENUMALGS", "PROV_ENUMALGS_EX", "CryptAcquireContext", "PyCRYPTHASH", "PyCRYPTKEY",
    "PyCRYPTPROV",
]

# What a byte-valued argument may be: any of these is copied once, as bytes.
_Bytes = bytes | bytearray | memoryview

# The Get*Param parameters whose value has one type, as Literal types of their
# constants' values (csp11.win32cryptcon), so that ``prov.CryptGetProvParam(
# con.PP_NAME)`` is a ``str`` to a type checker.  Any other parameter (a
# variable, or one whose type depends on the key) gives ``Any``, as
# types-pywin32 declares for pywin32.  tests/test_typing.py checks each of
# these against the value returned at run time.
_PP_STR = Literal[2, 4, 6, 36]  # PP_ENUMCONTAINERS, PP_NAME, PP_CONTAINER, PP_UNIQUE_CONTAINER
# PP_IMPTYPE, PP_VERSION, PP_PROVTYPE, PP_KEYSET_TYPE, PP_SIG_KEYSIZE_INC,
# PP_KEYX_KEYSIZE_INC, PP_KEYSPEC
_PP_INT = Literal[3, 5, 16, 27, 34, 35, 39]
_PP_ENUMALGS = Literal[1]
_PP_ENUMALGS_EX = Literal[22]
# KP_PADDING, KP_MODE, KP_MODE_BITS, KP_PERMISSIONS, KP_ALGID, KP_BLOCKLEN,
# KP_KEYLEN, KP_EFFECTIVE_KEYLEN
_KP_INT = Literal[3, 4, 5, 6, 7, 8, 9, 19]
# KP_IV, KP_SALT, KP_P, KP_G, KP_Q, KP_Y, KP_CERTIFICATE, KP_VERIFY_PARAMS
_KP_BYTES = Literal[1, 2, 11, 12, 13, 15, 26, 40]
_HP_INT = Literal[1, 4]  # HP_ALGID, HP_HASHSIZE
_HP_BYTES = Literal[2]  # HP_HASHVAL


@api("CryptAcquireContext")
def CryptAcquireContext(
    Container: str | None,
    Provider: str | None,
    ProvType: int,
    Flags: int,
    *,
    Token: str | None = None,
) -> PyCRYPTPROV | None:
    """Open a provider context on a token.

    ``Provider``/``ProvType`` choose the Microsoft provider whose rules apply;
    ``Token`` (or ``CSP11_TOKEN``) is the PKCS#11 URI of the token, the
    embedded default token when neither is given.  With
    ``CRYPT_VERIFYCONTEXT`` the context has no container and its keys are
    session objects that vanish with the process; otherwise ``Container``
    (default: the user's login name) is a key container on the token
    (``CRYPT_NEWKEYSET`` creates it, ``CRYPT_DELETEKEYSET`` deletes it and
    returns ``None``; see docs/mapping.md), and opening it logs in.
    """
    ctx = provider_ops.acquire(
        container_name(Container),
        optional_str(Provider, "Provider"),
        dword(ProvType, "ProvType"),
        flags(Flags),
        optional_str(Token, "Token"),
    )
    return None if ctx is None else PyCRYPTPROV(ctx)


def _key_state(value: object, name: str) -> Key:
    """The state behind a ``PyCRYPTKEY`` argument (``TypeError`` for anything else)."""
    if not isinstance(value, PyCRYPTKEY):
        raise TypeError(f"{name} must be a PyCRYPTKEY, not {type(value).__name__}")
    return value._state


def _optional_key_state(value: object, name: str) -> Key | None:
    """The state behind a ``PyCRYPTKEY`` argument that may be ``None``."""
    if value is None:
        return None
    if not isinstance(value, PyCRYPTKEY):
        raise TypeError(f"{name} must be a PyCRYPTKEY or None, not {type(value).__name__}")
    return value._state


def _no_flags(value: object) -> None:
    """The ``dwFlags`` of a function that takes none: 0, else ``NTE_BAD_FLAGS``."""
    if flags(value) != 0:
        raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")


_S = TypeVar("_S", Context, Key, Hash)
_H = TypeVar("_H", bound="_Handle[Any]")


class _Handle(abc.ABC, Generic[_S]):
    """What the three handles share: a reference to their state, its repr, ``with``."""

    __slots__ = ("__weakref__", "_state")
    _state: _S

    def __init__(self, state: _S) -> None:
        self._state = state

    def __repr__(self) -> str:
        return repr(self._state)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the handle as ``with`` does (each handle says how)."""


class PyCRYPTPROV(_Handle[Context]):
    """A CryptoAPI provider context (``HCRYPTPROV``) whose keys live on a token."""

    __slots__ = ()

    @api("CryptReleaseContext")
    def _close(self) -> None:
        # ``with`` drops every reference at once, as the context's owner would.
        self._state.close()

    @property
    def HCRYPTPROV(self) -> int:
        """The context's handle, an int unique within the process."""
        return self._state.handle

    @api("CryptReleaseContext")
    def CryptReleaseContext(self, Flags: int = 0) -> None:
        """Drop one reference; the context is released when none is left.

        Non-zero ``Flags`` fail with ``NTE_BAD_FLAGS`` after releasing anyway,
        as Windows does.  Releasing a released context is harmless.
        """
        Flags = flags(Flags)
        self._state.release_ref()
        if Flags != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0, not 0x{Flags:X}")

    @api("CryptContextAddRef")
    def CryptContextAddRef(self, Flags: int = 0) -> None:
        """Add a reference: one more ``CryptReleaseContext`` is needed to release."""
        Flags = flags(Flags)
        self._state.check_live()
        if Flags != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, f"dwFlags must be 0, not 0x{Flags:X}")
        self._state.add_ref()

    @api("CryptGenKey")
    def CryptGenKey(self, Algid: int, Flags: int, KeyLen: int = 0) -> PyCRYPTKEY:
        """Generate a session key or a key pair on the token.

        The key length is taken from the upper 16 bits of ``Flags`` (as the
        seed documents) or from ``KeyLen`` (as pywin32 does); both non-zero
        and different → ``NTE_BAD_FLAGS``.  See docs/mapping.md for the
        PKCS#11 calls.
        """
        if (type(Algid) is int and type(Flags) is int and type(KeyLen) is int
                and 0 <= Algid <= DWORD_MAX and 0 <= Flags <= DWORD_MAX
                and 0 <= KeyLen <= DWORD_MAX):
            # Already DWORDs (the usual call): what dword() and flags() would
            # give, without three calls on this hot path.
            return PyCRYPTKEY(generate(self._state, Algid, Flags, KeyLen))
        return PyCRYPTKEY(generate(
            self._state, dword(Algid, "Algid"), flags(Flags), dword(KeyLen, "KeyLen")
        ))

    @api("CryptGetUserKey")
    def CryptGetUserKey(self, KeySpec: int) -> PyCRYPTKEY:
        """A new handle to the container's ``AT_KEYEXCHANGE`` or ``AT_SIGNATURE`` key pair.

        ``NTE_NO_KEY`` when the container has none (and always in a verify-only
        context).  Destroying the handle never deletes the stored key.
        """
        return PyCRYPTKEY(get_user_key(self._state, dword(KeySpec, "KeySpec")))

    @api("CryptImportKey")
    def CryptImportKey(
        self, Data: _Bytes, PubKey: PyCRYPTKEY | None = None, Flags: int = 0
    ) -> PyCRYPTKEY:
        """A key from a key BLOB; ``PubKey`` decrypts SIMPLEBLOBs (an exchange key
        pair) and SYMMETRICWRAPKEYBLOBs (an AES key)."""
        data = bytes_arg(Data, "Data")
        pub = _optional_key_state(PubKey, "PubKey")
        return PyCRYPTKEY(import_key(self._state, data, pub, flags(Flags)))

    @api("CryptCreateHash")
    def CryptCreateHash(self, Algid: int, Key: PyCRYPTKEY | None = None,
                        Flags: int = 0) -> PyCRYPTHASH:
        """A hash object; ``Key`` keys CALG_MAC and CALG_HMAC."""
        if (Key is None and type(Flags) is int and Flags == 0 and type(Algid) is int
                and 0 <= Algid <= DWORD_MAX):
            # The usual call, its arguments already what the checks below give.
            return PyCRYPTHASH(create_hash(self._state, Algid, None))
        algid = dword(Algid, "Algid")
        key = _optional_key_state(Key, "Key")
        _no_flags(Flags)
        return PyCRYPTHASH(create_hash(self._state, algid, key))

    @api("CryptDeriveKey")
    def CryptDeriveKey(self, Algid: int, BaseData: PyCRYPTHASH, Flags: int = 0) -> PyCRYPTKEY:
        """A session key from a hash value (docs/mapping.md)."""
        algid = dword(Algid, "Algid")
        if not isinstance(BaseData, PyCRYPTHASH):
            raise TypeError(f"BaseData must be a PyCRYPTHASH, not {type(BaseData).__name__}")
        return PyCRYPTKEY(derive_key(self._state, algid, BaseData._state, flags(Flags)))

    @api("CryptGenRandom")
    def CryptGenRandom(self, Len: int, SeedData: _Bytes | None = None) -> bytes:
        """``Len`` random bytes from the token (``C_GenerateRandom``); ``SeedData``
        goes to ``C_SeedRandom`` where the token takes seed."""
        if not isinstance(Len, int):
            raise TypeError(f"Len must be an int, not {type(Len).__name__}")
        seed = optional_bytes(SeedData, "SeedData")
        return provider_ops.gen_random(self._state, Len, seed)

    @overload
    def CryptGetProvParam(self, Param: _PP_STR, Flags: int = 0) -> str: ...
    @overload
    def CryptGetProvParam(self, Param: _PP_INT, Flags: int = 0) -> int: ...
    @overload
    def CryptGetProvParam(self, Param: _PP_ENUMALGS, Flags: int = 0) -> PROV_ENUMALGS: ...
    @overload
    def CryptGetProvParam(self, Param: _PP_ENUMALGS_EX, Flags: int = 0) -> PROV_ENUMALGS_EX: ...
    @overload
    def CryptGetProvParam(self, Param: int, Flags: int = 0) -> Any: ...
    @api("CryptGetProvParam")
    def CryptGetProvParam(self, Param: int, Flags: int = 0) -> Any:
        """Read a provider parameter (``PP_*``).

        ``PP_NAME``, ``PP_CONTAINER``, ``PP_UNIQUE_CONTAINER`` (str);
        ``PP_PROVTYPE``, ``PP_IMPTYPE`` (from the token's slot flags: hardware
        or software, and removable), ``PP_VERSION`` (the Microsoft provider's
        version, 0x200), ``PP_KEYSET_TYPE``, ``PP_KEYSPEC``,
        ``PP_SIG_KEYSIZE_INC``/``PP_KEYX_KEYSIZE_INC`` (int); the enumerations
        ``PP_ENUMALGS``/``PP_ENUMALGS_EX`` (a ``PROV_ENUMALGS``/``PROV_ENUMALGS_EX``
        named tuple) and ``PP_ENUMCONTAINERS`` (str), each with ``CRYPT_FIRST``
        then ``CRYPT_NEXT`` until ``ERROR_NO_MORE_ITEMS``.  Unknown parameter →
        ``NTE_BAD_TYPE``; ``Flags`` where the parameter takes none →
        ``NTE_BAD_FLAGS``.
        """
        return provider_ops.get_prov_param(self._state, dword(Param, "Param"), flags(Flags))

    @api("CryptSetProvParam")
    def CryptSetProvParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """Set a provider parameter: ``PP_KEYEXCHANGE_PIN`` / ``PP_SIGNATURE_PIN`` (str).

        The PIN is used for this context's logins before any other source
        and is never shown in a ``repr`` or message.  ``None`` forgets it.
        Unknown parameter → ``NTE_BAD_TYPE``.
        """
        provider_ops.set_prov_param(self._state, dword(Param, "Param"), Data, flags(Flags))


class PyCRYPTKEY(_Handle[Key]):
    """A CryptoAPI key handle (``HCRYPTKEY``) whose key lives on a token."""

    __slots__ = ()

    def _close(self) -> None:
        self.CryptDestroyKey()

    @property
    def HCRYPTKEY(self) -> int:
        """The key's handle, an int unique within the process."""
        return self._state.handle

    @property
    def HCRYPTPROV(self) -> int:
        """The handle of the provider context the key belongs to."""
        return self._state.ctx.handle

    @api("CryptDestroyKey")
    def CryptDestroyKey(self) -> None:
        """Close the handle; the key's session objects are destroyed on the token.

        Keys of a named container stay on the token (only the handle closes).
        Destroying a destroyed handle is harmless.
        """
        self._state.close()

    @api("CryptDuplicateKey")
    def CryptDuplicateKey(self, Reserved: int = 0, Flags: int = 0) -> PyCRYPTKEY:
        """A new handle to the same key, with a copy of this handle's state (IV, mode, ...)."""
        if dword(Reserved, "Reserved") != 0:
            raise Fail(winerror.ERROR_INVALID_PARAMETER, "pdwReserved must be 0")
        _no_flags(Flags)
        return PyCRYPTKEY(self._state.duplicate())

    @api("CryptExportKey")
    def CryptExportKey(self, ExpKey: PyCRYPTKEY | None, BlobType: int, Flags: int = 0) -> bytes:
        """The key as a key BLOB of ``BlobType`` (PUBLICKEYBLOB, PRIVATEKEYBLOB,
        PLAINTEXTKEYBLOB, SIMPLEBLOB, SYMMETRICWRAPKEYBLOB), encrypted to
        ``ExpKey`` where the type needs one."""
        exp = _optional_key_state(ExpKey, "ExpKey")
        return export_key(self._state, exp, dword(BlobType, "BlobType"), flags(Flags))

    @api("CryptEncrypt")
    def CryptEncrypt(self, Final: bool, Data: _Bytes, Hash: PyCRYPTHASH | None = None,
                     Flags: int = 0) -> bytes:
        """Encrypt ``Data``; ``Final`` adds the padding and ends the message.
        ``Hash``, if given, hashes the plaintext."""
        data = bytes_arg(Data, "Data")
        hash_ = _hash_state(Hash)
        return encrypt(self._state, bool(Final), data, hash_, flags(Flags))

    @api("CryptDecrypt")
    def CryptDecrypt(self, Final: bool, Data: _Bytes, Hash: PyCRYPTHASH | None = None,
                     Flags: int = 0) -> bytes:
        """Decrypt ``Data``; ``Final`` checks and removes the padding.  ``Hash``,
        if given, hashes the plaintext."""
        data = bytes_arg(Data, "Data")
        hash_ = _hash_state(Hash)
        return decrypt(self._state, bool(Final), data, hash_, flags(Flags))

    @overload
    def CryptGetKeyParam(self, Param: _KP_INT, Flags: int = 0) -> int: ...
    @overload
    def CryptGetKeyParam(self, Param: _KP_BYTES, Flags: int = 0) -> bytes: ...
    @overload
    def CryptGetKeyParam(self, Param: int, Flags: int = 0) -> Any: ...
    @api("CryptGetKeyParam")
    def CryptGetKeyParam(self, Param: int, Flags: int = 0) -> Any:
        """Read a key parameter (``KP_*``): ints for DWORDs (``KP_ALGID``,
        ``KP_KEYLEN``, ``KP_MODE``, ...), bytes for byte values (``KP_IV``,
        ``KP_SALT``, ``KP_P``, ...)."""
        param = dword(Param, "Param")
        _no_flags(Flags)
        return get_key_param(self._state, param)

    @api("CryptSetKeyParam")
    def CryptSetKeyParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """Set a key parameter (``KP_*``), taking the type ``CryptGetKeyParam`` returns."""
        param = dword(Param, "Param")
        _no_flags(Flags)
        set_key_param(self._state, param, Data)


def _hash_state(value: object) -> Hash | None:
    """The state behind an optional ``PyCRYPTHASH`` argument."""
    if value is None:
        return None
    if not isinstance(value, PyCRYPTHASH):
        raise TypeError(f"Hash must be a PyCRYPTHASH or None, not {type(value).__name__}")
    return value._state


class PyCRYPTHASH(_Handle[Hash]):
    """A CryptoAPI hash object (``HCRYPTHASH``)."""

    __slots__ = ()

    def _close(self) -> None:
        self.CryptDestroyHash()

    @property
    def HCRYPTHASH(self) -> int:
        """The hash's handle, an int unique within the process."""
        return self._state.handle

    @api("CryptDestroyHash")
    def CryptDestroyHash(self) -> None:
        """Close the hash; destroying it twice is harmless."""
        self._state.close()

    @api("CryptDuplicateHash")
    def CryptDuplicateHash(self, Flags: int = 0) -> PyCRYPTHASH:
        """An independent copy of the hash and its state (finished or not)."""
        _no_flags(Flags)
        return PyCRYPTHASH(self._state.duplicate())

    @api("CryptHashData")
    def CryptHashData(self, Data: _Bytes, Flags: int = 0) -> None:
        """Hash more data."""
        data = Data if type(Data) is bytes else bytes_arg(Data, "Data")
        if (type(Flags) is not int or Flags) and flags(Flags) & ~con.CRYPT_USERDATA:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0 or CRYPT_USERDATA")
        self._state.update(data)

    @api("CryptHashSessionKey")
    def CryptHashSessionKey(self, Key: PyCRYPTKEY, Flags: int = 0) -> None:
        """Hash a session key's bytes: reversed by default, as stored with
        ``CRYPT_LITTLE_ENDIAN`` (see docs/differences.md for what the token allows)."""
        key = _key_state(Key, "Key")
        hash_session_key(self._state, key, flags(Flags))

    @api("CryptSignHash")
    def CryptSignHash(self, KeySpec: int, Flags: int = 0) -> bytes:
        """Sign the hash value with the context's ``KeySpec`` key (finishes the hash)."""
        spec = dword(KeySpec, "KeySpec")
        flag_bits = flags(Flags)
        with self._state.lock:
            return sign_hash(self._state, spec, flag_bits)

    @api("CryptVerifySignature")
    def CryptVerifySignature(self, Signature: _Bytes, PubKey: PyCRYPTKEY, Flags: int = 0) -> None:
        """Check ``Signature`` over the hash value with ``PubKey``; ``NTE_BAD_SIGNATURE``
        when it does not verify."""
        signature = bytes_arg(Signature, "Signature")
        pub = _key_state(PubKey, "PubKey")
        flag_bits = flags(Flags)
        with self._state.lock:
            verify_signature(self._state, signature, pub, flag_bits)

    @overload
    def CryptGetHashParam(self, Param: _HP_INT, Flags: int = 0) -> int: ...
    @overload
    def CryptGetHashParam(self, Param: _HP_BYTES, Flags: int = 0) -> bytes: ...
    @overload
    def CryptGetHashParam(self, Param: int, Flags: int = 0) -> Any: ...
    @api("CryptGetHashParam")
    def CryptGetHashParam(self, Param: int, Flags: int = 0) -> Any:
        """``HP_ALGID`` and ``HP_HASHSIZE`` (int), ``HP_HASHVAL`` (bytes; finishes the hash)."""
        param = Param if type(Param) is int and 0 <= Param <= DWORD_MAX else dword(Param, "Param")
        if type(Flags) is not int or Flags:  # 0, the usual value, needs no check
            _no_flags(Flags)
        return get_hash_param(self._state, param)

    @api("CryptSetHashParam")
    def CryptSetHashParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """``HP_HASHVAL`` (bytes: a value computed elsewhere, to sign) and
        ``HP_HMAC_INFO`` (the HMAC's hash: an ALG_ID, a tuple ``(HashAlgid,
        pbInnerString, pbOuterString)`` or a dict with those keys)."""
        param = dword(Param, "Param")
        _no_flags(Flags)
        set_hash_param(self._state, param, Data)
