"""A one-sheet Excel workbook (.xlsx, Office Open XML), streamed as its rows are read.

The package is a ZIP (written by stream-zip, as it goes: each member is deflated as its bytes
come and its sizes follow it in a data descriptor) of five fixed parts and one worksheet whose
XML is made batch by batch from the rows given, so the first bytes leave before the last row
is read and memory holds one batch and the compressor's window.

What a cell is:
- an `int` (not a bool) is a number; anything else is text, as an inline string (`t="inlineStr"`),
  never a formula, so `=HYPERLINK(…)` typed by an attendee stays text;
- empty text is no cell at all (cells carry their reference, `r="C7"`, so the others keep
  their column);
- text is escaped as Excel escapes it: control characters as `_xHHHH_` (XML cannot carry
  them), a literal `_xHHHH_` as `_x005F_xHHHH_`, and cut at Excel's 32,767 characters.

ZIP64 is not used (Excel is strict about ZIP64 written as a stream): a worksheet's XML may
reach 4 GiB, about six million rows of the registration export, past Excel's 1,048,576 rows.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from stream_zip import ZIP_32, async_stream_zip

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
CHUNK = 64 * 1024  # bytes per chunk sent
LEVEL = 6  # the export's XML: a quarter of level 9's time for 8 % more bytes (level 1: +20 %)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_LITERAL_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _parts(sheet_name: str) -> dict[str, bytes]:
    """The package's fixed parts: what a spreadsheet program needs to find the one sheet."""
    return {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
            f'<sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/styles.xml": (
            f'{_XML}<styleSheet xmlns="{_MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            "</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ).encode(),
    }


async def workbook(
    batches: AsyncGenerator[Sequence[Sequence[Any]], None],
    *,
    sheet_name: str,
    modified_at: datetime,
) -> AsyncIterator[bytes]:
    """The .xlsx file's bytes, in chunks of about 64 KiB, from batches of rows (the first row
    of the first batch is usually the header). The ZIP is written in a worker thread
    (stream-zip's async interface), so deflating never holds up the event loop.

    When the reader stops early (a client gone), `batches` is closed here at once, so what
    it holds (a database transaction) is let go: stream-zip would leave it suspended.
    Should the worker thread be waiting for a batch at that moment, the sheet closes
    `batches` itself as soon as that batch arrives."""
    parts = _parts(sheet_name)
    stopped = False

    async def members() -> AsyncIterator[Any]:
        for name, content in parts.items():
            yield name, modified_at, 0o644, ZIP_32, _once(content)
        sheet = _worksheet(batches, lambda: stopped)
        yield "xl/worksheets/sheet1.xml", modified_at, 0o644, ZIP_32, sheet

    try:
        async for chunk in async_stream_zip(
            members(),
            chunk_size=CHUNK,
            get_compressobj=lambda: zlib.compressobj(level=LEVEL, wbits=-zlib.MAX_WBITS),
        ):
            yield chunk
    finally:
        stopped = True
        with contextlib.suppress(RuntimeError):  # running: the sheet closes it (above)
            await batches.aclose()


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def _worksheet(
    batches: AsyncGenerator[Sequence[Sequence[Any]], None], stopped: Callable[[], bool]
) -> AsyncIterator[bytes]:
    yield f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
    number = 0
    columns: list[str] = []
    async for batch in batches:
        if stopped():
            await batches.aclose()
            return
        out = []
        for values in batch:
            number += 1
            if len(values) > len(columns):
                columns = [column_name(i) for i in range(len(values))]
            out.append(_row(number, values, columns))
        yield "".join(out).encode()
    yield b"</sheetData></worksheet>"


def _row(number: int, values: Sequence[Any], columns: list[str]) -> str:
    cells = []
    for column, value in zip(columns, values, strict=False):
        if isinstance(value, int) and not isinstance(value, bool):
            cells.append(f'<c r="{column}{number}"><v>{value}</v></c>')
        elif text := cell_text(value):
            cells.append(
                f'<c r="{column}{number}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
                "</is></c>"
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def cell_text(value: Any) -> str:
    """`value` as an inline string's XML text ("" for nothing)."""
    text = str(value)[:MAX_CELL_TEXT]
    if "_x" in text:
        text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda found: f"_x{ord(found.group()):04X}_", text)
    return escape(text)


def column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, as spreadsheets name columns."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name
