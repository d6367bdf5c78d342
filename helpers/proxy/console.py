"""`python -m helpers.proxy`: the settings from the environment, a summary on the console
(never the key), the app on uvicorn with the read timeouts."""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import urlsplit

from .app import create_app
from .read_timeouts import http_protocol
from .settings import ProxyConfigError, ProxySettings, proxy_language
from .translation import in_language


def _(message: str) -> str:
    """`message` (French) in the environment's language (ATELIER_LANG)."""
    return in_language(proxy_language(), message)


def shown_url(url: str) -> str:
    """An upstream URL fit for a console or a log: scheme, host, port and path only. A key in
    its query string (`?api-key=…`, as some OpenAI-compatible services take it) or a user and
    password in it are never shown."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return _("(adresse illisible)")
    if not parts.scheme or not host:
        return _("(adresse illisible)")
    host = f"[{host}]" if ":" in host else host
    masked = parts.query or parts.fragment or "@" in parts.netloc
    hidden = " " + _("(paramètres masqués)") if masked else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{hidden}"


def describe(settings: ProxySettings) -> str:
    """A summary for the console, in the proxy's language (no key, ever: not even in the
    upstream URL)."""
    lang = settings.language or proxy_language()

    def _(message: str) -> str:
        return in_language(lang, message)

    origins = ", ".join(settings.allowed_origins) or _(
        "aucune (seulement la page servie par le proxy)"
    )
    return _(
        "modèle : {model} ; clé : {key} ; API : {api} ; origines autorisées : {origins} ; "
        "limites : {rate} requêtes / {window:g} s par client, max_tokens ≤ {max_tokens}"
    ).format(
        model=settings.model or _("⚠️ non configuré (ATELIER_PROXY_MODEL)"),
        key=_("configurée") if settings.api_key else _("⚠️ absente (OPENAI_API_KEY)"),
        api=shown_url(settings.base_url) if settings.base_url else "OpenAI",
        origins=origins,
        rate=settings.rate_limit,
        window=settings.rate_window,
        max_tokens=settings.max_tokens,
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m helpers.proxy", description=_("Proxy qui cache la clé API (étape 8).")
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
    address = f"http://{args.host}:{args.port}/"
    started = _("Proxy Atelier sur {address} — {summary}")
    print(started.format(address=address, summary=describe(settings)), flush=True)
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
