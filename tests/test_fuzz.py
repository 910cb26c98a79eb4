"""Fuzzing with hypothesis, bounded in time (the whole file runs in well under a minute).

Arbitrary text and bytes go into the criteria loader, the unit normaliser, split_value,
the patient reader and the CSV batch reader; structured inputs (lab strings built from
number and unit fragments, criteria YAML built from the language's own keys, mutated
patient records) go deeper. The only allowed outcomes are a result or a
:class:`trialscreen.errors.TrialscreenError` (``split_value`` documents a plain
``ValueError``), and a batch writes exactly one output row per input row and trial.

Every crash found here has a named regression test at the end of the file with the
smallest input that shows it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import ELIGIBLE
from trialscreen import vocab
from trialscreen.batch.run import open_text, run_batch
from trialscreen.criteria.compile import compile_file, compile_text
from trialscreen.criteria.keys import COMPARE, NODE_KEYS
from trialscreen.criteria.library import load_trial
from trialscreen.criteria.lint import lint_trial
from trialscreen.errors import TrialscreenError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import decode, parse_patient, patient_from_dict
from trialscreen.render.batch import Writer
from trialscreen.units import convert
from trialscreen.units.normalize import Unit, normalize, split_value

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AS_OF = date(2025, 6, 2)

KLASSES = sorted({a.klass for a in vocab.analytes().entries.values()} | {"body"}) + [None]
ANALYTES = sorted(vocab.analytes().entries)
MEASURED = sorted(n for n, a in vocab.analytes().entries.items() if not a.qualitative and a.units)


@lru_cache(maxsize=None)
def nct05378971():
    return load_trial("NCT05378971")


def eligible() -> dict:
    return json.loads(ELIGIBLE.read_text(encoding="utf-8"))


# Text that reaches the odd corners: controls, NUL, surrogate escapes, BOM, CR, wide characters.
any_text = st.text(st.characters(codec="utf-8"), max_size=300) | st.text(
    st.sampled_from(list("{}[]:,-#&*!|>'\"\\\t\r\n ?%@`~0123456789.eE+xX^/µμ×⁹⁻\ufeff\x00\x1b\x85\u2028")),
    max_size=200)


# --- criteria loader -------------------------------------------------------------------------------

@FAST
@given(any_text)
@example("a: [")
@example("notes: !!python/object/apply:os.system ['true']\n")
@example("&a [*a]")
@example("--- 1\n--- 2\n")
def test_compile_text_on_arbitrary_text(text):
    try:
        trial = compile_text(text, "<fuzz>")
    except TrialscreenError:
        return
    lint_trial(trial)


@SLOW
@given(st.binary(max_size=300))
def test_compile_file_on_arbitrary_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(data)
        try:
            trial = compile_file(path)
        except TrialscreenError:
            return
        lint_trial(trial)


# --- units ----------------------------------------------------------------------------------------

def check_unit(unit: Unit) -> None:
    assert isinstance(unit, Unit)
    assert math.isfinite(unit.scale) and unit.scale > 0, f"{unit!r} has scale {unit.scale}"


@FAST
@given(any_text, st.sampled_from(KLASSES))
@example("1e300g^2/L", "chemistry")
@example("/1e300g^2", "chemistry")
@example("g/1e200h/1e200h", "chemistry")
@example("10^99/L", "count")
def test_normalize_on_arbitrary_text(raw, klass):
    try:
        unit = normalize(raw, klass)
    except TrialscreenError:
        return
    check_unit(unit)


@FAST
@given(any_text, st.booleans())
def test_split_value_on_arbitrary_text(text, decimal_comma):
    try:
        censor, number, unit = split_value(text, decimal_comma)
    except ValueError:  # documented: "Raises ValueError for text that is not a number with an optional unit"
        return
    assert censor in (None, "<", "<=", ">", ">=")
    assert isinstance(number, float) and not math.isnan(number)
    assert isinstance(unit, str)


# Structured: "valid-looking" lab strings from number and unit fragments.
numbers = st.one_of(
    st.integers(0, 10**6).map(str),
    st.decimals(0, 10**5, places=3, allow_nan=False).map(str),
    st.sampled_from(["0", "0.0", ".5", "5.", "1e3", "1E-3", "1e308", "1e-320", "1e999", "-0", "+1", "007",
                     "1,5", "1.000,5", "1 000", "½", "١٢", "NaN", "inf", "-5"]),
)
censors = st.sampled_from(["", "", "", "<", ">", "<=", ">=", "≤", "≥", "< ", "<<", "=", "~"])
powers = st.sampled_from(["", "", "x10^9", "10^9", "10*9", "10E9", "10e3", "x 10^3", "×10⁹", "10⁹", "10**9",
                          "10^(9)", "10^-3", "10^+9", "x10^99", "10^999", "10^", "x", "10⁻³", "10^ 9"])
prefixes = st.sampled_from(["", "", "K", "k", "M", "m", "G", "T", "thou", "mil", "cells", "#", "1.73m2", "2"])
atoms = st.sampled_from(["g", "mg", "ug", "mcg", "ng", "pg", "kg", "lb", "mol", "mmol", "umol", "µmol", "nmol",
                         "mEq", "Eq", "L", "dL", "mL", "uL", "µL", "fL", "mm3", "mm^3", "cmm", "cc", "U", "IU",
                         "mU", "mIU", "kIU", "kat", "ukat", "%", "copies", "cells", "h", "24h", "d", "min",
                         "m", "cm", "in", "1.73m^2", "furlong", "K", "", "1", "2", "1e300", "1e300g^2", "g^9",
                         "0g", "-1g", "mg^-1"])
seps = st.sampled_from(["/", "/", " / ", "//", "*", " ", "", "."])
unit_text = st.builds(lambda p, q, parts: (p + q + "".join(parts)).strip(), powers, prefixes,
                      st.lists(st.builds(lambda s, a: s + a, seps, atoms), min_size=0, max_size=4))
lab_strings = st.builds(lambda c, n, sp, u: f"{c}{n}{sp}{u}", censors, numbers, st.sampled_from(["", " ", "  "]),
                        unit_text)


@FAST
@given(unit_text, st.sampled_from(KLASSES), st.sampled_from(MEASURED))
@example("1e300g^2/L", "chemistry", "creatinine")
@example("/1e300g^2", "chemistry", "creatinine")
def test_structured_units_normalise_and_convert(raw, klass, analyte):
    try:
        unit = normalize(raw, klass)
    except TrialscreenError:
        return
    check_unit(unit)
    a = vocab.analytes().get(analyte)
    try:
        f = convert.factor(unit, a.units[0], a)
    except TrialscreenError:
        return
    assert math.isfinite(f) and f > 0, f"{raw!r} -> {a.units[0]} for {analyte}: factor {f}"


@FAST
@given(st.sampled_from(ANALYTES), lab_strings, st.booleans())
@example("albumin", "0/1e300g^2", False)
def test_structured_lab_strings_in_a_patient(analyte, text, as_object):
    value = {"value": text, "date": "2025-05-28"} if as_object else text
    record = {"id": "FUZZ", "as_of": "2025-06-02", "labs": {analyte: value}}
    try:
        patient = patient_from_dict(record, "<fuzz>")
    except TrialscreenError:
        return
    screen(nct05378971(), patient, AS_OF)


# --- patient reader -------------------------------------------------------------------------------

@FAST
@given(any_text)
@example('{"id": "P", "age": 1' + "0" * 400 + "}")
@example('{"id": "P", "' + "\x00" + '": 1}')
def test_parse_patient_on_arbitrary_text(text):
    try:
        patient = parse_patient(text, "<fuzz>")
    except TrialscreenError:
        return
    screen(nct05378971(), patient, AS_OF)


@SLOW
@given(st.binary(max_size=400))
def test_patient_bytes(data):
    try:
        text = decode(data, "<fuzz>")
        patient = parse_patient(text, "<fuzz>")
    except TrialscreenError:
        return
    screen(nct05378971(), patient, AS_OF)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.integers(10**300, 10**400),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["", "yes", "no", "unknown", "2025-05-28", "2025-02-30", "1.4 mg/dL", "<10 %", "detected",
                     "not detected", "positive", "female", "1e999 mg/dL", "-1 g/L", "64 kg", "0 cm", "x10^9/L"]),
)
json_values = st.recursive(json_scalars, lambda sub: st.lists(sub, max_size=3) | st.dictionaries(
    st.sampled_from(["value", "unit", "uln", "lln", "date", "result", "percent", "present", "grade", "active",
                     "end", "start", "name", "type", "drugs", "major", "x"]), sub, max_size=4), max_leaves=8)


def paths_of(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths_of(v, prefix + (i,))


ELIGIBLE_PATHS = [p for p in paths_of(eligible()) if p]


@FAST
@given(st.lists(st.tuples(st.sampled_from(ELIGIBLE_PATHS), json_values), min_size=1, max_size=3))
@example([(("labs", "alt", "uln"), 10**400)])
@example([(("diagnoses", 0, "symptomatic"), [])])
def test_mutated_patient_records(mutations):
    """The eligible example with a few values replaced by arbitrary JSON."""
    record = eligible()
    for path, value in mutations:
        node = record
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(record)
    try:
        patient = parse_patient(text, "<fuzz>")
    except TrialscreenError:
        return
    screen(nct05378971(), patient, AS_OF)


# --- CSV batch reader -----------------------------------------------------------------------------

HEADER = ("id,sex,birth_date,ecog,as_of,creatinine,platelets [x10^9/L],alt,alt_uln,del(17p),"
          "attestation.informed_consent_signed,treatments,allergies,peripheral_neuropathy_grade")
cells = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=12),
    st.sampled_from(["", "NA", "1", "7", "-5", "NaN", "Infinity", "1e999", "9" * 400, "64", "female", "2025-02-30",
                     "1.4 mg/dL", "180", "<10 %", "detected", "yes", "[]", "[[[[", '[{"type": "asct"}]', '"',
                     '"a,b"', '""', "a;b", "\x00", "\x1b[2J", "1,5"]),
)


def batch(text: str | None = None, data: bytes | None = None, strict_output: bool = True):
    """Run a batch as the command line does; return (summary, output rows)."""
    trials = [nct05378971()]
    raw = io.BytesIO()
    # --out FILE is opened with encoding utf-8 (strict); stdout is usually the same.
    target = io.TextIOWrapper(raw, encoding="utf-8", newline="", errors="strict" if strict_output else "replace")
    writer = Writer(target, "csv", trials)
    if data is not None:
        stream = open_text(io.BytesIO(data))
    else:
        stream = io.StringIO(text, newline="")
    summary = run_batch(stream, "<fuzz>", trials, writer, as_of=AS_OF)
    target.flush()
    out = raw.getvalue().decode("utf-8")
    return summary, list(csv.DictReader(io.StringIO(out, newline="")))


def check_nothing_lost(summary, rows, expected_rows=None):
    assert summary.rows_out == summary.rows_in * 1
    assert len(rows) == summary.rows_out, "rows written != rows counted"
    if expected_rows is not None:
        assert summary.rows_in == expected_rows, "rows in != rows given"
    assert summary.error_rows == sum(1 for r in rows if r["verdict"] == "error")


@FAST
@given(any_text)
def test_run_batch_on_arbitrary_text(text):
    try:
        summary, rows = batch(text=text)
    except TrialscreenError:
        return
    check_nothing_lost(summary, rows)


@SLOW
@given(st.binary(max_size=400))
@example(b"\x80")
def test_run_batch_on_arbitrary_bytes(data):
    try:
        summary, rows = batch(data=HEADER.encode() + b"\n" + data)
    except TrialscreenError:
        return
    check_nothing_lost(summary, rows)


@FAST
@given(st.lists(st.lists(cells, min_size=14, max_size=14), min_size=1, max_size=8))
@example([["P1", "", "", "Infinity", "", "", "", "", "", "", "", "", "", ""], ["P2"] + [""] * 13])
def test_run_batch_structured_rows(table):
    """A real header and rows of odd cells: every row comes out, as a result or an error."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER.split(","))
    w.writerows(table)  # 14 cells each; a row of empty cells (",,,,", Excel's blank row) is skipped and counted
    summary, rows = batch(text=buf.getvalue())
    blank = sum(1 for row in table if not any(str(c).strip() for c in row))
    check_nothing_lost(summary, rows, expected_rows=len(table) - blank)
    assert summary.blank_rows == blank


