"""``PyCRYPTKEY``: a key handle, its parameters (``KP_*``) and its lifetime.

A handle holds a :class:`csp11.token.TokenKey` (the objects on the token,
shared with duplicates of the handle) and the per-handle state CryptoAPI
keeps beside a key: mode, IV, padding, salt, permissions.  Key parameters
are read and written through two tables, :data:`_GETTERS` and
:data:`_SETTERS`; anything not in them is ``NTE_BAD_TYPE``.

A handle that was destroyed answers ``ERROR_INVALID_HANDLE`` (SPEC §4); so
does a handle whose provider context was released, since the context's keys
are destroyed with it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cryptography import x509

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.algorithms import Algorithm, Family
from csp11.args import dword, flags
from csp11.blobs import DssSeed
from csp11.byteorder import be_to_le, int_from_le
from csp11.errors import Fail, api
from csp11.token import Attribute, ObjectClass, Operation, TokenKey

if TYPE_CHECKING:
    from csp11.hashes import PyCRYPTHASH
    from csp11.provider import PyCRYPTPROV

__all__ = ["DEFAULT_PERMISSIONS", "PyCRYPTKEY", "permissions_for"]

_handles = itertools.count(1)

# KP_PERMISSIONS of a new key: ENCRYPT|DECRYPT|READ|WRITE|MAC (0x3b); with
# CRYPT_EXPORTABLE also EXPORT (0x3f).  Windows-observed (rsaenh).
DEFAULT_PERMISSIONS = (
    con.CRYPT_ENCRYPT | con.CRYPT_DECRYPT | con.CRYPT_READ | con.CRYPT_WRITE | con.CRYPT_MAC
)


def permissions_for(flag_bits: int) -> int:
    """``KP_PERMISSIONS`` of a new key from its creation flags: 0x3b; with
    ``CRYPT_EXPORTABLE`` also ``CRYPT_EXPORT`` (0x3f); with
    ``CRYPT_ARCHIVABLE`` also ``CRYPT_ARCHIVE`` (WINDOWS-FACTS)."""
    permissions = DEFAULT_PERMISSIONS
    if flag_bits & con.CRYPT_EXPORTABLE:
        permissions |= con.CRYPT_EXPORT
    if flag_bits & con.CRYPT_ARCHIVABLE:
        permissions |= con.CRYPT_ARCHIVE
    return permissions


_KNOWN_PERMISSIONS = (
    DEFAULT_PERMISSIONS | con.CRYPT_EXPORT | con.CRYPT_EXPORT_KEY | con.CRYPT_IMPORT_KEY
    | con.CRYPT_ARCHIVE
)
_SUPPORTED_MODES = (con.CRYPT_MODE_CBC, con.CRYPT_MODE_ECB, con.CRYPT_MODE_CFB)
_MAX_SALT = 24  # KP_SALT_EX: rsaenh keeps at most 24 bytes of salt


class PyCRYPTKEY:
    """A CryptoAPI key handle (``HCRYPTKEY``) whose key lives on a token."""

    def __init__(
        self,
        prov: PyCRYPTPROV,
        alg: Algorithm,
        bits: int,
        tkey: TokenKey | None,
        *,
        permissions: int,
        salt: bytes = b"",
        domain: dict[str, bytes] | None = None,
        pregen: bool = False,
    ) -> None:
        self._prov = prov
        self.alg = alg
        self.algid = alg.algid
        # Key length without parity bits (KP_KEYLEN adds them for DES).
        self.bits = bits
        self.tkey = tkey
        self.permissions = permissions
        self.salt = salt
        self.iv = bytes(alg.block_bits // 8)
        self.mode = con.CRYPT_MODE_CBC if alg.block_bits else 0
        self.mode_bits = 8
        self.padding = con.PKCS5_PADDING
        self.effective_keylen = 0  # 0: the key length (RC2 only)
        # DSA/DH domain parameters, little-endian: "P", "Q", "G" (and "Y").
        self.domain: dict[str, bytes] = dict(domain or {})
        self.pregen = pregen
        # The DSSSEED a DSS/DH PRIVATEKEYBLOB or PUBLICKEYBLOB was imported
        # with, so that the key exports again byte for byte (handle state:
        # PKCS#11 has no attribute for it).
        self.seed: DssSeed | None = None
        # CryptEncrypt/CryptDecrypt's chaining value between calls (None: KP_IV).
        self.chain: bytes | None = None
        self.cipher_lock = threading.Lock()
        # A PLAINTEXTKEYBLOB imported with CRYPT_IPSEC_HMAC_KEY: a generic
        # secret on the token that only keys HMACs.
        self.hmac_only = False
        # A Diffie-Hellman agreed key before KP_ALGID: (own private key,
        # peer's public value big-endian, CryptImportKey flags).
        self.agreement: tuple[TokenKey, bytes, int] | None = None
        # An RC4 keystream running between CryptEncrypt/CryptDecrypt calls.
        self.stream: Operation | None = None
        # CryptGenKey's low flags, for a CRYPT_PREGEN key finished later.
        self.gen_flags = 0
        self._handle = next(_handles)
        self._destroyed = False
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self.attach_finalizer()
        prov.adopt(self)

    def __repr__(self) -> str:
        state = "destroyed" if self._destroyed else ("pregen" if self.pregen else "live")
        return f"<PyCRYPTKEY {self._handle} {self.alg.name} {self.bits} bits {state}>"

    # ---- lifetime --------------------------------------------------------------
    def __enter__(self) -> PyCRYPTKEY:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.CryptDestroyKey()

    def attach_finalizer(self) -> None:
        """Release the token objects if the handle is dropped without CryptDestroyKey."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        held = self.tkey if self.tkey is not None else (
            self.agreement[0] if self.agreement is not None else None
        )
        if held is not None:
            self._finalizer = weakref.finalize(self, held.token.bury, held)

    @property
    def HCRYPTKEY(self) -> int:
        """The key's handle, an int unique within the process."""
        return self._handle

    @property
    def HCRYPTPROV(self) -> int:
        """The handle of the provider context the key belongs to."""
        return self._prov.HCRYPTPROV

    def live(self) -> None:
        """Fail unless the handle and its context are usable."""
        if self._destroyed:
            raise Fail(winerror.ERROR_INVALID_HANDLE, "the key handle has been destroyed")
        self._prov.check_live()

    def usable(self) -> TokenKey:
        """The token objects, failing for a destroyed handle or an unfinished PREGEN key."""
        self.live()
        if self.tkey is None:
            if self.agreement is not None:
                raise Fail(
                    winerror.NTE_BAD_KEY_STATE,
                    "an agreed key is usable once KP_ALGID names its algorithm",
                )
            raise Fail(
                winerror.NTE_BAD_KEY_STATE,
                "the CRYPT_PREGEN key has no key yet: set KP_P, KP_G (KP_Q) and then KP_X",
            )
        return self.tkey

    def _release(self) -> None:
        with self._lock:
            if self._destroyed:
                return
            self._destroyed = True
            tkey, self.tkey = self.tkey, None
            agreement, self.agreement = self.agreement, None
            stream, self.stream = self.stream, None
        if self._finalizer is not None:
            self._finalizer.detach()
        if stream is not None:
            stream.abort()
        if tkey is not None:
            tkey.release()
        if agreement is not None:
            agreement[0].release()

    def close(self) -> None:
        """Release the handle (CryptDestroyKey, or its context's release)."""
        self._release()

    @api("CryptDestroyKey")
    def CryptDestroyKey(self) -> None:
        """Close the handle; the key's session objects are destroyed on the token.

        Keys of a named container stay on the token (only the handle closes).
        Destroying a destroyed handle is harmless.
        """
        self._release()

    @api("CryptDuplicateKey")
    def CryptDuplicateKey(self, Reserved: int = 0, Flags: int = 0) -> PyCRYPTKEY:
        """A new handle to the same key, with a copy of this handle's state (IV, mode, ...)."""
        if dword(Reserved, "Reserved") != 0:
            raise Fail(winerror.ERROR_INVALID_PARAMETER, "pdwReserved must be 0")
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        with self._lock:
            # Under the handle's lock: a concurrent CryptDestroyKey cannot
            # release the objects between the check and the new reference.
            self.live()
            shared = self.tkey.share() if self.tkey is not None else None
        twin = PyCRYPTKEY(
            self._prov, self.alg, self.bits, shared,
            permissions=self.permissions, salt=self.salt, domain=self.domain,
            pregen=self.pregen,
        )
        twin.gen_flags = self.gen_flags
        twin.seed, twin.chain, twin.hmac_only = self.seed, self.chain, self.hmac_only
        if self.agreement is not None:
            own, peer, flag_bits = self.agreement
            twin.agreement = (own.share(), peer, flag_bits)
            twin.attach_finalizer()
        twin.iv, twin.mode, twin.mode_bits = self.iv, self.mode, self.mode_bits
        twin.padding, twin.effective_keylen = self.padding, self.effective_keylen
        return twin

    # ---- BLOBs ---------------------------------------------------------------------
    @api("CryptExportKey")
    def CryptExportKey(self, ExpKey: PyCRYPTKEY | None, BlobType: int, Flags: int = 0) -> bytes:
        """The key as a key BLOB of ``BlobType`` (PUBLICKEYBLOB, PRIVATEKEYBLOB,
        PLAINTEXTKEYBLOB, SIMPLEBLOB, SYMMETRICWRAPKEYBLOB), encrypted to
        ``ExpKey`` where the type needs one."""
        from csp11.exportkey import export_key  # noqa: PLC0415 - import cycle

        if ExpKey is not None and not isinstance(ExpKey, PyCRYPTKEY):
            raise TypeError(f"ExpKey must be a PyCRYPTKEY or None, not {type(ExpKey).__name__}")
        return export_key(self, ExpKey, BlobType, Flags)

    # ---- data ------------------------------------------------------------------------
    @api("CryptEncrypt")
    def CryptEncrypt(self, Final: bool, Data: bytes, Hash: PyCRYPTHASH | None = None,
                     Flags: int = 0) -> bytes:
        """Encrypt ``Data``; ``Final`` adds the padding and ends the message.
        ``Hash``, if given, hashes the plaintext."""
        from csp11.cipher import encrypt  # noqa: PLC0415 - import cycle

        return encrypt(self, bool(Final), _data(Data), _hash_arg(Hash), Flags)

    @api("CryptDecrypt")
    def CryptDecrypt(self, Final: bool, Data: bytes, Hash: PyCRYPTHASH | None = None,
                     Flags: int = 0) -> bytes:
        """Decrypt ``Data``; ``Final`` checks and removes the padding.  ``Hash``,
        if given, hashes the plaintext."""
        from csp11.cipher import decrypt  # noqa: PLC0415 - import cycle

        return decrypt(self, bool(Final), _data(Data), _hash_arg(Hash), Flags)

    # ---- parameters --------------------------------------------------------------
    @api("CryptGetKeyParam")
    def CryptGetKeyParam(self, Param: int, Flags: int = 0) -> Any:
        """Read a key parameter (``KP_*``); ints for DWORDs, bytes for byte values."""
        param = dword(Param, "Param")
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        self.live()
        getter = _GETTERS.get(param)
        if getter is None:
            raise Fail(winerror.NTE_BAD_TYPE, f"unknown key parameter {param}")
        return getter(self)

    @api("CryptSetKeyParam")
    def CryptSetKeyParam(self, Param: int, Data: Any, Flags: int = 0) -> None:
        """Set a key parameter (``KP_*``), taking the type ``CryptGetKeyParam`` returns."""
        param = dword(Param, "Param")
        if flags(Flags) != 0:
            raise Fail(winerror.NTE_BAD_FLAGS, "dwFlags must be 0")
        self.live()
        setter = _SETTERS.get(param)
        if setter is None:
            raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only key parameter {param}")
        with self._lock:
            setter(self, Data)

    # ---- helpers for the parameter tables ---------------------------------------
    @property
    def is_pair(self) -> bool:
        """Whether this is a public/private key pair (RSA, DSS, DH)."""
        return self.alg.family in (Family.RSA, Family.DSA, Family.DH)

    @property
    def material_size(self) -> int:
        """A session key's size in bytes, parity bits included (KP_KEYLEN / 8)."""
        return (self.bits + self.alg.parity_bits) // 8

    @property
    def prov(self) -> PyCRYPTPROV:
        """The provider context of the key."""
        return self._prov

    def domain_value(self, name: str) -> bytes:
        """A DSA/DH parameter (P, Q, G, Y) little-endian, read from the token once."""
        if self.alg.family not in (Family.DSA, Family.DH):
            raise Fail(winerror.NTE_BAD_TYPE, f"KP_{name} applies to DSS and DH keys only")
        if name not in self.domain and self.tkey is not None and self.tkey.public is not None:
            attrs = {"P": Attribute.PRIME, "Q": Attribute.SUBPRIME, "G": Attribute.BASE,
                     "Y": Attribute.VALUE}
            if name == "Q" and self.alg.family is Family.DH:
                raise Fail(winerror.NTE_BAD_TYPE, "PKCS#3 Diffie-Hellman keys have no Q")
            value = self.tkey.attribute(attrs[name], self.tkey.public)
            self.domain[name] = be_to_le(bytes(value))
        if name not in self.domain:
            raise Fail(winerror.NTE_BAD_KEY_STATE, f"KP_{name} has not been set")
        return self.domain[name]


