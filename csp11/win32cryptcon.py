"""Constants of the Windows CryptoAPI, as pywin32's ``win32cryptcon`` defines them.

This module is a drop-in for pywin32's ``win32cryptcon``: every name that
module defines is here with the same value (ALG_IDs, ``CRYPT_*`` flags,
``KP_*``, ``HP_*``, ``PP_*``, ``PROV_*``, the ``MS_*_PROV`` provider names, key
BLOB types, key specs, modes, paddings, and the certificate/message/store
constants that pywin32 carries along), plus the ``GET_ALG_*``,
``RCRYPT_*`` and ``GET_*_ENCODING_TYPE`` helpers.  The reference for names and
values is ``win32-stubs/lib/win32cryptcon.pyi`` in the PyPI package
``types-pywin32``; ``tests/test_constants.py`` compares the two.

Values follow pywin32, not the C header, where the two differ: flags with the
top bit set are signed 32-bit ints (``CRYPT_VERIFYCONTEXT == -268435456``,
``KEY_LENGTH_MASK == -65536``), and the plain provider names are the ANSI
strings (``MS_ENH_RSA_AES_PROV == MS_ENH_RSA_AES_PROV_A``).

A few names that the CryptoAPI documentation uses (e.g. on the CryptGenKey
page) are missing from pywin32.  They are added with their ``wincrypt.h``
values, marked ``# not in pywin32`` where they are defined and listed in
``_NOT_IN_PYWIN32`` with their source.
"""

from typing import Final

# Names defined here that pywin32's win32cryptcon lacks: name -> where the value comes from.
_NOT_IN_PYWIN32: dict[str, str] = {
    "CRYPT_DEFAULT_CONTAINER_OPTIONAL": "wincrypt.h (CryptAcquireContext dwFlags, Vista+)",
    "CRYPT_USER_PROTECTED_STRONG": "wincrypt.h (CryptGenKey dwFlags)",
    "CRYPT_FORCE_KEY_PROTECTION_HIGH": "wincrypt.h (CryptGenKey dwFlags, Vista+); CryptGenKey page",
    "KEYSTATEBLOB": "wincrypt.h (key BLOB type, Server 2003+)",
    "KP_PIN_ID": "wincrypt.h (CryptGetKeyParam dwParam)",
    "KP_PIN_INFO": "wincrypt.h (CryptGetKeyParam dwParam)",
    "PP_USER_CERTSTORE": "wincrypt.h (CryptGetProvParam dwParam, Vista+)",
    "PP_SMARTCARD_READER": "wincrypt.h (CryptGetProvParam dwParam, Vista+)",
    "PP_SMARTCARD_GUID": "wincrypt.h (CryptGetProvParam dwParam, Vista+)",
    "PP_ROOT_CERTSTORE": "wincrypt.h (CryptGetProvParam dwParam, Vista+)",
    "PP_SMARTCARD_READER_ICON": "wincrypt.h (CryptGetProvParam dwParam, Windows 8+)",
    "PP_PIN_PROMPT_STRING": "wincrypt.h (CryptSetProvParam dwParam, Vista+)",
    "PP_SECURE_KEYEXCHANGE_PIN": "wincrypt.h (CryptSetProvParam dwParam, Vista+)",
    "PP_SECURE_SIGNATURE_PIN": "wincrypt.h (CryptSetProvParam dwParam, Vista+)",
    "MS_ENH_RSA_AES_PROV_XP_A": "wincrypt.h (provider name of the Windows XP AES provider)",
    "MS_ENH_RSA_AES_PROV_XP": "wincrypt.h (= MS_ENH_RSA_AES_PROV_XP_A, as pywin32 aliases the other names)",
}

# ----------------------------------------------------------------------------
# ALG_ID layout: class (bits 13-15) | type (bits 9-12) | sub-id (bits 0-8)
# ----------------------------------------------------------------------------


def GET_ALG_CLASS(x: int) -> int:
    """Return the class bits (an ``ALG_CLASS_*`` value) of the ALG_ID *x*."""
    return x & (7 << 13)


def GET_ALG_TYPE(x: int) -> int:
    """Return the type bits (an ``ALG_TYPE_*`` value) of the ALG_ID *x*."""
    return x & (15 << 9)


def GET_ALG_SID(x: int) -> int:
    """Return the sub-identifier (an ``ALG_SID_*`` value) of the ALG_ID *x*."""
    return x & 511


# Algorithm classes
ALG_CLASS_ANY: Final = 0
ALG_CLASS_SIGNATURE: Final = 0x2000
ALG_CLASS_MSG_ENCRYPT: Final = 0x4000
ALG_CLASS_DATA_ENCRYPT: Final = 0x6000
ALG_CLASS_HASH: Final = 0x8000
ALG_CLASS_KEY_EXCHANGE: Final = 0xA000
ALG_CLASS_ALL: Final = 0xE000

# Algorithm types
ALG_TYPE_ANY: Final = 0x0000
ALG_TYPE_DSS: Final = 0x0200
ALG_TYPE_RSA: Final = 0x0400
ALG_TYPE_BLOCK: Final = 0x0600
ALG_TYPE_STREAM: Final = 0x0800
ALG_TYPE_DH: Final = 0x0A00
ALG_TYPE_SECURECHANNEL: Final = 0x0C00

# Algorithm sub-identifiers: generic, RSA, DSS, block ciphers, Fortezza
ALG_SID_ANY: Final = 0
ALG_SID_RSA_ANY: Final = 0
ALG_SID_RSA_PKCS: Final = 1
ALG_SID_RSA_MSATWORK: Final = 2
ALG_SID_RSA_ENTRUST: Final = 3
ALG_SID_RSA_PGP: Final = 4
ALG_SID_DSS_ANY: Final = 0
ALG_SID_DSS_PKCS: Final = 1
ALG_SID_DSS_DMS: Final = 2
ALG_SID_DES: Final = 1
ALG_SID_3DES: Final = 3
ALG_SID_DESX: Final = 4
ALG_SID_IDEA: Final = 5
ALG_SID_CAST: Final = 6
ALG_SID_SAFERSK64: Final = 7
ALG_SID_SAFERSK128: Final = 8
ALG_SID_3DES_112: Final = 9
ALG_SID_CYLINK_MEK: Final = 12
ALG_SID_RC5: Final = 13
ALG_SID_AES_128: Final = 14
ALG_SID_AES_192: Final = 15
ALG_SID_AES_256: Final = 16
ALG_SID_AES: Final = 17
ALG_SID_SKIPJACK: Final = 10
ALG_SID_TEK: Final = 11

# More KP_MODE values (ANSI modes), declared here in wincrypt.h
CRYPT_MODE_CBCI: Final = 6
CRYPT_MODE_CFBP: Final = 7
CRYPT_MODE_OFBP: Final = 8
CRYPT_MODE_CBCOFM: Final = 9
CRYPT_MODE_CBCOFMI: Final = 10

# Algorithm sub-identifiers: RC2, stream ciphers, Diffie-Hellman, hashes, Schannel
ALG_SID_RC2: Final = 2
ALG_SID_RC4: Final = 1
ALG_SID_SEAL: Final = 2
ALG_SID_DH_SANDF: Final = 1
ALG_SID_DH_EPHEM: Final = 2
ALG_SID_AGREED_KEY_ANY: Final = 3
ALG_SID_KEA: Final = 4
ALG_SID_MD2: Final = 1
ALG_SID_MD4: Final = 2
ALG_SID_MD5: Final = 3
ALG_SID_SHA: Final = 4
ALG_SID_SHA1: Final = 4
ALG_SID_MAC: Final = 5
ALG_SID_RIPEMD: Final = 6
ALG_SID_RIPEMD160: Final = 7
ALG_SID_SSL3SHAMD5: Final = 8
ALG_SID_HMAC: Final = 9
ALG_SID_TLS1PRF: Final = 10
ALG_SID_HASH_REPLACE_OWF: Final = 11
ALG_SID_SHA_256: Final = 12
ALG_SID_SHA_384: Final = 13
ALG_SID_SHA_512: Final = 14
ALG_SID_SSL3_MASTER: Final = 1
ALG_SID_SCHANNEL_MASTER_HASH: Final = 2
ALG_SID_SCHANNEL_MAC_KEY: Final = 3
ALG_SID_PCT1_MASTER: Final = 4
ALG_SID_SSL2_MASTER: Final = 5
ALG_SID_TLS1_MASTER: Final = 6
ALG_SID_SCHANNEL_ENC_KEY: Final = 7
ALG_SID_EXAMPLE: Final = 80


# ----------------------------------------------------------------------------
# ALG_ID values (CALG_*)
# ----------------------------------------------------------------------------
CALG_MD2: Final = 0x8001
CALG_MD4: Final = 0x8002
CALG_MD5: Final = 0x8003
CALG_SHA: Final = 0x8004
CALG_SHA1: Final = 0x8004
CALG_MAC: Final = 0x8005
CALG_RSA_SIGN: Final = 0x2400
CALG_DSS_SIGN: Final = 0x2200
CALG_NO_SIGN: Final = 0x2000
CALG_RSA_KEYX: Final = 0xA400
CALG_DES: Final = 0x6601
CALG_3DES_112: Final = 0x6609
CALG_3DES: Final = 0x6603
CALG_DESX: Final = 0x6604
CALG_RC2: Final = 0x6602
CALG_RC4: Final = 0x6801
CALG_SEAL: Final = 0x6802
CALG_DH_SF: Final = 0xAA01
CALG_DH_EPHEM: Final = 0xAA02
CALG_AGREEDKEY_ANY: Final = 0xAA03
CALG_KEA_KEYX: Final = 0xAA04
CALG_HUGHES_MD5: Final = 0xA003
CALG_SKIPJACK: Final = 0x660A
CALG_TEK: Final = 0x660B
CALG_CYLINK_MEK: Final = 0x660C
CALG_SSL3_SHAMD5: Final = 0x8008
CALG_SSL3_MASTER: Final = 0x4C01
CALG_SCHANNEL_MASTER_HASH: Final = 0x4C02
CALG_SCHANNEL_MAC_KEY: Final = 0x4C03
CALG_SCHANNEL_ENC_KEY: Final = 0x4C07
CALG_PCT1_MASTER: Final = 0x4C04
CALG_SSL2_MASTER: Final = 0x4C05
CALG_TLS1_MASTER: Final = 0x4C06
CALG_RC5: Final = 0x660D
CALG_HMAC: Final = 0x8009
CALG_TLS1PRF: Final = 0x800A
CALG_HASH_REPLACE_OWF: Final = 0x800B
CALG_AES_128: Final = 0x660E
CALG_AES_192: Final = 0x660F
CALG_AES_256: Final = 0x6610
CALG_AES: Final = 0x6611
CALG_SHA_256: Final = 0x800C
CALG_SHA_384: Final = 0x800D
CALG_SHA_512: Final = 0x800E


# ----------------------------------------------------------------------------
# Function flags
# CRYPT_VERIFYCONTEXT is 0xF0000000 in wincrypt.h; pywin32 (and so csp11) gives
# it as the signed 32-bit value. Test it with `flags & CRYPT_VERIFYCONTEXT`,
# which works for either form.
# ----------------------------------------------------------------------------

# CryptAcquireContext
CRYPT_VERIFYCONTEXT: Final = -268435456
CRYPT_NEWKEYSET: Final = 0x00000008
CRYPT_DELETEKEYSET: Final = 0x00000010
CRYPT_MACHINE_KEYSET: Final = 0x00000020
CRYPT_SILENT: Final = 0x00000040
CRYPT_DEFAULT_CONTAINER_OPTIONAL: Final = 0x00000080  # not in pywin32

# CryptGenKey (low 16 bits; the high 16 bits carry the key length in bits)
CRYPT_EXPORTABLE: Final = 0x00000001
CRYPT_USER_PROTECTED: Final = 0x00000002
CRYPT_CREATE_SALT: Final = 0x00000004
CRYPT_UPDATE_KEY: Final = 0x00000008
CRYPT_NO_SALT: Final = 0x00000010
CRYPT_PREGEN: Final = 0x00000040
CRYPT_RECIPIENT: Final = 0x00000010
CRYPT_INITIATOR: Final = 0x00000040
CRYPT_ONLINE: Final = 0x00000080
CRYPT_SF: Final = 0x00000100
CRYPT_CREATE_IV: Final = 0x00000200
CRYPT_KEK: Final = 0x00000400
CRYPT_DATA_KEY: Final = 0x00000800
CRYPT_VOLATILE: Final = 0x00001000
CRYPT_SGCKEY: Final = 0x00002000
CRYPT_USER_PROTECTED_STRONG: Final = 0x00100000  # not in pywin32
CRYPT_ARCHIVABLE: Final = 0x00004000
CRYPT_FORCE_KEY_PROTECTION_HIGH: Final = 0x00008000  # not in pywin32
RSA1024BIT_KEY: Final = 0x04000000

# CryptDeriveKey; KEY_LENGTH_MASK selects the key-length half of a dwFlags value
CRYPT_SERVER: Final = 0x00000400
KEY_LENGTH_MASK: Final = -65536

# CryptExportKey / CryptImportKey (CRYPT_OAEP also applies to CryptEncrypt / CryptDecrypt)
CRYPT_Y_ONLY: Final = 0x00000001
CRYPT_SSL2_FALLBACK: Final = 0x00000002
CRYPT_DESTROYKEY: Final = 0x00000004
CRYPT_OAEP: Final = 0x00000040
CRYPT_BLOB_VER3: Final = 0x00000080
CRYPT_IPSEC_HMAC_KEY: Final = 0x00000100

# CryptDecrypt
CRYPT_DECRYPT_RSA_NO_PADDING_CHECK: Final = 0x00000020

# CryptCreateHash, CryptHashData, CryptHashSessionKey
CRYPT_SECRETDIGEST: Final = 0x00000001
CRYPT_OWF_REPL_LM_HASH: Final = 0x00000001
CRYPT_LITTLE_ENDIAN: Final = 0x00000001

# CryptSignHash / CryptVerifySignature
CRYPT_NOHASHOID: Final = 0x00000001
CRYPT_TYPE2_FORMAT: Final = 0x00000002
CRYPT_X931_FORMAT: Final = 0x00000004

# CryptSetProviderEx / CryptGetDefaultProvider
CRYPT_MACHINE_DEFAULT: Final = 0x00000001
CRYPT_USER_DEFAULT: Final = 0x00000002
CRYPT_DELETE_DEFAULT: Final = 0x00000004


# ----------------------------------------------------------------------------
# Key BLOBs, key specs, key and hash parameters
# ----------------------------------------------------------------------------

# Key BLOB types (BLOBHEADER.bType)
SIMPLEBLOB: Final = 0x1
PUBLICKEYBLOB: Final = 0x6
PRIVATEKEYBLOB: Final = 0x7
PLAINTEXTKEYBLOB: Final = 0x8
OPAQUEKEYBLOB: Final = 0x9
PUBLICKEYBLOBEX: Final = 0xA
SYMMETRICWRAPKEYBLOB: Final = 0xB
KEYSTATEBLOB: Final = 0xC  # not in pywin32

# Key specs (and CRYPT_USERDATA, which wincrypt.h defines alongside them)
AT_KEYEXCHANGE: Final = 1
AT_SIGNATURE: Final = 2
CRYPT_USERDATA: Final = 1

# CryptGetKeyParam / CryptSetKeyParam: dwParam
KP_IV: Final = 1
KP_SALT: Final = 2
KP_PADDING: Final = 3
KP_MODE: Final = 4
KP_MODE_BITS: Final = 5
KP_PERMISSIONS: Final = 6
KP_ALGID: Final = 7
KP_BLOCKLEN: Final = 8
KP_KEYLEN: Final = 9
KP_SALT_EX: Final = 10
KP_P: Final = 11
KP_G: Final = 12
KP_Q: Final = 13
KP_X: Final = 14
KP_Y: Final = 15
KP_RA: Final = 16
KP_RB: Final = 17
KP_INFO: Final = 18
KP_EFFECTIVE_KEYLEN: Final = 19
KP_SCHANNEL_ALG: Final = 20
KP_CLIENT_RANDOM: Final = 21
KP_SERVER_RANDOM: Final = 22
KP_RP: Final = 23
KP_PRECOMP_MD5: Final = 24
KP_PRECOMP_SHA: Final = 25
KP_CERTIFICATE: Final = 26
KP_CLEAR_KEY: Final = 27
KP_PUB_EX_LEN: Final = 28
KP_PUB_EX_VAL: Final = 29
KP_KEYVAL: Final = 30
KP_ADMIN_PIN: Final = 31
KP_KEYEXCHANGE_PIN: Final = 32
KP_SIGNATURE_PIN: Final = 33
KP_PREHASH: Final = 34
KP_ROUNDS: Final = 35
KP_OAEP_PARAMS: Final = 36
KP_CMS_KEY_INFO: Final = 37
KP_CMS_DH_KEY_INFO: Final = 38
KP_PUB_PARAMS: Final = 39
KP_VERIFY_PARAMS: Final = 40
KP_HIGHEST_VERSION: Final = 41
KP_GET_USE_COUNT: Final = 42
KP_PIN_ID: Final = 43  # not in pywin32
KP_PIN_INFO: Final = 44  # not in pywin32

# KP_PADDING values
PKCS5_PADDING: Final = 1
RANDOM_PADDING: Final = 2
ZERO_PADDING: Final = 3

# KP_MODE values
CRYPT_MODE_CBC: Final = 1
CRYPT_MODE_ECB: Final = 2
CRYPT_MODE_OFB: Final = 3
CRYPT_MODE_CFB: Final = 4
CRYPT_MODE_CTS: Final = 5

# KP_PERMISSIONS bits
CRYPT_ENCRYPT: Final = 0x0001
CRYPT_DECRYPT: Final = 0x0002
CRYPT_EXPORT: Final = 0x0004
CRYPT_READ: Final = 0x0008
CRYPT_WRITE: Final = 0x0010
CRYPT_MAC: Final = 0x0020
CRYPT_EXPORT_KEY: Final = 0x0040
CRYPT_IMPORT_KEY: Final = 0x0080
CRYPT_ARCHIVE: Final = 0x0100

# CryptGetHashParam / CryptSetHashParam: dwParam
HP_ALGID: Final = 0x0001
HP_HASHVAL: Final = 0x0002
HP_HASHSIZE: Final = 0x0004
HP_HMAC_INFO: Final = 0x0005
HP_TLS1PRF_LABEL: Final = 0x0006
HP_TLS1PRF_SEED: Final = 0x0007

# Return values
CRYPT_FAILED: Final = 0
CRYPT_SUCCEED: Final = 1


