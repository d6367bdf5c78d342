"""The official OpenAI Node.js SDK runs the whole flow against a sandbox started by the test
(upload → job → events → checkpoints → chat → stream → Responses API → a 404), and every
response it received is checked against OpenAI's published OpenAPI description.

`tests/node/` pins the SDK (package.json + package-lock.json); `.ci/run` installs it with
`npm ci`. On a laptop without Node or without `npm ci --prefix tests/node`, the test skips.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import require
from openapi_contract import check_all, recording_server
from sandboxkit import COUCOU, HERE

from helpers import kit_server, models

pytestmark = pytest.mark.node

NODE_DIR = HERE / "node"


def test_node_sdk_whole_flow(workspace):
    node = shutil.which("node")
    require(node is not None, "Node.js absent (Node ≥ 20)")
    require((NODE_DIR / "node_modules" / "openai").is_dir(), "npm ci --prefix tests/node")
    with recording_server(workspace) as (url, recorder):
        env = {
            **os.environ,
            "OPENAI_BASE_URL": url,
            "OPENAI_API_KEY": kit_server.key(workspace),  # the server refuses any other key
        }
        done = subprocess.run(
            [node, str(NODE_DIR / "flow.mjs"), str(COUCOU), models.DEFAULT_MODEL],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["answer"] == summary["streamed"] == summary["response"] == "COUCOU"
    assert summary["model"].startswith(f"ft:{models.DEFAULT_MODEL}:") and summary["events"] > 5
    assert all(c.startswith(summary["model"]) for c in summary["checkpoints"])
    assert summary["notFound"] == 404
    seen = check_all(recorder.exchanges)
    assert {"FineTuningJob", "CreateChatCompletionStreamResponse", "Response"} <= set(seen)


def test_node_sdk_issue_20(workspace):
    """Issue 20 through the Node SDK: its tool runner ends with a text answer, the 2023
    function_call format, JSON mode's keys, the alias refused, the real API's messages,
    obfuscated stream chunks, embeddings, moderations, routes not imitated and the Evals API;
    every response checked against the published description."""
    node = shutil.which("node")
    require(node is not None, "Node.js absent (Node ≥ 20)")
    require((NODE_DIR / "node_modules" / "openai").is_dir(), "npm ci --prefix tests/node")
    with recording_server(workspace) as (url, recorder):
        env = {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": kit_server.key(workspace)}
        done = subprocess.run(
            [node, str(NODE_DIR / "fidelity.mjs"), str(COUCOU), models.DEFAULT_MODEL],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["toolRuns"] == 1 and summary["completions"] == 2  # call, result, answer
    assert summary["functionCall"] == "get_weather"
    assert summary["jsonKeys"] == ["titre", "note"]
    assert summary["alias"] == {
        "status": 400,
        "code": "model_not_available",
        "param": None,
        "message": "Model gpt-4o-mini is not available for fine-tuning or does not exist.",
    }
    assert summary["messages"] == [
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
        "max_tokens is too large: 100000. This model supports at most 16384 completion tokens, "
        "whereas you provided 100000.",
    ]
    assert summary["obfuscated"] > 1
    assert summary["embedding"] == {"count": 2, "size": 1536}
    assert summary["moderation"] == {"flagged": False, "categories": 13}
    assert summary["notImitated"] == {"status": 404, "code": "not_imitated_by_sandbox"}
    assert summary["evals"] == {"status": 404, "code": "evals_api_shut_down"}
    seen = check_all(recorder.exchanges)
    assert {"CreateEmbeddingResponse", "CreateModerationResponse", "ErrorResponse"} <= set(seen)
