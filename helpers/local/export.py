"""Take a local fine-tune home: a merged Hugging Face folder that plain `transformers` loads.

    python -m helpers export ft:gpt-4o-mini-2024-07-18:local:coucou:ab12cd34 [-o DOSSIER]

The folder holds the base model with the LoRA adapter merged in (`model.safetensors`,
`config.json`, `generation_config.json`), the tokenizer and its chat template, a `Modelfile`
for Ollama (`ollama create NOM -f Modelfile`) and a README (model card) that says how to load
it and how to publish it on the Hugging Face Hub. Nothing in it needs the kit.

Only `local` mode has weights to export: a sandbox model is simulated, and OpenAI never hands
out the weights of a model fine-tuned on its servers (`nothing_to_export`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import settings
from ..i18n import N_, _
from ..modes import Mode, trained_in
from .catalog import LocalModelError

DEFAULT_DIR = "modeles-exportes"  # under the current folder…
DTYPES = ("float32", "bfloat16", "float16")

# The name the examples give the exported model (Ollama, the Hub), in the learner's language.
MODEL_EXAMPLE = N_("mon-modele")


@dataclass
class Exported:
    folder: Path
    name: str
    base: str
    parameters: int
    bytes: int

    def lines(self) -> list[str]:
        return [
            _("✅ {name} exporté dans {folder}").format(name=self.name, folder=self.folder),
            "   "
            + _(
                "{parameters:.1f} M paramètres, {size:.0f} Mo (modèle de base : {base}, "
                "adaptateur LoRA fusionné)"
            ).format(parameters=self.parameters / 1e6, size=self.bytes / 1e6, base=self.base),
            "   " + _("Charge-le sans le kit : AutoModelForCausalLM.from_pretrained(dossier)"),
            f"   Ollama : cd {self.folder} && ollama create {_(MODEL_EXAMPLE)} -f Modelfile",
        ]


def nothing_to_export(name: str, mode: str | Mode | None = None) -> str | None:
    """Why `name` has no weights to export (French), or None when it may be a local model.
    A name that does not say which mode trained it is judged by the active `mode`."""
    made_in = trained_in(name)
    if made_in == Mode.LOCAL:
        return None
    if Mode.SANDBOX in (made_in, mode):
        return _(
            "{name} est un modèle du bac à sable : son entraînement est simulé, il n'a pas de "
            "poids à emporter. Pour un vrai modèle à garder, entraîne-le en mode « local » "
            "(ATELIER_MODE=local) : voir le notebook 00."
        ).format(name=name)
    if Mode.OPENAI in (made_in, mode):
        return _(
            "{name} a été entraîné chez OpenAI : OpenAI ne donne jamais les poids d'un modèle "
            "fine-tuné, il ne s'utilise qu'à travers son API. Pour un modèle que tu peux "
            "emporter, entraîne-le en mode « local »."
        ).format(name=name or _("Ton modèle"))
    return _(
        "{name} n'est pas un modèle fine-tuné (ft:…). Donne le nom que ton job a produit, "
        "par exemple celui qu'affiche le notebook 06."
    ).format(name=name)


def slug(name: str) -> str:
    parts = name.split(":")
    if len(parts) >= 5:
        name = "-".join(p for p in (parts[1], parts[3], parts[4]) if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "modele"


def _system_default(tokenizer: Any) -> str | None:
    """The system prompt the chat template adds when there is none (SmolLM2 has one): the
    fine-tune learned with it, so Ollama must use it too."""
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "\x00"}], tokenize=False, add_generation_prompt=True
        )
    except Exception:
        return None
    match = re.match(r"<\|im_start\|>system\n(.*?)<\|im_end\|>", text, re.S)
    return match.group(1) if match else None


def modelfile(tokenizer: Any) -> str:
    """An Ollama Modelfile for the exported folder (ChatML template when the model uses it)."""
    lines = [
        "# " + _("Modelfile pour Ollama (https://ollama.com) — dans ce dossier :"),
        f"#   ollama create {_(MODEL_EXAMPLE)} -f Modelfile",
        f"#   ollama run {_(MODEL_EXAMPLE)}",
        "FROM .",
    ]
    template = getattr(tokenizer, "chat_template", "") or ""
    if "<|im_start|>" in template:
        lines.append(
            'TEMPLATE """{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
            "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
            '<|im_start|>assistant\n"""'
        )
        system = _system_default(tokenizer)
        if system:
            lines.append(f'SYSTEM """{system}"""')
        lines.append('PARAMETER stop "<|im_end|>"')
    else:
        lines.append("# " + _("(Ollama lit le modèle de conversation dans tokenizer_config.json)"))
    lines.append("PARAMETER temperature 0")
    return "\n".join(lines) + "\n"


