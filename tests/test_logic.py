"""Kleene truth tables and exact comparison boundaries."""

import math

import pytest

from trialscreen.semantics.logic import Interval, cmp, holds, holds_range, k_and, k_not, k_or

T, F, U = True, False, None
VALUES = [T, F, U]

AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F, (U, T): U, (U, F): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U, (U, T): T, (U, F): U, (U, U): U}


@pytest.mark.parametrize("a,b", list(AND), ids=[f"{a}-and-{b}" for a, b in AND])
def test_and_truth_table(a, b):
    assert k_and([a, b]) is AND[(a, b)]


@pytest.mark.parametrize("a,b", list(OR), ids=[f"{a}-or-{b}" for a, b in OR])
def test_or_truth_table(a, b):
    assert k_or([a, b]) is OR[(a, b)]


@pytest.mark.parametrize("a,expected", [(T, F), (F, T), (U, U)])
def test_not_truth_table(a, expected):
    assert k_not(a) is expected


def test_empty_and_or():
    assert k_and([]) is True
    assert k_or([]) is False


EXACT = [
    # op, value, threshold, expected
    ("<", 176.99, 177, T), ("<", 177, 177, F), ("<", 177.01, 177, F),
    ("<=", 35, 35, T), ("<=", 35.0000001, 35, F), ("<=", 34.9, 35, T),
    (">", 75.00000000000001, 75, F), (">", 75.0001, 75, T), (">", 74.9, 75, F),
    (">=", 1.5, 1.5, T), (">=", 1.4999, 1.5, F),
    ("==", 0, 0, T), ("==", 0.1, 0, F), ("!=", 3, 3, F), ("!=", 2, 3, T),
]


@pytest.mark.parametrize("op,value,threshold,expected", EXACT,
                         ids=[f"{v}{op}{t}" for op, v, t, _ in EXACT])
def test_exact_boundaries(op, value, threshold, expected):
    assert holds(op, Interval.of(value), threshold) is expected


CENSORED = [
    ("<", 10, "<", 60, T), ("<", 10, ">", 5, U), ("<", 10, "<", 10, T), ("<", 10, "<=", 10, T),
    ("<", 10, ">=", 10, F), ("<=", 10, "<", 10, U), ("<=", 10, ">", 10, F),
    (">", 1000, ">", 200, T), (">", 1000, ">", 1000, T), (">", 1000, "<", 5000, U),
    (">=", 1000, ">", 1000, U), (">=", 1000, ">=", 1000, T), (">", 1000, "<=", 1000, F),
]


@pytest.mark.parametrize("censor,value,op,threshold,expected", CENSORED,
                         ids=[f"{c}{v}-{op}{t}" for c, v, op, t, _ in CENSORED])
def test_censored_values_decide_only_when_the_bound_decides(censor, value, op, threshold, expected):
    assert holds(op, Interval.of(value, censor), threshold) is expected


@pytest.mark.parametrize("value,expected", [(0.25, T), (0.26, F), (1.0, F), (1.65, F), (1.66, T)])
def test_outside_range_is_strict(value, expected):
    assert holds_range("outside", Interval.of(value), 0.26, 1.65) is expected


@pytest.mark.parametrize("value,expected", [(0.99, F), (1, T), (2, T), (3, T), (3.01, F)])
def test_between_is_inclusive(value, expected):
    assert holds_range("between", Interval.of(value), 1, 3) is expected


def test_relative_tolerance_only():
    assert cmp(1e-12, 0) == 1
    assert cmp(math.inf, 1e300) == 1
    assert cmp(100.0, 100.0 + 1e-8) == 0
