"""Loader of the known-answer vectors the tests carry (tests/data/, see its README)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"


@functools.cache
def windows_kat() -> dict[str, Any]:
    """``windows-kat.json``: Windows-observed answers (its ``source`` field says whence)."""
    loaded: dict[str, Any] = json.loads((DATA / "windows-kat.json").read_text())
    return loaded
