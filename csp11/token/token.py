"""The token layer: the only module of csp11 that talks to PKCS#11.

Everything above this module speaks CryptoAPI; everything PKCS#11 happens
here.  It uses python-pkcs11 for the calls it offers and a small ctypes
binding for the few it lacks (see :class:`_Cryptoki`):

* ``C_Initialize`` with ``CKF_OS_LOCKING_OK``.  python-pkcs11 passes NULL,
  which makes SoftHSM2 drop its internal locking while every call releases the
  GIL: threads then crash the process (TOKEN-FACTS, pitfall 1).
* ``C_Login``/``C_Logout`` on an existing session, so login state is managed
  once per token per process (python-pkcs11 can only log in while opening a
  session, leaks that session when the PIN is wrong, and logs *every* session
  out when it closes one).
* ``C_GetSessionInfo`` (is the token logged in?), ``C_InitToken`` and
  ``C_InitPIN`` (to create the embedded default token without putting PINs on
  a command line).

Return codes are translated once, here, into :class:`csp11.errors.Fail` by
the table in :mod:`csp11.errors`.  Sessions are pooled per token and reused;
a session that the token lost is reopened (and the token logged in again)
and the call retried once.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pkcs11
import pkcs11.attributes
import pkcs11.exceptions
from cryptography.hazmat.primitives import keywrap
from pkcs11 import _pkcs11

from csp11 import winerror
from csp11.errors import CKR_NAMES, Fail, fail_from_ckr
from csp11.token.pins import PinRequest, PinSources
from csp11.token.quirks import Quirks, quirks_for

__all__ = [
    "DEFAULT",
    "MechanismInfo",
    "Module",
    "Operation",
    "Session",
    "Token",
    "TokenInfo",
    "TokenKey",
    "load_module",
]

_log = logging.getLogger("csp11")
_T = TypeVar("_T")

# Re-exported for the layers above, which must not import pkcs11 themselves.
Session = pkcs11.Session
Attribute = pkcs11.Attribute
ObjectClass = pkcs11.ObjectClass
KeyType = pkcs11.KeyType
Mechanism = pkcs11.Mechanism
MGF = pkcs11.MGF
DEFAULT = pkcs11.DEFAULT  # in a template: drop python-pkcs11's default for that attribute
# csp11's templates say every capability themselves; python-pkcs11's defaults
# (and its refusal to guess them for DES) must not add any.
_NO_CAPABILITIES = pkcs11.MechanismFlag(0)

# --------------------------------------------------------------------------
# PKCS#11 constants used by the ctypes binding (pkcs11t.h)
CKF_OS_LOCKING_OK = 0x00000002
CKU_SO = 0
CKU_USER = 1
CKS_RO_USER_FUNCTIONS = 1
CKS_RW_USER_FUNCTIONS = 3
CKF_RW_SESSION = 0x00000002
CKF_SERIAL_SESSION = 0x00000004

# Token flags (CK_TOKEN_INFO.flags)
CKF_WRITE_PROTECTED = 0x00000002
CKF_LOGIN_REQUIRED = 0x00000004
CKF_USER_PIN_INITIALIZED = 0x00000008
CKF_PROTECTED_AUTHENTICATION_PATH = 0x00000100
CKF_TOKEN_INITIALIZED = 0x00000400
CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000
# Slot flags (CK_SLOT_INFO.flags)
CKF_TOKEN_PRESENT = 0x00000001
CKF_REMOVABLE_DEVICE = 0x00000002
CKF_HW_SLOT = 0x00000004

CKR_OK = 0
CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191
CKR_USER_ALREADY_LOGGED_IN = 0x100

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


class _Cryptoki:
    """The PKCS#11 calls python-pkcs11 does not offer, bound with ctypes.

    Loading the same path with ctypes and with python-pkcs11 gives one copy of
    the library in the process (the dynamic loader shares it), so both see the
    same sessions and login state.
    """

    def __init__(self, path: str) -> None:
        self.dll = ctypes.CDLL(path)
        fl_ptr = ctypes.POINTER(_CK_FUNCTION_LIST)()
        rv = self.dll.C_GetFunctionList(ctypes.byref(fl_ptr))
        if rv != CKR_OK or not fl_ptr:
            raise fail_from_ckr(_ckr_name(rv), "C_GetFunctionList")
        fl = fl_ptr.contents
        proto = ctypes.CFUNCTYPE
        self.C_Initialize = proto(_ulong, ctypes.c_void_p)(fl.C_Initialize)
        self.C_InitToken = proto(_ulong, _ulong, _PIN, _ulong, ctypes.c_char_p)(fl.C_InitToken)
        self.C_InitPIN = proto(_ulong, _ulong, _PIN, _ulong)(fl.C_InitPIN)
        self.C_OpenSession = proto(
            _ulong, _ulong, _ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(_ulong)
        )(fl.C_OpenSession)
        self.C_CloseSession = proto(_ulong, _ulong)(fl.C_CloseSession)
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


class _Lib(_pkcs11.lib):
    """python-pkcs11's library object, initialised by csp11's ``C_Initialize``."""

    _cryptoki: _Cryptoki

    def initialize(self) -> None:
        # python-pkcs11 calls this from its constructor; the library must
        # already have been initialised with OS locking by _Cryptoki.
        return None


def _version(value: Any) -> tuple[int, int]:
    major, minor = value
    return int(major), int(minor)


def _ckr_name(rv: int) -> str:
    return CKR_NAMES.get(rv, f"CKR_0x{rv:X}")


# python-pkcs11 raises one exception class per return code but drops the
# number; this table (checked against python-pkcs11's own map by a test)
# gives it back.
_EXCEPTION_CKR: dict[str, str] = {
    "AnotherUserAlreadyLoggedIn": "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
    "ArgumentsBad": "CKR_ARGUMENTS_BAD",
    "AttributeReadOnly": "CKR_ATTRIBUTE_READ_ONLY",
    "AttributeSensitive": "CKR_ATTRIBUTE_SENSITIVE",
    "AttributeTypeInvalid": "CKR_ATTRIBUTE_TYPE_INVALID",
    "AttributeValueInvalid": "CKR_ATTRIBUTE_VALUE_INVALID",
    "DataInvalid": "CKR_DATA_INVALID",
    "DataLenRange": "CKR_DATA_LEN_RANGE",
    "DeviceError": "CKR_DEVICE_ERROR",
    "DeviceMemory": "CKR_DEVICE_MEMORY",
    "DeviceRemoved": "CKR_DEVICE_REMOVED",
    "DomainParamsInvalid": "CKR_DOMAIN_PARAMS_INVALID",
    "EncryptedDataInvalid": "CKR_ENCRYPTED_DATA_INVALID",
    "EncryptedDataLenRange": "CKR_ENCRYPTED_DATA_LEN_RANGE",
    "ExceededMaxIterations": "CKR_EXCEEDED_MAX_ITERATIONS",
    "FunctionCancelled": "CKR_FUNCTION_CANCELED",
    "FunctionFailed": "CKR_FUNCTION_FAILED",
    "FunctionNotSupported": "CKR_FUNCTION_NOT_SUPPORTED",
    "FunctionRejected": "CKR_FUNCTION_REJECTED",
    "GeneralError": "CKR_GENERAL_ERROR",
    "HostMemory": "CKR_HOST_MEMORY",
    "KeyHandleInvalid": "CKR_KEY_HANDLE_INVALID",
    "KeyIndigestible": "CKR_KEY_INDIGESTIBLE",
    "KeyNeeded": "CKR_KEY_NEEDED",
    "KeyNotNeeded": "CKR_KEY_NOT_NEEDED",
    "KeyNotWrappable": "CKR_KEY_NOT_WRAPPABLE",
    "KeySizeRange": "CKR_KEY_SIZE_RANGE",
    "KeyTypeInconsistent": "CKR_KEY_TYPE_INCONSISTENT",
    "KeyUnextractable": "CKR_KEY_UNEXTRACTABLE",
    "MechanismInvalid": "CKR_MECHANISM_INVALID",
    "MechanismParamInvalid": "CKR_MECHANISM_PARAM_INVALID",
    "NoEvent": "CKR_NO_EVENT",
    "ObjectHandleInvalid": "CKR_OBJECT_HANDLE_INVALID",
    "OperationActive": "CKR_OPERATION_ACTIVE",
    "OperationNotInitialized": "CKR_OPERATION_NOT_INITIALIZED",
    "PinExpired": "CKR_PIN_EXPIRED",
    "PinIncorrect": "CKR_PIN_INCORRECT",
    "PinInvalid": "CKR_PIN_INVALID",
    "PinLenRange": "CKR_PIN_LEN_RANGE",
    "PinLocked": "CKR_PIN_LOCKED",
    "PinTooWeak": "CKR_PIN_TOO_WEAK",
    "PublicKeyInvalid": "CKR_PUBLIC_KEY_INVALID",
    "RandomNoRNG": "CKR_RANDOM_NO_RNG",
    "RandomSeedNotSupported": "CKR_RANDOM_SEED_NOT_SUPPORTED",
    "SessionClosed": "CKR_SESSION_CLOSED",
    "SessionCount": "CKR_SESSION_COUNT",
    "SessionExists": "CKR_SESSION_EXISTS",
    "SessionHandleInvalid": "CKR_SESSION_HANDLE_INVALID",
    "SessionReadOnly": "CKR_SESSION_READ_ONLY",
    "SessionReadOnlyExists": "CKR_SESSION_READ_ONLY_EXISTS",
    "SessionReadWriteSOExists": "CKR_SESSION_READ_WRITE_SO_EXISTS",
    "SignatureInvalid": "CKR_SIGNATURE_INVALID",
    "SignatureLenRange": "CKR_SIGNATURE_LEN_RANGE",
    "SlotIDInvalid": "CKR_SLOT_ID_INVALID",
    "TemplateIncomplete": "CKR_TEMPLATE_INCOMPLETE",
    "TemplateInconsistent": "CKR_TEMPLATE_INCONSISTENT",
    "TokenNotPresent": "CKR_TOKEN_NOT_PRESENT",
    "TokenNotRecognised": "CKR_TOKEN_NOT_RECOGNIZED",
    "TokenWriteProtected": "CKR_TOKEN_WRITE_PROTECTED",
    "UnwrappingKeyHandleInvalid": "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
    "UnwrappingKeySizeRange": "CKR_UNWRAPPING_KEY_SIZE_RANGE",
    "UnwrappingKeyTypeInconsistent": "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
    "UserAlreadyLoggedIn": "CKR_USER_ALREADY_LOGGED_IN",
    "UserNotLoggedIn": "CKR_USER_NOT_LOGGED_IN",
    "UserPinNotInitialized": "CKR_USER_PIN_NOT_INITIALIZED",
    "UserTooManyTypes": "CKR_USER_TOO_MANY_TYPES",
    "WrappedKeyInvalid": "CKR_WRAPPED_KEY_INVALID",
    "WrappedKeyLenRange": "CKR_WRAPPED_KEY_LEN_RANGE",
    "WrappingKeyHandleInvalid": "CKR_WRAPPING_KEY_HANDLE_INVALID",
    "WrappingKeySizeRange": "CKR_WRAPPING_KEY_SIZE_RANGE",
    "WrappingKeyTypeInconsistent": "CKR_WRAPPING_KEY_TYPE_INCONSISTENT",
}

# Messages python-pkcs11 gives the return codes it raises as plain PKCS11Error.
_GENERIC_MESSAGES: dict[str, str] = {
    "Buffer was too small": "CKR_BUFFER_TOO_SMALL",
    "already initialized": "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    "not initialized": "CKR_CRYPTOKI_NOT_INITIALIZED",
    "Parallel not supported": "CKR_SESSION_PARALLEL_NOT_SUPPORTED",
    "User type invalid": "CKR_USER_TYPE_INVALID",
}
_UNMAPPED = re.compile(r"Unmapped error code (0x[0-9a-fA-F]+)")


def ckr_of(exc: BaseException) -> str:
    """The PKCS#11 return code name behind a python-pkcs11 exception."""
    name = _EXCEPTION_CKR.get(type(exc).__name__)
    if name is not None:
        return name
    text = str(exc)
    match = _UNMAPPED.search(text)
    if match:
        return _ckr_name(int(match.group(1), 16))
    for fragment, ckr in _GENERIC_MESSAGES.items():
        if fragment in text:
            return ckr
    return "CKR_GENERAL_ERROR"


