"""The keys of a container: storing a pair, opening it (CryptGetUserKey), its public half.

A container's pair is stored as token objects of a new *generation* and
made current by the container's marker in one step (:mod:`csp11.core.store`),
so a crash never leaves half a pair in use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.containermap import FoundKey, found_container
from csp11.core.context import Context, UserKey
from csp11.core.key import Key
from csp11.core.policy import permissions_for
from csp11.core.store import READ_TRIES, SPEC_NAMES, ContainerName, Containers, containers_of
from csp11.core.store import step as _step
from csp11.errors import Fail
from csp11.logs import log as _log
from csp11.model.algorithms import ALGORITHMS, Family
from csp11.model.providers import Personality
from csp11.token import OBJECT_GONE, SESSION_LOST, Attribute, KeyType, ObjectClass, TokenKey

_T = TypeVar("_T")
# What the token answers when a remembered pair's objects can no longer be
# used as they are: destroyed (replaced or deleted by another process), in
# a session the token lost, or invisible after someone logged the token out.
_STALE = OBJECT_GONE | SESSION_LOST | {"CKR_USER_NOT_LOGGED_IN"}

__all__ = [
    "container_spec", "fill_verify_slot", "get_user_key", "open_stored", "public_key_of",
    "store_pair", "use_stored",
]


def store_pair(
    ctx: Context,
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
    cname = ctx.container
    assert cname is not None
    if cname.found:
        # The token's own keys stay as their makers left them: csp11 neither
        # replaces them nor adds a pair beside them (docs/mapping.md).
        raise Fail(
            winerror.NTE_PERM,
            f"key container {cname.name!r} holds the token's own keys, which csp11 does not "
            "replace or add to (delete them with CRYPT_DELETEKEYSET or the token's tools)",
        )
    ctx.login()
    store = containers_of(ctx.token)
    # The new pair is made outside the container's lock, under an intent
    # that keeps anyone tidying the container from taking it for debris;
    # the switch happens under the lock (docs/containers.md).
    generation = store.new_generation()
    label, ident = cname.key_label(spec), cname.key_id(spec, generation)
    store.intend(cname, spec, generation, ctx.pins)
    try:
        with ctx.token.store_locked():  # token-object writes, one thread at a time
            tkey = make({Attribute.ID: ident, Attribute.LABEL: label})
    except BaseException:
        _abandon(store, cname, spec, generation, ctx)
        raise
    _step("pair-made")
    try:
        store.commit(cname, spec, generation, ctx.pins)
    except BaseException:
        _abandon(store, cname, spec, generation, ctx)
        if undo is not None:
            undo(tkey)
        raise
    tkey.stored_as = (label, ident)
    return tkey


def _abandon(store: Containers, cname: ContainerName, spec: int, generation: int,
             ctx: Context) -> None:
    """Remove a generation that will not be committed (what is left, if this
    fails too, is tidied once its intent is seen dead)."""
    try:
        store.abandon(cname, spec, generation, ctx.pins)
    except Fail:
        _log.debug("could not remove an abandoned key pair of %r", cname.name)


def container_spec(personality: Personality, algid: int) -> int | None:
    """The container slot (AT_*) a pair of ``algid`` belongs in, or None (e.g. DH_EPHEM)."""
    if algid == personality.exchange_algid:
        return con.AT_KEYEXCHANGE
    if algid == personality.signature_algid:
        return con.AT_SIGNATURE
    return None


def get_user_key(ctx: Context, spec: int) -> Key:
    """CryptGetUserKey: a new state for the container's ``AT_KEYEXCHANGE`` or
    ``AT_SIGNATURE`` pair; ``NTE_NO_KEY`` when there is none (and always in a
    verify-only context)."""
    ctx.check_live()
    if spec not in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE):
        raise Fail(winerror.NTE_BAD_KEY, "KeySpec must be AT_KEYEXCHANGE or AT_SIGNATURE")
    return open_stored(ctx, spec)


def fill_verify_slot(key: Key) -> None:
    """In a verify context, a new pair of the exchange or signature algorithm
    becomes that slot's key, as Windows' ephemeral container has it; elsewhere
    (a named container stores its pairs itself) nothing happens."""
    ctx = key.ctx
    if ctx.container is not None or key.tkey is None or key.tkey.obj is None:
        return
    spec = container_spec(ctx.personality, key.algid)
    if spec is None:
        return
    # A CryptGetUserKey handle is another handle: CRYPT_ARCHIVE ends with this one.
    permissions = key.permissions & ~con.CRYPT_ARCHIVE
    ctx.fill(spec, UserKey(key.alg, key.bits, permissions, key.tkey.share()))


def open_stored(ctx: Context, spec: int, *, checked: bool = True) -> Key:
    """CryptGetUserKey: a new state for the container's pair of ``spec``.

    A named container's pair is looked up on the token once per context and
    remembered (:meth:`Context.found_key`).  ``checked``: the remembered
    objects are first asked whether they still exist, and are still the pair
    that was found (its ``CKA_ID``) — another process may have replaced or
    deleted the pair meanwhile, and then it is looked up again.  Unchecked
    (:func:`use_stored`), the caller's own token call finds that out.
    """
    cname = ctx.container
    if cname is None:
        user_key = ctx.user_key(spec)
        if user_key is None:
            raise Fail(
                winerror.NTE_NO_KEY,
                f"this CRYPT_VERIFYCONTEXT context has no {SPEC_NAMES[spec]} key (generate or "
                "import one in it)",
            )
        return Key(ctx, user_key.alg, user_key.bits, user_key.tkey.share(),
                   permissions=user_key.permissions)
    ctx.login()
    remembered = ctx.found_key(spec)
    if remembered is not None:
        try:
            usable = not checked or _still_there(remembered.tkey)
        except BaseException:
            remembered.tkey.release()  # the reference found_key gave
            raise
        if usable:  # the Key owns the reference (its finalizer lets it go if need be)
            return Key(ctx, remembered.alg, remembered.bits, remembered.tkey,
                       permissions=remembered.permissions)
        ctx.forget_found(spec, remembered.tkey)
        remembered.tkey.release()
    # Read before the search: a write by this process during it makes the
    # result count as old at once.
    writes = ctx.token.object_writes
    key = _open_found(ctx, spec) if cname.found else _look_up(ctx, cname, spec)
    assert key.tkey is not None
    # Not remembered: on a token known to hand a destroyed object's handle to
    # a new object (tpm2-pkcs11), a remembered handle could name another
    # process's new object; and a found pair whose public half is made from
    # its certificate for each handle (a session object) is promised to go
    # with the last handle (docs/mapping.md), not with the context.
    if not ctx.token.quirks.handle_anchor and not key.tkey.transient:
        ctx.keep_found(spec, UserKey(key.alg, key.bits, key.permissions, key.tkey.share()),
                       writes)
    return key


def use_stored(ctx: Context, spec: int, use: Callable[[Key], _T]) -> _T:
    """``use(key)`` with the container's ``spec`` pair, closing the key after.

    The remembered pair is used without asking the token first; if the token
    answers that its objects are gone (replaced or deleted by another
    process, its session lost, the token logged out), the pair is looked up
    again and ``use`` runs once more with what is found now.
    """
    key = open_stored(ctx, spec, checked=False)
    tkey = key.tkey
    try:
        return use(key)
    except Fail as exc:
        if ctx.container is None or exc.ckr not in _STALE:
            raise
    finally:
        key.close()
    assert tkey is not None
    ctx.forget_found(spec, tkey)
    key = open_stored(ctx, spec)
    try:
        return use(key)
    finally:
        key.close()


def _still_there(tkey: TokenKey) -> bool:
    """Whether a remembered pair's objects are still on the token, as found:
    one ``C_GetAttributeValue(CKA_ID)``, compared with the ``CKA_ID`` it was
    found by."""
    assert tkey.stored_as is not None
    try:
        ident = bytes(tkey.attribute(Attribute.ID))
    except Fail as exc:
        if exc.ckr in _STALE:
            return False
        raise
    return ident == tkey.stored_as[1]


def _look_up(ctx: Context, cname: ContainerName, spec: int) -> Key:
    """The container's ``spec`` pair as the token has it now (the marker, then
    the pair of the generation it names)."""
    for _ in range(READ_TRIES):
        tkey = containers_of(ctx.token).find_pair(cname, spec, ctx.pins)
        if tkey is None:
            raise Fail(
                winerror.NTE_NO_KEY, f"container {cname.name!r} has no {SPEC_NAMES[spec]} key"
            )
        try:
            algid, size, extractable = _facts(tkey, spec)
        except Fail as exc:
            if exc.ckr in OBJECT_GONE:
                continue  # replaced by another writer since it was found: look again
            raise
        permissions = permissions_for(con.CRYPT_EXPORTABLE if extractable else 0)
        return Key(ctx, ALGORITHMS[algid], size, tkey, permissions=permissions)
    raise Fail(winerror.NTE_FAIL,
               f"container {cname.name!r}: its {SPEC_NAMES[spec]} key kept changing")


def _open_found(ctx: Context, spec: int) -> Key:
    """CryptGetUserKey in a found container: the token's pair that fills ``spec``."""
    cname = ctx.container
    assert cname is not None
    found = found_container(ctx.token, ctx.pins, cname.name)
    if found is None:
        raise Fail(winerror.NTE_BAD_KEYSET,
                   f"key container {cname.name!r} is no longer on the token")
    pair = found.keys.get(spec)
    if pair is None:
        raise Fail(winerror.NTE_NO_KEY, f"container {cname.name!r} has no {SPEC_NAMES[spec]} key")
    tkey = TokenKey(ctx.token, found.home, pair.private, pair.public, token_object=True)
    tkey.certificate = pair.certificate
    # KP_CERTIFICATE set puts the new certificate beside the key, as its
    # maker would have: same label and CKA_ID.
    tkey.stored_as = (pair.label, pair.ident)
    if pair.public is None:
        _public_from_certificate(tkey, pair)
    return Key(ctx, ALGORITHMS[pair.algid], pair.bits, tkey, permissions=pair.permissions)