# --- criteria from the language's own keys --------------------------------------------------------

thresholds = st.one_of(
    st.sampled_from(["177 umol/L", "75 x10^9/L", "3 x ULN", "ULN + 0.25 mmol/L", "LLN - 20 g/L", "1.5 mg/dL", "0",
                     "1e999 umol/L", "nan", ".nan", "inf umol/L", "-5 x10^9/L", "<3 mg/dL", "3 furlongs", "ULN",
                     "0 x ULN", "1e308 umol/L", "1e-320 umol/L"]),
    st.integers(-10, 10**6), st.floats(), st.booleans(), st.none(),
)
names = st.sampled_from(["creatinine", "alt", "anc", "platelets", "hbsag", "hbv_dna", "flc_ratio", "age", "ecog",
                         "sex", "del(17p)", "t(4;14)", "multiple_myeloma", "peripheral_neuropathy", "asct",
                         "induction", "any", "lenalidomide", "x", "", "ULN", "informed_consent_signed"])
durations = st.sampled_from(["28 days", "4 weeks", "3 months", "3 years", "0 days", "-1 days", "1e9 years",
                             "forever", "nan days", 3])
scalars = st.one_of(thresholds, names, durations, st.sampled_from(["0..3", "0..7", "3..0", "female", "male"]))


