"""What a batch reads besides a plain CSV file (issue 14): which kind of input a path is, and the
files and lines of JSON patient records; Excel workbooks are read by batch/workbook.py.
"""

from __future__ import annotations

import io

from trialscreen.batch.workbook import (  # noqa: F401 - where the CLI imports them from
    WORKBOOK_DELIMITER,
    WorkbookLines,
    cell_text,
    is_workbook,
    workbook_lines,
)
from trialscreen.errors import FileReadError, InputError, Location, UsageError


class DecodedText(io.TextIOWrapper):
    """A text stream over a CSV file's bytes where bytes its encoding cannot read at all (UTF-16
    without its byte order mark, a character cut off at the end) are an InputError naming the
    line, not a UnicodeError; other bad bytes are kept as surrogates (run.open_text)."""

    lines_read = 0

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        # iterating (the csv reader) calls readline too: a subclass's next() goes through it
        try:
            text = super().readline(-1 if size is None else size)
        except UnicodeError as exc:
            line = self.lines_read + 1
            hint = ("a UTF-16 file without a byte order mark: say which, --encoding utf-16-le (Windows) or "
                    "utf-16-be" if "BOM" in str(exc) else "save the file as UTF-8, or say its encoding")
            name = getattr(self.buffer, "name", None)
            raise InputError(f"the file cannot be read as {self.encoding} at or after line {line}: "
                             f"{getattr(exc, 'reason', exc)}", Location(name if isinstance(name, str) else None,
                                                                         line), hint) from None
        self.lines_read += 1
        return text


# --- JSON patient records: JSON Lines, JSON files, folders of them --------------------------

RECORD_SUFFIXES = (".json", ".jsonl")
_FHIR_MARKS = (b'"resourceType"', b'"transactionTime"')      # a FHIR resource, a Bulk Data manifest


def input_kind(paths: list[str]) -> str:
    """What ``batch`` reads: ``csv`` (also standard input), ``workbook``, ``bulk`` (a FHIR Bulk Data
    export: a folder of NDJSON files or one NDJSON file) or ``records`` (JSON patient records: JSON
    Lines files, JSON files, folders of them). Several paths are several files of records."""
    from pathlib import Path

    from trialscreen.fhir.bulk import is_bulk

    for path in paths:
        if path != "-" and not Path(path).exists():
            raise FileReadError(f"no such file: {path}", Location(path), hint="check the path")
    if len(paths) == 1:
        path = paths[0]
        if path == "-":
            return "csv"
        if is_workbook(path):
            return "workbook"
        if Path(path).is_dir():
            return _folder_kind(Path(path))
        if is_bulk(path):
            return "bulk"
        return "records" if path.lower().endswith(RECORD_SUFFIXES) else "csv"
    for path in paths:
        if path == "-" or Path(path).is_dir() or not path.lower().endswith(RECORD_SUFFIXES) or is_bulk(path):
            raise UsageError(f"'{path}' cannot be screened with other files: several inputs are JSON patient "
                             "records (.json or .jsonl files)",
                             hint="screen a CSV file, a workbook, a folder or a FHIR export on its own")
    return "records"


def _folder_kind(folder) -> str:
    from trialscreen.fhir.bulk import is_bulk

    files = sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    ndjson = [f.name for f in files if is_bulk(str(f))]
    records = [f.name for f in files if f.name.lower().endswith(RECORD_SUFFIXES) and f.name not in ndjson
               and not (ndjson and _fhir_json(f))]
    if ndjson and records:
        raise UsageError(f"the folder {folder} holds both a FHIR Bulk Data export ({_some(ndjson)}) and JSON "
                         f"patient records ({_some(records)}): one folder is read as one kind",
                         hint="put the patient records in a folder of their own")
    if ndjson:
        return "bulk"
    if records:
        return "records"
    raise UsageError(f"the folder {folder} holds no patient records: no .json, .jsonl or .ndjson file",
                     hint="give a folder of JSON patient records, a FHIR Bulk Data export, or a CSV file")


def _fhir_json(path) -> bool:
    """Whether a .json file beside NDJSON files belongs to the export (a resource, a manifest)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return any(mark in head for mark in _FHIR_MARKS)


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3:,} more" if len(names) > 3 else "")


class RecordFiles(list):
    """The files of records to read, and ``notes``: what the folders hold that is not read."""

    notes: list[str]


def record_files(paths: list[str]) -> RecordFiles:
    """The files of records to read, in order: each path, a folder's .json and .jsonl files by name.
    What else a folder holds (subfolders, other files, hidden ones) is not read and named in
    ``notes``, once per folder."""
    from pathlib import Path

    out = RecordFiles()
    out.notes = []
    for path in paths:
        p = Path(path)
        if not p.is_dir():
            out.append(path)
            continue
        entries = sorted(p.iterdir())
        out += [str(f) for f in entries
                if f.is_file() and not f.name.startswith(".") and f.name.lower().endswith(RECORD_SUFFIXES)]
        left = [f.name for f in entries if f.is_file() and not f.name.startswith(".")
                and not f.name.lower().endswith(RECORD_SUFFIXES)]
        folders = [f.name for f in entries if f.is_dir() and not f.name.startswith(".")]
        hidden = sum(f.name.startswith(".") for f in entries)
        said = ([f"{len(left):,} file(s) that are not patient records (.json, .jsonl): {_some(left)}"]
                if left else []) + ([f"{len(folders):,} folder(s): {_some(folders)}"] if folders else []) \
            + ([f"{hidden:,} hidden file(s) or folder(s)"] if hidden else [])
        if said:
            out.notes.append(f"not read in {path}: " + "; ".join(said))
    return out


def is_lines(path: str) -> bool:
    return path.lower().endswith(".jsonl")


def jsonl_lines(path: str, limit: int):
    """(line number, text) of each non-blank line of a JSON Lines file; a line that is not UTF-8 or
    is larger than ``limit`` bytes gives an InputError in place of its text."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise FileReadError(f"no such file: {path}", Location(path), hint="check the path") from None
    except OSError as exc:
        raise FileReadError(f"cannot read {path}: {exc.strerror}", Location(path)) from None
    with fh:
        for number, raw in enumerate(fh, 1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            if len(raw) > limit:
                yield number, InputError(f"the line is larger than {limit // 1_000_000} MB", Location(path, number),
                                         hint="one patient record a line")
                continue
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, InputError(f"the line is not UTF-8 (byte {exc.start + 1})", Location(path, number),
                                         hint="save the file as UTF-8")
