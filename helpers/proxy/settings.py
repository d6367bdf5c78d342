"""The proxy's settings: `ProxySettings`, one field per `ATELIER_PROXY_*` variable, read from
the environment by `ProxySettings.from_env()` (docs/reglages.md's table is generated from the
fields' metadata by tools/settings_table.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_STATIC_DIR = Path(__file__).resolve().parents[2] / "web"


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
