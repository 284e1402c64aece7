"""CryptImportKey: a CryptoAPI key BLOB onto the token.

The BLOB is parsed by :mod:`csp11.formats.blobs` (malformed input fails there, before
anything touches the token), its numbers are checked (``cryptography`` for
RSA and DSS, the group rules for DH), and only then is anything created, in
one step per key: nothing half-made stays on the token when an import fails.

=====================  =====================================================
BLOB                   how
=====================  =====================================================
PUBLICKEYBLOB          ``C_CreateObject`` of a public key (session object;
                       on a token that makes none, an ephemeral token object)
PRIVATEKEYBLOB         ``C_CreateObject`` of the private and public key; in
                       a named container as token objects, replacing the
                       container's key of the kind ``aiKeyAlg`` names
PLAINTEXTKEYBLOB       ``C_CreateObject`` of a secret key
SIMPLEBLOB             ``C_UnwrapKey(CKM_RSA_PKCS | _OAEP)`` with ``PubKey``'s
                       private key
SYMMETRICWRAPKEYBLOB   ``C_UnwrapKey(CKM_AES_KEY_WRAP_PAD)`` with ``PubKey``
=====================  =====================================================

Imported secret and private keys are ``CKA_SENSITIVE``; ``CRYPT_EXPORTABLE``
makes them ``CKA_EXTRACTABLE`` (and gives ``KP_PERMISSIONS`` 0x3f instead
of 0x3b).  Keys created from components are never "never-extractable" in
PKCS#11's sense (``CKA_LOCAL`` is false): their material existed outside the
token once.

On a token that makes no session objects (tpm2-pkcs11 stores every object it
creates, whatever ``CKA_TOKEN`` says, and only for its logged-in user) an
imported public key is an ephemeral token object, as a verify context's key
pairs are there (:func:`csp11.ops.keygen.ephemeral_objects`): the import logs
in, and the object is destroyed with the key's last handle, at exit, or by the
next process after a crash.  A token that imports no private or secret keys
from their components (the quirk ``creates_public_keys_only``) refuses those
BLOBs with the Windows code before any token call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.key import Key
from csp11.core.policy import permissions_for, salt_for
from csp11.core.templates import material_template, pair_templates
from csp11.errors import Fail
from csp11.formats.blobs import (
    BlobHeader,
    DhPrivateBlob,
    DhPrivateBlobV3,
    DhPublicBlob,
    DhPublicBlobV3,
    DssPrivateBlob,
    DssPrivateBlobV3,
    DssPublicBlob,
    DssPublicBlobV3,
    KeyBlob,
    PlaintextKeyBlob,
    RsaPrivateBlob,
    RsaPublicBlob,
    SimpleBlob,
    SymmetricWrapKeyBlob,
    dsa_private_from_blob,
    dsa_public_from_blob,
    parse_key_blob,
    rsa_private_from_blob,
    rsa_public_from_blob,
)
from csp11.model.algorithms import ALGORITHMS, Algorithm, Family
from csp11.model.capabilities import token_model
from csp11.model.hashes import hmac_material
from csp11.model.mechanisms import SYMMETRIC_WRAP, oaep
from csp11.ops.agreement import agree
from csp11.ops.cipher import decrypt
from csp11.ops.exportkey import AES_ALGIDS
from csp11.ops.keygen import ephemeral_objects, resolve_algid
from csp11.ops.userkey import container_spec, fill_verify_slot, store_pair
from csp11.token import Attribute, KeyType, ObjectClass, TokenKey

__all__ = ["IMPORT_FLAGS", "import_key"]

IMPORT_FLAGS = (
    con.CRYPT_EXPORTABLE | con.CRYPT_OAEP | con.CRYPT_NO_SALT | con.CRYPT_IPSEC_HMAC_KEY
    | con.CRYPT_USER_PROTECTED
)
_PROTECTION = con.CRYPT_USER_PROTECTED
_PUBLIC_BLOBS = (RsaPublicBlob, DssPublicBlob, DssPublicBlobV3, DhPublicBlob, DhPublicBlobV3)
_PRIVATE_BLOBS = (RsaPrivateBlob, DssPrivateBlob, DssPrivateBlobV3, DhPrivateBlob, DhPrivateBlobV3)
_Attrs = dict[Any, Any]  # a PKCS#11 template
_DWORD = 4  # PLAINTEXTKEYBLOB.dwKeySize


def import_key(
    ctx: Context, data: bytes, pub_key: Key | None, flag_bits: int
) -> Key:
    """CryptImportKey (see the module docstring); arguments normalised."""
    ctx.check_live()
    if pub_key is not None:
        pub_key.live()
    if flag_bits & ~IMPORT_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{flag_bits & ~IMPORT_FLAGS:X}")
    if flag_bits & _PROTECTION and (ctx.silent or ctx.verify_only):
        raise Fail(
            winerror.NTE_SILENT_CONTEXT,
            "user-protected keys need a context that may prompt (not silent, not "
            "CRYPT_VERIFYCONTEXT)",
        )
    header = BlobHeader.from_prefix(data)
    if header.bType == con.PRIVATEKEYBLOB and pub_key is not None and not pub_key.is_pair:
        data = _decrypt_private_blob(data, pub_key)
        pub_key = None
    if header.bType == con.PLAINTEXTKEYBLOB:
        data = _plaintext_extent(data)
    blob = parse_key_blob(data)
    importer = _IMPORTERS[type(blob)]
    return importer(ctx, blob, pub_key, flag_bits)


def _plaintext_extent(data: bytes) -> bytes:
    """A PLAINTEXTKEYBLOB up to the end of its key: rsaenh reads ``dwKeySize`` key
    bytes and ignores what follows, and programs rely on it (hostap passes the
    ``sizeof`` of a 32-byte key buffer whatever the key's length;
    docs/compatibility.md).  Shorter BLOBs are left to the parser's checks."""
    end = BlobHeader.SIZE + _DWORD
    if len(data) < end:
        return data
    return data[:end + int.from_bytes(data[BlobHeader.SIZE:end], "little")]


