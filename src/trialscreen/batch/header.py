"""The first lines of a CSV file: an Excel 'sep=' line, the header row, the delimiter."""

from __future__ import annotations

import csv
import re

from trialscreen.batch.mapping import Mapping
from trialscreen.errors import InputError, Location

UNDECODED = re.compile("[\udc80-\udcff]")      # bytes the encoding could not read, kept as surrogates
_BLANK = " \t\r\n,;|"      # a row of these holds no cell
_SEP_LINE = re.compile(r"^sep=([,;\t|]|\\t)\r?\n?$")


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_header(stream, source: str, mapping: Mapping | None, delimiter: str | None) -> tuple[str, list[str], int]:
    """(delimiter, header cells, the header's line) of a text stream, which is left at the first
    row: a 'sep=;' first line (Excel's; also 'sep=\\t') names the delimiter and the header follows;
    else --delimiter, the mapping's, or the one the header line holds most of."""
    first = stream.readline()
    if "\x00" in first or first[:2] in ("\udcff\udcfe", "\udcfe\udcff"):
        raise InputError("the file is UTF-16", Location(source), hint="save it as UTF-8")
    if UNDECODED.search(first):
        raise InputError("the header holds bytes that are not UTF-8", Location(source, 1),
                         hint="say the file's encoding (--encoding cp1252, or encoding: in the mapping), "
                              "or save it as UTF-8")
    if not first.strip(_BLANK):
        _blank_first(stream, first, source)
    offset = 1
    said = _SEP_LINE.match(first)
    if said:
        first, offset = stream.readline(), 2
        if not first.strip():
            raise InputError("the file has a sep= line and no header row", Location(source, 2),
                             "the row after sep= names the columns, with an 'id' column")
    named = None if not said else "\t" if said.group(1) == "\\t" else said.group(1)
    delim = delimiter or named or (mapping.delimiter if mapping else None) or sniff_delimiter(first)
    return delim, next(csv.reader([first], delimiter=delim)), offset


def _blank_first(stream, first: str, source: str) -> None:
    """The error of a file whose first row is blank: empty, if no row holds anything (the stream
    is read on only to tell), else the blank rows above the header."""
    line = first
    while line and not line.strip(_BLANK):
        line = stream.readline()
    if not line:
        raise InputError("the file is empty: it needs a header row", Location(source, 1),
                         "the first row names the columns, with an 'id' column")
    raise InputError("the first row is blank: the header row must be the first", Location(source, 1),
                     "delete the blank rows above the header (the first row names the columns, with an "
                     "'id' column)")