def _data(data: object) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"Data must be bytes, not {type(data).__name__}")
    return bytes(data)


def _hash_arg(hash_: object) -> PyCRYPTHASH | None:
    from csp11.hashes import PyCRYPTHASH  # noqa: PLC0415 - import cycle

    if hash_ is not None and not isinstance(hash_, PyCRYPTHASH):
        raise TypeError(f"Hash must be a PyCRYPTHASH or None, not {type(hash_).__name__}")
    return hash_


# ---- getters -----------------------------------------------------------------------
def _keylen(key: PyCRYPTKEY) -> int:
    return key.bits + key.alg.parity_bits


def _blocklen(key: PyCRYPTKEY) -> int:
    if key.alg.family is Family.RSA:
        return key.bits  # "encryption granularity": the modulus size
    return key.alg.block_bits


def _session_only(what: str) -> Callable[[PyCRYPTKEY], None]:
    def check(key: PyCRYPTKEY) -> None:
        if key.is_pair:
            raise Fail(winerror.NTE_BAD_KEY, f"{what} does not apply to a key pair")
    return check


_no_pair_salt = _session_only("KP_SALT")
_no_pair_iv = _session_only("KP_IV")


def _get_salt(key: PyCRYPTKEY) -> bytes:
    _no_pair_salt(key)
    return key.salt  # AES/DES keys: b"" (Windows answers with zero bytes)


