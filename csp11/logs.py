"""csp11's logger, ``logging.getLogger("csp11")``, with :mod:`logging` imported
when something is first logged.

``import logging`` costs about 5 ms of a process's start here (issue #16: cold
start, process start to the first key in 60 ms), and a key made and used
without a hitch logs nothing.  Applications that configure logging have
imported it already; then this costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["log"]


class _OnFirstUse:
    """Stands for the "csp11" logger; its methods are the logger's, read once."""

    def __getattr__(self, name: str) -> Any:
        # Imported here, on the first message (cold start: the module notes).
        import logging  # noqa: PLC0415

        value = getattr(logging.getLogger("csp11"), name)
        setattr(self, name, value)  # later reads are plain attribute reads
        return value


if TYPE_CHECKING:
    import logging

    log: logging.Logger
else:
    log = _OnFirstUse()