def node_strategy():
    leaf_keys = sorted(set(NODE_KEYS) - {"all", "any", "not"})
    extra = sorted(set().union(*NODE_KEYS.values()) | set(COMPARE) | {"any_of", "none_of", "min_percent"})

    def leaf(head, value, extras):
        return {head: value, **extras}

    extras = st.dictionaries(st.sampled_from(extra), st.one_of(scalars, st.lists(scalars, max_size=3),
                                                                st.dictionaries(st.sampled_from(extra), scalars,
                                                                                max_size=2)),
                             max_size=2)
    leaves = st.builds(leaf, st.sampled_from(leaf_keys),
                       st.one_of(names, st.lists(names, min_size=1, max_size=3),
                                 st.dictionaries(st.sampled_from(["any_of", "none_of", "min_percent", "except",
                                                                  "unless_tumor_free_for"]),
                                                 st.one_of(scalars, st.lists(names, max_size=3)), max_size=2)),
                       extras)
    return st.recursive(leaves, lambda sub: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(sub, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(sub, max_size=3)),
        st.builds(lambda x: {"not": x}, sub)), max_leaves=6)


rules = node_strategy()
criteria_docs = st.builds(
    lambda inc, exc, applies, defs, top: {
        "id": "NCT00000001", "title": "Fuzz", "source": "fuzz", "version": "1", **top,
        **({"definitions": defs} if defs else {}),
        "inclusion": [{"id": f"I{i + 1}", "text": "x", "rule": r, **({"applies_if": applies} if applies and i == 0
                                                                      else {})} for i, r in enumerate(inc)],
        "exclusion": [{"id": f"E{i + 1}", "text": "y", "rule": r} for i, r in enumerate(exc)],
    },
    st.lists(rules, min_size=1, max_size=3), st.lists(rules, max_size=2), st.none() | rules,
    st.dictionaries(st.sampled_from(["d_one", "d_two", "Bad Name"]), rules, max_size=2),
    st.dictionaries(st.sampled_from(["complete", "not_encoded", "phase", "notes", "population", "bogus"]),
                    st.one_of(st.booleans(), st.lists(st.text(max_size=5), max_size=2), st.text(max_size=5)),
                    max_size=2),
)