def _decrypt_private_blob(data: bytes, session_key: Key) -> bytes:
    """Undo :func:`csp11.ops.exportkey.encrypt_private_blob` (``CryptDecrypt(Final=True)``
    of everything after the header); a wrong key gives ``NTE_BAD_DATA``."""
    return data[:BlobHeader.SIZE] + decrypt(session_key, True, data[BlobHeader.SIZE:], None, 0)


def _algorithm(ctx: Context, algid: int, family: tuple[Family, ...]) -> Algorithm:
    """The BLOB's ``aiKeyAlg``, which must be of ``family`` and offered here."""
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family not in family:
        raise Fail(winerror.NTE_BAD_ALGID, f"aiKeyAlg 0x{algid:04X} does not suit this BLOB")
    resolve_algid(ctx, algid)  # the provider offers it and the token can do it
    return alg


def _pair_family(blob: KeyBlob) -> Family:
    """The key family a key pair BLOB's layout (its magic) holds: its ``aiKeyAlg``
    must name an algorithm of that family."""
    if isinstance(blob, (RsaPublicBlob, RsaPrivateBlob)):
        return Family.RSA
    if isinstance(blob, (DssPublicBlob, DssPrivateBlob, DssPublicBlobV3, DssPrivateBlobV3)):
        return Family.DSA
    return Family.DH


