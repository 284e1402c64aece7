"""How failures become Windows error codes.

Two tables decide every error csp11 reports:

* :data:`CKR_VALUES` — the PKCS#11 return codes by name (PKCS#11 v2.40/3.0
  ``pkcs11t.h``), so a code can be named in ``strerror``;
* :data:`CKR_TO_WINERROR` — which Windows code a provider would set for a
  PKCS#11 failure.  A return code missing from it becomes ``NTE_FAIL`` with the
  return code's name in ``strerror``.

Inside csp11 a failure travels as :class:`Fail` (code and message, no function
name); the public entry points are wrapped with :func:`api`, which turns it
into :class:`csp11.pywintypes.error` carrying the CryptoAPI function's name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from csp11 import winerror
from csp11.logs import log as _log
from csp11.pywintypes import error

__all__ = ["CKR_MEANINGS", "CKR_TO_WINERROR", "CKR_VALUES", "Fail", "api", "fail_from_ckr"]


# PKCS#11 return codes (pkcs11t.h, v2.40 and v3.0).  Names only matter for
# messages; the table is complete so that any code a token returns is named.
CKR_VALUES: dict[str, int] = {
    "CKR_OK": 0x000,
    "CKR_CANCEL": 0x001,
    "CKR_HOST_MEMORY": 0x002,
    "CKR_SLOT_ID_INVALID": 0x003,
    "CKR_GENERAL_ERROR": 0x005,
    "CKR_FUNCTION_FAILED": 0x006,
    "CKR_ARGUMENTS_BAD": 0x007,
    "CKR_NO_EVENT": 0x008,
    "CKR_NEED_TO_CREATE_THREADS": 0x009,
    "CKR_CANT_LOCK": 0x00A,
    "CKR_ATTRIBUTE_READ_ONLY": 0x010,
    "CKR_ATTRIBUTE_SENSITIVE": 0x011,
    "CKR_ATTRIBUTE_TYPE_INVALID": 0x012,
    "CKR_ATTRIBUTE_VALUE_INVALID": 0x013,
    "CKR_ACTION_PROHIBITED": 0x01B,
    "CKR_DATA_INVALID": 0x020,
    "CKR_DATA_LEN_RANGE": 0x021,
    "CKR_DEVICE_ERROR": 0x030,
    "CKR_DEVICE_MEMORY": 0x031,
    "CKR_DEVICE_REMOVED": 0x032,
    "CKR_ENCRYPTED_DATA_INVALID": 0x040,
    "CKR_ENCRYPTED_DATA_LEN_RANGE": 0x041,
    "CKR_AEAD_DECRYPT_FAILED": 0x042,
    "CKR_FUNCTION_CANCELED": 0x050,
    "CKR_FUNCTION_NOT_PARALLEL": 0x051,
    "CKR_FUNCTION_NOT_SUPPORTED": 0x054,
    "CKR_KEY_HANDLE_INVALID": 0x060,
    "CKR_KEY_SIZE_RANGE": 0x062,
    "CKR_KEY_TYPE_INCONSISTENT": 0x063,
    "CKR_KEY_NOT_NEEDED": 0x064,
    "CKR_KEY_CHANGED": 0x065,
    "CKR_KEY_NEEDED": 0x066,
    "CKR_KEY_INDIGESTIBLE": 0x067,
    "CKR_KEY_FUNCTION_NOT_PERMITTED": 0x068,
    "CKR_KEY_NOT_WRAPPABLE": 0x069,
    "CKR_KEY_UNEXTRACTABLE": 0x06A,
    "CKR_MECHANISM_INVALID": 0x070,
    "CKR_MECHANISM_PARAM_INVALID": 0x071,
    "CKR_OBJECT_HANDLE_INVALID": 0x082,
    "CKR_OPERATION_ACTIVE": 0x090,
    "CKR_OPERATION_NOT_INITIALIZED": 0x091,
    "CKR_PIN_INCORRECT": 0x0A0,
    "CKR_PIN_INVALID": 0x0A1,
    "CKR_PIN_LEN_RANGE": 0x0A2,
    "CKR_PIN_EXPIRED": 0x0A3,
    "CKR_PIN_LOCKED": 0x0A4,
    "CKR_SESSION_CLOSED": 0x0B0,
    "CKR_SESSION_COUNT": 0x0B1,
    "CKR_SESSION_HANDLE_INVALID": 0x0B3,
    "CKR_SESSION_PARALLEL_NOT_SUPPORTED": 0x0B4,
    "CKR_SESSION_READ_ONLY": 0x0B5,
    "CKR_SESSION_EXISTS": 0x0B6,
    "CKR_SESSION_READ_ONLY_EXISTS": 0x0B7,
    "CKR_SESSION_READ_WRITE_SO_EXISTS": 0x0B8,
    "CKR_SIGNATURE_INVALID": 0x0C0,
    "CKR_SIGNATURE_LEN_RANGE": 0x0C1,
    "CKR_TEMPLATE_INCOMPLETE": 0x0D0,
    "CKR_TEMPLATE_INCONSISTENT": 0x0D1,
    "CKR_TOKEN_NOT_PRESENT": 0x0E0,
    "CKR_TOKEN_NOT_RECOGNIZED": 0x0E1,
    "CKR_TOKEN_WRITE_PROTECTED": 0x0E2,
    "CKR_UNWRAPPING_KEY_HANDLE_INVALID": 0x0F0,
    "CKR_UNWRAPPING_KEY_SIZE_RANGE": 0x0F1,
    "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT": 0x0F2,
    "CKR_USER_ALREADY_LOGGED_IN": 0x100,
    "CKR_USER_NOT_LOGGED_IN": 0x101,
    "CKR_USER_PIN_NOT_INITIALIZED": 0x102,
    "CKR_USER_TYPE_INVALID": 0x103,
    "CKR_USER_ANOTHER_ALREADY_LOGGED_IN": 0x104,
    "CKR_USER_TOO_MANY_TYPES": 0x105,
    "CKR_WRAPPED_KEY_INVALID": 0x110,
    "CKR_WRAPPED_KEY_LEN_RANGE": 0x112,
    "CKR_WRAPPING_KEY_HANDLE_INVALID": 0x113,
    "CKR_WRAPPING_KEY_SIZE_RANGE": 0x114,
    "CKR_WRAPPING_KEY_TYPE_INCONSISTENT": 0x115,
    "CKR_RANDOM_SEED_NOT_SUPPORTED": 0x120,
    "CKR_RANDOM_NO_RNG": 0x121,
    "CKR_DOMAIN_PARAMS_INVALID": 0x130,
    "CKR_CURVE_NOT_SUPPORTED": 0x140,
    "CKR_BUFFER_TOO_SMALL": 0x150,
    "CKR_SAVED_STATE_INVALID": 0x160,
    "CKR_INFORMATION_SENSITIVE": 0x170,
    "CKR_STATE_UNSAVEABLE": 0x180,
    "CKR_CRYPTOKI_NOT_INITIALIZED": 0x190,
    "CKR_CRYPTOKI_ALREADY_INITIALIZED": 0x191,
    "CKR_MUTEX_BAD": 0x1A0,
    "CKR_MUTEX_NOT_LOCKED": 0x1A1,
    "CKR_NEW_PIN_MODE": 0x1B0,
    "CKR_NEXT_OTP": 0x1B1,
    "CKR_EXCEEDED_MAX_ITERATIONS": 0x1B5,
    "CKR_FIPS_SELF_TEST_FAILED": 0x1B6,
    "CKR_LIBRARY_LOAD_FAILED": 0x1B7,
    "CKR_PIN_TOO_WEAK": 0x1B8,
    "CKR_PUBLIC_KEY_INVALID": 0x1B9,
    "CKR_FUNCTION_REJECTED": 0x200,
    "CKR_TOKEN_RESOURCE_EXCEEDED": 0x201,
    "CKR_OPERATION_CANCEL_FAILED": 0x202,
}

CKR_NAMES: dict[int, str] = {value: name for name, value in CKR_VALUES.items()}

# The Windows code a CSP would report for each PKCS#11 failure.  Chosen by
# meaning: what went wrong, as a CryptoAPI caller would need to hear it.
# Anything absent here is NTE_FAIL, with the CKR named in strerror.
CKR_TO_WINERROR: dict[str, int] = {
    # algorithms and parameters
    "CKR_MECHANISM_INVALID": winerror.NTE_BAD_ALGID,
    "CKR_MECHANISM_PARAM_INVALID": winerror.NTE_BAD_DATA,
    "CKR_CURVE_NOT_SUPPORTED": winerror.NTE_BAD_ALGID,
    "CKR_ARGUMENTS_BAD": winerror.ERROR_INVALID_PARAMETER,
    "CKR_ATTRIBUTE_VALUE_INVALID": winerror.ERROR_INVALID_PARAMETER,
    "CKR_DOMAIN_PARAMS_INVALID": winerror.NTE_BAD_DATA,
    # keys and their protection
    "CKR_KEY_UNEXTRACTABLE": winerror.NTE_BAD_KEY_STATE,
    "CKR_KEY_NOT_WRAPPABLE": winerror.NTE_BAD_KEY_STATE,
    "CKR_ATTRIBUTE_SENSITIVE": winerror.NTE_BAD_KEY_STATE,
    "CKR_KEY_FUNCTION_NOT_PERMITTED": winerror.NTE_PERM,
    "CKR_ACTION_PROHIBITED": winerror.NTE_PERM,
    "CKR_ATTRIBUTE_READ_ONLY": winerror.NTE_PERM,
    "CKR_KEY_HANDLE_INVALID": winerror.NTE_BAD_KEY,
    "CKR_OBJECT_HANDLE_INVALID": winerror.NTE_BAD_KEY,
    "CKR_KEY_TYPE_INCONSISTENT": winerror.NTE_BAD_KEY,
    "CKR_KEY_SIZE_RANGE": winerror.NTE_BAD_LEN,
    "CKR_KEY_INDIGESTIBLE": winerror.NTE_BAD_KEY,
    "CKR_KEY_NEEDED": winerror.NTE_BAD_KEY,
    "CKR_KEY_NOT_NEEDED": winerror.NTE_BAD_KEY,
    "CKR_KEY_CHANGED": winerror.NTE_BAD_KEY,
    "CKR_PUBLIC_KEY_INVALID": winerror.NTE_BAD_PUBLIC_KEY,
    "CKR_WRAPPING_KEY_HANDLE_INVALID": winerror.NTE_BAD_KEY,
    "CKR_WRAPPING_KEY_SIZE_RANGE": winerror.NTE_BAD_KEY,
    "CKR_WRAPPING_KEY_TYPE_INCONSISTENT": winerror.NTE_BAD_KEY,
    "CKR_UNWRAPPING_KEY_HANDLE_INVALID": winerror.NTE_BAD_KEY,
    "CKR_UNWRAPPING_KEY_SIZE_RANGE": winerror.NTE_BAD_KEY,
    "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT": winerror.NTE_BAD_KEY,
    "CKR_WRAPPED_KEY_INVALID": winerror.NTE_BAD_DATA,
    "CKR_WRAPPED_KEY_LEN_RANGE": winerror.NTE_BAD_DATA,
    # data
    "CKR_DATA_INVALID": winerror.NTE_BAD_DATA,
    "CKR_DATA_LEN_RANGE": winerror.NTE_BAD_LEN,
    "CKR_ENCRYPTED_DATA_INVALID": winerror.NTE_BAD_DATA,
    "CKR_ENCRYPTED_DATA_LEN_RANGE": winerror.NTE_BAD_DATA,
    "CKR_AEAD_DECRYPT_FAILED": winerror.NTE_BAD_DATA,
    "CKR_SIGNATURE_INVALID": winerror.NTE_BAD_SIGNATURE,
    "CKR_SIGNATURE_LEN_RANGE": winerror.NTE_BAD_SIGNATURE,
    # PINs and login: the smartcard codes Windows' own smartcard CSP uses
    "CKR_PIN_INCORRECT": winerror.SCARD_W_WRONG_CHV,
    "CKR_PIN_INVALID": winerror.SCARD_W_WRONG_CHV,
    "CKR_PIN_LEN_RANGE": winerror.SCARD_W_WRONG_CHV,
    "CKR_PIN_LOCKED": winerror.SCARD_W_CHV_BLOCKED,
    "CKR_PIN_EXPIRED": winerror.SCARD_W_CHV_BLOCKED,
    "CKR_USER_NOT_LOGGED_IN": winerror.SCARD_W_CARD_NOT_AUTHENTICATED,
    "CKR_USER_PIN_NOT_INITIALIZED": winerror.SCARD_W_CARD_NOT_AUTHENTICATED,
    "CKR_FUNCTION_CANCELED": winerror.SCARD_W_CANCELLED_BY_USER,
    "CKR_CANCEL": winerror.SCARD_W_CANCELLED_BY_USER,
    # the token itself
    # a token pulled out while in use; no token in the slot when one is asked for
    "CKR_DEVICE_REMOVED": winerror.SCARD_W_REMOVED_CARD,
    "CKR_TOKEN_NOT_PRESENT": winerror.SCARD_E_NO_SMARTCARD,
    "CKR_TOKEN_NOT_RECOGNIZED": winerror.SCARD_E_CARD_UNSUPPORTED,
    "CKR_SLOT_ID_INVALID": winerror.SCARD_E_NO_SMARTCARD,
    "CKR_TOKEN_WRITE_PROTECTED": winerror.NTE_PERM,
    "CKR_SESSION_READ_ONLY": winerror.NTE_PERM,
    # out of memory, on the token or in the module (docs/faults.md); a token
    # whose key storage is full says CKR_TOKEN_RESOURCE_EXCEEDED
    "CKR_DEVICE_MEMORY": winerror.NTE_NO_MEMORY,
    "CKR_TOKEN_RESOURCE_EXCEEDED": winerror.NTE_TOKEN_KEYSET_STORAGE_FULL,
    "CKR_HOST_MEMORY": winerror.NTE_NO_MEMORY,
    "CKR_FUNCTION_NOT_SUPPORTED": winerror.NTE_NOT_SUPPORTED,
    "CKR_RANDOM_NO_RNG": winerror.NTE_NOT_SUPPORTED,
    "CKR_RANDOM_SEED_NOT_SUPPORTED": winerror.NTE_NOT_SUPPORTED,
}


# What a return code means, in words, where the words tell a user more than
# the name (the name stays in Fail.ckr and pywintypes.error.ckr).  A code
# missing here is named in the message: then that is the only information.
CKR_MEANINGS: dict[str, str] = {
    "CKR_DEVICE_REMOVED": "the token was removed",
    "CKR_TOKEN_NOT_PRESENT": "no token is present in the slot",
    "CKR_PIN_LOCKED": "the PIN is locked",
    "CKR_PIN_EXPIRED": "the PIN has expired",
    "CKR_DEVICE_MEMORY": "the token is out of memory",
    "CKR_HOST_MEMORY": "the PKCS#11 module is out of memory",
    "CKR_TOKEN_RESOURCE_EXCEEDED": "the token has no room left",
    "CKR_SESSION_HANDLE_INVALID": "the token lost the session",
    "CKR_SESSION_CLOSED": "the token closed the session",
    # a token that writes nothing here (tpm2-pkcs11 keeps even session objects
    # in its store, and refuses them before a login)
    "CKR_SESSION_READ_ONLY": "the token accepts no new objects in this session",
    "CKR_TOKEN_WRITE_PROTECTED": "the token is write-protected",
}


class Fail(Exception):
    """A failure inside csp11, before the public API names the function.

    ``code`` is the Windows error code, ``message`` the text for ``strerror``,
    ``ckr`` the PKCS#11 return code name when one caused it.  Never carries a
    PIN: callers build messages from labels and codes only.
    """

    def __init__(self, code: int, message: str, *, ckr: str | None = None):
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.ckr = ckr


def fail_from_ckr(ckr: str, doing: str) -> Fail:
    """The :class:`Fail` for a PKCS#11 return code met while ``doing`` something.

    ``ckr`` is a name from :data:`CKR_VALUES` (or ``"CKR_0x..."`` for a code
    no table knows).  The message says what was being done and what went
    wrong: in words where :data:`CKR_MEANINGS` has them (``"C_Sign failed:
    the token was removed"``), else by the return code's name
    (``"C_GenerateKey failed: CKR_MECHANISM_INVALID (0x70)"``).
    """
    code = CKR_TO_WINERROR.get(ckr, winerror.NTE_FAIL)
    value = CKR_VALUES.get(ckr)
    shown = f"{ckr} (0x{value:X})" if value is not None else ckr
    shown = CKR_MEANINGS.get(ckr, shown)
    return Fail(code, f"{doing} failed: {shown}", ckr=ckr)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def api(funcname: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorate a public CryptoAPI entry point.

    Turns :class:`Fail` into :class:`csp11.pywintypes.error` named after
    ``funcname``.  ``TypeError`` (wrong argument types) passes through, as
    in pywin32; ``pywintypes.error`` raised by a nested public call is
    re-labelled with the outer function's name; any other exception is a bug
    in csp11 or a library beneath it and becomes ``NTE_FAIL`` naming its type,
    so nothing foreign leaks out (not even as ``__cause__``: it could carry
    a PIN).
    """

    def wrap(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def entry(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return fn(*args, **kwargs)
            except Fail as exc:
                raise error(exc.code, funcname, exc.message, ckr=exc.ckr) from None
            except error as exc:
                if exc.funcname == funcname:
                    raise
                raise error(exc.winerror, funcname, exc.strerror, ckr=exc.ckr) from None
            except (TypeError, KeyboardInterrupt, SystemExit, GeneratorExit):
                raise
            except Exception as exc:
                # Not chained: a foreign exception may hold data that must not
                # travel (a PIN inside a UnicodeEncodeError, say).  The log
                # line names the type only.
                _log.debug("internal failure in %s: %s", funcname, type(exc).__name__)
                failure = error(
                    winerror.NTE_FAIL, funcname, f"internal error: {type(exc).__name__}"
                )
            else:  # pragma: no cover - every path above returns or raises
                raise AssertionError("unreachable")
            raise failure from None

        return entry

    return wrap
