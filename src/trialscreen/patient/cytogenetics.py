"""The cytogenetics section of a patient record: findings by name, or ISCN 'nuc ish' results.

Each entry names a finding (any spelling of the vocabulary) with its result, or is an ISCN
string read by trialscreen.vocab.iscn. The vocabulary's ``implies`` links are applied after:
a detected finding implies its parents, a parent not detected rules out its children.
"""

from __future__ import annotations

from trialscreen import vocab
from trialscreen.patient.model import FindingResult
from trialscreen.patient.reader import Reader, known_names
from trialscreen.vocab import iscn


def _finding_present(raw) -> bool | None:
    """Whether an entry of 'cytogenetics' reports its finding detected (None: cannot tell)."""
    value = raw.get("result") if isinstance(raw, dict) else raw
    try:
        return vocab.qualitative(value)
    except (ValueError, TypeError):
        return None


def read_cytogenetics(r: Reader, data: dict) -> dict:
    """Each entry names a finding (a vocabulary spelling) with its result, or is an ISCN
    interphase FISH result ('nuc ish...', as the key or as the value of any key such as
    "fish"), read by trialscreen.vocab.iscn."""
    out: dict[str, FindingResult] = {}
    keys: dict[str, str] = {}      # raw_name of a result -> the record's key it came from (for located errors)
    mixed: set[str] = set()  # findings whose percentages disagree between two results (then unknown)
    reports = {k: v for k, v in data.items() if _iscn_text(k, v) is not None}
    named = {k: v for k, v in data.items() if k not in reports}
    for name, canonical, raw, path in known_names(r, named, "cytogenetics", vocab.findings(), _finding_present):
        keys[name] = name
        value, percent, when = _result_fields(r, raw, path)
        if isinstance(value, (dict, list)):
            raise r.fail(path, f"is not a result for {canonical}", hint="use " + vocab.QUALITATIVE_WORDS)
        problem = ""
        try:
            detected = vocab.qualitative(value)
        except ValueError:
            detected, problem = None, f"the result for {canonical} cannot be read"
            r.unusable(r.where(path), problem, "use " + vocab.QUALITATIVE_WORDS)
        previous = out.get(canonical)
        if previous is not None and (previous.detected, previous.percent) != (detected, percent):
            raise r.fail(path, f"'{name}' and '{previous.raw_name}' both report {canonical} "
                         "with different results", hint="keep the one that applies")
        out[canonical] = FindingResult(canonical, detected, percent, name, when, problem)
    for name, raw in reports.items():
        _iscn_entry(r, name, raw, out, keys, mixed)
    return _implied(r, out, keys)


def _result_fields(r: Reader, raw, path: tuple) -> tuple:
    """(result, percent, date) of a cytogenetics entry: a bare result, or an object with
    result, percent, date and method."""
    if not isinstance(raw, dict):
        return raw, None, None
    for key in raw:
        if key not in ("result", "percent", "date", "method"):
            raise r.fail(path + (key,), f"unknown key '{key}' in a cytogenetic result",
                         hint="use result, percent, date and method")
    percent = r.number(raw["percent"], path + ("percent",), 0, 100) if raw.get("percent") is not None else None
    return raw.get("result"), percent, r.opt_date(raw, "date", path)


_ISCN_HINT = ("check the FISH report; where the lab states the finding, give it by name "
              "(\"del(17p)\": {\"result\": \"detected\", \"percent\": 22.5})")


def _iscn_text(name, raw) -> str | None:
    """The ISCN text of a cytogenetics entry ('nuc ish...' as its key or its value), or None."""
    if iscn.is_iscn(name):
        return name
    value = raw.get("result") if isinstance(raw, dict) else raw
    return value if iscn.is_iscn(value) else None


