"""Encrypting and decrypting files (csp11.filecrypt and ``csp11 encrypt``/``decrypt``):
round trips bit for bit, the file format (version 2, and version 1 still read),
changed, truncated and foreign files (NotAuthentic and no output), and memory
that stays flat on big files."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pty
import struct
import subprocess
import sys
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from csp11 import filecrypt, interop, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con

from .conftest import REPO, run_python

MIB = 1 << 20
_FIXED = 46  # the part of a header versions 1 and 2 share (see the format in filecrypt)
_KEY_ID = 46  # version 2: SHA-256 of the exchange key's PUBLICKEYBLOB
_NAME = 80  # version 2: the container name (after its 2-byte size at 78)
_BLOB = 12 + 256  # SIMPLEBLOB of an AES key under a 2048-bit exchange key
_SIG = 256
_NAME_SIZE = len("files-") + 12  # the containers of _new_container()
_HEADER = _NAME + _NAME_SIZE + _BLOB  # a version 2 header for those containers


def _new_container(bits: int | None = filecrypt.EXCHANGE_KEY_BITS) -> str:
    """A fresh container (with an exchange key of ``bits``, or none)."""
    name = f"files-{uuid.uuid4().hex[:12]}"
    with filecrypt.open_container(name, create=True) as prov:
        if bits is not None:
            prov.CryptGenKey(con.AT_KEYEXCHANGE, bits << 16).CryptDestroyKey()
    return name


def _delete(name: str) -> None:
    win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET)


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    name = _new_container()
    yield name
    _delete(name)


@pytest.fixture(scope="module")
def other_container() -> Iterator[str]:
    name = _new_container()
    yield name
    _delete(name)


def _write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def _encrypted(tmp_path: Path, container: str, size: int = 1000) -> Path:
    _write(tmp_path / "plain", size)
    filecrypt.encrypt_file(tmp_path / "plain", tmp_path / "plain.csp11", container=container)
    return tmp_path / "plain.csp11"


def _changed(path: Path, offset: int, xor: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= xor
    path.write_bytes(bytes(data))


def _flip_in_place(path: Path, offset: int) -> None:
    """Change one byte without rewriting the file (a reader keeps its place)."""
    with open(path, "r+b") as f:
        f.seek(offset, os.SEEK_SET if offset >= 0 else os.SEEK_END)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0x01]))


def _decrypt_fails(path: Path, container: str | None) -> pywintypes.error:
    target = path.with_name("restored")
    with pytest.raises(pywintypes.error) as info:
        filecrypt.decrypt_file(path, target, container=container)
    assert not target.exists()
    left = sorted(p.name for p in path.parent.iterdir())
    assert not [name for name in left if name.startswith(".csp11-")], left
    return info.value


# ---- round trips ----------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 16, MIB + 7, 2 * MIB])
def test_round_trip_bit_for_bit(tmp_path: Path, container: str, size: int) -> None:
    data = _write(tmp_path / "f", size)
    done = filecrypt.encrypt_file(tmp_path / "f", container=container)
    assert done.output == str(tmp_path / "f.csp11") and done.bytes == size
    encrypted = (tmp_path / "f.csp11").read_bytes()
    assert len(encrypted) == _HEADER + (size // 16 + 1) * 16 + _SIG
    assert size < 16 or data[:16] not in encrypted
    (tmp_path / "f").unlink()
    back = filecrypt.decrypt_file(tmp_path / "f.csp11", container=container)
    assert back.output == str(tmp_path / "f") and back.bytes == size
    assert (tmp_path / "f").read_bytes() == data


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 63, 64, 65, 96, 100])
def test_pieces_around_the_chunk_size(
    tmp_path: Path, container: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pieces: a last piece that is full, partial, or a padding block only.
    monkeypatch.setattr(filecrypt, "CHUNK_SIZE", 32)
    data = _write(tmp_path / "f", size)
    seen: list[tuple[int, int]] = []
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container,
                           progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    seen.clear()
    filecrypt.decrypt_file(tmp_path / "e", tmp_path / "d", container=container,
                           progress=lambda done, total: seen.append((done, total)))
    assert (tmp_path / "d").read_bytes() == data
    assert seen[-1] == (size, size)


def test_each_encryption_is_new(tmp_path: Path, container: str) -> None:
    _write(tmp_path / "f", 100)
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "a", container=container)
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "b", container=container)
    a, b = (tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()
    assert a[:18] == b[:18]  # magic, version, algorithms, size
    assert a[18:] != b[18:] and a[-_SIG - 112 : -_SIG] != b[-_SIG - 112 : -_SIG]


def test_file_format(tmp_path: Path, container: str) -> None:
    """The header as documented (version 2: key id and container name), read
    with struct, and a signature that ``cryptography`` checks is the exchange
    key's PKCS #1 v1.5 SHA-256 one."""
    path = _encrypted(tmp_path, container, 1000)
    data = path.read_bytes()
    magic, version, cipher, hash_, size, iv, blob_size, sig_size = struct.unpack_from(
        "<8sHIIQ16sHH", data
    )
    assert (magic, version, cipher, hash_, size) == (
        b"CSP11ENC", 2, con.CALG_AES_256, con.CALG_SHA_256, 1000
    )
    assert (blob_size, sig_size) == (_BLOB, _SIG) and iv != bytes(16)
    key_id, name_size = struct.unpack_from("<32sH", data, _KEY_ID)
    assert data[_NAME : _NAME + name_size].decode() == container
    blob = data[_NAME + name_size : _NAME + name_size + blob_size]
    # BLOBHEADER: SIMPLEBLOB, version 2, reserved, CALG_AES_256; then CALG_RSA_KEYX.
    assert struct.unpack_from("<BBHII", blob) == (
        con.SIMPLEBLOB, 2, 0, con.CALG_AES_256, con.CALG_RSA_KEYX
    )
    with filecrypt.open_container(container) as prov:
        public_blob = prov.CryptGetUserKey(con.AT_KEYEXCHANGE).CryptExportKey(
            None, con.PUBLICKEYBLOB)
    assert key_id == hashlib.sha256(public_blob).digest()
    public = interop.key_from_blob(public_blob)
    assert isinstance(public, rsa.RSAPublicKey)
    signature = data[-sig_size:][::-1]  # CryptoAPI's little-endian → PKCS #1
    recovered = public.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    assert recovered.startswith(bytes.fromhex("3031300d060960864801650304020105000420"))


