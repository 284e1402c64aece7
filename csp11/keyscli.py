"""``csp11 keys``: the key containers on the token, for people.

``keys list`` shows each container with its key pairs (key spec, algorithm,
size in bits, exportable or not, user-protected or not, and the key id files
record), and whether csp11 made it or found it on the token (key pairs other
tools made, docs/mapping.md); ``keys create NAME`` makes a container with an RSA exchange key pair;
``keys delete NAME`` removes a container and its keys (after a confirmation on
a terminal, or with ``--yes``); ``keys export NAME`` prints the exchange key's
public key (PEM, or the PUBLICKEYBLOB bytes with ``--blob``).

Everything goes through the public CryptoAPI surface
(``CryptAcquireContext``, ``PP_ENUMCONTAINERS``, ``CryptGetUserKey``,
``CryptGetKeyParam``, ``CryptExportKey``); :mod:`csp11.filecrypt` makes the
exchange key under the token's store lock, as ``encrypt`` does.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

from csp11 import filecrypt, interop, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.interrupts import interruptible
from csp11.pywintypes import error
from csp11.win32crypt import PyCRYPTKEY, PyCRYPTPROV

__all__ = ["Declined", "create", "delete", "export", "listing", "show_listing"]

_SPECS = {con.AT_KEYEXCHANGE: "exchange", con.AT_SIGNATURE: "signature"}
_ALGORITHMS = {
    con.CALG_RSA_KEYX: "RSA", con.CALG_RSA_SIGN: "RSA", con.CALG_DSS_SIGN: "DSA",
    con.CALG_DH_SF: "DH", con.CALG_DH_EPHEM: "DH",
}


class Declined(Exception):
    """``keys delete`` did not get its confirmation.  ``usage`` is true when
    there was nobody to ask (no terminal and no ``--yes``)."""

    def __init__(self, message: str, *, usage: bool) -> None:
        super().__init__(message)
        self.usage = usage


def _verify_context(token: str | None) -> PyCRYPTPROV:
    prov = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                          con.CRYPT_VERIFYCONTEXT, Token=token)
    assert prov is not None  # only CRYPT_DELETEKEYSET returns None
    return prov


def _container(name: str, token: str | None) -> PyCRYPTPROV:
    """An existing container (``filecrypt.NoContainer`` when there is none)."""
    try:
        return filecrypt.open_container(name, token=token)
    except error as exc:
        if exc.winerror != winerror.NTE_BAD_KEYSET:
            raise
        missing = filecrypt.NoContainer(
            exc.winerror, exc.funcname,
            f"there is no key container {name!r} on this token (`csp11 keys list` shows "
            "those there are)",
        )
        missing.container = name
        raise missing from None


def _names(token: str | None) -> list[str]:
    names: list[str] = []
    with _verify_context(token) as prov:
        flags = con.CRYPT_FIRST
        while True:
            try:
                names.append(prov.CryptGetProvParam(con.PP_ENUMCONTAINERS, flags))
            except error as exc:
                if exc.winerror != winerror.ERROR_NO_MORE_ITEMS:
                    raise
                return sorted(names)
            flags = con.CRYPT_NEXT


def _user_protected(key: PyCRYPTKEY) -> bool:
    # No CryptoAPI parameter says whether a key asks for its PIN at each use
    # (Windows shows it in its own dialogs only): read the token object's
    # CKA_ALWAYS_AUTHENTICATE through the state below the handle, as
    # ``csp11 info`` reads the token's own report.
    try:
        return bool(key._state.usable().protected)
    except Exception:
        return False


def _describe(key: PyCRYPTKEY, spec: int) -> dict[str, Any]:
    algid = key.CryptGetKeyParam(con.KP_ALGID)
    blob = key.CryptExportKey(None, con.PUBLICKEYBLOB)
    return {
        "spec": _SPECS[spec],
        "algorithm": _ALGORITHMS.get(algid, f"0x{algid:04X}"),
        "algid": algid,
        "bits": key.CryptGetKeyParam(con.KP_KEYLEN),
        "exportable": bool(key.CryptGetKeyParam(con.KP_PERMISSIONS) & con.CRYPT_EXPORT),
        "user_protected": _user_protected(key),
        "key_id": hashlib.sha256(blob).hexdigest(),
    }


def _found(prov: PyCRYPTPROV) -> bool:
    """Whether the container is the token's own keys (``PP_UNIQUE_CONTAINER``
    says ``found/`` where csp11's own say their scope)."""
    unique: str = prov.CryptGetProvParam(con.PP_UNIQUE_CONTAINER)
    return unique.rsplit(":", maxsplit=1)[-1].startswith("found/")


