"""Key containers on a token: how a CryptoAPI keyset maps onto PKCS#11 objects.

A container ``NAME`` of scope ``user`` (or ``machine``, with
``CRYPT_MACHINE_KEYSET``) is:

* a **marker**: a private token ``CKO_DATA`` object, ``CKA_APPLICATION`` =
  ``"csp11"``, ``CKA_LABEL`` = ``"csp11 user/NAME"``, whose ``CKA_VALUE`` is a
  small JSON record (scope, name, and which generation of each key pair is
  current);
* per key spec, a **key pair** (and optionally a certificate) whose
  ``CKA_LABEL`` is ``"csp11 user/NAME AT_KEYEXCHANGE"`` (or ``AT_SIGNATURE``)
  and whose ``CKA_ID`` ties private key, public key and certificate together:
  ``b"csp11"`` ‖ 12 bytes of SHA-256(scope/name) ‖ key spec ‖ generation.

User and machine containers of the same name never collide (the scope is in
the label and the ID).  Objects are only ever looked up by exact label, ID
and class, and a lookup that finds more than one object fails loudly
(``NTE_FAIL``) instead of choosing; objects other tools made are never
touched.

Replacing a key pair is atomic: the new pair is made under a fresh
generation number (while the store lock is held), a new marker naming it is
created with one ``C_CreateObject`` (SoftHSM2 keeps ``CKA_VALUE`` of data
objects read-only, so a marker is replaced, not updated), and only then are
the old marker and the old pair destroyed.  A process killed at any point
leaves a marker naming a complete pair, old or new (of two markers, the one
with the higher sequence number is current); pairs of other generations are
removed the next time the container is used.  Across processes the store
lock exists only where csp11 owns the store (the embedded token): containers
on a shared HSM must have one writer at a time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.errors import Fail
from csp11.token import Attribute, ObjectClass, PinSources, Token, TokenKey

__all__ = ["SPEC_NAMES", "ContainerName", "Containers", "containers_of"]

SPEC_NAMES = {con.AT_KEYEXCHANGE: "AT_KEYEXCHANGE", con.AT_SIGNATURE: "AT_SIGNATURE"}
_log = logging.getLogger("csp11")
_APPLICATION = "csp11"
_MARKER_VERSION = 1


@dataclass(frozen=True)
class ContainerName:
    """A container's identity on a token: scope (``user``/``machine``) and name."""

    scope: str
    name: str

    @property
    def label(self) -> str:
        """The marker's CKA_LABEL."""
        return f"csp11 {self.scope}/{self.name}"

    def key_label(self, spec: int) -> str:
        """The CKA_LABEL of the key pair of ``spec``."""
        return f"{self.label} {SPEC_NAMES[spec]}"

    def key_id(self, spec: int, generation: int) -> bytes:
        """The CKA_ID of generation ``generation`` of the key pair of ``spec``."""
        digest = hashlib.sha256(f"{self.scope}/{self.name}".encode()).digest()[:12]
        return b"csp11" + digest + bytes([spec]) + generation.to_bytes(4, "big")


