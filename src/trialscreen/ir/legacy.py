"""TEMPORARY bridge while the rule families move to the data-only IR (issue 10): the helpers
the not-yet-converted node classes (with their own ``eval``) still call. Deleted with the
last of them."""

from __future__ import annotations

from trialscreen.evaluate import core
from trialscreen.evaluate.missing import NOTHING  # noqa: F401
from trialscreen.explain import words
from trialscreen.explain.words import show_value  # noqa: F401


def dated(ctx, when):
    return words.dated(ctx.as_of, when)


def future_words(ctx, what, when):
    return words.future_words(ctx.as_of, what, when)


def future_missing(ctx, path, what, when):
    return core.future_missing(ctx, path, what, when)


def contains(window, ctx, first, last, path=""):
    inside, miss, span = core.window_contains(window, ctx, first, last, path)
    return inside, miss, words.span_words(span)


def bounds(window, ctx):
    return core.window_bounds(window, ctx)


def still_open(window, ctx):
    return core.window_still_open(window, ctx)