def _be(value: int, size: int = 0) -> bytes:
    """A CK_BIGINTEGER (big-endian), at least ``size`` bytes long."""
    return value.to_bytes(max(size, (value.bit_length() + 7) // 8, 1), "big")


# ---- key pairs --------------------------------------------------------------------------
def _pair_numbers(blob: KeyBlob) -> tuple[_Attrs, _Attrs]:
    """(private-key attributes, public-key attributes) of a key pair BLOB."""
    if isinstance(blob, RsaPublicBlob):
        rsa_public_from_blob(blob)  # cryptography checks the numbers
        return {}, {Attribute.MODULUS: _be(blob.modulus, blob.bitlen // 8),
                    Attribute.PUBLIC_EXPONENT: _be(blob.pubexp)}
    if isinstance(blob, RsaPrivateBlob):
        rsa_private_from_blob(blob)
        public = {Attribute.MODULUS: _be(blob.n, blob.bitlen // 8),
                  Attribute.PUBLIC_EXPONENT: _be(blob.pubexp)}
        return {
            **public,
            Attribute.PRIVATE_EXPONENT: _be(blob.d), Attribute.PRIME_1: _be(blob.p),
            Attribute.PRIME_2: _be(blob.q), Attribute.EXPONENT_1: _be(blob.dp),
            Attribute.EXPONENT_2: _be(blob.dq), Attribute.COEFFICIENT: _be(blob.qinv),
        }, public
    if isinstance(blob, (DssPublicBlob, DssPrivateBlob)):
        if isinstance(blob, DssPrivateBlob):
            y = dsa_private_from_blob(blob).public_key().public_numbers().y
        else:
            y = dsa_public_from_blob(blob).public_numbers().y
        domain = {Attribute.PRIME: _be(blob.p), Attribute.SUBPRIME: _be(blob.q),
                  Attribute.BASE: _be(blob.g)}
        private = isinstance(blob, DssPrivateBlob)
        secret = {**domain, Attribute.VALUE: _be(blob.x)} if private else {}  # type: ignore[union-attr]
        return secret, {**domain, Attribute.VALUE: _be(y)}
    if isinstance(blob, (DssPublicBlobV3, DssPrivateBlobV3, DhPublicBlobV3, DhPrivateBlobV3)):
        return _ver3_numbers(blob)
    if isinstance(blob, DhPrivateBlob):
        return _dh_numbers(blob.prime, blob.generator, blob.secret, None)
    raise AssertionError(f"not a key pair BLOB: {type(blob).__name__}")  # pragma: no cover


def _ver3_numbers(
    blob: DssPublicBlobV3 | DssPrivateBlobV3 | DhPublicBlobV3 | DhPrivateBlobV3,
) -> tuple[_Attrs, _Attrs]:
    private = isinstance(blob, (DssPrivateBlobV3, DhPrivateBlobV3))
    x = blob.x if isinstance(blob, (DssPrivateBlobV3, DhPrivateBlobV3)) else None
    if isinstance(blob, (DssPublicBlobV3, DssPrivateBlobV3)):
        _check_group(blob.p, blob.g, blob.q or None)
        if not blob.q:
            raise Fail(winerror.NTE_BAD_DATA, "a DSS key needs Q")
        if x is not None and not 0 < x < blob.q:
            raise Fail(winerror.NTE_BAD_DATA, "the DSS private value is not in (0, Q)")
        y = pow(blob.g, x, blob.p) if x is not None else blob.y
        if private and y != blob.y:
            raise Fail(winerror.NTE_BAD_DATA, "Y is not G^X mod P")
        domain = {Attribute.PRIME: _be(blob.p), Attribute.SUBPRIME: _be(blob.q),
                  Attribute.BASE: _be(blob.g)}
        secret = {**domain, Attribute.VALUE: _be(x)} if x is not None else {}
        return secret, {**domain, Attribute.VALUE: _be(y)}
    if x is None:
        _check_group(blob.p, blob.g, blob.q or None)
        _check_public(blob.p, blob.y)
        return {}, {Attribute.PRIME: _be(blob.p), Attribute.BASE: _be(blob.g),
                    Attribute.VALUE: _be(blob.y)}
    secret, public = _dh_numbers(blob.p, blob.g, x, blob.q or None)
    if int.from_bytes(public[Attribute.VALUE], "big") != blob.y:
        raise Fail(winerror.NTE_BAD_DATA, "Y is not G^X mod P")
    return secret, public


def _check_group(p: int, g: int, q: int | None) -> None:
    if p < 3 or p % 2 == 0:
        raise Fail(winerror.NTE_BAD_DATA, "P is not an odd number above 2")
    if not 1 < g < p - 1:
        raise Fail(winerror.NTE_BAD_DATA, "G is not in (1, P-1)")
    if q is not None and ((p - 1) % q or pow(g, q, p) != 1):
        raise Fail(winerror.NTE_BAD_DATA, "Q does not divide P-1 or G is not of order Q")


def _check_public(p: int, y: int) -> None:
    if not 2 <= y <= p - 2:
        raise Fail(winerror.NTE_BAD_DATA, "Y is not in [2, P-2]")


def _dh_numbers(
    p: int, g: int, x: int, q: int | None
) -> tuple[_Attrs, _Attrs]:
    _check_group(p, g, q)
    if not 1 < x < p - 1:
        raise Fail(winerror.NTE_BAD_DATA, "the DH private value is not in (1, P-1)")
    y = pow(g, x, p)
    _check_public(p, y)
    domain = {Attribute.PRIME: _be(p), Attribute.BASE: _be(g)}
    return {**domain, Attribute.VALUE: _be(x)}, {**domain, Attribute.VALUE: _be(y)}


def _pair_templates(
    alg: Algorithm, numbers: tuple[_Attrs, _Attrs], flag_bits: int
) -> tuple[_Attrs, _Attrs]:
    secret, public_numbers = numbers
    private, public = pair_templates(
        alg, protected=bool(flag_bits & _PROTECTION),
        extractable=bool(flag_bits & con.CRYPT_EXPORTABLE),
    )
    return {**private, **secret}, {**public, **public_numbers}


def _bits_of(blob: KeyBlob) -> int:
    bits = getattr(blob, "bitlen", None)
    if bits is None:
        bits = blob.bitlenP  # type: ignore[union-attr]
    return int(bits)


def _import_public(
    ctx: Context, blob: KeyBlob, pub_key: Key | None, flag_bits: int
) -> Key:
    if pub_key is not None:
        if isinstance(blob, (DhPublicBlob, DhPublicBlobV3)):
            return agree(ctx, blob, pub_key, flag_bits)
        raise Fail(
            winerror.NTE_BAD_KEY,
            "only a Diffie-Hellman PUBLICKEYBLOB takes a PubKey (your DH key, to agree a key)",
        )
    # An RSA BLOB that names a DSS algorithm (or the like) would make objects
    # whose attributes do not fit their key type: NTE_BAD_ALGID before that.
    alg = _algorithm(ctx, blob.aiKeyAlg, (_pair_family(blob),))
    if isinstance(blob, DhPublicBlob):
        raise Fail(
            winerror.NTE_BAD_KEY,
            "a version 2 DH PUBLICKEYBLOB carries only Y: it is a peer's key for agreement "
            "with PubKey (or use the version 3 layout, which carries P and G)",
        )
    _, public = _pair_templates(alg, _pair_numbers(blob), 0)
    if token_model(ctx.token).session_objects:
        tkey = ctx.token.create_key(public, pins=ctx.pins)
    else:
        names = ephemeral_objects(ctx, "an imported public key")
        tkey = ctx.token.create_key({**public, **names}, pins=ctx.pins)
        tkey.token_object = False  # destroyed with its last handle, like a session object
    # KP_PERMISSIONS as Windows reports it (0x3b); the PUBLICKEYBLOB itself
    # exports regardless.
    key = Key(ctx, alg, _bits_of(blob), tkey, permissions=permissions_for(flag_bits))
    key.seed = getattr(blob, "seed", None)
    fill_verify_slot(key)
    return key


def _import_private(
    ctx: Context, blob: KeyBlob, pub_key: Key | None, flag_bits: int
) -> Key:
    if pub_key is not None:
        raise Fail(
            winerror.NTE_BAD_KEY,
            "a PRIVATEKEYBLOB is decrypted with a session key (PubKey), not a key pair",
        )
    # An RSA BLOB that names a DSS algorithm (or the like) would make objects
    # whose attributes do not fit their key type: NTE_BAD_ALGID before that.
    alg = _algorithm(ctx, blob.aiKeyAlg, (_pair_family(blob),))
    quirks = ctx.token.quirks
    if flag_bits & con.CRYPT_EXPORTABLE and quirks.no_extractable_private_keys:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            f"token {ctx.token.label!r} keeps no exportable private keys (CRYPT_EXPORTABLE)",
        )
    spec = container_spec(ctx.personality, alg.algid) if ctx.container is not None else None
    # A slot of the token's own keys answers NTE_PERM first (store_pair), as
    # on every token: that is the rule the caller meets, whatever the token.
    found_slot = spec is not None and ctx.container is not None and ctx.container.found
    if quirks.creates_public_keys_only and not found_slot:
        raise Fail(
            winerror.NTE_NOT_SUPPORTED,
            f"token {ctx.token.label!r} imports no private keys (it makes its own key pairs: "
            "use CryptGenKey, or the token's own import tool)",
        )
    if flag_bits & _PROTECTION and alg.family is Family.DH:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            "Diffie-Hellman keys cannot be user-protected here (no per-use PIN for them)",
        )
    private, public = _pair_templates(alg, _pair_numbers(blob), flag_bits)
    if flag_bits & _PROTECTION or spec is not None:
        ctx.login()
    if spec is None:
        tkey = ctx.token.create_key(private, public, pins=ctx.pins)
    else:
        private[Attribute.PRIVATE] = True

        def make(names: dict[Any, object]) -> TokenKey:
            return ctx.token.create_key(
                {**private, Attribute.TOKEN: True, **names},
                {**public, Attribute.TOKEN: True, **names},
                pins=ctx.pins,
            )

        tkey = store_pair(ctx, spec, make)
    key = Key(ctx, alg, _bits_of(blob), tkey, permissions=permissions_for(flag_bits))
    key.seed = getattr(blob, "seed", None)
    fill_verify_slot(key)
    return key


# ---- session keys -------------------------------------------------------------------------
def _session_alg(ctx: Context, algid: int) -> Algorithm:
    return _algorithm(ctx, algid, (Family.SESSION,))


def _secret_template(alg: Algorithm, bits: int, flag_bits: int) -> _Attrs:
    return material_template(
        alg, bits, bool(flag_bits & con.CRYPT_EXPORTABLE), bool(flag_bits & _PROTECTION)
    )


def _fixed_size(alg: Algorithm, ctx: Context) -> tuple[int, int]:
    """(least, most) key bytes a PLAINTEXTKEYBLOB of ``alg`` may carry."""
    _, offer = resolve_algid(ctx, alg.algid)
    if alg.parity_bits or alg.algid in AES_ALGIDS:
        size = (offer.maximum + alg.parity_bits) // 8
        return size, size
    return (offer.minimum + 7) // 8, offer.maximum // 8


def _import_plaintext(
    ctx: Context, blob: KeyBlob, pub_key: Key | None, flag_bits: int
) -> Key:
    assert isinstance(blob, PlaintextKeyBlob)
    if pub_key is not None:
        raise Fail(winerror.NTE_BAD_KEY, "a PLAINTEXTKEYBLOB is imported without PubKey")
    if flag_bits & con.CRYPT_IPSEC_HMAC_KEY and blob.aiKeyAlg == con.CALG_RC2:
        return _import_hmac_key(ctx, blob, flag_bits)
    alg = _session_alg(ctx, blob.aiKeyAlg)
    least, most = _fixed_size(alg, ctx)
    if not least <= len(blob.key) <= most:
        raise Fail(
            winerror.NTE_BAD_DATA,
            f"a {alg.name} key is {least}..{most} bytes, the BLOB has {len(blob.key)}",
        )
    bits = len(blob.key) * 8 - alg.parity_bits
    template = {**_secret_template(alg, bits, flag_bits), Attribute.VALUE: blob.key}
    if flag_bits & _PROTECTION:
        ctx.login()
    tkey = ctx.token.create_key(template, pins=ctx.pins)
    return Key(ctx, alg, bits, tkey, permissions=permissions_for(flag_bits),
                      salt=salt_for(ctx.personality, alg, bits, flag_bits))


def _import_hmac_key(ctx: Context, blob: PlaintextKeyBlob, flag_bits: int) -> Key:
    """``CRYPT_IPSEC_HMAC_KEY``: a CALG_RC2 PLAINTEXTKEYBLOB of any length that keys
    HMACs (Microsoft: "HMAC algorithms do not have their own algorithm
    identifiers; use CALG_RC2").  On the token it is a generic secret that
    signs and verifies only; it does not encrypt, with RC2 or anything else.
    Shorter than 64 bytes, it is stored zero-padded (see
    :func:`csp11.model.hashes.hmac_material`); KP_KEYLEN and PLAINTEXTKEYBLOB give
    the key as imported."""
    if ctx.token.quirks.creates_public_keys_only:
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"token {ctx.token.label!r} imports no secret keys, so no HMAC key "
            "(CRYPT_IPSEC_HMAC_KEY)",
        )
    protected = bool(flag_bits & _PROTECTION)
    template: _Attrs = {
        Attribute.CLASS: ObjectClass.SECRET_KEY,
        Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
        Attribute.TOKEN: False,
        Attribute.PRIVATE: protected,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: bool(flag_bits & con.CRYPT_EXPORTABLE),
        Attribute.MODIFIABLE: True,
        Attribute.SIGN: True,
        Attribute.VERIFY: True,
        Attribute.ENCRYPT: False,
        Attribute.DECRYPT: False,
        Attribute.VALUE: hmac_material(blob.key),
    }
    if protected:
        ctx.login()
    tkey = ctx.token.create_key(template, pins=ctx.pins)
    key = Key(ctx, ALGORITHMS[con.CALG_RC2], len(blob.key) * 8, tkey,
                     permissions=permissions_for(flag_bits))
    key.hmac_only = True
    return key


def _unwrapped(
    ctx: Context, alg: Algorithm, unwrapper: TokenKey, data: bytes, *, mechanism: Any,
    param: Any, flag_bits: int,
) -> Key:
    _, offer = resolve_algid(ctx, alg.algid)
    bits = offer.maximum if alg.parity_bits or alg.algid in AES_ALGIDS else offer.default
    template = _secret_template(alg, bits, flag_bits)
    if flag_bits & _PROTECTION:
        ctx.login()
    tkey = unwrapper.unwrap(data, mechanism, param, template)
    try:
        if not alg.parity_bits:
            # A token that knows the length tells; SoftHSM2 answers 0 for
            # unwrapped keys, and then the ALG_ID's size stands (TOKEN-FACTS).
            length = int(tkey.attribute(Attribute.VALUE_LEN) or 0)
            if length and alg.algid in AES_ALGIDS and length * 8 != bits:
                raise Fail(
                    winerror.NTE_BAD_DATA,
                    f"the wrapped key is {length} bytes, not a {alg.name} key",
                )
            if length and alg.algid not in AES_ALGIDS:
                bits = length * 8
        fixed = alg.parity_bits or alg.algid in AES_ALGIDS
        if fixed and flag_bits & con.CRYPT_EXPORTABLE:
            # An exportable key can be measured: wrapped out (as for a
            # PLAINTEXTKEYBLOB) its length must be the ALG_ID's.  Only
            # lengths of whole 8-byte blocks come back exactly (SoftHSM2 pads
            # before wrapping), which every fixed-size key has.
            size = (bits + alg.parity_bits) // 8
            got = len(tkey.extract())
            if got != size:
                raise Fail(
                    winerror.NTE_BAD_DATA,
                    f"the wrapped key is {got} bytes, a {alg.name} key {size}",
                )
    except BaseException:
        tkey.release()
        raise
    return Key(ctx, alg, bits, tkey, permissions=permissions_for(flag_bits),
                      salt=salt_for(ctx.personality, alg, bits, flag_bits))


def _import_simple(
    ctx: Context, blob: KeyBlob, pub_key: Key | None, flag_bits: int
) -> Key:
    assert isinstance(blob, SimpleBlob)
    # No PubKey, or one that is no RSA key exchange key: NTE_BAD_PUBLIC_KEY, as rsaenh's
    # import_symmetric_key answers; Microsoft's CryptImportKey page names no error for it.
    if pub_key is None or pub_key.alg.family is not Family.RSA or not pub_key.alg.exchange:
        raise Fail(
            winerror.NTE_BAD_PUBLIC_KEY,
            "a SIMPLEBLOB is decrypted with an RSA key exchange key (PubKey)",
        )
    if blob.algid != pub_key.algid:
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"the SIMPLEBLOB was encrypted to ALG_ID 0x{blob.algid:04X}, PubKey is "
            f"0x{pub_key.algid:04X}",
        )
    alg = _session_alg(ctx, blob.aiKeyAlg)
    unwrapper = pub_key.usable()
    if unwrapper.obj is None:
        raise Fail(winerror.NTE_BAD_KEY, "PubKey is a public key; decrypting needs the private key")
    if len(blob.encrypted) * 8 != pub_key.bits:
        raise Fail(winerror.NTE_BAD_DATA, "the SIMPLEBLOB is not the size of PubKey's modulus")
    unwrapper.authorize_use(ctx.pins, ctx.container_name)
    mechanism, param = oaep(bool(flag_bits & con.CRYPT_OAEP))
    return _unwrapped(
        ctx, alg, unwrapper, blob.ciphertext, mechanism=mechanism, param=param,
        flag_bits=flag_bits,
    )


