"""Law: whatever shape an element of a bundle has (a string where an object belongs, a list of
numbers, null), reading it gives a patient record or one located error, never a traceback."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscreen.errors import TrialscreenError
from trialscreen.fhir.export import bundle_of
from trialscreen.fhir.read import bundle_records
from trialscreen.patient.load import patient_from_dict

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2025, 6, 2)
_RECORD = json.loads((ROOT / "examples" / "patients" / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
BASE = bundle_of([_RECORD], AS_OF)
# the export writes treatments as Procedures: medication resources of every shape the reader reads
# a course's dates from, so the junk reaches each of their elements too
_PATIENT = {"reference": next(e["fullUrl"] for e in BASE["entry"] if e["resource"]["resourceType"] == "Patient")}
_DRUG = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "342369"}]}
_DAYS = {"value": 4, "unit": "weeks", "system": "http://unitsofmeasure.org", "code": "wk"}
BASE["entry"] += [{"resource": {"subject": _PATIENT, "medicationCodeableConcept": _DRUG, **r}} for r in (
    {"resourceType": "MedicationRequest", "status": "completed", "intent": "order", "authoredOn": "2025-01-01",
     "dispenseRequest": {"validityPeriod": {"start": "2025-01-01", "end": "2025-02-01"},
                         "expectedSupplyDuration": _DAYS, "numberOfRepeatsAllowed": 1},
     "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"end": "2025-02-01"}, "boundsDuration": _DAYS,
                                                  "boundsRange": {"high": _DAYS}}}}]},
    {"resourceType": "MedicationDispense", "status": "completed", "whenHandedOver": "2025-01-01", "daysSupply": _DAYS},
    {"resourceType": "MedicationStatement", "status": "stopped", "effectivePeriod": {"start": "2025-01-01"}})]
MEDICATIONS = 3         # the last entries of BASE
# FHIR elements the reader looks into, beside those the export writes
KEYS = ["code", "valueQuantity", "valueCodeableConcept", "valueString", "component", "referenceRange",
        "effectiveDateTime", "effectivePeriod", "issued", "status", "clinicalStatus", "verificationStatus",
        "onsetDateTime", "onsetPeriod", "abatementDateTime", "abatementPeriod", "severity", "extension",
        "performedPeriod", "performedDateTime", "meta", "subject", "contained", "medicationReference",
        "medicationCodeableConcept", "dispenseRequest", "dosageInstruction", "gender", "birthDate",
        "deceasedDateTime", "identifier", "id", "resourceType", "coding", "valueBoolean", "intent",
        "authoredOn", "validityPeriod", "expectedSupplyDuration", "numberOfRepeatsAllowed", "timing", "repeat",
        "boundsPeriod", "boundsDuration", "boundsRange", "daysSupply", "whenHandedOver", "unit", "value"]
# shapes that broke the reader once (a coding that is a string, a reference that is a number, ...)
SEEN = [None, True, 3, "x", "2025-05", [1, 2], {"coding": "x"}, {"value": "a"}, ["x"], {"start": 5},
        {"code": {"coding": [1]}}, [{"a": 1}], {"coding": [{"system": 5, "code": [1]}]}, {"reference": 7},
        {"end": "2025-13-40"}, [None], {"value": None, "comparator": 3}]
JUNK = st.sampled_from(SEEN) | st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6) | st.just("2025-05"),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                                 max_size=3), max_leaves=6)


def _places(node, path=()):
    """Every (container, key) of the bundle's resources."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield node, k
            yield from _places(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield node, i
            yield from _places(v, path + (i,))


PLACES = len(list(_places(BASE["entry"])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, PLACES - 1), JUNK, st.booleans()), min_size=1, max_size=3),
       st.sampled_from(KEYS))
def test_a_malformed_element_is_a_located_error_or_nothing(changes, extra_key):
    bundle = copy.deepcopy(BASE)
    for where, junk, in_medication in changes:
        # half the changes inside the medication resources, whose elements nest deepest
        places = [p for e in bundle["entry"][-MEDICATIONS:] for p in _places(e)] if in_medication else \
            list(_places(bundle["entry"]))
        if not places:
            break
        container, key = places[where % len(places)]
        # a copy each time: a shared junk object put inside itself would make a cycle (and SEEN
        # would be changed for the next example)
        container[key] = copy.deepcopy(junk)
        if isinstance(container, dict):
            container.setdefault(extra_key, copy.deepcopy(junk))
    try:
        for built in bundle_records(bundle, "bundle.json", AS_OF, [], []):
            patient_from_dict(built.record, "bundle.json")
    except TrialscreenError:
        pass
