"""Key containers on a token, safe for many processes on many hosts (docs/containers.md).

A container ``NAME`` of scope ``user`` (or ``machine``, with
``CRYPT_MACHINE_KEYSET``) is, on the token:

* **markers**: records of the application ``"csp11"`` labelled
  ``"csp11 user/NAME"``, each a small JSON record: a sequence number and
  which *generation* of each key pair is current.  Markers are never
  changed, only created and destroyed; the one with the highest sequence
  number is the container's state.  A record is a private token
  ``CKO_DATA`` object (``CKA_APPLICATION``, ``CKA_LABEL``, ``CKA_VALUE``),
  or on a token that keeps no token data objects a private secret key that
  can do nothing as a key (:mod:`csp11.core.records`).
* per key spec, **key pairs** (and a certificate) labelled
  ``"csp11 user/NAME AT_KEYEXCHANGE"`` (or ``AT_SIGNATURE``) whose ``CKA_ID``
  is ``b"csp11"`` ‖ 12 bytes of SHA-256(scope/name) ‖ key spec ‖ generation.
* **claims** (``CKA_APPLICATION`` = ``"csp11-lock"``): the container's lock,
  held by whoever's claim is the only one on the token.
* **intents** (``CKA_APPLICATION`` = ``"csp11-pending"``, labelled
  ``"csp11 user/NAME AT_KEYEXCHANGE (being made)"``): "generation G of this
  key spec is being made", so that nobody tidies it away meanwhile.

The token offers no lock and no compare-and-swap, only atomic creation and
destruction of objects, and the callers may be on different hosts (p11-kit
RPC).  Every change of a marker happens while holding the container's lock,
taken with the flag protocol: create your claim, then read all claims; the
claim that sees only itself holds the lock (two claimants cannot both see
only themselves, docs/containers.md has the argument); the older claim
waits, the younger withdraws and retries, so the oldest claimant wins.  A
claim or intent whose owner is dead (same host: its process is gone) or has
outlived the lease (another host) is removed by whoever finds it.  Key pairs
are made outside the lock, under an intent, and switched in by one marker
creation inside it, so a crash at any point leaves a state the next call
reads and repairs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.core.records import CARRIERS, SECRET_KEYS, Carrier
from csp11.errors import Fail
from csp11.logs import log as _log
from csp11.model.capabilities import RECORDS_IN_KEYS, TokenModel, token_model
from csp11.structs import Struct
from csp11.token import (
    CKF_WRITE_PROTECTED,
    OBJECT_GONE,
    Attribute,
    ChildSafeLock,
    ObjectClass,
    PinSources,
    Token,
    TokenKey,
    jitter,
    on_token_unloaded,
)

__all__ = [
    "LEASE_SECONDS", "READ_TRIES", "SPEC_NAMES", "ContainerName", "Containers", "Owner",
    "containers_of", "made_by_csp11",
    "set_step_hook", "step",
]

def _json() -> ModuleType:
    """:mod:`json`, imported when a record is first read or written."""
    # json costs ~2 ms of a start, and the first key reads no record (cold start).
    import json  # noqa: PLC0415

    return json


SPEC_NAMES = {con.AT_KEYEXCHANGE: "AT_KEYEXCHANGE", con.AT_SIGNATURE: "AT_SIGNATURE"}
_APPLICATION = "csp11"
_CLAIM = "csp11-lock"
_INTENT = "csp11-pending"
_MARKER_VERSION = 1
# How long a claim or intent of another host counts as live.  Critical
# sections are a few token calls; key generation (under an intent) may take
# a minute for the largest RSA keys.  Hosts' clocks must agree within it.
LEASE_SECONDS = 300.0
# How long a call waits for a container's lock before giving up.
_LOCK_PATIENCE = 120.0
# A read that raced a writer (an object gone between finding and reading it)
# is retried this many times.
READ_TRIES = 20

# What a token answers C_CreateObject of a container record when it does not
# take such objects at all (not a fault of this call): measured on NSS softokn's
# "NSS Certificate DB" (CKR_ATTRIBUTE_VALUE_INVALID for any token CKO_DATA
# object, logged in or not); the others are what PKCS #11 gives a token to
# say that a template's class or attributes are not for it.  A data record
# refused so on a token the quirk table does not name switches the process
# to the other carrier (_create_now).
_RECORD_REFUSED = frozenset({
    "CKR_ATTRIBUTE_VALUE_INVALID", "CKR_ATTRIBUTE_TYPE_INVALID",
    "CKR_TEMPLATE_INCONSISTENT", "CKR_TEMPLATE_INCOMPLETE",
})

# Tests force interleavings and crashes at named steps (docs/containers.md).
_step_hook: Callable[[str], None] | None = None


def set_step_hook(hook: Callable[[str], None] | None) -> None:
    """Call ``hook(step)`` at each named step of a container change (tests only)."""
    global _step_hook  # noqa: PLW0603 - one process-wide test hook
    _step_hook = hook


def step(name: str) -> None:
    """Mark a named step of a container change (where tests interleave or crash)."""
    if _step_hook is not None:
        _step_hook(name)


def made_by_csp11(label: str, ident: bytes) -> bool:
    """Whether a token object with this ``CKA_LABEL`` and ``CKA_ID`` is one of
    csp11's own (a container's key pair or certificate, a marker, claim or
    intent): those are never taken for keys other tools made."""
    return label.startswith(_APPLICATION + " ") or ident.startswith(_APPLICATION.encode())


class ContainerName(Struct):
    """A container's identity on a token: scope (``user``/``machine``) and name.

    ``found`` marks a container over key pairs csp11 did not make
    (:mod:`csp11.core.containermap`): it has no marker, lock or generations.
    """

    scope: str
    name: str
    found: bool = False

    @property
    def label(self) -> str:
        """The marker's CKA_LABEL."""
        return f"csp11 {self.scope}/{self.name}"

    @property
    def lock_label(self) -> str:
        """The CKA_LABEL of claims on the container's lock."""
        return f"{self.label} (lock)"

    def key_label(self, spec: int) -> str:
        """The CKA_LABEL of the key pair of ``spec``."""
        return f"{self.label} {SPEC_NAMES[spec]}"

    def intent_label(self, spec: int) -> str:
        """The CKA_LABEL of intents to make a new key pair of ``spec``."""
        return f"{self.key_label(spec)} (being made)"

    def key_id(self, spec: int, generation: int) -> bytes:
        """The CKA_ID of generation ``generation`` of the key pair of ``spec``."""
        # hashlib (~2 ms with OpenSSL's bindings): off the first key's path (cold start).
        import hashlib  # noqa: PLC0415

        digest = hashlib.sha256(f"{self.scope}/{self.name}".encode()).digest()[:12]
        return b"csp11" + digest + bytes([spec]) + generation.to_bytes(4, "big")


