"""Talk to a model: one question (`ask`), or base vs fine-tuned side by side (`compare`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from . import models, workspace
from .exceptions import NoModelError
from .i18n import _
from .tables import Table


def fine_tuned_model() -> str:
    """The workspace's fine-tuned model, or a French `NoModelError`."""
    name = workspace.get("fine_tuned_model")
    if not name:
        raise NoModelError(
            _(
                "Aucun modèle fine-tuné dans ce mode pour l'instant : attends que le job réussisse "
                '(helpers.jobs.wait()) ou passe le nom du modèle (model="ft:…").'
            )
        )
    return name


def base_model() -> str:
    return workspace.get("base_model") or models.DEFAULT_MODEL


def _messages(prompt: str | Sequence[dict[str, Any]], system: str | None) -> list[dict[str, Any]]:
    if isinstance(prompt, str):
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    else:
        messages = [dict(m) for m in prompt]
    if system and not any(m.get("role") == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": system})
    return messages


def ask(
    prompt: str | Sequence[dict[str, Any]],
    model: str | None = None,
    *,
    system: str | None = None,
    temperature: float = 0,
    max_tokens: int | None = None,
    client: Any = None,
) -> str:
    """The model's answer to a question (or to a list of messages). Temperature 0 by default."""
    if client is None:
        from .client import client as make

        client = make()
    params: dict[str, Any] = {
        "model": model or fine_tuned_model(),
        "messages": _messages(prompt, system),
        "temperature": temperature,
    }
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    completion = client.chat.completions.create(**params)
    if not completion.choices:
        return ""
    return completion.choices[0].message.content or ""


def compare(
    prompts: Iterable[str],
    models: Sequence[str] | None = None,
    *,
    system: str | None = None,
    temperature: float = 0,
    max_tokens: int | None = None,
    client: Any = None,
) -> Table:
    """One row per prompt, one column per model (default: base model, then the fine-tune): a
    light table (answers in full; `.to_dataframe()` for pandas), so that notebook 07's kernel
    does not load pandas (one student's 1 GiB on a hub)."""
    if client is None:
        from .client import client as make

        client = make()
    chosen = list(models) if models else [base_model(), fine_tuned_model()]
    rows = [
        [
            prompt,
            *(
                ask(
                    prompt,
                    name,
                    system=system,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    client=client,
                )
                for name in chosen
            ),
        ]
        for prompt in prompts
    ]
    return Table(["question", *chosen], rows)
