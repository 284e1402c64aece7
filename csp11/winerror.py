"""Windows error codes used by csp11, with pywin32's names and values.

A drop-in for the part of pywin32's ``winerror`` that CryptoAPI code needs:
all ``NTE_*`` (provider) codes, all ``CRYPT_E_*`` (certificate and message)
codes, all ``SCARD_*`` (smart card) codes, the Win32 ``ERROR_*`` codes that
providers set, and ``S_OK`` / ``E_*``.  The reference for names and values is
``win32-stubs/lib/winerror.pyi`` in the PyPI package ``types-pywin32``;
``tests/test_constants.py`` compares the two.

As in pywin32, HRESULT-style codes are *signed* 32-bit ints:
``NTE_BAD_ALGID == -2146893816`` (0x80090008).  :func:`name_of` accepts either
form.

``MESSAGES`` maps each code to its message text (what ``FormatMessage``
returns, taken from the MessageText comments of ``winerror.h``), and
:func:`name_of` maps a code back to its name.
"""

from typing import Any, Final

# ----------------------------------------------------------------------------
# Success
# ----------------------------------------------------------------------------
ERROR_SUCCESS: Final = 0
NO_ERROR: Final = 0
S_OK: Final = 0


# ----------------------------------------------------------------------------
# Win32 errors (GetLastError codes)
# ----------------------------------------------------------------------------
ERROR_FILE_NOT_FOUND: Final = 2
ERROR_ACCESS_DENIED: Final = 5
ERROR_INVALID_HANDLE: Final = 6
ERROR_NOT_ENOUGH_MEMORY: Final = 8
ERROR_INVALID_DATA: Final = 13
ERROR_OUTOFMEMORY: Final = 14
ERROR_NOT_SUPPORTED: Final = 50
ERROR_INVALID_PARAMETER: Final = 87
ERROR_CALL_NOT_IMPLEMENTED: Final = 120
ERROR_BUSY: Final = 170
ERROR_MORE_DATA: Final = 234
ERROR_NO_MORE_ITEMS: Final = 259
ERROR_CANCELLED: Final = 1223
ERROR_TIMEOUT: Final = 1460


# ----------------------------------------------------------------------------
# Generic COM errors (HRESULT)
# ----------------------------------------------------------------------------
E_NOTIMPL: Final = -2147467263  # 0x80004001
E_OUTOFMEMORY: Final = -2147024882  # 0x8007000E
E_INVALIDARG: Final = -2147024809  # 0x80070057
E_FAIL: Final = -2147467259  # 0x80004005


# ----------------------------------------------------------------------------
# Cryptographic service provider errors (FACILITY_SSPI, 0x8009xxxx)
# ----------------------------------------------------------------------------
NTE_BAD_UID: Final = -2146893823  # 0x80090001
NTE_BAD_HASH: Final = -2146893822  # 0x80090002
NTE_BAD_KEY: Final = -2146893821  # 0x80090003
NTE_BAD_LEN: Final = -2146893820  # 0x80090004
NTE_BAD_DATA: Final = -2146893819  # 0x80090005
NTE_BAD_SIGNATURE: Final = -2146893818  # 0x80090006
NTE_BAD_VER: Final = -2146893817  # 0x80090007
NTE_BAD_ALGID: Final = -2146893816  # 0x80090008
NTE_BAD_FLAGS: Final = -2146893815  # 0x80090009
NTE_BAD_TYPE: Final = -2146893814  # 0x8009000A
NTE_BAD_KEY_STATE: Final = -2146893813  # 0x8009000B
NTE_BAD_HASH_STATE: Final = -2146893812  # 0x8009000C
NTE_NO_KEY: Final = -2146893811  # 0x8009000D
NTE_NO_MEMORY: Final = -2146893810  # 0x8009000E
NTE_EXISTS: Final = -2146893809  # 0x8009000F
NTE_PERM: Final = -2146893808  # 0x80090010
NTE_NOT_FOUND: Final = -2146893807  # 0x80090011
NTE_DOUBLE_ENCRYPT: Final = -2146893806  # 0x80090012
NTE_BAD_PROVIDER: Final = -2146893805  # 0x80090013
NTE_BAD_PROV_TYPE: Final = -2146893804  # 0x80090014
NTE_BAD_PUBLIC_KEY: Final = -2146893803  # 0x80090015
NTE_BAD_KEYSET: Final = -2146893802  # 0x80090016
NTE_PROV_TYPE_NOT_DEF: Final = -2146893801  # 0x80090017
NTE_PROV_TYPE_ENTRY_BAD: Final = -2146893800  # 0x80090018
NTE_KEYSET_NOT_DEF: Final = -2146893799  # 0x80090019
NTE_KEYSET_ENTRY_BAD: Final = -2146893798  # 0x8009001A
NTE_PROV_TYPE_NO_MATCH: Final = -2146893797  # 0x8009001B
NTE_SIGNATURE_FILE_BAD: Final = -2146893796  # 0x8009001C
NTE_PROVIDER_DLL_FAIL: Final = -2146893795  # 0x8009001D
NTE_PROV_DLL_NOT_FOUND: Final = -2146893794  # 0x8009001E
NTE_BAD_KEYSET_PARAM: Final = -2146893793  # 0x8009001F
NTE_FAIL: Final = -2146893792  # 0x80090020
NTE_SYS_ERR: Final = -2146893791  # 0x80090021
NTE_SILENT_CONTEXT: Final = -2146893790  # 0x80090022
NTE_TOKEN_KEYSET_STORAGE_FULL: Final = -2146893789  # 0x80090023
NTE_TEMPORARY_PROFILE: Final = -2146893788  # 0x80090024
NTE_FIXEDPARAMETER: Final = -2146893787  # 0x80090025
NTE_INVALID_HANDLE: Final = -2146893786  # 0x80090026
NTE_INVALID_PARAMETER: Final = -2146893785  # 0x80090027
NTE_BUFFER_TOO_SMALL: Final = -2146893784  # 0x80090028
NTE_NOT_SUPPORTED: Final = -2146893783  # 0x80090029
NTE_NO_MORE_ITEMS: Final = -2146893782  # 0x8009002A
NTE_BUFFERS_OVERLAP: Final = -2146893781  # 0x8009002B
NTE_DECRYPTION_FAILURE: Final = -2146893780  # 0x8009002C
NTE_INTERNAL_ERROR: Final = -2146893779  # 0x8009002D
NTE_UI_REQUIRED: Final = -2146893778  # 0x8009002E
NTE_HMAC_NOT_SUPPORTED: Final = -2146893777  # 0x8009002F
NTE_DEVICE_NOT_READY: Final = -2146893776  # 0x80090030
NTE_AUTHENTICATION_IGNORED: Final = -2146893775  # 0x80090031
NTE_VALIDATION_FAILED: Final = -2146893774  # 0x80090032
NTE_INCORRECT_PASSWORD: Final = -2146893773  # 0x80090033
NTE_ENCRYPTION_FAILURE: Final = -2146893772  # 0x80090034
NTE_DEVICE_NOT_FOUND: Final = -2146893771  # 0x80090035
NTE_USER_CANCELLED: Final = -2146893770  # 0x80090036
NTE_PASSWORD_CHANGE_REQUIRED: Final = -2146893769  # 0x80090037
NTE_NOT_ACTIVE_CONSOLE: Final = -2146893768  # 0x80090038
NTE_OP_OK: Final = 0