@FAST
@given(criteria_docs)
def test_structured_criteria(doc):
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        trial = compile_text(text, "<fuzz>")
    except TrialscreenError:
        return
    lint_trial(trial)
    for explain in (True, False):
        result = screen(trial, patient_from_dict(eligible(), "<fuzz>"), AS_OF, explain=explain)
        assert result.verdict in ("eligible", "needs_review", "ineligible")


# --- regressions: the smallest input of each crash found above -----------------------------------

def outcome(call, *args):
    try:
        call(*args)
    except TrialscreenError:
        return "refused"
    return "accepted"


def test_regression_normalize_huge_period_power_overflows():
    """normalize('/1e300g^2') raised OverflowError (scale /= 1e300 ** 2) instead of a UnitError."""
    assert outcome(normalize, "/1e300g^2", "chemistry") == "refused"
    assert outcome(normalize, "g/1e300g^2", "chemistry") == "refused"


def test_regression_normalize_scale_underflows_to_zero():
    """normalize('g/1e200h/1e200h') returned a unit of scale 0.0: any value in it converts to 0.
    Now it is refused (its numbers are out of any lab's range)."""
    with pytest.raises(TrialscreenError, match="out of any lab's range"):
        normalize("g/1e200h/1e200h", "chemistry")


def test_regression_patient_integer_too_large_for_a_float():
    """A 400-digit integer age raised OverflowError in math.isfinite (exit 70 on the command line)."""
    assert outcome(parse_patient, '{"id": "P", "age": 1' + "0" * 400 + "}", "<fuzz>") == "refused"