_SESSION_LOST = frozenset({"CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED"})

# Token quirk "token-info-races-other-processes": SoftHSM2's file store
# rewrites the token file when another process logs in, and a C_GetTokenInfo
# that reads it meanwhile fails with CKR_GENERAL_ERROR (seen in 1 of ~20
# concurrent first uses).  Reading token info is idempotent, so it is retried
# briefly on any token.
_TRANSIENT_TOKEN_INFO = frozenset({"CKR_GENERAL_ERROR", "CKR_FUNCTION_FAILED"})
_TOKEN_INFO_TRIES = 5

# --------------------------------------------------------------------------
# Templates are checked here before python-pkcs11 packs them: an exception
# raised while it packs a template can crash the process (TOKEN-FACTS,
# pitfall 2).
_HANDLER_TYPES: tuple[tuple[object, type], ...] = (
    (pkcs11.attributes.handle_bool, bool),
    (pkcs11.attributes.handle_ulong, int),
    (pkcs11.attributes.handle_str, str),
    (pkcs11.attributes.handle_bytes, bytes),
    (pkcs11.attributes.handle_date, date),
)
_ATTRIBUTE_PY_TYPE: dict[int, type] = {}
for _attr, _handler in pkcs11.attributes.ATTRIBUTE_TYPES.items():
    # Handlers not in _HANDLER_TYPES are python-pkcs11's IntEnum packers.
    _ATTRIBUTE_PY_TYPE[int(_attr)] = next(
        (py for handler, py in _HANDLER_TYPES if handler is _handler), int
    )


# Templates already checked, by identity.  The entry holds the template
# itself, so its id cannot be reused while cached; the cache is cleared when
# it grows, as only csp11's own long-lived templates recur.
_checked: dict[int, Mapping[Any, object]] = {}
_CHECKED_MAX = 512
_SECRET_ATTRIBUTES = frozenset({
    pkcs11.Attribute.VALUE, pkcs11.Attribute.PRIVATE_EXPONENT, pkcs11.Attribute.PRIME_1,
    pkcs11.Attribute.PRIME_2, pkcs11.Attribute.EXPONENT_1, pkcs11.Attribute.EXPONENT_2,
    pkcs11.Attribute.COEFFICIENT,
})


def check_template(template: Mapping[Any, object]) -> None:
    """Refuse a template python-pkcs11 could not pack (``NTE_FAIL``, a csp11 bug).

    Every key must be an attribute python-pkcs11 knows and every value of the
    Python type its packer takes (``bool`` for booleans — not ``int``).
    Callers must not change a template after it was checked.
    """
    if _checked.get(id(template)) is template:
        return
    _check_template(template)
    if any(key in _SECRET_ATTRIBUTES for key in template):
        return  # key material is never kept, not even in a cache
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
    _checked[id(template)] = template


def _check_template(template: Mapping[Any, object]) -> None:
    for key, value in template.items():
        expected = _ATTRIBUTE_PY_TYPE.get(int(key))
        if expected is None:
            raise Fail(winerror.NTE_FAIL, f"template: attribute 0x{int(key):X} is not packable")
        if value is pkcs11.DEFAULT:
            continue
        if expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise Fail(
                winerror.NTE_FAIL,
                f"template: {Attribute(int(key)).name} needs {expected.__name__}, "
                f"got {type(value).__name__}",
            )


# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenInfo:
    """What the token says about itself (``C_GetTokenInfo``/``C_GetSlotInfo``)."""

    label: str
    serial: str
    manufacturer: str
    model: str
    flags: int
    slot_id: int
    slot_description: str
    slot_flags: int
    hardware_version: tuple[int, int]
    firmware_version: tuple[int, int]
    library_description: str
    library_manufacturer: str
    library_version: tuple[int, int]
    module_path: str


@dataclass(frozen=True)
class MechanismInfo:
    """``C_GetMechanismInfo``: key sizes (bits or bytes, as the mechanism defines) and flags."""

    mechanism: int
    min_key_size: int
    max_key_size: int
    flags: int


class Module:
    """One loaded PKCS#11 library, initialised once per process."""

    def __init__(self, path: str, env: Mapping[str, str], init_reserved: str | None) -> None:
        self.path = path
        self.env = dict(env)
        self.init_reserved = init_reserved
        self.cryptoki = _Cryptoki(path)
        # Some modules (SoftHSM2) read their configuration from the environment
        # at C_Initialize: set it for that call only.
        saved = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        try:
            self.cryptoki.initialize(init_reserved)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        try:
            self.lib = _Lib(path)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), f"loading {path}") from None
        # A loaded module stays loaded until the process ends: python-pkcs11's
        # deallocator fails on a subclass during interpreter shutdown, and
        # unloading a PKCS#11 module while sessions may still be in use is
        # never safe.  One extra reference makes the object live for good.
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(self.lib))
        self._tokens: dict[tuple[str, str], Token] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<csp11 Module {self.path!r}>"

    def slots(self) -> list[Any]:
        """The slots with a token present."""
        try:
            return list(self.lib.get_slots(token_present=True))
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), "C_GetSlotList") from None

    def find_tokens(self, want: Mapping[str, object]) -> list[Token]:
        """Tokens whose attributes match ``want``.

        Keys: ``label``, ``serial``, ``manufacturer``, ``model`` (as
        :meth:`csp11.token.uri.Pkcs11Uri.token_filter` names them),
        ``slot_id``, ``slot_description``, ``slot_manufacturer``.  Tokens are
        matched by what they report, never by position.
        """
        found: list[Token] = []
        for slot in self.slots():
            tok = _token_info_of(slot)
            if tok is None:
                continue
            serial = tok.serial.decode("ascii", "replace").strip()
            have: dict[str, object] = {
                "label": tok.label,
                "serial": serial,
                "manufacturer": tok.manufacturer_id,
                "model": tok.model,
                "slot_id": slot.slot_id,
                "slot_description": slot.slot_description,
                "slot_manufacturer": slot.manufacturer_id,
            }
            if all(have.get(key) == value for key, value in want.items()):
                found.append(self._token_for(slot, tok, serial))
        return found

    def _token_for(self, slot: Any, tok: Any, serial: str) -> Token:
        # One Token object per physical token per process: login state and
        # the session pool are token-wide.
        key = (serial, tok.label)
        with self._lock:
            existing = self._tokens.get(key)
            if existing is None or existing.slot_id != slot.slot_id:
                existing = Token(self, slot, tok)
                self._tokens[key] = existing
            return existing

    def init_token(self, label: str, so_pin: str, user_pin: str) -> None:
        """Initialise a free slot's token with ``label`` and set its user PIN.

        Used for the embedded default token and for test tokens; PINs go
        straight to the library, never through a command line.
        """
        free = None
        for slot in self.lib.get_slots(token_present=True):
            if not slot.get_token().flags & CKF_TOKEN_INITIALIZED:
                free = slot
                break
        if free is None:
            raise Fail(winerror.NTE_TOKEN_KEYSET_STORAGE_FULL, "no free slot to create a token in")
        ck = self.cryptoki
        padded = label.encode("utf-8")[:32].ljust(32, b" ")
        so = so_pin.encode("utf-8")
        rv = ck.C_InitToken(free.slot_id, so, len(so), padded)
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_InitToken")
        # SoftHSM2 gives an initialised token a new slot id: look it up again.
        slot_id = None
        for slot in self.lib.get_slots(token_present=True):
            tok = slot.get_token()
            if tok.label == label and not tok.flags & CKF_USER_PIN_INITIALIZED:
                slot_id = slot.slot_id
        if slot_id is None:
            raise Fail(winerror.NTE_FAIL, f"token {label!r} vanished after C_InitToken")
        handle = _ulong()
        rv = ck.C_OpenSession(
            slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, None, None, ctypes.byref(handle)
        )
        if rv != CKR_OK:
            raise fail_from_ckr(_ckr_name(rv), "C_OpenSession")
        try:
            rv = ck.login(handle.value, CKU_SO, so_pin)
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), "C_Login(SO)")
            user = user_pin.encode("utf-8")
            rv = ck.C_InitPIN(handle.value, user, len(user))
            if rv != CKR_OK:
                raise fail_from_ckr(_ckr_name(rv), "C_InitPIN")
            ck.C_Logout(handle.value)
        finally:
            ck.C_CloseSession(handle.value)


_legacy_loaded = False


def _load_openssl_legacy() -> None:
    """Load OpenSSL 3's "default" and "legacy" providers into the process's
    default library context (see :attr:`Quirks.openssl_legacy_des`).

    Harmless where OpenSSL is 1.1 (no providers: DES is built in) or absent.
    """
    global _legacy_loaded  # noqa: PLW0603 - once per process, by design
    if _legacy_loaded:
        return
    _legacy_loaded = True
    name = ctypes.util.find_library("crypto")
    if name is None:
        return
    try:
        libcrypto = ctypes.CDLL(name)
    except OSError:
        return
    load = getattr(libcrypto, "OSSL_PROVIDER_load", None)
    if load is None:
        return
    load.restype = ctypes.c_void_p
    load.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
    for provider in (b"default", b"legacy"):
        if not load(None, provider):
            _log.warning("could not load OpenSSL's %s provider: single DES may fail",
                         provider.decode())


def _token_info_of(slot: Any) -> Any | None:
    """``C_GetTokenInfo`` of a slot (``None``: no usable token), retried when transient."""
    for attempt in range(_TOKEN_INFO_TRIES):
        try:
            return slot.get_token()
        except (pkcs11.exceptions.TokenNotPresent, pkcs11.exceptions.TokenNotRecognised):
            return None
        except pkcs11.exceptions.PKCS11Error as exc:
            ckr = ckr_of(exc)
            if ckr not in _TRANSIENT_TOKEN_INFO or attempt == _TOKEN_INFO_TRIES - 1:
                raise fail_from_ckr(ckr, "C_GetTokenInfo") from None
            time.sleep(0.005 * (attempt + 1))
    return None  # pragma: no cover - the loop returns or raises


_modules: dict[str, Module] = {}
_modules_lock = threading.Lock()


