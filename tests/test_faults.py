"""Token faults, injected: csp11 recovers where recovery is right and otherwise
reports the right Windows error once, leaving no half container and no
leaked session (issue #14, part 6; docs/faults.md lists fault → behaviour).

The faults come from ``tests/faultp11/faultp11.c``, a PKCS#11 module built here
with gcc that forwards to SoftHSM2 and fails the calls its configuration file
names (re-read whenever the file changes, so a child process can inject and
lift faults while it runs).  Each scenario runs in a child process of its own
that names the shim as its token module (``CSP11_TOKEN=pkcs11:...?module-path=``)
on a SoftHSM2 store made for this module; the shim's statistics file counts
calls and the sessions really open, which the child compares with the
sessions csp11 holds.  Token objects are counted from outside
(:mod:`tests.outside`, plain python-pkcs11 on SoftHSM2 itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from csp11 import winerror
from csp11.errors import CKR_NAMES, CKR_TO_WINERROR, CKR_VALUES

from .conftest import REPO, run_python
from .outside import objects

SHIM_SOURCE = REPO / "tests" / "faultp11" / "faultp11.c"

CKF_USER_PIN_COUNT_LOW = 0x10000
CKF_USER_PIN_FINAL_TRY = 0x20000
CKF_USER_PIN_LOCKED = 0x40000


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """faultp11.so, compiled for this test run."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler (gcc) to build the fault-injecting PKCS#11 module")
    out = tmp_path_factory.mktemp("faultp11") / "faultp11.so"
    built = subprocess.run(
        [gcc, "-std=gnu11", "-Wall", "-Wextra", "-O2", "-shared", "-fPIC",
         "-fvisibility=hidden", "-o", str(out), str(SHIM_SOURCE), "-ldl", "-lpthread"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert built.returncode == 0, built.stderr
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SoftHSM2 store of its own (an embedded-token home: softhsm2.conf,
    tokens/, pin), so that locked PINs and lost sessions touch no other test."""
    home = tmp_path_factory.mktemp("faults-store") / "home"
    made = run_python(
        "from csp11 import win32crypt, win32cryptcon as c\n"
        "win32crypt.CryptAcquireContext(None, None, c.PROV_RSA_AES,"
        " c.CRYPT_VERIFYCONTEXT).CryptReleaseContext()\n",
        env={"CSP11_HOME": str(home)},
    )
    assert made.returncode == 0, made.stderr
    return home


# What every scenario's child starts with: csp11, and the means to inject and
# lift faults and to read the shim's statistics.
_PRELUDE = textwrap.dedent(
    """
    import json, os, pathlib
    import csp11
    from csp11 import pywintypes, win32crypt, winerror
    from csp11 import win32cryptcon as con

    CONFIG = pathlib.Path(os.environ["FAULTP11_CONFIG"])
    BASE = CONFIG.read_text()
    STATS = pathlib.Path(os.environ["FAULTP11_STATS"])
    out = {}

    def inject(*lines):
        new = CONFIG.with_name("next")
        new.write_text(BASE + "".join(line + "\\n" for line in lines))
        os.replace(new, CONFIG)  # a new inode: the shim reads it at its next call

    def lift():
        inject()

    def stats():
        found = {"open_sessions": 0, "faults": 0, "calls": {}}
        for line in STATS.read_text().splitlines():
            words = line.split()
            if words[0] == "call":
                found["calls"][words[1]] = int(words[2])
            else:
                found[words[0]] = int(words[1])
        return found

    def calls(name):
        return stats()["calls"].get(name, 0)

    def attempt(fn):
        try:
            fn()
        except pywintypes.error as exc:
            return [winerror.name_of(exc.winerror), exc.funcname, exc.strerror]
        return None

    def leaked(prov):
        # Sessions open on the token that csp11 does not hold.
        return stats()["open_sessions"] - prov._state.token.session_count()

    def named(name, flags=0):
        return win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, flags)

    def verify():
        return win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                              con.CRYPT_VERIFYCONTEXT)
    """
)


def _scenario(shim: Path, store: Path, tmp_path: Path, body: str, *,
              pin: str | None = None, timeout: float = 180) -> dict[str, Any]:
    """Run ``body`` (after the prelude) in a child whose token is the shim over
    ``store``; return the child's ``out`` dictionary."""
    config = tmp_path / "faultp11.conf"
    stats = tmp_path / "faultp11.stats"
    config.write_text(f"module {_softhsm2()}\nstats {stats}\n")
    credential = f"pin-value={pin}" if pin is not None else f"pin-source=file:{store / 'pin'}"
    env = {
        "FAULTP11_CONFIG": str(config),
        "FAULTP11_STATS": str(stats),
        "SOFTHSM2_CONF": str(store / "softhsm2.conf"),
        "CSP11_TOKEN": f"pkcs11:token=csp11?module-path={shim}&{credential}",
    }
    result = run_python(_PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n",
                        env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def _softhsm2() -> str:
    from csp11.token import find_softhsm2

    return find_softhsm2()


def _rv(name: str) -> str:
    return hex(CKR_VALUES[name])


def _no_ckr_name(message: str) -> bool:
    return not any(name in message for name in CKR_NAMES.values() if name != "CKR_OK")


def _token_objects(store: Path) -> list[str]:
    return sorted(f"{row['CLASS']}:{row['LABEL']}" for row in objects(store, _softhsm2()))


# ---- sessions the token drops --------------------------------------------------------


@pytest.mark.parametrize("ckr", ["CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED"])
def test_a_dropped_session_is_reopened_and_the_call_retried(
    shim: Path, store: Path, tmp_path: Path, ckr: str
) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        prov = named("faults-session", con.CRYPT_NEWKEYSET)
        prov.CryptGenRandom(16)
        # The token closes the session under csp11 (and, with it the only one,
        # the login): an idempotent call is retried once on a new session.
        inject("fail C_GenerateRandom {_rv(ckr)} times=1 drop")
        before = calls("C_GenerateRandom")
        out["random"] = len(prov.CryptGenRandom(32))
        out["tries"] = calls("C_GenerateRandom") - before
        out["faults"] = stats()["faults"]
        out["leaked"] = leaked(prov)
        # Key generation needs the login the dropped session took away.
        inject("fail C_GenerateKeyPair {_rv(ckr)} times=1 drop")
        key = prov.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"signed after a lost session")
        out["signature"] = len(h.CryptSignHash(con.AT_SIGNATURE))
        out["leaked2"] = leaked(prov)
        out["faults2"] = stats()["faults"]
        # A key handle's objects live in its session: lost with it, the handle
        # reports NTE_BAD_KEY, and the container's key is opened again.
        blob = key.CryptExportKey(None, con.PUBLICKEYBLOB)
        inject("fail C_GetAttributeValue {_rv(ckr)} times=1 drop")
        out["handle"] = attempt(lambda: key.CryptExportKey(None, con.PUBLICKEYBLOB))
        lift()
        out["reopened"] = prov.CryptGetUserKey(con.AT_SIGNATURE).CryptExportKey(
            None, con.PUBLICKEYBLOB) == blob
        out["leaked3"] = leaked(prov)
        key.CryptDestroyKey()
        prov.CryptReleaseContext()
        out["deleted"] = win32crypt.CryptAcquireContext(
            "faults-session", None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET) is None
    """)
    assert out["random"] == 32 and out["tries"] == 2 and out["faults"] == 1
    assert out["signature"] == 128 and out["faults2"] == 2
    assert out["leaked"] == 0 and out["leaked2"] == 0 and out["leaked3"] == 0
    code, funcname, message = out["handle"]
    assert (code, funcname) == ("NTE_BAD_KEY", "CryptExportKey") and _no_ckr_name(message)
    assert out["reopened"]
    assert out["deleted"]


def test_a_lost_session_mid_hash_is_reported_and_nothing_leaks(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        prov = verify()
        # A small hash is one C_Digest when its value is asked for: retried.
        inject("fail C_Digest {_rv('CKR_SESSION_HANDLE_INVALID')} times=1 drop")
        small = prov.CryptCreateHash(con.CALG_SHA_256)
        small.CryptHashData(b"abc")
        out["one_shot"] = small.CryptGetHashParam(con.HP_HASHVAL).hex()
        out["one_shot_faults"] = stats()["faults"]
        lift()
        # A big one runs as a multi-part operation in a session of its own
        # (csp11.core.engines.ONE_SHOT): lost with the session, it cannot be
        # redone (the earlier data is gone), so the call fails.
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(bytes(3 << 20))
        inject("fail C_DigestUpdate {_rv('CKR_SESSION_HANDLE_INVALID')} times=1 drop")
        out["error"] = attempt(lambda: h.CryptHashData(b"second part"))
        out["again"] = attempt(lambda: h.CryptHashData(b"third part"))
        out["leaked"] = leaked(prov)
        lift()
        fresh = prov.CryptCreateHash(con.CALG_SHA_256)
        fresh.CryptHashData(b"abc")
        out["digest"] = fresh.CryptGetHashParam(con.HP_HASHVAL).hex()
        # A session key whose session the token dropped is gone with it.
        key = prov.CryptGenKey(con.CALG_AES_256, 0)
        inject("fail C_EncryptInit {_rv('CKR_SESSION_HANDLE_INVALID')} times=1 drop")
        out["key_error"] = attempt(lambda: key.CryptEncrypt(True, b"x" * 16))
        out["leaked2"] = leaked(prov)
        lift()
        out["new_key"] = len(prov.CryptGenKey(con.CALG_AES_256, 0).CryptEncrypt(True, b"y"))
        out["leaked3"] = leaked(prov)
    """)
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert out["one_shot"] == abc and out["one_shot_faults"] == 1
    code, funcname, message = out["error"]
    assert (code, funcname) == ("NTE_BAD_HASH_STATE", "CryptHashData")
    assert "lost" in message and _no_ckr_name(message), message
    assert out["again"][0] == "NTE_BAD_HASH_STATE"
    assert out["digest"] == abc
    code, funcname, message = out["key_error"]
    assert (code, funcname) == ("NTE_BAD_KEY", "CryptEncrypt") and _no_ckr_name(message), message
    assert out["new_key"] == 16
    assert out["leaked"] == out["leaked2"] == out["leaked3"] == 0


