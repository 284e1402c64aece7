"""Encrypting and decrypting files with a key container's exchange key.

Microsoft's "Encrypting a File" and "Decrypting a File" samples, on a
PKCS#11 token, made safe to use:

Encrypting
    open the named container of ``PROV_RSA_AES`` (only the default container,
    :data:`DEFAULT_CONTAINER`, is made on first use; another name must exist:
    ``csp11 keys create NAME``); take its ``AT_KEYEXCHANGE`` pair
    (``CryptGetUserKey``); generate a session key for this file only
    (``CryptGenKey(CALG_AES_256, CRYPT_EXPORTABLE)``: it must be exportable
    to be wrapped) and a random IV (``CryptGenRandom``, ``KP_IV``); export
    the session key as a SIMPLEBLOB under the exchange key with
    ``CRYPT_OAEP``, then withdraw ``CRYPT_EXPORT`` from ``KP_PERMISSIONS``
    (the token makes the key non-extractable); write the header (which names
    the container and the exchange key), then the file encrypted in
    :data:`CHUNK_SIZE` pieces (``CryptEncrypt(Final=False)``, ``Final=True``
    for the last, which adds PKCS #5 padding), then the signature.

Integrity
    AES-CBC has none, so a ``CALG_SHA_256`` hash object takes the session key
    (``CryptHashSessionKey(CRYPT_LITTLE_ENDIAN)``: ``C_DigestKey`` on the
    token), the header bytes, and the *ciphertext*; the container's exchange
    key signs it (``CryptSignHash(AT_KEYEXCHANGE)``): encrypt, then sign.
    OAEP rather than PKCS #1 v1.5 for the SIMPLEBLOB.

Decrypting
    read and check the header; open the container it names (``container=``
    overrides; never create one); check that its exchange key is the one the
    header names; import the session key (``CryptImportKey(SIMPLEBLOB,
    exchange key, CRYPT_OAEP)``).  Then, by what the output is:

    *A regular file* (published by :mod:`csp11.safefiles`: written into an
    unnamed file, ``O_TMPFILE``, and given its name only when complete), **in
    one pass**: each piece is read once, hashed on the token on one thread and
    decrypted on the token on another, and written to the unnamed file; the
    signature is checked at the end (``CryptVerifySignature``), and only a
    file that authenticates is given its name.  One that does not is
    discarded with the unnamed file: no name ever shows unauthenticated
    plaintext.  (Where the file system cannot make unnamed files, safefiles'
    private 0600 ``.csp11-*.tmp`` fallback holds it instead, and is removed
    the same way; one that SIGKILL left is removed by the next run writing
    into that directory, as safefiles says.)  Each byte is read once, so a file changed meanwhile
    either was read before the change (and what was decrypted is what was
    signed) or fails to verify.

    *Standard output, a FIFO, a device* (written as it comes: nothing can be
    taken back), **in two passes**.  Pass 1 hashes the ciphertext and checks
    the signature, decrypting nothing, and keeps a SHA-256 of each piece.
    Pass 2 reads the pieces again, checks each against pass 1 (a file
    changed between the passes fails), decrypts and writes them.  So such
    an output gets only authenticated plaintext.

    Every way a file can fail to authenticate — a changed byte anywhere, a
    truncation, trailing data, another format, a header naming a container or
    key this token does not have — raises :class:`NotAuthentic` (a
    :class:`csp11.pywintypes.error` whose ``strerror`` says which, for
    ``--verbose``); the ``csp11`` command reports them all with one message.

Memory stays constant: a few pieces of input and output at a time, plus
(two passes only) 32 bytes per piece from pass 1.

File format, version 2 (integers little-endian, as CryptoAPI writes them)::

    offset  size  field
    0       8     magic b"CSP11ENC"
    8       2     version = 2
    10      4     ALG_ID of the session key = CALG_AES_256 (0x6610), CBC, PKCS #5 padding
    14      4     ALG_ID of the hash = CALG_SHA_256 (0x800C)
    18      8     plaintext size in bytes
    26      16    IV
    42      2     SIMPLEBLOB size, b
    44      2     signature size, s (the exchange key's modulus size)
    46      32    key id: SHA-256 of the exchange key's PUBLICKEYBLOB
    78      2     container name size, c (1..1024)
    80      c     container name, UTF-8
    80+c    b     SIMPLEBLOB (CRYPT_OAEP) of the session key under the exchange key
    80+c+b  n     ciphertext: n = (plaintext size // 16 + 1) * 16
    ...     s     signature (CryptSignHash, little-endian as CryptoAPI returns it)
                  of SHA-256(session key ‖ header bytes ‖ ciphertext)

Version 1 (csp11 0.1) is the same without the key id and the container name
(the SIMPLEBLOB at offset 46).  It is still read: its container is
``container=``, else :data:`DEFAULT_CONTAINER` (what 0.1 used by default).
Files are always written as version 2.

File-system failures (a missing input, an existing output without
``overwrite``) are :class:`OSError`; everything else is
:class:`csp11.pywintypes.error`.  Two processes that race to give the default
container its exchange key serialise on the token's store lock.  Outputs are
written as :mod:`csp11.safefiles` describes (unnamed until complete).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import stat
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar, cast

from csp11 import safefiles, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.interrupts import checkpoint, interruptible, signals_to_main_thread
from csp11.pywintypes import error
from csp11.win32crypt import PyCRYPTHASH, PyCRYPTKEY, PyCRYPTPROV

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_CONTAINER",
    "EXCHANGE_KEY_BITS",
    "MAGIC",
    "SUFFIX",
    "VERSION",
    "FileResult",
    "Header",
    "NoContainer",
    "NoExchangeKey",
    "NotAuthentic",
    "Progress",
    "decrypt_file",
    "default_output",
    "encrypt_file",
    "ensure_exchange_key",
    "exchange_key",
    "key_id",
    "open_container",
]

MAGIC = b"CSP11ENC"
VERSION = 2
CHUNK_SIZE = 1 << 20  # bytes per CryptEncrypt/CryptDecrypt call: whole AES blocks
DEFAULT_CONTAINER = "csp11-files"
EXCHANGE_KEY_BITS = 2048  # of an exchange key made for the default container
SUFFIX = ".csp11"

_CIPHER = con.CALG_AES_256
_HASH = con.CALG_SHA_256
_BLOCK = 16  # AES block size in bytes
_PREFIX = struct.Struct("<8sH")  # magic, version
_FIXED = struct.Struct("<8sHIIQ16sHH")  # the part versions 1 and 2 share
_V2 = struct.Struct("<32sH")  # key id, container name size
_MAX_NAME = 1024
_MAX_BLOB = 12 + 16384 // 8  # BLOBHEADER + ALG_ID + the largest RSA modulus
_MAX_SIGNATURE = 16384 // 8

Progress = Callable[[int, int], None]
"""A progress callback: ``(bytes done, bytes in all)``.  Called after each
piece; an exception it raises aborts the operation (and no output is left)."""


class NotAuthentic(error):
    """The file does not authenticate: changed, truncated, not made by
    :func:`encrypt_file`, or for a container or key this token does not have.
    ``strerror`` says which; ``hint`` (or ``None``) what the user can do
    beyond the usual."""

    hint: str | None = None


class NoContainer(error):
    """The container named by the caller does not exist on the token."""

    container: str = ""


class NoExchangeKey(error):
    """The container named by the caller has no exchange key."""

    container: str = ""


@dataclass(frozen=True)
class FileResult:
    """What :func:`encrypt_file` or :func:`decrypt_file` did."""

    input: str
    output: str
    bytes: int  # plaintext bytes
    seconds: float
    container: str
    key_bits: int = 0  # of the exchange key
    created_key: bool = False  # the exchange key was made by this call
    header_bytes: int = 0


@dataclass(frozen=True)
class Header:
    """The header of a file (see the module docstring)."""

    size: int
    iv: bytes
    key_blob: bytes
    signature_size: int
    container: str | None = None  # version 2
    key_id: bytes | None = None  # version 2
    version: int = VERSION

    @property
    def body_size(self) -> int:
        """Bytes of ciphertext: the plaintext and 1..16 bytes of padding."""
        return (self.size // _BLOCK + 1) * _BLOCK

    def to_bytes(self) -> bytes:
        """The header as written to the file."""
        fixed = _FIXED.pack(
            MAGIC, self.version, _CIPHER, _HASH, self.size, self.iv, len(self.key_blob),
            self.signature_size,
        )
        if self.version == 1:
            return fixed + self.key_blob
        assert self.container is not None
        assert self.key_id is not None
        name = self.container.encode("utf-8")
        return fixed + _V2.pack(self.key_id, len(name)) + name + self.key_blob

    @classmethod
    def read(cls, src: BinaryIO, file_size: int) -> Header:
        """The header at the start of ``src`` (a file of ``file_size`` bytes);
        :class:`NotAuthentic` when it is not one csp11 wrote or the file's size
        does not match it.  Every field is checked, so :meth:`to_bytes` gives
        back the bytes read."""
        raw = _read_up_to(src, _FIXED.size)
        if len(raw) < _PREFIX.size or raw[: len(MAGIC)] != MAGIC:
            raise _bad(winerror.NTE_BAD_DATA, "not a file csp11 encrypted (no CSP11ENC magic)")
        version = _PREFIX.unpack_from(raw)[1]
        if version not in (1, 2):
            raise _bad(
                winerror.NTE_BAD_VER,
                f"format version {version} is not supported (this csp11 reads versions 1 "
                "and 2)",
            )
        if len(raw) < _FIXED.size:
            raise _bad(winerror.NTE_BAD_DATA, "the file is truncated: its header is incomplete")
        _, _, cipher, hash_, size, iv, blob_size, signature_size = _FIXED.unpack(raw)
        if (cipher, hash_) != (_CIPHER, _HASH):
            raise _bad(
                winerror.NTE_BAD_DATA,
                f"unknown algorithms in the header (ALG_IDs 0x{cipher:X}, 0x{hash_:X})",
            )
        if not 0 < blob_size <= _MAX_BLOB or not 0 < signature_size <= _MAX_SIGNATURE:
            raise _bad(winerror.NTE_BAD_DATA, "the header is damaged (impossible sizes)")
        container: str | None = None
        kid: bytes | None = None
        used = len(raw)
        if version == 2:
            kid, container, more = _read_v2_fields(src)
            used += more
        blob = _read_up_to(src, blob_size)
        if len(blob) < blob_size:
            raise _bad(winerror.NTE_BAD_DATA, "the file is truncated: its header is incomplete")
        header = cls(size, iv, blob, signature_size, container, kid, version)
        expected = used + blob_size + header.body_size + signature_size
        if file_size < expected:
            raise _bad(
                winerror.NTE_BAD_DATA,
                f"the file is truncated: {expected - file_size} of its {expected} bytes "
                "are missing",
            )
        if file_size > expected:
            raise _bad(
                winerror.NTE_BAD_DATA,
                f"the file has {file_size - expected} bytes of trailing data after its signature",
            )
        return header


def _read_v2_fields(src: BinaryIO) -> tuple[bytes, str, int]:
    """Version 2's key id and container name, and how many bytes they took."""
    extra = _read_up_to(src, _V2.size)
    if len(extra) < _V2.size:
        raise _bad(winerror.NTE_BAD_DATA, "the file is truncated: its header is incomplete")
    kid, name_size = _V2.unpack(extra)
    if not 0 < name_size <= _MAX_NAME:
        raise _bad(winerror.NTE_BAD_DATA, "the header is damaged (impossible sizes)")
    name = _read_up_to(src, name_size)
    if len(name) < name_size:
        raise _bad(winerror.NTE_BAD_DATA, "the file is truncated: its header is incomplete")
    try:
        return kid, name.decode("utf-8"), _V2.size + name_size
    except UnicodeDecodeError:
        raise _bad(winerror.NTE_BAD_DATA,
                   "the header is damaged (container name not UTF-8)") from None


