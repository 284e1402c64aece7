"""MD2 and MD4 where neither the token nor OpenSSL 3 has them: RFC 1319/1320 answers,
the pure-Python fallbacks directly and through CryptCreateHash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csp11 import win32crypt
from csp11 import win32cryptcon as con
from csp11.formats.legacy_digests import MD2, MD4

from .helpers import verify_context as _ctx

# RFC 1319 §A.5 and RFC 1320 §A.5 test suites.
_SUITE = [
    b"", b"a", b"abc", b"message digest", b"abcdefghijklmnopqrstuvwxyz",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", b"1234567890" * 8,
]
MD2_ANSWERS = [
    "8350e5a3e24c153df2275c9f80692773", "32ec01ec4a6dac72c0ab96fb34c0b5d1",
    "da853b0d3f88d99b30283a69e6ded6bb", "ab4f496bfb2a530b219ff33031fe06b0",
    "4e8ddff3650292ab5a4108c3aa47940b", "da33def2a42df13975352846c30338cd",
    "d5976f79d83d3a0dc9806c3c66f3efd8",
]
MD4_ANSWERS = [
    "31d6cfe0d16ae931b73c59d7e0c089c0", "bde52cb31de33e46245e05fbdbd6fb24",
    "a448017aaf21d8525fc10ae87aa6729d", "d9130a8164549fe818874806e1c7014b",
    "d79e1c308aa5bbcdeea8ed63df412da9", "043f8582f241db351ce627e153e7f0e4",
    "e33b4ddc9c38f2199c3e7b164fcc0536",
]


@pytest.mark.parametrize(("data", "md2", "md4"), list(zip(_SUITE, MD2_ANSWERS, MD4_ANSWERS,
                                                         strict=True)))
def test_rfc_answers(data: bytes, md2: str, md4: str) -> None:
    assert MD2(data).digest().hex() == md2
    assert MD4(data).digest().hex() == md4
    with _ctx(con.PROV_RSA_FULL) as ctx:
        for algid, answer in ((con.CALG_MD2, md2), (con.CALG_MD4, md4)):
            h = ctx.CryptCreateHash(algid)
            h.CryptHashData(data)
            assert h.CryptGetHashParam(con.HP_HASHVAL).hex() == answer
            h.CryptDestroyHash()


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.binary(max_size=70), max_size=6))
def test_chunking_and_copies_do_not_change_the_value(parts: list[bytes]) -> None:
    for kind in (MD2, MD4):
        whole = kind(b"".join(parts)).digest()
        running = kind()
        for part in parts:
            twin = running.copy()
            running.update(part)
            twin.update(part)
            assert twin.digest() == running.digest()
        assert running.digest() == whole


def test_the_visual_pinball_sequence() -> None:
    """A table exporter written for pywin32 stamps each table with MD2, exactly
    so: a verify context acquired with CRYPT_NEWKEYSET, the hash fed in parts,
    pywin32's default arguments throughout."""
    prov = win32crypt.CryptAcquireContext(
        None, None, con.PROV_RSA_FULL, con.CRYPT_VERIFYCONTEXT | con.CRYPT_NEWKEYSET
    )
    assert prov is not None
    h = prov.CryptCreateHash(con.CALG_MD2)
    for part in (b"message", b" ", b"digest"):
        h.CryptHashData(part)
    assert h.CryptGetHashParam(con.HP_HASHSIZE) == 16
    assert h.CryptGetHashParam(con.HP_HASHVAL).hex() == MD2_ANSWERS[3]
    h.CryptDestroyHash()
    prov.CryptReleaseContext()
