"""The ``implies`` hierarchy of a vocabulary (sbrt implies radiotherapy; a finding implies its
parents): the entries under some names and the broader entries above them. Read as
``vocab.with_descendants``, ``vocab.broader`` and ``vocab.kinds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from trialscreen.vocab import Vocabulary


def with_descendants(vocabulary: Vocabulary, names) -> list:
    """``names`` and every entry whose ``implies`` chain reaches one of them (sbrt implies
    radiotherapy, so a rule naming radiotherapy also matches sbrt)."""
    wanted = list(dict.fromkeys(names))
    parents = vocabulary.parents
    changed = True
    while changed:
        changed = False
        for child, ps in parents.items():
            if child not in wanted and any(p in wanted for p in ps):
                wanted.append(child)
                changed = True
    return wanted


def broader(vocabulary: Vocabulary, names) -> list:
    """The entries some of ``names`` are kinds of, but that are not themselves in ``names``:
    an item recorded only as one of these (a bare 'antineoplastic therapy') might be one of
    ``names`` or might not."""
    wanted = set(names)
    out: list = []
    todo = list(wanted)
    while todo:
        for parent in vocabulary.parents.get(todo.pop(), ()):
            if parent is not None and parent not in wanted and parent not in out:
                out.append(parent)
                todo.append(parent)
    return out


def kinds(vocabulary: Vocabulary, names) -> tuple[list, list]:
    """(``names`` with every kind of them, the broader entries an item might be one of them
    under): what a rule naming ``names`` matches for sure, and what leaves it unknown."""
    covered = with_descendants(vocabulary, names)
    return covered, broader(vocabulary, covered)