# ---- containers -------------------------------------------------------------------
def open_container(name: str, *, token: str | None = None, create: bool = False) -> PyCRYPTPROV:
    """A ``PROV_RSA_AES`` context on the container ``name``, created (with
    ``CRYPT_NEWKEYSET``) when it does not exist and ``create`` is set."""
    try:
        prov = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0, Token=token)
    except error as exc:
        if exc.winerror != winerror.NTE_BAD_KEYSET or not create:
            raise
        try:
            prov = win32crypt.CryptAcquireContext(
                name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET, Token=token
            )
        except error as again:
            if again.winerror != winerror.NTE_EXISTS:  # another process made it meanwhile
                raise
            prov = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0, Token=token)
    assert prov is not None  # only CRYPT_DELETEKEYSET returns None
    return prov


def exchange_key(prov: PyCRYPTPROV, *, create: bool = False, bits: int = EXCHANGE_KEY_BITS,
                 flags: int = 0) -> PyCRYPTKEY:
    """The container's ``AT_KEYEXCHANGE`` pair; with ``create``, a new
    ``bits``-bit one (with ``flags``: ``CRYPT_EXPORTABLE``,
    ``CRYPT_USER_PROTECTED``) if it has none."""
    return ensure_exchange_key(prov, create=create, bits=bits, flags=flags)[0]