def test_output_is_private_and_input_untouched(tmp_path: Path, container: str) -> None:
    data = _write(tmp_path / "f", 50)
    filecrypt.encrypt_file(tmp_path / "f", container=container)
    assert (tmp_path / "f.csp11").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "f").read_bytes() == data


# ---- changed, truncated, foreign ----------------------------------------------------------
_BODY = _HEADER  # where the ciphertext starts


@pytest.mark.parametrize(
    ("offset", "code", "words"),
    [
        (0, winerror.NTE_BAD_DATA, "not a file csp11 encrypted"),  # magic
        (8, winerror.NTE_BAD_VER, "version 3 is not supported"),  # version 2 → 3
        (10, winerror.NTE_BAD_DATA, "unknown algorithms"),  # cipher ALG_ID
        (18 + 4, winerror.NTE_BAD_DATA, "truncated"),  # plaintext size, high bytes
        (26, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),  # IV
        (42, winerror.NTE_BAD_DATA, "truncated"),  # SIMPLEBLOB size → 269
        (45, winerror.NTE_BAD_DATA, "impossible sizes"),  # signature size → 0
        (_KEY_ID, winerror.NTE_BAD_KEY, "another key"),  # the key id
        (_KEY_ID + 31, winerror.NTE_BAD_KEY, "another key"),
        (78, winerror.NTE_BAD_DATA, "truncated"),  # container name size
        (_NAME, winerror.NTE_BAD_KEYSET, "not on this token"),  # the container name
        (_NAME + _NAME_SIZE - 1, winerror.NTE_BAD_KEYSET, "not on this token"),
        (_NAME + _NAME_SIZE, winerror.NTE_BAD_TYPE, "does not unwrap"),  # SIMPLEBLOB bType
        (_NAME + _NAME_SIZE + 100, winerror.NTE_BAD_DATA, "does not unwrap"),  # wrapped key
        (_BODY, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),  # 1st block
        (_BODY + 500, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),
        # The next to last block, where it does not reach the padding.
        (-_SIG - 25, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),
        (-_SIG, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),  # the signature
        (-1, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),
    ],
)
def test_a_changed_byte_fails_clearly_and_writes_nothing(
    tmp_path: Path, container: str, offset: int, code: int, words: str
) -> None:
    path = _encrypted(tmp_path, container)
    _changed(path, offset)
    exc = _decrypt_fails(path, None)
    assert isinstance(exc, filecrypt.NotAuthentic)
    assert exc.winerror == code, exc
    assert words in exc.strerror