def _get_iv(key: PyCRYPTKEY) -> bytes:
    _no_pair_iv(key)
    return key.iv


def _get_x(key: PyCRYPTKEY) -> bytes:
    raise Fail(
        winerror.NTE_BAD_KEY_STATE,
        "a private value never leaves the token except wrapped (CryptExportKey)",
    )


def _get_verify_params(key: PyCRYPTKEY) -> bytes:
    """KP_VERIFY_PARAMS: b"" when the DSA/DH parameters are sound, else NTE_BAD_DATA."""
    from csp11.domain import verify_domain  # noqa: PLC0415 - avoid an import cycle

    p = int_from_le(key.domain_value("P"))
    g = int_from_le(key.domain_value("G"))
    q = int_from_le(key.domain_value("Q")) if key.alg.family is Family.DSA else None
    problem = verify_domain(p, g, q)
    if problem:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_VERIFY_PARAMS: {problem}")
    return b""


def _get_certificate(key: PyCRYPTKEY) -> bytes:
    tkey = key.usable()
    if not key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, "a session key has no certificate")
    if tkey.certificate is None:
        raise Fail(winerror.SCARD_E_NO_SUCH_CERTIFICATE, "no certificate is stored for this key")
    return bytes(tkey.attribute(Attribute.VALUE, tkey.certificate))