def RCRYPT_SUCCEEDED(rt: int) -> bool:
    """True if the CryptoAPI return value *rt* is ``CRYPT_SUCCEED``."""
    return rt == CRYPT_SUCCEED


def RCRYPT_FAILED(rt: int) -> bool:
    """True if the CryptoAPI return value *rt* is ``CRYPT_FAILED``."""
    return rt == CRYPT_FAILED


# ----------------------------------------------------------------------------
# Provider parameters, provider types and provider names
# ----------------------------------------------------------------------------

# CryptGetProvParam: dwParam
PP_ENUMALGS: Final = 1
PP_ENUMCONTAINERS: Final = 2
PP_IMPTYPE: Final = 3
PP_NAME: Final = 4
PP_VERSION: Final = 5
PP_CONTAINER: Final = 6
PP_CHANGE_PASSWORD: Final = 7
PP_KEYSET_SEC_DESCR: Final = 8
PP_CERTCHAIN: Final = 9
PP_KEY_TYPE_SUBTYPE: Final = 10
PP_PROVTYPE: Final = 16
PP_KEYSTORAGE: Final = 17
PP_APPLI_CERT: Final = 18
PP_SYM_KEYSIZE: Final = 19
PP_SESSION_KEYSIZE: Final = 20
PP_UI_PROMPT: Final = 21
PP_ENUMALGS_EX: Final = 22
PP_ENUMMANDROOTS: Final = 25
PP_ENUMELECTROOTS: Final = 26
PP_KEYSET_TYPE: Final = 27
PP_ADMIN_PIN: Final = 31
PP_KEYEXCHANGE_PIN: Final = 32
PP_SIGNATURE_PIN: Final = 33
PP_SIG_KEYSIZE_INC: Final = 34
PP_KEYX_KEYSIZE_INC: Final = 35
PP_UNIQUE_CONTAINER: Final = 36
PP_SGC_INFO: Final = 37
PP_USE_HARDWARE_RNG: Final = 38
PP_KEYSPEC: Final = 39
PP_ENUMEX_SIGNING_PROT: Final = 40
PP_CRYPT_COUNT_KEY_USE: Final = 41
PP_USER_CERTSTORE: Final = 42  # not in pywin32
PP_SMARTCARD_READER: Final = 43  # not in pywin32
PP_SMARTCARD_GUID: Final = 45  # not in pywin32
PP_ROOT_CERTSTORE: Final = 46  # not in pywin32
PP_SMARTCARD_READER_ICON: Final = 47  # not in pywin32

# CryptGetProvParam enumeration flags (PP_ENUMALGS, PP_ENUMALGS_EX, PP_ENUMCONTAINERS)
CRYPT_FIRST: Final = 1
CRYPT_NEXT: Final = 2
CRYPT_SGC_ENUM: Final = 4

# PP_IMPTYPE values
CRYPT_IMPL_HARDWARE: Final = 1
CRYPT_IMPL_SOFTWARE: Final = 2
CRYPT_IMPL_MIXED: Final = 3
CRYPT_IMPL_UNKNOWN: Final = 4
CRYPT_IMPL_REMOVABLE: Final = 8

# PP_KEYSTORAGE bits
CRYPT_SEC_DESCR: Final = 0x00000001
CRYPT_PSTORE: Final = 0x00000002
CRYPT_UI_PROMPT: Final = 0x00000004

# PROV_ENUMALGS_EX.dwProtocols bits
CRYPT_FLAG_PCT1: Final = 0x0001
CRYPT_FLAG_SSL2: Final = 0x0002
CRYPT_FLAG_SSL3: Final = 0x0004
CRYPT_FLAG_TLS1: Final = 0x0008
CRYPT_FLAG_IPSEC: Final = 0x0010
CRYPT_FLAG_SIGNING: Final = 0x0020

# PP_SGC_INFO flags
CRYPT_SGC: Final = 0x0001
CRYPT_FASTSGC: Final = 0x0002

# CryptSetProvParam: dwParam
PP_CLIENT_HWND: Final = 1
PP_CONTEXT_INFO: Final = 11
PP_KEYEXCHANGE_KEYSIZE: Final = 12
PP_SIGNATURE_KEYSIZE: Final = 13
PP_KEYEXCHANGE_ALG: Final = 14
PP_SIGNATURE_ALG: Final = 15
PP_DELETEKEY: Final = 24
PP_PIN_PROMPT_STRING: Final = 44  # not in pywin32
PP_SECURE_KEYEXCHANGE_PIN: Final = 47  # not in pywin32
PP_SECURE_SIGNATURE_PIN: Final = 48  # not in pywin32

# Provider types
PROV_RSA_FULL: Final = 1
PROV_RSA_SIG: Final = 2
PROV_DSS: Final = 3
PROV_FORTEZZA: Final = 4
PROV_MS_EXCHANGE: Final = 5
PROV_SSL: Final = 6
PROV_RSA_SCHANNEL: Final = 12
PROV_DSS_DH: Final = 13
PROV_EC_ECDSA_SIG: Final = 14
PROV_EC_ECNRA_SIG: Final = 15
PROV_EC_ECDSA_FULL: Final = 16
PROV_EC_ECNRA_FULL: Final = 17
PROV_DH_SCHANNEL: Final = 18
PROV_SPYRUS_LYNKS: Final = 20
PROV_RNG: Final = 21
PROV_INTEL_SEC: Final = 22
PROV_REPLACE_OWF: Final = 23
PROV_RSA_AES: Final = 24

# Provider names: as in pywin32, the plain name is the ANSI (_A) string
MS_DEF_PROV_A: Final = "Microsoft Base Cryptographic Provider v1.0"
MS_DEF_PROV: Final = MS_DEF_PROV_A
MS_ENHANCED_PROV_A: Final = "Microsoft Enhanced Cryptographic Provider v1.0"
MS_ENHANCED_PROV: Final = MS_ENHANCED_PROV_A
MS_STRONG_PROV_A: Final = "Microsoft Strong Cryptographic Provider"
MS_STRONG_PROV: Final = MS_STRONG_PROV_A
MS_DEF_RSA_SIG_PROV_A: Final = "Microsoft RSA Signature Cryptographic Provider"
MS_DEF_RSA_SIG_PROV: Final = MS_DEF_RSA_SIG_PROV_A
MS_DEF_RSA_SCHANNEL_PROV_A: Final = "Microsoft RSA SChannel Cryptographic Provider"
MS_DEF_RSA_SCHANNEL_PROV: Final = MS_DEF_RSA_SCHANNEL_PROV_A
MS_DEF_DSS_PROV_A: Final = "Microsoft Base DSS Cryptographic Provider"
MS_DEF_DSS_PROV: Final = MS_DEF_DSS_PROV_A
MS_DEF_DSS_DH_PROV_A: Final = "Microsoft Base DSS and Diffie-Hellman Cryptographic Provider"
MS_DEF_DSS_DH_PROV: Final = MS_DEF_DSS_DH_PROV_A
MS_ENH_DSS_DH_PROV_A: Final = "Microsoft Enhanced DSS and Diffie-Hellman Cryptographic Provider"
MS_ENH_DSS_DH_PROV: Final = MS_ENH_DSS_DH_PROV_A
MS_DEF_DH_SCHANNEL_PROV_A: Final = "Microsoft DH SChannel Cryptographic Provider"
MS_DEF_DH_SCHANNEL_PROV: Final = MS_DEF_DH_SCHANNEL_PROV_A
MS_SCARD_PROV_A: Final = "Microsoft Base Smart Card Crypto Provider"
MS_SCARD_PROV: Final = MS_SCARD_PROV_A
MS_ENH_RSA_AES_PROV_A: Final = "Microsoft Enhanced RSA and AES Cryptographic Provider"
MS_ENH_RSA_AES_PROV: Final = MS_ENH_RSA_AES_PROV_A
MS_ENH_RSA_AES_PROV_XP_A: Final = (  # not in pywin32
    "Microsoft Enhanced RSA and AES Cryptographic Provider (Prototype)"
)
MS_ENH_RSA_AES_PROV_XP: Final = MS_ENH_RSA_AES_PROV_XP_A  # not in pywin32

# Miscellaneous: registry values, BLOB version, Schannel
MAXUIDLEN: Final = 64
EXPO_OFFLOAD_REG_VALUE: Final = "ExpoOffload"
EXPO_OFFLOAD_FUNC_NAME: Final = "OffloadModExpo"
szKEY_CRYPTOAPI_PRIVATE_KEY_OPTIONS: Final = "Software\\Policies\\Microsoft\\Cryptography"
szFORCE_KEY_PROTECTION: Final = "ForceKeyProtection"
dwFORCE_KEY_PROTECTION_DISABLED: Final = 0x0
dwFORCE_KEY_PROTECTION_USER_SELECT: Final = 0x1
dwFORCE_KEY_PROTECTION_HIGH: Final = 0x2
szKEY_CACHE_ENABLED: Final = "CachePrivateKeys"
szKEY_CACHE_SECONDS: Final = "PrivateKeyLifetimeSeconds"
CUR_BLOB_VERSION: Final = 2
SCHANNEL_MAC_KEY: Final = 0x00000000
SCHANNEL_ENC_KEY: Final = 0x00000001
INTERNATIONAL_USAGE: Final = 0x00000001


# ----------------------------------------------------------------------------
# Certificates, messages and stores
#
# Everything below is the rest of wincrypt.h that pywin32's win32cryptcon
# carries. csp11 does not use it; it is here, with pywin32's values, so that
# code importing these names from win32cryptcon keeps working.
# ----------------------------------------------------------------------------

# Object identifiers: algorithms, X.500 attributes
szOID_RSA: Final = "1.2.840.113549"
szOID_PKCS: Final = "1.2.840.113549.1"
szOID_RSA_HASH: Final = "1.2.840.113549.2"
szOID_RSA_ENCRYPT: Final = "1.2.840.113549.3"
szOID_PKCS_1: Final = "1.2.840.113549.1.1"
szOID_PKCS_2: Final = "1.2.840.113549.1.2"
szOID_PKCS_3: Final = "1.2.840.113549.1.3"
szOID_PKCS_4: Final = "1.2.840.113549.1.4"
szOID_PKCS_5: Final = "1.2.840.113549.1.5"
szOID_PKCS_6: Final = "1.2.840.113549.1.6"
szOID_PKCS_7: Final = "1.2.840.113549.1.7"
szOID_PKCS_8: Final = "1.2.840.113549.1.8"
szOID_PKCS_9: Final = "1.2.840.113549.1.9"
szOID_PKCS_10: Final = "1.2.840.113549.1.10"
szOID_PKCS_12: Final = "1.2.840.113549.1.12"
szOID_RSA_RSA: Final = "1.2.840.113549.1.1.1"
szOID_RSA_MD2RSA: Final = "1.2.840.113549.1.1.2"
szOID_RSA_MD4RSA: Final = "1.2.840.113549.1.1.3"
szOID_RSA_MD5RSA: Final = "1.2.840.113549.1.1.4"
szOID_RSA_SHA1RSA: Final = "1.2.840.113549.1.1.5"
szOID_RSA_SETOAEP_RSA: Final = "1.2.840.113549.1.1.6"
szOID_RSA_DH: Final = "1.2.840.113549.1.3.1"
szOID_RSA_data: Final = "1.2.840.113549.1.7.1"
szOID_RSA_signedData: Final = "1.2.840.113549.1.7.2"
szOID_RSA_envelopedData: Final = "1.2.840.113549.1.7.3"
szOID_RSA_signEnvData: Final = "1.2.840.113549.1.7.4"
szOID_RSA_digestedData: Final = "1.2.840.113549.1.7.5"
szOID_RSA_hashedData: Final = "1.2.840.113549.1.7.5"
szOID_RSA_encryptedData: Final = "1.2.840.113549.1.7.6"
szOID_RSA_emailAddr: Final = "1.2.840.113549.1.9.1"
szOID_RSA_unstructName: Final = "1.2.840.113549.1.9.2"
szOID_RSA_contentType: Final = "1.2.840.113549.1.9.3"
szOID_RSA_messageDigest: Final = "1.2.840.113549.1.9.4"
szOID_RSA_signingTime: Final = "1.2.840.113549.1.9.5"
szOID_RSA_counterSign: Final = "1.2.840.113549.1.9.6"
szOID_RSA_challengePwd: Final = "1.2.840.113549.1.9.7"
szOID_RSA_unstructAddr: Final = "1.2.840.113549.1.9.8"
szOID_RSA_extCertAttrs: Final = "1.2.840.113549.1.9.9"
szOID_RSA_certExtensions: Final = "1.2.840.113549.1.9.14"
szOID_RSA_SMIMECapabilities: Final = "1.2.840.113549.1.9.15"
szOID_RSA_preferSignedData: Final = "1.2.840.113549.1.9.15.1"
szOID_RSA_SMIMEalg: Final = "1.2.840.113549.1.9.16.3"
szOID_RSA_SMIMEalgESDH: Final = "1.2.840.113549.1.9.16.3.5"
szOID_RSA_SMIMEalgCMS3DESwrap: Final = "1.2.840.113549.1.9.16.3.6"
szOID_RSA_SMIMEalgCMSRC2wrap: Final = "1.2.840.113549.1.9.16.3.7"
szOID_RSA_MD2: Final = "1.2.840.113549.2.2"
szOID_RSA_MD4: Final = "1.2.840.113549.2.4"
szOID_RSA_MD5: Final = "1.2.840.113549.2.5"
szOID_RSA_RC2CBC: Final = "1.2.840.113549.3.2"
szOID_RSA_RC4: Final = "1.2.840.113549.3.4"
szOID_RSA_DES_EDE3_CBC: Final = "1.2.840.113549.3.7"
szOID_RSA_RC5_CBCPad: Final = "1.2.840.113549.3.9"
szOID_ANSI_X942: Final = "1.2.840.10046"
szOID_ANSI_X942_DH: Final = "1.2.840.10046.2.1"
szOID_X957: Final = "1.2.840.10040"
szOID_X957_DSA: Final = "1.2.840.10040.4.1"
szOID_X957_SHA1DSA: Final = "1.2.840.10040.4.3"
szOID_DS: Final = "2.5"
szOID_DSALG: Final = "2.5.8"
szOID_DSALG_CRPT: Final = "2.5.8.1"
szOID_DSALG_HASH: Final = "2.5.8.2"
szOID_DSALG_SIGN: Final = "2.5.8.3"
szOID_DSALG_RSA: Final = "2.5.8.1.1"
szOID_OIW: Final = "1.3.14"
szOID_OIWSEC: Final = "1.3.14.3.2"
szOID_OIWSEC_md4RSA: Final = "1.3.14.3.2.2"
szOID_OIWSEC_md5RSA: Final = "1.3.14.3.2.3"
szOID_OIWSEC_md4RSA2: Final = "1.3.14.3.2.4"
szOID_OIWSEC_desECB: Final = "1.3.14.3.2.6"
szOID_OIWSEC_desCBC: Final = "1.3.14.3.2.7"
szOID_OIWSEC_desOFB: Final = "1.3.14.3.2.8"
szOID_OIWSEC_desCFB: Final = "1.3.14.3.2.9"
szOID_OIWSEC_desMAC: Final = "1.3.14.3.2.10"
szOID_OIWSEC_rsaSign: Final = "1.3.14.3.2.11"
szOID_OIWSEC_dsa: Final = "1.3.14.3.2.12"
szOID_OIWSEC_shaDSA: Final = "1.3.14.3.2.13"
szOID_OIWSEC_mdc2RSA: Final = "1.3.14.3.2.14"
szOID_OIWSEC_shaRSA: Final = "1.3.14.3.2.15"
szOID_OIWSEC_dhCommMod: Final = "1.3.14.3.2.16"
szOID_OIWSEC_desEDE: Final = "1.3.14.3.2.17"
szOID_OIWSEC_sha: Final = "1.3.14.3.2.18"
szOID_OIWSEC_mdc2: Final = "1.3.14.3.2.19"
szOID_OIWSEC_dsaComm: Final = "1.3.14.3.2.20"
szOID_OIWSEC_dsaCommSHA: Final = "1.3.14.3.2.21"
szOID_OIWSEC_rsaXchg: Final = "1.3.14.3.2.22"
szOID_OIWSEC_keyHashSeal: Final = "1.3.14.3.2.23"
szOID_OIWSEC_md2RSASign: Final = "1.3.14.3.2.24"
szOID_OIWSEC_md5RSASign: Final = "1.3.14.3.2.25"
szOID_OIWSEC_sha1: Final = "1.3.14.3.2.26"
szOID_OIWSEC_dsaSHA1: Final = "1.3.14.3.2.27"
szOID_OIWSEC_dsaCommSHA1: Final = "1.3.14.3.2.28"
szOID_OIWSEC_sha1RSASign: Final = "1.3.14.3.2.29"
szOID_OIWDIR: Final = "1.3.14.7.2"
szOID_OIWDIR_CRPT: Final = "1.3.14.7.2.1"
szOID_OIWDIR_HASH: Final = "1.3.14.7.2.2"
szOID_OIWDIR_SIGN: Final = "1.3.14.7.2.3"
szOID_OIWDIR_md2: Final = "1.3.14.7.2.2.1"
szOID_OIWDIR_md2RSA: Final = "1.3.14.7.2.3.1"
szOID_INFOSEC: Final = "2.16.840.1.101.2.1"
szOID_INFOSEC_sdnsSignature: Final = "2.16.840.1.101.2.1.1.1"
szOID_INFOSEC_mosaicSignature: Final = "2.16.840.1.101.2.1.1.2"
szOID_INFOSEC_sdnsConfidentiality: Final = "2.16.840.1.101.2.1.1.3"
szOID_INFOSEC_mosaicConfidentiality: Final = "2.16.840.1.101.2.1.1.4"
szOID_INFOSEC_sdnsIntegrity: Final = "2.16.840.1.101.2.1.1.5"
szOID_INFOSEC_mosaicIntegrity: Final = "2.16.840.1.101.2.1.1.6"
szOID_INFOSEC_sdnsTokenProtection: Final = "2.16.840.1.101.2.1.1.7"
szOID_INFOSEC_mosaicTokenProtection: Final = "2.16.840.1.101.2.1.1.8"
szOID_INFOSEC_sdnsKeyManagement: Final = "2.16.840.1.101.2.1.1.9"
szOID_INFOSEC_mosaicKeyManagement: Final = "2.16.840.1.101.2.1.1.10"
szOID_INFOSEC_sdnsKMandSig: Final = "2.16.840.1.101.2.1.1.11"
szOID_INFOSEC_mosaicKMandSig: Final = "2.16.840.1.101.2.1.1.12"
szOID_INFOSEC_SuiteASignature: Final = "2.16.840.1.101.2.1.1.13"
szOID_INFOSEC_SuiteAConfidentiality: Final = "2.16.840.1.101.2.1.1.14"
szOID_INFOSEC_SuiteAIntegrity: Final = "2.16.840.1.101.2.1.1.15"
szOID_INFOSEC_SuiteATokenProtection: Final = "2.16.840.1.101.2.1.1.16"
szOID_INFOSEC_SuiteAKeyManagement: Final = "2.16.840.1.101.2.1.1.17"
szOID_INFOSEC_SuiteAKMandSig: Final = "2.16.840.1.101.2.1.1.18"
szOID_INFOSEC_mosaicUpdatedSig: Final = "2.16.840.1.101.2.1.1.19"
szOID_INFOSEC_mosaicKMandUpdSig: Final = "2.16.840.1.101.2.1.1.20"
szOID_INFOSEC_mosaicUpdatedInteg: Final = "2.16.840.1.101.2.1.1.21"
szOID_COMMON_NAME: Final = "2.5.4.3"
szOID_SUR_NAME: Final = "2.5.4.4"
szOID_DEVICE_SERIAL_NUMBER: Final = "2.5.4.5"
szOID_COUNTRY_NAME: Final = "2.5.4.6"
szOID_LOCALITY_NAME: Final = "2.5.4.7"
szOID_STATE_OR_PROVINCE_NAME: Final = "2.5.4.8"
szOID_STREET_ADDRESS: Final = "2.5.4.9"
szOID_ORGANIZATION_NAME: Final = "2.5.4.10"
szOID_ORGANIZATIONAL_UNIT_NAME: Final = "2.5.4.11"
szOID_TITLE: Final = "2.5.4.12"
szOID_DESCRIPTION: Final = "2.5.4.13"
szOID_SEARCH_GUIDE: Final = "2.5.4.14"
szOID_BUSINESS_CATEGORY: Final = "2.5.4.15"
szOID_POSTAL_ADDRESS: Final = "2.5.4.16"
szOID_POSTAL_CODE: Final = "2.5.4.17"
szOID_POST_OFFICE_BOX: Final = "2.5.4.18"
szOID_PHYSICAL_DELIVERY_OFFICE_NAME: Final = "2.5.4.19"
szOID_TELEPHONE_NUMBER: Final = "2.5.4.20"
szOID_TELEX_NUMBER: Final = "2.5.4.21"
szOID_TELETEXT_TERMINAL_IDENTIFIER: Final = "2.5.4.22"
szOID_FACSIMILE_TELEPHONE_NUMBER: Final = "2.5.4.23"
szOID_X21_ADDRESS: Final = "2.5.4.24"
szOID_INTERNATIONAL_ISDN_NUMBER: Final = "2.5.4.25"
szOID_REGISTERED_ADDRESS: Final = "2.5.4.26"
szOID_DESTINATION_INDICATOR: Final = "2.5.4.27"
szOID_PREFERRED_DELIVERY_METHOD: Final = "2.5.4.28"
szOID_PRESENTATION_ADDRESS: Final = "2.5.4.29"
szOID_SUPPORTED_APPLICATION_CONTEXT: Final = "2.5.4.30"
szOID_MEMBER: Final = "2.5.4.31"
szOID_OWNER: Final = "2.5.4.32"
szOID_ROLE_OCCUPANT: Final = "2.5.4.33"
szOID_SEE_ALSO: Final = "2.5.4.34"
szOID_USER_PASSWORD: Final = "2.5.4.35"  # noqa: S105 - an OID, not a password
szOID_USER_CERTIFICATE: Final = "2.5.4.36"
szOID_CA_CERTIFICATE: Final = "2.5.4.37"
szOID_AUTHORITY_REVOCATION_LIST: Final = "2.5.4.38"
szOID_CERTIFICATE_REVOCATION_LIST: Final = "2.5.4.39"
szOID_CROSS_CERTIFICATE_PAIR: Final = "2.5.4.40"
szOID_GIVEN_NAME: Final = "2.5.4.42"
szOID_INITIALS: Final = "2.5.4.43"
szOID_DN_QUALIFIER: Final = "2.5.4.46"
szOID_DOMAIN_COMPONENT: Final = "0.9.2342.19200300.100.1.25"
szOID_PKCS_12_FRIENDLY_NAME_ATTR: Final = "1.2.840.113549.1.9.20"
szOID_PKCS_12_LOCAL_KEY_ID: Final = "1.2.840.113549.1.9.21"
szOID_PKCS_12_KEY_PROVIDER_NAME_ATTR: Final = "1.3.6.1.4.1.311.17.1"
szOID_LOCAL_MACHINE_KEYSET: Final = "1.3.6.1.4.1.311.17.2"
szOID_KEYID_RDN: Final = "1.3.6.1.4.1.311.10.7.1"