# ----------------------------------------------------------------------------
# Certificate and message errors (CRYPT_E_*, 0x8009xxxx)
# ----------------------------------------------------------------------------
CRYPT_E_MSG_ERROR: Final = -2146889727  # 0x80091001
CRYPT_E_UNKNOWN_ALGO: Final = -2146889726  # 0x80091002
CRYPT_E_OID_FORMAT: Final = -2146889725  # 0x80091003
CRYPT_E_INVALID_MSG_TYPE: Final = -2146889724  # 0x80091004
CRYPT_E_UNEXPECTED_ENCODING: Final = -2146889723  # 0x80091005
CRYPT_E_AUTH_ATTR_MISSING: Final = -2146889722  # 0x80091006
CRYPT_E_HASH_VALUE: Final = -2146889721  # 0x80091007
CRYPT_E_INVALID_INDEX: Final = -2146889720  # 0x80091008
CRYPT_E_ALREADY_DECRYPTED: Final = -2146889719  # 0x80091009
CRYPT_E_NOT_DECRYPTED: Final = -2146889718  # 0x8009100A
CRYPT_E_RECIPIENT_NOT_FOUND: Final = -2146889717  # 0x8009100B
CRYPT_E_CONTROL_TYPE: Final = -2146889716  # 0x8009100C
CRYPT_E_ISSUER_SERIALNUMBER: Final = -2146889715  # 0x8009100D
CRYPT_E_SIGNER_NOT_FOUND: Final = -2146889714  # 0x8009100E
CRYPT_E_ATTRIBUTES_MISSING: Final = -2146889713  # 0x8009100F
CRYPT_E_STREAM_MSG_NOT_READY: Final = -2146889712  # 0x80091010
CRYPT_E_STREAM_INSUFFICIENT_DATA: Final = -2146889711  # 0x80091011
CRYPT_E_BAD_LEN: Final = -2146885631  # 0x80092001
CRYPT_E_BAD_ENCODE: Final = -2146885630  # 0x80092002
CRYPT_E_FILE_ERROR: Final = -2146885629  # 0x80092003
CRYPT_E_NOT_FOUND: Final = -2146885628  # 0x80092004
CRYPT_E_EXISTS: Final = -2146885627  # 0x80092005
CRYPT_E_NO_PROVIDER: Final = -2146885626  # 0x80092006
CRYPT_E_SELF_SIGNED: Final = -2146885625  # 0x80092007
CRYPT_E_DELETED_PREV: Final = -2146885624  # 0x80092008
CRYPT_E_NO_MATCH: Final = -2146885623  # 0x80092009
CRYPT_E_UNEXPECTED_MSG_TYPE: Final = -2146885622  # 0x8009200A
CRYPT_E_NO_KEY_PROPERTY: Final = -2146885621  # 0x8009200B
CRYPT_E_NO_DECRYPT_CERT: Final = -2146885620  # 0x8009200C
CRYPT_E_BAD_MSG: Final = -2146885619  # 0x8009200D
CRYPT_E_NO_SIGNER: Final = -2146885618  # 0x8009200E
CRYPT_E_PENDING_CLOSE: Final = -2146885617  # 0x8009200F
CRYPT_E_REVOKED: Final = -2146885616  # 0x80092010
CRYPT_E_NO_REVOCATION_DLL: Final = -2146885615  # 0x80092011
CRYPT_E_NO_REVOCATION_CHECK: Final = -2146885614  # 0x80092012
CRYPT_E_REVOCATION_OFFLINE: Final = -2146885613  # 0x80092013
CRYPT_E_NOT_IN_REVOCATION_DATABASE: Final = -2146885612  # 0x80092014
CRYPT_E_INVALID_NUMERIC_STRING: Final = -2146885600  # 0x80092020
CRYPT_E_INVALID_PRINTABLE_STRING: Final = -2146885599  # 0x80092021
CRYPT_E_INVALID_IA5_STRING: Final = -2146885598  # 0x80092022
CRYPT_E_INVALID_X500_STRING: Final = -2146885597  # 0x80092023
CRYPT_E_NOT_CHAR_STRING: Final = -2146885596  # 0x80092024
CRYPT_E_FILERESIZED: Final = -2146885595  # 0x80092025
CRYPT_E_SECURITY_SETTINGS: Final = -2146885594  # 0x80092026
CRYPT_E_NO_VERIFY_USAGE_DLL: Final = -2146885593  # 0x80092027
CRYPT_E_NO_VERIFY_USAGE_CHECK: Final = -2146885592  # 0x80092028
CRYPT_E_VERIFY_USAGE_OFFLINE: Final = -2146885591  # 0x80092029
CRYPT_E_NOT_IN_CTL: Final = -2146885590  # 0x8009202A
CRYPT_E_NO_TRUSTED_SIGNER: Final = -2146885589  # 0x8009202B
CRYPT_E_MISSING_PUBKEY_PARA: Final = -2146885588  # 0x8009202C
CRYPT_E_OBJECT_LOCATOR_OBJECT_NOT_FOUND: Final = -2146885587  # 0x8009202D
CRYPT_E_OSS_ERROR: Final = -2146881536  # 0x80093000
CRYPT_E_ASN1_ERROR: Final = -2146881280  # 0x80093100
CRYPT_E_ASN1_INTERNAL: Final = -2146881279  # 0x80093101
CRYPT_E_ASN1_EOD: Final = -2146881278  # 0x80093102
CRYPT_E_ASN1_CORRUPT: Final = -2146881277  # 0x80093103
CRYPT_E_ASN1_LARGE: Final = -2146881276  # 0x80093104
CRYPT_E_ASN1_CONSTRAINT: Final = -2146881275  # 0x80093105
CRYPT_E_ASN1_MEMORY: Final = -2146881274  # 0x80093106
CRYPT_E_ASN1_OVERFLOW: Final = -2146881273  # 0x80093107
CRYPT_E_ASN1_BADPDU: Final = -2146881272  # 0x80093108
CRYPT_E_ASN1_BADARGS: Final = -2146881271  # 0x80093109
CRYPT_E_ASN1_BADREAL: Final = -2146881270  # 0x8009310A
CRYPT_E_ASN1_BADTAG: Final = -2146881269  # 0x8009310B
CRYPT_E_ASN1_CHOICE: Final = -2146881268  # 0x8009310C
CRYPT_E_ASN1_RULE: Final = -2146881267  # 0x8009310D
CRYPT_E_ASN1_UTF8: Final = -2146881266  # 0x8009310E
CRYPT_E_ASN1_PDU_TYPE: Final = -2146881229  # 0x80093133
CRYPT_E_ASN1_NYI: Final = -2146881228  # 0x80093134
CRYPT_E_ASN1_EXTENDED: Final = -2146881023  # 0x80093201
CRYPT_E_ASN1_NOEOD: Final = -2146881022  # 0x80093202