# ---- who holds a claim or intent -------------------------------------------------------
def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        # socket (~2 ms): only where /proc has no boot id (cold start).
        import socket  # noqa: PLC0415

        return socket.gethostname()


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/PID/stat), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


class Owner(Struct):
    """The process behind a claim or intent: boot, pid and start time, wall-clock time."""

    boot: str
    pid: int
    start: str
    time: float

    @staticmethod
    def me() -> Owner:
        """This process, now (computed at each use: a forked child is another owner)."""
        pid = os.getpid()
        return Owner(_boot_id(), pid, _start_time(pid) or "", time.time())

    def to_json(self) -> dict[str, Any]:
        """The fields stored in the object's CKA_VALUE."""
        return {"boot": self.boot, "pid": self.pid, "start": self.start, "time": self.time}

    @staticmethod
    def from_json(record: dict[str, Any]) -> Owner:
        """The owner recorded in an object (ValueError/KeyError/TypeError if damaged)."""
        return Owner(str(record["boot"]), int(record["pid"]), str(record["start"]),
                     float(record["time"]))

    def dead(self) -> bool:
        """Whether the owner is certainly gone: its process ended (same host), or
        its lease ran out (another host, or a process that cannot be checked)."""
        if self.boot == _boot_id():
            return _start_time(self.pid) != self.start
        return time.time() - self.time > LEASE_SECONDS


class _Found(Struct):
    """A csp11 data object found on the token, with its parsed record."""

    obj: Any
    record: dict[str, Any]