def load_module(
    path: str, env: Mapping[str, str] | None = None, init_reserved: str | None = None
) -> Module:
    """The process's :class:`Module` for ``path``, loading it on first use.

    ``env`` is set while the library initialises (SoftHSM2 reads
    ``SOFTHSM2_CONF`` then); ``init_reserved`` is ``C_Initialize``'s
    ``pReserved`` string (NSS softokn's configuration).  A library is
    initialised once per process, so a second caller asking for a different
    configuration gets ``NTE_PROVIDER_DLL_FAIL`` rather than silently the
    wrong one.
    """
    env = dict(env or {})
    real = os.path.realpath(path)
    with _modules_lock:
        module = _modules.get(real)
        if module is not None:
            conflict = init_reserved is not None and init_reserved != module.init_reserved
            if conflict or (env and any(module.env.get(k) != v for k, v in env.items())):
                raise Fail(
                    winerror.NTE_PROVIDER_DLL_FAIL,
                    f"{path} is already loaded in this process with another configuration; "
                    "one process can use only one",
                )
            return module
        if not os.path.exists(real):
            raise Fail(winerror.NTE_PROV_DLL_NOT_FOUND, f"PKCS#11 module not found: {path}")
        try:
            module = Module(real, env, init_reserved)
        except OSError as exc:
            raise Fail(
                winerror.NTE_PROVIDER_DLL_FAIL, f"cannot load PKCS#11 module {path}: {exc}"
            ) from None
        _modules[real] = module
        return module


