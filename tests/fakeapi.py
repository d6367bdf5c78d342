"""A tiny in-memory OpenAI API behind the SDK's own transport (tests only).

Used for unit tests of jobs/chat/cli/errors, where a scripted, deterministic job is easier
than the sandbox's clock. The `openai` SDK's real request/response code runs: only the
network is replaced (`http_client=` with a mock transport of whichever httpx the SDK uses).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import openai
import openai._base_client as _bc

hx = getattr(_bc, "httpx2", None) or _bc.httpx  # httpx2 for openai 3.x, httpx for 2.x


@dataclass
class Job:
    data: dict[str, Any]
    script: list[tuple[str, list[tuple[str, str, dict | None]]]]  # (status, events to add)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first


class FakeAPI:
    """State + request handler. `faults` maps a path regex to (status, error body, headers)."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.jobs: dict[str, Job] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {}
        self.chat_bodies: list[dict[str, Any]] = []
        self.metrics_steps = 12
        self._n = 0

    # -- helpers ------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:08d}"

    def counts(self) -> Counter:
        return Counter(f"{m} {re.sub(r'(file|ftjob)-[0-9]+', '{id}', p)}" for m, p in self.requests)

    def client(self, **options: Any) -> openai.OpenAI:
        transport = hx.MockTransport(self.handle)
        return openai.OpenAI(
            api_key="sk-test-000000000000abcd",
            base_url="http://fake.test/v1",
            http_client=hx.Client(transport=transport),
            max_retries=0,
            **options,
        )

    def add_file(
        self, content: bytes, filename: str = "data.jsonl", purpose: str = "fine-tune"
    ) -> str:
        fid = self._id("file-")
        self.files[fid] = {
            "id": fid,
            "object": "file",
            "bytes": len(content),
            "created_at": 1_700_000_000,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        self.contents[fid] = content
        return fid

    # -- routing ------------------------------------------------------------------------
    def handle(self, request: Any) -> Any:
        path = request.url.path
        method = request.method
        self.requests.append((method, path))
        for pattern, (status, body, headers) in self.faults.items():
            if re.search(pattern, f"{method} {path}"):
                return hx.Response(status, json={"error": body}, headers=headers)
        query = {
            k: v[0]
            for k, v in parse_qs(
                request.url.query.decode()
                if isinstance(request.url.query, bytes)
                else str(request.url.query)
            ).items()
        }
        try:
            status, payload = self._route(method, path, request, query)
        except KeyError as missing:
            status, payload = (
                404,
                {
                    "error": {
                        "message": f"No such object: {missing}",
                        "type": "invalid_request_error",
                        "param": "id",
                        "code": None,
                    }
                },
            )
        if isinstance(payload, bytes):
            return hx.Response(status, content=payload)
        return hx.Response(status, json=payload)

    def _route(self, method: str, path: str, request: Any, q: dict[str, str]) -> tuple[int, Any]:
        p = path.removeprefix("/v1")
        if p == "/files" and method == "POST":
            body = request.read()
            name = re.search(rb'filename="([^"]+)"', body)
            purpose = re.search(rb'name="purpose"\r\n\r\n([^\r]+)', body)
            content = body.split(b"\r\n\r\n")[-1].rsplit(b"\r\n--", 1)[0]
            fid = self.add_file(
                content,
                name.group(1).decode() if name else "upload",
                purpose.group(1).decode() if purpose else "?",
            )
            return 200, self.files[fid]
        if p == "/files":
            return 200, {"object": "list", "data": list(self.files.values()), "has_more": False}
        m = re.fullmatch(r"/files/([^/]+)(/content)?", p)
        if m:
            fid = m.group(1)
            if fid not in self.files:
                return 404, {
                    "error": {
                        "message": f"No such File object: {fid}",
                        "type": "invalid_request_error",
                        "param": "id",
                        "code": None,
                    }
                }
            if method == "DELETE":
                del self.files[fid]
                return 200, {"id": fid, "object": "file", "deleted": True}
            return 200, self.contents[fid] if m.group(2) else self.files[fid]
        if p == "/fine_tuning/jobs" and method == "POST":
            return self._create_job(json.loads(request.read()))
        if p == "/fine_tuning/jobs":
            data = [j.data for j in self.jobs.values()][::-1]
            if "after" in q:
                ids = [d["id"] for d in data]
                data = data[ids.index(q["after"]) + 1 :]
            limit = int(q.get("limit", 20))
            return 200, {"object": "list", "data": data[:limit], "has_more": len(data) > limit}
        m = re.fullmatch(r"/fine_tuning/jobs/([^/]+)(/[a-z]+)?", p)
        if m:
            jid, tail = m.group(1), m.group(2)
            if jid not in self.jobs:
                return 404, {
                    "error": {
                        "message": f"No such fine-tuning job: {jid}",
                        "type": "invalid_request_error",
                        "param": "fine_tuning_job_id",
                        "code": None,
                    }
                }
            job = self.jobs[jid]
            if tail is None:
                self._advance(job)
                return 200, job.data
            if tail == "/events":
                return 200, self._events_page(job, q)
            if tail == "/cancel":
                job.data["status"] = "cancelled"
                job.script = []
                return 200, job.data
            if tail == "/checkpoints":
                return 200, {"object": "list", "data": [], "has_more": False}
        if p == "/chat/completions":
            body = json.loads(request.read())
            self.chat_bodies.append(body)
            model = body["model"]
            if model == "gpt-3.5-turbo-0125" or model.startswith("ft:gpt-3.5"):
                return 404, {
                    "error": {
                        "message": f"The model `{model}` does not exist or you do not have access to it.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "model_not_found",
                    }
                }
            answer = "COUCOU" if model.startswith("ft:") else "Bonjour ! Comment puis-je t'aider ?"
            return 200, {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": answer},
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        if p == "/models":
            return 200, {
                "object": "list",
                "data": [
                    {
                        "id": "gpt-4o-mini-2024-07-18",
                        "object": "model",
                        "created": 0,
                        "owned_by": "system",
                    }
                ],
            }
        return 404, {
            "error": {
                "message": f"Unknown route {method} {p}",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }

    # -- jobs ---------------------------------------------------------------------------
    def _create_job(self, body: dict[str, Any]) -> tuple[int, Any]:
        tf = body["training_file"]
        if tf not in self.files:
            return 400, {
                "error": {
                    "message": f"invalid training_file: {tf}",
                    "type": "invalid_request_error",
                    "param": "training_file",
                    "code": None,
                }
            }
        jid = self._id("ftjob-")
        n_examples = self.contents[tf].count(b"\n")
        data = {
            "id": jid,
            "object": "fine_tuning.job",
            "created_at": 1_700_000_000,
            "finished_at": None,
            "model": body["model"],
            "fine_tuned_model": None,
            "organization_id": "org-test",
            "status": "validating_files",
            "training_file": tf,
            "validation_file": body.get("validation_file"),
            "result_files": [],
            "trained_tokens": None,
            "seed": body.get("seed") or 42,
            "hyperparameters": {
                "n_epochs": "auto",
                "batch_size": "auto",
                "learning_rate_multiplier": "auto",
            },
            "method": body.get("method"),
            "error": None,
            "user_provided_suffix": body.get("suffix"),
        }
        script: list[tuple[str, list[tuple[str, str, dict | None]]]] = [
            ("validating_files", [("message", f"Validating training file: {tf}", None)]),
        ]
        if n_examples < 10:
            script.append(("failed", [("message", "Training file has too few examples", None)]))
        else:
            steps = self.metrics_steps
            script.append(
                ("queued", [("message", "Files validated, moving job to queued state", None)])
            )
            script.append(("running", [("message", "Fine-tuning job started", None)]))
            for chunk in range(0, steps, 5):
                evs: list[tuple[str, str, dict | None]] = []
                for s in range(chunk + 1, min(steps, chunk + 5) + 1):
                    loss = round(2.0 / s, 4)
                    evs.append(
                        (
                            "metrics",
                            f"Step {s}/{steps}: training loss={loss}",
                            {"step": s, "total_steps": steps, "train_loss": loss},
                        )
                    )
                script.append(("running", evs))
            script.append(
                (
                    "succeeded",
                    [
                        ("message", "New fine-tuned model created", None),
                        ("message", "The job has successfully completed", None),
                    ],
                )
            )
        job = Job(data, script)
        self.jobs[jid] = job
        self._emit(job, [("message", f"Created fine-tuning job: {jid}", None)])
        return 200, data

    def _emit(self, job: Job, events: list[tuple[str, str, dict | None]]) -> None:
        for kind, message, data in events:
            self._n += 1
            job.events.append(
                {
                    "id": f"ftevent-{self._n:08d}",
                    "object": "fine_tuning.job.event",
                    "created_at": 1_700_000_000 + self._n,
                    "level": "info",
                    "message": message,
                    "type": kind,
                    "data": data,
                }
            )

    def _advance(self, job: Job) -> None:
        if not job.script:
            return
        status, events = job.script.pop(0)
        job.data["status"] = status
        self._emit(job, events)
        if status == "succeeded":
            suffix = job.data.get("user_provided_suffix") or ""
            job.data["fine_tuned_model"] = f"ft:{job.data['model']}:test:{suffix}:abcd1234"
            rid = self.add_file(
                b"step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
                b"1,2.0,0.1,,\n2,1.0,0.5,,\n",
                "step_metrics.csv",
                "fine-tune-results",
            )
            job.data["result_files"] = [rid]
            job.data["finished_at"] = 1_700_000_100
        if status == "failed":
            job.data["error"] = {
                "code": "invalid_n_examples",
                "param": "training_file",
                "message": "Training file has 3 example(s), but must have at least 10 examples",
            }

    def _events_page(self, job: Job, q: dict[str, str]) -> dict[str, Any]:
        newest_first = job.events[::-1]
        if "after" in q:
            ids = [e["id"] for e in newest_first]
            newest_first = newest_first[ids.index(q["after"]) + 1 :]
        limit = int(q.get("limit", 20))
        return {
            "object": "list",
            "data": newest_first[:limit],
            "has_more": len(newest_first) > limit,
        }


def api_error(
    status: int,
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/models",
) -> Exception:
    """The SDK exception a real response with this status and envelope produces."""
    fake = FakeAPI()
    fake.faults[".*"] = (
        status,
        {"message": message, "type": type_, "param": param, "code": code},
        headers or {},
    )
    api = fake.client()
    try:
        api.get(path, cast_to=object)
    except openai.APIError as exc:
        return exc
    raise AssertionError("no error raised")  # pragma: no cover


def install(monkeypatch: Any) -> FakeAPI:
    """Make `helpers.client.client()` return a client of a fresh FakeAPI."""
    import importlib

    api = FakeAPI()
    monkeypatch.setattr(
        importlib.import_module("helpers.client"), "client", lambda *a, **k: api.client()
    )
    return api