def listing(token: str | None) -> dict[str, Any]:
    """``keys list``: every container and its key pairs; ``found`` marks the
    containers over keys csp11 did not make."""
    containers = []
    for name in _names(token):
        keys = []
        with _container(name, token) as prov:
            found = _found(prov)
            for spec in _SPECS:
                try:
                    key = prov.CryptGetUserKey(spec)
                except error as exc:
                    if exc.winerror != winerror.NTE_NO_KEY:
                        raise
                    continue
                with key:
                    keys.append(_describe(key, spec))
        containers.append({"name": name, "found": found, "keys": keys})
    return {"command": "keys list", "containers": containers}


def show_listing(data: dict[str, Any]) -> None:
    """``keys list`` for people: one line a key pair."""
    if not data["containers"]:
        print("no key containers on this token (`csp11 keys create NAME` makes one)")
        return
    width = max(len(c["name"]) for c in data["containers"])
    for box in data["containers"]:
        if not box["keys"]:
            print(f"{box['name']:<{width}}  (no keys)")
        for key in box["keys"]:
            traits = [
                "found on the token" if box.get("found") else "made by csp11",
                "exportable" if key["exportable"] else "not exportable",
                "user-protected" if key["user_protected"] else "no per-use PIN",
            ]
            print(f"{box['name']:<{width}}  {key['spec']:<9}  {key['algorithm']} "
                  f"{key['bits']} bits  {', '.join(traits)}  id {key['key_id'][:16]}")


def create(name: str, *, bits: int, exportable: bool, user_protected: bool,
           token: str | None) -> dict[str, Any]:
    """``keys create``: a container with an RSA exchange key pair (a container
    that exists without one gets one)."""
    flags = (con.CRYPT_EXPORTABLE if exportable else 0) | (
        con.CRYPT_USER_PROTECTED if user_protected else 0)
    with filecrypt.open_container(name, token=token, create=True) as prov:
        key, made = filecrypt.ensure_exchange_key(prov, create=True, bits=bits, flags=flags)
        with key:
            if not made:
                raise error(
                    winerror.NTE_EXISTS, "CryptGenKey",
                    f"key container {name!r} already has an exchange key (`csp11 keys delete "
                    f"{name}` removes it, and with it every file encrypted for it)",
                )
            described = _describe(key, con.AT_KEYEXCHANGE)
    return {"command": "keys create", "container": name, "key": described}


def show_created(data: dict[str, Any]) -> None:
    """``keys create`` for people."""
    key = data["key"]
    print(f"created key container {data['container']!r}: {key['algorithm']} {key['bits']}-bit "
          f"exchange key, {'exportable' if key['exportable'] else 'not exportable'}"
          f"{', user-protected' if key['user_protected'] else ''} (id {key['key_id'][:16]})")


@interruptible  # waiting for the user holds nothing: Ctrl-C ends it at once
def _ask(question: str) -> str:
    """The line typed at the terminal after ``question``."""
    sys.stderr.write(question)
    sys.stderr.flush()
    return sys.stdin.readline()


def delete(name: str, *, yes: bool, token: str | None) -> dict[str, Any]:
    """``keys delete``: ask first on a terminal; without one, only with ``yes``."""
    with _container(name, token):
        pass  # it exists (NoContainer otherwise), before anyone is asked
    if not yes:
        if not sys.stdin.isatty():
            raise Declined(
                f"not deleting key container {name!r} without confirmation: there is no "
                "terminal to ask; add --yes", usage=True,
            )
        answer = _ask(f"Delete key container {name!r} and its keys? Files encrypted for it "
                      "can never be decrypted again. [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            raise Declined(f"key container {name!r} was not deleted", usage=False)
    win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET,
                                   Token=token)
    return {"command": "keys delete", "container": name, "deleted": True}


def show_deleted(data: dict[str, Any]) -> None:
    """``keys delete`` for people."""
    print(f"deleted key container {data['container']!r}")


def export(name: str, *, blob: bool, token: str | None) -> bytes:
    """``keys export``: the exchange key's public key, PEM (SubjectPublicKeyInfo)
    or the PUBLICKEYBLOB."""
    with _container(name, token) as prov:
        try:
            key = prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
        except error as exc:
            if exc.winerror != winerror.NTE_NO_KEY:
                raise
            missing = filecrypt.NoExchangeKey(
                exc.winerror, exc.funcname,
                f"key container {name!r} has no exchange key: make one with "
                f"`csp11 keys create {name}`",
            )
            missing.container = name
            raise missing from None
        with key:
            data = key.CryptExportKey(None, con.PUBLICKEYBLOB)
    return data if blob else interop.blob_to_pem(data)
