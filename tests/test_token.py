"""The token layer: initialisation, the session pool, lost sessions, login, threads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pkcs11
import pkcs11.attributes
import pytest

from csp11 import winerror
from csp11.errors import Fail
from csp11.token import (
    Attribute,
    KeyType,
    ObjectClass,
    check_template,
    constants,
    fastpath,
    template,
)
from csp11.win32crypt import PyCRYPTPROV

from .conftest import run_python


def test_pool_reuses_one_session_when_single_threaded(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    before = token.session_count()
    for _ in range(50):
        prov.CryptGenRandom(16)
    assert token.session_count() == max(before, 1)


def test_lost_session_is_reopened_and_the_call_retried(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    pooled = token.acquire()
    handle = pooled.handle
    token.release(pooled)
    # Close it behind csp11's back, as a token reset or another library would.
    assert token.module.cryptoki.C_CloseSession(handle) == 0
    assert len(prov.CryptGenRandom(32)) == 32
    pooled = token.acquire()
    try:
        assert pooled.handle != handle
    finally:
        token.release(pooled)


def test_login_again_after_someone_logged_out(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    prov._state.login()
    assert token.is_logged_in()
    # Another component logs the token out (login is token-wide in a process).
    pooled = token.acquire()
    try:
        token.module.cryptoki.C_Logout(pooled.handle)
    finally:
        token.release(pooled)
    # A private object needs login: csp11 notices, logs in again, retries once.
    template = {
        Attribute.TOKEN: False, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
    }
    key = token.run(
        "C_GenerateKey",
        lambda s: s.generate_key(pkcs11.KeyType.AES, 128, template=template),
        pins=prov._state.pins,
    )
    assert token.is_logged_in()
    token.run("C_DestroyObject", lambda s: key.destroy())


def test_without_pins_the_failure_is_translated(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    token.logout()
    template = {Attribute.TOKEN: False, Attribute.PRIVATE: True}
    with pytest.raises(Fail) as info:
        token.run("C_GenerateKey",
                  lambda s: s.generate_key(pkcs11.KeyType.AES, 128, template=template))
    assert info.value.code == winerror.SCARD_W_CARD_NOT_AUTHENTICATED
    assert info.value.ckr == "CKR_USER_NOT_LOGGED_IN"
    assert "C_GenerateKey" in info.value.message


def test_wrong_pin_reports_retry_state(prov: PyCRYPTPROV) -> None:
    token = prov._state.token
    token.logout()
    prov._state.pins.set_context_pin("not-the-pin")
    try:
        with pytest.raises(Fail) as info:
            prov._state.login()
    finally:
        prov._state.pins.set_context_pin(None)
    assert info.value.code == winerror.SCARD_W_WRONG_CHV
    assert "wrong PIN for token 'csp11'" in info.value.message
    assert "(" in info.value.message  # the token's retry state


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ({Attribute.TOKEN: 1}, "needs bool"),
        ({Attribute.VALUE_LEN: True}, "needs int"),
        ({Attribute.LABEL: b"x"}, "needs str"),
        ({Attribute.ID: "x"}, "needs bytes"),
        ({0x7FFF_0001: True}, "not packable"),
    ],
)
def test_templates_are_checked_before_python_pkcs11(template: dict, fragment: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(Fail) as info:
        check_template(template)
    assert fragment in info.value.message


@pytest.mark.parametrize("name", ["ObjectClass", "KeyType", "Attribute", "Mechanism", "MGF"])
def test_csp11s_enumerations_are_python_pkcs11s_numbers(name: str) -> None:
    """csp11 names PKCS#11 numbers itself (no python-pkcs11 on the first key's
    path); each member is python-pkcs11's of the same name and number."""
    ours = getattr(constants, name)
    theirs = getattr(pkcs11, name)
    assert len(ours) > 0
    for member in ours:
        assert int(getattr(theirs, member.name)) == int(member), member


def test_template_types_and_packing_are_python_pkcs11s() -> None:
    """The attribute type table and csp11's packer give what python-pkcs11's
    AttributeMapper gives, for every attribute csp11 uses."""
    mapper = pkcs11.attributes.AttributeMapper()
    samples = {bool: True, int: 0x1234, str: "label é", bytes: b"\x00\x01"}
    for attr in Attribute:
        expected = template.ATTRIBUTE_PY_TYPE[attr]
        theirs = pkcs11.Attribute(int(attr))
        assert pkcs11.attributes.ATTRIBUTE_TYPES.get(theirs) is not None, attr
        value = samples[expected]
        assert template.pack_value(attr, value) == mapper.pack_attribute(theirs, value), attr
    for flag in (True, False):
        assert template.pack_value(Attribute.TOKEN, flag) == mapper.pack_attribute(
            pkcs11.Attribute.TOKEN, flag)


def test_generated_secret_keys_get_python_pkcs11s_defaults() -> None:
    """fastpath sends the template python-pkcs11's generate_key would send."""
    expected = pkcs11.attributes.AttributeMapper().secret_key_template(
        capabilities=pkcs11.MechanismFlag(0), id_=None, label=None, store=False)
    assert list(fastpath._SECRET_DEFAULTS.items()) == list(expected.items())


def test_valid_template_passes() -> None:
    check_template({
        Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
        Attribute.VALUE_LEN: 32, Attribute.TOKEN: False, Attribute.LABEL: "x",
        Attribute.ID: b"\x01",
    })


