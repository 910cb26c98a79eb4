"""Write the synthetic EHR extract example and its JSON twins (issue 16; never real data).

    python examples/extract/make_extract.py            # rewrites the files beside this script
    python examples/extract/make_extract.py --check    # exit 1 if a committed file differs

An extract as a hospital's reporting team delivers it (MIMIC-III's shape): one row per result,
per diagnosis code and per prescription, in several files, described by ``extract.yaml``.

- ``PATIENTS.csv``: SUBJECT_ID, GENDER (F/M), DOB (YYYY-MM-DD); one de-identified patient's birth
  date makes them about 300 years old on the as-of date (MIMIC shifts the ages over 89).
- ``LABEVENTS.csv``: one row per result (SUBJECT_ID, ITEMID, VALUE, VALUEUOM, CHARTTIME, REF_LOW,
  REF_HIGH), in no particular order: several results per analyte per patient over months, some
  dated after the as-of date, text results (``<5``, ``<10``, ``LESS THAN 0.4``, ``ERROR``,
  ``pending``, ``POSITIVE``), and tests that cannot be placed (an ITEMID the dictionary lacks, and
  a dictionary row with neither a LOINC code nor a name the analyte vocabulary knows).
- ``D_LABITEMS.csv``: the dictionary of local ITEMIDs: some rows with a LOINC code, some with a
  LABEL only, which the analyte vocabulary places by name (Creatinine, Platelet Count, ...).
- ``DIAGNOSES_ICD.csv`` (ICD-9-CM, MIMIC-III's ICD9_CODE, no dots) and ``DIAGNOSES_ICD10.csv``
  (ICD-10-CM), one row per code and date; only codes the vocabularies list.
- ``PRESCRIPTIONS.csv``: one row per prescription (DRUG as the pharmacy writes it, brand names
  too; STARTDATE, ENDDATE, an empty or later ENDDATE for one still taken).
- ``extract.yaml``: the description ``trialscreen batch --extract`` reads.
- ``twins.jsonl``: the same patients as trialscreen JSON records, one a line, each lab the result
  that decides (the latest on or before the as-of date), so that the extract and its twins give
  the same verdicts and statuses.

The twins are computed here from the rows written, by the rules the reader must follow, and
checked against what each patient was designed to show (``_EXPECT``).
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = date(2025, 6, 2)            # extract.yaml as_of; the date the twins are screened on

# ITEMID -> (analyte or None, LABEL, LOINC or "", unit, REF_LOW, REF_HIGH, normal range, decimals)
# None: a test nothing can place. 51999 is not in the dictionary at all.
TESTS = {
    50861: ("alt", "Alanine Aminotransferase (ALT)", "1742-6", "IU/L", "0", "40", (9, 38), 0),
    50878: ("ast", "Asparate Aminotransferase (AST)", "1920-8", "IU/L", "0", "40", (12, 36), 0),
    50885: ("bilirubin", "Bilirubin, Total", "1975-2", "mg/dL", "0", "1.5", (0.2, 1.1), 1),
    50912: ("creatinine", "Creatinine", "", "mg/dL", "0.4", "1.1", (0.6, 1.1), 1),
    51222: ("hemoglobin", "Hemoglobin", "718-7", "g/dL", "12", "16", (10.2, 14.6), 1),
    51256: ("anc", "Neutrophils", "", "K/uL", "1.8", "7.7", (1.9, 5.6), 1),
    51265: ("platelets", "Platelet Count", "", "K/uL", "150", "440", (145, 330), 0),
    51274: (None, "PT", "", "sec", "9.4", "12.5", (10.1, 13.9), 1),
    52001: ("hbv_dna", "HBV DNA", "", "IU/mL", "", "", None, 0),
    52002: ("hcv_rna", "HCV RNA", "", "", "", "", None, 0),
    52003: ("hiv_antibody", "HIV 1/2 Ab", "", "", "", "", None, 0),
    51999: (None, None, "", "mg/L", "0.8", "2.4", (1.2, 3.4), 1),
}
PANELS = {"chem": [50861, 50878, 50885, 50912, 51999], "cbc": [51222, 51256, 51265, 51274],
          "sero": [52001, 52002, 52003]}
ALL = ("chem", "cbc", "sero")
_SERO_NORMAL = {52001: "<10", 52002: "NOT DETECTED", 52003: "NEGATIVE"}

# The patients, designed across NCT05378971's criteria. visits: (days before the as-of date,
# negative after it; the panels drawn). set: (ITEMID, days) -> VALUE, or (VALUE, REF_LOW, REF_HIGH).
# extra: further rows (ITEMID, days, "HH:MM", VALUE). dx: (system, code, date). rx: (DRUG, start, end).
PATIENTS = [
    {"id": 10001, "sex": "F", "dob": "1958-04-17",
     "visits": [(240, ALL), (180, ("chem", "cbc")), (120, ("chem", "cbc")), (62, ("chem", "cbc")), (9, ALL),
                (-7, ("cbc",))],
     "set": {(51265, 62): "64", (51265, 9): "212", (51265, -7): "48"},
     "dx": [("icd10cm", "C9000", "2024-08-14")],
     "rx": [("Bortezomib", "2024-08-20", "2024-12-30"), ("Dexamethasone", "2024-08-20", "2024-12-30"),
            ("Aspirin", "2024-08-20", "")]},
    {"id": 10002, "sex": "M", "dob": "1949-11-02",
     "visits": [(200, ALL), (140, ("chem", "cbc")), (75, ("chem", "cbc")), (33, ("chem",)), (12, ALL)],
     "set": {(50912, 33): ("1.6", "0.5", "1.2"), (50912, 12): ("2.4", "0.5", "1.2")},
     "dx": [("icd10cm", "C9000", "2024-10-03")],
     "rx": [("Bortezomib", "2024-10-10", "2025-03-01"), ("Dexamethasone", "2024-10-10", "2025-03-01")]},
    {"id": 10003, "sex": "F", "dob": "1966-07-21",
     "visits": [(150, ALL), (90, ("chem", "cbc")), (13, ALL), (5, ("chem",))],
     "set": {(50912, 13): "0.9", (50912, 5): "ERROR"},
     "dx": [("icd10cm", "C9000", "2024-12-19")],
     "rx": [("VELCADE", "2025-01-02", "2025-04-24"), ("dexamethasone", "2025-01-02", "2025-04-24")]},
    {"id": 10004, "sex": "M", "dob": "1955-01-30",
     "visits": [(210, ALL), (150, ("chem", "cbc")), (95, ("chem", "cbc")), (40, ("chem", "cbc")), (3, ALL),
                (-3, ("chem", "cbc"))],
     "set": {(50861, 3): "<5", (51265, 3): "182", (51265, -3): "61", (51256, 95): "LESS THAN 0.4",
             (50912, -3): "2.9"},
     "dx": [("icd10cm", "C9000", "2024-09-25")],
     "rx": [("Bortezomib", "2024-10-01", "2025-02-14")]},
    {"id": 10005, "sex": "F", "dob": "1725-02-11",       # de-identified: ~300 years old
     "visits": [(160, ALL), (100, ("chem", "cbc")), (20, ALL)],
     "dx": [("icd10cm", "C9000", "2024-12-02")],
     "rx": [("Bortezomib", "2024-12-09", "2025-04-11")]},
    {"id": 10006, "sex": "M", "dob": "1971-09-09",
     "visits": [(300, ALL), (210, ("chem", "cbc")), (120, ("chem", "cbc")), (53, ("cbc",)), (14, ("chem", "sero"))],
     "dx": [("icd9cm", "20300", "2014-11-02"), ("icd10cm", "C9000", "2024-08-01")],
     "rx": []},
    {"id": 10007, "sex": "F", "dob": "1963-05-05",
     "visits": [(300, ALL), (180, ("chem", "cbc")), (70, ("chem", "cbc")), (10, ALL)],
     "set": {(52003, 10): "POSITIVE"},
     "dx": [("icd10cm", "C9000", "2024-07-22")],
     "rx": [("Bortezomib", "2024-07-29", "2024-11-29")]},
    {"id": 10008, "sex": "M", "dob": "1960-12-12",
     "visits": [(260, ALL), (160, ("chem", "cbc")), (60, ("chem", "cbc")), (8, ALL)],
     "dx": [("icd10cm", "C9000", "2024-09-02")],
     "rx": [("Bortezomib", "2024-09-09", "2025-01-20"), ("Dexamethasone", "2024-09-09", "2025-01-20"),
            ("Revlimid", "2025-03-01", "2025-08-31")]},
    {"id": 10009, "sex": "F", "dob": "1952-03-28",
     "visits": [(190, ALL), (120, ("chem", "cbc")), (30, ("chem", "cbc")), (6, ALL)],
     "set": {(50861, 30): ("31", "0", "35"), (50861, 6): ("135", "0", "40")},
     "dx": [("icd10cm", "C9000", "2024-11-11")],
     "rx": [("Bortezomib", "2024-11-18", "2025-03-28")]},
    {"id": 10010, "sex": "M", "dob": "1968-08-19",
     "visits": [(230, ALL), (140, ("chem", "cbc")), (25, ALL), (4, ("sero",))],
     "set": {(52001, 25): "<10", (52001, 4): "pending", (52002, 4): "NOT DETECTED", (52003, 4): "NEGATIVE"},
     "dx": [("icd10cm", "C9000", "2024-10-28")],
     "rx": [("Bortezomib", "2024-11-04", "2025-03-14"), ("Aspirin", "2024-11-04", "2025-03-14")]},
    {"id": 10011, "sex": "M", "dob": "1957-06-30",
     "visits": [(280, ALL), (150, ("chem", "cbc")), (50, ("chem", "cbc")), (6, ("cbc", "sero"))],
     "set": {(51265, 6): "70"},
     "extra": [(50912, 6, "07:10", "1.0"), (50912, 6, "18:40", "1.3")],
     "dx": [("icd9cm", "20310", "2015-03-10"), ("icd10cm", "I8240", "2025-05-15")],
     "rx": []},
    {"id": 10012, "sex": "F", "dob": "1959-10-10",
     "visits": [(220, ALL), (130, ("chem", "cbc")), (45, ("chem", "cbc")), (2, ALL)],
     "dx": [("icd10cm", "E8581", "2025-01-15"), ("icd10cm", "C9000", "2025-01-15"), ("icd10cm", "A419", "2025-05-20")],
     "rx": [("Bortezomib", "2025-01-20", "2025-05-09")]},
]

# What each patient was designed to show (a check on the twins, so an edit above cannot silently
# change the story the README tells): analyte -> the deciding VALUE.
_EXPECT = {
    10001: {"platelets": 212},                # the 9-day result, not the 62-day 64 nor the later 48
    10002: {"creatinine": 2.4},
    10003: {"creatinine": "ERROR"},
    10004: {"alt": "<5", "platelets": 182, "hbv_dna": "<10"},
    10007: {"hiv_antibody": "POSITIVE"},
    10009: {"alt": 135},
    10010: {"hbv_dna": "pending"},
    10011: {"creatinine": 1.3, "platelets": 70},
}
_SEX = {"F": "female", "M": "male"}
_DRUGS = {"bortezomib": ("bortezomib", "targeted_therapy"), "velcade": ("bortezomib", "targeted_therapy"),
          "lenalidomide": ("lenalidomide", "immunotherapy"), "revlimid": ("lenalidomide", "immunotherapy"),
          "dexamethasone": ("dexamethasone", "dexamethasone (treatment type not recorded)"),
          "aspirin": ("aspirin", None)}       # drugs.yaml: aspirin has no treatment type
_DIAGNOSES = {("icd10cm", "C9000"): ("diagnosis", "multiple myeloma or smoldering myeloma "
                                                  "(ICD-10-CM C90.0 does not tell them apart)"),
              ("icd9cm", "20300"): ("diagnosis", "multiple myeloma or smoldering myeloma "
                                                 "(ICD-9-CM 203.0 does not tell them apart)"),
              ("icd9cm", "20310"): ("diagnosis", "plasma_cell_leukemia"),
              ("icd10cm", "E8581"): ("diagnosis", "al_amyloidosis"),
              ("icd10cm", "I8240"): ("condition", "thrombosis"),
              ("icd10cm", "A419"): ("condition", "serious_infection")}


def _value(rng: random.Random, itemid: int) -> str:
    _, _, _, _, _, _, normal, decimals = TESTS[itemid]
    if normal is None:
        return _SERO_NORMAL[itemid]
    x = rng.uniform(*normal)
    return str(round(x)) if decimals == 0 else f"{x:.{decimals}f}"


def _stamp(rng: random.Random, days: int, at: str | None = None) -> str:
    day = AS_OF - timedelta(days=days)
    clock = time.fromisoformat(at) if at else time(rng.choice([6, 7, 8, 9, 11, 14, 16]), rng.randrange(60))
    return datetime.combine(day, clock).strftime("%Y-%m-%d %H:%M:%S")


def _lab_rows(rng: random.Random, p: dict) -> list[list[str]]:
    rows = []
    for days, panels in p["visits"]:
        at = _stamp(rng, days)
        for panel in panels:
            for itemid in PANELS[panel]:
                given = p.get("set", {}).get((itemid, days))
                value, low, high = (given if isinstance(given, tuple)
                                    else (given or _value(rng, itemid), *TESTS[itemid][4:6]))
                rows.append([str(p["id"]), str(itemid), value, TESTS[itemid][3], at, low, high])
    for itemid, days, at, value in p.get("extra", []):
        rows.append([str(p["id"]), str(itemid), value, TESTS[itemid][3], _stamp(rng, days, at),
                     *TESTS[itemid][4:6]])
    return rows


def _number(text: str):
    try:
        x = float(text)
    except ValueError:
        return text                       # a text result is passed on as written
    return int(x) if x.is_integer() and "." not in text else x


def _deciding(rows: list[list[str]]) -> dict:
    """analyte -> the twin's lab: of the placeable results on or before the as-of date, the latest
    (CHARTTIME) decides, whatever it holds; later results are ignored."""
    latest: dict = {}
    for sid, itemid, value, unit, at, low, high in rows:
        analyte = TESTS[int(itemid)][0]
        when = datetime.strptime(at, "%Y-%m-%d %H:%M:%S")
        if analyte is None or when.date() > AS_OF:
            continue
        if analyte not in latest or when > latest[analyte][0]:
            assert analyte not in latest or when != latest[analyte][0], (sid, analyte, at)
            lab = {"value": _number(value)}
            if unit:
                lab["unit"] = unit
            lab["date"] = when.date().isoformat()
            if high:
                lab["uln"] = _number(high)
            if low:
                lab["lln"] = _number(low)
            latest[analyte] = (when, lab)
    return {name: latest[name][1] for name in sorted(latest)}


def _twin(p: dict, rows: list[list[str]]) -> dict:
    record: dict = {"id": str(p["id"]), "sex": _SEX[p["sex"]]}
    born = date.fromisoformat(p["dob"])
    if (AS_OF - born).days < 130 * 365:   # a 300-year-old: age unknown, so no birth date (see README)
        record["birth_date"] = p["dob"]
    diagnoses, conditions = [], {}
    for system, code, day in sorted(p["dx"], key=lambda d: d[2]):
        kind, name = _DIAGNOSES[(system, code)]
        if kind == "diagnosis":
            diagnoses.append({"name": name, "date": day})
        else:
            conditions[name] = {"present": True, "date": day}
    if diagnoses:
        record["diagnoses"] = diagnoses
    treatments = []
    for drug, start, end in p["rx"]:      # one treatment per prescription, as omop/records.py _drugs
        name, kind = _DRUGS[drug.lower()]
        if kind is None:
            continue                      # not a treatment
        entry = {"type": kind, "start": start, "drugs": [name]}
        if end and date.fromisoformat(end) <= AS_OF:
            entry["end"] = end
        treatments.append(entry)
    if treatments:
        record["treatments"] = treatments
    record["labs"] = _deciding(rows)
    if conditions:
        record["conditions"] = conditions
    return record


def _check(p: dict, record: dict) -> None:
    for analyte, value in _EXPECT.get(p["id"], {}).items():
        got = record["labs"][analyte]["value"]
        assert got == value, f"{p['id']} {analyte}: {got!r} decides, designed {value!r}"


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


EXTRACT_YAML = f"""\
# A synthetic EHR extract in MIMIC-III's shape (never real data): trialscreen batch --extract extract.yaml
# Paths are relative to this file. See README.md for what each file exercises.
layout: long
as_of: {AS_OF.isoformat()}
patients:
  file: PATIENTS.csv
  id: SUBJECT_ID
  columns: {{GENDER: {{field: sex, values: {{F: female, M: male}}}}, DOB: birth_date}}