class Containers:
    """Container operations on one token (all need the token logged in)."""

    def __init__(self, token: Token) -> None:
        self.token = token
        # Within the process, one thread at a time per container (and
        # re-entrant): the claim on the token is the process's, not a thread's.
        self._locks: dict[ContainerName, threading.RLock] = {}
        self._locks_lock = threading.Lock()
        self._depth = threading.local()
        # This process's own claims (by nonce) and intents ("intent:LABEL:GEN")
        # that the token would not let it remove (a fault at C_DestroyObject):
        # dead, though their owner lives, so that the next call removes them
        # rather than waits for itself or keeps a half key pair.
        self._orphans: set[str] = set()

    # ---- reading csp11's data objects ------------------------------------------------------
    def _find_records(
        self, application: str, label: str, pins: PinSources
    ) -> tuple[Any, list[_Found]]:
        """The records of ``application`` labelled ``label``, parsed from their
        JSON; objects destroyed while being read are left out, damaged records
        raise ``NTE_FAIL`` (never guessed at)."""
        with self.token.store_locked():  # see _create: SoftHSM2 and threads
            return self._find_records_now(application, label, pins)

    def _find_records_now(
        self, application: str, label: str, pins: PinSources
    ) -> tuple[Any, list[_Found]]:
        pooled, found = self._lookup(application, label, pins)
        out = []
        for obj, raw in found:
            try:
                record = _json().loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("not a record")
            except (ValueError, UnicodeDecodeError):
                raise Fail(
                    winerror.NTE_FAIL,
                    f"an object labelled {label!r} is not csp11's; csp11 will not guess which "
                    "object is meant",
                ) from None
            out.append(_Found(obj, record))
        return pooled, out

    def _lookup(
        self, application: str, label: str | None, pins: PinSources
    ) -> tuple[Any, list[tuple[Any, bytes]]]:
        """The records of ``application`` labelled ``label`` (every label: None),
        as (object, record bytes), in the token's carrier (csp11.core.records).

        Until the token model has settled the carrier, a search that finds no
        data record looks in secret keys too: a process that found the token
        refusing data objects keeps its records there (_create_now), and this
        process must see them.  The first record found settles the carrier.
        """
        model = token_model(self.token)
        name, settled = model.records()
        carrier = CARRIERS[name]
        pooled, found = self._lookup_in(carrier, application, label, pins)
        if not settled:
            if not found:
                other_pooled, other = self._lookup_in(SECRET_KEYS, application, label, pins)
                if other:
                    model.settle_records(SECRET_KEYS.name, "records found in secret keys")
                    return other_pooled, other
            else:
                model.settle_records(carrier.name, "records found in data objects")
        return pooled, found

    def _lookup_in(
        self, carrier: Carrier, application: str, label: str | None, pins: PinSources
    ) -> tuple[Any, list[tuple[Any, bytes]]]:
        template = carrier.search(application, label)
        pooled, (found,) = self.token.find([template], pins)
        if not found and application == _APPLICATION and not self.token.is_logged_in():
            # Someone logged the token out: C_FindObjects does not fail, it
            # just does not see private objects.  Log in again and look again.
            self.token.login(pins, label)
            pooled, (found,) = self.token.find([template], pins)
        out = []
        for obj in found:
            raw = _attribute_of(self.token, pooled, obj, carrier.holds)
            if raw is None:
                continue  # destroyed since it was found
            record = carrier.record(application, raw)
            if record is not None:  # else another application's record, or not csp11's
                out.append((obj, record))
        return pooled, out

    def _markers(self, cname: ContainerName, pins: PinSources) -> tuple[Any, list[_Found]]:
        """The container's markers, newest (highest ``seq``) last."""
        pooled, found = self._find_records(_APPLICATION, cname.label, pins)
        for item in found:
            if item.record.get("version") != _MARKER_VERSION or not isinstance(
                item.record.get("seq"), int
            ):
                raise Fail(
                    winerror.NTE_FAIL,
                    f"an object labelled {cname.label!r} is not a csp11 container marker; "
                    "csp11 will not guess which object is meant",
                )
        found.sort(key=lambda item: (item.record["seq"], _order_key(item.record)))
        return pooled, found

    def _state(self, cname: ContainerName, pins: PinSources) -> dict[str, Any]:
        """The container's current record; ``NTE_BAD_KEYSET`` if it does not exist.

        Lock-free: markers are immutable and a change creates the new marker
        before it destroys the old, so the newest marker seen is a state the
        container was in.  Two markers of one sequence number cannot be made
        under the lock; if an older csp11 left such a pair, it is repaired.
        """
        _pooled, markers = self._markers(cname, pins)
        if not markers:
            raise Fail(winerror.NTE_BAD_KEYSET, f"key container {cname.name!r} does not exist")
        newest = markers[-1]
        if len(markers) > 1 and markers[-2].record["seq"] == newest.record["seq"]:
            with self.locked(cname, pins):
                self._repair(cname, pins)
            return self._state(cname, pins)
        return newest.record

    # ---- the lock ---------------------------------------------------------------------------
    @contextmanager
    def locked(self, cname: ContainerName, pins: PinSources) -> Iterator[None]:
        """Hold the container's lock: across threads, processes and hosts.

        Re-entrant within a thread.  Where csp11 owns the token's store (the
        embedded token) the store's file lock is taken too (it also keeps
        SoftHSM2's file rewrites apart).
        """
        if cname.found:
            # The token's own keys have no csp11 objects, a lock's included:
            # csp11 adds nothing to a found container (docs/mapping.md).
            yield
            return
        with self._locks_lock:
            local = self._locks.setdefault(cname, threading.RLock())
        depths: dict[ContainerName, int] = self._depth.__dict__.setdefault("by_name", {})
        with self.token.store_locked(), local:
            depths[cname] = depths.get(cname, 0) + 1
            claim = None
            try:
                if depths[cname] == 1:
                    claim = self._claim(cname, pins)
                yield
            finally:
                depths[cname] -= 1
                if claim is not None:
                    self._release(cname, claim, pins)

    def _release(self, cname: ContainerName, claim: tuple[Any, Any, str],
                 pins: PinSources) -> None:
        pooled, obj, nonce = claim
        try:
            self._destroy(pooled, [obj])
        except Fail:
            self._withdraw(cname, nonce, pins)  # by its nonce, in a new search

    def _claim(self, cname: ContainerName, pins: PinSources) -> tuple[Any, Any, str]:
        """Take the container's claim (see the module docstring); returns
        (home, object, nonce)."""
        # Older claims win: the nonce starts with the time the first claim was
        # made, so a claimant keeps its place however often it withdraws.
        nonce = f"{time.time_ns():020d}-{os.urandom(8).hex()}"
        try:
            pooled, obj = self._contend(cname, nonce, pins)
        except BaseException:
            # However the contest ended (an error of the token, an interrupt),
            # a live process's claim must not stay behind: it would lock
            # everyone else out until this process ends.
            self._withdraw(cname, nonce, pins)
            raise
        return pooled, obj, nonce

    def _withdraw(self, cname: ContainerName, nonce: str, pins: PinSources) -> None:
        try:
            pooled, claims = self._find_records(_CLAIM, cname.lock_label, pins)
            self._destroy(pooled, [c.obj for c in claims if c.record.get("nonce") == nonce])
        except Fail:
            self._orphans.add(nonce)
            _log.warning("could not remove this process's claim on container %r", cname.name)

    def _contend(self, cname: ContainerName, nonce: str, pins: PinSources) -> tuple[Any, Any]:
        deadline = time.monotonic() + _LOCK_PATIENCE
        pause = 0.002
        mine: tuple[Any, Any] | None = None
        while True:
            if mine is None:
                self._create(_CLAIM, cname.lock_label, {"nonce": nonce, **Owner.me().to_json()},
                             pins)
                step("claim-created")
                mine = self._find_own_claim(cname, nonce, pins)
            pooled, claims = self._find_records(_CLAIM, cname.lock_label, pins)
            step("claims-read")
            others = [c for c in claims if c.record.get("nonce") != nonce]
            gone = [c for c in others
                    if _dead(c.record) or c.record.get("nonce") in self._orphans]
            live = [c for c in others if c not in gone]
            if gone:
                self._destroy(pooled, [c.obj for c in gone])
                self._orphans.difference_update(str(c.record.get("nonce")) for c in gone)
            if not live:
                return mine
            if time.monotonic() > deadline:
                raise Fail(
                    winerror.ERROR_BUSY,
                    f"key container {cname.name!r} stayed locked by another process for "
                    f"{_LOCK_PATIENCE:.0f} s",
                )
            if any(str(c.record.get("nonce")) < nonce for c in live):
                # An older claimant is waiting: withdraw, so that it gets in.
                self._destroy(mine[0], [mine[1]])
                mine = None
            time.sleep(pause * jitter())
            pause = min(pause * 2, 0.1)

    def _find_own_claim(self, cname: ContainerName, nonce: str,
                        pins: PinSources) -> tuple[Any, Any]:
        pooled, claims = self._find_records(_CLAIM, cname.lock_label, pins)
        for claim in claims:
            if claim.record.get("nonce") == nonce:
                return pooled, claim.obj
        raise Fail(winerror.NTE_FAIL, "the token lost the container's lock object just made")

    # ---- creating and deleting containers ---------------------------------------------------
    def exists(self, cname: ContainerName, pins: PinSources) -> bool:
        """Whether the container exists."""
        try:
            self._state(cname, pins)
        except Fail as exc:
            if exc.code == winerror.NTE_BAD_KEYSET:
                return False
            raise
        return True

    def create(self, cname: ContainerName, pins: PinSources) -> None:
        """``CRYPT_NEWKEYSET``: a new, empty container (``NTE_EXISTS`` if it exists)."""
        with self.locked(cname, pins):
            if self.exists(cname, pins):
                raise Fail(winerror.NTE_EXISTS, f"key container {cname.name!r} already exists")
            # Objects a crashed CRYPT_DELETEKEYSET left behind.
            self._tidy_all(cname, {}, pins)
            step("create-tidied")
            self._create(_APPLICATION, cname.label, _new_record(cname, 1, {}), pins)
            step("create-marker-written")

    def delete(self, cname: ContainerName, pins: PinSources) -> None:
        """``CRYPT_DELETEKEYSET``: the markers, then every object of the container."""
        with self.locked(cname, pins):
            pooled, markers = self._markers(cname, pins)
            if not markers:
                raise Fail(winerror.NTE_BAD_KEYSET, f"key container {cname.name!r} does not exist")
            # The markers first: from then on the container is gone, and what
            # is left is debris no marker names, tidied by whoever comes next.
            self._destroy(pooled, [m.obj for m in markers])
            step("delete-markers-destroyed")
            self._tidy_all(cname, {}, pins)
            step("delete-tidied")

    def names(self, scope: str | None, pins: PinSources) -> list[str]:
        """The names of the containers of ``scope`` on the token (every scope's
        for None), sorted."""
        _pooled, markers = self._lookup(_APPLICATION, None, pins)
        names = set()
        for _marker, raw in markers:
            try:
                record = _json().loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue  # not ours after all, or damaged: never listed, never touched
            if isinstance(record, dict) and scope in (None, record.get("scope")):
                names.add(str(record.get("name")))
        return sorted(names)

    # ---- key pairs --------------------------------------------------------------------------
    def find_pair(self, cname: ContainerName, spec: int, pins: PinSources) -> TokenKey | None:
        """The container's current key pair of ``spec`` (lock-free; a read that
        raced a replacement is read again)."""
        with self.token.store_locked():  # see _create: SoftHSM2 and threads
            return self._find_pair(cname, spec, pins)

    def _find_pair(self, cname: ContainerName, spec: int, pins: PinSources) -> TokenKey | None:
        label = cname.key_label(spec)
        for _ in range(READ_TRIES):
            generation = self._state(cname, pins)["keys"].get(str(spec))
            if generation is None:
                return None
            ident = cname.key_id(spec, generation)
            home, (private, public, cert) = self.token.find(
                [{Attribute.CLASS: cls, Attribute.LABEL: label, Attribute.ID: ident,
                  Attribute.TOKEN: True}
                 for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY,
                             ObjectClass.CERTIFICATE)],
                pins,
            )
            if len(private) == 1 and len(public) == 1 and len(cert) <= 1:
                key = TokenKey(self.token, home, private[0], public[0], token_object=True)
                key.certificate = cert[0] if cert else None
                key.stored_as = (label, ident)
                return key
            if len(private) > 1 or len(public) > 1 or len(cert) > 1:
                raise Fail(
                    winerror.NTE_FAIL,
                    f"{label!r}: {len(private)} private keys, {len(public)} public keys and "
                    f"{len(cert)} certificates of one generation; csp11 will not guess",
                )
            # Replaced or deleted meanwhile: read the container again.
        raise Fail(winerror.NTE_FAIL, f"{label!r}: the key pair the container names is missing")

    def intend(self, cname: ContainerName, spec: int, generation: int, pins: PinSources) -> None:
        """Announce that ``generation`` of ``spec`` is being made (before making it)."""
        self._create(_INTENT, cname.intent_label(spec),
                     {"generation": generation, **Owner.me().to_json()}, pins)
        step("intent-created")

    def commit(self, cname: ContainerName, spec: int, generation: int, pins: PinSources) -> None:
        """Make ``generation`` the container's key pair of ``spec``; drop the old one.

        Under the lock: the container must still exist (``NTE_BAD_KEYSET``)
        and the new pair be complete; the switch is the creation of one new
        marker; the old markers, the intent and the old pair go after it.
        """
        with self.locked(cname, pins):
            pooled, markers = self._markers(cname, pins)
            if not markers:
                raise Fail(winerror.NTE_BAD_KEYSET,
                           f"key container {cname.name!r} was deleted meanwhile")
            ident = cname.key_id(spec, generation)
            _home, found = self.token.find(
                [{Attribute.CLASS: cls, Attribute.ID: ident, Attribute.TOKEN: True}
                 for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)], pins
            )
            if [len(group) for group in found] != [1, 1]:
                raise Fail(winerror.NTE_FAIL, "the new key pair is not complete on the token")
            record = markers[-1].record
            keys = dict(record["keys"], **{str(spec): generation})
            self._create(_APPLICATION, cname.label,
                         _new_record(cname, int(record["seq"]) + 1, keys), pins)
            step("commit-marker-written")
            # The switch is made: what follows is tidying, and a failure of it
            # (a faulty token) must not make the caller abandon the pair the
            # new marker names.  Whoever comes next finishes it (tidy()).
            try:
                self._destroy(pooled, [m.obj for m in markers])
                step("commit-old-markers-destroyed")
                self._drop_intent(cname, spec, generation, pins)
                self._tidy_all(cname, keys, pins)
            except Fail as exc:
                # The switch is made; tidying up is done by whoever comes next,
                # the intent included (this process no longer needs it).
                self._orphans.add(f"intent:{cname.intent_label(spec)}:{generation}")
                _log.warning("tidying container %r after a new key: %s", cname.name,
                             exc.message)

    def abandon(self, cname: ContainerName, spec: int, generation: int,
                pins: PinSources) -> None:
        """Remove a generation that will not be committed, and its intent."""
        # Dead from now on, whether or not the removal below gets through a
        # faulty token: the next tidy-up of this process removes the rest.
        orphan = f"intent:{cname.intent_label(spec)}:{generation}"
        self._orphans.add(orphan)
        ident = cname.key_id(spec, generation)
        home, found = self.token.find(
            [{Attribute.CLASS: cls, Attribute.ID: ident, Attribute.TOKEN: True}
             for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY,
                         ObjectClass.CERTIFICATE)], pins
        )
        self._destroy(home, [o for group in found for o in group])
        self._drop_intent(cname, spec, generation, pins)
        self._orphans.discard(orphan)

    def _drop_intent(self, cname: ContainerName, spec: int, generation: int,
                     pins: PinSources) -> None:
        try:
            pooled, intents = self._find_records(_INTENT, cname.intent_label(spec), pins)
            self._destroy(pooled, [i.obj for i in intents
                                   if i.record.get("generation") == generation])
        except Fail:
            # Left on the token by a fault: dead from now on (see _orphans).
            self._orphans.add(f"intent:{cname.intent_label(spec)}:{generation}")
            raise

    def tidy(self, cname: ContainerName, pins: PinSources) -> None:
        """Check that the container exists (``NTE_BAD_KEYSET``) and remove debris of
        crashed changes from it: objects of generations no marker names and no
        live intent announces, dead claims and intents.

        First without the lock (which costs a token object made and destroyed):
        a container found clean needs nothing (:meth:`_clean`)."""
        if self._clean(cname, pins):
            return
        with self.locked(cname, pins):
            pooled, markers = self._markers(cname, pins)
            if not markers:
                raise Fail(winerror.NTE_BAD_KEYSET,
                           f"key container {cname.name!r} does not exist")
            if len(markers) > 1 and markers[-2].record["seq"] == markers[-1].record["seq"]:
                self._repair(cname, pins)
                pooled, markers = self._markers(cname, pins)
            # Older markers: a writer died between its commit and removing them.
            self._destroy(pooled, [m.obj for m in markers[:-1]])
            self._tidy_all(cname, markers[-1].record["keys"], pins)

    def _clean(self, cname: ContainerName, pins: PinSources) -> bool:
        """Whether the container is free of debris, read without the lock:
        one marker, no claim, no intent, and every key object of the container
        of the generation that marker names.  ``NTE_BAD_KEYSET`` if it does
        not exist.

        Only a "yes" skips the tidy-up, and it is safe: debris (what a crashed
        change leaves) stays until someone removes it, so it would be seen by
        these reads; a change another process makes meanwhile shows as a
        claim, an intent, a second marker or a key of another generation, and
        any of them sends the caller to the tidy-up under the lock.
        """
        if cname.found or self._orphans:
            return False
        _pooled, markers = self._markers(cname, pins)
        if not markers:
            raise Fail(winerror.NTE_BAD_KEYSET, f"key container {cname.name!r} does not exist")
        if len(markers) != 1:
            return False
        _pooled, claims = self._find_records(_CLAIM, cname.lock_label, pins)
        if claims:
            return False
        keys = markers[0].record["keys"]
        for spec in SPEC_NAMES:
            _pooled, intents = self._find_records(_INTENT, cname.intent_label(spec), pins)
            if intents:
                return False
            current = keys.get(str(spec))
            expected = cname.key_id(spec, current) if isinstance(current, int) else None
            home, objects = self._key_objects(cname, spec, pins)
            if any(_object_id(self.token, home, o) != expected for o in objects):
                return False
        return True

    def new_generation(self) -> int:
        """A fresh generation number for a new key pair (random: never reused in practice)."""
        return int.from_bytes(os.urandom(4), "big")

    # ---- repair -----------------------------------------------------------------------------
    def _repair(self, cname: ContainerName, pins: PinSources) -> None:
        """Under the lock: leave one newest marker (debris of an older csp11 that
        wrote two of one sequence number).  The one whose pairs exist wins; among
        equals the record that sorts first, so every process picks the same."""
        pooled, markers = self._markers(cname, pins)
        if len(markers) < 2 or markers[-2].record["seq"] != markers[-1].record["seq"]:
            return
        top = markers[-1].record["seq"]
        tied = [m for m in markers if m.record["seq"] == top]
        tied.sort(key=lambda m: (not self._complete(cname, m.record, pins),
                                 _order_key(m.record)))
        self._destroy(pooled, [m.obj for m in markers if m is not tied[0]])
        self._tidy_all(cname, tied[0].record["keys"], pins)

    def _complete(self, cname: ContainerName, record: dict[str, Any], pins: PinSources) -> bool:
        for spec_text, generation in record["keys"].items():
            ident = cname.key_id(int(spec_text), generation)
            _home, found = self.token.find(
                [{Attribute.CLASS: cls, Attribute.ID: ident, Attribute.TOKEN: True}
                 for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)], pins
            )
            if [len(group) for group in found] != [1, 1]:
                return False
        return True

    def _key_objects(self, cname: ContainerName, spec: int,
                     pins: PinSources) -> tuple[Any, list[Any]]:
        """Every key object and certificate of the container's ``spec``, of any
        generation (with the session they were found in)."""
        home, groups = self.token.find(
            [{Attribute.CLASS: cls, Attribute.LABEL: cname.key_label(spec), Attribute.TOKEN: True}
             for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY,
                         ObjectClass.CERTIFICATE)], pins
        )
        return home, [o for group in groups for o in group]

    def _tidy_all(self, cname: ContainerName, keys: dict[str, int], pins: PinSources) -> None:
        """Remove every key object of the container that ``keys`` does not name and
        no live intent announces; remove dead intents."""
        for spec in SPEC_NAMES:
            pooled, intents = self._find_records(_INTENT, cname.intent_label(spec), pins)
            orphans = {f"intent:{cname.intent_label(spec)}:{i.record.get('generation')}"
                       for i in intents}
            dead = [i for i in intents if _dead(i.record) or
                    f"intent:{cname.intent_label(spec)}:{i.record.get('generation')}"
                    in self._orphans]
            pending = {i.record.get("generation") for i in intents if i not in dead}
            current = keys.get(str(spec))
            keep = {cname.key_id(spec, g) for g in (current, *pending) if isinstance(g, int)}
            home, objects = self._key_objects(cname, spec, pins)
            stale = [o for o in objects if _object_id(self.token, home, o) not in keep]
            self._destroy(home, stale)
            self._destroy(pooled, [i.obj for i in dead])
            self._orphans.difference_update(orphans)

    # ---- object primitives ------------------------------------------------------------------
    # Token-object writes hold the token's store lock (a process-wide lock,
    # and on the embedded token a file lock): SoftHSM2 answers
    # CKR_GENERAL_ERROR to two threads of one process writing token objects at
    # once (its file locks are per process).
    def _create(self, application: str, label: str, record: dict[str, Any],
                pins: PinSources) -> None:
        with self.token.store_locked():
            self._create_now(application, label, record, pins)

    def _create_now(self, application: str, label: str, record: dict[str, Any],
                    pins: PinSources) -> None:
        model = token_model(self.token)
        name, settled = model.records()
        value = _json().dumps(record, sort_keys=True).encode()
        refused = self._try_create(CARRIERS[name], application, label, value, pins)
        if refused is None:
            if not settled:
                model.settle_records(name, "the token took a data object")
            return
        if not settled:
            # A token the quirk table does not name, refusing data objects:
            # records go to secret keys from now on, where every other
            # process's search finds them (_lookup).
            _settle_on_keys(model, refused)
            refused = self._try_create(SECRET_KEYS, application, label, value, pins)
            if refused is None:
                return
            name = SECRET_KEYS.name
        # The token takes neither carrier: a container cannot exist there,
        # which is no bad parameter of the caller's.  The first record
        # written is the lock's claim, so a refusal leaves nothing behind (and
        # a claim already made is destroyed when the lock is released).
        raise Fail(
            winerror.NTE_NOT_SUPPORTED,
            f"token {self.token.label!r} cannot keep csp11 key containers: it refuses "
            f"their records, private {name}",
            ckr=refused,
        )

    def _try_create(self, carrier: Carrier, application: str, label: str, value: bytes,
                    pins: PinSources) -> str | None:
        """Create one record; the CKR name if the token refuses that kind of object."""
        try:
            self.token.create_object(carrier.template(application, label, value), pins)
        except Fail as exc:
            if exc.ckr == "CKR_TOKEN_WRITE_PROTECTED":
                # NSS Generic Crypto Services: CRYPT_DELETEKEYSET takes the
                # lock (a record) before it can find that there is nothing.
                raise _write_protected(self.token) from None
            if exc.ckr not in _RECORD_REFUSED:
                raise
            return exc.ckr
        return None

    def check_writable(self) -> None:
        """``NTE_NOT_SUPPORTED`` if the token says it is write-protected.

        Such a token (NSS softokn's Generic Crypto Services) makes no token
        objects and often has no user to log in: ``CRYPT_NEWKEYSET`` checks
        this before logging in, so the caller hears why rather than a login
        failure or a PIN request for a token that has no PIN.
        """
        if self.token.info().flags & CKF_WRITE_PROTECTED:
            raise _write_protected(self.token)

    def _destroy(self, pooled: Any, objects: list[Any]) -> None:
        if objects:
            with self.token.store_locked():
                self.token.destroy_objects(pooled, objects)


