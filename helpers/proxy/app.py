"""The ASGI app: the chat route, `/healthz`, the page (`web/`), JSON errors for Starlette's
own refusals, and cautious headers on every response."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .chat import ChatProxy
from .errors import error_response
from .settings import ProxySettings


class SecurityHeaders:
    """Adds cautious headers to every response (and `no-store` on the API)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith(("/api/", "/healthz"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if api:
                    extra.append((b"cache-control", b"no-store"))
                else:
                    extra.append(
                        (
                            b"content-security-policy",
                            b"default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
                        )
                    )
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown route, wrong method) as the proxy's JSON errors."""
    status = getattr(exc, "status_code", 404)
    headers = dict(getattr(exc, "headers", None) or {})
    _ = request.app.state.proxy._
    if status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or "POST"
        return error_response(
            405,
            _(
                "Méthode {method} refusée sur {path} : cette adresse accepte seulement {allowed}."
            ).format(method=request.method[:10], path=request.url.path[:100], allowed=allowed),
            "method_not_allowed",
            headers,
        )
    if status == 404:
        return await _no_page(request)
    refused = _("Requête refusée (HTTP {status}).").format(status=status)
    return error_response(status, refused, "bad_request", headers)


async def _no_page(request: Request) -> Response:
    _ = request.app.state.proxy._
    return error_response(
        404,
        _("Pas de page ici : ce proxy ne sert que /api/chat, /api/page-text et /healthz."),
        "not_found",
    )


def create_app(settings: ProxySettings | None = None) -> Starlette:
    """The ASGI app. Without `settings`, reads the environment (see the module docstring)."""
    settings = settings or ProxySettings.from_env()
    for name in ("openai", "httpx", "httpx2", "httpcore"):
        # OPENAI_LOG=debug would log request bodies (the prompts): keep them quiet.
        logging.getLogger(name).setLevel(logging.WARNING)
    proxy = ChatProxy(settings)
    routes: list[Any] = [
        Route("/api/chat", proxy.chat, methods=["POST", "OPTIONS"]),
        Route("/healthz", proxy.health, methods=["GET"]),
        Route("/api/page-text", proxy.page_text, methods=["GET"]),
    ]
    if settings.static_dir is not None and settings.static_dir.is_dir():
        routes.append(Mount("/", StaticFiles(directory=str(settings.static_dir), html=True)))
    else:
        routes.append(Route("/", _no_page, methods=["GET"]))
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.proxy = proxy
    wrapped: Any = SecurityHeaders(app)
    wrapped.state = app.state  # convenient for tests and the launcher
    return wrapped
