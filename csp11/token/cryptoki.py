"""The PKCS#11 library in the process: loading and initialising it, its
slots, tokens and mechanisms, and the calls python-pkcs11 does not offer,
bound with ctypes.

* ``dlopen`` and ``C_GetFunctionList`` by csp11 itself, so that a process's
  first key needs no python-pkcs11 (issue #16: cold start).  python-pkcs11's
  library object, made when first needed (:attr:`Library.lib`), adopts the
  function list csp11 initialised: p11-kit's proxy and client give every
  ``C_GetFunctionList`` call a new, uninitialised instance.
* ``C_Initialize`` with ``CKF_OS_LOCKING_OK``.  python-pkcs11 passes NULL,
  which makes SoftHSM2 drop its internal locking while every call releases the
  GIL: threads then crash the process (TOKEN-FACTS, pitfall 1).  python-pkcs11's
  library object skips its own initialisation.
* ``C_GetInfo``, ``C_GetSlotList``, ``C_GetSlotInfo``, ``C_GetTokenInfo`` and
  ``C_GetMechanismList``: discovery without python-pkcs11.
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
import os
from collections.abc import Callable, Mapping
from typing import Any

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.logs import log as _log
from csp11.structs import Struct
from csp11.token.ckr import _ckr_name, ckr_of
from csp11.token.constants import CKF_OS_LOCKING_OK, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_OK
from csp11.token.forkgate import ChildSafeLock, library_call
from csp11.token.pypkcs11 import pkcs11
from csp11.token.softhsm import store_file_lock, store_lock_path

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
_CKR_BUFFER_TOO_SMALL = 0x150


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


class _CK_INFO(ctypes.Structure):
    _fields_ = (
        ("cryptokiVersion", _CK_VERSION),
        ("manufacturerID", ctypes.c_char * 32),
        ("flags", _ulong),
        ("libraryDescription", ctypes.c_char * 32),
        ("libraryVersion", _CK_VERSION),
    )


class _CK_SLOT_INFO(ctypes.Structure):
    _fields_ = (
        ("slotDescription", ctypes.c_char * 64),
        ("manufacturerID", ctypes.c_char * 32),
        ("flags", _ulong),
        ("hardwareVersion", _CK_VERSION),
        ("firmwareVersion", _CK_VERSION),
    )


class _CK_TOKEN_INFO(ctypes.Structure):
    _fields_ = (
        ("label", ctypes.c_char * 32),
        ("manufacturerID", ctypes.c_char * 32),
        ("model", ctypes.c_char * 16),
        ("serialNumber", ctypes.c_char * 16),
        ("flags", _ulong),
        *((name, _ulong) for name in (
            "ulMaxSessionCount", "ulSessionCount", "ulMaxRwSessionCount", "ulRwSessionCount",
            "ulMaxPinLen", "ulMinPinLen", "ulTotalPublicMemory", "ulFreePublicMemory",
            "ulTotalPrivateMemory", "ulFreePrivateMemory")),
        ("hardwareVersion", _CK_VERSION),
        ("firmwareVersion", _CK_VERSION),
        ("utcTime", ctypes.c_char * 16),
    )


def _raw(info: ctypes.Structure, name: str) -> bytes:
    # The whole field: reading a c_char array member stops at its first NUL.
    field = getattr(type(info), name)
    return ctypes.string_at(ctypes.addressof(info) + field.offset, field.size)


def _text(info: ctypes.Structure, name: str) -> str:
    # As python-pkcs11 reads CK_UTF8CHAR fields: blank-padded UTF-8, and
    # bytes that are not UTF-8 replaced (some tokens are not compliant).
    return _raw(info, name).rstrip(b"\0").decode("utf-8", errors="replace").rstrip()


def _pair(version: _CK_VERSION) -> tuple[int, int]:
    return int(version.major), int(version.minor)


class LibraryFacts(Struct):
    """``C_GetInfo``: what the library says about itself."""

    manufacturer_id: str
    library_description: str
    library_version: tuple[int, int]


class SlotFacts(Struct):
    """``C_GetSlotInfo`` of one slot."""

    slot_id: int
    slot_description: str
    manufacturer_id: str
    flags: int


class TokenFacts(Struct):
    """``C_GetTokenInfo`` of one slot's token (``serial`` as python-pkcs11
    gives it: the raw field without its padding)."""

    label: str
    serial: bytes
    manufacturer_id: str
    model: str
    flags: int
    hardware_version: tuple[int, int]
    firmware_version: tuple[int, int]


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
    """csp11's ctypes binding of a module's function list (the one
    ``C_GetFunctionList`` call csp11 makes; python-pkcs11 adopts the same).

    One function list, not two copies: p11-kit's proxy and client modules
    hand out a new, separately initialised instance for every
    ``C_GetFunctionList`` call, so a second call would give a second user an
    instance nobody initialised, with sessions of its own.
    """

    # csp11.token.fastpath's bindings of the hot calls, made on first use.
    fast: Any = None
    _library_facts: LibraryFacts | None = None

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
        self.C_GetInfo = proto(_ulong, ctypes.POINTER(_CK_INFO))(fl.C_GetInfo)
        self.C_GetSlotList = proto(_ulong, ctypes.c_ubyte, _ULONG_P, _ULONG_P)(fl.C_GetSlotList)
        self.C_GetSlotInfo = proto(_ulong, _ulong, ctypes.POINTER(_CK_SLOT_INFO))(
            fl.C_GetSlotInfo
        )
        self.C_GetTokenInfo = proto(_ulong, _ulong, ctypes.POINTER(_CK_TOKEN_INFO))(
            fl.C_GetTokenInfo
        )
        self.C_GetMechanismList = proto(_ulong, _ulong, _ULONG_P, _ULONG_P)(
            fl.C_GetMechanismList
        )
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

    def library_info(self) -> LibraryFacts:
        """``C_GetInfo`` (read once: it does not change while the library is loaded)."""
        found = self._library_facts
        if found is None:
            found = self._library_facts = self._read_library_info()
        return found

    def _read_library_info(self) -> LibraryFacts:
        info = _CK_INFO()
        rv = self.C_GetInfo(ctypes.byref(info))
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_GetInfo")
        return LibraryFacts(manufacturer_id=_text(info, "manufacturerID"),
                            library_description=_text(info, "libraryDescription"),
                            library_version=_pair(info.libraryVersion))

    def _listed(self, call: Callable[..., int], first: Any, doing: str) -> list[int]:
        # The two-call protocol of C_GetSlotList/C_GetMechanismList; the list
        # may grow between the calls (a token plugged in): then ask again.
        while True:
            count = _ulong(0)
            rv = call(first, None, ctypes.byref(count))
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), doing)
            items = (_ulong * max(count.value, 1))()
            rv = call(first, items, ctypes.byref(count))
            if rv == _CKR_BUFFER_TOO_SMALL:
                continue
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), doing)
            return [int(items[i]) for i in range(count.value)]

    def slot_list(self, token_present: bool) -> list[int]:
        """``C_GetSlotList``: the slot ids."""
        return self._listed(self.C_GetSlotList, 1 if token_present else 0, "C_GetSlotList")

    def slot_info(self, slot_id: int) -> SlotFacts:
        """``C_GetSlotInfo``."""
        info = _CK_SLOT_INFO()
        rv = self.C_GetSlotInfo(slot_id, ctypes.byref(info))
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_GetSlotInfo")
        return SlotFacts(slot_id=slot_id, slot_description=_text(info, "slotDescription"),
                         manufacturer_id=_text(info, "manufacturerID"), flags=int(info.flags))

    def token_info(self, slot_id: int) -> tuple[int, TokenFacts | None]:
        """``C_GetTokenInfo``: the raw return value (the caller decides) and,
        where it is ``CKR_OK``, what the token says."""
        info = _CK_TOKEN_INFO()
        rv = int(self.C_GetTokenInfo(slot_id, ctypes.byref(info)))
        if rv != CKR_OK:
            return rv, None
        return rv, TokenFacts(
            label=_text(info, "label"), serial=_raw(info, "serialNumber").rstrip(),
            manufacturer_id=_text(info, "manufacturerID"), model=_text(info, "model"),
            flags=int(info.flags), hardware_version=_pair(info.hardwareVersion),
            firmware_version=_pair(info.firmwareVersion),
        )

    def mechanism_list(self, slot_id: int) -> list[int]:
        """``C_GetMechanismList``."""
        return self._listed(self.C_GetMechanismList, slot_id, "C_GetMechanismList")

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


def _funclist_member(lib: Any) -> ctypes.c_void_p:
    """Where python-pkcs11's library object keeps its ``CK_FUNCTION_LIST *``.

    python-pkcs11 keeps it as the first C member of its ``HasFuncList`` base
    (``funclist``, then the 3.0 and 3.2 lists), right after the object
    header; the layout is checked, not assumed, before it is touched.
    """
    base = getattr(pkcs11._pkcs11, "HasFuncList", None)
    pointer = ctypes.sizeof(ctypes.c_void_p)
    header = object.__basicsize__
    if base is None or base.__basicsize__ != header + 3 * pointer or not isinstance(lib, base):
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   "this python-pkcs11 keeps its function list where csp11 cannot find it")
    return ctypes.c_void_p.from_address(id(lib) + header)


def _function_list(path: str) -> Any:
    """``dlopen`` and ``C_GetFunctionList``: the module's ``CK_FUNCTION_LIST *``."""
    try:
        dll = ctypes.CDLL(path)
    except OSError as exc:
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   f"{path} cannot be used as a PKCS#11 module: {exc}") from None
    try:
        get = dll.C_GetFunctionList
    except AttributeError:
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   f"{path} cannot be used as a PKCS#11 module: it has no C_GetFunctionList",
                   ) from None
    get.restype = _ulong
    get.argtypes = (ctypes.POINTER(ctypes.POINTER(_CK_FUNCTION_LIST)),)
    fl = ctypes.POINTER(_CK_FUNCTION_LIST)()
    rv = int(get(ctypes.byref(fl)))
    if rv != CKR_OK:
        ckr = _ckr_name(rv)
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   f"the PKCS#11 module {path} failed to start: {ckr}", ckr=ckr)
    if not fl:
        raise Fail(winerror.NTE_PROVIDER_DLL_FAIL,
                   f"the PKCS#11 module {path} gave no function list")
    # Never unloaded: see Library.
    _kept.append(dll)
    return fl


