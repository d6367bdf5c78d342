"""Key form: a password field and « Valider ».

The key typed in the field is taken out of the widget as soon as the browser sends it
(`continuous_update=False`: on Enter or when the field loses focus), the field is emptied,
and « Valider » checks it with one cheap call (`helpers.client.check_key`). A genuine key is
put in this kernel's environment (what the SDK reads) and, if asked, in the git-ignored
`.env`. The key never goes into a widget value sent to the browser, an output, the workspace
or a log; messages show it masked (`sk-…wxyz`). On Colab the form points to the Secrets panel.
"""

from __future__ import annotations

import re
from typing import Any

import ipywidgets as widgets
from traitlets import Unicode

from .. import settings
from ..i18n import N_, _
from ..modes import Mode
from ._common import box, diagnosis_html, esc
from .compat import set_tooltip

KEY_RE = re.compile(r"^sk-[A-Za-z0-9_\-]{8,}$")
_VERDICT_KIND = {
    "valid": "ok",
    "unchecked": "info",
    "invalid": "error",
    "no_fine_tuning": "warning",
    "quota": "warning",
    "no_network": "warning",
    "unavailable": "warning",
}
# Statuses for which the key itself is genuine (or could not be checked): keep it.
_KEEP = {"valid", "unchecked", "no_fine_tuning", "quota", "no_network", "unavailable"}
# What the sandbox (and the local server) can say about a key: nothing — they take any key.
UNCHECKED = N_(
    "🧪 Clé non vérifiée : le bac à sable accepte n'importe quelle clé, il ne peut donc pas dire "
    "si celle-ci marchera chez OpenAI. Elle sera vraiment vérifiée en mode openai "
    '(helpers.use_mode("openai"), puis « Valider » de nouveau).'
)
NO_KEY_NEEDED = N_(
    "🧪 Aucune clé, et c'est normal : le mode « {mode} » n'en a pas besoin. Il t'en faudra une "
    "seulement pour le vrai OpenAI."
)


class _SecretField(widgets.Password):
    """A password field whose value the kernel never echoes back to the browser (ipywidgets 8)."""

    value = Unicode("", help="Never holds the key for long: the form empties it.").tag(
        sync=True, echo_update=False
    )


def normalize_key(raw: str) -> tuple[str | None, str | None]:
    """`(key, None)` for something shaped like an OpenAI key, `(None, French reason)` otherwise.

    Forgives what people often paste around it: spaces, quotes, `OPENAI_API_KEY=`.
    """
    text = (raw or "").strip()
    if "=" in text and text.split("=", 1)[0].strip().upper().endswith("OPENAI_API_KEY"):
        text = text.split("=", 1)[1].strip()
    text = text.strip("\"'` ")
    if not text:
        return (
            None,
            _(
                "Le champ est vide : colle ta clé (elle commence par « sk- ») puis clique sur "
                "« Valider »."
            ),
        )
    if any(c.isspace() for c in text):
        return None, _(
            "Ta clé contient un espace ou un retour à la ligne : recopie-la d'un seul bloc, "
            "sans rien autour."
        )
    if not text.startswith("sk-"):
        return None, _(
            "Ça ne ressemble pas à une clé OpenAI : une clé commence par « sk- » (par exemple "
            "« sk-proj-… »). Copie-la depuis platform.openai.com → API keys."
        )
    if not KEY_RE.match(text):
        return None, _(
            "Cette clé a une forme inattendue (trop courte ou caractères bizarres) : recopie-la "
            "en entier avec le bouton « Copy » de la page des clés."
        )
    return text, None


def key_verdict(key: str | None, mode: str | Mode | None = None) -> Any:
    """A verdict true to the mode: `.status` and a French `.message`; never shows the key.

    Only the real API can say a key is valid: the sandbox and the local server accept any
    key, so there the verdict is « unchecked » (or « no key needed » without a key).
    """
    mode = settings.resolve_mode(mode)
    if not key:
        if mode.traits.needs_key:
            return _Verdict(
                "invalid",
                _(
                    "❌ Aucune clé : donne-la dans le formulaire ci-dessus (ou dans .env, ou dans "
                    "les secrets Colab)."
                ),
            )
        return _Verdict("no_key_needed", _(NO_KEY_NEEDED).format(mode=mode))
    return _check(key, mode)


