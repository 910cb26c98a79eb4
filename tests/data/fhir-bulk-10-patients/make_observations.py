"""Write Observation.000.ndjson: synthetic laboratory results and vital signs for the Patients of
Patient.000.ndjson (the living ones), in the shape Synthea and US Core give them (the public sample carries no
Observations; see SOURCE.md).

Deterministic: no randomness, no clock; the values follow from each patient's place in the file.
Run from anywhere: ``python tests/data/fhir-bulk-10-patients/make_observations.py``; the output
is committed, and tests/test_fhir_read.py checks that it is what this script writes.

What it holds, per patient (AS_OF below is the as-of date the tests screen with):
- eight laboratory analytes (LOINC codes that src/trialscreen/vocab/analytes.yaml lists, and
  that the OMOP Synthea27Nj CONCEPT table names), each at three dates before AS_OF, the latest
  within 28 days of it, with a valueQuantity in US units (UCUM system and code) and, for most,
  a referenceRange;
- a blood pressure panel and a BMI (vital signs: no rule reads them);
- for every other patient, an ECOG score (LOINC 89247-1) answered with a LOINC answer code.
And once in the file (the first patients): a creatinine dated after AS_OF (it has not happened
yet and must not decide), a total bilirubin with a '<' comparator, a platelet count marked
entered-in-error (it must not be read), and a preliminary potassium.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = date(2023, 6, 1)
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# analyte -> (LOINC, display, UCUM unit, low, high, typical value, step between results)
LABS = {
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.6, 1.3, 0.9, 0.05),
    "hemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.5, 13.6, 0.3),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 450, 240, 12),
    "anc": ("751-8", "Neutrophils [#/volume] in Blood by Automated count", "10*3/uL", 1.8, 7.7, 3.9, 0.2),
    "alt": ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L",
            7, 40, 24, 2),
    "ast": ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L",
            10, 40, 22, 2),
    "bilirubin": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 0.1, 1.2, 0.6, 0.1),
    "potassium": ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 4.2, 0.1),
}
# the three collection days, counted back from AS_OF; each patient is shifted by a few days
DAYS_BEFORE = (130, 60, 12)


def _patients() -> list[str]:
    """The ids of the living patients, in file order (Synthea records nothing after a death)."""
    lines = (HERE / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()
    return [p["id"] for p in map(json.loads, filter(str.strip, lines)) if "deceasedDateTime" not in p]


def _when(day: date, index: int) -> str:
    """A collection time in US Eastern time, with its offset (daylight saving from March)."""
    offset = -4 if 3 <= day.month <= 10 else -5
    moment = datetime(day.year, day.month, day.day, 8 + index % 9, (17 * index) % 60, 16,
                      tzinfo=timezone(timedelta(hours=offset)))
    return moment.isoformat()


def _coding(code: str, display: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _base(oid: str, patient: str, category: str, code: dict, when: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"
                             if category == "laboratory" else
                             "http://hl7.org/fhir/StructureDefinition/vitalsigns"]},
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category,
                                  "display": "Laboratory" if category == "laboratory" else "Vital signs"}]}],
        "code": code,
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        "issued": when,
    }


def _quantity(value, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _lab(oid: str, patient: str, analyte: str, value, when: str, with_range: bool) -> dict:
    code, display, unit, low, high, _, _ = LABS[analyte]
    obs = _base(oid, patient, "laboratory", _coding(code, display), when)
    obs["valueQuantity"] = _quantity(value, unit)
    if with_range:
        obs["referenceRange"] = [{"low": _quantity(low, unit), "high": _quantity(high, unit)}]
    return obs


def _round(value: float, step: float) -> float | int:
    digits = 0 if step >= 1 else 1 if step >= 0.1 else 2
    return round(value) if digits == 0 else round(value, digits)


def observations() -> list[dict]:
    out: list[dict] = []
    for p, patient in enumerate(_patients()):
        ids = (f"obs-{p + 1:02d}-{n:03d}" for n in itertools.count(1))

        for d, before in enumerate(DAYS_BEFORE):
            day = AS_OF - timedelta(days=before + p % 5)
            when = _when(day, p + d)
            for a, (analyte, (_, _, _, _, _, typical, step)) in enumerate(LABS.items()):
                value = _round(typical + step * (((p * 3 + a) % 5) - 2 + d), step)
                with_range = analyte not in ("potassium",) or p % 2 == 0
                lab = _lab(next(ids), patient, analyte, value, when, with_range)
                if d == len(DAYS_BEFORE) - 1 and p == 1 and analyte == "bilirubin":
                    lab["valueQuantity"] = {**lab["valueQuantity"], "value": 0.2, "comparator": "<"}
                if d == len(DAYS_BEFORE) - 1 and p == 3 and analyte == "potassium":
                    lab["status"] = "preliminary"
                out.append(lab)
            # vital signs on the same visit: not read by any rule
            bp = _base(next(ids), patient, "vital-signs", _coding("85354-9", "Blood pressure panel with all children optional"),
                       when)
            bp["component"] = [
                {"code": _coding("8480-6", "Systolic blood pressure"),
                 "valueQuantity": {"value": 112 + (p * 7 + d * 3) % 30, "unit": "mm[Hg]", "system": UCUM,
                                   "code": "mm[Hg]"}},
                {"code": _coding("8462-4", "Diastolic blood pressure"),
                 "valueQuantity": {"value": 70 + (p * 5 + d) % 15, "unit": "mm[Hg]", "system": UCUM,
                                   "code": "mm[Hg]"}},
            ]
            out.append(bp)
            bmi = _base(next(ids), patient, "vital-signs", _coding("39156-5", "Body mass index (BMI) [Ratio]"), when)
            bmi["valueQuantity"] = {"value": round(21.5 + (p * 1.7) % 9, 1), "unit": "kg/m2", "system": UCUM,
                                    "code": "kg/m2"}
            out.append(bmi)
        last_day = AS_OF - timedelta(days=DAYS_BEFORE[-1] + p % 5)
        if p % 2 == 0:
            grade = (p // 2) % 3
            answers = [("LA9622-7", "Fully active, able to carry on all pre-disease performance without restriction"),
                       ("LA9623-5", "Restricted in physically strenuous activity but ambulatory and able to carry "
                                    "out work of a light or sedentary nature, e.g., light house work, office work"),
                       ("LA9624-3", "Ambulatory and capable of all selfcare but unable to carry out any work "
                                    "activities. Up and about more than 50% of waking hours")]
            ecog = _base(next(ids), patient, "survey", _coding("89247-1", "ECOG Performance Status score"),
                         _when(last_day, p))
            ecog["meta"] = {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-survey"]}
            ecog["category"] = [{"coding": [{"system": CATEGORY, "code": "survey", "display": "Survey"}]}]
            code, display = answers[grade]
            ecog["valueCodeableConcept"] = {"coding": [{"system": LOINC, "code": code, "display": display}],
                                            "text": str(grade)}
            out.append(ecog)
        if p == 0:
            # a creatinine collected after the as-of date: it has not happened yet on AS_OF
            late = AS_OF + timedelta(days=20)
            out.append(_lab(next(ids), patient, "creatinine", 4.8, _when(late, 0), True))
        if p == 2:
            # a platelet count withdrawn by the laboratory: never read, although it is the latest
            wrong = _lab(next(ids), patient, "platelets", 9, _when(last_day + timedelta(days=2), 1), True)
            wrong["status"] = "entered-in-error"
            out.append(wrong)
    return out


def main() -> None:
    lines = [json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in observations()]
    (HERE / "Observation.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