def model_card(name: str, base: str, dtype: str) -> str:
    base_ref = base if re.fullmatch(r"[\w.\-]+/[\w.\-]+", base) else None
    header = ["---", "library_name: transformers", "tags: [atelier-fine-tuning, lora, chat]"]
    if base_ref:
        header.append(f"base_model: {base_ref}")
    header.append("---")
    about = _(
        "Modèle fine-tuné avec l'Atelier fine-tuning (mode local, LoRA fusionné dans les poids, "
        "{dtype}). Modèle de base : `{base}`."
    ).format(dtype=dtype, base=base)
    here = _("ce dossier")
    example = _(MODEL_EXAMPLE)
    repo = _("ton-nom/{model}").format(model=example)
    with_transformers = _("L'utiliser avec transformers (sans le kit)")
    with_ollama = _("L'utiliser avec Ollama")
    on_the_hub = _("Le publier sur le Hugging Face Hub")
    token = _("ton jeton (Settings → Access Tokens, droit « write »)")
    upload = _("crée le dépôt et envoie ce dossier")
    return "\n".join(header) + (
        f"\n\n# {name}\n\n"
        f"{about}\n\n"
        f"## {with_transformers}\n\n"
        "```python\n"
        "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        f'dossier = "."  # {here}\n'  # i18n: keep (code)
        "tokenizer = AutoTokenizer.from_pretrained(dossier)\n"
        "model = AutoModelForCausalLM.from_pretrained(dossier)\n"
        'messages = [{"role": "user", "content": "Bonjour"}]\n'
        "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, "
        'return_tensors="pt", return_dict=True)\n'
        "out = model.generate(**inputs, max_new_tokens=50, do_sample=False)\n"
        'print(tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True))\n'
        "```\n\n"
        f"## {with_ollama}\n\n"
        f"```bash\nollama create {example} -f Modelfile\nollama run {example}\n```\n\n"
        f"## {on_the_hub}\n\n"
        f"```bash\npip install huggingface_hub\nhf auth login            # {token}\n"
        f"hf upload {repo} .   # {upload}\n```\n\n"
        + _(
            'Ou, en Python : `model.push_to_hub("{repo}")` puis `tokenizer.push_to_hub("{repo}")`.'
        ).format(repo=repo)
        + "\n"
    )


def export(
    name: str,
    dest: str | Path | None = None,
    *,
    home: str | Path | None = None,
    dtype: str = "float32",
) -> Exported:
    """Write the merged Hugging Face folder of the local fine-tuned model `name` (a job's
    `fine_tuned_model`, or one of its checkpoints). French `LocalModelError` on failure."""
    from .queue import LocalQueue

    why = nothing_to_export(name, settings.get_mode())
    if why:
        raise LocalModelError(why)
    if dtype not in DTYPES:
        raise LocalModelError(
            _("Précision inconnue : {dtype}. Choisis parmi {choices}.").format(
                dtype=dtype, choices=", ".join(DTYPES)
            )
        )
    from . import catalog

    if not catalog.is_available():
        raise LocalModelError(
            _("Exporter demande torch, transformers et peft : {hint}").format(
                hint=_(catalog.INSTALL_HINT)
            )
        )
    home = Path(home) if home is not None else settings.workspace_dir()
    source = LocalQueue(home).model_folder(name)
    if source is None:
        raise LocalModelError(
            _(
                "Aucun modèle local nommé {name} dans cet espace de travail ({home}). Vérifie le "
                "nom (python -m helpers api models.list) : le job doit avoir fini (succeeded)."
            ).format(name=name, home=home)
        )
    parent = settings.current().export_dir or Path.cwd() / DEFAULT_DIR  # (tests: another one)
    folder = Path(dest) if dest is not None else parent / slug(name)
    return _write(name, source, folder, dtype)


def _write(name: str, source: Path, folder: Path, dtype: str) -> Exported:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .generate import adapter_base
    from .quiet import quiet

    quiet()
    base = adapter_base(source)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if base is not None:
        from peft import PeftModel

        from .adapters import chain, load_merged

        _, model = load_merged(base, "cpu")  # a DPO model's base may be a fine-tune: merged too
        model = PeftModel.from_pretrained(model.float(), source).merge_and_unload()
        base = chain(source)[0]  # the model card names the first base model
    else:
        base = str(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model = model.to(getattr(torch, dtype))
    model.config.dtype = getattr(torch, dtype)
    shown_base = _shown_base(base)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "Modelfile").write_text(modelfile(tokenizer), encoding="utf-8")
    (folder / "README.md").write_text(model_card(name, shown_base, dtype), encoding="utf-8")
    (folder / "atelier_export.json").write_text(
        json.dumps({"fine_tuned_model": name, "base": shown_base, "dtype": dtype}, indent=2),
        encoding="utf-8",
    )
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return Exported(folder, name, shown_base, sum(p.numel() for p in model.parameters()), size)


def _shown_base(base: str) -> str:
    """The base model's name for the model card: a hub id when known, else the folder's name."""
    from . import catalog

    try:
        model = catalog.from_spec(base)
    except LocalModelError:
        return base
    known = catalog.CATALOG.get(model.id)
    if known is not None and known.source:
        return known.source
    return model.id


def main(argv: list[str] | None = None) -> int:
    """`python -m helpers export MODEL [-o DOSSIER] [--dtype …]` (French messages)."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers export",
        description=_(
            "Exporte un modèle fine-tuné en mode local : un dossier Hugging Face "
            "(transformers, Ollama, Hub)."
        ),
    )
    parser.add_argument("model", help=_("nom du modèle fine-tuné (ft:…:local:…)"))
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help=_("dossier (défaut : ./{folder}/…)").format(folder=DEFAULT_DIR),
    )
    parser.add_argument(
        "--dtype", default="float32", choices=DTYPES, help=_("précision des poids (défaut float32)")
    )
    args = parser.parse_args(argv)
    try:
        result = export(args.model, args.output, dtype=args.dtype)
    except LocalModelError as exc:
        print(f"❌ {exc}", file=sys.stderr)
        return 1
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
