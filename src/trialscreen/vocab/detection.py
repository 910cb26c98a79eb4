"""How laboratories write a quantitative result that is below detection.

A viral load or an M-protein written as words ("not detected", "target not
detected", "<LoD", "undetectable") is not a refusal of the record: it is a bound
below the assay's detection limit. When the limit is written beside the words
("not detected (<20 IU/mL)", "<LoD 15 IU/mL") that limit is the bound; otherwise
the analyte vocabulary's ``detection_limit`` is (see analytes.yaml).
"""

from __future__ import annotations

import re

# Phrases (lower case, spaces folded) meaning "below the detection limit".
PHRASES = (
    "not detected", "not detectable", "non detected", "none detected", "undetected",
    "undetectable", "target not detected", "tnd", "negative", "neg", "below detection",
    "below detection limit", "below the detection limit", "below limit of detection",
    "below the limit of detection", "bdl", "<lod", "< lod", "lod", "less than lod",
    "not detected <lod", "no dna detected", "no rna detected", "hbv dna not detected",
    "hcv rna not detected", "absent",
)
_WORDS = "|".join(sorted((re.escape(p) for p in PHRASES), key=len, reverse=True))
_PATTERN = re.compile(r"^(?:" + _WORDS + r")\s*[,:;]?\s*(?:\(?\s*(?P<bound>(?:<|≤|<=)\s*[0-9][^)]*?)\s*\)?)?$")


def below_detection(text: str) -> str | None:
    """None when ``text`` is not a below-detection phrase; otherwise the bound written
    with it ('<20 IU/mL', normalised to start with '<') or '' when none is written."""
    folded = re.sub(r"\s+", " ", str(text).strip())
    m = _PATTERN.match(folded.lower())
    if not m:
        return None
    bound = folded[m.start("bound"):m.end("bound")] if m.group("bound") else ""
    if not bound:
        return ""
    if bound.startswith(("<=", "≤")):
        return "<=" + bound.lstrip("<≤=").strip()
    return "<" + bound.lstrip("<").strip()