class Containers:
    """Container operations on one token (all need the token logged in)."""

    def __init__(self, token: Token) -> None:
        self.token = token

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # The token's store lock (re-entrant; across processes where csp11
        # owns the store, the embedded token), so container changes never
        # interleave.
        with self.token.store_locked():
            yield

    # ---- markers -------------------------------------------------------------------
    def _marker_template(self, cname: ContainerName) -> dict[Any, object]:
        return {
            Attribute.CLASS: ObjectClass.DATA,
            Attribute.APPLICATION: _APPLICATION,
            Attribute.LABEL: cname.label,
            Attribute.TOKEN: True,
        }

    def _marker(self, cname: ContainerName, pins: PinSources) -> tuple[Any, Any, dict[str, Any]]:
        """The marker object and its record (the newest, if a crash left two)."""
        pooled, (found,) = self.token.find([self._marker_template(cname)], pins)
        if not found and not self.token.is_logged_in():
            # Someone logged the token out: C_FindObjects does not fail, it
            # just does not see private objects.  Log in again and look again.
            self.token.login(pins, cname.name)
            pooled, (found,) = self.token.find([self._marker_template(cname)], pins)
        if not found:
            raise Fail(winerror.NTE_BAD_KEYSET, f"key container {cname.name!r} does not exist")
        records = []
        for marker in found:
            try:
                record = json.loads(_value_of(self.token, pooled, marker).decode("utf-8"))
                if not isinstance(record, dict) or record.get("version") != _MARKER_VERSION:
                    raise ValueError("version")
                records.append((int(record["seq"]), marker, record))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise Fail(
                    winerror.NTE_FAIL,
                    f"an object labelled {cname.label!r} is not a csp11 container marker; "
                    "csp11 will not guess which object is meant",
                ) from None
        records.sort(key=lambda item: item[0])
        seq, marker, record = records[-1]
        if len(records) > 1 and records[-2][0] == seq:
            raise Fail(
                winerror.NTE_FAIL,
                f"two markers of {cname.label!r} claim the same sequence number; "
                "csp11 will not guess which is current",
            )
        stale = [item[1] for item in records[:-1]]
        if stale:
            # A process died between writing a new marker and removing the
            # old one: the newest record is the truth.
            with self._locked():
                self.token.destroy_objects(pooled, stale)
        return pooled, marker, record

    def _write_marker(self, cname: ContainerName, record: dict[str, Any], pins: PinSources) -> None:
        template = dict(self._marker_template(cname))
        template[Attribute.PRIVATE] = True
        template[Attribute.VALUE] = json.dumps(record, sort_keys=True).encode()
        self.token.create_object(template, pins)

    def exists(self, cname: ContainerName, pins: PinSources) -> bool:
        """Whether the container exists."""
        try:
            self._marker(cname, pins)
        except Fail as exc:
            if exc.code == winerror.NTE_BAD_KEYSET:
                return False
            raise
        return True

    def create(self, cname: ContainerName, pins: PinSources) -> None:
        """``CRYPT_NEWKEYSET``: a new, empty container (``NTE_EXISTS`` if it exists)."""
        with self._locked():
            if self.exists(cname, pins):
                raise Fail(winerror.NTE_EXISTS, f"key container {cname.name!r} already exists")
            for spec in SPEC_NAMES:
                # Objects a crashed CRYPT_DELETEKEYSET left behind.
                home, found = self.token.find(self._objects_of(cname, spec), pins)
                self.token.destroy_objects(home, [o for group in found for o in group])
            record = {"version": _MARKER_VERSION, "seq": 1, "scope": cname.scope,
                      "name": cname.name, "keys": {}}
            self._write_marker(cname, record, pins)

    def delete(self, cname: ContainerName, pins: PinSources) -> None:
        """``CRYPT_DELETEKEYSET``: the marker and every object of the container."""
        with self._locked():
            pooled, marker, _record = self._marker(cname, pins)
            # The marker first: if the process dies half-way, the container
            # is gone and what is left are objects no marker names, which a
            # new container of that name tidies away.
            self.token.destroy_objects(pooled, [marker])
            for spec in SPEC_NAMES:
                home, found = self.token.find(self._objects_of(cname, spec), pins)
                self.token.destroy_objects(home, [o for group in found for o in group])

    def names(self, scope: str, pins: PinSources) -> list[str]:
        """The names of the containers of ``scope`` on the token, sorted."""
        template = {Attribute.CLASS: ObjectClass.DATA, Attribute.APPLICATION: _APPLICATION,
                    Attribute.TOKEN: True}
        pooled, (markers,) = self.token.find([template], pins)
        names = []
        for marker in markers:
            raw = _value_of(self.token, pooled, marker)
            try:
                record = json.loads(bytes(raw).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue  # not ours after all, or damaged: never listed, never touched
            if isinstance(record, dict) and record.get("scope") == scope:
                names.append(str(record.get("name")))
        return sorted(names)

    # ---- key pairs ---------------------------------------------------------------------
    def _objects_of(self, cname: ContainerName, spec: int) -> list[dict[Any, object]]:
        label = cname.key_label(spec)
        return [
            {Attribute.CLASS: cls, Attribute.LABEL: label, Attribute.TOKEN: True}
            for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE)
        ]

    def find_pair(
        self, cname: ContainerName, spec: int, pins: PinSources, *, tidy: bool = False
    ) -> TokenKey | None:
        """The container's current key pair of ``spec`` (one search by label and ID).

        ``tidy`` also removes pairs of other generations (left by a process
        that died while replacing a key); it is done when a container is
        opened and after a key is replaced, not on every lookup.
        """
        with self._locked():
            _pooled, _marker, record = self._marker(cname, pins)
            generation = record["keys"].get(str(spec))
            if tidy:
                self._tidy(cname, spec, generation, pins)
            if generation is None:
                return None
            ident = cname.key_id(spec, generation)
            label = cname.key_label(spec)
            home, (private, public, cert) = self.token.find(
                [{Attribute.CLASS: cls, Attribute.LABEL: label, Attribute.ID: ident,
                  Attribute.TOKEN: True}
                 for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY,
                             ObjectClass.CERTIFICATE)],
                pins,
            )
            if len(private) != 1 or len(public) != 1:
                raise Fail(
                    winerror.NTE_FAIL,
                    f"{label!r}: expected one private and one public key, "
                    f"found {len(private)} and {len(public)}",
                )
            if len(cert) > 1:
                raise Fail(
                    winerror.NTE_FAIL, f"{label!r}: {len(cert)} certificates; csp11 will not guess"
                )
            key = TokenKey(self.token, home, private[0], public[0], token_object=True)
            key.certificate = cert[0] if cert else None
            key.stored_as = (label, ident)
            return key

    def _tidy(
        self, cname: ContainerName, spec: int, generation: int | None, pins: PinSources
    ) -> None:
        keep = cname.key_id(spec, generation) if generation is not None else None
        home, groups = self.token.find(self._objects_of(cname, spec), pins)
        stale = [o for group in groups for o in group
                 if _object_id(self.token, home, o) != keep]
        if stale:
            # The marker decides which generation is current; the others go.
            self.token.destroy_objects(home, stale)

    def tidy(self, cname: ContainerName, pins: PinSources) -> None:
        """Remove debris of crashed key replacements from the whole container."""
        with self._locked():
            _pooled, _marker, record = self._marker(cname, pins)
            for spec in SPEC_NAMES:
                self._tidy(cname, spec, record["keys"].get(str(spec)), pins)

    def commit(self, cname: ContainerName, spec: int, generation: int, pins: PinSources) -> None:
        """Make ``generation`` the container's key pair of ``spec``; drop the old one.

        The switch is the creation of a new marker (one ``C_CreateObject``,
        atomic); the old marker and the old pair are removed after it.
        """
        with self._locked():
            pooled, marker, record = self._marker(cname, pins)
            ident = cname.key_id(spec, generation)
            _home, found = self.token.find(
                [{Attribute.CLASS: cls, Attribute.ID: ident, Attribute.TOKEN: True}
                 for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)], pins
            )
            if [len(group) for group in found] != [1, 1]:
                raise Fail(winerror.NTE_FAIL, "the new key pair is not complete on the token")
            record = dict(record, seq=int(record["seq"]) + 1,
                          keys=dict(record["keys"], **{str(spec): generation}))
            self._write_marker(cname, record, pins)
            try:
                self.token.destroy_objects(pooled, [marker])
                self.find_pair(cname, spec, pins, tidy=True)  # removes the old generation
            except Fail as exc:
                # The switch is made; tidying up is retried whenever the
                # container is next used.
                _log.warning("tidying container %r after a new key: %s", cname.name, exc.message)

    def new_generation(self, cname: ContainerName, pins: PinSources) -> int:
        """A fresh generation number for a new key pair (random, never the current one)."""
        _pooled, _marker, record = self._marker(cname, pins)
        taken = {int(g) for g in record["keys"].values()}
        while True:
            generation = secrets.randbits(32)
            if generation not in taken:
                return generation


def _value_of(token: Token, home: Any, obj: Any) -> bytes:
    return bytes(token.run_on(home, "C_GetAttributeValue", lambda s: obj[Attribute.VALUE]))


def _object_id(token: Token, home: Any, obj: Any) -> bytes:
    return bytes(token.run_on(home, "C_GetAttributeValue", lambda s: obj[Attribute.ID]))


_registry: dict[Token, Containers] = {}
_registry_lock = threading.Lock()


def containers_of(token: Token) -> Containers:
    """The :class:`Containers` of a token (one per token per process)."""
    with _registry_lock:
        found = _registry.get(token)
        if found is None:
            found = _registry[token] = Containers(token)
        return found