def test_a_changed_last_block_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container, 1000)  # 8 bytes of padding in the last block
    _changed(path, -_SIG - 1)
    exc = _decrypt_fails(path, container)
    # Bad padding or not: the same answer, after the whole file (no padding oracle).
    assert exc.winerror == winerror.NTE_BAD_SIGNATURE
    assert "was changed" in exc.strerror
    assert isinstance(exc, filecrypt.NotAuthentic)


def test_a_changed_size_within_the_padding_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container, 1000)
    _changed(path, 18, 0x03)  # 1000 → 1003: same number of blocks
    exc = _decrypt_fails(path, container)
    assert exc.winerror == winerror.NTE_BAD_SIGNATURE  # the header is signed
    assert "was changed" in exc.strerror


@pytest.mark.parametrize("offset", [_BODY, _BODY + MIB + 5, -_SIG - 1])
def test_a_file_changed_between_the_passes_writes_nothing(tmp_path: Path, container: str,
                                                          offset: int) -> None:
    """An output written as it comes (a FIFO here) is decrypted in two passes,
    and pass 2 decrypts only what pass 1 authenticated: a byte changed after
    pass 1 (in the first piece, a middle one, the padding of the last) is
    caught before any of that piece is written."""
    path = _encrypted(tmp_path, container, 3 * MIB + 1000)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()

    def change_after_pass_1(done: int, total: int) -> None:
        if done == total:
            _flip_in_place(path, offset)

    try:
        with pytest.raises(filecrypt.NotAuthentic) as info:
            filecrypt.decrypt_file(path, fifo, container=container,
                                   verify_progress=change_after_pass_1)
    finally:
        reader.join(10)
        if reader.is_alive():  # the FIFO was never opened for writing: let the reader go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(10)
    assert info.value.winerror == winerror.NTE_BAD_DATA
    assert "changed between its check and its decryption" in info.value.strerror
    # What came out is the authenticated pieces before the changed one.
    body = (3 * MIB + 1000) // 16 * 16 + 16
    changed_piece = (offset - _BODY if offset >= 0 else body + _SIG + offset) // MIB
    assert got == [(tmp_path / "plain").read_bytes()[: changed_piece * MIB]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "plain", "plain.csp11"]


@pytest.mark.parametrize("tmpfile", ["unnamed", "named"])
def test_one_pass_publishes_only_what_authenticates(tmp_path: Path, container: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    tmpfile: str) -> None:
    """A regular output is decrypted in one pass into a file nobody sees: a
    byte changed ahead of the reading (the last block, after the first piece
    was already decrypted and written) fails the signature, and neither the
    output nor a temporary file is left, with unnamed files or the named
    fallback.  Untouched, the same run publishes the plaintext."""
    if tmpfile == "named":
        monkeypatch.setenv("CSP11_TMPFILE", "named")
    monkeypatch.setattr(filecrypt, "CHUNK_SIZE", 64)
    data = _write(tmp_path / "plain", 10_000)
    path = tmp_path / "plain.csp11"
    filecrypt.encrypt_file(tmp_path / "plain", path, container=container)
    target = tmp_path / "restored"
    seen: list[int] = []

    def change_ahead(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 1:
            _flip_in_place(path, -_SIG - 1)

    with pytest.raises(filecrypt.NotAuthentic) as info:
        filecrypt.decrypt_file(path, target, container=container, progress=change_ahead)
    assert info.value.winerror == winerror.NTE_BAD_SIGNATURE
    assert "signature does not verify" in info.value.strerror
    assert seen[0] == 64  # plaintext had been written, unseen, before the check failed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "plain.csp11"]
    _changed(path, -_SIG - 1)  # back as it was
    filecrypt.decrypt_file(path, target, container=container)
    assert target.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "plain.csp11", "restored"]


