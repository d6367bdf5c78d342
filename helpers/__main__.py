"""`python -m helpers …` — see `helpers.cli`."""

from . import kit_server
from .cli import main

# A command is short-lived: use the workspace's running sandbox (the notebook's) when there
# is one, rather than starting and warming up a server of its own for a single request.
kit_server.reuse_running_servers()

raise SystemExit(main())
