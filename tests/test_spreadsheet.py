"""The streamed .xlsx (events/spreadsheet.py): it opens in openpyxl with its cells in their
columns, text stays text, and its bytes leave before its rows are all given."""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

import openpyxl

from events import spreadsheet

WHEN = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


async def _batches(rows: list[list[Any]], size: int = 100) -> AsyncGenerator[list[list[Any]], None]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _build(rows: list[list[Any]]) -> bytes:
    chunks = spreadsheet.workbook(_batches(rows), sheet_name="Registrations", modified_at=WHEN)
    return b"".join([chunk async for chunk in chunks])


def _cells(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Registrations"]
    return list(book.worksheets[0].iter_rows(values_only=True))


async def test_cells_keep_their_columns_types_and_text() -> None:
    rows: list[list[Any]] = [
        ["name", "chinese_name", "position", "note"],
        ["Chan Tai Man", "陳大文", 3, '=HYPERLINK("x") & <b>'],
        ["Wong", "", "", "  spaced  "],
        ["𠮷野家 (outside the BMP)", "香港", 0, "tab\there"],
    ]
    assert _cells(await _build(rows)) == [
        ("name", "chinese_name", "position", "note"),
        ("Chan Tai Man", "陳大文", 3, '=HYPERLINK("x") & <b>'),
        ("Wong", None, None, "  spaced  "),  # empty text is no cell; the next keeps column D
        ("𠮷野家 (outside the BMP)", "香港", 0, "tab\there"),
    ]


async def test_text_is_escaped_as_excel_reads_it() -> None:
    # control characters (which XML cannot carry) become _xHHHH_, and a literal _xHHHH_ is
    # kept literal by escaping its underscore, as Excel does; Excel's cell limit is kept
    assert spreadsheet.cell_text("a\x01b\rc") == "a_x0001_b_x000D_c"
    assert spreadsheet.cell_text("_x0041_") == "_x005F_x0041_"
    assert spreadsheet.cell_text("<&>") == "&lt;&amp;&gt;"
    assert len(spreadsheet.cell_text("長" * 40_000)) == spreadsheet.MAX_CELL_TEXT
    content = await _build([["a\x01b", "x" * 40_000]])
    ((first, long),) = _cells(content)
    assert first == "a_x0001_b"  # openpyxl shows the escape; Excel shows the character
    assert len(long) == spreadsheet.MAX_CELL_TEXT
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert book.testzip() is None
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


async def test_columns_past_z_are_named_as_spreadsheets_name_them() -> None:
    assert [spreadsheet.column_name(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
    row = [f"c{i}" for i in range(30)]
    assert _cells(await _build([row])) == [tuple(row)]


async def test_the_first_bytes_leave_before_the_last_row_is_given() -> None:
    given = 0
    total = 20_000

    async def rows() -> AsyncGenerator[list[list[Any]], None]:
        nonlocal given
        for start in range(0, total, 500):
            batch = [
                [f"id-{n:08x}-{n * 7919 % 100_003}", f"陳大文 {n}", n]
                for n in range(start, start + 500)
            ]
            given += len(batch)
            yield batch

    seen = [
        (chunk, given)
        async for chunk in spreadsheet.workbook(
            rows(), sheet_name="Registrations", modified_at=WHEN
        )
    ]
    content = b"".join(chunk for chunk, _ in seen)
    assert content.startswith(b"PK\x03\x04") and seen[0][1] < total
    # most of the file has left before the last batch is given: it is not built first
    sent_early = sum(len(chunk) for chunk, given_then in seen if given_then < total)
    assert sent_early > len(content) * 0.8, (sent_early, len(content))
    assert max(len(chunk) for chunk, _ in seen) <= spreadsheet.CHUNK
    cells = _cells(content)
    assert len(cells) == total and cells[-1][1] == f"陳大文 {total - 1}"


async def test_a_reader_that_stops_early_lets_the_rows_go() -> None:
    """A client gone mid-download: the rows' source (a transaction on a server-side cursor)
    is closed at once, whether the zip's thread was idle or waiting for the next batch."""
    started: list[str] = []
    closed: list[str] = []
    release = asyncio.Event()

    async def rows(name: str, wait: bool) -> AsyncGenerator[list[list[Any]], None]:
        started.append(name)
        try:
            for start in range(0, 50_000, 500):
                if wait and start == 2_000:
                    await release.wait()  # the zip's thread waits for this batch
                yield [[f"row {n} {n * 7919 % 100_003:x}" * 4] for n in range(start, start + 500)]
        finally:
            closed.append(name)

    idle = spreadsheet.workbook(rows("idle", False), sheet_name="S", modified_at=WHEN)
    while "idle" not in started:
        await idle.__anext__()
    await idle.aclose()
    assert closed == ["idle"]

    async def read(chunks: AsyncIterator[bytes]) -> None:
        async for _ in chunks:
            pass

    waiting = asyncio.create_task(
        read(spreadsheet.workbook(rows("waiting", True), sheet_name="S", modified_at=WHEN))
    )
    await asyncio.sleep(0.5)  # the thread is blocked on the batch behind `release`
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    release.set()  # the batch arrives after the reader left
    for _ in range(100):
        if "waiting" in closed:
            break
        await asyncio.sleep(0.05)
    assert closed == ["idle", "waiting"]
