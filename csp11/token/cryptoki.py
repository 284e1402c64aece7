"""The PKCS#11 library in the process: loading and initialising it, and the
calls python-pkcs11 does not offer, bound with ctypes.

* ``C_Initialize`` with ``CKF_OS_LOCKING_OK``.  python-pkcs11 passes NULL,
  which makes SoftHSM2 drop its internal locking while every call releases the
  GIL: threads then crash the process (TOKEN-FACTS, pitfall 1).  python-pkcs11's
  library object (:class:`_Lib`) is made to skip its own initialisation.
* ``C_Login``/``C_Logout`` on an existing session, so login state is managed
  once per token per process (python-pkcs11 can only log in while opening a
  session, leaks that session when the PIN is wrong, and logs *every* session
  out when it closes one).
* ``C_GetMechanismInfo`` into a zeroed structure: SoftHSM2 2.6 ORs some
  mechanisms' flags into what the caller's buffer already holds, and
  python-pkcs11 passes an uninitialised one (garbage flags, different in
  every process).
* ``C_GetSessionInfo`` (is the token logged in?), ``C_InitToken`` and
  ``C_InitPIN`` (to create the embedded default token without putting PINs on
  a command line).
* Multi-part digests, MACs and ciphers that live across CryptoAPI calls, and
  mechanism parameters python-pkcs11 does not pack.
"""

from __future__ import annotations

import ctypes
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import pkcs11.exceptions
from pkcs11 import _pkcs11

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.token.ckr import _ckr_name, ckr_of
from csp11.token.constants import CKF_OS_LOCKING_OK, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_OK
from csp11.token.forkgate import ChildSafeLock, library_call
from csp11.token.softhsm import store_file_lock, store_lock_path

_log = logging.getLogger("csp11")

# The order of CK_FUNCTION_LIST up to C_SignFinal (pkcs11f.h); only the
# entries csp11 calls through ctypes are typed below.
_FUNCTION_ORDER = (
    "C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList",
    "C_GetSlotInfo", "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo",
    "C_InitToken", "C_InitPIN", "C_SetPIN", "C_OpenSession", "C_CloseSession",
    "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState", "C_SetOperationState",
    "C_Login", "C_Logout", "C_CreateObject", "C_CopyObject", "C_DestroyObject",
    "C_GetObjectSize", "C_GetAttributeValue", "C_SetAttributeValue", "C_FindObjectsInit",
    "C_FindObjects", "C_FindObjectsFinal", "C_EncryptInit", "C_Encrypt", "C_EncryptUpdate",
    "C_EncryptFinal", "C_DecryptInit", "C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal",
    "C_DigestInit", "C_Digest", "C_DigestUpdate", "C_DigestKey", "C_DigestFinal",
    "C_SignInit", "C_Sign", "C_SignUpdate", "C_SignFinal",
)

_ulong = ctypes.c_ulong


