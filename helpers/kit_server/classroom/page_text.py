"""The teacher page's texts in the language of the request: `GET /classe/api/page-text`.

The page (`page/`) is written in French; its texts are the msgids below, translated by the
kit's catalogs (helpers.i18n, the servers' domain). The language: the class server's own
setting when the teacher set one (`ATELIER_LANG`), else the browser's `Accept-Language`, else
French. The page asks for its texts when it loads (no key needed: nothing here is secret) and
keeps its French when it cannot have them. tests/test_class_page_text.py checks that every
text the page shows (`t("…")` in its scripts, `data-t` elements and attributes in index.html)
is listed here.
"""

from __future__ import annotations

from starlette.requests import Request

from ... import settings
from ...i18n import LOCALE_DIR, N_, SOURCE_LANGUAGE, translations

# A job's status in words, shown on the page (the overview's `status_fr`, translated there).
STATUS_FR = {
    "validating_files": N_("vérification du fichier"),
    "queued": N_("en file d'attente"),
    "running": N_("entraînement en cours"),
    "paused": N_("en pause"),
    "succeeded": N_("terminé"),
    "failed": N_("échoué"),
    "cancelled": N_("annulé"),
}

PAGE_TEXTS = (
    # index.html
    N_("Atelier fine-tuning — la classe"),
    N_("🧑‍🏫 La classe"),
    N_("Où en est chaque élève : dataset envoyé, job, modèle qui répond « COUCOU »."),
    N_("Clé enseignant·e (donnée par"),
    N_("Ouvrir"),
    N_("Élève"),
    N_("Dataset"),
    N_("Job"),
    N_("Perte"),
    N_("Répond COUCOU ?"),
    N_("Stockage"),
    N_("File d'attente"),
    # app.js
    N_("Erreur {status}"),
    N_("{size} Mo"),
    N_(" — fin dans ~{seconds} s"),
    N_("✅ oui"),
    N_("non"),
    N_("{size} · {files} fichier(s)"),
    N_("⚠️ espace illisible (journal de la classe)"),
    N_("Annuler le job"),
    N_("Annuler le job de {name} ?"),
    N_("Personne n'attend."),
    N_(
        "Quotas par élève et par jour : {jobs} jobs, {tokens} jetons d'entraînement. Stockage "
        "par élève : {storage}, {files} fichiers. Moteur : {engine}."
    ),
    N_("{students} élève(s) ; {done} modèle(s) répondent « COUCOU »."),
    # evaluations.js
    N_("modèle de base"),
    N_("base + bon prompt"),
    N_("modèle fine-tuné"),
    N_(" (simulé)"),
    N_(" montrer les noms"),
    N_(" ({sign}{points} points sur le modèle de base)"),
    N_("Élève n° {rank}"),
    N_("Pas encore de modèle fine-tuné évalué."),
    N_("Classement des modèles fine-tunés (à montrer à la classe)"),
    N_(
        "Taux de réponses justes sur les questions mises de côté (dernière évaluation de chaque "
        "candidat, notebook 12)."
    ),
    N_(
        "Aucune évaluation reçue pour l'instant : elles arrivent quand les élèves exécutent le "
        "notebook 12."
    ),
    N_("Évaluations (notebook 12)"),
)


def spoken() -> tuple[str, ...]:
    """French and every language with a compiled catalog."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return (SOURCE_LANGUAGE, *(lang for lang in found if lang != SOURCE_LANGUAGE))


def accepted(header: str) -> list[str]:
    """`Accept-Language: en-GB,en;q=0.8,fr;q=0.5` → the primary languages, preferred first
    (RFC 9110 §12.5.4; q=0 means "not this one"; a weight outside 0–1 — `inf`, `1e309`,
    `nan` — is no weight: that entry is skipped, it cannot outrank the others)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        language = tag.strip().lower().replace("_", "-").split("-")[0]
        if language and language != "*" and quality > 0:
            ranked.append((-quality, index, language))
    return [language for _, _, language in sorted(ranked)]


def page_language(request: Request) -> str:
    """The class server's language when set (`ATELIER_LANG`), else the request's best
    `Accept-Language` the kit speaks, else French."""
    chosen = settings.current().lang
    if chosen:
        return chosen
    available = spoken()
    for language in accepted(request.headers.get("accept-language", "")):
        if language in available:
            return language
    return SOURCE_LANGUAGE


def texts(lang: str) -> dict[str, str]:
    """The page's French texts → their translation in `lang` (empty in French)."""
    if lang == SOURCE_LANGUAGE:
        return {}
    catalog = translations(lang)
    return {text: catalog.gettext(text) for text in (*PAGE_TEXTS, *STATUS_FR.values())}
