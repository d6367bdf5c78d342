"""The teacher's page: students × steps, the queue, the quotas and storage; cancel a job.

Served by the class server under `/classe/` (plain HTML and a little JavaScript, no build
step). The page asks for the teacher's key once and sends it as a Bearer token; every
`/classe/api/…` answer needs it. Every answer that is not the page itself is JSON, errors in
the API's envelope (`{"error": {"message", "type", "param", "code"}}`), unknown routes and
wrong methods included. `build_overview` returns one dict per student (`_student`): a new
column is a new key there and a cell in `page/app.js`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ...i18n import in_language
from .. import errors
from ..errors import ApiError
from .page_text import STATUS_FR, page_language, texts
from .tenants import ClassServer, bearer

log = logging.getLogger("helpers.kit_server")

PAGE = Path(__file__).parent / "page"
PROBE = "Bonjour"  # i18n: keep (what the probe asks a COUCOU model: the course's data)


def json_app(routes: list[Route]) -> Starlette:
    """A Starlette app of the class server's own routes: unknown routes (404), wrong methods
    (405) and bugs (500) answer in the API's envelope, as on `/v1` (the router logs traces)."""

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        headers = getattr(exc, "headers", None) or {}
        err = ApiError(status, f"Invalid URL ({request.method} {request.url.path})")
        return JSONResponse(err.body(), status_code=status, headers=headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(errors.server_error())

    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error}
    )
    app.router.redirect_slashes = False  # `/classe/api/overview/`: a 404, not a 307
    return app


def teacher_refusal(state: ClassServer, request: Request) -> JSONResponse | None:
    """None when the request carries a teacher's key, else the refusal to send (blocking:
    the hub may be asked)."""
    try:
        person = state.identity.who(bearer(request.scope))
    except ApiError as err:  # the hub did not answer
        return error_response(err)
    if person is None or not person.teacher:
        return error_response(
            ApiError(
                401,
                in_language(
                    page_language(request),
                    "Page réservée à l'enseignant·e : donne la clé enseignant·e.",
                ),
                code="teacher_only",
            )
        )
    return None


