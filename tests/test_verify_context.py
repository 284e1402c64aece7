"""A CRYPT_VERIFYCONTEXT context is an ephemeral, nameless container (WINDOWS-FACTS).

Key pairs generated or imported in it fill its AT_KEYEXCHANGE / AT_SIGNATURE
slots for CryptGetUserKey, CryptSignHash and unwrapping, until the context is
released; nothing of them is stored on the token.  Signatures are checked
byte for byte against ``cryptography`` (PKCS #1 v1.5 is deterministic).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from csp11 import interop, pywintypes
from csp11 import win32cryptcon as con
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

from . import outside
from .conftest import REPO
from .helpers import code_name as _code
from .helpers import public_key_of
from .helpers import token_objects as _objects
from .helpers import verify_context as _ctx
from .vectors import windows_kat

DATA = b"Wine rocks!\0"


def _sign(ctx: PyCRYPTPROV, spec: int, data: bytes = DATA, algid: int = con.CALG_MD5,
          flag_bits: int = 0) -> bytes:
    with ctx.CryptCreateHash(algid, None) as h:
        h.CryptHashData(data)
        return h.CryptSignHash(spec, flag_bits)


def _rsa_public(key: PyCRYPTKEY) -> rsa.RSAPublicKey:
    public = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
    assert isinstance(public, rsa.RSAPublicKey)
    return public


@pytest.mark.parametrize("spec", [con.AT_KEYEXCHANGE, con.AT_SIGNATURE])
def test_a_fresh_verify_context_has_no_user_keys(spec: int) -> None:
    with _ctx() as ctx:
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptGetUserKey(spec)
        assert _code(exc) == "NTE_NO_KEY"
        assert exc.value.funcname == "CryptGetUserKey"
        with pytest.raises(pywintypes.error) as exc:
            _sign(ctx, spec)
        assert _code(exc) == "NTE_NO_KEY"
        assert exc.value.funcname == "CryptSignHash"


@pytest.mark.parametrize(
    ("algid", "spec"),
    [
        (con.AT_SIGNATURE, con.AT_SIGNATURE),
        (con.CALG_RSA_SIGN, con.AT_SIGNATURE),
        (con.AT_KEYEXCHANGE, con.AT_KEYEXCHANGE),
        (con.CALG_RSA_KEYX, con.AT_KEYEXCHANGE),
    ],
)
def test_a_generated_pair_fills_its_slot_and_signs(algid: int, spec: int) -> None:
    other = con.AT_SIGNATURE if spec == con.AT_KEYEXCHANGE else con.AT_KEYEXCHANGE
    with _ctx() as ctx:
        with ctx.CryptGenKey(algid, 1024 << 16) as made:
            public = _rsa_public(made)
        with ctx.CryptGetUserKey(spec) as again:
            assert _rsa_public(again).public_numbers() == public.public_numbers()
        signature = _sign(ctx, spec)
        public.verify(signature[::-1], DATA, padding.PKCS1v15(), hashes.MD5())
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptGetUserKey(other)
        assert _code(exc) == "NTE_NO_KEY"


def test_session_keys_fill_no_slot() -> None:
    with _ctx() as ctx:
        ctx.CryptGenKey(con.CALG_AES_256, 0).CryptDestroyKey()
        with pytest.raises(pywintypes.error) as exc:
            ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        assert _code(exc) == "NTE_NO_KEY"


def test_an_imported_private_blob_signs_byte_for_byte_and_unwraps() -> None:
    blob = bytes.fromhex(windows_kat()["blobs"]["abPlainPrivateKey"])  # CALG_RSA_KEYX
    private = interop.key_from_blob(blob)
    assert isinstance(private, rsa.RSAPrivateKey)
    with _ctx() as ctx:
        ctx.CryptImportKey(blob, None, 0).CryptDestroyKey()  # the slot keeps the pair
        for flag_bits, digest_info in ((0, True), (con.CRYPT_NOHASHOID, False)):
            signature = _sign(ctx, con.AT_KEYEXCHANGE, flag_bits=flag_bits)
            digest = hashlib.md5(DATA).digest()
            if digest_info:
                expected = private.sign(DATA, padding.PKCS1v15(), hashes.MD5())
            else:
                expected = _raw_pkcs1_sign(private, digest)
            assert signature == expected[::-1]
        with ctx.CryptGetUserKey(con.AT_KEYEXCHANGE) as exchange:
            # CryptDecrypt of what cryptography encrypted to the public half.
            secret = os.urandom(32)
            encrypted = private.public_key().encrypt(secret, padding.PKCS1v15())
            assert exchange.CryptDecrypt(True, encrypted[::-1]) == secret
            # A SIMPLEBLOB made elsewhere unwraps with the slot's key.
            with ctx.CryptGenKey(con.CALG_AES_128, con.CRYPT_EXPORTABLE) as session:
                simple = session.CryptExportKey(exchange, con.SIMPLEBLOB)
                plain = session.CryptExportKey(None, con.PLAINTEXTKEYBLOB)
            with ctx.CryptImportKey(simple, exchange, con.CRYPT_EXPORTABLE) as unwrapped:
                assert unwrapped.CryptExportKey(None, con.PLAINTEXTKEYBLOB) == plain


def _raw_pkcs1_sign(private: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """PKCS #1 v1.5 type 1 over ``data`` as it is (no DigestInfo)."""
    size = private.key_size // 8
    block = b"\x00\x01" + b"\xff" * (size - len(data) - 3) + b"\x00" + data
    d = private.private_numbers().d
    n = private.public_key().public_numbers().n
    return pow(int.from_bytes(block, "big"), d, n).to_bytes(size, "big")


