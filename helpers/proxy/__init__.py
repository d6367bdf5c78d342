"""Step 8: a small key-hiding proxy between a web page and an OpenAI-compatible API.

The browser never sees the API key: it sends `{"messages": [...]}` to this server, which
adds the key, the model and the limits, calls the API and returns only the answer.
The server decides everything that costs money: the model, `max_tokens`, how many and how
long the messages may be, how often a client may call. It also serves the static chat page
(`web/`) from the same origin, so it works behind jupyter-server-proxy or Colab's port window.

This package imports nothing else from the kit: it can be deployed alone (Render…) with
`proxy-requirements.txt` (starlette, uvicorn, openai). Start it with `python -m helpers.proxy`
from the repository root (`helpers/__init__.py` imports nothing eagerly), or
`python helpers/proxy`.

Its modules, by what they do:
- `settings`: `ProxySettings`, one field per `ATELIER_PROXY_*` variable (its type, default and
  what it does), read by `ProxySettings.from_env()`; docs/reglages.md's table is generated from
  those fields (`python tools/settings_table.py`). The key may also come from `OPENAI_API_KEY`,
  the API's URL from `OPENAI_BASE_URL`, the port from `PORT` (Render sets it).
- `limits`: the sliding windows that count requests per client and per day.
- `errors`: the JSON errors the browser receives.
- `chat`: `ChatProxy`, the chat route: origins, body, validation, the upstream call.
- `app`: `create_app`, the Starlette app (routes, the page, security headers).
- `read_timeouts`: uvicorn's protocol that cuts a request that does not arrive in time.
- `console`: `python -m helpers.proxy` (`main`) and its console summary.

Routes: `POST /api/chat` (`{"messages": [{"role": "user", "content": "Bonjour"}]}` →
`{"message": {"role": "assistant", "content": "…"}, "truncated": false}`), `GET /healthz`,
and the page at `/`. Errors are JSON `{"error": {"message": "<French>", "code": "…"}}`.
"""

from __future__ import annotations

from .app import create_app
from .chat import ChatProxy
from .console import describe, main, shown_url
from .limits import SlidingWindow
from .read_timeouts import ReadTimeouts, http_protocol
from .settings import LOOPBACK_HOSTS, ProxyConfigError, ProxySettings, normalize_origin

__all__ = [
    "LOOPBACK_HOSTS",
    "ChatProxy",
    "ProxyConfigError",
    "ProxySettings",
    "ReadTimeouts",
    "SlidingWindow",
    "create_app",
    "describe",
    "http_protocol",
    "main",
    "shown_url",
    "normalize_origin",
]
