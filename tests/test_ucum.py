"""UCUM codes (OMOP unit concepts, FHIR Quantity codes) read through the project's unit grammar."""

import pytest

from trialscreen.errors import UnitError
from trialscreen.units.normalize import normalize
from trialscreen.units.ucum import from_ucum


@pytest.mark.parametrize("code, klass, unit", [
    ("10*3/uL", "count", "x10^3/uL"),
    ("K/uL", "count", "x10^3/uL"),              # thousands per microlitre, never kelvin
    ("10*9/L", "count", "x10^9/L"),
    ("[iU]/mL", "chemistry", "IU/mL"),
    ("[IU]/L", "chemistry", "IU/L"),
    ("{copies}/mL", "chemistry", "copies/mL"),
    ("mg/(24.h)", "chemistry", "mg/24h"),
    ("mL/min/(173.10*-2.m2)", "chemistry", "mL/min/1.73m2"),
    ("mL/min/{1.73_m2}", "chemistry", "mL/min/1.73m2"),
    ("10*-3.eq/L", "chemistry", "mEq/L"),
    ("mg/dL", "chemistry", "mg/dL"),
    ("umol/L", "chemistry", "umol/L"),
])
def test_a_ucum_code_is_read_as_its_unit(code, klass, unit):
    assert str(normalize(from_ucum(code), klass)) == str(normalize(unit, klass))


@pytest.mark.parametrize("code, written", [("10*9/L", "x10^9/L"), ("10*3/uL", "x10^3/uL"), ("10*12/L", "x10^12/L"),
                                           ("10*-3.eq/L", "mEq/L"), ("/[HPF]", "/[HPF]")])
def test_a_ucum_code_is_shown_as_a_laboratory_writes_it(code, written):
    assert from_ucum(code) == written


@pytest.mark.parametrize("code", ["{score}", "{ratio}", "mg.dL", "[arb'U]"])
def test_ucum_syntax_the_grammar_does_not_read_is_refused(code):
    with pytest.raises(UnitError):
        normalize(from_ucum(code), "chemistry")
