"""The ``csp11`` command, run as a user runs it (``python -m csp11`` in a new
process): info, keys, encrypt/decrypt with pipes and FIFOs, one message and one
exit status per kind of failure, options anywhere, closed pipes, wrong PINs."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csp11 import cli, win32crypt
from csp11 import win32cryptcon as con
from csp11.cli import _ProgressBar
from csp11.pywintypes import error

from .conftest import REPO, run_python

MIB = 1 << 20
NOT_AUTHENTIC = (
    "does not authenticate: it was changed or damaged, is not a file csp11 encrypted, or was "
    "encrypted for a key that is not on this token; nothing was written\n"
)


def _cli(*args: str, home: Path | None = None, **env: str) -> tuple[int, str, str]:
    extra = dict(env)
    if home is not None:
        extra["CSP11_HOME"] = str(home)
    code = f"import sys; sys.argv = ['csp11', *{list(args)!r}]; import runpy; " \
        "runpy.run_module('csp11', run_name='__main__')"
    result = run_python(code, env=extra)
    return result.returncode, result.stdout, result.stderr


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def _run(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m csp11 ARGS`` with binary stdin/stdout."""
    return subprocess.run(
        [sys.executable, "-m", "csp11", *args], input=stdin if stdin is not None else b"",
        capture_output=True, env=_env(**env), timeout=120, check=False,
    )


def _one_line(err: str | bytes) -> str:
    text = err.decode() if isinstance(err, bytes) else err
    assert text.endswith("\n") and text.count("\n") == 1, text
    assert "Traceback" not in text and "CKR_" not in text, text
    return text


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    """A container made with ``csp11 keys create``, deleted with ``keys delete``."""
    name = f"cli-{uuid.uuid4().hex[:10]}"
    rc, _out, err = _cli("keys", "create", name, "--bits", "1024")
    assert rc == 0, err
    yield name
    rc, _, err = _cli("keys", "delete", name, "--yes")
    assert rc == 0, err


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, container: str) -> tuple[Path, bytes]:
    """A small file encrypted for ``container`` by the command."""
    work = tmp_path_factory.mktemp("sealed")
    data = os.urandom(100)
    (work / "plain").write_bytes(data)
    rc, _, err = _cli("encrypt", str(work / "plain"), "--container", container)
    assert rc == 0, err
    return work / "plain.csp11", data


# ---- info --------------------------------------------------------------------------
def test_info_says_each_thing_once_in_units_people_read(tmp_path: Path) -> None:
    rc, out, err = _cli("info", home=tmp_path / "h")
    assert rc == 0, err
    assert "Token:     'csp11', SoftHSM v2 by SoftHSM project, serial " in out
    assert "Chosen as: embedded token in" in out
    assert "Implementation of PKCS11 by SoftHSM, version 2." in out
    assert "Provider:  Microsoft Enhanced RSA and AES Cryptographic Provider (PROV_RSA_AES)" in out
    assert "C_GenerateRandom works (sample " in out
    assert "0x6610 AES-256" in out
    assert "RSA Key Exchange (512-16384 bits, default 1024)" in out
    assert "Hugo's MAC (HMAC) (size set by its key)" in out and "(0 bits)" not in out
    assert "  AES_KEY_GEN  128-256 bits" in out  # C_GetMechanismInfo counts bytes for AES
    assert "  RSA_PKCS_KEY_PAIR_GEN  512-16384 bits" in out
    assert "  GENERIC_SECRET_KEY_GEN  from 8 bits" in out


def test_info_json(tmp_path: Path) -> None:
    rc, out, err = _cli("info", "--json", home=tmp_path / "h")
    assert rc == 0, err
    data = json.loads(out)
    assert data["token"]["label"] == "csp11"
    assert data["provider_type"] == 24
    assert data["implementation"] == ["software"]
    assert {"AES-256", "RSA_KEYX", "SHA-256"} <= {a["name"] for a in data["algorithms"]}
    names = {m["name"]: m for m in data["mechanisms"]}
    assert {"AES_KEY_GEN", "RSA_PKCS_KEY_PAIR_GEN", "SHA256"} <= set(names)
    # Named by python-pkcs11's table, also where csp11's own enumeration has
    # no member (SoftHSM2 lists these; csp11 uses none of them).
    assert {"SHA224_RSA_PKCS", "AES_CTR", "RSA_X_509"} <= set(names)
    assert not [name for name in names if name.startswith("0x")]
    # Unchanged in meaning: the token's own numbers, with their unit alongside.
    assert (names["AES_KEY_GEN"]["min_key_size"], names["AES_KEY_GEN"]["key_size_unit"]) == (
        16, "bytes")
    assert names["RSA_PKCS_KEY_PAIR_GEN"]["key_size_unit"] == "bits"
    assert data["module"]["version"].count(".") == 1