class Token:
    """One token: its session pool and its (process-wide) login state."""

    def __init__(self, module: Module, slot: Any, tok: Any) -> None:
        self.module = module
        self.slot_id: int = slot.slot_id
        self._slot = slot
        self._tok = tok
        self.label: str = tok.label
        self.serial: str = tok.serial.decode("ascii", "replace").strip()
        self.quirks: Quirks = quirks_for(tok.manufacturer_id, tok.model)
        if self.quirks.openssl_legacy_des:
            _load_openssl_legacy()
        self._idle: list[_Pooled] = []
        # Sessions that carry a multi-part operation (Operation) and never
        # hold objects, so no key's home session is tied up by a hash.
        self._op_idle: list[_Pooled] = []
        self._all: list[_Pooled] = []
        self._pool_lock = threading.Lock()
        self._login_lock = threading.Lock()
        self._logged_in = False
        self._mechanisms: dict[int, MechanismInfo] | None = None
        # Keys whose last CryptoAPI handle was garbage-collected: released at
        # the next token call, never from inside a finalizer (which could run
        # while this thread holds a session lock).
        self._graveyard: collections.deque[Callable[[], None]] = collections.deque()
        # A lock file shared with other processes using the same token store
        # (set for the embedded token, see _store_locked).
        self.store_lock: str | None = None
        self._store_rlock = threading.RLock()
        self._store_depth = 0

    def __repr__(self) -> str:
        return f"<csp11 Token {self.label!r} serial={self.serial!r} slot={self.slot_id}>"

    # ---- facts -----------------------------------------------------------
    def info(self) -> TokenInfo:
        """Fresh token and slot information (flags change: PIN counters, login)."""
        tok = _token_info_of(self._slot)
        if tok is None:
            raise Fail(winerror.SCARD_W_REMOVED_CARD, f"token {self.label!r} is gone")
        lib = self.module.lib
        return TokenInfo(
            label=tok.label,
            serial=self.serial,
            manufacturer=tok.manufacturer_id,
            model=tok.model,
            flags=int(tok.flags),
            slot_id=self.slot_id,
            slot_description=self._slot.slot_description,
            slot_flags=int(self._slot.flags),
            hardware_version=_version(tok.hardware_version),
            firmware_version=_version(tok.firmware_version),
            library_description=lib.library_description,
            library_manufacturer=lib.manufacturer_id,
            library_version=_version(lib.library_version),
            module_path=self.module.path,
        )

    def mechanisms(self) -> dict[int, MechanismInfo]:
        """The token's mechanisms and their ``C_GetMechanismInfo``, read once."""
        if self._mechanisms is None:
            found: dict[int, MechanismInfo] = {}
            try:
                for mech in self._slot.get_mechanisms():
                    info = self._slot.get_mechanism_info(mech)
                    found[int(mech)] = MechanismInfo(
                        int(mech), int(info.min_key_length), int(info.max_key_length),
                        int(info.flags),
                    )
            except pkcs11.exceptions.PKCS11Error as exc:
                raise fail_from_ckr(ckr_of(exc), "C_GetMechanismList") from None
            self._mechanisms = found
        return self._mechanisms

    # ---- sessions --------------------------------------------------------
    def _open(self) -> _Pooled:
        try:
            session = self._tok.open(rw=True)
        except pkcs11.exceptions.TokenWriteProtected:
            session = self._tok.open(rw=False)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise fail_from_ckr(ckr_of(exc), "C_OpenSession") from None
        pooled = _Pooled(session)
        with self._pool_lock:
            self._all.append(pooled)
        return pooled

    def acquire(self) -> _Pooled:
        """A session for one operation, locked for the caller; reused afterwards."""
        with self._pool_lock:
            # A session can be busy while idle in the pool when a key that
            # lives in it is being used through Token.run_on: skip it, and
            # leave it in the pool for later.
            for index in range(len(self._idle) - 1, -1, -1):
                pooled = self._idle[index]
                if pooled.lock.acquire(blocking=False):
                    del self._idle[index]
                    return pooled
        pooled = self._open()
        pooled.lock.acquire()
        return pooled

    def release(self, pooled: _Pooled) -> None:
        """Give a session back to the pool."""
        pooled.lock.release()
        if pooled.alive:
            with self._pool_lock:
                self._idle.append(pooled)

    def operation(self, kind: str, mechanism: Any, key: Any | None = None,
                  param: bytes | None = None) -> Operation:
        """Start a multi-part digest (``kind="digest"``) or MAC (``"sign"``) on a
        session of its own, kept until the operation finishes."""
        with self._pool_lock:
            pooled = self._op_idle.pop() if self._op_idle else None
        if pooled is None:
            pooled = self._open()
        op = Operation(self, pooled, kind)
        try:
            op.start(int(mechanism), None if key is None else key.handle, param)
        except BaseException:
            self.end_operation(pooled)
            raise
        return op

    def discard_operation(self, pooled: _Pooled) -> None:
        """Close an operation's session after a failure (ending whatever it ran)."""
        self._discard(pooled)

    def end_operation(self, pooled: _Pooled) -> None:
        """Give back an operation's session (after the operation ended)."""
        if pooled.alive:
            with self._pool_lock:
                self._op_idle.append(pooled)

    def _discard(self, pooled: _Pooled) -> None:
        pooled.alive = False
        with self._pool_lock:
            if pooled in self._all:
                self._all.remove(pooled)
        # Opened without a PIN, so python-pkcs11's close() does not call
        # C_Logout (which would log out every session of the token).
        with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
            pooled.session.close()

    def session_count(self) -> int:
        """How many sessions csp11 holds open on this token."""
        with self._pool_lock:
            return len(self._all)

    def run(self, doing: str, fn: Callable[[Any], _T], pins: PinSources | None = None) -> _T:
        """Run ``fn(session)`` on a pooled session, translating failures.

        ``doing`` names the PKCS#11 call for messages.  A session the token
        lost is replaced and the call retried once; so is a call that met
        ``CKR_USER_NOT_LOGGED_IN`` when ``pins`` can log in (someone logged
        the token out, or the token wants a login csp11 did not expect).
        """
        return self.run_keep(doing, fn, pins)[1]

    def run_keep(
        self, doing: str, fn: Callable[[Any], _T], pins: PinSources | None = None
    ) -> tuple[_Pooled, _T]:
        """:meth:`run`, also returning the session used.

        Objects made by ``fn`` are bound to that session (python-pkcs11 ties
        an object to the session that found or made it); keys keep it as
        their home session and use it through :meth:`run_on`.
        """
        self._drain_graveyard()
        pooled: _Pooled | None = self.acquire()
        try:
            for attempt in (0, 1):
                assert pooled is not None
                try:
                    return pooled, fn(pooled.session)
                except pkcs11.exceptions.PKCS11Error as exc:
                    ckr = ckr_of(exc)
                    # Logging in again happens holding no session: login takes
                    # the store lock, which container changes take before a
                    # key's session (one lock order everywhere).
                    if attempt == 0 and ckr in _SESSION_LOST:
                        _log.info("token %r lost a session; reopening", self.label)
                        self._discard(pooled)
                        pooled.lock.release()
                        pooled = None  # nothing to give back if reopening fails
                        if self._logged_in:
                            self._logged_in = False
                            if pins is not None:
                                self.login(pins, None)
                        pooled = self._open()
                        pooled.lock.acquire()
                        continue
                    if attempt == 0 and ckr == "CKR_USER_NOT_LOGGED_IN" and pins is not None:
                        self._logged_in = False
                        self.release(pooled)
                        pooled = None
                        self.login(pins, None)
                        pooled = self.acquire()
                        continue
                    raise fail_from_ckr(ckr, doing) from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            if pooled is not None:
                self.release(pooled)

    def _drain_graveyard(self) -> None:
        # Keys whose handles were garbage-collected.  A failure here (e.g. a
        # private session key after someone logged the token out) must not
        # fail the unrelated call that happens to drain: log it and go on.
        while self._graveyard:
            release = self._graveyard.popleft()
            try:
                release()
            except Fail as exc:
                _log.warning("could not release a dropped key or hash: %s", exc.message)

    def run_on(self, pooled: _Pooled, doing: str, fn: Callable[[Any], _T]) -> _T:
        """Run ``fn(session)`` on a given session (the one a key lives in)."""
        with pooled.lock:
            if not pooled.alive:
                raise Fail(winerror.NTE_BAD_KEY, f"{doing}: the key's session was lost")
            try:
                return fn(pooled.session)
            except pkcs11.exceptions.PKCS11Error as exc:
                raise fail_from_ckr(ckr_of(exc), doing) from None

    # ---- login -----------------------------------------------------------
    def is_logged_in(self) -> bool:
        """Whether the token is logged in for this process (asks the token)."""
        pooled = self.acquire()
        try:
            state = self.module.cryptoki.session_state(pooled.session.handle)
        finally:
            self.release(pooled)
        self._logged_in = state in (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS)
        return self._logged_in

    def ensure_login(self, pins: PinSources, container: str | None) -> None:
        """Log in unless csp11 already did; cheap when logged in."""
        if not self._logged_in:
            self.login(pins, container)

    def login(self, pins: PinSources, container: str | None) -> None:
        """Log the token in for this process (``C_Login(CKU_USER)``).

        Fails without trying when the token reports the PIN locked.  A wrong
        PIN gives ``SCARD_W_WRONG_CHV`` with the token's retry state in the
        message.  The PIN is used for this call only and not kept.  The PIN
        is obtained (perhaps from a person) before any lock is taken; the
        store lock is taken before the login lock, the order container
        changes use too.
        """
        if self.is_logged_in():
            return
        info = self.info()
        if info.flags & CKF_USER_PIN_LOCKED:
            raise Fail(
                winerror.SCARD_W_CHV_BLOCKED,
                f"the PIN of token {self.label!r} is locked; no attempt made",
                ckr="CKR_PIN_LOCKED",
            )
        protected = bool(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH)
        request = PinRequest(
            self.label, container, "login", protected_path=protected,
            final_try=bool(info.flags & CKF_USER_PIN_FINAL_TRY),
        )
        pin: str | None
        if protected:
            # A PIN pad: tell the user (through the prompt) to use it.
            pins.prompt(request)
            pin = None
        else:
            pin = pins.get(request)
        try:
            with self.store_locked(), self._login_lock:
                if self.is_logged_in():
                    return  # another thread logged in meanwhile
                pooled = self.acquire()
                try:
                    rv = self.module.cryptoki.login(pooled.session.handle, CKU_USER, pin)
                finally:
                    self.release(pooled)
        finally:
            del pin
        if rv not in (CKR_OK, CKR_USER_ALREADY_LOGGED_IN):
            raise self._login_failure(rv)
        self._logged_in = True
        _log.info("logged in to token %r", self.label)

    @contextlib.contextmanager
    def store_locked(self) -> Iterator[None]:
        """Hold the token's store lock (re-entrant within the process).

        SoftHSM2 rewrites its token file on C_Login; another process that
        initialises the library meanwhile misses the token for its whole life
        (measured: 4 of 25 races of four first uses).  Where csp11 owns the
        store (the embedded token) logins, container changes and first use
        take this lock, across processes (flock on a file in the store).
        """
        with self._store_rlock:
            self._store_depth += 1
            try:
                if self._store_depth == 1 and self.store_lock is not None:
                    with open(self.store_lock, "a+") as handle:
                        fcntl.flock(handle, fcntl.LOCK_EX)
                        yield
                else:
                    yield
            finally:
                self._store_depth -= 1

    def _login_failure(self, rv: int) -> Fail:
        ckr = _ckr_name(rv)
        failure = fail_from_ckr(ckr, f"login to token {self.label!r}")
        if ckr == "CKR_PIN_INCORRECT":
            flags = self.info().flags
            state = (
                "the PIN is now locked" if flags & CKF_USER_PIN_LOCKED
                else "one try left before the PIN locks" if flags & CKF_USER_PIN_FINAL_TRY
                else "the token reports few tries left" if flags & CKF_USER_PIN_COUNT_LOW
                else "the token reports no retry limit reached"
            )
            failure = Fail(
                failure.code, f"wrong PIN for token {self.label!r} ({state})", ckr=ckr
            )
        _log.warning("login to token %r failed: %s", self.label, ckr)
        return failure

    def logout(self) -> None:
        """``C_Logout``: ends the login of every session of this process."""
        with self._login_lock:
            pooled = self.acquire()
            try:
                self.module.cryptoki.C_Logout(pooled.session.handle)
            finally:
                self.release(pooled)
            self._logged_in = False

    # ---- operations --------------------------------------------------------
    def generate_random(self, length: int) -> bytes:
        """``C_GenerateRandom`` of ``length`` bytes."""
        if length == 0:
            return b""
        # python-pkcs11 counts bits (TOKEN-FACTS, pitfall 7).
        data: bytes = self.run("C_GenerateRandom", lambda s: s.generate_random(length * 8))
        return data

    def seed_random(self, seed: bytes) -> None:
        """``C_SeedRandom``; tokens without it (most HSMs) say so and it is skipped."""
        try:
            self.run("C_SeedRandom", lambda s: s.seed_random(seed))
        except Fail as exc:
            if exc.ckr not in ("CKR_RANDOM_SEED_NOT_SUPPORTED", "CKR_FUNCTION_NOT_SUPPORTED"):
                raise


    # ---- keys ------------------------------------------------------------------
    def generate_key(
        self,
        key_type: Any,
        key_bits: int,
        *,
        mechanism: Any,
        template: Mapping[Any, object],
        pins: PinSources | None,
    ) -> TokenKey:
        """``C_GenerateKey`` with ``template`` as given (checked first).

        ``key_bits`` becomes ``CKA_VALUE_LEN`` unless the template says
        otherwise (``DEFAULT`` removes it, as DES key generation needs).
        """
        check_template(template)
        pooled, obj = self.run_keep(
            "C_GenerateKey",
            lambda s: s.generate_key(
                key_type, key_bits, mechanism=mechanism, template=template,
                capabilities=_NO_CAPABILITIES,
            ),
            pins,
        )
        return TokenKey(self, pooled, obj, None, token_object=bool(template.get(Attribute.TOKEN)))

    def generate_key_pair(
        self,
        key_type: Any,
        key_bits: int,
        *,
        mechanism: Any,
        public: Mapping[Any, object],
        private: Mapping[Any, object],
        pins: PinSources | None,
    ) -> TokenKey:
        """``C_GenerateKeyPair``; domain parameters (DSA, DH) go in ``public``."""
        check_template(public)
        check_template(private)
        if key_type in (KeyType.DSA, KeyType.DH):
            names = (Attribute.PRIME, Attribute.SUBPRIME, Attribute.BASE)
            domain = {k: v for k, v in public.items() if k in names}
            rest = {k: v for k, v in public.items() if k not in names}

            def make(s: Any) -> Any:
                params = s.create_domain_parameters(key_type, domain, local=True)
                return params.generate_keypair(
                    mechanism=mechanism, capabilities=_NO_CAPABILITIES,
                    public_template=rest, private_template=private,
                )
        else:
            def make(s: Any) -> Any:
                return s.generate_keypair(
                    key_type, key_bits, mechanism=mechanism, capabilities=_NO_CAPABILITIES,
                    public_template=public, private_template=private,
                )
        pooled, (pub, priv) = self.run_keep("C_GenerateKeyPair", make, pins)
        return TokenKey(
            self, pooled, priv, pub, token_object=bool(private.get(Attribute.TOKEN))
        )

    def generate_domain_parameters(self, key_type: Any, bits: int) -> dict[int, bytes]:
        """``C_GenerateKey(CKM_DSA/DH_PKCS_PARAMETER_GEN)``: the prime, subprime, base."""
        def make(s: Any) -> dict[int, bytes]:
            params = s.generate_domain_parameters(
                key_type, bits, template={Attribute.PRIVATE: False}
            )
            try:
                wanted = [Attribute.PRIME, Attribute.BASE]
                if key_type == KeyType.DSA:
                    wanted.append(Attribute.SUBPRIME)
                return {int(k): bytes(v) for k, v in params.get_attributes(wanted).items()}
            finally:
                params.destroy()

        found: dict[int, bytes] = self.run(f"C_GenerateKey({bits}-bit parameters)", make)
        return found


    def find(
        self, templates: Sequence[Mapping[Any, object]], pins: PinSources | None
    ) -> tuple[_Pooled, list[list[Any]]]:
        """``C_FindObjects`` for each template, in one session (returned with them).

        The objects are bound to that session, which becomes their home
        (see :class:`TokenKey`).
        """
        for template in templates:
            check_template(template)

        def search(s: Any) -> list[list[Any]]:
            return [list(s.get_objects(template)) for template in templates]

        return self.run_keep("C_FindObjects", search, pins)

    def create_object(self, template: Mapping[Any, object], pins: PinSources | None) -> None:
        """``C_CreateObject`` of a token object (found again by :meth:`find`)."""
        check_template(template)
        self.run("C_CreateObject", lambda s: s.create_object(template), pins)

    def destroy_objects(self, pooled: _Pooled, objects: list[Any]) -> None:
        """``C_DestroyObject`` of objects found by :meth:`find` in ``pooled``.

        An object that is already gone (another thread or process destroyed
        it since it was found) is not an error.
        """
        def destroy(session: Any) -> None:
            for obj in objects:
                with contextlib.suppress(pkcs11.exceptions.ObjectHandleInvalid,
                                         pkcs11.exceptions.KeyHandleInvalid):
                    obj.destroy()

        self.run_on(pooled, "C_DestroyObject", destroy)

    def digest(self, data: bytes, mechanism: Any) -> bytes:
        """``C_DigestInit`` + ``C_Digest`` of ``data`` in one call."""
        value: bytes = self.run("C_Digest", lambda s: s.digest(data, mechanism=mechanism))
        return value

    def create_key(
        self,
        template: Mapping[Any, object],
        public: Mapping[Any, object] | None = None,
        pins: PinSources | None = None,
    ) -> TokenKey:
        """``C_CreateObject`` of a key from its components (an import).

        ``template`` describes a secret key, a private key or (with ``public``
        absent) a lone public key; ``public`` adds the public half of a pair.
        Both are made in one session; when the second fails the first is
        destroyed again, so a failed import leaves nothing on the token.
        """
        check_template(template)
        if public is not None:
            check_template(public)

        def make(s: Any) -> tuple[Any, Any | None]:
            first = s.create_object(template)
            if public is None:
                return first, None
            try:
                return first, s.create_object(public)
            except BaseException:
                first.destroy()
                raise

        pooled, (obj, pub) = self.run_keep("C_CreateObject", make, pins)
        stored = bool(template.get(Attribute.TOKEN))
        if template.get(Attribute.CLASS) == ObjectClass.PUBLIC_KEY:
            return TokenKey(self, pooled, None, obj, token_object=stored)
        return TokenKey(self, pooled, obj, pub, token_object=stored)

    def bury(self, key: TokenKey) -> None:
        """Release ``key`` at the next token call (for finalizers)."""
        self._graveyard.append(key.release)

    def later(self, release: Callable[[], None]) -> None:
        """Run ``release`` at the next token call.  For finalizers, which may run
        at any allocation, even while this thread holds a lock of the token:
        they must only queue (``deque.append`` takes no lock)."""
        self._graveyard.append(release)