class _CK_VERSION(ctypes.Structure):
    _fields_ = (("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte))


class _CK_FUNCTION_LIST(ctypes.Structure):
    _fields_ = (("version", _CK_VERSION), *((name, ctypes.c_void_p) for name in _FUNCTION_ORDER))


class _CK_C_INITIALIZE_ARGS(ctypes.Structure):
    _fields_ = (
        ("CreateMutex", ctypes.c_void_p),
        ("DestroyMutex", ctypes.c_void_p),
        ("LockMutex", ctypes.c_void_p),
        ("UnlockMutex", ctypes.c_void_p),
        ("flags", _ulong),
        ("pReserved", ctypes.c_void_p),
    )


class _CK_SESSION_INFO(ctypes.Structure):
    _fields_ = (
        ("slotID", _ulong),
        ("state", _ulong),
        ("flags", _ulong),
        ("ulDeviceError", _ulong),
    )


class _CK_MECHANISM_INFO(ctypes.Structure):
    _fields_ = (
        ("ulMinKeySize", _ulong),
        ("ulMaxKeySize", _ulong),
        ("flags", _ulong),
    )


class _CK_MECHANISM(ctypes.Structure):
    _fields_ = (
        ("mechanism", _ulong),
        ("pParameter", ctypes.c_void_p),
        ("ulParameterLen", _ulong),
    )


_PIN = ctypes.c_char_p
_BYTES = ctypes.c_char_p
_ULONG_P = ctypes.POINTER(_ulong)
_MECH_P = ctypes.POINTER(_CK_MECHANISM)


def _gated(call: Callable[..., int]) -> Callable[..., int]:
    def gated(*args: Any) -> int:
        with library_call():
            return call(*args)
    return gated


class _Cryptoki:
    """The PKCS#11 calls python-pkcs11 does not offer, bound with ctypes to
    the very function list python-pkcs11 got (:func:`_function_list_of`).

    One function list, not two copies: p11-kit's proxy and client modules
    hand out a new, separately initialised instance for every
    ``C_GetFunctionList`` call, so a second call would give csp11 an instance
    nobody initialised, with sessions of its own.
    """

    # csp11.token.fastpath's bindings of the hot calls, made on first use.
    fast: Any = None

    def __init__(self, fl_ptr: Any) -> None:
        self.function_list = fl_ptr
        fl = fl_ptr.contents
        proto = ctypes.CFUNCTYPE
        self.C_Initialize = proto(_ulong, ctypes.c_void_p)(fl.C_Initialize)
        self.C_Finalize = proto(_ulong, ctypes.c_void_p)(fl.C_Finalize)
        self.C_InitToken = proto(_ulong, _ulong, _PIN, _ulong, ctypes.c_char_p)(fl.C_InitToken)
        self.C_InitPIN = proto(_ulong, _ulong, _PIN, _ulong)(fl.C_InitPIN)
        self.C_OpenSession = proto(
            _ulong, _ulong, _ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(_ulong)
        )(fl.C_OpenSession)
        self.C_CloseSession = proto(_ulong, _ulong)(fl.C_CloseSession)
        self.C_GetMechanismInfo = proto(
            _ulong, _ulong, _ulong, ctypes.POINTER(_CK_MECHANISM_INFO)
        )(fl.C_GetMechanismInfo)
        self.C_GetSessionInfo = proto(_ulong, _ulong, ctypes.POINTER(_CK_SESSION_INFO))(
            fl.C_GetSessionInfo
        )
        self.C_Login = proto(_ulong, _ulong, _ulong, _PIN, _ulong)(fl.C_Login)
        self.C_Logout = proto(_ulong, _ulong)(fl.C_Logout)
        # Multi-part digests and MACs that live across CryptHashData calls
        # (python-pkcs11 only runs a whole multi-part operation in one call).
        self.C_DigestInit = proto(_ulong, _ulong, _MECH_P)(fl.C_DigestInit)
        self.C_DigestUpdate = proto(_ulong, _ulong, _BYTES, _ulong)(fl.C_DigestUpdate)
        self.C_DigestKey = proto(_ulong, _ulong, _ulong)(fl.C_DigestKey)
        self.C_DigestFinal = proto(_ulong, _ulong, _BYTES, _ULONG_P)(fl.C_DigestFinal)
        self.C_SignInit = proto(_ulong, _ulong, _MECH_P, _ulong)(fl.C_SignInit)
        self.C_SignUpdate = proto(_ulong, _ulong, _BYTES, _ulong)(fl.C_SignUpdate)
        self.C_SignFinal = proto(_ulong, _ulong, _BYTES, _ULONG_P)(fl.C_SignFinal)
        # Encryption with mechanism parameters python-pkcs11 does not pack
        # (CK_RC2_CBC_PARAMS), and RC4 streams that live across calls.
        self.C_EncryptInit = proto(_ulong, _ulong, _MECH_P, _ulong)(fl.C_EncryptInit)
        self.C_EncryptUpdate = proto(_ulong, _ulong, _BYTES, _ulong, _BYTES, _ULONG_P)(
            fl.C_EncryptUpdate
        )
        self.C_EncryptFinal = proto(_ulong, _ulong, _BYTES, _ULONG_P)(fl.C_EncryptFinal)
        self.C_DecryptInit = proto(_ulong, _ulong, _MECH_P, _ulong)(fl.C_DecryptInit)
        self.C_DecryptUpdate = proto(_ulong, _ulong, _BYTES, _ulong, _BYTES, _ULONG_P)(
            fl.C_DecryptUpdate
        )
        self.C_DecryptFinal = proto(_ulong, _ulong, _BYTES, _ULONG_P)(fl.C_DecryptFinal)
        self.C_Sign = proto(_ulong, _ulong, _BYTES, _ulong, _BYTES, _ULONG_P)(fl.C_Sign)
        self.C_Decrypt = proto(_ulong, _ulong, _BYTES, _ulong, _BYTES, _ULONG_P)(fl.C_Decrypt)
        # Every call passes the fork gate (csp11.token.forkgate).
        for name, call in list(vars(self).items()):
            if name.startswith("C_"):
                setattr(self, name, _gated(call))

    def initialize(self, reserved: str | None = None) -> None:
        """``C_Initialize`` asking the library to use its own OS locking.

        ``reserved`` goes to ``pReserved``: NSS's softokn reads its database
        location there (p11-kit calls it ``x-init-reserved``).
        """
        self._reserved = ctypes.c_char_p(reserved.encode()) if reserved is not None else None
        args = _CK_C_INITIALIZE_ARGS(
            None, None, None, None, CKF_OS_LOCKING_OK,
            ctypes.cast(self._reserved, ctypes.c_void_p) if self._reserved is not None else None,
        )
        rv = self.C_Initialize(ctypes.cast(ctypes.byref(args), ctypes.c_void_p))
        if rv == CKR_CRYPTOKI_ALREADY_INITIALIZED:
            # Another component of this process initialised the library first
            # (e.g. plain python-pkcs11).  Its locking choice stands; say so.
            _log.warning("PKCS#11 library was already initialised by another component")
        elif rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_Initialize")

    def session_state(self, handle: int) -> int:
        """``C_GetSessionInfo(...).state``."""
        info = _CK_SESSION_INFO()
        rv = self.C_GetSessionInfo(handle, ctypes.byref(info))
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_GetSessionInfo")
        return int(info.state)

    def mechanism_info(self, slot_id: int, mechanism: int) -> tuple[int, tuple[int, int, int]]:
        """``C_GetMechanismInfo``: the raw return value (the caller decides)
        and ``(ulMinKeySize, ulMaxKeySize, flags)``.

        The structure starts zeroed, and must: SoftHSM2 2.6 sets the flags of
        some mechanisms (AES_ECB, AES_CBC_PAD, AES_CTR, AES_GCM, DES3_ECB,
        DES3_CBC_PAD) with ``|=``: a buffer holding 0xAAAA0000 comes back
        0xAAAA0300 (measured; tests/test_token.py checks the result).
        Through p11-kit's RPC no client can help it: ``p11-kit server`` makes
        the call with an uninitialised structure of its own (SoftHSM2 behind
        it: 0x302 for AES_ECB and DES3_ECB, 0x300 direct).
        """
        info = _CK_MECHANISM_INFO(0, 0, 0)
        rv = self.C_GetMechanismInfo(slot_id, mechanism, ctypes.byref(info))
        return int(rv), (int(info.ulMinKeySize), int(info.ulMaxKeySize), int(info.flags))

    def end_operation(self, handle: int, kind: str) -> None:
        """End a signing or decryption left active in a session.

        SoftHSM2 keeps the operation active after a wrong context-specific
        PIN (TOKEN-FACTS); the session would then refuse every other call
        with ``CKR_OPERATION_ACTIVE``.  A one-shot call with an output buffer
        ends an active operation whatever it returns (PKCS #11 §5.2); where
        none is active it merely answers ``CKR_OPERATION_NOT_INITIALIZED``.
        """
        out = ctypes.create_string_buffer(1024)
        size = _ulong(1024)
        call = self.C_Sign if kind == "sign" else self.C_Decrypt
        call(handle, bytes(1), 1, out, ctypes.byref(size))

    def login(self, handle: int, user_type: int, pin: str | None) -> int:
        """``C_Login``; returns the raw return value (the caller decides)."""
        if pin is None:  # protected authentication path: the token asks
            return int(self.C_Login(handle, user_type, None, 0))
        try:
            data = pin.encode("utf-8")
        except UnicodeEncodeError:
            # Raised outside the handler: the exception, which holds the PIN,
            # must not become this one's __context__.
            data = None
        if data is None:
            raise Fail(winerror.SCARD_W_WRONG_CHV, "the PIN is not valid text (UTF-8)")
        return int(self.C_Login(handle, user_type, data, len(data)))


def _function_list_of(lib: Any) -> Any:
    """The ``CK_FUNCTION_LIST *`` that python-pkcs11's ``lib`` object holds.

    python-pkcs11 keeps it as the first C member of its ``HasFuncList`` base
    (``funclist``, then the 3.0 and 3.2 lists), right after the object
    header; the layout is checked, not assumed, before it is read.
    """
    base = getattr(_pkcs11, "HasFuncList", None)
    pointer = ctypes.sizeof(ctypes.c_void_p)
    header = object.__basicsize__
    if base is None or base.__basicsize__ != header + 3 * pointer or not isinstance(lib, base):
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   "this python-pkcs11 keeps its function list where csp11 cannot find it")
    address = ctypes.c_void_p.from_address(id(lib) + header).value
    if not address:
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL, "the module gave no function list")
    return ctypes.cast(address, ctypes.POINTER(_CK_FUNCTION_LIST))


