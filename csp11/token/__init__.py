"""The token layer: the only code of csp11 that talks to PKCS#11.

Everything above this package speaks CryptoAPI; everything PKCS#11 happens
here: loading, discovery, sessions, login and the hot calls through csp11's
own ctypes binding of the module's function list, the rest (object search,
attribute reads, key pairs, wrapping) through python-pkcs11, which is
imported when first needed (:mod:`~csp11.token.pypkcs11`).  The layers above
import from this package (``from csp11.token import Token``), not from its
modules.

Its modules, each importing only the ones listed before it:

* :mod:`~csp11.token.pypkcs11` -- python-pkcs11, imported on first use;
* :mod:`~csp11.token.constants` -- the ``pkcs11t.h`` numbers csp11 uses, as
  its own enumerations under python-pkcs11's names;
* :mod:`~csp11.token.ckr` -- return code names, also behind python-pkcs11's
  exceptions;
* :mod:`~csp11.token.template` -- templates checked before they are packed
  (by csp11 or python-pkcs11), and csp11's packer;
* :mod:`~csp11.token.cryptoki` -- loading and initialising a library
  (``dlopen``, ``C_GetFunctionList``, ``C_Initialize``), slots, tokens and
  mechanisms, and python-pkcs11's library object over the same function
  list;
* :mod:`~csp11.token.session` -- the session pool of a token (sessions
  opened through csp11's binding; python-pkcs11's beside one when needed);
* :mod:`~csp11.token.operation` -- multi-part operations on a session of
  their own;
* :mod:`~csp11.token.pins` -- where PINs come from;
* :mod:`~csp11.token.keyobject` -- a key's objects and every use of them;
* :mod:`~csp11.token.quirks`, :mod:`~csp11.token.openssl` -- what tokens
  advertise but do not do, and the one remedy that acts on the process;
* :mod:`~csp11.token.token` -- a token: facts, login, the calls on its pool;
* :mod:`~csp11.token.module` -- a library's slots and tokens, loaded once
  per process;
* :mod:`~csp11.token.uri`, :mod:`~csp11.token.embedded`,
  :mod:`~csp11.token.choice` -- which token a context uses.
"""

from __future__ import annotations

from csp11.token.choice import ChosenToken, choose_token
from csp11.token.ckr import _EXCEPTION_CKR as _EXCEPTION_CKR  # checked by tests/test_errors.py
from csp11.token.ckr import OBJECT_GONE, ckr_of
from csp11.token.constants import (
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
    ObjectClass,
)
from csp11.token.embedded import (
    EMBEDDED_LABEL,
    EmbeddedToken,
    data_home,
    find_softhsm2,
    open_embedded,
)
from csp11.token.forkgate import ChildSafeLock, on_child
from csp11.token.keyobject import TokenKey
from csp11.token.module import (
    Module,
    load_module,
    on_token_unloaded,
    reload_module,
    view_is_current,
)
from csp11.token.operation import Operation
from csp11.token.pins import (
    PinRequest,
    PinSources,
    default_prompt,
    get_pin_prompt,
    read_pin_source,
    set_pin_prompt,
)
from csp11.token.pypkcs11 import mechanism_name
from csp11.token.quirks import NO_QUIRKS, Quirks, quirks_for
from csp11.token.session import SESSION_LOST, jitter
from csp11.token.template import _checked as _checked  # read by tests/test_review_regressions.py
from csp11.token.template import check_template
from csp11.token.token import MechanismInfo, Token, TokenInfo
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
    "OBJECT_GONE",
    "SESSION_LOST",
    "Attribute",
    "ChildSafeLock",
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
    "jitter",
    "load_module",
    "mechanism_name",
    "on_child",
    "on_token_unloaded",
    "open_embedded",
    "parse_uri",
    "quirks_for",
    "read_pin_source",
    "reload_module",
    "set_pin_prompt",
    "view_is_current",
]
