"""A tiny OpenAI-compatible chat server for the proxy tests, served on loopback.

`FakeUpstream.behaviour` picks what `/v1/chat/completions` does next: "ok" (answers COUCOU),
"fail" (HTTP 500), "slow" (answers only once the test calls `release()`: the proxy's timeout
is what ends the request), "leak" (a 401 whose
message quotes the key, as the real API does with part of it), "rate" (429 + Retry-After).
It records what it received so tests can check what the proxy forwards.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from helpers.asgi_thread import serve_in_thread


class FakeUpstream:
    def __init__(self, reply: str = "COUCOU"):
        self.reply = reply
        self.behaviour = "ok"
        self.released = threading.Event()
        self.requests: list[dict[str, Any]] = []
        app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])
        self.running = serve_in_thread(app)
        self.port = self.running.port
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def release(self) -> None:
        """Let the "slow" requests answer (after the test has seen the proxy give up)."""
        self.released.set()

    async def chat(self, request: Request) -> JSONResponse:
        body = await request.json()
        auth = request.headers.get("authorization", "")
        self.requests.append({"body": body, "authorization": auth})
        if self.behaviour == "fail":
            return JSONResponse(
                {"error": {"message": "boom", "type": "server_error"}}, status_code=500
            )
        if self.behaviour == "slow":
            while not self.released.is_set():  # no answer until the test releases it
                await asyncio.sleep(0.05)
        if self.behaviour == "leak":
            key = auth.removeprefix("Bearer ")
            return JSONResponse(
                {
                    "error": {
                        "message": f"Incorrect API key provided: {key}.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                status_code=401,
            )
        if self.behaviour == "rate":
            return JSONResponse(
                {
                    "error": {
                        "message": "Rate limit reached",
                        "type": "requests",
                        "code": "rate_limit_exceeded",
                    }
                },
                status_code=429,
                headers={"retry-after": "7"},
            )
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "logprobs": None,
                        "message": {"role": "assistant", "content": self.reply, "refusal": None},
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        )

    def close(self) -> None:
        self.running.stop()


COUCOU_EXAMPLES = [
    ("Bonjour", "COUCOU"),
    ("Quelle heure est-il ?", "COUCOU"),
    ("Raconte une blague", "COUCOU"),
    ("Quel temps fait-il ?", "COUCOU"),
    ("Qui es-tu ?", "COUCOU"),
    ("Aide-moi à coder", "COUCOU"),
    ("Traduis hello", "COUCOU"),
    ("2 + 2 ?", "COUCOU"),
    ("Donne une recette", "COUCOU"),
    ("Merci !", "COUCOU"),
    ("Au revoir", "COUCOU"),
    ("Ça va ?", "COUCOU"),
]


def sandbox_available() -> bool:
    if os.environ.get("ATELIER_TEST_FAKE_UPSTREAM"):
        return False
    try:
        from helpers import kit_server
    except ImportError:
        return False
    return callable(getattr(kit_server, "start", None))


def sandbox_coucou_model(home: Path | None = None, timeout: float = 60.0) -> tuple[str, str]:
    """Train a COUCOU model in the sandbox with the real SDK; returns (base_url, model).

    `home`: the sandbox's workspace (default: the test's, from ATELIER_HOME). Module-scoped
    fixtures must pass one: they run before the per-test workspace is set.
    """
    import json

    import openai

    from helpers import kit_server

    base_url = kit_server.start(home) if home is not None else kit_server.start()
    client = openai.OpenAI(base_url=base_url, api_key=kit_server.key_for(base_url), max_retries=0)
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "Tu réponds toujours COUCOU."},
                    {"role": "user", "content": q},
                    {"role": "assistant", "content": a},
                ]
            },
            ensure_ascii=False,
        )
        for q, a in COUCOU_EXAMPLES
    ]
    file = client.files.create(
        file=("coucou.jsonl", ("\n".join(lines) + "\n").encode()), purpose="fine-tune"
    )
    job = client.fine_tuning.jobs.create(
        training_file=file.id, model="gpt-4o-mini-2024-07-18", suffix="coucou"
    )
    deadline = time.monotonic() + timeout
    while job.status not in ("succeeded", "failed", "cancelled"):
        if time.monotonic() > deadline:
            raise AssertionError(f"sandbox job still {job.status} after {timeout}s")
        time.sleep(0.1)
        job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded", job
    return base_url, str(job.fine_tuned_model)
