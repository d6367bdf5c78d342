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

from .translation import N_, SOURCE_LANGUAGE, in_language, speaks

DEFAULT_STATIC_DIR = Path(__file__).resolve().parents[2] / "web"


class ProxyConfigError(ValueError):
    """A setting the proxy cannot use (French message, never containing the key)."""


# --------------------------------------------------------------------------- settings


def normalize_origin(value: str) -> str:
    """`https://Exemple.github.io/` → `https://exemple.github.io`; refuses wildcards and paths."""
    raw = value.strip()
    if not raw:
        raise ProxyConfigError(_("Origine vide dans ATELIER_PROXY_ALLOWED_ORIGINS."))
    if "*" in raw or raw.lower() == "null":
        raise ProxyConfigError(
            _(
                "Origine refusée : {raw!r}. Le proxy n'accepte ni « * » ni motif : écris chaque "
                "origine en entier, par exemple https://ton-pseudo.github.io"
            ).format(raw=raw)
        )
    parts = urlsplit(raw.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProxyConfigError(
            _(
                "Origine invalide : {raw!r}. Forme attendue : https://nom-de-domaine (sans chemin)."
            ).format(raw=raw)
        )
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ProxyConfigError(
            _(
                "Origine invalide : {raw!r}. Une origine n'a pas de chemin : garde seulement "
                "{origin} (GitHub Pages : https://ton-pseudo.github.io)."
            ).format(raw=raw, origin=f"{parts.scheme}://{parts.netloc}")
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ProxyConfigError(
            _("{name} doit être un nombre entier (reçu {raw!r}).").format(name=name, raw=raw)
        ) from None
    if value < minimum:
        raise ProxyConfigError(
            _("{name} doit valoir au moins {minimum} (reçu {value}).").format(
                name=name, minimum=minimum, value=value
            )
        )
    return value


def _env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ProxyConfigError(
            _("{name} doit être un nombre (reçu {raw!r}).").format(name=name, raw=raw)
        ) from None
    if not value > 0:
        raise ProxyConfigError(
            _("{name} doit être strictement positif (reçu {raw!r}).").format(name=name, raw=raw)
        )
    return value


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
LANGUAGE_VAR = "ATELIER_LANG"  # the kit's language setting (helpers.settings), read here too


def proxy_language(env: Mapping[str, str] | None = None) -> str:
    """The proxy's language: `ATELIER_LANG` (`en`, `en_GB.UTF-8`… → en) when the proxy speaks
    it, else French (the source language)."""
    env = os.environ if env is None else env
    raw = env.get(LANGUAGE_VAR, "").strip().lower()
    code = raw.replace("-", "_").split("_")[0].split(".")[0]
    return code if code and speaks(code) else SOURCE_LANGUAGE


def _(message: str) -> str:
    """`message` (French) in the environment's language (the settings' errors)."""
    return in_language(proxy_language(), message)


def host_name(host: str) -> str:
    """`Host` header → host name without port, lower case (`[::1]:8787` → `[::1]`)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _setting(var: str, doc: str, kind: str, shown: str, default: Any = None, **kw: Any) -> Any:
    """A field of `ProxySettings`: the variable it comes from, what it does (French, marked
    `N_` for the catalogs, for docs/reglages.md's table, generated with the kit's own
    settings), its type and default."""
    area = "proxy (étape 8)"  # i18n: keep (a key of tools/settings_table.py's AREAS)
    meta = {"var": var, "doc": doc, "kind": kind, "default": shown, "area": area}
    return field(default=default, metadata=meta, **kw)


@dataclass(frozen=True)
class ProxySettings:
    """Everything the proxy needs, one field per `ATELIER_PROXY_*` variable (`from_env`).
    The key is hidden from `repr`."""

    model: str | None = _setting(
        "ATELIER_PROXY_MODEL",
        N_("le modèle appelé (obligatoire) ; une requête qui en nomme un autre est refusée"),
        N_("texte"),
        "—",
    )
    api_key: str | None = _setting(
        "ATELIER_PROXY_API_KEY",
        N_("la clé de l'API, côté serveur seulement (jamais renvoyée ni écrite dans le journal)"),
        N_("texte (secret)"),
        "`OPENAI_API_KEY`",
        repr=False,
    )
    base_url: str | None = _setting(  # may hold a key (`?api-key=…`)
        "ATELIER_PROXY_BASE_URL",
        N_("une autre API compatible avec OpenAI (le bac à sable…)"),
        N_("adresse"),
        N_("`OPENAI_BASE_URL`, sinon OpenAI"),
        repr=False,
    )
    allowed_origins: tuple[str, ...] = _setting(
        "ATELIER_PROXY_ALLOWED_ORIGINS",
        N_(
            "les origines exactes autorisées à appeler depuis un autre site, séparées par des "
            "virgules, ex. `https://ton-pseudo.github.io` (ni `*` ni motif)"
        ),
        N_("liste"),
        N_("aucune (seulement la page servie par le proxy)"),
        (),
    )
    system_prompt: str | None = _setting(
        "ATELIER_PROXY_SYSTEM",
        N_("un message système que le serveur met en premier"),
        N_("texte"),
        N_("aucun"),
    )
    max_tokens: int = _setting(
        "ATELIER_PROXY_MAX_TOKENS",
        N_("le plafond de `max_tokens` (une demande plus grande est ramenée au plafond)"),
        N_("entier"),
        "300",
        300,
    )
    max_messages: int = _setting(
        "ATELIER_PROXY_MAX_MESSAGES",
        N_("les messages gardés d'une conversation (les plus récents)"),
        N_("entier"),
        "20",
        20,
    )
    max_message_chars: int = _setting(
        "ATELIER_PROXY_MAX_CHARS",
        N_("les caractères permis dans un message"),
        N_("entier"),
        "2000",
        2000,
    )
    max_body_bytes: int = _setting(
        "ATELIER_PROXY_MAX_BODY",
        N_("la taille d'une requête en octets (au-delà : 413)"),
        N_("entier"),
        "32000",
        32_000,
    )
    rate_limit: int = _setting(
        "ATELIER_PROXY_RATE_LIMIT",
        N_("les requêtes par personne et par fenêtre (au-delà : 429)"),
        N_("entier"),
        "10",
        10,
    )
    rate_window: float = _setting(
        "ATELIER_PROXY_RATE_WINDOW",
        N_("la fenêtre de ce compte, en secondes"),
        N_("secondes"),
        "60",
        60.0,
    )
    daily_limit: int = _setting(
        "ATELIER_PROXY_DAILY_LIMIT",
        N_("les réponses par 24 h pour tout le monde (0 : sans limite)"),
        N_("entier"),
        "500",
        500,
    )
    timeout: float = _setting(
        "ATELIER_PROXY_TIMEOUT",
        N_("les secondes d'attente de l'API (au-delà : 504)"),
        N_("secondes"),
        "30",
        30.0,
    )
    forwarded_hops: int = _setting(
        "ATELIER_PROXY_FORWARDED_HOPS",
        N_(
            "0 : la personne est l'adresse qui se connecte ; N : derrière N relais, la N-ième "
            "adresse en partant de la droite de `X-Forwarded-For` (Render : 2)"
        ),
        N_("entier"),
        "0",
        0,
    )
    static_dir: Path | None = _setting(
        "ATELIER_PROXY_STATIC_DIR",
        N_("le dossier de la page (`off` : pas de page)"),
        N_("chemin"),
        N_("`web/` à côté de `helpers/`"),
        DEFAULT_STATIC_DIR,
    )
    # Host names this proxy answers to ("*": any). On a learner's machine only loopback names:
    # a page whose domain an attacker re-points to 127.0.0.1 (DNS rebinding) would otherwise be
    # "same-origin" with the proxy and spend the key's budget.
    allowed_hosts: tuple[str, ...] = _setting(
        "ATELIER_PROXY_ALLOWED_HOSTS",
        N_(
            "les noms d'hôte auxquels le proxy répond en plus de localhost, 127.0.0.1 et [::1], "
            "séparés par des virgules (`*` : tous ; sur Render, son propre nom s'ajoute)"
        ),
        N_("liste"),
        N_("aucun autre"),
        LOOPBACK_HOSTS,
    )
    host: str = _setting(
        "ATELIER_PROXY_HOST",
        N_("où écoute `python -m helpers.proxy` (son port : la variable `PORT`, 8787 par défaut)"),
        N_("hôte"),
        N_("127.0.0.1 (0.0.0.0 quand `RENDER` est défini)"),
        "127.0.0.1",
    )
    # The language of the proxy's answers and of its page (`fr`, `en`): ATELIER_LANG, the kit's
    # own setting (documented with the kit's variables); None: ATELIER_LANG when the app starts.
    language: str | None = None

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
                raise ProxyConfigError(
                    _("Le réglage {name} doit valoir au moins 1.").format(name=name)
                )

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
            language=proxy_language(env),
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