# Certificate names (CERT_RDN_*), versions, encoding types
CERT_RDN_ANY_TYPE: Final = 0
CERT_RDN_ENCODED_BLOB: Final = 1
CERT_RDN_OCTET_STRING: Final = 2
CERT_RDN_NUMERIC_STRING: Final = 3
CERT_RDN_PRINTABLE_STRING: Final = 4
CERT_RDN_TELETEX_STRING: Final = 5
CERT_RDN_T61_STRING: Final = 5
CERT_RDN_VIDEOTEX_STRING: Final = 6
CERT_RDN_IA5_STRING: Final = 7
CERT_RDN_GRAPHIC_STRING: Final = 8
CERT_RDN_VISIBLE_STRING: Final = 9
CERT_RDN_ISO646_STRING: Final = 9
CERT_RDN_GENERAL_STRING: Final = 10
CERT_RDN_UNIVERSAL_STRING: Final = 11
CERT_RDN_INT4_STRING: Final = 11
CERT_RDN_BMP_STRING: Final = 12
CERT_RDN_UNICODE_STRING: Final = 12
CERT_RDN_UTF8_STRING: Final = 13
CERT_RDN_TYPE_MASK: Final = 0x000000FF
CERT_RDN_FLAGS_MASK: Final = -16777216
CERT_RDN_ENABLE_T61_UNICODE_FLAG: Final = -2147483648
CERT_RDN_ENABLE_UTF8_UNICODE_FLAG: Final = 0x20000000
CERT_RDN_DISABLE_CHECK_TYPE_FLAG: Final = 0x40000000
CERT_RDN_DISABLE_IE4_UTF8_FLAG: Final = 0x01000000
CERT_RSA_PUBLIC_KEY_OBJID: Final = szOID_RSA_RSA
CERT_DEFAULT_OID_PUBLIC_KEY_SIGN: Final = szOID_RSA_RSA
CERT_DEFAULT_OID_PUBLIC_KEY_XCHG: Final = szOID_RSA_RSA
CERT_V1: Final = 0
CERT_V2: Final = 1
CERT_V3: Final = 2
CERT_INFO_VERSION_FLAG: Final = 1
CERT_INFO_SERIAL_NUMBER_FLAG: Final = 2
CERT_INFO_SIGNATURE_ALGORITHM_FLAG: Final = 3
CERT_INFO_ISSUER_FLAG: Final = 4
CERT_INFO_NOT_BEFORE_FLAG: Final = 5
CERT_INFO_NOT_AFTER_FLAG: Final = 6
CERT_INFO_SUBJECT_FLAG: Final = 7
CERT_INFO_SUBJECT_PUBLIC_KEY_INFO_FLAG: Final = 8
CERT_INFO_ISSUER_UNIQUE_ID_FLAG: Final = 9
CERT_INFO_SUBJECT_UNIQUE_ID_FLAG: Final = 10
CERT_INFO_EXTENSION_FLAG: Final = 11
CRL_V1: Final = 0
CRL_V2: Final = 1
CERT_REQUEST_V1: Final = 0
CERT_KEYGEN_REQUEST_V1: Final = 0
CTL_V1: Final = 0
CERT_ENCODING_TYPE_MASK: Final = 0x0000FFFF
CMSG_ENCODING_TYPE_MASK: Final = -65536


def GET_CERT_ENCODING_TYPE(X: int) -> int:
    """Return the certificate encoding part (low 16 bits) of the encoding type *X*."""
    return X & CERT_ENCODING_TYPE_MASK


def GET_CMSG_ENCODING_TYPE(X: int) -> int:
    """Return the message encoding part (high 16 bits) of the encoding type *X*."""
    return X & CMSG_ENCODING_TYPE_MASK


CRYPT_ASN_ENCODING: Final = 0x00000001
CRYPT_NDR_ENCODING: Final = 0x00000002
X509_ASN_ENCODING: Final = 0x00000001
X509_NDR_ENCODING: Final = 0x00000002
PKCS_7_ASN_ENCODING: Final = 0x00010000
PKCS_7_NDR_ENCODING: Final = 0x00020000

# CryptFormatObject, CryptEncodeObject(Ex), CryptDecodeObject(Ex) flags
CRYPT_FORMAT_STR_MULTI_LINE: Final = 0x0001
CRYPT_FORMAT_STR_NO_HEX: Final = 0x0010
CRYPT_FORMAT_SIMPLE: Final = 0x0001
CRYPT_FORMAT_X509: Final = 0x0002
CRYPT_FORMAT_OID: Final = 0x0004
CRYPT_FORMAT_RDN_SEMICOLON: Final = 0x0100
CRYPT_FORMAT_RDN_CRLF: Final = 0x0200
CRYPT_FORMAT_RDN_UNQUOTE: Final = 0x0400
CRYPT_FORMAT_RDN_REVERSE: Final = 0x0800
CRYPT_FORMAT_COMMA: Final = 0x1000
CRYPT_FORMAT_SEMICOLON: Final = CRYPT_FORMAT_RDN_SEMICOLON
CRYPT_FORMAT_CRLF: Final = CRYPT_FORMAT_RDN_CRLF
CRYPT_ENCODE_NO_SIGNATURE_BYTE_REVERSAL_FLAG: Final = 0x8
CRYPT_ENCODE_ALLOC_FLAG: Final = 0x8000
CRYPT_UNICODE_NAME_ENCODE_ENABLE_T61_UNICODE_FLAG: Final = CERT_RDN_ENABLE_T61_UNICODE_FLAG
CRYPT_UNICODE_NAME_ENCODE_ENABLE_UTF8_UNICODE_FLAG: Final = CERT_RDN_ENABLE_UTF8_UNICODE_FLAG
CRYPT_UNICODE_NAME_ENCODE_DISABLE_CHECK_TYPE_FLAG: Final = CERT_RDN_DISABLE_CHECK_TYPE_FLAG
CRYPT_SORTED_CTL_ENCODE_HASHED_SUBJECT_IDENTIFIER_FLAG: Final = 0x10000
CRYPT_DECODE_NOCOPY_FLAG: Final = 0x1
CRYPT_DECODE_TO_BE_SIGNED_FLAG: Final = 0x2
CRYPT_DECODE_SHARE_OID_STRING_FLAG: Final = 0x4
CRYPT_DECODE_NO_SIGNATURE_BYTE_REVERSAL_FLAG: Final = 0x8
CRYPT_DECODE_ALLOC_FLAG: Final = 0x8000
CRYPT_UNICODE_NAME_DECODE_DISABLE_IE4_UTF8_FLAG: Final = CERT_RDN_DISABLE_IE4_UTF8_FLAG

# Predefined structure types for CryptEncodeObject / CryptDecodeObject
CRYPT_ENCODE_DECODE_NONE: Final = 0
X509_CERT: Final = 1
X509_CERT_TO_BE_SIGNED: Final = 2
X509_CERT_CRL_TO_BE_SIGNED: Final = 3
X509_CERT_REQUEST_TO_BE_SIGNED: Final = 4
X509_EXTENSIONS: Final = 5
X509_NAME_VALUE: Final = 6
X509_NAME: Final = 7
X509_PUBLIC_KEY_INFO: Final = 8
X509_AUTHORITY_KEY_ID: Final = 9
X509_KEY_ATTRIBUTES: Final = 10
X509_KEY_USAGE_RESTRICTION: Final = 11
X509_ALTERNATE_NAME: Final = 12
X509_BASIC_CONSTRAINTS: Final = 13
X509_KEY_USAGE: Final = 14
X509_BASIC_CONSTRAINTS2: Final = 15
X509_CERT_POLICIES: Final = 16
PKCS_UTC_TIME: Final = 17
PKCS_TIME_REQUEST: Final = 18
RSA_CSP_PUBLICKEYBLOB: Final = 19
X509_UNICODE_NAME: Final = 20
X509_KEYGEN_REQUEST_TO_BE_SIGNED: Final = 21
PKCS_ATTRIBUTE: Final = 22
PKCS_CONTENT_INFO_SEQUENCE_OF_ANY: Final = 23
X509_UNICODE_NAME_VALUE: Final = 24
X509_ANY_STRING: Final = X509_NAME_VALUE
X509_UNICODE_ANY_STRING: Final = X509_UNICODE_NAME_VALUE
X509_OCTET_STRING: Final = 25
X509_BITS: Final = 26
X509_INTEGER: Final = 27
X509_MULTI_BYTE_INTEGER: Final = 28
X509_ENUMERATED: Final = 29
X509_CHOICE_OF_TIME: Final = 30
X509_AUTHORITY_KEY_ID2: Final = 31
X509_AUTHORITY_INFO_ACCESS: Final = 32
X509_SUBJECT_INFO_ACCESS: Final = X509_AUTHORITY_INFO_ACCESS
X509_CRL_REASON_CODE: Final = X509_ENUMERATED
PKCS_CONTENT_INFO: Final = 33
X509_SEQUENCE_OF_ANY: Final = 34
X509_CRL_DIST_POINTS: Final = 35
X509_ENHANCED_KEY_USAGE: Final = 36
PKCS_CTL: Final = 37
X509_MULTI_BYTE_UINT: Final = 38
X509_DSS_PUBLICKEY: Final = X509_MULTI_BYTE_UINT
X509_DSS_PARAMETERS: Final = 39
X509_DSS_SIGNATURE: Final = 40
PKCS_RC2_CBC_PARAMETERS: Final = 41
PKCS_SMIME_CAPABILITIES: Final = 42
X509_QC_STATEMENTS_EXT: Final = 42
PKCS_RSA_PRIVATE_KEY: Final = 43
PKCS_PRIVATE_KEY_INFO: Final = 44
PKCS_ENCRYPTED_PRIVATE_KEY_INFO: Final = 45
X509_PKIX_POLICY_QUALIFIER_USERNOTICE: Final = 46
X509_DH_PUBLICKEY: Final = X509_MULTI_BYTE_UINT
X509_DH_PARAMETERS: Final = 47
PKCS_ATTRIBUTES: Final = 48
PKCS_SORTED_CTL: Final = 49
X509_ECC_SIGNATURE: Final = 47
X942_DH_PARAMETERS: Final = 50
X509_BITS_WITHOUT_TRAILING_ZEROES: Final = 51
X942_OTHER_INFO: Final = 52
X509_CERT_PAIR: Final = 53
X509_ISSUING_DIST_POINT: Final = 54
X509_NAME_CONSTRAINTS: Final = 55
X509_POLICY_MAPPINGS: Final = 56
X509_POLICY_CONSTRAINTS: Final = 57
X509_CROSS_CERT_DIST_POINTS: Final = 58
CMC_DATA: Final = 59
CMC_RESPONSE: Final = 60
CMC_STATUS: Final = 61
CMC_ADD_EXTENSIONS: Final = 62
CMC_ADD_ATTRIBUTES: Final = 63
X509_CERTIFICATE_TEMPLATE: Final = 64
OCSP_SIGNED_REQUEST: Final = 65
OCSP_REQUEST: Final = 66
OCSP_RESPONSE: Final = 67
OCSP_BASIC_SIGNED_RESPONSE: Final = 68
OCSP_BASIC_RESPONSE: Final = 69
X509_LOGOTYPE_EXT: Final = 70
X509_BIOMETRIC_EXT: Final = 71
CNG_RSA_PUBLIC_KEY_BLOB: Final = 72
X509_OBJECT_IDENTIFIER: Final = 73
X509_ALGORITHM_IDENTIFIER: Final = 74
PKCS_RSA_SSA_PSS_PARAMETERS: Final = 75
PKCS_RSAES_OAEP_PARAMETERS: Final = 76
ECC_CMS_SHARED_INFO: Final = 77
TIMESTAMP_REQUEST: Final = 78
TIMESTAMP_RESPONSE: Final = 79
TIMESTAMP_INFO: Final = 80
X509_CERT_BUNDLE: Final = 81
PKCS7_SIGNER_INFO: Final = 500
CMS_SIGNER_INFO: Final = 501

