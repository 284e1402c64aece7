"""Key containers on the token: CryptAcquireContext's keyset flags, persistence,
CryptGetUserKey, deletion, enumeration — checked from other processes too."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csp11 import pywintypes, win32crypt, winerror
from csp11 import win32cryptcon as con
from csp11.win32crypt import PyCRYPTPROV

from .conftest import REPO, run_python
from .helpers import container_names
from .outside import labelled, objects

AES = con.PROV_RSA_AES


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def _acquire(name: str | None, flags: int, prov_type: int = AES) -> PyCRYPTPROV | None:
    return win32crypt.CryptAcquireContext(name, None, prov_type, flags)


@pytest.fixture
def box(embedded_pin: str) -> Iterator[str]:
    """A fresh container, deleted afterwards."""
    name = _name()
    ctx = _acquire(name, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    ctx.CryptReleaseContext()
    yield name
    with contextlib.suppress(pywintypes.error):
        _acquire(name, con.CRYPT_DELETEKEYSET)


def _store_exchange_key(name: str) -> None:
    ctx = _acquire(name, 0)
    assert ctx is not None
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0).CryptDestroyKey()
    ctx.CryptReleaseContext()


def _code(info: pytest.ExceptionInfo[pywintypes.error]) -> int:
    return info.value.winerror


def test_keyset_lifecycle(embedded_pin: str) -> None:
    name = _name()
    with pytest.raises(pywintypes.error) as info:
        _acquire(name, 0)
    assert _code(info) == winerror.NTE_BAD_KEYSET
    ctx = _acquire(name, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    assert ctx.CryptGetProvParam(con.PP_CONTAINER) == name
    assert ctx.CryptGetProvParam(con.PP_KEYSET_TYPE) == 0
    assert name in ctx.CryptGetProvParam(con.PP_UNIQUE_CONTAINER)
    for spec in (con.AT_KEYEXCHANGE, con.AT_SIGNATURE):
        with pytest.raises(pywintypes.error) as info:
            ctx.CryptGetUserKey(spec)
        assert _code(info) == winerror.NTE_NO_KEY
    ctx.CryptReleaseContext()
    with pytest.raises(pywintypes.error) as info:
        _acquire(name, con.CRYPT_NEWKEYSET)
    assert _code(info) == winerror.NTE_EXISTS
    reopened = _acquire(name, 0)
    assert reopened is not None
    reopened.CryptReleaseContext()
    assert _acquire(name, con.CRYPT_DELETEKEYSET) is None
    with pytest.raises(pywintypes.error) as info:
        _acquire(name, con.CRYPT_DELETEKEYSET)
    assert _code(info) == winerror.NTE_BAD_KEYSET


def test_flag_errors(embedded_pin: str) -> None:
    with pytest.raises(pywintypes.error) as info:
        _acquire("x", con.CRYPT_NEWKEYSET | con.CRYPT_DELETEKEYSET)
    assert _code(info) == winerror.NTE_BAD_FLAGS


def test_default_container_is_the_user_name(embedded_pin: str) -> None:
    user = getpass.getuser()
    try:
        ctx = _acquire(None, con.CRYPT_NEWKEYSET)
    except pywintypes.error as exc:
        assert exc.winerror == winerror.NTE_EXISTS
        ctx = _acquire(None, 0)
    assert ctx is not None
    assert ctx.CryptGetProvParam(con.PP_CONTAINER) == user
    ctx.CryptReleaseContext()
    assert _acquire(None, con.CRYPT_DELETEKEYSET) is None


def test_user_and_machine_keysets_never_collide(box: str) -> None:
    with pytest.raises(pywintypes.error) as info:
        _acquire(box, con.CRYPT_MACHINE_KEYSET)
    assert _code(info) == winerror.NTE_BAD_KEYSET
    machine = _acquire(box, con.CRYPT_NEWKEYSET | con.CRYPT_MACHINE_KEYSET)
    assert machine is not None
    assert machine.CryptGetProvParam(con.PP_KEYSET_TYPE) == con.CRYPT_MACHINE_KEYSET
    with machine.CryptGenKey(con.AT_SIGNATURE, 0):
        pass
    machine.CryptReleaseContext()
    user = _acquire(box, 0)
    assert user is not None
    with pytest.raises(pywintypes.error) as info:
        user.CryptGetUserKey(con.AT_SIGNATURE)
    assert _code(info) == winerror.NTE_NO_KEY
    user.CryptReleaseContext()
    assert _acquire(box, con.CRYPT_DELETEKEYSET | con.CRYPT_MACHINE_KEYSET) is None


def test_keys_persist_and_handles_are_independent(box: str) -> None:
    ctx = _acquire(box, 0)
    assert ctx is not None
    made = ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0)
    ctx.CryptGenKey(con.CALG_RSA_SIGN, 1536 << 16).CryptDestroyKey()
    first = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
    second = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
    assert len({made.HCRYPTKEY, first.HCRYPTKEY, second.HCRYPTKEY}) == 3
    assert first.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_KEYX
    first.CryptDestroyKey()
    made.CryptDestroyKey()  # never deletes the stored key
    assert second.CryptGetKeyParam(con.KP_KEYLEN) == 1024
    signature = ctx.CryptGetUserKey(con.AT_SIGNATURE)
    assert signature.CryptGetKeyParam(con.KP_ALGID) == con.CALG_RSA_SIGN
    assert signature.CryptGetKeyParam(con.KP_KEYLEN) == 1536
    ctx.CryptReleaseContext()


PERSIST = textwrap.dedent(
    """
    import json, sys
    from csp11 import win32crypt, win32cryptcon as c
    from csp11.ops.userkey import public_key_of
    ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, c.PROV_RSA_AES, 0)
    if sys.argv[2] == "make":
        ctx.CryptGenKey(c.AT_SIGNATURE, 0)
    key = ctx.CryptGetUserKey(c.AT_SIGNATURE)
    print(json.dumps(public_key_of(key._state).public_numbers().n))
    """
)


def _persist(name: str, action: str) -> int:
    result = run_python(f"import sys; sys.argv = ['x', {name!r}, {action!r}]\n" + PERSIST)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout.strip().splitlines()[-1]))


def test_keys_survive_the_process(box: str) -> None:
    made = _persist(box, "make")
    assert _persist(box, "open") == made


VERIFY = con.CRYPT_VERIFYCONTEXT
_SIGN_ELSEWHERE = """
import sys
from csp11 import win32crypt, win32cryptcon as con
ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, con.PROV_RSA_AES, 0)
h = ctx.CryptCreateHash(con.CALG_SHA_256)
h.CryptHashData(b"signed in another process")
print(h.CryptSignHash(con.AT_SIGNATURE).hex())
"""


def test_a_stored_key_signs_in_a_new_process(box: str) -> None:
    ctx = _acquire(box, 0)
    assert ctx is not None
    with ctx:
        public = ctx.CryptGenKey(con.AT_SIGNATURE, 1024 << 16).CryptExportKey(
            None, con.PUBLICKEYBLOB
        )
    result = run_python(f"import sys; sys.argv = ['x', {box!r}]\n" + _SIGN_ELSEWHERE)
    assert result.returncode == 0, result.stderr
    signature = bytes.fromhex(result.stdout.strip().splitlines()[-1])
    verifier = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES, VERIFY)
    assert verifier is not None
    with verifier:
        key = verifier.CryptImportKey(public)
        h = verifier.CryptCreateHash(con.CALG_SHA_256)
        h.CryptHashData(b"signed in another process")
        h.CryptVerifySignature(signature, key)
        other = verifier.CryptCreateHash(con.CALG_SHA_256)
        other.CryptHashData(b"something else")
        with pytest.raises(pywintypes.error) as exc:
            other.CryptVerifySignature(signature, key)
        assert _code(exc) == winerror.NTE_BAD_SIGNATURE


def test_delete_removes_exactly_that_container(
    box: str, csp11_home: Path, softhsm2_module: str
) -> None:
    other = _name()
    for name in (box, other):
        ctx = _acquire(name, 0) if name == box else _acquire(name, con.CRYPT_NEWKEYSET)
        assert ctx is not None
        ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0).CryptDestroyKey()
        ctx.CryptGenKey(con.AT_SIGNATURE, 0).CryptDestroyKey()
        ctx.CryptReleaseContext()
    before = objects(csp11_home, softhsm2_module)
    mine = [r for r in before if r["LABEL"].startswith(f"csp11 user/{box}")]
    assert len(mine) == 5  # marker + two pairs
    assert _acquire(box, con.CRYPT_DELETEKEYSET) is None
    after = objects(csp11_home, softhsm2_module)
    assert len(after) == len(before) - 5
    assert not [r for r in after if r["LABEL"].startswith(f"csp11 user/{box}")]
    assert len([r for r in after if r["LABEL"].startswith(f"csp11 user/{other}")]) == 5
    assert _acquire(other, con.CRYPT_DELETEKEYSET) is None


def test_token_holds_what_the_docs_say(box: str, csp11_home: Path, softhsm2_module: str) -> None:
    ctx = _acquire(box, 0)
    assert ctx is not None
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, con.CRYPT_EXPORTABLE).CryptDestroyKey()
    ctx.CryptGenKey(con.AT_SIGNATURE, 0).CryptDestroyKey()
    ctx.CryptReleaseContext()
    rows = objects(csp11_home, softhsm2_module)
    marker = labelled(rows, f"csp11 user/{box}")
    assert len(marker) == 1
    assert marker[0]["PRIVATE"] is True
    for spec, extractable in (("AT_KEYEXCHANGE", True), ("AT_SIGNATURE", False)):
        pair = labelled(rows, f"csp11 user/{box} {spec}")
        assert sorted(r["CLASS"] for r in pair) == [2, 3]  # CKO_PUBLIC_KEY, CKO_PRIVATE_KEY
        ids = {r["ID"] for r in pair}
        assert len(ids) == 1 and next(iter(ids)).startswith(b"csp11".hex())
        private = [r for r in pair if r["SENSITIVE"] is True]
        assert len(private) == 1
        assert private[0]["EXTRACTABLE"] is extractable
        assert private[0]["PRIVATE"] is True


def test_non_exportable_key_resists_another_process(
    box: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _store_exchange_key(box)
    label = f"csp11 user/{box} AT_KEYEXCHANGE"
    rows = labelled(objects(csp11_home, softhsm2_module, attack_label=label), label)
    private = next(r for r in rows if "wrap" in r)
    assert private["read_PRIVATE_EXPONENT"] == "AttributeSensitive"
    assert private["wrap"] == "KeyUnextractable"
    assert private["EXTRACTABLE"] is False
    assert private["NEVER_EXTRACTABLE"] is True


def test_enumerate_containers(box: str) -> None:
    second = _name()
    ctx = _acquire(second, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    ctx.CryptReleaseContext()
    verify = _acquire(None, con.CRYPT_VERIFYCONTEXT)
    assert verify is not None
    names = container_names(verify, 0)
    assert box in names and second in names
    assert names == sorted(names)
    # The machine scope lists machine containers only.
    machine = container_names(verify, con.CRYPT_MACHINE_KEYSET)
    assert box not in machine and second not in machine
    verify.CryptReleaseContext()
    assert _acquire(second, con.CRYPT_DELETEKEYSET) is None


def test_verify_context_has_no_user_keys(prov: PyCRYPTPROV) -> None:
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGetUserKey(con.AT_KEYEXCHANGE)
    assert _code(info) == winerror.NTE_NO_KEY
    with pytest.raises(pywintypes.error) as info:
        prov.CryptGetUserKey(7)
    assert _code(info) == winerror.NTE_BAD_KEY


def test_dss_container_keys(embedded_pin: str) -> None:
    name = _name()
    ctx = _acquire(name, con.CRYPT_NEWKEYSET, con.PROV_DSS_DH)
    assert ctx is not None
    ctx.CryptGenKey(con.AT_SIGNATURE, 0).CryptDestroyKey()
    ctx.CryptGenKey(con.AT_KEYEXCHANGE, 0).CryptDestroyKey()
    ephemeral = ctx.CryptGenKey(con.CALG_DH_EPHEM, 0)  # not stored
    assert ctx.CryptGetUserKey(con.AT_SIGNATURE).CryptGetKeyParam(con.KP_ALGID) == \
        con.CALG_DSS_SIGN
    exchange = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
    assert exchange.CryptGetKeyParam(con.KP_ALGID) == con.CALG_DH_SF
    assert exchange.CryptGetKeyParam(con.KP_KEYLEN) == 1024
    assert exchange.CryptGetKeyParam(con.KP_P) != ephemeral.CryptGetKeyParam(con.KP_Y)
    ctx.CryptReleaseContext()
    assert _acquire(name, con.CRYPT_DELETEKEYSET, con.PROV_DSS_DH) is None


# ---- CRYPT_ARCHIVABLE and crashes ------------------------------------------------------------
HOLD = textwrap.dedent(
    """
    import sys, time
    from csp11 import win32crypt, win32cryptcon as c
    ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, c.PROV_RSA_AES, 0)
    key = ctx.CryptGenKey(c.AT_KEYEXCHANGE, c.CRYPT_ARCHIVABLE)
    assert key.CryptGetKeyParam(c.KP_PERMISSIONS) & c.CRYPT_ARCHIVE
    print("ready", flush=True)
    time.sleep(60)
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.argv = ['x', *{list(args)!r}]\n" + code],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL,
    )


