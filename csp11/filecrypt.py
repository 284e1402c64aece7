"""Encrypting and decrypting files with a key container's exchange key.

Microsoft's "Encrypting a File" and "Decrypting a File" samples, on a
PKCS#11 token, made safe to use:

Encrypting
    open (or create) a named container of ``PROV_RSA_AES``; take its
    ``AT_KEYEXCHANGE`` pair (``CryptGetUserKey``; generated, RSA-2048 and not
    exportable, when the container has none); generate a session key for
    this file only (``CryptGenKey(CALG_AES_256, CRYPT_EXPORTABLE)``: it must
    be exportable to be wrapped) and a random IV (``CryptGenRandom``,
    ``KP_IV``); export the session key as a SIMPLEBLOB under the exchange key
    with ``CRYPT_OAEP``, then withdraw ``CRYPT_EXPORT`` from ``KP_PERMISSIONS``
    (the token makes the key non-extractable); write the header, then the file encrypted in
    :data:`CHUNK_SIZE` pieces (``CryptEncrypt(Final=False)``, ``Final=True``
    for the last, which adds PKCS #5 padding), then the signature.

Integrity
    AES-CBC has none, so a ``CALG_SHA_256`` hash object takes the session key
    (``CryptHashSessionKey(CRYPT_LITTLE_ENDIAN)``: ``C_DigestKey`` on the
    token), the header bytes, and the *ciphertext*; the container's exchange
    key signs it (``CryptSignHash(AT_KEYEXCHANGE)``): encrypt, then sign.
    Decryption hashes the ciphertext as it reads it and checks the signature
    (``CryptVerifySignature``) before anything it decrypted counts: every
    change to the body ends in the same ``NTE_BAD_SIGNATURE`` after the whole
    file, whether or not its padding still looked right, so decryption is no
    padding oracle on the session key.  OAEP rather than PKCS #1 v1.5 for the
    SIMPLEBLOB, for the same reason on the exchange key.

Decrypting
    read and check the header; open the container (never create it); import
    the session key (``CryptImportKey(SIMPLEBLOB, exchange key, CRYPT_OAEP)``);
    decrypt in pieces into a temporary file beside the target; check the
    length and the signature; only then rename the temporary file to the
    target.  A changed, truncated or foreign file fails with a
    :class:`csp11.pywintypes.error` and leaves no output.

Memory stays constant: one piece of input and one of output at a time (the
hash object keeps no replay log once a key was hashed into it).

File format, version 1 (integers little-endian, as CryptoAPI writes them)::

    offset  size  field
    0       8     magic b"CSP11ENC"
    8       2     version = 1
    10      4     ALG_ID of the session key = CALG_AES_256 (0x6610), CBC, PKCS #5 padding
    14      4     ALG_ID of the hash = CALG_SHA_256 (0x800C)
    18      8     plaintext size in bytes
    26      16    IV
    42      2     SIMPLEBLOB size, b
    44      2     signature size, s (the exchange key's modulus size)
    46      b     SIMPLEBLOB (CRYPT_OAEP) of the session key under the exchange key
    46+b    n     ciphertext: n = (plaintext size // 16 + 1) * 16
    46+b+n  s     signature (CryptSignHash, little-endian as CryptoAPI returns it)
                  of SHA-256(session key ‖ bytes 0..46+b ‖ ciphertext)

Everything but the ciphertext is checked before any key is used: a file whose
size does not match its header is reported as truncated (or as having
trailing data) at once.

File-system failures (a missing input, an existing output without
``overwrite``) are :class:`OSError`; everything else is
:class:`csp11.pywintypes.error`.  The two processes that could race to give a
new container its exchange key serialise on the token's store lock (across
processes for the embedded token; within the process for other tokens).
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from csp11 import win32crypt, winerror
from csp11 import win32cryptcon as con
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
    "Progress",
    "decrypt_file",
    "default_output",
    "encrypt_file",
    "exchange_key",
    "open_container",
]

MAGIC = b"CSP11ENC"
VERSION = 1
CHUNK_SIZE = 1 << 20  # bytes per CryptEncrypt/CryptDecrypt call: whole AES blocks
DEFAULT_CONTAINER = "csp11-files"
EXCHANGE_KEY_BITS = 2048  # of an exchange key made for a new container
SUFFIX = ".csp11"

_CIPHER = con.CALG_AES_256
_HASH = con.CALG_SHA_256
_BLOCK = 16  # AES block size in bytes
_PREFIX = struct.Struct("<8sH")  # magic, version
_FIXED = struct.Struct("<8sHIIQ16sHH")  # the fixed part of a version 1 header
_MAX_BLOB = 12 + 16384 // 8  # BLOBHEADER + ALG_ID + the largest RSA modulus
_MAX_SIGNATURE = 16384 // 8

Progress = Callable[[int, int], None]
"""A progress callback: ``(plaintext bytes done, plaintext bytes in all)``.
Called after each piece; an exception it raises aborts the operation (and no
output is left)."""


@dataclass(frozen=True)
class FileResult:
    """What :func:`encrypt_file` or :func:`decrypt_file` did."""

    input: str
    output: str
    bytes: int  # plaintext bytes
    seconds: float
    container: str


@dataclass(frozen=True)
class Header:
    """The header of a version 1 file (see the module docstring)."""

    size: int
    iv: bytes
    key_blob: bytes
    signature_size: int

    @property
    def body_size(self) -> int:
        """Bytes of ciphertext: the plaintext and 1..16 bytes of padding."""
        return (self.size // _BLOCK + 1) * _BLOCK

    def to_bytes(self) -> bytes:
        """The header as written to the file."""
        return _FIXED.pack(
            MAGIC, VERSION, _CIPHER, _HASH, self.size, self.iv, len(self.key_blob),
            self.signature_size,
        ) + self.key_blob

    @classmethod
    def read(cls, src: BinaryIO, file_size: int) -> Header:
        """The header at the start of ``src`` (a file of ``file_size`` bytes);
        ``NTE_BAD_DATA`` (``NTE_BAD_VER`` for another version) when it is not
        one csp11 wrote, or the file's size does not match it.  Every field is
        checked, so :meth:`to_bytes` gives back the bytes read."""
        raw = _read_up_to(src, _FIXED.size)
        if len(raw) < _PREFIX.size or raw[: len(MAGIC)] != MAGIC:
            raise _bad(winerror.NTE_BAD_DATA, "not a file csp11 encrypted (no CSP11ENC magic)")
        version = _PREFIX.unpack_from(raw)[1]
        if version != VERSION:
            raise _bad(
                winerror.NTE_BAD_VER,
                f"format version {version} is not supported (this csp11 reads version {VERSION})",
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
        blob = _read_up_to(src, blob_size)
        if len(blob) < blob_size:
            raise _bad(winerror.NTE_BAD_DATA, "the file is truncated: its header is incomplete")
        header = cls(size, iv, blob, signature_size)
        expected = len(raw) + blob_size + header.body_size + signature_size
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


def exchange_key(prov: PyCRYPTPROV, *, create: bool = False) -> PyCRYPTKEY:
    """The container's ``AT_KEYEXCHANGE`` pair; with ``create``, a new
    :data:`EXCHANGE_KEY_BITS`-bit one (not exportable) if it has none."""
    try:
        return prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
    except error as exc:
        if exc.winerror != winerror.NTE_NO_KEY or not create:
            raise
    # Generating replaces a stored pair: two first uses at once must not both
    # generate, or files encrypted under the first key become undecryptable.
    # The lock is the container's own, on the token (state below the handle:
    # the one place this application reaches under the public surface).
    with prov._state.container_locked():
        try:
            return prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
        except error as exc:
            if exc.winerror != winerror.NTE_NO_KEY:
                raise
        return prov.CryptGenKey(con.AT_KEYEXCHANGE, EXCHANGE_KEY_BITS << 16)


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


def encrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    *,
    container: str = DEFAULT_CONTAINER,
    token: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> FileResult:
    """Encrypt ``source`` to ``target`` (default ``source`` + ``.csp11``) for the
    container's exchange key, creating the container and key if needed."""
    start = time.perf_counter()
    source = Path(source)
    target = default_output(source, decrypting=False) if target is None else Path(target)
    with open(source, "rb", buffering=0) as src:
        size = _regular_size(src, source)
        _check_target(target, overwrite)
        with open_container(container, token=token, create=True) as prov, \
                exchange_key(prov, create=True) as exchange, _staged(target) as dst:
            _encrypt(prov, exchange, size, src=src, dst=dst, progress=progress)
    return FileResult(str(source), str(target), size, time.perf_counter() - start, container)


def decrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str] | None = None,
    *,
    container: str = DEFAULT_CONTAINER,
    token: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> FileResult:
    """Decrypt ``source`` (made by :func:`encrypt_file`) to ``target`` (default:
    ``source`` without ``.csp11``); nothing is written unless the whole file
    decrypts and its signature verifies."""
    start = time.perf_counter()
    source = Path(source)
    target = default_output(source, decrypting=True) if target is None else Path(target)
    with open(source, "rb", buffering=0) as src:
        header = Header.read(src, _regular_size(src, source))
        _check_target(target, overwrite)
        try:
            prov = open_container(container, token=token)
        except error as exc:
            if exc.winerror != winerror.NTE_BAD_KEYSET:
                raise
            raise _reword(exc, f"there is no key container {container!r} on this token to "
                          "decrypt with") from None
        with prov, _exchange_for(prov, container, header) as exchange, _staged(target) as dst:
            _decrypt(prov, exchange, header, src=src, dst=dst, progress=progress,
                     container=container)
    return FileResult(str(source), str(target), header.size, time.perf_counter() - start,
                      container)


def _encrypt(prov: PyCRYPTPROV, exchange: PyCRYPTKEY, size: int, *, src: BinaryIO,
             dst: BinaryIO, progress: Progress | None) -> None:
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
        header = Header(size, iv, blob, exchange.CryptGetKeyParam(con.KP_KEYLEN) // 8)
        raw = header.to_bytes()
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(raw)
        dst.write(raw)
        done = 0
        while True:
            want = min(CHUNK_SIZE, size - done)
            piece = _read_up_to(src, want)
            if len(piece) < want:
                raise _bad(winerror.NTE_BAD_LEN, "the file shrank while it was being encrypted",
                           "encrypt_file")
            done += len(piece)
            ciphertext = session.CryptEncrypt(done == size, piece)
            digest.CryptHashData(ciphertext)
            dst.write(ciphertext)
            if progress is not None:
                progress(done, size)
            if done == size:
                break
        if src.read(1):
            raise _bad(winerror.NTE_BAD_LEN, "the file grew while it was being encrypted",
                       "encrypt_file")
        signature = digest.CryptSignHash(con.AT_KEYEXCHANGE)
        if len(signature) != header.signature_size:  # pragma: no cover - a csp11 bug
            raise _bad(winerror.NTE_FAIL, "the signature does not have the key's size",
                       "encrypt_file")
        dst.write(signature)


@contextlib.contextmanager
def _exchange_for(prov: PyCRYPTPROV, container: str, header: Header) -> Iterator[PyCRYPTKEY]:
    """The container's exchange key, checked against the header's signature size."""
    try:
        key = exchange_key(prov)
    except error as exc:
        if exc.winerror != winerror.NTE_NO_KEY:
            raise
        raise _reword(exc, f"key container {container!r} has no exchange key to decrypt "
                      "with") from None
    with key:
        bits = key.CryptGetKeyParam(con.KP_KEYLEN)
        if bits // 8 != header.signature_size:
            raise _bad(
                winerror.NTE_BAD_KEY,
                f"the file was encrypted for a {header.signature_size * 8}-bit exchange key; "
                f"container {container!r} has a {bits}-bit one (another container or key)",
            )
        yield key


def _decrypt(prov: PyCRYPTPROV, exchange: PyCRYPTKEY, header: Header, *, src: BinaryIO,
             dst: BinaryIO, progress: Progress | None, container: str) -> None:
    try:
        session = prov.CryptImportKey(header.key_blob, exchange, con.CRYPT_OAEP)
    except error as exc:
        if exc.winerror not in (winerror.NTE_BAD_DATA, winerror.NTE_BAD_TYPE,
                                winerror.NTE_BAD_VER, winerror.NTE_BAD_ALGID):
            raise
        raise _reword(exc, f"the file's session key does not unwrap with the exchange key of "
                      f"container {container!r}: it was encrypted for another container or "
                      "key, or its header was changed") from None
    with session, prov.CryptCreateHash(_HASH) as digest:
        if session.CryptGetKeyParam(con.KP_ALGID) != _CIPHER:
            raise _bad(winerror.NTE_BAD_DATA, "the header's SIMPLEBLOB is not an AES-256 key")
        session.CryptSetKeyParam(con.KP_IV, header.iv)
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(header.to_bytes())
        broken = _decrypt_body(session, digest, header, src=src, dst=dst, progress=progress)
        # The signature first: any change to the file ends here, the same way.
        signature = _read_up_to(src, header.signature_size)
        try:
            digest.CryptVerifySignature(signature, exchange)
        except error as exc:
            if exc.winerror != winerror.NTE_BAD_SIGNATURE:
                raise
            raise _reword(exc, f"the file was changed, or not encrypted with container "
                          f"{container!r}: its signature does not verify") from None
        if broken:  # signed as it is: made wrong by the encrypting side
            raise _bad(winerror.NTE_BAD_DATA, f"the file is malformed: {broken}")


def _decrypt_body(session: PyCRYPTKEY, digest: PyCRYPTHASH, header: Header, *, src: BinaryIO,
                  dst: BinaryIO, progress: Progress | None) -> str:
    """Hash and decrypt the ciphertext; what was wrong with it ("" if nothing).

    Every byte is hashed even after something went wrong, so that the
    signature, checked next, has the last word on any changed file.
    """
    left, done, broken = header.body_size, 0, ""
    while left:
        piece = _read_up_to(src, min(CHUNK_SIZE, left))
        if not piece:
            raise _bad(winerror.NTE_BAD_DATA, "the file shrank while it was being decrypted")
        left -= len(piece)
        digest.CryptHashData(piece)
        if broken:
            continue
        try:
            plain = session.CryptDecrypt(left == 0, piece)
        except error as exc:
            if exc.winerror != winerror.NTE_BAD_DATA:
                raise
            broken = "its last block does not decrypt"
            continue
        done += len(plain)
        if done > header.size:
            broken = "the plaintext is longer than its header says"
            continue
        dst.write(plain)
        if progress is not None:
            progress(done, header.size)
    if not broken and done != header.size:
        broken = "the plaintext is shorter than its header says"
    return broken


# ---- helpers ----------------------------------------------------------------------
def _bad(code: int, message: str, funcname: str = "decrypt_file") -> error:
    return error(code, funcname, message)


def _reword(exc: error, message: str) -> error:
    return error(exc.winerror, exc.funcname, f"{message} ({exc.strerror})", ckr=exc.ckr)


def _read_up_to(src: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the file (raw reads may be short)."""
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


def _regular_size(src: BinaryIO, path: Path) -> int:
    info = os.fstat(src.fileno())
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"not a regular file: {str(path)!r}")
    return info.st_size


def _check_target(target: Path, overwrite: bool) -> None:
    if not overwrite and os.path.lexists(target):
        raise FileExistsError(f"{str(target)!r} exists")


@contextlib.contextmanager
def _staged(target: Path) -> Iterator[BinaryIO]:
    """A new file beside ``target`` (mode 0600) that becomes ``target`` only when
    the block ends without an exception; removed otherwise."""
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with open(fd, "wb") as dst:
            yield dst
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
