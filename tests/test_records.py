"""The carriers of container records (csp11.core.records): the table itself,
without a token, and what the choice costs on SoftHSM2, seen through pkcs11-spy.

The container story on a token that needs the second carrier is in
tests/test_nss.py (NSS Certificate DB).
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from csp11 import win32crypt
from csp11 import win32cryptcon as con
from csp11.core.records import CARRIERS, DATA_OBJECTS, SECRET_KEYS, Carrier
from csp11.model.capabilities import RECORDS_IN_DATA, RECORDS_IN_KEYS
from csp11.token import Attribute, KeyType, ObjectClass
from csp11.token.quirks import quirks_for

from .spy import Call, find_spy, spy_calls

_APPLICATIONS = ("csp11", "csp11-lock", "csp11-pending")
_USAGE = (Attribute.ENCRYPT, Attribute.DECRYPT, Attribute.SIGN, Attribute.VERIFY,
          Attribute.WRAP, Attribute.UNWRAP, Attribute.DERIVE)


def test_one_row_per_carrier_named_as_the_token_model_names_them() -> None:
    assert CARRIERS == {RECORDS_IN_DATA: DATA_OBJECTS, RECORDS_IN_KEYS: SECRET_KEYS}


@pytest.mark.parametrize("carrier", [DATA_OBJECTS, SECRET_KEYS], ids=lambda c: c.name)
@pytest.mark.parametrize("application", _APPLICATIONS)
def test_a_record_reads_back_and_is_found_by_its_search(carrier: Carrier,
                                                        application: str) -> None:
    """What a record is created with, its search matches (every attribute of the
    search has the same value in the template, the label given or not), and
    the record's bytes come back out of the attribute the carrier reads."""
    value = b'{"seq": 1, "name": "a \\u00e9 \\u0000 b"}'
    template = carrier.template(application, "csp11 user/a", value)
    for label in ("csp11 user/a", None):
        search = carrier.search(application, label)
        assert all(template[attr] == want for attr, want in search.items()), (search, template)
    assert template[Attribute.LABEL] == "csp11 user/a"
    assert template[Attribute.TOKEN] is True and template[Attribute.PRIVATE] is True
    assert carrier.record(application, bytes(template[carrier.holds])) == value  # type: ignore[call-overload]


@pytest.mark.parametrize("carrier", [DATA_OBJECTS, SECRET_KEYS], ids=lambda c: c.name)
def test_records_of_one_application_are_not_another_s(carrier: Carrier) -> None:
    """The lock's claim of container "x" and the marker of a container named
    "x (lock)" share a label: the application tells them apart (in the search
    for data objects, in CKA_ID for secret keys)."""
    for mine in _APPLICATIONS:
        for other in _APPLICATIONS:
            if mine == other:
                continue
            template = carrier.template(other, "csp11 user/x (lock)", b"{}")
            search = carrier.search(mine, "csp11 user/x (lock)")
            matched = all(template[attr] == want for attr, want in search.items())
            raw: Any = template[carrier.holds]
            assert not matched or carrier.record(mine, bytes(raw)) is None, (mine, other)


def test_a_record_key_can_do_nothing_as_a_key() -> None:
    """Private, sensitive, non-extractable, unmodifiable, every usage false; its
    CKA_VALUE random (a new one per record), its record in CKA_ID."""
    one = SECRET_KEYS.template("csp11", "csp11 user/a", b"{}")
    two = SECRET_KEYS.template("csp11", "csp11 user/a", b"{}")
    assert one[Attribute.CLASS] == ObjectClass.SECRET_KEY
    assert one[Attribute.KEY_TYPE] == KeyType.GENERIC_SECRET
    assert (one[Attribute.SENSITIVE], one[Attribute.EXTRACTABLE], one[Attribute.MODIFIABLE]) == (
        True, False, False)
    assert all(one[attr] is False for attr in _USAGE)
    assert len(bytes(one[Attribute.VALUE])) == 32  # type: ignore[call-overload]
    assert one[Attribute.VALUE] != two[Attribute.VALUE]
    assert one[Attribute.ID] == b"csp11\x00{}"
    assert Attribute.APPLICATION not in one  # keys have none (CKR_ATTRIBUTE_TYPE_INVALID)


def test_other_tools_secret_keys_are_no_records() -> None:
    for ident in (b"", b"csp11", b"csp11-lock\x00{}", b"\x01\x02", b"csp11abc\x00{}"):
        assert SECRET_KEYS.record("csp11", ident) is None, ident


def test_the_quirk_table_names_nss_softokn() -> None:
    assert quirks_for("Mozilla Foundation", "NSS 3").no_token_data_objects
    assert not quirks_for("SoftHSM project", "SoftHSM v2").no_token_data_objects
    assert not quirks_for("IBM", "SW   TPM").no_token_data_objects


# ---- what the choice costs on SoftHSM2 (data objects, not in the quirk table) -----------
_SPIED = textwrap.dedent(
    """
    from csp11 import win32crypt, win32cryptcon as c
    name = NAME
    # A fresh process (this one) opens the container and uses its key: every
    # record search finds data objects, which settles the carrier.
    ctx = win32crypt.CryptAcquireContext(name, None, c.PROV_RSA_AES, 0, Token=TOKEN)
    ctx.CryptGetUserKey(c.AT_KEYEXCHANGE).CryptDestroyKey()
    ctx.CryptReleaseContext()
    """
)
_SPIED_MISS = textwrap.dedent(
    """
    from csp11 import pywintypes, win32crypt, win32cryptcon as c
    # A fresh process asks for a container that does not exist, before it
    # wrote or found any record: one search in secret keys besides data objects.
    try:
        win32crypt.CryptAcquireContext(NAME, None, c.PROV_RSA_AES, 0, Token=TOKEN)
    except pywintypes.error:
        pass
    """
)


def _searches(calls: list[Call], cls: str) -> list[Call]:
    return [c for c in calls if c.name == "C_FindObjectsInit"
            and cls in str(c.templates.get("pTemplate", {}).get("CKA_CLASS", ""))]


@pytest.mark.skipif(find_spy() is None, reason="pkcs11-spy.so (opensc) is not installed")
def test_softhsm2_searches_only_data_objects_on_the_common_path(
    csp11_home: Path, softhsm2_module: str, token_uri: str, tmp_path: Path,
) -> None:
    """On SoftHSM2 a process that opens a container and uses its key never
    searches secret keys for records; one that misses before anything settled
    the carrier searches them once per miss (and creates no object)."""
    name = f"rec-{uuid.uuid4().hex[:10]}"
    ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET,
                                         Token=token_uri)
    assert ctx is not None
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16).CryptDestroyKey()
    ctx.CryptReleaseContext()
    try:
        (tmp_path / "open").mkdir()
        (tmp_path / "miss").mkdir()
        calls = spy_calls(f"NAME = {name!r}\n" + _SPIED, csp11_home, softhsm2_module,
                          tmp_path / "open")
        assert _searches(calls, "CKO_DATA"), "no record search seen: the spy log changed"
        assert _searches(calls, "CKO_SECRET_KEY") == []
        missed = spy_calls(f"NAME = {name + '-none'!r}\n" + _SPIED_MISS, csp11_home,
                           softhsm2_module, tmp_path / "miss")
        assert len(_searches(missed, "CKO_SECRET_KEY")) == 1
        assert [c for c in missed if c.name == "C_CreateObject"] == []
    finally:
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET,
                                       Token=token_uri)
