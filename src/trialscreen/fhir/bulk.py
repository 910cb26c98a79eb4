"""A FHIR Bulk Data export (NDJSON files, or one NDJSON file of mixed resources), grouped by
patient on disk (docs/fhir.md, "Inputs").

Every line of a resource type some rule reads is stored in a temporary SQLite file under the
patient it names; each patient's resources are then read back in file order when that patient is
screened, so memory holds one patient, whatever the size of the export. Lines are checked while
they are stored: a line that is not JSON stops the run before anyone is screened, with its file
and line.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trialscreen.errors import FileReadError, InputError, Location
from trialscreen.fhir import values as v
from trialscreen.fhir.read import READ_TYPES
from trialscreen.fhir.subjects import identifiers_of, named
from trialscreen.textio import MAX_BYTES

_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
_BY_IDENTIFIER, _SOMEBODY = "#identifier", "#somebody"     # keys no Patient has: resolved by _assign, and nobody
_TYPE_NAME = re.compile(r"^([A-Z][A-Za-z]+)(?:[._-]\d+)*$")     # Observation, Observation.000, Observation_1


def is_bulk(path: str) -> bool:
    """Whether ``path`` is a Bulk Data export: a folder holding NDJSON files, or an NDJSON file."""
    p = Path(path)
    if p.is_dir():
        return any(_is_ndjson(f) for f in p.iterdir())
    return _is_ndjson(p)


def _is_ndjson(p: Path) -> bool:
    """An NDJSON file of FHIR resources: named .ndjson, or .jsonl whose first line is a resource
    (a JSON Lines file of patient records is not)."""
    name = p.name.lower()
    if name.endswith((".ndjson", ".ndjson.gz")):
        return True
    if not name.endswith((".jsonl", ".jsonl.gz")) or not p.is_file():
        return False
    try:
        with (gzip.open(p, "rb") if name.endswith(".gz") else open(p, "rb")) as fh:
            return b'"resourceType"' in fh.readline(MAX_BYTES)
    except OSError:
        return False


def export_files(path: Path) -> list:
    """The NDJSON files to read, in name order: a file named by a resource type no rule reads
    (Claim.ndjson, Encounter.000.ndjson) is skipped without being opened."""
    files = sorted(f for f in path.iterdir() if f.is_file() and _is_ndjson(f)) if path.is_dir() else [path]
    out = []
    for f in files:
        stem = f.name[: -len(next(s for s in _SUFFIXES if f.name.lower().endswith(s)))]
        m = _TYPE_NAME.match(stem)
        if m and m.group(1) not in READ_TYPES and path.is_dir():
            continue
        out.append(f)
    return out


@dataclass
class Grouped:
    """The export grouped on disk: ``patients`` Patient lines, ``orphans`` resources that name a
    patient the export does not hold (or nobody, with several patients), ``conflicted`` the keys
    of Patients given more than once, differently, who are not screened."""

    con: sqlite3.Connection
    patients: int = 0
    orphans: int = 0
    conflicted: set = field(default_factory=set)
    tmp: tempfile.TemporaryDirectory | None = None

    def close(self) -> None:
        self.con.close()
        if self.tmp is not None:
            self.tmp.cleanup()

    def each(self):
        """(Patient resource, its resources in file order) for each patient, in the order of the
        Patient lines."""
        rows = self.con.execute("SELECT key, body FROM patient ORDER BY seq")
        while batch := rows.fetchmany(256):
            for key, body in batch:
                resources = [json.loads(b) for (b,) in self.con.execute(
                    "SELECT body FROM resource WHERE key = ? ORDER BY seq", (key,))]
                yield json.loads(body), resources

    def refusal(self, patient: dict) -> str | None:
        """Why a patient of the export is not screened (given twice, differently), or None."""
        key = f"Patient/{patient.get('id')}"
        if key not in self.conflicted:
            return None
        return (f"{key} is given twice in the export, differently (two people, or two servers' copies): "
                "which resources are whose cannot be told, so it is not screened")

    def medications(self) -> Medications:
        return Medications(self.con)


class Medications:
    """Medication resources by reference (``Medication/ID``), read from the index when asked."""

    def __init__(self, con):
        self.con, self.cache = con, {}

    def _get(self, key: str):
        if key not in self.cache:
            row = self.con.execute("SELECT body FROM medication WHERE key = ?", (key,)).fetchone()
            self.cache[key] = json.loads(row[0]) if row else None
            if len(self.cache) > 10_000:
                self.cache.clear()
        return self.cache[key]

    def __contains__(self, key) -> bool:
        return self._get(key) is not None

    def __getitem__(self, key):
        return self._get(key)


def group(path: str) -> Grouped:
    """Store the export's resources under their patients in a temporary SQLite file."""
    tmp = tempfile.TemporaryDirectory(prefix="trialscreen-fhir-")
    con = sqlite3.connect(str(Path(tmp.name) / "index.sqlite"))
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                      "CREATE TABLE patient (seq INTEGER, key TEXT PRIMARY KEY, body TEXT);"
                      "CREATE TABLE resource (seq INTEGER, key TEXT, body TEXT, isystem TEXT, ivalue TEXT);"
                      "CREATE TABLE ident (system TEXT, value TEXT, key TEXT);"
                      "CREATE TABLE medication (key TEXT PRIMARY KEY, body TEXT);")
    grouped = Grouped(con, tmp=tmp)
    try:
        seq = 0
        for f in export_files(Path(path)):
            for line_no, line in _lines(f):
                seq += 1
                _store(grouped, f, line_no, line, seq)
        if not grouped.patients:
            raise InputError(f"{path} holds no Patient resource, so there is nobody to screen",
                             Location(str(path)), hint="a Bulk Data export has a Patient.ndjson file")
        _assign(grouped)
        con.execute("CREATE INDEX resource_key ON resource (key, seq)")
        grouped.orphans = con.execute("SELECT count(*) FROM resource WHERE key NOT IN "
                                      "(SELECT key FROM patient)").fetchone()[0]
        con.commit()
    except BaseException:
        grouped.close()
        raise
    return grouped