def test_info_with_a_token_uri(token_uri: str, csp11_home: Path) -> None:
    # A URI without csp11's embedded configuration: SoftHSM2 reads SOFTHSM2_CONF.
    conf = str(csp11_home / "softhsm2.conf")
    rc, out, err = _cli("info", "--json", "--token", token_uri, SOFTHSM2_CONF=conf)
    assert rc == 0, err
    assert json.loads(out)["source"].startswith("pkcs11:token=csp11")


def test_a_token_uri_matching_nothing_lists_the_tokens(token_uri: str, csp11_home: Path) -> None:
    conf = str(csp11_home / "softhsm2.conf")
    rc, out, err = _cli(
        "info", "--token", token_uri.replace("csp11?", "absent?"), SOFTHSM2_CONF=conf
    )
    assert (rc, out) == (cli.EXIT_TOKEN, "")
    # Other tests may have added tokens to this session's SoftHSM2 directory
    # (test_tokens does): the message lists them all, 'csp11' among them.
    line = _one_line(err)
    prefix = "csp11: no token matches the token URI (tokens there: "
    suffix = "): check --token or CSP11_TOKEN\n"
    assert line.startswith(prefix) and line.endswith(suffix), line
    listed = line[len(prefix):-len(suffix)].split(", ")
    assert "'csp11'" in listed and not any("absent" in name for name in listed), listed


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert _cli("info", home=home)[0] == 0  # the token exists: the pipe is the only story
    done = subprocess.run(
        f"{shlex.quote(sys.executable)} -m csp11 info | head -1; echo \"${{PIPESTATUS[0]}}\"",
        shell=True, executable="/bin/bash", capture_output=True, text=True,
        env=_env(CSP11_HOME=str(home)), timeout=120, check=False,
    )
    first, status = done.stdout.splitlines()
    assert first.startswith("csp11 ")
    assert done.stderr == ""
    assert int(status) in (0, cli.EXIT_CLOSED_PIPE)


def test_help_for_every_command() -> None:
    for args in (("--help",), ("info", "--help"), ("encrypt", "--help"), ("decrypt", "--help"),
                 ("demo", "--help"), ("keys", "--help"), ("keys", "list", "--help"),
                 ("keys", "create", "--help"), ("keys", "delete", "--help"),
                 ("keys", "export", "--help")):
        rc, out, _ = _cli(*args)
        assert rc == 0
        assert "usage: csp11" in out
        if args[0] == "--help":
            assert "encrypt" in out and "decrypt" in out and "demo" in out and "keys" in out
            for code in (2, 3, 4, 5, 6):  # the exit statuses, documented
                assert f"\n    {code}  " in out, out
        if args[0] in ("encrypt", "decrypt"):
            assert "--container NAME" in out and "-o OUT" in out and "--json" in out