def _get_effective(key: PyCRYPTKEY) -> int:
    return key.effective_keylen or key.bits


_GETTERS: dict[int, Callable[[PyCRYPTKEY], Any]] = {
    con.KP_ALGID: lambda key: key.algid,
    con.KP_KEYLEN: _keylen,
    con.KP_BLOCKLEN: _blocklen,
    con.KP_PERMISSIONS: lambda key: key.permissions,
    con.KP_SALT: _get_salt,
    con.KP_IV: _get_iv,
    con.KP_MODE: lambda key: key.mode,
    con.KP_MODE_BITS: lambda key: key.mode_bits,
    con.KP_PADDING: lambda key: key.padding,
    con.KP_EFFECTIVE_KEYLEN: _get_effective,
    con.KP_P: lambda key: key.domain_value("P"),
    con.KP_Q: lambda key: key.domain_value("Q"),
    con.KP_G: lambda key: key.domain_value("G"),
    con.KP_Y: lambda key: key.domain_value("Y"),
    con.KP_X: _get_x,
    con.KP_VERIFY_PARAMS: _get_verify_params,
    con.KP_CERTIFICATE: _get_certificate,
}


# ---- setters -------------------------------------------------------------------------
def _as_dword(data: object, what: str) -> int:
    if not isinstance(data, int):
        raise TypeError(f"{what} takes an int, not {type(data).__name__}")
    return dword(data, what)


