"""The PKCS#11 names the token layer uses: the numbers from ``pkcs11t.h``, as
csp11's own enumerations (the layers above never import pkcs11 themselves),
and those csp11's ctypes calls and flag tests need.

The enumerations hold only the members csp11 uses, under python-pkcs11's
names and with its values (tests/test_token.py checks every one against
python-pkcs11): they compare and hash as the same integers, so python-pkcs11
takes them wherever it takes its own, and defining them costs well under a
millisecond where ``import pkcs11`` costs about 45 (issue #16: cold start).
Names with a leading underscore are those python-pkcs11 marks deprecated.
"""

from __future__ import annotations

from enum import IntEnum


class ObjectClass(IntEnum):
    """``CKO_*``: object classes."""

    DATA = 0x0
    CERTIFICATE = 0x1
    PUBLIC_KEY = 0x2
    PRIVATE_KEY = 0x3
    SECRET_KEY = 0x4


class KeyType(IntEnum):
    """``CKK_*``: key types."""

    RSA = 0x0
    DSA = 0x1
    DH = 0x2
    GENERIC_SECRET = 0x10
    _RC2 = 0x11
    _RC4 = 0x12
    _DES = 0x13
    DES2 = 0x14
    DES3 = 0x15
    AES = 0x1F
    SEED = 0x2F
    GOST28147 = 0x32


class Attribute(IntEnum):
    """``CKA_*``: attribute types."""

    CLASS = 0x0
    TOKEN = 0x1
    PRIVATE = 0x2
    LABEL = 0x3
    APPLICATION = 0x10
    VALUE = 0x11
    CERTIFICATE_TYPE = 0x80
    ISSUER = 0x81
    SERIAL_NUMBER = 0x82
    KEY_TYPE = 0x100
    SUBJECT = 0x101
    ID = 0x102
    SENSITIVE = 0x103
    ENCRYPT = 0x104
    DECRYPT = 0x105
    WRAP = 0x106
    UNWRAP = 0x107
    SIGN = 0x108
    VERIFY = 0x10A
    DERIVE = 0x10C
    MODULUS = 0x120
    MODULUS_BITS = 0x121
    PUBLIC_EXPONENT = 0x122
    PRIVATE_EXPONENT = 0x123
    PRIME_1 = 0x124
    PRIME_2 = 0x125
    EXPONENT_1 = 0x126
    EXPONENT_2 = 0x127
    COEFFICIENT = 0x128
    PRIME = 0x130
    SUBPRIME = 0x131
    BASE = 0x132
    VALUE_LEN = 0x161
    EXTRACTABLE = 0x162
    NEVER_EXTRACTABLE = 0x164
    MODIFIABLE = 0x170
    ALWAYS_AUTHENTICATE = 0x202


class Mechanism(IntEnum):
    """``CKM_*``: mechanisms."""

    RSA_PKCS_KEY_PAIR_GEN = 0x0
    RSA_PKCS = 0x1
    RSA_PKCS_OAEP = 0x9
    DSA_KEY_PAIR_GEN = 0x10
    DSA = 0x11
    DH_PKCS_KEY_PAIR_GEN = 0x20
    DH_PKCS_DERIVE = 0x21
    _RC2_KEY_GEN = 0x100
    _RC2_ECB = 0x101
    _RC2_CBC = 0x102
    _RC4_KEY_GEN = 0x110
    _RC4 = 0x111
    _DES_KEY_GEN = 0x120
    _DES_ECB = 0x121
    _DES_CBC = 0x122
    DES2_KEY_GEN = 0x130
    DES3_KEY_GEN = 0x131
    DES3_ECB = 0x132
    DES3_CBC = 0x133
    _MD2 = 0x200
    _MD2_HMAC = 0x201
    _MD5 = 0x210
    _MD5_HMAC = 0x211
    SHA_1 = 0x220
    SHA_1_HMAC = 0x221
    SHA256 = 0x250
    SHA256_HMAC = 0x251
    SHA384 = 0x260
    SHA384_HMAC = 0x261
    SHA512 = 0x270
    SHA512_HMAC = 0x271
    GENERIC_SECRET_KEY_GEN = 0x350
    AES_KEY_GEN = 0x1080
    AES_ECB = 0x1081
    AES_CBC = 0x1082
    AES_CBC_PAD = 0x1085
    AES_KEY_WRAP_PAD = 0x210A


class MGF(IntEnum):
    """``CKG_MGF1_*``: mask generation functions (RSA-OAEP)."""

    SHA1 = 0x1


class _Default:
    """The type of :data:`DEFAULT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFAULT"


# In a template: drop python-pkcs11's default for that attribute (the token
# layer hands python-pkcs11 its own marker in its place).
DEFAULT = _Default()
# csp11's templates say every capability themselves; python-pkcs11's defaults
# (and its refusal to guess them for DES) must not add any.
_NO_CAPABILITIES = 0

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
