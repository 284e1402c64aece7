"""Issue #18: containers over key pairs and certificates csp11 did not make.

Each test provisions a fresh token with the tools a card or HSM owner uses
(OpenSC's ``pkcs11-tool``; certificates made with ``cryptography``) and then
uses it through csp11's public surface only.  The tokens come from the
``found_token`` fixture, parametrised by token kind (SoftHSM2 here; another
kind, e.g. a TPM token, adds a :class:`TokenKind` to ``KINDS``).  The
token's objects are compared byte for byte before and after, as another
PKCS#11 client (python-pkcs11 in its own process) sees them.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

import csp11
from csp11 import interop, keyscli, pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.token import PinRequest, load_module
from csp11.win32crypt import PyCRYPTPROV

from .conftest import run_python
from .helpers import code_name

_DUMP = textwrap.dedent(
    """
    import fcntl, json, sys
    import pkcs11
    from pkcs11 import Attribute as A

    module, label, pin, lock_path = sys.argv[1:5]
    lock = open(lock_path, "a+") if lock_path else None
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    token = pkcs11.lib(module).get_token(token_label=label)
    rows = []
    with token.open(user_pin=pin) as s:
        for obj in s.get_objects({A.TOKEN: True}):
            row = {}
            for attr in A:
                try:
                    value = obj[attr]
                except Exception as exc:  # absent, sensitive, or not decodable
                    value = "!" + type(exc).__name__
                row[attr.name] = value.hex() if isinstance(value, bytes) else repr(value)
            rows.append(row)
    print(json.dumps(sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))))
    """
)


@dataclass
class FoundToken:
    """A token made for one test, provisioned by other tools."""

    kind: str
    label: str
    module: str
    pin: str
    env: dict[str, str]
    lock: str | None
    tmp: Path
    can_import: bool = True
    made: list[str] = field(default_factory=list)

    @property
    def uri(self) -> str:
        """The ``Token=`` URI of the token (the test token's PIN in it)."""
        return f"pkcs11:token={self.label}?module-path={self.module}&pin-value={self.pin}"

    def tool(self, *args: str) -> str:
        """Run ``pkcs11-tool`` on the token, logged in; its output."""
        tool = shutil.which("pkcs11-tool")
        if tool is None:
            pytest.skip("pkcs11-tool (Debian package opensc) is not installed")
        command = [tool, "--module", self.module, "--token-label", self.label, "--login",
                   "--pin", self.pin, *args]
        env = {**os.environ, **self.env}
        with self._locked():
            result = subprocess.run(command, env=env, capture_output=True, text=True,
                                    timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def dump(self) -> list[dict[str, str]]:
        """Every token object's every attribute, read by python-pkcs11 in another process."""
        result = run_python(
            f"import sys; sys.argv = ['x', {self.module!r}, {self.label!r}, {self.pin!r}, "
            f"{self.lock or ''!r}]\n" + _DUMP,
            env=self.env,
        )
        assert result.returncode == 0, result.stderr
        rows: list[dict[str, str]] = json.loads(result.stdout.strip().splitlines()[-1])
        return rows

    def _locked(self) -> Any:
        return _flocked(self.lock)

    def write(self, name: str, data: bytes) -> str:
        """A file in the test's directory (for pkcs11-tool to read)."""
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def import_pair(self, ident: str, label: str, key: rsa.RSAPrivateKey,
                    usage: tuple[str, ...], cert: x509.Certificate | None = None,
                    extra: tuple[str, ...] = (), public: bool = True) -> None:
        """Import a key pair (and its certificate) as a card owner's tools would."""
        if not self.can_import:
            pytest.skip(f"{self.kind} tokens take no imported keys")
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        common = ("--id", ident, "--label", label)
        self.tool("--write-object", self.write(f"{ident}.key", der), "--type", "privkey",
                  *common, *usage, "--sensitive", "--private", *extra)
        if public:
            pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
            self.tool("--write-object", self.write(f"{ident}.pub", pub), "--type", "pubkey",
                      *common, *usage)
        if cert is not None:
            self.tool("--write-object",
                      self.write(f"{ident}.crt", cert.public_bytes(serialization.Encoding.DER)),
                      "--type", "cert", *common)

    def generate_pair(self, ident: str, label: str, *usage: str, bits: int = 2048) -> None:
        """``pkcs11-tool --keypairgen`` on the token."""
        self.tool("--keypairgen", "--key-type", f"rsa:{bits}", "--id", ident, "--label", label,
                  *usage)


class _flocked:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.handle: Any = None

    def __enter__(self) -> None:
        # Under the store's lock, as csp11 takes it: SoftHSM2 rewrites its
        # token files on login, which another process must not read half-done.
        if self.path is not None:
            self.handle = open(self.path, "a+")  # noqa: SIM115 - closed in __exit__
            fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


@dataclass(frozen=True)
class TokenKind:
    """How to make a fresh token of one kind for a test."""

    name: str
    make: Callable[[Path, Path, str], FoundToken]


def _softhsm2(home: Path, tmp: Path, module: str) -> FoundToken:
    label = f"found-{uuid.uuid4().hex[:8]}"
    pin = secrets.token_hex(8)
    # Initialised in this process (the embedded store, already loaded):
    # SoftHSM2 lists the tokens that existed at C_Initialize only.
    load_module(module).init_token(label, secrets.token_hex(8), pin)
    return FoundToken("softhsm2", label, module, pin,
                      {"SOFTHSM2_CONF": str(home / "softhsm2.conf")}, str(home / ".lock"), tmp)


KINDS = [TokenKind("softhsm2", lambda home, tmp, module: _softhsm2(home, tmp, module))]


@pytest.fixture(params=KINDS, ids=[k.name for k in KINDS])
def found_token(request: pytest.FixtureRequest, csp11_home: Path, softhsm2_module: str,
                embedded_pin: str, tmp_path: Path) -> FoundToken:
    """A fresh token of each kind, for one test."""
    kind: TokenKind = request.param
    return kind.make(csp11_home, tmp_path, softhsm2_module)


def _certificate(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _acquire(token: FoundToken, name: str | None, flags: int = 0) -> PyCRYPTPROV:
    ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, flags, Token=token.uri)
    assert ctx is not None
    return ctx


def _names(token: FoundToken, flags: int = 0) -> list[str]:
    names = []
    with _acquire(token, None, con.CRYPT_VERIFYCONTEXT) as prov:
        step = con.CRYPT_FIRST
        while True:
            try:
                names.append(prov.CryptGetProvParam(con.PP_ENUMCONTAINERS, step | flags))
            except pywintypes.error as exc:
                assert exc.winerror == winerror.ERROR_NO_MORE_ITEMS
                return names
            step = con.CRYPT_NEXT


def _public_numbers(key: Any) -> Any:
    public = interop.key_from_blob(key.CryptExportKey(None, con.PUBLICKEYBLOB))
    assert isinstance(public, rsa.RSAPublicKey)
    return public.public_numbers()


def _sign(prov: PyCRYPTPROV, spec: int, data: bytes) -> bytes:
    h = prov.CryptCreateHash(con.CALG_SHA_256)
    h.CryptHashData(data)
    signature: bytes = h.CryptSignHash(spec)
    return signature[::-1]  # CryptoAPI's little-endian → PKCS #1's big-endian


# ---- the issue's provisioned token ---------------------------------------------------------
@pytest.fixture
def alice_and_bob(found_token: FoundToken) -> tuple[FoundToken, rsa.RSAPrivateKey,
                                                    x509.Certificate]:
    """The token of the issue: alice (imported pair + certificate, CKA_ID 01) and
    bob-sign (generated on the token, sign-only, CKA_ID 02)."""
    key = _rsa()
    cert = _certificate(key, "alice")
    found_token.import_pair("01", "alice", key, ("--usage-sign", "--usage-decrypt"), cert)
    found_token.generate_pair("02", "bob-sign", "--usage-sign")
    return found_token, key, cert


def test_issue_token_alice_and_bob(
    alice_and_bob: tuple[FoundToken, rsa.RSAPrivateKey, x509.Certificate],
) -> None:
    token, alice_key, alice_cert = alice_and_bob
    before = token.dump()
    assert _names(token) == ["alice", "bob-sign"]

    with _acquire(token, "alice") as prov:
        assert prov.CryptGetProvParam(con.PP_CONTAINER) == "alice"
        exchange = prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
        assert exchange.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_KEYX
        assert exchange.CryptGetKeyParam(con.KP_KEYLEN) == 2048
        assert exchange.CryptGetKeyParam(con.KP_CERTIFICATE) == alice_cert.public_bytes(
            serialization.Encoding.DER)
        # Imported --sensitive, not --extractable: no CRYPT_EXPORT.
        permissions = exchange.CryptGetKeyParam(con.KP_PERMISSIONS)
        assert permissions & con.CRYPT_DECRYPT and permissions & con.CRYPT_ENCRYPT
        assert not permissions & con.CRYPT_EXPORT
        # Her one key may sign too: it fills AT_SIGNATURE as well (docs/mapping.md).
        signing = prov.CryptGetUserKey(con.AT_SIGNATURE)
        assert signing.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_SIGN
        assert _public_numbers(signing) == _public_numbers(exchange) == \
            alice_cert.public_key().public_numbers()  # type: ignore[union-attr]

        # alice signs (with her exchange key, as CryptSignHash(AT_KEYEXCHANGE) does)...
        signature = _sign(prov, con.AT_KEYEXCHANGE, b"signed by alice")
        alice_cert.public_key().verify(signature, b"signed by alice", padding.PKCS1v15(),
                                       hashes.SHA256())  # type: ignore[call-arg]
        # ... decrypts what her certificate's key encrypted ...
        sealed = alice_cert.public_key().encrypt(b"for alice", padding.PKCS1v15())  # type: ignore[union-attr]
        assert exchange.CryptDecrypt(True, sealed[::-1]) == b"for alice"
        # ... and unwraps a session key sent to her (SIMPLEBLOB).
        with _acquire(token, None, con.CRYPT_VERIFYCONTEXT) as sender:
            public = sender.CryptImportKey(exchange.CryptExportKey(None, con.PUBLICKEYBLOB))
            secret = sender.CryptGenKey(con.CALG_AES_256, con.CRYPT_EXPORTABLE)
            blob = secret.CryptExportKey(public, con.SIMPLEBLOB)
            sealed_text = secret.CryptEncrypt(True, b"session data")
        session = prov.CryptImportKey(blob, exchange)
        assert session.CryptDecrypt(True, sealed_text) == b"session data"
        assert secrets.compare_digest(
            exchange.CryptExportKey(None, con.PUBLICKEYBLOB),
            exchange.CryptExportKey(None, con.PUBLICKEYBLOB))
        del alice_key

    with _acquire(token, "bob-sign") as prov:
        sign_key = prov.CryptGetUserKey(con.AT_SIGNATURE)
        assert sign_key.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_SIGN
        assert sign_key.CryptGetKeyParam(con.KP_KEYLEN) == 2048
        assert sign_key.CryptGetKeyParam(con.KP_PERMISSIONS) & con.CRYPT_READ
        with pytest.raises(pywintypes.error) as info:
            sign_key.CryptGetKeyParam(con.KP_CERTIFICATE)
        assert code_name(info) == "SCARD_E_NO_SUCH_CERTIFICATE"
        signature = _sign(prov, con.AT_SIGNATURE, b"signed by bob")
        blob = sign_key.CryptExportKey(None, con.PUBLICKEYBLOB)
    bob_public = interop.key_from_blob(blob)
    assert isinstance(bob_public, rsa.RSAPublicKey)
    bob_public.verify(signature, b"signed by bob", padding.PKCS1v15(), hashes.SHA256())

    # Verified by CryptoAPI too, in a context that imported the PUBLICKEYBLOB.
    with _acquire(token, None, con.CRYPT_VERIFYCONTEXT) as verifier:
        h = verifier.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"signed by bob")
        h.CryptVerifySignature(signature[::-1], verifier.CryptImportKey(blob))

    assert token.dump() == before
