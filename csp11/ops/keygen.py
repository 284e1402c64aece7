"""CryptGenKey: from an ALG_ID, flags and a length to key objects on the token.

The rules, in the order they are checked (as Windows checks them; docs/differences.md):

1. flags: bits outside the seed's table → ``NTE_BAD_FLAGS``; a length in the
   upper 16 bits *and* a different ``KeyLen`` → ``NTE_BAD_FLAGS``;
2. ``AT_KEYEXCHANGE``/``AT_SIGNATURE`` become the provider's ALG_IDs;
3. an ALG_ID the provider does not offer, or the token cannot make →
   ``NTE_BAD_ALGID`` (the same rows as ``PP_ENUMALGS``);
4. ``CRYPT_USER_PROTECTED``/``CRYPT_FORCE_KEY_PROTECTION_HIGH`` on a silent or
   verify-only context → ``NTE_SILENT_CONTEXT``;
5. the length: 0 → the provider's default; outside min..max →
   ``ERROR_INVALID_PARAMETER``; off the provider's step → ``NTE_BAD_FLAGS``.

Templates come from :mod:`csp11.core.templates`; a container's pair is
stored through :func:`csp11.ops.userkey.store_pair`.
"""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.context import Context
from csp11.core.key import Key
from csp11.core.policy import PROTECTION, SALT_BYTES, extractable, permissions_for, salt_for
from csp11.core.store import Owner
from csp11.core.templates import pair_templates, session_template
from csp11.errors import Fail
from csp11.formats.byteorder import int_from_le, le_to_be
from csp11.formats.dhgroups import GROUPS
from csp11.formats.domain import verify_domain
from csp11.model.algorithms import ALGORITHMS, Algorithm, Family
from csp11.model.capabilities import capabilities, token_model
from csp11.model.providers import Offer
from csp11.ops.userkey import container_spec, fill_verify_slot, store_pair
from csp11.token import (
    OBJECT_GONE,
    Attribute,
    ChildSafeLock,
    ObjectClass,
    Token,
    TokenKey,
    on_token_unloaded,
)

__all__ = [
    "EPHEMERAL_ID", "GENKEY_FLAGS", "NO_PIN", "ephemeral_objects", "finish_pregen", "generate",
    "key_length", "resolve_algid", "sweep_ephemeral",
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
_RSA_EXPONENT = b"\x01\x00\x01"  # 65537, as Microsoft's providers use
_PLANS = 64  # session-key plans kept per context (see generate)


def generate(ctx: Context, algid: int, requested_flags: int, keylen: int) -> Key:
    """CryptGenKey (see the module docstring for the rules); arguments normalised."""
    ctx.check_live()
    # A session key asked for the same way before in this context passed the
    # same checks then: they depend only on the arguments, the context's
    # provider and flags and the token's (fixed) capabilities.
    plan = ctx.session_key_plans.get((algid, requested_flags, keylen))
    if plan is not None:
        return _session_key(ctx, plan)
    low, field = requested_flags & 0xFFFF, requested_flags >> 16
    if low & ~GENKEY_FLAGS:
        raise Fail(winerror.NTE_BAD_FLAGS, f"invalid flags 0x{low & ~GENKEY_FLAGS:X}")
    if field and keylen and field != keylen:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            f"key length {field} in Flags differs from KeyLen {keylen}",
        )
    alg, offer = resolve_algid(ctx, algid)
    if low & PROTECTION and (ctx.silent or ctx.verify_only):
        raise Fail(
            winerror.NTE_SILENT_CONTEXT,
            "user-protected keys need a context that may prompt (not silent, not "
            "CRYPT_VERIFYCONTEXT)",
        )
    if low & PROTECTION and alg.family is Family.DH:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            "Diffie-Hellman keys cannot be user-protected here: no PKCS#11 operation of a DH "
            "key takes a per-use PIN, so it could not be asked for",
        )
    bits = key_length(alg, offer, field or keylen)
    lengths = ctx.token.quirks.rsa_lengths
    if alg.family is Family.RSA and lengths and bits not in lengths:
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            f"this token makes {alg.name} keys of {', '.join(map(str, lengths))} bits only",
        )
    permissions = permissions_for(low)
    if (alg.family is not Family.SESSION and low & (con.CRYPT_EXPORTABLE | con.CRYPT_ARCHIVABLE)
            and ctx.token.quirks.no_extractable_private_keys):
        raise Fail(
            winerror.NTE_BAD_FLAGS,
            "this token makes no exportable private keys (CRYPT_EXPORTABLE, CRYPT_ARCHIVABLE)",
        )
    if alg.family is Family.SESSION:
        # The template depends only on what the plan holds: kept with it.
        template = session_template(alg, bits, extractable(low), bool(low & PROTECTION))
        plan = (alg, bits, low, permissions, template)
        key = _session_key(ctx, plan)
        if len(ctx.session_key_plans) < _PLANS:
            ctx.session_key_plans[(algid, requested_flags, keylen)] = plan
        return key
    if alg.family in (Family.DSA, Family.DH) and low & con.CRYPT_PREGEN:
        key = Key(ctx, alg, bits, None, permissions=permissions, pregen=True)
        key.gen_flags = low
        return key
    key = Key(
        ctx, alg, bits, _key_pair(ctx, alg, bits, low, domain={}),
        permissions=permissions,
    )
    key.gen_flags = low
    fill_verify_slot(key)
    return key


