"""Read interphase FISH results written in ISCN notation ('nuc ish').

A myeloma FISH report often gives its result as an ISCN string rather than as named
findings::

    nuc ish(TP53x1,D17Z1x2)[45/200]                    TP53 lost in 45 of 200 nuclei: del(17p), 22.5 %
    nuc ish(CKS1Bx4,CDKN2Cx2)[80/200]                  amp(1q) in 40 %; del(1p) not detected
    nuc ish(FGFR3,IGH)x3(FGFR3 con IGHx2)[60/200]      two FGFR3-IGH fusions: t(4;14), 30 %
    nuc ish(IGHx3)(5'IGH sep 3'IGHx1)[30/200]          IGH break-apart split: IGH rearrangement
    nuc ish 17p13(TP53x1),17cen(D17Z1x2)[45/200]       the same with band prefixes (older ISCN)

Notation (ISCN 2016-2024; examples at cytogenetics.mlsascp.com/iscn-nomenclature.html):
'nuc ish' is interphase in situ hybridization; 'x' followed by a number is the signal count
per nucleus (x2 normal, x1 loss, x3 gain); a count after a parenthesis applies to every probe
inside it; 'con' (connected) is a fusion signal, as in nuc ish(ABL1,BCR)x3(ABL1 con BCRx2)
for a dual-fusion translocation; 'sep' (separated) is a split signal, the 5' and 3' halves of
a break-apart probe apart; square brackets give the nuclei: [n/total] n of total nuclei scored
show the pattern (percent = n / total * 100), [total] alone the nuclei scored (no percent is
read from it). Probes are separated by commas.

The notation is parsed in ``vocab/iscn_parse.py``; this module says what it means. What each
probe's count means for the vocabulary is in cytogenetics.yaml (``iscn_probes``).
Nothing is guessed:

- a probe not in that table, with a count other than 2 or in a con / sep relation, is an
  abnormality the vocabulary cannot place: ``unrecognised`` (rules reading cytogenetics
  cannot rule it out); with two signals it is ``ignored`` (and said so);
- a known probe whose pattern this reader has no rule for (fewer TP53 than control signals,
  an IGH count without a fusion or break-apart relation) leaves the findings it concerns
  ``unusable``: unknown, with the reason;
- a string this reader cannot parse completely raises :class:`IscnError` (the loader then
  treats the whole result as unrecognised: nothing from it is used);
- a finding no probe of the string tests is not mentioned at all (unknown, not 'not detected').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from trialscreen.vocab.iscn_parse import IscnError, is_iscn, parse


@dataclass(frozen=True)
class Probe:
    name: str          # the table's name (TP53 for P53)
    role: str
    finding: str | None = None


@dataclass
class Reading:
    """What one nuc ish string says, in vocabulary terms."""

    findings: dict = field(default_factory=dict)      # canonical -> True / False
    unusable: dict = field(default_factory=dict)      # canonical -> why it cannot be decided
    unrecognised: list = field(default_factory=list)  # abnormal signals no finding names
    ignored: list = field(default_factory=list)       # unknown probes with two signals
    percent: float | None = None                      # of the nuclei scored, from [n/total]
    nuclei: tuple = ()                                # (n, total) or (total,)

    def concerned(self) -> list:
        """Every finding the string says something about (decided or not)."""
        return list(dict.fromkeys([*self.findings, *self.unusable]))


@lru_cache(maxsize=None)
def probes() -> dict:
    """Upper-case probe name or alias -> Probe (cytogenetics.yaml, iscn_probes)."""
    from trialscreen import vocab

    table = vocab.load_file("cytogenetics.yaml").get("iscn_probes") or {}
    roles = {"tp53", "cen17", "ctrl17q", "cks1b", "cdkn2c", "chr13", "igh", "partner"}
    out = {}
    for name, raw in table.items():
        role = raw.get("role")
        finding = raw.get("finding")
        if role not in roles:
            raise ValueError(f"iscn probe {name}: unknown role {role!r}")
        if role == "partner" and vocab.findings().canonical(str(finding)) != finding:
            raise ValueError(f"iscn probe {name}: finding {finding!r} is not a canonical finding")
        for spelling in (name, *(raw.get("aliases") or [])):
            key = str(spelling).upper()
            if key in out:
                raise ValueError(f"iscn probe name {spelling!r} is given twice")
            out[key] = Probe(str(name), role, finding)
    return out


def read(text: str) -> list:
    """The Readings of an ISCN text: one per 'nuc ish' result (several may be joined by ';'
    or by line breaks). Raises IscnError when any part cannot be read completely."""
    parts = [p for p in re.split(r"[;\n]", str(text)) if p.strip()]
    if not parts:
        raise IscnError("the text is empty")
    out = []
    for part in parts:
        if not is_iscn(part):
            raise IscnError("a part of the text does not start with 'nuc ish'")
        out.append(read_one(part))
    return out


def read_one(text: str) -> Reading:
    counts, relations, nuclei = parse(text)
    reading = Reading(nuclei=nuclei)
    if len(nuclei) == 2:
        reading.percent = nuclei[0] * 100 / nuclei[1]      # exact where it can be (28/200: 14.0)
    _interpret(counts, relations, reading)
    if len(nuclei) == 2 and nuclei[0] < nuclei[1] and True not in reading.findings.values():
        # [n/total] after an abnormal pattern: the other nuclei are normal (ISCN). After a
        # pattern that is all normal ('TP53x2' in 20 of 200), the other 180 differ in a way the
        # report does not say: nothing is ruled out
        n, total = nuclei
        for finding, value in list(reading.findings.items()):
            if value is False:
                del reading.findings[finding]
                reading.unusable[finding] = (f"it is ruled out in {n} of {total} nuclei only; the "
                                             f"report does not describe the other {total - n}")
    _with_parents(reading)
    return reading


def _with_parents(reading: Reading) -> None:
    """A finding seen implies its parents in the same nuclei (t(4;14) is an IGH rearrangement,
    amp(1q) is 1q+), so the parents get the same percent; the loader's own ``implies`` step
    could not give them one."""
    from trialscreen import vocab

    parents = vocab.findings().parents
    out = _Out(reading)
    todo = [f for f, v in reading.findings.items() if v is True]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent is not None and reading.findings.get(parent) is not True \
                    and parent not in reading.unusable:
                out.set(parent, True)
                if reading.findings.get(parent) is True:
                    todo.append(parent)


# --- interpretation -------------------------------------------------------------------------

class _Out:
    """Collects the results of one string: a finding decided two ways, or decided and also
    undecidable, becomes unusable (the probes disagree: a person must judge)."""

    def __init__(self, reading: Reading):
        self.r = reading

    def set(self, finding: str, value: bool):
        if finding in self.r.unusable:
            return
        have = self.r.findings.get(finding)
        if have is not None and have != value:
            del self.r.findings[finding]
            self.r.unusable[finding] = "the probes of the nuc ish result disagree about it"
            return
        self.r.findings[finding] = value

    def cannot(self, finding: str, why: str):
        self.r.findings.pop(finding, None)
        self.r.unusable.setdefault(finding, why)

    def strange(self, what: str):
        if what not in self.r.unrecognised:
            self.r.unrecognised.append(what)


def _interpret(counts: dict, relations: list, reading: Reading) -> None:
    """What the probe counts and relations of one string say, as findings of ``reading``."""
    table = probes()
    out = _Out(reading)
    in_relation, fused = _read_relations(table, relations, out)
    by_role = _by_role(table, counts, in_relation, reading, out)
    _read_igh_counts(by_role, in_relation, fused, out)
    _read_17p(by_role, out)
    _read_1q21(by_role, out)
    _read_1p32(by_role, out)
    _read_13q(by_role, out)


def _known(table: dict, key: tuple):
    """The table's Probe for a probe key (("5'", "IGH") -> IGH); None for an unknown probe."""
    return table.get(key[1])


