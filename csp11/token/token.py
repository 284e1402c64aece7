"""One token: what it says about itself, its login state, and the calls that
run on its pooled sessions (random, key generation and import, object search,
one-shot digests).

Return codes are translated once, here and in the modules beside it, into
:class:`csp11.errors.Fail` by the table in :mod:`csp11.errors`.  A session
that the token lost is reopened (and the token logged in again) and the call
retried once.  Login is token-wide per process: one ``C_Login`` on a pooled
session, through csp11's ctypes binding (:mod:`csp11.token.cryptoki`).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from csp11 import winerror
from csp11.errors import Fail, fail_from_ckr
from csp11.logs import log as _log
from csp11.structs import Struct
from csp11.token import fastpath
from csp11.token.ckr import OBJECT_GONE, _ckr_name, ckr_of
from csp11.token.constants import (
    _NO_CAPABILITIES,
    CKF_LOGIN_REQUIRED,
    CKF_PROTECTED_AUTHENTICATION_PATH,
    CKF_USER_PIN_COUNT_LOW,
    CKF_USER_PIN_FINAL_TRY,
    CKF_USER_PIN_INITIALIZED,
    CKF_USER_PIN_LOCKED,
    CKR_OK,
    CKR_USER_ALREADY_LOGGED_IN,
    CKS_RO_USER_FUNCTIONS,
    CKS_RW_USER_FUNCTIONS,
    CKU_USER,
    Attribute,
    KeyType,
    ObjectClass,
)
from csp11.token.cryptoki import Library, SlotFacts, TokenFacts, _Cryptoki
from csp11.token.forkgate import generation, library_call
from csp11.token.keyobject import TokenKey
from csp11.token.openssl import _load_openssl_legacy
from csp11.token.operation import Operation
from csp11.token.pins import PinRequest, PinSources
from csp11.token.pypkcs11 import as_key_type, as_mechanism, pkcs11
from csp11.token.quirks import Quirks, quirks_for
from csp11.token.session import BUSY_PAUSES, SESSION_LOST, SessionPool, _Pooled, jitter
from csp11.token.softhsm import (
    generation_files,
    store_file_lock,
    store_lock_path,
    touch_generations,
)
from csp11.token.template import check_template

_GATE = library_call()  # the same gate every call returns
_T = TypeVar("_T")


# Token quirk "token-info-races-other-processes": SoftHSM2's file store
# rewrites the token file when another process logs in, and a C_GetTokenInfo
# that reads it meanwhile fails with CKR_GENERAL_ERROR (seen in 1 of ~20
# concurrent first uses).  Reading token info is idempotent, so it is retried
# briefly on any token.
_TRANSIENT_TOKEN_INFO = frozenset({"CKR_GENERAL_ERROR", "CKR_FUNCTION_FAILED"})
_TOKEN_INFO_TRIES = 8



class TokenInfo(Struct):
    """What the token says about itself (``C_GetTokenInfo``/``C_GetSlotInfo``)."""

    label: str
    serial: str
    manufacturer: str
    model: str
    flags: int
    slot_id: int
    slot_description: str
    slot_flags: int
    hardware_version: tuple[int, int]
    firmware_version: tuple[int, int]
    library_description: str
    library_manufacturer: str
    library_version: tuple[int, int]
    module_path: str


class MechanismInfo(Struct):
    """``C_GetMechanismInfo``: key sizes (bits or bytes, as the mechanism defines) and flags."""

    mechanism: int
    min_key_size: int
    max_key_size: int
    flags: int


# What C_GetTokenInfo answers for a slot with no usable token.
_NO_TOKEN = frozenset({"CKR_TOKEN_NOT_PRESENT", "CKR_TOKEN_NOT_RECOGNIZED"})


def _token_info_of(ck: _Cryptoki, slot_id: int) -> TokenFacts | None:
    """``C_GetTokenInfo`` of a slot (``None``: no usable token), retried when transient."""
    for attempt in range(_TOKEN_INFO_TRIES):
        rv, tok = ck.token_info(slot_id)
        if tok is not None:
            return tok
        ckr = _ckr_name(rv)
        if ckr in _NO_TOKEN:
            return None
        if ckr not in _TRANSIENT_TOKEN_INFO or attempt == _TOKEN_INFO_TRIES - 1:
            raise fail_from_ckr(ckr, "C_GetTokenInfo")
        time.sleep(0.005 * (attempt + 1))
    return None  # pragma: no cover - the loop returns or raises


_FIND_TRIES = 20
# An object found by Token.survey and the attributes read from it.
_Surveyed = tuple[Any, dict[Any, Any]]
_LOGIN_TRIES = 6  # about 0.6 s of back-off in all
_TRANSIENT_LOGIN = frozenset({
    "CKR_GENERAL_ERROR", "CKR_USER_PIN_NOT_INITIALIZED", "CKR_DEVICE_ERROR",
    "CKR_SESSION_COUNT", "CKR_TOKEN_NOT_PRESENT",
})


# A token object that csp11 never destroys, made before its first token object
# on a token with the quirk ``handle_anchor`` (private: tpm2-pkcs11 refuses
# public data objects).
ANCHOR: Mapping[Any, object] = {
    Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True, Attribute.PRIVATE: True,
    Attribute.APPLICATION: "csp11-anchor", Attribute.LABEL: "csp11 anchor",
    Attribute.VALUE: b"keeps this token's lowest object handle in use (tpm2-pkcs11 #931)",
}

_ANCHOR_SEARCH: Mapping[Any, object] = {
    Attribute.CLASS: ObjectClass.DATA, Attribute.APPLICATION: "csp11-anchor",
}


class Token(SessionPool):
    """One token: its session pool and its (process-wide) login state."""

    def __init__(self, module: Library, slot: SlotFacts, tok: TokenFacts) -> None:
        super().__init__(module, slot.slot_id, tok.label)
        self.slot_id: int = slot.slot_id
        self._slot = slot
        self.label: str = tok.label
        self.serial: str = tok.serial.decode("ascii", "replace").strip()
        self.quirks: Quirks = quirks_for(tok.manufacturer_id, tok.model,
                                         module.cryptoki.library_info().manufacturer_id)
        if self.quirks.openssl_legacy_des:
            _load_openssl_legacy()
        self._login_lock = threading.Lock()
        self._logged_in = False
        self._anchored = not self.quirks.handle_anchor
        if self.quirks.store_busy_fails:
            self.busy_pauses = BUSY_PAUSES
        self._mechanisms: dict[int, MechanismInfo] | None = None
        # Keys whose last CryptoAPI handle was garbage-collected: released at
        # the next token call, never from inside a finalizer (which could run
        # while this thread holds a session lock).
        self._graveyard: collections.deque[Callable[[], None]] = collections.deque()
        # A lock file shared with other processes using the same token store
        # (set for the embedded token, see _store_locked).
        self.store_lock: str | None = None
        self._store_rlock = threading.RLock()
        # The store's generation files, bumped after csp11's token-object
        # writes where the token loses other processes' objects otherwise
        # (quirk generation_lost_update, csp11.token.softhsm).
        # How many times this process created or destroyed token objects.
        self.object_writes = 0
        self._generations = (
            generation_files(module.env) if self.quirks.generation_lost_update else []
        )
        if self._generations:
            # The same store lock the embedded token uses, for a SoftHSM2 store
            # named by URI too: see csp11.token.softhsm.store_lock_path.
            self.store_lock = store_lock_path(module.env)

    def __repr__(self) -> str:
        return f"<csp11 Token {self.label!r} serial={self.serial!r} slot={self.slot_id}>"


    # ---- facts -----------------------------------------------------------
    def info(self) -> TokenInfo:
        """Fresh token and slot information (flags change: PIN counters, login)."""
        # Under the store lock: SoftHSM2 may re-read its store here, and a read
        # that meets another process's rewrite leaves its view of the token
        # broken for the rest of the process (every C_Login: CKR_GENERAL_ERROR).
        with self.store_locked():
            tok = _token_info_of(self.module.cryptoki, self.slot_id)
        if tok is None:
            raise Fail(winerror.SCARD_W_REMOVED_CARD, f"token {self.label!r} is gone")
        lib = self.module.cryptoki.library_info()
        return TokenInfo(
            label=tok.label,
            serial=self.serial,
            manufacturer=tok.manufacturer_id,
            model=tok.model,
            flags=int(tok.flags),
            slot_id=self.slot_id,
            slot_description=self._slot.slot_description,
            slot_flags=self._slot.flags,
            hardware_version=tok.hardware_version,
            firmware_version=tok.firmware_version,
            library_description=lib.library_description,
            library_manufacturer=lib.manufacturer_id,
            library_version=lib.library_version,
            module_path=self.module.path,
        )

    def mechanisms(self) -> dict[int, MechanismInfo]:
        """The token's mechanisms and their ``C_GetMechanismInfo``, read once."""
        if self._mechanisms is None:
            found: dict[int, MechanismInfo] = {}
            for mech in self.module.cryptoki.mechanism_list(self.slot_id):
                # csp11's own binding, not python-pkcs11's get_mechanism_info:
                # that passes an uninitialised CK_MECHANISM_INFO, and SoftHSM2
                # ORs some flags into it (see _Cryptoki.mechanism_info).
                rv, (low, high, flags) = self.module.cryptoki.mechanism_info(
                    self.slot_id, int(mech)
                )
                if rv != CKR_OK:
                    # p11-kit's RPC lists mechanisms it cannot carry and then
                    # answers CKR_MECHANISM_INVALID for them: not available here.
                    if _ckr_name(rv) == "CKR_MECHANISM_INVALID":
                        continue
                    raise fail_from_ckr(_ckr_name(rv), "C_GetMechanismInfo")
                found[int(mech)] = MechanismInfo(int(mech), low, high, flags)
            self._mechanisms = found
        return self._mechanisms


    # ---- calls on the pool (operations, retries, deferred releases) -------
    def operation(self, kind: str, mechanism: Any, key: Any | None = None,
                  param: bytes | None = None) -> Operation:
        """Start a multi-part digest (``kind="digest"``) or MAC (``"sign"``) on a
        session of its own, kept until the operation finishes."""
        with self._pool_lock:
            pooled = self._op_idle.pop() if self._op_idle else None
        if pooled is None:
            pooled = self._open()
        op = Operation(self, pooled, kind)
        try:
            op.start(int(mechanism), None if key is None else key.handle, param)
        except BaseException:
            self.end_operation(pooled)
            raise
        return op


    def run(self, doing: str, fn: Callable[[Any], _T], pins: PinSources | None = None) -> _T:
        """Run ``fn(session)`` on a pooled session, translating failures.

        ``doing`` names the PKCS#11 call for messages.  A session the token
        lost is replaced and the call retried once; so is a call that met
        ``CKR_USER_NOT_LOGGED_IN`` when ``pins`` can log in (someone logged
        the token out, or the token wants a login csp11 did not expect).  On
        a token whose store another process may hold (quirk
        ``store_busy_fails``), ``CKR_GENERAL_ERROR`` is tried again after the
        pauses of :data:`csp11.token.session.BUSY_PAUSES`.
        """
        # run_keep's first attempt, inline (every hot call passes here); a
        # failure goes on in _run_pooled as if it had met it there.
        pooled = self._begin()
        try:
            with _GATE:
                result = fn(pooled)
        except pkcs11.exceptions.PKCS11Error as exc:
            failed = [exc]

            def again(s: Any) -> _T:
                if failed:  # the attempt above: its failure, handled as ever
                    raise failed.pop()
                return fn(s)

            return self._run_pooled(pooled, doing, again, pins)[1]
        except BaseException:
            self.release(pooled)
            raise
        self.release(pooled)
        return result

    def _begin(self) -> _Pooled:
        """What every call does first: refuse to work after fork(), release
        the keys dropped since the last call, and take a pooled session."""
        if self._generation != generation():
            self.check_generation()
        if self._graveyard:
            self._drain_graveyard()
        return self.acquire()

    def run_keep(
        self, doing: str, fn: Callable[[Any], _T], pins: PinSources | None = None
    ) -> tuple[_Pooled, _T]:
        """:meth:`run`, also returning the session used.

        Objects made by ``fn`` are bound to that session (python-pkcs11 ties
        an object to the session that found or made it); keys keep it as
        their home session and use it through :meth:`run_on`.
        """
        self.check_generation()
        if self._graveyard:
            self._drain_graveyard()
        return self._run_pooled(self.acquire(), doing, fn, pins)

    def _run_pooled(
        self, acquired: _Pooled, doing: str, fn: Callable[[Any], _T], pins: PinSources | None
    ) -> tuple[_Pooled, _T]:
        """:meth:`run_keep` on a session already acquired (given back here)."""
        pooled: _Pooled | None = acquired
        busy: Iterator[float] | None = None  # made on the first failure only (hot path)
        try:
            attempt = 0
            while True:
                assert pooled is not None
                try:
                    with library_call():
                        return pooled, fn(pooled)
                except pkcs11.exceptions.PKCS11Error as exc:
                    ckr = ckr_of(exc)
                    if busy is None:
                        busy = iter(self.busy_pauses)
                    if self.waited_for_store(busy, ckr, doing):
                        continue
                    # Logging in again happens holding no session: login takes
                    # the store lock, which container changes take before a
                    # key's session (one lock order everywhere).
                    if attempt == 0 and ckr in SESSION_LOST:
                        _log.info("token %r lost a session; reopening", self.label)
                        self._discard(pooled)
                        pooled.lock.release()
                        pooled = None  # nothing to give back if reopening fails
                        if self._logged_in:
                            self._logged_in = False
                            if pins is not None:
                                self.login(pins, None)
                        pooled = self._open()
                        pooled.lock.acquire()
                        attempt += 1
                        continue
                    if attempt == 0 and ckr == "CKR_USER_NOT_LOGGED_IN" and pins is not None:
                        self._logged_in = False
                        self.release(pooled)
                        pooled = None
                        self.login(pins, None)
                        pooled = self.acquire()
                        attempt += 1
                        continue
                    raise fail_from_ckr(ckr, doing) from None
        finally:
            if pooled is not None:
                self.release(pooled)

    def drain(self) -> None:
        """Release now the keys whose handles were garbage-collected (they wait
        for the next token call; csp11 calls this at exit where they are
        token objects that must not outlive the process)."""
        self._drain_graveyard()

    def _drain_graveyard(self) -> None:
        # Keys whose handles were garbage-collected.  A failure here (e.g. a
        # private session key after someone logged the token out) must not
        # fail the unrelated call that happens to drain: log it and go on.
        while self._graveyard:
            release = self._graveyard.popleft()
            try:
                release()
            except Fail as exc:
                _log.warning("could not release a dropped key or hash: %s", exc.message)


    # ---- login -----------------------------------------------------------
    def is_logged_in(self) -> bool:
        """Whether the token is logged in for this process (asks the token).

        An idle session the token lost (all of them, after the token was
        removed and put back) is dropped and the next one asked; a new
        session answers at last.
        """
        while True:
            pooled = self.acquire()
            try:
                state = self.module.cryptoki.session_state(pooled.handle)
            except Fail as exc:
                if exc.ckr not in SESSION_LOST:
                    raise
                self._discard(pooled)
                continue
            finally:
                self.release(pooled)
            self._logged_in = state in (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS)
            return self._logged_in

    def ensure_login(self, pins: PinSources, container: str | None) -> None:
        """Log in unless csp11 already did; cheap when logged in."""
        if not self._logged_in:
            self.login(pins, container)

    def login(self, pins: PinSources, container: str | None) -> None:
        """Log the token in for this process (``C_Login(CKU_USER)``).

        Fails without trying when the token reports the PIN locked.  A wrong
        PIN gives ``SCARD_W_WRONG_CHV`` with the token's retry state in the
        message.  The PIN is used for this call only and not kept.  The PIN
        is obtained (perhaps from a person) before any lock is taken; the
        store lock is taken before the login lock, the order container
        changes use too.
        """
        if self.is_logged_in():
            return
        info = self.info()
        if not info.flags & (CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED):
            # A token with no user at all (NSS's Generic Crypto Services answers
            # C_Login with CKR_USER_TYPE_INVALID): its public objects and
            # mechanisms are all there is, so there is nothing to log in to.
            return
        if info.flags & CKF_USER_PIN_LOCKED:
            raise Fail(
                winerror.SCARD_W_CHV_BLOCKED,
                f"the PIN of token {self.label!r} is locked; no attempt made",
                ckr="CKR_PIN_LOCKED",
            )
        protected = bool(info.flags & CKF_PROTECTED_AUTHENTICATION_PATH)
        request = PinRequest(
            self.label, container, "login", protected_path=protected,
            final_try=bool(info.flags & CKF_USER_PIN_FINAL_TRY),
        )
        pin: str | None
        if protected:
            # A PIN pad: tell the user (through the prompt) to use it.
            pins.prompt(request)
            pin = None
        else:
            pin = pins.get(request)
        try:
            for attempt in range(_LOGIN_TRIES):
                with self.store_locked(), self._login_lock:
                    if self.is_logged_in():
                        return  # another thread logged in meanwhile
                    pooled = self.acquire()
                    try:
                        rv = self.module.cryptoki.login(pooled.handle, CKU_USER, pin)
                    finally:
                        self.release(pooled)
                if _ckr_name(rv) not in _TRANSIENT_LOGIN or attempt == _LOGIN_TRIES - 1:
                    break
                # A token whose files another process is rewriting answers
                # these for a moment (TOKEN-FACTS: about 5% of 240 concurrent
                # starts): wait a little, with jitter, and try again.  A wrong
                # PIN is never retried.
                time.sleep(0.01 * (2 ** attempt) * jitter())
        finally:
            del pin
        if rv not in (CKR_OK, CKR_USER_ALREADY_LOGGED_IN):
            raise self._login_failure(rv)
        self._logged_in = True
        _log.info("logged in to token %r", self.label)

    @contextlib.contextmanager
    def store_locked(self) -> Iterator[None]:
        """Hold the token's store lock (re-entrant within the process).

        SoftHSM2 rewrites its token file on C_Login; another process that
        initialises the library meanwhile misses the token for its whole life
        (measured: 4 of 25 races of four first uses).  Where csp11 owns the
        store (the embedded token) logins, container changes and first use
        take this lock, across processes (flock on a file in the store).
        """
        with self._store_rlock, store_file_lock(self.store_lock):
            yield

    def _login_failure(self, rv: int) -> Fail:
        ckr = _ckr_name(rv)
        failure = fail_from_ckr(ckr, f"login to token {self.label!r}")
        if ckr == "CKR_PIN_INCORRECT":
            flags = self.info().flags
            state = (
                "the PIN is now locked" if flags & CKF_USER_PIN_LOCKED
                else "one try left before the PIN locks" if flags & CKF_USER_PIN_FINAL_TRY
                else "the token reports few tries left" if flags & CKF_USER_PIN_COUNT_LOW
                else "the token reports no retry limit reached"
            )
            failure = Fail(
                failure.code, f"wrong PIN for token {self.label!r} ({state})", ckr=ckr
            )
        _log.warning("login to token %r failed: %s", self.label, ckr)
        return failure

    def logout(self) -> None:
        """``C_Logout``: ends the login of every session of this process."""
        with self._login_lock:
            pooled = self.acquire()
            try:
                self.module.cryptoki.C_Logout(pooled.handle)
            finally:
                self.release(pooled)
            self._logged_in = False

    # ---- operations --------------------------------------------------------
    def generate_random(self, length: int) -> bytes:
        """``C_GenerateRandom`` of ``length`` bytes."""
        if length == 0:
            return b""
        # python-pkcs11 counts bits (TOKEN-FACTS, pitfall 7).
        ck = self.module.cryptoki
        data: bytes = self.run("C_GenerateRandom", lambda s: fastpath.random(ck, s.handle, length))
        return data

    def seed_random(self, seed: bytes) -> None:
        """``C_SeedRandom``; tokens without it (most HSMs) say so and it is skipped."""
        try:
            self.run("C_SeedRandom", lambda s: s.seed_random(seed))
        except Fail as exc:
            if exc.ckr not in ("CKR_RANDOM_SEED_NOT_SUPPORTED", "CKR_FUNCTION_NOT_SUPPORTED"):
                raise


    # ---- keys ------------------------------------------------------------------
    def generate_key(
        self,
        key_type: Any,
        key_bits: int,
        *,
        mechanism: Any,
        template: Mapping[Any, object],
        pins: PinSources | None,
    ) -> TokenKey:
        """``C_GenerateKey`` with ``template`` as given (checked first).

        ``key_bits`` becomes ``CKA_VALUE_LEN`` unless the template says
        otherwise (``DEFAULT`` removes it, as DES key generation needs).
        """
        check_template(template)
        stored = bool(template.get(Attribute.TOKEN))
        ck = self.module.cryptoki
        if stored:
            self._anchor(pins)
        else:
            quick = fastpath.quick_generation(ck, key_type, key_bits, mechanism, template)
            if quick is not None:
                return self._generate_quick(quick, pins)
        pooled, obj = self.run_keep(
            "C_GenerateKey",
            lambda s: fastpath.generate_handle(ck, s, key_type, key_bits, mechanism=mechanism,
                                               template=template),
            pins,
        )
        return TokenKey(self, pooled, obj, None, token_object=stored)

    def _generate_quick(self, quick: fastpath.Quick, pins: PinSources | None) -> TokenKey:
        """A session's secret key: :meth:`run_keep` with one ``C_GenerateKey``
        on a packed template, inline (the AES key generation hot path); a
        failure goes on in :meth:`_run_pooled` as if it had met it there."""
        pooled = self._begin()
        try:
            with _GATE:
                rv = quick.call(pooled.handle_arg, pooled.handle_out)
        except BaseException:
            self.release(pooled)
            raise
        if rv == CKR_OK:
            made = (pooled.new_handle.value, quick.capabilities)
            self.release(pooled)
            return TokenKey(self, pooled, made, None, token_object=False)
        failed = [rv]
        ck = self.module.cryptoki

        def again(s: Any) -> Any:
            if failed:  # the call that failed above: its failure, handled as ever
                fastpath.raise_for(failed.pop())
            return fastpath.generate_handle(ck, s, quick.key_type, quick.key_bits,
                                            mechanism=quick.mechanism, template=quick.template)

        pooled, obj = self._run_pooled(pooled, "C_GenerateKey", again, pins)
        return TokenKey(self, pooled, obj, None, token_object=False)

    def generate_key_pair(
        self,
        key_type: Any,
        key_bits: int,
        *,
        mechanism: Any,
        public: Mapping[Any, object],
        private: Mapping[Any, object],
        pins: PinSources | None,
    ) -> TokenKey:
        """``C_GenerateKeyPair``; domain parameters (DSA, DH) go in ``public``."""
        check_template(public)
        check_template(private)
        if private.get(Attribute.TOKEN) or public.get(Attribute.TOKEN):
            self._anchor(pins)
        if key_type in (KeyType.DSA, KeyType.DH):
            names = (Attribute.PRIME, Attribute.SUBPRIME, Attribute.BASE)
            domain = {k: v for k, v in public.items() if k in names}
            rest = {k: v for k, v in public.items() if k not in names}

            def make(s: Any) -> Any:
                params = s.create_domain_parameters(as_key_type(key_type), domain, local=True)
                return params.generate_keypair(
                    mechanism=as_mechanism(mechanism), capabilities=_NO_CAPABILITIES,
                    public_template=rest, private_template=private,
                )
        else:
            def make(s: Any) -> Any:
                return s.generate_keypair(
                    as_key_type(key_type), key_bits, mechanism=as_mechanism(mechanism),
                    capabilities=_NO_CAPABILITIES,
                    public_template=public, private_template=private,
                )
        pooled, (pub, priv) = self.run_keep("C_GenerateKeyPair", make, pins)
        if private.get(Attribute.TOKEN):
            self.wrote_token_objects()
        return TokenKey(
            self, pooled, priv, pub, token_object=bool(private.get(Attribute.TOKEN))
        )

    def generate_domain_parameters(self, key_type: Any, bits: int) -> dict[int, bytes]:
        """``C_GenerateKey(CKM_DSA/DH_PKCS_PARAMETER_GEN)``: the prime, subprime, base."""
        def make(s: Any) -> dict[int, bytes]:
            params = s.generate_domain_parameters(
                as_key_type(key_type), bits, template={Attribute.PRIVATE: False}
            )
            try:
                wanted = [Attribute.PRIME, Attribute.BASE]
                if key_type == KeyType.DSA:
                    wanted.append(Attribute.SUBPRIME)
                return {int(k): bytes(v) for k, v in params.get_attributes(wanted).items()}
            finally:
                params.destroy()

        found: dict[int, bytes] = self.run(f"C_GenerateKey({bits}-bit parameters)", make)
        return found


    def find(
        self, templates: Sequence[Mapping[Any, object]], pins: PinSources | None
    ) -> tuple[_Pooled, list[list[Any]]]:
        """``C_FindObjects`` for each template, in one session (returned with them).

        The objects are bound to that session, which becomes their home
        (see :class:`TokenKey`).
        """
        for template in templates:
            check_template(template)

        def search(s: Any) -> list[list[Any]]:
            return [list(s.get_objects(template)) for template in templates]

        # Under the store lock, as info() (SoftHSM2 re-reads its store here).
        # python-pkcs11 reads each found object's class after C_FindObjects:
        # an object another process destroyed in between answers
        # CKR_OBJECT_HANDLE_INVALID.  The search is then simply made again.
        for attempt in range(_FIND_TRIES):
            try:
                with self.store_locked():
                    return self.run_keep("C_FindObjects", search, pins)
            except Fail as exc:
                if exc.ckr not in OBJECT_GONE or attempt == _FIND_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def survey(
        self, templates: Sequence[Mapping[Any, object]], wanted: Sequence[Any],
        pins: PinSources | None, *,
        screen: tuple[Sequence[Any], Callable[[dict[Any, Any]], bool]] | None = None,
    ) -> tuple[_Pooled, list[list[_Surveyed]]]:
        """:meth:`find`, and the attributes ``wanted`` of every object found.

        Objects made by other tools carry what their makers chose: an
        attribute the object lacks (``CKR_ATTRIBUTE_TYPE_INVALID``) or keeps
        secret (``CKR_ATTRIBUTE_SENSITIVE``) is left out of its dictionary
        rather than failing the survey.  ``screen`` = (attributes, keep): those
        attributes are read first and an object ``keep`` refuses is dropped
        before the rest are read (one call per attribute: a token of many
        objects is screened cheaply).  An object another process destroyed
        between the search and the reads makes the whole survey start again.
        """
        skipped = (pkcs11.exceptions.AttributeTypeInvalid, pkcs11.exceptions.AttributeSensitive)
        first, keep = screen if screen is not None else ((), None)

        def values_of(obj: Any, attrs: Sequence[Any], into: dict[Any, Any]) -> dict[Any, Any]:
            for attr in attrs:
                if attr in into:
                    continue
                try:
                    into[attr] = obj[attr]
                except skipped:
                    continue
            return into

        for attempt in range(_FIND_TRIES):
            home, groups = self.find(templates, pins)

            def read(s: Any, groups: list[list[Any]] = groups) -> list[list[_Surveyed]]:
                rows: list[list[_Surveyed]] = []
                for group in groups:
                    found = []
                    for obj in group:
                        values = values_of(obj, first, {})
                        if keep is not None and not keep(values):
                            continue
                        found.append((obj, values_of(obj, wanted, values)))
                    rows.append(found)
                return rows

            try:
                return home, self.run_on(home, "C_GetAttributeValue", read)
            except Fail as exc:
                if exc.ckr not in OBJECT_GONE or attempt == _FIND_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _anchor(self, pins: PinSources | None) -> None:
        """Make sure the token's anchor object exists before csp11 makes token
        objects (the quirk ``handle_anchor``; once per process)."""
        if self._anchored:
            return

        def ensure(s: Any) -> None:
            if not list(s.get_objects(_ANCHOR_SEARCH)):
                s.create_object(ANCHOR)

        with self.store_locked():
            self.run("C_CreateObject", ensure, pins)
        self._anchored = True

    def create_object(self, template: Mapping[Any, object], pins: PinSources | None) -> None:
        """``C_CreateObject`` of a token object (found again by :meth:`find`)."""
        check_template(template)
        self._anchor(pins)
        self.run("C_CreateObject", lambda s: s.create_object(template), pins)
        self.wrote_token_objects()

    def create_and_destroy(self, template: Mapping[Any, object]) -> None:
        """``C_CreateObject`` of a session object, destroyed at once: whether
        the token makes such objects (a capability probe; through csp11's own
        binding, so that it needs no python-pkcs11)."""
        check_template(template)
        ck = self.module.cryptoki

        def make(s: Any) -> None:
            handle = fastpath.create_object(ck, s.handle, template)
            fastpath.destroy(ck, s.handle, [handle])

        self.run("C_CreateObject", make)

    def destroy_objects(self, pooled: _Pooled, objects: list[Any]) -> None:
        """``C_DestroyObject`` of objects found by :meth:`find` in ``pooled``.

        An object that is already gone (another thread or process destroyed
        it since it was found) is not an error.  Each one done is dropped
        before the next, so that a call tried again (a busy store) goes on
        with the rest only.
        """
        pending = list(objects)

        def destroy(session: Any) -> None:
            while pending:
                with contextlib.suppress(pkcs11.exceptions.ObjectHandleInvalid,
                                         pkcs11.exceptions.KeyHandleInvalid):
                    pending[0].destroy()
                pending.pop(0)

        self.run_on(pooled, "C_DestroyObject", destroy)
        self.wrote_token_objects()

    def digest(self, data: bytes, mechanism: Any) -> bytes:
        """``C_DigestInit`` + ``C_Digest`` of ``data`` in one call."""
        ck = self.module.cryptoki
        value: bytes = self.run(
            "C_Digest", lambda s: fastpath.digest(ck, s.handle, int(mechanism), data)
        )
        return value

    def create_key(
        self,
        template: Mapping[Any, object],
        public: Mapping[Any, object] | None = None,
        pins: PinSources | None = None,
    ) -> TokenKey:
        """``C_CreateObject`` of a key from its components (an import).

        ``template`` describes a secret key, a private key or (with ``public``
        absent) a lone public key; ``public`` adds the public half of a pair.
        Both are made in one session; when the second fails the first is
        destroyed again, so a failed import leaves nothing on the token.
        """
        check_template(template)
        if public is not None:
            check_template(public)

        def make(s: Any) -> tuple[Any, Any | None]:
            first = s.create_object(template)
            if public is None:
                return first, None
            try:
                return first, s.create_object(public)
            except BaseException:
                first.destroy()
                raise

        stored = bool(template.get(Attribute.TOKEN))
        if stored:
            self._anchor(pins)
        pooled, (obj, pub) = self.run_keep("C_CreateObject", make, pins)
        if stored:
            self.wrote_token_objects()
        if template.get(Attribute.CLASS) == ObjectClass.PUBLIC_KEY:
            return TokenKey(self, pooled, None, obj, token_object=stored)
        return TokenKey(self, pooled, obj, pub, token_object=stored)

    def wrote_token_objects(self) -> None:
        """After creating or destroying token objects: make sure every process,
        this one included, sees the change at its next search (a no-op except
        on tokens with the ``generation_lost_update`` quirk)."""
        # Counted: a context's remembered container keys are looked up again
        # after this process changed token objects (Context.found_key).
        self.object_writes += 1
        if self._generations:
            touch_generations(self._generations)
        self.module.wrote_store()

    def bury(self, key: TokenKey) -> None:
        """Release ``key`` at the next token call (for finalizers)."""
        self._graveyard.append(key.release)

    def later(self, release: Callable[[], None]) -> None:
        """Run ``release`` at the next token call.  For finalizers, which may run
        at any allocation, even while this thread holds a lock of the token:
        they must only queue (``deque.append`` takes no lock)."""
        self._graveyard.append(release)
