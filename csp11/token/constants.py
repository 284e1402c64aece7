"""The PKCS#11 names the token layer uses: python-pkcs11's enumerations,
re-exported so that the layers above never import pkcs11 themselves, and the
numbers from ``pkcs11t.h`` that csp11's own ctypes calls and flag tests need.
"""

from __future__ import annotations

import pkcs11

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
