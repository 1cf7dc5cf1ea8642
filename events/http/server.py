"""The HTTP/1.1 connection as uvicorn's httptools protocol handles it, with limits it lacks.

uvicorn's httptools protocol reads a request head of any size (an 8 MB header was answered
200) and waits forever for a head that is never finished (a half-sent request holds its
connection). `GuardedHttpTools` adds, per connection:
- the request line and headers at most `EVENTS_MAX_HEAD_BYTES` (default 16 KiB) and at most
  `EVENTS_MAX_HEADERS` headers (default 100): past either, 431 and the connection closes;
- a head finished within `EVENTS_HEAD_TIMEOUT` seconds (default 10) of its first byte (or
  of the connection): else 408 and the connection closes.
Bodies are bounded by the app (1 MiB, and `BODY_TIMEOUT` between chunks: see
events/api/problems.py's BodyLimit). Idle keep-alive connections close after uvicorn's
`timeout_keep_alive`; `limit_concurrency` answers 503 past a number of connections.
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = int(os.environ.get("EVENTS_MAX_HEAD_BYTES") or 16 * 1024)
MAX_HEADERS = int(os.environ.get("EVENTS_MAX_HEADERS") or 100)
HEAD_TIMEOUT = float(os.environ.get("EVENTS_HEAD_TIMEOUT") or 10)

_REFUSALS = {
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    431: b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
}


class GuardedHttpTools(HttpToolsProtocol):
    _in_head = True
    _head_bytes = 0
    _header_count = 0
    _tail = b""
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            window = self._tail + data
            end = window.find(b"\r\n\r\n")
            self._head_bytes += end + 4 - len(self._tail) if end >= 0 else len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, "request head too large")
                return
            self._tail = window[-3:]
        super().data_received(data)
        if self._in_head and self._head_timer is None and not self.transport.is_closing():
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._header_count = True, 0, 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._tail = False, b""
        self._disarm()
        if self._header_count > MAX_HEADERS:
            self._refuse(431, "too many headers")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.transport.is_closing():  # refused: the rest of the request is ignored
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.transport.is_closing():
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():
            super().send_400_response(msg)

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "request head not received in time")

    def _refuse(self, status: int, message: str) -> None:
        body = message.encode()
        self.transport.write(
            _REFUSALS[status]
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
            + body
        )
        self.transport.close()
