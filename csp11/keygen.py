"""CryptGenKey: from an ALG_ID, flags and a length to key objects on the token.

The rules, in the order they are checked (seed, SPEC §2-4, WINDOWS-FACTS):

1. flags: bits outside the seed's table → ``NTE_BAD_FLAGS``; a length in the
   upper 16 bits *and* a different ``KeyLen`` → ``NTE_BAD_FLAGS``;
2. ``AT_KEYEXCHANGE``/``AT_SIGNATURE`` become the provider's ALG_IDs;
3. an ALG_ID the provider does not offer, or the token cannot make →
   ``NTE_BAD_ALGID`` (the same rows as ``PP_ENUMALGS``);
4. ``CRYPT_USER_PROTECTED``/``CRYPT_FORCE_KEY_PROTECTION_HIGH`` on a silent or
   verify-only context → ``NTE_SILENT_CONTEXT``;
5. the length: 0 → the provider's default; outside min..max →
   ``ERROR_INVALID_PARAMETER``; off the provider's step → ``NTE_BAD_FLAGS``.

Templates are built here, once per kind of key, and always state what they
mean: secret and private keys are ``CKA_SENSITIVE``; ``CKA_EXTRACTABLE`` is
``CRYPT_EXPORTABLE`` (or ``CRYPT_ARCHIVABLE``); session keys and everything
in a verify-only context are session objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import dh, dsa, rsa

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.algorithms import ALGORITHMS, Algorithm, Family
from csp11.args import dword, flags
from csp11.byteorder import le_to_be
from csp11.capabilities import capabilities
from csp11.containers import SPEC_NAMES, ContainerName, containers_of
from csp11.dhgroups import GROUPS
from csp11.errors import Fail
from csp11.keys import PyCRYPTKEY, permissions_for
from csp11.providers import Offer
from csp11.token import DEFAULT, Attribute, KeyType, ObjectClass, Token, TokenKey

if TYPE_CHECKING:
    from csp11.provider import PyCRYPTPROV

__all__ = [
    "GENKEY_FLAGS",
    "SALT_BYTES",
    "container_spec",
    "finish_pregen",
    "generate",
    "key_length",
    "material_template",
    "open_stored",
    "pair_templates",
    "public_key_of",
    "resolve_algid",
    "salt_for",
    "session_template",
    "store_pair",
]

# Every flag of the seed's table; CRYPT_RECIPIENT == CRYPT_NO_SALT and
# CRYPT_INITIATOR == CRYPT_PREGEN share bits.  The "not used" ones are
# accepted and ignored.  Anything else in the low word is NTE_BAD_FLAGS.
GENKEY_FLAGS = (
    con.CRYPT_ARCHIVABLE | con.CRYPT_CREATE_IV | con.CRYPT_CREATE_SALT | con.CRYPT_DATA_KEY
    | con.CRYPT_EXPORTABLE | con.CRYPT_FORCE_KEY_PROTECTION_HIGH | con.CRYPT_KEK
    | con.CRYPT_INITIATOR | con.CRYPT_NO_SALT | con.CRYPT_ONLINE | con.CRYPT_PREGEN
    | con.CRYPT_RECIPIENT | con.CRYPT_SF | con.CRYPT_SGCKEY | con.CRYPT_USER_PROTECTED
    | con.CRYPT_VOLATILE
)
_PROTECTION = con.CRYPT_USER_PROTECTED | con.CRYPT_FORCE_KEY_PROTECTION_HIGH
SALT_BYTES = 11  # the 88-bit salt of 40-bit RC2/RC4 keys
_RSA_EXPONENT = b"\x01\x00\x01"  # 65537, as Microsoft's providers use


def generate(prov: PyCRYPTPROV, Algid: int, Flags: int, KeyLen: int) -> PyCRYPTKEY:
    """CryptGenKey (see the module docstring for the rules)."""
    algid = dword(Algid, "Algid")
    requested_flags = flags(Flags)
    keylen = dword(KeyLen, "KeyLen")
    prov.check_live()
    low, field = requested_flags & 0xFFFF, requested_flags >> 16
    if low & ~GENKEY_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{low & ~GENKEY_FLAGS:X}")
    if field and keylen and field != keylen:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            f"key length {field} in Flags differs from KeyLen {keylen}",
        )
    alg, offer = resolve_algid(prov, algid)
    if low & _PROTECTION and (prov.silent or prov.verify_only):
        raise Fail(
            winerror.NTE_SILENT_CONTEXT,
            "user-protected keys need a context that may prompt (not silent, not "
            "CRYPT_VERIFYCONTEXT)",
        )
    if low & _PROTECTION and alg.family is Family.DH:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            "Diffie-Hellman keys cannot be user-protected here: no PKCS#11 operation of a DH "
            "key takes a per-use PIN, so it could not be asked for",
        )
    bits = key_length(alg, offer, field or keylen)
    permissions = permissions_for(low)
    if alg.family is Family.SESSION:
        return _session_key(prov, alg, bits, low, permissions)
    if alg.family in (Family.DSA, Family.DH) and low & con.CRYPT_PREGEN:
        key = PyCRYPTKEY(prov, alg, bits, None, permissions=permissions, pregen=True)
        key.gen_flags = low
        return key
    key = PyCRYPTKEY(
        prov, alg, bits, _key_pair(prov, alg, bits, low, domain={}),
        permissions=permissions,
    )
    key.gen_flags = low
    return key


def resolve_algid(prov: PyCRYPTPROV, algid: int) -> tuple[Algorithm, Offer]:
    """The algorithm and its (token-clipped) offer, or ``NTE_BAD_ALGID``."""
    personality = prov.personality
    if algid in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE):
        spec = algid
        algid = (
            personality.exchange_algid if spec == con.AT_KEYEXCHANGE
            else personality.signature_algid
        )
        if not algid:
            raise Fail(
                winerror.NTE_BAD_ALGID,
                f"{personality.name} has no {'exchange' if spec == 1 else 'signature'} keys",
            )
    alg = ALGORITHMS.get(algid)
    if alg is None or alg.family in (Family.HASH, Family.MAC):
        raise Fail(winerror.NTE_BAD_ALGID, f"ALG_ID 0x{algid:04X} is not a generatable key")
    offer = capabilities(personality, prov.token).offer(algid)
    if offer is None:
        if personality.offer(algid) is None:
            raise Fail(
                winerror.NTE_BAD_ALGID, f"{personality.name} does not offer {alg.name}"
            )
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"the token cannot make {alg.name} keys (mechanisms or sizes missing)",
        )
    return alg, offer


def key_length(alg: Algorithm, offer: Offer, requested: int) -> int:
    """The key length in bits (without parity) for a requested length (0: default)."""
    if alg.parity_bits:
        # DES family: the length without parity (56, 112, 168) or with (64, 128, 192).
        if requested in (0, offer.maximum, offer.maximum + alg.parity_bits):
            return offer.maximum
        raise Fail(
            winerror.ERROR_INVALID_PARAMETER,
            f"{alg.name} keys are {offer.maximum} bits "
            f"({offer.maximum + alg.parity_bits} with parity), not {requested}",
        )
    if requested == 0:
        return offer.default
    if not offer.minimum <= requested <= offer.maximum:
        raise Fail(
            winerror.ERROR_INVALID_PARAMETER,
            f"{alg.name} key length {requested} is outside {offer.minimum}..{offer.maximum}",
        )
    if offer.step and (requested - offer.minimum) % offer.step:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            f"{alg.name} key lengths go in steps of {offer.step} from {offer.minimum}",
        )
    return requested


# ---- session keys -----------------------------------------------------------------
_session_templates: dict[tuple[int, int, bool, bool], dict[Any, object]] = {}


def session_template(
    alg: Algorithm, bits: int, extractable: bool, private: bool
) -> dict[Any, object]:
    key = (alg.algid, bits, extractable, private)
    template = _session_templates.get(key)
    if template is None:
        template = {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: alg.key_type,
            Attribute.TOKEN: False,
            # Session objects are visible only to this process; PRIVATE would
            # make verify-only contexts (no PIN on Windows) need a login.  A
            # user-protected session key is PRIVATE: usable only after login.
            Attribute.PRIVATE: private,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: extractable,
            Attribute.MODIFIABLE: True,  # so that export can be withdrawn later
            Attribute.ENCRYPT: True,
            Attribute.DECRYPT: True,
            Attribute.WRAP: True,     # SYMMETRICWRAPKEYBLOB: a session key as KEK
            Attribute.UNWRAP: True,
            Attribute.SIGN: False,
            Attribute.VERIFY: False,
            Attribute.DERIVE: False,
        }
        if alg.parity_bits:
            # The token knows the DES family's lengths; SoftHSM2 refuses a
            # CKA_VALUE_LEN for them (python-pkcs11 adds one for DES).
            template[Attribute.VALUE_LEN] = DEFAULT
        else:
            template[Attribute.VALUE_LEN] = bits // 8
        _session_templates[key] = template
    return template


def material_template(
    alg: Algorithm, bits: int, extractable: bool, private: bool
) -> dict[Any, object]:
    """The template of a session key created from known material (an import, a
    derivation, an unwrap): :func:`session_template` without ``CKA_VALUE_LEN``,
    which the token sets itself for such keys."""
    template = dict(session_template(alg, bits, extractable, private))
    template.pop(Attribute.VALUE_LEN, None)
    return template


def _session_key(
    prov: PyCRYPTPROV, alg: Algorithm, bits: int, low: int, permissions: int
) -> PyCRYPTKEY:
    extractable = bool(low & (con.CRYPT_EXPORTABLE | con.CRYPT_ARCHIVABLE))
    protected = bool(low & _PROTECTION)
    if protected:
        prov.login()
    template = session_template(alg, bits, extractable, protected)
    tkey = prov.token.generate_key(
        alg.key_type, bits + alg.parity_bits,
        mechanism=alg.gen_mechanism, template=template, pins=prov.pins,
    )
    return PyCRYPTKEY(
        prov, alg, bits, tkey, permissions=permissions, salt=_salt(prov, alg, bits, low)
    )


def _salt(prov: PyCRYPTPROV, alg: Algorithm, bits: int, low: int) -> bytes:
    def random_salt() -> bytes:
        salt = prov.token.generate_random(SALT_BYTES)
        while not any(salt):
            salt = prov.token.generate_random(SALT_BYTES)
        return salt

    return salt_for(prov, alg, bits, low, created=random_salt)


def salt_for(
    prov: PyCRYPTPROV, alg: Algorithm, bits: int, low: int,
    created: Callable[[], bytes] | None = None,
) -> bytes:
    """The salt rules of RC2/RC4 keys (Windows-observed, docs/differences.md).

    ``created`` makes the salt ``CRYPT_CREATE_SALT`` asks for (random for
    CryptGenKey, the hash's next bytes for CryptDeriveKey; imports take no
    such flag).  The Enhanced family ignores the flag; a 40-bit key otherwise
    has eleven zero bytes, unless ``CRYPT_NO_SALT``.
    """
    if not alg.salted:
        return b""
    if low & con.CRYPT_CREATE_SALT and created is not None:
        return created() if prov.personality.create_salt else b""
    if bits == 40 and not low & con.CRYPT_NO_SALT:
        return bytes(SALT_BYTES)
    return b""


# ---- key pairs -----------------------------------------------------------------------
def _domain_for(prov: PyCRYPTPROV, alg: Algorithm, bits: int) -> dict[str, bytes]:
    """Domain parameters (little-endian P, G and, for DSS, Q) for a new pair."""
    if alg.family is Family.DH:
        group = GROUPS.get(bits)
        if group is not None:
            return {
                "P": group.prime.to_bytes(bits // 8, "little"),
                "G": group.generator.to_bytes(bits // 8, "little"),
            }
    made = prov.token.generate_domain_parameters(alg.key_type, bits)
    values = {"P": made[int(Attribute.PRIME)], "G": made[int(Attribute.BASE)]}
    if alg.family is Family.DSA:
        values["Q"] = made[int(Attribute.SUBPRIME)]
    return {name: le_to_be(value) for name, value in values.items()}


def pair_templates(
    alg: Algorithm, *, protected: bool, extractable: bool
) -> tuple[dict[Any, object], dict[Any, object]]:
    """(private, public) templates of a session key pair of ``alg``, without its
    numbers: what every pair csp11 makes or imports states about itself."""
    public: dict[Any, object] = {
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        Attribute.KEY_TYPE: alg.key_type,
        Attribute.TOKEN: False,
        Attribute.PRIVATE: False,
    }
    private: dict[Any, object] = {
        Attribute.CLASS: ObjectClass.PRIVATE_KEY,
        Attribute.KEY_TYPE: alg.key_type,
        Attribute.TOKEN: False,
        # CKA_ALWAYS_AUTHENTICATE needs PRIVATE (TOKEN-FACTS).
        Attribute.PRIVATE: protected,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: extractable,
        Attribute.MODIFIABLE: True,
    }
    if protected:
        private[Attribute.ALWAYS_AUTHENTICATE] = True
    if alg.family is Family.RSA:
        public.update({Attribute.VERIFY: True, Attribute.ENCRYPT: alg.exchange,
                       Attribute.WRAP: alg.exchange})
        private.update({Attribute.SIGN: True, Attribute.DECRYPT: alg.exchange,
                        Attribute.UNWRAP: alg.exchange, Attribute.DERIVE: False})
    elif alg.family is Family.DSA:
        public[Attribute.VERIFY] = True
        private[Attribute.SIGN] = True
    else:
        private[Attribute.DERIVE] = True
    return private, public


def _key_pair(
    prov: PyCRYPTPROV, alg: Algorithm, bits: int, low: int, domain: dict[str, bytes]
) -> TokenKey:
    protected = bool(low & _PROTECTION)
    extractable = bool(low & (con.CRYPT_EXPORTABLE | con.CRYPT_ARCHIVABLE))
    private, public = pair_templates(alg, protected=protected, extractable=extractable)
    if alg.family is Family.RSA:
        public[Attribute.MODULUS_BITS] = bits
        public[Attribute.PUBLIC_EXPONENT] = _RSA_EXPONENT
    else:
        if not domain:
            domain.update(_domain_for(prov, alg, bits))
        public[Attribute.PRIME] = le_to_be(domain["P"]).lstrip(b"\0")
        public[Attribute.BASE] = le_to_be(domain["G"]).lstrip(b"\0")
        if alg.family is Family.DSA:
            public[Attribute.SUBPRIME] = le_to_be(domain["Q"]).lstrip(b"\0")
    spec = _container_spec(prov, alg)
    if spec is None:
        if protected:
            prov.login()
        return prov.token.generate_key_pair(
            alg.key_type, bits, mechanism=alg.gen_mechanism, public=public, private=private,
            pins=prov.pins,
        )
    return _stored_pair(prov, alg, bits, low, spec, public=public, private=private)


def _container_spec(prov: PyCRYPTPROV, alg: Algorithm) -> int | None:
    """The container slot a new pair goes to (None: a session pair, e.g. DH_EPHEM)."""
    if prov.container is None:
        return None
    return container_spec(prov, alg.algid)


def _stored_pair(
    prov: PyCRYPTPROV, alg: Algorithm, bits: int, low: int, spec: int, *,
    public: dict[Any, object], private: dict[Any, object],
) -> TokenKey:
    """Generate a container's key pair as token objects and make it current atomically.

    ``CRYPT_ARCHIVABLE`` (without ``CRYPT_EXPORTABLE``): the pair is generated
    as extractable *session* objects, which this handle uses and exports, and
    copied to the token as non-extractable objects.  The extractable copies
    die with the handle, or with the process however it ends, so the stored
    key is never extractable by anyone.
    """
    archive_only = bool(low & con.CRYPT_ARCHIVABLE) and not low & con.CRYPT_EXPORTABLE
    private[Attribute.PRIVATE] = True

    def make(names: dict[Any, object]) -> TokenKey:
        if not archive_only:
            public.update({Attribute.TOKEN: True, **names})
            private.update({Attribute.TOKEN: True, **names})
        tkey = prov.token.generate_key_pair(
            alg.key_type, bits, mechanism=alg.gen_mechanism, public=public, private=private,
            pins=prov.pins,
        )
        if archive_only:
            try:
                tkey.copy(tkey.obj, {Attribute.TOKEN: True, Attribute.EXTRACTABLE: False, **names})
                tkey.copy(tkey.public, {Attribute.TOKEN: True, **names})
            except BaseException:
                tkey.release()  # the extractable session pair
                raise
        return tkey

    def undo(tkey: TokenKey) -> None:
        if archive_only:
            tkey.release()  # the extractable session pair

    return store_pair(prov, spec, make, undo)


def store_pair(
    prov: PyCRYPTPROV,
    spec: int,
    make: Callable[[dict[Any, object]], TokenKey],
    undo: Callable[[TokenKey], None] | None = None,
) -> TokenKey:
    """Put a new pair in the context's container as its ``spec`` key, atomically.

    ``make(names)`` creates the token objects (generated or imported) with the
    ``CKA_LABEL``/``CKA_ID`` in ``names``; the container's marker then
    switches to the new generation in one step.  On any failure the new
    objects are destroyed (and ``undo`` called), so the container keeps its
    previous key and nothing half-made stays on the token.
    """
    cname = prov.container
    assert cname is not None
    prov.login()
    store = containers_of(prov.token)
    token = prov.token
    # The store lock covers creation through commit: a reader tidying the
    # container meanwhile would take the new pair for debris of a crash.
    with token.store_locked():
        generation = store.new_generation(cname, prov.pins)
        label, ident = cname.key_label(spec), cname.key_id(spec, generation)
        try:
            tkey = make({Attribute.ID: ident, Attribute.LABEL: label})
        except BaseException:
            _discard_generation(token, cname, spec, ident, prov)
            raise
        try:
            store.commit(cname, spec, generation, prov.pins)
        except BaseException:
            _discard_generation(token, cname, spec, ident, prov)
            if undo is not None:
                undo(tkey)
            raise
    tkey.stored_as = (label, ident)
    return tkey


def container_spec(prov: PyCRYPTPROV, algid: int) -> int | None:
    """The container slot (AT_*) a pair of ``algid`` belongs in, or None (e.g. DH_EPHEM)."""
    if algid == prov.personality.exchange_algid:
        return con.AT_KEYEXCHANGE
    if algid == prov.personality.signature_algid:
        return con.AT_SIGNATURE
    return None


def _discard_generation(
    token: Token, cname: ContainerName, spec: int, ident: bytes, prov: PyCRYPTPROV
) -> None:
    """Destroy the stored objects of a generation that was never committed."""
    try:
        home, found = token.find(
            [{Attribute.CLASS: cls, Attribute.ID: ident, Attribute.TOKEN: True}
             for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)], prov.pins
        )
        token.destroy_objects(home, [o for group in found for o in group])
    except Fail:
        pass  # what is left is tidied as another generation when the container is next used


def open_stored(prov: PyCRYPTPROV, spec: int) -> PyCRYPTKEY:
    """CryptGetUserKey: a new handle to the container's pair of ``spec``."""
    cname = prov.container
    assert cname is not None
    prov.login()
    tkey = containers_of(prov.token).find_pair(cname, spec, prov.pins)
    if tkey is None:
        raise Fail(
            winerror.NTE_NO_KEY, f"container {cname.name!r} has no {SPEC_NAMES[spec]} key"
        )
    facts = tkey.attributes([Attribute.KEY_TYPE, Attribute.EXTRACTABLE])
    key_type = facts[Attribute.KEY_TYPE]
    if key_type == KeyType.RSA:
        algid = con.CALG_RSA_KEYX if spec == con.AT_KEYEXCHANGE else con.CALG_RSA_SIGN
        size = len(bytes(tkey.attribute(Attribute.MODULUS, tkey.public).lstrip(b"\0"))) * 8
    elif key_type in (KeyType.DSA, KeyType.DH):
        algid = con.CALG_DSS_SIGN if key_type == KeyType.DSA else con.CALG_DH_SF
        prime = bytes(tkey.attribute(Attribute.PRIME, tkey.public)).lstrip(b"\0")
        size = int.from_bytes(prime, "big").bit_length()
    else:
        raise Fail(winerror.NTE_BAD_KEYSET, f"unexpected key type {key_type!r} in the container")
    permissions = permissions_for(con.CRYPT_EXPORTABLE if facts[Attribute.EXTRACTABLE] else 0)
    return PyCRYPTKEY(prov, ALGORITHMS[algid], size, tkey, permissions=permissions)


