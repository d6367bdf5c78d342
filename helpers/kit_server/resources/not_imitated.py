"""The routes of OpenAI's API the kit server does not imitate, and what it answers there.

A learner (or a library) calling one of them must not read « Invalid URL », which says their
URL is wrong: the sandbox answers that it does not imitate this part of the API, and what to
do instead. The decision per endpoint is written in docs/bac-a-sable.md; the routes the kit
server does serve are the other modules of `resources/`. Everything else under /v1 keeps the
real API's « Invalid URL » answer (`app.invalid_url` asks `answer` first).

The status is 404 (no such route here: the SDKs raise NotFoundError and never retry it), type
`invalid_request_error`, and a code of the sandbox's own (`not_imitated_by_sandbox`,
`evals_api_shut_down`), which `helpers.errors` explains in French.
"""

from __future__ import annotations

from ... import api_messages
from .. import errors

NOT_IMITATED = api_messages.NOT_IMITATED.code
EVALS_SHUT_DOWN = api_messages.EVALS_SHUT_DOWN.code

#: What the sandbox serves, said in every answer below.
SERVED = "files, fine-tuning jobs, models, chat completions, responses, embeddings and moderations"
#: Resource (first path segment after /v1, or a longer prefix) → what it is, what to do.
DECISIONS: dict[str, tuple[str, str]] = {
    "batches": (
        "the Batch API",
        "send each line of your batch file to /v1/chat/completions yourself (a loop), or use "
        "the real API (mode openai)",
    ),
    "images": (
        "image generation",
        "generating images costs money and needs the real API (mode openai); the sandbox "
        "cannot fake an image honestly",
    ),
    "audio": ("audio (speech, transcription)", "use the real API (mode openai)"),
    "videos": ("video generation", "use the real API (mode openai)"),
    "assistants": (
        "the Assistants API",
        "use /v1/responses (imitated), which replaces it, or the real API",
    ),
    "threads": (
        "the Assistants API's threads",
        "use /v1/responses (imitated), which replaces it, or the real API",
    ),
    "vector_stores": ("vector stores (file search)", "use the real API (mode openai)"),
    "uploads": (
        "multipart uploads",
        "upload the file in one request with /v1/files (imitated, up to 512 MB)",
    ),
    "realtime": ("the Realtime API", "use the real API (mode openai)"),
    "conversations": ("conversations", "chain responses with previous_response_id instead"),
    "containers": ("containers (code interpreter)", "use the real API (mode openai)"),
    "chatkit": ("ChatKit", "use the real API (mode openai)"),
    "skills": ("skills", "use the real API (mode openai)"),
    "organization": ("the organization's administration", "use the real API's admin keys"),
    "projects": ("projects", "use the real API's admin keys"),
    "content_provenance_checks": ("content provenance checks", "use the real API"),
    "fine_tuning/alpha": (
        "fine-tuning graders (reinforcement fine-tuning)",
        "the sandbox simulates supervised fine-tuning only; use the real API",
    ),
    "fine_tuning/checkpoints": (
        "checkpoint permissions",
        "use the real API (mode openai)",
    ),
    "chat/completions/": (
        "stored chat completions",
        "keep the completions your code receives; the sandbox does not store them",
    ),
}


def answer(method: str, path: str) -> errors.ApiError | None:
    """The sandbox's answer for a route of the real API it does not serve (None: a URL that is
    not the real API's either, which keeps the « Invalid URL » answer)."""
    if not path.startswith("/v1/"):
        return None
    rest = path[len("/v1/") :]
    if rest == "evals" or rest.startswith("evals/"):
        return evals_shut_down(method, path)
    for prefix, (what, instead) in DECISIONS.items():
        if prefix.endswith("/"):  # only the paths below a served route
            hit = rest.startswith(prefix)
        else:
            hit = rest == prefix or rest.startswith(prefix + "/")
        if hit:
            return errors.from_table(
                api_messages.NOT_IMITATED,
                method=method,
                path=path,
                what=what,
                served=SERVED,
                instead=instead,
            )
    return None


def evals_shut_down(method: str, path: str) -> errors.ApiError:
    """OpenAI's Evals API shut down on 2026-11-30. Unconfirmed: what the real API answers
    there now; the sandbox says so and points to the kit's own evaluation and to Promptfoo."""
    return errors.from_table(api_messages.EVALS_SHUT_DOWN, method=method, path=path)