# Extension and usage OIDs; extension field values
szOID_AUTHORITY_KEY_IDENTIFIER: Final = "2.5.29.1"
szOID_KEY_ATTRIBUTES: Final = "2.5.29.2"
szOID_CERT_POLICIES_95: Final = "2.5.29.3"
szOID_KEY_USAGE_RESTRICTION: Final = "2.5.29.4"
szOID_SUBJECT_ALT_NAME: Final = "2.5.29.7"
szOID_ISSUER_ALT_NAME: Final = "2.5.29.8"
szOID_BASIC_CONSTRAINTS: Final = "2.5.29.10"
szOID_KEY_USAGE: Final = "2.5.29.15"
szOID_PRIVATEKEY_USAGE_PERIOD: Final = "2.5.29.16"
szOID_BASIC_CONSTRAINTS2: Final = "2.5.29.19"
szOID_CERT_POLICIES: Final = "2.5.29.32"
szOID_ANY_CERT_POLICY: Final = "2.5.29.32.0"
szOID_AUTHORITY_KEY_IDENTIFIER2: Final = "2.5.29.35"
szOID_SUBJECT_KEY_IDENTIFIER: Final = "2.5.29.14"
szOID_SUBJECT_ALT_NAME2: Final = "2.5.29.17"
szOID_ISSUER_ALT_NAME2: Final = "2.5.29.18"
szOID_CRL_REASON_CODE: Final = "2.5.29.21"
szOID_REASON_CODE_HOLD: Final = "2.5.29.23"
szOID_CRL_DIST_POINTS: Final = "2.5.29.31"
szOID_ENHANCED_KEY_USAGE: Final = "2.5.29.37"
szOID_CRL_NUMBER: Final = "2.5.29.20"
szOID_DELTA_CRL_INDICATOR: Final = "2.5.29.27"
szOID_ISSUING_DIST_POINT: Final = "2.5.29.28"
szOID_FRESHEST_CRL: Final = "2.5.29.46"
szOID_NAME_CONSTRAINTS: Final = "2.5.29.30"
szOID_POLICY_MAPPINGS: Final = "2.5.29.33"
szOID_LEGACY_POLICY_MAPPINGS: Final = "2.5.29.5"
szOID_POLICY_CONSTRAINTS: Final = "2.5.29.36"
szOID_RENEWAL_CERTIFICATE: Final = "1.3.6.1.4.1.311.13.1"
szOID_ENROLLMENT_NAME_VALUE_PAIR: Final = "1.3.6.1.4.1.311.13.2.1"
szOID_ENROLLMENT_CSP_PROVIDER: Final = "1.3.6.1.4.1.311.13.2.2"
szOID_OS_VERSION: Final = "1.3.6.1.4.1.311.13.2.3"
szOID_ENROLLMENT_AGENT: Final = "1.3.6.1.4.1.311.20.2.1"
szOID_PKIX: Final = "1.3.6.1.5.5.7"
szOID_PKIX_PE: Final = "1.3.6.1.5.5.7.1"
szOID_AUTHORITY_INFO_ACCESS: Final = "1.3.6.1.5.5.7.1.1"
szOID_CERT_EXTENSIONS: Final = "1.3.6.1.4.1.311.2.1.14"
szOID_NEXT_UPDATE_LOCATION: Final = "1.3.6.1.4.1.311.10.2"
szOID_REMOVE_CERTIFICATE: Final = "1.3.6.1.4.1.311.10.8.1"
szOID_CROSS_CERT_DIST_POINTS: Final = "1.3.6.1.4.1.311.10.9.1"
szOID_CTL: Final = "1.3.6.1.4.1.311.10.1"
szOID_SORTED_CTL: Final = "1.3.6.1.4.1.311.10.1.1"
szOID_SERIALIZED: Final = "1.3.6.1.4.1.311.10.3.3.1"
szOID_NT_PRINCIPAL_NAME: Final = "1.3.6.1.4.1.311.20.2.3"
szOID_PRODUCT_UPDATE: Final = "1.3.6.1.4.1.311.31.1"
szOID_ANY_APPLICATION_POLICY: Final = "1.3.6.1.4.1.311.10.12.1"
szOID_AUTO_ENROLL_CTL_USAGE: Final = "1.3.6.1.4.1.311.20.1"
szOID_ENROLL_CERTTYPE_EXTENSION: Final = "1.3.6.1.4.1.311.20.2"
szOID_CERT_MANIFOLD: Final = "1.3.6.1.4.1.311.20.3"
szOID_CERTSRV_CA_VERSION: Final = "1.3.6.1.4.1.311.21.1"
szOID_CERTSRV_PREVIOUS_CERT_HASH: Final = "1.3.6.1.4.1.311.21.2"
szOID_CRL_VIRTUAL_BASE: Final = "1.3.6.1.4.1.311.21.3"
szOID_CRL_NEXT_PUBLISH: Final = "1.3.6.1.4.1.311.21.4"
szOID_KP_CA_EXCHANGE: Final = "1.3.6.1.4.1.311.21.5"
szOID_KP_KEY_RECOVERY_AGENT: Final = "1.3.6.1.4.1.311.21.6"
szOID_CERTIFICATE_TEMPLATE: Final = "1.3.6.1.4.1.311.21.7"
szOID_ENTERPRISE_OID_ROOT: Final = "1.3.6.1.4.1.311.21.8"
szOID_RDN_DUMMY_SIGNER: Final = "1.3.6.1.4.1.311.21.9"
szOID_APPLICATION_CERT_POLICIES: Final = "1.3.6.1.4.1.311.21.10"
szOID_APPLICATION_POLICY_MAPPINGS: Final = "1.3.6.1.4.1.311.21.11"
szOID_APPLICATION_POLICY_CONSTRAINTS: Final = "1.3.6.1.4.1.311.21.12"
szOID_ARCHIVED_KEY_ATTR: Final = "1.3.6.1.4.1.311.21.13"
szOID_CRL_SELF_CDP: Final = "1.3.6.1.4.1.311.21.14"
szOID_REQUIRE_CERT_CHAIN_POLICY: Final = "1.3.6.1.4.1.311.21.15"
szOID_ARCHIVED_KEY_CERT_HASH: Final = "1.3.6.1.4.1.311.21.16"
szOID_ISSUED_CERT_HASH: Final = "1.3.6.1.4.1.311.21.17"
szOID_DS_EMAIL_REPLICATION: Final = "1.3.6.1.4.1.311.21.19"
szOID_REQUEST_CLIENT_INFO: Final = "1.3.6.1.4.1.311.21.20"
szOID_ENCRYPTED_KEY_HASH: Final = "1.3.6.1.4.1.311.21.21"
szOID_CERTSRV_CROSSCA_VERSION: Final = "1.3.6.1.4.1.311.21.22"
szOID_NTDS_REPLICATION: Final = "1.3.6.1.4.1.311.25.1"
szOID_SUBJECT_DIR_ATTRS: Final = "2.5.29.9"
szOID_PKIX_KP: Final = "1.3.6.1.5.5.7.3"
szOID_PKIX_KP_SERVER_AUTH: Final = "1.3.6.1.5.5.7.3.1"
szOID_PKIX_KP_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"
szOID_PKIX_KP_CODE_SIGNING: Final = "1.3.6.1.5.5.7.3.3"
szOID_PKIX_KP_EMAIL_PROTECTION: Final = "1.3.6.1.5.5.7.3.4"
szOID_PKIX_KP_IPSEC_END_SYSTEM: Final = "1.3.6.1.5.5.7.3.5"
szOID_PKIX_KP_IPSEC_TUNNEL: Final = "1.3.6.1.5.5.7.3.6"
szOID_PKIX_KP_IPSEC_USER: Final = "1.3.6.1.5.5.7.3.7"
szOID_PKIX_KP_TIMESTAMP_SIGNING: Final = "1.3.6.1.5.5.7.3.8"
szOID_IPSEC_KP_IKE_INTERMEDIATE: Final = "1.3.6.1.5.5.8.2.2"
szOID_KP_CTL_USAGE_SIGNING: Final = "1.3.6.1.4.1.311.10.3.1"
szOID_KP_TIME_STAMP_SIGNING: Final = "1.3.6.1.4.1.311.10.3.2"
szOID_SERVER_GATED_CRYPTO: Final = "1.3.6.1.4.1.311.10.3.3"
szOID_SGC_NETSCAPE: Final = "2.16.840.1.113730.4.1"
szOID_KP_EFS: Final = "1.3.6.1.4.1.311.10.3.4"
szOID_EFS_RECOVERY: Final = "1.3.6.1.4.1.311.10.3.4.1"
szOID_WHQL_CRYPTO: Final = "1.3.6.1.4.1.311.10.3.5"
szOID_NT5_CRYPTO: Final = "1.3.6.1.4.1.311.10.3.6"
szOID_OEM_WHQL_CRYPTO: Final = "1.3.6.1.4.1.311.10.3.7"
szOID_EMBEDDED_NT_CRYPTO: Final = "1.3.6.1.4.1.311.10.3.8"
szOID_ROOT_LIST_SIGNER: Final = "1.3.6.1.4.1.311.10.3.9"
szOID_KP_QUALIFIED_SUBORDINATION: Final = "1.3.6.1.4.1.311.10.3.10"
szOID_KP_KEY_RECOVERY: Final = "1.3.6.1.4.1.311.10.3.11"
szOID_KP_DOCUMENT_SIGNING: Final = "1.3.6.1.4.1.311.10.3.12"
szOID_KP_LIFETIME_SIGNING: Final = "1.3.6.1.4.1.311.10.3.13"
szOID_KP_MOBILE_DEVICE_SOFTWARE: Final = "1.3.6.1.4.1.311.10.3.14"
szOID_DRM: Final = "1.3.6.1.4.1.311.10.5.1"
szOID_DRM_INDIVIDUALIZATION: Final = "1.3.6.1.4.1.311.10.5.2"
szOID_LICENSES: Final = "1.3.6.1.4.1.311.10.6.1"
szOID_LICENSE_SERVER: Final = "1.3.6.1.4.1.311.10.6.2"
szOID_KP_SMARTCARD_LOGON: Final = "1.3.6.1.4.1.311.20.2.2"
szOID_YESNO_TRUST_ATTR: Final = "1.3.6.1.4.1.311.10.4.1"
szOID_PKIX_POLICY_QUALIFIER_CPS: Final = "1.3.6.1.5.5.7.2.1"
szOID_PKIX_POLICY_QUALIFIER_USERNOTICE: Final = "1.3.6.1.5.5.7.2.2"
szOID_CERT_POLICIES_95_QUALIFIER1: Final = "2.16.840.1.113733.1.7.1.1"
CERT_UNICODE_RDN_ERR_INDEX_MASK: Final = 0x3FF
CERT_UNICODE_RDN_ERR_INDEX_SHIFT: Final = 22
CERT_UNICODE_ATTR_ERR_INDEX_MASK: Final = 0x003F
CERT_UNICODE_ATTR_ERR_INDEX_SHIFT: Final = 16
CERT_UNICODE_VALUE_ERR_INDEX_MASK: Final = 0x0000FFFF
CERT_UNICODE_VALUE_ERR_INDEX_SHIFT: Final = 0
CERT_DIGITAL_SIGNATURE_KEY_USAGE: Final = 0x80
CERT_NON_REPUDIATION_KEY_USAGE: Final = 0x40
CERT_KEY_ENCIPHERMENT_KEY_USAGE: Final = 0x20
CERT_DATA_ENCIPHERMENT_KEY_USAGE: Final = 0x10
CERT_KEY_AGREEMENT_KEY_USAGE: Final = 0x08
CERT_KEY_CERT_SIGN_KEY_USAGE: Final = 0x04
CERT_OFFLINE_CRL_SIGN_KEY_USAGE: Final = 0x02
CERT_CRL_SIGN_KEY_USAGE: Final = 0x02
CERT_ENCIPHER_ONLY_KEY_USAGE: Final = 0x01
CERT_DECIPHER_ONLY_KEY_USAGE: Final = 0x80
CERT_ALT_NAME_OTHER_NAME: Final = 1
CERT_ALT_NAME_RFC822_NAME: Final = 2
CERT_ALT_NAME_DNS_NAME: Final = 3
CERT_ALT_NAME_X400_ADDRESS: Final = 4
CERT_ALT_NAME_DIRECTORY_NAME: Final = 5
CERT_ALT_NAME_EDI_PARTY_NAME: Final = 6
CERT_ALT_NAME_URL: Final = 7
CERT_ALT_NAME_IP_ADDRESS: Final = 8
CERT_ALT_NAME_REGISTERED_ID: Final = 9
CERT_ALT_NAME_ENTRY_ERR_INDEX_MASK: Final = 0xFF
CERT_ALT_NAME_ENTRY_ERR_INDEX_SHIFT: Final = 16
CERT_ALT_NAME_VALUE_ERR_INDEX_MASK: Final = 0x0000FFFF
CERT_ALT_NAME_VALUE_ERR_INDEX_SHIFT: Final = 0
CERT_CA_SUBJECT_FLAG: Final = 0x80
CERT_END_ENTITY_SUBJECT_FLAG: Final = 0x40
szOID_PKIX_ACC_DESCR: Final = "1.3.6.1.5.5.7.48"
szOID_PKIX_OCSP: Final = "1.3.6.1.5.5.7.48.1"
szOID_PKIX_CA_ISSUERS: Final = "1.3.6.1.5.5.7.48.2"
CRL_REASON_UNSPECIFIED: Final = 0
CRL_REASON_KEY_COMPROMISE: Final = 1
CRL_REASON_CA_COMPROMISE: Final = 2
CRL_REASON_AFFILIATION_CHANGED: Final = 3
CRL_REASON_SUPERSEDED: Final = 4
CRL_REASON_CESSATION_OF_OPERATION: Final = 5
CRL_REASON_CERTIFICATE_HOLD: Final = 6
CRL_REASON_REMOVE_FROM_CRL: Final = 8
CRL_DIST_POINT_NO_NAME: Final = 0
CRL_DIST_POINT_FULL_NAME: Final = 1
CRL_DIST_POINT_ISSUER_RDN_NAME: Final = 2
CRL_REASON_UNUSED_FLAG: Final = 0x80
CRL_REASON_KEY_COMPROMISE_FLAG: Final = 0x40
CRL_REASON_CA_COMPROMISE_FLAG: Final = 0x20
CRL_REASON_AFFILIATION_CHANGED_FLAG: Final = 0x10
CRL_REASON_SUPERSEDED_FLAG: Final = 0x08
CRL_REASON_CESSATION_OF_OPERATION_FLAG: Final = 0x04
CRL_REASON_CERTIFICATE_HOLD_FLAG: Final = 0x02
CRL_DIST_POINT_ERR_INDEX_MASK: Final = 0x7F
CRL_DIST_POINT_ERR_INDEX_SHIFT: Final = 24
CRL_DIST_POINT_ERR_CRL_ISSUER_BIT: Final = -2147483648
CROSS_CERT_DIST_POINT_ERR_INDEX_MASK: Final = 0xFF
CROSS_CERT_DIST_POINT_ERR_INDEX_SHIFT: Final = 24
CERT_EXCLUDED_SUBTREE_BIT: Final = -2147483648
SORTED_CTL_EXT_FLAGS_OFFSET: Final = 0
SORTED_CTL_EXT_COUNT_OFFSET: Final = 4
SORTED_CTL_EXT_MAX_COLLISION_OFFSET: Final = 8
SORTED_CTL_EXT_HASH_BUCKET_OFFSET: Final = 12
SORTED_CTL_EXT_HASHED_SUBJECT_IDENTIFIER_FLAG: Final = 0x1
CERT_DSS_R_LEN: Final = 20
CERT_DSS_S_LEN: Final = 20
CERT_DSS_SIGNATURE_LEN: Final = 40
CERT_MAX_ASN_ENCODED_DSS_SIGNATURE_LEN: Final = 48
CRYPT_X942_COUNTER_BYTE_LENGTH: Final = 4
CRYPT_X942_KEY_LENGTH_BYTE_LENGTH: Final = 4
CRYPT_X942_PUB_INFO_BYTE_LENGTH: Final = 64.0
CRYPT_RC2_40BIT_VERSION: Final = 160
CRYPT_RC2_56BIT_VERSION: Final = 52
CRYPT_RC2_64BIT_VERSION: Final = 120
CRYPT_RC2_128BIT_VERSION: Final = 58
szOID_VERISIGN_PRIVATE_6_9: Final = "2.16.840.1.113733.1.6.9"
szOID_VERISIGN_ONSITE_JURISDICTION_HASH: Final = "2.16.840.1.113733.1.6.11"
szOID_VERISIGN_BITSTRING_6_13: Final = "2.16.840.1.113733.1.6.13"
szOID_VERISIGN_ISS_STRONG_CRYPTO: Final = "2.16.840.1.113733.1.8.1"
szOID_NETSCAPE: Final = "2.16.840.1.113730"
szOID_NETSCAPE_CERT_EXTENSION: Final = "2.16.840.1.113730.1"
szOID_NETSCAPE_CERT_TYPE: Final = "2.16.840.1.113730.1.1"
szOID_NETSCAPE_BASE_URL: Final = "2.16.840.1.113730.1.2"
szOID_NETSCAPE_REVOCATION_URL: Final = "2.16.840.1.113730.1.3"
szOID_NETSCAPE_CA_REVOCATION_URL: Final = "2.16.840.1.113730.1.4"
szOID_NETSCAPE_CERT_RENEWAL_URL: Final = "2.16.840.1.113730.1.7"
szOID_NETSCAPE_CA_POLICY_URL: Final = "2.16.840.1.113730.1.8"
szOID_NETSCAPE_SSL_SERVER_NAME: Final = "2.16.840.1.113730.1.12"
szOID_NETSCAPE_COMMENT: Final = "2.16.840.1.113730.1.13"
szOID_NETSCAPE_DATA_TYPE: Final = "2.16.840.1.113730.2"
szOID_NETSCAPE_CERT_SEQUENCE: Final = "2.16.840.1.113730.2.5"
NETSCAPE_SSL_CLIENT_AUTH_CERT_TYPE: Final = 0x80
NETSCAPE_SSL_SERVER_AUTH_CERT_TYPE: Final = 0x40
NETSCAPE_SMIME_CERT_TYPE: Final = 0x20
NETSCAPE_SIGN_CERT_TYPE: Final = 0x10
NETSCAPE_SSL_CA_CERT_TYPE: Final = 0x04
NETSCAPE_SMIME_CA_CERT_TYPE: Final = 0x02
NETSCAPE_SIGN_CA_CERT_TYPE: Final = 0x01

# Certificate Management over CMS (CMC)
szOID_CT_PKI_DATA: Final = "1.3.6.1.5.5.7.12.2"
szOID_CT_PKI_RESPONSE: Final = "1.3.6.1.5.5.7.12.3"
szOID_PKIX_NO_SIGNATURE: Final = "1.3.6.1.5.5.7.6.2"
szOID_CMC: Final = "1.3.6.1.5.5.7.7"
szOID_CMC_STATUS_INFO: Final = "1.3.6.1.5.5.7.7.1"
szOID_CMC_IDENTIFICATION: Final = "1.3.6.1.5.5.7.7.2"
szOID_CMC_IDENTITY_PROOF: Final = "1.3.6.1.5.5.7.7.3"
szOID_CMC_DATA_RETURN: Final = "1.3.6.1.5.5.7.7.4"
szOID_CMC_TRANSACTION_ID: Final = "1.3.6.1.5.5.7.7.5"
szOID_CMC_SENDER_NONCE: Final = "1.3.6.1.5.5.7.7.6"
szOID_CMC_RECIPIENT_NONCE: Final = "1.3.6.1.5.5.7.7.7"
szOID_CMC_ADD_EXTENSIONS: Final = "1.3.6.1.5.5.7.7.8"
szOID_CMC_ENCRYPTED_POP: Final = "1.3.6.1.5.5.7.7.9"
szOID_CMC_DECRYPTED_POP: Final = "1.3.6.1.5.5.7.7.10"
szOID_CMC_LRA_POP_WITNESS: Final = "1.3.6.1.5.5.7.7.11"
szOID_CMC_GET_CERT: Final = "1.3.6.1.5.5.7.7.15"
szOID_CMC_GET_CRL: Final = "1.3.6.1.5.5.7.7.16"
szOID_CMC_REVOKE_REQUEST: Final = "1.3.6.1.5.5.7.7.17"
szOID_CMC_REG_INFO: Final = "1.3.6.1.5.5.7.7.18"
szOID_CMC_RESPONSE_INFO: Final = "1.3.6.1.5.5.7.7.19"
szOID_CMC_QUERY_PENDING: Final = "1.3.6.1.5.5.7.7.21"
szOID_CMC_ID_POP_LINK_RANDOM: Final = "1.3.6.1.5.5.7.7.22"
szOID_CMC_ID_POP_LINK_WITNESS: Final = "1.3.6.1.5.5.7.7.23"
szOID_CMC_ID_CONFIRM_CERT_ACCEPTANCE: Final = "1.3.6.1.5.5.7.7.24"
szOID_CMC_ADD_ATTRIBUTES: Final = "1.3.6.1.4.1.311.10.10.1"
CMC_TAGGED_CERT_REQUEST_CHOICE: Final = 1
CMC_OTHER_INFO_NO_CHOICE: Final = 0
CMC_OTHER_INFO_FAIL_CHOICE: Final = 1
CMC_OTHER_INFO_PEND_CHOICE: Final = 2
CMC_STATUS_SUCCESS: Final = 0
CMC_STATUS_FAILED: Final = 2
CMC_STATUS_PENDING: Final = 3
CMC_STATUS_NO_SUPPORT: Final = 4
CMC_STATUS_CONFIRM_REQUIRED: Final = 5
CMC_FAIL_BAD_ALG: Final = 0
CMC_FAIL_BAD_MESSAGE_CHECK: Final = 1
CMC_FAIL_BAD_REQUEST: Final = 2
CMC_FAIL_BAD_TIME: Final = 3
CMC_FAIL_BAD_CERT_ID: Final = 4
CMC_FAIL_UNSUPORTED_EXT: Final = 5
CMC_FAIL_MUST_ARCHIVE_KEYS: Final = 6
CMC_FAIL_BAD_IDENTITY: Final = 7
CMC_FAIL_POP_REQUIRED: Final = 8
CMC_FAIL_POP_FAILED: Final = 9
CMC_FAIL_NO_KEY_REUSE: Final = 10
CMC_FAIL_INTERNAL_CA_ERROR: Final = 11
CMC_FAIL_TRY_LATER: Final = 12

