"""The hot paths, straight on the module's function list (issue #16).

python-pkcs11 stays for discovery, object search and the rarely used calls;
the calls made thousands of times go through here instead:

* key generation with templates packed once per key kind (a cached
  ``CK_ATTRIBUTE`` array) and a python-pkcs11 key object made for the new
  handle without python-pkcs11's ten-attribute read (two of which SoftHSM2
  rejects, which costs ten more round trips: TOKEN-FACTS);
* one-shot encrypt/decrypt, digest, sign, verify and random, with the output
  written into the ``bytes`` object that is returned (no size query, no copy
  of a MiB-sized result);
* large unpadded ECB/CBC calls go to the token in 256 KiB pieces
  (``C_*Update``, straight into the result; a decryption as one short
  operation per piece), and the other large calls made on the process's
  main thread run on one worker thread (:class:`_Offload`): glibc trims
  the main arena after every large free and maps MiB-sized blocks afresh,
  so SoftHSM2's MiB-sized temporaries would be given back to the kernel and
  faulted in again at every call (+0.8 ms per MiB, TOKEN-FACTS).  Pieces
  keep SoftHSM2's temporaries small; the worker's arena does not trim per
  call.  No process-wide setting (``mallopt``, ``GLIBC_TUNABLES``) is
  touched.

Every function here runs inside a caller's :func:`library_call` and session
lock (``Token.run``/``run_on``), so it calls the module ungated.  Failures
are raised as python-pkcs11's exception for the return code, so that the
callers' translation and retries stay as they are.
"""

from __future__ import annotations

import ctypes
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from csp11.errors import CKR_NAMES
from csp11.interrupts import signals_to_main_thread
from csp11.token.ckr import _EXCEPTION_CKR
from csp11.token.constants import CKR_OK, DEFAULT, Attribute, KeyType, ObjectClass
from csp11.token.cryptoki import _CK_MECHANISM, _Cryptoki, _ulong
from csp11.token.forkgate import on_child
from csp11.token.pypkcs11 import pkcs11
from csp11.token.template import pack_value

_T = TypeVar("_T")

# Calls with at least this much data, made on the main thread, run on the
# worker thread.  Measured (AES-CBC, docs/performance.md): the hand-over
# costs 25-50 µs; up to 256 KiB the calling thread is faster, at 512 KiB they
# are even, from 768 KiB on the worker is about twice as fast.
OFFLOAD_BYTES = 512 * 1024
# Large unpadded ECB/CBC calls go to the token in pieces of this size
# (crypt()); measured in C on SoftHSM2, 32 KiB to 256 KiB are equally fast.
PIECE_BYTES = 256 * 1024
# Digests of more than this go to the token in pieces of this size (_digest):
# measured on SoftHSM2 (SHA-256 of 1 MiB, one process, interleaved, four runs
# at load 2.1): in 256 KiB pieces 635-652 µs, in 128 KiB pieces 639-657, in
# one C_Digest 653-666; 64 KiB as one call, 32 KiB and less slower.
DIGEST_PIECE_BYTES = 256 * 1024
# The mechanisms for which pieces give the same bytes as one call: unpadded
# ECB and CBC (AES, DES, 3DES), whose update step holds nothing back for
# whole blocks; a multiple of 16 bytes is whole blocks of every one of them.
_PIECEWISE = frozenset({0x1081, 0x1082, 0x121, 0x122, 0x132, 0x133})
_ALIGN = 16
_CKR_BUFFER_TOO_SMALL = 0x150
_CKR_FUNCTION_FAILED = 0x6
_CKR_FUNCTION_NOT_SUPPORTED = 0x54
_CKR_SIGNATURE_INVALID = 0xC0
_CKR_SIGNATURE_LEN_RANGE = 0xC1
_SIGN_ROOM = 4096  # bytes: above a 16384-bit RSA signature
_DIGEST_ROOM = 128  # bytes: above every digest

# python-pkcs11's exception class for each return code, made on the first
# failure (it imports python-pkcs11).
_exception_of_rv: dict[int, type[Exception]] = {}


def raise_for(rv: int) -> NoReturn:
    """Raise what python-pkcs11 raises for the failed return value ``rv``."""
    _raise(rv)


def _raise(rv: int) -> NoReturn:
    """Raise what python-pkcs11 raises for ``rv`` (callers map it as ever)."""
    if not _exception_of_rv:
        classes = {ckr: getattr(pkcs11.exceptions, name) for name, ckr in _EXCEPTION_CKR.items()
                   if hasattr(pkcs11.exceptions, name)}
        _exception_of_rv.update({value: classes[ckr] for value, ckr in CKR_NAMES.items()
                                 if ckr in classes})
    kind = _exception_of_rv.get(rv)
    if kind is not None:
        raise kind()
    # ckr_of reads the number back from this message.
    raise pkcs11.exceptions.PKCS11Error(f"Unmapped error code 0x{rv:08X}")


