"""The kit's evaluation written out for Promptfoo, the open evaluation tool people use after the
course (OpenAI's Evals API shut down on 2026-11-30; the SDK points to Promptfoo instead).

`write_config(folder, models, data, …)` writes `promptfooconfig.yaml` (JSON, which YAML reads
as is) and a French `LISEZMOI.md`: one provider per model, pointing at the current mode's
endpoint through `apiBaseUrl` (the kit's server in sandbox and local mode, the class server,
or OpenAI), each held-out example as a test case, and the kit's own comparison as the
assertion (`equals` for exact, the same JavaScript rule as `evaluation.normalize` for loose),
at temperature 0 with the same answer cap. So `promptfoo eval` counts the same passes as
`python -m helpers eval`. The key is never written: in openai mode Promptfoo reads
`OPENAI_API_KEY`, on a class server the variable that holds the student's key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import evaluation, settings
from .fileio import write_atomic
from .i18n import N_, _
from .modes import Mode

VERSION = "0.121.20"  # the Promptfoo the kit tests (tests/promptfoo/package-lock.json)
CONFIG = "promptfooconfig.yaml"
# Promptfoo's switches for telemetry, the update check, sharing and remote generation.
# Unconfirmed by its docs, seen in 0.121.20's code: with telemetry off it still posts one
# « telemetry disabled » event. So when the models are on this machine (the kit's server),
# `offline_env` also sends every other request to a closed local port through a proxy that
# the loopback addresses bypass: nothing leaves the machine (tests/test_promptfoo.py checks it).
OFFLINE_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "PROMPTFOO_DISABLE_SHARING": "1",
    "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1",
    "PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION": "1",
    "PROMPTFOO_DISABLE_SHARE_EMAIL_REQUEST": "1",
}
LOOPBACK_ONLY = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost,::1",
}


def offline_env(base_url: str | None) -> dict[str, str]:
    """The environment variables that keep Promptfoo off the network: its switches, and the
    loopback-only proxy when `base_url` is on this machine."""
    from urllib.parse import urlsplit

    host = urlsplit(base_url or "").hostname or ""
    local = host in ("127.0.0.1", "localhost", "::1")
    return {**OFFLINE_ENV, **(LOOPBACK_ONLY if local else {})}


# The loose comparison of `evaluation.normalize`, in JavaScript: marks dropped after NFD,
# whitespace removed, lower case.
LOOSE_JS = (
    "const norm = (s) => String(s).normalize('NFD').replace(/\\p{M}/gu, '')"
    ".replace(/\\s+/g, '').toLowerCase();\n"
    "return norm(output) === norm(context.vars.expected);"
)


@dataclass(frozen=True)
class Written:
    folder: Path
    config: Path
    tests: int
    providers: list[str]
    key_variable: str | None  # the environment variable Promptfoo reads the key from
    #: what keeps Promptfoo off the network (`offline_env`) and, for the kit's own server, its
    #: workspace key in KIT_KEY_VAR (shown in `command()` as the command that prints it)
    env: dict[str, str]

    def command(self) -> str:
        shown = {**self.env}
        if KIT_KEY_VAR in shown:
            shown[KIT_KEY_VAR] = "$(python -m helpers.kit_server --key)"
        env = " ".join(f"{k}={v}" for k, v in shown.items())
        return f"{env} npx promptfoo@{VERSION} eval -c {self.config} --no-cache -j {evaluation.WORKERS}"

    def lines(self) -> list[str]:
        out = [
            _("Configuration Promptfoo écrite : {path}").format(path=self.config),
            "  "
            + _("{tests} cas de test × {n} modèle(s) : {models}").format(
                tests=self.tests, n=len(self.providers), models=", ".join(self.providers)
            ),
        ]
        if self.key_variable:
            out.append(
                "  "
                + _(
                    "Clé : Promptfoo la lit dans la variable {variable} (jamais écrite dans le "
                    "fichier)."
                ).format(variable=self.key_variable)
            )
        out.append(
            _("Pour la lancer (Node.js ≥ 20.20 ; les variables coupent ses envois sur Internet) :")
        )
        out.append(f"  {self.command()}")
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())


#: The variable that holds the workspace's kit-server key for Promptfoo (the kit's own server
#: answers only its workspace's clients; the key is never written to the configuration).
#: Promptfoo reads it, the kit never does (named by `settings`, listed in docs/reglages.md).
KIT_KEY_VAR = settings.KIT_KEY_VAR


def _key_settings(mode: Mode) -> tuple[dict[str, Any], str | None]:
    """The provider's key settings: the name of the environment variable that holds the key
    (never the key itself)."""
    if mode.traits.kit_server:
        served = settings.class_server()
        if served is None:
            return {"apiKeyEnvar": KIT_KEY_VAR}, KIT_KEY_VAR
        var = settings.class_key_source()
        return {"apiKeyEnvar": var}, var
    return {}, "OPENAI_API_KEY"


def build_config(
    models: Sequence[str],
    examples: Sequence[dict[str, Any]],
    *,
    base_url: str | None,
    match: evaluation.Match = "exact",
    system: str | None = None,
    labels: Sequence[str] | None = None,
    mode: str | Mode = Mode.SANDBOX,
    description: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The Promptfoo configuration (a dict) and the environment variable of the key."""
    if description is None:
        description = _("Atelier fine-tuning : évaluation sur les exemples mis de côté")
    match = evaluation.check_match(match)
    expected = [evaluation.answer_of(e) for e in examples]
    cap = evaluation.auto_max_tokens(expected)
    key, variable = _key_settings(settings.check_mode(mode))
    providers = []
    for i, model in enumerate(models):
        label = labels[i] if labels else evaluation.default_label(model, system)
        config: dict[str, Any] = {**key, "temperature": 0, "max_tokens": cap}
        if base_url:
            config["apiBaseUrl"] = base_url
        providers.append({"id": f"openai:chat:{model}", "label": label, "config": config})
    if match == "exact":
        assertion: dict[str, Any] = {"type": "equals", "value": "{{expected}}"}
    else:
        assertion = {"type": "javascript", "value": LOOSE_JS}
    tests = [
        {
            "description": evaluation.question_of(e)[:120],
            # A JSON string, not a list: Promptfoo would expand a list into several tests.
            "vars": {
                "messages": json.dumps(evaluation.prompt_of(e, system), ensure_ascii=False),
                "expected": want,
            },
            "assert": [assertion],
        }
        for e, want in zip(examples, expected, strict=True)
    ]
    config = {
        "description": description,
        "prompts": ["{{ messages }}"],  # the rendered JSON list is sent as the chat messages
        "providers": providers,
        "tests": tests,
        "evaluateOptions": {"maxConcurrency": evaluation.WORKERS, "cache": False},
        "sharing": False,
    }
    return config, variable


