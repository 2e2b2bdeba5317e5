"""Streaming .xlsx exports (xlsxwriter in constant-memory mode, rows fetched in batches), and the streamed,
checked reading of an uploaded .xlsx (openpyxl read-only)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any
from urllib.parse import quote
from xml.etree import ElementTree

import openpyxl
import xlsxwriter
from flask import Response, current_app, send_file
from flask_babel import gettext
from sqlalchemy import exc, text

from pcloud.core.database import autocommit_engine
from pcloud.core.errors import TooManyRequests
from pcloud.extensions import db

MIN_WIDTH, MAX_WIDTH = 8, 60


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a CJK (wide) character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# pg_try_advisory_lock(EXPORT_SLOT_LOCK, slot number): the export slots of every host ("xprt" in ASCII)
EXPORT_SLOT_LOCK = 0x78707274


@contextlib.contextmanager
def export_slot() -> Iterator[None]:
    """One of the deployment's PCLOUD_EXPORT_SLOTS (1) places to write an export, or 429: a large export takes its
    web worker for seconds, and two at once left every other user's request waiting (a review's finding).

    PostgreSQL (several hosts share it): a slot is a session-level advisory lock (EXPORT_SLOT_LOCK, its number), so
    every host counts the same slots. The lock is held by a connection checked out of the engine's pool for the
    export's length, in autocommit so that it waits outside a transaction: the whole deployment holds at most
    PCLOUD_EXPORT_SLOTS connections so, each beside its request's own (the pool's default 5 + 10 has room), and a
    refused export gives its connection back before answering. Released by pg_advisory_unlock; a connection that
    cannot say it released is invalidated (closed: the server ends the session and its locks), and a process that
    dies closes its connections likewise (a host cut off from the network: once the server's TCP keepalive gives
    up on its connections).
    SQLite (one host by definition): lock files of the instance folder (flock: the web workers are processes, and a
    lock dies with its process). SQLite has no advisory locks, and a row held for the export would hold the
    database's one write lock and stop every writer meanwhile."""
    slots = range(max(1, int(current_app.config.get("PCLOUD_EXPORT_SLOTS", 1))))
    if db.engine.dialect.name == "postgresql":
        with autocommit_engine().connect() as conn:
            lock = {"key": EXPORT_SLOT_LOCK}
            taken = next((s for s in slots if conn.scalar(text("SELECT pg_try_advisory_lock(:key, :slot)"),
                                                          {**lock, "slot": s})), None)
            if taken is None:
                raise TooManyRequests(gettext("同时进行的导出已达上限，请稍后再试"))
            try:
                yield
            finally:
                try:
                    released = conn.scalar(text("SELECT pg_advisory_unlock(:key, :slot)"), {**lock, "slot": taken})
                except exc.DBAPIError:
                    released = False
                if not released:
                    conn.invalidate()
        return
    folder = os.path.join(current_app.instance_path, "export-slots")
    os.makedirs(folder, exist_ok=True)
    for slot in slots:
        fd = os.open(os.path.join(folder, f"{slot}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield
        finally:
            os.close(fd)  # closing it releases the lock
        return
    raise TooManyRequests(gettext("同时进行的导出已达上限，请稍后再试"))


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "Sheet1") -> str:
    """Write rows to a temporary file and return its path, in one of the export slots (429 when all are
    taken); memory stays flat however many rows.

    The header row is bold and frozen; each column is as wide as its widest value (within limits), so
    the file opens readable. Column widths may be set after the rows even in constant-memory mode:
    xlsxwriter writes them when the sheet is closed."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="pcloud-export-")
    os.close(fd)
    try:
        with export_slot():
            _write_xlsx(path, headers, rows, sheet)
    except BaseException:
        os.remove(path)  # a refusal met while the rows are read (too many, 429...) leaves no file behind
        raise
    return path


def _write_xlsx(path: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> None:
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
                # measured only when it could widen the column (a text takes len..2*len columns): measuring every
                # cell was a good part of an export's CPU
                if col < len(widths) and widths[col] < MAX_WIDTH and 2 * len(text) > widths[col]:
                    widths[col] = max(widths[col], display_width(text))
        for col, width in enumerate(widths):
            ws.set_column(col, col, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    finally:
        workbook.close()


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


# ---------------------------------------------------------------------------------------------
# Reading an uploaded .xlsx: streamed (openpyxl read-only), with the checks that keep a hostile file a 422


class BadWorkbook(ValueError):
    """The upload is not a workbook we read: the message says why, in Chinese, for the 422."""


# What an uploaded workbook may cost, checked before openpyxl opens it (check_workbook). The import is sized for
# 100,000 rows (API.md, bench/user_import.py): such a file weighs ~3 MB, unpacks to ~33 MB, holds ~4 million XML
# tags, and its shared-strings table (every distinct text: 200,000 names and phones) is ~6 MB and 800,000 tags.
# openpyxl reads that table whole when the workbook opens, at ~6.5 µs and ~80 bytes of memory per string whatever
# its length, and streams the first sheet at a similar cost per tag; so the budgets count tags (a `<`: every XML
# element starts with one, and entities, which could make elements without one, are refused), not only bytes.
MAX_RATIO = 200  # unpacked / packed size of any part: a spreadsheet's XML packs ~10-30x, a zip bomb ~1000x
MAX_UNZIPPED = 256 * 1024 * 1024  # all parts together, unpacked: ~8x the 100,000-row file, ~13x the 20 MB import limit
MAX_TAGS_PER_BYTE = 4  # XML tags of all parts per byte of the file (real workbooks: 0.1-1.4): it costs what it weighs
MIN_TAGS = 100_000  # ... but a small file may always hold this many (~0.1 s)
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024  # the table read whole: 5x the 100,000-row file (fits 64-char names)
MAX_SHARED_STRING_TAGS = 2_000_000  # its tags: 2.5x the 100,000-row file's; ~500,000 strings, ~3 s and ~50 MB at most
MAX_WHOLE_PART = 4 * 1024 * 1024  # any other part openpyxl reads whole (workbook, styles, relationships, properties)
# ...and its tags: openpyxl makes an object of each (590,000 <font/> in a stored styles.xml cost 8 s and 300 MB);
# an Excel file's styles have a few thousand
MAX_WHOLE_PART_TAGS = 50_000
# text between two tags (one cell's): names and phones are short, a 200 MB cell cost 450 MB; checked across the
# 1 MB pieces a part is read in, so a run is refused somewhere between this and twice it
MAX_TEXT_RUN = 1024 * 1024
_CONTENT_TYPES = "[Content_Types].xml"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# read whole by openpyxl whatever the content types say
_READ_BY_NAME = {_CONTENT_TYPES, "xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml", "xl/theme/theme1.xml",
                 "docProps/core.xml", "docProps/custom.xml"}
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


def _bomb() -> BadWorkbook:
    return BadWorkbook(gettext("文件解压后过大（疑似压缩炸弹），已拒绝"))


def _too_many_strings() -> BadWorkbook:
    return BadWorkbook(gettext("文件中的文字内容过多，超出一次导入能处理的范围，请删除多余的内容或分成几个文件导入"))


def check_workbook(stream: IO[bytes]) -> None:
    """Refuse what is not an .xlsx, or would cost far more to read than it weighs (a zip bomb, a table of millions of
    tiny strings, entities), before openpyxl reads it. The sizes come from the zip's directory, then one pass unpacks
    every part to count its tags (~50 ms for the 100,000-row file), stopping at the first budget broken; Python's
    zipfile never unpacks more than a part declares (and then fails its CRC check), so a lie is caught there."""
    stream.seek(0)
    if stream.read(4) != b"PK\x03\x04":
        raise BadWorkbook(gettext("文件不是 Excel（.xlsx）文件，请下载模板填写后上传"))
    weight = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
            names = {part.filename for part in parts}
            if "xl/workbook.xml" not in names:
                raise BadWorkbook(gettext("文件不是 Excel（.xlsx）文件，请下载模板填写后上传"))
            if sum(part.file_size for part in parts) > MAX_UNZIPPED or any(
                    part.file_size > MAX_RATIO * max(part.compress_size, 1024) for part in parts):
                raise _bomb()
            strings, streamed = _roles(archive, names)
            for part in parts:
                if part.filename in strings and part.file_size > MAX_SHARED_STRINGS_BYTES:
                    raise _too_many_strings()
                if part.filename not in strings | streamed and part.file_size > MAX_WHOLE_PART:
                    raise BadWorkbook(gettext("文件中的 %(part)s 解压后超过 %(max)s MB，不像是按模板填写的 Excel 文件，"
                                              "已拒绝", part=part.filename, max=MAX_WHOLE_PART >> 20))
            _count_tags(archive, parts, strings, streamed, max(MIN_TAGS, MAX_TAGS_PER_BYTE * weight))
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: an encrypted part; NotImplementedError: a compression zipfile does not know
        if isinstance(exc, BadWorkbook):
            raise
        raise BadWorkbook(gettext("文件已损坏或不是 Excel（.xlsx）文件")) from exc
    stream.seek(0)


def _roles(archive: zipfile.ZipFile, names: set[str]) -> tuple[set[str], set[str]]:
    """(the parts openpyxl takes for the shared-strings table, the parts it may stream: worksheets, and what it never
    parses: pictures, printer settings), by the content types, as openpyxl finds them; everything else is read whole."""
    if _CONTENT_TYPES not in names:
        raise BadWorkbook(gettext("文件已损坏或不是 Excel（.xlsx）文件"))
    info = archive.getinfo(_CONTENT_TYPES)
    if info.file_size > MAX_WHOLE_PART:
        raise _bomb()
    source = archive.read(info)
    _refuse_dtd(source)
    try:
        root = ElementTree.fromstring(source)
    except ElementTree.ParseError as exc:
        raise BadWorkbook(gettext("文件已损坏或不是 Excel（.xlsx）文件")) from exc
    defaults = {node.get("Extension", "").lower(): node.get("ContentType", "")
                for node in root.iter(f"{_CT_NS}Default")}
    declared: dict[str, set[str]] = {}
    for node in root.iter(f"{_CT_NS}Override"):
        declared.setdefault(node.get("PartName", "").lstrip("/"), set()).add(node.get("ContentType", ""))
    strings = {"xl/sharedStrings.xml"} | {name for name, kinds in declared.items() if _SHARED_STRINGS_TYPE in kinds}
    streamed = set()
    for name in names - strings - _READ_BY_NAME:
        kinds = declared.get(name) or {defaults.get(name.rpartition(".")[2].lower(), "")}
        if not name.endswith(".rels") and all(kind == _WORKSHEET_TYPE or (kind and not _is_xml(kind))
                                              for kind in kinds):
            streamed.add(name)
    return strings, streamed


def _is_xml(content_type: str) -> bool:
    return content_type.endswith("+xml") or content_type in ("application/xml", "text/xml")


def _refuse_dtd(chunk: bytes) -> None:
    if any(mark in chunk for mark in _DTD):
        raise BadWorkbook(gettext("文件中含有 Excel 文件不会有的 XML 文档类型声明（DOCTYPE），已拒绝"))


def _count_tags(archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo], strings: set[str], streamed: set[str],
                budget: int) -> None:
    """Unpack every part once, in 1 MB pieces: no DOCTYPE or ENTITY anywhere, the shared strings within their tags,
    a part read whole within MAX_WHOLE_PART_TAGS, no text run longer than MAX_TEXT_RUN, all parts together within
    `budget`."""
    total = 0
    for part in parts:
        tags, tail, run = 0, b"", 0
        whole = part.filename not in strings | streamed
        with archive.open(part) as fh:
            while chunk := fh.read(1 << 20):
                _refuse_dtd(tail + chunk)
                tail = chunk[-(len(_DTD[0]) - 1):]
                tags += chunk.count(b"<")
                first = chunk.find(b"<")
                if first == -1:
                    run += len(chunk)
                else:
                    run, crossing = len(chunk) - chunk.rfind(b"<") - 1, run + first
                    if crossing > MAX_TEXT_RUN:
                        raise _too_many_strings()
                if run > MAX_TEXT_RUN:
                    raise _too_many_strings()
                if part.filename in strings and tags > MAX_SHARED_STRING_TAGS:
                    raise _too_many_strings()
                if whole and tags > MAX_WHOLE_PART_TAGS:
                    raise _bomb()
                if total + tags > budget:
                    raise _bomb()
        total += tags


def read_rows(stream: IO[bytes], width: int) -> Iterator[tuple[int, list[str]]]:
    """(row number, the first `width` cells as stripped text) of the first sheet, one row at a time, in bounded
    memory; wholly blank rows are skipped. A formula cell is refused (BadWorkbook): the file shows its cached
    result, which openpyxl cannot give in this mode, and a formula is never what an import means. Raises
    BadWorkbook for a file that breaks while being read."""
    check_workbook(stream)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips on, the file is what is wrong
        raise BadWorkbook(gettext("文件已损坏或不是 Excel（.xlsx）文件")) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise BadWorkbook(gettext("文件中没有工作表"))
        for number, row in enumerate(sheet.iter_rows(max_col=width), start=1):
            values = []
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    column = getattr(cell, "column_letter", "")
                    raise BadWorkbook(gettext("第 %(row)s 行 %(column)s 列是公式，请将公式粘贴为数值后再导入",
                                              row=number, column=column))
                values.append(_cell_text(cell.value))
            if any(values):
                yield number, values + [""] * (width - len(values))
    except BadWorkbook:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken part, a CRC error, XML openpyxl refuses
        raise BadWorkbook(gettext("文件已损坏，读取时出错，请重新保存后再上传")) from exc
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    """A cell as the text a person typed: 13800000000 (a number cell) without `.0`, dates as yyyy-mm-dd."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value).strip()


def write_template(headers: Sequence[str], notes: Sequence[str | None], sheet: str, path: str | None = None) -> str:
    """An empty import template: the header row bold and frozen, each column with its rule as a comment."""
    if path is None:
        fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="pcloud-template-")
        os.close(fd)
    workbook = xlsxwriter.Workbook(path)
    try:
        ws = workbook.add_worksheet(sheet)
        bold = workbook.add_format({"bold": True})
        text = workbook.add_format({"num_format": "@"})  # typed phones stay text, not 1.38E+10
        for col, title in enumerate(headers):
            ws.write_string(0, col, title, bold)
            ws.set_column(col, col, min(max(display_width(title) + 6, 14), MAX_WIDTH), text)
            if notes[col]:
                ws.write_comment(0, col, notes[col], {"x_scale": 2, "y_scale": 1.5})
        ws.freeze_panes(1, 0)
    finally:
        workbook.close()
    return path
