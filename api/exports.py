"""`GET /exports/{token}`: stream a finished export from disk, once, then delete it.

A HEAD request never uses the link up: link previews and virus scanners send one before
(or instead of) the person's GET. It answers 405 without looking the token up.

The token is the permission (see queries.export_files): only the page of a signed-in
member of staff makes one, and it is unguessable, single-use and short-lived.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

import bootstrap


async def download(request: Request) -> Response:
    if request.method != "GET":  # HEAD: Starlette routes it here with the GET
        return PlainTextResponse(
            "Open this link to download the export.", status_code=405, headers={"Allow": "GET"}
        )
    found = bootstrap.export_files.take(request.path_params["token"])
    if found is None:
        return PlainTextResponse(
            "This download has expired or was already used. Export again from the Orders page.",
            status_code=404,
        )
    return FileResponse(
        found.path,
        media_type=found.mime,
        filename=found.file_name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(found.path.unlink, missing_ok=True),
    )


ROUTES = [Route("/exports/{token}", download, methods=["GET", "HEAD"])]