def write_config(
    folder: str | Path,
    models: Sequence[str],
    data: str | Path | Sequence[dict[str, Any]],
    *,
    match: evaluation.Match = "exact",
    system: str | None = None,
    labels: Sequence[str] | None = None,
    mode: str | Mode | None = None,
) -> Written:
    """Write `promptfooconfig.yaml` and `LISEZMOI.md` into `folder` for the current mode."""
    from .client import base_url

    examples, name = evaluation.load(data)
    if not examples:
        raise evaluation.EvaluationError(
            _("Aucun exemple à écrire pour Promptfoo dans {name}.").format(name=name)
        )
    mode = settings.resolve_mode(mode)
    url = base_url(mode)
    if not mode.traits.kit_server and url is None:
        url = "https://api.openai.com/v1"
    config, variable = build_config(
        models,
        examples,
        base_url=url,
        match=match,
        system=system,
        labels=labels,
        mode=mode,
        description=_("Atelier fine-tuning : {models} sur {name} ({match})").format(
            models=", ".join(models), name=name, match=_(evaluation.MATCH_FR[match])
        ),
    )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    target = write_atomic(out / CONFIG, json.dumps(config, ensure_ascii=False, indent=2) + "\n")
    written = Written(
        out,
        target,
        len(examples),
        [p["label"] for p in config["providers"]],
        variable,
        {**offline_env(url), **_kit_key(variable)},
    )
    write_atomic(out / "LISEZMOI.md", _readme(written, mode, url))
    return written


def _kit_key(variable: str | None) -> dict[str, str]:
    """The kit server's workspace key, for the command that runs Promptfoo from the kit."""
    if variable != KIT_KEY_VAR:
        return {}
    from .advert import workspace_key

    return {KIT_KEY_VAR: workspace_key(settings.workspace_dir())}


_WHERE = {
    Mode.SANDBOX: N_("le serveur du kit (bac à sable)"),
    Mode.LOCAL: N_("le serveur du kit (mode local)"),
    Mode.OPENAI: N_("l'API d'OpenAI"),
}


def _readme(written: Written, mode: Mode, url: str | None) -> str:
    where = _(_WHERE[mode])
    lines = [
        _("# Évaluation Promptfoo écrite par l'atelier fine-tuning"),
        "",
        _(
            "La même évaluation que `python -m helpers eval` : les mêmes questions mises de côté, la même\n"
            "comparaison, à température 0. Promptfoo doit compter le même nombre de réussites."
        ),
        "",
        _("- Modèles interrogés à travers {where} : `{url}`.").format(where=where, url=url),
        _(
            "- Si ce serveur a redémarré (il s'arrête après 30 min sans requête), son adresse a pu changer :\n"
            "  réécris la configuration (`python -m helpers eval … --promptfoo DOSSIER`)."
        ),
    ]
    if written.key_variable:
        lines.append(
            _("- La clé n'est pas dans ce dossier : Promptfoo la lit dans `{variable}`.").format(
                variable=written.key_variable
            )
        )
    lines += ["", _("Lancer (il faut Node.js ≥ 20) :"), "", "```bash", written.command(), "```", ""]
    return "\n".join(lines)