def test_replacing_a_slot_keeps_old_handles_working() -> None:
    with _ctx() as ctx:
        first = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
        second = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
        with ctx.CryptGetUserKey(con.AT_SIGNATURE) as current:
            assert public_key_of(current).public_numbers() == \
                public_key_of(second).public_numbers()
        # The first handle still works (its objects live while it does).
        with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
            h.CryptHashData(b"x")
            sig = h.CryptSignHash(con.AT_SIGNATURE)
        public_key_of(second).verify(sig[::-1], b"x", padding.PKCS1v15(), hashes.SHA1())
        assert first.CryptGetKeyParam(con.KP_KEYLEN) == 1024
        first.CryptDestroyKey()
        second.CryptDestroyKey()


def test_dss_pairs_fill_the_signature_slot() -> None:
    with _ctx(con.PROV_DSS) as ctx:
        with ctx.CryptGenKey(con.AT_SIGNATURE, 0) as made:
            public = interop.key_from_blob(made.CryptExportKey(None, con.PUBLICKEYBLOB))
        assert isinstance(public, dsa.DSAPublicKey)
        with ctx.CryptCreateHash(con.CALG_SHA1, None) as h:
            h.CryptHashData(DATA)
            rs = h.CryptSignHash(con.AT_SIGNATURE)
        r = int.from_bytes(rs[:20], "little")
        s = int.from_bytes(rs[20:], "little")
        public.verify(encode_dss_signature(r, s), DATA, hashes.SHA1())


def test_release_removes_every_object_of_the_context(prov: PyCRYPTPROV) -> None:
    before = _objects(prov)
    ctx = _ctx()
    ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)  # handles dropped at once
    ctx.CryptImportKey(bytes.fromhex(windows_kat()["blobs"]["abPlainPrivateKey"]), None, 0)
    assert _objects(prov) == before + 4
    ctx.CryptReleaseContext()
    assert _objects(prov) == before


def test_a_dropped_context_lets_its_pairs_go(prov: PyCRYPTPROV) -> None:
    import gc

    before = _objects(prov)
    ctx = _ctx()
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16)
    del ctx
    gc.collect()
    prov.CryptGenRandom(1)  # the token's next call releases what finalizers queued
    assert _objects(prov) == before


_KILLED = textwrap.dedent(
    """
    import os, sys
    from csp11 import win32crypt, win32cryptcon as c
    ctx = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT)
    ctx.CryptGenKey(c.AT_SIGNATURE, 1024 << 16)
    ctx.CryptGenKey(c.AT_KEYEXCHANGE, 1024 << 16)
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def test_nothing_survives_sigkill(csp11_home: Path, softhsm2_module: str) -> None:
    """Counted from outside csp11 (python-pkcs11 in another process): a verify
    context's pairs never reach the token's persistent objects."""
    before = outside.objects(csp11_home, softhsm2_module)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", _KILLED], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    during = outside.objects(csp11_home, softhsm2_module)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    after = outside.objects(csp11_home, softhsm2_module)
    assert before == during == after
