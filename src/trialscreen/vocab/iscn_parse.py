"""The syntax of an ISCN interphase FISH result ('nuc ish'): the probes, their signal counts,
the con / sep relations between probes and the nuclei scored, as written. What they mean for
the vocabulary is read in ``vocab/iscn.py`` (whose docstring describes the notation).
"""

from __future__ import annotations

import re

_START = re.compile(r"^\s*nuc\s*ish\b", re.I)
_CHARS = str.maketrans({"\u2019": "'", "\u2032": "'", "\u00d7": "x"})
_CELLS = re.compile(r"\[\s*(\d{1,7})\s*(?:/\s*(\d{1,7})\s*)?\]\s*\.?\s*$")
_ARM = r"(?:cen|[pq](?:\d{1,2}(?:\.\d{1,3})?)?)"
_BAND = rf"(?:\d{{1,2}}|[XY]){_ARM}(?:[~\-](?:\d{{1,2}}|[XY])?{_ARM})?"
_GROUP = re.compile(rf"\s*,?\s*(?P<band>{_BAND})?\s*\((?P<inner>[^()\[\]]*)\)\s*(?:x\s*(?P<n>\d{{1,2}}))?", re.I)
_PROBE = r"(?:[35]')?[A-Z][A-Z0-9@]*?"
_ITEM = re.compile(rf"^(?P<p>{_PROBE})(?:\s*x\s*(?P<n>\d{{1,2}}))?$", re.I)
_RELATION = re.compile(rf"^(?P<a>{_PROBE})\s+(?P<op>con|sep)\s+(?P<b>{_PROBE})(?:\s*x\s*(?P<n>\d{{1,2}}))?$", re.I)


class IscnError(ValueError):
    """The string cannot be read completely; the message says where it stops."""


def is_iscn(text) -> bool:
    """Whether ``text`` is an ISCN interphase FISH result ('nuc ish...')."""
    return isinstance(text, str) and _START.match(text) is not None


def _probe_key(written: str) -> tuple:
    """("5'", "IGH") for 5'IGH; ("", "TP53") for TP53."""
    written = written.upper()
    if written[:2] in ("5'", "3'"):
        return written[:2], written[2:]
    return "", written


def parse(text: str):
    """The probe counts, the con / sep relations and the nuclei of one 'nuc ish' string."""
    s = re.sub(r"\s+", " ", text.translate(_CHARS)).strip()
    start = _START.match(s)
    if start is None:
        raise IscnError("the text does not start with 'nuc ish'")
    body = s[start.end():]
    nuclei: tuple = ()
    m = _CELLS.search(body)
    if m:
        scored = int(m.group(1))
        if m.group(2) is None:
            nuclei = (scored,)
            if scored == 0:
                raise IscnError("no nuclei scored ([0])")
        else:
            total = int(m.group(2))
            if not 0 < scored <= total:
                raise IscnError("the nuclei [n/total] are not a part of those scored")
            nuclei = (scored, total)
        body = body[:m.start()]
    elif "[" in body or "]" in body:
        raise IscnError("the nuclei in square brackets cannot be read")
    counts: dict = {}
    relations: list = []
    pos, body = 0, body.rstrip()
    if not body.strip():
        raise IscnError("no probe is given")
    while pos < len(body):
        g = _GROUP.match(body, pos)
        if not g or g.end() == pos:
            raise IscnError(f"cannot read it from character {len(s) - len(body) + pos + 1} on")
        pos = g.end()
        shared = int(g.group("n")) if g.group("n") is not None else None
        pieces = [p.strip() for p in g.group("inner").split(",")]
        if g.group("band") and len(pieces) != 1:
            raise IscnError("a band is followed by more than one probe")
        for piece in pieces:
            rel = _RELATION.match(piece)
            if rel:
                if rel.group("n") is not None and shared is not None:
                    raise IscnError("a con / sep relation has two signal counts")
                n = int(rel.group("n")) if rel.group("n") is not None else shared
                relations.append((_probe_key(rel.group("a")), rel.group("op").lower(),
                                  _probe_key(rel.group("b")), n))
                continue
            item = _ITEM.match(piece)
            if not item:
                raise IscnError("a probe is not written as a name and a signal count (such as TP53x1)")
            if item.group("n") is not None and shared is not None:
                raise IscnError(f"probe {item.group('p')} has two signal counts")
            n = int(item.group("n")) if item.group("n") is not None else shared
            if n is None:
                raise IscnError(f"probe {item.group('p')} has no signal count")
            key = _probe_key(item.group("p"))
            if counts.get(key, n) != n:
                raise IscnError(f"two different counts for {''.join(key)}")
            counts[key] = n
    return counts, relations, nuclei
