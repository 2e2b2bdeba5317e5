"""Streaming .xlsx exports: xlsxwriter in constant-memory mode, rows fetched in batches."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import xlsxwriter
from flask import Response, send_file

MIN_WIDTH, MAX_WIDTH = 8, 60


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK (wide) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> str:
    """Write rows to a temporary file and return its path; memory stays flat however many rows.

    The header row is bold and frozen; each column is as wide as its widest value (within limits), so
    the file opens readable. Column widths may be set after the rows even in constant-memory mode:
    xlsxwriter writes them when the sheet is closed."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="pcloud-export-")
    os.close(fd)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    try:
        ws = workbook.add_worksheet(sheet)
        bold = workbook.add_format({"bold": True})
        widths = [display_width(title) for title in headers]
        for col, title in enumerate(headers):
            ws.write_string(0, col, title, bold)
        ws.freeze_panes(1, 0)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                text = "" if value is None else str(value)
                ws.write_string(r, col, text)
                if col < len(widths):
                    widths[col] = max(widths[col], display_width(text))
        for col, width in enumerate(widths):
            ws.set_column(col, col, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    finally:
        workbook.close()
    return path


def safe_file_name(file_name: str, default: str) -> str:
    """A name fit for Content-Disposition: no control characters, quotes or path separators."""
    cleaned = "".join("_" if ch in '/\\"' else ch for ch in file_name
                      if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return cleaned[:100] or default


def xlsx_response(path: str, file_name: str, default: str = "export.xlsx") -> Response:
    """Send the file as an attachment named with RFC 5987 so Chinese names survive, then delete it."""
    file_name = safe_file_name(file_name, default)
    if not file_name.lower().endswith(".xlsx"):
        file_name += ".xlsx"
    fh = open(path, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(path)  # the open handle keeps the data until the response is sent
    resp = send_file(fh, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    ascii_name = file_name.encode("ascii", "ignore").decode() or "export.xlsx"
    if ascii_name.startswith("."):
        ascii_name = "export" + ascii_name
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(file_name)}')
    return resp