# ---- ctypes bindings ----
class _CK_ATTRIBUTE(ctypes.Structure):
    _fields_ = (("type", _ulong), ("pValue", ctypes.c_void_p), ("ulValueLen", _ulong))


_VOID = ctypes.c_void_p
_ULONG_P = ctypes.POINTER(_ulong)
_MECH_P = ctypes.POINTER(_CK_MECHANISM)
_ATTR_P = ctypes.POINTER(_CK_ATTRIBUTE)
# The positions after C_SignFinal in CK_FUNCTION_LIST (pkcs11f.h).
_LATER = ("C_SignRecoverInit", "C_SignRecover", "C_VerifyInit", "C_Verify", "C_VerifyUpdate",
          "C_VerifyFinal", "C_VerifyRecoverInit", "C_VerifyRecover", "C_DigestEncryptUpdate",
          "C_DecryptDigestUpdate", "C_SignEncryptUpdate", "C_DecryptVerifyUpdate",
          "C_GenerateKey", "C_GenerateKeyPair", "C_WrapKey", "C_UnwrapKey", "C_DeriveKey",
          "C_SeedRandom", "C_GenerateRandom")
_SLOT_OF = {name: 46 + i for i, name in enumerate(_LATER)}
_SLOT_OF.update({"C_CreateObject": 20, "C_DestroyObject": 22, "C_EncryptInit": 29,
                 "C_Encrypt": 30, "C_EncryptUpdate": 31, "C_EncryptFinal": 32, "C_DecryptInit": 33,
                 "C_Decrypt": 34, "C_DecryptUpdate": 35, "C_DecryptFinal": 36,
                 "C_DigestInit": 37, "C_Digest": 38, "C_DigestUpdate": 39,
                 "C_DigestFinal": 41, "C_SignInit": 42, "C_Sign": 43})


class Calls:
    """The hot calls of one function list, ungated, with pointer arguments
    typed as plain addresses (output goes straight into ``bytes`` objects)."""

    def __init__(self, ck: _Cryptoki) -> None:
        table = ctypes.cast(ck.function_list, ctypes.POINTER(ctypes.c_void_p * 80)).contents
        proto = ctypes.CFUNCTYPE

        def bind(name: str, *args: Any) -> Any:
            address = table[1 + _SLOT_OF[name]]  # [0]: the version, padded
            if not address:  # a module without it: what PKCS#11 says it answers
                return lambda *_: _CKR_FUNCTION_NOT_SUPPORTED
            return proto(_ulong, *args)(address)

        crypt = (_ulong, _VOID, _ulong, _VOID, _ULONG_P)
        self.generate_key = bind("C_GenerateKey", _ulong, _MECH_P, _ATTR_P, _ulong, _ULONG_P)
        self.destroy = bind("C_DestroyObject", _ulong, _ulong)
        self.create_object = bind("C_CreateObject", _ulong, _ATTR_P, _ulong, _ULONG_P)
        # The same two without argument types, for callers that pass only
        # ctypes objects of exactly the C types (made once, see Quick): no
        # conversion per argument (measured: 1.5 µs less per key made and
        # destroyed).  Never call these with Python ints.
        self.generate_key_as_is = bind("C_GenerateKey")
        self.destroy_as_is = bind("C_DestroyObject")
        self.encrypt_init = bind("C_EncryptInit", _ulong, _MECH_P, _ulong)
        self.encrypt = bind("C_Encrypt", *crypt)
        self.encrypt_update = bind("C_EncryptUpdate", *crypt)
        self.encrypt_final = bind("C_EncryptFinal", _ulong, _VOID, _ULONG_P)
        self.decrypt_update = bind("C_DecryptUpdate", *crypt)
        self.decrypt_final = bind("C_DecryptFinal", _ulong, _VOID, _ULONG_P)
        self.decrypt_init = bind("C_DecryptInit", _ulong, _MECH_P, _ulong)
        self.decrypt = bind("C_Decrypt", *crypt)
        self.digest_init = bind("C_DigestInit", _ulong, _MECH_P)
        self.digest = bind("C_Digest", *crypt)
        self.digest_update = bind("C_DigestUpdate", _ulong, _VOID, _ulong)
        self.digest_final = bind("C_DigestFinal", _ulong, _VOID, _ULONG_P)
        self.sign_init = bind("C_SignInit", _ulong, _MECH_P, _ulong)
        self.sign = bind("C_Sign", *crypt)
        self.verify_init = bind("C_VerifyInit", _ulong, _MECH_P, _ulong)
        self.verify = bind("C_Verify", _ulong, _VOID, _ulong, _VOID, _ulong)
        self.random = bind("C_GenerateRandom", _ulong, _VOID, _ulong)
        self.templates: dict[Any, _Template] = {}
        # The same, by the template's identity (csp11's templates are made
        # once per key kind and never changed): no tuple to build and hash.
        # Each entry holds its template, so its id cannot be reused meanwhile.
        self.by_identity: dict[int, tuple[Mapping[Any, object], Any, int, _Template]] = {}
        # CK_MECHANISM structures without a parameter, made once each: the
        # token only reads them.
        self.mechanisms: dict[int, _CK_MECHANISM] = {}
        # quick_generation's, by the template's identity.
        self.quick: dict[int, Quick] = {}


