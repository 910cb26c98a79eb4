"""Write the two synthetic export examples and their JSON twins (issue 14; never real data).

    python examples/batch/make_exports.py            # rewrites the four files beside this script
    python examples/batch/make_exports.py --check    # exit 1 if a committed file differs

- ``registry.tsv``: a registry export as such registries deliver it: tab-delimited, no units (the
  mapping names them), sex coded 1/2, FISH coded 1/0/NA, ``NA`` for missing, ``-1`` for "not done"
  in the ECOG column only, a decimal comma in the creatinine column only, dates as timestamps
  (those of the labs in UTC, which the mapping turns into the site's local date), beta-2
  microglobulin and albumin with the junk such columns hold (no selected trial reads them), and a
  free-text comment column with a Windows-1252 byte in an otherwise UTF-8 file.
- ``si-export.csv``: a laboratory system's export in SI units, saved from Excel on Windows: a
  ``sep=;`` first line, Windows-1252 text (a German header), decimal commas, dates as dd.mm.yyyy,
  haemoglobin in mmol/L, creatinine in umol/L with its reference range in one cell (``59-104``)
  and an H/L/N flag, and Excel's blank rows.
- ``registry.jsonl`` and ``si-export.jsonl``: the same patients as trialscreen JSON records, one per
  line, with every value in its unit: ``trialscreen batch`` on an export and on its twin gives the
  same verdicts (tests/test_batch_examples.py).

The values are drawn from a seeded generator, across the trials' thresholds, so that the
examples hold eligible-looking, failing, stale and missing data alike.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
AS_OF = date(2025, 6, 2)            # the date the examples are screened on (tests and README)
SITE_ZONE = ZoneInfo("Europe/Madrid")   # registry-columns.yaml: timezone


def _maybe(rng: random.Random, p: float, value):
    return value if rng.random() >= p else None


def _lab(value, unit: str, day: date, **extra) -> dict:
    return {"value": value, "unit": unit, "date": day.isoformat(), **extra}


def _finding(code):
    return {1: "detected", 0: "not detected", None: None}[code]


def _comma(value) -> str:
    return "NA" if value is None else str(value).replace(".", ",")


# --- the registry export -------------------------------------------------------------------

REGISTRY_HEADER = ["PID", "SEX", "BIRTH_DT", "ECOG", "DX_DT", "IND_START", "IND_END", "ASCT_DT", "LAB_TS",
                   "CREA", "CREA_TS", "ANC", "PLT", "BILI", "ALT", "ALT_ULN", "B2M", "ALB", "FISH_DEL17P",
                   "FISH_T414", "FISH_T1416", "FISH_AMP1Q", "COMMENT"]
_JUNK = ["see lab report", "n.d.", "hemolysed", "<0.2", "pending"]
_COMMENTS = ["", "", "", "seen by Dr Müller", "ref. from Córdoba", "pt prefers morning visits", "café au lait spots"]


def _stamp(rng: random.Random, days_back: int) -> datetime:
    """A collection instant in UTC, some late in the evening (the next day in Madrid)."""
    local = datetime.combine(AS_OF - timedelta(days=days_back), datetime.min.time(), SITE_ZONE)
    hour = rng.choice([7, 8, 9, 10, 14, 23])
    return (local + timedelta(hours=hour, minutes=rng.randrange(60))).astimezone(timezone.utc)


def _registry_patient(rng: random.Random, n: int) -> tuple[list, dict]:
    pid = f"R{n:04d}"
    sex = rng.choice([1, 2])
    birth = AS_OF - timedelta(days=rng.randrange(38 * 365, 82 * 365))
    ecog = rng.choice([0, 0, 1, 1, 1, 2, 3, -1])
    dx = AS_OF - timedelta(days=rng.randrange(200, 600))
    ind_start = dx + timedelta(days=rng.randrange(5, 30))
    ind_end = ind_start + timedelta(days=rng.randrange(90, 420))
    asct = _maybe(rng, 0.2, ind_end + timedelta(days=rng.randrange(30, 90)))
    if asct is not None and asct > AS_OF:
        asct = None
    lab_at = _stamp(rng, rng.choice([1, 3, 5, 8, 12, 20, 35, 60, -3]))
    crea_at = _stamp(rng, rng.choice([2, 4, 9, 30]))
    crea = _maybe(rng, 0.1, round(rng.uniform(0.6, 2.6), 2))
    anc = _maybe(rng, 0.1, round(rng.uniform(0.6, 4.5), 1))
    plt = _maybe(rng, 0.05, rng.randrange(40, 320))
    bili = round(rng.uniform(0.2, 2.4), 1)
    alt_uln = rng.choice([35, 40, 41, 55])
    alt = rng.randrange(8, 150)
    fish = [rng.choice([0, 0, 0, 0, 1, None]) for _ in range(4)]
    row = [pid, sex, f"{birth} 00:00:00", ecog, f"{dx} 00:00:00", f"{ind_start} 00:00:00",
           f"{ind_end} 00:00:00", "NA" if asct is None else f"{asct} 00:00:00",
           lab_at.strftime("%Y-%m-%dT%H:%M:%SZ"), _comma(crea), crea_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "NA" if anc is None else anc, "NA" if plt is None else plt, bili, alt, alt_uln,
           rng.choice(_JUNK + ["2.9", "4.1"]), rng.choice(_JUNK + ["38", "41"]),
           *("NA" if f is None else f for f in fish), rng.choice(_COMMENTS)]
    lab_day = lab_at.astimezone(SITE_ZONE).date()
    labs = {"bilirubin": _lab(bili, "mg/dL", lab_day), "alt": _lab(alt, "U/L", lab_day, uln=alt_uln)}
    if crea is not None:
        labs["creatinine"] = _lab(crea, "mg/dL", crea_at.astimezone(SITE_ZONE).date())
    if anc is not None:
        labs["anc"] = _lab(anc, "x10^9/L", lab_day)
    if plt is not None:
        labs["platelets"] = _lab(plt, "x10^9/L", lab_day)
    treatments = [{"type": "induction", "start": ind_start.isoformat(), "end": ind_end.isoformat()}]
    if asct is not None:
        treatments.append({"type": "asct", "date": asct.isoformat()})
    names = ["del(17p)", "t(4;14)", "t(14;16)", "amp(1q)"]
    record = {"id": pid, "sex": "male" if sex == 1 else "female", "birth_date": birth.isoformat(),
              "diagnoses": [{"name": "multiple_myeloma", "date": dx.isoformat(), "status": "newly_diagnosed"}],
              "treatments": treatments, "labs": labs,
              "cytogenetics": {k: _finding(f) for k, f in zip(names, fish) if f is not None}}
    if ecog >= 0:
        record["ecog"] = ecog
    return row, record


def registry(rng: random.Random, count: int = 60) -> tuple[bytes, str]:
    lines, records = ["\t".join(REGISTRY_HEADER)], []
    for n in range(1, count + 1):
        row, record = _registry_patient(rng, n)
        lines.append("\t".join(str(c) for c in row))
        records.append(record)
    # UTF-8, but the comment column came through a Windows tool: its accents are Windows-1252 bytes
    data = b"".join(_mixed(line) + b"\n" for line in lines)
    return data, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _mixed(line: str) -> bytes:
    head, _, comment = line.rpartition("\t")
    return head.encode("utf-8") + b"\t" + comment.encode("cp1252")


# --- the SI laboratory export -------------------------------------------------------------

SI_HEADER = ["Patientennummer", "Geschlecht", "Geburtsdatum", "ECOG", "Diagnose", "Diagnosedatum",
             "Isotyp", "Induktionsbeginn", "Labordatum", "Hämoglobin", "Hb-Referenz", "Kreatinin", "Kreatinin-Referenz",
             "Kreatinin-Flag", "Calcium", "Thrombozyten", "Neutrophile", "M-Protein", "KM-Plasmazellen",
             "del(17p)", "t(4;14)", "Station"]
_HB_RANGE = {"w": (7.4, 9.9), "m": (8.6, 12.1)}        # mmol/L, monomer convention (analytes.yaml)
_CREA_RANGE = {"w": (45, 84), "m": (59, 104)}          # umol/L


def _flag(value: float, low: float, high: float) -> str:
    return "H" if value > high else "L" if value < low else "N"


def _si_patient(rng: random.Random, n: int) -> tuple[list, dict]:
    pid = f"S-{n:03d}"
    sex = rng.choice(["w", "m"])
    birth = AS_OF - timedelta(days=rng.randrange(40 * 365, 85 * 365))
    smm = rng.random() < 0.6
    dx = AS_OF - timedelta(days=rng.randrange(60, 2400 if smm else 500))
    start = dx + timedelta(days=rng.randrange(7, 40)) if not smm and rng.random() < 0.7 else None
    start = start if start is not None and start <= AS_OF else None
    isotype = rng.choice(["IgG kappa", "IgG lambda", "IgA kappa", "IgA lambda", "IgM kappa", "Leichtkette"])
    lab_day = AS_OF - timedelta(days=rng.choice([0, 2, 6, 13, 27, 29, 45]))
    hb_low, hb_high = _HB_RANGE[sex]
    hb = round(rng.uniform(5.6, 10.5), 1)
    crea_low, crea_high = _CREA_RANGE[sex]
    crea = _maybe(rng, 0.1, rng.randrange(50, 260))
    calcium = round(rng.uniform(2.1, 3.0), 2)
    plt = rng.randrange(60, 380)
    anc = round(rng.uniform(0.8, 6.0), 1)
    m_protein = round(rng.uniform(8.0, 48.0), 1)        # g/L
    bmpc = _maybe(rng, 0.15, rng.randrange(4, 60))
    fish = [rng.choice([1, 0, 0, 0, None]) for _ in range(2)]
    day = "%d.%m.%Y"
    row = [pid, sex, birth.strftime(day), rng.choice(["0", "1", "1", "2", ""]), "SMM" if smm else "MM",
           dx.strftime(day), isotype, start.strftime(day) if start else "", lab_day.strftime(day), _comma(hb),
           f"{_comma(hb_low)}-{_comma(hb_high)}", "" if crea is None else crea, f"{crea_low}-{crea_high}",
           "" if crea is None else _flag(crea, crea_low, crea_high), _comma(calcium), plt, _comma(anc),
           _comma(m_protein), "" if bmpc is None else bmpc,
           *("" if f is None else ("pos" if f else "neg") for f in fish), rng.choice(["3B", "Ambulanz", "5A"])]
    labs = {"hemoglobin": _lab(hb, "mmol/L", lab_day, lln=f"{hb_low} mmol/L", uln=f"{hb_high} mmol/L"),
            "calcium": _lab(calcium, "mmol/L", lab_day), "platelets": _lab(plt, "x10^9/L", lab_day),
            "anc": _lab(anc, "x10^9/L", lab_day), "m_protein": _lab(m_protein, "g/L", lab_day)}
    if crea is not None:
        labs["creatinine"] = _lab(crea, "umol/L", lab_day, lln=crea_low, uln=crea_high,
                                  flag=_flag(crea, crea_low, crea_high))
    if bmpc is not None:
        labs["bm_plasma_cells"] = _lab(bmpc, "%", lab_day)
    record = {"id": pid, "sex": "female" if sex == "w" else "male", "birth_date": birth.isoformat(),
              "diagnoses": [{"name": "smoldering_myeloma" if smm else "multiple_myeloma", "date": dx.isoformat(),
                             "isotype": "light chain" if isotype == "Leichtkette" else isotype}],
              "labs": labs,
              "cytogenetics": {k: _finding(f) for k, f in zip(["del(17p)", "t(4;14)"], fish) if f is not None}}
    if row[3]:
        record["ecog"] = int(row[3])
    if start is not None:
        record["treatments"] = [{"type": "induction", "start": start.isoformat()}]
    return row, record


def si_export(rng: random.Random, count: int = 40) -> tuple[bytes, str]:
    out, records = io.StringIO(), []
    out.write("sep=;\r\n")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")   # Excel quotes "t(4;14)"
    writer.writerow(SI_HEADER)
    for n in range(1, count + 1):
        row, record = _si_patient(rng, n)
        writer.writerow(row)
        records.append(record)
        if n % 17 == 0:
            writer.writerow([""] * len(SI_HEADER))          # Excel's blank row: ;;;;
    data = out.getvalue().encode("cp1252")
    return data, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def outputs() -> dict[str, bytes]:
    reg, reg_json = registry(random.Random(513))
    si, si_json = si_export(random.Random(840))
    return {"registry.tsv": reg, "registry.jsonl": reg_json.encode("utf-8"),
            "si-export.csv": si, "si-export.jsonl": si_json.encode("utf-8")}


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
        print("out of date (run python examples/batch/make_exports.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