# OID installable functions and OID information
CRYPT_OID_ENCODE_OBJECT_FUNC: Final = "CryptDllEncodeObject"
CRYPT_OID_DECODE_OBJECT_FUNC: Final = "CryptDllDecodeObject"
CRYPT_OID_ENCODE_OBJECT_EX_FUNC: Final = "CryptDllEncodeObjectEx"
CRYPT_OID_DECODE_OBJECT_EX_FUNC: Final = "CryptDllDecodeObjectEx"
CRYPT_OID_CREATE_COM_OBJECT_FUNC: Final = "CryptDllCreateCOMObject"
CRYPT_OID_VERIFY_REVOCATION_FUNC: Final = "CertDllVerifyRevocation"
CRYPT_OID_VERIFY_CTL_USAGE_FUNC: Final = "CertDllVerifyCTLUsage"
CRYPT_OID_FORMAT_OBJECT_FUNC: Final = "CryptDllFormatObject"
CRYPT_OID_FIND_OID_INFO_FUNC: Final = "CryptDllFindOIDInfo"
CRYPT_OID_FIND_LOCALIZED_NAME_FUNC: Final = "CryptDllFindLocalizedName"
CRYPT_OID_REGPATH: Final = "Software\\Microsoft\\Cryptography\\OID"
CRYPT_OID_REG_ENCODING_TYPE_PREFIX: Final = "EncodingType "
CRYPT_OID_REG_DLL_VALUE_NAME: Final = "Dll"
CRYPT_OID_REG_FUNC_NAME_VALUE_NAME: Final = "FuncName"
CRYPT_OID_REG_FUNC_NAME_VALUE_NAME_A: Final = "FuncName"
CRYPT_OID_REG_FLAGS_VALUE_NAME: Final = "CryptFlags"
CRYPT_DEFAULT_OID: Final = "DEFAULT"
CRYPT_INSTALL_OID_FUNC_BEFORE_FLAG: Final = 1
CRYPT_GET_INSTALLED_OID_FUNC_FLAG: Final = 0x1
CRYPT_REGISTER_FIRST_INDEX: Final = 0
CRYPT_REGISTER_LAST_INDEX: Final = -1
CRYPT_MATCH_ANY_ENCODING_TYPE: Final = -1
CRYPT_HASH_ALG_OID_GROUP_ID: Final = 1
CRYPT_ENCRYPT_ALG_OID_GROUP_ID: Final = 2
CRYPT_PUBKEY_ALG_OID_GROUP_ID: Final = 3
CRYPT_SIGN_ALG_OID_GROUP_ID: Final = 4
CRYPT_RDN_ATTR_OID_GROUP_ID: Final = 5
CRYPT_EXT_OR_ATTR_OID_GROUP_ID: Final = 6
CRYPT_ENHKEY_USAGE_OID_GROUP_ID: Final = 7
CRYPT_POLICY_OID_GROUP_ID: Final = 8
CRYPT_TEMPLATE_OID_GROUP_ID: Final = 9
CRYPT_LAST_OID_GROUP_ID: Final = 9
CRYPT_FIRST_ALG_OID_GROUP_ID: Final = CRYPT_HASH_ALG_OID_GROUP_ID
CRYPT_LAST_ALG_OID_GROUP_ID: Final = CRYPT_SIGN_ALG_OID_GROUP_ID
CRYPT_OID_INHIBIT_SIGNATURE_FORMAT_FLAG: Final = 0x1
CRYPT_OID_USE_PUBKEY_PARA_FOR_PKCS7_FLAG: Final = 0x2
CRYPT_OID_NO_NULL_ALGORITHM_PARA_FLAG: Final = 0x4
CRYPT_OID_INFO_OID_KEY: Final = 1
CRYPT_OID_INFO_NAME_KEY: Final = 2
CRYPT_OID_INFO_ALGID_KEY: Final = 3
CRYPT_OID_INFO_SIGN_KEY: Final = 4
CRYPT_INSTALL_OID_INFO_BEFORE_FLAG: Final = 1
CRYPT_LOCALIZED_NAME_ENCODING_TYPE: Final = 0
CRYPT_LOCALIZED_NAME_OID: Final = "LocalizedNames"

# Low-level cryptographic messages (CryptMsg*)
szOID_PKCS_7_DATA: Final = "1.2.840.113549.1.7.1"
szOID_PKCS_7_SIGNED: Final = "1.2.840.113549.1.7.2"
szOID_PKCS_7_ENVELOPED: Final = "1.2.840.113549.1.7.3"
szOID_PKCS_7_SIGNEDANDENVELOPED: Final = "1.2.840.113549.1.7.4"
szOID_PKCS_7_DIGESTED: Final = "1.2.840.113549.1.7.5"
szOID_PKCS_7_ENCRYPTED: Final = "1.2.840.113549.1.7.6"
szOID_PKCS_9_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
szOID_PKCS_9_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
CMSG_DATA: Final = 1
CMSG_SIGNED: Final = 2
CMSG_ENVELOPED: Final = 3
CMSG_SIGNED_AND_ENVELOPED: Final = 4
CMSG_HASHED: Final = 5
CMSG_ENCRYPTED: Final = 6
CMSG_ALL_FLAGS: Final = -1
CMSG_DATA_FLAG: Final = 2
CMSG_SIGNED_FLAG: Final = 4
CMSG_ENVELOPED_FLAG: Final = 8
CMSG_SIGNED_AND_ENVELOPED_FLAG: Final = 16
CMSG_HASHED_FLAG: Final = 32
CMSG_ENCRYPTED_FLAG: Final = 64
CERT_ID_ISSUER_SERIAL_NUMBER: Final = 1
CERT_ID_KEY_IDENTIFIER: Final = 2
CERT_ID_SHA1_HASH: Final = 3
CMSG_KEY_AGREE_EPHEMERAL_KEY_CHOICE: Final = 1
CMSG_KEY_AGREE_STATIC_KEY_CHOICE: Final = 2
CMSG_MAIL_LIST_HANDLE_KEY_CHOICE: Final = 1
CMSG_KEY_TRANS_RECIPIENT: Final = 1
CMSG_KEY_AGREE_RECIPIENT: Final = 2
CMSG_MAIL_LIST_RECIPIENT: Final = 3
CMSG_SP3_COMPATIBLE_ENCRYPT_FLAG: Final = -2147483648
CMSG_RC4_NO_SALT_FLAG: Final = 0x40000000
CMSG_INDEFINITE_LENGTH: Final = -1
CMSG_BARE_CONTENT_FLAG: Final = 0x00000001
CMSG_LENGTH_ONLY_FLAG: Final = 0x00000002
CMSG_DETACHED_FLAG: Final = 0x00000004
CMSG_AUTHENTICATED_ATTRIBUTES_FLAG: Final = 0x00000008
CMSG_CONTENTS_OCTETS_FLAG: Final = 0x00000010
CMSG_MAX_LENGTH_FLAG: Final = 0x00000020
CMSG_CMS_ENCAPSULATED_CONTENT_FLAG: Final = 0x00000040
CMSG_CRYPT_RELEASE_CONTEXT_FLAG: Final = 0x00008000
CMSG_TYPE_PARAM: Final = 1
CMSG_CONTENT_PARAM: Final = 2
CMSG_BARE_CONTENT_PARAM: Final = 3
CMSG_INNER_CONTENT_TYPE_PARAM: Final = 4
CMSG_SIGNER_COUNT_PARAM: Final = 5
CMSG_SIGNER_INFO_PARAM: Final = 6
CMSG_SIGNER_CERT_INFO_PARAM: Final = 7
CMSG_SIGNER_HASH_ALGORITHM_PARAM: Final = 8
CMSG_SIGNER_AUTH_ATTR_PARAM: Final = 9
CMSG_SIGNER_UNAUTH_ATTR_PARAM: Final = 10
CMSG_CERT_COUNT_PARAM: Final = 11
CMSG_CERT_PARAM: Final = 12
CMSG_CRL_COUNT_PARAM: Final = 13
CMSG_CRL_PARAM: Final = 14
CMSG_ENVELOPE_ALGORITHM_PARAM: Final = 15
CMSG_RECIPIENT_COUNT_PARAM: Final = 17
CMSG_RECIPIENT_INDEX_PARAM: Final = 18
CMSG_RECIPIENT_INFO_PARAM: Final = 19
CMSG_HASH_ALGORITHM_PARAM: Final = 20
CMSG_HASH_DATA_PARAM: Final = 21
CMSG_COMPUTED_HASH_PARAM: Final = 22
CMSG_ENCRYPT_PARAM: Final = 26
CMSG_ENCRYPTED_DIGEST: Final = 27
CMSG_ENCODED_SIGNER: Final = 28
CMSG_ENCODED_MESSAGE: Final = 29
CMSG_VERSION_PARAM: Final = 30
CMSG_ATTR_CERT_COUNT_PARAM: Final = 31
CMSG_ATTR_CERT_PARAM: Final = 32
CMSG_CMS_RECIPIENT_COUNT_PARAM: Final = 33
CMSG_CMS_RECIPIENT_INDEX_PARAM: Final = 34
CMSG_CMS_RECIPIENT_ENCRYPTED_KEY_INDEX_PARAM: Final = 35
CMSG_CMS_RECIPIENT_INFO_PARAM: Final = 36
CMSG_UNPROTECTED_ATTR_PARAM: Final = 37
CMSG_SIGNER_CERT_ID_PARAM: Final = 38
CMSG_CMS_SIGNER_INFO_PARAM: Final = 39
CMSG_SIGNED_DATA_V1: Final = 1
CMSG_SIGNED_DATA_V3: Final = 3
CMSG_SIGNED_DATA_PKCS_1_5_VERSION: Final = CMSG_SIGNED_DATA_V1
CMSG_SIGNED_DATA_CMS_VERSION: Final = CMSG_SIGNED_DATA_V3
CMSG_SIGNER_INFO_V1: Final = 1
CMSG_SIGNER_INFO_V3: Final = 3
CMSG_SIGNER_INFO_PKCS_1_5_VERSION: Final = CMSG_SIGNER_INFO_V1
CMSG_SIGNER_INFO_CMS_VERSION: Final = CMSG_SIGNER_INFO_V3
CMSG_HASHED_DATA_V0: Final = 0
CMSG_HASHED_DATA_V2: Final = 2
CMSG_HASHED_DATA_PKCS_1_5_VERSION: Final = CMSG_HASHED_DATA_V0
CMSG_HASHED_DATA_CMS_VERSION: Final = CMSG_HASHED_DATA_V2
CMSG_ENVELOPED_DATA_V0: Final = 0
CMSG_ENVELOPED_DATA_V2: Final = 2
CMSG_ENVELOPED_DATA_PKCS_1_5_VERSION: Final = CMSG_ENVELOPED_DATA_V0
CMSG_ENVELOPED_DATA_CMS_VERSION: Final = CMSG_ENVELOPED_DATA_V2
CMSG_KEY_AGREE_ORIGINATOR_CERT: Final = 1
CMSG_KEY_AGREE_ORIGINATOR_PUBLIC_KEY: Final = 2
CMSG_ENVELOPED_RECIPIENT_V0: Final = 0
CMSG_ENVELOPED_RECIPIENT_V2: Final = 2
CMSG_ENVELOPED_RECIPIENT_V3: Final = 3
CMSG_ENVELOPED_RECIPIENT_V4: Final = 4
CMSG_KEY_TRANS_PKCS_1_5_VERSION: Final = CMSG_ENVELOPED_RECIPIENT_V0
CMSG_KEY_TRANS_CMS_VERSION: Final = CMSG_ENVELOPED_RECIPIENT_V2
CMSG_KEY_AGREE_VERSION: Final = CMSG_ENVELOPED_RECIPIENT_V3
CMSG_MAIL_LIST_VERSION: Final = CMSG_ENVELOPED_RECIPIENT_V4
CMSG_CTRL_VERIFY_SIGNATURE: Final = 1
CMSG_CTRL_DECRYPT: Final = 2
CMSG_CTRL_VERIFY_HASH: Final = 5
CMSG_CTRL_ADD_SIGNER: Final = 6
CMSG_CTRL_DEL_SIGNER: Final = 7
CMSG_CTRL_ADD_SIGNER_UNAUTH_ATTR: Final = 8
CMSG_CTRL_DEL_SIGNER_UNAUTH_ATTR: Final = 9
CMSG_CTRL_ADD_CERT: Final = 10
CMSG_CTRL_DEL_CERT: Final = 11
CMSG_CTRL_ADD_CRL: Final = 12
CMSG_CTRL_DEL_CRL: Final = 13
CMSG_CTRL_ADD_ATTR_CERT: Final = 14
CMSG_CTRL_DEL_ATTR_CERT: Final = 15
CMSG_CTRL_KEY_TRANS_DECRYPT: Final = 16
CMSG_CTRL_KEY_AGREE_DECRYPT: Final = 17
CMSG_CTRL_MAIL_LIST_DECRYPT: Final = 18
CMSG_CTRL_VERIFY_SIGNATURE_EX: Final = 19
CMSG_CTRL_ADD_CMS_SIGNER_INFO: Final = 20
CMSG_VERIFY_SIGNER_PUBKEY: Final = 1
CMSG_VERIFY_SIGNER_CERT: Final = 2
CMSG_VERIFY_SIGNER_CHAIN: Final = 3
CMSG_VERIFY_SIGNER_NULL: Final = 4
CMSG_OID_GEN_ENCRYPT_KEY_FUNC: Final = "CryptMsgDllGenEncryptKey"
CMSG_OID_EXPORT_ENCRYPT_KEY_FUNC: Final = "CryptMsgDllExportEncryptKey"
CMSG_OID_IMPORT_ENCRYPT_KEY_FUNC: Final = "CryptMsgDllImportEncryptKey"
CMSG_CONTENT_ENCRYPT_PAD_ENCODED_LEN_FLAG: Final = 0x00000001
CMSG_DEFAULT_INSTALLABLE_FUNC_OID: Final = 1
CMSG_CONTENT_ENCRYPT_FREE_PARA_FLAG: Final = 0x00000001
CMSG_CONTENT_ENCRYPT_RELEASE_CONTEXT_FLAG: Final = 0x00008000
CMSG_OID_GEN_CONTENT_ENCRYPT_KEY_FUNC: Final = "CryptMsgDllGenContentEncryptKey"
CMSG_KEY_TRANS_ENCRYPT_FREE_PARA_FLAG: Final = 0x00000001
CMSG_OID_EXPORT_KEY_TRANS_FUNC: Final = "CryptMsgDllExportKeyTrans"
CMSG_KEY_AGREE_ENCRYPT_FREE_PARA_FLAG: Final = 0x00000001
CMSG_KEY_AGREE_ENCRYPT_FREE_MATERIAL_FLAG: Final = 0x00000002
CMSG_KEY_AGREE_ENCRYPT_FREE_PUBKEY_ALG_FLAG: Final = 0x00000004
CMSG_KEY_AGREE_ENCRYPT_FREE_PUBKEY_PARA_FLAG: Final = 0x00000008
CMSG_KEY_AGREE_ENCRYPT_FREE_PUBKEY_BITS_FLAG: Final = 0x00000010
CMSG_OID_EXPORT_KEY_AGREE_FUNC: Final = "CryptMsgDllExportKeyAgree"
CMSG_MAIL_LIST_ENCRYPT_FREE_PARA_FLAG: Final = 0x00000001
CMSG_OID_EXPORT_MAIL_LIST_FUNC: Final = "CryptMsgDllExportMailList"
CMSG_OID_IMPORT_KEY_TRANS_FUNC: Final = "CryptMsgDllImportKeyTrans"
CMSG_OID_IMPORT_KEY_AGREE_FUNC: Final = "CryptMsgDllImportKeyAgree"
CMSG_OID_IMPORT_MAIL_LIST_FUNC: Final = "CryptMsgDllImportMailList"

