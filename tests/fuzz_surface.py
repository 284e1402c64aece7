"""The whole public surface of csp11, called in random order with random arguments.

Run as a child process by ``tests/test_surface_fuzz.py`` (``python -m
tests.fuzz_surface --calls N``), so that a crash or a hang fails that test
instead of ending the suite.  A hypothesis ``RuleBasedStateMachine`` keeps
bundles of provider contexts, keys, hashes, exported BLOBs, PEM/DER texts and
``cryptography`` keys — live and released alike — and calls every function,
method and property of the surface: ``CryptAcquireContext`` (verify contexts
and the containers made for this run), the ``PyCRYPTPROV``/``PyCRYPTKEY``/
``PyCRYPTHASH`` methods and properties, ``with``, :mod:`csp11.interop` and the
PIN prompt.  Arguments are valid ones (real ALG_IDs, flags, parameters, BLOBs
the run exported) mixed with wrong types, out-of-range ints, empty and huge
bytes, text no C string can hold, ``None`` and other handles.

Every call must end in a result, a :class:`csp11.pywintypes.error` whose code
is not ``NTE_FAIL``, or a ``TypeError``/``ValueError``; anything else is a
*violation*, recorded with the calls that led to it.  After every example all
handles are released (or, every other example, dropped and collected) and the
token must show as many session objects as before it; after the run the
containers are deleted and the token objects must be those of before.  The
last line of output is ``FUZZ-FIGURES {json}``: calls, outcomes by code,
violations, objects left, wall time.
"""

from __future__ import annotations

import argparse
import collections
import faulthandler
import gc
import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes as crypto_hashes
from cryptography.hazmat.primitives.asymmetric import dsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, Phase, settings, stateful
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    multiple,
    rule,
    run_state_machine_as_test,
)

import csp11
from csp11 import interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import Attribute, find_softhsm2
from csp11.win32crypt import PyCRYPTHASH, PyCRYPTKEY, PyCRYPTPROV

FIGURES_MARK = "FUZZ-FIGURES "

# Hypothesis shows a rule as the reprs of all its argument strategies, and when
# the rule it drew is disabled it formats every rule's repr (megabytes here) into
# an event message: ~10 ms a step.  A rule's name says enough.
stateful.Rule.__repr__ = lambda self: f"Rule({self.function.__name__})"  # type: ignore[method-assign]

# Known token-layer faults the fuzz reports but does not count as violations
# (see the report of issue #12 part 4).  Each entry: (function, strerror
# fragment) -> reason.  Empty when the token layer has none known.
KNOWN_TOKEN_LAYER_FAULTS: dict[tuple[str, str], str] = {}

# ---- values ------------------------------------------------------------------------------
_VERIFY = con.CRYPT_VERIFYCONTEXT & 0xFFFFFFFF


def _constants(prefix: str) -> list[int]:
    return sorted({v for n, v in vars(con).items() if n.startswith(prefix) and isinstance(v, int)})


ALGIDS = _constants("CALG_")
KEY_ALGIDS = [
    con.AT_KEYEXCHANGE, con.AT_SIGNATURE, con.CALG_RSA_KEYX, con.CALG_RSA_SIGN,
    con.CALG_DSS_SIGN, con.CALG_DH_SF, con.CALG_DH_EPHEM, con.CALG_AES_128, con.CALG_AES_192,
    con.CALG_AES_256, con.CALG_AES, con.CALG_DES, con.CALG_3DES, con.CALG_3DES_112,
    con.CALG_RC2, con.CALG_RC4, con.CALG_CYLINK_MEK,
]
SESSION_ALGIDS = KEY_ALGIDS[7:]
HASH_ALGIDS = [
    con.CALG_MD2, con.CALG_MD4, con.CALG_MD5, con.CALG_SHA1, con.CALG_SHA_256, con.CALG_SHA_384,
    con.CALG_SHA_512, con.CALG_SSL3_SHAMD5, con.CALG_MAC, con.CALG_HMAC,
]
PROV_TYPES = _constants("PROV_")
PROVIDERS = sorted({v for n, v in vars(con).items() if n.startswith("MS_") and isinstance(v, str)})
KP_PARAMS = _constants("KP_")
HP_PARAMS = _constants("HP_")
PP_PARAMS = _constants("PP_")
BLOB_TYPES = [
    con.PUBLICKEYBLOB, con.PRIVATEKEYBLOB, con.PLAINTEXTKEYBLOB, con.SIMPLEBLOB,
    con.SYMMETRICWRAPKEYBLOB, con.OPAQUEKEYBLOB, con.PUBLICKEYBLOBEX,
]
MODES = _constants("CRYPT_MODE_")
GENKEY_FLAGS = [
    con.CRYPT_EXPORTABLE, con.CRYPT_USER_PROTECTED, con.CRYPT_CREATE_SALT, con.CRYPT_NO_SALT,
    con.CRYPT_PREGEN, con.CRYPT_ARCHIVABLE, con.CRYPT_FORCE_KEY_PROTECTION_HIGH,
    con.CRYPT_CREATE_IV, con.CRYPT_KEK, con.CRYPT_DATA_KEY, con.CRYPT_VOLATILE, con.CRYPT_SGCKEY,
    con.CRYPT_ONLINE, con.CRYPT_SF, 0x8000,
]
# Key lengths: realistic ones, and ones outside every range.  Nothing that takes
# long to make on SoftHSM2 (TOKEN-FACTS): RSA at most 2048; DH above 1024 only on
# the RFC 7919 groups (2048/3072/4096, made in ~1 ms); DSA parameters only 1024.
LENGTHS = [
    0, 1, 8, 40, 48, 56, 64, 112, 120, 128, 168, 192, 256, 384, 512, 576, 768, 1024, 2048,
    3072, 4096, 0xFFFF,
]
_SLOW_FOR_RSA = (3072, 4096)
_SLOW_FOR_DH = (576, 768)
BAD_INTS = [
    -1, -(2**31), -(2**31) - 1, 2**31, 2**32 - 1, 2**32, 2**63, 2**64, 10**30, -(10**30),
]
BAD_TEXT = ["\ud800", "a\x00b", "x" * 300, "", "\udcff\udcfe", "\x00"]
HUGE = bytes(range(256)) * 274  # 70,144 bytes: past the 64 KiB no-copy path
PINS_LEN = 12


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