# ----------------------------------------------------------------------------
# Smart card errors (FACILITY_SCARD, 0x8010xxxx)
# ----------------------------------------------------------------------------
SCARD_S_SUCCESS: Final = NO_ERROR
SCARD_F_INTERNAL_ERROR: Final = -2146435071  # 0x80100001
SCARD_E_CANCELLED: Final = -2146435070  # 0x80100002
SCARD_E_INVALID_HANDLE: Final = -2146435069  # 0x80100003
SCARD_E_INVALID_PARAMETER: Final = -2146435068  # 0x80100004
SCARD_E_INVALID_TARGET: Final = -2146435067  # 0x80100005
SCARD_E_NO_MEMORY: Final = -2146435066  # 0x80100006
SCARD_F_WAITED_TOO_LONG: Final = -2146435065  # 0x80100007
SCARD_E_INSUFFICIENT_BUFFER: Final = -2146435064  # 0x80100008
SCARD_E_UNKNOWN_READER: Final = -2146435063  # 0x80100009
SCARD_E_TIMEOUT: Final = -2146435062  # 0x8010000A
SCARD_E_SHARING_VIOLATION: Final = -2146435061  # 0x8010000B
SCARD_E_NO_SMARTCARD: Final = -2146435060  # 0x8010000C
SCARD_E_UNKNOWN_CARD: Final = -2146435059  # 0x8010000D
SCARD_E_CANT_DISPOSE: Final = -2146435058  # 0x8010000E
SCARD_E_PROTO_MISMATCH: Final = -2146435057  # 0x8010000F
SCARD_E_NOT_READY: Final = -2146435056  # 0x80100010
SCARD_E_INVALID_VALUE: Final = -2146435055  # 0x80100011
SCARD_E_SYSTEM_CANCELLED: Final = -2146435054  # 0x80100012
SCARD_F_COMM_ERROR: Final = -2146435053  # 0x80100013
SCARD_F_UNKNOWN_ERROR: Final = -2146435052  # 0x80100014
SCARD_E_INVALID_ATR: Final = -2146435051  # 0x80100015
SCARD_E_NOT_TRANSACTED: Final = -2146435050  # 0x80100016
SCARD_E_READER_UNAVAILABLE: Final = -2146435049  # 0x80100017
SCARD_P_SHUTDOWN: Final = -2146435048  # 0x80100018
SCARD_E_PCI_TOO_SMALL: Final = -2146435047  # 0x80100019
SCARD_E_READER_UNSUPPORTED: Final = -2146435046  # 0x8010001A
SCARD_E_DUPLICATE_READER: Final = -2146435045  # 0x8010001B
SCARD_E_CARD_UNSUPPORTED: Final = -2146435044  # 0x8010001C
SCARD_E_NO_SERVICE: Final = -2146435043  # 0x8010001D
SCARD_E_SERVICE_STOPPED: Final = -2146435042  # 0x8010001E
SCARD_E_UNEXPECTED: Final = -2146435041  # 0x8010001F
SCARD_E_ICC_INSTALLATION: Final = -2146435040  # 0x80100020
SCARD_E_ICC_CREATEORDER: Final = -2146435039  # 0x80100021
SCARD_E_UNSUPPORTED_FEATURE: Final = -2146435038  # 0x80100022
SCARD_E_DIR_NOT_FOUND: Final = -2146435037  # 0x80100023
SCARD_E_FILE_NOT_FOUND: Final = -2146435036  # 0x80100024
SCARD_E_NO_DIR: Final = -2146435035  # 0x80100025
SCARD_E_NO_FILE: Final = -2146435034  # 0x80100026
SCARD_E_NO_ACCESS: Final = -2146435033  # 0x80100027
SCARD_E_WRITE_TOO_MANY: Final = -2146435032  # 0x80100028
SCARD_E_BAD_SEEK: Final = -2146435031  # 0x80100029
SCARD_E_INVALID_CHV: Final = -2146435030  # 0x8010002A
SCARD_E_UNKNOWN_RES_MNG: Final = -2146435029  # 0x8010002B
SCARD_E_NO_SUCH_CERTIFICATE: Final = -2146435028  # 0x8010002C
SCARD_E_CERTIFICATE_UNAVAILABLE: Final = -2146435027  # 0x8010002D
SCARD_E_NO_READERS_AVAILABLE: Final = -2146435026  # 0x8010002E
SCARD_E_COMM_DATA_LOST: Final = -2146435025  # 0x8010002F
SCARD_E_NO_KEY_CONTAINER: Final = -2146435024  # 0x80100030
SCARD_E_SERVER_TOO_BUSY: Final = -2146435023  # 0x80100031
SCARD_E_PIN_CACHE_EXPIRED: Final = -2146435022  # 0x80100032
SCARD_E_NO_PIN_CACHE: Final = -2146435021  # 0x80100033
SCARD_E_READ_ONLY_CARD: Final = -2146435020  # 0x80100034
SCARD_W_UNSUPPORTED_CARD: Final = -2146434971  # 0x80100065
SCARD_W_UNRESPONSIVE_CARD: Final = -2146434970  # 0x80100066
SCARD_W_UNPOWERED_CARD: Final = -2146434969  # 0x80100067
SCARD_W_RESET_CARD: Final = -2146434968  # 0x80100068
SCARD_W_REMOVED_CARD: Final = -2146434967  # 0x80100069
SCARD_W_SECURITY_VIOLATION: Final = -2146434966  # 0x8010006A
SCARD_W_WRONG_CHV: Final = -2146434965  # 0x8010006B
SCARD_W_CHV_BLOCKED: Final = -2146434964  # 0x8010006C
SCARD_W_EOF: Final = -2146434963  # 0x8010006D
SCARD_W_CANCELLED_BY_USER: Final = -2146434962  # 0x8010006E
SCARD_W_CARD_NOT_AUTHENTICATED: Final = -2146434961  # 0x8010006F
SCARD_W_CACHE_ITEM_NOT_FOUND: Final = -2146434960  # 0x80100070
SCARD_W_CACHE_ITEM_STALE: Final = -2146434959  # 0x80100071
SCARD_W_CACHE_ITEM_TOO_BIG: Final = -2146434958  # 0x80100072


