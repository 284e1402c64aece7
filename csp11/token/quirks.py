"""Token quirks: what a token advertises but does not do, declared as data.

Each quirk is named, explained and measured (notes/TOKEN-FACTS.md); code asks
``token.quirks.<name>`` instead of testing which token it is.  A token is
matched by the manufacturer and model it reports in ``C_GetTokenInfo``, or by
the manufacturer its module reports in ``C_GetInfo`` (a TPM reports its chip
vendor as the token's manufacturer; tpm2-pkcs11 names itself in ``C_GetInfo``).
What a token *does* say is probed instead (:mod:`csp11.model.capabilities`).
"""

from __future__ import annotations

from csp11.structs import Struct

__all__ = ["NO_QUIRKS", "Quirks", "quirks_for"]


class Quirks(Struct):
    """Known deviations of one kind of token from what it advertises."""

    name: str = "none"
    # Smallest DSA prime the token really generates keys for.  SoftHSM2
    # advertises 512-1024 bits but fails below 1024 with CKR_GENERAL_ERROR,
    # even with domain parameters made elsewhere.
    dsa_min_bits: int = 0
    # Largest DSA prime accepted, where it differs from C_GetMechanismInfo.
    dsa_max_bits: int = 0
    # The token runs single DES through the process's OpenSSL 3, which keeps
    # DES in its "legacy" provider: without it C_EncryptInit(CKM_DES_*)
    # fails with CKR_MECHANISM_INVALID although the mechanism is listed
    # (SoftHSM2 2.6.1 on Debian 12, measured).  csp11 then loads the legacy
    # provider (and the default one, which loading any provider would
    # otherwise switch off) into the default OpenSSL context.
    openssl_legacy_des: bool = False
    # A process that writes token objects right after another process did
    # stops seeing that process's objects (SoftHSM2 2.6.1: its per-process
    # copy of the token's generation counter absorbs the other's increment;
    # measured, see csp11.token.softhsm).  csp11 bumps the counter again after
    # its own token-object writes, so that every process re-reads the store.
    generation_lost_update: bool = False
    # An RSA pair is always usable for signing *and* decryption, whatever the
    # template asks: a template with CKA_DECRYPT (or CKA_ENCRYPT, CKA_WRAP)
    # false fails with "User specified and TPM specified attr mismatch: 0x10a"
    # → CKR_GENERAL_ERROR (tpm2-pkcs11 1.9: the TPM key is made sign+decrypt,
    # and the public key's CKA_VERIFY/ENCRYPT follow).  Templates then state
    # the dual use; csp11's own checks keep AT_SIGNATURE keys to signing.
    rsa_pairs_dual_use: bool = False
    # The token makes no extractable private keys (tpm2-pkcs11 1.9: "Cannot
    # mark object both extractable AND sensitive" → CKR_ATTRIBUTE_VALUE_INVALID).
    # CRYPT_EXPORTABLE / CRYPT_ARCHIVABLE on a key pair → NTE_BAD_FLAGS first.
    no_extractable_private_keys: bool = False
    # C_CreateObject makes RSA public keys, data objects and certificates only
    # (tpm2-pkcs11 1.9's object_create: "Can only create RSA Public key objects
    # or data objects" → CKR_ATTRIBUTE_VALUE_INVALID): no private or secret key
    # is imported from its components.  A PRIVATEKEYBLOB → NTE_NOT_SUPPORTED,
    # a CRYPT_IPSEC_HMAC_KEY PLAINTEXTKEYBLOB → NTE_BAD_ALGID, before any
    # token call.
    creates_public_keys_only: bool = False
    # The module reads the token's objects once, at C_Initialize, and never
    # again (tpm2-pkcs11 1.9: db_get_tokens → init_tobjects; measured, see
    # tests/tokens_tpm.py): objects another process makes later are not found,
    # in any session, old or new, nor after a new login; objects another
    # process destroys are still found and still usable (a deleted key still
    # signs).  Only C_Finalize + C_Initialize refreshes, which ends every
    # session, login and handle of the process: csp11 does it before a named
    # container's CryptAcquireContext only when the store changed and the
    # process holds no other context on the module (ops.provider._fresh), and
    # says why when a container is not found.
    objects_read_at_load: bool = False
    # After the object with the lowest handle is destroyed, new objects get
    # handles that existing objects still have (tpm2-pkcs11 1.9, upstream
    # issue #931: the in-memory handle allocator; measured: a claim object
    # "created" and never found again, a search for CKO_DATA answered with a
    # public key, a key pair whose two halves shared a handle).  csp11 keeps
    # a private anchor object (CKA_APPLICATION "csp11-anchor") that it never
    # destroys, made before its first token
    # object, so that the lowest handle stays in use (measured: 2 collisions
    # in 40 random create/destroy steps without it, none with it).  On a token
    # that already held other objects before the anchor was made, destroying
    # those can still collide.
    handle_anchor: bool = False
    # The only RSA modulus lengths the token makes, where C_GetMechanismInfo
    # gives a range (tpm2-pkcs11 on a TPM: 1024..3072, but 1536 fails with
    # CKR_GENERAL_ERROR; TPM 2.0 keys are 1024, 2048 or 3072 bits).  Other
    # lengths → NTE_BAD_FLAGS before any token call.
    rsa_lengths: tuple[int, ...] = ()
    # The token keeps no token CKO_DATA object, private or public, logged in
    # or not (NSS softokn 3.87's "NSS Certificate DB", its key database:
    # CKR_ATTRIBUTE_VALUE_INVALID; session data objects are taken).  csp11
    # then carries its container records in private secret keys that can do
    # nothing as keys (csp11.core.records, docs/containers.md).  Declared
    # rather than found out by writing a token object, so that every process
    # reads and writes the same carrier from its first call on.
    no_token_data_objects: bool = False
    # The token's store is an SQLite file the module opens without a busy
    # timeout: while another process writes it, a call that writes it too
    # (C_CreateObject, C_DestroyObject, C_GenerateKeyPair) answers
    # CKR_GENERAL_ERROR ("database is locked" on stderr, not retried by the
    # module; tpm2-pkcs11 1.9, measured: 17 of 45 container opens from 3
    # threads failed while another process made and deleted containers).
    # csp11 tries such a call again after a short pause, a bounded number of
    # times (csp11.token.session.BUSY_PAUSES); C_Initialize is covered by
    # csp11.token.module, which cannot know the quirk before the token is read.
    store_busy_fails: bool = False