_calls_lock = threading.Lock()


def calls_of(ck: _Cryptoki) -> Calls:
    """The :class:`Calls` of a library's binding (made once)."""
    found: Calls | None = getattr(ck, "fast", None)
    if found is None:
        with _calls_lock:
            found = getattr(ck, "fast", None)
            if found is None:
                found = Calls(ck)
                ck.fast = found
    return found


# ---- output straight into bytes ----
_new_bytes = ctypes.pythonapi.PyBytes_FromStringAndSize
_new_bytes.restype = ctypes.py_object
_new_bytes.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t)
_BYTES_DATA = bytes.__basicsize__ - 1  # offset of ob_sval in a bytes object
_SMALL = 64  # below this a plain buffer (and bytes of size 0/1 are shared singletons)


def _fresh(size: int) -> bytes:
    """A new, unshared ``bytes`` of ``size`` (>= 2) bytes, to be filled at
    ``id(out) + _BYTES_DATA`` before anyone else sees it (what CPython's own
    C code does with ``PyBytes_FromStringAndSize(NULL, n)``)."""
    out: bytes = _new_bytes(None, size)
    return out


def _mechanism(mechanism: int, param: bytes | None) -> _CK_MECHANISM:
    if not param:
        return _CK_MECHANISM(mechanism, None, 0)
    return _CK_MECHANISM(mechanism, ctypes.cast(ctypes.c_char_p(param), ctypes.c_void_p),
                         len(param))


