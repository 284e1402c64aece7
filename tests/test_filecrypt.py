"""Encrypting and decrypting files (csp11.filecrypt and ``csp11 encrypt``/``decrypt``):
round trips bit for bit, the file format, changed, truncated and foreign files
(a clear error and no output), and memory that stays flat on big files."""

from __future__ import annotations

import json
import os
import pty
import struct
import subprocess
import sys
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
_FIXED = 46  # the fixed part of a version 1 header (see the format in filecrypt)
_BLOB = 12 + 256  # SIMPLEBLOB of an AES key under a 2048-bit exchange key
_SIG = 256


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


def _decrypt_fails(path: Path, container: str) -> pywintypes.error:
    target = path.with_name("restored")
    with pytest.raises(pywintypes.error) as info:
        filecrypt.decrypt_file(path, target, container=container)
    assert not target.exists()
    left = sorted(p.name for p in path.parent.iterdir())
    assert not [name for name in left if name.endswith(".part")], left
    return info.value


# ---- round trips ----------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, 16, MIB + 7, 2 * MIB])
def test_round_trip_bit_for_bit(tmp_path: Path, container: str, size: int) -> None:
    data = _write(tmp_path / "f", size)
    done = filecrypt.encrypt_file(tmp_path / "f", container=container)
    assert done.output == str(tmp_path / "f.csp11") and done.bytes == size
    encrypted = (tmp_path / "f.csp11").read_bytes()
    assert len(encrypted) == _FIXED + _BLOB + (size // 16 + 1) * 16 + _SIG
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
    """The header as documented, read with struct, and a signature that
    ``cryptography`` checks is the exchange key's PKCS #1 v1.5 SHA-256 one."""
    path = _encrypted(tmp_path, container, 1000)
    data = path.read_bytes()
    magic, version, cipher, hash_, size, iv, blob_size, sig_size = struct.unpack_from(
        "<8sHIIQ16sHH", data
    )
    assert (magic, version, cipher, hash_, size) == (
        b"CSP11ENC", 1, con.CALG_AES_256, con.CALG_SHA_256, 1000
    )
    assert (blob_size, sig_size) == (_BLOB, _SIG) and iv != bytes(16)
    blob = data[_FIXED : _FIXED + blob_size]
    # BLOBHEADER: SIMPLEBLOB, version 2, reserved, CALG_AES_256; then CALG_RSA_KEYX.
    assert struct.unpack_from("<BBHII", blob) == (
        con.SIMPLEBLOB, 2, 0, con.CALG_AES_256, con.CALG_RSA_KEYX
    )
    with filecrypt.open_container(container) as prov:
        public = interop.key_from_blob(
            prov.CryptGetUserKey(con.AT_KEYEXCHANGE).CryptExportKey(None, con.PUBLICKEYBLOB)
        )
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
_BODY = _FIXED + _BLOB  # where the ciphertext starts


@pytest.mark.parametrize(
    ("offset", "code", "words"),
    [
        (0, winerror.NTE_BAD_DATA, "not a file csp11 encrypted"),  # magic
        (8, winerror.NTE_BAD_VER, "version 0 is not supported"),  # version 1 → 0
        (10, winerror.NTE_BAD_DATA, "unknown algorithms"),  # cipher ALG_ID
        (18 + 4, winerror.NTE_BAD_DATA, "truncated"),  # plaintext size, high bytes
        (26, winerror.NTE_BAD_SIGNATURE, "signature does not verify"),  # IV
        (42, winerror.NTE_BAD_DATA, "truncated"),  # SIMPLEBLOB size → 269
        (45, winerror.NTE_BAD_DATA, "impossible sizes"),  # signature size → 0
        (_FIXED, winerror.NTE_BAD_TYPE, "does not unwrap"),  # the SIMPLEBLOB's bType
        (_FIXED + 100, winerror.NTE_BAD_DATA, "does not unwrap"),  # the wrapped key
        (_BODY, winerror.NTE_BAD_SIGNATURE, "was changed"),  # first ciphertext block
        (_BODY + 500, winerror.NTE_BAD_SIGNATURE, "was changed"),
        # The next to last block, where it does not reach the padding.
        (-_SIG - 25, winerror.NTE_BAD_SIGNATURE, "was changed"),
        (-_SIG, winerror.NTE_BAD_SIGNATURE, "was changed"),  # the signature
        (-1, winerror.NTE_BAD_SIGNATURE, "was changed"),
    ],
)
def test_a_changed_byte_fails_clearly_and_writes_nothing(
    tmp_path: Path, container: str, offset: int, code: int, words: str
) -> None:
    path = _encrypted(tmp_path, container)
    _changed(path, offset)
    exc = _decrypt_fails(path, container)
    assert exc.winerror == code, exc
    assert words in exc.strerror


def test_a_changed_last_block_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container, 1000)  # 8 bytes of padding in the last block
    _changed(path, -_SIG - 1)
    exc = _decrypt_fails(path, container)
    # Bad padding or not: the same answer, after the whole file (no padding oracle).
    assert exc.winerror == winerror.NTE_BAD_SIGNATURE
    assert "was changed" in exc.strerror


