"""The token layer: the only code of csp11 that talks to PKCS#11.

Everything above this package speaks CryptoAPI; everything PKCS#11 happens
here, through python-pkcs11 for the calls it offers and a small ctypes
binding for the few it lacks.  The layers above import from this package
only (``from csp11.token import Token``), never from its modules, so the
modules can move without touching them.
"""

from __future__ import annotations

from csp11.token.choice import ChosenToken, choose_token
from csp11.token.embedded import (
    EMBEDDED_LABEL,
    EmbeddedToken,
    data_home,
    find_softhsm2,
    open_embedded,
)
from csp11.token.pins import (
    PinRequest,
    PinSources,
    default_prompt,
    get_pin_prompt,
    read_pin_source,
    set_pin_prompt,
)
from csp11.token.quirks import NO_QUIRKS, Quirks, quirks_for

# Private tables that tests check against python-pkcs11 and csp11's own
# bookkeeping (the same objects, not copies).
from csp11.token.token import _EXCEPTION_CKR as _EXCEPTION_CKR
from csp11.token.token import (
    CKF_HW_SLOT,
    CKF_LOGIN_REQUIRED,
    CKF_OS_LOCKING_OK,
    CKF_PROTECTED_AUTHENTICATION_PATH,
    CKF_REMOVABLE_DEVICE,
    CKF_RW_SESSION,
    CKF_SERIAL_SESSION,
    CKF_TOKEN_INITIALIZED,
    CKF_TOKEN_PRESENT,
    CKF_USER_PIN_COUNT_LOW,
    CKF_USER_PIN_FINAL_TRY,
    CKF_USER_PIN_INITIALIZED,
    CKF_USER_PIN_LOCKED,
    CKF_WRITE_PROTECTED,
    CKR_CRYPTOKI_ALREADY_INITIALIZED,
    CKR_OK,
    CKR_USER_ALREADY_LOGGED_IN,
    CKS_RO_USER_FUNCTIONS,
    CKS_RW_USER_FUNCTIONS,
    CKU_SO,
    CKU_USER,
    DEFAULT,
    MGF,
    Attribute,
    KeyType,
    Mechanism,
    MechanismInfo,
    Module,
    ObjectClass,
    Operation,
    Session,
    Token,
    TokenInfo,
    TokenKey,
    check_template,
    ckr_of,
    load_module,
)
from csp11.token.token import _checked as _checked
from csp11.token.uri import Pkcs11Uri, parse_uri

__all__ = [
    "CKF_HW_SLOT",
    "CKF_LOGIN_REQUIRED",
    "CKF_OS_LOCKING_OK",
    "CKF_PROTECTED_AUTHENTICATION_PATH",
    "CKF_REMOVABLE_DEVICE",
    "CKF_RW_SESSION",
    "CKF_SERIAL_SESSION",
    "CKF_TOKEN_INITIALIZED",
    "CKF_TOKEN_PRESENT",
    "CKF_USER_PIN_COUNT_LOW",
    "CKF_USER_PIN_FINAL_TRY",
    "CKF_USER_PIN_INITIALIZED",
    "CKF_USER_PIN_LOCKED",
    "CKF_WRITE_PROTECTED",
    "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    "CKR_OK",
    "CKR_USER_ALREADY_LOGGED_IN",
    "CKS_RO_USER_FUNCTIONS",
    "CKS_RW_USER_FUNCTIONS",
    "CKU_SO",
    "CKU_USER",
    "DEFAULT",
    "EMBEDDED_LABEL",
    "MGF",
    "NO_QUIRKS",
    "Attribute",
    "ChosenToken",
    "EmbeddedToken",
    "KeyType",
    "Mechanism",
    "MechanismInfo",
    "Module",
    "ObjectClass",
    "Operation",
    "PinRequest",
    "PinSources",
    "Pkcs11Uri",
    "Quirks",
    "Session",
    "Token",
    "TokenInfo",
    "TokenKey",
    "check_template",
    "choose_token",
    "ckr_of",
    "data_home",
    "default_prompt",
    "find_softhsm2",
    "get_pin_prompt",
    "load_module",
    "open_embedded",
    "parse_uri",
    "quirks_for",
    "read_pin_source",
    "set_pin_prompt",
]