def _public_from_certificate(tkey: TokenKey, pair: FoundKey) -> None:
    """A pair whose public half is only its certificate: a session public key
    object made from it, for this handle (gone with the handle's last user)."""
    assert pair.public_number is not None
    modulus, exponent = pair.public_number
    tkey.public = tkey.create_beside({
        Attribute.CLASS: ObjectClass.PUBLIC_KEY,
        Attribute.KEY_TYPE: KeyType.RSA,
        Attribute.TOKEN: False,
        Attribute.PRIVATE: False,
        Attribute.MODULUS: modulus.to_bytes((modulus.bit_length() + 7) // 8, "big"),
        Attribute.PUBLIC_EXPONENT: exponent.to_bytes((exponent.bit_length() + 7) // 8, "big"),
        Attribute.ENCRYPT: bool(pair.permissions & con.CRYPT_ENCRYPT),
        Attribute.WRAP: bool(pair.permissions & con.CRYPT_EXPORT_KEY),
        Attribute.VERIFY: True,
    })
    tkey.transient = [tkey.public]


def _facts(tkey: TokenKey, spec: int) -> tuple[int, int, bool]:
    """(ALG_ID, bits, extractable) of a stored pair, from its attributes."""
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
    return algid, size, bool(facts[Attribute.EXTRACTABLE])


def public_key_of(key: Key) -> Any:
    """The ``cryptography`` public key object of a key pair, read from the token."""
    # cryptography's key classes: off the first key's path (cold start).
    from cryptography.hazmat.primitives.asymmetric import dh, dsa, rsa  # noqa: PLC0415

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

