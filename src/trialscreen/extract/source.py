"""An extract's files as DuckDB views, and each section's rows streamed in patient-id order.

Every file is read as text (``all_varchar``): the record reader, not the SQL, decides what a cell
means. DuckDB sorts on disk when a file is larger than memory, so a run holds one patient's rows
at a time, whatever the size of the files. A file in another encoding than UTF-8 is first
written out as UTF-8 beside the run's temporary folder (DuckDB reads UTF-8)."""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator
from pathlib import Path

from trialscreen.errors import InputError, Location

_DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}
_BATCH = 2048


class ExtractTables:
    """The open DuckDB connection and a view per file (p0, r0, r1, t0, d0, ...)."""

    def __init__(self, extract, memory_limit: str = "1GB"):
        import duckdb

        self.extract = extract
        self.tmp = tempfile.TemporaryDirectory(prefix="trialscreen-extract-")
        # a database file of the run's own: each section is sorted into a table on disk once, then
        # read back in order with a streaming scan, so the open sections hold no sort in memory
        self.con = duckdb.connect(str(Path(self.tmp.name) / "extract.duckdb"))
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{self.tmp.name}'")
        self.con.execute("SET threads = 1")        # one sort at a time spills to disk within the limit
        self.con.execute("SET enable_progress_bar = false")   # DuckDB's own bar would print into the rows
        self.views: dict = {}
        self.sorted = 0
        self._view("p0", extract.patients)
        for kind, prefix in (("results", "r"), ("diagnoses", "d"), ("treatments", "t")):
            for i, source in enumerate(getattr(extract, kind)):
                self._view(f"{prefix}{i}", source)
                if source.tests is not None:
                    self._view(f"{prefix}{i}_tests", source.tests)

    def close(self) -> None:
        self.con.close()
        self.tmp.cleanup()

    def _view(self, name: str, source) -> None:
        path = self._utf8(source)
        delim = source.options.get("delimiter")
        sep = f", delim = '{_DELIMITERS.get(str(delim), str(delim))}'" if delim else ""
        try:
            literal = "'" + str(path).replace("'", "''") + "'"      # a view cannot take a prepared parameter
            self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv({literal}, header = true, "
                             f"all_varchar = true{sep}, auto_detect = true)")
            header = [row[0] for row in self.con.execute(f"DESCRIBE {name}").fetchall()]
        except Exception as exc:      # duckdb's own errors: the file cannot be read as CSV
            raise InputError(f"cannot be read as a CSV file: {str(exc).splitlines()[0]}",
                             Location(str(source.path)), "check its delimiter and encoding in the extract") from None
        wanted = list(source.columns.values()) + list(source.extra if source.kind == "patients" else ())
        for column in wanted:
            if column not in header:
                raise InputError(f"{source.path.name} has no column '{column}'", source.where,
                                 "its columns are: " + ", ".join(header[:20]))
        self.views[name] = header

    def _utf8(self, source) -> Path:
        encoding = str(source.options.get("encoding") or "utf-8")
        if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
            return source.path
        out = Path(self.tmp.name) / f"{len(self.views)}-{source.path.name}"
        try:
            with open(source.path, encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8",
                                                                               newline="") as dst:
                for chunk in iter(lambda: src.read(1 << 20), ""):
                    dst.write(chunk)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot be read as {encoding}: {exc}", Location(str(source.path)),
                             "give the file's encoding in the extract (encoding: cp1252)") from None
        return out

    def dictionary(self, view: str, name: str, columns: dict) -> None:
        """The dictionary of local test codes as one row per code: its LOINC and name, and how many
        different meanings the file gives the code (more than one: the code is placed by none)."""
        loinc = f"nullif(trim({q(columns['loinc'])}), '')" if "loinc" in columns else "NULL"
        label = f"nullif(trim({q(columns['name'])}), '')" if "name" in columns else "NULL"
        self.con.execute(f"CREATE VIEW {name} AS SELECT trim({q(columns['key'])}) AS key, max({loinc}) AS loinc, "
                         f"max({label}) AS name, count(DISTINCT coalesce({loinc}, '') || '|' || "
                         f"coalesce(lower({label}), '')) AS meanings FROM {view} GROUP BY 1")

    def stream(self, view: str, select: str) -> Iterator[tuple]:
        """(key, row) of ``SELECT {select} FROM {view}`` in patient-id order, a batch at a time.
        The key is the order itself, made by the SQL (whole-number ids by value first, then the
        others by text; ties by the trimmed id), so the run merges sections by the very key they
        were sorted by: an id is the same patient in every file only when its trimmed text is."""
        import duckdb

        first = select.split(", ", 1)[0]
        number = f"TRY_CAST(trim({first}) AS HUGEINT)"
        self.sorted += 1
        table = f"sorted{self.sorted}"
        try:
            self.con.execute(f"CREATE TABLE {table} AS SELECT {number} IS NULL AS k1, coalesce({number}, 0) AS k2, "
                             f"coalesce(trim({first}), '') AS k3, {select} FROM {view} ORDER BY k1, k2, k3")
        except duckdb.Error as exc:
            raise InputError(f"the extract could not be sorted by patient: {str(exc).splitlines()[0]}",
                             Location(self.extract.path), "check the files' free disk space and memory") from None
        cursor = self.con.cursor()
        cursor.execute(f"SELECT * FROM {table}")          # insertion order: the sort's
        while rows := cursor.fetchmany(_BATCH):
            for row in rows:
                yield row[:3], row[3:]
        cursor.close()


def q(column: str) -> str:
    """A column name quoted for SQL."""
    return '"' + column.replace('"', '""') + '"'