# Handles are released, destroyed or left by ``with`` in 3 of 10 steps drawn
# for it, so that most live long enough to be used.
DESTROY_CHANCE = 3
JUNK_PERCENT = 10  # how often an argument is junk instead of a valid value


@st.composite
def _pick(draw: st.DrawFn, valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any],
          junk_percent: int) -> Any:
    # one_of chooses its branches with no weights (and shrinks to the first):
    # a draw of 0..99 decides instead.
    if draw(st.integers(0, 99)) >= junk_percent:
        return draw(valid)
    return draw(junk)


def _weighted(valid: st.SearchStrategy[Any], junk: st.SearchStrategy[Any],
              junk_percent: int = JUNK_PERCENT) -> st.SearchStrategy[Any]:
    """``valid``, and ``junk`` ``junk_percent`` of the time."""
    return _pick(valid, junk, junk_percent)


# ---- the run's shared state ----------------------------------------------------------------
class Run:
    """What one child process keeps across examples."""

    def __init__(self) -> None:
        self.calls = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.by_function: collections.Counter[str] = collections.Counter()
        self.detail: collections.Counter[str] = collections.Counter()
        self.violations: list[dict[str, Any]] = []
        self.known: collections.Counter[str] = collections.Counter()
        self.leaks: list[dict[str, Any]] = []
        self.history: collections.deque[str] = collections.deque(maxlen=30)
        self.examples = 0
        self.pin = ""
        self.containers: list[str] = []
        self.observer: PyCRYPTPROV | None = None
        self.baseline_session = 0
        self.baseline_token = 0
        self.pending: tuple[bool, list[str]] | None = None
        self.last_leak = -1
        self.restarts = 0
        self.prompt_random = random.Random(0)
        self.dsa_params: dict[str, bytes] = {}
        self.seed_blobs: list[bytes] = []
        self.seed_keys: list[Any] = []
        self.cert_signer: rsa.RSAPrivateKey | None = None
        self.token_uris: list[str] = []


RUN = Run()


