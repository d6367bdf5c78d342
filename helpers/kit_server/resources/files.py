"""`/v1/files`: upload, list, retrieve, delete and read files — the same for every engine.

Checks: the upload's form and size, its `purpose` (one of the real API's), the list's `order`
and `limit`. Shape: the `file` object. The files live in the workspace's database
(`file_store.FileService`, which also stores the results files the engines write); a listing
or a read first lets the engine write the results files now due (`endpoints.synced`).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import errors, params
from ..contract import Clock, Engine
from ..endpoints import JSONResponse, route, run, synced
from ..errors import ApiError
from ..file_store import MAX_FILE_BYTES, PURPOSES, FileService
from ..pages import with_first_last


def routes(engine: Engine, files: FileService, clock: Clock) -> list[Route]:
    async def upload(request: Request) -> Response:
        try:
            form = await request.form(max_files=4, max_fields=16)
        except ApiError:  # the body went past its limit (the Gate)
            raise
        except Exception:
            raise errors.bad_request(
                "Could not parse the multipart form: send 'purpose' and 'file'."
            ) from None
        try:
            kind = purpose(form.get("purpose"))
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise errors.missing("file")
            if upload.size is not None and upload.size > MAX_FILE_BYTES:
                raise errors.bad_request(
                    "File is too large: the maximum size is 512 MB.",
                    param="file",
                    code="file_too_large",
                )
            content = await upload.read()
            filename = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
            row = await run(
                synced(engine.sync_files, files.upload), filename, kind, content, clock()
            )
            await run(engine.file_uploaded, kind)
            return JSONResponse(file_object(row))
        finally:
            await form.close()

    async def list_files(request: Request) -> Response:
        q = request.query_params
        order = params.list_order(q.get("order", "desc"))
        limit = params.int_param(q.get("limit"), "limit", 10_000, 1, 10_000)

        def listing() -> dict[str, Any]:
            rows, has_more = files.list(
                purpose=q.get("purpose"), after=q.get("after"), limit=limit, order=order
            )
            page = {"object": "list", "data": [file_object(r) for r in rows]}
            return with_first_last({**page, "has_more": has_more})

        return JSONResponse(await run(synced(engine.sync_files, listing)))

    async def get_file(request: Request) -> Response:
        row = await run(synced(engine.sync_files, files.get), request.path_params["file_id"])
        return JSONResponse(file_object(row))

    async def delete_file(request: Request) -> Response:
        return JSONResponse(await run(files.delete, request.path_params["file_id"]))

    async def file_content(request: Request) -> Response:
        content = await run(
            synced(engine.sync_files, files.content), request.path_params["file_id"]
        )
        return Response(content, media_type="application/octet-stream")

    return [
        route("/v1/files", "POST", upload),
        route("/v1/files", "GET", list_files),
        route("/v1/files/{file_id}", "GET", get_file),
        route("/v1/files/{file_id}", "DELETE", delete_file),
        route("/v1/files/{file_id}/content", "GET", file_content),
    ]


def purpose(value: Any) -> str:
    """The `purpose` field of an upload."""
    if not value:
        raise errors.missing("purpose")
    if not isinstance(value, str) or value not in PURPOSES:
        allowed = ", ".join(f"'{p}'" for p in PURPOSES)
        raise errors.bad_request(
            f"'{value}' is not one of [{allowed}] - 'purpose'",
            param="purpose",
            code="invalid_value",
        )
    return value


def file_object(row: Any) -> dict[str, Any]:
    """A `file` from a stored file row."""
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": row.created_at,
        "filename": row.filename,
        "purpose": row.purpose,
        "status": "processed",
    }