def test_a_killed_one_pass_decryption_leaves_nothing_named(tmp_path: Path,
                                                          container: str) -> None:
    """SIGKILL in the middle of a one-pass decryption: the unnamed output
    goes with the process; nothing in the directory shows any plaintext."""
    _write(tmp_path / "plain", 64 * MIB)
    filecrypt.encrypt_file(tmp_path / "plain", tmp_path / "plain.csp11", container=container)
    code = f"""
import os, signal
from csp11 import filecrypt
def stop(done, total):
    if done >= 8 << 20:
        os.kill(os.getpid(), signal.SIGKILL)
filecrypt.decrypt_file({str(tmp_path / "plain.csp11")!r}, {str(tmp_path / "out")!r},
                       container={container!r}, progress=stop)
"""
    done = run_python(code)
    assert done.returncode == -9, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "plain.csp11"]


@pytest.mark.parametrize("keep", [0, 5, 10, 40, _BODY, _BODY + 16, -_SIG, -1])
def test_a_truncated_file_fails_before_decrypting(tmp_path: Path, container: str,
                                                  keep: int) -> None:
    path = _encrypted(tmp_path, container)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    exc = _decrypt_fails(path, container)
    assert exc.winerror == winerror.NTE_BAD_DATA
    assert exc.funcname == "decrypt_file"
    assert isinstance(exc, filecrypt.NotAuthentic)
    assert ("not a file csp11 encrypted" if 0 <= keep < 8 else "truncated") in exc.strerror


def test_trailing_data_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container)
    path.write_bytes(path.read_bytes() + b"\0")
    assert "trailing data" in _decrypt_fails(path, container).strerror


def test_another_container_cannot_decrypt(tmp_path: Path, container: str,
                                          other_container: str) -> None:
    path = _encrypted(tmp_path, container)
    exc = _decrypt_fails(path, other_container)  # --container overrides the header
    assert isinstance(exc, filecrypt.NotAuthentic)
    assert exc.winerror == winerror.NTE_BAD_KEY
    assert f"another key than the exchange key of container {other_container!r}" in exc.strerror


def test_the_header_names_the_container(tmp_path: Path, container: str) -> None:
    data = _write(tmp_path / "f", 100)
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container)
    done = filecrypt.decrypt_file(tmp_path / "e", tmp_path / "d")  # no container named
    assert done.container == container and done.key_bits == 2048
    assert (tmp_path / "d").read_bytes() == data


def test_a_replaced_key_is_not_the_files_key(tmp_path: Path) -> None:
    name = _new_container()
    try:
        path = _encrypted(tmp_path, name)
        with filecrypt.open_container(name) as prov:  # a new pair replaces the old
            prov.CryptGenKey(con.AT_KEYEXCHANGE, 2048 << 16).CryptDestroyKey()
        exc = _decrypt_fails(path, None)
    finally:
        _delete(name)
    assert isinstance(exc, filecrypt.NotAuthentic)
    assert "another key" in exc.strerror


def test_decrypting_never_creates_a_container_or_key(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container)
    absent = f"absent-{uuid.uuid4().hex[:8]}"
    exc = _decrypt_fails(path, absent)
    assert isinstance(exc, filecrypt.NoContainer)
    assert exc.winerror == winerror.NTE_BAD_KEYSET
    assert f"no key container {absent!r}" in exc.strerror
    assert f"csp11 keys create {absent}" in exc.strerror
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(absent, None, con.PROV_RSA_AES, 0)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET
    empty = _new_container(None)
    try:
        exc = _decrypt_fails(path, empty)
        assert isinstance(exc, filecrypt.NoExchangeKey)
        assert exc.winerror == winerror.NTE_NO_KEY
        with filecrypt.open_container(empty) as prov, pytest.raises(pywintypes.error):
            prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
    finally:
        _delete(empty)