class TokenKey:
    """A key's objects on the token: a secret key, or a private and public key.

    The objects live in their home session (session objects vanish when it
    closes), and every use goes through that session's lock.  Several
    CryptoAPI handles may share one ``TokenKey`` (``CryptDuplicateKey``);
    the objects are destroyed when the last handle lets go, and only if they
    are session objects.
    """

    __slots__ = (
        "_lock", "_protected", "_refs", "certificate", "home", "obj", "public", "stored_as",
        "token", "token_object",
    )

    def __init__(
        self, token: Token, home: _Pooled, obj: Any | None, public: Any | None, *,
        token_object: bool,
    ) -> None:
        self.token = token
        self.home = home
        self.obj = obj          # secret key, or private key of a pair; None: a lone public key
        self.public = public    # public key of a pair, else None
        self.token_object = token_object  # persistent (container) objects are never destroyed
        self.certificate: Any | None = None  # KP_CERTIFICATE's object, beside a key pair
        # (CKA_LABEL, CKA_ID) of a container's stored pair, for its certificate.
        self.stored_as: tuple[str, bytes] | None = None
        self._refs = 1
        self._lock = threading.Lock()
        self._protected: bool | None = None  # CKA_ALWAYS_AUTHENTICATE, read once

    def __repr__(self) -> str:
        main: Any = self.obj if self.obj is not None else self.public
        return f"<csp11 TokenKey handle={main.handle} token={self.token.label!r}>"

    def share(self) -> TokenKey:
        """One more CryptoAPI handle uses these objects (``ERROR_INVALID_HANDLE``
        once the last one let go: they may be gone already)."""
        with self._lock:
            if self._refs <= 0:
                raise Fail(winerror.ERROR_INVALID_HANDLE, "the key has been destroyed")
            self._refs += 1
        return self

    def release(self) -> None:
        """A handle lets go; the last one destroys session objects."""
        with self._lock:
            self._refs -= 1
            last = self._refs == 0
        if not last or self.token_object:
            return
        objects = [o for o in (self.obj, self.public, self.certificate) if o is not None]

        def destroy(session: Any) -> None:
            failed: pkcs11.exceptions.PKCS11Error | None = None
            for obj in objects:  # each one, even when another fails
                try:
                    obj.destroy()
                except pkcs11.exceptions.PKCS11Error as exc:
                    failed = failed or exc
            if failed is not None:
                raise failed

        if self.home.alive:
            self.token.run_on(self.home, "C_DestroyObject", destroy)

    def attribute(self, attr: Any, obj: Any | None = None) -> Any:
        """``C_GetAttributeValue`` of one attribute (of the secret/private key by default)."""
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public
        return self.token.run_on(self.home, "C_GetAttributeValue", lambda s: target[attr])

    def attributes(self, attrs: list[Any], obj: Any | None = None) -> dict[Any, Any]:
        """``C_GetAttributeValue`` of several attributes in one call."""
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public
        found: dict[Any, Any] = self.token.run_on(
            self.home, "C_GetAttributeValue", lambda s: target.get_attributes(attrs)
        )
        return found

    def copy(self, obj: Any, template: Mapping[Any, object]) -> Any:
        """``C_CopyObject`` of one of this key's objects, changed by ``template``."""
        check_template(template)
        return self.token.run_on(self.home, "C_CopyObject", lambda s: obj.copy(template))

    def create_beside(self, template: Mapping[Any, object]) -> Any:
        """``C_CreateObject`` in this key's session (e.g. its certificate)."""
        check_template(template)
        return self.token.run_on(
            self.home, "C_CreateObject", lambda s: s.create_object(template)
        )

    def destroy_object(self, obj: Any) -> None:
        """``C_DestroyObject`` of an object made with :meth:`create_beside`."""
        self.token.run_on(self.home, "C_DestroyObject", lambda s: obj.destroy())

    @property
    def protected(self) -> bool:
        """Whether the private key wants its PIN at every use (CKA_ALWAYS_AUTHENTICATE)."""
        if self._protected is None:
            found = False
            if self.obj is not None and self.public is not None:
                try:
                    found = bool(self.attribute(Attribute.ALWAYS_AUTHENTICATE))
                except Fail as exc:
                    # Only a token without the attribute means "not protected";
                    # any other failure is raised (fail closed) and not cached.
                    if exc.ckr != "CKR_ATTRIBUTE_TYPE_INVALID":
                        raise
            self._protected = found
        return self._protected

    def key_use_pin(self, pins: PinSources, container: str | None) -> str | None:
        """The per-use PIN of a user-protected private key (``None`` for other keys).

        Asked for every operation (SPEC §2): the prompt's reason is
        ``"key-use"``.  The token checks it in the operation's context login.
        """
        if not self.protected:
            return None
        pin = pins.for_key_use(PinRequest(self.token.label, container, "key-use"))
        try:
            pin.encode("utf-8")
            valid = True
        except UnicodeEncodeError:
            valid = False  # raised below, outside the handler: the exception holds the PIN
        if not valid:
            raise Fail(winerror.SCARD_W_WRONG_CHV, "the key-use PIN is not valid text (UTF-8)")
        return pin

    def authorize_use(self, pins: PinSources, container: str | None) -> None:
        """Check the key-use PIN of a user-protected key before an operation the
        token does not guard itself.

        SoftHSM2 lets ``C_UnwrapKey`` through with an always-authenticate key
        (TOKEN-FACTS), so csp11 makes the token verify the PIN the way it does
        for signatures: ``C_SignInit``, ``C_Login(CKU_CONTEXT_SPECIFIC)``,
        ``C_Sign`` of a dummy digest.  A wrong PIN fails here, before the key
        is used.
        """
        pin = self.key_use_pin(pins, container)
        if pin is None:
            return
        kind = self.attribute(Attribute.KEY_TYPE)
        if kind not in (KeyType.RSA, KeyType.DSA):
            # No operation of such a key (DH) takes a context login: the PIN
            # cannot be checked by the token, so the use is refused.
            raise Fail(
                winerror.NTE_BAD_KEY,
                "the token cannot check this user-protected key's PIN per use",
            )
        self.sign(bytes(20), Mechanism.DSA if kind == KeyType.DSA else Mechanism.RSA_PKCS, pin)

    def encrypt(self, data: bytes, mechanism: Any, param: Any = None) -> bytes:
        """``C_EncryptInit`` + ``C_Encrypt`` with this secret key (or the public key
        of a pair), in one call."""
        target: Any = self.obj if self.public is None else self.public
        out: bytes = self.token.run_on(
            self.home, "C_Encrypt",
            lambda s: target.encrypt(data, mechanism=mechanism, mechanism_param=param),
        )
        return out

    def decrypt(self, data: bytes, mechanism: Any, param: Any = None,
                pin: str | None = None) -> bytes:
        """``C_DecryptInit`` + ``C_Decrypt`` with the secret or private key; ``pin``
        is the key-use PIN of a user-protected key (context-specific login)."""
        target: Any = self.obj
        return self._private_operation(
            "decrypt",
            lambda: target.decrypt(data, mechanism=mechanism, mechanism_param=param, pin=pin),
        )

    def crypt_once(self, kind: str, mechanism: Any, param: bytes | None, data: bytes) -> bytes:
        """``C_EncryptInit``/``C_DecryptInit`` with a packed mechanism parameter, the
        update and the final, on an operation session (for what python-pkcs11
        cannot express, e.g. ``CK_RC2_CBC_PARAMS``)."""
        op = self.token.operation(kind, mechanism, self.obj, param)
        try:
            return op.crypt(data) + op.finish()
        except BaseException:
            op.abort()
            raise

    def sign(self, data: bytes, mechanism: Any, pin: str | None = None) -> bytes:
        """``C_Sign`` with the private key; ``pin`` as for :meth:`decrypt`."""
        target: Any = self.obj
        return self._private_operation(
            "sign", lambda: target.sign(data, mechanism=mechanism, pin=pin)
        )

    def _private_operation(self, kind: str, call: Callable[[], bytes]) -> bytes:
        """Run a one-shot sign or decrypt in the key's session; on any failure
        end what the token may have left active (SoftHSM2 keeps the operation
        after a wrong context-specific PIN), so the session stays usable."""
        def run(s: Any) -> bytes:
            try:
                return call()
            except BaseException:
                self.token.module.cryptoki.end_operation(s.handle, kind)
                raise

        return self.token.run_on(self.home, f"C_{kind.title()}", run)

    def verify(self, data: bytes, signature: bytes, mechanism: Any) -> bool:
        """``C_Verify`` with the public key: whether ``signature`` is right.

        ``CKR_SIGNATURE_INVALID`` and ``CKR_SIGNATURE_LEN_RANGE`` answer False;
        other failures raise.
        """
        target: Any = self.public

        def check(s: Any) -> bool:
            try:
                return bool(target.verify(data, signature, mechanism=mechanism))
            except (pkcs11.exceptions.SignatureInvalid, pkcs11.exceptions.SignatureLenRange):
                return False

        return bool(self.token.run_on(self.home, "C_Verify", check))

    def wrap(self, target: TokenKey, mechanism: Any, param: Any = None, obj: Any = None) -> bytes:
        """``C_WrapKey`` of ``target``'s secret/private key (or ``obj``) with this key.

        This key is the wrapping key: a public key of a pair (RSA) or a secret
        key (AES key wrap).  The token decides whether the target may leave:
        a key that is not ``CKA_EXTRACTABLE`` gives ``NTE_BAD_KEY_STATE``.
        """
        wrapper = self.public if mechanism in _PUBLIC_WRAPS else self.obj
        if wrapper is None:
            raise Fail(winerror.NTE_BAD_KEY, "this key cannot wrap with that mechanism")
        victim = target.obj if obj is None else obj
        wrapped: bytes = self.token.run_on(
            self.home, "C_WrapKey",
            lambda s: wrapper.wrap_key(victim, mechanism=mechanism, mechanism_param=param),
        )
        return wrapped

    def unwrap(
        self, data: bytes, mechanism: Any, param: Any, template: Mapping[Any, object]
    ) -> TokenKey:
        """``C_UnwrapKey`` of ``data`` with this key (the private key of a pair, or a
        secret key) into a new secret key described by ``template``."""
        check_template(template)
        unwrapper = self.obj
        if unwrapper is None:
            raise Fail(winerror.NTE_BAD_KEY, "a public key cannot unwrap")
        try:
            made = self.token.run_on(
                self.home, "C_UnwrapKey",
                lambda s: unwrapper.unwrap_key(
                    ObjectClass.SECRET_KEY, template[Attribute.KEY_TYPE], data,
                    mechanism=mechanism, mechanism_param=param, capabilities=_NO_CAPABILITIES,
                    template=template,
                ),
            )
        except Fail as exc:
            # SoftHSM2 reports a ciphertext whose padding is wrong (a tampered
            # or foreign BLOB) as CKR_GENERAL_ERROR.
            if exc.ckr in _UNWRAP_BAD_INPUT:
                raise Fail(
                    winerror.NTE_BAD_DATA,
                    f"the wrapped key does not decrypt with this key ({exc.ckr})", ckr=exc.ckr,
                ) from None
            raise
        return TokenKey(
            self.token, self.home, made, None, token_object=bool(template.get(Attribute.TOKEN))
        )

    def agree(self, peer_public: bytes, size: int) -> bytes:
        """The Diffie-Hellman shared secret Z (big-endian, ``size`` bytes) of this
        private key and a peer's public value: ``C_DeriveKey(CKM_DH_PKCS_DERIVE)``
        into a short-lived readable generic secret, read and destroyed at once."""
        base: Any = self.obj
        template = {**_AGREED_TEMPLATE, Attribute.VALUE_LEN: size}

        def derive(s: Any) -> bytes:
            secret = base.derive_key(
                KeyType.GENERIC_SECRET, size * 8, mechanism=Mechanism.DH_PKCS_DERIVE,
                mechanism_param=peer_public, capabilities=_NO_CAPABILITIES, template=template,
            )
            try:
                return bytes(secret[Attribute.VALUE])
            finally:
                secret.destroy()

        value: bytes = self.token.run_on(self.home, "C_DeriveKey", derive)
        return value.rjust(size, b"\0")

    def extract(self, obj: Any | None = None) -> bytes:
        """The material of this extractable secret key (or private key ``obj``).

        Key material leaves a token only by ``C_WrapKey``, so the token's
        ``CKA_EXTRACTABLE`` decides: a non-extractable key gives
        ``NTE_BAD_KEY_STATE`` whatever csp11's own bookkeeping says.  The
        wrapping key is an ephemeral AES-256 session key made for this call
        and destroyed at once; the AES key wrap (RFC 5649) is then undone in
        software.  A private key comes out as PKCS #8 DER.

        SoftHSM2 zero-pads the material to a multiple of 8 bytes *before*
        wrapping (TOKEN-FACTS), so the result may carry trailing zero bytes;
        callers cut it to the length they know (key size, DER length).
        """
        victim = self.obj if obj is None else obj
        if _KEK_MECHANISM not in self.token.mechanisms():
            raise Fail(
                winerror.NTE_NOT_SUPPORTED,
                "the token has no CKM_AES_KEY_WRAP_PAD to export key material with",
            )

        def wrap(s: Any) -> tuple[bytes, bytes]:
            kek = s.generate_key(
                KeyType.AES, 256, template=_KEK_TEMPLATE, capabilities=_NO_CAPABILITIES
            )
            try:
                wrapped = kek.wrap_key(victim, mechanism=_KEK_MECHANISM)
                return bytes(kek[Attribute.VALUE]), wrapped
            finally:
                kek.destroy()

        kek_value, wrapped = self.token.run_on(self.home, "C_WrapKey", wrap)
        try:
            return keywrap.aes_key_unwrap_with_padding(kek_value, wrapped)
        except keywrap.InvalidUnwrap:
            raise Fail(winerror.NTE_FAIL, "the token's AES key wrap did not unwrap") from None

    def set_attribute(self, attr: Any, value: object, obj: Any | None = None) -> None:
        """``C_SetAttributeValue`` of one attribute (checked like a template)."""
        check_template({attr: value})
        target: Any = obj if obj is not None else self.obj if self.obj is not None else self.public

        def assign(s: Any) -> None:
            target[attr] = value

        self.token.run_on(self.home, "C_SetAttributeValue", assign)