results:
  - file: LABEVENTS.csv
    id: SUBJECT_ID
    test: ITEMID
    tests: {{file: D_LABITEMS.csv, key: ITEMID, loinc: LOINC_CODE, name: LABEL}}
    value: VALUE
    unit: VALUEUOM
    date: CHARTTIME
    low: REF_LOW
    high: REF_HIGH
diagnoses:
  - file: DIAGNOSES_ICD.csv
    id: SUBJECT_ID
    code: ICD9_CODE
    system: icd9cm
    date: CHARTDATE
  - file: DIAGNOSES_ICD10.csv
    id: SUBJECT_ID
    code: ICD10_CODE
    system: icd10cm
    date: CHARTDATE
treatments:
  - file: PRESCRIPTIONS.csv
    id: SUBJECT_ID
    drug: DRUG
    start: STARTDATE
    end: ENDDATE
"""


def outputs() -> dict[str, bytes]:
    rng = random.Random(1616)
    labs, twins = [], []
    for p in PATIENTS:
        rows = _lab_rows(rng, p)
        record = _twin(p, rows)
        _check(p, record)
        labs.extend(rows)
        twins.append(record)
    rng.shuffle(labs)                     # an extract is in no particular order
    dictionary = [[str(i), t[1], t[2]] for i, t in sorted(TESTS.items()) if t[1] is not None]
    dx9 = [[str(p["id"]), code, day] for p in PATIENTS for system, code, day in p["dx"] if system == "icd9cm"]
    dx10 = [[str(p["id"]), code, day] for p in PATIENTS for system, code, day in p["dx"] if system == "icd10cm"]
    rx = [[str(p["id"]), drug, start, end] for p in PATIENTS for drug, start, end in p["rx"]]
    return {
        "PATIENTS.csv": _csv(["SUBJECT_ID", "GENDER", "DOB"], [[str(p["id"]), p["sex"], p["dob"]] for p in PATIENTS]),
        "LABEVENTS.csv": _csv(["SUBJECT_ID", "ITEMID", "VALUE", "VALUEUOM", "CHARTTIME", "REF_LOW", "REF_HIGH"], labs),
        "D_LABITEMS.csv": _csv(["ITEMID", "LABEL", "LOINC_CODE"], dictionary),
        "DIAGNOSES_ICD.csv": _csv(["SUBJECT_ID", "ICD9_CODE", "CHARTDATE"], dx9),
        "DIAGNOSES_ICD10.csv": _csv(["SUBJECT_ID", "ICD10_CODE", "CHARTDATE"], dx10),
        "PRESCRIPTIONS.csv": _csv(["SUBJECT_ID", "DRUG", "STARTDATE", "ENDDATE"], rx),
        "extract.yaml": EXTRACT_YAML.encode("utf-8"),
        "twins.jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in twins).encode("utf-8"),
    }


def main(argv: list[str]) -> int:
    stale = []
    for name, data in outputs().items():
        path = HERE / name
        if "--check" in argv:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
    if stale:
        print("out of date (run python examples/extract/make_extract.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
