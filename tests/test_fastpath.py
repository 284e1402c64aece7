"""The hot paths straight on the function list (csp11.token.fastpath, issue #16).

Real token, no mocks: the lean paths must give exactly what the token gives
through python-pkcs11 (and what ``cryptography`` computes), make key objects
python-pkcs11 itself accepts, run large calls in pieces (decryption as one
operation per piece) and other large main-thread calls on the worker thread,
and report failures with the return code the token gave.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

import pkcs11
import pkcs11.exceptions
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from csp11 import pywintypes, winerror
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob, parse_key_blob
from csp11.token import Attribute, KeyType, Mechanism, fastpath
from csp11.token.ckr import ckr_of
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

_MIB = 1 << 20


def _assert_gone(token: Any, handle: int) -> None:
    """The token no longer has the object ``handle`` (destroying it fails)."""
    pooled = token.acquire()
    try:
        with pytest.raises((pkcs11.exceptions.ObjectHandleInvalid,
                            pkcs11.exceptions.KeyHandleInvalid)):
            fastpath.destroy(token.module.cryptoki, pooled.handle, [handle])
    finally:
        token.release(pooled)


def _material(key: PyCRYPTKEY) -> bytes:
    blob = parse_key_blob(key.CryptExportKey(None, con.PLAINTEXTKEYBLOB))
    assert isinstance(blob, PlaintextKeyBlob)
    return blob.key


def _cbc(material: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(material), modes.CBC(bytes(16)))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


@pytest.mark.parametrize("size", [16, 4096, fastpath.PIECE_BYTES, fastpath.PIECE_BYTES + 16,
                                  fastpath.OFFLOAD_BYTES - 16, fastpath.OFFLOAD_BYTES,
                                  3 * _MIB])

def test_encrypt_and_decrypt_match_cryptography(prov: PyCRYPTPROV, size: int) -> None:
    # Below and above the worker-thread threshold and the piece size: the same
    # bytes either way.
    key = prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE)
    data = os.urandom(size)
    sealed = key.CryptEncrypt(False, data)
    assert sealed == _cbc(_material(key), data, encrypt=True)
    key.CryptSetKeyParam(con.KP_IV, bytes(16))  # restart the chain
    assert key.CryptDecrypt(False, sealed) == data


def test_the_result_is_a_fresh_bytes_object_each_time(prov: PyCRYPTPROV) -> None:
    # Output is written straight into the bytes returned: a second call must
    # not write into the first result.
    key = prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE)
    data = os.urandom(_MIB)
    first = key.CryptEncrypt(False, data)
    kept = bytes(bytearray(first))
    second = key.CryptEncrypt(False, data)  # chained on: different ciphertext
    assert first == kept
    assert first is not second and first != second
    assert hash(first) == hash(kept)


def test_large_calls_go_in_pieces_on_the_calling_thread(prov: PyCRYPTPROV) -> None:
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    seen: list[tuple[str, str]] = []
    originals = fastpath._crypt, fastpath._encrypt_pieces, fastpath._decrypt_chained

    def spying(name: str, original: Any) -> Any:
        def spy(*args: object, **kwargs: object) -> bytes:
            seen.append((name, threading.current_thread().name))
            result: bytes = original(*args, **kwargs)
            return result
        return spy

    fastpath._crypt = spying("one call", originals[0])
    fastpath._encrypt_pieces = spying("pieces", originals[1])
    fastpath._decrypt_chained = spying("chained", originals[2])
    try:
        key.CryptEncrypt(False, bytes(fastpath.OFFLOAD_BYTES))
        key.CryptDecrypt(False, bytes(fastpath.OFFLOAD_BYTES))
        key.CryptEncrypt(False, bytes(64))
        key.CryptDecrypt(False, bytes(fastpath.PIECE_BYTES))
        other = threading.Thread(target=key.CryptDecrypt, args=(False, bytes(_MIB)),
                                 name="not-main")
        other.start()
        other.join()
    finally:
        fastpath._crypt, fastpath._encrypt_pieces, fastpath._decrypt_chained = originals
    main = threading.main_thread().name
    assert seen == [("pieces", main), ("chained", main), ("one call", main),
                    ("one call", main), ("chained", "not-main")]


def test_a_large_decryption_is_one_operation_per_piece(prov: PyCRYPTPROV) -> None:
    # SoftHSM2 keeps all the ciphertext of a decrypt operation until its end:
    # each piece is an operation of its own, chained on the block before it.
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    sealed = key.CryptEncrypt(False, os.urandom(3 * fastpath.PIECE_BYTES + 32))
    ivs: list[bytes | None] = []
    original = fastpath._mechanism

    def spy(mechanism: int, param: bytes | None) -> Any:
        ivs.append(param)
        return original(mechanism, param)

    key.CryptSetKeyParam(con.KP_IV, bytes(16))
    fastpath._mechanism = spy
    try:
        key.CryptDecrypt(False, sealed)
    finally:
        fastpath._mechanism = original
    piece = fastpath.PIECE_BYTES
    assert ivs == [bytes(16)] + [sealed[at - 16:at] for at in (piece, 2 * piece, 3 * piece)]


@pytest.mark.parametrize(("algid", "mode"), [(con.CALG_3DES, con.CRYPT_MODE_CBC),
                                             (con.CALG_AES_192, con.CRYPT_MODE_ECB),
                                             (con.CALG_3DES, con.CRYPT_MODE_ECB)])
def test_large_decryptions_match_cryptography(prov: PyCRYPTPROV, algid: int, mode: int) -> None:
    # 8-byte IVs (3DES) and no IV at all (ECB) across the piece boundaries.
    key = prov.CryptGenKey(algid, con.CRYPT_EXPORTABLE)
    key.CryptSetKeyParam(con.KP_MODE, mode)
    data = os.urandom(2 * fastpath.PIECE_BYTES + 64)
    sealed = key.CryptEncrypt(False, data)
    block = 8 if algid != con.CALG_AES_192 else 16
    key.CryptSetKeyParam(con.KP_IV, bytes(block))
    assert key.CryptDecrypt(False, sealed) == data
    material = _material(key)
    algorithm: Any = (algorithms.AES(material) if algid == con.CALG_AES_192
                      else TripleDES(material))
    chosen: Any = modes.ECB() if mode == con.CRYPT_MODE_ECB else modes.CBC(bytes(block))
    assert sealed == Cipher(algorithm, chosen).encryptor().update(data)


@pytest.mark.parametrize("algid", [con.CALG_AES_128, con.CALG_3DES])
def test_pieces_chain_like_one_call(prov: PyCRYPTPROV, algid: int) -> None:
    # Encrypted in pieces (one large call), decrypted in small calls that the
    # key's chaining value links: the same plaintext only if every piece
    # continued the chain of the one before.
    key = prov.CryptGenKey(algid, 0)
    twin = key.CryptDuplicateKey()
    data = os.urandom(2 * fastpath.PIECE_BYTES + 48)
    sealed = key.CryptEncrypt(False, data)
    step = 4096
    assert b"".join(twin.CryptDecrypt(False, sealed[i:i + step])
                    for i in range(0, len(sealed), step)) == data


def test_digest_and_random_through_the_lean_path(prov: PyCRYPTPROV) -> None:
    data = os.urandom(fastpath.OFFLOAD_BYTES + 1)
    digest = prov.CryptCreateHash(con.CALG_SHA_256)
    digest.CryptHashData(data)
    assert digest.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(data).digest()
    for size in (1, 63, 64, fastpath.OFFLOAD_BYTES + 5):
        value = prov.CryptGenRandom(size)
        assert len(value) == size
    assert prov.CryptGenRandom(64) != prov.CryptGenRandom(64)


@pytest.mark.parametrize("algid", [con.CALG_SHA_256, con.CALG_SHA1])
def test_digests_in_pieces_match_hashlib(prov: PyCRYPTPROV, algid: int) -> None:
    # One C_Digest up to DIGEST_PIECE_BYTES, C_DigestUpdate pieces beyond.
    piece = fastpath.DIGEST_PIECE_BYTES
    name = "sha256" if algid == con.CALG_SHA_256 else "sha1"
    for size in (0, 1, piece - 1, piece, piece + 1, 3 * piece, _MIB + 3):
        data = os.urandom(size)
        h = prov.CryptCreateHash(algid)
        h.CryptHashData(data)
        assert h.CryptGetHashParam(con.HP_HASHVAL) == hashlib.new(name, data).digest(), size
        h.CryptDestroyHash()


def test_generated_keys_are_python_pkcs11_objects_of_the_right_kind(prov: PyCRYPTPROV) -> None:
    keys = [prov.CryptGenKey(con.CALG_AES_128, 0) for _ in range(3)]
    token = prov._state.token
    for key in keys:
        obj: Any = key._state.usable().obj
        assert isinstance(obj, pkcs11.SecretKey)
        assert isinstance(obj, pkcs11.types.EncryptMixin)
        assert not isinstance(obj, pkcs11.types.SignMixin)  # as the template says
        assert obj.key_type == pkcs11.KeyType.AES
        assert obj[pkcs11.Attribute.VALUE_LEN] == 16
        assert obj.session is key._state.usable().home.session
        assert obj[pkcs11.Attribute.CLASS] == pkcs11.ObjectClass.SECRET_KEY  # the handle is the key
    # After the first object (python-pkcs11's own, found by a search) the
    # maker is in use; it must never have given up on this python-pkcs11.
    assert fastpath._maker.offsets is not None and not fastpath._maker.failed
    # python-pkcs11's own calls work on them (here an encryption).
    obj = keys[-1]._state.usable().obj
    out: bytes = token.run_on(keys[-1]._state.usable().home, "C_Encrypt",
                       lambda s: obj.encrypt(bytes(16), mechanism=pkcs11.Mechanism.AES_ECB))
    assert len(out) == 16
    handles = {k._state.usable().obj.handle for k in keys}  # type: ignore[union-attr]
    assert len(handles) == 3
    for key in keys:
        key.CryptDestroyKey()


def test_templates_are_packed_once_per_key_kind(prov: PyCRYPTPROV) -> None:
    calls = fastpath.calls_of(prov._state.token.module.cryptoki)
    prov.CryptGenKey(con.CALG_AES_192, 0).CryptDestroyKey()  # packed here, or earlier
    before = dict(calls.templates)
    for _ in range(3):
        prov.CryptGenKey(con.CALG_AES_192, 0).CryptDestroyKey()
    assert calls.templates == before
    assert any(k[0] == KeyType.AES and k[1] == 192 for k in calls.templates)
    # The ready call (template, mechanism) too: one per template, reused.
    quick = dict(calls.quick)
    prov.CryptGenKey(con.CALG_AES_192, 0).CryptDestroyKey()
    assert calls.quick == quick
    assert any(q.key_type == KeyType.AES and q.key_bits == 192 for q in quick.values())


def test_failures_carry_the_token_code(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    ck = token.module.cryptoki
    pooled = token.acquire()
    try:
        # SoftHSM2 says OBJECT_HANDLE_INVALID, others KEY_HANDLE_INVALID.
        with pytest.raises((pkcs11.exceptions.KeyHandleInvalid,
                            pkcs11.exceptions.ObjectHandleInvalid)):
            fastpath.crypt(ck, pooled.handle, 0x7FFFFFF0, encrypting=True,
                           mechanism=int(Mechanism.AES_CBC), param=bytes(16), data=bytes(16))
        with pytest.raises(pkcs11.exceptions.MechanismInvalid):
            fastpath.digest(ck, pooled.handle, 0x7FFFFFF0, b"x")
    finally:
        token.release(pooled)
    with pytest.raises(pkcs11.exceptions.PKCS11Error) as caught:
        fastpath._raise(0x8000_1234)  # a vendor code python-pkcs11 does not know
    assert ckr_of(caught.value) == "CKR_0x80001234"


def test_a_wrong_signature_is_false_not_an_error(prov: PyCRYPTPROV) -> None:
    key = prov.CryptGenKey(con.CALG_RSA_SIGN, 1024 << 16)
    tkey = key._state.usable()
    data = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(32)
    good = tkey.sign(data, Mechanism.RSA_PKCS)
    assert tkey.verify(data, good, Mechanism.RSA_PKCS)
    assert not tkey.verify(data, bytes([good[0] ^ 1]) + good[1:], Mechanism.RSA_PKCS)
    assert not tkey.verify(data, good[:-1], Mechanism.RSA_PKCS)  # CKR_SIGNATURE_LEN_RANGE
    with pytest.raises(pywintypes.error) as caught:
        prov.CryptGenKey(con.CALG_AES_256, 0).CryptEncrypt(False, bytes(15))
    assert caught.value.winerror == winerror.NTE_BAD_DATA


@pytest.mark.parametrize("size", [0, 16, 100_000, fastpath.OFFLOAD_BYTES + 16])
def test_padding_mechanisms_get_the_room_they_ask_for(prov: PyCRYPTPROV, size: int) -> None:
    # The output is first given the input's size; CBC_PAD needs a block more
    # (CKR_BUFFER_TOO_SMALL, the operation still active) and gets it.
    key = prov.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE)
    tkey = key._state.usable()
    data = os.urandom(size)
    sealed = tkey.encrypt(data, Mechanism.AES_CBC_PAD, bytes(16))
    cipher = Cipher(algorithms.AES(_material(key)), modes.CBC(bytes(16))).encryptor()
    pad = 16 - size % 16
    assert sealed == cipher.update(data + bytes([pad]) * pad) + cipher.finalize()
    assert tkey.decrypt(sealed, Mechanism.AES_CBC_PAD, bytes(16)) == data


def test_destroy_does_not_wait_for_a_busy_home_session(prov: PyCRYPTPROV) -> None:
    # A key's home session is also a pool session: another thread may be
    # generating an RSA key pair in it.  Destroying the key then goes through
    # any free session (session objects are visible to all of them).
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    tkey = key._state.usable()
    handle = tkey.obj.handle  # type: ignore[union-attr]
    _destroy_while_home_busy(key)
    _assert_gone(prov._state.token, handle)


def _destroy_while_home_busy(key: PyCRYPTKEY) -> None:
    """CryptDestroyKey while another thread holds the key's home session (as
    with a long call there): it must not wait for it."""
    with key._state.usable().home.lock:
        done = threading.Event()

        def destroy() -> None:
            key.CryptDestroyKey()
            done.set()

        worker = threading.Thread(target=destroy)
        worker.start()
        assert done.wait(10), "CryptDestroyKey waited for the busy home session"
        worker.join()


def test_an_unused_key_destroyed_while_its_home_session_is_busy_is_gone(
        prov: PyCRYPTPROV) -> None:
    # The same for a key nothing used (its python-pkcs11 object never made):
    # TokenKey._destroy_unmade does not wait for the home session either.
    prov.CryptGenKey(con.CALG_AES_128, 0).CryptDestroyKey()  # the maker has learnt
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    tkey = key._state.usable()
    assert tkey._unmade is not None
    handle = tkey._unmade[0]
    _destroy_while_home_busy(key)
    _assert_gone(prov._state.token, handle)


def test_a_busy_home_session_does_not_hold_up_the_key(prov: PyCRYPTPROV) -> None:
    # Another thread busy in a key's home session (a pool session too) does not
    # make this thread wait to encrypt, decrypt, sign or verify with the key:
    # those calls need only handles and run in a free session meanwhile.
    aes = prov.CryptGenKey(con.CALG_AES_128, 0)
    twin = aes.CryptDuplicateKey()
    pair = prov.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
    public = pair.CryptExportKey(None, con.PUBLICKEYBLOB)
    homes = {aes._state.usable().home, pair._state.usable().home}
    results: dict[str, object] = {}
    # The first signature reads CKA_ALWAYS_AUTHENTICATE (python-pkcs11, in the
    # home session); later ones need only handles.
    first = prov.CryptCreateHash(con.CALG_SHA_256)
    first.CryptSignHash(con.AT_SIGNATURE)

    def use() -> None:
        sealed = aes.CryptEncrypt(True, b"secret")
        results["decrypted"] = twin.CryptDecrypt(True, sealed)
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"signed while the home session is busy")
        signature = h.CryptSignHash(con.AT_SIGNATURE)
        v = prov.CryptCreateHash(con.CALG_SHA_256)
        v.CryptHashData(b"signed while the home session is busy")
        v.CryptVerifySignature(signature, prov.CryptImportKey(public))
        results["verified"] = True

    for home in homes:
        home.lock.acquire()
    try:
        worker = threading.Thread(target=use)
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "the key waited for its busy home session"
    finally:
        for home in homes:
            home.lock.release()
    worker.join()
    assert results == {"decrypted": b"secret", "verified": True}


def test_a_key_destroyed_unused_is_gone_without_its_object_ever_made(
        prov: PyCRYPTPROV) -> None:
    # CryptGenKey keeps only the new key's handle; python-pkcs11's object is
    # made when something first needs it.  A key destroyed before that must
    # still leave the token, and one used later must get the right object.
    prov.CryptGenKey(con.CALG_AES_128, 0).CryptDestroyKey()  # the maker has learnt
    key = prov.CryptGenKey(con.CALG_AES_256, 0)
    tkey = key._state.usable()
    unmade = tkey._unmade
    assert unmade is not None and tkey._obj is None
    handle = unmade[0]
    token = prov._state.token
    pooled = token.acquire()
    try:
        # python-pkcs11's own search finds the key by its handle (the
        # fallback of the object maker).
        found = fastpath.find_secret(pooled.session, handle)
        assert found[Attribute.VALUE_LEN] == 32
        with pytest.raises(pkcs11.exceptions.ObjectHandleInvalid):
            fastpath.find_secret(pooled.session, handle + 10**6)
    finally:
        token.release(pooled)
    key.CryptDestroyKey()
    _assert_gone(token, handle)
    # Made on first use: the same handle, once, and the key works.
    used = prov.CryptGenKey(con.CALG_AES_256, 0)
    tkey = used._state.usable()
    first: Any = tkey.obj
    assert first.key_type == KeyType.AES and first[Attribute.VALUE_LEN] == 32
    assert tkey._unmade is None and tkey.obj is first
    assert used.CryptDecrypt(True, used.CryptEncrypt(True, b"data")) == b"data"
    used.CryptDestroyKey()


def test_threads_reading_a_fresh_key_s_object_get_the_same_one(prov: PyCRYPTPROV) -> None:
    # The first use of TokenKey.obj makes python-pkcs11's object; threads
    # racing to it must all see that one object, never None.
    prov.CryptGenKey(con.CALG_AES_128, 0).CryptDestroyKey()  # the maker has learnt
    for _ in range(20):
        key = prov.CryptGenKey(con.CALG_AES_128, 0)
        tkey = key._state.usable()
        start = threading.Barrier(4)
        seen: list[object] = []

        def read(tkey: Any = tkey, start: threading.Barrier = start,
                 seen: list[object] = seen) -> None:
            start.wait()
            seen.append(tkey.obj)

        workers = [threading.Thread(target=read) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(seen) == 4 and seen[0] is not None
        assert all(found is seen[0] for found in seen)
        key.CryptDestroyKey()
