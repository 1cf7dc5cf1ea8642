"""gzip for large, cacheable answers (the check-in kit: ~5 MB of JSON at 200,000 names).

A compressed body has an ETag of its own (the plain one with `-gzip`), as RFC 9110 wants for
another representation; both are kept per ETag, so a kit is compressed once per version.
"""

from __future__ import annotations

import asyncio
import gzip

from events.lru import LruCache

_compressed: LruCache[str, bytes] = LruCache(32)
_IN_A_THREAD = 256 * 1024  # larger bodies are compressed off the event loop


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding names gzip (or `*`) without refusing it (q=0)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def gzip_etag(etag: str) -> str:
    return etag[:-1] + '-gzip"' if etag.endswith('"') else etag + "-gzip"


async def gzipped(body: bytes, etag: str) -> bytes:
    found = _compressed.get(etag)
    if found is None:
        if len(body) > _IN_A_THREAD:
            found = await asyncio.to_thread(gzip.compress, body, 6, mtime=0)
        else:
            found = gzip.compress(body, 6, mtime=0)
        _compressed.put(etag, found)
    return found
