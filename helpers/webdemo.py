"""Step 8 in a notebook: start the key-hiding proxy, show the page, prove the key stays hidden.

    from helpers import webdemo
    url = webdemo.start()          # proxy + page on a free loopback port, current mode's model
    webdemo.show()                 # the page in the notebook (local, JupyterHub or Colab)
    webdemo.check_key_hidden()     # fetch what a browser gets; ✅ if the key is nowhere
    webdemo.stop()

The proxy (`helpers.proxy`) runs in a daemon thread of the kernel. In `openai` mode it uses
the learner's key; in `sandbox` and `local` modes the kit server's own key (the workspace's,
or the student's on a class server) — the check then looks for that one. The key is never
printed nor returned.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from . import proxy as proxy_mod
from .asgi_thread import Running, serve_in_thread
from .exceptions import WebDemoError
from .i18n import N_, _
from .modes import Mode

DEFAULT_HEIGHT = 520
LIMITS = {
    "max_tokens",
    "max_messages",
    "max_message_chars",
    "max_body_bytes",
    "rate_limit",
    "rate_window",
    "daily_limit",
    "timeout",
    "static_dir",
}


@dataclass
class Demo:
    """A running proxy: where it listens and which model it serves (no key in here but hidden)."""

    url: str
    port: int
    model: str
    mode: str
    settings: proxy_mod.ProxySettings = field(repr=False)
    _running: Running | None = field(repr=False, default=None)

    def __str__(self) -> str:
        return _("Proxy de l'étape 8 sur {url} (modèle {model}, mode {mode})").format(
            url=self.url, model=self.model, mode=self.mode
        )

    def _stop(self) -> None:
        if self._running is not None:
            self._running.stop()


def _not_started(reason: str) -> Exception:
    return WebDemoError(_("Le serveur de l'étape 8 n'a pas démarré{reason}.").format(reason=reason))


_current: Demo | None = None
_lock = threading.Lock()


# --------------------------------------------------------------------------- serving


# --------------------------------------------------------------------------- start / stop


def _upstream_for_mode(mode: Mode) -> tuple[str | None, str]:
    from . import client, settings

    base_url = client.base_url(mode)
    if mode.traits.needs_key:
        key = settings.find_api_key()
        if not key:
            raise client.MissingKeyError(
                _(
                    "Mode « openai » mais aucune clé trouvée : le proxy en a besoin pour appeler "
                    "ton modèle. Donne ta clé dans le formulaire du notebook 02 (ou "
                    "OPENAI_API_KEY=… dans .env ou les secrets Colab), puis relance cette cellule."
                )
            )
        return base_url, key
    # The kit's server (the workspace's, or the class's): its key, which the page must not see
    # either (`check_key_hidden` looks for it).
    return base_url, client.kit_server_key()


def start(
    model: str | None = None,
    *,
    mode: str | Mode | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    system: str | None = None,
    allowed_origins: tuple[str, ...] | list[str] = (),
    port: int = 0,
    **limits: Any,
) -> str:
    """Start (or restart) the proxy for the current mode; returns its local URL.

    `model` defaults to the workspace's fine-tuned model (step 6). `base_url`/`api_key`
    override the mode's endpoint (tests). `limits` are `ProxySettings` fields such as
    `rate_limit=5` or `max_tokens=100`.
    """
    from . import settings, workspace

    mode = settings.resolve_mode(mode)
    model = model or workspace.get("fine_tuned_model", mode=mode)
    if not model:
        raise WebDemoError(
            _(
                "Pas encore de modèle fine-tuné en mode « {mode} » : termine l'étape 6 "
                '(notebook 06) ou donne le nom du modèle : webdemo.start(model="ft:…").'
            ).format(mode=mode)
        )
    if base_url is None and api_key is None:
        base_url, api_key = _upstream_for_mode(mode)
    elif api_key is None:
        api_key = "sk-atelier-demo-" + secrets.token_hex(16)
    unknown = set(limits) - LIMITS
    if unknown:
        raise WebDemoError(
            _("Réglage inconnu pour le proxy : {unknown}. Réglages possibles : {known}.").format(
                unknown=", ".join(sorted(unknown)), known=", ".join(sorted(LIMITS))
            )
        )
    proxy_settings = proxy_mod.ProxySettings(
        model=model,
        api_key=api_key,
        base_url=base_url,
        system_prompt=system,
        allowed_origins=tuple(allowed_origins),
        # Behind a hub or Colab the browser is on another machine and reaches the proxy through
        # an authenticated Jupyter proxy with its own host name; on a learner's machine, loopback
        # names only (DNS rebinding).
        allowed_hosts=("*",) if where() in ("colab", "jupyterhub") else proxy_mod.LOOPBACK_HOSTS,
        **limits,
    )
    global _current
    with _lock:
        if _current is not None:
            # a restart keeps the port, so a page already shown (webdemo.show) keeps working
            port = port or _current.port
            _current._stop()
            _current = None
        app = proxy_mod.create_app(proxy_settings)
        try:
            running = serve_in_thread(app, port=port, name="atelier-proxy", failure=_not_started)
        except OSError:  # the old port is not free yet
            running = serve_in_thread(app, port=0, name="atelier-proxy", failure=_not_started)
        real_port = running.port
        _current = Demo(
            url=f"http://127.0.0.1:{real_port}/",
            port=real_port,
            model=model,
            mode=mode,
            settings=proxy_settings,
            _running=running,
        )
        return _current.url


def stop() -> None:
    """Stop the running proxy (nothing happens when none runs)."""
    global _current
    with _lock:
        if _current is not None:
            _current._stop()
            _current = None


def current() -> Demo | None:
    """The running demo (url, port, model, mode), or None."""
    return _current


def _require_current() -> Demo:
    if _current is None:
        raise WebDemoError(_("Le proxy n'est pas démarré : lance d'abord webdemo.start()."))
    return _current


# --------------------------------------------------------------------------- showing


def where() -> str:
    """'colab', 'jupyterhub' (also Binder) or 'local': how the browser reaches the kernel."""
    from . import settings

    if settings.on_colab():
        return "colab"
    if os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        return "jupyterhub"
    return "local"


def hub_path(port: int) -> str:
    """jupyter-server-proxy's path for a kernel port: `{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/`."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return f"{prefix.rstrip('/')}/proxy/{port}/"


