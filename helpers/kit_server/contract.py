"""The engine contract: what the kit server asks of a training engine.

The resources (`resources/`) serve the routes of the real API; files are the file service's
(`file_store.py`), shared by every engine; everything about jobs, models and chat is the
engine's, which each resource receives as an argument (it never imports an engine). Two
engines implement this contract and never import each other: `engines.simulated` (simulated
training, the default) and `engines.local` (real training of an open model);
`engines.registry` builds the one a server asks for. Each lists exactly the models it can
retrieve and use: a workspace that ran both engines shows each engine's fine-tunes only
under that engine.

Every method is blocking (the resources call it from the thread pool), takes and returns
JSON-ready objects shaped by the resource they answer (`resources/fine_tuning_jobs.py`,
`models.py`, `chat_completions.py`), and raises `errors.ApiError` for the real API's errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .file_store import FileService

#: A `metadata` filter on jobs.list: {key: value}, or {} for "jobs without metadata"
#: (`metadata=null`), or None (no filter).
MetadataFilter = dict[str, str] | None
#: The clock of a server: seconds since the epoch (`time.time`, or a test's).
Clock = Callable[[], float]


class Engine(Protocol):
    #: `organization_id` of its jobs and the `openai-organization` response header.
    organization_id: str

    def create_job(self, body: dict[str, Any], *, speed: float | None = None) -> dict[str, Any]:
        """`speed`: the sandbox speed the client asked for (`X-Atelier-Sandbox-Speed`), for
        engines whose jobs follow a simulated clock; None: the server's own setting."""
        ...

    def retrieve_job(self, job_id: str) -> dict[str, Any]: ...

    def list_jobs(
        self, after: str | None, limit: int, metadata: MetadataFilter = None
    ) -> dict[str, Any]:
        """Jobs newest first; `metadata`: only jobs with these pairs ({}: without metadata)."""
        ...

    def cancel_job(self, job_id: str) -> dict[str, Any]: ...

    def pause_job(self, job_id: str) -> dict[str, Any]: ...

    def resume_job(self, job_id: str) -> dict[str, Any]: ...

    def events(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]: ...

    def checkpoints(self, job_id: str, after: str | None, limit: int) -> dict[str, Any]: ...

    def list_models(self) -> dict[str, Any]: ...

    def retrieve_model(self, name: str) -> dict[str, Any]: ...

    def delete_model(self, name: str) -> dict[str, Any]:
        """Delete a fine-tuned model: `{"id", "object": "model", "deleted": true}`."""
        ...

    def chat(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def file_uploaded(self, purpose: str) -> None:
        """A learner uploaded a file: an engine may get ready for the job that usually follows."""
        ...

    def sync_files(self) -> None:
        """Write the results files of the jobs that have finished by now (idempotent)."""
        ...


#: How a server builds an engine: (workspace folder, file service, clock) → engine.
EngineFactory = Callable[[Path, FileService, Clock], Engine]