def _assign(grouped: Grouped) -> None:
    """Give each resource that names its patient by identifier the one Patient carrying it (else
    nobody), and, with one Patient in the export, the resources that name nobody to it (subjects.py)."""
    con = grouped.con
    con.execute("CREATE INDEX ident_value ON ident (value)")
    con.execute("UPDATE resource SET key = coalesce((SELECT CASE WHEN count(DISTINCT i.key) = 1 THEN min(i.key) END "
                "FROM ident i WHERE i.value = resource.ivalue AND (i.system = resource.isystem OR i.system = '' "
                "OR resource.isystem = '')), ?) WHERE key = ?", (_SOMEBODY, _BY_IDENTIFIER))
    if grouped.patients == 1:
        con.execute("UPDATE resource SET key = (SELECT key FROM patient) WHERE key = ''")


def _store(grouped: Grouped, f: Path, line_no: int, line: bytes, seq: int) -> None:
    if not line.strip():
        return
    if len(line) > MAX_BYTES:
        raise InputError(f"{f} line {line_no} is larger than {MAX_BYTES // 1_000_000} MB",
                         Location(str(f), line=line_no), hint="one resource a line, each under the limit")
    try:
        res = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{f} line {line_no} is not a JSON resource ({exc})", Location(str(f), line=line_no),
                         hint="a Bulk Data file holds one JSON resource a line (NDJSON)") from None
    kind = res.get("resourceType") if isinstance(res, dict) else None
    if not isinstance(kind, str) or kind not in READ_TYPES:
        return
    body = line.decode("utf-8-sig")
    if kind == "Patient":
        _store_patient(grouped, res, body, seq)
    elif kind == "Medication":
        if res.get("id"):
            grouped.con.execute("INSERT OR IGNORE INTO medication VALUES (?, ?)", (f"Medication/{res['id']}", body))
    else:
        said = named(res)
        ident = ("", "") if said.refs or not said.identifiers else said.identifiers[0]
        key = (v.ref_keys(said.refs[0])[-1] if said.refs else _BY_IDENTIFIER if said.identifiers
               else _SOMEBODY if said.anybody else "")
        grouped.con.execute("INSERT INTO resource VALUES (?, ?, ?, ?, ?)", (seq, key, body, *ident))


def _store_patient(grouped: Grouped, res: dict, body: str, seq: int) -> None:
    """A Patient line: stored once; the same again is skipped, a different one with its id refuses it."""
    key = f"Patient/{res.get('id') or f'line {seq}'}"
    row = grouped.con.execute("SELECT body FROM patient WHERE key = ?", (key,)).fetchone()
    if row is not None:
        if json.loads(row[0]) != res:
            grouped.conflicted.add(key)
        return
    grouped.con.execute("INSERT INTO patient VALUES (?, ?, ?)", (seq, key, body))
    grouped.con.executemany("INSERT INTO ident VALUES (?, ?, ?)", [(*i, key) for i in identifiers_of(res)])
    grouped.patients += 1


def _lines(f: Path):
    """(line number, bytes) of an NDJSON file, gzipped or not."""
    try:
        fh = gzip.open(f, "rb") if f.name.lower().endswith(".gz") else open(f, "rb")
    except OSError as exc:
        raise FileReadError(f"cannot read {f}: {exc.strerror}", Location(str(f)), hint="check the path") from None
    with fh:
        try:
            for line_no, line in enumerate(fh, 1):
                yield line_no, line
        except (OSError, EOFError) as exc:
            raise FileReadError(f"cannot read {f}: {exc}", Location(str(f)),
                                hint="check that the file is complete (a gzip file cut short)") from None