def test_archivable_key_is_never_left_extractable(
    box: str, csp11_home: Path, softhsm2_module: str
) -> None:
    """A process holding an archivable key is killed; another process finds the
    stored key non-extractable and un-wrappable."""
    holder = _spawn(HOLD, box)
    try:
        assert holder.stdout is not None
        ready = holder.stdout.readline().strip()
        assert ready == "ready", holder.stderr.read() if holder.stderr else ""
        holder.send_signal(signal.SIGKILL)
    finally:
        holder.wait(timeout=30)
    label = f"csp11 user/{box} AT_KEYEXCHANGE"
    rows = labelled(objects(csp11_home, softhsm2_module, attack_label=label), label)
    assert len(rows) == 2
    private = next(r for r in rows if "wrap" in r)
    assert private["EXTRACTABLE"] is False
    assert private["wrap"] == "KeyUnextractable"
    assert private["read_PRIVATE_EXPONENT"] == "AttributeSensitive"


GENERATE_BIG = textwrap.dedent(
    """
    import sys
    from csp11 import win32crypt, win32cryptcon as c
    ctx = win32crypt.CryptAcquireContext(sys.argv[1], None, c.PROV_RSA_AES, 0)
    print("go", flush=True)
    ctx.CryptGenKey(c.AT_KEYEXCHANGE, 4096 << 16)
    print("done", flush=True)
    """
)


