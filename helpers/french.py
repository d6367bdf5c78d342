"""Glosses for the English a learner meets: job events, job statuses, raw API messages.

The API (OpenAI's and the sandbox's, which copies it) speaks English. In the French edition,
whatever a notebook or a widget shows from it is shown in French first, with the English
original beside it and labelled as such — never English alone. In the English edition, the
API's own message is shown as sent, with, for its error messages, the plain-language cause of
the diagnosis (`gloss`); `event_fr` gives a message in the learner's language (the English
translation of the French gloss). The API's error messages and their glosses come from the
one table of them (`helpers.api_messages`):

    >>> event_fr("Fine-tuning job started")
    'Entraînement commencé'
    >>> gloss("Fine-tuning job started")
    'Entraînement commencé  (original anglais : « Fine-tuning job started »)'

Ids and numbers are carried over; an unknown message gets a generic French label, so the
learner still knows the text is the API's English.
"""

from __future__ import annotations

import re

from . import api_messages
from .i18n import N_, SOURCE_LANGUAGE, _, language

# (English pattern, French template): `{1}`, `{2}`… are the pattern's groups.
_PATTERNS: list[tuple[str, str]] = [
    (r"Created fine-tuning job: (\S+)", N_("Job d'entraînement créé : {1}")),
    (
        r"Validating training file: (\S+) and validation file: (\S+)",
        N_("Vérification du fichier d'entraînement {1} et du fichier de validation {2}"),
    ),
    (r"Validating training file: (\S+)", N_("Vérification du fichier d'entraînement {1}")),
    (
        r"Files validated, moving job to queued state",
        N_("Fichiers vérifiés : le job passe en file d'attente"),
    ),
    (r"Fine-tuning job started", N_("Entraînement commencé")),
    (
        r"Step (\d+)/(\d+): training loss=([\d.]+), validation loss=([\d.]+), full validation loss=([\d.]+)",
        N_(
            "Étape {1}/{2} : perte d'entraînement {3}, perte de validation {4}, "
            "perte de validation complète {5}"
        ),
    ),
    (
        r"Step (\d+)/(\d+): training loss=([\d.]+), validation loss=([\d.]+)",
        N_("Étape {1}/{2} : perte d'entraînement {3}, perte de validation {4}"),
    ),
    (
        # The last step of a job whose step count is not a multiple of 10 (the real API
        # computes the validation loss every 10 steps, the full one on the last step).
        r"Step (\d+)/(\d+): training loss=([\d.]+), full validation loss=([\d.]+)",
        N_("Étape {1}/{2} : perte d'entraînement {3}, perte de validation complète {4}"),
    ),
    (r"Step (\d+)/(\d+): training loss=([\d.]+)", N_("Étape {1}/{2} : perte d'entraînement {3}")),
    (
        r"Checkpoint created at step (\d+) with Snapshot ID: (\S+)",
        N_("Point de contrôle enregistré à l'étape {1} : {2}"),
    ),
    (r"Checkpoint created at step (\d+)", N_("Point de contrôle enregistré à l'étape {1}")),
    (r"New fine-tuned model created: (\S+)", N_("Nouveau modèle fine-tuné créé : {1}")),
    (
        r"Evaluating model against our usage policies",
        N_("Contrôle du modèle au regard des règles d'utilisation d'OpenAI"),
    ),
    (
        r"Usage policy evaluations completed, model is now enabled for sampling",
        N_("Contrôle terminé : le modèle peut maintenant répondre"),
    ),
    (r"Fine tuning job successfully completed", N_("Job d'entraînement terminé avec succès")),
    (r"The job has successfully completed", N_("Job d'entraînement terminé avec succès")),
    (r"Fine-tuning job cancelled", N_("Job d'entraînement annulé")),
    (r"Fine-tuning job paused", N_("Job d'entraînement mis en pause")),
    (r"Fine-tuning job resumed", N_("Job d'entraînement repris")),
    (
        r"The job failed due to an invalid (training|validation) file\.\s*(.*)",
        N_("Le job a échoué : fichier {1} invalide{2}"),
    ),
    # Local training (`helpers.local.events`): what only the local engine says.
    (
        r"Local training of (\S+) on (.+?): (\d+) examples, (\d+) steps, LoRA with ([\d,]+) "
        r"trainable parameters of ([\d,]+)",
        N_(
            "Entraînement local de {1} sur {2} : {3} exemples, {4} étapes ; LoRA entraîne "
            "{5} paramètres sur {6}"
        ),
    ),
    (
        r"(\d+) example\(s\) have nothing to learn \(assistant weights 0, or cut by the length "
        r"limit\) and are skipped",
        N_(
            "{1} exemple(s) sans rien à apprendre (réponses de poids 0, ou coupées par la limite de "
            "longueur) : ignoré(s)"
        ),
    ),
    (
        r"Training loss has plateaued near 0 at step (\d+)/(\d+) \(loss on the whole training "
        r"file: ([\d.]+), every answer token right\): stopping early, the remaining steps would "
        r"not change the model",
        N_(
            "Arrêt anticipé à l'étape {1} sur {2} prévues : la perte a plafonné près de 0 (perte sur "
            "tout le fichier d'entraînement : {3}, chaque jeton des réponses juste) ; les étapes "
            "restantes ne changeraient plus le modèle"
        ),
    ),
    (
        r"Converting the GGUF file of (\S+): reading the tokenizer",
        N_("Conversion du fichier GGUF de {1} : lecture du tokenizer"),
    ),
    (
        r"Converting the GGUF file of (\S+): de-quantizing the weights",
        N_("Conversion du fichier GGUF de {1} : dé-quantification des poids"),
    ),
    (
        r"Converting the GGUF file of (\S+): writing the folder",
        N_("Conversion du fichier GGUF de {1} : écriture du dossier"),
    ),
    (
        r"The local training worker was stopped before the end of this job\.",
        N_("Le processus d'entraînement local a été arrêté avant la fin de ce job"),
    ),
    (
        r"The local training worker stopped before the end of this job\.",
        N_(
            "Le processus d'entraînement local s'est arrêté avant la fin de ce job (machine en "
            "veille, processus tué ?)"
        ),
    ),
    (
        r"Local training failed: the base model (\S+) could not be loaded on this machine",
        N_(
            "L'entraînement local a échoué : le modèle de base {1} n'a pas pu être chargé sur cette "
            "machine"
        ),
    ),
    (r"Local training failed: (\w+): (.*)", N_("L'entraînement local a échoué ({1}) : {2}")),
    (r"Local training failed: (\w+)", N_("L'entraînement local a échoué ({1})")),
    (
        r"invalid training_file: (\S+)",
        N_("training_file invalide : {1} (fichier inconnu ou supprimé)"),
    ),
]
_COMPILED = [(re.compile(p), fr) for p, fr in _PATTERNS]
_WORDS = {"training": N_("d'entraînement"), "validation": N_("de validation")}
# The reasons an invalid file gives after « Invalid file format. Example N… » (French only:
# the English original is shown beside, never inside a French sentence).
_FILE_REASONS: list[tuple[str, str]] = [
    (r"not valid JSON", N_("la ligne n'est pas du JSON valide")),
    (r"is empty", N_("ligne vide")),
    (r"BOM", N_("une marque BOM au début du fichier")),
    (r"not valid UTF-8", N_("le fichier n'est pas du texte UTF-8")),
    (r"Discriminator 'role' is missing", N_("un message n'a pas de rôle (role)")),
    (r"Input tag found using 'role'", N_("un rôle inconnu")),
    (r"Field required: (\w+)", N_("il manque le champ {1}")),
    (r"Input should be a valid string: (\w+)", N_("le champ {1} doit être un texte")),
    (r"Input should be a valid dictionary", N_("un message n'est pas un objet {…}")),
    (r"Input should be a valid list: (\w+)", N_("le champ {1} doit être une liste [...]")),
    (r"List should have at least 1 item", N_("la liste des messages est vide")),
    (r"Extra inputs are not permitted: (\S+)", N_("champ non autorisé : {1}")),
    (r"at least one message with role 'assistant'", N_("aucun message « assistant »")),
    (r"weight must be|Input should be 0 or 1", N_("le poids (weight) doit valoir 0 ou 1")),
    (r"At least one assistant message must have weight 1", N_("tous les poids (weight) valent 0")),
    (
        r"expected either prompt/completion pairs or chat messages",
        N_("il faut des conversations (messages)"),
    ),
]


