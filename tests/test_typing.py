"""The public surface's types, as a user's type checker sees them.

- Each ``typing.overload`` of ``CryptGetProvParam``/``CryptGetKeyParam``/
  ``CryptGetHashParam`` that fixes a return type by parameter is checked
  against what csp11 returns at run time, parameter by parameter.
- Compatibility with pywin32's published stubs (types-pywin32): a call that
  type-checks against the stubs' ``PyCRYPTPROV``/``PyCRYPTKEY``/``PyCRYPTHASH``
  and ``CryptAcquireContext`` is generated for every method they declare and
  type-checked with ``mypy --strict`` against csp11.  Where the stubs say
  something pywin32 does not do (``str`` where pywin32 takes and returns
  ``bytes``), :data:`STUB_ERRATA` says so, and the generated call uses what
  pywin32 does.
- The public modules' docstrings cite only what users have.
"""

from __future__ import annotations

import ast
import datetime
import inspect
import re
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import csp11
from csp11 import pywintypes, win32crypt, win32cryptcon, winerror
from csp11 import win32cryptcon as con
from csp11.win32crypt import PROV_ENUMALGS, PROV_ENUMALGS_EX, PyCRYPTPROV

from .conftest import REPO
from .helpers import public_key_of, verify_context

SOURCE = REPO / "csp11" / "win32crypt.py"
RETURN_TYPES: dict[str, type] = {
    "str": str, "int": int, "bytes": bytes,
    "PROV_ENUMALGS": PROV_ENUMALGS, "PROV_ENUMALGS_EX": PROV_ENUMALGS_EX,
}


def _literal_aliases(tree: ast.Module) -> dict[str, list[int]]:
    """``_NAME = Literal[1, 2, ...]`` at module level, as name → values."""
    aliases: dict[str, list[int]] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript)
                and ast.unparse(node.value.value) == "Literal"):
            target = node.targets[0]
            assert isinstance(target, ast.Name)
            values = ast.literal_eval(ast.unparse(node.value.slice))
            aliases[target.id] = list(values) if isinstance(values, tuple) else [values]
    return aliases


def overloads(cls: str, method: str) -> list[tuple[list[int] | None, str]]:
    """The overloads of ``cls.method`` in the source: (Param's literal values or
    None for a plain ``int``, the return type as written), in order."""
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    aliases = _literal_aliases(tree)
    (klass,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    found: list[tuple[list[int] | None, str]] = []
    for node in klass.body:
        if (isinstance(node, ast.FunctionDef) and node.name == method
                and any(ast.unparse(d) == "overload" for d in node.decorator_list)):
            param = node.args.args[1]
            assert param.arg == "Param" and param.annotation is not None
            annotation = ast.unparse(param.annotation)
            values = None if annotation == "int" else aliases[annotation]
            assert node.returns is not None
            found.append((values, ast.unparse(node.returns)))
    return found


def _certificate_for(public: Any) -> bytes:
    """A certificate for a token key pair's public key (signed by another key)."""
    signer = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csp11 typing test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(public).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def container() -> Iterator[PyCRYPTPROV]:
    """A context on a new named container (deleted afterwards)."""
    name = f"typing-{uuid.uuid4().hex[:8]}"
    ctx = win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_NEWKEYSET)
    assert ctx is not None
    try:
        yield ctx
    finally:
        ctx.CryptReleaseContext()
        win32crypt.CryptAcquireContext(name, None, con.PROV_RSA_AES, con.CRYPT_DELETEKEYSET)


def _fixed(cls: str, method: str) -> list[tuple[int, type]]:
    """(parameter, declared type) for every parameter an overload fixes."""
    pairs = []
    for values, returns in overloads(cls, method):
        if values is not None:
            pairs += [(value, RETURN_TYPES[returns]) for value in values]
    assert pairs, f"{cls}.{method} has no overload by parameter"
    return pairs


def _name(value: int, prefix: str) -> str:
    names = [n for n in dir(win32cryptcon) if n.startswith(prefix)
             and getattr(win32cryptcon, n) == value]
    return names[0] if names else str(value)


def test_every_get_param_overload_ends_with_any_for_other_parameters() -> None:
    # types-pywin32 declares the Get*Param results as Any; a pywin32 program
    # that passes a variable parameter must keep type-checking against csp11.
    for cls, method in (("PyCRYPTPROV", "CryptGetProvParam"), ("PyCRYPTKEY", "CryptGetKeyParam"),
                        ("PyCRYPTHASH", "CryptGetHashParam")):
        found = overloads(cls, method)
        assert found[-1] == (None, "Any"), (cls, method)
        values = [v for vs, _ in found[:-1] if vs for v in vs]
        assert len(values) == len(set(values)), f"{method}: a parameter in two overloads"


def test_prov_param_overloads_match_the_values(container: PyCRYPTPROV) -> None:
    enumerations = (con.PP_ENUMALGS, con.PP_ENUMALGS_EX, con.PP_ENUMCONTAINERS)
    for param, declared in _fixed("PyCRYPTPROV", "CryptGetProvParam"):
        flag_bits = con.CRYPT_FIRST if param in enumerations else 0
        value = container.CryptGetProvParam(param, flag_bits)
        assert type(value) is declared, (_name(param, "PP_"), value)


