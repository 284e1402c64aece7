"""The token's own key pairs as key containers: csp11's *container map*.

Windows' smart-card CSP offers a card's keys as key containers through the
card's container map; this module is that map for a PKCS#11 token whose key
pairs other tools made (a PIV card's own keys, an HSM provisioned with
``pkcs11-tool``).  It only reads the token (``C_FindObjects`` and
``C_GetAttributeValue``); what it computes is recomputed at each use, as
csp11's own containers are re-read from their markers.  docs/mapping.md
("Keys csp11 did not make") is the reference; in short:

* **which keys**: every private key (``CKA_TOKEN=TRUE``) that is not csp11's
  own (:func:`csp11.core.store.made_by_csp11`) and has a matching public key
  or certificate: same ``CKA_ID``, else the same public value (RSA modulus).
  A key without either is no container: its public half is nowhere.
* **which key spec**: a key that may decrypt or unwrap (``CKA_DECRYPT`` or
  ``CKA_UNWRAP``) fills ``AT_KEYEXCHANGE``; a sign-only key (``CKA_SIGN``
  without them; DSA) fills ``AT_SIGNATURE``, as Windows' smart-card CSP fills
  a card's slots.  A container without a sign-only key offers its exchange
  key for ``AT_SIGNATURE`` too when the key may sign: tools and tokens that
  are not told otherwise make keys for every use (``pkcs11-tool
  --keypairgen --usage-sign`` on SoftHSM2 gives ``CKA_DECRYPT=TRUE``), and
  code that signs asks for ``AT_SIGNATURE``.
* **one container**: the keys of one ``CKA_ID``, and two keys of different
  IDs that share one label when one is an exchange key and the other
  sign-only (a person's two pairs).  A container with two exchange keys or
  two sign-only keys cannot say which is meant: it is not offered (csp11
  will not guess).
* **the name**: the keys' ``CKA_LABEL`` where no other private key on the
  token bears it, it is not the name of a container csp11 made, and it does
  not begin with ``#`` (nor hold a NUL or run to 260 characters, which no
  container name may); otherwise ``#`` and the ``CKA_ID`` in hex (``#01``),
  or for a key without ``CKA_ID`` ``#`` and 16 hex digits of the SHA-256 of
  its public value.  Labels are what people gave the keys and what every
  token tool shows; where one does not single a key out, the ``CKA_ID`` is
  stable (its certificate points at it) and ``#`` keeps those names apart
  from labels and from csp11's own containers (csp11 makes no container
  whose name begins with ``#``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from csp11 import win32cryptcon as con
from csp11.core.store import containers_of, made_by_csp11
from csp11.formats.certinfo import rsa_public_numbers
from csp11.logs import log as _log
from csp11.structs import Struct
from csp11.token import Attribute, KeyType, ObjectClass, PinSources, Token

__all__ = [
    "FOUND_PREFIX", "FoundContainer", "FoundKey", "container_map", "destroy", "found_container",
    "found_containers",
    "permissions_of",
]


# The first character of the names csp11 gives found containers by CKA_ID:
# no name taken from a label and no container csp11 makes begins with it.
FOUND_PREFIX = "#"

_PRIVATE_ATTRS = (
    Attribute.LABEL, Attribute.ID, Attribute.KEY_TYPE, Attribute.MODULUS,
    Attribute.DECRYPT, Attribute.UNWRAP, Attribute.SIGN, Attribute.EXTRACTABLE,
)
_PUBLIC_ATTRS = (
    Attribute.LABEL, Attribute.ID, Attribute.KEY_TYPE, Attribute.MODULUS, Attribute.PRIME,
    Attribute.ENCRYPT, Attribute.WRAP,
)
_CERT_ATTRS = (Attribute.LABEL, Attribute.ID, Attribute.VALUE)

# Key types a CryptoAPI provider of csp11 has an ALG_ID for, by the slot
# they fill: (exchange ALG_ID, signature ALG_ID).  EC and others have none in
# PROV_RSA_*/PROV_DSS*: such keys are not offered.
_ALGIDS: dict[Any, tuple[int | None, int]] = {
    KeyType.RSA: (con.CALG_RSA_KEYX, con.CALG_RSA_SIGN),
    KeyType.DSA: (None, con.CALG_DSS_SIGN),
}

# KP_PERMISSIONS of a found key: what every key has (rsaenh: READ, WRITE,
# MAC), and each other bit where the token's attribute allows it.  The token
# enforces all of them anyway; the bits make CryptoAPI refuse first, with
# NTE_PERM, as it does for csp11's own keys.  CKA_SENSITIVE grants nothing:
# csp11 takes private keys out only by wrapping, which CKA_EXTRACTABLE rules.
_ALWAYS_PERMITTED = con.CRYPT_READ | con.CRYPT_WRITE | con.CRYPT_MAC
# (bit, the public key's attribute that grants it or None, the private key's):
# the public key's where the bit is about the public half and there is a
# public key object, else the private key's (a key whose public half is only
# in a certificate may encrypt and wrap as far as it may decrypt and unwrap).
_PERMISSION_ATTRS: tuple[tuple[int, Any, Any], ...] = (
    (con.CRYPT_ENCRYPT, Attribute.ENCRYPT, Attribute.DECRYPT),
    (con.CRYPT_DECRYPT, None, Attribute.DECRYPT),
    (con.CRYPT_EXPORT, None, Attribute.EXTRACTABLE),
    (con.CRYPT_EXPORT_KEY, Attribute.WRAP, Attribute.UNWRAP),
    (con.CRYPT_IMPORT_KEY, None, Attribute.UNWRAP),
)


def permissions_of(private: dict[Any, Any], public: dict[Any, Any] | None) -> int:
    """``KP_PERMISSIONS`` of a found key from its objects' attributes (the table
    ``_PERMISSION_ATTRS``)."""
    permissions = _ALWAYS_PERMITTED
    for bit, public_attr, private_attr in _PERMISSION_ATTRS:
        if public_attr is not None and public is not None:
            granted = public.get(public_attr)
        else:
            granted = private.get(private_attr)
        if granted:
            permissions |= bit
    return permissions


class FoundKey(Struct):
    """One key pair of a found container, in one of its slots, as the token has it."""

    spec: int
    algid: int
    bits: int
    permissions: int
    label: str
    ident: bytes
    private: Any                 # python-pkcs11 objects, bound to the container's home session
    public: Any | None
    certificate: Any | None
    public_number: tuple[int, int] | None  # RSA (n, e) from the certificate, if no public key
    # Every token object of the pair (public keys and certificates that match
    # it, duplicates included): what CRYPT_DELETEKEYSET destroys.
    objects: tuple[Any, ...] = ()
    exchange: bool = False       # may decrypt or unwrap
    sign: bool = False           # may sign


class FoundContainer(Struct):
    """A container over key pairs csp11 did not make."""

    name: str
    home: Any                    # the session the objects were found in
    keys: dict[int, FoundKey]

    def objects(self) -> list[Any]:
        """The token objects of the container (its keys, public keys, certificates)."""
        unique: dict[int, Any] = {}
        for key in self.keys.values():  # one key may fill both slots
            for obj in key.objects:
                unique.setdefault(int(obj.handle), obj)
        return list(unique.values())


class _Candidate:
    """A token object being matched (a plain class: its value is filled in late)."""

    __slots__ = ("attrs", "numbers", "obj", "value")

    def __init__(self, obj: Any, attrs: dict[Any, Any], value: bytes | None) -> None:
        self.obj = obj
        self.attrs = attrs
        self.value = value  # the public value it is matched by (RSA modulus)
        self.numbers: tuple[int, int] | None = None  # a certificate's RSA (n, e)

    @property
    def label(self) -> str:
        return str(self.attrs.get(Attribute.LABEL) or "")

    @property
    def ident(self) -> bytes:
        return bytes(self.attrs.get(Attribute.ID) or b"")


def _modulus(attrs: dict[Any, Any]) -> bytes | None:
    value = attrs.get(Attribute.MODULUS)
    return bytes(value).lstrip(b"\0") if value else None


def _uses(attrs: dict[Any, Any]) -> tuple[bool, bool]:
    """(may decrypt or unwrap, may sign) of a private key csp11 has ALG_IDs for."""
    kind = attrs.get(Attribute.KEY_TYPE)
    if kind not in _ALGIDS:
        return False, False
    exchange = _ALGIDS[kind][0] is not None and bool(
        attrs.get(Attribute.DECRYPT) or attrs.get(Attribute.UNWRAP))
    return exchange, bool(attrs.get(Attribute.SIGN)) or kind == KeyType.DSA


def _not_csp11s(attrs: dict[Any, Any]) -> bool:
    """Whether an object is not one of csp11's own (containers, markers and
    claims csp11 made are never "found")."""
    return not made_by_csp11(str(attrs.get(Attribute.LABEL) or ""),
                             bytes(attrs.get(Attribute.ID) or b""))


def _foreign(rows: Iterable[tuple[Any, dict[Any, Any]]]) -> list[_Candidate]:
    return [_Candidate(obj, attrs, _modulus(attrs)) for obj, attrs in rows
            if _not_csp11s(attrs)]


def _survey(token: Token, pins: PinSources) -> tuple[Any, list[_Candidate],
                                                     list[_Candidate], list[_Candidate]]:
    home, (privates, publics, certs) = token.survey(
        [{Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.TOKEN: True},
         {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.TOKEN: True},
         {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.TOKEN: True}],
        sorted(set(_PRIVATE_ATTRS + _PUBLIC_ATTRS + _CERT_ATTRS), key=int),
        pins,
        # csp11's own objects (often most of the token) are dropped after
        # two reads each.
        screen=((Attribute.LABEL, Attribute.ID), _not_csp11s),
    )
    cert_rows = []
    for candidate in _foreign(certs):
        der = candidate.attrs.get(Attribute.VALUE)
        numbers = rsa_public_numbers(bytes(der)) if der else None
        candidate.value = (numbers[0].to_bytes((numbers[0].bit_length() + 7) // 8, "big")
                           if numbers else None)
        candidate.numbers = numbers
        cert_rows.append(candidate)
    return home, _foreign(privates), _foreign(publics), cert_rows


def _matching(private: _Candidate, others: list[_Candidate]) -> list[_Candidate]:
    """The public keys (or certificates) of ``private``: same CKA_ID and no
    contradicting public value, else the same public value."""
    by_id = [o for o in others if private.ident and o.ident == private.ident
             and (o.value is None or private.value is None or o.value == private.value)]
    if by_id:
        return by_id
    return [o for o in others if private.value is not None and o.value == private.value]


def _pair(private: _Candidate, publics: list[_Candidate],
          certs: list[_Candidate]) -> FoundKey | None:
    """The key pair of a private key, None if it is no container's."""
    exchange, sign = _uses(private.attrs)
    if not (exchange or sign):
        return None
    kind = private.attrs[Attribute.KEY_TYPE]
    pubs = _matching(private, publics)
    cert_list = _matching(private, certs)
    if kind != KeyType.RSA:
        cert_list = [c for c in cert_list if c.ident == private.ident]
    if not pubs and not any(c.numbers for c in cert_list):
        return None  # the public half is nowhere csp11 can read it
    if kind == KeyType.RSA:
        modulus = private.value or (pubs[0].value if pubs else cert_list[0].value)
        bits = len(modulus or b"") * 8
    else:
        prime = pubs[0].attrs.get(Attribute.PRIME) if pubs else None
        if not prime:
            return None  # no DSA public key object: no domain, no size
        bits = int.from_bytes(bytes(prime), "big").bit_length()
    if bits == 0:
        return None
    # Prefer the public key and certificate that carry the private key's label.
    pubs.sort(key=lambda p: p.label != private.label)
    cert_list.sort(key=lambda c: c.label != private.label)
    # Without a public key object the certificate is the public half: one with
    # an RSA key first (and the same modulus, by _matching).
    cert_list.sort(key=lambda c: c.numbers is None)
    cert = cert_list[0] if cert_list else None
    return FoundKey(
        spec=0, algid=0, bits=bits,
        permissions=permissions_of(private.attrs, pubs[0].attrs if pubs else None),
        label=private.label, ident=private.ident,
        private=private.obj, public=pubs[0].obj if pubs else None,
        certificate=cert.obj if cert is not None else None,
        public_number=None if pubs or cert is None else cert.numbers,
        objects=(private.obj, *(p.obj for p in pubs), *(c.obj for c in cert_list)),
        exchange=exchange, sign=sign,
    )