def test_demo_runs_the_whole_flow(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rc, out, err = _cli("demo", "--json", home=home)
    assert rc == 0, err
    data = json.loads(out)
    assert data["identical"] is True and data["key_created"] is True
    assert data["bytes"] == 4 * 1024 * 1024 + 7
    # Header (with the SIMPLEBLOB of a 2048-bit key) + padded body + signature.
    assert data["encrypted_bytes"] == data["header_bytes"] + (data["bytes"] // 16 + 1) * 16 + 256
    sample = tmp_path / "notes.txt"
    sample.write_bytes(b"meeting at noon\n")
    rc, out, err = _cli("demo", str(sample), home=home)  # the container exists now
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "key container 'csp11-files': RSA 2048-bit exchange key (already on " \
        "the token)"
    assert "16 bytes ->" in lines[1] and "(header " in lines[1] and "signature 256)" in lines[1]
    assert "identical to the original" in lines[2]
    assert not list(tmp_path.glob("notes.txt.*"))  # nothing left beside the input


def test_no_command_prints_help() -> None:
    rc, out, _ = _cli()
    assert rc == 2
    assert "COMMAND" in out and "encrypt" in out
    rc, out, _ = _cli("keys")
    assert rc == 2 and "ACTION" in out


def test_progress_bar_draws_at_most_ten_times_a_second() -> None:
    stream = io.StringIO()
    bar = _ProgressBar("encrypting f", stream)
    for done in range(0, 101 * MIB, MIB):
        bar(done, 100 * MIB)
    bar.close()
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert 2 <= len(frames) <= 5  # the first, the last, and the time between
    assert frames[0].startswith("encrypting f [........................]   0% 0.0/100.0 MiB")
    assert frames[-1].startswith("encrypting f [########################] 100% 100.0/100.0 MiB")
    # The full bar ends its own line (a PIN prompt may follow before close), once.
    assert text.endswith("\x1b[K\n") and text.count("\n") == 1
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


# ---- keys --------------------------------------------------------------------------
def test_keys_create_list_export_delete(tmp_path: Path) -> None:
    name = f"keys-{uuid.uuid4().hex[:10]}"
    rc, out, err = _cli("keys", "create", name, "--bits", "1024", "--exportable", "--json")
    assert rc == 0, err
    made = json.loads(out)["key"]
    assert (made["algorithm"], made["bits"], made["exportable"], made["user_protected"]) == (
        "RSA", 1024, True, False)
    try:
        rc, out, err = _cli("keys", "list", "--json")
        assert rc == 0, err
        boxes = {c["name"]: c["keys"] for c in json.loads(out)["containers"]}
        assert boxes[name] == [made]
        rc, out, err = _cli("keys", "list")
        assert rc == 0, err
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert "exchange" in line and "RSA 1024 bits" in line and "exportable" in line
        # The same key again: refused, and the key is kept.
        rc, out, err = _cli("keys", "create", name)
        assert rc == cli.EXIT_FAILED
        assert "already has an exchange key" in _one_line(err)
        # Export: PEM (cryptography reads it) and the PUBLICKEYBLOB.
        pem = _run("keys", "export", name)
        assert pem.returncode == 0, pem.stderr
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        assert load_pem_public_key(pem.stdout).key_size == 1024  # type: ignore[union-attr]
        blob = _run("keys", "export", name, "--blob")
        assert blob.returncode == 0 and blob.stdout[0] == con.PUBLICKEYBLOB
        # Delete: refused without a terminal and without --yes.
        rc, out, err = _cli("keys", "delete", name)
        assert rc == cli.EXIT_USAGE
        assert "add --yes" in _one_line(err)
    finally:
        rc, out, err = _cli("keys", "delete", name, "--yes")
    assert rc == 0, err
    assert out == f"deleted key container {name!r}\n"
    for args in (("keys", "delete", name, "--yes"), ("keys", "export", name)):
        rc, out, err = _cli(*args)
        assert rc == cli.EXIT_NOT_FOUND
        assert f"no key container {name!r}" in _one_line(err)


def test_keys_delete_asks_on_a_terminal(tmp_path: Path) -> None:
    import pty

    name = f"ask-{uuid.uuid4().hex[:10]}"
    assert _cli("keys", "create", name, "--bits", "1024")[0] == 0
    for answer, status in ((b"n\n", cli.EXIT_FAILED), (b"y\n", 0)):
        controller, terminal = pty.openpty()
        child = subprocess.Popen(
            [sys.executable, "-m", "csp11", "keys", "delete", name], stdin=terminal,
            stdout=subprocess.PIPE, stderr=terminal, env=_env(),
        )
        os.close(terminal)
        shown = b""
        while b"[y/N]" not in shown:
            shown += os.read(controller, 1024)
        os.write(controller, answer)
        child.wait(timeout=60)
        os.close(controller)
        assert child.returncode == status
    with pytest.raises(error):
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, 0)


def test_keys_list_shows_user_protected_keys() -> None:
    name = f"prot-{uuid.uuid4().hex[:10]}"
    rc, out, err = _cli("keys", "create", name, "--bits", "1024", "--user-protected", "--json")
    try:
        assert rc == 0, err
        assert json.loads(out)["key"]["user_protected"] is True
        rc, out, err = _cli("keys", "list")
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert "user-protected" in line and "not exportable" in line
    finally:
        _cli("keys", "delete", name, "--yes")


# ---- containers: only the default is made; the header records the container -----------
def test_encrypt_for_a_missing_container_names_keys_create(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    name = f"typo-{uuid.uuid4().hex[:8]}"
    rc, out, err = _cli("encrypt", str(tmp_path / "f"), "--container", name)
    assert (rc, out) == (cli.EXIT_NOT_FOUND, "")
    assert f"make one with `csp11 keys create {name}`" in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    rc, out, _ = _cli("keys", "list", "--json")
    assert name not in {c["name"] for c in json.loads(out)["containers"]}


def test_decrypt_finds_the_container_in_the_header(tmp_path: Path, container: str,
                                                   sealed: tuple[Path, bytes]) -> None:
    path, data = sealed
    done = _run("decrypt", str(path), "-o", "-")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == (data, b"")
    # --container overrides the header: another container's key does not fit.
    other = f"other-{uuid.uuid4().hex[:8]}"
    assert _cli("keys", "create", other, "--bits", "1024")[0] == 0
    try:
        done = _run("decrypt", str(path), "-o", str(tmp_path / "out"), "--container", other)
        assert done.returncode == cli.EXIT_NOT_AUTHENTIC
        assert _one_line(done.stderr) == f"csp11: {path} {NOT_AUTHENTIC}"
        done = _run("decrypt", str(path), "-o", str(tmp_path / "out"), "--container", "absent-1")
        assert done.returncode == cli.EXIT_NOT_FOUND
        assert "no key container 'absent-1'" in _one_line(done.stderr)
    finally:
        _cli("keys", "delete", other, "--yes")
    assert not (tmp_path / "out").exists()


# ---- pipes, FIFOs, devices ---------------------------------------------------------------
def test_stdin_to_stdout_both_ways(tmp_path: Path, container: str) -> None:
    data = os.urandom(3 * MIB + 5)
    sealed = _run("encrypt", "-", "--container", container, stdin=data)
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stderr == b"" and sealed.stdout[:8] == b"CSP11ENC"
    opened = _run("decrypt", "-", stdin=sealed.stdout)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == data and opened.stderr == b""
    # -o - is standard output, with a file as input too; never a file named "-".
    (tmp_path / "in").write_bytes(data)
    sealed = _run("encrypt", str(tmp_path / "in"), "-o", "-", "--container", container)
    assert sealed.returncode == 0 and sealed.stdout[:8] == b"CSP11ENC"
    (tmp_path / "in.csp11").write_bytes(sealed.stdout)
    opened = subprocess.run(
        [sys.executable, "-m", "csp11", "decrypt", "in.csp11", "-o", "-"], cwd=tmp_path,
        capture_output=True, env=_env(), timeout=120, check=False,
    )
    assert opened.returncode == 0 and opened.stdout == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "in.csp11"]
    # With --json the report goes to stderr: stdout carries only the data.
    opened = _run("decrypt", "-", "--json", stdin=sealed.stdout)
    assert opened.stdout == data and json.loads(opened.stderr)["output"] == "standard output"


def test_changed_stdin_writes_nothing_to_stdout(container: str) -> None:
    data = os.urandom(2 * MIB)
    sealed = bytearray(_run("encrypt", "-", "--container", container, stdin=data).stdout)
    sealed[-300] ^= 1  # in the last piece: pass 1 reads all of it first
    opened = _run("decrypt", "-", stdin=bytes(sealed))
    assert opened.returncode == cli.EXIT_NOT_AUTHENTIC
    assert opened.stdout == b""
    assert _one_line(opened.stderr) == f"csp11: standard input {NOT_AUTHENTIC}"


def test_a_fifo_output_is_written_in_place(tmp_path: Path, sealed: tuple[Path, bytes]) -> None:
    path, data = sealed
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = _run("decrypt", str(path), "-o", str(fifo))  # no --force needed: not a file
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert got == [data]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]


