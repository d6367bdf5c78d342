"""`python -m helpers.proxy`: the settings from the environment, a summary on the console
(never the key), the app on uvicorn with the read timeouts."""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import urlsplit

from .app import create_app
from .read_timeouts import http_protocol
from .settings import ProxyConfigError, ProxySettings


def shown_url(url: str) -> str:
    """An upstream URL fit for a console or a log: scheme, host, port and path only. A key in
    its query string (`?api-key=…`, as some OpenAI-compatible services take it) or a user and
    password in it are never shown."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(adresse illisible)"
    if not parts.scheme or not host:
        return "(adresse illisible)"
    host = f"[{host}]" if ":" in host else host
    hidden = " (paramètres masqués)" if parts.query or parts.fragment or "@" in parts.netloc else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{hidden}"


def describe(settings: ProxySettings) -> str:
    """A French summary for the console (no key, ever: not even in the upstream URL)."""
    origins = (
        ", ".join(settings.allowed_origins) or "aucune (seulement la page servie par le proxy)"
    )
    return (
        f"modèle : {settings.model or '⚠️ non configuré (ATELIER_PROXY_MODEL)'} ; "
        f"clé : {'configurée' if settings.api_key else '⚠️ absente (OPENAI_API_KEY)'} ; "
        f"API : {shown_url(settings.base_url) if settings.base_url else 'OpenAI'} ; "
        f"origines autorisées : {origins} ; "
        f"limites : {settings.rate_limit} requêtes / {settings.rate_window:g} s par client, "
        f"max_tokens ≤ {settings.max_tokens}"
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m helpers.proxy", description="Proxy qui cache la clé API (étape 8)."
    )
    try:
        settings = ProxySettings.from_env()
    except ProxyConfigError as exc:
        print(f"❌ {exc}")
        return 2
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8787")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"Proxy Atelier sur http://{args.host}:{args.port}/ — {describe(settings)}", flush=True)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        server_header=False,
        log_level="info",
        proxy_headers=False,  # X-Forwarded-For is read by ATELIER_PROXY_FORWARDED_HOPS alone
        http=http_protocol(),  # a request that does not arrive in time is cut (ReadTimeouts)
    )
    return 0
