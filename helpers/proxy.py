"""Step 8: a small key-hiding proxy between a web page and an OpenAI-compatible API.

The browser never sees the API key: it sends `{"messages": [...]}` to this server, which
adds the key, the model and the limits, calls the API and returns only the answer.
The server decides everything that costs money: the model, `max_tokens`, how many and how
long the messages may be, how often a client may call. It also serves the static chat page
(`web/`) from the same origin, so it works behind jupyter-server-proxy or Colab's port window.

This module imports nothing else from the kit: it can be deployed alone (Render…) with
`proxy-requirements.txt` (starlette, uvicorn, openai). Start it with `python -m helpers.proxy`
from the repository root (`helpers/__init__.py` imports nothing eagerly), or `python helpers/proxy.py`.

Settings: `ProxySettings`, one field per `ATELIER_PROXY_*` variable (its type, default and
what it does), read by `ProxySettings.from_env()`; docs/reglages.md's table is generated from
those fields (`python tools/settings_table.py`). The key may also come from `OPENAI_API_KEY`,
the API's URL from `OPENAI_BASE_URL`, the port from `PORT` (Render sets it).

Routes: `POST /api/chat` (`{"messages": [{"role": "user", "content": "Bonjour"}]}` →
`{"message": {"role": "assistant", "content": "…"}, "truncated": false}`), `GET /healthz`,
and the page at `/`. Errors are JSON `{"error": {"message": "<French>", "code": "…"}}`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("atelier.proxy")

DEFAULT_STATIC_DIR = Path(__file__).resolve().parent.parent / "web"
ROLES = ("user", "assistant")


class ProxyConfigError(ValueError):
    """A setting the proxy cannot use (French message, never containing the key)."""


# --------------------------------------------------------------------------- settings


def normalize_origin(value: str) -> str:
    """`https://Exemple.github.io/` → `https://exemple.github.io`; refuses wildcards and paths."""
    raw = value.strip()
    if not raw:
        raise ProxyConfigError("Origine vide dans ATELIER_PROXY_ALLOWED_ORIGINS.")
    if "*" in raw or raw.lower() == "null":
        raise ProxyConfigError(
            f"Origine refusée : {raw!r}. Le proxy n'accepte ni « * » ni motif : écris chaque "
            "origine en entier, par exemple https://ton-pseudo.github.io"
        )
    parts = urlsplit(raw.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProxyConfigError(
            f"Origine invalide : {raw!r}. Forme attendue : https://nom-de-domaine (sans chemin)."
        )
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ProxyConfigError(
            f"Origine invalide : {raw!r}. Une origine n'a pas de chemin : garde seulement "
            f"{parts.scheme}://{parts.netloc} (GitHub Pages : https://ton-pseudo.github.io)."
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ProxyConfigError(f"{name} doit être un nombre entier (reçu {raw!r}).") from None
    if value < minimum:
        raise ProxyConfigError(f"{name} doit valoir au moins {minimum} (reçu {value}).")
    return value


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ProxyConfigError(f"{name} doit être un nombre (reçu {raw!r}).") from None
    if not value > 0:
        raise ProxyConfigError(f"{name} doit être strictement positif (reçu {raw!r}).")
    return value


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def host_name(host: str) -> str:
    """`Host` header → host name without port, lower case (`[::1]:8787` → `[::1]`)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _setting(var: str, doc: str, kind: str, shown: str, default: Any = None, **kw: Any) -> Any:
    """A field of `ProxySettings`: the variable it comes from, what it does (French, for
    docs/reglages.md's table, generated with the kit's own settings), its type and default."""
    meta = {"var": var, "doc": doc, "kind": kind, "default": shown, "area": "proxy (étape 8)"}
    return field(default=default, metadata=meta, **kw)