def _as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} takes bytes, not {type(data).__name__}")
    return bytes(data)


def _block_cipher(key: PyCRYPTKEY, what: str) -> None:
    if key.is_pair or not key.alg.block_bits:
        raise Fail(winerror.NTE_BAD_KEY, f"{what} applies to block cipher keys only")


def _set_permissions(key: PyCRYPTKEY, data: object) -> None:
    wanted = _as_dword(data, "KP_PERMISSIONS")
    if wanted & ~_KNOWN_PERMISSIONS:
        raise Fail(winerror.NTE_BAD_DATA, f"unknown permission bits 0x{wanted:X}")
    if wanted & con.CRYPT_EXPORT and not key.permissions & con.CRYPT_EXPORT:
        raise Fail(winerror.NTE_BAD_DATA, "CRYPT_EXPORT cannot be added to a key")
    # CRYPT_ARCHIVE can be neither added nor cleared (clearing is ignored).
    wanted = (wanted & ~con.CRYPT_ARCHIVE) | (key.permissions & con.CRYPT_ARCHIVE)
    if key.permissions & con.CRYPT_EXPORT and not wanted & con.CRYPT_EXPORT:
        # Windows ignores this; csp11 honours it where it counts, on the token:
        # the key becomes non-extractable for every PKCS#11 client.
        tkey = key.usable()
        # A lone public key has nothing to protect (and no CKA_EXTRACTABLE).
        if not key.permissions & con.CRYPT_ARCHIVE and tkey.obj is not None:
            tkey.set_attribute(Attribute.EXTRACTABLE, False)
    key.permissions = wanted


