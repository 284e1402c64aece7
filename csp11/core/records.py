"""The token objects that carry csp11's container records (docs/containers.md).

A record — a container's marker, a claim on its lock, an intent — is three
things: an *application* (``csp11``, ``csp11-lock``, ``csp11-pending``), a
``CKA_LABEL`` and a few bytes of JSON.  Most tokens keep them as private
token data objects.  A token that keeps no token data objects (NSS softokn's
key database answers ``CKR_ATTRIBUTE_VALUE_INVALID``) keeps them as private
secret keys that can do nothing as keys: every usage attribute false,
sensitive, non-extractable, unmodifiable, a random ``CKA_VALUE`` nobody
reads, the application and the record in ``CKA_ID`` (``application ‖ 0x00 ‖
record``: keys have no ``CKA_APPLICATION``, and the token forces
``CKA_VALUE`` of a private key to be unreadable).

Each carrier is one row of :data:`CARRIERS`: the template that creates a
record, the template that finds the records of an application (of one label,
or all of them), the attribute read back and how the record's bytes come out
of it.  Which carrier a token uses is the token model's answer
(:meth:`csp11.model.capabilities.TokenModel.records`); the container protocol
(:mod:`csp11.core.store`) is the same on both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from csp11.model.capabilities import RECORDS_IN_DATA, RECORDS_IN_KEYS
from csp11.structs import Struct
from csp11.token import Attribute, KeyType, ObjectClass

__all__ = ["CARRIERS", "DATA_OBJECTS", "SECRET_KEYS", "Carrier"]

# Bytes of the random CKA_VALUE of a record key: a generic secret needs a
# value, and a random one is no key anybody knows, should a token ever let
# it be used despite its attributes.
_KEY_VALUE_BYTES = 32
# Separates the application from the record in a record key's CKA_ID (no
# application name holds it; JSON never starts with it).
_SEPARATOR = b"\x00"


class Carrier(Struct):
    """One kind of token object that carries container records."""

    name: str
    # (application, label, record bytes) → the C_CreateObject template.
    template: Callable[[str, str, bytes], dict[Any, object]]
    # (application, label or None for every label) → the C_FindObjects template.
    search: Callable[[str, str | None], dict[Any, object]]
    # The attribute read back from each object found.
    holds: Any
    # (application, that attribute's bytes) → the record, or None when the
    # object is not a record of that application (found by the search, but
    # another application's record or another tool's object).
    record: Callable[[str, bytes], bytes | None]


def _data_template(application: str, label: str, value: bytes) -> dict[Any, object]:
    return {
        Attribute.CLASS: ObjectClass.DATA,
        Attribute.APPLICATION: application,
        Attribute.LABEL: label,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.VALUE: value,
    }


def _data_search(application: str, label: str | None) -> dict[Any, object]:
    template: dict[Any, object] = {Attribute.CLASS: ObjectClass.DATA,
                                   Attribute.APPLICATION: application, Attribute.TOKEN: True}
    if label is not None:
        template[Attribute.LABEL] = label
    return template


def _key_id(application: str, value: bytes) -> bytes:
    return application.encode() + _SEPARATOR + value


def _key_template(application: str, label: str, value: bytes) -> dict[Any, object]:
    return {
        Attribute.CLASS: ObjectClass.SECRET_KEY,
        Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        # A record, never a key: nothing it could be used for, nothing that
        # could take its value out, nothing that could change it (T3).
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.MODIFIABLE: False,
        Attribute.ENCRYPT: False,
        Attribute.DECRYPT: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
        Attribute.DERIVE: False,
        Attribute.VALUE: os.urandom(_KEY_VALUE_BYTES),
        Attribute.LABEL: label,
        Attribute.ID: _key_id(application, value),
    }


def _key_search(application: str, label: str | None) -> dict[Any, object]:
    # The application is inside CKA_ID, which a search can only match whole:
    # every generic secret of the label is read and sorted out by record().
    del application
    template: dict[Any, object] = {Attribute.CLASS: ObjectClass.SECRET_KEY,
                                   Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                                   Attribute.TOKEN: True}
    if label is not None:
        template[Attribute.LABEL] = label
    return template


def _key_record(application: str, ident: bytes) -> bytes | None:
    prefix = _key_id(application, b"")
    return ident[len(prefix):] if ident.startswith(prefix) else None


DATA_OBJECTS = Carrier(
    name=RECORDS_IN_DATA,
    template=_data_template,
    search=_data_search,
    holds=Attribute.VALUE,
    record=lambda application, value: value,  # the search matched the application
)

SECRET_KEYS = Carrier(
    name=RECORDS_IN_KEYS,
    template=_key_template,
    search=_key_search,
    holds=Attribute.ID,
    record=_key_record,
)

CARRIERS: dict[str, Carrier] = {carrier.name: carrier for carrier in (DATA_OBJECTS, SECRET_KEYS)}
