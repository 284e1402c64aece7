"""PKCS#11 return codes: their names, and the name behind a python-pkcs11
exception (which keeps the class but drops the number).

:mod:`csp11.errors` turns a name into a Windows error; this module only finds
the name.
"""

from __future__ import annotations

import re

from csp11.errors import CKR_NAMES

# What a call answers about an object another thread or process destroyed
# since it was found: the object is gone, which a reader takes as "look again".
OBJECT_GONE = frozenset({"CKR_OBJECT_HANDLE_INVALID", "CKR_KEY_HANDLE_INVALID"})


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
# A pattern string, not a compiled pattern: re compiles it (and caches it)
# on first use, which keeps the compile off every import (cold start).
_UNMAPPED = r"Unmapped error code (0x[0-9a-fA-F]+)"


def ckr_of(exc: BaseException) -> str:
    """The PKCS#11 return code name behind a python-pkcs11 exception."""
    name = _EXCEPTION_CKR.get(type(exc).__name__)
    if name is not None:
        return name
    text = str(exc)
    match = re.search(_UNMAPPED, text)
    if match:
        return _ckr_name(int(match.group(1), 16))
    for fragment, ckr in _GENERIC_MESSAGES.items():
        if fragment in text:
            return ckr
    return "CKR_GENERAL_ERROR"
