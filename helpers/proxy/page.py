"""The step-8 page's own texts (`web/`), in the proxy's language: `GET /api/page-text`.

The page is written in French; its texts are the msgids below, translated by the same
catalog as the proxy's answers (helpers/locale/<lang>/LC_MESSAGES/servers.mo). The page asks
the proxy for them when it loads and keeps its French when the proxy cannot be reached or
speaks French. tests/test_proxy_page_text.py checks that every text the page shows
(`t("…")` in app.js, `data-t` elements and attributes in index.html) is listed here."""

from __future__ import annotations

from .translation import N_

PAGE_TEXTS = (
    # index.html
    N_("Atelier fine-tuning — discute avec ton modèle"),
    N_("💬 Discute avec ton modèle"),
    N_("Étape 8 de l'atelier : une page web qui parle à ton modèle fine-tuné."),
    N_("Connexion au proxy…"),
    N_("Conversation"),
    N_("Écris un message ci-dessous, par exemple « Bonjour »."),
    N_("Ton message"),
    N_("Ton message… (Entrée pour envoyer, Maj+Entrée pour aller à la ligne)"),
    N_("Effacer la conversation"),
    N_("Effacer"),
    N_("Envoyer"),
    N_(
        "🔒 La clé API reste sur le serveur du proxy : cette page ne la connaît pas. Le proxy "
        "choisit le modèle et limite la longueur et le nombre des messages."
    ),
    # app.js
    N_("le proxy qui sert cette page"),
    N_(
        "Impossible de joindre le proxy ({proxy}). Il est peut-être arrêté : relance la cellule "
        "du notebook 08 qui le démarre (webdemo.start), ou ton service Render."
    ),
    N_(
        "Impossible de joindre le proxy ({proxy}). Il est peut-être arrêté : relance ton service "
        "Render. Vérifie aussi l'adresse du proxy écrite dans index.html, et que l'adresse de "
        "cette page figure dans la liste des pages autorisées du proxy (la variable "
        "d'environnement ATELIER_PROXY_ALLOWED_ORIGINS du service Render)."
    ),
    N_("Réessaie dans {wait} s."),
    N_("Réessaie dans un moment."),
    N_("⏳ Doucement !"),
    N_("Trop de messages d'un coup."),
    N_("⛔ Le proxy refuse cette page."),
    N_("✋ Le proxy refuse ce message."),
    N_("Le modèle met trop de temps à répondre."),
    N_("Le proxy ne répond pas correctement (HTTP {status}). Il est peut-être arrêté."),
    N_("⚠️ Réponse inattendue du proxy (HTTP {status})."),
    N_("Proxy joignable, mais pas encore configuré"),
    N_("Proxy joignable"),
    N_("Proxy injoignable"),
    N_("Proxy en difficulté"),
    N_("⌛ Pas de réponse du proxy après {seconds} s. Réessaie."),
    N_("(réponse vide)"),
    N_("✂️ Réponse coupée : le proxy limite sa longueur."),
    N_("Conversation effacée. Écris un nouveau message."),
)
