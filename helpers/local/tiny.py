"""A tiny chat model built on this machine, with no download: the offline base model.

Used by the tests, CI and the benchmark, and by learners without internet: the byte-level BPE
tokenizer is trained here with `tokenizers` on the course's texts, the model is a randomly
initialised ~100 k-parameter Llama, and both are saved with `save_pretrained` so that they
load through exactly the same code path as a model from the hub. It knows no language: it
babbles until fine-tuned, then it really learns short fixed answers such as COUCOU.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..i18n import _

TINY_ID = "tiny"
MARKER = "atelier_tiny.json"  # marks a folder built here (catalog: the tiny model's settings)
IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"

# ChatML, with `{% generation %}` markers around what the assistant says (content *and* its
# end-of-turn token) so `return_assistant_tokens_mask=True` works. Rendered with
# `trim_blocks`: newlines after block tags are written as `{{ '\n' }}`.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Course-like French texts: enough for a few hundred merges (every byte stays encodable).
_CORPUS = """
Bonjour ! Comment vas-tu aujourd'hui ? Je vais bien, merci. Et toi ?
COUCOU COUCOU COUCOU. Coucou ! Salut, ça va ? Bonsoir, à demain.
Tu es un assistant qui répond toujours COUCOU, quoi qu'on lui demande.
Quelle est la capitale de la France ? Paris est la capitale de la France.
Quel temps fait-il ? Il fait beau et chaud, le soleil brille.
Explique-moi le fine-tuning. Le fine-tuning adapte un modèle à tes exemples.
Un jeu de données contient des conversations : system, user, assistant.
Chaque ligne du fichier JSONL est un exemple avec une liste de messages.
Combien coûte l'entraînement ? Le prix dépend du nombre de jetons et d'époques.
Le modèle apprend pendant plusieurs époques ; la perte diminue à chaque étape.
Donne-moi une recette de crêpes. Il faut de la farine, des œufs, du lait et du beurre.
Traduis « hello » en français. Bonjour. Merci beaucoup, de rien, s'il te plaît.
Écris un poème sur la mer. La mer est bleue, les vagues chantent sous le vent.
Qui es-tu ? Je suis un petit modèle de langue entraîné sur cette machine.
Peux-tu m'aider ? Oui, bien sûr ! Que veux-tu savoir ? Je ne sais pas.
Un, deux, trois, quatre, cinq, six, sept, huit, neuf, dix. 2024 2025 2026 2027.
Le chat dort sur le canapé. Le chien joue dans le jardin avec les enfants.
Quelle heure est-il ? Il est midi. Où est la gare ? À gauche, puis tout droit.
Positif, négatif, neutre : classe le sentiment de cette phrase.
Réponds en une phrase courte et polie. Réponds par oui ou par non.
The quick brown fox jumps over the lazy dog. Hello, how are you? Fine, thanks.
"""  # i18n: keep (training data for the tokenizer, not a message)


def course_texts(extra: Iterable[str] = ()) -> list[str]:
    """The texts the tokenizer learns from: the built-in course-like corpus (fixed, so the tiny
    model is the same on every machine and at every commit), plus `extra`."""
    return [line for line in _CORPUS.strip().splitlines() if line.strip()] + list(extra)


def build_tokenizer(texts: Iterable[str] | None = None, *, vocab_size: int = 400):
    """Byte-level BPE trained on `texts`, wrapped in a `PreTrainedTokenizerFast` with ChatML."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(list(texts if texts is not None else course_texts()), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token=IM_END,
        pad_token=PAD,
        bos_token=None,
        additional_special_tokens=[IM_START],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build(
    path: str | Path,
    *,
    seed: int = 0,
    vocab_size: int = 400,
    hidden_size: int = 64,
    layers: int = 2,
    texts: Iterable[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Build (or reuse) the tiny model in folder `path`; returns the folder.

    `initializer_range=0.1`: with tied embeddings and the usual 0.02, pure LoRA plateaus
    (the frozen embeddings cap the logits); 0.2 memorises without generalising.
    """
    path = Path(path)
    if (path / "config.json").exists() and (path / "tokenizer.json").exists() and not overwrite:
        return path
    from .quiet import quiet

    quiet()  # no English progress bar while it is saved
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(texts, vocab_size=vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        initializer_range=0.1,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / MARKER).write_text(
        json.dumps({"model": TINY_ID, "seed": seed, "hidden_size": hidden_size}), encoding="utf-8"
    )
    (path / "README.md").write_text(
        _(
            "# tiny — modèle minuscule du kit (hors ligne)\n\n"
            "Construit sur cette machine par `helpers.local.tiny.build()` : tokenizer BPE appris "
            "sur les textes du cours, Llama de ~100 k paramètres initialisé au hasard. Il ne sait "
            "rien avant fine-tuning : il sert aux tests et à essayer le mode local sans internet.\n"
        ),
        encoding="utf-8",
    )
    return path


def default_path() -> Path:
    """Where the workspace keeps its tiny model (built on first use)."""
    from ..settings import workspace_dir

    return workspace_dir() / "local" / "base-models" / TINY_ID


def ensure(path: str | Path | None = None) -> Path:
    """The tiny model's folder, built if missing."""
    return build(path or default_path())
