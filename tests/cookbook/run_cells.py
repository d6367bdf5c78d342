"""Run the Cookbook's « Fine tuning with function-calling » code cells in an IPython shell, as
Jupyter's « Run all » does (IPython magics included), against OPENAI_BASE_URL.

    python tests/cookbook/run_cells.py CELLS.json unmodified|today > summary.json

- `unmodified`: the cells exactly as published. On 2026-12-07 they fail where the real API
  fails too: `gpt-3.5-turbo` shut down on 2026-10-23 (baseline, job creation), the author's own
  job and model ids (404), and one bug of the notebook itself (`.content` on a tuple).
- `today`: what a reader must change to run them now, and nothing else — the shut-down
  `gpt-3.5-turbo` becomes the dated `gpt-4o-mini-2024-07-18` (the alias is refused for
  fine-tuning), and the author's ids become the job just created, once it has finished (the
  author waited between two cells; `WAIT` does it). Then the next step of every function-
  calling tutorial, which the notebook leaves to the reader: run the tool the fine-tuned model
  called and send its result back, until the model answers in text (`TOOL_LOOP`).

One cell may still fail with `today`: the notebook's own bug, as on the real API. Each cell
runs even if an earlier one failed (the state they leave is what the next cells see). Prints a
JSON summary: each cell's outcome (ok, or the exception's class and message), its output, and
the tool loop's messages.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

#: What `today` changes, each with why (every `old` must be found: the cells are checked).
TODAY = [
    (
        'ft_model = "ft:gpt-3.5-turbo-0125:openai-gtm:drone:9atiPjeC"',
        "ft_model = client.fine_tuning.jobs.retrieve(ftjob_id).fine_tuned_model",
        "the author's fine-tuned model: ours is the job just created",
    ),
    (
        'ftjob_id = "ftjob-84PQg97hoIAKf21IPnhiNlU1"',
        "ftjob_id = ft.id",
        "the author's job id: ours is the job just created",
    ),
    (
        '"gpt-3.5-turbo"',
        '"gpt-4o-mini-2024-07-18"',
        "gpt-3.5-turbo shut down on 2026-10-23 (the real API refuses it too); the dated name, "
        "since the alias gpt-4o-mini is refused for fine-tuning",
    ),
]
#: Inserted after the job creation cell in `today`: what the author did by waiting.
WAIT = """import time as _time
while client.fine_tuning.jobs.retrieve(ft.id).status not in ("succeeded", "failed", "cancelled"):
    _time.sleep(0.05)
assert client.fine_tuning.jobs.retrieve(ft.id).status == "succeeded"
"""
#: Appended in `today`: the next step of a function-calling tutorial (not in the notebook).
TOOL_LOOP = """tool_loop = [
    {"role": "system", "content": DRONE_SYSTEM_PROMPT},
    {"role": "user", "content": "Play pre-recorded audio message"},
]
for _turn in range(5):
    reply, _usage = get_chat_completion(
        model=ft_model, messages=tool_loop, tools=modified_function_list
    )
    tool_loop.append(reply.model_dump(exclude_none=True))
    if not reply.tool_calls:
        break
    for call in reply.tool_calls:
        tool_loop.append(
            {"role": "tool", "tool_call_id": call.id, "content": "Request rejected: not possible."}
        )
"""


def cells_for(cells: list[str], mode: str) -> list[tuple[str, str]]:
    """(name, source) of every cell to run."""
    if mode == "unmodified":
        return [(f"cell {i}", src) for i, src in enumerate(cells)]
    out = []
    text = "\n\x00\n".join(cells)
    for old, new, _why in TODAY:
        assert old in text, f"the Cookbook's cells changed: {old!r} not found"
        text = text.replace(old, new)
    for i, src in enumerate(text.split("\n\x00\n")):
        out.append((f"cell {i}", src))
        if "client.fine_tuning.jobs.create(" in src:
            out.append(("wait for the job", WAIT))
    out.append(("tool loop", TOOL_LOOP))
    return out


def main() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    cells = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))["cells"]
    shell = InteractiveShell.instance()
    outcomes = []
    for name, source in cells_for(cells, sys.argv[2]):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = shell.run_cell(source, store_history=False, silent=False)
        error = result.error_in_exec or result.error_before_exec
        outcomes.append(
            {
                "cell": name,
                "error": None if error is None else type(error).__name__,
                "message": None if error is None else str(error)[:500],
                "output": printed.getvalue()[-2000:],
            }
        )
    loop = shell.user_ns.get("tool_loop")
    print(json.dumps({"cells": outcomes, "tool_loop": loop}, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
