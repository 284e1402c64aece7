"""The codebase's own checks: ruff and mypy --strict, as configured in pyproject.toml.

They run as tests so that the README's one test command (and CI) enforces them.
They are skipped only where the dev tools are not installed, which
``scripts/bootstrap`` always does.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/bootstrap installs it)")
    return path


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "--output-format", "concise", "."],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [_tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed() -> None:
    assert (REPO / "csp11" / "py.typed").exists()


def test_only_the_token_layer_imports_python_pkcs11() -> None:
    offenders = [
        path.name
        for path in (REPO / "csp11").glob("*.py")
        if path.name != "token.py"
        and any(
            line.startswith(("import pkcs11", "from pkcs11"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []
