"""What python-calamine does not say of a sheet's cells, read from the workbook's XML: which cells
are error cells (``<c t="e"><v>#N/A</v></c>``: calamine gives them as '') and which number cells
have a percent format (Excel shows 45%, stores 0.45). The sheet's XML is scanned a chunk at a
time for those cells only (memory stays flat; a sheet with neither costs a search of its bytes,
about a tenth of calamine's read).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from xml.etree import ElementTree

from trialscreen.batch.workbook import PERCENT
from trialscreen.errors import InputError, Location

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')     # a format's literal text, escapes and [colour]
_PERCENT_BUILTIN = {"9", "10"}                       # 0% and 0.00%
_CHUNK = 1 << 20


def sheet_marks(path: str, sheet: str, first_column: int = 0):
    """(sheet row, {column: error text or PERCENT}) of each row of ``sheet`` holding an error cell
    or a percent-formatted number cell, in row order; columns count from ``first_column`` (where
    calamine's rows start). A sheet whose XML cannot be found is an InputError: its error cells
    would read as empty."""
    try:
        book = zipfile.ZipFile(path)
        part = _sheet_part(book, sheet)
    except (OSError, zipfile.BadZipFile):
        part = None
    if part is None or part not in book.namelist():
        raise InputError(f"{path}: the XML of sheet '{sheet}' cannot be found, so its error cells (#N/A) "
                         "cannot be told from empty ones", Location(path),
                         hint="open it in Excel and save it again as .xlsx, or save the sheet as CSV")
    return _marks(book, part, _percent_styles(book), first_column)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(book: zipfile.ZipFile, name: str):
    try:
        return ElementTree.fromstring(book.read(name))
    except (KeyError, ElementTree.ParseError):
        return None


def _targets(book: zipfile.ZipFile) -> dict:
    """Relationship id -> (type, part name) of xl/workbook.xml's relationships."""
    rels = _xml(book, "xl/_rels/workbook.xml.rels")
    out = {}
    for rel in rels if rels is not None else []:
        target = rel.get("Target", "")
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        out[rel.get("Id")] = (rel.get("Type", "").rsplit("/", 1)[-1], name)
    return out


def _sheet_part(book: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = _xml(book, "xl/workbook.xml")
    if workbook is None:
        return None
    targets = _targets(book)
    for element in workbook.iter():
        if _local(element.tag) == "sheet" and element.get("name") == sheet:
            found = targets.get(element.get(_REL))
            return found[1] if found else None
    return None


def _percent_styles(book: zipfile.ZipFile) -> set[str]:
    """The style indexes (a cell's ``s``) whose number format shows a percentage."""
    name = next((n for kind, n in _targets(book).values() if kind == "styles"), "xl/styles.xml")
    styles = _xml(book, name)
    if styles is None:
        return set()
    formats = {e.get("numFmtId"): e.get("formatCode", "") for e in styles.iter() if _local(e.tag) == "numFmt"}
    percent = _PERCENT_BUILTIN | {i for i, code in formats.items() if "%" in _QUOTED.sub("", code)}
    xfs = next((e for e in styles.iter() if _local(e.tag) == "cellXfs"), None)
    return {str(i) for i, xf in enumerate(xfs if xfs is not None else []) if xf.get("numFmtId") in percent}


_FORMULAS = (b"<f>", b"<f ", b":f>", b":f ")
_FORMULA_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s([^>]*[^/])>(?=\s*<(?:[A-Za-z_][\w.-]*:)?f[\s>/])")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f(?:\s[^>]*)?(?:/>|>([^<]*)<)")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")
_ATTRS = re.compile(rb"""\b([rts])\s*=\s*["']([^"']*)["']""")
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>([^<]*)<")
_ROW_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?row>")


def _wanted(percent: set[str]) -> re.Pattern:
    """A cell tag with t="e", or with one of the ``percent`` styles."""
    styles = b"|".join(re.escape(s.encode()) for s in sorted(percent))
    either = b"t\\s*=\\s*[\"']e[\"']" + (b"|s\\s*=\\s*[\"'](?:" + styles + b")[\"']" if styles else b"")
    return re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s(?=[^>]*\b(?:" + either + rb"))([^>]*)>")


def _marks(book: zipfile.ZipFile, part: str, percent: set[str], first_column: int):
    """The marks, found by a scan of the XML's bytes for the cells that have one (a whole parse
    of a large sheet costs twice what calamine's read does), a chunk at a time, each cut after
    its last complete row."""
    wanted = _wanted(percent)
    # a cheap search first: the regular expression only runs over chunks that may hold such a cell
    needles = [b'"e"', b"'e'", *(f"s={q}{n}{q}".encode() for n in percent for q in "\"'")]
    with book, book.open(part) as fh:
        rest = b""
        while True:
            chunk = fh.read(_CHUNK)
            text, rest = _complete_rows(rest + chunk, bool(chunk))
            found: dict = {}
            if any(needle in text for needle in needles):
                _found(found, wanted.finditer(text), text, percent, first_column)
            if any(needle in text for needle in _FORMULAS):
                _found(found, _FORMULA_CELL.finditer(text), text, percent, first_column)
            yield from sorted(found.items())
            if not chunk:
                return


def _found(found: dict, cells, text: bytes, percent: set[str], first_column: int) -> None:
    for m in cells:
        attrs = {k.decode(): v.decode() for k, v in _ATTRS.findall(m.group(1))}
        mark, ref = _mark(attrs, m, text, percent), _REF.match(attrs.get("r", ""))
        if mark is not None and ref is not None:
            found.setdefault(int(ref.group(2)), {})[_column(ref.group(1)) - first_column] = mark


def _complete_rows(text: bytes, more: bool) -> tuple[bytes, bytes]:
    """``text`` cut after its last row's end tag (the rest waits for the next chunk), unless it
    is the end of the sheet."""
    if not more:
        return text, b""
    ends = list(_ROW_END.finditer(text, max(0, len(text) - 65536))) or list(_ROW_END.finditer(text))
    if not ends:
        return b"", text
    return text[:ends[-1].end()], text[ends[-1].end():]


_REF = re.compile(r"([A-Za-z]+)(\d+)$")


def _mark(attrs: dict, cell: re.Match, text: bytes, percent: set[str]) -> str | None:
    """An error cell's text (its cached value: #N/A), a formula's (=1/0) when the workbook holds
    no result for it (saved by a program that does not calculate), PERCENT, or None."""
    closed = cell.group(1).rstrip().endswith(b"/")         # <c .../>: no value
    end = None if closed else _CELL_END.search(text, cell.end())
    inside = b"" if closed else text[cell.end():end.start() if end else len(text)]
    value = _VALUE.search(inside)
    if attrs.get("t") == "e":
        return (value.group(1).decode("utf-8", "replace").strip() if value else "") or "#ERROR"
    formula = _FORMULA.search(inside)
    if formula is not None and (value is None or not value.group(1).strip()) and \
            attrs.get("t") not in ("str", "inlineStr"):
        return "=" + (_unescape(formula.group(1)) or "?")
    if attrs.get("t", "n") == "n" and attrs.get("s") in percent:
        return PERCENT
    return None


def _column(ref: str) -> int:
    number = 0
    for ch in ref:
        number = number * 26 + ord(ch.upper()) - 64
    return number - 1


def _unescape(raw: bytes | None) -> str:
    from xml.sax.saxutils import unescape

    return unescape((raw or b"").decode("utf-8", "replace")).strip()
