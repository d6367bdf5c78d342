"""The chat route (`POST /api/chat`): the origin and the host, the body, what the page may
ask (messages, max_tokens), the limits, then the upstream call; only the answer goes back."""

from __future__ import annotations

import json
import logging
import math
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from .errors import ProxyError, error_response, retry_after
from .limits import SlidingWindow
from .page import PAGE_TEXTS
from .settings import ProxySettings, proxy_language
from .translation import SOURCE_LANGUAGE, catalog, in_language

log = logging.getLogger("atelier.proxy")

ROLES = ("user", "assistant")


class ChatProxy:
    """The chat route, its limits and its upstream client."""

    def __init__(self, settings: ProxySettings):
        self.settings = settings
        self.per_client = SlidingWindow(settings.rate_limit, settings.rate_window)
        self.daily = SlidingWindow(settings.daily_limit, 86_400.0) if settings.daily_limit else None
        self._client: Any = None
        self._client_loop: Any = None
        self.language = settings.language or proxy_language()

    def _(self, message: str) -> str:
        """`message` (French) in the proxy's language."""
        return in_language(self.language, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return catalog(self.language).ngettext(singular, plural, n)

    # -- origins -----------------------------------------------------------------
    def origin_status(self, request: Request) -> str:
        """'none' (no Origin: not a browser page), 'same', 'allowed' or 'foreign'."""
        origin = request.headers.get("origin")
        if origin is None:
            return "none"
        if request.headers.get("sec-fetch-site") == "same-origin":
            return "same"
        parts = urlsplit(origin)
        host = request.headers.get("host", "")
        if origin != "null" and parts.netloc and host and parts.netloc.lower() == host.lower():
            return "same"
        return "allowed" if origin in self.settings.allowed_origins else "foreign"

    def cors_headers(self, request: Request) -> dict[str, str]:
        origin = request.headers.get("origin")
        if origin and origin in self.settings.allowed_origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {"Vary": "Origin"}

    def foreign_origin(self, request: Request) -> ProxyError:
        origin = request.headers.get("origin", "")
        return ProxyError(
            403,
            self._(
                "Ce proxy n'accepte pas les pages de l'origine {origin!r}. Si c'est ta page, "
                "ajoute son origine exacte (ex. https://ton-pseudo.github.io) à "
                "ATELIER_PROXY_ALLOWED_ORIGINS sur le serveur du proxy."
            ).format(origin=origin[:100]),
            "origin_not_allowed",
        )

    def client_id(self, request: Request) -> str:
        hops = self.settings.forwarded_hops
        if hops:
            chain = [
                p.strip()
                for p in request.headers.get("x-forwarded-for", "").split(",")
                if p.strip()
            ]
            if chain:
                return chain[-hops] if len(chain) >= hops else chain[0]
        return request.client.host if request.client else "inconnu"  # i18n: keep (a key)

    # -- routes ------------------------------------------------------------------
    async def preflight(self, request: Request) -> Response:
        try:
            self.check_host(request)
        except ProxyError as err:
            return error_response(err.status, err.message, err.code, {"Vary": "Origin"})
        if self.origin_status(request) == "foreign":
            refused = self.foreign_origin(request)
            return error_response(refused.status, refused.message, refused.code, {"Vary": "Origin"})
        headers = self.cors_headers(request)
        headers.update(
            {
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
        return Response(status_code=204, headers=headers)

    async def health(self, request: Request) -> Response:
        s = self.settings
        body = {
            "status": "ok",
            "model_configured": bool(s.model),
            "key_configured": bool(s.api_key),
            "limits": s.public_limits(),
        }
        return JSONResponse(body, headers=self.cors_headers(request))

    async def page_text(self, request: Request) -> Response:
        """The page's texts in the proxy's language (`web/app.js` asks on load): its French
        texts (PAGE_TEXTS) → their translation, empty in French (the page's own)."""
        texts = {} if self.language == SOURCE_LANGUAGE else {t: self._(t) for t in PAGE_TEXTS}
        return JSONResponse(
            {"lang": self.language, "texts": texts}, headers=self.cors_headers(request)
        )

    async def chat(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return await self.preflight(request)
        cors = self.cors_headers(request)
        try:
            payload = await self._handle(request)
        except ProxyError as err:
            log.info("chat refused: %s %s", err.status, err.code)
            return error_response(err.status, err.message, err.code, {**cors, **err.headers})
        return JSONResponse(payload, headers=cors)

    def check_host(self, request: Request) -> None:
        host = request.headers.get("host", "")
        if not self.settings.host_allowed(host):
            raise ProxyError(
                403,
                self._(
                    "Ce proxy ne répond pas au nom d'hôte {host!r}. Si c'est bien l'adresse de "
                    "ton proxy, ajoute ce nom à ATELIER_PROXY_ALLOWED_HOSTS sur le serveur du proxy."
                ).format(host=host[:100]),
                "host_not_allowed",
            )

    async def _handle(self, request: Request) -> dict[str, Any]:
        s = self.settings
        self.check_host(request)
        if self.origin_status(request) == "foreign":
            raise self.foreign_origin(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ProxyError(
                415,
                self._("Envoie du JSON (en-tête Content-Type: application/json)."),
                "bad_content_type",
            )
        body = await self._read_body(request)
        wait = self.per_client.hit(self.client_id(request))
        if wait:
            raise ProxyError(
                429,
                self.ngettext(
                    "Trop de messages d'un coup : ce proxy accepte {n} requête par {window:g} s. "
                    "Réessaie dans {wait} s.",
                    "Trop de messages d'un coup : ce proxy accepte {n} requêtes par {window:g} s. "
                    "Réessaie dans {wait} s.",
                    s.rate_limit,
                ).format(n=s.rate_limit, window=s.rate_window, wait=retry_after(wait)),
                "rate_limited",
                {"Retry-After": retry_after(wait)},
            )
        messages, max_tokens = self.validate(body)
        if not s.model:
            raise ProxyError(
                503,
                self._("Le proxy n'a pas de modèle configuré (variable ATELIER_PROXY_MODEL)."),
                "no_model",
            )
        if not s.api_key:
            raise ProxyError(
                503,
                self._(
                    "Le proxy n'a pas de clé API configurée (variable OPENAI_API_KEY sur le serveur)."
                ),
                "no_key",
            )
        if self.daily is not None:
            wait = self.daily.hit("*")
            if wait:
                raise ProxyError(
                    429,
                    self._(
                        "Ce proxy a atteint sa limite de {limit} réponses par 24 h (pour protéger "
                        "le budget). Réessaie plus tard."
                    ).format(limit=s.daily_limit),
                    "daily_limit",
                    {"Retry-After": retry_after(wait)},
                )
        return await self._call_upstream(messages, max_tokens)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        too_big = ProxyError(
            413,
            self._(
                "Requête trop volumineuse (plus de {limit} octets). Raccourcis ton message ou "
                "efface le début de la conversation."
            ).format(limit=limit),
            "body_too_large",
        )
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise too_big
            except ValueError:
                raise ProxyError(
                    400, self._("En-tête Content-Length invalide."), "bad_request"
                ) from None
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_big
                chunks.append(chunk)
        except ClientDisconnect:
            raise ProxyError(
                400, self._("La connexion a été coupée pendant l'envoi."), "client_disconnect"
            ) from None
        return b"".join(chunks)

    def validate(self, raw: bytes) -> tuple[list[dict[str, str]], int]:
        """Keep only what the server allows: user/assistant text messages and a clamped max_tokens."""
        s = self.settings
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ProxyError(
                400, self._("Le corps de la requête n'est pas du JSON valide."), "bad_json"
            ) from None
        if not isinstance(body, dict):
            raise ProxyError(
                400,
                self._("La requête doit être un objet JSON de la forme {example}.").format(
                    example='{"messages": [{"role": "user", "content": "…"}]}'
                ),
                "bad_request",
            )
        model = body.get("model")
        if model is not None and model != s.model:
            raise ProxyError(
                400,
                self._(
                    "Ce proxy choisit lui-même le modèle : la page ne peut pas en demander un "
                    "autre. Retire le champ « model » de la requête (le modèle se règle côté "
                    "serveur, variable ATELIER_PROXY_MODEL)."
                ),
                "model_not_allowed",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ProxyError(
                400,
                self._("Il manque la liste « messages » (au moins un message {example}).").format(
                    example='{"role": "user", "content": "…"}'
                ),
                "bad_messages",
            )
        kept: list[dict[str, str]] = []
        for i, msg in enumerate(messages, start=1):
            if not isinstance(msg, dict):
                raise ProxyError(
                    400,
                    self._(
                        "Le message n°{i} doit être un objet avec « role » et « content »."
                    ).format(i=i),
                    "bad_messages",
                )
            role, content = msg.get("role"), msg.get("content")
            if role not in ROLES:
                raise ProxyError(
                    400,
                    self._(
                        "Message n°{i} : rôle {role!r} refusé. La page peut envoyer « user » et "
                        "« assistant » ; le message système est fixé par le serveur."
                    ).format(i=i, role=str(role)[:20]),
                    "bad_role",
                )
            if not isinstance(content, str) or not content.strip():
                raise ProxyError(
                    400,
                    self._("Message n°{i} : « content » doit être un texte non vide.").format(i=i),
                    "bad_content",
                )
            if not _is_text(content):
                raise ProxyError(
                    400,
                    self._(
                        "Message n°{i} : « content » contient un caractère invalide (une moitié de "
                        "paire UTF-16 seule). Retape le message."
                    ).format(i=i),
                    "bad_content",
                )
            if len(content) > s.max_message_chars:
                raise ProxyError(
                    400,
                    self._(
                        "Message n°{i} trop long : {length} caractères, maximum {maximum}. "
                        "Raccourcis-le."
                    ).format(i=i, length=len(content), maximum=s.max_message_chars),
                    "message_too_long",
                )
            kept.append({"role": role, "content": content})
        if kept[-1]["role"] != "user":
            raise ProxyError(
                400,
                self._("Le dernier message doit venir de l'utilisateur (rôle « user »)."),
                "bad_messages",
            )
        kept = kept[-s.max_messages :]
        while kept and kept[0]["role"] != "user":
            kept.pop(0)
        if s.system_prompt:
            kept.insert(0, {"role": "system", "content": s.system_prompt})
        requested = body.get("max_tokens")
        if requested is None:
            max_tokens = s.max_tokens
        elif (
            isinstance(requested, bool)
            or not isinstance(requested, int | float)
            or not math.isfinite(requested)
        ):
            raise ProxyError(
                400, self._("« max_tokens » doit être un nombre entier."), "bad_max_tokens"
            )
        else:
            max_tokens = min(max(int(requested), 1), s.max_tokens)
        return kept, max_tokens

    # -- upstream ----------------------------------------------------------------
    def _upstream(self) -> Any:
        import asyncio

        import openai

        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=self.settings.api_key,
                base_url=self.settings.base_url,
                timeout=self.settings.timeout + 5,
                max_retries=0,
            )
            self._client_loop = loop
        return self._client

    async def _call_upstream(
        self, messages: list[dict[str, str]], max_tokens: int
    ) -> dict[str, Any]:
        import anyio
        import openai

        s = self.settings
        try:
            with anyio.fail_after(s.timeout):
                completion = await self._upstream().chat.completions.create(
                    model=s.model, messages=messages, max_tokens=max_tokens
                )
        except (TimeoutError, openai.APITimeoutError):
            log.warning("upstream timeout after %ss", s.timeout)
            raise ProxyError(
                504,
                self._(
                    "Le modèle n'a pas répondu dans les {timeout:g} s prévues. Réessaie dans un "
                    "moment."
                ).format(timeout=s.timeout),
                "upstream_timeout",
            ) from None
        except openai.APIConnectionError as exc:
            log.warning("upstream unreachable (%s)", type(exc).__name__)
            raise ProxyError(
                502,
                self._("Le proxy n'arrive pas à joindre l'API du modèle. Réessaie dans un moment."),
                "upstream_unreachable",
            ) from None
        except openai.APIStatusError as exc:
            # Never relay the upstream message: a 401 quotes part of the key.
            raise self._upstream_status(
                exc.status_code, exc.response.headers.get("retry-after")
            ) from None
        except openai.OpenAIError as exc:
            log.warning("upstream error (%s)", type(exc).__name__)
            raise ProxyError(
                502, self._("L'API du modèle a renvoyé une réponse inattendue."), "upstream_error"
            ) from None
        try:
            choice = completion.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise ProxyError(
                502, self._("L'API du modèle a renvoyé une réponse sans texte."), "upstream_error"
            ) from None
        return {
            "message": {"role": "assistant", "content": text},
            "truncated": choice.finish_reason == "length",
        }

    def _upstream_status(self, status: int, retry_after: str | None) -> ProxyError:
        log.warning("upstream answered HTTP %s", status)
        if status in (401, 403):
            return ProxyError(
                502,
                self._(
                    "L'API du modèle refuse la clé configurée sur le serveur du proxy (clé "
                    "invalide, révoquée ou sans accès à ce modèle)."
                ),
                "upstream_auth",
            )
        if status == 404:
            return ProxyError(
                502,
                self._(
                    "L'API du modèle ne trouve pas le modèle configuré (ATELIER_PROXY_MODEL) : "
                    "vérifie son nom exact."
                ),
                "upstream_model_not_found",
            )
        if status == 429:
            headers = (
                {"Retry-After": retry_after}
                if retry_after and retry_after.strip().isdigit()
                else {}
            )
            return ProxyError(
                503,
                self._(
                    "L'API du modèle limite le débit ou le crédit du compte est épuisé. "
                    "Réessaie plus tard."
                ),
                "upstream_rate_limited",
                headers,
            )
        if 400 <= status < 500:
            return ProxyError(
                502,
                self._("L'API du modèle a refusé la requête (HTTP {status}).").format(
                    status=status
                ),
                "upstream_refused",
            )
        return ProxyError(
            502,
            self._("L'API du modèle est en panne (HTTP {status}). Réessaie dans un moment.").format(
                status=status
            ),
            "upstream_error",
        )


def _not_json(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")  # NaN, Infinity: Python accepts them, JSON does not


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800")
        return False
    return True
