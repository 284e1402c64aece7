"""The whole public surface, fuzzed (issue #12): random calls, random arguments.

The state machine lives in :mod:`tests.fuzz_surface` and runs in a child
process, so a segfault or a hang fails this test instead of ending the suite.
The child reports its figures on its last line; this side asserts its exit
code, that no call raised anything but ``pywintypes.error`` (never
``NTE_FAIL``), ``TypeError`` or ``ValueError``, and that the token holds the
objects it held before, seen by the child and by another process
(:mod:`tests.outside`).

The default run makes a few hundred calls; ``pytest -m slow -s`` runs at
least 100,000 in several children and prints the figures.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from . import outside
from .conftest import REPO

FIGURES_MARK = "FUZZ-FIGURES "  # as tests/fuzz_surface.py prints it

DEFAULT_CALLS = 400
LONG_CALLS = 100_000
LONG_CHILDREN = 5


def _run_child(calls: int, timeout: float, seed: int | None = None) -> dict[str, Any]:
    """Run the fuzz in a child process; its figures (asserting it ended well)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-X", "faulthandler", "-m", "tests.fuzz_surface",
               "--calls", str(calls), "--timeout", str(timeout)]
    if seed is not None:
        command += ["--seed", str(seed)]
    try:
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True,
            timeout=timeout + 60, check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the fuzz hung (no end after {timeout + 60} s):\n{exc.stderr!s:.5000}")
    # A crash ends the child with a signal (negative code); a hang past
    # --timeout ends it through faulthandler, which prints every stack.
    assert result.returncode == 0, (
        f"the fuzz child ended with {result.returncode}:\n{result.stderr[-8000:]}"
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(FIGURES_MARK)]
    assert lines, f"the fuzz child printed no figures:\n{result.stderr[-8000:]}"
    figures: dict[str, Any] = json.loads(lines[-1][len(FIGURES_MARK):])
    return figures


def _check(figures: dict[str, Any]) -> None:
    shown = json.dumps(
        {"violations": figures["violations"][:3], "leaks": figures["leaks"][:3],
         "seed": figures["seed"]}, indent=1,
    )[:20000]
    assert figures["violation_count"] == 0, shown
    assert figures["nte_fail"] == 0, shown
    assert not figures["leaks"], shown
    assert figures["objects_left"] == 0, shown
    assert figures["session_objects"][0] == figures["session_objects"][1], shown
    assert figures["token_objects"][0] == figures["token_objects"][1], shown


def _outside_view(home: Path, module: str) -> list[tuple[str, str]]:
    return sorted((str(row["CLASS"]), str(row["LABEL"])) for row in outside.objects(home, module))


def test_the_surface_survives_random_calls(csp11_home: Path, softhsm2_module: str,
                                           embedded_pin: str) -> None:
    before = _outside_view(csp11_home, softhsm2_module)
    figures = _run_child(DEFAULT_CALLS, timeout=120)
    _check(figures)
    assert figures["calls"] >= DEFAULT_CALLS
    # Most calls got past argument checking to do something.
    assert figures["outcomes"].get("ok", 0) > figures["calls"] // 4, figures["outcomes"]
    assert _outside_view(csp11_home, softhsm2_module) == before


@pytest.mark.slow
def test_the_surface_survives_a_long_fuzz(csp11_home: Path, softhsm2_module: str,
                                          embedded_pin: str) -> None:
    before = _outside_view(csp11_home, softhsm2_module)
    started = time.monotonic()
    per_child = LONG_CALLS // LONG_CHILDREN + 1
    runs = [_run_child(per_child, timeout=1500) for _ in range(LONG_CHILDREN)]
    outside_after = _outside_view(csp11_home, softhsm2_module)
    outcomes: collections.Counter[str] = collections.Counter()
    for figures in runs:
        outcomes.update(figures["outcomes"])
    total = {
        "children": len(runs),
        "seeds": [figures["seed"] for figures in runs],
        "calls": sum(figures["calls"] for figures in runs),
        "examples": sum(figures["examples"] for figures in runs),
        "crashes": 0,  # _run_child fails the test on a crash or a hang
        "nte_fail": sum(figures["nte_fail"] for figures in runs),
        "violations": sum(figures["violation_count"] for figures in runs),
        "violations_seen": [f"{v['call']}: {v['what']}" for figures in runs
                            for v in figures["violations"][:5]],
        "leaks": sum(len(figures["leaks"]) for figures in runs),
        "objects_left": sum(figures["objects_left"] for figures in runs),
        "token_objects_outside": [len(before), len(outside_after)],
        "known_token_layer_faults": sum(
            (collections.Counter(figures["known_token_layer_faults"]) for figures in runs),
            collections.Counter(),
        ),
        "wall_seconds": round(time.monotonic() - started, 1),
        "outcomes": dict(outcomes.most_common()),
    }
    print("\nsurface fuzz figures:\n" + json.dumps(total, indent=1))
    for figures in runs:
        _check(figures)
    assert total["calls"] >= LONG_CALLS
    assert outside_after == before
