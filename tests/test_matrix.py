"""The token matrix: one set of token-independent behaviour checks on every kind
of token csp11 is meant for.

Tokens: SoftHSM2 loaded directly; SoftHSM2 through the system's
p11-kit-proxy.so; SoftHSM2 in a ``p11-kit server`` process reached through
p11-kit-client.so over a unix socket (how a network HSM is reached); a TPM 2.0
token (swtpm + tpm2-abrmd + tpm2-pkcs11, see tests/tokens_tpm.py); NSS softokn's
key-database token, NSS Certificate DB, with a user PIN (tests/nss_token.py).

Each token runs a user's program in two processes of its own (a container
made in one, reopened, used and deleted in the other; a verify context's
pairs; the algorithm enumeration) and every check reads its part of the
result.  A check a token cannot run is skipped with the capability it lacks.
By default each token runs the representative slice; ``-m slow`` adds every
enumerated session-key algorithm and every RSA length step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from csp11 import interop, winerror

from .conftest import REPO
from .nss_token import CERT_DB, SOFTOKN, init_string, set_user_pin
from .nss_token import uri as nss_uri
from .p11kit_config import CLIENT, PROXY, proxy_env, proxy_unusable, served
from .tokens_tpm import TpmToken

TOKENS = ("softhsm2", "p11kit-proxy", "p11kit-rpc", "tpm", "nss")
# Tokens that must hold AES/3DES session keys (all SoftHSM2 underneath).
_BLOCK_CIPHER_TOKENS = ("softhsm2", "p11kit-proxy", "p11kit-rpc")

# ALG_IDs a token may or may not serve: each must be enumerated and generate,
# or be absent and refused with NTE_BAD_ALGID.
_CANDIDATES = (
    0x6610, 0x660E, 0x660F, 0x6603, 0x6609, 0x6601, 0x6602, 0x6801, 0xAA02, 0x2200,
)
# Keyed hashes (CALG_HMAC, CALG_MAC): each must be enumerated and give the
# right value (Python's hmac; cryptography's CBC), or be absent and refused by
# CryptCreateHash with NTE_BAD_ALGID (a token that can hold no key for it).
_KEYED_HASHES = (0x8009, 0x8005)

# The user's program; argv: phase, URI, container name, slow ("1"/"0"),
# candidates and keyed hashes (JSON lists).
_PROGRAM = textwrap.dedent(
    """
    import hashlib, hmac, json, os, struct, sys
    from cryptography.hazmat.primitives import hashes, padding as sympad
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from csp11 import interop, pywintypes, win32crypt, win32cryptcon as c
    from csp11.model.capabilities import token_model
    from csp11.token import Attribute
    phase, uri, name, slow = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    out = {}

    def token_objects():
        v = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES, c.CRYPT_VERIFYCONTEXT,
                                           Token=uri)
        try:
            v._state.login()
        except Exception:  # a token without a user PIN (NSS Generic Crypto Services)
            pass
        _, (found, anchors) = v._state.token.find(
            [{Attribute.TOKEN: True}, {Attribute.APPLICATION: "csp11-anchor"}], v._state.pins)
        v.CryptReleaseContext()
        return len(found) - len(anchors)  # the anchor stays (tpm2-pkcs11 quirk)

    def enumerated(ctx):
        algs = []
        while True:
            try:
                entry = ctx.CryptGetProvParam(c.PP_ENUMALGS, c.CRYPT_FIRST if not algs else 0)
            except pywintypes.error:
                return algs
            algs.append(entry[0] if isinstance(entry, tuple) else entry["aiAlgid"])

    def error(exc):
        return {"code": exc.winerror, "message": exc.strerror}

    def keyed_hash(ctx, alg, algs):
        # None when the keyed hash works and is right; absent ones go straight
        # to CryptCreateHash (without a key: the refusal comes first).
        if alg not in algs:
            ctx.CryptCreateHash(alg, None)
            return {"code": None, "message": "created though not enumerated"}
        data = b"the token matrix, keyed"
        if alg == c.CALG_HMAC:
            secret = os.urandom(20)
            blob = struct.pack("<BBHII", c.PLAINTEXTKEYBLOB, 2, 0, c.CALG_RC2, 20) + secret
            key = ctx.CryptImportKey(blob, None, c.CRYPT_IPSEC_HMAC_KEY)
            h = ctx.CryptCreateHash(c.CALG_HMAC, key)
            h.CryptSetHashParam(c.HP_HMAC_INFO, {"HashAlgid": c.CALG_SHA1})
            expected = hmac.new(secret, data, hashlib.sha1).digest()
        else:
            cipher_alg = next(a for a in (c.CALG_3DES, c.CALG_AES_128) if a in algs)
            secret = os.urandom(24 if cipher_alg == c.CALG_3DES else 16)
            blob = struct.pack("<BBHII", c.PLAINTEXTKEYBLOB, 2, 0, cipher_alg,
                               len(secret)) + secret
            key = ctx.CryptImportKey(blob, None, 0)
            h = ctx.CryptCreateHash(c.CALG_MAC, key)
            cipher = (algorithms.TripleDES(secret) if cipher_alg == c.CALG_3DES
                      else algorithms.AES(secret))
            padder = sympad.PKCS7(cipher.block_size).padder()
            enc = Cipher(cipher, modes.CBC(bytes(cipher.block_size // 8))).encryptor()
            padded = padder.update(data) + padder.finalize()
            expected = (enc.update(padded) + enc.finalize())[-cipher.block_size // 8:]
        h.CryptHashData(data)
        value = h.CryptGetHashParam(c.HP_HASHVAL)
        key.CryptDestroyKey()
        return None if value == expected else {"code": None, "message": "wrong value"}

    if phase == "make":
        out["objects_before"] = token_objects()
        ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_NEWKEYSET,
                                             Token=uri)
        for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
            ctx.CryptGenKey(spec, 2048 << 16).CryptDestroyKey()
        ctx.CryptReleaseContext()
    elif phase == "use":
        ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, 0, Token=uri)
        out["pubs"], out["sigs"] = {}, {}
        for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
            key = ctx.CryptGetUserKey(spec)
            out["pubs"][spec] = key.CryptExportKey(None, c.PUBLICKEYBLOB).hex()
            h = ctx.CryptCreateHash(c.CALG_SHA_256)
            h.CryptHashData(b"the token matrix")
            out["sigs"][spec] = h.CryptSignHash(spec).hex()
        algs = enumerated(ctx)
        # Unwrap: a SIMPLEBLOB made with cryptography for the exchange key.
        session_algs = [a for a in (c.CALG_AES_128, c.CALG_3DES) if a in algs]
        if not session_algs:  # a SIMPLEBLOB of a key the token cannot hold
            public = interop.key_from_blob(bytes.fromhex(out["pubs"][c.AT_KEYEXCHANGE]))
            wrapped = public.encrypt(bytes(16), padding.PKCS1v15())
            blob = (bytes([c.SIMPLEBLOB, 2, 0, 0]) + c.CALG_AES_128.to_bytes(4, "little")
                    + c.CALG_RSA_KEYX.to_bytes(4, "little") + wrapped[::-1])
            try:
                ctx.CryptImportKey(blob, ctx.CryptGetUserKey(c.AT_KEYEXCHANGE), 0)
                out["unwrap_refused"] = None
            except pywintypes.error as exc:
                out["unwrap_refused"] = error(exc)
        if session_algs:
            alg = session_algs[0]
            secret = os.urandom(16 if alg == c.CALG_AES_128 else 24)
            public = interop.key_from_blob(bytes.fromhex(out["pubs"][c.AT_KEYEXCHANGE]))
            wrapped = public.encrypt(secret, padding.PKCS1v15())
            blob = (bytes([c.SIMPLEBLOB, 2, 0, 0]) + alg.to_bytes(4, "little")
                    + c.CALG_RSA_KEYX.to_bytes(4, "little") + wrapped[::-1])
            keyx = ctx.CryptGetUserKey(c.AT_KEYEXCHANGE)
            session = ctx.CryptImportKey(blob, keyx, 0)
            made = session.CryptEncrypt(True, b"sixteen bytes!!!")
            cipher = (algorithms.AES(secret) if alg == c.CALG_AES_128
                      else algorithms.TripleDES(secret))
            padder = sympad.PKCS7(cipher.block_size).padder()
            enc = Cipher(cipher, modes.CBC(bytes(cipher.block_size // 8))).encryptor()
            padded = padder.update(b"sixteen bytes!!!") + padder.finalize()
            expected = enc.update(padded) + enc.finalize()
            out["unwrap"] = {"alg": alg, "ok": made == expected}
            # CBC across calls (the chain kept on the handle), both ways, against
            # cryptography with a random IV.
            iv = os.urandom(cipher.block_size // 8)
            session.CryptSetKeyParam(c.KP_IV, iv)
            message = os.urandom(5 * len(iv) + 3)
            split = 2 * len(iv)
            made = (session.CryptEncrypt(False, message[:split])
                    + session.CryptEncrypt(True, message[split:]))
            padder = sympad.PKCS7(cipher.block_size).padder()
            enc = Cipher(cipher, modes.CBC(iv)).encryptor()
            expected = enc.update(padder.update(message) + padder.finalize()) + enc.finalize()
            back = session.CryptDecrypt(False, made[:split]) + session.CryptDecrypt(True,
                                                                                   made[split:])
            out["cbc"] = {"encrypts": made == expected, "decrypts": back == message}
        ctx.CryptReleaseContext()
        assert win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, c.CRYPT_DELETEKEYSET,
                                              Token=uri) is None
        out["objects_after_delete"] = token_objects()
    if phase == "verify":
        out["objects_before_verify"] = token_objects()
        # A verify context's pairs.
        verify = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES,
                                                c.CRYPT_VERIFYCONTEXT, Token=uri)
        for spec in (c.AT_SIGNATURE, c.AT_KEYEXCHANGE):
            verify.CryptGenKey(spec, 1024 << 16)
            h = verify.CryptCreateHash(c.CALG_SHA1)
            h.CryptHashData(b"x")
            out.setdefault("verify_sigs", []).append(len(h.CryptSignHash(spec)))
        out["objects_during_verify"] = token_objects()
        verify.CryptReleaseContext()
        out["objects_after_verify"] = token_objects()
        # Every candidate: enumerated and generated, or absent and refused.
        out["gen"] = {}
        probe = win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES,
                                               c.CRYPT_VERIFYCONTEXT, Token=uri)
        out["enum"] = enumerated(probe)
        for alg in json.loads(sys.argv[5]):
            try:
                key = probe.CryptGenKey(alg, 0)
                if slow and key.CryptGetKeyParam(c.KP_BLOCKLEN):
                    data = key.CryptEncrypt(True, b"round trip")
                    assert key.CryptDecrypt(True, data) == b"round trip"
                key.CryptDestroyKey()
                out["gen"][alg] = None
            except pywintypes.error as exc:
                out["gen"][alg] = error(exc)
        for alg in json.loads(sys.argv[6]):
            try:
                out["gen"][alg] = keyed_hash(probe, alg, out["enum"])
            except pywintypes.error as exc:
                out["gen"][alg] = error(exc)
        if slow:
            out["rsa_sizes"] = {}
            for bits in (1024, 1536, 2048, 3072, 4096):
                try:
                    probe.CryptGenKey(c.CALG_RSA_SIGN, bits << 16).CryptDestroyKey()
                    out["rsa_sizes"][bits] = None
                except pywintypes.error as exc:
                    out["rsa_sizes"][bits] = error(exc)
        out["model"] = token_model(probe._state.token).describe()["secret_keygen"]
        probe.CryptReleaseContext()
    print(json.dumps(out))
    """
)


@dataclass
class MatrixToken:
    """A token of the matrix: its URI and the variables its processes need."""

    name: str
    uri: str
    env: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def _run(token: MatrixToken, phase: str, name: str, slow: bool) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM, phase, token.uri, name, "1" if slow else "0",
         json.dumps(_CANDIDATES), json.dumps(_KEYED_HASHES)],
        env={**os.environ, "PYTHONPATH": str(REPO), **token.env},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, f"{token.name} {phase}: {result.stderr[-3000:]}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def rpc_server(csp11_home: Path, softhsm2_module: str,
               embedded_pin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`p11-kit server` serving the test SoftHSM2 token on a unix socket."""
    del embedded_pin
    socket = tmp_path_factory.mktemp("rpc") / "p11-kit.sock"
    with served(socket, softhsm2_module, csp11_home / "softhsm2.conf") as address:
        yield address


@pytest.fixture(scope="module", params=TOKENS)
def matrix_token(request: pytest.FixtureRequest, token_uri: str, csp11_home: Path,
                 softhsm2_module: str) -> MatrixToken:
    """One token of the matrix, with its program's results (run once per token)."""
    name: str = request.param
    pin = f"pin-source=file:{csp11_home / 'pin'}"
    if name == "softhsm2":
        token = MatrixToken(name, token_uri,
                            {"SOFTHSM2_CONF": str(csp11_home / "softhsm2.conf")})
    elif name == "p11kit-proxy":
        if PROXY is None:
            pytest.skip("p11-kit-proxy.so is not installed (p11-kit-modules)")
        unusable = proxy_unusable()
        if unusable:
            pytest.skip(unusable)
        home = Path(str(request.getfixturevalue("tmp_path_factory").mktemp("p11home")))
        token = MatrixToken(name, f"pkcs11:token=csp11?module-path={PROXY}&{pin}",
                            proxy_env(csp11_home / "softhsm2.conf", softhsm2_module, home))
    elif name == "p11kit-rpc":
        server = request.getfixturevalue("rpc_server")
        token = MatrixToken(name, f"pkcs11:token=csp11?module-path={CLIENT}&{pin}",
                            {"P11_KIT_SERVER_ADDRESS": server})
    elif name == "tpm":
        tpm: TpmToken = request.getfixturevalue("tpm_token")
        token = MatrixToken(name, tpm.uri, dict(tpm.env))
    else:
        if SOFTOKN is None:
            pytest.skip("NSS softokn is not installed (libnss3)")
        # softokn's key-database token with a user PIN, as a user sets it up
        # (its Generic Crypto Services token is write-protected: no containers);
        # its container records are secret keys (docs/containers.md).
        init = init_string(request.getfixturevalue("tmp_path_factory").mktemp("nssdb"))
        set_user_pin(init, "matrix-pin", REPO)
        token = MatrixToken(name, nss_uri(init, CERT_DB, "matrix-pin"))
    markers = str(request.config.getoption("-m") or "")
    slow = "slow" in markers and "not slow" not in markers
    container = f"matrix-{name}-{os.getpid()}"
    try:
        token.results = _run(token, "make", container, slow)
        token.results.update(_run(token, "use", container, slow))
    except AssertionError as exc:
        token.results = {"make_error": str(exc)}
    token.results.update(_run(token, "verify", container, slow))
    return token


def _made(token: MatrixToken) -> dict[str, Any]:
    results = token.results
    if "make_error" in results:
        pytest.fail(str(results["make_error"]))
    return results


def test_container_pairs_sign(matrix_token: MatrixToken) -> None:
    """Both RSA-2048 pairs, made in one process, sign in another (checked by
    cryptography from the exported PUBLICKEYBLOB)."""
    results = _made(matrix_token)
    for spec in ("1", "2"):
        public = interop.key_from_blob(bytes.fromhex(results["pubs"][spec]))
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
        signature = bytes.fromhex(results["sigs"][spec])[::-1]
        public.verify(signature, b"the token matrix", padding.PKCS1v15(), hashes.SHA256())


def test_container_unwraps(matrix_token: MatrixToken) -> None:
    """A SIMPLEBLOB made for the exchange key is unwrapped to the right key; on a
    token that holds no session keys (no AES or 3DES it can generate and run in
    CBC mode) the same import is refused up front: NTE_BAD_ALGID, no raw
    PKCS#11 text."""
    results = _made(matrix_token)
    if matrix_token.name in _BLOCK_CIPHER_TOKENS:
        # p11kit-rpc too: its CBC is csp11's over the token's ECB.
        assert "unwrap" in results, results.get("unwrap_refused")
    if "unwrap" in results:
        assert results["unwrap"]["ok"]
        return
    failure = results["unwrap_refused"]
    assert failure is not None and failure["code"] == winerror.NTE_BAD_ALGID, failure
    assert "CKR_" not in failure["message"]


def test_container_cbc_across_calls(matrix_token: MatrixToken) -> None:
    """The unwrapped session key encrypts and decrypts in CBC across calls with
    a random IV, byte for byte as cryptography's AES/3DES-CBC."""
    results = _made(matrix_token)
    if "cbc" not in results:
        pytest.skip(f"{matrix_token.name}: holds no AES or 3DES session key")
    assert results["cbc"] == {"encrypts": True, "decrypts": True}


def test_cbc_mode_recorded(matrix_token: MatrixToken) -> None:
    """``describe()`` (``csp11 info``) says where csp11 runs CBC over ECB: through
    p11-kit's RPC (no CBC parameter carried), not on SoftHSM2 or NSS loaded directly."""
    aes = matrix_token.results["model"].get("AES_KEY_GEN")
    if aes is None or not aes["generates"]:
        pytest.skip(f"{matrix_token.name}: makes no AES keys")
    if matrix_token.name == "p11kit-rpc":
        assert aes["cbc_with_iv"] is False and aes["cbc"] == "emulated on ECB", aes
    elif matrix_token.name in ("softhsm2", "p11kit-proxy", "nss"):
        assert aes["cbc_with_iv"] is True and "cbc" not in aes, aes


def test_delete_leaves_no_object(matrix_token: MatrixToken) -> None:
    results = _made(matrix_token)
    assert results["objects_after_delete"] == results["objects_before"]


def test_verify_context_pairs_work_and_vanish(matrix_token: MatrixToken) -> None:
    results = matrix_token.results
    assert results["verify_sigs"] == [128, 128]
    assert results["objects_after_verify"] == results["objects_before_verify"]


def test_unsupported_algorithms_absent_and_refused(matrix_token: MatrixToken) -> None:
    """An ALG_ID is generatable (a keyed hash: computes the right value) exactly
    when PP_ENUMALGS lists it; the others are NTE_BAD_ALGID."""
    results = matrix_token.results
    enumerated = set(results["enum"])
    refused = 0
    for alg_text, failure in results["gen"].items():
        alg = int(alg_text)
        if alg in enumerated:
            assert failure is None, (hex(alg), failure)
        else:
            refused += 1
            assert failure is not None and failure["code"] == winerror.NTE_BAD_ALGID, (
                hex(alg), failure)
    if not refused:
        pytest.skip(f"{matrix_token.name}: serves every candidate algorithm")


def test_hmac_where_a_key_for_it_can_exist(matrix_token: MatrixToken) -> None:
    """CALG_HMAC is offered where the token can hold an HMAC key (a generic
    secret it creates from a value: SoftHSM2 however reached, NSS) and not on
    the TPM, which creates no secret key at all (its refusal is checked above)."""
    enumerated = matrix_token.results["enum"]
    assert (0x8009 in enumerated) == (matrix_token.name != "tpm"), enumerated


def test_no_raw_ckr_text(matrix_token: MatrixToken) -> None:
    results = matrix_token.results
    failures = [f for f in results["gen"].values() if f is not None]
    failures += [f for f in results.get("rsa_sizes", {}).values() if f is not None]
    if not failures:
        pytest.skip(f"{matrix_token.name}: no unsupported request among the candidates")
    for failure in failures:
        assert "CKR_" not in failure["message"], failure


@pytest.mark.slow
def test_rsa_lengths(matrix_token: MatrixToken) -> None:
    """Every RSA length the token offers works; the others are refused up front."""
    results = matrix_token.results
    for bits, failure in results["rsa_sizes"].items():
        if failure is not None:
            assert failure["code"] in (winerror.ERROR_INVALID_PARAMETER, winerror.NTE_BAD_FLAGS,
                                       winerror.NTE_BAD_LEN), (bits, failure)