# Certificate context properties
CERT_KEY_PROV_HANDLE_PROP_ID: Final = 1
CERT_KEY_PROV_INFO_PROP_ID: Final = 2
CERT_SHA1_HASH_PROP_ID: Final = 3
CERT_MD5_HASH_PROP_ID: Final = 4
CERT_HASH_PROP_ID: Final = CERT_SHA1_HASH_PROP_ID
CERT_KEY_CONTEXT_PROP_ID: Final = 5
CERT_KEY_SPEC_PROP_ID: Final = 6
CERT_IE30_RESERVED_PROP_ID: Final = 7
CERT_PUBKEY_HASH_RESERVED_PROP_ID: Final = 8
CERT_ENHKEY_USAGE_PROP_ID: Final = 9
CERT_CTL_USAGE_PROP_ID: Final = CERT_ENHKEY_USAGE_PROP_ID
CERT_NEXT_UPDATE_LOCATION_PROP_ID: Final = 10
CERT_FRIENDLY_NAME_PROP_ID: Final = 11
CERT_PVK_FILE_PROP_ID: Final = 12
CERT_DESCRIPTION_PROP_ID: Final = 13
CERT_ACCESS_STATE_PROP_ID: Final = 14
CERT_SIGNATURE_HASH_PROP_ID: Final = 15
CERT_SMART_CARD_DATA_PROP_ID: Final = 16
CERT_EFS_PROP_ID: Final = 17
CERT_FORTEZZA_DATA_PROP_ID: Final = 18
CERT_ARCHIVED_PROP_ID: Final = 19
CERT_KEY_IDENTIFIER_PROP_ID: Final = 20
CERT_AUTO_ENROLL_PROP_ID: Final = 21
CERT_PUBKEY_ALG_PARA_PROP_ID: Final = 22
CERT_CROSS_CERT_DIST_POINTS_PROP_ID: Final = 23
CERT_ISSUER_PUBLIC_KEY_MD5_HASH_PROP_ID: Final = 24
CERT_SUBJECT_PUBLIC_KEY_MD5_HASH_PROP_ID: Final = 25
CERT_ENROLLMENT_PROP_ID: Final = 26
CERT_DATE_STAMP_PROP_ID: Final = 27
CERT_ISSUER_SERIAL_NUMBER_MD5_HASH_PROP_ID: Final = 28
CERT_SUBJECT_NAME_MD5_HASH_PROP_ID: Final = 29
CERT_EXTENDED_ERROR_INFO_PROP_ID: Final = 30
CERT_RENEWAL_PROP_ID: Final = 64
CERT_ARCHIVED_KEY_HASH_PROP_ID: Final = 65
CERT_AUTO_ENROLL_RETRY_PROP_ID: Final = 66
CERT_AIA_URL_RETRIEVED_PROP_ID: Final = 67
CERT_AUTHORITY_INFO_ACCESS_PROP_ID: Final = 68
CERT_BACKED_UP_PROP_ID: Final = 69
CERT_OCSP_RESPONSE_PROP_ID: Final = 70
CERT_REQUEST_ORIGINATOR_PROP_ID: Final = 71
CERT_SOURCE_LOCATION_PROP_ID: Final = 72
CERT_SOURCE_URL_PROP_ID: Final = 73
CERT_NEW_KEY_PROP_ID: Final = 74
CERT_OCSP_CACHE_PREFIX_PROP_ID: Final = 75
CERT_SMART_CARD_ROOT_INFO_PROP_ID: Final = 76
CERT_NO_AUTO_EXPIRE_CHECK_PROP_ID: Final = 77
CERT_NCRYPT_KEY_HANDLE_PROP_ID: Final = 78
CERT_HCRYPTPROV_OR_NCRYPT_KEY_HANDLE_PROP_ID: Final = 79
CERT_SUBJECT_INFO_ACCESS_PROP_ID: Final = 80
CERT_CA_OCSP_AUTHORITY_INFO_ACCESS_PROP_ID: Final = 81
CERT_CA_DISABLE_CRL_PROP_ID: Final = 82
CERT_ROOT_PROGRAM_CERT_POLICIES_PROP_ID: Final = 83
CERT_ROOT_PROGRAM_NAME_CONSTRAINTS_PROP_ID: Final = 84
CERT_SUBJECT_OCSP_AUTHORITY_INFO_ACCESS_PROP_ID: Final = 85
CERT_SUBJECT_DISABLE_CRL_PROP_ID: Final = 86
CERT_CEP_PROP_ID: Final = 87
CERT_SIGN_HASH_CNG_ALG_PROP_ID: Final = 89
CERT_SCARD_PIN_ID_PROP_ID: Final = 90
CERT_SCARD_PIN_INFO_PROP_ID: Final = 91
CERT_FIRST_RESERVED_PROP_ID: Final = 92
CERT_LAST_RESERVED_PROP_ID: Final = 0x00007FFF
CERT_FIRST_USER_PROP_ID: Final = 0x00008000
CERT_LAST_USER_PROP_ID: Final = 0x0000FFFF
szOID_CERT_PROP_ID_PREFIX: Final = "1.3.6.1.4.1.311.10.11."
szOID_CERT_KEY_IDENTIFIER_PROP_ID: Final = "1.3.6.1.4.1.311.10.11.20"
szOID_CERT_ISSUER_SERIAL_NUMBER_MD5_HASH_PROP_ID: Final = "1.3.6.1.4.1.311.10.11.28"
szOID_CERT_SUBJECT_NAME_MD5_HASH_PROP_ID: Final = "1.3.6.1.4.1.311.10.11.29"
CERT_ACCESS_STATE_WRITE_PERSIST_FLAG: Final = 0x1
CERT_ACCESS_STATE_SYSTEM_STORE_FLAG: Final = 0x2
CERT_ACCESS_STATE_LM_SYSTEM_STORE_FLAG: Final = 0x4
CERT_SET_KEY_PROV_HANDLE_PROP_ID: Final = 0x00000001
CERT_SET_KEY_CONTEXT_PROP_ID: Final = 0x00000001

# Certificate stores: providers, open flags, locations, registry paths
sz_CERT_STORE_PROV_MEMORY: Final = "Memory"
sz_CERT_STORE_PROV_FILENAME_W: Final = "File"
sz_CERT_STORE_PROV_FILENAME: Final = sz_CERT_STORE_PROV_FILENAME_W
sz_CERT_STORE_PROV_SYSTEM_W: Final = "System"
sz_CERT_STORE_PROV_SYSTEM: Final = sz_CERT_STORE_PROV_SYSTEM_W
sz_CERT_STORE_PROV_PKCS7: Final = "PKCS7"
sz_CERT_STORE_PROV_SERIALIZED: Final = "Serialized"
sz_CERT_STORE_PROV_COLLECTION: Final = "Collection"
sz_CERT_STORE_PROV_SYSTEM_REGISTRY_W: Final = "SystemRegistry"
sz_CERT_STORE_PROV_SYSTEM_REGISTRY: Final = sz_CERT_STORE_PROV_SYSTEM_REGISTRY_W
sz_CERT_STORE_PROV_PHYSICAL_W: Final = "Physical"
sz_CERT_STORE_PROV_PHYSICAL: Final = sz_CERT_STORE_PROV_PHYSICAL_W
sz_CERT_STORE_PROV_SMART_CARD_W: Final = "SmartCard"
sz_CERT_STORE_PROV_SMART_CARD: Final = sz_CERT_STORE_PROV_SMART_CARD_W
sz_CERT_STORE_PROV_LDAP_W: Final = "Ldap"
sz_CERT_STORE_PROV_LDAP: Final = sz_CERT_STORE_PROV_LDAP_W
CERT_STORE_SIGNATURE_FLAG: Final = 0x00000001
CERT_STORE_TIME_VALIDITY_FLAG: Final = 0x00000002
CERT_STORE_REVOCATION_FLAG: Final = 0x00000004
CERT_STORE_NO_CRL_FLAG: Final = 0x00010000
CERT_STORE_NO_ISSUER_FLAG: Final = 0x00020000
CERT_STORE_BASE_CRL_FLAG: Final = 0x00000100
CERT_STORE_DELTA_CRL_FLAG: Final = 0x00000200
CERT_STORE_NO_CRYPT_RELEASE_FLAG: Final = 0x00000001
CERT_STORE_SET_LOCALIZED_NAME_FLAG: Final = 0x00000002
CERT_STORE_DEFER_CLOSE_UNTIL_LAST_FREE_FLAG: Final = 0x00000004
CERT_STORE_DELETE_FLAG: Final = 0x00000010
CERT_STORE_UNSAFE_PHYSICAL_FLAG: Final = 0x00000020
CERT_STORE_SHARE_STORE_FLAG: Final = 0x00000040
CERT_STORE_SHARE_CONTEXT_FLAG: Final = 0x00000080
CERT_STORE_MANIFOLD_FLAG: Final = 0x00000100
CERT_STORE_ENUM_ARCHIVED_FLAG: Final = 0x00000200
CERT_STORE_UPDATE_KEYID_FLAG: Final = 0x00000400
CERT_STORE_BACKUP_RESTORE_FLAG: Final = 0x00000800
CERT_STORE_READONLY_FLAG: Final = 0x00008000
CERT_STORE_OPEN_EXISTING_FLAG: Final = 0x00004000
CERT_STORE_CREATE_NEW_FLAG: Final = 0x00002000
CERT_STORE_MAXIMUM_ALLOWED_FLAG: Final = 0x00001000
CERT_SYSTEM_STORE_MASK: Final = -65536
CERT_SYSTEM_STORE_RELOCATE_FLAG: Final = -2147483648
CERT_SYSTEM_STORE_UNPROTECTED_FLAG: Final = 0x40000000
CERT_SYSTEM_STORE_LOCATION_MASK: Final = 0x00FF0000
CERT_SYSTEM_STORE_LOCATION_SHIFT: Final = 16
CERT_SYSTEM_STORE_CURRENT_USER_ID: Final = 1
CERT_SYSTEM_STORE_LOCAL_MACHINE_ID: Final = 2
CERT_SYSTEM_STORE_CURRENT_SERVICE_ID: Final = 4
CERT_SYSTEM_STORE_SERVICES_ID: Final = 5
CERT_SYSTEM_STORE_USERS_ID: Final = 6
CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY_ID: Final = 7
CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY_ID: Final = 8
CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE_ID: Final = 9
CERT_SYSTEM_STORE_CURRENT_USER: Final = 65536
CERT_SYSTEM_STORE_LOCAL_MACHINE: Final = 131072
CERT_SYSTEM_STORE_CURRENT_SERVICE: Final = 262144
CERT_SYSTEM_STORE_SERVICES: Final = 327680
CERT_SYSTEM_STORE_USERS: Final = 393216
CERT_SYSTEM_STORE_CURRENT_USER_GROUP_POLICY: Final = 458752
CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY: Final = 524288
CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE: Final = 589824
CERT_PROT_ROOT_DISABLE_CURRENT_USER_FLAG: Final = 0x1
CERT_PROT_ROOT_INHIBIT_ADD_AT_INIT_FLAG: Final = 0x2
CERT_PROT_ROOT_INHIBIT_PURGE_LM_FLAG: Final = 0x4
CERT_PROT_ROOT_DISABLE_LM_AUTH_FLAG: Final = 0x8
CERT_PROT_ROOT_ONLY_LM_GPT_FLAG: Final = 0x8
CERT_PROT_ROOT_DISABLE_NT_AUTH_REQUIRED_FLAG: Final = 0x10
CERT_PROT_ROOT_DISABLE_NOT_DEFINED_NAME_CONSTRAINT_FLAG: Final = 0x20
CERT_TRUST_PUB_ALLOW_TRUST_MASK: Final = 0x00000003
CERT_TRUST_PUB_ALLOW_END_USER_TRUST: Final = 0x00000000
CERT_TRUST_PUB_ALLOW_MACHINE_ADMIN_TRUST: Final = 0x00000001
CERT_TRUST_PUB_ALLOW_ENTERPRISE_ADMIN_TRUST: Final = 0x00000002
CERT_TRUST_PUB_CHECK_PUBLISHER_REV_FLAG: Final = 0x00000100
CERT_TRUST_PUB_CHECK_TIMESTAMP_REV_FLAG: Final = 0x00000200
CERT_AUTH_ROOT_AUTO_UPDATE_DISABLE_UNTRUSTED_ROOT_LOGGING_FLAG: Final = 0x1
CERT_AUTH_ROOT_AUTO_UPDATE_DISABLE_PARTIAL_CHAIN_LOGGING_FLAG: Final = 0x2
CERT_AUTH_ROOT_AUTO_UPDATE_ROOT_DIR_URL_VALUE_NAME: Final = "RootDirUrl"
CERT_AUTH_ROOT_AUTO_UPDATE_SYNC_DELTA_TIME_VALUE_NAME: Final = "SyncDeltaTime"
CERT_AUTH_ROOT_AUTO_UPDATE_FLAGS_VALUE_NAME: Final = "Flags"
CERT_AUTH_ROOT_CTL_FILENAME: Final = "authroot.stl"
CERT_AUTH_ROOT_CTL_FILENAME_A: Final = "authroot.stl"
CERT_AUTH_ROOT_CAB_FILENAME: Final = "authrootstl.cab"
CERT_AUTH_ROOT_SEQ_FILENAME: Final = "authrootseq.txt"
CERT_AUTH_ROOT_CERT_EXT: Final = ".crt"
CERT_GROUP_POLICY_SYSTEM_STORE_REGPATH: Final = r"Software\Policies\Microsoft\SystemCertificates"
CERT_EFSBLOB_REGPATH: Final = r"Software\Policies\Microsoft\SystemCertificates\EFS"
CERT_EFSBLOB_VALUE_NAME: Final = "EFSBlob"
CERT_PROT_ROOT_FLAGS_REGPATH: Final = (
    CERT_GROUP_POLICY_SYSTEM_STORE_REGPATH + r"\Root\ProtectedRoots"
)
CERT_PROT_ROOT_FLAGS_VALUE_NAME: Final = "Flags"
CERT_TRUST_PUB_SAFER_GROUP_POLICY_REGPATH: Final = (
    CERT_GROUP_POLICY_SYSTEM_STORE_REGPATH + r"\TrustedPublisher\Safer"
)
CERT_LOCAL_MACHINE_SYSTEM_STORE_REGPATH: Final = r"Software\Microsoft\SystemCertificates"
CERT_TRUST_PUB_SAFER_LOCAL_MACHINE_REGPATH: Final = (
    CERT_LOCAL_MACHINE_SYSTEM_STORE_REGPATH + r"\TrustedPublisher\Safer"
)
CERT_TRUST_PUB_AUTHENTICODE_FLAGS_VALUE_NAME: Final = "AuthenticodeFlags"
CERT_OCM_SUBCOMPONENTS_LOCAL_MACHINE_REGPATH: Final = (
    r"SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\OC Manager\Subcomponents"
)
CERT_OCM_SUBCOMPONENTS_ROOT_AUTO_UPDATE_VALUE_NAME: Final = r"RootAutoUpdate"
CERT_DISABLE_ROOT_AUTO_UPDATE_REGPATH: Final = CERT_GROUP_POLICY_SYSTEM_STORE_REGPATH + r"\AuthRoot"
CERT_DISABLE_ROOT_AUTO_UPDATE_VALUE_NAME: Final = "DisableRootAutoUpdate"
CERT_AUTH_ROOT_AUTO_UPDATE_LOCAL_MACHINE_REGPATH: Final = (
    CERT_LOCAL_MACHINE_SYSTEM_STORE_REGPATH + r"\AuthRoot\AutoUpdate"
)
CERT_REGISTRY_STORE_REMOTE_FLAG: Final = 0x10000
CERT_REGISTRY_STORE_SERIALIZED_FLAG: Final = 0x20000
CERT_REGISTRY_STORE_CLIENT_GPT_FLAG: Final = -2147483648
CERT_REGISTRY_STORE_LM_GPT_FLAG: Final = 0x01000000
CERT_REGISTRY_STORE_ROAMING_FLAG: Final = 0x40000
CERT_REGISTRY_STORE_MY_IE_DIRTY_FLAG: Final = 0x80000
CERT_IE_DIRTY_FLAGS_REGPATH: Final = r"Software\Microsoft\Cryptography\IEDirtyFlags"
CERT_FILE_STORE_COMMIT_ENABLE_FLAG: Final = 0x10000
CERT_LDAP_STORE_SIGN_FLAG: Final = 0x10000
CERT_LDAP_STORE_AREC_EXCLUSIVE_FLAG: Final = 0x20000
CERT_LDAP_STORE_OPENED_FLAG: Final = 0x40000
CERT_LDAP_STORE_UNBIND_FLAG: Final = 0x80000
CRYPT_OID_OPEN_STORE_PROV_FUNC: Final = "CertDllOpenStoreProv"

# Certificate stores: provider callbacks, save, find, add, control
CERT_STORE_PROV_EXTERNAL_FLAG: Final = 0x1
CERT_STORE_PROV_DELETED_FLAG: Final = 0x2
CERT_STORE_PROV_NO_PERSIST_FLAG: Final = 0x4
CERT_STORE_PROV_SYSTEM_STORE_FLAG: Final = 0x8
CERT_STORE_PROV_LM_SYSTEM_STORE_FLAG: Final = 0x10
CERT_STORE_PROV_CLOSE_FUNC: Final = 0
CERT_STORE_PROV_READ_CERT_FUNC: Final = 1
CERT_STORE_PROV_WRITE_CERT_FUNC: Final = 2
CERT_STORE_PROV_DELETE_CERT_FUNC: Final = 3
CERT_STORE_PROV_SET_CERT_PROPERTY_FUNC: Final = 4
CERT_STORE_PROV_READ_CRL_FUNC: Final = 5
CERT_STORE_PROV_WRITE_CRL_FUNC: Final = 6
CERT_STORE_PROV_DELETE_CRL_FUNC: Final = 7
CERT_STORE_PROV_SET_CRL_PROPERTY_FUNC: Final = 8
CERT_STORE_PROV_READ_CTL_FUNC: Final = 9
CERT_STORE_PROV_WRITE_CTL_FUNC: Final = 10
CERT_STORE_PROV_DELETE_CTL_FUNC: Final = 11
CERT_STORE_PROV_SET_CTL_PROPERTY_FUNC: Final = 12
CERT_STORE_PROV_CONTROL_FUNC: Final = 13
CERT_STORE_PROV_FIND_CERT_FUNC: Final = 14
CERT_STORE_PROV_FREE_FIND_CERT_FUNC: Final = 15
CERT_STORE_PROV_GET_CERT_PROPERTY_FUNC: Final = 16
CERT_STORE_PROV_FIND_CRL_FUNC: Final = 17
CERT_STORE_PROV_FREE_FIND_CRL_FUNC: Final = 18
CERT_STORE_PROV_GET_CRL_PROPERTY_FUNC: Final = 19
CERT_STORE_PROV_FIND_CTL_FUNC: Final = 20
CERT_STORE_PROV_FREE_FIND_CTL_FUNC: Final = 21
CERT_STORE_PROV_GET_CTL_PROPERTY_FUNC: Final = 22
CERT_STORE_PROV_WRITE_ADD_FLAG: Final = 0x1
CERT_STORE_SAVE_AS_STORE: Final = 1
CERT_STORE_SAVE_AS_PKCS7: Final = 2
CERT_STORE_SAVE_TO_FILE: Final = 1
CERT_STORE_SAVE_TO_MEMORY: Final = 2
CERT_STORE_SAVE_TO_FILENAME_A: Final = 3
CERT_STORE_SAVE_TO_FILENAME_W: Final = 4
CERT_STORE_SAVE_TO_FILENAME: Final = CERT_STORE_SAVE_TO_FILENAME_W
CERT_CLOSE_STORE_FORCE_FLAG: Final = 0x00000001
CERT_CLOSE_STORE_CHECK_FLAG: Final = 0x00000002
CERT_COMPARE_MASK: Final = 0xFFFF
CERT_COMPARE_SHIFT: Final = 16
CERT_COMPARE_ANY: Final = 0
CERT_COMPARE_SHA1_HASH: Final = 1
CERT_COMPARE_NAME: Final = 2
CERT_COMPARE_ATTR: Final = 3
CERT_COMPARE_MD5_HASH: Final = 4
CERT_COMPARE_PROPERTY: Final = 5
CERT_COMPARE_PUBLIC_KEY: Final = 6
CERT_COMPARE_HASH: Final = CERT_COMPARE_SHA1_HASH
CERT_COMPARE_NAME_STR_A: Final = 7
CERT_COMPARE_NAME_STR_W: Final = 8
CERT_COMPARE_KEY_SPEC: Final = 9
CERT_COMPARE_ENHKEY_USAGE: Final = 10
CERT_COMPARE_CTL_USAGE: Final = CERT_COMPARE_ENHKEY_USAGE
CERT_COMPARE_SUBJECT_CERT: Final = 11
CERT_COMPARE_ISSUER_OF: Final = 12
CERT_COMPARE_EXISTING: Final = 13
CERT_COMPARE_SIGNATURE_HASH: Final = 14
CERT_COMPARE_KEY_IDENTIFIER: Final = 15
CERT_COMPARE_CERT_ID: Final = 16
CERT_COMPARE_CROSS_CERT_DIST_POINTS: Final = 17
CERT_COMPARE_PUBKEY_MD5_HASH: Final = 18
CERT_FIND_ANY: Final = 0x00000000
CERT_FIND_SHA1_HASH: Final = 0x00010000
CERT_FIND_MD5_HASH: Final = 0x00040000
CERT_FIND_SIGNATURE_HASH: Final = 0x000E0000
CERT_FIND_KEY_IDENTIFIER: Final = 0x000F0000
CERT_FIND_HASH: Final = CERT_FIND_SHA1_HASH
CERT_FIND_PROPERTY: Final = 0x00050000
CERT_FIND_PUBLIC_KEY: Final = 0x00060000
CERT_FIND_SUBJECT_NAME: Final = 0x00020007
CERT_FIND_SUBJECT_ATTR: Final = 0x00030007
CERT_FIND_ISSUER_NAME: Final = 0x00020004
CERT_FIND_ISSUER_ATTR: Final = 0x00030004
CERT_FIND_SUBJECT_STR_A: Final = 0x00070007
CERT_FIND_SUBJECT_STR_W: Final = 0x00080007
CERT_FIND_SUBJECT_STR: Final = CERT_FIND_SUBJECT_STR_W
CERT_FIND_ISSUER_STR_A: Final = 0x00070004
CERT_FIND_ISSUER_STR_W: Final = 0x00080004
CERT_FIND_ISSUER_STR: Final = CERT_FIND_ISSUER_STR_W
CERT_FIND_KEY_SPEC: Final = 0x00090000
CERT_FIND_ENHKEY_USAGE: Final = 0x000A0000
CERT_FIND_CTL_USAGE: Final = CERT_FIND_ENHKEY_USAGE
CERT_FIND_SUBJECT_CERT: Final = 0x000B0000
CERT_FIND_ISSUER_OF: Final = 0x000C0000
CERT_FIND_EXISTING: Final = 0x000D0000
CERT_FIND_CERT_ID: Final = 0x00100000
CERT_FIND_CROSS_CERT_DIST_POINTS: Final = 0x00110000
CERT_FIND_PUBKEY_MD5_HASH: Final = 0x00120000
CERT_FIND_OPTIONAL_ENHKEY_USAGE_FLAG: Final = 0x1
CERT_FIND_EXT_ONLY_ENHKEY_USAGE_FLAG: Final = 0x2
CERT_FIND_PROP_ONLY_ENHKEY_USAGE_FLAG: Final = 0x4
CERT_FIND_NO_ENHKEY_USAGE_FLAG: Final = 0x8
CERT_FIND_OR_ENHKEY_USAGE_FLAG: Final = 0x10
CERT_FIND_VALID_ENHKEY_USAGE_FLAG: Final = 0x20
CERT_FIND_OPTIONAL_CTL_USAGE_FLAG: Final = CERT_FIND_OPTIONAL_ENHKEY_USAGE_FLAG
CERT_FIND_EXT_ONLY_CTL_USAGE_FLAG: Final = CERT_FIND_EXT_ONLY_ENHKEY_USAGE_FLAG
CERT_FIND_PROP_ONLY_CTL_USAGE_FLAG: Final = CERT_FIND_PROP_ONLY_ENHKEY_USAGE_FLAG
CERT_FIND_NO_CTL_USAGE_FLAG: Final = CERT_FIND_NO_ENHKEY_USAGE_FLAG
CERT_FIND_OR_CTL_USAGE_FLAG: Final = CERT_FIND_OR_ENHKEY_USAGE_FLAG
CERT_FIND_VALID_CTL_USAGE_FLAG: Final = CERT_FIND_VALID_ENHKEY_USAGE_FLAG
CERT_SET_PROPERTY_IGNORE_PERSIST_ERROR_FLAG: Final = -2147483648
CERT_SET_PROPERTY_INHIBIT_PERSIST_FLAG: Final = 0x40000000
CTL_ENTRY_FROM_PROP_CHAIN_FLAG: Final = 0x1
CRL_FIND_ANY: Final = 0
CRL_FIND_ISSUED_BY: Final = 1
CRL_FIND_EXISTING: Final = 2
CRL_FIND_ISSUED_FOR: Final = 3
CRL_FIND_ISSUED_BY_AKI_FLAG: Final = 0x1
CRL_FIND_ISSUED_BY_SIGNATURE_FLAG: Final = 0x2
CRL_FIND_ISSUED_BY_DELTA_FLAG: Final = 0x4
CRL_FIND_ISSUED_BY_BASE_FLAG: Final = 0x8
CERT_STORE_ADD_NEW: Final = 1
CERT_STORE_ADD_USE_EXISTING: Final = 2
CERT_STORE_ADD_REPLACE_EXISTING: Final = 3
CERT_STORE_ADD_ALWAYS: Final = 4
CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES: Final = 5
CERT_STORE_ADD_NEWER: Final = 6
CERT_STORE_ADD_NEWER_INHERIT_PROPERTIES: Final = 7
CERT_STORE_CERTIFICATE_CONTEXT: Final = 1
CERT_STORE_CRL_CONTEXT: Final = 2
CERT_STORE_CTL_CONTEXT: Final = 3
CERT_STORE_ALL_CONTEXT_FLAG: Final = -1
CERT_STORE_CERTIFICATE_CONTEXT_FLAG: Final = 2
CERT_STORE_CRL_CONTEXT_FLAG: Final = 4
CERT_STORE_CTL_CONTEXT_FLAG: Final = 8
CTL_ANY_SUBJECT_TYPE: Final = 1
CTL_CERT_SUBJECT_TYPE: Final = 2
CTL_FIND_ANY: Final = 0
CTL_FIND_SHA1_HASH: Final = 1
CTL_FIND_MD5_HASH: Final = 2
CTL_FIND_USAGE: Final = 3
CTL_FIND_SUBJECT: Final = 4
CTL_FIND_EXISTING: Final = 5
CTL_FIND_NO_LIST_ID_CBDATA: Final = -1
CTL_FIND_SAME_USAGE_FLAG: Final = 0x1
CERT_STORE_CTRL_RESYNC: Final = 1
CERT_STORE_CTRL_NOTIFY_CHANGE: Final = 2
CERT_STORE_CTRL_COMMIT: Final = 3
CERT_STORE_CTRL_AUTO_RESYNC: Final = 4
CERT_STORE_CTRL_CANCEL_NOTIFY: Final = 5
CERT_STORE_CTRL_INHIBIT_DUPLICATE_HANDLE_FLAG: Final = 0x1
CERT_STORE_CTRL_COMMIT_FORCE_FLAG: Final = 0x1
CERT_STORE_CTRL_COMMIT_CLEAR_FLAG: Final = 0x2
CERT_STORE_LOCALIZED_NAME_PROP_ID: Final = 0x1000
CERT_CREATE_CONTEXT_NOCOPY_FLAG: Final = 0x1
CERT_CREATE_CONTEXT_SORTED_FLAG: Final = 0x2
CERT_CREATE_CONTEXT_NO_HCRYPTMSG_FLAG: Final = 0x4
CERT_CREATE_CONTEXT_NO_ENTRY_FLAG: Final = 0x8
CERT_PHYSICAL_STORE_ADD_ENABLE_FLAG: Final = 0x1
CERT_PHYSICAL_STORE_OPEN_DISABLE_FLAG: Final = 0x2
CERT_PHYSICAL_STORE_REMOTE_OPEN_DISABLE_FLAG: Final = 0x4
CERT_PHYSICAL_STORE_INSERT_COMPUTER_NAME_ENABLE_FLAG: Final = 0x8
CERT_PHYSICAL_STORE_PREDEFINED_ENUM_FLAG: Final = 0x1
CERT_PHYSICAL_STORE_DEFAULT_NAME: Final = ".Default"
CERT_PHYSICAL_STORE_GROUP_POLICY_NAME: Final = ".GroupPolicy"
CERT_PHYSICAL_STORE_LOCAL_MACHINE_NAME: Final = ".LocalMachine"
CERT_PHYSICAL_STORE_DS_USER_CERTIFICATE_NAME: Final = ".UserCertificate"
CERT_PHYSICAL_STORE_LOCAL_MACHINE_GROUP_POLICY_NAME: Final = ".LocalMachineGroupPolicy"
CERT_PHYSICAL_STORE_ENTERPRISE_NAME: Final = ".Enterprise"
CERT_PHYSICAL_STORE_AUTH_ROOT_NAME: Final = ".AuthRoot"
CERT_PHYSICAL_STORE_SMART_CARD_NAME: Final = ".SmartCard"
CRYPT_OID_OPEN_SYSTEM_STORE_PROV_FUNC: Final = "CertDllOpenSystemStoreProv"
CRYPT_OID_REGISTER_SYSTEM_STORE_FUNC: Final = "CertDllRegisterSystemStore"
CRYPT_OID_UNREGISTER_SYSTEM_STORE_FUNC: Final = "CertDllUnregisterSystemStore"
CRYPT_OID_ENUM_SYSTEM_STORE_FUNC: Final = "CertDllEnumSystemStore"
CRYPT_OID_REGISTER_PHYSICAL_STORE_FUNC: Final = "CertDllRegisterPhysicalStore"
CRYPT_OID_UNREGISTER_PHYSICAL_STORE_FUNC: Final = "CertDllUnregisterPhysicalStore"
CRYPT_OID_ENUM_PHYSICAL_STORE_FUNC: Final = "CertDllEnumPhysicalStore"
CRYPT_OID_SYSTEM_STORE_LOCATION_VALUE_NAME: Final = "SystemStoreLocation"

# Verification, key acquisition, name strings, simplified messages, CertQueryObject
CMSG_TRUSTED_SIGNER_FLAG: Final = 0x1
CMSG_SIGNER_ONLY_FLAG: Final = 0x2
CMSG_USE_SIGNER_INDEX_FLAG: Final = 0x4
CMSG_CMS_ENCAPSULATED_CTL_FLAG: Final = 0x00008000
CMSG_ENCODE_SORTED_CTL_FLAG: Final = 0x1
CMSG_ENCODE_HASHED_SUBJECT_IDENTIFIER_FLAG: Final = 0x2
CERT_VERIFY_INHIBIT_CTL_UPDATE_FLAG: Final = 0x1
CERT_VERIFY_TRUSTED_SIGNERS_FLAG: Final = 0x2
CERT_VERIFY_NO_TIME_CHECK_FLAG: Final = 0x4
CERT_VERIFY_ALLOW_MORE_USAGE_FLAG: Final = 0x8
CERT_VERIFY_UPDATED_CTL_FLAG: Final = 0x1
CERT_CONTEXT_REVOCATION_TYPE: Final = 1
CERT_VERIFY_REV_CHAIN_FLAG: Final = 0x00000001
CERT_VERIFY_CACHE_ONLY_BASED_REVOCATION: Final = 0x00000002
CERT_VERIFY_REV_ACCUMULATIVE_TIMEOUT_FLAG: Final = 0x00000004
CERT_UNICODE_IS_RDN_ATTRS_FLAG: Final = 0x1
CERT_CASE_INSENSITIVE_IS_RDN_ATTRS_FLAG: Final = 0x2
CRYPT_VERIFY_CERT_SIGN_SUBJECT_BLOB: Final = 1
CRYPT_VERIFY_CERT_SIGN_SUBJECT_CERT: Final = 2
CRYPT_VERIFY_CERT_SIGN_SUBJECT_CRL: Final = 3
CRYPT_VERIFY_CERT_SIGN_ISSUER_PUBKEY: Final = 1
CRYPT_VERIFY_CERT_SIGN_ISSUER_CERT: Final = 2
CRYPT_VERIFY_CERT_SIGN_ISSUER_CHAIN: Final = 3
CRYPT_VERIFY_CERT_SIGN_ISSUER_NULL: Final = 4
CRYPT_DEFAULT_CONTEXT_AUTO_RELEASE_FLAG: Final = 0x00000001
CRYPT_DEFAULT_CONTEXT_PROCESS_FLAG: Final = 0x00000002
CRYPT_DEFAULT_CONTEXT_CERT_SIGN_OID: Final = 1
CRYPT_DEFAULT_CONTEXT_MULTI_CERT_SIGN_OID: Final = 2
CRYPT_OID_EXPORT_PUBLIC_KEY_INFO_FUNC: Final = "CryptDllExportPublicKeyInfoEx"
CRYPT_OID_IMPORT_PUBLIC_KEY_INFO_FUNC: Final = "CryptDllImportPublicKeyInfoEx"
CRYPT_ACQUIRE_CACHE_FLAG: Final = 0x00000001
CRYPT_ACQUIRE_USE_PROV_INFO_FLAG: Final = 0x00000002
CRYPT_ACQUIRE_COMPARE_KEY_FLAG: Final = 0x00000004
CRYPT_ACQUIRE_SILENT_FLAG: Final = 0x00000040
CRYPT_FIND_USER_KEYSET_FLAG: Final = 0x00000001
CRYPT_FIND_MACHINE_KEYSET_FLAG: Final = 0x00000002
CRYPT_FIND_SILENT_KEYSET_FLAG: Final = 0x00000040
CRYPT_OID_IMPORT_PRIVATE_KEY_INFO_FUNC: Final = "CryptDllImportPrivateKeyInfoEx"
CRYPT_OID_EXPORT_PRIVATE_KEY_INFO_FUNC: Final = "CryptDllExportPrivateKeyInfoEx"
CRYPT_DELETE_KEYSET: Final = CRYPT_DELETEKEYSET
CERT_SIMPLE_NAME_STR: Final = 1
CERT_OID_NAME_STR: Final = 2
CERT_X500_NAME_STR: Final = 3
CERT_NAME_STR_SEMICOLON_FLAG: Final = 0x40000000
CERT_NAME_STR_NO_PLUS_FLAG: Final = 0x20000000
CERT_NAME_STR_NO_QUOTING_FLAG: Final = 0x10000000
CERT_NAME_STR_CRLF_FLAG: Final = 0x08000000
CERT_NAME_STR_COMMA_FLAG: Final = 0x04000000
CERT_NAME_STR_REVERSE_FLAG: Final = 0x02000000
CERT_NAME_STR_DISABLE_IE4_UTF8_FLAG: Final = 0x00010000
CERT_NAME_STR_ENABLE_T61_UNICODE_FLAG: Final = 0x00020000
CERT_NAME_STR_ENABLE_UTF8_UNICODE_FLAG: Final = 0x00040000
CERT_NAME_EMAIL_TYPE: Final = 1
CERT_NAME_RDN_TYPE: Final = 2
CERT_NAME_ATTR_TYPE: Final = 3
CERT_NAME_SIMPLE_DISPLAY_TYPE: Final = 4
CERT_NAME_FRIENDLY_DISPLAY_TYPE: Final = 5
CERT_NAME_DNS_TYPE: Final = 6
CERT_NAME_URL_TYPE: Final = 7
CERT_NAME_UPN_TYPE: Final = 8
CERT_NAME_ISSUER_FLAG: Final = 0x1
CERT_NAME_DISABLE_IE4_UTF8_FLAG: Final = 0x00010000
CRYPT_MESSAGE_BARE_CONTENT_OUT_FLAG: Final = 0x00000001
CRYPT_MESSAGE_ENCAPSULATED_CONTENT_OUT_FLAG: Final = 0x00000002
CRYPT_MESSAGE_KEYID_SIGNER_FLAG: Final = 0x00000004
CRYPT_MESSAGE_SILENT_KEYSET_FLAG: Final = 0x00000040
CRYPT_MESSAGE_KEYID_RECIPIENT_FLAG: Final = 0x4
CERT_QUERY_OBJECT_FILE: Final = 0x00000001
CERT_QUERY_OBJECT_BLOB: Final = 0x00000002
CERT_QUERY_CONTENT_CERT: Final = 1
CERT_QUERY_CONTENT_CTL: Final = 2
CERT_QUERY_CONTENT_CRL: Final = 3
CERT_QUERY_CONTENT_SERIALIZED_STORE: Final = 4
CERT_QUERY_CONTENT_SERIALIZED_CERT: Final = 5
CERT_QUERY_CONTENT_SERIALIZED_CTL: Final = 6
CERT_QUERY_CONTENT_SERIALIZED_CRL: Final = 7
CERT_QUERY_CONTENT_PKCS7_SIGNED: Final = 8
CERT_QUERY_CONTENT_PKCS7_UNSIGNED: Final = 9
CERT_QUERY_CONTENT_PKCS7_SIGNED_EMBED: Final = 10
CERT_QUERY_CONTENT_PKCS10: Final = 11
CERT_QUERY_CONTENT_PFX: Final = 12
CERT_QUERY_CONTENT_CERT_PAIR: Final = 13
CERT_QUERY_CONTENT_FLAG_CERT: Final = 0x00000002
CERT_QUERY_CONTENT_FLAG_CTL: Final = 0x00000004
CERT_QUERY_CONTENT_FLAG_CRL: Final = 0x00000008
CERT_QUERY_CONTENT_FLAG_SERIALIZED_STORE: Final = 0x00000010
CERT_QUERY_CONTENT_FLAG_SERIALIZED_CERT: Final = 0x00000020
CERT_QUERY_CONTENT_FLAG_SERIALIZED_CTL: Final = 0x00000040
CERT_QUERY_CONTENT_FLAG_SERIALIZED_CRL: Final = 0x00000080
CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED: Final = 0x00000100
CERT_QUERY_CONTENT_FLAG_PKCS7_UNSIGNED: Final = 0x00000200
CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED_EMBED: Final = 0x00000400
CERT_QUERY_CONTENT_FLAG_PKCS10: Final = 0x00000800
CERT_QUERY_CONTENT_FLAG_PFX: Final = 0x00001000
CERT_QUERY_CONTENT_FLAG_CERT_PAIR: Final = 0x00002000
CERT_QUERY_CONTENT_FLAG_ALL: Final = 0x00003FFE
CERT_QUERY_FORMAT_BINARY: Final = 1
CERT_QUERY_FORMAT_BASE64_ENCODED: Final = 2
CERT_QUERY_FORMAT_ASN_ASCII_HEX_ENCODED: Final = 3
CERT_QUERY_FORMAT_FLAG_BINARY: Final = 0x00000002
CERT_QUERY_FORMAT_FLAG_BASE64_ENCODED: Final = 0x00000004
CERT_QUERY_FORMAT_FLAG_ASN_ASCII_HEX_ENCODED: Final = 0x00000008
CERT_QUERY_FORMAT_FLAG_ALL: Final = 0x0000000E