def _read_relations(table: dict, relations: list, out: _Out) -> tuple[set, set]:
    """Fusions (con) with IGH and break-apart splits (sep) of IGH: (probes in a relation, partners decided)."""
    in_relation = set()
    igh_split = igh_intact = None
    fused = set()           # partner probe names seen fused with IGH
    for a, op, b, n in relations:
        pa, pb = _known(table, a), _known(table, b)
        if pa is None or pb is None:
            for key, p in ((a, pa), (b, pb)):
                if p is None:
                    out.strange(f"nuc ish probe {''.join(key)}")
            continue
        in_relation.update({pa.name, pb.name})
        roles = {pa.role, pb.role}
        if roles == {"igh"} and {a[0], b[0]} == {"5'", "3'"}:
            if op == "sep":
                if n == 0:
                    out.cannot("IGH rearrangement", "a break-apart split in no signal (sep x0) cannot be read")
                else:
                    igh_split = True
            else:
                igh_intact = n
            continue
        if roles == {"igh", "partner"} and a[0] == b[0] == "":
            partner = pa if pa.role == "partner" else pb
            if op == "con":
                if n == 0:
                    out.cannot(partner.finding, "a fusion in no signal (con x0) cannot be read")
                else:
                    out.set(partner.finding, True)
                    fused.add(partner.name)
            elif n == 2:
                out.set(partner.finding, False)     # two separate signals of each: no fusion
                fused.add(partner.name)              # decided: not read again from the counts
            else:
                out.cannot(partner.finding, f"a {partner.name}-IGH pattern this reader has no rule for")
            continue
        out.strange(f"nuc ish {''.join(a)} {op} {''.join(b)}")
    if igh_split:
        out.set("IGH rearrangement", True)
    elif igh_intact is not None:
        if igh_intact == 2:
            out.set("IGH rearrangement", False)      # both IGH copies intact (fused halves)
        else:
            out.cannot("IGH rearrangement", "an IGH break-apart pattern this reader has no rule for")
    return in_relation, fused


