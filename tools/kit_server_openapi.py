"""Build the OpenAPI description of the endpoints the kit server serves, from OpenAI's.

    python tools/kit_server_openapi.py path/to/openapi.json COMMIT > tests/openapi/kit-server.json

Keeps, from OpenAI's published description (openai/openai-openapi), the operations the kit
server implements (OPERATIONS) with their parameters, request bodies and responses, and every
component they reference; drops documentation keywords. The schemathesis fuzz test
(tests/test_fuzz_kit_server.py) generates requests from it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SOURCE = "https://github.com/openai/openai-openapi"
OPERATIONS = {
    "/files": ["get", "post"],
    "/files/{file_id}": ["get", "delete"],
    "/files/{file_id}/content": ["get"],
    "/fine_tuning/jobs": ["get", "post"],
    "/fine_tuning/jobs/{fine_tuning_job_id}": ["get"],
    "/fine_tuning/jobs/{fine_tuning_job_id}/cancel": ["post"],
    "/fine_tuning/jobs/{fine_tuning_job_id}/pause": ["post"],
    "/fine_tuning/jobs/{fine_tuning_job_id}/resume": ["post"],
    "/fine_tuning/jobs/{fine_tuning_job_id}/events": ["get"],
    "/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints": ["get"],
    "/models": ["get"],
    "/models/{model}": ["get", "delete"],
    "/chat/completions": ["post"],
    "/responses": ["post"],
    "/responses/{response_id}": ["get", "delete"],
    "/embeddings": ["post"],
    "/moderations": ["post"],
}
#: Where the published description is stricter than the real API, as observed: a list with no
#: item answers `"first_id": null, "last_id": null` (the description types them as strings).
NULLABLE = {"ListFilesResponse": ("first_id", "last_id")}
#: A file uploaded with purpose `evals` (allowed by CreateFileRequest) keeps that purpose; the
#: description's OpenAIFile enum omits it.
EXTRA_ENUM = {("OpenAIFile", "purpose"): ("evals",)}
#: `encoding_format: "base64"` (what the SDKs ask by default) returns each embedding as a
#: base64 string of float32 values; the description's Embedding types it as an array only.
ALSO_STRING = [("Embedding", "embedding")]
#: Error answers documented as a bare `Error` object: the real API wraps every error in its
#: envelope `{"error": {...}}` (ErrorResponse), as the SDK expects.
ENVELOPED = [("/responses/{response_id}", "delete", "404")]
DROPPED = {"description", "title", "example", "examples", "summary", "x-oaiMeta"}
PREFIX = "#/components/"


def _strip(node: Any) -> Any:
    """Without documentation keywords (a keyword whose value is a schema is a property)."""
    if isinstance(node, dict):
        return {
            k: _strip(v)
            for k, v in node.items()
            if not (k in DROPPED and not isinstance(v, dict)) and k != "x-oaiMeta"
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def build(spec: dict[str, Any], commit: str) -> dict[str, Any]:
    paths = {
        path: {m: _strip(spec["paths"][path][m]) for m in methods}
        for path, methods in OPERATIONS.items()
    }
    for path, method, status in ENVELOPED:
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        content["schema"] = {"$ref": "#/components/schemas/ErrorResponse"}
    keep: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(PREFIX):
                kind, name = ref[len(PREFIX) :].split("/", 1)
                if (kind, name) not in keep:
                    keep.add((kind, name))
                    walk(spec["components"][kind][name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(paths)
    components: dict[str, dict[str, Any]] = {}
    for kind, name in sorted(keep):
        components.setdefault(kind, {})[name] = _strip(spec["components"][kind][name])
    schemas = components["schemas"]
    for name, fields in NULLABLE.items():
        for field in fields:
            prop = schemas[name]["properties"][field]
            schemas[name]["properties"][field] = {"anyOf": [prop, {"type": "null"}]}
    for name, field in ALSO_STRING:
        prop = schemas[name]["properties"][field]
        schemas[name]["properties"][field] = {"anyOf": [prop, {"type": "string"}]}
    for (name, field), values in EXTRA_ENUM.items():
        schemas[name]["properties"][field]["enum"] += list(values)
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "Atelier fine-tuning kit server (OpenAI's description, trimmed)",
            "version": spec["info"]["version"],
            "x-source": f"{SOURCE} openapi.json at commit {commit} (MIT licence)",
        },
        "servers": [{"url": "/v1"}],
        "paths": paths,
        "components": components,
    }


if __name__ == "__main__":
    source, commit = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        print(json.dumps(build(json.load(f), commit), separators=(",", ":")))