def _family_key(private: _Candidate) -> tuple[str, bytes]:
    if private.ident:
        return "id", private.ident
    # hashlib (~2 ms with OpenSSL's bindings): off the first key's path (cold start).
    import hashlib  # noqa: PLC0415

    return "value", hashlib.sha256(private.value or repr(private.obj).encode()).digest()


_Family = list[tuple[_Candidate, FoundKey]]


def _slots(family: _Family) -> dict[int, FoundKey] | None:
    """The keys of a container by the slot they fill; None when two keys would
    fill one slot (the container is then not offered)."""
    exchangers = [key for _, key in family if key.exchange]
    sign_only = [key for _, key in family if key.sign and not key.exchange]
    if len(exchangers) > 1 or len(sign_only) > 1:
        return None
    slots: dict[int, FoundKey] = {}
    if exchangers:
        kind = next(c for c, k in family if k is exchangers[0]).attrs[Attribute.KEY_TYPE]
        algid = _ALGIDS[kind][0]
        assert algid is not None  # an exchange key is of a type that has one
        slots[con.AT_KEYEXCHANGE] = exchangers[0].replace(spec=con.AT_KEYEXCHANGE, algid=algid)
    signer = None
    if sign_only:
        signer = sign_only[0]
    elif exchangers and exchangers[0].sign:
        signer = exchangers[0]  # no sign-only key: the exchange key signs too
    if signer is not None:
        kind = next(c for c, k in family if k is signer).attrs[Attribute.KEY_TYPE]
        slots[con.AT_SIGNATURE] = signer.replace(spec=con.AT_SIGNATURE, algid=_ALGIDS[kind][1])
    return slots


