"""``python -m csp11``: the same as the ``csp11`` command."""

from csp11.cli import main

raise SystemExit(main())