def _new_record(cname: ContainerName, seq: int, keys: dict[str, int]) -> dict[str, Any]:
    return {"version": _MARKER_VERSION, "seq": seq, "scope": cname.scope, "name": cname.name,
            "keys": keys, "writer": os.urandom(8).hex()}


def _order_key(record: dict[str, Any]) -> str:
    key: str = _json().dumps(record, sort_keys=True)
    return key


def _dead(record: dict[str, Any]) -> bool:
    """Whether a claim's or intent's owner is gone (damaged records count as dead:
    they can only be debris)."""
    try:
        return Owner.from_json(record).dead()
    except (KeyError, TypeError, ValueError):
        return True


def _attribute_of(token: Token, home: Any, obj: Any, attr: Any) -> bytes | None:
    """One byte-valued attribute of an object; None if it was destroyed since
    it was found (another process's writer)."""
    try:
        return bytes(token.run_on(home, "C_GetAttributeValue", lambda s: obj[attr]))
    except Fail as exc:
        if exc.ckr in OBJECT_GONE:
            return None
        raise


def _write_protected(token: Token) -> Fail:
    return Fail(
        winerror.NTE_NOT_SUPPORTED,
        f"token {token.label!r} cannot keep csp11 key containers: it is write-protected and "
        "makes no token objects",
    )


def _settle_on_keys(model: TokenModel, refused: str) -> None:
    _log.info("token %r refuses data objects (%s): container records go to secret keys",
              model.token.label, refused)
    model.settle_records(RECORDS_IN_KEYS, f"the token refused a data object ({refused})")


def _object_id(token: Token, home: Any, obj: Any) -> bytes | None:
    """An object's CKA_ID (None: gone)."""
    return _attribute_of(token, home, obj, Attribute.ID)


_registry: dict[Token, Containers] = {}
_registry_lock = ChildSafeLock(_registry.clear)  # a child forgets the parent's tokens


@on_token_unloaded
def _forget(token: Token) -> None:
    with _registry_lock:
        _registry.pop(token, None)


def containers_of(token: Token) -> Containers:
    """The :class:`Containers` of a token (one per token per process)."""
    with _registry_lock:
        found = _registry.get(token)
        if found is None:
            found = _registry[token] = Containers(token)
        return found