def _check(key: str, mode: str | Mode | None) -> Any:
    """`client.check_key`, or a stand-in verdict when it fails (it should not). Outside the
    `openai` mode a « valid » answer proves nothing (any key works): it becomes « unchecked »."""
    from .. import client

    try:
        mode = settings.resolve_mode(mode)
        verdict = client.check_key(key, mode=mode)
        if not mode.traits.needs_key and verdict.status == "valid":
            return _Verdict("unchecked", _(UNCHECKED))
        return verdict
    except Exception as exc:  # never let a traceback (which could hold the key) reach the cell
        from .. import errors

        d = errors.explain(exc)
        return _Verdict(
            "no_network",
            _("{title} : impossible de vérifier la clé. {fix}").format(title=d.title, fix=d.fix),
        )


class _Verdict:
    def __init__(self, status: str, message: str) -> None:
        self.status, self.message = status, message


class KeyForm(widgets.VBox):
    """The key form of notebook 02. `display(KeyForm())`; tests set `.key.value` and `.click()`.

    Attributes: `key` (the password field), `validate` (button), `remember` (checkbox, hidden
    on Colab), `forget` (button), `status` (HTML with the French verdict), `result` (the last
    `KeyCheck`, or None).
    """

    def __init__(self, *, mode: str | None = None, remember: bool = False) -> None:
        self.mode = mode
        self.result: Any = None
        self.__pending: str | None = None  # the key between the browser's sync and « Valider »
        self.colab = settings.on_colab()

        self.key = _SecretField(
            placeholder="sk-…",
            description=_("Clé API :"),
            continuous_update=False,
            layout=widgets.Layout(width="420px"),
        )
        set_tooltip(
            self.key,
            _(
                "Colle ta clé OpenAI ici : elle ne sera ni affichée ni enregistrée dans le notebook."
            ),
        )
        self.validate = widgets.Button(
            description=_("Valider"), button_style="primary", icon="check"
        )
        set_tooltip(
            self.validate,
            _("Vérifier la clé avec un appel gratuit et la garder pour cette session"),
        )
        self.remember = widgets.Checkbox(
            value=remember,
            indent=False,
            description=_("mémoriser dans .env (fichier ignoré par git, lisible par toi seul·e)"),
            layout=widgets.Layout(width="auto", display="none" if self.colab else None),
        )
        self.forget = widgets.Button(description=_("Oublier la clé"), icon="trash")
        set_tooltip(self.forget, _("Retirer la clé de cette session et du fichier .env"))
        self.status = widgets.HTML(value=self._initial_status())
        self.colab_help = widgets.HTML(value=self._colab_help() if self.colab else "")
        self.validate.on_click(self._on_validate)
        self.forget.on_click(self._on_forget)
        self.key.observe(self._on_value, names="value")
        super().__init__(
            children=[
                self.colab_help,
                widgets.HBox([self.key, self.validate, self.forget]),
                self.remember,
                self.status,
            ]
        )
        self.add_class("atelier-key-form")

    # --------------------------------------------------------------------- messages
    def _mode(self) -> Mode:
        return settings.resolve_mode(self.mode)

    def _initial_status(self) -> str:
        source = settings.key_source()
        mode = self._mode()
        lines = []
        if not mode.traits.needs_key:
            lines.append(
                box(
                    _(
                        "Mode actif : {mode}. Pas besoin de clé pour suivre le cours ; le "
                        "formulaire vérifie quand même ta clé, auprès du bac à sable."
                    ).format(mode=_(settings.MODE_LABELS[mode])),
                    "muted",
                )
            )
        if source:
            lines.append(
                box(
                    _(
                        "🔑 Une clé est déjà disponible (source : {source}, {masked}). Clique sur "
                        "« Valider » pour la vérifier, ou colle une autre clé."
                    ).format(source=source, masked=settings.mask_key(settings.find_api_key())),
                    "info",
                )
            )
        return "".join(lines)

    @staticmethod
    def _colab_help() -> str:
        return box(
            _(
                "<b>Sur Colab, le plus sûr : les Secrets.</b> Clique sur l'icône 🔑 (« Secrets ») "
                "dans la barre de gauche, ajoute un secret nommé <code>OPENAI_API_KEY</code> avec "
                "ta clé, et active « Accès au notebook ». Clique ensuite sur « Valider » sans rien "
                "taper : le kit lira le secret. Tu peux aussi coller la clé ci-dessous : elle ne "
                "servira que pour cette session."
            ),
            "info",
            raw=True,
        )

    def _say(self, text: str, kind: str = "info", *, raw: bool = False) -> None:
        self.status.value = box(text, kind, raw=raw)

    # --------------------------------------------------------------------- events
    def _on_value(self, change: dict[str, Any]) -> None:
        new = change.get("new") or ""
        if not new:
            return
        self.__pending = new
        self.key.value = ""  # out of the widget state at once
        self._say(_("🔒 Clé reçue (masquée). Clique sur « Valider » pour la vérifier."), "info")

    def _on_validate(self, _button: Any = None) -> None:
        pending, self.__pending = self.__pending, None
        if self.key.value:  # the browser did not sync yet (or a test set the value directly)
            pending, self.key.value = self.key.value, ""
        source = None
        if pending:
            key, reason = normalize_key(pending)
        else:
            existing = settings.find_api_key()
            if not existing:
                reason = _(
                    "Le champ est vide : colle ta clé (elle commence par « sk- ») puis clique sur "
                    "« Valider »."
                ) + (" " + _("Ou ajoute-la dans les Secrets Colab (🔑).") if self.colab else "")
                self.result = _Verdict("invalid", reason)
                self._say("❌ " + reason, "error")
                return
            key, reason = normalize_key(existing)
            source = settings.key_source()
        del pending
        if key is None:
            self.result = _Verdict("invalid", reason or "")
            self._say("❌ " + (reason or ""), "error")
            return
        self._say(_("⏳ Vérification de la clé…"), "muted")
        self.validate.disabled = True
        try:
            verdict = _check(key, self.mode)
        finally:
            self.validate.disabled = False
        self.result = verdict
        notes: list[str] = []
        if verdict.status in _KEEP:
            settings.use_key_for_session(key)
            masked = settings.mask_key(key)
            # the settings' name for the environment, in French or translated by them
            if source and source not in ("environnement", _("environnement")):  # i18n: keep
                notes.append(
                    _("Clé {masked} gardée pour cette session (lue depuis {source}).").format(
                        masked=masked, source=source
                    )
                )
            else:
                notes.append(_("Clé {masked} gardée pour cette session.").format(masked=masked))
            if self.remember.value and not self.colab:
                try:
                    path = settings.save_key_to_env_file(key)
                    notes.append(
                        _(
                            "Mémorisée dans {file} (ignoré par git, lisible par toi seul·e) : "
                            "un nouveau noyau la retrouvera."
                        ).format(file=path.name)
                    )
                except Exception as exc:  # e.g. read-only folder
                    from .. import errors

                    notes.append(
                        _("Pas pu l'écrire dans .env : {title}.").format(
                            title=errors.explain(exc).title
                        )
                    )
        else:
            notes.append(_("Clé non gardée : corrige-la et réessaie."))
        del key
        message = _scrub(str(verdict.message))
        self.status.value = box(
            esc(message) + "<br>" + esc(" ".join(notes)),
            _VERDICT_KIND.get(verdict.status, "info"),
            raw=True,
        )

    def _on_forget(self, _button: Any = None) -> None:
        self.__pending = None
        self.key.value = ""
        try:
            settings.forget_key()
        except Exception as exc:
            from .. import errors

            self.status.value = diagnosis_html(errors.explain(exc))
            return
        self.result = None
        self._say(
            _("🗑️ Clé oubliée : retirée de cette session et du fichier .env.")
            + (" " + _("(Un secret Colab reste, lui, dans le panneau 🔑.)") if self.colab else ""),
            "muted",
        )


def _scrub(text: str) -> str:
    """Belt and braces: mask anything key-shaped in a message before it is shown."""
    return re.sub(r"sk-[A-Za-z0-9_\-]{8,}", lambda m: settings.mask_key(m.group(0)), text)