def resolve_algid(ctx: Context, algid: int) -> tuple[Algorithm, Offer]:
    """The algorithm and its (token-clipped) offer, or ``NTE_BAD_ALGID``."""
    personality = ctx.personality
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
    offer = capabilities(personality, ctx.token).offer(algid)
    if offer is None:
        if personality.offer(algid) is None:
            raise Fail(
                winerror.NTE_BAD_ALGID, f"{personality.name} does not offer {alg.name}"
            )
        raise Fail(
            winerror.NTE_BAD_ALGID,
            f"the token cannot make {alg.name} keys (its mechanisms, key sizes or key "
            "generation fall short)",
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


def _session_key(
    ctx: Context, plan: tuple[Algorithm, int, int, int, Mapping[Any, object]]
) -> Key:
    alg, bits, low, permissions, template = plan
    if low & PROTECTION:
        ctx.login()
    tkey = ctx.token.generate_key(
        alg.key_type, bits + alg.parity_bits,
        mechanism=alg.gen_mechanism, template=template, pins=ctx.pins,
    )
    if not alg.salted:  # _salt's first rule, without the call (hot path)
        return Key(ctx, alg, bits, tkey, permissions=permissions)
    return Key(
        ctx, alg, bits, tkey, permissions=permissions, salt=_salt(ctx, alg, bits, low)
    )


def _salt(ctx: Context, alg: Algorithm, bits: int, low: int) -> bytes:
    if not alg.salted:  # salt_for's first rule, without making the closure (hot path)
        return b""
    def random_salt() -> bytes:
        salt = ctx.token.generate_random(SALT_BYTES)
        while not any(salt):
            salt = ctx.token.generate_random(SALT_BYTES)
        return salt

    return salt_for(ctx.personality, alg, bits, low, created=random_salt)


# ---- key pairs -----------------------------------------------------------------------
def _domain_for(ctx: Context, alg: Algorithm, bits: int) -> dict[str, bytes]:
    """Domain parameters (little-endian P, G and, for DSS, Q) for a new pair."""
    if alg.family is Family.DH:
        group = GROUPS.get(bits)
        if group is not None:
            return {
                "P": group.prime.to_bytes(bits // 8, "little"),
                "G": group.generator.to_bytes(bits // 8, "little"),
            }
    made = ctx.token.generate_domain_parameters(alg.key_type, bits)
    values = {"P": made[int(Attribute.PRIME)], "G": made[int(Attribute.BASE)]}
    if alg.family is Family.DSA:
        values["Q"] = made[int(Attribute.SUBPRIME)]
    return {name: le_to_be(value) for name, value in values.items()}


def _key_pair(
    ctx: Context, alg: Algorithm, bits: int, low: int, domain: dict[str, bytes]
) -> TokenKey:
    protected = bool(low & PROTECTION)
    private, public = pair_templates(alg, protected=protected, extractable=extractable(low),
                                     dual_use=ctx.token.quirks.rsa_pairs_dual_use)
    if alg.family is Family.RSA:
        public[Attribute.MODULUS_BITS] = bits
        public[Attribute.PUBLIC_EXPONENT] = _RSA_EXPONENT
    else:
        if not domain:
            domain.update(_domain_for(ctx, alg, bits))
        public[Attribute.PRIME] = le_to_be(domain["P"]).lstrip(b"\0")
        public[Attribute.BASE] = le_to_be(domain["G"]).lstrip(b"\0")
        if alg.family is Family.DSA:
            public[Attribute.SUBPRIME] = le_to_be(domain["Q"]).lstrip(b"\0")
    spec = _container_spec(ctx, alg)
    if spec is None:
        if protected:
            ctx.login()
        if not token_model(ctx.token).session_key_pairs(ctx.pins):
            return _ephemeral_pair(ctx, alg, bits, public=public, private=private)
        return ctx.token.generate_key_pair(
            alg.key_type, bits, mechanism=alg.gen_mechanism, public=public, private=private,
            pins=ctx.pins,
        )
    return _stored_pair(ctx, alg, bits, low, spec, public=public, private=private)


# ---- ephemeral objects on tokens without session objects -----------------------------
# A verify context's pair (or any pair that is no container's) on a token that
# makes no session key pairs, and a public key imported on a token that makes
# no session objects (tpm2-pkcs11: C_CreateObject stores every object it makes,
# whatever CKA_TOKEN says, and only for a logged-in user): token objects with
# this CKA_ID, labelled with their owner process.  They are destroyed with
# their last handle (CryptDestroyKey, CryptReleaseContext at the latest, or at
# exit); a process that died before that leaves them behind, and the next
# process that makes one destroys them.
EPHEMERAL_ID = b"csp11-ephemeral"
_EPHEMERAL_LABEL = "csp11-ephemeral "
_swept: set[Token] = set()
_swept_lock = ChildSafeLock(_swept.clear)


@on_token_unloaded
def _forget(token: Token) -> None:
    # The reload drained the token; a new Token stands for it and is swept anew.
    with _swept_lock:
        _swept.discard(token)
# What a login without a usable PIN source answers (pins.PinSources, the
# default prompt): no PIN stored, a silent context, a cancelled prompt.
NO_PIN = frozenset({
    winerror.SCARD_W_CARD_NOT_AUTHENTICATED, winerror.NTE_SILENT_CONTEXT,
    winerror.SCARD_W_CANCELLED_BY_USER,
})


@atexit.register
def _drain_ephemeral() -> None:
    """Dropped ephemeral pairs wait for the next token call to be destroyed;
    at exit there is none, so release them now (what is still referenced is
    left for the next process's sweep)."""
    for token in list(_swept):
        try:
            token.drain()
        except Fail:  # exit must go on for the other tokens
            continue


def ephemeral_objects(ctx: Context, what: str) -> dict[Any, object]:
    """Log in (the token makes token objects only for its user), sweep dead
    processes' ephemeral objects, and return the attributes that make a new
    object ephemeral; ``what`` names it for the message when no PIN is at hand.
    The caller sets ``TokenKey.token_object = False`` on what it makes."""
    try:
        ctx.login()
    except Fail as exc:
        if exc.code not in NO_PIN:
            raise
        raise Fail(
            exc.code,
            f"token {ctx.token.label!r} makes no session objects, so {what} is kept as a "
            "temporary token object (destroyed with its handle), which needs the token's "
            f"PIN even in a CRYPT_VERIFYCONTEXT context: {exc.message}",
            ckr=exc.ckr,
        ) from None
    sweep_ephemeral(ctx)
    # json: only tokens without session objects label keys so (cold start).
    import json  # noqa: PLC0415

    return {
        Attribute.TOKEN: True,
        Attribute.ID: EPHEMERAL_ID,
        Attribute.LABEL: _EPHEMERAL_LABEL + json.dumps(Owner.me().to_json(), sort_keys=True),
    }


def _ephemeral_pair(
    ctx: Context, alg: Algorithm, bits: int, *,
    public: dict[Any, object], private: dict[Any, object],
) -> TokenKey:
    names = ephemeral_objects(ctx, "a key pair")
    public.update(names)
    private.update({**names, Attribute.PRIVATE: True})
    tkey = ctx.token.generate_key_pair(
        alg.key_type, bits, mechanism=alg.gen_mechanism, public=public, private=private,
        pins=ctx.pins,
    )
    tkey.token_object = False  # destroyed with its last handle, like a session pair
    return tkey


def sweep_ephemeral(ctx: Context) -> int:
    """Destroy ephemeral pairs whose process is gone (once per token per
    process, when the first ephemeral pair is made); the number destroyed."""
    token = ctx.token
    with _swept_lock:
        if token in _swept:
            return 0
        _swept.add(token)
    pooled, found = token.find(
        [{Attribute.CLASS: cls, Attribute.ID: EPHEMERAL_ID, Attribute.TOKEN: True}
         for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)],
        ctx.pins,
    )
    dead = []
    for obj in (o for objects in found for o in objects):
        def read_label(session: Any, obj: Any = obj) -> str:
            return str(obj[Attribute.LABEL])

        try:
            label = token.run_on(pooled, "C_GetAttributeValue", read_label)
        except Fail as exc:
            if exc.ckr in OBJECT_GONE:
                continue
            raise
        # json: only tokens without session objects label keys so (cold start).
        import json  # noqa: PLC0415

        try:
            owner = Owner.from_json(json.loads(label.removeprefix(_EPHEMERAL_LABEL)))
        except (ValueError, KeyError, TypeError):
            owner = None  # not ours to judge: leave it
        if owner is not None and owner.dead():
            dead.append(obj)
    for obj in dead:
        try:
            token.destroy_objects(pooled, [obj])
        except Fail as exc:
            if exc.ckr not in OBJECT_GONE:
                raise
    return len(dead)


def _container_spec(ctx: Context, alg: Algorithm) -> int | None:
    """The container slot a new pair goes to (None: a session pair, e.g. DH_EPHEM)."""
    if ctx.container is None:
        return None
    return container_spec(ctx.personality, alg.algid)


def _stored_pair(
    ctx: Context, alg: Algorithm, bits: int, low: int, spec: int, *,
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
        tkey = ctx.token.generate_key_pair(
            alg.key_type, bits, mechanism=alg.gen_mechanism, public=public, private=private,
            pins=ctx.pins,
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

    return store_pair(ctx, spec, make, undo)


def finish_pregen(key: Key) -> None:
    """``KP_X`` with ``None`` on a ``CRYPT_PREGEN`` key: generate it from P, G (Q)."""
    needed = ("P", "Q", "G") if key.alg.family is Family.DSA else ("P", "G")
    missing = [name for name in needed if name not in key.domain]
    if missing:
        raise Fail(
            winerror.NTE_BAD_KEY_STATE,
            f"set {', '.join('KP_' + m for m in missing)} before KP_X",
        )
    domain = {name: key.domain[name] for name in needed}
    # Parameters that do not verify would reach C_GenerateKeyPair, which
    # answers CKR_GENERAL_ERROR (SoftHSM2): say what is wrong instead.
    problem = verify_domain(
        int_from_le(domain["P"]), int_from_le(domain["G"]),
        int_from_le(domain["Q"]) if "Q" in domain else None,
    )
    if problem:
        raise Fail(
            winerror.NTE_BAD_DATA, f"KP_X: the key's parameters do not verify: {problem}"
        )
    key.tkey = _key_pair(key.ctx, key.alg, key.bits, key.gen_flags, domain)
    key.pregen = False
    key.attach_finalizer()
    fill_verify_slot(key)



