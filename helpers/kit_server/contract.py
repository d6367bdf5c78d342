"""The engine protocol: what the kit server asks of a training engine.

The app (`app.py`) serves the routes of the real API; files are the file service's
(`files.py`), shared by every engine; everything about jobs, models and chat is the
engine's. Two engines implement this protocol and never import each other:
`helpers.kit_server.engines.simulated` (simulated training, the default) and `helpers.kit_server.engines.local`
(real training of an open model). Each lists exactly the models it can retrieve and use:
a workspace that ran both engines shows each engine's fine-tunes only under that engine.

Every method is blocking (the app calls it from its thread pool), takes and returns JSON-ready
objects shaped by `shapes.py`, and raises `errors.ApiError` for the real API's errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .file_store import FileService


class Engine(Protocol):
    #: `organization_id` of its jobs and the `openai-organization` response header.
    organization_id: str

    def create_job(self, body: dict[str, Any], *, speed: float | None = None) -> dict[str, Any]:
        """`speed`: the sandbox speed the client asked for (`X-Atelier-Sandbox-Speed`), for
        engines whose jobs follow a simulated clock; None: the server's own setting."""
        ...

    def retrieve_job(self, job_id: str) -> dict[str, Any]: ...

    def list_jobs(
        self, after: str | None, limit: int, metadata: dict[str, str] | None = None
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


#: How the server builds an engine: (workspace folder, file service, clock) → engine.
EngineFactory = Callable[[Path, FileService, Callable[[], float]], Engine]
