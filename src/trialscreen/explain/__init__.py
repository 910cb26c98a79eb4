"""Explanations for people: a trial's logic as text, results as Markdown.

Plain text only; the terminal table with colours lives in the command line
package, which is the only place that imports rich.
"""
