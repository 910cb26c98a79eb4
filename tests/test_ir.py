"""The compiled rule tree is plain data: every node of every bundled trial is frozen,
hashable and comparable, declares what it reads, and has one evaluator and one describer."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from trialscreen.criteria.compile import compile_file
from trialscreen.criteria.library import bundled_trials, load_trial, shared_definitions
from trialscreen.evaluate.core import EVALUATORS
from trialscreen.evaluate.screen import screen  # noqa: F401  (registers every family)
from trialscreen.explain.describe import DESCRIBERS
from trialscreen.ir import All, Any, Node, Not, Reference, walk

TRIALS = bundled_trials()


def _nodes(trial):
    return (n for c in trial.criteria for r in (c.rule, c.applies_if) if r is not None for n in walk(r))


def test_every_bundled_trial_is_checked():
    assert len(TRIALS) >= 5


@pytest.mark.parametrize("path", TRIALS, ids=lambda p: p.stem)
def test_nodes_are_frozen_data_with_an_evaluator_and_a_describer(path):
    trial = load_trial(str(path))
    kinds = set()
    for node in _nodes(trial):
        kinds.add(type(node))
        assert isinstance(node, Node)
        assert type(node) in EVALUATORS, type(node).__name__
        assert type(node) in DESCRIBERS or isinstance(node, (All, Any, Not, Reference)), type(node).__name__
        hash(node)
        fields = dataclasses.fields(node)
        if fields:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(node, fields[0].name, None)
        reads = node.reads()
        assert isinstance(reads, frozenset) and all(isinstance(r, str) and r for r in reads)
        if not node.children():
            assert reads, f"{type(node).__name__} reads nothing"
    assert kinds


@pytest.mark.parametrize("path", TRIALS, ids=lambda p: p.stem)
def test_compiling_twice_gives_equal_trees(path):
    """Two compilations (and a pickled round trip, as the cache stores them) are equal
    node for node: a runner can use rules as dictionary keys."""
    one = compile_file(path, shared_definitions())
    two = compile_file(path, shared_definitions())
    for a, b in zip(one.criteria, two.criteria, strict=True):
        assert a.rule == b.rule and hash(a.rule) == hash(b.rule)
        assert pickle.loads(pickle.dumps(a.rule)) == a.rule