# ----------------------------------------------------------------------------
# Message texts
# ----------------------------------------------------------------------------

# What FormatMessage gives for each code (the MessageText of winerror.h).
MESSAGES: dict[int, str] = {
    ERROR_SUCCESS: "The operation completed successfully.",
    ERROR_FILE_NOT_FOUND: "The system cannot find the file specified.",
    ERROR_ACCESS_DENIED: "Access is denied.",
    ERROR_INVALID_HANDLE: "The handle is invalid.",
    ERROR_NOT_ENOUGH_MEMORY: "Not enough memory resources are available to process this command.",
    ERROR_INVALID_DATA: "The data is invalid.",
    ERROR_OUTOFMEMORY: "Not enough memory resources are available to complete this operation.",
    ERROR_NOT_SUPPORTED: "The request is not supported.",
    ERROR_INVALID_PARAMETER: "The parameter is incorrect.",
    ERROR_CALL_NOT_IMPLEMENTED: "This function is not supported on this system.",
    ERROR_BUSY: "The requested resource is in use.",
    ERROR_MORE_DATA: "More data is available.",
    ERROR_NO_MORE_ITEMS: "No more data is available.",
    ERROR_CANCELLED: "The operation was canceled by the user.",
    ERROR_TIMEOUT: "This operation returned because the timeout period expired.",
    E_NOTIMPL: "Not implemented",
    E_OUTOFMEMORY: "Not enough memory resources are available to complete this operation.",
    E_INVALIDARG: "The parameter is incorrect.",
    E_FAIL: "Unspecified error",
    NTE_BAD_UID: "Bad UID.",
    NTE_BAD_HASH: "Bad Hash.",
    NTE_BAD_KEY: "Bad Key.",
    NTE_BAD_LEN: "Bad Length.",
    NTE_BAD_DATA: "Bad Data.",
    NTE_BAD_SIGNATURE: "Invalid Signature.",
    NTE_BAD_VER: "Bad Version of provider.",
    NTE_BAD_ALGID: "Invalid algorithm specified.",
    NTE_BAD_FLAGS: "Invalid flags specified.",
    NTE_BAD_TYPE: "Invalid type specified.",
    NTE_BAD_KEY_STATE: "Key not valid for use in specified state.",
    NTE_BAD_HASH_STATE: "Hash not valid for use in specified state.",
    NTE_NO_KEY: "Key does not exist.",
    NTE_NO_MEMORY: "Insufficient memory available for the operation.",
    NTE_EXISTS: "Object already exists.",
    NTE_PERM: "Access denied.",
    NTE_NOT_FOUND: "Object was not found.",
    NTE_DOUBLE_ENCRYPT: "Data already encrypted.",
    NTE_BAD_PROVIDER: "Invalid provider specified.",
    NTE_BAD_PROV_TYPE: "Invalid provider type specified.",
    NTE_BAD_PUBLIC_KEY: "Provider's public key is invalid.",
    NTE_BAD_KEYSET: "Keyset does not exist",
    NTE_PROV_TYPE_NOT_DEF: "Provider type not defined.",
    NTE_PROV_TYPE_ENTRY_BAD: "Provider type as registered is invalid.",
    NTE_KEYSET_NOT_DEF: "The keyset is not defined.",
    NTE_KEYSET_ENTRY_BAD: "Keyset as registered is invalid.",
    NTE_PROV_TYPE_NO_MATCH: "Provider type does not match registered value.",
    NTE_SIGNATURE_FILE_BAD: "The digital signature file is corrupt.",
    NTE_PROVIDER_DLL_FAIL: "Provider DLL failed to initialize correctly.",
    NTE_PROV_DLL_NOT_FOUND: "Provider DLL could not be found.",
    NTE_BAD_KEYSET_PARAM: "The Keyset parameter is invalid.",
    NTE_FAIL: "An internal error occurred.",
    NTE_SYS_ERR: "A base error occurred.",
    NTE_SILENT_CONTEXT: "Provider could not perform the action since the context was acquired as silent.",
    NTE_TOKEN_KEYSET_STORAGE_FULL: "The security token does not have storage space available for an additional container.",
    NTE_TEMPORARY_PROFILE: "The profile for the user is a temporary profile.",
    NTE_FIXEDPARAMETER: "The key parameters could not be set because the CSP uses fixed parameters.",
    NTE_INVALID_HANDLE: "The supplied handle is invalid.",
    NTE_INVALID_PARAMETER: "The parameter is incorrect.",
    NTE_BUFFER_TOO_SMALL: "The buffer supplied to a function was too small.",
    NTE_NOT_SUPPORTED: "The requested operation is not supported.",
    NTE_NO_MORE_ITEMS: "No more data is available.",
    NTE_BUFFERS_OVERLAP: "The supplied buffers overlap incorrectly.",
    NTE_DECRYPTION_FAILURE: "The specified data could not be decrypted.",
    NTE_INTERNAL_ERROR: "An internal consistency check failed.",
    NTE_UI_REQUIRED: "This operation requires input from the user.",
    NTE_HMAC_NOT_SUPPORTED: "The cryptographic provider does not support HMAC.",
    NTE_DEVICE_NOT_READY: "The device that is required by this cryptographic provider is not ready for use.",
    NTE_AUTHENTICATION_IGNORED: "The dictionary attack mitigation is triggered and the provided authorization was ignored by the provider.",
    NTE_VALIDATION_FAILED: "The validation of the provided data failed the integrity or signature validation.",
    NTE_INCORRECT_PASSWORD: "Incorrect password.",
    NTE_ENCRYPTION_FAILURE: "Encryption failed.",
    NTE_DEVICE_NOT_FOUND: "The device that is required by this cryptographic provider is not found on this platform.",
    NTE_USER_CANCELLED: "The action was cancelled by the user.",
    NTE_PASSWORD_CHANGE_REQUIRED: "The password is no longer valid and must be changed.",
    NTE_NOT_ACTIVE_CONSOLE: "The operation cannot be completed from Terminal Server client sessions.",
    CRYPT_E_MSG_ERROR: "An error occurred while performing an operation on a cryptographic message.",
    CRYPT_E_UNKNOWN_ALGO: "Unknown cryptographic algorithm.",
    CRYPT_E_OID_FORMAT: "The object identifier is poorly formatted.",
    CRYPT_E_INVALID_MSG_TYPE: "Invalid cryptographic message type.",
    CRYPT_E_UNEXPECTED_ENCODING: "Unexpected cryptographic message encoding.",
    CRYPT_E_AUTH_ATTR_MISSING: "The cryptographic message does not contain an expected authenticated attribute.",
    CRYPT_E_HASH_VALUE: "The hash value is not correct.",
    CRYPT_E_INVALID_INDEX: "The index value is not valid.",
    CRYPT_E_ALREADY_DECRYPTED: "The content of the cryptographic message has already been decrypted.",
    CRYPT_E_NOT_DECRYPTED: "The content of the cryptographic message has not been decrypted yet.",
    CRYPT_E_RECIPIENT_NOT_FOUND: "The enveloped-data message does not contain the specified recipient.",
    CRYPT_E_CONTROL_TYPE: "Invalid control type.",
    CRYPT_E_ISSUER_SERIALNUMBER: "Invalid issuer and/or serial number.",
    CRYPT_E_SIGNER_NOT_FOUND: "Cannot find the original signer.",
    CRYPT_E_ATTRIBUTES_MISSING: "The cryptographic message does not contain all of the requested attributes.",
    CRYPT_E_STREAM_MSG_NOT_READY: "The streamed cryptographic message is not ready to return data.",
    CRYPT_E_STREAM_INSUFFICIENT_DATA: "The streamed cryptographic message requires more data to complete the decode operation.",
    CRYPT_E_BAD_LEN: "The length specified for the output data was insufficient.",
    CRYPT_E_BAD_ENCODE: "An error occurred during encode or decode operation.",
    CRYPT_E_FILE_ERROR: "An error occurred while reading or writing to a file.",
    CRYPT_E_NOT_FOUND: "Cannot find object or property.",
    CRYPT_E_EXISTS: "The object or property already exists.",
    CRYPT_E_NO_PROVIDER: "No provider was specified for the store or object.",
    CRYPT_E_SELF_SIGNED: "The specified certificate is self signed.",
    CRYPT_E_DELETED_PREV: "The previous certificate or CRL context was deleted.",
    CRYPT_E_NO_MATCH: "Cannot find the requested object.",
    CRYPT_E_UNEXPECTED_MSG_TYPE: "The certificate does not have a property that references a private key.",
    CRYPT_E_NO_KEY_PROPERTY: "Cannot find the certificate and private key for decryption.",
    CRYPT_E_NO_DECRYPT_CERT: "Cannot find the certificate and private key to use for decryption.",
    CRYPT_E_BAD_MSG: "Not a cryptographic message or the cryptographic message is not formatted correctly.",
    CRYPT_E_NO_SIGNER: "The signed cryptographic message does not have a signer for the specified signer index.",
    CRYPT_E_PENDING_CLOSE: "Final closure is pending until additional frees or closes.",
    CRYPT_E_REVOKED: "The certificate is revoked.",
    CRYPT_E_NO_REVOCATION_DLL: "No Dll or exported function was found to verify revocation.",
    CRYPT_E_NO_REVOCATION_CHECK: "The revocation function was unable to check revocation for the certificate.",
    CRYPT_E_REVOCATION_OFFLINE: "The revocation function was unable to check revocation because the revocation server was offline.",
    CRYPT_E_NOT_IN_REVOCATION_DATABASE: "The certificate is not in the revocation server's database.",
    CRYPT_E_INVALID_NUMERIC_STRING: "The string contains a non-numeric character.",
    CRYPT_E_INVALID_PRINTABLE_STRING: "The string contains a non-printable character.",
    CRYPT_E_INVALID_IA5_STRING: "The string contains a character not in the 7 bit ASCII character set.",
    CRYPT_E_INVALID_X500_STRING: "The string contains an invalid X500 name attribute key, oid, value or delimiter.",
    CRYPT_E_NOT_CHAR_STRING: "The dwValueType for the CERT_NAME_VALUE is not one of the character strings. Most likely it is either a CERT_RDN_ENCODED_BLOB or CERT_RDN_OCTET_STRING.",
    CRYPT_E_FILERESIZED: "The Put operation cannot continue. The file needs to be resized. However, there is already a signature present. A complete signing operation must be done.",
    CRYPT_E_SECURITY_SETTINGS: "The cryptographic operation failed due to a local security option setting.",
    CRYPT_E_NO_VERIFY_USAGE_DLL: "No DLL or exported function was found to verify subject usage.",
    CRYPT_E_NO_VERIFY_USAGE_CHECK: "The called function was unable to do a usage check on the subject.",
    CRYPT_E_VERIFY_USAGE_OFFLINE: "Since the server was offline, the called function was unable to complete the usage check.",
    CRYPT_E_NOT_IN_CTL: "The subject was not found in a Certificate Trust List (CTL).",
    CRYPT_E_NO_TRUSTED_SIGNER: "None of the signers of the cryptographic message or certificate trust list is trusted.",
    CRYPT_E_MISSING_PUBKEY_PARA: "The public key's algorithm parameters are missing.",
    CRYPT_E_OBJECT_LOCATOR_OBJECT_NOT_FOUND: "An object could not be located using the object locator infrastructure with the given name.",
    CRYPT_E_OSS_ERROR: "OSS Certificate encode/decode error code base",
    CRYPT_E_ASN1_ERROR: "ASN1 Certificate encode/decode error code base. The ASN1 error values are offset by CRYPT_E_ASN1_ERROR.",
    CRYPT_E_ASN1_INTERNAL: "ASN1 internal encode or decode error.",
    CRYPT_E_ASN1_EOD: "ASN1 unexpected end of data.",
    CRYPT_E_ASN1_CORRUPT: "ASN1 corrupted data.",
    CRYPT_E_ASN1_LARGE: "ASN1 value too large.",
    CRYPT_E_ASN1_CONSTRAINT: "ASN1 constraint violated.",
    CRYPT_E_ASN1_MEMORY: "ASN1 out of memory.",
    CRYPT_E_ASN1_OVERFLOW: "ASN1 buffer overflow.",
    CRYPT_E_ASN1_BADPDU: "ASN1 function not supported for this PDU.",
    CRYPT_E_ASN1_BADARGS: "ASN1 bad arguments to function call.",
    CRYPT_E_ASN1_BADREAL: "ASN1 bad real value.",
    CRYPT_E_ASN1_BADTAG: "ASN1 bad tag value met.",
    CRYPT_E_ASN1_CHOICE: "ASN1 bad choice value.",
    CRYPT_E_ASN1_RULE: "ASN1 bad encoding rule.",
    CRYPT_E_ASN1_UTF8: "ASN1 bad unicode (UTF8).",
    CRYPT_E_ASN1_PDU_TYPE: "ASN1 bad PDU type.",
    CRYPT_E_ASN1_NYI: "ASN1 not yet implemented.",
    CRYPT_E_ASN1_EXTENDED: "ASN1 skipped unknown extension(s).",
    CRYPT_E_ASN1_NOEOD: "ASN1 end of data expected",
    SCARD_F_INTERNAL_ERROR: "An internal consistency check failed.",
    SCARD_E_CANCELLED: "The action was cancelled by an SCardCancel request.",
    SCARD_E_INVALID_HANDLE: "The supplied handle was invalid.",
    SCARD_E_INVALID_PARAMETER: "One or more of the supplied parameters could not be properly interpreted.",
    SCARD_E_INVALID_TARGET: "Registry startup information is missing or invalid.",
    SCARD_E_NO_MEMORY: "Not enough memory available to complete this command.",
    SCARD_F_WAITED_TOO_LONG: "An internal consistency timer has expired.",
    SCARD_E_INSUFFICIENT_BUFFER: "The data buffer to receive returned data is too small for the returned data.",
    SCARD_E_UNKNOWN_READER: "The specified reader name is not recognized.",
    SCARD_E_TIMEOUT: "The user-specified timeout value has expired.",
    SCARD_E_SHARING_VIOLATION: "The smart card cannot be accessed because of other connections outstanding.",
    SCARD_E_NO_SMARTCARD: "The operation requires a smart card, but no smart card is currently in the device.",
    SCARD_E_UNKNOWN_CARD: "The specified smart card name is not recognized.",
    SCARD_E_CANT_DISPOSE: "The system could not dispose of the media in the requested manner.",
    SCARD_E_PROTO_MISMATCH: "The requested protocols are incompatible with the protocol currently in use with the smart card.",
    SCARD_E_NOT_READY: "The reader or smart card is not ready to accept commands.",
    SCARD_E_INVALID_VALUE: "One or more of the supplied parameters values could not be properly interpreted.",
    SCARD_E_SYSTEM_CANCELLED: "The action was cancelled by the system, presumably to log off or shut down.",
    SCARD_F_COMM_ERROR: "An internal communications error has been detected.",
    SCARD_F_UNKNOWN_ERROR: "An internal error has been detected, but the source is unknown.",
    SCARD_E_INVALID_ATR: "An ATR obtained from the registry is not a valid ATR string.",
    SCARD_E_NOT_TRANSACTED: "An attempt was made to end a non-existent transaction.",
    SCARD_E_READER_UNAVAILABLE: "The specified reader is not currently available for use.",
    SCARD_P_SHUTDOWN: "The operation has been aborted to allow the server application to exit.",
    SCARD_E_PCI_TOO_SMALL: "The PCI Receive buffer was too small.",
    SCARD_E_READER_UNSUPPORTED: "The reader driver does not meet minimal requirements for support.",
    SCARD_E_DUPLICATE_READER: "The reader driver did not produce a unique reader name.",
    SCARD_E_CARD_UNSUPPORTED: "The smart card does not meet minimal requirements for support.",
    SCARD_E_NO_SERVICE: "The Smart Card Resource Manager is not running.",
    SCARD_E_SERVICE_STOPPED: "The Smart Card Resource Manager has shut down.",
    SCARD_E_UNEXPECTED: "An unexpected card error has occurred.",
    SCARD_E_ICC_INSTALLATION: "No Primary Provider can be found for the smart card.",
    SCARD_E_ICC_CREATEORDER: "The requested order of object creation is not supported.",
    SCARD_E_UNSUPPORTED_FEATURE: "This smart card does not support the requested feature.",
    SCARD_E_DIR_NOT_FOUND: "The identified directory does not exist in the smart card.",
    SCARD_E_FILE_NOT_FOUND: "The identified file does not exist in the smart card.",
    SCARD_E_NO_DIR: "The supplied path does not represent a smart card directory.",
    SCARD_E_NO_FILE: "The supplied path does not represent a smart card file.",
    SCARD_E_NO_ACCESS: "Access is denied to this file.",
    SCARD_E_WRITE_TOO_MANY: "The smart card does not have enough memory to store the information.",
    SCARD_E_BAD_SEEK: "There was an error trying to set the smart card file object pointer.",
    SCARD_E_INVALID_CHV: "The supplied PIN is incorrect.",
    SCARD_E_UNKNOWN_RES_MNG: "An unrecognized error code was returned from a layered component.",
    SCARD_E_NO_SUCH_CERTIFICATE: "The requested certificate does not exist.",
    SCARD_E_CERTIFICATE_UNAVAILABLE: "The requested certificate could not be obtained.",
    SCARD_E_NO_READERS_AVAILABLE: "Cannot find a smart card reader.",
    SCARD_E_COMM_DATA_LOST: "A communications error with the smart card has been detected. Retry the operation.",
    SCARD_E_NO_KEY_CONTAINER: "The requested key container does not exist on the smart card.",
    SCARD_E_SERVER_TOO_BUSY: "The Smart Card Resource Manager is too busy to complete this operation.",
    SCARD_E_PIN_CACHE_EXPIRED: "The smart card PIN cache has expired.",
    SCARD_E_NO_PIN_CACHE: "The smart card PIN cannot be cached.",
    SCARD_E_READ_ONLY_CARD: "The smart card is read only and cannot be written to.",
    SCARD_W_UNSUPPORTED_CARD: "The reader cannot communicate with the smart card, due to ATR configuration conflicts.",
    SCARD_W_UNRESPONSIVE_CARD: "The smart card is not responding to a reset.",
    SCARD_W_UNPOWERED_CARD: "Power has been removed from the smart card, so that further communication is not possible.",
    SCARD_W_RESET_CARD: "The smart card has been reset, so any shared state information is invalid.",
    SCARD_W_REMOVED_CARD: "The smart card has been removed, so that further communication is not possible.",
    SCARD_W_SECURITY_VIOLATION: "Access was denied because of a security violation.",
    SCARD_W_WRONG_CHV: "The card cannot be accessed because the wrong PIN was presented.",
    SCARD_W_CHV_BLOCKED: "The card cannot be accessed because the maximum number of PIN entry attempts has been reached.",
    SCARD_W_EOF: "The end of the smart card file has been reached.",
    SCARD_W_CANCELLED_BY_USER: "The action was cancelled by the user.",
    SCARD_W_CARD_NOT_AUTHENTICATED: "No PIN was presented to the smart card.",
    SCARD_W_CACHE_ITEM_NOT_FOUND: "The requested item could not be found in the cache.",
    SCARD_W_CACHE_ITEM_STALE: "The requested cache item is too old and was deleted from the cache.",
    SCARD_W_CACHE_ITEM_TOO_BIG: "The new cache item exceeds the maximum per-item size defined for the cache.",
}