def _modulus_now(name: str) -> int | None:
    ctx = _acquire(name, 0)
    assert ctx is not None
    try:
        from .helpers import public_key_of

        key = ctx.CryptGetUserKey(con.AT_KEYEXCHANGE)
        return int(public_key_of(key).public_numbers().n)
    except pywintypes.error as exc:
        assert exc.winerror == winerror.NTE_NO_KEY
        return None
    finally:
        ctx.CryptReleaseContext()


def _kill_during_generation(name: str, delays: list[float], home: Path, module: str) -> None:
    for delay in delays:
        before = _modulus_now(name)
        proc = _spawn(GENERATE_BIG, name)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "go"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        after = _modulus_now(name)  # csp11 tidies up what the crash left
        if before is not None:
            assert after is not None  # the old key or the new one, never none
        rows = objects(home, module)
        for spec in ("AT_KEYEXCHANGE",):
            pair = labelled(rows, f"csp11 user/{name} {spec}")
            # Never a private key without its public key, never two keys for one spec.
            assert len(pair) in (0, 2), pair
            assert len({r["ID"] for r in pair}) <= 1


def test_kill_during_generate_leaves_old_or_new(
    box: str, csp11_home: Path, softhsm2_module: str
) -> None:
    _store_exchange_key(box)
    _kill_during_generation(box, [0.05, 0.4, 0.9], csp11_home, softhsm2_module)


@pytest.mark.slow
def test_kill_during_generate_many_times(
    box: str, csp11_home: Path, softhsm2_module: str
) -> None:
    import random

    _store_exchange_key(box)
    rng = random.Random(7)
    _kill_during_generation(box, [rng.uniform(0, 2.5) for _ in range(25)], csp11_home,
                            softhsm2_module)
