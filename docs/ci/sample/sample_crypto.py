"""What a project using csp11 might do: hash, sign and encrypt with keys that
live on the PKCS#11 token named by ``CSP11_TOKEN``.

Written as pywin32 code would be (explicit release of every handle), so the
same functions run on Windows with pywin32's ``win32crypt``, ``win32cryptcon``
and ``pywintypes`` in place of the csp11 imports.
"""

from __future__ import annotations

from typing import Any

from csp11 import pywintypes, win32crypt, win32cryptcon

# A context from CryptAcquireContext (pywin32's PyCRYPTPROV).
Context = Any

PROV_TYPE = win32cryptcon.PROV_RSA_AES


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``, computed on the token."""
    prov = win32crypt.CryptAcquireContext(None, None, PROV_TYPE, win32cryptcon.CRYPT_VERIFYCONTEXT)
    try:
        hash_ = prov.CryptCreateHash(win32cryptcon.CALG_SHA_256, None)
        try:
            hash_.CryptHashData(data)
            value: bytes = hash_.CryptGetHashParam(win32cryptcon.HP_HASHVAL)
            return value
        finally:
            hash_.CryptDestroyHash()
    finally:
        prov.CryptReleaseContext()


def open_container(name: str) -> Context:
    """The named key container ``name`` with an RSA signature key, made on first use."""
    try:
        prov = win32crypt.CryptAcquireContext(name, None, PROV_TYPE, 0)
    except pywintypes.error:
        prov = win32crypt.CryptAcquireContext(name, None, PROV_TYPE, win32cryptcon.CRYPT_NEWKEYSET)
    try:
        prov.CryptGetUserKey(win32cryptcon.AT_SIGNATURE).CryptDestroyKey()
    except pywintypes.error:
        prov.CryptGenKey(win32cryptcon.AT_SIGNATURE, 2048 << 16).CryptDestroyKey()
    return prov


def delete_container(name: str) -> None:
    """Remove the container ``name`` and its keys from the token."""
    win32crypt.CryptAcquireContext(name, None, PROV_TYPE, win32cryptcon.CRYPT_DELETEKEYSET)


def sign(prov: Context, data: bytes) -> bytes:
    """RSA signature (PKCS#1 v1.5, SHA-256) of ``data`` with the container's signature key."""
    hash_ = prov.CryptCreateHash(win32cryptcon.CALG_SHA_256, None)
    try:
        hash_.CryptHashData(data)
        signature: bytes = hash_.CryptSignHash(win32cryptcon.AT_SIGNATURE, 0)
        return signature
    finally:
        hash_.CryptDestroyHash()


def verify(prov: Context, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` verifies with the container's signature key."""
    key = prov.CryptGetUserKey(win32cryptcon.AT_SIGNATURE)
    hash_ = prov.CryptCreateHash(win32cryptcon.CALG_SHA_256, None)
    try:
        hash_.CryptHashData(data)
        hash_.CryptVerifySignature(signature, key, 0)
        return True
    except pywintypes.error:
        return False
    finally:
        hash_.CryptDestroyHash()
        key.CryptDestroyKey()


def encrypt_decrypt(prov: Context, data: bytes) -> tuple[bytes, bytes]:
    """``data`` encrypted with a fresh AES-256 key on the token, and decrypted back."""
    key = prov.CryptGenKey(win32cryptcon.CALG_AES_256, 0)
    try:
        ciphertext: bytes = key.CryptEncrypt(True, data)
        plaintext: bytes = key.CryptDecrypt(True, ciphertext)
        return ciphertext, plaintext
    finally:
        key.CryptDestroyKey()
