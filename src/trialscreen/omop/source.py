"""Open an OMOP CDM source as DuckDB views with the DDL's names and types.

A source is a DuckDB database file (attached read-only) or a folder with one CSV or Parquet file
per table, names in any case (``PERSON.csv``, ``measurement.parquet``, ``Drug_Exposure.csv.gz``).
Either way the reader sees one view per table of ``tables.TABLES``, named in lower case, every
DDL column present with its DDL type: a column the file lacks is NULL, a table the source lacks is
empty (PERSON excepted: without it there is nobody to screen). A value that cannot be cast to its
column's type stops the run with the table and column named, except the measurement numbers
(value_as_number, range_low, range_high), whose text is kept beside them so that an unreadable
number leaves its lab unusable rather than the whole database unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialscreen.errors import InputError, Location
from trialscreen.omop.tables import REQUIRED, TABLES

# measurement columns read leniently: the text stays beside the number (column + '_text')
LENIENT = {"measurement": ("value_as_number", "range_low", "range_high"),
           "observation": ("value_as_number",)}
_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet")


@dataclass
class Source:
    """An open source: the DuckDB connection holding the views, and what was found."""

    con: Any           # a duckdb.DuckDBPyConnection (duckdb is imported when a source is opened)
    path: str
    files: dict = field(default_factory=dict)       # table -> file or 'table in the database'
    missing: list = field(default_factory=list)     # CDM tables the source does not have
    schema: str | None = None                       # how it was opened, for processes that open it again
    memory_limit: str = "1GB"

    def close(self) -> None:
        self.con.close()  # type: ignore[attr-defined]


def open_source(path: str, *, schema: str | None = None, memory_limit: str = "1GB") -> Source:
    import duckdb

    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file or folder: {path}", Location(path),
                         hint="give a DuckDB database file or a folder of OMOP CDM tables")
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{_checked_limit(memory_limit)}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")    # DuckDB's own bar (queries over 2 s) would print into the rows
    source = Source(con, str(path), schema=schema, memory_limit=memory_limit)
    try:
        raw = _attach(con, p, schema, source) if p.is_file() else _folder(p, source)
        for table, columns in TABLES.items():
            if table not in raw:
                if table in REQUIRED:
                    raise InputError(f"{path} has no {table.upper()} table", Location(path),
                                     hint="an OMOP CDM source needs PERSON; name the file PERSON.csv or "
                                          "person.parquet")
                source.missing.append(table)
                con.execute(f"CREATE VIEW {table} AS SELECT {_casts(table, columns, {})} WHERE false")
                continue
            relation, present = raw[table]
            con.execute(f"CREATE VIEW {table} AS SELECT {_casts(table, columns, present)} FROM {relation}")
    except BaseException:
        con.close()
        raise
    return source


def _checked_limit(limit: str) -> str:
    if not limit.replace(".", "").rstrip("KMGTBkmgtib").isdigit():
        raise InputError(f"'{limit}' is not a memory limit", hint="write it like 1GB or 512MB")
    return limit


def _attach(con, p: Path, schema: str | None, source: Source) -> dict:
    """The tables of a DuckDB database file: name -> (relation, its columns)."""
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(p)])
    except Exception as exc:  # duckdb.Error: not a database, a newer format, locked
        raise InputError(f"{p} cannot be opened as a DuckDB database: {_first_line(exc)}", Location(str(p)),
                         hint="give a DuckDB file, or a folder of CSV or Parquet files") from None
    rows = con.execute("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                       "WHERE table_catalog = 'src'").fetchall()
    schemas = {s for s, _, _ in rows}
    wanted = schema or ("main" if "main" in schemas or not schemas else sorted(schemas)[0])
    if schema and schema not in schemas:
        raise InputError(f"{p} has no schema '{schema}'", Location(str(p)),
                         hint="its schemas: " + ", ".join(sorted(schemas)))
    out: dict = {}
    for s, table, column in rows:
        name = table.lower()
        if s != wanted or name not in TABLES:
            continue
        relation, present = out.setdefault(name, (f'src."{s}"."{table}"', {}))
        present[column.lower()] = column
        source.files[name] = f"{p} table {table}"
    return out


def _folder(p: Path, source: Source) -> dict:
    """The table files of a folder: name -> (relation, its columns). macOS '._' files are skipped."""
    out: dict = {}
    for f in sorted(p.iterdir()):
        if f.name.startswith(".") or not f.is_file():
            continue
        lower = f.name.lower()
        suffix = next((s for s in _SUFFIXES if lower.endswith(s)), None)
        if suffix is None or lower[: -len(suffix)] not in TABLES:
            continue
        name = lower[: -len(suffix)]
        if name in out:
            raise InputError(f"{p} holds two files for {name.upper()}: {source.files[name]} and {f}",
                             Location(str(f)), hint="keep one file per table")
        quoted = str(f).replace("'", "''")
        relation = (f"read_parquet('{quoted}')" if suffix == ".parquet" else
                    f"read_csv('{quoted}', header = true, all_varchar = true, "
                    f"delim = '{chr(9) if suffix == '.tsv' else ','}', quote = '\"', escape = '\"')")
        source.files[name] = str(f)
        out[name] = (relation, {})
    import duckdb

    for name, (relation, present) in out.items():
        try:
            cols = source.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()  # type: ignore[attr-defined]
        except duckdb.Error as exc:
            raise InputError(f"{source.files[name]} cannot be read: {_first_line(exc)}", Location(source.files[name]),
                             hint="save it as CSV with a header row, or Parquet") from None
        for col in cols:
            present[str(col[0]).strip().lower()] = col[0]
        key = _KEYS.get(name, "person_id")
        if key not in present:
            raise InputError(f"{source.files[name]} has no {key} column", Location(source.files[name]),
                             hint="its first line must be the CDM column names")
    return out


_KEYS = {"concept": "concept_id", "concept_ancestor": "ancestor_concept_id"}


def _casts(table: str, columns: dict, present: dict) -> str:
    """Each DDL column from the source's column of that name (any case), cast to its type."""
    parts = []
    lenient = LENIENT.get(table, ())
    for column, kind in columns.items():
        if column not in present:
            parts.append(f"CAST(NULL AS {kind}) AS {column}")
            if column in lenient:
                parts.append(f"CAST(NULL AS VARCHAR) AS {column}_text")
            continue
        ref = '"' + present[column].replace('"', '""') + '"'
        text = f"NULLIF(TRIM(CAST({ref} AS VARCHAR)), '')"
        if column in lenient:
            parts.append(f"TRY_CAST({text} AS {kind}) AS {column}")
            parts.append(f"{text} AS {column}_text")
        elif kind == "DATE":
            parts.append(f"CAST(CAST({text} AS TIMESTAMP) AS DATE) AS {column}")
        else:
            parts.append(f"CAST({text} AS {kind}) AS {column}")
    return ", ".join(parts)


def cast_error(source: Source, table: str, exc: Exception) -> InputError:
    """The error for a query that failed on a cell that is not its column's CDM type (DuckDB names
    the value; the table and column are found by casting each column, ``table`` first)."""
    column = None
    for name in (table, *(t for t in TABLES if t != table and t not in source.missing)):
        column = _bad_column(source.con, name)
        if column is not None:
            table = name
            break
    where = source.files.get(table, source.path)
    return InputError(f"{where}: {table}.{column or '?'} holds a value that is not its CDM type: "
                      f"{_first_line(exc)}", Location(where, field=column),
                      hint="correct the value, or leave the cell empty")


def _bad_column(con, table: str) -> str | None:
    import duckdb

    for column in TABLES[table]:
        try:
            con.execute(f"SELECT count({column}) FROM {table}").fetchone()
        except duckdb.Error:
            return column
    return None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