# Only RC2 and RC4 keys have a salt (as in rsaenh); their bytes type is checked
# where the token has them (tests/test_nss.py).
_RC2_RC4_ONLY = (con.KP_SALT,)


def test_key_param_overloads_match_the_values(container: PyCRYPTPROV) -> None:
    rsa_pair = container.CryptGenKey(con.AT_SIGNATURE, 0)
    rsa_pair.CryptSetKeyParam(con.KP_CERTIFICATE, _certificate_for(public_key_of(rsa_pair)))
    dss = verify_context(con.PROV_DSS)
    keys = [container.CryptGenKey(con.CALG_AES_256, 0), rsa_pair,
            dss.CryptGenKey(con.AT_SIGNATURE, 0)]
    try:
        for param, declared in _fixed("PyCRYPTKEY", "CryptGetKeyParam"):
            answered = 0
            for key in keys:
                try:
                    value = key.CryptGetKeyParam(param)
                except pywintypes.error:
                    continue  # a parameter of another kind of key
                assert type(value) is declared, (_name(param, "KP_"), value)
                answered += 1
            if param in _RC2_RC4_ONLY:
                continue  # no RC2/RC4 on SoftHSM2: tests/test_nss.py checks these on softokn
            assert answered, f"no key answered {_name(param, 'KP_')}"
    finally:
        dss.CryptReleaseContext()


def test_hash_param_overloads_match_the_values(container: PyCRYPTPROV) -> None:
    with container.CryptCreateHash(con.CALG_SHA_256) as hash_:
        hash_.CryptHashData(b"abc")
        for param, declared in _fixed("PyCRYPTHASH", "CryptGetHashParam"):
            value = hash_.CryptGetHashParam(param)
            assert type(value) is declared, (_name(param, "HP_"), value)


# ---- compatibility with types-pywin32 ---------------------------------------------------------
# (class, method, parameter or "return") → (what pywin32 really takes or
# returns, why the stub is not followed).  pywin32 on Python 3 takes and
# returns bytes for these (PyWinObject_AsReadBuffer / PyBytes_FromStringAndSize);
# the stubs were generated from documentation written for Python 2's str.
STUB_ERRATA: dict[tuple[str, str, str], tuple[str, str]] = {
    ("PyCRYPTHASH", "CryptHashData", "Data"): ("bytes", "pywin32 takes a bytes-like object"),
    ("PyCRYPTHASH", "CryptSignHash", "return"): ("bytes", "pywin32 returns bytes"),
    ("PyCRYPTHASH", "CryptVerifySignature", "Signature"): ("bytes", "pywin32 takes bytes"),
    ("PyCRYPTPROV", "CryptGenRandom", "SeedData"): ("bytes | None", "pywin32 takes bytes"),
    ("PyCRYPTPROV", "CryptGenRandom", "return"): ("bytes", "pywin32 returns bytes"),
    ("PyCRYPTPROV", "CryptGetProvParam", "return"): ("Any", "pywin32 returns the value"),
}
# Methods of the stubs that csp11 does not have, and why.
NOT_IN_CSP11 = {
    ("PyCRYPTPROV", "CryptExportPublicKeyInfo"): "certificate functions are not part of csp11",
    ("PyCRYPTPROV", "CryptImportPublicKeyInfo"): "certificate functions are not part of csp11",
}
OWN_CLASSES = ("PyCRYPTPROV", "PyCRYPTKEY", "PyCRYPTHASH")


def _stub(module_dir: str) -> ast.Module:
    path = Path(sysconfig.get_paths()["purelib"]) / module_dir
    return ast.parse(path.read_text(encoding="utf-8"))


def _type_text(annotation: ast.expr | None) -> str:
    if annotation is None:
        return "Any"  # unannotated in the stub: anything type-checks
    text = ast.unparse(annotation)
    for name in OWN_CLASSES:
        text = text.replace(f"_win32typing.{name}", name).replace(name, f"win32crypt.{name}")
    return text


def _calls_for(target: str, fn: ast.FunctionDef, cls: str) -> list[str]:
    """Lines of a function that calls ``target`` as the stub allows, with the
    stub's argument types, and keeps the result as the stub's return type."""
    params = fn.args.args[1:] if cls else fn.args.args
    defaults_from = len(params) - len(fn.args.defaults)
    typed = []
    for param in params:
        erratum = STUB_ERRATA.get((cls, fn.name, param.arg))
        typed.append((param.arg, erratum[0] if erratum else _type_text(param.annotation)))
    signature = ", ".join(f"{name}: {text}" for name, text in typed)
    self_param = f"obj: win32crypt.{cls}, " if cls else ""
    lines = [f"def check_{cls or 'module'}_{fn.name}({self_param}{signature}) -> None:"]
    required = [name for name, _ in typed[:defaults_from]]
    everything = [name for name, _ in typed]
    returns = STUB_ERRATA.get((cls, fn.name, "return"))
    result_type = returns[0] if returns else _type_text(fn.returns)
    for index, names in enumerate((required, everything)):
        call = f"{target}({', '.join(names)})"
        if result_type in ("Any", "None"):
            lines.append(f"    {call}")
        else:
            lines.append(f"    r{index}: {result_type} = {call}")
    lines.append(f"    {target}({', '.join(f'{n}={n}' for n in everything)})")
    return lines