def _iscn_entry(r: Reader, name: str, raw, out: dict, keys: dict, mixed: set) -> None:
    """Read one ISCN entry into ``out``. A string that cannot be read completely, or an
    abnormal signal no finding names, is an unrecognised finding detected (rules reading
    cytogenetics cannot rule it out); a pattern of a known probe this reader has no rule for
    leaves the findings it concerns unknown, with the reason."""
    path = ("cytogenetics", name)
    text = _iscn_text(name, raw)
    in_key = text == name
    value, percent, when = _result_fields(r, raw, path)
    undecided = ""
    if in_key and not (isinstance(raw, dict) and value is None):
        try:
            state = vocab.qualitative(value) if not isinstance(value, (dict, list)) else None
        except ValueError:
            state = None
        if state is not True:  # the text is the result; 'not detected' or 'failed' beside it is not clear
            undecided = "the value beside the nuc ish result is not 'detected'"
    label = name if in_key else f"{name} (nuc ish)"
    assert text is not None   # the caller passes ISCN entries only
    try:
        readings = iscn.read(text)
    except iscn.IscnError as exc:
        r.unrecognised.setdefault("cytogenetics", []).append(label)
        r.warn(path, f"unrecognised cytogenetic finding '{label}' detected: the nuc ish result cannot be "
               f"read ({exc}), so criteria about cytogenetics cannot rule out what it reports and a person "
               "must judge them", _ISCN_HINT)
        return
    if percent is not None and (len(readings) > 1 or (readings[0].percent is not None
                                                       and abs(readings[0].percent - percent) > 1e-9)):
        raise r.fail(path + ("percent",), "differs from the nuclei [n/total] of the nuc ish result",
                     hint="leave percent out: it is read from [n/total]")
    keys[text] = name
    for reading in readings:
        share = reading.percent if reading.percent is not None else percent
        if undecided:
            kept = [_merge(r, out, keys, mixed, path, FindingResult(finding, None, None, text, when, undecided))
                    for finding in reading.concerned()]
            if any(kept):
                r.unusable(r.where(path), undecided, "write 'detected', or an object with date and method")
        else:
            for finding, detected in reading.findings.items():
                _merge(r, out, keys, mixed, path,
                       FindingResult(finding, detected, share if detected else None, text, when))
            for finding, why in reading.unusable.items():
                if _merge(r, out, keys, mixed, path, FindingResult(finding, None, None, text, when, why)):
                    r.unusable(r.where(path), f"{finding} cannot be read from the nuc ish result: {why}", _ISCN_HINT)
        for what in reading.unrecognised:
            r.unrecognised.setdefault("cytogenetics", []).append(what)
            r.warn(path, f"unrecognised cytogenetic finding '{what}' detected: criteria about cytogenetics "
                   "cannot rule it out, so a person must judge them", _ISCN_HINT)
        for probe in reading.ignored:
            r.warn(path, f"probe '{probe}' of the nuc ish result is not one trialscreen reads; its two "
                   "signals (the normal count) are ignored", "see iscn_probes in vocab/cytogenetics.yaml")


def _merge(r: Reader, out: dict, keys: dict, mixed: set, path: tuple, res: FindingResult) -> bool:
    """Add a result read from ISCN; False when an earlier result decides the finding instead.
    A clear result stands over an undecided one; two clear results that disagree refuse the
    record. Percentages: one given fills in one not given; two that differ (a break-apart and
    a fusion probe count their own nuclei) leave the finding detected, its percentage unknown."""
    prev = out.get(res.finding)
    if prev is None or (prev.detected is None and res.detected is not None):
        out[res.finding] = res
        return True
    if res.detected is None:
        return False
    if prev.detected != res.detected:
        other = keys.get(prev.raw_name, prev.raw_name)
        raise r.fail(path, f"'{path[-1]}' and '{other}' both report {res.finding} with different results",
                     hint="keep the one that applies")
    if res.finding in mixed or res.percent is None:
        return True
    if prev.percent is None:
        out[res.finding] = res
    elif abs(prev.percent - res.percent) > 1e-9:
        mixed.add(res.finding)
        out[res.finding] = FindingResult(res.finding, True, None, prev.raw_name, prev.date)
        r.unusable(r.where(path), f"the percentage of cells with {res.finding} differs between two "
                   "results", "give the percentage that applies under the finding's name")
    return True


def _implied(r: Reader, out: dict, keys: dict | None = None) -> dict:
    """Apply the vocabulary's ``implies`` links, along whole chains: a detected finding
    implies its parents (amp(1q) -> 1q+, monosomy 17 -> del(17p)); a parent not detected rules
    out its children (IGH rearrangement not detected -> no t(4;14)). A parent detected says
    nothing of its children: they stay as reported (absent: unknown)."""
    parents = vocab.findings().parents
    keys = keys or {}
    changed = True
    while changed:
        changed = False
        for child, res in list(out.items()):
            if res.detected is not True:
                continue
            for parent in parents.get(child, ()):
                have = out.get(parent)
                if have is not None and have.detected is False:
                    raise r.fail(("cytogenetics", keys.get(res.raw_name, res.raw_name)),
                                 f"{child} is detected but {parent} is reported not detected",
                                 hint="these results contradict each other; check the report")
                if have is None:
                    out[parent] = FindingResult(parent, True, None, f"implied by {res.raw_name}", res.date)
                    changed = True
        for parent, res in list(out.items()):
            if res.detected is not False:
                continue
            for child, ps in parents.items():
                if parent in ps and child not in out:
                    out[child] = FindingResult(child, False, None, f"implied by {res.raw_name} not detected",
                                               res.date)  # as old (or as far in the future) as its source
                    changed = True
    return out