def _by_role(table: dict, counts: dict, in_relation: set, reading: Reading, out: _Out) -> dict:
    """The counted known probes by role, [(Probe, count)]; unknown probes are ignored or unrecognised."""
    by_role: dict = {}
    for key, n in counts.items():
        p = _known(table, key)
        if p is None:
            label = "".join(key)
            if n == 2:
                reading.ignored.append(label)
            else:
                out.strange(f"nuc ish probe {label}")
            continue
        if key[0]:          # a 5' or 3' half: read only through con / sep
            if p.name not in in_relation:
                out.cannot("IGH rearrangement", "IGH halves are counted without a con or sep relation")
            continue
        by_role.setdefault(p.role, []).append((p, n))
    return by_role


def _read_igh_counts(by_role: dict, in_relation: set, fused: set, out: _Out) -> None:
    """IGH and its partners, counted without a relation between them."""
    igh = [n for p, n in by_role.get("igh", [])]
    igh_n = igh[0] if igh else None
    partners = by_role.get("partner", [])
    for p, n in partners:
        if p.name in fused:
            continue
        if igh_n is None and "IGH" not in in_relation:
            out.cannot(p.finding, f"{p.name} is counted without IGH")
        elif n == 2 and (igh_n == 2 or fused):
            out.set(p.finding, False)     # dual-fusion probe, no con: the signals are apart
        else:
            out.cannot(p.finding, f"a {p.name}/IGH signal count without a fusion this reader has no rule for")
    if igh_n is not None and not partners and "IGH" not in in_relation:
        out.cannot("IGH rearrangement", "an IGH count alone does not say whether IGH is rearranged")


def _read_17p(by_role: dict, out: _Out) -> None:
    """17p: TP53 against its controls (the chromosome 17 centromere, 17q)."""
    tp53 = [n for p, n in by_role.get("tp53", [])]
    cen = [n for p, n in by_role.get("cen17", [])]
    q17 = [n for p, n in by_role.get("ctrl17q", [])]
    t = min(tp53) if tp53 else None
    if t is not None:
        if t <= 1:
            out.set("del(17p)", True)
            if cen and min(cen) == 1 and max(cen) == 1:
                out.set("monosomy 17", True)
            elif cen and min(cen) >= 2:
                out.set("monosomy 17", False)
        elif any(c > t for c in cen + q17):
            out.cannot("del(17p)", "fewer TP53 than control signals (a relative loss): a person must judge")
        else:
            out.set("del(17p)", False)
            if cen and min(cen) >= 2:
                out.set("monosomy 17", False)
        if t >= 3:
            out.strange("nuc ish TP53 gain")
    for c in cen:
        if c != 2 and not (c == 1 and t is not None and t <= 1):
            out.strange("nuc ish D17Z1 (chromosome 17 centromere) count")
    for c in q17:
        if c != 2:
            out.strange("nuc ish NF1 (17q) count")


def _read_1q21(by_role: dict, out: _Out) -> None:
    """1q21: CKS1B gain or amplification."""
    for p, n in by_role.get("cks1b", []):
        if n == 3:
            out.set("gain(1q)", True)
        elif n >= 4:
            out.set("amp(1q)", True)
        else:
            out.set("1q+", False)
            if n < 2:
                out.strange(f"nuc ish {p.name} loss")


def _read_1p32(by_role: dict, out: _Out) -> None:
    """1p32: CDKN2C loss, on one copy or both."""
    cdkn2c = [n for p, n in by_role.get("cdkn2c", [])]
    if cdkn2c:
        low = min(cdkn2c)
        if low == 0:
            out.set("biallelic del(1p32)", True)
            out.set("del(1p)", True)
        elif low == 1:
            out.set("del(1p)", True)
            out.set("biallelic del(1p32)", False)
        elif low == 2:
            out.set("del(1p)", False)
        if max(cdkn2c) >= 3:
            out.strange("nuc ish CDKN2C gain")


def _read_13q(by_role: dict, out: _Out) -> None:
    """13q: loss of a chromosome 13 probe."""
    chr13 = [n for p, n in by_role.get("chr13", [])]
    if chr13:
        if min(chr13) <= 1:
            out.set("del(13q)", True)
        elif all(n == 2 for n in chr13):
            out.set("del(13q)", False)
        if max(chr13) >= 3:
            out.strange("nuc ish 13q probe gain")
