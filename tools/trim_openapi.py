"""Trim OpenAI's published OpenAPI description to the schemas the sandbox's contract tests use.

    python tools/trim_openapi.py path/to/openapi.json COMMIT > tests/openapi/openai-openapi.trimmed.json

Keeps the response schemas listed in ROOTS and every schema they reference, drops
descriptions, titles and examples (not used to validate), and records the source commit.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SOURCE = "https://github.com/openai/openai-openapi"
ROOTS = [
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "FineTuningJob",
    "ListPaginatedFineTuningJobsResponse",
    "ListFineTuningJobEventsResponse",
    "FineTuningJobEvent",
    "ListFineTuningJobCheckpointsResponse",
    "FineTuningJobCheckpoint",
    "Model",
    "ListModelsResponse",
    "DeleteModelResponse",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "Response",
    "ResponseItemList",
    "ResponseStreamEvent",
    "ErrorResponse",
    "CreateEmbeddingResponse",
    "CreateModerationResponse",
]
DROPPED = {"description", "title", "example", "examples", "x-oaiMeta", "x-stainless-const"}
PREFIX = "#/components/schemas/"


def _strip(node: Any) -> Any:
    """Without documentation keywords. A keyword whose value is a schema (an object) is kept:
    inside `properties` it is a property that happens to be called `description`/`title`."""
    if isinstance(node, dict):
        return {
            k: _strip(v)
            for k, v in node.items()
            if k != "x-oaiMeta" and not (k in DROPPED and not isinstance(v, dict))
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def trim(spec: dict[str, Any], commit: str) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    keep: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(PREFIX) and ref[len(PREFIX) :] not in keep:
                keep.add(ref[len(PREFIX) :])
                walk(schemas[ref[len(PREFIX) :]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for root in ROOTS:
        keep.add(root)
        walk(schemas[root])
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "x-trimmed-from": {"repository": SOURCE, "commit": commit, "file": "openapi.json"},
            "license": {"name": "MIT", "url": f"{SOURCE}/blob/{commit}/LICENSE"},
        },
        "components": {"schemas": {name: _strip(schemas[name]) for name in sorted(keep)}},
    }


if __name__ == "__main__":
    path, commit = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    json.dump(trim(spec, commit), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
