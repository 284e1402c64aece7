"""The embedded default token, each case in a fresh process with a fresh home."""

from __future__ import annotations

import concurrent.futures
import json
import stat
import textwrap
from pathlib import Path

import pytest

from csp11 import winerror

from .conftest import run_python

ACQUIRE = textwrap.dedent(
    """
    import json
    from csp11 import win32crypt, win32cryptcon as con, pywintypes
    try:
        prov = win32crypt.CryptAcquireContext(None, None, con.PROV_RSA_AES,
                                              con.CRYPT_VERIFYCONTEXT)
        prov._state.login()
        info = prov._state.token.info()
        print(json.dumps({"label": info.label, "serial": info.serial,
                          "random": len(prov.CryptGenRandom(16))}))
    except pywintypes.error as exc:
        print(json.dumps({"error": exc.winerror, "funcname": exc.funcname,
                          "strerror": exc.strerror}))
    """
)


def _run(home: Path, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_python(ACQUIRE, env={"CSP11_HOME": str(home), **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_created_on_first_use_and_reused(tmp_path: Path) -> None:
    home = tmp_path / "data" / "csp11"
    first = _run(home)
    assert first["label"] == "csp11"
    assert first["random"] == 16
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for secret in ("pin", "so-pin"):
        path = home / secret
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text().strip()) >= 24
    assert (home / "pin").read_text() != (home / "so-pin").read_text()
    conf = (home / "softhsm2.conf").read_text()
    assert f"directories.tokendir = {home / 'tokens'}" in conf
    second = _run(home)
    assert second["serial"] == first["serial"]  # the same token, not a new one


def test_xdg_data_home_is_the_default_location(tmp_path: Path) -> None:
    result = run_python(
        ACQUIRE, env={"CSP11_HOME": "", "XDG_DATA_HOME": str(tmp_path / "xdg")}
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "xdg" / "csp11" / "pin").exists()


def test_concurrent_first_use_makes_one_token(tmp_path: Path) -> None:
    home = tmp_path / "race"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _run(home), range(4)))
    assert {r.get("serial") for r in results} == {results[0]["serial"]}, (
        results, sorted(p.name for p in (home / "tokens").iterdir()))
    assert len(list((home / "tokens").iterdir())) == 1


def test_pin_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "loose"
    _run(home)
    (home / "pin").chmod(0o644)
    result = _run(home)
    assert result["funcname"] == "CryptAcquireContext"
    assert "chmod 600" in result["strerror"]
    assert "pin" in result["strerror"]


@pytest.mark.parametrize(("target", "mode", "fix"), [
    ("", 0o777, "chmod 700"), ("", 0o770, "chmod 700"), ("softhsm2.conf", 0o666, "chmod 600"),
    ("tokens", 0o777, "chmod 700"), ("pin", 0o620, "chmod 600"),
])
def test_a_data_directory_others_can_change_is_refused(
    tmp_path: Path, target: str, mode: int, fix: str
) -> None:
    """Another local user must not be able to replace the embedded token's
    configuration (or token, or PIN): refused as ssh refuses a key file, with
    the command that fixes it, and never with advice to delete anything."""
    home = tmp_path / "shared-home"
    assert "label" in _run(home)
    path = home / target if target else home
    path.chmod(mode)
    result = _run(home)
    assert result["error"] == winerror.NTE_PERM
    assert f"{fix} {path}" in result["strerror"]
    assert "delete" not in result["strerror"]
    path.chmod(0o700 if path.is_dir() else 0o600)
    assert "label" in _run(home)


def test_missing_softhsm2_names_the_package(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import csp11.token.embedded as e
        e.SOFTHSM2_MODULE_CANDIDATES = ("/nonexistent/libsofthsm2.so",)
        """
    ) + ACQUIRE
    result = run_python(code, env={"CSP11_HOME": str(tmp_path / "h")})
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["error"] == winerror.NTE_PROV_DLL_NOT_FOUND
    assert "apt-get install softhsm2" in out["strerror"]


@pytest.mark.parametrize("bad", ["/nonexistent/lib.so"])
def test_softhsm2_module_override(tmp_path: Path, bad: str) -> None:
    out = _run(tmp_path / "h", CSP11_SOFTHSM2_MODULE=bad)
    assert out["error"] == winerror.NTE_PROV_DLL_NOT_FOUND
    assert bad in out["strerror"]