def finish_pregen(key: PyCRYPTKEY) -> None:
    """``KP_X`` with ``None`` on a ``CRYPT_PREGEN`` key: generate it from P, G (Q)."""
    needed = ("P", "Q", "G") if key.alg.family is Family.DSA else ("P", "G")
    missing = [name for name in needed if name not in key.domain]
    if missing:
        raise Fail(
            winerror.NTE_BAD_KEY_STATE,
            f"set {', '.join('KP_' + m for m in missing)} before KP_X",
        )
    domain = {name: key.domain[name] for name in needed}
    key.tkey = _key_pair(key.prov, key.alg, key.bits, key.gen_flags, domain)
    key.pregen = False
    key.attach_finalizer()


def public_key_of(key: PyCRYPTKEY) -> Any:
    """The ``cryptography`` public key object of a key pair, read from the token."""
    tkey = key.usable()
    public = tkey.public
    if public is None:
        raise Fail(winerror.NTE_BAD_KEY, "not a key pair")
    if key.alg.family is Family.RSA:
        attrs = tkey.attributes([Attribute.MODULUS, Attribute.PUBLIC_EXPONENT], public)
        return rsa.RSAPublicNumbers(
            int.from_bytes(attrs[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(attrs[Attribute.MODULUS], "big"),
        ).public_key()
    wanted = [Attribute.PRIME, Attribute.BASE, Attribute.VALUE]
    if key.alg.family is Family.DSA:
        wanted.append(Attribute.SUBPRIME)
    attrs = {k: int.from_bytes(v, "big") for k, v in tkey.attributes(wanted, public).items()}
    if key.alg.family is Family.DSA:
        params = dsa.DSAParameterNumbers(
            attrs[Attribute.PRIME], attrs[Attribute.SUBPRIME], attrs[Attribute.BASE]
        )
        return dsa.DSAPublicNumbers(attrs[Attribute.VALUE], params).public_key()
    dh_params = dh.DHParameterNumbers(attrs[Attribute.PRIME], attrs[Attribute.BASE])
    return dh.DHPublicNumbers(attrs[Attribute.VALUE], dh_params).public_key()