def test_a_changed_size_within_the_padding_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container, 1000)
    _changed(path, 18, 0x03)  # 1000 → 1003: same number of blocks
    exc = _decrypt_fails(path, container)
    assert exc.winerror == winerror.NTE_BAD_SIGNATURE  # the header is signed
    assert "was changed" in exc.strerror


@pytest.mark.parametrize("keep", [0, 5, 10, 40, _BODY, _BODY + 16, -_SIG, -1])
def test_a_truncated_file_fails_before_decrypting(tmp_path: Path, container: str,
                                                  keep: int) -> None:
    path = _encrypted(tmp_path, container)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    exc = _decrypt_fails(path, container)
    assert exc.winerror == winerror.NTE_BAD_DATA
    assert exc.funcname == "decrypt_file"
    assert ("not a file csp11 encrypted" if 0 <= keep < 8 else "truncated") in exc.strerror


def test_trailing_data_fails(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container)
    path.write_bytes(path.read_bytes() + b"\0")
    assert "trailing data" in _decrypt_fails(path, container).strerror


def test_another_container_cannot_decrypt(tmp_path: Path, container: str,
                                          other_container: str) -> None:
    path = _encrypted(tmp_path, container)
    exc = _decrypt_fails(path, other_container)
    assert exc.winerror == winerror.NTE_BAD_DATA
    assert exc.funcname == "CryptImportKey"
    assert "encrypted for another container or key" in exc.strerror


def test_an_exchange_key_of_another_size_is_named(tmp_path: Path, container: str) -> None:
    small = _new_container(1024)
    try:
        exc = _decrypt_fails(_encrypted(tmp_path, container), small)
    finally:
        _delete(small)
    assert exc.winerror == winerror.NTE_BAD_KEY
    assert "2048-bit exchange key" in exc.strerror and "1024-bit" in exc.strerror


def test_decrypting_never_creates_a_container_or_key(tmp_path: Path, container: str) -> None:
    path = _encrypted(tmp_path, container)
    absent = f"absent-{uuid.uuid4().hex[:8]}"
    exc = _decrypt_fails(path, absent)
    assert exc.winerror == winerror.NTE_BAD_KEYSET
    assert f"no key container {absent!r}" in exc.strerror
    with pytest.raises(pywintypes.error) as info:
        win32crypt.CryptAcquireContext(absent, None, con.PROV_RSA_AES, 0)
    assert info.value.winerror == winerror.NTE_BAD_KEYSET
    empty = _new_container(None)
    try:
        exc = _decrypt_fails(path, empty)
        assert exc.winerror == winerror.NTE_NO_KEY
        with filecrypt.open_container(empty) as prov, pytest.raises(pywintypes.error):
            prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
    finally:
        _delete(empty)


def test_encrypting_makes_the_container_and_its_key(tmp_path: Path) -> None:
    name = f"new-{uuid.uuid4().hex[:8]}"
    data = _write(tmp_path / "f", 10)
    try:
        filecrypt.encrypt_file(tmp_path / "f", container=name)
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
    name = f"cli-{uuid.uuid4().hex[:8]}"
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
        assert report["seconds"] > 0
        rc, out, err = _cli("decrypt", str(tmp_path / "f.bin.csp11"), "-o",
                            str(tmp_path / "g.bin"), "--container", name)
        assert rc == 0, err
        assert out.startswith(f"decrypted {tmp_path / 'f.bin.csp11'} -> {tmp_path / 'g.bin'} (")
        assert (tmp_path / "g.bin").read_bytes() == data
        # A changed file: one line, exit status 1, no output.
        _changed(tmp_path / "f.bin.csp11", _BODY + 1000)
        rc, out, err = _cli("decrypt", str(tmp_path / "f.bin.csp11"), "-o",
                            str(tmp_path / "h.bin"), "--container", name)
        assert (rc, out) == (1, "")
        assert err.count("\n") == 1
        assert err.startswith("csp11: CryptVerifySignature failed: NTE_BAD_SIGNATURE "
                              "(Invalid Signature): the file "
                              "was changed")
        assert not (tmp_path / "h.bin").exists()
    finally:
        _delete(name)


def test_cli_file_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"not encrypted")
    (tmp_path / "out").write_bytes(b"")
    cases = [
        (("encrypt", str(tmp_path / "missing")), 1,
         f"csp11: {tmp_path / 'missing'}: No such file or directory"),
        (("decrypt", str(tmp_path / "plain"), "-o", str(tmp_path / "x")), 1,
         "csp11: decrypt_file failed: NTE_BAD_DATA (Bad Data): not a file csp11 encrypted "
         "(no CSP11ENC "
         "magic)"),
        (("encrypt", str(tmp_path / "plain"), "-o", str(tmp_path / "out")), 1,
         f"csp11: '{tmp_path / 'out'}' exists: use --force to replace it"),
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
    """Two processes encrypting for a new container at the same time: one
    makes the exchange key, the other uses it (a second key would replace the
    first, and the first file could never be decrypted)."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    data = {n: _write(tmp_path / str(n), 100 + n) for n in range(3)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "csp11", "encrypt", str(tmp_path / str(n)), "--container",
             name], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
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
    name = f"cli-{uuid.uuid4().hex[:8]}"
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
filecrypt.encrypt_file(d + "/small", container={name!r})
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