def test_encrypting_makes_only_the_default_container(tmp_path: Path) -> None:
    name = f"typo-{uuid.uuid4().hex[:8]}"
    _write(tmp_path / "f", 10)
    with pytest.raises(filecrypt.NoContainer) as info:
        filecrypt.encrypt_file(tmp_path / "f", container=name)
    assert f"csp11 keys create {name}" in info.value.strerror
    with pytest.raises(pywintypes.error):
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)
    empty = _new_container(None)
    try:
        with pytest.raises(filecrypt.NoExchangeKey):
            filecrypt.encrypt_file(tmp_path / "f", container=empty)
    finally:
        _delete(empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_encrypting_makes_the_container_and_its_key_when_asked(tmp_path: Path) -> None:
    name = f"new-{uuid.uuid4().hex[:8]}"
    data = _write(tmp_path / "f", 10)
    try:
        done = filecrypt.encrypt_file(tmp_path / "f", container=name, create=True)
        assert done.created_key
        with filecrypt.open_container(name) as prov:
            key = prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
            assert key.CryptGetKeyParam(con.KP_KEYLEN) == filecrypt.EXCHANGE_KEY_BITS
            assert not key.CryptGetKeyParam(con.KP_PERMISSIONS) & con.CRYPT_EXPORT
        filecrypt.decrypt_file(tmp_path / "f.csp11", tmp_path / "g", container=name)
        assert (tmp_path / "g").read_bytes() == data
    finally:
        _delete(name)


# ---- files ----------------------------------------------------------------------------
def test_an_existing_output_is_kept_unless_asked(tmp_path: Path, container: str) -> None:
    _write(tmp_path / "f", 10)
    (tmp_path / "f.csp11").write_bytes(b"mine")
    with pytest.raises(FileExistsError):
        filecrypt.encrypt_file(tmp_path / "f", container=container)
    assert (tmp_path / "f.csp11").read_bytes() == b"mine"
    filecrypt.encrypt_file(tmp_path / "f", container=container, overwrite=True)
    assert (tmp_path / "f.csp11").read_bytes()[:8] == b"CSP11ENC"


def test_default_output_names() -> None:
    assert filecrypt.default_output("d/a.txt", decrypting=False) == Path("d/a.txt.csp11")
    assert filecrypt.default_output("d/a.txt.csp11", decrypting=True) == Path("d/a.txt")
    for name in ("a.txt", ".csp11"):
        with pytest.raises(ValueError, match="name the output file"):
            filecrypt.default_output(name, decrypting=True)


def test_not_a_regular_file(tmp_path: Path, container: str) -> None:
    with pytest.raises(OSError, match="not a regular file"):
        filecrypt.encrypt_file(os.devnull, tmp_path / "x", container=container)
    with pytest.raises(IsADirectoryError):
        filecrypt.encrypt_file(tmp_path, tmp_path / "x", container=container)
    with pytest.raises(FileNotFoundError):
        filecrypt.encrypt_file(tmp_path / "missing", container=container)


def test_an_interrupted_run_leaves_nothing(tmp_path: Path, container: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filecrypt, "CHUNK_SIZE", 64)
    _write(tmp_path / "f", 1000)

    def stop(done: int, total: int) -> None:
        if done >= 128:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container,
                               progress=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container)
    with pytest.raises(KeyboardInterrupt):
        filecrypt.decrypt_file(tmp_path / "e", tmp_path / "d", container=container,
                               progress=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e", "f"]


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_a_file_changing_while_encrypted_fails(tmp_path: Path, container: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               change: str) -> None:
    monkeypatch.setattr(filecrypt, "CHUNK_SIZE", 64)
    _write(tmp_path / "f", 1000)

    def meddle(done: int, total: int) -> None:
        if done == 64:
            with open(tmp_path / "f", "r+b") as f:
                if change == "grow":
                    f.seek(0, os.SEEK_END)
                    f.write(b"more")
                else:
                    f.truncate(500)

    with pytest.raises(pywintypes.error) as info:
        filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container,
                               progress=meddle)
    assert info.value.winerror == winerror.NTE_BAD_LEN
    assert ("grew" if change == "grow" else "shrank") in info.value.strerror
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


# ---- the command line -----------------------------------------------------------------
def _cli(*args: str) -> tuple[int, str, str]:
    code = f"import sys; sys.argv = ['csp11', *{list(args)!r}]; import runpy; " \
        "runpy.run_module('csp11', run_name='__main__')"
    result = run_python(code)
    return result.returncode, result.stdout, result.stderr