def test_token_seen_from_outside_by_pkcs11_tool(
    prov: PyCRYPTPROV, csp11_home: Path, softhsm2_module: str
) -> None:
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        pytest.skip("pkcs11-tool (Debian package opensc) is not installed")
    out = subprocess.run(
        [tool, "--module", softhsm2_module, "--list-token-slots"],
        env={"SOFTHSM2_CONF": str(csp11_home / "softhsm2.conf"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert "token label        : csp11" in out
    assert prov._state.token.serial in out


THREAD_SCRIPT = textwrap.dedent(
    """
    import threading, time, sys
    from csp11 import win32crypt, win32cryptcon as con
    from csp11.token import Attribute
    from pkcs11 import KeyType

    prov = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, con.CRYPT_VERIFYCONTEXT)
    prov._state.login()
    token = prov._state.token
    errors, counts = [], []
    stop = time.monotonic() + float(sys.argv[1] if len(sys.argv) > 1 else 3)
    TEMPLATE = {Attribute.TOKEN: False, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True}

    def work(n):
        done = 0
        try:
            while time.monotonic() < stop:
                assert len(prov.CryptGenRandom(64 + n)) == 64 + n
                key = token.run("C_GenerateKey",
                                lambda s: s.generate_key(KeyType.AES, 256, template=TEMPLATE))
                token.run("C_DestroyObject", lambda s: key.destroy())
                if n % 2:
                    pair = token.run("C_GenerateKeyPair",
                                     lambda s: s.generate_keypair(KeyType.RSA, 1024, store=False))
                    for obj in pair:
                        token.run("C_DestroyObject", lambda s, o=obj: o.destroy())
                done += 1
        except BaseException as exc:
            errors.append(repr(exc))
        counts.append(done)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("counts", counts, "sessions", token.session_count())
    if errors:
        print("errors", errors)
        sys.exit(1)
    """
)


@pytest.mark.parametrize("run", range(3))
def test_threads_share_a_context_safely(run: int, embedded_pin: str) -> None:
    """Six threads, random numbers and key work on one context, in a process of their
    own so that a crash fails the test instead of killing the suite."""
    result = run_python(THREAD_SCRIPT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "counts" in result.stdout
    counts = eval(result.stdout.split("counts", 1)[1].split("sessions")[0])
    assert len(counts) == 6
    assert all(c > 0 for c in counts)


# The mechanisms as csp11 reads them, in a process of its own.
_CSP11_MECHANISMS = """
import json
from csp11 import win32crypt, win32cryptcon
ctx = win32crypt.CryptAcquireContext(
    None, None, win32cryptcon.PROV_RSA_AES, win32cryptcon.CRYPT_VERIFYCONTEXT)
token = ctx._state.token
print(json.dumps({"slot": token.slot_id, "mechanisms": {
    str(m): [i.min_key_size, i.max_key_size, i.flags] for m, i in token.mechanisms().items()}}))
"""

# The same read without csp11 or python-pkcs11: the module itself through
# ctypes, every CK_MECHANISM_INFO zeroed first; and once more with the flags
# pre-filled, which shows whether the module sets them or ORs into them.
_ZEROED_MECHANISMS = """
import ctypes, json, sys
U = ctypes.c_ulong
class Info(ctypes.Structure):
    _fields_ = (("low", U), ("high", U), ("flags", U))
lib = ctypes.CDLL(sys.argv[1])
slot = int(sys.argv[2])
assert lib.C_Initialize(None) == 0
n = U(0)
assert lib.C_GetMechanismList(U(slot), None, ctypes.byref(n)) == 0
listed = (U * n.value)()
assert lib.C_GetMechanismList(U(slot), listed, ctypes.byref(n)) == 0
zeroed, ored = {}, []
for m in listed[:n.value]:
    info = Info(0, 0, 0)
    assert lib.C_GetMechanismInfo(U(slot), U(m), ctypes.byref(info)) == 0
    zeroed[str(m)] = [info.low, info.high, info.flags]
    dirty = Info(0, 0, 0xAAAA0000)
    assert lib.C_GetMechanismInfo(U(slot), U(m), ctypes.byref(dirty)) == 0
    if dirty.flags != info.flags:
        ored.append(m)
print(json.dumps({"mechanisms": zeroed, "ored": ored}))
"""


def test_mechanism_flags_are_the_tokens_not_leftover_memory(
    embedded_pin: str, softhsm2_module: str, csp11_home: Path
) -> None:
    """SoftHSM2 2.6 ORs the flags of some mechanisms into the caller's
    CK_MECHANISM_INFO; csp11 must read them into a zeroed one.  Two csp11
    processes and an independent ctypes reader must agree exactly."""
    seen = []
    for _ in range(2):
        out = run_python(_CSP11_MECHANISMS)
        assert out.returncode == 0, out.stderr
        seen.append(json.loads(out.stdout))
    first, second = seen
    assert first["slot"] == second["slot"]
    env = dict(os.environ, SOFTHSM2_CONF=str(csp11_home / "softhsm2.conf"))
    ref = subprocess.run(
        [sys.executable, "-c", _ZEROED_MECHANISMS, softhsm2_module, str(first["slot"])],
        env=env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL,
    )
    assert ref.returncode == 0, ref.stderr
    expected = json.loads(ref.stdout)
    want = expected["mechanisms"]
    assert len(want) > 10
    # Where this module ORs (SoftHSM2 2.6: six mechanisms), garbage shows.
    note = f"mechanisms whose flags the module ORs in: {expected['ored']}"
    for got in (first["mechanisms"], second["mechanisms"]):
        assert got.keys() == want.keys()
        wrong = {m: (got[m], want[m]) for m in want if got[m] != want[m]}
        assert wrong == {}, note