def browser_url(port: int | None = None) -> str:
    """The address your browser should open (a path on JupyterHub, a URL elsewhere)."""
    port = port or _require_current().port
    place = where()
    if place == "jupyterhub":
        return hub_path(port)
    if place == "colab":
        try:
            from google.colab import output

            return str(output.eval_js(f"google.colab.kernel.proxyPort({port})"))
        except Exception:
            return f"http://127.0.0.1:{port}/"
    return f"http://127.0.0.1:{port}/"


def show(*, height: int = DEFAULT_HEIGHT, port: int | None = None) -> None:
    """Display the page inside the notebook, with a link to open it in a new tab."""
    from IPython.display import HTML, IFrame, display

    port = port or _require_current().port
    place = where()
    if place == "colab":
        from google.colab import output

        output.serve_kernel_port_as_iframe(port, height=str(height))
        output.serve_kernel_port_as_window(
            port, anchor_text="↗️ " + _("Ouvrir la page dans un nouvel onglet")
        )
        return
    src = browser_url(port)
    display(IFrame(src=src, width="100%", height=height))
    note = ""
    if place == "jupyterhub":
        note = " " + _(
            "Si la page reste vide, le serveur Jupyter n'a peut-être pas jupyter-server-proxy : "
            "<code>pip install jupyter-server-proxy</code> puis redémarre ton serveur (Hub → "
            "Control Panel)."
        )
    link = _("Ouvrir la page dans un nouvel onglet")
    display(
        HTML(
            f'<p>↗️ <a href="{html.escape(src)}" target="_blank" rel="noopener">{link}</a> '
            f"({html.escape(src)}).{note}</p>"
        )
    )


# --------------------------------------------------------------------------- the key check


@dataclass
class Fetched:
    """One thing the browser receives."""

    label: str
    path: str
    status: int
    size: int
    key_found: bool


@dataclass
class KeyCheckReport:
    """What `check_key_hidden` fetched, and whether the key was anywhere in it."""

    items: list[Fetched]
    reply: str | None
    prompt: str = "Bonjour"  # what the model was asked (check_key_hidden's `prompt`)

    @property
    def ok(self) -> bool:
        return bool(self.items) and not any(i.key_found for i in self.items)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [
            (
                _("❌ {label} ({path}) : HTTP {status}, {size} octets — LA CLÉ Y FIGURE !")
                if i.key_found
                else _("✅ {label} ({path}) : HTTP {status}, {size} octets, pas de clé")
            ).format(label=_(i.label), path=i.path, status=i.status, size=i.size)
            for i in self.items
        ]
        if self.reply is not None:
            lines.append(
                _("Réponse du modèle à « {prompt} » : {reply}").format(
                    prompt=self.prompt, reply=repr(self.reply)
                )
            )
        lines.append(self._verdict())
        return "\n".join(lines)

    def _verdict(self) -> str:
        return (
            _("✅ La clé n'apparaît dans rien de ce que reçoit le navigateur.")
            if self.ok
            else _("❌ La clé apparaît dans ce que reçoit le navigateur : ne publie pas ce proxy.")
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{'❌' if i.key_found else '✅'}</td><td>{html.escape(_(i.label))}</td>"
            f"<td><code>{html.escape(i.path)}</code></td><td>{i.status}</td><td>{i.size}</td></tr>"
            for i in self.items
        )
        verdict = self._verdict()
        reply = (
            "<p>"
            + _("Réponse du modèle à « {prompt} » : {reply}").format(
                prompt=html.escape(self.prompt), reply=f"<b>{html.escape(self.reply)}</b>"
            )
            + "</p>"
            if self.reply
            else ""
        )
        heads = "".join(
            f"<th>{h}</th>"
            for h in ("", _("Ce que reçoit le navigateur"), _("adresse"), "HTTP", _("octets"))
        )
        return (
            f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>"
            f"{reply}<p>{verdict}</p>"
        )