def test_cli_round_trip_with_json(tmp_path: Path) -> None:
    name = _new_container()
    data = _write(tmp_path / "f.bin", MIB + 7)
    try:
        rc, out, err = _cli("encrypt", str(tmp_path / "f.bin"), "--container", name, "--json")
        assert rc == 0, err
        assert err == ""  # no progress bar: stderr is not a terminal
        report = json.loads(out)
        assert report["command"] == "encrypt"
        assert report["input"] == str(tmp_path / "f.bin")
        assert report["output"] == str(tmp_path / "f.bin.csp11")
        assert report["bytes"] == MIB + 7 and report["container"] == name
        assert report["seconds"] > 0 and report["key_bits"] == 2048
        rc, out, err = _cli("decrypt", str(tmp_path / "f.bin.csp11"), "-o",
                            str(tmp_path / "g.bin"))  # the header names the container
        assert rc == 0, err
        assert out.startswith(f"decrypted {tmp_path / 'f.bin.csp11'} -> {tmp_path / 'g.bin'}: ")
        assert f"key container {name!r}" in out
        assert (tmp_path / "g.bin").read_bytes() == data
        # A changed file: one line, exit status 4, no output.
        _changed(tmp_path / "f.bin.csp11", _BODY + 1000)
        rc, out, err = _cli("decrypt", str(tmp_path / "f.bin.csp11"), "-o",
                            str(tmp_path / "h.bin"))
        assert (rc, out) == (4, "")
        assert err == (f"csp11: {tmp_path / 'f.bin.csp11'} does not authenticate: it was "
                       "changed or damaged, is not a file csp11 encrypted, or was encrypted for "
                       "a key that is not on this token; nothing was written\n")
        assert not (tmp_path / "h.bin").exists()
    finally:
        _delete(name)


def test_cli_file_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"not encrypted")
    (tmp_path / "out").write_bytes(b"")
    cases = [
        (("encrypt", str(tmp_path / "missing")), 3,
         f"csp11: {tmp_path / 'missing'}: no such file or directory"),
        (("decrypt", str(tmp_path / "plain"), "-o", str(tmp_path / "x")), 4,
         f"csp11: {tmp_path / 'plain'} does not authenticate: it was changed or damaged, is not "
         "a file csp11 encrypted, or was encrypted for a key that is not on this token; "
         "nothing was written"),
        (("encrypt", str(tmp_path / "plain"), "-o", str(tmp_path / "out")), 1,
         f"csp11: {tmp_path / 'out'} exists: use --force to replace it"),
    ]
    for args, status, line in cases:
        rc, out, err = _cli(*args)
        assert (rc, out) == (status, ""), err
        assert err == line + "\n"
    # No default output name: a usage error (exit status 2).
    rc, _, err = _cli("decrypt", str(tmp_path / "plain"))
    assert rc == 2
    assert "does not end in .csp11: name the output file" in err


def test_two_first_uses_at_once_share_one_key(tmp_path: Path) -> None:
    """Processes encrypting for the default container before it exists, at the
    same time: one makes the exchange key, the others use it (a second key
    would replace the first, and the first file could never be decrypted)."""
    name = filecrypt.DEFAULT_CONTAINER
    with contextlib.suppress(pywintypes.error):
        _delete(name)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    data = {n: _write(tmp_path / str(n), 100 + n) for n in range(3)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "csp11", "encrypt", str(tmp_path / str(n))],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in data
    ]
    try:
        for child in children:
            _, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
        for n, plain in data.items():
            filecrypt.decrypt_file(tmp_path / f"{n}.csp11", tmp_path / f"{n}.out",
                                   container=name)
            assert (tmp_path / f"{n}.out").read_bytes() == plain
    finally:
        _delete(name)


def test_cli_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    name = _new_container()
    _write(tmp_path / "f", 3 * MIB)
    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "csp11", "encrypt", str(tmp_path / "f"), "--container", name],
            stderr=terminal, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
            timeout=120, check=False,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                more = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not more:
                break
            shown += more
    finally:
        os.close(controller)
        _delete(name)
    assert done.returncode == 0
    text = shown.decode()
    assert "encrypting " in text
    assert "100% 3.0/3.0 MiB" in text
    assert text.endswith("\r\n") or text.endswith("\n")