def test_regression_event_attribute_that_is_a_list():
    """{"symptomatic": []} in a diagnosis was read, then screening raised TypeError: unhashable
    type: 'list' (nodes.EventTest: _norm(have) in allowed)."""
    text = json.dumps({"id": "P", "diagnoses": [{"name": "multiple_myeloma", "symptomatic": []}]})
    with pytest.raises(TrialscreenError, match="must be a single value"):
        parse_patient(text, "<fuzz>")


def test_regression_event_attribute_that_is_an_object():
    record = eligible()
    record["treatments"].append({"type": "surgery", "date": "2025-05-20", "major": {"yes": True}})
    with pytest.raises(TrialscreenError, match="must be a single value"):
        patient_from_dict(record, "<fuzz>")


def test_regression_use_with_a_list():
    """{use: [creatinine]} raised TypeError: unhashable type: 'LList' in the compiler (exit 70)."""
    text = ('id: NCT00000001\ntitle: t\nsource: s\nversion: "1"\n'
            "inclusion:\n  - {id: I1, text: x, rule: {use: [creatinine]}}\n")
    assert outcome(compile_text, text, "<fuzz>") == "refused"


def test_regression_nan_field_threshold():
    """{field: age, ge: .nan} raised ValueError in logic.fmt (cannot convert float NaN to integer)."""
    text = ('id: NCT00000001\ntitle: t\nsource: s\nversion: "1"\n'
            "inclusion:\n  - {id: I1, text: x, rule: {field: age, ge: .nan}}\n")
    assert outcome(compile_text, text, "<fuzz>") == "refused"


def test_regression_infinite_lab_threshold_is_refused():
    """'1e999 umol/L' is read as an infinite threshold and accepted: creatinine < inf always holds."""
    text = ('id: NCT00000001\ntitle: t\nsource: s\nversion: "1"\n'
            "inclusion:\n  - {id: I1, text: x, rule: {lab: creatinine, lt: 1e999 umol/L}}\n")
    assert outcome(compile_text, text, "<fuzz>") == "refused"


def test_regression_batch_infinite_ecog_cell():
    """An ecog cell 'Infinity' raised OverflowError in int(ecog): the batch stopped, rows were lost."""
    summary, rows = batch(text="id,ecog\nP1,Infinity\nP2,1\n")
    check_nothing_lost(summary, rows, expected_rows=2)
    assert rows[0]["verdict"] == "error"


def test_regression_batch_non_utf8_id_into_a_utf8_output():
    """A cell with byte 0x80 in the id column: the error row echoes the id with a surrogate, and
    writing it to a UTF-8 output (--out FILE) raised UnicodeEncodeError; the batch stopped."""
    summary, rows = batch(data=b"id\n\x80\nP2\n")
    check_nothing_lost(summary, rows, expected_rows=2)


def test_regression_batch_deeply_nested_json_list_cell():
    """A treatments cell of 100,000 nested '[' raised RecursionError (only ValueError is caught)."""
    summary, rows = batch(text="id,treatments\nP1," + "[" * 100_000 + "]" * 100_000 + "\nP2,[]\n")
    check_nothing_lost(summary, rows, expected_rows=2)
    assert rows[0]["verdict"] == "error" and rows[1]["verdict"] != "error"
