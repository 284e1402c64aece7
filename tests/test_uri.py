"""csp11.token.uri: RFC 7512 PKCS#11 URIs, the PIN kept out of every message."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from csp11.pywintypes import error
from csp11.token import Pkcs11Uri, parse_uri

ERROR_INVALID_PARAMETER = 87

# --------------------------------------------------------------------------- helpers

UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 7512 §2.3: what may stay unencoded in a path value / a query value.
PATH_KEEP = frozenset(":[]@!$'()*+,=&")
QUERY_KEEP = frozenset(":[]@!$'()*+,=/?|")
STANDARD_NAMES = [
    *["token", "manufacturer", "serial", "model", "slot-description", "slot-manufacturer"],
    *["library-manufacturer", "library-description", "library-version", "slot-id"],
    *["object", "type", "id", "pin-source", "pin-value", "module-name", "module-path"],
]


def pct(value: str | bytes, keep: frozenset[str] = frozenset()) -> str:
    """Percent-encode every octet that is not unreserved or in *keep*."""
    octets = value.encode("utf-8") if isinstance(value, str) else value
    return "".join(
        chr(octet) if chr(octet) in UNRESERVED or chr(octet) in keep else f"%{octet:02X}"
        for octet in octets
    )


def invalid(text: str) -> error:
    """Parse *text*, which must be refused with ERROR_INVALID_PARAMETER."""
    with pytest.raises(error) as caught:
        parse_uri(text)
    err = caught.value
    assert err.winerror == ERROR_INVALID_PARAMETER
    assert err.funcname == "CryptAcquireContext"
    assert err.args == (ERROR_INVALID_PARAMETER, "CryptAcquireContext", err.strerror)
    assert err.strerror.startswith("PKCS#11 URI: ")
    # Raised outside any except block: no decoding exception rides along.
    assert err.__cause__ is None
    assert err.__context__ is None
    return err


def outcome(text: str) -> Pkcs11Uri | error:
    """What parse_uri makes of *text*: the instance or the error it raised."""
    try:
        return parse_uri(text)
    except error as err:
        return err


def everything_shown(err: error) -> str:
    """All the text an error can show: str, repr, args."""
    return "\n".join([str(err), repr(err), err.strerror, *map(str, err.args)])


# --------------------------------------------------------------------------- RFC 7512 §3


RFC_EXAMPLES: list[tuple[str, Pkcs11Uri]] = [
    ("pkcs11:", Pkcs11Uri()),
    ("pkcs11:object=my-pubkey;type=public", Pkcs11Uri(object="my-pubkey", object_type="public")),
    (
        "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
        Pkcs11Uri(object="my-key", object_type="private", pin_source="file:/etc/token"),
    ),
    (
        "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;"
        "manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;"
        "id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin",
        Pkcs11Uri(
            token="The Software PKCS#11 Softtoken",
            manufacturer="Snake Oil, Inc.",
            model="1.0",
            object="my-certificate",
            object_type="cert",
            object_id=bytes.fromhex("69953E5CF4BDEC91"),
            serial="",
            pin_source="file:/etc/token_pin",
        ),
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
        Pkcs11Uri(object="my-sign-key", object_type="private", module_name="mypkcs11"),
    ),
    (
        "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
        Pkcs11Uri(object="my-sign-key", object_type="private", module_path="/mnt/libmypkcs11.so.1"),
    ),
    (
        "pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc."
        "?pin-value=the-pin",
        Pkcs11Uri(
            token="Software PKCS#11 softtoken", manufacturer="Snake Oil, Inc.", pin_value="the-pin"
        ),
    ),
    ("pkcs11:slot-description=Sun%20Metaslot", Pkcs11Uri(slot_description="Sun Metaslot")),
    (
        "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;"
        "library-description=Soft%20Token%20Library;library-version=1.23",
        Pkcs11Uri(
            library_manufacturer="Snake Oil, Inc.",
            library_description="Soft Token Library",
            library_version="1.23",
        ),
    ),
    (
        "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;"
        "id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
        Pkcs11Uri(
            token="My token% created by Joe",
            library_version="3",
            object_id=bytes.fromhex("010203BADDCAFE040506"),
        ),
    ),
    (
        "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
        Pkcs11Uri(token="A name with a substring %;", object="my-certificate", object_type="cert"),
    ),
    (
        "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;"
        "object=my-certificate;type=cert",
        Pkcs11Uri(
            token="Name with a small A with acute: \u00e1",
            object="my-certificate",
            object_type="cert",
        ),
    ),
    # The RFC writes "vendor-aaa"/"vendor-bbb"; csp11 wants the "x-" prefix
    # (see test_rfc_vendor_example_without_prefix_is_refused).
    (
        "pkcs11:token=my-token;object=my-certificate;type=cert;x-vendor-aaa=value-a"
        "?pin-source=file:/etc/token_pin&x-vendor-bbb=value-b",
        Pkcs11Uri(
            token="my-token",
            object="my-certificate",
            object_type="cert",
            pin_source="file:/etc/token_pin",
            vendor_path=(("x-vendor-aaa", "value-a"),),
            vendor_query=(("x-vendor-bbb", "value-b"),),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES)
def test_rfc7512_examples(text: str, expected: Pkcs11Uri) -> None:
    assert parse_uri(text) == expected


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES)
def test_rfc7512_examples_wrapped_as_in_the_rfc(text: str, expected: Pkcs11Uri) -> None:
    # The RFC prints long URIs over several indented lines (RFC 3986 App. C).
    wrapped = text.replace(";", ";\n       ").replace("?", "\r\n       ?").replace("&", "\n  &")
    assert parse_uri(wrapped) == expected


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES)
def test_rfc7512_examples_survive_str(text: str, expected: Pkcs11Uri) -> None:
    uri = parse_uri(text)
    again = parse_uri(str(uri))
    if expected.pin_value is None:
        assert again == expected
    else:
        assert again == expected.replace(pin_value="***")


def test_rfc_vendor_example_without_prefix_is_refused() -> None:
    err = invalid(
        "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a"
        "?pin-source=file:/etc/token_pin&vendor-bbb=value-b"
    )
    assert 'unknown path attribute "vendor-aaa"' in err.strerror
    assert '"x-"' in err.strerror


def test_rfc_example_fields() -> None:
    uri = parse_uri(RFC_EXAMPLES[3][0])
    assert uri.token_filter() == {
        "label": "The Software PKCS#11 Softtoken",
        "serial": "",
        "manufacturer": "Snake Oil, Inc.",
        "model": "1.0",
    }
    assert uri.object_id == b"\x69\x95\x3e\x5c\xf4\xbd\xec\x91"
    assert parse_uri("pkcs11:").token_filter() == {}


def test_spec_example() -> None:
    uri = parse_uri(
        "pkcs11:token=ci;serial=abc?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234"
    )
    assert uri.token_filter() == {"label": "ci", "serial": "abc"}
    assert uri.module_path == "/usr/lib/softhsm/libsofthsm2.so"
    assert uri.pin_value == "1234"
    assert uri.pin_source is None


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("text", "field_name", "value"),
    [
        ("pkcs11:token=my%20token", "token", "my token"),
        ("pkcs11:token=a%3Bb;serial=1", "token", "a;b"),
        ("pkcs11:token=a%3bb", "token", "a;b"),  # lowercase hex
        ("pkcs11:token=a&b", "token", "a&b"),  # "&" may stay unencoded in the path
        ("pkcs11:token=a=b", "token", "a=b"),  # the first "=" splits
        ("pkcs11:token=100%25", "token", "100%"),
        ("pkcs11:token=J%C3%BCrgen's%20token", "token", "J\u00fcrgen's token"),
        ("pkcs11:token=J\u00fcrgen's token", "token", "J\u00fcrgen's token"),
        ("pkcs11:token=%E6%97%A5%E6%9C%AC", "token", "\u65e5\u672c"),
        ("pkcs11:token=PKCS#11 token", "token", "PKCS#11 token"),
        ("pkcs11:token=a/b", "token", "a/b"),
        ("pkcs11:token=%00", "token", "\x00"),  # encoded controls are data
        ("pkcs11:?module-name=a%26b", "module_name", "a&b"),
        ("pkcs11:?x-q=a%26b&module-name=m", "vendor_query", (("x-q", "a&b"),)),
        ("pkcs11:?module-path=/opt/My%20Lib/libp11.so", "module_path", "/opt/My Lib/libp11.so"),
        ("pkcs11:?module-path=/opt/My Lib/libp11.so", "module_path", "/opt/My Lib/libp11.so"),
        (
            "pkcs11:?module-path=C:\\Program Files\\OpenSC Project\\opensc-pkcs11.dll",
            "module_path",
            "C:\\Program Files\\OpenSC Project\\opensc-pkcs11.dll",
        ),
        ("pkcs11:?pin-source=file:/etc/pin?x=1", "pin_source", "file:/etc/pin?x=1"),
        ("pkcs11:?pin-source=|/usr/bin/get-pin", "pin_source", "|/usr/bin/get-pin"),
        ("pkcs11:?pin-value=a;b", "pin_value", "a;b"),  # ";" is no query delimiter
        ("pkcs11:?pin-value=", "pin_value", ""),
        ("pkcs11:?pin-value=p%C3%A4ss", "pin_value", "p\u00e4ss"),
        ("pkcs11:slot-id=0", "slot_id", 0),
        ("pkcs11:slot-id=%34%32", "slot_id", 42),
        ("pkcs11:slot-id=0000000000000000000000000000007", "slot_id", 7),
        ("pkcs11:slot-id=18446744073709551615", "slot_id", 2**64 - 1),
        ("pkcs11:library-version=7", "library_version", "7"),
        ("pkcs11:type=secret-key", "object_type", "secret-key"),
        ("pkcs11:id=", "object_id", b""),
        ("pkcs11:id=AB", "object_id", b"AB"),  # unencoded id octets are taken as they are
        ("pkcs11:id=%00%FF", "object_id", b"\x00\xff"),  # not UTF-8, and need not be
        ("pkcs11:token=", "token", ""),
    ],
)
def test_values(text: str, field_name: str, value: object) -> None:
    assert getattr(parse_uri(text), field_name) == value


@pytest.mark.parametrize(
    "text",
    [
        "pkcs11:token=a%26module-path%3Db",
        "pkcs11:token=x%26pin-value%3D1;serial=a=b",
        "pkcs11:?module-path=/x%3Fpin-value%3D1",
        "pkcs11:?x-a=pin-value%3D1&module-name=a=b",
    ],
)
def test_encoded_delimiters_are_data_and_survive_str(text: str) -> None:
    # Encoded, "pin-value=" in a value is what the user meant; str() keeps it
    # encoded so that the text reads back.
    uri = parse_uri(text)
    assert parse_uri(str(uri)) == uri


def test_lenient_layout() -> None:
    expected = Pkcs11Uri(token="a", serial="b", module_name="m")
    for text in [
        "PKCS11:token=a;serial=b?module-name=m",
        "Pkcs11:token=a;serial=b?module-name=m",
        "  pkcs11:token=a;serial=b?module-name=m \n",
        "pkcs11:token=a;;serial=b;?module-name=m&",
        "pkcs11:token=a;serial=b?&&module-name=m",
        "pkcs11:\n  token=a;\r\n\tserial=b\r  ?module-name=m",
    ]:
        assert parse_uri(text) == expected, text
    assert parse_uri("pkcs11:?") == Pkcs11Uri()
    assert parse_uri("pkcs11:;") == Pkcs11Uri()


def test_module_name_and_path_are_both_kept() -> None:
    uri = parse_uri("pkcs11:?module-name=softhsm2&module-path=/usr/lib/libsofthsm2.so")
    assert uri.module_name == "softhsm2"
    assert uri.module_path == "/usr/lib/libsofthsm2.so"


def test_vendor_attributes() -> None:
    uri = parse_uri("pkcs11:x-a=1;token=t;x-B_2=%32?x-c=3&module-name=m")
    assert uri.vendor_path == (("x-a", "1"), ("x-B_2", "2"))
    assert uri.vendor_query == (("x-c", "3"),)
    assert dict(uri.vendor) == {"x-a": "1", "x-B_2": "2", "x-c": "3"}
    assert uri.vendor["x-c"] == "3"
    with pytest.raises(TypeError):
        cast(Any, uri.vendor)["x-d"] = "4"
    assert "x-a=1" in str(uri)
    assert parse_uri(str(uri)) == uri


def test_object_attributes_do_not_select_the_token() -> None:
    uri = parse_uri("pkcs11:token=t;object=k;type=private;id=%01")
    assert uri.token_filter() == {"label": "t"}
    assert (uri.object, uri.object_type, uri.object_id) == ("k", "private", b"\x01")


def test_instance_is_frozen_hashable_and_keyword_only() -> None:
    uri = parse_uri("pkcs11:token=t?pin-value=1234&x-a=b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cast(Any, uri).token = "other"
    assert hash(uri) == hash(parse_uri("pkcs11:token=t?pin-value=1234&x-a=b"))
    assert uri in {uri}
    with pytest.raises(TypeError):
        cast(Any, Pkcs11Uri)("t")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'must start with "pkcs11:"'),
        ("token=ci", 'must start with "pkcs11:"'),
        ("pkcs12:token=ci", 'must start with "pkcs11:"'),
        ("pkcs11", 'must start with "pkcs11:"'),
        ("p\u212acs11:token=a", 'must start with "pkcs11:"'),  # KELVIN SIGN lowercases to "k"
        ("pkcs11:tokn=a", 'unknown path attribute "tokn" (did you mean "token"?)'),
        ("pkcs11:Token=a", 'unknown path attribute "Token" (names are case-sensitive: "token")'),
        ("pkcs11:X-a=1", 'lowercase "x-"'),
        ("pkcs11:vendor=1", '"x-"'),
        ("pkcs11:?modul-path=/x.so", 'unknown query attribute "modul-path"'),
        ("pkcs11:?module-path=/x.so&foo=1", 'unknown query attribute "foo"'),
        ("pkcs11:x-=1", 'bad vendor attribute name "x-"'),
        ("pkcs11:x-a.b=1", 'bad vendor attribute name "x-a.b"'),
        ("pkcs11:pin-value=1234", '"pin-value" is a query attribute; it belongs after "?"'),
        ("pkcs11:?token=a", '"token" is a path attribute; it belongs before "?"'),
        ("pkcs11:token=a;token=b", 'attribute "token" is given twice'),
        ("pkcs11:token=a;serial=1;token=a", 'attribute "token" is given twice'),
        ("pkcs11:?module-name=a&module-name=a", 'attribute "module-name" is given twice'),
        ("pkcs11:x-a=1?x-a=2", 'attribute "x-a" is given twice'),
        ("pkcs11:?pin-source=/a&pin-source=/b", 'attribute "pin-source" is given twice'),
        ("pkcs11:token=%zz", "bad percent-encoding"),
        ("pkcs11:token=%4", "bad percent-encoding"),
        ("pkcs11:token=ab%", "bad percent-encoding"),
        ("pkcs11:token=%%41", "bad percent-encoding"),
        ("pkcs11:token=%\u0664\u0661", "bad percent-encoding"),  # non-ASCII digits
        ("pkcs11:?module-path=%G0", 'bad percent-encoding in the value of "module-path"'),
        ("pkcs11:token=%C3%28", 'the value of "token" is not UTF-8'),
        ("pkcs11:token=%FF", "not UTF-8"),
        ("pkcs11:token=%C3", "not UTF-8"),
        ("pkcs11:token=%ED%A0%80", "not UTF-8"),  # an encoded surrogate
        ("pkcs11:slot-id=abc", '"slot-id" must be a decimal number, not "abc"'),
        ("pkcs11:slot-id=", '"slot-id" must be a decimal number'),
        ("pkcs11:slot-id=-1", "decimal number"),
        ("pkcs11:slot-id=+1", "decimal number"),
        ("pkcs11:slot-id=1_000", "decimal number"),
        ("pkcs11:slot-id=0x10", "decimal number"),
        ("pkcs11:slot-id=1.0", "decimal number"),
        ("pkcs11:slot-id=%201", "decimal number"),
        ("pkcs11:slot-id=\u0663", "decimal number"),  # ARABIC-INDIC DIGIT THREE
        ("pkcs11:slot-id=\uff11", "decimal number"),  # FULLWIDTH DIGIT ONE
        ("pkcs11:slot-id=18446744073709551616", "too large for a CK_SLOT_ID"),
        ("pkcs11:slot-id=" + "9" * 5000, "too large for a CK_SLOT_ID"),
        ("pkcs11:library-version=1.2.3", '"library-version" must be "M" or "M.N"'),
        ("pkcs11:library-version=1.", '"library-version" must be'),
        ("pkcs11:library-version=.1", '"library-version" must be'),
        ("pkcs11:library-version=", '"library-version" must be'),
        ("pkcs11:library-version=v1", '"library-version" must be'),
        ("pkcs11:type=secret", '"type" must be one of public, private, cert, secret-key, data'),
        ("pkcs11:type=", '"type" must be one of'),
        ("pkcs11:type=Cert", '"type" must be one of'),
        ("pkcs11:?pin-value=1&pin-source=file:/x", 'both "pin-value" and "pin-source"'),
        ("pkcs11:?pin-source=file:/x&pin-value=1", 'both "pin-value" and "pin-source"'),
        ("pkcs11:=a", "path attribute #1 has an empty name"),
        ("pkcs11:token=a?=b", "query attribute #1 has an empty name"),
        ("pkcs11:token", 'attribute "token" has no "="'),
        ("pkcs11:token=a;foo", 'path attribute #2 has no "="'),
        ("pkcs11:?module-name=a&b", 'query attribute #2 has no "="'),
        ("pkcs11:token=a\x00", "control character U+0000"),
        ("pkcs11:token=a\tb", "control character U+0009"),
        ("pkcs11:token=a\x7f", "control character U+007F"),
        ("pkcs11:token=a\x85", "control character U+0085"),
        ("pkcs11:token=a\x1b[31m", "control character U+001B"),
        ("pkcs11:token=\ud800", "not valid Unicode"),
        ("pkcs11:token=t&pin-value=1234", 'the value of "token" contains "pin-value="'),
        ("pkcs11:?module-path=/x.so?pin-value=1234", 'contains "pin-value="'),
        ("pkcs11:x-a=1&pin-value=1234", 'contains "pin-value="'),
        ("pkcs11:token=t&module-path=/x.so", 'contains "&module-path="'),
    ],
)
def test_invalid(text: str, message: str) -> None:
    err = invalid(text)
    assert message in err.strerror
    assert "1234" not in everything_shown(err)


def test_decimal_message_quotes_decoded_controls_safely() -> None:
    err = invalid("pkcs11:slot-id=%0A1")
    assert "\n" not in err.strerror
    assert "\\n1" in err.strerror


@pytest.mark.parametrize("value", [b"pkcs11:", None, 42, ["pkcs11:"], bytearray(b"pkcs11:")])
def test_non_str_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="must be a str"):
        parse_uri(cast(str, value))


# --------------------------------------------------------------------------- the PIN


def test_pin_hidden_in_repr_and_str() -> None:
    uri = parse_uri("pkcs11:token=t?pin-value=s3cr3t-PIN&module-name=m")
    assert uri.pin_value == "s3cr3t-PIN"
    assert "s3cr3t" not in repr(uri)
    assert "pin_value" not in repr(uri)
    assert str(uri) == uri.redacted() == "pkcs11:token=t?pin-value=***&module-name=m"
    assert f"{uri}" == str(uri)
    assert "s3cr3t" not in f"{uri!s} {uri!r} {[uri]} {(uri,)}"


def test_redacted_without_pin() -> None:
    uri = parse_uri("pkcs11:token=my%20token;slot-id=3?pin-source=file:/etc/pin")
    assert str(uri) == "pkcs11:token=my%20token;slot-id=3?pin-source=file:/etc/pin"
    assert str(parse_uri("pkcs11:")) == "pkcs11:"


def test_pin_not_in_message_when_the_pin_itself_is_malformed() -> None:
    for text in [
        "pkcs11:?pin-value=PIN4711%zz",
        "pkcs11:?pin-value=PIN4711%C3%28",
        "pkcs11:?pin-value=PIN4711\x01",
        "pkcs11:?pin-value=PIN4711&PIN4712",
        "pkcs11:?pin-value=PIN4711&PIN4712=x",
        "pkcs11:?pin-value=PIN4711&x-PIN4712=%zz",
        "pkcs11:?pin-value=PIN4711&pin-value=PIN4711",
        "pkcs11:pin-value=PIN4711",
        "pkcs11:token=t&pin-value=PIN4711",
    ]:
        shown = everything_shown(invalid(text))
        assert "PIN4711" not in shown, text
        assert "PIN4712" not in shown, text


def test_names_before_the_pin_are_still_quoted() -> None:
    err = invalid("pkcs11:?modul-name=m&pin-value=1234")
    assert '"modul-name"' in err.strerror
    err = invalid("pkcs11:?pin-value=1234&modul-name=m")
    assert "modul-name" not in err.strerror
    assert "query attribute #2" in err.strerror


pins = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=8, max_size=40
).filter(lambda pin: not any(pin in name for name in STANDARD_NAMES))

MALFORMED: list[Callable[[str, str], str]] = [
    lambda enc, raw: f"pkcs11:?pin-value={enc}%zz",
    lambda enc, raw: f"pkcs11:?pin-value={enc}%4",
    lambda enc, raw: f"pkcs11:?pin-value={enc}%C3",
    lambda enc, raw: f"pkcs11:?pin-value={enc}\x01",
    lambda enc, raw: f"pkcs11:?pin-value={raw}",
    lambda enc, raw: f"pkcs11:?pin-value={raw}%",
    lambda enc, raw: f"pkcs11:pin-value={enc}",
    lambda enc, raw: f"pkcs11:token=t&pin-value={enc}",
    lambda enc, raw: f"pkcs11:token=t&pin-value={raw}",
    lambda enc, raw: f"pkcs11:?module-path=/x?pin-value={enc}",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&pin-source=file:/x",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&pin-value={enc}",
    lambda enc, raw: f"pkcs12:?pin-value={enc}",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&{enc}",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&{raw}",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&{enc}=1",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&x-{enc}=%zz",
    lambda enc, raw: f"pkcs11:?pin-value={enc}&x-a=%zz",
    lambda enc, raw: f"pkcs11:token=%zz?pin-value={enc}",
    lambda enc, raw: f"pkcs11:tokn=a?pin-value={enc}",
    lambda enc, raw: f"pkcs11:slot-id=x?pin-value={enc}",
]


def _shown(result: object) -> str:
    if isinstance(result, error):
        return everything_shown(result)
    assert isinstance(result, Pkcs11Uri)
    return f"{result!r}\n{result!s}\n{result.redacted()}"


@settings(max_examples=300)
@given(pin=pins, template=st.sampled_from(MALFORMED))
def test_pin_never_shown(pin: str, template: Callable[[str, str], str]) -> None:
    encoded = pct(pin)
    # A PIN that is part of the fixed wording ("module_n", "token") proves nothing.
    neutral = _shown(outcome(template(pct("\u2603"), "\u2603")))
    assume(pin not in neutral and encoded not in neutral)
    result = outcome(template(encoded, pin))
    if isinstance(result, error):
        assert result.winerror == ERROR_INVALID_PARAMETER
        assert result.__cause__ is None
        assert result.__context__ is None
        shown = everything_shown(result)
    else:
        shown = f"{result!r}\n{result!s}\n{result.redacted()}"
    assert pin not in shown
    assert encoded not in shown


@given(pin=pins, cut=st.integers(min_value=1, max_value=39))
def test_pin_with_unencoded_ampersand_is_not_shown(pin: str, cut: int) -> None:
    cut = min(cut, len(pin) - 1)
    head, tail = pin[:cut], pin[cut:]
    assume(len(tail.strip(" \t")) >= 6)
    # A tail that is part of the fixed wording (e.g. "ryptAcq") proves nothing.
    neutral = outcome("pkcs11:token=t?pin-value=q&qqqqqq")
    assert isinstance(neutral, error)
    assume(tail.strip(" \t") not in everything_shown(neutral))
    result = outcome(f"pkcs11:token=t?pin-value={head}&{tail}")
    shown = everything_shown(result) if isinstance(result, error) else f"{result!r}\n{result!s}"
    assert tail.strip(" \t") not in shown


@given(pin=pins)
def test_random_pin_round_trips_and_hides(pin: str) -> None:
    neutral = parse_uri("pkcs11:token=t?pin-value=%E2%98%83")
    assume(pin not in f"{neutral!r}\n{neutral!s}" and pct(pin) not in str(neutral))
    uri = parse_uri(f"pkcs11:token=t?pin-value={pct(pin)}")
    assert uri.pin_value == pin
    assert pin not in repr(uri)
    assert pin not in str(uri)
    assert pct(pin) not in str(uri)


# --------------------------------------------------------------------------- properties

# Values never contain "pin-value=": the parser refuses those on purpose (a
# forgotten "?" or "&" would otherwise show a PIN in an error message).
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30).filter(
    lambda text: "pin-value=" not in text
)
vendor_names = st.from_regex(r"x-[A-Za-z0-9_-]{1,12}", fullmatch=True)

TEXT_PATH_ATTRS = {
    "token": "token",
    "manufacturer": "manufacturer",
    "serial": "serial",
    "model": "model",
    "library-manufacturer": "library_manufacturer",
    "library-description": "library_description",
    "slot-description": "slot_description",
    "slot-manufacturer": "slot_manufacturer",
    "object": "object",
}


@st.composite
def uri_parts(draw: st.DrawFn) -> tuple[str, Pkcs11Uri]:
    """A URI text built from random values, and the instance it must parse to."""
    lenient = draw(st.booleans())  # leave RFC 7512's "res-avail" characters unencoded
    path_keep = PATH_KEEP if lenient else frozenset()
    query_keep = QUERY_KEEP if lenient else frozenset()
    expected: dict[str, Any] = {}
    path: list[str] = []
    query: list[str] = []
    for name, attr in TEXT_PATH_ATTRS.items():
        value = draw(st.none() | texts)
        if value is not None:
            expected[attr] = value
            path.append(f"{name}={pct(value, path_keep)}")
    version = draw(st.none() | st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3})?", fullmatch=True))
    if version is not None:
        expected["library_version"] = version
        path.append(f"library-version={version}")
    slot_id = draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1))
    if slot_id is not None:
        expected["slot_id"] = slot_id
        path.append(f"slot-id={slot_id}")
    object_types = ["public", "private", "cert", "secret-key", "data"]
    object_type = draw(st.none() | st.sampled_from(object_types))
    if object_type is not None:
        expected["object_type"] = object_type
        path.append(f"type={object_type}")
    object_id = draw(st.none() | st.binary(max_size=20))
    if object_id is not None:
        expected["object_id"] = object_id
        path.append(f"id={pct(object_id)}")
    for name, attr in (("module-path", "module_path"), ("module-name", "module_name")):
        value = draw(st.none() | texts)
        if value is not None:
            expected[attr] = value
            query.append(f"{name}={pct(value, query_keep)}")
    pin_kind = draw(st.sampled_from(["pin_value", "pin_source", None]))
    if pin_kind is not None:
        value = draw(texts)
        expected[pin_kind] = value
        query.append(f"{pin_kind.replace('_', '-')}={pct(value, query_keep)}")
    vendor = draw(st.lists(st.tuples(vendor_names, texts, st.booleans()), unique_by=lambda v: v[0]))
    vendor_path = tuple((name, value) for name, value, in_path in vendor if in_path)
    vendor_query = tuple((name, value) for name, value, in_path in vendor if not in_path)
    path += [f"{name}={pct(value, path_keep)}" for name, value in vendor_path]
    query += [f"{name}={pct(value, query_keep)}" for name, value in vendor_query]
    # Order within a component carries no meaning, except among vendor
    # attributes, whose order is kept: shuffle the standard ones only.
    standard_path = draw(st.permutations(path[: len(path) - len(vendor_path)]))
    standard_query = draw(st.permutations(query[: len(query) - len(vendor_query)]))
    path = list(standard_path) + path[len(path) - len(vendor_path) :]
    query = list(standard_query) + query[len(query) - len(vendor_query) :]
    text = "pkcs11:" + ";".join(path)
    empty_query = draw(st.booleans())  # "pkcs11:token=a?" is valid too
    if query or empty_query:
        text += "?" + "&".join(query)
    uri = Pkcs11Uri(**expected, vendor_path=vendor_path, vendor_query=vendor_query)
    return text, uri


@settings(max_examples=300)
@given(uri_parts())
def test_round_trip(parts: tuple[str, Pkcs11Uri]) -> None:
    text, expected = parts
    uri = parse_uri(text)
    assert uri == expected
    # str() writes a URI that reads back the same, but for the PIN.
    again = parse_uri(str(uri))
    if expected.pin_value is None:
        assert again == uri
    else:
        assert again == uri.replace(pin_value="***")
        assert "pin-value=***" in str(uri)


def check_outcome(text: str) -> None:
    """*text* parses, or is refused with ERROR_INVALID_PARAMETER; nothing else."""
    result = outcome(text)
    if isinstance(result, error):
        assert result.winerror == ERROR_INVALID_PARAMETER
        assert result.funcname == "CryptAcquireContext"
        assert result.__context__ is None
    else:
        assert isinstance(result, Pkcs11Uri)
        assert str(result).startswith("pkcs11:")
        assert repr(result).startswith("Pkcs11Uri(")


@settings(max_examples=500)
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check_outcome(text)


URI_PIECES = [
    *";&?=%#x-_ \n\t\r0123456789abcdefACF\u00e1\x00",
    *["token", "slot-id", "id", "type", "pin-value", "pin-source", "library-version"],
    *["module-path", "x-", "%C3", "%A1", "%2", "%3B", "%26"],
]


@settings(max_examples=1000)
@given(st.lists(st.sampled_from(URI_PIECES), max_size=40))
def test_arbitrary_uri_body(pieces: list[str]) -> None:
    check_outcome("pkcs11:" + "".join(pieces))


# --------------------------------------------------------------------------- linear time


@pytest.mark.parametrize(
    "text",
    [
        "pkcs11:token=" + "%20" * 200_000,
        "pkcs11:token=" + "a" * 600_000,
        "pkcs11:" + ";" * 600_000,
        "pkcs11:?" + "&" * 600_000,
        "pkcs11:" + "x-a" * 200_000 + "=1",
        "pkcs11:" + " " * 600_000 + "\n",
        "pkcs11:token=" + " \n" * 300_000 + "a",
        "pkcs11:token=" + "%" * 600_000,
        "pkcs11:" + "a" * 600_000,
        "pkcs11:" + "a=" * 300_000,
        "pkcs11:token=" + "pin-value" * 60_000,
        " " * 600_000 + "pkcs11:",
    ],
)
def test_linear_time(text: str) -> None:
    start = time.perf_counter()
    check_outcome(text)
    assert time.perf_counter() - start < 2.0


def test_value_holding_pin_value_is_refused_without_showing_it() -> None:
    with pytest.raises(error) as info:
        parse_uri("pkcs11:?pin-source=pin-value=hunter2")
    assert info.value.winerror == ERROR_INVALID_PARAMETER
    assert "hunter2" not in str(info.value)