def test_decrypt_to_a_terminal_draws_no_bar_through_the_data(
    sealed: tuple[Path, bytes],
) -> None:
    import pty
    import tty

    path, data = sealed
    controller, terminal = pty.openpty()
    tty.setraw(terminal)  # bytes as written: what the data and a bar would show
    child = subprocess.Popen(
        [sys.executable, "-m", "csp11", "decrypt", str(path), "-o", "-"],
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=_env(),
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert child.wait(timeout=60) == 0
    os.close(controller)
    assert shown == data


def test_a_fifo_input_both_ways(tmp_path: Path, container: str) -> None:
    # A FIFO can be read once: decrypt must still authenticate everything
    # before it writes a byte, as it does for standard input.
    data = os.urandom(2 * MIB + 3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed(payload: bytes) -> threading.Thread:
        writer = threading.Thread(target=lambda: fifo.write_bytes(payload))
        writer.start()
        return writer

    writer = feed(data)
    done = _run("encrypt", str(fifo), "-o", str(tmp_path / "sealed"), "--container", container)
    writer.join(timeout=60)
    assert done.returncode == 0, done.stderr
    sealed = (tmp_path / "sealed").read_bytes()
    writer = feed(sealed)
    done = _run("decrypt", str(fifo), "-o", "-")
    writer.join(timeout=60)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == data
    changed = bytearray(sealed)
    changed[len(changed) // 2] ^= 0x04
    writer = feed(bytes(changed))
    done = _run("decrypt", str(fifo), "-o", "-")
    writer.join(timeout=60)
    assert (done.returncode, done.stdout) == (cli.EXIT_NOT_AUTHENTIC, b"")
    assert _one_line(done.stderr) == f"csp11: {fifo} {NOT_AUTHENTIC}"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "sealed"]


def test_dev_null_stays_a_device(tmp_path: Path, sealed: tuple[Path, bytes]) -> None:
    path, _ = sealed
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    for target in (os.devnull, str(link)):
        done = _run("decrypt", str(path), "-o", target, "-f")
        assert done.returncode == 0, done.stderr
        assert stat.S_ISCHR(os.stat(target).st_mode)
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_force_keeps_its_meaning_for_regular_files(tmp_path: Path,
                                                   sealed: tuple[Path, bytes]) -> None:
    path, data = sealed
    (tmp_path / "out").write_bytes(b"mine")
    done = _run("decrypt", str(path), "-o", str(tmp_path / "out"))
    assert done.returncode == cli.EXIT_FAILED
    assert _one_line(done.stderr) == f"csp11: {tmp_path / 'out'} exists: use --force to " \
        "replace it\n"
    assert (tmp_path / "out").read_bytes() == b"mine"
    done = _run("decrypt", str(path), "-o", str(tmp_path / "out"), "--force")
    assert done.returncode == 0
    assert (tmp_path / "out").read_bytes() == data
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_closed_pipe_on_decrypt_ends_quietly(tmp_path: Path, container: str) -> None:
    (tmp_path / "big").write_bytes(os.urandom(8 * MIB))
    assert _cli("encrypt", str(tmp_path / "big"), "--container", container)[0] == 0
    done = subprocess.run(
        f"{shlex.quote(sys.executable)} -m csp11 decrypt {tmp_path / 'big.csp11'} -o - "
        "| head -c1 | wc -c; echo \"${PIPESTATUS[0]}\"",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=_env(),
        timeout=120, check=False,
    )
    count, status = done.stdout.split()
    assert count == "1"
    assert done.stderr == ""
    assert int(status) == cli.EXIT_CLOSED_PIPE


# ---- one failure, one message ---------------------------------------------------------------
def test_usage_and_not_found_have_their_own_status(tmp_path: Path) -> None:
    rc, out, err = _cli("encrypt", str(tmp_path / "f"), "--no-such-option")
    assert (rc, out) == (cli.EXIT_USAGE, "")
    assert err.splitlines()[-1] == "csp11: error: unrecognized arguments: --no-such-option"
    for command, name in (("encrypt", "absent"), ("decrypt", "absent.csp11")):
        rc, out, err = _cli(command, str(tmp_path / name))
        assert (rc, out) == (cli.EXIT_NOT_FOUND, "")
        assert _one_line(err) == f"csp11: {tmp_path / name}: no such file or directory\n"
    assert list(tmp_path.iterdir()) == []


_EVERY_BYTE = """
import contextlib, io, json, os, sys
from csp11 import cli
path, out = sys.argv[1], sys.argv[2]
original = open(path, "rb").read()
seen = {}
def run(data, what):
    with open(path + ".x", "wb") as f:
        f.write(data)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["decrypt", path + ".x", "-o", out])
    seen.setdefault(f"{rc} {err.getvalue()}", []).append(what)
    if os.path.exists(out):
        seen.setdefault("OUTPUT WRITTEN", []).append(what)
for i in range(len(original)):
    for bit in (0x01,):
        changed = bytearray(original)
        changed[i] ^= bit
        run(bytes(changed), f"byte {i} ^ {bit:#x}")
for size in range(len(original)):
    run(original[:size], f"truncated to {size}")
run(original + b"\\0", "one byte more")
print(json.dumps({key: len(value) for key, value in seen.items()}))
"""


def test_every_changed_byte_and_truncation_gives_one_message(
    tmp_path: Path, sealed: tuple[Path, bytes]
) -> None:
    path, _ = sealed
    copy = tmp_path / "sealed.csp11"
    copy.write_bytes(path.read_bytes())
    size = copy.stat().st_size
    result = subprocess.run(
        [sys.executable, "-c", _EVERY_BYTE, str(copy), str(tmp_path / "out")],
        capture_output=True, text=True, env=_env(), timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    expected = f"{cli.EXIT_NOT_AUTHENTIC} csp11: {copy}.x {NOT_AUTHENTIC}"
    assert seen == {expected: size + size + 1}, seen


@pytest.mark.parametrize("where", ["magic", "version", "key id", "container", "blob", "body",
                                   "signature", "truncated"])
def test_a_changed_file_one_line_exit_4(tmp_path: Path, sealed: tuple[Path, bytes],
                                        where: str) -> None:
    path, _ = sealed
    data = bytearray(path.read_bytes())
    name_size = int.from_bytes(data[78:80], "little")
    offset = {"magic": 3, "version": 8, "key id": 50, "container": 81,
              "blob": 80 + name_size + 40, "body": 80 + name_size + 140 + 20,
              "signature": len(data) - 5, "truncated": 0}[where]
    if where == "truncated":
        del data[-40:]
    else:
        data[offset] ^= 0x20
    (tmp_path / "f.csp11").write_bytes(bytes(data))
    done = _run("decrypt", str(tmp_path / "f.csp11"))
    assert (done.returncode, done.stdout) == (cli.EXIT_NOT_AUTHENTIC, b"")
    assert _one_line(done.stderr) == f"csp11: {tmp_path / 'f.csp11'} {NOT_AUTHENTIC}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csp11"]


def test_verbose_anywhere_adds_the_detail(tmp_path: Path, sealed: tuple[Path, bytes]) -> None:
    path, _ = sealed
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    (tmp_path / "f.csp11").write_bytes(bytes(data))
    quiet = _run("decrypt", str(tmp_path / "f.csp11"))
    assert quiet.returncode == cli.EXIT_NOT_AUTHENTIC
    for args in (("--verbose", "decrypt", str(tmp_path / "f.csp11")),
                 ("decrypt", str(tmp_path / "f.csp11"), "--verbose"),
                 ("decrypt", "-v", str(tmp_path / "f.csp11"))):
        loud = _run(*args)
        assert loud.returncode == cli.EXIT_NOT_AUTHENTIC
        err = loud.stderr.decode()
        assert "Traceback" in err and "NTE_BAD_SIGNATURE" in err and "csp11: INFO:" in err
        assert err.endswith(quiet.stderr.decode())  # the same last line
    for args in (("-v", "keys", "list"), ("keys", "-v", "list"), ("keys", "list", "-v")):
        rc, _, err = _cli(*args)
        assert rc == 0, err
        assert "csp11: INFO: logged in to token 'csp11'" in err, err
    for info in (("info", "--verbose"), ("--verbose", "info")):
        rc, _, err = _cli(*info)
        assert (rc, err) == (0, ""), err


def test_token_option_after_the_subcommand(token_uri: str, csp11_home: Path) -> None:
    conf = str(csp11_home / "softhsm2.conf")
    bad = token_uri.replace("csp11?", "absent?")
    for args in (("--token", bad, "keys", "list"), ("keys", "--token", bad, "list"),
                 ("keys", "list", "--token", bad)):
        rc, _, err = _cli(*args, SOFTHSM2_CONF=conf)
        assert rc == cli.EXIT_TOKEN, err
        assert "tokens there: 'csp11'" in _one_line(err)


# ---- PINs -------------------------------------------------------------------------------
def test_a_wrong_pin_is_reported_once_with_the_tries_left(tmp_path: Path,
                                                          softhsm2_module: str) -> None:
    home = tmp_path / "h"  # a token of its own: its PIN counter is this test's
    assert _cli("info", home=home)[0] == 0
    env = {"SOFTHSM2_CONF": str(home / "softhsm2.conf"),
           "CSP11_TOKEN": f"pkcs11:token=csp11?module-path={softhsm2_module}",
           "CSP11_PIN": "wrong-pin-1234"}
    rc, out, err = _cli("keys", "list", home=home, **env)
    assert (rc, out) == (cli.EXIT_PIN, "")
    assert _one_line(err) == (
        "csp11: wrong PIN for token 'csp11'; the token reports few tries left: check "
        "CSP11_PIN, the token URI's pin-value or pin-source, or the PIN file of the embedded "
        "token\n"
    )
    (tmp_path / "f").write_bytes(b"x")
    rc, _, err = _cli("encrypt", str(tmp_path / "f"), home=home, **env)
    assert rc == cli.EXIT_PIN and "wrong PIN" in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "h"]
    # The right PIN works again.
    env["CSP11_PIN"] = (home / "pin").read_text().strip()
    assert _cli("keys", "list", home=home, **env)[0] == 0


def _on_a_terminal(args: list[str], answer: str, home: Path) -> tuple[int, str]:
    """Run the command on a pseudo-terminal, type ``answer`` at the PIN prompt."""
    import pty

    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "csp11", *args], stdin=terminal, stdout=terminal,
        stderr=terminal, env=_env(CSP11_HOME=str(home)),
    )
    os.close(terminal)
    shown, typed = b"", False
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        if not typed and b"PIN for token" in shown:
            os.write(controller, answer.encode() + b"\n")
            typed = True
    status = child.wait(timeout=60)
    os.close(controller)
    assert typed, shown
    return status, shown.decode().replace("\r\n", "\n")