class TeacherPage:
    def __init__(self, state: ClassServer) -> None:
        self.state = state
        self._answers: dict[str, bool] = {}  # fine-tuned model → answers exactly COUCOU
        self._lock = threading.Lock()
        routes = [
            Route("/classe", self.page, methods=["GET"]),
            Route("/classe/", self.page, methods=["GET"]),
            Route("/classe/app.js", self.asset, methods=["GET"]),
            Route("/classe/style.css", self.asset, methods=["GET"]),
            Route("/classe/api/overview", self.overview, methods=["GET"]),
            Route("/classe/api/page-text", self.page_text, methods=["GET"]),
            Route(
                "/classe/api/students/{name}/jobs/{job_id}/cancel", self.cancel, methods=["POST"]
            ),
        ]
        self.app = json_app(routes)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def page(self, request: Request) -> Response:
        return FileResponse(PAGE / "index.html", headers={"cache-control": "no-store"})

    async def asset(self, request: Request) -> Response:
        return FileResponse(PAGE / request.url.path.rsplit("/", 1)[-1])

    async def page_text(self, request: Request) -> Response:
        """The page's texts in the request's language (page_text.py): no key needed."""
        lang = page_language(request)
        headers = {"vary": "Accept-Language", "cache-control": "no-store"}
        return JSONResponse({"lang": lang, "texts": texts(lang)}, headers=headers)

    def _teacher(self, request: Request) -> JSONResponse | None:
        return teacher_refusal(self.state, request)

    async def overview(self, request: Request) -> Response:
        import anyio.to_thread

        refused = await anyio.to_thread.run_sync(self._teacher, request)
        if refused is not None:
            return refused
        return JSONResponse(await anyio.to_thread.run_sync(self.build_overview))

    async def cancel(self, request: Request) -> Response:
        import anyio.to_thread

        refused = await anyio.to_thread.run_sync(self._teacher, request)
        if refused is not None:
            return refused
        name, job_id = request.path_params["name"], request.path_params["job_id"]
        if name not in await anyio.to_thread.run_sync(self.state.people):
            unknown = in_language(page_language(request), "Élève inconnu·e : {name}.").format(
                name=name
            )
            return error_response(ApiError(404, unknown, param="name"))
        engine = await anyio.to_thread.run_sync(self.state.engine_for, name)
        try:
            job = await anyio.to_thread.run_sync(engine.cancel_job, job_id)
        except ApiError as err:
            return error_response(err)
        return JSONResponse({"id": job["id"], "status": job["status"]})

    # -- the overview ---------------------------------------------------------------------

    def _answers_coucou(self, name: str, model: str) -> bool:
        with self._lock:
            if model in self._answers:
                return self._answers[model]
        body = {
            "model": model,
            "messages": [{"role": "user", "content": PROBE}],
            "temperature": 0,
            "max_tokens": 16,
        }
        try:
            reply = self.state.engine_for(name).chat(body)["choices"][0]["message"]["content"]
        except Exception:
            return False
        ok = (reply or "").strip() == "COUCOU"
        with self._lock:
            self._answers[model] = ok
        return ok

    def _student(self, name: str, shown: str) -> dict[str, Any]:
        try:
            return self._student_row(name, shown)
        except Exception:  # one broken workspace never hides the rest of the class
            log.exception("teacher overview: the workspace of %s", name)
            row = {"name": name, "display": shown, "datasets": 0, "dataset": None, "jobs": 0}
            return {**row, "job": None, "coucou": None, "storage": None, "broken": True}

    def _student_row(self, name: str, shown: str) -> dict[str, Any]:
        engine, files = self.state.engine_for(name), self.state.files_for(name)
        datasets, _ = files.list(purpose="fine-tune", limit=100)
        jobs = engine.list_jobs(None, 100)["data"]
        row: dict[str, Any] = {
            "name": name,  # the tenant id (cancel's URL)
            "display": shown,  # what the page shows (a hub user's own name)
            "datasets": len(datasets),
            "dataset": datasets[0].filename if datasets else None,
            "jobs": len(jobs),
            "job": None,
            "coucou": None,
            "storage": self.state.storage(name),
        }
        if jobs:
            job = jobs[0]
            events = engine.events(job["id"], None, 200)["data"]
            losses = [
                e["data"]["train_loss"]
                for e in events
                if (e.get("data") or {}).get("train_loss") is not None
            ]
            row["job"] = {
                "id": job["id"],
                "status": job["status"],
                "status_fr": STATUS_FR.get(job["status"], job["status"]),
                "created_at": job["created_at"],
                "estimated_finish": job.get("estimated_finish"),
                "loss": losses[0] if losses else None,
                "model": job.get("fine_tuned_model"),
                "error": (job.get("error") or {}).get("message"),
            }
            if job.get("fine_tuned_model"):
                row["coucou"] = self._answers_coucou(name, job["fine_tuned_model"])
        return row

    def build_overview(self) -> dict[str, Any]:
        shown = self.state.roster.displays()
        students = [self._student(n, shown.get(n, n)) for n in self.state.people()]
        waiting = [
            {"name": s["name"], "display": s["display"], **s["job"]}
            for s in students
            if s["job"]
            and s["job"]["status"] in ("validating_files", "queued", "running", "paused")
        ]
        waiting.sort(key=lambda j: j["created_at"])
        turns = {job: (rank, now) for rank, (_, job, now) in enumerate(self.state.turns(), 1)}
        for job in waiting:  # local engine: the class-wide turn of each waiting job
            rank, now = turns.get(job["id"], (None, False))
            job["turn"] = rank
            job["training_now"] = now
        return {
            "engine": self.state.engine,
            "students": students,
            "queue": waiting,
            "quotas": self.state.roster.quotas(),
        }


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)
