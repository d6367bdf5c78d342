"""The class's evaluation results (notebook 12): each student's runs on the teacher's page.

- `POST /kit/evaluations` — a student's kernel sends the figures of one run
  (`helpers.evaluation.summary_for_class`: label, model, dataset, comparison, right answers,
  total, simulated), identified like every `/v1` request (a key the teacher issued, or the hub
  token). Appended to the student's own folder (`CLASS/students/<name>/evaluations.jsonl`).
- `GET /classe/api/evaluations` — the teacher: students × contenders (base, prompt, fine-tune;
  each student's latest run of each) and the class ranking by the fine-tune's accuracy.
- `GET /classe/evaluations.js` — the teacher page's section: the table, and the ranking to show
  the class, names hidden unless the teacher ticks « montrer les noms ».

Figures only: no question, answer or prompt ever reaches the class server through this route.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, TypeGuard

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ...fileio import write_atomic
from ...i18n import _
from ..errors import ApiError
from .roster import Person
from .teacher import error_response, json_app, teacher_refusal
from .tenants import ClassServer, bearer

PAGE = Path(__file__).parent / "page"
PATHS = ("/kit/evaluations", "/classe/api/evaluations", "/classe/evaluations.js")
CONTENDERS = ("base", "prompt", "fine-tune")
FILE = "evaluations.jsonl"
MAX_BODY = 4096
MAX_RUNS = 200  # runs kept per student (the oldest go first)


def _integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_run(body: Any) -> dict[str, Any]:
    """The run as stored, or ValueError (French) naming the field that is wrong."""
    if not isinstance(body, dict):
        raise ValueError(_("Le corps doit être un objet JSON."))
    run: dict[str, Any] = {}
    for name, limit in (("label", 40), ("model", 200), ("dataset", 200)):
        value = body.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise ValueError(
                _("« {name} » : un texte de 1 à {limit} caractères est attendu.").format(
                    name=name, limit=limit
                )
            )
        run[name] = value
    if body.get("match", "exact") not in ("exact", "loose"):
        raise ValueError(_("« match » : « exact » ou « loose » attendu."))
    run["match"] = body.get("match", "exact")
    correct, total = body.get("correct"), body.get("total")
    if not (_integer(correct) and _integer(total)):
        raise ValueError(_("« correct » et « total » : des nombres entiers sont attendus."))
    if not 0 <= correct <= total <= 100_000 or total == 0:
        raise ValueError(_("« correct » doit être entre 0 et « total » (1 à 100 000)."))
    run.update(correct=correct, total=total, simulated=bool(body.get("simulated")))
    run["received_at"] = round(time.time(), 3)
    return run


class Evaluations:
    """The routes above, over the class's state (its roster, identity and folders)."""

    def __init__(self, state: ClassServer) -> None:
        self.state = state
        self._lock = threading.Lock()
        self.app = json_app(
            [
                Route("/kit/evaluations", self.receive, methods=["POST"]),
                Route("/classe/api/evaluations", self.overview, methods=["GET"]),
                Route("/classe/evaluations.js", self.script, methods=["GET"]),
            ]
        )

    @staticmethod
    def handles(path: str) -> bool:
        return path in PATHS

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def _file(self, person: Person | str) -> Path:
        return self.state.workspace(person) / FILE

    # -- a student sends a run ------------------------------------------------------------

    async def receive(self, request: Request) -> Response:
        import anyio.to_thread

        key = bearer(request.scope)
        try:
            person = await anyio.to_thread.run_sync(self.state.identity.who, key) if key else None
        except ApiError as err:  # the hub did not answer
            return error_response(err)
        if person is None:
            return error_response(
                ApiError(
                    401,
                    _("Clé inconnue de ce serveur de classe : demande ta clé à ton enseignant·e."),
                    code="class_invalid_key",
                )
            )
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return error_response(
                ApiError(
                    413,
                    _("Résultat trop gros (plus de {limit} octets).").format(limit=MAX_BODY),
                    code="too_large",
                )
            )
        try:
            run = check_run(json.loads(raw or b"null"))
        except ValueError as err:  # json's errors are ValueErrors too
            return error_response(
                ApiError(400, _("Résultat refusé : {problem}").format(problem=err))
            )
        await anyio.to_thread.run_sync(self._append, person, run)
        return JSONResponse({"object": "atelier.evaluation", "student": person.name, **run}, 201)

    def _append(self, person: Person, run: dict[str, Any]) -> None:
        path = self._file(person)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            runs = self.runs(person)[-(MAX_RUNS - 1) :] + [run]
            write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in runs))

    def runs(self, person: Person | str) -> list[dict[str, Any]]:
        """A student's runs, oldest first (a damaged line is skipped)."""
        try:
            lines = self._file(person).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                data = json.loads(line)
                run = check_run(data)
                run["received_at"] = float(data["received_at"])
            except (ValueError, KeyError, TypeError):
                continue
            out.append(run)
        return out

    # -- the teacher reads them -----------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        import anyio.to_thread

        refused = await anyio.to_thread.run_sync(teacher_refusal, self.state, request)
        if refused is not None:
            return refused
        return JSONResponse(await anyio.to_thread.run_sync(self.build))

    def build(self) -> dict[str, Any]:
        """Students × contenders (latest run of each, as a percentage) and the ranking."""
        students: list[dict[str, Any]] = []
        shown = self.state.roster.displays()
        for name in self.state.people():
            latest: dict[str, dict[str, Any]] = {}
            for run in self.runs(name):
                latest[run["label"]] = run
            if not latest:
                continue
            row: dict[str, Any] = {
                "name": name,  # the tenant id
                "display": shown.get(name, name),  # what the page shows (a hub user's own name)
                "simulated": any(r["simulated"] for r in latest.values()),
            }
            for label in CONTENDERS:
                last = latest.get(label)
                row[label] = (
                    None
                    if last is None
                    else {
                        "accuracy": last["correct"] / last["total"],
                        "correct": last["correct"],
                        "total": last["total"],
                        "model": last["model"],
                        "dataset": last["dataset"],
                    }
                )
            students.append(row)
        ranked = sorted(
            (s for s in students if s["fine-tune"] is not None),
            key=lambda s: (-s["fine-tune"]["accuracy"], s["name"]),
        )
        ranking: list[dict[str, Any]] = []
        for i, s in enumerate(ranked):
            same = i and ranking[-1]["accuracy"] == s["fine-tune"]["accuracy"]
            ranking.append(
                {
                    "rank": ranking[-1]["rank"] if same else i + 1,
                    "name": s["name"],
                    "display": s["display"],
                    "accuracy": s["fine-tune"]["accuracy"],
                    "gain_over_base": None
                    if s["base"] is None
                    else s["fine-tune"]["accuracy"] - s["base"]["accuracy"],
                }
            )
        return {"contenders": list(CONTENDERS), "students": students, "ranking": ranking}

    async def script(self, request: Request) -> Response:
        return FileResponse(PAGE / "evaluations.js", headers={"cache-control": "no-store"})