def _import_symmetric_wrap(
    ctx: Context, blob: KeyBlob, pub_key: Key | None, flag_bits: int
) -> Key:
    assert isinstance(blob, SymmetricWrapKeyBlob)
    if pub_key is None or pub_key.algid not in AES_ALGIDS:
        raise Fail(
            winerror.NTE_BAD_KEY,
            "csp11 unwraps SYMMETRICWRAPKEYBLOBs with AES session keys only (PubKey)",
        )
    if blob.algid != pub_key.algid:
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"the BLOB was wrapped with ALG_ID 0x{blob.algid:04X}, PubKey is 0x{pub_key.algid:04X}",
        )
    alg = _session_alg(ctx, blob.aiKeyAlg)
    return _unwrapped(
        ctx, alg, pub_key.usable(), blob.wrapped, mechanism=SYMMETRIC_WRAP,
        param=None, flag_bits=flag_bits,
    )


_Importer = Callable[["Context", KeyBlob, "Key | None", int], Key]
_IMPORTERS: dict[type[KeyBlob], _Importer] = {
    **{cls: _import_public for cls in _PUBLIC_BLOBS},
    **{cls: _import_private for cls in _PRIVATE_BLOBS},
    PlaintextKeyBlob: _import_plaintext,
    SimpleBlob: _import_simple,
    SymmetricWrapKeyBlob: _import_symmetric_wrap,
}