class _Lib(_pkcs11.lib):
    """python-pkcs11's library object, initialised by csp11's ``C_Initialize``
    (with OS locking) through csp11's binding of the same function list."""

    _cryptoki: _Cryptoki
    # The C_Initialize argument of the library being loaded (set under
    # _loading by Library: python-pkcs11's constructor takes the path only).
    _reserved: str | None = None

    def initialize(self) -> None:
        # python-pkcs11's constructor calls this right after its one
        # C_GetFunctionList: bind csp11's calls to that list and initialise it.
        self._cryptoki = _Cryptoki(_function_list_of(self))
        self._cryptoki.initialize(_Lib._reserved)


_loading = ChildSafeLock()


def _load_failure(path: str, exc: pkcs11.exceptions.PKCS11Error) -> Fail:
    """What a failed load means: a file that is no PKCS#11 module, or a module
    whose C_GetFunctionList / C_Initialize / C_GetInfo failed."""
    if type(exc) is pkcs11.exceptions.PKCS11Error and "while loading" in str(exc):
        # python-pkcs11's own message: dlopen failed, or no C_GetFunctionList.
        reason = str(exc).split(": ", 1)[-1]
        return Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                    f"{path} cannot be used as a PKCS#11 module: {reason}")
    ckr = ckr_of(exc)
    return Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                f"the PKCS#11 module {path} failed to start: {ckr}", ckr=ckr)