def file_detail_fr(detail: str) -> str:
    """« Invalid file format. Example 5, message 2 Field required: content » → « , à
    l'exemple 5 (message 2) : il manque le champ content » (empty when nothing is known)."""
    out = ""
    where = re.search(r"Example (\d+)(?:, message (\d+))?", detail)
    line = re.search(r"Line (\d+)", detail)
    if where:
        out = _(", à l'exemple {n}").format(n=where.group(1)) + (
            _(" (message {n})").format(n=where.group(2)) if where.group(2) else ""
        )
    elif line:
        out = _(", à la ligne {n}").format(n=line.group(1))
    for pattern, french in _FILE_REASONS:
        match = re.search(pattern, detail)
        if match:
            reason = _(french)
            for i, value in enumerate(match.groups(), start=1):
                reason = reason.replace("{" + str(i) + "}", value)
            return _("{where} : {reason}").format(where=out, reason=reason)
    return out


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def _french_group(group: str | None) -> str:
    """A matched group in the learner's language: known words translated, 4,884,480 →
    4 884 480 in French."""
    if not group:
        return ""
    if _THOUSANDS.fullmatch(group):
        return group.replace(",", "\u202f") if language() == "fr" else group
    return _(_WORDS[group]) if group in _WORDS else group


def event_fr(message: str) -> str | None:
    """The French of a known API message (ids and numbers kept), or None."""
    text = (message or "").strip()
    for pattern, french in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            groups = [_french_group(g) for g in match.groups()]
            if french.startswith("Le job a échoué : fichier"):  # i18n: keep (the table's key)
                groups[1] = file_detail_fr(groups[1])
            out = _(french)
            for i, value in enumerate(groups, start=1):
                out = out.replace("{" + str(i) + "}", value)
            return out
    return _api_gloss(text)


