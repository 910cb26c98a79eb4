"""Explanations for people: a trial's logic as text.

Plain text only; results as Markdown, JSON and batch rows are in ``trialscreen.render``,
and the terminal table with colours lives in the command line package, which is the
only place that imports rich.
"""
