"""Files answered as they are (the API's and the console's PDFs): one place for their headers."""

from __future__ import annotations

from starlette.responses import Response

PDF = "application/pdf"


def pdf_response(body: bytes, filename: str, link: str | None = None) -> Response:
    """A PDF shown in the browser (inline), never cached by anyone else; `link`: the next part."""
    headers = {
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
    if link:
        headers["Link"] = f'<{link}>; rel="next"'
    return Response(body, media_type=PDF, headers=headers)