def ensure_exchange_key(prov: PyCRYPTPROV, *, create: bool, bits: int = EXCHANGE_KEY_BITS,
                        flags: int = 0) -> tuple[PyCRYPTKEY, bool]:
    """:func:`exchange_key`, and whether this call made it."""
    try:
        return prov.CryptGetUserKey(con.AT_KEYEXCHANGE), False
    except error as exc:
        if exc.winerror != winerror.NTE_NO_KEY or not create:
            raise
    # Generating replaces a stored pair: two first uses at once must not both
    # generate, or files encrypted under the first key become undecryptable.
    # The lock is the container's own, on the token (state below the handle:
    # the one place this application reaches under the public surface).
    with prov._state.container_locked():
        try:
            return prov.CryptGetUserKey(con.AT_KEYEXCHANGE), False
        except error as exc:
            if exc.winerror != winerror.NTE_NO_KEY:
                raise
        return prov.CryptGenKey(con.AT_KEYEXCHANGE, (bits << 16) | flags), True


def key_id(exchange: PyCRYPTKEY) -> bytes:
    """The identity of an exchange key in a file header: SHA-256 of its
    PUBLICKEYBLOB (public data, hashed off the token)."""
    return hashlib.sha256(exchange.CryptExportKey(None, con.PUBLICKEYBLOB)).digest()


