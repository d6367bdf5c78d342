"""`python -m helpers …`: the guide's commands, working with today's SDK, same verbs and flags.

    python -m helpers api files.create -p fine-tune -f dataset.jsonl
    python -m helpers api fine_tuning.jobs.create --training-file file-… --model M --suffix S
    python -m helpers api fine_tuning.jobs.create -F file-… -m ft:… --method dpo --beta 0.1
    python -m helpers api fine_tuning.jobs.retrieve -i ftjob-…
    python -m helpers api fine_tuning.jobs.list
    python -m helpers api chat.completions.create -m ft:… -j '{"messages": [...], "temperature": 0}'
    python -m helpers check dataset.jsonl [--model M] [--method supervised|dpo]
    python -m helpers eval ft:… heldout.jsonl [--loose] [--json] [--promptfoo DOSSIER]
    python -m helpers doctor
    python -m helpers reset [--step N]
    python -m helpers export ft:…:local:… [-o DOSSIER]   (mode local : emporter ton modèle)

Results are printed as JSON; errors as a French diagnosis (`errors.explain`) with a non-zero
exit code, never a traceback. The mode (sandbox or openai) decides where requests go.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .argparse_fr import FrenchArgumentParser, translate
from .doctor import missing_packages, run_doctor, say_packages_missing
from .exceptions import UsageError
from .i18n import N_, _, number
from .verbs import COMMANDS, VERBS, suggest


class _Parser(FrenchArgumentParser):
    """argparse, with French help and errors; errors are raised as `UsageError` (no exit
    from inside a library)."""

    def error(self, message: str) -> NoReturn:
        m = re.search(r"invalid choice: '([^']*)'", message)
        if m:
            wrong = m.group(1)
            right = suggest(wrong) if self.prog.endswith(" api") else None
            if right:
                raise UsageError(
                    _(
                        "Commande inconnue « {command} » (invalid choice). Tu voulais dire {right} ?"
                    ).format(command=wrong, right=right),
                    _(
                        "Écris : python -m helpers api {right} …  (les noms s'écrivent avec des "
                        "points, comme dans le SDK)"
                    ).format(right=right),
                )
            choices = ", ".join(VERBS) if self.prog.endswith(" api") else ", ".join(COMMANDS)
            raise UsageError(
                _("Commande inconnue « {command} » (invalid choice).").format(command=wrong),
                _("Choisis parmi : {choices}.").format(choices=choices),
            )
        raise UsageError(
            f"{translate(message)}.", _("Aide : `{command} --help`.").format(command=self.prog)
        )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m helpers", description=_("Atelier fine-tuning : les commandes du guide.")
    )
    sub = p.add_subparsers(
        dest="command", metavar="{api,check,eval,doctor,reset,export,class}", parser_class=_Parser
    )
    sub.required = True

    api = sub.add_parser("api", help=_("appeler l'API (comme `openai api …`)"))
    verbs = api.add_subparsers(dest="verb", metavar=_("VERBE"), parser_class=_Parser)
    verbs.required = True

    v = verbs.add_parser("files.create", help=_("envoyer un fichier"))
    v.add_argument("-f", "--file", required=True, help=_("le fichier .jsonl"))
    v.add_argument("-p", "--purpose", default="fine-tune", help=_("fine-tune (par défaut)"))
    v.add_argument(
        "--no-check", action="store_true", help=_("ne pas vérifier le fichier avant l'envoi")
    )
    verbs.add_parser("files.list", help=_("lister les fichiers"))
    for name, what in (
        ("files.retrieve", _("afficher un fichier envoyé")),
        ("files.delete", _("supprimer un fichier envoyé")),
    ):
        verbs.add_parser(name, help=what).add_argument(
            "-i", "--id", required=True, help=_("id file-…")
        )

    v = verbs.add_parser("fine_tuning.jobs.create", help=_("lancer un fine-tuning"))
    v.add_argument(
        "-F",
        "--training-file",
        "--training_file",
        dest="training_file",
        help=_(
            "id file-… (par défaut : le dernier fichier envoyé ; obligatoire en mode openai, où un job est payant)"
        ),
    )
    v.add_argument("-m", "--model", default=None, help=_("modèle de base"))
    v.add_argument("-s", "--suffix", default=None, help=_("nom lisible du modèle"))
    v.add_argument(
        "-V",
        "--validation-file",
        "--validation_file",
        dest="validation_file",
        default=None,
        help=_("id file-… d'un fichier de validation (facultatif)"),
    )
    v.add_argument(
        "-e", "--n-epochs", "--n_epochs", dest="n_epochs", default="auto", help=_("époques (auto)")
    )
    v.add_argument("--seed", type=int, default=None, help=_("graine (résultats reproductibles)"))
    v.add_argument(
        "--method",
        choices=("supervised", "dpo"),
        default="supervised",
        help=_("supervised (exemples de chat, par défaut) ou dpo (paires de préférences)"),
    )
    v.add_argument(
        "--beta", default="auto", help=_("DPO : écart permis au modèle de départ, 0 à 2 (auto)")
    )
    for name, what in (
        ("fine_tuning.jobs.retrieve", _("afficher l'état d'un job")),
        ("fine_tuning.jobs.cancel", _("annuler un job")),
        ("fine_tuning.jobs.follow", _("suivre un job jusqu'à la fin (événements en français)")),
    ):
        verbs.add_parser(name, help=what).add_argument(
            "-i", "--id", default=None, help=_("id ftjob-… (par défaut : le dernier)")
        )
    v = verbs.add_parser("fine_tuning.jobs.list_events", help=_("lister les événements d'un job"))
    v.add_argument("-i", "--id", default=None, help=_("id ftjob-… (par défaut : le dernier)"))
    v.add_argument("-l", "--limit", type=int, default=20, help=_("combien (20 par défaut)"))
    v = verbs.add_parser("fine_tuning.jobs.list", help=_("lister tes jobs"))
    v.add_argument("-l", "--limit", type=int, default=20, help=_("combien (20 par défaut)"))
    v.add_argument("-a", "--after", default=None, help=_("après ce job (page suivante)"))

    v = verbs.add_parser("chat.completions.create", help=_("parler à un modèle"))
    v.add_argument(
        "-m", "--model", default=None, help=_("modèle (par défaut : ton modèle fine-tuné)")
    )
    v.add_argument(
        "-g",
        "--message",
        nargs=2,
        action="append",
        metavar=("ROLE", _("CONTENU")),
        default=[],
        help=_("un message, par exemple -g user Bonjour (plusieurs -g possibles)"),
    )
    v.add_argument("-j", "--json", default=None, help=_("corps JSON de la requête"))
    v.add_argument("-t", "--temperature", type=float, default=None, help=_("0 : toujours pareil"))
    v.add_argument(
        "-M", "--max-tokens", dest="max_tokens", type=int, default=None, help=_("longueur maximale")
    )
    v.add_argument("-n", type=int, default=None, help=_("nombre de réponses"))
    verbs.add_parser("models.list", help=_("lister les modèles"))

    c = sub.add_parser("check", help=_("vérifier un dataset .jsonl"))
    c.add_argument("file", help=_("le fichier .jsonl à vérifier"))
    c.add_argument("--model", "-m", default=None, help=_("modèle visé (jetons et coût)"))
    c.add_argument(
        "--method",
        choices=("supervised", "dpo"),
        default=None,
        help=_(
            "supervised (exemples de chat) ou dpo (paires de préférences) ; par défaut : "
            "le format trouvé dans le fichier"
        ),
    )
    e = sub.add_parser(
        "eval", help=_("évaluer un modèle sur des exemples mis de côté (notebook 12)")
    )
    e.add_argument("model", help=_("le modèle à évaluer (ft:… ou un modèle de base)"))
    e.add_argument("file", help=_("le fichier .jsonl des exemples mis de côté"))
    e.add_argument(
        "--loose",
        action="store_true",
        help=_("ignorer la casse, les espaces et les accents (par défaut : comparaison exacte)"),
    )
    e.add_argument(
        "--system", default=None, help=_("remplace le message system de chaque exemple (un prompt)")
    )
    e.add_argument(
        "--few-shot",
        dest="few_shot",
        metavar=_("FICHIER"),
        default=None,
        help=_(
            "le bon prompt : les réponses possibles et deux exemples, pris dans ce fichier "
            "d'entraînement"
        ),
    )
    e.add_argument("--label", default=None, help=_("nom du candidat : base, prompt, fine-tune…"))
    e.add_argument(
        "--workers",
        type=int,
        default=None,
        help=_("questions posées en même temps (par défaut 4, 20 en mode local)"),
    )
    e.add_argument("--json", action="store_true", help=_("le résultat en JSON (pour un programme)"))
    e.add_argument(
        "--promptfoo",
        metavar=_("DOSSIER"),
        default=None,
        help=_("écrire la même évaluation pour Promptfoo dans DOSSIER (sans la lancer)"),
    )
    doctor = sub.add_parser("doctor", help=_("diagnostic de l'environnement"))
    doctor.add_argument(
        "--repair",
        action="store_true",
        help=_(
            "met de côté les fichiers abîmés de l'espace de travail (renommés, jamais effacés) "
            "et reprend ce qui peut y être relu"
        ),
    )
    sub.add_parser("export", help=_("emporter ton modèle fine-tuné (mode local, notebook 11)"))
    sub.add_parser("class", help=_("un serveur pour toute la classe (enseignant·e)"))
    r = sub.add_parser("reset", help=_("oublier ce que les étapes ont produit"))
    r.add_argument(
        "--step", type=int, default=None, help=_("à partir de l'étape N (toutes par défaut)")
    )
    return p


# ---------------------------------------------------------------------------------------


def _dump(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if isinstance(obj, list):
        return [_dump(o) for o in obj]
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(_dump(obj), ensure_ascii=False, indent=2))


def _page(data: list[Any], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": [_dump(d) for d in data], "has_more": has_more}


def _run_api(args: argparse.Namespace) -> int:
    from . import jobs, models, workspace
    from .client import client

    verb = args.verb
    if verb == "files.create":
        if args.purpose == "fine-tune":
            before = workspace.get("file_id")
            _print_json(jobs.upload(args.file, check=not args.no_check))
            _say_shared("file_id", before, _("le fichier envoyé (étape 04)"), 4)
        else:
            with open(args.file, "rb") as f:
                _print_json(client().files.create(file=f, purpose=args.purpose))
    elif verb == "files.list":
        _print_json(_page(list(client().files.list().data)))
    elif verb == "files.retrieve":
        _print_json(client().files.retrieve(args.id))
    elif verb == "files.delete":
        _print_json(client().files.delete(args.id))
    elif verb == "fine_tuning.jobs.create":
        epochs: Any = args.n_epochs
        if epochs != "auto":
            try:
                epochs = int(epochs)
            except ValueError:
                raise UsageError(
                    _("--n-epochs attend un nombre ou « auto », reçu {value}.").format(
                        value=repr(epochs)
                    )
                ) from None
        beta: Any = args.beta
        if beta != "auto":
            try:
                beta = float(beta)
            except ValueError:
                raise UsageError(
                    _("--beta attend un nombre (entre 0 et 2) ou « auto », reçu {value}.").format(
                        value=repr(beta)
                    )
                ) from None
        before = workspace.get("job_id")
        model_before = workspace.get("fine_tuned_model")
        _print_json(
            jobs.create(
                args.training_file,
                model=args.model or models.DEFAULT_MODEL,
                suffix=args.suffix,
                validation_file=args.validation_file,
                n_epochs=epochs,
                seed=args.seed,
                method=args.method,
                beta=beta,
            )
        )
        _say_shared("job_id", before, _("le job suivi (étapes 05 et 06)"), 5)
        if model_before:
            print(
                _(
                    "ℹ️  Ton modèle précédent reste utilisable : {model} "
                    "(python -m helpers api chat.completions.create -m {model} -g user Bonjour)."
                ).format(model=model_before),
                file=sys.stderr,
            )
    elif verb == "fine_tuning.jobs.retrieve":
        _print_json(jobs.retrieve(args.id))
    elif verb == "fine_tuning.jobs.cancel":
        _print_json(jobs.cancel(args.id))
    elif verb == "fine_tuning.jobs.list":
        params = {"limit": args.limit} | ({"after": args.after} if args.after else {})
        page = client().fine_tuning.jobs.list(**params)
        _print_json(_page(list(page.data), bool(page.has_more)))
    elif verb == "fine_tuning.jobs.list_events":
        page = client().fine_tuning.jobs.list_events(jobs.resolve_job_id(args.id), limit=args.limit)
        _print_json(_page(list(page.data), bool(page.has_more)))
    elif verb == "fine_tuning.jobs.follow":
        import time

        from .french import event_fr, gloss

        job = None
        for update in jobs.follow(args.id):
            for event in update.new_events:  # in French (an untranslated one keeps its English)
                when = time.strftime("%H:%M:%S", time.localtime(event.created_at))
                print(f"[{when}] {event_fr(event.message) or gloss(event.message)}", flush=True)
            job = update.job
        if job is None:  # follow() yields at least once: nothing was followed
            return 1
        meaning = jobs.STATUS_FR.get(job.status)  # (translated by the diagnoses' catalog)
        print(
            _("Statut : {status} — {meaning}").format(
                status=job.status, meaning=_(meaning) if meaning else ""
            )
        )
        if job.fine_tuned_model:
            print(_("Modèle : {model}").format(model=job.fine_tuned_model))
        if job.status == "failed":
            from .errors import explain

            print(explain(job), file=sys.stderr)
            return 1
    elif verb == "chat.completions.create":
        _print_json(client().chat.completions.create(**_chat_params(args)))
    elif verb == "models.list":
        _print_json(_page(list(client().models.list().data)))
    return 0


def _say_shared(name: str, before: str | None, what: str, step: int) -> None:
    """The notebooks and the commands share the workspace: say when a command changed what
    the notebooks will use (on stderr: the JSON on stdout stays clean)."""
    from . import workspace

    after = workspace.get(name)
    if after and after != before:
        if before:
            text = _(
                "ℹ️  Les notebooks utiliseront désormais {new} comme {what}, au lieu de {old}. "
                "Pour revenir en arrière, relance le notebook {step}."
            )
        else:
            text = _(
                "ℹ️  Les notebooks utiliseront désormais {new} comme {what}. Pour revenir en "
                "arrière, relance le notebook {step}."
            )
        print(
            text.format(new=after, what=what, old=before, step=f"{step:02d}"),
            file=sys.stderr,
        )


def _chat_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.json:
        try:
            params = json.loads(args.json, parse_constant=_not_json)
        except json.JSONDecodeError as err:
            raise UsageError(
                _("Le JSON passé à -j est invalide ({error}, colonne {column}).").format(
                    error=err.msg, column=err.colno
                ),
                _(
                    "Entoure le JSON de guillemets simples '…' et utilise des guillemets doubles à "
                    'l\'intérieur (sous PowerShell, préfère plutôt -g user "Bonjour").'
                ),
            ) from None
        except (ValueError, RecursionError):  # too many digits for Python, nested too deep
            raise UsageError(
                _(
                    "Le JSON passé à -j ne se lit pas : un nombre de milliers de chiffres ou des "
                    "milliers de [ ou { ouverts."
                ),
                _("Raccourcis le nombre (ou mets-le entre guillemets) et simplifie le JSON."),
            ) from None
        if not isinstance(params, dict):
            raise UsageError(
                _("Le JSON passé à -j doit être un objet {…}."),
                _("Exemple : -j '{\"messages\": [...]}'"),
            )
    messages = params.get("messages") or []
    if not isinstance(messages, list):
        raise UsageError(
            _("Dans le JSON passé à -j, « messages » doit être une liste [...]."),
            _('Exemple : -j \'{"messages": [{"role": "user", "content": "Bonjour"}]}\'.'),
        )
    messages = list(messages)
    messages += [{"role": role, "content": content} for role, content in args.message]
    if not messages:
        raise UsageError(
            _("Aucun message à envoyer."),
            _(
                'Ajoute -g user "Bonjour" ou '
                '-j \'{"messages": [{"role": "user", "content": "Bonjour"}]}\'.'
            ),
        )
    params["messages"] = messages
    if args.model:
        params["model"] = args.model
    if not params.get("model"):
        from .chat import fine_tuned_model

        params["model"] = fine_tuned_model()
    for name in ("temperature", "max_tokens", "n"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    return params


def _not_json(literal: str) -> Any:
    """NaN, Infinity: Python's json reads them, JSON (and the API) does not."""
    raise UsageError(
        _("Le JSON passé à -j contient {literal}, qui n'est pas du JSON (l'API le refuse).").format(
            literal=literal
        ),
        _("Remplace {literal} par un nombre, par exemple 0.7.").format(literal=literal),
    )


