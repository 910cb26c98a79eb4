"""Compile a criteria file into a :class:`Trial` of node trees.

The whole file is validated before any patient is screened: unknown keys,
unknown analytes, findings, conditions and diagnoses (with "did you mean"),
units that do not parse, thresholds whose unit cannot convert to the
analyte's, duplicate ids. Every problem is collected with file:line:column and
reported together. The format is documented in criteria/README.md.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from trialscreen import vocab
from trialscreen.criteria.keys import (
    CRITERION_ID,
    CRITERION_KEYS,
    NODE_KEYS,
    STATUSES,
    TRIAL_KEYS,
    close_word,
)
from trialscreen.criteria.rules_events import EventRules
from trialscreen.criteria.rules_fields import FieldRules
from trialscreen.criteria.rules_labs import LabRules
from trialscreen.criteria.yamlsrc import LList, LMap, load_yaml
from trialscreen.errors import CriteriaError, FileReadError, Location, Problem
from trialscreen.evaluate.screen import Criterion, Trial
from trialscreen.ir import (
    All,
    Any,
    Not,
    Reference,
    Window,
)
from trialscreen.semantics.timewin import parse_duration


class _Compiler(LabRules, FieldRules, EventRules):
    def __init__(self, file: str, shared: dict | None = None):
        self.file = file
        self.problems: list[Problem] = []
        self.definitions: dict = {}
        self.shared = shared or {}

    # --- reporting -----------------------------------------------------------------------
    def error(self, pos, message: str, hint: str = ""):
        self.problems.append(Problem(Location(self.file, pos[0], pos[1]), message, hint))

    def warn(self, pos, message: str, hint: str = ""):
        self.problems.append(Problem(Location(self.file, pos[0], pos[1]), message, hint, "warning"))

    def unknown_keys(self, obj: LMap, allowed: set, what: str):
        for key in obj:
            if key not in allowed:
                close = close_word(str(key), allowed)
                self.error(obj.where_key(key), f"unknown key '{key}' in {what}",
                           f"did you mean '{close}'?" if close else "allowed: " + ", ".join(sorted(allowed)))

    # --- trial ----------------------------------------------------------------------------
    def trial(self, data, text: str) -> Trial | None:
        if not isinstance(data, LMap):
            self.error((1, 1), "a criteria file must be a mapping with id, title and inclusion")
            return None
        self.unknown_keys(data, TRIAL_KEYS, "the trial")
        for key in ("id", "title", "source", "version"):
            if key not in data:
                self.error(data.pos, f"the trial has no '{key}'", f"add '{key}:' at the top level")
        tid = self.text_value(data, "id", "the trial id")
        title = self.text_value(data, "title", "the title")
        source = self.text_value(data, "source", "the source")
        version = data.get("version")
        if isinstance(version, date):
            version = version.isoformat()
        elif version is not None and not isinstance(version, (str, int, float)):
            self.error(data.where("version"), "the version must be text or a date")
        complete = data.get("complete", True)
        if not isinstance(complete, bool):
            self.error(data.where("complete"), "complete must be true or false")
            complete = True
        not_encoded = data.get("not_encoded") or []
        if not isinstance(not_encoded, list) or not all(isinstance(x, str) for x in not_encoded):
            self.error(data.where("not_encoded"), "not_encoded must be a list of texts")
            not_encoded = []
        if not complete and not not_encoded:
            self.error(data.where("complete"), "an incomplete trial must list what is not encoded",
                       "add not_encoded: [ ... ]")
        if "definitions" in data:
            self.read_definitions(data["definitions"], data.where("definitions"))
        criteria = []
        self.seen_ids: dict = {}
        for kind in ("inclusion", "exclusion"):
            items = data.get(kind)
            if items is None:
                if kind == "inclusion":
                    self.error(data.pos, "the trial has no 'inclusion' list")
                continue
            if not isinstance(items, LList):
                self.error(data.where(kind), f"'{kind}' must be a list of criteria")
                continue
            for index, item in enumerate(items):
                c = self.criterion(item, items.where(index), kind)
                if c is not None:
                    criteria.append(c)
        if not criteria and not self.problems:
            self.error(data.pos, "the trial has no criteria", "add at least one inclusion criterion")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        meta = {k: data[k] for k in ("phase", "sponsor", "population", "notes") if k in data}
        window = self.duration(data, "screening_window")
        return Trial(tid or "", title or "", source or "", str(version or ""), criteria,
                     self.file, digest, complete, list(not_encoded), meta, window)

    def text_value(self, data: LMap, key: str, what: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
            self.error(data.where(key), f"{what} must be a non-empty text")
            return None
        return str(value).strip()

    def read_definitions(self, defs, pos):
        if not isinstance(defs, LMap):
            self.error(pos, "definitions must be a mapping of name to rule")
            return
        for name, body in defs.items():
            if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
                self.error(defs.where_key(name), f"'{name}' is not a definition name",
                           "use lower-case snake_case")
                continue
            if name in self.shared:
                self.error(defs.where_key(name), f"'{name}' is already a shared definition",
                           "use it with {use: " + name + "}, or choose another name")
                continue
            node = self.node(body, defs.where(name))
            if node is not None:
                self.definitions[name] = node

    def criterion(self, item, pos, kind) -> Criterion | None:
        if not isinstance(item, LMap):
            self.error(pos, f"each {kind} criterion must be a mapping with id, text and rule")
            return None
        self.unknown_keys(item, CRITERION_KEYS, "a criterion")
        cid = item.get("id")
        if not isinstance(cid, str) or not CRITERION_ID.match(cid):
            self.error(item.where("id") if "id" in item else pos,
                       f"criterion id {cid!r} is not of the form I1, I2, ... or E1, E2, ...",
                       "use the registry's numbering")
            cid = str(cid)
        elif (kind == "inclusion") != cid.startswith("I"):
            self.error(item.where("id"), f"criterion '{cid}' is in the {kind} list",
                       "inclusion ids start with I, exclusion ids with E")
        if cid in self.seen_ids:
            self.error(item.where("id") if "id" in item else pos, f"duplicate criterion id '{cid}'",
                       f"it is already used at line {self.seen_ids[cid]}")
        self.seen_ids.setdefault(cid, pos[0])
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            self.error(item.where("text") if "text" in item else pos,
                       f"criterion {cid} needs the protocol's verbatim 'text'")
            text = ""
        if "rule" not in item:
            self.error(pos, f"criterion {cid} has no 'rule'",
                       "write its logic, or an attestation for a judgment")
            return None
        rule = self.node(item["rule"], item.where("rule"))
        applies = None
        if "applies_if" in item:
            applies = self.node(item["applies_if"], item.where("applies_if"))
        note = item.get("note") or ""
        unreachable = item.get("unreachable") or {}
        if not isinstance(unreachable, dict) or any(
                k not in STATUSES or not isinstance(v, str) or not v.strip() for k, v in unreachable.items()):
            self.error(item.where("unreachable"), "unreachable maps a status (pass, fail, unknown) to the "
                       "reason no patient can reach it")
            unreachable = {}
        if rule is None:
            return None
        return Criterion(cid, kind, " ".join(text.split()), rule, applies, str(note), pos[0],
                         dict(unreachable))

    # --- nodes ------------------------------------------------------------------------------
    def node(self, obj, pos):
        if not isinstance(obj, LMap):
            self.error(pos, "a rule must be a mapping such as {lab: ..., lt: ...} or {all: [...]}")
            return None
        heads = [k for k in obj if k in NODE_KEYS]
        if not heads:
            close = close_word(str(next(iter(obj), "")), set(NODE_KEYS))
            self.error(obj.pos, "a rule needs one of: " + ", ".join(NODE_KEYS),
                       f"did you mean '{close}'?" if close else "")
            return None
        if len(heads) > 1:
            self.error(obj.where_key(heads[1]), f"one rule cannot be both '{heads[0]}' and '{heads[1]}'",
                       "combine them with all: or any:")
            return None
        head = heads[0]
        allowed = NODE_KEYS[head] | {head}
        self.unknown_keys(obj, allowed, f"a {head} rule")
        return getattr(self, "n_" + head)(obj, obj.where(head))

    def children(self, obj, head, pos):
        items = obj[head]
        if not isinstance(items, LList) or not items:
            self.error(pos, f"'{head}' needs a non-empty list of rules")
            return None
        out = [self.node(item, items.where(i)) for i, item in enumerate(items)]
        return None if any(x is None for x in out) else out

    def n_all(self, obj, pos):
        items = self.children(obj, "all", pos)
        return All(tuple(items)) if items else None

    def n_any(self, obj, pos):
        items = self.children(obj, "any", pos)
        return Any(tuple(items)) if items else None

    def n_not(self, obj, pos):
        inner = self.node(obj["not"], pos)
        return Not(inner) if inner else None

    def n_use(self, obj, pos):
        name = obj["use"]
        if not isinstance(name, str):
            self.error(pos, "use names one definition", "write {use: name}")
            return None
        node = self.definitions.get(name) or self.shared.get(name)
        if node is None:
            known = set(self.definitions) | set(self.shared)
            close = close_word(str(name), known)
            self.error(pos, f"no definition named '{name}'",
                       f"did you mean '{close}'?" if close else "define it under 'definitions:'")
            return None
        return Reference(name, node)

    def duration(self, obj, key):
        if key not in obj:
            return None
        try:
            return parse_duration(obj[key])
        except ValueError:
            self.error(obj.where(key), f"'{obj[key]}' is not a duration",
                       "write it like '28 days', '4 weeks', '3 months' or '3 years'")
            return None

    def window(self, obj):
        within = self.duration(obj, "within")
        after = obj.get("after")
        if after is not None and within is None:
            self.error(obj.where("after"), "'after' needs 'within' (how long after)")
            return None
        if within is None:
            return None
        if after is not None:
            canonical = vocab.treatments().canonical(after) if isinstance(after, str) else None
            if canonical is None:
                self.error(obj.where("after"), f"'after' names a treatment type such as asct, not '{after}'",
                           vocab.treatments().suggest(str(after)))
                return None
            after = canonical
        return Window(within, after)


def compile_text(text: str, file: str = "<criteria>", shared: dict | None = None,
                 warnings: list | None = None) -> Trial:
    """Compile criteria text; raise :class:`CriteriaError` with every problem."""
    data, problems = load_yaml(text, file)
    compiler = _Compiler(file, shared)
    compiler.problems.extend(problems)
    trial = compiler.trial(data, text) if data is not None else None
    errors = [p for p in compiler.problems if p.severity == "error"]
    if warnings is not None:
        warnings.extend(p for p in compiler.problems if p.severity == "warning")
    if errors or trial is None:
        raise CriteriaError(sorted(errors, key=lambda p: (p.location.line or 0, p.location.column or 0))
                            or [Problem(Location(file), "the file holds no trial")])
    return trial


def compile_definitions(text: str, file: str, shared: dict | None = None) -> dict:
    """Compile a shared-definitions file (``definitions: {name: rule}``)."""
    data, problems = load_yaml(text, file)
    compiler = _Compiler(file, shared)
    compiler.problems.extend(problems)
    if data is not None:
        if not isinstance(data, LMap) or set(data) - {"definitions"}:
            compiler.error(getattr(data, "pos", (1, 1)), "a definitions file holds only 'definitions:'")
        else:
            compiler.read_definitions(data.get("definitions"), data.where("definitions"))
    errors = [p for p in compiler.problems if p.severity == "error"]
    if errors:
        raise CriteriaError(errors)
    return compiler.definitions


def read_text(path: Path) -> str:
    from trialscreen import textio
    from trialscreen.errors import InputError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileReadError(f"no such criteria file: {path}", Location(str(path))) from None
    except IsADirectoryError:
        raise FileReadError(f"'{path}' is a folder, not a criteria file", Location(str(path))) from None
    except PermissionError:
        raise FileReadError(f"cannot read {path}: permission denied", Location(str(path))) from None
    try:
        return textio.decode(data, str(path))
    except InputError as exc:
        raise CriteriaError([Problem(exc.location, exc.message, exc.hint)]) from None


def compile_file(path: str | Path, shared: dict | None = None, warnings: list | None = None) -> Trial:
    return compile_text(read_text(Path(path)), str(path), shared, warnings)