def _no_container(name: str) -> NoContainer:
    exc = NoContainer(
        winerror.NTE_BAD_KEYSET, "CryptAcquireContext",
        f"there is no key container {name!r} on this token: make one with "
        f"`csp11 keys create {name}` (`csp11 keys list` shows those there are)",
    )
    exc.container = name
    return exc


def _no_exchange_key(name: str) -> NoExchangeKey:
    exc = NoExchangeKey(
        winerror.NTE_NO_KEY, "CryptGetUserKey",
        f"key container {name!r} has no exchange key: make one with "
        f"`csp11 keys create {name}`",
    )
    exc.container = name
    return exc


# ---- files ------------------------------------------------------------------------
def default_output(source: str | os.PathLike[str], *, decrypting: bool) -> Path:
    """``FILE`` → ``FILE.csp11`` when encrypting; ``FILE.csp11`` → ``FILE`` when
    decrypting (``ValueError`` for a name without the suffix)."""
    path = Path(source)
    if not decrypting:
        return path.with_name(path.name + SUFFIX)
    if path.name.endswith(SUFFIX) and len(path.name) > len(SUFFIX):
        return path.with_name(path.name[: -len(SUFFIX)])
    raise ValueError(f"{str(path)!r} does not end in {SUFFIX}: name the output file")


def _target(source: str | os.PathLike[str], target: str | os.PathLike[str] | None, *,
            decrypting: bool, overwrite: bool, stdio: bool) -> safefiles.Target:
    if target is None:
        if stdio and os.fspath(source) == safefiles.STDIO:
            target = safefiles.STDIO
        else:
            target = default_output(source, decrypting=decrypting)
    return safefiles.Target(target, overwrite=overwrite, stdio=stdio)


def encrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    *,
    container: str = DEFAULT_CONTAINER,
    token: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    create: bool | None = None,
    stdio: bool = False,
) -> FileResult:
    """Encrypt ``source`` to ``target`` (default ``source`` + ``.csp11``) for the
    container's exchange key.

    ``create`` (default: only for :data:`DEFAULT_CONTAINER`) makes the
    container and its key when missing; otherwise a missing container is
    :class:`NoContainer`, a missing key :class:`NoExchangeKey`.  With
    ``stdio``, ``-`` is standard input/output and inputs that are not regular
    files are read (buffered first); without it, only regular files.
    """
    start = time.perf_counter()
    if create is None:
        create = container == DEFAULT_CONTAINER
    src = safefiles.Source(source, stdio=stdio)
    dst = _target(source, target, decrypting=False, overwrite=overwrite, stdio=stdio)
    with src.open(buffer_any=stdio) as (reader, size):
        dst.check()
        try:
            prov = open_container(container, token=token, create=create)
        except error as exc:
            if exc.winerror != winerror.NTE_BAD_KEYSET:
                raise
            raise _no_container(container) from None
        with prov:
            try:
                exchange, created = ensure_exchange_key(prov, create=create)
            except error as exc:
                if exc.winerror != winerror.NTE_NO_KEY:
                    raise
                raise _no_exchange_key(container) from None
            with exchange, dst.open() as writer:
                bits, header_bytes = _encrypt(prov, exchange, size, container, src=reader,
                                              dst=writer, progress=progress)
    return FileResult(src.name, dst.name, size, time.perf_counter() - start, container,
                      bits, created, header_bytes)


def decrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    *,
    container: str | None = None,
    token: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    verify_progress: Progress | None = None,
    stdio: bool = False,
) -> FileResult:
    """Decrypt ``source`` (made by :func:`encrypt_file`) to ``target`` (default:
    ``source`` without ``.csp11``).  The container is the one the file's
    header names unless ``container`` is given.  No output shows anything
    before the whole file authenticated: a regular file is decrypted in one
    pass into an unnamed file, named only once the signature verifies; an
    output written as it comes (standard output, a FIFO) is decrypted in two
    passes, the check first (reported to ``verify_progress``, which one pass
    does not call).  ``progress`` reports the decryption."""
    start = time.perf_counter()
    src = safefiles.Source(source, stdio=stdio)
    with src.open(buffer_any=stdio) as (reader, file_size), contextlib.ExitStack() as stack:
        header = Header.read(reader, file_size)
        body_at = reader.tell()
        dst = _target(source, target, decrypting=True, overwrite=overwrite, stdio=stdio)
        dst.check()
        name = container or header.container or DEFAULT_CONTAINER
        chosen = container is not None  # else the header's (or version 1's default)
        v1_hint = (
            "it is a version-1 file, which does not record its container: name it with "
            "--container" if header.version == 1 and not chosen else None
        )
        prov = stack.enter_context(_open_for_decrypt(name, token, chosen, v1_hint))
        exchange = stack.enter_context(_exchange_for(prov, name, header, chosen, v1_hint))
        session = _import_session_key(prov, exchange, header, name, v1_hint)
        stack.enter_context(session)
        if dst.publishes:
            with dst.open() as writer:
                _decrypt_in_one_pass(prov, session, exchange, header, src=reader,
                                     dst=_published_file(writer, dst.name),
                                     progress=progress, hint=v1_hint)
        else:
            pieces = _authenticate(prov, session, exchange, header, src=reader,
                                   progress=verify_progress, hint=v1_hint)
            reader.seek(body_at)
            with dst.open() as writer:
                _decrypt_pieces(session, header, pieces, src=reader, dst=writer,
                                progress=progress)
        bits = exchange.CryptGetKeyParam(con.KP_KEYLEN)
    return FileResult(src.name, dst.name, header.size, time.perf_counter() - start, name, bits,
                      False, body_at)