def _run_check(args: argparse.Namespace) -> int:
    from . import models
    from .preference_data import check_file

    # Figures only, file read line by line: a large dataset is checked in little memory.
    model = args.model or models.DEFAULT_MODEL
    report = check_file(args.file, model, method=args.method, keep_examples=False)
    print(report.summary())
    if report.n_examples:
        print(_("Format : {format}.").format(format=_(_FORMAT_FR[report.method])))
    if report.n_examples:
        stats = report.stats()
        tok = stats["jetons_par_exemple"]
        print(
            _(
                "Jetons par exemple : min {min}, médiane {median}, max {max} ; total {total}."
            ).format(
                min=tok["min"],
                median=number(tok["médiane"], None),  # i18n: keep (a key of Report.stats)
                max=tok["max"],
                total=stats["jetons_total"],
            )
        )
        with contextlib.suppress(ValueError):  # a model without a known price
            print(_("Coût estimé : {cost}").format(cost=report.cost().describe()))
    return 0 if report.ok else 1


_FORMAT_FR = {
    "supervised": N_("exemples de chat (entraînement supervisé)"),
    "dpo": N_("paires de préférences (DPO)"),
}


def _run_eval(args: argparse.Namespace) -> int:
    from . import evaluation

    match: evaluation.Match = "loose" if args.loose else "exact"
    system = args.system
    if args.few_shot:
        if system is not None:
            raise UsageError(
                _("--system et --few-shot s'excluent."), _("Garde l'une des deux options.")
            )
        system = evaluation.few_shot_prompt(evaluation.read_examples(args.few_shot))
    if args.promptfoo:
        from .promptfoo import write_config

        written = write_config(
            args.promptfoo,
            [args.model],
            args.file,
            match=match,
            system=system,
            labels=[args.label] if args.label else None,
        )
        print("\n".join(written.lines()))
        return 0
    workers = args.workers
    if workers is not None and workers < 1:
        raise UsageError(_("--workers attend un nombre ≥ 1."), _("Par exemple --workers 4."))
    result = evaluation.evaluate(
        args.model,
        args.file,
        match=match,
        system=system,
        label=args.label,
        workers=workers,
        progress=not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(json.dumps({**result.to_dict(), "path": str(result.path)}, ensure_ascii=False))
    else:
        print(result)
        print(_("Résultats enregistrés : {path}").format(path=result.path))
    return 0


def _run_reset(args: argparse.Namespace) -> int:
    from . import workspace

    gone = workspace.reset(args.step)
    if args.step is None:
        what = _("toutes les étapes")
    else:
        what = _("l'étape {step} et les suivantes").format(step=args.step)
    if gone:
        print(_("Oublié pour {what} : {names}.").format(what=what, names=", ".join(sorted(gone))))
    else:
        print(_("Rien à oublier pour {what}.").format(what=what))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 error or file not ready, 2 bad usage)."""
    from .errors import explain

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":  # local mode's weights: helpers.local.export (issue 14)
        from .local.export import main as export_main

        return export_main(argv[1:])
    if argv and argv[0] == "class":  # a class server for a whole class (the teacher's commands)
        from .kit_server.classroom.cli import main as class_main

        return class_main(argv[1:])
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        right = suggest(argv[0])
        if right:
            argv = ["api", *argv] if argv[0] in VERBS else argv
            if argv[0] != "api":
                print(
                    explain(
                        UsageError(
                            _(
                                "Commande inconnue « {command} » (invalid choice). Tu voulais "
                                "dire api {right} ?"
                            ).format(command=argv[0], right=right),
                            _("Écris : python -m helpers api {right} …").format(right=right),
                        )
                    ),
                    file=sys.stderr,
                )
                return 2
    try:
        args = _parser().parse_args(argv)
    except UsageError as err:
        print(explain(err), file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    missing = missing_packages() if args.command != "doctor" else []
    if missing:  # another Python than the kit's: say so, rather than a file's or cell's fault
        say_packages_missing(missing)
        return 1
    try:
        if args.command == "api":
            return _run_api(args)
        if args.command == "check":
            return _run_check(args)
        if args.command == "eval":
            return _run_eval(args)
        if args.command == "doctor":
            return run_doctor(args)
        return _run_reset(args)
    except KeyboardInterrupt:
        print("\n" + _("Interrompu."), file=sys.stderr)
        return 130
    except UsageError as err:
        print(explain(err), file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:  # a package of the kit missing from this Python
        say_packages_missing([err.name or str(err)])
        return 1
    except Exception as err:  # noqa: BLE001 - the learner sees a diagnosis, never a traceback
        print(explain(err), file=sys.stderr)
        return 1