def _set_iv(key: PyCRYPTKEY, data: object) -> None:
    _block_cipher(key, "KP_IV")
    iv = _as_bytes(data, "KP_IV")
    size = key.alg.block_bits // 8
    if len(iv) < size:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_IV needs {size} bytes, got {len(iv)}")
    key.iv = iv[:size]
    key.chain = None


def _set_mode(key: PyCRYPTKEY, data: object) -> None:
    _block_cipher(key, "KP_MODE")
    mode = _as_dword(data, "KP_MODE")
    if mode not in _SUPPORTED_MODES:
        raise Fail(
            winerror.NTE_BAD_DATA,
            f"cipher mode {mode} is not supported (CBC, ECB and CFB are; as on Windows, "
            "OFB and CTS are not)",
        )
    key.mode = mode
    key.chain = None


def _set_mode_bits(key: PyCRYPTKEY, data: object) -> None:
    _block_cipher(key, "KP_MODE_BITS")
    bits = _as_dword(data, "KP_MODE_BITS")
    if bits != 8:
        raise Fail(winerror.NTE_BAD_DATA, "only 8-bit feedback is supported (as on Windows)")
    key.mode_bits = bits


def _set_padding(key: PyCRYPTKEY, data: object) -> None:
    if _as_dword(data, "KP_PADDING") != con.PKCS5_PADDING:
        raise Fail(winerror.NTE_BAD_DATA, "only PKCS5_PADDING is supported (as on Windows)")
    key.padding = con.PKCS5_PADDING


def _salted(key: PyCRYPTKEY, what: str) -> None:
    if not key.alg.salted:
        raise Fail(winerror.NTE_BAD_KEY, f"{what}: only RC2 and RC4 keys take a salt")


def _set_salt(key: PyCRYPTKEY, data: object) -> None:
    _salted(key, "KP_SALT")
    salt = _as_bytes(data, "KP_SALT")
    if len(salt) < 11:
        raise Fail(winerror.NTE_BAD_DATA, "KP_SALT takes 11 bytes (use KP_SALT_EX for others)")
    key.salt = salt[:11]


def _set_salt_ex(key: PyCRYPTKEY, data: object) -> None:
    _salted(key, "KP_SALT_EX")
    salt = _as_bytes(data, "KP_SALT_EX")
    if len(salt) > _MAX_SALT:
        raise Fail(winerror.NTE_BAD_DATA, f"a salt is at most {_MAX_SALT} bytes")
    key.salt = salt


def _set_effective(key: PyCRYPTKEY, data: object) -> None:
    if key.algid != con.CALG_RC2:
        raise Fail(winerror.NTE_BAD_TYPE, "KP_EFFECTIVE_KEYLEN applies to RC2 keys only")
    bits = _as_dword(data, "KP_EFFECTIVE_KEYLEN")
    top = key.prov.personality.rc2_effective_max
    if not 1 <= bits <= top:
        raise Fail(winerror.NTE_BAD_DATA, f"RC2 effective key length must be 1..{top}")
    key.effective_keylen = bits


def _pregen_only(key: PyCRYPTKEY, what: str) -> None:
    if key.alg.family not in (Family.DSA, Family.DH):
        raise Fail(winerror.NTE_BAD_TYPE, f"{what} applies to DSS and DH keys only")
    if not key.pregen:
        raise Fail(
            winerror.NTE_FIXEDPARAMETER,
            f"{what}: the key's parameters are fixed (only a CRYPT_PREGEN key takes them)",
        )


def _domain_setter(name: str) -> Callable[[PyCRYPTKEY, object], None]:
    def setter(key: PyCRYPTKEY, data: object) -> None:
        _pregen_only(key, f"KP_{name}")
        if name == "Q" and key.alg.family is Family.DH:
            raise Fail(winerror.NTE_BAD_TYPE, "PKCS#3 Diffie-Hellman keys take no Q")
        from csp11.domain import check_domain_value  # noqa: PLC0415 - import cycle

        value = _as_bytes(data, f"KP_{name}")
        check_domain_value(name, value, key.bits, key.alg.family is Family.DSA)
        key.domain[name] = value
    return setter