# ---- large calls off the main thread ----
class _Offload:
    """One worker thread for the large calls the main thread makes.

    A call waits for its result; calls from other threads run where they
    are (their arenas do not trim after each call, and a single worker would
    serialise them).  Made afresh in a child after fork().
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] | None = None
        self._lock = threading.Lock()
        on_child(self._forget)

    def _forget(self) -> None:
        self._jobs = None
        self._lock = threading.Lock()

    def _queue(self) -> queue.SimpleQueue[Any]:
        jobs = self._jobs
        if jobs is None:
            with self._lock:
                jobs = self._jobs
                if jobs is None:
                    jobs = queue.SimpleQueue()
                    threading.Thread(target=self._work, args=(jobs,), daemon=True,
                                     name="csp11-bulk").start()
                    self._jobs = jobs
        return jobs

    @staticmethod
    def _work(jobs: queue.SimpleQueue[Any]) -> None:
        signals_to_main_thread()
        while True:
            job = jobs.get()
            fn, done, box = job
            try:
                box.append((True, fn()))
            except BaseException as exc:  # handed to the caller, who raises it
                box.append((False, exc))
            done.release()

    def run(self, size: int, fn: Callable[[], _T]) -> _T:
        """``fn()``, on the worker when the main thread moves ``size`` bytes."""
        if size < OFFLOAD_BYTES or threading.current_thread() is not threading.main_thread():
            return fn()
        done = threading.Lock()
        done.acquire()
        box: list[tuple[bool, Any]] = []
        self._queue().put((fn, done, box))
        interrupted: BaseException | None = None
        while not box:  # the worker fills box, then releases done
            # A signal's exception (KeyboardInterrupt, a handler's SystemExit)
            # waits for the token call to end: the process may exit next,
            # and the module must not be torn down under a running call.
            # (It may also come right after acquire() returned: box decides.)
            try:
                done.acquire()
            except BaseException as exc:
                interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted
        ok, value = box[0]
        if not ok:
            raise value
        result: _T = value
        return result


offload = _Offload()


# ---- one-shot operations ----
def _crypt(calls: Calls, session: int, mech: _CK_MECHANISM, key: int, *, encrypting: bool,
           data: bytes, out: bytes) -> bytes:
    init, call = ((calls.encrypt_init, calls.encrypt) if encrypting
                  else (calls.decrypt_init, calls.decrypt))
    rv = init(session, ctypes.byref(mech), key)
    if rv != CKR_OK:
        _raise(rv)
    size = _ulong(len(out))
    rv = call(session, data, len(data), id(out) + _BYTES_DATA, ctypes.byref(size))
    if rv == _CKR_BUFFER_TOO_SMALL:  # the operation is still active: give it room
        out = _fresh(size.value)
        rv = call(session, data, len(data), id(out) + _BYTES_DATA, ctypes.byref(size))
    if rv != CKR_OK:
        _raise(rv)
    return out if size.value == len(out) else out[: size.value]


def _encrypt_pieces(calls: Calls, session: int, mech: _CK_MECHANISM, key: int, *,
                    data: bytes, out: bytes) -> bytes:
    """An unpadded ECB/CBC encryption as ``C_EncryptInit``, ``C_EncryptUpdate``
    of :data:`PIECE_BYTES` at a time written straight into ``out``, and
    ``C_EncryptFinal``: for these mechanisms the same bytes as one
    ``C_Encrypt``."""
    rv = calls.encrypt_init(session, ctypes.byref(mech), key)
    if rv != CKR_OK:
        _raise(rv)
    total, source, target = len(data), id(data) + _BYTES_DATA, id(out) + _BYTES_DATA
    done = written = 0
    size = _ulong()
    while done < total:
        piece = min(PIECE_BYTES, total - done)
        size.value = total - written
        rv = calls.encrypt_update(session, source + done, piece, target + written,
                                  ctypes.byref(size))
        if rv != CKR_OK:
            _raise(rv)
        done += piece
        written += size.value
    # The end goes to a small buffer of its own: p11-kit's RPC answers a
    # zero-length one (what is left of ``out`` here) with CKR_BUFFER_TOO_SMALL
    # (measured through p11-kit-client), and these mechanisms end with nothing.
    last = ctypes.create_string_buffer(_ALIGN)
    size.value = _ALIGN
    rv = calls.encrypt_final(session, last, ctypes.byref(size))
    if rv != CKR_OK:
        _raise(rv)
    if size.value:  # pragma: no cover - unpadded ECB/CBC leave nothing for the end
        return out[:written] + last.raw[: size.value]
    return out if written == total else out[:written]


def _decrypt_chained(calls: Calls, session: int, mechanism: int, param: bytes | None, key: int,
                     *, data: bytes, out: bytes) -> bytes:
    """An unpadded ECB/CBC decryption as one short operation per
    :data:`PIECE_BYTES` piece (``C_DecryptInit``, one ``C_DecryptUpdate``
    straight into ``out``, ``C_DecryptFinal``), each CBC piece started with
    the ciphertext block before it as its IV: the same bytes as one call.

    Not one operation for the whole call: SoftHSM2 keeps a copy of all the
    ciphertext an operation has decrypted until its ``C_DecryptFinal``
    (``SymmetricAlgorithm::decryptUpdate`` appends it to an AEAD buffer, for
    every mode), grown a byte at a time, so the cost of a piece grows with
    the operation.  Measured in C on SoftHSM2 2.6.1, 1 MiB: 256 KiB pieces
    as one operation each 0.91-0.97 ms (1.52-1.63 in the machine's slow
    state), as four updates of one operation 1.18-1.22 (1.89-2.06);
    in Python, ``CryptDecrypt`` 1.0-1.75 ms against 2.2 as one operation on
    the worker thread.  Pieces this short need no worker thread
    (:class:`_Offload`): the worker was measured slower (1.7-1.9 ms).
    """
    init, update, final = calls.decrypt_init, calls.decrypt_update, calls.decrypt_final
    total, source, target = len(data), id(data) + _BYTES_DATA, id(out) + _BYTES_DATA
    block = len(param) if param else 0  # a CBC IV is one block; ECB has none
    done = written = 0
    size = _ulong()
    # The end of each piece goes to a small buffer of its own (see
    # _encrypt_pieces: p11-kit's RPC refuses a zero-length one).
    last = ctypes.create_string_buffer(_ALIGN)
    while done < total:
        piece = min(PIECE_BYTES, total - done)
        mech = _mechanism(mechanism, data[done - block:done] if done and block else param)
        rv = init(session, ctypes.byref(mech), key)
        if rv != CKR_OK:
            _raise(rv)
        size.value = total - written
        rv = update(session, source + done, piece, target + written, ctypes.byref(size))
        if rv != CKR_OK:
            _raise(rv)  # the operation ended with the failure (PKCS #11 5.2)
        done += piece
        written += size.value
        size.value = _ALIGN
        rv = final(session, last, ctypes.byref(size))
        if rv != CKR_OK:
            _raise(rv)
        if size.value:  # pragma: no cover - unpadded ECB/CBC leave nothing for the end
            _raise(_CKR_FUNCTION_FAILED)
    return out if written == total else out[:written]


def crypt(ck: _Cryptoki, session: int, key: int, *, encrypting: bool, mechanism: int,
          param: bytes | None, data: bytes) -> bytes:
    """``C_EncryptInit`` + ``C_Encrypt`` (or the decrypt pair) of a secret key.

    The output is allocated here, on the calling thread, and written by the
    token (on the worker thread for large one-piece calls): measured, a
    result allocated on the worker and freed by the caller costs more than
    the trimming the worker avoids.

    A large unpadded ECB/CBC call goes to the token in pieces, on the calling
    thread: SoftHSM2 then allocates piece-sized temporaries instead of
    MiB-sized ones, which glibc neither maps afresh nor trims at every call.
    Encryption is one operation (:func:`_encrypt_pieces`: 1 MiB of AES-256-CBC
    in 1.14-1.3 ms, as fast as C with glibc's thresholds raised);
    decryption one operation per piece (:func:`_decrypt_chained`, which says
    why).
    """
    # As long as the input: what every unpadded mechanism gives (a padding one
    # answers CKR_BUFFER_TOO_SMALL with the size, and _crypt gives it that).
    out = _fresh(max(len(data), _SMALL))
    calls, data = calls_of(ck), bytes(data)
    if len(data) > PIECE_BYTES and mechanism in _PIECEWISE and not len(data) % _ALIGN:
        if not encrypting:
            return _decrypt_chained(calls, session, mechanism, param, key, data=data, out=out)
        return _encrypt_pieces(calls, session, _mechanism(mechanism, param), key, data=data,
                               out=out)
    mech = _mechanism(mechanism, param)
    return offload.run(len(data), lambda: _crypt(calls, session, mech, key,
                                                 encrypting=encrypting, data=data, out=out))


def _digest(calls: Calls, session: int, mech: _CK_MECHANISM, data: bytes) -> bytes:
    rv = calls.digest_init(session, mech)
    if rv != CKR_OK:
        _raise(rv)
    out = _DigestOut()
    size = _ulong(_DIGEST_ROOM)
    total = len(data)
    if total <= DIGEST_PIECE_BYTES:
        rv = calls.digest(session, data, total, out, ctypes.byref(size))
    else:
        # In pieces: SoftHSM2 copies each piece into a buffer of its own
        # before hashing it, and a piece's copy is still in the cache when it
        # is hashed (docs/performance.md, "Fourth pass").  C_DigestUpdate
        # takes no output, so a failure anywhere ends the operation as a
        # failed C_Digest would (PKCS #11: an update's error ends the operation).
        source, update, done = id(data) + _BYTES_DATA, calls.digest_update, 0
        try:
            while done < total:
                piece = min(DIGEST_PIECE_BYTES, total - done)
                rv = update(session, source + done, piece)
                if rv != CKR_OK:
                    _raise(rv)
                done += piece
        except BaseException:
            # Also interrupted between pieces (a signal): no operation is
            # left active in the pooled session.
            calls.digest_final(session, out, ctypes.byref(size))
            raise
        rv = calls.digest_final(session, out, ctypes.byref(size))
    if rv != CKR_OK:
        _raise(rv)
    return out.raw[: size.value]


_DigestOut = ctypes.c_char * _DIGEST_ROOM
_SignOut = ctypes.c_char * _SIGN_ROOM


def digest(ck: _Cryptoki, session: int, mechanism: int, data: bytes) -> bytes:
    """``C_DigestInit`` + ``C_Digest``, on the calling thread whatever the size:
    measured, a digest allocates nothing large in SoftHSM2 (C plain and C
    with trimming tuned run at the same speed), so the hand-over would be
    pure cost."""
    calls = calls_of(ck)
    return _digest(calls, session, _plain_mechanism(calls, mechanism), bytes(data))


def sign(ck: _Cryptoki, session: int, mechanism: int, key: int, data: bytes) -> bytes:
    """``C_SignInit`` + ``C_Sign`` (no context-specific login: see TokenKey.sign)."""
    calls = calls_of(ck)
    rv = calls.sign_init(session, _plain_mechanism(calls, mechanism), key)
    if rv != CKR_OK:
        _raise(rv)
    out = _SignOut()
    size = _ulong(_SIGN_ROOM)
    rv = calls.sign(session, bytes(data), len(data), out, ctypes.byref(size))
    if rv != CKR_OK:
        _raise(rv)
    return out.raw[: size.value]


def verify(ck: _Cryptoki, session: int, mechanism: int, key: int, *, data: bytes,
           signature: bytes) -> bool:
    """``C_VerifyInit`` + ``C_Verify``: whether the signature is right."""
    calls = calls_of(ck)
    rv = calls.verify_init(session, _plain_mechanism(calls, mechanism), key)
    if rv != CKR_OK:
        _raise(rv)
    rv = calls.verify(session, bytes(data), len(data), bytes(signature), len(signature))
    if rv in (_CKR_SIGNATURE_INVALID, _CKR_SIGNATURE_LEN_RANGE):
        return False
    if rv != CKR_OK:
        _raise(rv)
    return True


def destroy(ck: _Cryptoki, session: int, handles: list[int]) -> None:
    """``C_DestroyObject`` of each handle (all of them, even when one fails).

    Each handle destroyed leaves ``handles``, so that a call tried again
    (a busy store: SessionPool.waited_for_store) destroys only the rest and
    never a handle number the token may since have given to a new object."""
    calls = calls_of(ck)
    failed = CKR_OK
    for handle in list(handles):
        rv = calls.destroy(session, handle)
        if rv == CKR_OK:
            handles.remove(handle)
        failed = failed or rv
    if failed != CKR_OK:
        _raise(failed)


def create_object(ck: _Cryptoki, session: int, template: Mapping[Any, object]) -> int:
    """``C_CreateObject`` of a checked template (packed for this call): the handle."""
    calls = calls_of(ck)
    packed = _Template(template)
    handle = _ulong()
    rv = calls.create_object(session, packed.array, packed.count, ctypes.byref(handle))
    if rv != CKR_OK:
        _raise(rv)
    return int(handle.value)


def _random(calls: Calls, session: int, out: Any, address: int | None) -> None:
    rv = calls.random(session, out if address is None else address, len(out))
    if rv != CKR_OK:
        _raise(rv)


def random(ck: _Cryptoki, session: int, length: int) -> bytes:
    """``C_GenerateRandom`` of ``length`` bytes, on the calling thread, in
    pieces of at most :data:`PIECE_BYTES` (SoftHSM2 then allocates no
    MiB-sized temporary: measured, 1 MiB in 256 KiB pieces on the main
    thread 205-257 µs, in one call on the worker 227-231 µs, in one call on
    the main thread 1 071-1 089 µs; C 202 µs)."""
    if length < _SMALL:
        buf = ctypes.create_string_buffer(length)
        _random(calls_of(ck), session, buf, None)
        return buf.raw
    out = _fresh(length)
    calls, base = calls_of(ck), id(out) + _BYTES_DATA
    for at in range(0, length, PIECE_BYTES):
        rv = calls.random(session, base + at, min(PIECE_BYTES, length - at))
        if rv != CKR_OK:
            _raise(rv)
    return out


# ---- key generation ----
class _Template:
    """A template packed once: the ``CK_ATTRIBUTE`` array and the buffers it points into."""

    __slots__ = ("array", "capabilities", "count", "values")

    def __init__(self, merged: Mapping[Any, object]) -> None:
        self.values = [pack_value(k, v) for k, v in merged.items()]
        self.count = len(self.values)
        self.array = (_CK_ATTRIBUTE * self.count)()
        for slot, (key, value) in zip(self.array, zip(merged, self.values, strict=True),
                                      strict=True):
            slot.type = int(key)
            slot.pValue = ctypes.cast(ctypes.c_char_p(value), ctypes.c_void_p)
            slot.ulValueLen = len(value)
        # What python-pkcs11's make_object would find the key can do.
        self.capabilities = tuple(bool(merged.get(a)) for a in _MIXIN_ATTRIBUTES)


_MIXIN_ATTRIBUTES = (Attribute.ENCRYPT, Attribute.DECRYPT, Attribute.SIGN, Attribute.VERIFY,
                     Attribute.WRAP, Attribute.UNWRAP, Attribute.DERIVE)
# python-pkcs11's secret-key defaults, in its order, for a key with no
# capabilities, no id or label, not stored (its AttributeMapper's
# secret_key_template; tests/test_fastpath.py checks they are the same).
_SECRET_DEFAULTS: Mapping[Any, object] = {
    Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.ID: b"", Attribute.LABEL: "",
    Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False, Attribute.WRAP: False, Attribute.UNWRAP: False,
    Attribute.SIGN: False, Attribute.VERIFY: False, Attribute.DERIVE: False,
    Attribute.TOKEN: False,
}
# Key types whose length python-pkcs11 does not put in the template.
_NO_VALUE_LEN = frozenset({KeyType.DES2, KeyType.DES3, KeyType.GOST28147, KeyType.SEED})


def _template_key(key_type: Any, key_bits: int, template: Mapping[Any, object]) -> Any:
    try:
        key = (key_type, key_bits, tuple(template.items()))
        hash(key)
    except TypeError:
        return None  # an unhashable value: packed for this call only
    return key


def _packed(calls: Calls, key_type: Any, key_bits: int,
            template: Mapping[Any, object]) -> _Template:
    """The template python-pkcs11's ``generate_key`` would send (its defaults
    for a secret key with no capabilities, ``CKA_VALUE_LEN`` from the bits,
    then ``template``; :data:`DEFAULT` drops an entry), packed once per key kind."""
    mine = calls.by_identity.get(id(template))
    if mine is not None and mine[0] is template and mine[1] == key_type and mine[2] == key_bits:
        return mine[3]
    cache_key = _template_key(key_type, key_bits, template)
    found = calls.templates.get(cache_key) if cache_key is not None else None
    if found is not None:
        _remember(calls, template, key_type, key_bits, found)
        return found
    merged = dict(_SECRET_DEFAULTS)
    if key_type not in _NO_VALUE_LEN:  # as python-pkcs11 does
        merged[Attribute.VALUE_LEN] = key_bits // 8
    merged.update(template)  # python-pkcs11's merge_templates: DEFAULT drops an entry
    merged = {k: v for k, v in merged.items() if v is not DEFAULT}
    packed = _Template(merged)
    if cache_key is not None and len(calls.templates) < 256:
        calls.templates[cache_key] = packed
        _remember(calls, template, key_type, key_bits, packed)
    return packed


def _remember(calls: Calls, template: Mapping[Any, object], key_type: Any, key_bits: int,
              packed: _Template) -> None:
    if len(calls.by_identity) >= 256:
        calls.by_identity.clear()
    calls.by_identity[id(template)] = (template, key_type, key_bits, packed)


def _plain_mechanism(calls: Calls, mechanism: int) -> _CK_MECHANISM:
    """The ``CK_MECHANISM`` of a mechanism without a parameter (made once)."""
    found = calls.mechanisms.get(mechanism)
    if found is None:
        found = calls.mechanisms[mechanism] = _CK_MECHANISM(mechanism, None, 0)
    return found


class _ObjectMaker:
    """python-pkcs11 key objects for handles csp11 made, without its attribute read.

    python-pkcs11 keeps the session and handle in C members of its
    ``ObjectHandleWrapper``, which it fills only in C.  Their places are
    learnt from a real wrapper python-pkcs11 made (each found once, exactly),
    and every object made here is checked through python-pkcs11's own
    read-only properties before use; if anything does not match, csp11 keeps
    using python-pkcs11's own path.
    """

    def __init__(self) -> None:
        self.offsets: tuple[int, int, int] | None = None  # funclist, session, handle
        self.failed = False
        self._classes: dict[tuple[bool, ...], type] = {}
        # python-pkcs11's classes (read when learning: python-pkcs11 is loaded then).
        self._wrapper: Any = None
        self._secret_key: Any = None
        self._object: Any = None
        self._mixins: tuple[Any, ...] = ()

    def learn(self, real: Any) -> None:
        """Learn the places from ``real``, a key object python-pkcs11 made itself."""
        ext = pkcs11._pkcs11
        self._wrapper = getattr(ext, "ObjectHandleWrapper", None)
        self._secret_key = getattr(ext, "SecretKey", None)
        self._object = getattr(ext, "Object", None)
        self._mixins = tuple(getattr(ext, n, None) for n in (
            "EncryptMixin", "DecryptMixin", "SignMixin", "VerifyMixin", "WrapMixin",
            "UnwrapMixin", "DeriveMixin"))
        wrapper: Any = getattr(real, "wrapper", None)
        kind = self._wrapper
        needed = (wrapper, kind, *self._mixins, self._secret_key, self._object)
        if any(part is None for part in needed) or type(wrapper) is not kind:
            self.failed = True
            return
        session = wrapper.session
        pointer = ctypes.sizeof(ctypes.c_void_p)
        header = object.__basicsize__
        words = [ctypes.c_void_p.from_address(id(wrapper) + at).value or 0
                 for at in range(header, kind.__basicsize__, pointer)]
        funclist = ctypes.c_void_p.from_address(id(session) + header).value
        spots = [[header + i * pointer for i, w in enumerate(words) if w == want]
                 for want in (funclist, id(session), wrapper.handle)]
        if any(len(s) != 1 for s in spots) or not funclist:
            self.failed = True
            return
        self.offsets = (spots[0][0], spots[1][0], spots[2][0])

    def make(self, session: Any, handle: int, capabilities: tuple[bool, ...]) -> Any | None:
        """A SecretKey object of ``session`` for ``handle``, or None (use python-pkcs11)."""
        if self.offsets is None:
            return None
        at_funclist, at_session, at_handle = self.offsets
        wrapper = self._wrapper.__new__(self._wrapper)
        base = id(wrapper)
        slot = ctypes.c_void_p.from_address(base + at_session)
        held = ctypes.c_ulong.from_address(base + at_handle)
        if slot.value != id(None) or held.value:
            self.failed, self.offsets = True, None
            return None
        # The HasFuncList members, as python-pkcs11's wrap() copies them.
        ctypes.memmove(base + at_funclist, id(session) + object.__basicsize__,
                       _FUNCLIST_MEMBERS)
        _incref(session)
        slot.value = id(session)
        _decref(None)
        held.value = handle
        if wrapper.session is not session or wrapper.handle != handle:
            self.failed, self.offsets = True, None
            return None
        klass = self._classes.get(capabilities)
        if klass is None:
            bases = (self._secret_key,
                     *(m for m, on in zip(self._mixins, capabilities, strict=True) if on),
                     self._object)
            klass = self._classes[capabilities] = type("SecretKey", bases, {})
        return klass(wrapper)


_FUNCLIST_MEMBERS = 3 * ctypes.sizeof(ctypes.c_void_p)
_incref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_IncRef", ctypes.pythonapi))
_decref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_DecRef", ctypes.pythonapi))
_maker = _ObjectMaker()
_maker_lock = threading.Lock()


def _generate(calls: Calls, session: Any, key_type: Any, key_bits: int, *, mechanism: Any,
              template: Mapping[Any, object]) -> tuple[int, tuple[bool, ...]]:
    """``C_GenerateKey`` with the packed template: the handle and the key's
    capabilities (as python-pkcs11's object would carry them)."""
    packed = _packed(calls, key_type, key_bits, template)
    handle = _ulong()
    rv = calls.generate_key(session.handle, _plain_mechanism(calls, int(mechanism)),
                            packed.array, packed.count, ctypes.byref(handle))
    if rv != CKR_OK:
        _raise(rv)
    return handle.value, packed.capabilities


class Quick:
    """A secret key kind's ``C_GenerateKey``, ready to call: the packed
    template, the mechanism structure and the capabilities the key's object
    will carry, looked up once per template (by identity: csp11's templates
    are made once per key kind and never changed)."""

    __slots__ = ("array_ref", "capabilities", "count", "generate_key", "key_bits", "key_type",
                 "mech_ref", "mechanism", "packed", "template")

    def __init__(self, calls: Calls, key_type: Any, key_bits: int, mechanism: Any,
                 template: Mapping[Any, object]) -> None:
        packed = _packed(calls, key_type, key_bits, template)
        self.template, self.key_type, self.key_bits = template, key_type, key_bits
        self.mechanism = mechanism
        self.packed = packed  # what array_ref points into, kept alive with it
        self.generate_key = calls.generate_key_as_is
        # Every argument as the C call takes it (generate_key_as_is has no
        # argument types): CK_MECHANISM_PTR, CK_ATTRIBUTE_PTR, CK_ULONG.
        self.mech_ref = ctypes.byref(_plain_mechanism(calls, int(mechanism)))
        self.array_ref = ctypes.byref(packed.array)
        self.count = _ulong(packed.count)
        self.capabilities = packed.capabilities

    def call(self, session: Any, handle_out: Any) -> int:
        """``C_GenerateKey`` (ungated) in ``session``, a ``CK_ULONG`` (ctypes)
        session handle; the new handle goes to ``handle_out``, a pointer to a
        ``CK_ULONG``."""
        rv: int = self.generate_key(session, self.mech_ref, self.array_ref, self.count,
                                    handle_out)
        return rv


def quick_generation(ck: _Cryptoki, key_type: Any, key_bits: int, mechanism: Any,
                     template: Mapping[Any, object]) -> Quick | None:
    """The :class:`Quick` generation of a session's secret key, or None for a
    template packed for one call only (then :func:`generate_handle`)."""
    calls = calls_of(ck)
    found = calls.quick.get(id(template))
    if (found is None or found.template is not template or found.key_type != key_type
            or found.key_bits != key_bits or found.mechanism != mechanism):
        if _template_key(key_type, key_bits, template) is None:
            return None  # packed for one call only: the general path
        found = Quick(calls, key_type, key_bits, mechanism, template)
        if len(calls.quick) >= 256:
            calls.quick.clear()
        calls.quick[id(template)] = found  # holds its template: the id stays its own
    return found


def generate_handle(ck: _Cryptoki, session: Any, key_type: Any, key_bits: int, *,
                    mechanism: Any, template: Mapping[Any, object]) -> tuple[int, tuple[bool, ...]]:
    """``C_GenerateKey`` of a session's secret key: its ``(handle, capabilities)``,
    for :func:`object_for` to make python-pkcs11's object when something
    needs one (a key generated and destroyed unused never does, and never
    imports python-pkcs11)."""
    return _generate(calls_of(ck), session, key_type, key_bits, mechanism=mechanism,
                     template=template)


def object_for(session: Any, handle: int, capabilities: tuple[bool, ...]) -> Any | None:
    """python-pkcs11's object for a secret key :func:`generate_handle` made
    (no token call), or None: then :func:`find_secret` (until the object
    maker has learnt from the first one found, and should the maker fail)."""
    return _maker.make(session, handle, capabilities)


def find_secret(session: Any, handle: int) -> Any:
    """python-pkcs11's own object for a secret key's handle, found by a
    search (the object maker learns from the first one)."""
    for found in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
        if found.handle == handle:
            if _maker.offsets is None and not _maker.failed:
                with _maker_lock:
                    if _maker.offsets is None and not _maker.failed:
                        _maker.learn(found)
            return found
    raise pkcs11.exceptions.ObjectHandleInvalid()