_kept: list[Any] = []
_lib_classes: list[type] = []


def _lib_class() -> type:
    """python-pkcs11's library class, made to adopt csp11's function list
    (made once, when python-pkcs11 is first needed)."""
    if not _lib_classes:
        class _Lib(pkcs11._pkcs11.lib):
            """python-pkcs11's library object over csp11's function list,
            already initialised by csp11 (``C_Initialize`` with OS locking)."""

            adopting: Any = None  # the function list to adopt (under _loading)

            def initialize(self) -> None:
                # python-pkcs11's constructor calls this right after its own
                # C_GetFunctionList.  p11-kit's proxy and client hand out a
                # new, uninitialised instance for every such call: python-pkcs11
                # must work on the one csp11 initialised, never on its own.
                _funclist_member(self).value = ctypes.cast(_Lib.adopting, ctypes.c_void_p).value

        _lib_classes.append(_Lib)
    return _lib_classes[0]


_loading = ChildSafeLock()


class Library:
    """One PKCS#11 library loaded and initialised in this process: csp11's
    ctypes binding (:attr:`cryptoki`) and, made when first needed,
    python-pkcs11's object (:attr:`lib`) over the same function list.
    :class:`csp11.token.module.Module` adds its slots and tokens.
    """

    def __init__(self, path: str, env: Mapping[str, str], init_reserved: str | None) -> None:
        self.path = path
        self.env = dict(env)
        self.init_reserved = init_reserved
        self._lib: Any = None
        # Some modules (SoftHSM2) read their configuration from the environment
        # at C_Initialize: set it for that call only.
        # A SoftHSM2 store is read whole at C_Initialize: under its store lock,
        # so that no other csp11 process rewrites a file of it meanwhile (a
        # token read mid-rewrite is missing, or broken, for the whole life of
        # the process: SCARD_E_NO_SMARTCARD, CKR_GENERAL_ERROR at login).
        with _loading, store_file_lock(store_lock_path(self.env)):
            saved = {name: os.environ.get(name) for name in self.env}
            os.environ.update(self.env)
            try:
                with library_call():
                    self.cryptoki = _Cryptoki(_function_list(path))
                    self.cryptoki.initialize(init_reserved)
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        # A loaded module stays loaded until the process ends: unloading a
        # PKCS#11 module while sessions may still be in use is never safe.

    @property
    def lib(self) -> Any:
        """python-pkcs11's library object over this library's function list
        (imports python-pkcs11 the first time)."""
        lib = self._lib
        if lib is None:
            with _loading:
                lib = self._lib
                if lib is None:
                    lib = self._lib = self._python_pkcs11_lib()
        return lib

    def _python_pkcs11_lib(self) -> Any:
        klass: Any = _lib_class()
        klass.adopting = self.cryptoki.function_list
        try:
            with library_call():
                lib = klass(self.path)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), "C_GetInfo") from None
        finally:
            klass.adopting = None
        # python-pkcs11's deallocator fails on a subclass during interpreter
        # shutdown: one extra reference makes the object live for good.
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(lib))
        return lib

    def python_pkcs11_loaded(self) -> bool:
        """Whether :attr:`lib` was made (python-pkcs11 sessions cost nothing more)."""
        return self._lib is not None

    def wrote_store(self) -> None:
        """This process just created or destroyed one token object (see
        :meth:`csp11.token.module.Module.wrote_store`)."""
