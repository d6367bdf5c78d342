"""`python -m helpers.proxy` (or `python helpers/proxy`): the proxy on uvicorn."""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # `python helpers/proxy`: the repository root on the path, as with -m
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers.proxy.console import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
