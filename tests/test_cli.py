"""The ``csp11`` command."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from csp11.cli import _ProgressBar

from .conftest import run_python


def _cli(*args: str, home: Path | None = None, **env: str) -> tuple[int, str, str]:
    extra = dict(env)
    if home is not None:
        extra["CSP11_HOME"] = str(home)
    code = f"import sys; sys.argv = ['csp11', *{list(args)!r}]; import runpy; " \
        "runpy.run_module('csp11', run_name='__main__')"
    result = run_python(code, env=extra)
    return result.returncode, result.stdout, result.stderr


def test_info_shows_the_embedded_token(tmp_path: Path) -> None:
    rc, out, err = _cli("info", home=tmp_path / "h")
    assert rc == 0, err
    assert "Token:     'csp11'" in out
    assert "embedded token in" in out
    assert "AES_KEY_GEN" in out
    assert "C_GenerateRandom works" in out
    assert "0x6610 AES-256" in out
    assert "RSA Key Exchange (512-16384 bits, default 1024)" in out


def test_info_json(tmp_path: Path) -> None:
    rc, out, err = _cli("info", "--json", home=tmp_path / "h")
    assert rc == 0, err
    data = json.loads(out)
    assert data["token"]["label"] == "csp11"
    assert data["provider_type"] == 24
    assert data["implementation"] == ["software"]
    assert {"AES-256", "RSA_KEYX", "SHA-256"} <= {a["name"] for a in data["algorithms"]}
    names = {m["name"] for m in data["mechanisms"]}
    assert {"AES_KEY_GEN", "RSA_PKCS_KEY_PAIR_GEN", "SHA256"} <= names


def test_info_with_a_token_uri(token_uri: str, csp11_home: Path) -> None:
    # A URI without csp11's embedded configuration: SoftHSM2 reads SOFTHSM2_CONF.
    conf = str(csp11_home / "softhsm2.conf")
    rc, out, err = _cli("info", "--json", "--token", token_uri, SOFTHSM2_CONF=conf)
    assert rc == 0, err
    assert json.loads(out)["source"].startswith("pkcs11:token=csp11")


def test_error_is_one_line_and_exit_1(token_uri: str, csp11_home: Path) -> None:
    conf = str(csp11_home / "softhsm2.conf")
    rc, out, err = _cli(
        "info", "--token", token_uri.replace("csp11?", "absent?"), SOFTHSM2_CONF=conf
    )
    assert rc == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("csp11: CryptAcquireContext failed: SCARD_E_NO_SMARTCARD "
                               "(The operation requires a smart card, but no smart card is "
                               "currently in the device): ")
    assert "Traceback" not in err


def test_help_for_every_command() -> None:
    for args in (("--help",), ("info", "--help"), ("encrypt", "--help"), ("decrypt", "--help"),
                 ("demo", "--help")):
        rc, out, _ = _cli(*args)
        assert rc == 0
        assert "usage: csp11" in out
        if args[0] == "--help":
            assert "encrypt" in out and "decrypt" in out and "demo" in out
        if args[0] in ("encrypt", "decrypt"):
            assert "--container NAME" in out and "-o OUT" in out and "--json" in out


def test_demo_runs_the_whole_flow(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rc, out, err = _cli("demo", "--json", home=home)
    assert rc == 0, err
    data = json.loads(out)
    assert data["identical"] is True
    assert data["bytes"] == 4 * 1024 * 1024 + 7
    # Header (with the SIMPLEBLOB of a 2048-bit key) + padded body + signature.
    assert data["encrypted_bytes"] == data["header_bytes"] + (data["bytes"] // 16 + 1) * 16 + 256
    sample = tmp_path / "notes.txt"
    sample.write_bytes(b"meeting at noon\n")
    rc, out, err = _cli("demo", str(sample), home=home)  # the container exists now
    assert rc == 0, err
    assert "identical" in out and "16 bytes" in out
    assert not list(tmp_path.glob("notes.txt.*"))  # nothing left beside the input


def test_no_command_prints_help() -> None:
    rc, out, _ = _cli()
    assert rc == 2
    assert "COMMAND" in out and "encrypt" in out


def test_progress_bar_draws_at_most_ten_times_a_second() -> None:
    stream = io.StringIO()
    bar = _ProgressBar("encrypting f", stream)
    mib = 1 << 20
    for done in range(0, 101 * mib, mib):
        bar(done, 100 * mib)
    bar.close()
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert 2 <= len(frames) <= 5  # the first, the last, and the time between
    assert frames[0].startswith("encrypting f [........................]   0% 0.0/100.0 MiB")
    assert frames[-1].startswith("encrypting f [########################] 100% 100.0/100.0 MiB")
    assert text.endswith("\n")
    # Nothing drawn, nothing to end; an empty file is done at once.
    quiet = io.StringIO()
    _ProgressBar("x", quiet).close()
    assert quiet.getvalue() == ""
    empty = _ProgressBar("x", quiet)
    empty(0, 0)
    assert "100%" in quiet.getvalue()


@pytest.mark.skipif(sys.platform != "linux", reason="console script installed on Linux CI")
def test_python_m_and_console_script_agree(tmp_path: Path) -> None:
    rc, out, _ = _cli("--version")
    assert rc == 0
    assert out.startswith("csp11 ")
