"""CryptGetKeyParam and CryptSetKeyParam: the ``KP_*`` parameters as two tables.

:data:`_GETTERS` and :data:`_SETTERS` map a parameter to a function over a
:class:`csp11.core.key.Key`; anything not in them is ``NTE_BAD_TYPE``.
Getters return ints for DWORDs and bytes for byte values; setters take the
type the getter returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp11 import win32cryptcon as con
from csp11 import winerror
from csp11.args import dword
from csp11.core.key import Key
from csp11.core.policy import KNOWN_PERMISSIONS
from csp11.errors import Fail
from csp11.formats.byteorder import int_from_le
from csp11.formats.certinfo import decode_cert_info
from csp11.formats.domain import check_domain_value, parse_pub_params, verify_domain
from csp11.model.algorithms import Family
from csp11.ops.agreement import choose_algorithm
from csp11.ops.keygen import finish_pregen
from csp11.ops.userkey import public_key_of
from csp11.token import Attribute, ObjectClass

__all__ = ["get_key_param", "set_key_param"]

_SUPPORTED_MODES = (con.CRYPT_MODE_CBC, con.CRYPT_MODE_ECB, con.CRYPT_MODE_CFB)
_MAX_SALT = 24  # KP_SALT_EX: rsaenh keeps at most 24 bytes of salt


def get_key_param(key: Key, param: int) -> Any:
    """CryptGetKeyParam of a live key (``param`` and flags already checked)."""
    key.live()
    getter = _GETTERS.get(param)
    if getter is None:
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown key parameter {param}")
    return getter(key)


def set_key_param(key: Key, param: int, data: object) -> None:
    """CryptSetKeyParam of a live key (``param`` and flags already checked)."""
    key.live()
    setter = _SETTERS.get(param)
    if setter is None:
        raise Fail(winerror.NTE_BAD_TYPE, f"unknown or read-only key parameter {param}")
    with key.lock:
        setter(key, data)


# ---- getters -----------------------------------------------------------------------
def _keylen(key: Key) -> int:
    return key.bits + key.alg.parity_bits


def _blocklen(key: Key) -> int:
    if key.alg.family is Family.RSA:
        return key.bits  # "encryption granularity": the modulus size
    return key.alg.block_bits


def _session_only(what: str) -> Callable[[Key], None]:
    def check(key: Key) -> None:
        if key.is_pair:
            raise Fail(winerror.NTE_BAD_KEY, f"{what} does not apply to a key pair")
    return check


_no_pair_salt = _session_only("KP_SALT")
_no_pair_iv = _session_only("KP_IV")


def _get_salt(key: Key) -> bytes:
    _no_pair_salt(key)
    # Only RC2 and RC4 carry a salt; rsaenh's CPGetKeyParam answers NTE_BAD_KEY for
    # every other session key (docs/conformance.md), as csp11's KP_SALT setter does.
    _salted(key, "KP_SALT")
    return key.salt


def _get_iv(key: Key) -> bytes:
    if key.is_pair and key.alg.family is Family.RSA:
        # Microsoft documents KP_IV as KP_BLOCKLEN/8 bytes, zeros until set, and an
        # RSA pair's block length is its modulus: rsaenh answers that (its unused IV
        # buffer), and so does csp11 (docs/conformance.md).  Nothing can set it.
        return bytes(_blocklen(key) // 8)
    _no_pair_iv(key)
    return key.iv


def _get_x(key: Key) -> bytes:
    raise Fail(
        winerror.NTE_BAD_KEY_STATE,
        "a private value never leaves the token except wrapped (CryptExportKey)",
    )


def _get_verify_params(key: Key) -> bytes:
    """KP_VERIFY_PARAMS: b"" when the DSA/DH parameters are sound, else NTE_BAD_DATA."""
    p = int_from_le(key.domain_value("P"))
    g = int_from_le(key.domain_value("G"))
    q = int_from_le(key.domain_value("Q")) if key.alg.family is Family.DSA else None
    problem = verify_domain(p, g, q)
    if problem:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_VERIFY_PARAMS: {problem}")
    return b""


def _get_certificate(key: Key) -> bytes:
    tkey = key.usable()
    if not key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, "a session key has no certificate")
    if tkey.certificate is None:
        raise Fail(winerror.SCARD_E_NO_SUCH_CERTIFICATE, "no certificate is stored for this key")
    return bytes(tkey.attribute(Attribute.VALUE, tkey.certificate))


def _get_effective(key: Key) -> int:
    return key.effective_keylen or key.bits


_GETTERS: dict[int, Callable[[Key], Any]] = {
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


def _block_cipher(key: Key, what: str) -> None:
    if key.is_pair or not key.alg.block_bits:
        raise Fail(winerror.NTE_BAD_KEY, f"{what} applies to block cipher keys only")


def _set_permissions(key: Key, data: object) -> None:
    wanted = _as_dword(data, "KP_PERMISSIONS")
    if wanted & ~KNOWN_PERMISSIONS:
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


def _set_iv(key: Key, data: object) -> None:
    _block_cipher(key, "KP_IV")
    iv = _as_bytes(data, "KP_IV")
    size = key.alg.block_bits // 8
    if len(iv) < size:
        raise Fail(winerror.NTE_BAD_DATA, f"KP_IV needs {size} bytes, got {len(iv)}")
    key.iv = iv[:size]
    key.chain = None


def _set_mode(key: Key, data: object) -> None:
    if key.is_pair:
        raise Fail(winerror.NTE_BAD_KEY, "KP_MODE applies to session keys only")
    # A stream cipher (RC4) keeps the mode it is given and ignores it, as rsaenh does:
    # hostap sets CRYPT_MODE_CBC on every cipher key it imports, RC4 included
    # (docs/compatibility.md).
    mode = _as_dword(data, "KP_MODE")
    if mode not in _SUPPORTED_MODES:
        raise Fail(
            winerror.NTE_BAD_DATA,
            f"cipher mode {mode} is not supported (CBC, ECB and CFB are; as on Windows, "
            "OFB and CTS are not)",
        )
    key.mode = mode
    key.chain = None


def _set_mode_bits(key: Key, data: object) -> None:
    _block_cipher(key, "KP_MODE_BITS")
    bits = _as_dword(data, "KP_MODE_BITS")
    if bits != 8:
        raise Fail(winerror.NTE_BAD_DATA, "only 8-bit feedback is supported (as on Windows)")
    key.mode_bits = bits


def _set_padding(key: Key, data: object) -> None:
    if _as_dword(data, "KP_PADDING") != con.PKCS5_PADDING:
        raise Fail(winerror.NTE_BAD_DATA, "only PKCS5_PADDING is supported (as on Windows)")
    key.padding = con.PKCS5_PADDING


def _salted(key: Key, what: str) -> None:
    if not key.alg.salted:
        raise Fail(winerror.NTE_BAD_KEY, f"{what}: only RC2 and RC4 keys take a salt")


def _set_salt(key: Key, data: object) -> None:
    _salted(key, "KP_SALT")
    salt = _as_bytes(data, "KP_SALT")
    if len(salt) < 11:
        raise Fail(winerror.NTE_BAD_DATA, "KP_SALT takes 11 bytes (use KP_SALT_EX for others)")
    key.salt = salt[:11]


def _set_salt_ex(key: Key, data: object) -> None:
    _salted(key, "KP_SALT_EX")
    salt = _as_bytes(data, "KP_SALT_EX")
    if len(salt) > _MAX_SALT:
        raise Fail(winerror.NTE_BAD_DATA, f"a salt is at most {_MAX_SALT} bytes")
    key.salt = salt


def _set_effective(key: Key, data: object) -> None:
    if key.algid != con.CALG_RC2:
        raise Fail(winerror.NTE_BAD_TYPE, "KP_EFFECTIVE_KEYLEN applies to RC2 keys only")
    bits = _as_dword(data, "KP_EFFECTIVE_KEYLEN")
    top = key.ctx.personality.rc2_effective_max
    if not 1 <= bits <= top:
        raise Fail(winerror.NTE_BAD_DATA, f"RC2 effective key length must be 1..{top}")
    key.effective_keylen = bits


def _pregen_only(key: Key, what: str) -> None:
    if key.alg.family not in (Family.DSA, Family.DH):
        raise Fail(winerror.NTE_BAD_TYPE, f"{what} applies to DSS and DH keys only")
    if not key.pregen:
        raise Fail(
            winerror.NTE_FIXEDPARAMETER,
            f"{what}: the key's parameters are fixed (only a CRYPT_PREGEN key takes them)",
        )


def _domain_setter(name: str) -> Callable[[Key, object], None]:
    def setter(key: Key, data: object) -> None:
        _pregen_only(key, f"KP_{name}")
        if name == "Q" and key.alg.family is Family.DH:
            raise Fail(winerror.NTE_BAD_TYPE, "PKCS#3 Diffie-Hellman keys take no Q")
        value = _as_bytes(data, f"KP_{name}")
        check_domain_value(name, value, key.bits, key.alg.family is Family.DSA)
        key.domain[name] = value
    return setter


def _set_pub_params(key: Key, data: object) -> None:
    _pregen_only(key, "KP_PUB_PARAMS")
    params = parse_pub_params(_as_bytes(data, "KP_PUB_PARAMS"), key.alg.family is Family.DSA)
    for name, value in params.items():
        _domain_setter(name)(key, value)


def _set_x(key: Key, data: object) -> None:
    _pregen_only(key, "KP_X")
    if data is not None:
        raise Fail(
            winerror.NTE_BAD_DATA,
            "KP_X takes None: csp11 generates the private value on the token",
        )
    finish_pregen(key)


def _set_certificate(key: Key, data: object) -> None:
    tkey = key.usable()
    if not key.is_pair or tkey.public is None:
        raise Fail(winerror.NTE_BAD_KEY, "only a key pair takes a certificate")
    der = _as_bytes(data, "KP_CERTIFICATE")
    cert = decode_cert_info(der, "KP_CERTIFICATE")
    if cert.public_key != public_key_of(key):
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
        Attribute.SUBJECT: cert.subject,
        Attribute.ISSUER: cert.issuer,
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


def _set_algid(key: Key, data: object) -> None:
    if key.agreement is None:
        raise Fail(
            winerror.NTE_BAD_TYPE,
            "KP_ALGID is read-only except on a Diffie-Hellman agreed key",
        )
    choose_algorithm(key, _as_dword(data, "KP_ALGID"))


_SETTERS: dict[int, Callable[[Key, object], None]] = {
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