class Library:
    """One PKCS#11 library loaded and initialised in this process: the ctypes
    binding (:attr:`cryptoki`) and python-pkcs11's object (:attr:`lib`) over
    the same copy.  :class:`csp11.token.module.Module` adds its slots and
    tokens.
    """

    def __init__(self, path: str, env: Mapping[str, str], init_reserved: str | None) -> None:
        self.path = path
        self.env = dict(env)
        self.init_reserved = init_reserved
        # Some modules (SoftHSM2) read their configuration from the environment
        # at C_Initialize: set it for that call only.
        # A SoftHSM2 store is read whole at C_Initialize: under its store lock,
        # so that no other csp11 process rewrites a file of it meanwhile (a
        # token read mid-rewrite is missing, or broken, for the whole life of
        # the process: SCARD_E_NO_SMARTCARD, CKR_GENERAL_ERROR at login).
        with _loading, store_file_lock(store_lock_path(self.env)):
            saved = {name: os.environ.get(name) for name in self.env}
            os.environ.update(self.env)
            _Lib._reserved = init_reserved
            try:
                with library_call():
                    self.lib = _Lib(path)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise _load_failure(path, exc) from None
            finally:
                _Lib._reserved = None
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        self.cryptoki = self.lib._cryptoki
        # A loaded module stays loaded until the process ends: python-pkcs11's
        # deallocator fails on a subclass during interpreter shutdown, and
        # unloading a PKCS#11 module while sessions may still be in use is
        # never safe.  One extra reference makes the object live for good.
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(self.lib))

    def wrote_store(self) -> None:
        """This process just created or destroyed one token object (see
        :meth:`csp11.token.module.Module.wrote_store`)."""
