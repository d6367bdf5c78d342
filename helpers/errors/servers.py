"""The kit's own servers and the learner's workspace: a workspace that cannot be written, the
kit server's 5xx and damaged database, and the class server's refusals (its key, the hub,
storage, the daily quota), said as the class meets them."""

from __future__ import annotations

import re
from pathlib import Path

from .. import settings
from ..exceptions import WorkspaceError
from ..i18n import _
from .diagnosis import Diagnosis, scrub
from .reading import retry_after


def workspace(folder: str, reason: str) -> Diagnosis:
    return Diagnosis(
        _("Espace de travail impossible à écrire"),
        _("Le kit range ton travail dans {folder}, mais {reason}.").format(
            folder=folder, reason=reason
        ),
        _(WorkspaceError.fix),
        "workspace",
    )


def kit_server_error(exc: BaseException, message: str) -> Diagnosis:
    """A 5xx of the kit's own server: not OpenAI's status page, the workspace's log file."""
    code = getattr(exc, "code", None)
    if code == "workspace_not_writable":
        reason = re.search(r"\((.*)\)", message)
        return workspace(settings.workspace_dir_name(), reason.group(1) if reason else "?")
    if code == "workspace_damaged":
        if settings.class_server() is not None:  # the class's server holds the file
            return Diagnosis(
                _("Fichier abîmé sur le serveur de la classe"),
                _(
                    "La base de données de ton espace sur le serveur de la classe ne peut plus être "
                    "lue (ce n'est pas ta faute)."
                ),
                _(
                    "Préviens ton enseignant·e : `python -m helpers doctor --repair` sur le serveur "
                    "de la classe (ATELIER_HOME = ton dossier d'élève) la met de côté et repart "
                    "d'une base neuve."
                ),
                "damaged_file",
                scrub(message),
            )
        from ..kit_server.database import DB_NAME, damaged_error

        err = damaged_error(Path(settings.workspace_dir_name()) / DB_NAME)
        return Diagnosis(
            _("Fichier abîmé : {name}").format(name=DB_NAME),
            str(err),
            err.fix,
            "damaged_file",
        )
    log = settings.workspace_dir_name().rstrip("/") + "/logs/kit-server.log"
    return Diagnosis(
        _("Erreur du bac à sable (5xx)"),
        _("Le serveur du kit a rencontré un problème interne (ce n'est pas ta faute)."),
        _(
            "Relance la cellule. Si ça recommence, le détail est dans le fichier {log} : "
            "montre-le à ton formateur ou ta formatrice."
        ).format(log=log),
        "server_error",
        scrub(message),
    )


def api_server_error(message: str) -> Diagnosis:
    """A 5xx of OpenAI's API (not the kit's server)."""
    return Diagnosis(
        _("Erreur du serveur (5xx)"),
        _("Le problème vient du serveur, pas de toi."),
        _("Réessaie dans une minute ; si ça dure, regarde https://status.openai.com."),
        "server_error",
        scrub(message),
    )


def class_key(message: str) -> Diagnosis:
    return Diagnosis(
        _("Clé refusée par le serveur de la classe (erreur 401)"),
        _(
            "Le serveur de la classe ne reconnaît pas ta clé : elle est mal recopiée, ton "
            "enseignant·e en a donné une nouvelle, ou, sur un JupyterHub, le jeton de ton serveur "
            "a expiré."
        ),
        _(
            "Recopie la clé que ton enseignant·e t'a donnée dans ATELIER_CLASS_KEY (fichier .env ou "
            "première cellule du notebook 00) ; sur un hub, arrête puis relance ton serveur (File › "
            "Hub Control Panel). Si ça continue, demande ta clé à ton enseignant·e."
        ),
        "class_invalid_key",
        scrub(message),
    )


def hub_unavailable(message: str) -> Diagnosis:
    return Diagnosis(
        _("Le JupyterHub ne répond pas au serveur de la classe"),
        _(
            "Le serveur de la classe demande au hub à qui appartient ton jeton ; le hub n'a pas "
            "répondu (arrêté, surchargé, ou le jeton de service du serveur de classe est refusé). "
            "Ta clé n'est pas en cause."
        ),
        _(
            "Réessaie dans une minute. Si ça dure, préviens ton enseignant·e : le hub ou le service "
            "« classe » du hub est à vérifier."
        ),
        "hub_unavailable",
        scrub(message),
    )


def storage_full(message: str) -> Diagnosis:
    return Diagnosis(
        _("Espace de stockage plein (fichiers)"),
        _(
            "Tes fichiers envoyés (et tes réponses enregistrées) prennent toute la place permise : "
            "le serveur de la classe limite chaque élève, la vraie API chaque organisation. Rien "
            "n'a été enregistré."
        ),
        _(
            "Supprime les fichiers dont tu n'as plus besoin (`python -m helpers api files.list`, "
            "puis `python -m helpers api files.delete -i file-…`) ou envoie un fichier plus petit, "
            "puis relance la cellule. En classe, ton enseignant·e peut aussi agrandir le quota."
        ),
        "storage_quota",
        scrub(message),
    )


def class_daily_quota(exc: BaseException, message: str) -> Diagnosis:
    wait = retry_after(exc)
    hours = (
        _("dans environ {hours} h").format(hours=max(1, round(wait / 3600)))
        if wait
        else _("demain")
    )
    what = _("de jetons d'entraînement") if "tokens" in message.lower() else _("de jobs")
    return Diagnosis(
        _("Quota du jour atteint sur le serveur de la classe (erreur 429)"),
        _(
            "Ton enseignant·e limite le nombre {what} par élève et par jour ; tu l'as atteint. "
            "Ce n'est ni une panne ni un problème de crédit, et réessayer tout de suite ne sert "
            "à rien."
        ).format(what=what),
        _(
            "Continue avec le modèle que tu as déjà entraîné (il reste disponible), ou relance "
            "{hours}. Ton enseignant·e peut relever le quota (`python -m helpers class quota`)."
        ).format(hours=hours),
        "class_quota",
        scrub(message),
    )