@dataclass(frozen=True)
class ProxySettings:
    """Everything the proxy needs, one field per `ATELIER_PROXY_*` variable (`from_env`).
    The key is hidden from `repr`."""

    model: str | None = _setting(
        "ATELIER_PROXY_MODEL",
        "le modèle appelé (obligatoire) ; une requête qui en nomme un autre est refusée",
        "texte",
        "—",
    )
    api_key: str | None = _setting(
        "ATELIER_PROXY_API_KEY",
        "la clé de l'API, côté serveur seulement (jamais renvoyée ni écrite dans le journal)",
        "texte (secret)",
        "`OPENAI_API_KEY`",
        repr=False,
    )
    base_url: str | None = _setting(  # may hold a key (`?api-key=…`)
        "ATELIER_PROXY_BASE_URL",
        "une autre API compatible avec OpenAI (le bac à sable…)",
        "adresse",
        "`OPENAI_BASE_URL`, sinon OpenAI",
        repr=False,
    )
    allowed_origins: tuple[str, ...] = _setting(
        "ATELIER_PROXY_ALLOWED_ORIGINS",
        "les origines exactes autorisées à appeler depuis un autre site, séparées par des "
        "virgules, ex. `https://ton-pseudo.github.io` (ni `*` ni motif)",
        "liste",
        "aucune (seulement la page servie par le proxy)",
        (),
    )
    system_prompt: str | None = _setting(
        "ATELIER_PROXY_SYSTEM", "un message système que le serveur met en premier", "texte", "aucun"
    )
    max_tokens: int = _setting(
        "ATELIER_PROXY_MAX_TOKENS",
        "le plafond de `max_tokens` (une demande plus grande est ramenée au plafond)",
        "entier",
        "300",
        300,
    )
    max_messages: int = _setting(
        "ATELIER_PROXY_MAX_MESSAGES",
        "les messages gardés d'une conversation (les plus récents)",
        "entier",
        "20",
        20,
    )
    max_message_chars: int = _setting(
        "ATELIER_PROXY_MAX_CHARS", "les caractères permis dans un message", "entier", "2000", 2000
    )
    max_body_bytes: int = _setting(
        "ATELIER_PROXY_MAX_BODY",
        "la taille d'une requête en octets (au-delà : 413)",
        "entier",
        "32000",
        32_000,
    )
    rate_limit: int = _setting(
        "ATELIER_PROXY_RATE_LIMIT",
        "les requêtes par personne et par fenêtre (au-delà : 429)",
        "entier",
        "10",
        10,
    )
    rate_window: float = _setting(
        "ATELIER_PROXY_RATE_WINDOW", "la fenêtre de ce compte, en secondes", "secondes", "60", 60.0
    )
    daily_limit: int = _setting(
        "ATELIER_PROXY_DAILY_LIMIT",
        "les réponses par 24 h pour tout le monde (0 : sans limite)",
        "entier",
        "500",
        500,
    )
    timeout: float = _setting(
        "ATELIER_PROXY_TIMEOUT",
        "les secondes d'attente de l'API (au-delà : 504)",
        "secondes",
        "30",
        30.0,
    )
    forwarded_hops: int = _setting(
        "ATELIER_PROXY_FORWARDED_HOPS",
        "0 : la personne est l'adresse qui se connecte ; N : derrière N relais, la N-ième "
        "adresse en partant de la droite de `X-Forwarded-For` (Render : 2)",
        "entier",
        "0",
        0,
    )
    static_dir: Path | None = _setting(
        "ATELIER_PROXY_STATIC_DIR",
        "le dossier de la page (`off` : pas de page)",
        "chemin",
        "`web/` à côté de `helpers/`",
        DEFAULT_STATIC_DIR,
    )
    # Host names this proxy answers to ("*": any). On a learner's machine only loopback names:
    # a page whose domain an attacker re-points to 127.0.0.1 (DNS rebinding) would otherwise be
    # "same-origin" with the proxy and spend the key's budget.
    allowed_hosts: tuple[str, ...] = _setting(
        "ATELIER_PROXY_ALLOWED_HOSTS",
        "les noms d'hôte auxquels le proxy répond en plus de localhost, 127.0.0.1 et [::1], "
        "séparés par des virgules (`*` : tous ; sur Render, son propre nom s'ajoute)",
        "liste",
        "aucun autre",
        LOOPBACK_HOSTS,
    )
    host: str = _setting(
        "ATELIER_PROXY_HOST",
        "où écoute `python -m helpers.proxy` (son port : la variable `PORT`, 8787 par défaut)",
        "hôte",
        "127.0.0.1 (0.0.0.0 quand `RENDER` est défini)",
        "127.0.0.1",
    )

    def __post_init__(self) -> None:
        origins = tuple(dict.fromkeys(normalize_origin(o) for o in self.allowed_origins))
        object.__setattr__(self, "allowed_origins", origins)
        hosts = tuple(dict.fromkeys(host_name(h) for h in self.allowed_hosts if h.strip()))
        object.__setattr__(self, "allowed_hosts", hosts)
        for name in (
            "max_tokens",
            "max_messages",
            "max_message_chars",
            "max_body_bytes",
            "rate_limit",
        ):
            if getattr(self, name) < 1:
                raise ProxyConfigError(f"Le réglage {name} doit valoir au moins 1.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProxySettings:
        env = os.environ if env is None else env
        static_raw = env.get("ATELIER_PROXY_STATIC_DIR", "").strip()
        static: Path | None
        if static_raw.lower() in ("off", "none", "0", "non"):
            static = None
        else:
            static = Path(static_raw).expanduser() if static_raw else DEFAULT_STATIC_DIR
        origins = [o for o in env.get("ATELIER_PROXY_ALLOWED_ORIGINS", "").split(",") if o.strip()]
        return cls(
            model=env.get("ATELIER_PROXY_MODEL", "").strip() or None,
            api_key=(
                env.get("ATELIER_PROXY_API_KEY", "").strip()
                or env.get("OPENAI_API_KEY", "").strip()
                or None
            ),
            base_url=(
                env.get("ATELIER_PROXY_BASE_URL", "").strip()
                or env.get("OPENAI_BASE_URL", "").strip()
                or None
            ),
            allowed_origins=tuple(origins),
            system_prompt=env.get("ATELIER_PROXY_SYSTEM", "").strip() or None,
            max_tokens=_env_int(env, "ATELIER_PROXY_MAX_TOKENS", 300, 1),
            max_messages=_env_int(env, "ATELIER_PROXY_MAX_MESSAGES", 20, 1),
            max_message_chars=_env_int(env, "ATELIER_PROXY_MAX_CHARS", 2000, 1),
            max_body_bytes=_env_int(env, "ATELIER_PROXY_MAX_BODY", 32_000, 1),
            rate_limit=_env_int(env, "ATELIER_PROXY_RATE_LIMIT", 10, 1),
            rate_window=_env_float(env, "ATELIER_PROXY_RATE_WINDOW", 60.0),
            daily_limit=_env_int(env, "ATELIER_PROXY_DAILY_LIMIT", 500, 0),
            timeout=_env_float(env, "ATELIER_PROXY_TIMEOUT", 30.0),
            forwarded_hops=_env_int(env, "ATELIER_PROXY_FORWARDED_HOPS", 0, 0),
            static_dir=static,
            allowed_hosts=_hosts_from_env(env),
            # On Render (which sets RENDER=true) the service must listen beyond loopback.
            host=env.get("ATELIER_PROXY_HOST", "").strip()
            or ("0.0.0.0" if env.get("RENDER") else "127.0.0.1"),
        )

    def host_allowed(self, host: str) -> bool:
        return "*" in self.allowed_hosts or host_name(host) in self.allowed_hosts

    def public_limits(self) -> dict[str, Any]:
        """What the page may know (shown by /healthz): no key, no model name, no URL."""
        return {
            "max_messages": self.max_messages,
            "max_chars": self.max_message_chars,
            "max_tokens": self.max_tokens,
            "rate_limit": self.rate_limit,
            "rate_window_s": self.rate_window,
        }


def _hosts_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """Loopback names, `ATELIER_PROXY_ALLOWED_HOSTS` (comma-separated, `*` for any) and, on
    Render, the service's own host name (`RENDER_EXTERNAL_HOSTNAME`, set by Render)."""
    hosts = list(LOOPBACK_HOSTS)
    hosts += [h for h in env.get("ATELIER_PROXY_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if env.get("RENDER_EXTERNAL_HOSTNAME", "").strip():
        hosts.append(env["RENDER_EXTERNAL_HOSTNAME"])
    return tuple(hosts)


# --------------------------------------------------------------------------- rate limits


class SlidingWindow:
    """At most `limit` events per `window` seconds per key (bounded memory, thread-safe)."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 10_000, clock=time.monotonic):
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one event; returns 0 when allowed, else the seconds to wait (not counted)."""
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque()
                while len(self._events) > self.max_keys:
                    self._events.popitem(last=False)
            self._events.move_to_end(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 0.001)
            events.append(now)
            return 0.0


# --------------------------------------------------------------------------- errors


class ProxyError(Exception):
    """An answer for the browser: status, French message, short code, extra headers."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "code": code}},
        status_code=status,
        headers=dict(headers or {}),
    )


def _retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


# --------------------------------------------------------------------------- the proxy


class ChatProxy:
    """The chat route, its limits and its upstream client."""

    def __init__(self, settings: ProxySettings):
        self.settings = settings
        self.per_client = SlidingWindow(settings.rate_limit, settings.rate_window)
        self.daily = SlidingWindow(settings.daily_limit, 86_400.0) if settings.daily_limit else None
        self._client: Any = None
        self._client_loop: Any = None

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
            f"Ce proxy n'accepte pas les pages de l'origine {origin[:100]!r}. Si c'est ta page, "
            "ajoute son origine exacte (ex. https://ton-pseudo.github.io) à "
            "ATELIER_PROXY_ALLOWED_ORIGINS sur le serveur du proxy.",
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
        return request.client.host if request.client else "inconnu"

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
                f"Ce proxy ne répond pas au nom d'hôte {host[:100]!r}. Si c'est bien l'adresse de "
                "ton proxy, ajoute ce nom à ATELIER_PROXY_ALLOWED_HOSTS sur le serveur du proxy.",
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
                415, "Envoie du JSON (en-tête Content-Type: application/json).", "bad_content_type"
            )
        body = await self._read_body(request)
        wait = self.per_client.hit(self.client_id(request))
        if wait:
            raise ProxyError(
                429,
                f"Trop de messages d'un coup : ce proxy accepte {s.rate_limit} requête{'s' if s.rate_limit > 1 else ''} par "
                f"{s.rate_window:g} s. Réessaie dans {_retry_after(wait)} s.",
                "rate_limited",
                {"Retry-After": _retry_after(wait)},
            )
        messages, max_tokens = self.validate(body)
        if not s.model:
            raise ProxyError(
                503,
                "Le proxy n'a pas de modèle configuré (variable ATELIER_PROXY_MODEL).",
                "no_model",
            )
        if not s.api_key:
            raise ProxyError(
                503,
                "Le proxy n'a pas de clé API configurée (variable OPENAI_API_KEY sur le serveur).",
                "no_key",
            )
        if self.daily is not None:
            wait = self.daily.hit("*")
            if wait:
                raise ProxyError(
                    429,
                    f"Ce proxy a atteint sa limite de {s.daily_limit} réponses par 24 h (pour protéger "
                    "le budget). Réessaie plus tard.",
                    "daily_limit",
                    {"Retry-After": _retry_after(wait)},
                )
        return await self._call_upstream(messages, max_tokens)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        too_big = ProxyError(
            413,
            f"Requête trop volumineuse (plus de {limit} octets). Raccourcis ton message ou efface "
            "le début de la conversation.",
            "body_too_large",
        )
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise too_big
            except ValueError:
                raise ProxyError(400, "En-tête Content-Length invalide.", "bad_request") from None
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
                400, "La connexion a été coupée pendant l'envoi.", "client_disconnect"
            ) from None
        return b"".join(chunks)

    def validate(self, raw: bytes) -> tuple[list[dict[str, str]], int]:
        """Keep only what the server allows: user/assistant text messages and a clamped max_tokens."""
        s = self.settings
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ProxyError(
                400, "Le corps de la requête n'est pas du JSON valide.", "bad_json"
            ) from None
        if not isinstance(body, dict):
            raise ProxyError(
                400,
                'La requête doit être un objet JSON de la forme {"messages": [{"role": "user", "content": "…"}]}.',
                "bad_request",
            )
        model = body.get("model")
        if model is not None and model != s.model:
            raise ProxyError(
                400,
                "Ce proxy choisit lui-même le modèle : la page ne peut pas en demander un autre. "
                "Retire le champ « model » de la requête (le modèle se règle côté serveur, "
                "variable ATELIER_PROXY_MODEL).",
                "model_not_allowed",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ProxyError(
                400,
                'Il manque la liste « messages » (au moins un message {"role": "user", "content": "…"}).',
                "bad_messages",
            )
        kept: list[dict[str, str]] = []
        for i, msg in enumerate(messages, start=1):
            if not isinstance(msg, dict):
                raise ProxyError(
                    400,
                    f"Le message n°{i} doit être un objet avec « role » et « content ».",
                    "bad_messages",
                )
            role, content = msg.get("role"), msg.get("content")
            if role not in ROLES:
                raise ProxyError(
                    400,
                    f"Message n°{i} : rôle {str(role)[:20]!r} refusé. La page peut envoyer « user » et "
                    "« assistant » ; le message système est fixé par le serveur.",
                    "bad_role",
                )
            if not isinstance(content, str) or not content.strip():
                raise ProxyError(
                    400, f"Message n°{i} : « content » doit être un texte non vide.", "bad_content"
                )
            if not _is_text(content):
                raise ProxyError(
                    400,
                    f"Message n°{i} : « content » contient un caractère invalide (une moitié de "
                    "paire UTF-16 seule). Retape le message.",
                    "bad_content",
                )
            if len(content) > s.max_message_chars:
                raise ProxyError(
                    400,
                    f"Message n°{i} trop long : {len(content)} caractères, maximum {s.max_message_chars}. "
                    "Raccourcis-le.",
                    "message_too_long",
                )
            kept.append({"role": role, "content": content})
        if kept[-1]["role"] != "user":
            raise ProxyError(
                400,
                "Le dernier message doit venir de l'utilisateur (rôle « user »).",
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
            raise ProxyError(400, "« max_tokens » doit être un nombre entier.", "bad_max_tokens")
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
                f"Le modèle n'a pas répondu dans les {s.timeout:g} s prévues. Réessaie dans un moment.",
                "upstream_timeout",
            ) from None
        except openai.APIConnectionError as exc:
            log.warning("upstream unreachable (%s)", type(exc).__name__)
            raise ProxyError(
                502,
                "Le proxy n'arrive pas à joindre l'API du modèle. Réessaie dans un moment.",
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
                502, "L'API du modèle a renvoyé une réponse inattendue.", "upstream_error"
            ) from None
        try:
            choice = completion.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise ProxyError(
                502, "L'API du modèle a renvoyé une réponse sans texte.", "upstream_error"
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
                "L'API du modèle refuse la clé configurée sur le serveur du proxy (clé invalide, révoquée ou sans accès à ce modèle).",
                "upstream_auth",
            )
        if status == 404:
            return ProxyError(
                502,
                "L'API du modèle ne trouve pas le modèle configuré (ATELIER_PROXY_MODEL) : vérifie son nom exact.",
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
                "L'API du modèle limite le débit ou le crédit du compte est épuisé. Réessaie plus tard.",
                "upstream_rate_limited",
                headers,
            )
        if 400 <= status < 500:
            return ProxyError(
                502, f"L'API du modèle a refusé la requête (HTTP {status}).", "upstream_refused"
            )
        return ProxyError(
            502,
            f"L'API du modèle est en panne (HTTP {status}). Réessaie dans un moment.",
            "upstream_error",
        )


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


def _not_json(literal: str) -> Any:
    raise ValueError(f"{literal} is not JSON")  # NaN, Infinity: Python accepts them, JSON does not


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800")
        return False
    return True


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (unknown route, wrong method) as the proxy's JSON errors."""
    status = getattr(exc, "status_code", 404)
    headers = dict(getattr(exc, "headers", None) or {})
    if status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or "POST"
        return error_response(
            405,
            f"Méthode {request.method[:10]} refusée sur {request.url.path[:100]} : cette adresse "
            f"accepte seulement {allowed}.",
            "method_not_allowed",
            headers,
        )
    if status == 404:
        return await _no_page(request)
    return error_response(status, f"Requête refusée (HTTP {status}).", "bad_request", headers)


async def _no_page(request: Request) -> Response:
    return error_response(
        404, "Pas de page ici : ce proxy ne sert que /api/chat et /healthz.", "not_found"
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


# --------------------------------------------------------------------------- serving


@dataclass(frozen=True)
class ReadTimeouts:
    """How long a client may take to send its request, on every server the kit starts (this
    proxy, the kit server, the class server: `helpers.asgi_thread` takes them from here, as the
    proxy imports nothing of the kit).

    uvicorn has no timeout of its own while a request arrives (its keep-alive timeout counts
    only between requests): a client that never finishes its headers, or trickles its body,
    holds a connection forever (uvicorn issue #157). As Apache's mod_reqtimeout does: the
    request line and headers within `header` seconds of the connection (or of the request's
    first byte on a kept-alive connection); the body within `body` seconds, extended by one
    second per `body_min_rate` bytes received, so any upload faster than that rate never
    times out. Time the server itself holds the body back (its buffer is full, a `100
    Continue` not sent yet) does not count. Beyond: the connection is closed.
    """

    header: float = 20.0
    body: float = 30.0
    body_min_rate: float = 16_384.0


def http_protocol(timeouts: ReadTimeouts | None = None) -> type:
    """uvicorn's h11 protocol with `timeouts` (give it to `uvicorn.Config(http=…)`)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    limits = timeouts or ReadTimeouts()

    class TimedH11Protocol(H11Protocol):
        """`H11Protocol` that closes a connection whose request does not arrive in time."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._waiting = "headers"  # "headers" | "body" | "idle" (keep-alive) | "served"
            self._timer: Any = None
            self._body_since = 0.0
            self._body_bytes = 0

        def _arm(self, when: float) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(when, self._expire)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _await_headers(self) -> None:
            self._waiting = "headers"
            self._arm(self.loop.time() + limits.header)

        def _body_due(self) -> float:
            return self._body_since + limits.body + self._body_bytes / limits.body_min_rate

        def _expire(self) -> None:
            self._timer = None
            if self._waiting == "body":
                held = self.flow is not None and self.flow.read_paused
                cycle = self.cycle
                held = held or (cycle is not None and cycle.waiting_for_100_continue)
                if held:  # the server holds the body back: the client cannot send it
                    self._body_since = self.loop.time() - self._body_bytes / limits.body_min_rate
                due = self._body_due()
                if held or self.loop.time() < due:
                    self._arm(max(due, self.loop.time() + 0.05))
                    return
            if self._waiting in ("headers", "body") and not self.transport.is_closing():
                self.logger.info("closing a connection whose request did not arrive in time")
                self.transport.close()

        def _track(self) -> None:
            """Follow the request's progress (h11's state of the client) after each event."""
            if self.transport is None or self.transport.is_closing():
                self._disarm()
                return
            state = self.conn.their_state
            if state is h11.IDLE:
                if self._waiting not in ("headers", "idle"):
                    self._waiting = "idle"
                    self._disarm()
                if self._waiting == "idle" and self.conn.trailing_data[0]:
                    self._await_headers()  # the next request has begun (pipelined)
            elif state is h11.SEND_BODY:
                if self._waiting != "body":
                    self._waiting = "body"
                    self._body_since, self._body_bytes = self.loop.time(), 0
                    self._arm(self._body_due())
            elif self._waiting in ("headers", "body"):  # the whole request is in
                self._waiting = "served"
                self._disarm()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._await_headers()

        def data_received(self, data: bytes) -> None:
            if self._waiting == "idle":
                self._await_headers()
            elif self._waiting == "body":
                self._body_bytes += len(data)
            super().data_received(data)
            self._track()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._track()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return TimedH11Protocol


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


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
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