def test_a_wrong_pin_typed_at_the_prompt_says_so(tmp_path: Path) -> None:
    home = tmp_path / "h"  # a token of its own: its PIN counter is this test's
    rc, _, err = _cli("keys", "create", "vault", "--user-protected", "--bits", "1024", home=home)
    assert rc == 0, err
    (tmp_path / "f").write_bytes(b"x")
    args = ["encrypt", str(tmp_path / "f"), "--container", "vault"]
    status, shown = _on_a_terminal(args, "not-the-pin", home)
    assert status == cli.EXIT_PIN
    assert "key-use PIN for token 'csp11' (container 'vault'): " in shown
    # The bar has ended its line before the prompt; the failure is one line.
    assert "\x1b[K\nkey-use PIN" in shown
    assert shown.endswith(
        "\ncsp11: wrong PIN for token 'csp11'; the token reports few tries left: the PIN typed "
        "at the prompt was not accepted\n"), shown
    assert shown.count("wrong PIN") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "h"]
    status, shown = _on_a_terminal(args, (home / "pin").read_text().strip(), home)
    assert status == 0, shown
    assert (tmp_path / "f.csp11").exists()


def test_pin_messages_for_final_try_and_locked(monkeypatch: pytest.MonkeyPatch) -> None:
    from csp11 import winerror

    wrong = error(winerror.SCARD_W_WRONG_CHV, "CryptGetUserKey", "wrong PIN (CKR_PIN_INCORRECT)")
    monkeypatch.setattr(cli, "_pin_flags", lambda token: ("hsm", 0x20000))
    assert "final try: one more wrong PIN locks the token" in cli._pin_message(wrong, None)
    monkeypatch.setattr(cli, "_pin_flags", lambda token: ("hsm", 0x40000))
    assert cli._pin_message(wrong, None).startswith("the PIN for token 'hsm' is locked")
    monkeypatch.setattr(cli, "_pin_flags", lambda token: None)
    assert cli._pin_message(wrong, None).startswith("wrong PIN: check CSP11_PIN")


def test_a_module_that_does_not_start_is_token_unavailable(tmp_path: Path,
                                                           softhsm2_module: str) -> None:
    (tmp_path / "softhsm2.conf").write_text(f"directories.tokendir = {tmp_path / 'none'}\n")
    rc, out, err = _cli("keys", "list", "--token", f"pkcs11:token=x?module-path={softhsm2_module}",
                        SOFTHSM2_CONF=str(tmp_path / "softhsm2.conf"))
    assert (rc, out) == (cli.EXIT_TOKEN, "")
    assert "module did not start" in _one_line(err)