def _short(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return f"{type(value).__name__}[{len(raw)}]:{raw[:12].hex()}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, int) and not isinstance(value, bool):
        return hex(value) if abs(value) > 4096 else str(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _origin_is_a_check(tb: Any) -> bool:
    """Whether a TypeError/ValueError was raised on purpose: by a ``raise`` in
    csp11's own code, or by the call itself (wrong arity)."""
    frames = traceback.extract_tb(tb)
    last = frames[-1]
    if Path(last.filename).resolve() == Path(__file__).resolve():
        return True
    csp11_dir = Path(csp11.__file__).resolve().parent
    return csp11_dir in Path(last.filename).resolve().parents and (
        (last.line or "").lstrip().startswith("raise ")
    )


def attempt(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call one function of the surface; record its outcome; never raise (but
    KeyboardInterrupt).  Returns the result, or None when the call failed."""
    RUN.calls += 1
    shown = ", ".join([_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()])
    RUN.history.append(f"{name}({shown})")
    try:
        result = fn(*args, **kwargs)
    except pywintypes.error as exc:
        code = winerror.name_of(exc.winerror)
        RUN.outcomes[code] += 1
        RUN.detail[f"{name} {code}"] += 1
        shape_ok = (
            isinstance(exc.funcname, str) and exc.funcname != ""
            and isinstance(exc.strerror, str)
            and exc.args == (exc.winerror, exc.funcname, exc.strerror)
        )
        if exc.winerror == winerror.NTE_FAIL or not shape_ok:
            for (func, fragment), reason in KNOWN_TOKEN_LAYER_FAULTS.items():
                if exc.funcname == func and fragment in exc.strerror:
                    RUN.known[reason] += 1
                    return None
            _violation(name, f"pywintypes.error{exc.args!r}", exc)
        return None
    except (TypeError, ValueError) as exc:
        RUN.outcomes[type(exc).__name__] += 1
        RUN.detail[f"{name} {type(exc).__name__}"] += 1
        if not _origin_is_a_check(exc.__traceback__):
            _violation(name, f"foreign {type(exc).__name__}: {exc}", exc)
        return None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        RUN.outcomes["foreign:" + type(exc).__name__] += 1
        _violation(name, f"foreign {type(exc).__name__}: {exc}", exc)
        return None
    RUN.outcomes["ok"] += 1
    RUN.by_function[name] += 1
    RUN.detail[f"{name} ok"] += 1
    return result


def _violation(name: str, what: str, exc: BaseException) -> None:
    RUN.violations.append({
        "call": RUN.history[-1],
        "what": what,
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-3000:],
        "history": list(RUN.history),
    })


# ---- the PIN prompt ---------------------------------------------------------------------
def fuzz_prompt(request: csp11.PinRequest) -> Any:
    """The process's PIN prompt: the right PIN mostly, sometimes not."""
    RUN.outcomes["prompted"] += 1
    choice = RUN.prompt_random.random()
    if choice < 0.7:
        return RUN.pin
    return RUN.prompt_random.choice([None, "0000", "", "\ud800", "a\x00b", 1234, b"pin"])


# ---- token objects -------------------------------------------------------------------------
def count_objects() -> tuple[int, int]:
    """(session objects, token objects) the token shows this process."""
    observer = RUN.observer
    assert observer is not None
    state = observer._state
    state.login()
    _, (session, stored) = state.token.find(
        [{Attribute.TOKEN: False}, {Attribute.TOKEN: True}], state.pins
    )
    return len(session), len(stored)


def drain() -> None:
    """Run the finalizers of dropped handles (they queue; a token call drains)."""
    gc.collect()
    observer = RUN.observer
    assert observer is not None
    observer.CryptGenRandom(1)


# ---- strategies ---------------------------------------------------------------------------
def junk_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.sampled_from(BAD_INTS),
        st.integers(),
        st.floats(allow_nan=True),
        st.sampled_from(BAD_TEXT),
        st.text(max_size=6),
        st.binary(max_size=24),
        st.sampled_from([b"", HUGE, bytearray(b"ab"), memoryview(b"abcd")]),
        st.booleans(),
        st.lists(st.integers(0, 300), max_size=3),
        st.tuples(st.integers(0, 0x8010), st.binary(max_size=4)),
        st.dictionaries(st.sampled_from(["HashAlgid", "pbInnerString", "x"]),
                        st.one_of(st.integers(0, 0x8010), st.binary(max_size=4)), max_size=2),
        st.builds(_Opaque),
    )


def dword_strategy(valid: st.SearchStrategy[int], handles: st.SearchStrategy[Any]
                   ) -> st.SearchStrategy[Any]:
    junk = st.one_of(st.integers(0, 0xFFFFFFFF), junk_values(), handles)
    return _weighted(valid, junk)


def flags_strategy(known: list[int], handles: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    combos = st.sets(st.sampled_from(known), max_size=3).map(
        lambda bits: sum(set(bits)) & 0xFFFFFFFF
    )
    return dword_strategy(st.one_of(st.just(0), st.just(0), combos), handles)


# ---- helpers for valid arguments -------------------------------------------------------------
def _certificate_for(public: Any) -> bytes:
    """A DER certificate for ``public`` (signed by a throwaway key)."""
    signer = RUN.cert_signer
    assert signer is not None
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csp11 fuzz")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(public).serial_number(random.getrandbits(64) + 1)
        .not_valid_before(now).not_valid_after(now + timedelta(days=1))
        .sign(signer, crypto_hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def mutate(blob: bytes, how: int, where: int, value: int) -> bytes:
    """A BLOB damaged in one of a few ways (or left alone)."""
    if not blob:
        return blob
    at = where % len(blob)
    if how == 1:
        return blob[:at]
    if how == 2:
        return blob[:at] + bytes([value & 0xFF]) + blob[at + 1 :]
    if how == 3:
        return blob + bytes([value & 0xFF]) * (where % 40)
    if how == 4 and len(blob) >= 8:  # another bType / aiKeyAlg in the header
        algid = (value & 0xFFFFFFFF).to_bytes(4, "little")
        return bytes([value & 0xFF]) + blob[1:4] + algid + blob[8:]
    if how == 5 and len(blob) >= 16:  # the bit length field
        return blob[:12] + (value * 8 & 0xFFFFFFFF).to_bytes(4, "little") + blob[16:]
    return blob


provs: Bundle[PyCRYPTPROV] = Bundle("provs")
keys: Bundle[PyCRYPTKEY] = Bundle("keys")
hashes: Bundle[PyCRYPTHASH] = Bundle("hashes")
blobs: Bundle[bytes] = Bundle("blobs")
data: Bundle[bytes] = Bundle("data")
cryptokeys: Bundle[Any] = Bundle("cryptokeys")
handles = st.one_of(provs, keys, hashes)
any_junk = st.one_of(junk_values(), provs, keys, hashes)


def _as_memoryview(value: bytes) -> memoryview:
    return memoryview(value)


def bytes_strategy() -> st.SearchStrategy[Any]:
    """Data: mostly bytes (made up, exported, earlier outputs), sometimes junk."""
    valid = st.one_of(
        st.binary(max_size=80), blobs, data,
        st.sampled_from([b"", bytes(16), bytes(8), bytes(128)]),
        data.map(bytearray), blobs.map(_as_memoryview),
    )
    return _weighted(valid, any_junk)


class SurfaceMachine(RuleBasedStateMachine):
    """Every function, method and property of csp11's public surface."""

    def __init__(self) -> None:
        super().__init__()
        check_session_objects()
        RUN.examples += 1
        RUN.history.clear()
        self.made: list[Any] = []  # every handle made, for teardown
        self.seed_contexts: list[PyCRYPTPROV] | None = None

    # ---- set-up ---------------------------------------------------------------------
    # Every example starts with contexts, keys and hashes, so that most steps
    # reach past "no such handle yet".
    def _contexts(self) -> list[PyCRYPTPROV]:
        if self.seed_contexts is None:
            self.seed_contexts = []
            for container, prov_type, flags in (
                (None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT),
                (None, con.PROV_DSS_DH, con.CRYPT_VERIFYCONTEXT),
                (RUN.containers[0], con.PROV_RSA_FULL, 0),
            ):
                ctx = attempt("CryptAcquireContext", win32crypt.CryptAcquireContext,
                              container, None, prov_type, flags)
                if isinstance(ctx, PyCRYPTPROV):
                    self.made.append(ctx)
                    self.seed_contexts.append(ctx)
        return self.seed_contexts

    @initialize(target=provs)
    def open_contexts(self) -> Any:
        return multiple(*self._contexts())

    @initialize(target=keys, which=st.sets(st.integers(0, 9), min_size=2, max_size=5))
    def seed_session_and_pair_keys(self, which: set[int]) -> Any:
        contexts = self._contexts()
        wanted = [
            (0, con.CALG_AES_128, con.CRYPT_EXPORTABLE), (0, con.CALG_AES_256, 0),
            (0, con.CALG_3DES, con.CRYPT_EXPORTABLE), (0, con.CALG_DES, con.CRYPT_EXPORTABLE),
            (0, con.AT_KEYEXCHANGE, con.CRYPT_EXPORTABLE), (0, con.AT_SIGNATURE, 0),
            (1, con.AT_SIGNATURE, con.CRYPT_EXPORTABLE), (1, con.CALG_DH_SF, con.CRYPT_EXPORTABLE),
            # The run's container: a key that asks for its PIN at every use (the
            # prompt answers at random), and an exchange pair.
            (2, con.AT_SIGNATURE, con.CRYPT_USER_PROTECTED), (2, con.AT_KEYEXCHANGE, 0),
        ]
        made = []
        for index in sorted(which):
            at, algid, flags = wanted[index]
            if at < len(contexts):
                key = attempt("CryptGenKey", contexts[at].CryptGenKey, algid, flags)
                if isinstance(key, PyCRYPTKEY):
                    self.made.append(key)
                    made.append(key)
        return multiple(*made)

    @initialize(target=hashes, which=st.sets(st.sampled_from(
        [con.CALG_MD5, con.CALG_SHA1, con.CALG_SHA_256, con.CALG_HMAC, con.CALG_MAC]),
        min_size=1, max_size=3))
    def seed_hashes(self, which: set[int]) -> Any:
        contexts = self._contexts()
        if not contexts:
            return multiple()
        made = []
        for algid in sorted(which):
            key = None
            if algid in (con.CALG_HMAC, con.CALG_MAC):
                key = attempt("CryptGenKey", contexts[0].CryptGenKey, con.CALG_AES_128,
                              con.CRYPT_EXPORTABLE)
                self._keep(key)
            hash_ = attempt("CryptCreateHash", contexts[0].CryptCreateHash, algid, key)
            if isinstance(hash_, PyCRYPTHASH):
                self.made.append(hash_)
                made.append(hash_)
                if algid == con.CALG_HMAC:
                    attempt("CryptSetHashParam", hash_.CryptSetHashParam, con.HP_HMAC_INFO,
                            con.CALG_SHA1)
        return multiple(*made)

    @initialize(target=blobs)
    def seed_blobs(self) -> Any:
        return multiple(*RUN.seed_blobs)

    @initialize(target=data)
    def seed_data(self) -> Any:
        return multiple(b"", bytes(range(16)), b"abc" * 11, *RUN.dsa_params.values())

    @initialize(target=cryptokeys)
    def seed_keys(self) -> Any:
        return multiple(*RUN.seed_keys)

    # ---- CryptAcquireContext and PyCRYPTPROV -----------------------------------------
    @rule(
        target=provs,
        container=_weighted(st.one_of(st.none(), st.just(""), st.sampled_from(["<run>", "<run2>"])),
                            st.one_of(st.sampled_from(BAD_TEXT), junk_values())),
        provider=_weighted(st.one_of(st.none(), st.sampled_from(PROVIDERS)),
                           st.one_of(st.sampled_from(BAD_TEXT), junk_values(),
                                     st.text(max_size=20))),
        prov_type=dword_strategy(st.sampled_from(PROV_TYPES), st.nothing()),
        flags=_weighted(
            st.sampled_from([
                _VERIFY, _VERIFY, _VERIFY, 0, 0, con.CRYPT_NEWKEYSET, con.CRYPT_DELETEKEYSET,
                _VERIFY | con.CRYPT_SILENT, con.CRYPT_SILENT, con.CRYPT_MACHINE_KEYSET,
                con.CRYPT_MACHINE_KEYSET | con.CRYPT_NEWKEYSET, _VERIFY | con.CRYPT_NEWKEYSET,
                con.CRYPT_DEFAULT_CONTAINER_OPTIONAL, _VERIFY | con.CRYPT_DELETEKEYSET,
                con.CRYPT_NEWKEYSET | con.CRYPT_DELETEKEYSET, con.CRYPT_VERIFYCONTEXT,
                con.CRYPT_MACHINE_KEYSET | con.CRYPT_DELETEKEYSET,
            ]),
            st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from(BAD_INTS), junk_values()),
        ),
        token=_weighted(
            _weighted(st.none(), st.sampled_from(["<uri>", "<uri-bad-pin>"]), 15),
            st.one_of(st.sampled_from([
                            "pkcs11:token=no-such-token", "not a uri", "pkcs11:?module-path=rel.so",
                            "pkcs11:token=csp11?module-path=/nonexistent/lib.so", "\ud800",
                "pkcs11:token=csp11\x00", "pkcs11:token=%ZZ",
            ]), junk_values()),
        ),
    )
    def acquire(self, container: Any, provider: Any, prov_type: Any, flags: Any,
                token: Any) -> Any:
        if container == "<run>":
            container = RUN.containers[0]
        elif container == "<run2>":
            container = RUN.containers[1]
        if token == "<uri>":
            token = RUN.token_uris[0]
        elif token == "<uri-bad-pin>":
            token = RUN.token_uris[1]
        prov = attempt("CryptAcquireContext", win32crypt.CryptAcquireContext,
                       container, provider, prov_type, flags, Token=token)
        if isinstance(prov, PyCRYPTPROV):
            self.made.append(prov)
            return prov
        return multiple()

    @rule(prov=provs, flags=flags_strategy([1], st.nothing()), chance=st.integers(0, 9))
    def release(self, prov: PyCRYPTPROV, flags: Any, chance: int) -> None:
        if chance >= DESTROY_CHANCE:
            return
        if flags == 0 and random.random() < 0.5:
            attempt("CryptReleaseContext", prov.CryptReleaseContext)
        else:
            attempt("CryptReleaseContext", prov.CryptReleaseContext, flags)

    @rule(prov=provs, flags=flags_strategy([1], st.nothing()))
    def add_ref(self, prov: PyCRYPTPROV, flags: Any) -> None:
        attempt("CryptContextAddRef", prov.CryptContextAddRef, flags)

    @rule(handle=handles, raise_inside=st.booleans(), chance=st.integers(0, 9))
    def with_block(self, handle: Any, raise_inside: bool, chance: int) -> None:
        if chance >= DESTROY_CHANCE:
            return
        def run() -> None:
            with handle:
                repr(handle)
                if raise_inside:
                    raise pywintypes.error(winerror.NTE_BAD_DATA, "fuzz", "raised inside with")

        attempt("with", run)

    @rule(handle=handles)
    def properties(self, handle: Any) -> None:
        names: dict[type, list[str]] = {
            PyCRYPTPROV: ["HCRYPTPROV"],
            PyCRYPTKEY: ["HCRYPTKEY", "HCRYPTPROV"],
            PyCRYPTHASH: ["HCRYPTHASH"],
        }
        name = random.choice(names[type(handle)])
        value = attempt(name, lambda: (repr(handle), getattr(handle, name))[1])
        if value is not None and not isinstance(value, int):
            _violation(name, f"{name} is {type(value).__name__}, not int", TypeError())

    @rule(
        target=keys,
        prov=provs,
        algid=dword_strategy(_weighted(st.sampled_from(KEY_ALGIDS), st.sampled_from(ALGIDS), 15),
                             any_junk),
        low=_weighted(
            st.sampled_from([0, con.CRYPT_EXPORTABLE, con.CRYPT_EXPORTABLE, con.CRYPT_ARCHIVABLE,
                             con.CRYPT_PREGEN, con.CRYPT_USER_PROTECTED | con.CRYPT_EXPORTABLE]),
            st.one_of(st.sets(st.sampled_from(GENKEY_FLAGS), max_size=3).map(sum),
                      st.integers(0, 0xFFFF)), 40),
        upper=_weighted(st.just(0), st.sampled_from(LENGTHS), 40),
        keylen=_weighted(_weighted(st.just(0), st.sampled_from(LENGTHS), 30),
                         st.one_of(st.sampled_from(BAD_INTS), junk_values())),
        flags_junk=_weighted(st.none(), st.one_of(st.sampled_from(BAD_INTS), junk_values())),
        use_keyword=st.booleans(),
    )
    def gen_key(self, prov: PyCRYPTPROV, algid: Any, low: int, upper: int, keylen: Any,
                flags_junk: Any, use_keyword: bool) -> Any:
        rsa_like = algid in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE, con.CALG_RSA_KEYX,
                             con.CALG_RSA_SIGN)
        if rsa_like and upper in _SLOW_FOR_RSA:
            upper = 2048
        if rsa_like and keylen in _SLOW_FOR_RSA:
            keylen = 2048
        # DH parameters of other sizes than the fixed groups take long to make.
        dh_like = algid in (con.AT_KEYEXCHANGE, con.CALG_DH_SF, con.CALG_DH_EPHEM)
        if dh_like and upper in _SLOW_FOR_DH:
            upper = 512
        if dh_like and keylen in _SLOW_FOR_DH:
            keylen = 512
        flags = flags_junk if flags_junk is not None else (upper << 16) | low
        if use_keyword:
            key = attempt("CryptGenKey", prov.CryptGenKey, algid, flags, KeyLen=keylen)
        elif keylen == 0:
            key = attempt("CryptGenKey", prov.CryptGenKey, algid, flags)
        else:
            key = attempt("CryptGenKey", prov.CryptGenKey, algid, flags, keylen)
        return self._keep(key)

    def _keep(self, handle: Any) -> Any:
        if isinstance(handle, (PyCRYPTKEY, PyCRYPTHASH, PyCRYPTPROV)):
            self.made.append(handle)
            return handle
        return multiple()

    @rule(target=keys, prov=provs,
          spec=dword_strategy(st.sampled_from([con.AT_KEYEXCHANGE, con.AT_SIGNATURE, 0, 3]),
                              any_junk))
    def get_user_key(self, prov: PyCRYPTPROV, spec: Any) -> Any:
        return self._keep(attempt("CryptGetUserKey", prov.CryptGetUserKey, spec))

    @rule(target=data, prov=provs,
          param=dword_strategy(_weighted(st.sampled_from(
              [con.PP_ENUMALGS, con.PP_ENUMALGS_EX, con.PP_ENUMCONTAINERS, con.PP_NAME,
               con.PP_CONTAINER, con.PP_UNIQUE_CONTAINER, con.PP_IMPTYPE]),
              st.sampled_from(PP_PARAMS), 50), any_junk),
          flags=flags_strategy([con.CRYPT_FIRST, con.CRYPT_NEXT, con.CRYPT_SGC_ENUM,
                                con.CRYPT_MACHINE_KEYSET], any_junk),
          repeat=st.integers(1, 3))
    def get_prov_param(self, prov: PyCRYPTPROV, param: Any, flags: Any, repeat: int) -> Any:
        found = []
        for _ in range(repeat):
            value = attempt("CryptGetProvParam", prov.CryptGetProvParam, param, flags)
            if isinstance(value, str):
                found.append(value.encode("utf-8", "surrogatepass"))
            if flags == con.CRYPT_FIRST:
                flags = con.CRYPT_NEXT
        return multiple(*found)

    @rule(prov=provs,
          param=dword_strategy(_weighted(
              st.sampled_from([con.PP_KEYEXCHANGE_PIN, con.PP_SIGNATURE_PIN]),
              st.sampled_from(PP_PARAMS), 40), any_junk),
          value=_weighted(_weighted(st.just("<pin>"), st.sampled_from([None, "0000"]), 30),
                          st.one_of(st.sampled_from(BAD_TEXT), junk_values()), 25),
          flags=flags_strategy([1], any_junk))
    def set_prov_param(self, prov: PyCRYPTPROV, param: Any, value: Any, flags: Any) -> None:
        if value == "<pin>":
            value = RUN.pin
        attempt("CryptSetProvParam", prov.CryptSetProvParam, param, value, flags)

    @rule(target=data, prov=provs,
          length=_weighted(st.integers(0, 300), st.one_of(st.sampled_from(
              [-1, -(2**31), 2**32, 2**64, 10**30, 1 << 20]), junk_values())),
          seed=_weighted(_weighted(st.none(), st.binary(max_size=40), 40),
                         st.one_of(st.just(HUGE), junk_values())))
    def gen_random(self, prov: PyCRYPTPROV, length: Any, seed: Any) -> Any:
        if isinstance(length, int) and 1 << 24 < length <= 0xFFFFFFFF:
            # Valid, but gigabytes take seconds and memory (tests/test_acquire.py
            # has a slow test of 2 GiB): out of range instead.
            length = 1 << 32
        if seed is None and random.random() < 0.5:
            out = attempt("CryptGenRandom", prov.CryptGenRandom, length)
        else:
            out = attempt("CryptGenRandom", prov.CryptGenRandom, length, seed)
        if isinstance(length, int) and 0 <= length <= 0xFFFFFFFF and out is not None and (
            not isinstance(out, bytes) or len(out) != length
        ):
            _violation("CryptGenRandom", f"{length} bytes asked, got {_short(out)}", ValueError())
        return out if isinstance(out, bytes) else multiple()

    @rule(target=hashes, prov=provs,
          algid=dword_strategy(_weighted(st.sampled_from(HASH_ALGIDS), st.sampled_from(ALGIDS), 15),
                               any_junk),
          key=_weighted(_weighted(st.none(), keys, 40), any_junk),
          flags=flags_strategy([1, con.CRYPT_SECRETDIGEST], any_junk))
    def create_hash(self, prov: PyCRYPTPROV, algid: Any, key: Any, flags: Any) -> Any:
        if key is None and flags == 0:
            return self._keep(attempt("CryptCreateHash", prov.CryptCreateHash, algid))
        return self._keep(attempt("CryptCreateHash", prov.CryptCreateHash, algid, key, flags))

    @rule(target=keys, prov=provs, blob=blobs,
          how=st.integers(0, 9), where=st.integers(0, 2**16), value=st.integers(0, 2**32),
          junk=_weighted(st.none(), st.one_of(junk_values(), provs, hashes)),
          pub=_weighted(_weighted(st.none(), keys, 40), any_junk),
          flags=flags_strategy([con.CRYPT_EXPORTABLE, con.CRYPT_OAEP, con.CRYPT_NO_SALT,
                                con.CRYPT_IPSEC_HMAC_KEY, con.CRYPT_USER_PROTECTED], any_junk))
    def import_key(self, prov: PyCRYPTPROV, blob: bytes, how: int, where: int, value: int,
                   junk: Any, pub: Any, flags: Any) -> Any:
        data = junk if junk is not None else mutate(blob, how, where, value)
        if pub is None and flags == 0 and how % 2:
            key = attempt("CryptImportKey", prov.CryptImportKey, data)
        else:
            key = attempt("CryptImportKey", prov.CryptImportKey, data, pub, flags)
        return self._keep(key)

    @rule(target=keys, prov=provs,
          algid=dword_strategy(_weighted(st.sampled_from(SESSION_ALGIDS),
                                         st.sampled_from(ALGIDS), 15), any_junk),
          base=_weighted(hashes, any_junk),
          low=_weighted(
              st.sampled_from([0, con.CRYPT_EXPORTABLE]),
              st.one_of(st.sets(st.sampled_from(
                  [con.CRYPT_EXPORTABLE, con.CRYPT_CREATE_SALT, con.CRYPT_NO_SALT,
                   con.CRYPT_UPDATE_KEY, con.CRYPT_SERVER, 0x8]), max_size=3).map(sum),
                  st.integers(0, 0xFFFF)), 40),
          upper=_weighted(st.just(0), st.sampled_from(LENGTHS), 40),
          flags_junk=_weighted(st.none(), st.one_of(st.sampled_from(BAD_INTS), junk_values())))
    def derive_key(self, prov: PyCRYPTPROV, algid: Any, base: Any, low: int, upper: int,
                   flags_junk: Any) -> Any:
        flags = flags_junk if flags_junk is not None else (upper << 16) | low
        return self._keep(attempt("CryptDeriveKey", prov.CryptDeriveKey, algid, base, flags))

    # ---- PyCRYPTKEY ----------------------------------------------------------------
    @rule(key=keys, chance=st.integers(0, 9))
    def destroy_key(self, key: PyCRYPTKEY, chance: int) -> None:
        if chance >= DESTROY_CHANCE:
            return
        attempt("CryptDestroyKey", key.CryptDestroyKey)

    @rule(target=keys, key=keys,
          reserved=_weighted(st.just(0), st.one_of(st.sampled_from([*BAD_INTS, 1]), junk_values())),
          flags=flags_strategy([1], any_junk))
    def duplicate_key(self, key: PyCRYPTKEY, reserved: Any, flags: Any) -> Any:
        if reserved == 0 and flags == 0:
            return self._keep(attempt("CryptDuplicateKey", key.CryptDuplicateKey))
        return self._keep(attempt("CryptDuplicateKey", key.CryptDuplicateKey, reserved, flags))

    @rule(target=blobs, key=keys,
          exp=_weighted(_weighted(st.none(), keys, 50), any_junk),
          blob_type=dword_strategy(st.sampled_from(BLOB_TYPES), any_junk),
          flags=flags_strategy([con.CRYPT_OAEP, con.CRYPT_BLOB_VER3, con.CRYPT_DESTROYKEY,
                                con.CRYPT_Y_ONLY, con.CRYPT_SSL2_FALLBACK], any_junk))
    def export_key(self, key: PyCRYPTKEY, exp: Any, blob_type: Any, flags: Any) -> Any:
        blob = attempt("CryptExportKey", key.CryptExportKey, exp, blob_type, flags)
        return blob if isinstance(blob, bytes) else multiple()

    @rule(target=data, key=keys,
          param=dword_strategy(st.sampled_from(KP_PARAMS), any_junk),
          flags=flags_strategy([1], any_junk))
    def get_key_param(self, key: PyCRYPTKEY, param: Any, flags: Any) -> Any:
        value = attempt("CryptGetKeyParam", key.CryptGetKeyParam, param, flags)
        return value if isinstance(value, bytes) and value else multiple()

    @rule(key=keys,
          param=dword_strategy(st.sampled_from(KP_PARAMS), any_junk),
          value=_weighted(st.one_of(
              st.sampled_from(MODES), st.sampled_from([1, 2, 3, 8, 0, 64, 0x3F, 0x3B, 0x7F]),
              st.integers(0, 2048), st.binary(min_size=8, max_size=24), data, blobs,
              st.sampled_from([None, "<cert>", "<dsa-p>", "<dsa-q>", "<dsa-g>"]),
              st.sampled_from(KEY_ALGIDS)), any_junk),
          cert_for=cryptokeys,
          damage=_weighted(st.none(), st.tuples(st.integers(1, 5), st.integers(0, 2**16),
                                                st.integers(0, 2**32)), 50),
          flags=flags_strategy([1], any_junk))
    def set_key_param(self, key: PyCRYPTKEY, param: Any, value: Any, cert_for: Any,
                      damage: tuple[int, int, int] | None, flags: Any) -> None:
        if value == "<cert>":
            # A certificate for one of the run's public keys (the token's keys
            # among them, through key_from_blob), whole or damaged.
            public = getattr(cert_for, "public_key", lambda: cert_for)()
            try:
                value = _certificate_for(public)
            except (TypeError, ValueError):
                value = b"\x30\x00"
            if damage is not None:
                value = mutate(value, *damage)
        elif isinstance(value, str) and value.startswith("<dsa-"):
            # Domain parameters for CRYPT_PREGEN keys, sound or damaged.
            value = RUN.dsa_params[value[5]]
            if damage is not None:
                value = mutate(value, *damage)
        attempt("CryptSetKeyParam", key.CryptSetKeyParam, param, value, flags)

    @rule(target=data, key=keys, final=_weighted(st.booleans(), junk_values()),
          data=bytes_strategy(),
          hash_=_weighted(_weighted(st.none(), hashes, 30), any_junk),
          flags=flags_strategy([con.CRYPT_OAEP, 0x20, 0x100], any_junk),
          decrypting=st.booleans())
    def crypt(self, key: PyCRYPTKEY, final: Any, data: Any, hash_: Any, flags: Any,
              decrypting: bool) -> Any:
        method = key.CryptDecrypt if decrypting else key.CryptEncrypt
        name = "CryptDecrypt" if decrypting else "CryptEncrypt"
        if hash_ is None and flags == 0:
            out = attempt(name, method, final, data)
        else:
            out = attempt(name, method, final, data, hash_, flags)
        return out if isinstance(out, bytes) and 0 < len(out) < 4096 else multiple()

    # ---- PyCRYPTHASH ---------------------------------------------------------------
    @rule(hash_=hashes, chance=st.integers(0, 9))
    def destroy_hash(self, hash_: PyCRYPTHASH, chance: int) -> None:
        if chance >= DESTROY_CHANCE:
            return
        attempt("CryptDestroyHash", hash_.CryptDestroyHash)

    @rule(target=hashes, hash_=hashes, flags=flags_strategy([1], any_junk))
    def duplicate_hash(self, hash_: PyCRYPTHASH, flags: Any) -> Any:
        return self._keep(attempt("CryptDuplicateHash", hash_.CryptDuplicateHash, flags))

    @rule(hash_=hashes, data=bytes_strategy(),
          flags=flags_strategy([con.CRYPT_USERDATA], any_junk))
    def hash_data(self, hash_: PyCRYPTHASH, data: Any, flags: Any) -> None:
        attempt("CryptHashData", hash_.CryptHashData, data, flags)

    @rule(hash_=hashes, key=_weighted(keys, any_junk),
          flags=flags_strategy([con.CRYPT_LITTLE_ENDIAN], any_junk))
    def hash_session_key(self, hash_: PyCRYPTHASH, key: Any, flags: Any) -> None:
        attempt("CryptHashSessionKey", hash_.CryptHashSessionKey, key, flags)

    @rule(target=data, hash_=hashes,
          spec=dword_strategy(st.sampled_from([con.AT_KEYEXCHANGE, con.AT_SIGNATURE, 0]),
                              any_junk),
          flags=flags_strategy([con.CRYPT_NOHASHOID, con.CRYPT_TYPE2_FORMAT, 0x4], any_junk))
    def sign_hash(self, hash_: PyCRYPTHASH, spec: Any, flags: Any) -> Any:
        signature = attempt("CryptSignHash", hash_.CryptSignHash, spec, flags)
        return signature if isinstance(signature, bytes) else multiple()

    @rule(hash_=hashes, signature=bytes_strategy(), pub=_weighted(keys, any_junk),
          flags=flags_strategy([con.CRYPT_NOHASHOID, con.CRYPT_TYPE2_FORMAT], any_junk))
    def verify_signature(self, hash_: PyCRYPTHASH, signature: Any, pub: Any, flags: Any) -> None:
        attempt("CryptVerifySignature", hash_.CryptVerifySignature, signature, pub, flags)

    @rule(target=data, hash_=hashes, param=dword_strategy(st.sampled_from(HP_PARAMS), any_junk),
          flags=flags_strategy([1], any_junk))
    def get_hash_param(self, hash_: PyCRYPTHASH, param: Any, flags: Any) -> Any:
        value = attempt("CryptGetHashParam", hash_.CryptGetHashParam, param, flags)
        return value if isinstance(value, bytes) else multiple()

    @rule(hash_=hashes, param=dword_strategy(st.sampled_from(HP_PARAMS), any_junk),
          value=_weighted(st.one_of(
              st.sampled_from(HASH_ALGIDS), data,
              st.binary(min_size=16, max_size=16), st.binary(min_size=20, max_size=20),
              st.binary(min_size=32, max_size=36),
              st.tuples(st.sampled_from(HASH_ALGIDS), st.sampled_from([b"", None, b"\x36" * 64]),
                        st.sampled_from([b"", None, b"\x5c" * 64, "x"])),
              st.fixed_dictionaries({"HashAlgid": st.sampled_from(HASH_ALGIDS)},
                                    optional={"pbInnerString": st.sampled_from([b"", None, 5]),
                                              "pbOuterString": st.binary(max_size=3)}),
              st.tuples(st.sampled_from(HASH_ALGIDS))),
              any_junk),
          flags=flags_strategy([1], any_junk))
    def set_hash_param(self, hash_: PyCRYPTHASH, param: Any, value: Any, flags: Any) -> None:
        attempt("CryptSetHashParam", hash_.CryptSetHashParam, param, value, flags)

    # ---- csp11.interop --------------------------------------------------------------
    @rule(target=cryptokeys, blob=bytes_strategy())
    def key_from_blob(self, blob: Any) -> Any:
        key = attempt("key_from_blob", interop.key_from_blob, blob)
        return key if key is not None else multiple()

    @rule(target=blobs, key=_weighted(cryptokeys, any_junk),
          algid=dword_strategy(st.sampled_from(KEY_ALGIDS), any_junk))
    def blob_from_key(self, key: Any, algid: Any) -> Any:
        blob = attempt("blob_from_key", interop.blob_from_key, key, algid)
        return blob if isinstance(blob, bytes) else multiple()

    @rule(target=data, blob=bytes_strategy(), pem=st.booleans())
    def blob_to_text(self, blob: Any, pem: bool) -> Any:
        fn = interop.blob_to_pem if pem else interop.blob_to_der
        out = attempt(fn.__name__, fn, blob)
        return out if isinstance(out, bytes) else multiple()

    @rule(target=blobs, text=bytes_strategy(), pem=st.booleans(),
          algid=dword_strategy(st.sampled_from(KEY_ALGIDS), any_junk))
    def blob_from_text(self, text: Any, pem: bool, algid: Any) -> Any:
        fn = interop.blob_from_pem if pem else interop.blob_from_der
        out = attempt(fn.__name__, fn, text, algid)
        return out if isinstance(out, bytes) else multiple()

    # ---- the end of an example -------------------------------------------------------
    def teardown(self) -> None:
        drop = RUN.examples % 2 == 0
        if not drop:
            for handle in reversed(self.made):
                if isinstance(handle, PyCRYPTPROV):
                    attempt("with", _release_with, handle)
        self.made.clear()
        self.seed_contexts = None
        for bundle in self.bundles.values():
            bundle.clear()
        self.names_to_values.clear()
        if drop:
            # Hypothesis still holds the last step's arguments here: the dropped
            # handles are counted before the next example, once they are gone.
            RUN.pending = (True, list(RUN.history))
        else:
            RUN.pending = (False, list(RUN.history))
            check_session_objects()


def check_session_objects() -> None:
    """After an example: the token shows as many session objects as before it."""
    if RUN.pending is None:
        return
    dropped, history = RUN.pending
    RUN.pending = None
    try:
        drain()
        session, _ = count_objects()
    except pywintypes.error as exc:
        RUN.leaks.append({"error": str(exc), "history": history})
        return
    if session != RUN.baseline_session and session != RUN.last_leak:
        RUN.leaks.append({
            "session_objects": session, "baseline": RUN.baseline_session,
            "dropped": dropped, "history": history,
        })
    RUN.last_leak = session if session != RUN.baseline_session else -1


def _release_with(prov: PyCRYPTPROV) -> None:
    with prov:
        pass


# ---- the run -----------------------------------------------------------------------------
def _setup(home: Path) -> None:
    observer = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                              con.CRYPT_VERIFYCONTEXT)
    assert observer is not None
    RUN.observer = observer
    RUN.baseline_session, RUN.baseline_token = count_objects()
    RUN.pin = (home / "pin").read_text().strip()
    tag = f"csp11-fuzz-{os.getpid()}"
    RUN.containers = [tag, tag + "-b"]
    # The default container (Container=None without CRYPT_VERIFYCONTEXT) is named
    # after the user: make it one of the run's too.
    os.environ["LOGNAME"] = tag + "-default"
    RUN.containers.append(tag + "-default")
    module = find_softhsm2()
    RUN.token_uris = [
        f"pkcs11:token=csp11?module-path={module}&pin-source=file:{home / 'pin'}",
        f"pkcs11:token=csp11?module-path={module}&pin-value=not-the-pin",
    ]
    made = win32crypt.CryptAcquireContext(RUN.containers[0], None, con.PROV_RSA_FULL,
                                          con.CRYPT_NEWKEYSET)
    assert made is not None
    made.CryptReleaseContext()
    csp11.set_pin_prompt(fuzz_prompt)
    # Valid material made elsewhere: BLOBs, DSA parameters, keys, a certificate signer.
    rsa_key = rsa.generate_private_key(65537, 1024)
    dsa_key = dsa.generate_private_key(1024)
    RUN.cert_signer = rsa_key
    numbers = dsa_key.parameters().parameter_numbers()
    RUN.dsa_params = {
        "p": numbers.p.to_bytes(128, "little"),
        "q": numbers.q.to_bytes(20, "little"),
        "g": numbers.g.to_bytes(128, "little"),
    }
    RUN.seed_keys = [rsa_key, rsa_key.public_key(), dsa_key, dsa_key.public_key()]
    RUN.seed_blobs = [
        interop.blob_from_key(rsa_key, con.CALG_RSA_KEYX),
        interop.blob_from_key(rsa_key.public_key(), con.CALG_RSA_SIGN),
        interop.blob_from_key(dsa_key, con.CALG_DSS_SIGN),
        interop.blob_from_key(dsa_key.public_key(), con.CALG_DSS_SIGN),
        # PLAINTEXTKEYBLOB of an AES-128 key.
        bytes([con.PLAINTEXTKEYBLOB, 2, 0, 0]) + con.CALG_AES_128.to_bytes(4, "little")
        + (16).to_bytes(4, "little") + bytes(range(16)),
    ]


def _cleanup() -> tuple[int, int]:
    """Delete the run's containers; (session, token) objects left."""
    check_session_objects()
    for name in RUN.containers:
        for scope in (0, con.CRYPT_MACHINE_KEYSET):
            try:
                win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_FULL,
                                               con.CRYPT_DELETEKEYSET | scope)
            except pywintypes.error as exc:
                if exc.winerror != winerror.NTE_BAD_KEYSET:
                    RUN.leaks.append({"delete": name, "error": str(exc)})
    drain()
    return count_objects()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--steps", type=int, default=40, help="calls per example")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    faulthandler.enable()
    # A hang prints every thread's stack and ends the process (the parent sees it).
    faulthandler.dump_traceback_later(args.timeout, exit=True)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    random.seed(seed)
    RUN.prompt_random.seed(seed)
    started = time.monotonic()
    home = Path(os.environ["CSP11_HOME"])
    _setup(home)
    before_session, before_token = RUN.baseline_session, RUN.baseline_token
    batch = 0
    while RUN.calls < args.calls:
        batch += 1
        examples = max(1, min(20, (args.calls - RUN.calls) // args.steps + 1))
        try:
            run_state_machine_as_test(
                SurfaceMachine,
                settings=settings(
                    max_examples=examples, stateful_step_count=args.steps, deadline=None,
                    database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck), derandomize=False, print_blob=False,
                ),
            )
        except FlakyStrategyDefinition:
            # The token remembers what earlier examples did (containers made
            # and deleted, the PIN prompt's answers), so a replayed prefix of
            # choices can fill the bundles differently; hypothesis then stops
            # the batch.  The fuzz does not shrink: start a new batch.
            RUN.restarts += 1
    session_left, token_left = _cleanup()
    figures = {
        "seed": seed,
        "calls": RUN.calls,
        "examples": RUN.examples,
        "hypothesis_restarts": RUN.restarts,
        "outcomes": dict(RUN.outcomes.most_common()),
        "nte_fail": RUN.outcomes.get("NTE_FAIL", 0),
        "succeeded_by_function": dict(sorted(RUN.by_function.items())),
        "by_function_and_outcome": dict(sorted(RUN.detail.items())),
        "violations": RUN.violations[:20],
        "violation_count": len(RUN.violations),
        "known_token_layer_faults": dict(RUN.known),
        "leaks": RUN.leaks[:10],
        "session_objects": [before_session, session_left],
        "token_objects": [before_token, token_left],
        "objects_left": (session_left - before_session) + (token_left - before_token),
        "seconds": round(time.monotonic() - started, 1),
    }
    faulthandler.cancel_dump_traceback_later()
    sys.stdout.write(FIGURES_MARK + json.dumps(figures) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