def _encrypt(prov: PyCRYPTPROV, exchange: PyCRYPTKEY, size: int, container: str, *,
             src: BinaryIO, dst: BinaryIO, progress: Progress | None) -> tuple[int, int]:
    """Write the whole encrypted file; the exchange key's bits and the header's size."""
    bits = exchange.CryptGetKeyParam(con.KP_KEYLEN)
    with prov.CryptGenKey(_CIPHER, con.CRYPT_EXPORTABLE) as session, \
            prov.CryptCreateHash(_HASH) as digest:
        iv = prov.CryptGenRandom(_BLOCK)
        session.CryptSetKeyParam(con.KP_IV, iv)
        blob = session.CryptExportKey(exchange, con.SIMPLEBLOB, con.CRYPT_OAEP)
        # That was the key's one export: withdraw it (CKA_EXTRACTABLE=FALSE on
        # the token), so that nothing, CryptHashSessionKey included, takes the
        # key's value off the token from here on.
        session.CryptSetKeyParam(
            con.KP_PERMISSIONS, session.CryptGetKeyParam(con.KP_PERMISSIONS) & ~con.CRYPT_EXPORT
        )
        header = Header(size, iv, blob, bits // 8, container, key_id(exchange))
        raw = header.to_bytes()
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(raw)
        dst.write(raw)
        done = 0

        def hash_piece(item: tuple[bytes, int]) -> None:
            digest.CryptHashData(item[0])

        def write(item: tuple[bytes, int]) -> None:
            ciphertext, upto = item
            dst.write(ciphertext)
            if progress is not None:
                progress(upto, size)

        # Piece N is hashed on the token and written, each on a thread of its
        # own, while piece N+1 is read and encrypted: with both on one
        # thread, writing a new file's pages (0.4-2.6 ms per MiB here) and
        # hashing (0.65 ms) took longer than the encryption (1.2 ms).  Both
        # threads share each piece: memory stays at a few pieces.
        with _Pipeline(write) as writer, _Pipeline(hash_piece) as hasher:
            while True:
                want = min(CHUNK_SIZE, size - done)
                piece = _read_up_to(src, want)
                if len(piece) < want:
                    raise error(winerror.NTE_BAD_LEN, "encrypt_file",
                                "the file shrank while it was being encrypted")
                done += len(piece)
                ciphertext = session.CryptEncrypt(done == size, piece)
                hasher.put((ciphertext, done))
                writer.put((ciphertext, done))
                if done == size:
                    break
        if src.read(1):
            raise error(winerror.NTE_BAD_LEN, "encrypt_file",
                        "the file grew while it was being encrypted")
        signature = digest.CryptSignHash(con.AT_KEYEXCHANGE)
        if len(signature) != header.signature_size:  # pragma: no cover - a csp11 bug
            raise error(winerror.NTE_FAIL, "encrypt_file",
                        "the signature does not have the key's size")
        dst.write(signature)
    return bits, len(raw)


# Acquiring a container named by a (possibly changed) header can fail with
# these: a name no container has, or one Windows could not take.
_NAME_FAILURES = (winerror.NTE_BAD_KEYSET, winerror.NTE_BAD_KEYSET_PARAM,
                  winerror.ERROR_INVALID_PARAMETER)


@contextlib.contextmanager
def _open_for_decrypt(name: str, token: str | None, chosen: bool,
                      hint: str | None) -> Iterator[PyCRYPTPROV]:
    try:
        prov = open_container(name, token=token)
    except error as exc:
        if chosen and exc.winerror == winerror.NTE_BAD_KEYSET:
            raise _no_container(name) from None
        if chosen or exc.winerror not in _NAME_FAILURES:
            raise
        raise _bad(exc.winerror, f"the file names key container {name!r}, which is not on "
                   f"this token ({exc.strerror})", hint) from None
    with prov:
        yield prov


@contextlib.contextmanager
def _exchange_for(prov: PyCRYPTPROV, name: str, header: Header, chosen: bool,
                  hint: str | None) -> Iterator[PyCRYPTKEY]:
    """The container's exchange key, checked against the header's key id and
    signature size."""
    try:
        key = exchange_key(prov)
    except error as exc:
        if exc.winerror != winerror.NTE_NO_KEY:
            raise
        if chosen:
            raise _no_exchange_key(name) from None
        raise _bad(exc.winerror, f"key container {name!r} has no exchange key", hint) from None
    with key:
        if header.key_id is not None and key_id(key) != header.key_id:
            raise _bad(winerror.NTE_BAD_KEY, f"the file was encrypted for another key than "
                       f"the exchange key of container {name!r}", hint)
        bits = key.CryptGetKeyParam(con.KP_KEYLEN)
        if bits // 8 != header.signature_size:
            raise _bad(
                winerror.NTE_BAD_KEY,
                f"the file was encrypted for a {header.signature_size * 8}-bit exchange key; "
                f"container {name!r} has a {bits}-bit one (another container or key)", hint,
            )
        yield key


def _import_session_key(prov: PyCRYPTPROV, exchange: PyCRYPTKEY, header: Header, name: str,
                        hint: str | None) -> PyCRYPTKEY:
    try:
        session = prov.CryptImportKey(header.key_blob, exchange, con.CRYPT_OAEP)
    except error as exc:
        if exc.winerror not in (winerror.NTE_BAD_DATA, winerror.NTE_BAD_TYPE,
                                winerror.NTE_BAD_VER, winerror.NTE_BAD_ALGID):
            raise
        raise _bad(exc.winerror, f"the file's session key does not unwrap with the exchange "
                   f"key of container {name!r}: it was encrypted for another container or "
                   f"key, or its header was changed ({exc.strerror})", hint) from None
    if session.CryptGetKeyParam(con.KP_ALGID) != _CIPHER:
        session.CryptDestroyKey()
        raise _bad(winerror.NTE_BAD_DATA, "the header's SIMPLEBLOB is not an AES-256 key", hint)
    return session


def _published_file(writer: BinaryIO, name: str) -> BinaryIO:
    """``writer``, checked to be a regular file that nobody sees until it is
    published: an output that turned into a FIFO or device between the
    choice of one pass and its opening is written as it comes, and must get
    no unauthenticated plaintext."""
    if not stat.S_ISREG(os.fstat(writer.fileno()).st_mode):
        raise OSError(errno.EAGAIN, "the output changed from a regular file while it was "
                      "being opened; run the command again", name)
    return writer


def _verify(digest: PyCRYPTHASH, exchange: PyCRYPTKEY, signature: bytes,
            hint: str | None) -> None:
    try:
        digest.CryptVerifySignature(signature, exchange)
    except error as exc:
        if exc.winerror != winerror.NTE_BAD_SIGNATURE:
            raise
        raise _bad(exc.winerror, "its signature does not verify: the file was changed, or "
                   "encrypted for another key", hint) from None


def _decrypt_in_one_pass(prov: PyCRYPTPROV, session: PyCRYPTKEY, exchange: PyCRYPTKEY,
                         header: Header, *, src: BinaryIO, dst: BinaryIO,
                         progress: Progress | None, hint: str | None) -> None:
    """Hash, decrypt and write each piece as it is read, then check the
    signature; the caller publishes ``dst`` only if this returns."""
    session.CryptSetKeyParam(con.KP_IV, header.iv)
    body = header.body_size
    done = 0
    failure: error | None = None
    with prov.CryptCreateHash(_HASH) as digest:
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(header.to_bytes())

        def hash_piece(piece: bytes) -> None:
            digest.CryptHashData(piece)

        def write(item: tuple[bytes, int]) -> None:
            plain, upto = item
            dst.write(plain)
            if progress is not None:
                progress(min(upto, header.size), header.size)

        # The token hashes piece N on one thread while it decrypts piece N on
        # this one (each alone is most of a core on SoftHSM2), and a third
        # writes piece N-1: the slowest of the three sets the pace.
        with _Pipeline(write) as behind, _Pipeline(hash_piece) as hasher:
            for piece, left in _ciphertext(src, body, hint):
                hasher.put(piece)
                try:
                    plain = session.CryptDecrypt(left == 0, piece)
                except error as exc:
                    # Only the last block can fail (its padding), and a
                    # changed file must read as changed, not malformed: the
                    # signature is judged first.
                    if exc.winerror != winerror.NTE_BAD_DATA or left:
                        raise
                    failure = exc
                    break
                done += len(plain)
                behind.put((plain, done))
        _verify(digest, exchange, _read_up_to(src, header.signature_size), hint)
    # Signed as it is: made wrong by the encrypting side.
    if failure is not None:
        raise _bad(failure.winerror, "the file is malformed: its last block does not "
                   "decrypt") from None
    if done != header.size:
        raise _bad(winerror.NTE_BAD_DATA, "the file is malformed: the plaintext is "
                   f"{'longer' if done > header.size else 'shorter'} than its header says")


def _authenticate(prov: PyCRYPTPROV, session: PyCRYPTKEY, exchange: PyCRYPTKEY, header: Header,
                  *, src: BinaryIO, progress: Progress | None, hint: str | None) -> list[bytes]:
    """Pass 1: hash the session key, the header and the ciphertext, check the
    signature; the SHA-256 of each piece of ciphertext, for pass 2."""
    pieces: list[bytes] = []
    with prov.CryptCreateHash(_HASH) as digest:
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(header.to_bytes())

        def fingerprint(item: tuple[bytes, int]) -> None:
            piece, upto = item
            pieces.append(hashlib.sha256(piece).digest())
            if progress is not None:
                progress(upto, header.body_size)

        # The SHA-256 of piece N is taken while piece N+1 is read and hashed
        # on the token.
        with _Pipeline(fingerprint) as behind:
            for piece, left in _ciphertext(src, header.body_size, hint):
                digest.CryptHashData(piece)
                behind.put((piece, header.body_size - left))
        _verify(digest, exchange, _read_up_to(src, header.signature_size), hint)
    return pieces


def _decrypt_pieces(session: PyCRYPTKEY, header: Header, pieces: list[bytes], *,
                    src: BinaryIO, dst: BinaryIO, progress: Progress | None) -> None:
    """Pass 2: decrypt the pieces pass 1 authenticated, each checked again."""
    session.CryptSetKeyParam(con.KP_IV, header.iv)
    left, done = header.body_size, 0

    def write(item: tuple[bytes, int]) -> None:
        plain, upto = item
        dst.write(plain)
        if progress is not None:
            progress(upto, header.size)

    verdicts: queue.SimpleQueue[bool] = queue.SimpleQueue()

    def check(item: tuple[bytes, bytes]) -> None:
        piece, expected = item
        same = False
        try:
            same = hashlib.sha256(piece).digest() == expected
        finally:  # one verdict for every piece, whatever happens
            verdicts.put(same)

    # Piece N is checked (on the checker's thread) while the token decrypts
    # it, and written only once both are done, while piece N+1 is read:
    # the check and the decryption were a third of pass 2 each, one after
    # the other.  A piece that fails the check is never written, and its
    # verdict comes before any error of its decryption (a changed last block
    # is "changed", not "malformed").
    with _Pipeline(write) as behind, _Pipeline(check) as checker:
        for expected in pieces:
            piece = _read_up_to(src, min(CHUNK_SIZE, left))
            checker.put((piece, expected))
            left -= len(piece)
            failure: error | None = None
            try:
                plain = session.CryptDecrypt(left == 0, piece)
            except error as exc:
                failure = exc
            if not verdicts.get():
                raise _bad(winerror.NTE_BAD_DATA,
                           "the file changed between its check and its decryption")
            if failure is not None:
                # Signed as it is: made wrong by the encrypting side.
                if failure.winerror != winerror.NTE_BAD_DATA:
                    raise failure
                raise _bad(failure.winerror, "the file is malformed: its last block does not "
                           "decrypt") from None
            done += len(plain)
            if done > header.size:
                raise _bad(winerror.NTE_BAD_DATA,
                           "the file is malformed: the plaintext is longer than its header says")
            behind.put((plain, done))
    if done != header.size:
        raise _bad(winerror.NTE_BAD_DATA,
                   "the file is malformed: the plaintext is shorter than its header says")


# ---- helpers ----------------------------------------------------------------------
_Item = TypeVar("_Item")  # what one stage hands the next: a piece and how far it is
_END = object()  # handed to a pipeline's helper last: it stops


class _Pipeline(Generic[_Item]):
    """The second half of a streaming loop on a thread of its own.

    The token call of piece N+1 (the GIL released) and the work on piece N
    (hashing, writing, in C too) overlap; at most :data:`_DEPTH` pieces wait,
    so memory stays flat.  In order; the first failure of the helper is
    raised in the loop at its next piece, or when the ``with`` ends.  A loop
    that fails stops the helper before its own exception goes on.
    """

    _DEPTH = 1

    def __init__(self, work: Callable[[_Item], None]) -> None:
        self._work = work
        self._queue: queue.Queue[object] = queue.Queue(maxsize=self._DEPTH)
        self._failure: BaseException | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="csp11-stream", daemon=True)

    def __enter__(self) -> _Pipeline[_Item]:
        self._thread.start()
        return self

    def _run(self) -> None:
        signals_to_main_thread()
        while True:
            item = self._queue.get()
            if item is _END:  # everything handed over is done
                return
            if self._failure is None:  # after a failure: drain, do nothing
                try:
                    self._work(cast(_Item, item))
                except BaseException as exc:  # raised in the loop's thread
                    self._failure = exc

    def put(self, item: _Item) -> None:
        """Hand over one piece (raising the helper's failure, if any)."""
        if self._failure is not None:
            raise self._failure
        self._queue.put(item)

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        # The helper's token call (and write) ends before this thread goes
        # on, even when a signal interrupts the wait: the process may exit
        # next, and the token must not be torn down under a running call.
        # Both steps may be repeated safely after an interruption.
        # The end marker wakes the helper at once (it used to poll its queue
        # every 10 ms: two pipelines added up to 20 ms to every command).
        interrupted: BaseException | None = None
        while self._thread.is_alive():
            try:
                if not self._closing:
                    self._queue.put(_END)  # an extra one after an interruption is harmless
                    self._closing = True
                self._thread.join()
            except BaseException as raised:
                interrupted = interrupted or raised
        if interrupted is not None:
            raise interrupted
        if exc is None and self._failure is not None:
            raise self._failure


def _ciphertext(src: BinaryIO, size: int, hint: str | None) -> Iterator[tuple[bytes, int]]:
    """The file's ``size`` bytes of ciphertext in :data:`CHUNK_SIZE` pieces,
    each with the bytes left after it."""
    left = size
    while left:
        piece = _read_up_to(src, min(CHUNK_SIZE, left))
        if not piece:
            raise _bad(winerror.NTE_BAD_DATA, "the file shrank while it was being read", hint)
        left -= len(piece)
        yield piece, left


def _bad(code: int, message: str, hint: str | None = None) -> NotAuthentic:
    exc = NotAuthentic(code, "decrypt_file", message)
    exc.hint = hint
    return exc


@interruptible
def _read_up_to(src: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the file (raw reads may be short).
    A checkpoint first: a stop signal that waited ends the loop here."""
    checkpoint()
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = src.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
