"""The README's Python examples, as a user would copy them.

Every ```python block of README.md is run in a new process against the test
token, twice in a row (an example must cope with what its first run left on
the token), and type-checked with ``mypy --strict`` against csp11.  A block
preceded by the line ``<!-- readme-test: pywin32 -->`` is code written for
pywin32: it is also type-checked with its ``from csp11 import ...`` line
turned into ``import ...``, against pywin32's published stubs (types-pywin32),
so that it stays code that would run on Windows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, run_python

PYWIN32_MARK = "<!-- readme-test: pywin32 -->"

# Where types-pywin32 says something pywin32 does not do, the pywin32 check
# reads a copy of its stubs with the one declaration corrected: (module, what
# the published stub says, the correction, why).  The check fails if the
# published line changes, so a fixed stub is noticed and this entry removed.
STUB_ERRATA = [
    (
        "_win32typing",
        "    def CryptGetProvParam(self, Param, Flags: int = ...) -> None: ...",
        "    def CryptGetProvParam(self, Param, Flags: int = ...) -> Incomplete: ...",
        "pywin32's PyCRYPTPROV.CryptGetProvParam returns the parameter's value "
        "(PP_NAME: the provider's name), not None",
    ),
]


@dataclass(frozen=True)
class Block:
    """One ```python block of the README."""

    number: int  # 1-based, in the order of the README
    line: int  # where its code starts
    code: str
    pywin32: bool

    def as_pywin32(self) -> str:
        """The same program with pywin32's modules instead of csp11's."""
        return re.sub(r"^from csp11 import ", "import ", self.code, flags=re.MULTILINE)


def readme_blocks() -> list[Block]:
    """The README's ```python blocks, with their pywin32 marks."""
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            marked = i > 0 and lines[i - 1].strip() == PYWIN32_MARK
            end = lines.index("```", i + 1)
            code = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append(Block(len(blocks) + 1, i + 2, code, marked))
            i = end
        i += 1
    return blocks


BLOCKS = readme_blocks()


def test_the_readme_has_its_examples() -> None:
    # The extraction itself must not silently find nothing.
    assert len(BLOCKS) >= 3
    assert sum(b.pywin32 for b in BLOCKS) >= 2
    assert all("from csp11 import" in b.code for b in BLOCKS if b.pywin32)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"block{b.number}-line{b.line}")
def test_example_runs_twice_in_a_row(block: Block) -> None:
    # The test token is the embedded one under CSP11_HOME (conftest), which
    # run_python's process inherits; nothing else is configured.
    for attempt in (1, 2):
        result = run_python(block.code)
        assert result.returncode == 0, (
            f"README block {block.number} (line {block.line}), run {attempt}:\n{result.stderr}"
        )
        assert "Traceback" not in result.stderr


def _mypy(files: list[Path], cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10",
         "--no-error-summary", "--hide-error-context", *options, *map(str, files)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def test_examples_type_check_against_csp11(tmp_path: Path) -> None:
    files = []
    for block in BLOCKS:
        path = tmp_path / f"readme_block{block.number}.py"
        path.write_text(block.code, encoding="utf-8")
        files.append(path)
    # From the checkout, so that mypy reads csp11's own annotations (py.typed).
    result = _mypy(files, REPO, "--cache-dir", str(REPO / ".mypy_cache"))
    assert result.returncode == 0, result.stdout + result.stderr


def _corrected_stubs(root: Path) -> Path:
    """A mypy_path directory with the STUB_ERRATA applied to copies of the stubs."""
    site = Path(subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip())
    for module, published, corrected, why in STUB_ERRATA:
        stub = site / f"{module}-stubs" / "__init__.pyi"
        text = stub.read_text(encoding="utf-8")
        assert text.count(published + "\n") == 1, (
            f"types-pywin32 changed {module}'s line {published.strip()!r}; "
            f"check whether it now says what pywin32 does ({why}) and update STUB_ERRATA"
        )
        target = root / module / "__init__.pyi"
        target.parent.mkdir(parents=True)
        target.write_text(text.replace(published + "\n", corrected + "\n"), encoding="utf-8")
    return root


def test_pywin32_examples_type_check_against_types_pywin32(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    files = []
    for block in BLOCKS:
        if block.pywin32:
            path = work / f"readme_block{block.number}.py"
            path.write_text(block.as_pywin32(), encoding="utf-8")
            files.append(path)
    stubs = _corrected_stubs(tmp_path / "stubs")
    config = tmp_path / "mypy.ini"
    modules = ",".join(module for module, *_ in STUB_ERRATA)
    # The corrected copies are read from mypy_path, as if they were user code:
    # their own (unannotated) insides are types-pywin32's business, not the check's.
    config.write_text(
        f"[mypy]\nmypy_path = {stubs}\n\n[mypy-{modules}]\nignore_errors = True\n",
        encoding="utf-8",
    )
    # Outside the checkout, so that nothing of csp11 is importable by accident.
    result = _mypy(files, work, "--config-file", str(config),
                   "--cache-dir", str(REPO / ".mypy_cache" / "readme-pywin32"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "csp11" not in "".join(block.as_pywin32() for block in BLOCKS if block.pywin32)