# ----------------------------------------------------------------------------
# Code -> name
# ----------------------------------------------------------------------------

# When several names share a value, name_of() picks by prefix in this order,
# then the name defined first in this module.  Only 0 is shared between the
# preferred prefixes (ERROR_SUCCESS, NTE_OP_OK, SCARD_S_SUCCESS, S_OK,
# NO_ERROR), so name_of(0) == "ERROR_SUCCESS".
_NAME_PREFERENCE: Final = ("ERROR_", "NTE_", "SCARD_", "CRYPT_E_", "E_", "S_", "NO_ERROR")


def _build_names(namespace: dict[str, Any]) -> dict[int, str]:
    best: dict[int, tuple[int, int, str]] = {}
    for position, (name, value) in enumerate(namespace.items()):
        if type(value) is not int or not name.isupper() or name.startswith("_"):
            continue
        rank = next(i for i, prefix in enumerate(_NAME_PREFERENCE) if name.startswith(prefix))
        candidate = (rank, position, name)
        if value not in best or candidate < best[value]:
            best[value] = candidate
    return {value: name for value, (_, _, name) in best.items()}


_NAMES: Final = _build_names(globals())


def name_of(code: int) -> str:
    """Return the name of the error *code*, e.g. ``"NTE_BAD_ALGID"``.

    *code* may be given signed (as pywin32 and this module define it) or as the
    unsigned 32-bit value (``0x80090008``).  A code with no name here comes back
    as its unsigned 32-bit value in hex, ``"0x8009FFFF"``; an int that is not a
    32-bit value at all comes back as ``hex(code)``.  Where several names share
    a value the choice is deterministic: see ``_NAME_PREFERENCE``.
    """
    if not -0x8000_0000 <= code <= 0xFFFF_FFFF:
        return hex(code)
    signed = code - 0x1_0000_0000 if code >= 0x8000_0000 else code
    name = _NAMES.get(signed)
    if name is not None:
        return name
    return f"0x{code & 0xFFFF_FFFF:08X}"