def _set_pub_params(key: PyCRYPTKEY, data: object) -> None:
    _pregen_only(key, "KP_PUB_PARAMS")
    from csp11.domain import parse_pub_params  # noqa: PLC0415 - import cycle

    params = parse_pub_params(_as_bytes(data, "KP_PUB_PARAMS"), key.alg.family is Family.DSA)
    for name, value in params.items():
        _domain_setter(name)(key, value)


def _set_x(key: PyCRYPTKEY, data: object) -> None:
    _pregen_only(key, "KP_X")
    if data is not None:
        raise Fail(
            winerror.NTE_BAD_DATA,
            "KP_X takes None: csp11 generates the private value on the token",
        )
    from csp11.keygen import finish_pregen  # noqa: PLC0415 - import cycle

    finish_pregen(key)


def _set_certificate(key: PyCRYPTKEY, data: object) -> None:
    tkey = key.usable()
    if not key.is_pair or tkey.public is None:
        raise Fail(winerror.NTE_BAD_KEY, "only a key pair takes a certificate")
    der = _as_bytes(data, "KP_CERTIFICATE")
    try:
        cert = x509.load_der_x509_certificate(der)
        cert_public = cert.public_key()
    except ValueError:
        raise Fail(winerror.NTE_BAD_DATA, "KP_CERTIFICATE is not a DER X.509 certificate") from None
    from csp11.keygen import public_key_of  # noqa: PLC0415 - import cycle

    if cert_public != public_key_of(key):
        raise Fail(winerror.NTE_BAD_PUBLIC_KEY, "the certificate is for another public key")
    template: dict[Any, object] = {
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: 0,  # CKC_X_509
        # A container's key pair keeps its certificate on the token, beside
        # it (same label and ID); a session pair's certificate is a session
        # object.
        Attribute.TOKEN: tkey.stored_as is not None,
        Attribute.PRIVATE: False,
        Attribute.VALUE: der,
        Attribute.SUBJECT: cert.subject.public_bytes(),
        Attribute.ISSUER: cert.issuer.public_bytes(),
        Attribute.SERIAL_NUMBER: _der_integer(cert.serial_number),
    }
    if tkey.stored_as is not None:
        template[Attribute.LABEL], template[Attribute.ID] = tkey.stored_as
    new = tkey.create_beside(template)
    old, tkey.certificate = tkey.certificate, new
    if old is not None:
        tkey.destroy_object(old)


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return bytes([0x02, len(body)]) + body


def _set_algid(key: PyCRYPTKEY, data: object) -> None:
    if key.agreement is None:
        raise Fail(
            winerror.NTE_BAD_TYPE,
            "KP_ALGID is read-only except on a Diffie-Hellman agreed key",
        )
    from csp11.agreement import choose_algorithm  # noqa: PLC0415 - import cycle

    choose_algorithm(key, _as_dword(data, "KP_ALGID"))


_SETTERS: dict[int, Callable[[PyCRYPTKEY, object], None]] = {
    con.KP_ALGID: _set_algid,
    con.KP_PERMISSIONS: _set_permissions,
    con.KP_IV: _set_iv,
    con.KP_MODE: _set_mode,
    con.KP_MODE_BITS: _set_mode_bits,
    con.KP_PADDING: _set_padding,
    con.KP_SALT: _set_salt,
    con.KP_SALT_EX: _set_salt_ex,
    con.KP_EFFECTIVE_KEYLEN: _set_effective,
    con.KP_P: _domain_setter("P"),
    con.KP_Q: _domain_setter("Q"),
    con.KP_G: _domain_setter("G"),
    con.KP_PUB_PARAMS: _set_pub_params,
    con.KP_X: _set_x,
    con.KP_CERTIFICATE: _set_certificate,
}
