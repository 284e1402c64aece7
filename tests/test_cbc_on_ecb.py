"""CBC run by csp11 over the token's ECB (tokens whose CBC with an IV fails,
such as SoftHSM2 through p11-kit 0.24's RPC), checked on SoftHSM2 directly by
forcing it with :attr:`csp11.model.capabilities.TokenModel.force_cbc_on_ecb`.

The reference is ``cryptography``'s CBC with the same key bytes and IV, over
random lengths cut into random whole-block calls (CryptoAPI's streaming: the
chain is kept on the handle between calls).  tests/test_matrix.py runs the
emulation for real through ``p11-kit server``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from csp11 import win32crypt
from csp11 import win32cryptcon as con
from csp11.formats.blobs import PlaintextKeyBlob
from csp11.model.capabilities import TokenModel, token_model
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

from .spy import find_spy, spy_calls

# ALG_ID → key bytes; 3DES_112 checks a two-key 3DES (K1 K2 K1) too.
_KEYS = {con.CALG_AES_128: 16, con.CALG_AES_256: 32, con.CALG_3DES: 24,
         con.CALG_3DES_112: 16}


def _reference(alg: int, material: bytes) -> Any:
    if alg in (con.CALG_AES_128, con.CALG_AES_256):
        return algorithms.AES(material)
    if alg == con.CALG_3DES_112:
        material = material + material[:8]
    return TripleDES(material)


@pytest.fixture(scope="module")
def forced() -> Iterator[tuple[PyCRYPTPROV, TokenModel]]:
    """A verify context on SoftHSM2 whose token model runs CBC over ECB."""
    ctx = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
    assert ctx is not None
    model = token_model(ctx._state.token)
    model.force_cbc_on_ecb = True
    try:
        yield ctx, model
    finally:
        model.force_cbc_on_ecb = False
        ctx.CryptReleaseContext()


@pytest.fixture(scope="module")
def keys(forced: tuple[PyCRYPTPROV, TokenModel]) -> dict[int, tuple[bytes, PyCRYPTKEY]]:
    ctx, _ = forced
    made = {}
    for alg, size in _KEYS.items():
        material = os.urandom(size)
        made[alg] = material, ctx.CryptImportKey(PlaintextKeyBlob(alg, material).to_bytes(),
                                                 None, 0)
    return made


def _stream(call: Callable[[bool, bytes], bytes], data: bytes, cuts: list[int]) -> bytes:
    """``data`` through ``call`` in pieces ending at ``cuts`` (Final on the last)."""
    out, start = b"", 0
    for cut in cuts:
        out += call(False, data[start:cut])
        start = cut
    return out + call(True, data[start:])


@st.composite
def _messages(draw: st.DrawFn) -> tuple[int, bytes, list[int], list[int]]:
    alg = draw(st.sampled_from(sorted(_KEYS)))
    block = 16 if alg in (con.CALG_AES_128, con.CALG_AES_256) else 8
    data = draw(st.binary(max_size=6 * block + block - 1))
    padded = (len(data) // block + 1) * block
    enc = sorted(draw(st.sets(st.integers(0, len(data) // block), max_size=3)))
    dec = sorted(draw(st.sets(st.integers(1, padded // block - 1), max_size=3))
                 if padded > block else set())
    return alg, data, [c * block for c in enc], [c * block for c in dec]


def test_switch_changes_only_the_model(forced: tuple[PyCRYPTPROV, TokenModel]) -> None:
    """SoftHSM2's own CBC works: without the switch csp11 keeps it; with it the
    model says csp11 runs CBC, and ``describe()`` records it."""
    ctx, model = forced
    alg = ctx.CryptGenKey(con.CALG_AES_128, 0)._state.alg
    assert model.cbc_on_ecb(alg)
    assert model.describe()["secret_keygen"]["AES_KEY_GEN"] == {  # type: ignore[index]
        "generates": True, "cbc_with_iv": True, "cbc": "emulated on ECB"}
    model.force_cbc_on_ecb = False
    try:
        assert not model.cbc_on_ecb(alg)
        assert "cbc" not in model.describe()["secret_keygen"]["AES_KEY_GEN"]  # type: ignore[index]
    finally:
        model.force_cbc_on_ecb = True


@settings(max_examples=25, deadline=None)
@given(message=_messages(), iv_seed=st.binary(min_size=16, max_size=16))
def test_cbc_on_ecb_matches_cryptography(
    keys: dict[int, tuple[bytes, PyCRYPTKEY]],
    message: tuple[int, bytes, list[int], list[int]],
    iv_seed: bytes,
) -> None:
    alg, data, enc_cuts, dec_cuts = message
    material, key = keys[alg]
    reference = _reference(alg, material)
    iv = iv_seed[: reference.block_size // 8]
    key.CryptSetKeyParam(con.KP_IV, iv)
    out = _stream(key.CryptEncrypt, data, enc_cuts)
    padder = sympadding.PKCS7(reference.block_size).padder()
    enc = Cipher(reference, modes.CBC(iv)).encryptor()
    assert out == enc.update(padder.update(data) + padder.finalize()) + enc.finalize()
    assert _stream(key.CryptDecrypt, out, dec_cuts) == data


def test_mac_same_either_way(forced: tuple[PyCRYPTPROV, TokenModel],
                             keys: dict[int, tuple[bytes, PyCRYPTKEY]]) -> None:
    """CALG_MAC (CBC-MAC through the same block call) gives the same value with
    the token's CBC and with csp11's."""
    ctx, model = forced
    _, key = keys[con.CALG_AES_128]
    data = os.urandom(100)
    values = []
    for force in (True, False):
        model.force_cbc_on_ecb = force
        try:
            h = ctx.CryptCreateHash(con.CALG_MAC, key)
            h.CryptHashData(data[:40])
            h.CryptHashData(data[40:])
            values.append(h.CryptGetHashParam(con.HP_HASHVAL))
        finally:
            model.force_cbc_on_ecb = True
    assert values[0] == values[1] and len(values[0]) == 16


_SPY_SCRIPT = textwrap.dedent(
    """
    from csp11 import win32crypt, win32cryptcon as c
    from csp11.model.capabilities import token_model
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                         Token=TOKEN)
    key = ctx.CryptGenKey(c.CALG_AES_128, 0)
    token_model(ctx._state.token).force_cbc_on_ecb = True
    data = key.CryptEncrypt(True, bytes(48))        # 3 blocks + a padding block
    assert key.CryptDecrypt(True, data) == bytes(48)
    """
)


@pytest.mark.skipif(find_spy() is None,
                    reason="pkcs11-spy.so (Debian package opensc) is not installed")
def test_token_sees_ecb_only(csp11_home: Path, softhsm2_module: str, embedded_pin: str,
                             tmp_path: Path) -> None:
    """Seen through pkcs11-spy: csp11's CBC is one CKM_AES_ECB encryption per
    block and one decryption for the whole input; no CBC call after the probe."""
    del embedded_pin
    calls = spy_calls(_SPY_SCRIPT, csp11_home, softhsm2_module, tmp_path)
    encrypts = [c.mechanism for c in calls if c.name == "C_EncryptInit"]
    decrypts = [c.mechanism for c in calls if c.name == "C_DecryptInit"]
    # The capability probes' one CBC block per cipher come first (SoftHSM2's
    # CBC works, so no ECB probe); then the data: ECB only.
    probes, data = encrypts[:-4], encrypts[-4:]
    assert data == ["CKM_AES_ECB"] * 4, encrypts
    assert probes and all(m is not None and m.endswith("_CBC") for m in probes), encrypts
    assert decrypts == ["CKM_AES_ECB"], decrypts