def _families(pairs: _Family) -> list[_Family]:
    """Keys grouped into containers: one CKA_ID each, then two groups of one
    key each that share a label, one an exchange key and one sign-only."""
    by_key: dict[tuple[str, bytes], _Family] = {}
    for candidate, key in pairs:
        by_key.setdefault(_family_key(candidate), []).append((candidate, key))
    groups = sorted(by_key.values(), key=lambda g: (g[0][0].label, g[0][0].ident))
    singles: dict[str, list[_Family]] = {}
    for group in groups:
        if len(group) == 1 and group[0][0].label:
            singles.setdefault(group[0][0].label, []).append(group)
    for same_label in singles.values():
        if len(same_label) != 2:
            continue
        first, second = same_label
        (_, a), (_, b) = first[0], second[0]
        if a.exchange != b.exchange:  # every key is one or sign-only
            first.extend(second)
            groups.remove(second)
    return groups


def _nameable(label: str) -> bool:
    """Whether a label can be a container name as it is: not one of csp11's
    names for keys, and a name CryptAcquireContext takes (no NUL, under 260
    characters)."""
    return not label.startswith(FOUND_PREFIX) and "\0" not in label and len(label) < 260


def _id_name(key: FoundKey, value: bytes | None) -> str:
    if key.ident:
        return FOUND_PREFIX + key.ident.hex()
    # hashlib (~2 ms with OpenSSL's bindings): off the first key's path (cold start).
    import hashlib  # noqa: PLC0415

    return FOUND_PREFIX + hashlib.sha256(value or b"").hexdigest()[:16]


def container_map(token: Token, pins: PinSources, own_names: set[str]) -> dict[str, FoundContainer]:
    """The found containers of the token by name (``own_names``: the names of
    the containers csp11 made there, of every scope, which found names avoid)."""
    home, privates, publics, certs = _survey(token, pins)
    pairs = []
    for private in privates:
        key = _pair(private, publics, certs)
        if key is not None:
            pairs.append((private, key))
    # A label is unique when one container's keys bear it and no other
    # private key on the token (a container's or not).
    in_family = {id(c) for c, _ in pairs}
    loose = Counter(c.label for c in privates if id(c) not in in_family and c.label)
    families = _families(pairs)
    labels: Counter[str] = Counter()
    for family in families:
        for label in {c.label for c, _ in family if c.label}:
            labels[label] += 1
    found: dict[str, FoundContainer] = {}
    dropped: set[str] = set()
    for family in families:
        family_labels = {c.label for c, _ in family}
        main_candidate, main = min(family, key=lambda ck: not ck[1].exchange)  # exchange first
        keys = _slots(family)
        if keys is None:
            _log.warning("token keys %s: two keys for one slot in one container; not offered",
                         _id_name(main, main_candidate.value))
            continue
        label = family_labels.pop() if len(family_labels) == 1 else ""
        if (label and labels[label] == 1 and not loose[label] and _nameable(label)
                and label not in own_names):
            name = label
        else:
            name = _id_name(main, main_candidate.value)
        if name in own_names or name in found or name in dropped:
            # Only a container csp11 made under a "#" name (older csp11) or
            # two keys without CKA_ID of one public value: never ambiguous.
            _log.warning("token keys named %r: the name is taken; not offered", name)
            found.pop(name, None)
            dropped.add(name)
            continue
        found[name] = FoundContainer(name, home, keys)
    return found


def found_containers(token: Token, pins: PinSources) -> dict[str, FoundContainer]:
    """The found containers of the token by name, named around the containers
    csp11 made there (of every scope)."""
    own = set(containers_of(token).names(None, pins))
    return container_map(token, pins, own)


def found_container(token: Token, pins: PinSources, name: str) -> FoundContainer | None:
    """The found container ``name``, None if there is none."""
    if not name.startswith(FOUND_PREFIX):
        # A found name that is no "#" name is a private key's label: where
        # no private key bears it (a container csp11 makes, usually), one
        # filtered search answers, not a survey of the whole token.
        _home, (labelled,) = token.find(
            [{Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: name,
              Attribute.TOKEN: True}], pins)
        if not labelled:
            return None
    return found_containers(token, pins).get(name)


def destroy(token: Token, container: FoundContainer) -> None:
    """``CRYPT_DELETEKEYSET`` of a found container: its token objects, nothing else."""
    with token.store_locked():
        token.destroy_objects(container.home, container.objects())