def _fetch(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """GET/POST with the standard library; returns (status, headers + body as text)."""
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback/known URL)
            status, head, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, head, body = err.code, err.headers, err.read()
    except OSError as err:
        raise WebDemoError(
            _("Impossible de joindre {url} ({error}) : le proxy est-il démarré ?").format(
                url=url, error=type(err).__name__
            )
        ) from None
    head_text = "\n".join(f"{k}: {v}" for k, v in head.items())
    return status, head_text + "\n\n" + body.decode("utf-8", errors="replace")


def _contains_key(text: str, key: str, window: int = 16) -> bool:
    """The whole key, or any 16 consecutive characters of it (catches partial leaks)."""
    if key in text:
        return True
    if len(key) <= window:
        return False
    return any(key[i : i + window] in text for i in range(len(key) - window + 1))


def check_key_hidden(
    url: str | None = None, *, key: str | None = None, prompt: str | None = None
) -> KeyCheckReport:
    """Fetch everything a browser gets from the proxy and look for the key in it.

    Fetches the page, every script and stylesheet it links, `/healthz`, a chat answer and a
    refused request (errors must not leak either) — bodies and headers. Returns a report
    (`bool(report)` is True when the key is nowhere); the key itself is never shown. `prompt`:
    what the chat is asked (default « Bonjour », "Hello" in English).
    """
    if prompt is None:
        prompt = _("Bonjour")
    demo = _current
    if url is None:
        url = _require_current().url
    if key is None:
        if demo is not None and demo.url == url:
            key = demo.settings.api_key
        else:
            from . import settings

            key = settings.find_api_key()
    if not key:
        raise WebDemoError(
            _(
                "Je ne connais pas la clé à chercher : passe-la avec key=… (elle ne sera pas affichée)."
            )
        )
    base = url if url.endswith("/") else url + "/"
    items: list[Fetched] = []

    def record(label: str, path: str, status: int, text: str) -> None:
        items.append(Fetched(label, path, status, len(text.encode()), _contains_key(text, key)))

    status, page = _fetch(base)
    record(N_("La page"), "/", status, page)
    for tag, attr in (("script", "src"), ("link", "href")):
        for ref in re.findall(rf"<{tag}\b[^>]*\b{attr}=\"([^\"]+)\"", page):
            if ref.startswith(("http:", "https:", "//", "data:")):
                continue
            status, text = _fetch(urljoin(base, ref))
            record(
                N_("Script") if tag == "script" else N_("Feuille de style"),
                "/" + ref.lstrip("./"),
                status,
                text,
            )
    status, text = _fetch(urljoin(base, "healthz"))
    record(N_("État du proxy"), "/healthz", status, text)
    chat_url = urljoin(base, "api/chat")
    json_headers = {"Content-Type": "application/json"}
    body = json.dumps({"messages": [{"role": "user", "content": prompt}]}).encode()
    status, text = _fetch(chat_url, data=body, headers=json_headers)
    record(N_("Réponse du chat"), "/api/chat", status, text)
    reply: str | None = None
    try:
        reply = json.loads(text.split("\n\n", 1)[1])["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        reply = None
    refused = json.dumps(
        {"model": "gpt-autre-modele", "messages": [{"role": "user", "content": prompt}]}
    ).encode()
    status, text = _fetch(chat_url, data=refused, headers=json_headers)
    record(N_("Erreur (autre modèle demandé)"), "/api/chat", status, text)
    return KeyCheckReport(items=items, reply=reply, prompt=prompt)


__all__ = [
    "Demo",
    "KeyCheckReport",
    "WebDemoError",
    "browser_url",
    "check_key_hidden",
    "current",
    "hub_path",
    "show",
    "start",
    "stop",
    "where",
]