# ---- memory ---------------------------------------------------------------------------
def test_nothing_keeps_the_pieces(tmp_path: Path, container: str) -> None:
    """Python allocations stay at a few pieces while 16 MiB go through (the hash
    object must keep no replay log of them); the process's peak RSS is the
    slow test's."""
    block = os.urandom(MIB)
    with open(tmp_path / "f", "wb") as f:
        for _ in range(16):
            f.write(block)
    tracemalloc.start()
    try:
        filecrypt.encrypt_file(tmp_path / "f", container=container)
        encrypting = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        filecrypt.decrypt_file(tmp_path / "f.csp11", tmp_path / "g", container=container)
        decrypting = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert encrypting < 6 * MIB, encrypting
    assert decrypting < 6 * MIB, decrypting


@pytest.mark.slow
def test_memory_stays_flat_on_a_big_file(tmp_path: Path) -> None:
    size = 64 * MIB
    block = os.urandom(MIB)
    with open(tmp_path / "big", "wb") as f:
        for _ in range(size // MIB):
            f.write(block)
    (tmp_path / "small").write_bytes(b"warm up")
    name = f"memory-{uuid.uuid4().hex[:8]}"
    code = f"""
import resource
from csp11 import filecrypt
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
d = {str(tmp_path)!r}
filecrypt.encrypt_file(d + "/small", container={name!r}, create=True)
filecrypt.decrypt_file(d + "/small.csp11", d + "/small.out", container={name!r})
base = peak()
filecrypt.encrypt_file(d + "/big", container={name!r})
encrypting = peak() - base
filecrypt.decrypt_file(d + "/big.csp11", d + "/big.out", container={name!r})
print(encrypting, peak() - base)
"""
    result = run_python(code, timeout=300)
    _delete(name)
    assert result.returncode == 0, result.stderr
    encrypting, decrypting = map(int, result.stdout.split())
    # One piece in and one out at a time: a few MiB, not the file's 64.
    assert encrypting < 16 * MIB, encrypting
    assert decrypting < 16 * MIB, decrypting
    assert (tmp_path / "big.out").read_bytes() == (tmp_path / "big").read_bytes()


# ---- version 1 files ------------------------------------------------------------------
def _as_version_1(path: Path, container: str) -> None:
    """Rewrite a version 2 file as csp11 0.1 wrote it (no key id, no container
    name), signed again by the container's exchange key."""
    data = path.read_bytes()
    with open(path, "rb") as src:
        header = filecrypt.Header.read(src, len(data))
    old = dataclasses.replace(header, version=1, container=None, key_id=None)
    body = data[len(header.to_bytes()) : -header.signature_size]
    with filecrypt.open_container(container) as prov, \
            prov.CryptGetUserKey(con.AT_KEYEXCHANGE) as exchange, \
            prov.CryptImportKey(header.key_blob, exchange, con.CRYPT_OAEP) as session, \
            prov.CryptCreateHash(con.CALG_SHA_256) as digest:
        digest.CryptHashSessionKey(session, con.CRYPT_LITTLE_ENDIAN)
        digest.CryptHashData(old.to_bytes())
        digest.CryptHashData(body)
        signature = digest.CryptSignHash(con.AT_KEYEXCHANGE)
    path.write_bytes(old.to_bytes() + body + signature)


def test_version_1_files_are_read_with_their_container(tmp_path: Path, container: str) -> None:
    data = _write(tmp_path / "f", 1000)
    filecrypt.encrypt_file(tmp_path / "f", tmp_path / "e", container=container)
    _as_version_1(tmp_path / "e", container)
    raw = (tmp_path / "e").read_bytes()
    assert struct.unpack_from("<H", raw, 8) == (1,)
    assert len(raw) == _FIXED + _BLOB + (1000 // 16 + 1) * 16 + _SIG
    done = filecrypt.decrypt_file(tmp_path / "e", tmp_path / "d", container=container)
    assert (tmp_path / "d").read_bytes() == data and done.container == container
    # Without --container: the default container, which is not this one.
    exc = _decrypt_fails(tmp_path / "e", None)
    assert isinstance(exc, filecrypt.NotAuthentic)
    assert exc.hint is not None and "--container" in exc.hint