# ---- a token that leaves its slot ---------------------------------------------------------


def test_a_removed_token_is_reported_once_and_works_when_back(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    out = _scenario(shim, store, tmp_path, """
        prov = named("faults-removed", con.CRYPT_NEWKEYSET)
        prov.CryptGenKey(con.AT_SIGNATURE, 1024 << 16)
        # Several idle sessions (as after threads used the token), all lost
        # with the token.
        token = prov._state.token
        held = [token.acquire() for _ in range(4)]
        for pooled in held:
            token.release(pooled)
        inject("removed")
        before = sum(stats()["calls"].values())
        out["random"] = attempt(lambda: prov.CryptGenRandom(16))
        out["calls"] = sum(stats()["calls"].values()) - before
        out["sign"] = attempt(lambda: prov.CryptCreateHash(con.CALG_SHA_256).CryptSignHash(
            con.AT_SIGNATURE))
        out["acquire"] = attempt(lambda: named("faults-removed"))
        out["open_while_removed"] = stats()["open_sessions"]
        lift()
        # Back in its slot, with every session csp11 held gone: a new context
        # logs in again (past the dead idle sessions), the old one reopens
        # its sessions, and the container works in both.
        again = named("faults-removed")
        h = again.CryptCreateHash(con.CALG_SHA_256)
        out["sign_new"] = len(h.CryptSignHash(con.AT_SIGNATURE))
        out["random_back"] = len(prov.CryptGenRandom(16))
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        out["sign_back"] = len(h.CryptSignHash(con.AT_SIGNATURE))
        out["leaked"] = leaked(again)
        again.CryptReleaseContext()
        prov.CryptReleaseContext()
        named("faults-removed", con.CRYPT_DELETEKEYSET)
    """)
    code, funcname, message = out["random"]
    assert (code, funcname) == ("SCARD_W_REMOVED_CARD", "CryptGenRandom")
    assert _no_ckr_name(message), message
    assert out["calls"] <= 2  # the failing call, no retry storm
    assert out["sign"][0] == "SCARD_W_REMOVED_CARD"
    code, funcname, message = out["acquire"]
    assert (code, funcname) == ("SCARD_E_NO_SMARTCARD", "CryptAcquireContext"), message
    assert out["open_while_removed"] == 0
    assert out["random_back"] == 16 and out["sign_back"] == 128 and out["sign_new"] == 128
    assert out["leaked"] == 0


def test_token_not_present_when_opening_a_session(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        prov = verify()
        token = prov._state.token
        # Every session in use: the next call needs a new one, and the slot
        # answers that no token is present.
        held = [token.acquire() for _ in range(token.session_count())]
        inject("fail C_OpenSession {_rv('CKR_TOKEN_NOT_PRESENT')}")
        before = calls("C_OpenSession")
        out["error"] = attempt(lambda: prov.CryptGenRandom(8))
        out["opens"] = calls("C_OpenSession") - before
        for pooled in held:
            token.release(pooled)
        lift()
        out["back"] = len(prov.CryptGenRandom(8))
        out["leaked"] = leaked(prov)
    """)
    code, funcname, message = out["error"]
    assert (code, funcname) == ("SCARD_E_NO_SMARTCARD", "CryptGenRandom")
    assert _no_ckr_name(message), message
    assert out["opens"] == 1
    assert out["back"] == 8 and out["leaked"] == 0


# ---- PINs ---------------------------------------------------------------------------------


def test_a_locked_pin_is_reported_without_a_try(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        # The token reports the PIN locked: csp11 does not spend a try.
        inject("flags set={CKF_USER_PIN_LOCKED:#x}")
        out["flagged"] = attempt(lambda: named("faults-pin", con.CRYPT_NEWKEYSET))
        out["logins"] = calls("C_Login")
        # The token answers CKR_PIN_LOCKED to the login itself: once, no retry.
        inject("fail C_Login {_rv('CKR_PIN_LOCKED')}")
        out["answered"] = attempt(lambda: named("faults-pin", con.CRYPT_NEWKEYSET))
        out["logins2"] = calls("C_Login")
        lift()
        prov = named("faults-pin", con.CRYPT_NEWKEYSET)
        out["works"] = len(prov.CryptGenRandom(4))
        out["leaked"] = leaked(prov)
        prov.CryptReleaseContext()
        named("faults-pin", con.CRYPT_DELETEKEYSET)
    """)
    for key in ("flagged", "answered"):
        code, funcname, message = out[key]
        assert (code, funcname) == ("SCARD_W_CHV_BLOCKED", "CryptAcquireContext")
        assert "locked" in message and _no_ckr_name(message), message
    assert out["logins"] == 0 and out["logins2"] == 1
    assert out["works"] == 4 and out["leaked"] == 0


@pytest.mark.parametrize(("flag", "words"), [
    (CKF_USER_PIN_COUNT_LOW, "few tries left"),
    (CKF_USER_PIN_FINAL_TRY, "one try left"),
])
def test_a_wrong_pin_says_how_many_tries_the_token_reports(
    shim: Path, store: Path, tmp_path: Path, flag: int, words: str
) -> None:
    # A really wrong PIN (the URI's pin-value); the token starts reporting
    # the flag once the wrong PIN was tried.
    real_pin = (store / "pin").read_text().strip()
    source = f"&pin-source=file:{store / 'pin'}"
    out = _scenario(shim, store, tmp_path, f"""
        inject("flags set={flag:#x} after=C_Login:1")
        out["wrong"] = attempt(lambda: named("faults-tries", con.CRYPT_NEWKEYSET))
        out["logins"] = calls("C_Login")
        # Again with the right PIN stored (a URI with pin-source): on the final
        # try csp11 spends no stored PIN, only one given for the context or
        # typed at the prompt.
        right = os.environ["CSP11_TOKEN"].split("&pin-value=")[0] + {source!r}
        csp11.set_pin_prompt(lambda request: (out.setdefault("final_try", request.final_try),
                                              {real_pin!r})[1])
        prov = win32crypt.CryptAcquireContext("faults-tries", None, con.PROV_RSA_AES,
                                              con.CRYPT_NEWKEYSET, Token=right)
        out["logins2"] = calls("C_Login")
        out["works"] = len(prov.CryptGenRandom(4))
        out["leaked"] = leaked(prov)
        prov.CryptReleaseContext()
        named("faults-tries", con.CRYPT_DELETEKEYSET)
    """, pin="not-the-pin")
    code, funcname, message = out["wrong"]
    assert (code, funcname) == ("SCARD_W_WRONG_CHV", "CryptAcquireContext")
    assert words in message and _no_ckr_name(message) and "not-the-pin" not in message, message
    assert out["logins"] == 1
    if flag == CKF_USER_PIN_FINAL_TRY:
        assert out["final_try"] is True  # the prompt was asked, not the stored PIN
    else:
        assert "final_try" not in out  # the stored PIN was used
    assert out["logins2"] == 2
    assert out["works"] == 4 and out["leaked"] == 0


def test_general_error_at_login_is_retried_then_reported_once(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        # Transient: two CKR_GENERAL_ERROR answers are ridden out.
        inject("fail C_Login {_rv('CKR_GENERAL_ERROR')} times=2")
        prov = named("faults-login", con.CRYPT_NEWKEYSET)
        out["transient_logins"] = calls("C_Login")
        prov._state.token.logout()
        prov.CryptReleaseContext()
        # For good: the bounded retries, then one error.
        inject("fail C_Login {_rv('CKR_GENERAL_ERROR')}")
        before = calls("C_Login")
        out["error"] = attempt(lambda: named("faults-login"))
        out["logins"] = calls("C_Login") - before
        lift()
        prov = named("faults-login")
        out["works"] = len(prov.CryptGenRandom(4))
        out["leaked"] = leaked(prov)
        prov.CryptReleaseContext()
        named("faults-login", con.CRYPT_DELETEKEYSET)
    """)
    assert out["transient_logins"] == 3
    code, funcname, message = out["error"]
    assert (code, funcname) == ("NTE_FAIL", "CryptAcquireContext")
    # Nothing but the return code says what happened: it is named.
    assert "CKR_GENERAL_ERROR" in message, message
    assert out["logins"] == 6  # token.token._LOGIN_TRIES, not more
    assert out["works"] == 4 and out["leaked"] == 0


# ---- memory, and no half container ----------------------------------------------------------


def test_host_memory_is_no_memory_once(shim: Path, store: Path, tmp_path: Path) -> None:
    out = _scenario(shim, store, tmp_path, f"""
        prov = verify()
        inject("fail C_GenerateRandom {_rv('CKR_HOST_MEMORY')}")
        before = calls("C_GenerateRandom")
        out["error"] = attempt(lambda: prov.CryptGenRandom(8))
        out["calls"] = calls("C_GenerateRandom") - before
        lift()
        out["back"] = len(prov.CryptGenRandom(8))
        out["leaked"] = leaked(prov)
    """)
    code, funcname, message = out["error"]
    assert (code, funcname) == ("NTE_NO_MEMORY", "CryptGenRandom")
    assert "out of memory" in message and _no_ckr_name(message), message
    assert out["calls"] == 1 and out["back"] == 8 and out["leaked"] == 0


def test_session_key_hot_paths_fail_as_the_general_path_does(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    """CryptGenKey and CryptDestroyKey of an unused AES key run inline
    (Token._generate_quick, TokenKey._destroy_unmade); their failures go on
    as the general path handles them: one call at the token, then the retry
    or the error it would give."""
    out = _scenario(shim, store, tmp_path, f"""
        prov = verify()
        prov.CryptGenKey(con.CALG_AES_256, 0).CryptDestroyKey()  # the first one: general path
        inject("fail C_GenerateKey {_rv('CKR_SESSION_HANDLE_INVALID')} times=1 drop")
        before = calls("C_GenerateKey")
        key = prov.CryptGenKey(con.CALG_AES_256, 0)
        out["lost_tries"] = calls("C_GenerateKey") - before
        out["lost_works"] = len(key.CryptEncrypt(True, b"x"))
        out["leaked"] = leaked(prov)
        inject("fail C_GenerateKey {_rv('CKR_HOST_MEMORY')} times=1")
        before = calls("C_GenerateKey")
        out["error"] = attempt(lambda: prov.CryptGenKey(con.CALG_AES_256, 0))
        out["error_tries"] = calls("C_GenerateKey") - before
        lift()
        unused = prov.CryptGenKey(con.CALG_AES_256, 0)
        inject("fail C_DestroyObject {_rv('CKR_HOST_MEMORY')} times=1")
        before = calls("C_DestroyObject")
        out["destroy_error"] = attempt(unused.CryptDestroyKey)
        out["destroy_tries"] = calls("C_DestroyObject") - before
        out["destroy_again"] = attempt(unused.CryptDestroyKey)  # a destroyed handle: harmless
        lost = prov.CryptGenKey(con.CALG_AES_256, 0)
        inject("fail C_DestroyObject {_rv('CKR_SESSION_HANDLE_INVALID')} times=1 drop")
        out["destroy_lost"] = attempt(lost.CryptDestroyKey)
        lift()
        out["leaked2"] = leaked(prov)
        before = calls("C_DestroyObject")
        prov.CryptGenKey(con.CALG_AES_256, 0).CryptDestroyKey()
        out["destroy_calls"] = calls("C_DestroyObject") - before
    """)
    assert out["lost_tries"] == 2 and out["lost_works"] == 16 and out["leaked"] == 0
    code, funcname, message = out["error"]
    assert (code, funcname) == ("NTE_NO_MEMORY", "CryptGenKey") and _no_ckr_name(message)
    assert out["error_tries"] == 1
    code, funcname, message = out["destroy_error"]
    assert (code, funcname) == ("NTE_NO_MEMORY", "CryptDestroyKey") and _no_ckr_name(message)
    assert out["destroy_tries"] == 1 and out["destroy_again"] is None
    code, funcname, message = out["destroy_lost"]
    assert (code, funcname) == ("NTE_BAD_KEY", "CryptDestroyKey") and _no_ckr_name(message)
    assert out["leaked2"] == 0 and out["destroy_calls"] == 1


def test_a_failed_piece_of_a_large_digest_leaves_no_operation_behind(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    """A one-shot digest above fastpath.DIGEST_PIECE_BYTES goes to the token in
    C_DigestUpdate pieces; one that fails is reported, and the pooled session
    is left without an active operation (the next digests in it work)."""
    out = _scenario(shim, store, tmp_path, f"""
        import hashlib
        prov = verify()
        data = bytes(1 << 20)
        inject("fail C_DigestUpdate {_rv('CKR_HOST_MEMORY')} times=1")
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(data)
        out["error"] = attempt(lambda: h.CryptGetHashParam(con.HP_HASHVAL))
        lift()
        right = []
        for _ in range(3):
            g = prov.CryptCreateHash(con.CALG_SHA_256)
            g.CryptHashData(data)
            right.append(g.CryptGetHashParam(con.HP_HASHVAL) == hashlib.sha256(data).digest())
        out["right"] = right
        out["leaked"] = leaked(prov)
    """)
    code, funcname, message = out["error"]
    assert (code, funcname) == ("NTE_NO_MEMORY", "CryptGetHashParam") and _no_ckr_name(message)
    assert out["right"] == [True, True, True] and out["leaked"] == 0



@pytest.mark.parametrize("ckr", [
    "CKR_DEVICE_MEMORY",
    # The same path with the other code (its mapping: test_host_memory_...).
    pytest.param("CKR_HOST_MEMORY", marks=pytest.mark.slow),
])
def test_out_of_memory_at_every_write_leaves_no_half_container(
    shim: Path, store: Path, tmp_path: Path, ckr: str
) -> None:
    before = _token_objects(store)
    out = _scenario(shim, store, tmp_path, f"""
        from csp11.token import Attribute

        def token_objects(ctx):
            ctx._state.login()
            _, (found,) = ctx._state.token.find([{{Attribute.TOKEN: True}}], ctx._state.pins)
            return len(found)

        name = "faults-memory"
        out["steps"] = []
        probe = verify()
        start = token_objects(probe)
        # Each write of creating a container and its key pair fails in turn.
        for function in ("C_CreateObject", "C_GenerateKeyPair", "C_DestroyObject"):
            for n in range(4):
                inject(f"fail {{function}} {_rv(ckr)} after={{n}}")
                def story():
                    prov = named(name, con.CRYPT_NEWKEYSET)
                    prov.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16)
                    prov.CryptReleaseContext()
                    named(name, con.CRYPT_DELETEKEYSET)
                error = attempt(story)
                fired = stats()["faults"]
                lift()
                # The name works afterwards, whatever state the fault left.
                try:
                    prov = named(name)
                except pywintypes.error:
                    prov = named(name, con.CRYPT_NEWKEYSET)
                prov.CryptGenKey(con.AT_KEYEXCHANGE, 1024 << 16)
                leak = leaked(prov)
                prov.CryptReleaseContext()
                named(name, con.CRYPT_DELETEKEYSET)
                out["steps"].append([function, n, error, fired, leak])
        # Seen by this very process: nothing of the container is left, not
        # even a claim or an intent the faults kept it from removing at once.
        out["left"] = token_objects(probe) - start
    """, timeout=300)
    errors = [step for step in out["steps"] if step[2] is not None]
    assert errors, out["steps"]  # the faults were met
    for function, n, error, _fired, leak in out["steps"]:
        assert leak == 0, (function, n)
        if error is not None:
            code, _funcname, message = error
            assert code == "NTE_NO_MEMORY", (function, n, error)
            assert "memory" in message and _no_ckr_name(message), message
    assert out["left"] == 0, out["steps"]
    # No half container, nothing else left behind either, seen from outside.
    assert _token_objects(store) == before, out["steps"]


# ---- many processes starting at once --------------------------------------------------------

_STARTER = textwrap.dedent(
    """
    import json, os, sys, time
    from csp11 import pywintypes, win32crypt, winerror
    from csp11 import win32cryptcon as con
    go = sys.argv[1]
    while not os.path.exists(go):  # every process starts its token work together
        time.sleep(0.005)
    try:
        prov = win32crypt.CryptAcquireContext("faults-starts", None, con.PROV_RSA_AES, 0)
        h = prov.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"started")
        signature = h.CryptSignHash(con.AT_SIGNATURE)
        check = prov.CryptCreateHash(con.CALG_SHA_256)
        check.CryptHashData(b"started")
        check.CryptVerifySignature(signature, prov.CryptGetUserKey(con.AT_SIGNATURE))
        prov.CryptReleaseContext()
        print(json.dumps(None))
    except pywintypes.error as exc:
        print(json.dumps([winerror.name_of(exc.winerror), exc.funcname, exc.strerror]))
    """
)


@pytest.mark.slow
def test_240_concurrent_process_starts_on_a_shared_token(store: Path, tmp_path: Path) -> None:
    """Issue #14: 240 processes that start at once on one CSP11_TOKEN SoftHSM2
    token (log in, sign, verify) all succeed: the transient answers of a
    token whose files another process is rewriting are ridden out."""
    env = dict(os.environ, PYTHONPATH=str(REPO), SOFTHSM2_CONF=str(store / "softhsm2.conf"),
               CSP11_TOKEN=f"pkcs11:token=csp11?module-path={_softhsm2()}"
                           f"&pin-source=file:{store / 'pin'}")
    made = subprocess.run(
        [sys.executable, "-c",
         "from csp11 import win32crypt, win32cryptcon as c\n"
         "p = win32crypt.CryptAcquireContext('faults-starts', None, c.PROV_RSA_AES,"
         " c.CRYPT_NEWKEYSET)\n"
         "p.CryptGenKey(c.AT_SIGNATURE, 1024 << 16)\n"],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    go = tmp_path / "go"
    starters = [subprocess.Popen([sys.executable, "-c", _STARTER, str(go)], env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for _ in range(240)]
    go.touch()
    failures: list[Any] = []
    for starter in starters:
        out, err = starter.communicate(timeout=900)
        if starter.returncode != 0:
            failures.append(err[-500:])
            continue
        result = json.loads(out.strip().splitlines()[-1])
        if result is not None:
            failures.append(result)
    print(f"240 concurrent starts: {len(failures)} failures")
    assert failures == []
    deleted = subprocess.run(
        [sys.executable, "-c",
         "from csp11 import win32crypt, win32cryptcon as c\n"
         "win32crypt.CryptAcquireContext('faults-starts', None, c.PROV_RSA_AES,"
         " c.CRYPT_DELETEKEYSET)\n"],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    assert deleted.returncode == 0, deleted.stderr


# ---- mechanisms the module cannot describe ---------------------------------------------------


def test_a_mechanism_without_info_is_left_out_and_other_failures_reported(
    shim: Path, store: Path, tmp_path: Path
) -> None:
    """p11-kit's RPC lists mechanisms it cannot carry and answers
    CKR_MECHANISM_INVALID for their C_GetMechanismInfo: csp11 leaves them out.
    Any other failure there is reported, translated, not taken as "absent"."""
    out = _scenario(shim, store, tmp_path, f"""
        inject("fail C_GetMechanismInfo {_rv('CKR_MECHANISM_INVALID')} times=1")
        prov = verify()
        token = prov._state.token
        listed = token.module.cryptoki.mechanism_list(token.slot_id)
        mechanisms = token.mechanisms()
        out["missing"] = [m for m in listed if m not in mechanisms]
        out["first"] = listed[0]
        out["listed"] = len(listed)
        out["faults"] = stats()["faults"]
        out["random"] = len(prov.CryptGenRandom(8))
        prov.CryptReleaseContext()
        # A token object read afresh, the module failing every description.
        inject("fail C_GetMechanismInfo {_rv('CKR_DEVICE_ERROR')}")
        token._mechanisms = None
        try:
            token.mechanisms()
            out["failed"] = None
        except csp11.errors.Fail as exc:
            out["failed"] = [exc.code, exc.ckr]
    """)
    assert out["listed"] > 10 and out["faults"] == 1
    assert out["missing"] == [out["first"]]
    assert out["random"] == 8
    # Not in the table: NTE_FAIL, the return code kept for the message.
    assert "CKR_DEVICE_ERROR" not in CKR_TO_WINERROR
    assert out["failed"] == [winerror.NTE_FAIL, "CKR_DEVICE_ERROR"]
