"""Build the `openai.OpenAI` client for the active mode.

Notebooks never choose an endpoint themselves: the mode does. In `sandbox` (and `local`)
mode the kit's own server is started on a free loopback port and the real SDK talks to it;
an inherited `OPENAI_BASE_URL` is ignored there. In `openai` mode the learner's key is used.
"""

from __future__ import annotations

import os
from typing import Any

from . import settings


class MissingKeyError(RuntimeError):
    """`openai` mode without a key (French message, never containing a key)."""


def base_url(mode: str | None = None) -> str | None:
    """Where the SDK will send requests in this mode (None: OpenAI's default)."""
    mode = settings.check_mode(mode) if mode else settings.get_mode()
    if mode in ("sandbox", "local"):
        from . import sandbox

        return sandbox.start(engine="local" if mode == "local" else "simulated")
    return os.environ.get("OPENAI_BASE_URL") or None


def client(mode: str | None = None, *, api_key: str | None = None, **options: Any):
    """A ready `openai.OpenAI`. Extra options (timeout, max_retries…) go to the SDK."""
    import openai

    mode = settings.check_mode(mode) if mode else settings.get_mode()
    if mode in ("sandbox", "local"):
        return openai.OpenAI(base_url=base_url(mode), api_key=api_key or "sandbox", **options)
    key = api_key or settings.find_api_key()
    if not key:
        raise MissingKeyError(
            "Mode « openai » mais aucune clé trouvée. Donne ta clé dans le formulaire du notebook 02 "
            "(ou mets OPENAI_API_KEY=… dans le fichier .env à la racine du dossier, ou dans les "
            "secrets Colab), puis relance cette cellule. Remarque : un `export`/`setx` fait dans un "
            "terminal n'atteint pas un serveur Jupyter déjà lancé."
        )
    return openai.OpenAI(api_key=key, base_url=base_url(mode), **options)