def _compatibility_program() -> str:
    typing_stub = _stub("_win32typing-stubs/__init__.pyi")
    module_stub = _stub("win32-stubs/win32crypt.pyi")
    lines = ["from typing import Any", "from csp11 import win32crypt", ""]
    for node in typing_stub.body:
        if not (isinstance(node, ast.ClassDef) and node.name in OWN_CLASSES):
            continue
        for fn in node.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            if any(ast.unparse(d) == "property" for d in fn.decorator_list):
                lines += [f"def check_{node.name}_{fn.name}(obj: win32crypt.{node.name}) -> int:",
                          f"    return obj.{fn.name}", ""]
                continue
            if (node.name, fn.name) in NOT_IN_CSP11:
                assert not hasattr(getattr(win32crypt, node.name), fn.name)
                continue
            lines += [*_calls_for(f"obj.{fn.name}", fn, node.name), ""]
    (acquire,) = [n for n in module_stub.body
                  if isinstance(n, ast.FunctionDef) and n.name == "CryptAcquireContext"]
    lines += [*_calls_for("win32crypt.CryptAcquireContext", acquire, ""), ""]
    # pywin32 code reads Get*Param results with a variable parameter as Any.
    lines += [
        "def check_get_param_any(p: win32crypt.PyCRYPTPROV, k: win32crypt.PyCRYPTKEY,",
        "                        h: win32crypt.PyCRYPTHASH, param: int) -> None:",
        "    a: int = p.CryptGetProvParam(param)",
        "    b: bytes = k.CryptGetKeyParam(param)",
        "    c: str = k.CryptGetKeyParam(param)",
        "    d: bytes = h.CryptGetHashParam(param)",
        "",
    ]
    return "\n".join(lines)


def test_code_typed_for_types_pywin32_type_checks_against_csp11(tmp_path: Path) -> None:
    program = _compatibility_program()
    # Every class and method of the stubs is in the program (not silently none).
    for cls in OWN_CLASSES:
        assert f"check_{cls}_Crypt" in program
    path = tmp_path / "pywin32_program.py"
    path.write_text(program, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
         "--no-error-summary", "--cache-dir", str(REPO / ".mypy_cache"), str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr + "\n" + program


def test_errata_are_still_errata() -> None:
    # When types-pywin32 corrects one of these, the entry goes.
    typing_stub = _stub("_win32typing-stubs/__init__.pyi")
    declared: dict[tuple[str, str, str], str] = {}
    for node in typing_stub.body:
        if isinstance(node, ast.ClassDef) and node.name in OWN_CLASSES:
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef):
                    for param in fn.args.args:
                        declared[node.name, fn.name, param.arg] = _type_text(param.annotation)
                    declared[node.name, fn.name, "return"] = _type_text(fn.returns)
    for key, (really, _why) in STUB_ERRATA.items():
        assert key in declared, key
        assert declared[key] != really, f"{key}: the stub now says {really}"


# ---- docstrings --------------------------------------------------------------------------------
PUBLIC_MODULES = (csp11, win32crypt, win32cryptcon, winerror, pywintypes)
# Team notes that are not part of what users get (the README and docs/ are).
NOT_SHIPPED = re.compile(r"\bSPEC\b|TOKEN-FACTS|WINDOWS-FACTS|notes/|STYLE\.md|\.\./shared")


def _docstrings() -> Iterator[tuple[str, str]]:
    for module in PUBLIC_MODULES:
        yield module.__name__, inspect.getdoc(module) or ""
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            yield f"{module.__name__}.{name}", inspect.getdoc(value) or ""
            if inspect.isclass(value):
                for attr, member in vars(value).items():
                    doc = inspect.getdoc(member.fget if isinstance(member, property) else member)
                    yield f"{module.__name__}.{name}.{attr}", doc or ""


def test_public_docstrings_cite_only_what_users_have() -> None:
    offending = [(where, found.group()) for where, doc in _docstrings()
                 for found in NOT_SHIPPED.finditer(doc)]
    assert offending == []
    # ... and what they cite is there.
    for where, doc in _docstrings():
        for word in doc.split():
            if word.strip("`.,;:()").startswith("docs/"):
                cited = word.strip("`.,;:()")
                assert (REPO / cited).exists(), (where, cited)


def test_no_docstring_cites_the_team_spec() -> None:
    # Every module's docstrings, public or not: help() shows them to users,
    # who have the README and docs/, not the team's SPEC.
    spec = re.compile(r"\bSPEC\b(?!_)")
    offending = []
    for path in sorted((REPO / "csp11").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                          | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node) or ""
                if spec.search(doc):
                    offending.append(f"{path.relative_to(REPO)}:{getattr(node, 'name', '')}")
    assert offending == []