NO_QUIRKS = Quirks()

_SOFTHSM2 = Quirks(
    name="softhsm2",
    dsa_min_bits=1024,
    openssl_legacy_des=True,
    generation_lost_update=True,
)

_TPM2_PKCS11 = Quirks(
    name="tpm2-pkcs11",
    rsa_pairs_dual_use=True,
    no_extractable_private_keys=True,
    creates_public_keys_only=True,
    objects_read_at_load=True,
    handle_anchor=True,
    store_busy_fails=True,
    rsa_lengths=(1024, 2048, 3072),
)

# NSS softokn: both of its tokens report this manufacturer and model; the
# quirk is moot on "NSS Generic Crypto Services", which makes no token objects.
_NSS_SOFTOKN = Quirks(
    name="nss-softokn",
    no_token_data_objects=True,
)

# (manufacturer, model prefix) as the token reports them → quirks.
_TABLE: tuple[tuple[str, str, Quirks], ...] = (
    ("SoftHSM project", "SoftHSM v2", _SOFTHSM2),
    ("Mozilla Foundation", "NSS 3", _NSS_SOFTOKN),
    # swtpm's simulated TPM, seen through a proxy that hides the module's name.
    ("IBM", "SW   TPM", _TPM2_PKCS11),
)
# The module's C_GetInfo manufacturer → quirks (whatever chip is behind it).
_MODULES: tuple[tuple[str, Quirks], ...] = (
    ("tpm2-software.github.io", _TPM2_PKCS11),
)


def quirks_for(manufacturer: str, model: str, module_manufacturer: str = "") -> Quirks:
    """The quirks of a token, from its ``C_GetTokenInfo`` manufacturer and model
    and its module's ``C_GetInfo`` manufacturer."""
    for maker, quirks in _MODULES:
        if module_manufacturer.strip() == maker:
            return quirks
    for maker, model_prefix, quirks in _TABLE:
        if manufacturer.strip() == maker and model.strip().startswith(model_prefix.strip()):
            return quirks
    return NO_QUIRKS