# Object retrieval (CryptRetrieveObjectByUrl) and URL / time-validity functions
CREDENTIAL_OID_PASSWORD_CREDENTIALS_A: Final = 1
CREDENTIAL_OID_PASSWORD_CREDENTIALS_W: Final = 2
CREDENTIAL_OID_PASSWORD_CREDENTIALS: Final = CREDENTIAL_OID_PASSWORD_CREDENTIALS_W
SCHEME_OID_RETRIEVE_ENCODED_OBJECT_FUNC: Final = "SchemeDllRetrieveEncodedObject"
SCHEME_OID_RETRIEVE_ENCODED_OBJECTW_FUNC: Final = "SchemeDllRetrieveEncodedObjectW"
CONTEXT_OID_CREATE_OBJECT_CONTEXT_FUNC: Final = "ContextDllCreateObjectContext"
CONTEXT_OID_CERTIFICATE: Final = 1
CONTEXT_OID_CRL: Final = 2
CONTEXT_OID_CTL: Final = 3
CONTEXT_OID_PKCS7: Final = 4
CONTEXT_OID_CAPI2_ANY: Final = 5
CONTEXT_OID_OCSP_RESP: Final = 6
CRYPT_RETRIEVE_MULTIPLE_OBJECTS: Final = 0x00000001
CRYPT_CACHE_ONLY_RETRIEVAL: Final = 0x00000002
CRYPT_WIRE_ONLY_RETRIEVAL: Final = 0x00000004
CRYPT_DONT_CACHE_RESULT: Final = 0x00000008
CRYPT_ASYNC_RETRIEVAL: Final = 0x00000010
CRYPT_STICKY_CACHE_RETRIEVAL: Final = 0x00001000
CRYPT_LDAP_SCOPE_BASE_ONLY_RETRIEVAL: Final = 0x00002000
CRYPT_OFFLINE_CHECK_RETRIEVAL: Final = 0x00004000
CRYPT_LDAP_INSERT_ENTRY_ATTRIBUTE: Final = 0x00008000
CRYPT_LDAP_SIGN_RETRIEVAL: Final = 0x00010000
CRYPT_NO_AUTH_RETRIEVAL: Final = 0x00020000
CRYPT_LDAP_AREC_EXCLUSIVE_RETRIEVAL: Final = 0x00040000
CRYPT_AIA_RETRIEVAL: Final = 0x00080000
CRYPT_VERIFY_CONTEXT_SIGNATURE: Final = 0x00000020
CRYPT_VERIFY_DATA_HASH: Final = 0x00000040
CRYPT_KEEP_TIME_VALID: Final = 0x00000080
CRYPT_DONT_VERIFY_SIGNATURE: Final = 0x00000100
CRYPT_DONT_CHECK_TIME_VALIDITY: Final = 0x00000200
CRYPT_CHECK_FRESHNESS_TIME_VALIDITY: Final = 0x00000400
CRYPT_ACCUMULATIVE_TIMEOUT: Final = 0x00000800
CRYPT_PARAM_ASYNC_RETRIEVAL_COMPLETION: Final = 1
CRYPT_PARAM_CANCEL_ASYNC_RETRIEVAL: Final = 2
CRYPT_GET_URL_FROM_PROPERTY: Final = 0x00000001
CRYPT_GET_URL_FROM_EXTENSION: Final = 0x00000002
CRYPT_GET_URL_FROM_UNAUTH_ATTRIBUTE: Final = 0x00000004
CRYPT_GET_URL_FROM_AUTH_ATTRIBUTE: Final = 0x00000008
URL_OID_GET_OBJECT_URL_FUNC: Final = "UrlDllGetObjectUrl"
TIME_VALID_OID_GET_OBJECT_FUNC: Final = "TimeValidDllGetObject"
TIME_VALID_OID_FLUSH_OBJECT_FUNC: Final = "TimeValidDllFlushObject"
TIME_VALID_OID_GET_CTL: Final = 1
TIME_VALID_OID_GET_CRL: Final = 2
TIME_VALID_OID_GET_CRL_FROM_CERT: Final = 3
TIME_VALID_OID_GET_FRESHEST_CRL_FROM_CERT: Final = 4
TIME_VALID_OID_GET_FRESHEST_CRL_FROM_CRL: Final = 5
TIME_VALID_OID_FLUSH_CTL: Final = 1
TIME_VALID_OID_FLUSH_CRL: Final = 2
TIME_VALID_OID_FLUSH_CRL_FROM_CERT: Final = 3
TIME_VALID_OID_FLUSH_FRESHEST_CRL_FROM_CERT: Final = 4
TIME_VALID_OID_FLUSH_FRESHEST_CRL_FROM_CRL: Final = 5

# Data protection (CryptProtectData, CryptProtectMemory)
CRYPTPROTECT_PROMPT_ON_UNPROTECT: Final = 0x1
CRYPTPROTECT_PROMPT_ON_PROTECT: Final = 0x2
CRYPTPROTECT_PROMPT_RESERVED: Final = 0x04
CRYPTPROTECT_PROMPT_STRONG: Final = 0x08
CRYPTPROTECT_PROMPT_REQUIRE_STRONG: Final = 0x10
CRYPTPROTECT_UI_FORBIDDEN: Final = 0x1
CRYPTPROTECT_LOCAL_MACHINE: Final = 0x4
CRYPTPROTECT_CRED_SYNC: Final = 0x8
CRYPTPROTECT_AUDIT: Final = 0x10
CRYPTPROTECT_NO_RECOVERY: Final = 0x20
CRYPTPROTECT_VERIFY_PROTECTION: Final = 0x40
CRYPTPROTECT_CRED_REGENERATE: Final = 0x80
CRYPTPROTECT_FIRST_RESERVED_FLAGVAL: Final = 0x0FFFFFFF
CRYPTPROTECT_LAST_RESERVED_FLAGVAL: Final = -1
CRYPTPROTECTMEMORY_BLOCK_SIZE: Final = 16
CRYPTPROTECTMEMORY_SAME_PROCESS: Final = 0x00
CRYPTPROTECTMEMORY_CROSS_PROCESS: Final = 0x01
CRYPTPROTECTMEMORY_SAME_LOGON: Final = 0x02

# Self-signed certificates, key identifiers, certificate chains and policies
CERT_CREATE_SELFSIGN_NO_SIGN: Final = 1
CERT_CREATE_SELFSIGN_NO_KEY_INFO: Final = 2
CRYPT_KEYID_MACHINE_FLAG: Final = 0x00000020
CRYPT_KEYID_ALLOC_FLAG: Final = 0x00008000
CRYPT_KEYID_DELETE_FLAG: Final = 0x00000010
CRYPT_KEYID_SET_NEW_FLAG: Final = 0x00002000
CERT_CHAIN_MAX_AIA_URL_COUNT_IN_CERT_DEFAULT: Final = 5
CERT_CHAIN_MAX_AIA_URL_RETRIEVAL_COUNT_PER_CHAIN_DEFAULT: Final = 10
CERT_CHAIN_MAX_AIA_URL_RETRIEVAL_BYTE_COUNT_DEFAULT: Final = 100000
CERT_CHAIN_MAX_AIA_URL_RETRIEVAL_CERT_COUNT_DEFAULT: Final = 10
CERT_CHAIN_CACHE_END_CERT: Final = 0x00000001
CERT_CHAIN_THREAD_STORE_SYNC: Final = 0x00000002
CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL: Final = 0x00000004
CERT_CHAIN_USE_LOCAL_MACHINE_STORE: Final = 0x00000008
CERT_CHAIN_ENABLE_CACHE_AUTO_UPDATE: Final = 0x00000010
CERT_CHAIN_ENABLE_SHARE_STORE: Final = 0x00000020
CERT_TRUST_NO_ERROR: Final = 0x00000000
CERT_TRUST_IS_NOT_TIME_VALID: Final = 0x00000001
CERT_TRUST_IS_NOT_TIME_NESTED: Final = 0x00000002
CERT_TRUST_IS_REVOKED: Final = 0x00000004
CERT_TRUST_IS_NOT_SIGNATURE_VALID: Final = 0x00000008
CERT_TRUST_IS_NOT_VALID_FOR_USAGE: Final = 0x00000010
CERT_TRUST_IS_UNTRUSTED_ROOT: Final = 0x00000020
CERT_TRUST_REVOCATION_STATUS_UNKNOWN: Final = 0x00000040
CERT_TRUST_IS_CYCLIC: Final = 0x00000080
CERT_TRUST_INVALID_EXTENSION: Final = 0x00000100
CERT_TRUST_INVALID_POLICY_CONSTRAINTS: Final = 0x00000200
CERT_TRUST_INVALID_BASIC_CONSTRAINTS: Final = 0x00000400
CERT_TRUST_INVALID_NAME_CONSTRAINTS: Final = 0x00000800
CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT: Final = 0x00001000
CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT: Final = 0x00002000
CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT: Final = 0x00004000
CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT: Final = 0x00008000
CERT_TRUST_IS_OFFLINE_REVOCATION: Final = 0x01000000
CERT_TRUST_NO_ISSUANCE_CHAIN_POLICY: Final = 0x02000000
CERT_TRUST_IS_PARTIAL_CHAIN: Final = 0x00010000
CERT_TRUST_CTL_IS_NOT_TIME_VALID: Final = 0x00020000
CERT_TRUST_CTL_IS_NOT_SIGNATURE_VALID: Final = 0x00040000
CERT_TRUST_CTL_IS_NOT_VALID_FOR_USAGE: Final = 0x00080000
CERT_TRUST_HAS_EXACT_MATCH_ISSUER: Final = 0x00000001
CERT_TRUST_HAS_KEY_MATCH_ISSUER: Final = 0x00000002
CERT_TRUST_HAS_NAME_MATCH_ISSUER: Final = 0x00000004
CERT_TRUST_IS_SELF_SIGNED: Final = 0x00000008
CERT_TRUST_HAS_PREFERRED_ISSUER: Final = 0x00000100
CERT_TRUST_HAS_ISSUANCE_CHAIN_POLICY: Final = 0x00000200
CERT_TRUST_HAS_VALID_NAME_CONSTRAINTS: Final = 0x00000400
CERT_TRUST_IS_COMPLEX_CHAIN: Final = 0x00010000
USAGE_MATCH_TYPE_AND: Final = 0x00000000
USAGE_MATCH_TYPE_OR: Final = 0x00000001
CERT_CHAIN_REVOCATION_CHECK_END_CERT: Final = 0x10000000
CERT_CHAIN_REVOCATION_CHECK_CHAIN: Final = 0x20000000
CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT: Final = 0x40000000
CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY: Final = -2147483648
CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT: Final = 0x08000000
CERT_CHAIN_DISABLE_PASS1_QUALITY_FILTERING: Final = 0x00000040
CERT_CHAIN_RETURN_LOWER_QUALITY_CONTEXTS: Final = 0x00000080
CERT_CHAIN_DISABLE_AUTH_ROOT_AUTO_UPDATE: Final = 0x00000100
CERT_CHAIN_TIMESTAMP_TIME: Final = 0x00000200
REVOCATION_OID_CRL_REVOCATION: Final = 1
CERT_CHAIN_FIND_BY_ISSUER: Final = 1
CERT_CHAIN_FIND_BY_ISSUER_COMPARE_KEY_FLAG: Final = 0x0001
CERT_CHAIN_FIND_BY_ISSUER_COMPLEX_CHAIN_FLAG: Final = 0x0002
CERT_CHAIN_FIND_BY_ISSUER_CACHE_ONLY_URL_FLAG: Final = 0x0004
CERT_CHAIN_FIND_BY_ISSUER_LOCAL_MACHINE_FLAG: Final = 0x0008
CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG: Final = 0x4000
CERT_CHAIN_FIND_BY_ISSUER_CACHE_ONLY_FLAG: Final = 0x8000
CERT_CHAIN_POLICY_IGNORE_NOT_TIME_VALID_FLAG: Final = 0x00000001
CERT_CHAIN_POLICY_IGNORE_CTL_NOT_TIME_VALID_FLAG: Final = 0x00000002
CERT_CHAIN_POLICY_IGNORE_NOT_TIME_NESTED_FLAG: Final = 0x00000004
CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG: Final = 0x00000008
CERT_CHAIN_POLICY_IGNORE_ALL_NOT_TIME_VALID_FLAGS: Final = 0x00000007
CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG: Final = 0x00000010
CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG: Final = 0x00000020
CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG: Final = 0x00000040
CERT_CHAIN_POLICY_IGNORE_INVALID_POLICY_FLAG: Final = 0x00000080
CERT_CHAIN_POLICY_IGNORE_END_REV_UNKNOWN_FLAG: Final = 0x00000100
CERT_CHAIN_POLICY_IGNORE_CTL_SIGNER_REV_UNKNOWN_FLAG: Final = 0x00000200
CERT_CHAIN_POLICY_IGNORE_CA_REV_UNKNOWN_FLAG: Final = 0x00000400
CERT_CHAIN_POLICY_IGNORE_ROOT_REV_UNKNOWN_FLAG: Final = 0x00000800
CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS: Final = 0x00000F00
CERT_CHAIN_POLICY_ALLOW_TESTROOT_FLAG: Final = 0x00008000
CERT_CHAIN_POLICY_TRUST_TESTROOT_FLAG: Final = 0x00004000
CRYPT_OID_VERIFY_CERTIFICATE_CHAIN_POLICY_FUNC: Final = "CertDllVerifyCertificateChainPolicy"
AUTHTYPE_CLIENT: Final = 1
AUTHTYPE_SERVER: Final = 2
BASIC_CONSTRAINTS_CERT_CHAIN_POLICY_CA_FLAG: Final = -2147483648
BASIC_CONSTRAINTS_CERT_CHAIN_POLICY_END_ENTITY_FLAG: Final = 0x40000000
MICROSOFT_ROOT_CERT_CHAIN_POLICY_ENABLE_TEST_ROOT_FLAG: Final = 0x00010000

# CryptBinaryToString / CryptStringToBinary, PFX import / export, store provider ids
CRYPT_STRING_BASE64HEADER: Final = 0x00000000
CRYPT_STRING_BASE64: Final = 0x00000001
CRYPT_STRING_BINARY: Final = 0x00000002
CRYPT_STRING_BASE64REQUESTHEADER: Final = 0x00000003
CRYPT_STRING_HEX: Final = 0x00000004
CRYPT_STRING_HEXASCII: Final = 0x00000005
CRYPT_STRING_BASE64_ANY: Final = 0x00000006
CRYPT_STRING_ANY: Final = 0x00000007
CRYPT_STRING_HEX_ANY: Final = 0x00000008
CRYPT_STRING_BASE64X509CRLHEADER: Final = 0x00000009
CRYPT_STRING_HEXADDR: Final = 0x0000000A
CRYPT_STRING_HEXASCIIADDR: Final = 0x0000000B
CRYPT_STRING_NOCR: Final = -2147483648
CRYPT_USER_KEYSET: Final = 0x00001000
PKCS12_IMPORT_RESERVED_MASK: Final = -65536
REPORT_NO_PRIVATE_KEY: Final = 0x0001
REPORT_NOT_ABLE_TO_EXPORT_PRIVATE_KEY: Final = 0x0002
EXPORT_PRIVATE_KEYS: Final = 0x0004
PKCS12_EXPORT_RESERVED_MASK: Final = -65536
CERT_STORE_PROV_MSG: Final = 1
CERT_STORE_PROV_MEMORY: Final = 2
CERT_STORE_PROV_FILE: Final = 3
CERT_STORE_PROV_REG: Final = 4
CERT_STORE_PROV_PKCS7: Final = 5
CERT_STORE_PROV_SERIALIZED: Final = 6
CERT_STORE_PROV_FILENAME: Final = 8
CERT_STORE_PROV_SYSTEM: Final = 10
CERT_STORE_PROV_COLLECTION: Final = 11
CERT_STORE_PROV_SYSTEM_REGISTRY: Final = 13
CERT_STORE_PROV_PHYSICAL: Final = 14
CERT_STORE_PROV_SMART_CARD: Final = 15
CERT_STORE_PROV_LDAP: Final = 16
URL_OID_CERTIFICATE_ISSUER: Final = 1
URL_OID_CERTIFICATE_CRL_DIST_POINT: Final = 2
URL_OID_CTL_ISSUER: Final = 3
URL_OID_CTL_NEXT_UPDATE: Final = 4
URL_OID_CRL_ISSUER: Final = 5
URL_OID_CERTIFICATE_FRESHEST_CRL: Final = 6
URL_OID_CRL_FRESHEST_CRL: Final = 7
URL_OID_CROSS_CERT_DIST_POINT: Final = 8
URL_OID_CERTIFICATE_OCSP: Final = 9
URL_OID_CERTIFICATE_OCSP_AND_CRL_DIST_POINT: Final = 10
URL_OID_CERTIFICATE_CRL_DIST_POINT_AND_OCSP: Final = 11
URL_OID_CROSS_CERT_SUBJECT_INFO_ACCESS: Final = 12
URL_OID_CERTIFICATE_ONLY_OCSP: Final = 13