class Operation:
    """A multi-part ``C_Digest*``, ``C_Sign*`` (MAC), ``C_Encrypt*`` or
    ``C_Decrypt*`` operation on a session of its own.

    CryptoAPI hashes (and RC4 streams) live across many calls; PKCS#11 keeps
    such an operation's state inside a session.  The session belongs to the
    operation until :meth:`finish` or :meth:`abort`.  Not thread-safe by
    itself: the hash or key that owns it serialises its use.
    """

    __slots__ = ("_kind", "_pooled", "_token", "done")

    def __init__(self, token: Token, pooled: _Pooled, kind: str) -> None:
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
            raise fail_from_ckr(_ckr_name(rv), doing)

    def start(self, mechanism: int, key: int | None, param: bytes | None) -> None:
        """``C_DigestInit`` / ``C_SignInit``."""
        ck = self._token.module.cryptoki
        buf = ctypes.create_string_buffer(param, len(param)) if param else None
        mech = _CK_MECHANISM(mechanism, ctypes.cast(buf, ctypes.c_void_p) if buf else None,
                             len(param) if param else 0)
        handle = self._pooled.session.handle
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
        self._check(call(self._pooled.session.handle, data, len(data), out, ctypes.byref(size)),
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
        self._check(call(self._pooled.session.handle, data, len(data)),
                    f"C_{self._kind.title()}Update")

    def digest_key(self, key: TokenKey) -> None:
        """``C_DigestKey``: the key's value goes into the digest, on the token."""
        assert self._kind == "digest"
        assert key.obj is not None
        self._live()
        ck = self._token.module.cryptoki
        self._check(ck.C_DigestKey(self._pooled.session.handle, key.obj.handle), "C_DigestKey")

    def finish(self) -> bytes:
        """``C_DigestFinal`` / ``C_SignFinal``: the value; the session goes back."""
        self._live()
        ck = self._token.module.cryptoki
        call = {"digest": ck.C_DigestFinal, "sign": ck.C_SignFinal,
                "encrypt": ck.C_EncryptFinal, "decrypt": ck.C_DecryptFinal}[self._kind]
        out = ctypes.create_string_buffer(_MAX_DIGEST)
        size = _ulong(_MAX_DIGEST)
        self._check(call(self._pooled.session.handle, out, ctypes.byref(size)),
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
        rv = call(self._pooled.session.handle, out, ctypes.byref(_ulong(_MAX_DIGEST)))
        if rv == CKR_OK:
            self._token.end_operation(self._pooled)
        else:
            self._token.discard_operation(self._pooled)


_MAX_DIGEST = 128  # bytes: above every digest and MAC size

# Mechanisms with which the public key of a pair wraps (the rest use the
# secret key).
_PUBLIC_WRAPS = frozenset({Mechanism.RSA_PKCS, Mechanism.RSA_PKCS_OAEP})
_KEK_MECHANISM = Mechanism.AES_KEY_WRAP_PAD
_UNWRAP_BAD_INPUT = frozenset({
    "CKR_GENERAL_ERROR", "CKR_ENCRYPTED_DATA_INVALID", "CKR_ENCRYPTED_DATA_LEN_RANGE",
    "CKR_WRAPPED_KEY_INVALID", "CKR_WRAPPED_KEY_LEN_RANGE", "CKR_DATA_INVALID",
    "CKR_DATA_LEN_RANGE",
})
# The ephemeral key-encryption key of TokenKey.extract: a session object that
# only wraps, readable (it protects nothing once the call returns).
_KEK_TEMPLATE: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.AES,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: False,
    Attribute.EXTRACTABLE: True,
    Attribute.WRAP: True,
    Attribute.UNWRAP: False,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
    Attribute.VALUE_LEN: 32,
}
# TokenKey.agree's shared secret: read once, then destroyed.
_AGREED_TEMPLATE: dict[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY,
    Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
    Attribute.TOKEN: False,
    Attribute.PRIVATE: False,
    Attribute.SENSITIVE: False,
    Attribute.EXTRACTABLE: True,
}


class _Pooled:
    """A pooled python-pkcs11 session with the lock that serialises its use."""

    __slots__ = ("alive", "lock", "session")

    def __init__(self, session: Any) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.alive = True