def _api_gloss(text: str) -> str | None:
    """The gloss of one of the API's error messages (`helpers.api_messages`, the table the kit
    server sends them from), or None."""
    for entry in api_messages.MESSAGES:
        if entry.gloss is None:
            continue
        fields = entry.match(text)
        if fields is not None:
            return _(entry.gloss).format(**{k: _french_group(v) for k, v in fields.items()})
    return None


def gloss(message: str) -> str:
    """In French: the French first, then the English original, labelled as such. In another
    language (the English edition): the API's own English as sent — never re-translated —
    and, for one of its error messages (`helpers.api_messages`), the plain-language cause of
    its diagnosis (the translation of the French diagnosis)."""
    text = (message or "").strip()
    if language() == SOURCE_LANGUAGE:
        french = event_fr(text) or _("Message de l'API (pas encore traduit)")
        return _("{gloss}  (original anglais : « {original} »)").format(gloss=french, original=text)
    if api_messages.find(text) is None:
        return text
    from .errors import explain

    return _("{original}  (en clair : {explanation})").format(
        original=text, explanation=explain(text).cause
    )


def status_fr(status: str) -> str:
    """« running (Entraînement en cours) »: the API's word, then its French meaning (the
    guide's table, `helpers.jobs.STATUS_FR`)."""
    from .jobs import STATUS_FR

    meaning = STATUS_FR.get(status)
    return f"{status} ({meaning})" if meaning else status
