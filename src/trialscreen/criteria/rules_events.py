"""Rules on findings and list sections: cytogenetics, diagnoses, conditions, treatments, neoplasms.

A mixin of the criteria compiler (criteria/compile.py): its methods use the compiler's
error reporting and shared readers through ``self``."""

from __future__ import annotations

from trialscreen import vocab
from trialscreen.criteria.yamlsrc import LList, LMap
from trialscreen.ir import (
    ConditionTest,
    DiagnosisTest,
    FindingTest,
    NeoplasmTest,
    TreatmentTest,
)
from trialscreen.semantics.logic import OP_WORDS
from trialscreen.semantics.timewin import parse_duration


class EventRules:
    # cytogenetics ----------------------------------------------------------------------
    def n_cytogenetics(self, obj, pos):
        spec = obj["cytogenetics"]
        if not isinstance(spec, LMap):
            self.error(pos, "cytogenetics needs any_of: [...] or none_of: [...]")
            return None
        self.unknown_keys(spec, {"any_of", "none_of", "min_percent"}, "a cytogenetics rule")
        modes = [k for k in ("any_of", "none_of") if k in spec]
        if len(modes) != 1:
            self.error(pos, "cytogenetics needs exactly one of any_of or none_of")
            return None
        names = spec[modes[0]]
        if not isinstance(names, LList) or not names:
            self.error(spec.where(modes[0]), f"{modes[0]} needs a list of findings")
            return None
        canon = []
        bad = False
        for i, name in enumerate(names):
            c = vocab.findings().canonical(name) if isinstance(name, str) else None
            if c is None:
                self.error(names.where(i), f"unknown cytogenetic finding '{name}'",
                           vocab.findings().suggest(str(name)))
                bad = True
            elif c in canon:
                self.error(names.where(i), f"'{name}' is {c} again", "list each finding once")
                bad = True
            else:
                canon.append(c)
        minp = spec.get("min_percent")
        if minp is not None and (isinstance(minp, bool) or not isinstance(minp, (int, float))
                                 or not 0 < minp <= 100):
            self.error(spec.where("min_percent"), "min_percent must be a number above 0 and at most 100")
            return None
        if bad:
            return None
        return FindingTest(tuple(canon), "any" if modes[0] == "any_of" else "none",
                           float(minp) if minp is not None else None)

    # list sections ---------------------------------------------------------------------
    def names(self, raw, pos, vocabulary=None, what="name"):
        items = raw if isinstance(raw, LList) else [raw]
        if not items:
            self.error(pos, f"an empty list names no {what}", "name at least one")
            return None
        out = []
        for i, name in enumerate(items):
            where = raw.where(i) if isinstance(raw, LList) else pos
            if not isinstance(name, str) or not name.strip():
                self.error(where, f"'{name}' is not a {what}")
                return None
            if vocabulary is not None:
                c = vocabulary.canonical(name)
                if c is None:
                    self.error(where, f"unknown {vocabulary.kind} '{name}'", vocabulary.suggest(name))
                    return None
                out.append(c)
            else:
                out.append(vocab.name_key(name))
        return out

    def attrs(self, obj, key="with"):
        raw = obj.get(key)
        if raw is None:
            return {}
        if not isinstance(raw, LMap):
            self.error(obj.where(key), f"'{key}' needs a mapping of attribute to value(s)")
            return None
        out = {}
        for k, v in raw.items():
            values = list(v) if isinstance(v, LList) else [v]
            if not values or not all(isinstance(x, (str, int, float, bool)) for x in values):
                self.error(raw.where(k), f"'{k}' needs a value or a list of values (text, number, true, false)")
                return None
            attr = vocab.name_key(k)
            # an alias names its attribute ('subtype: IgM' is the isotype)
            attr = next((a for a, (_, aliases) in vocab.attributes().items() if attr in aliases), attr)
            closed = vocab.attributes().get(attr)
            if closed is not None:
                known = [closed[0].canonical(x) if isinstance(x, str) else None for x in values]
                for x, c in zip(values, known):
                    if c is None:
                        self.error(raw.where(k), f"'{x}' is not a known {k}", closed[0].suggest(str(x)))
                        return None
                # a value covers the values that are kinds of it (relapsed covers relapsed_refractory)
                values = vocab.with_descendants(closed[0], known)
            out[attr] = frozenset(vocab.name_key(x) if isinstance(x, str) else x for x in values)
        return out

    def n_diagnosis(self, obj, pos):
        names = self.names(obj["diagnosis"], pos, vocab.diagnoses())
        attrs = self.attrs(obj)
        if names is None or attrs is None:
            return None
        return DiagnosisTest(frozenset(names), tuple(attrs.items()), self.window(obj), asked=tuple(sorted(names)))

    def n_condition(self, obj, pos):
        names = self.names(obj["condition"], pos, vocab.conditions())
        if names is None:
            return None
        grade = None
        if "grade" in obj:
            g = obj["grade"]
            if (not isinstance(g, LMap) or len(g) != 1 or next(iter(g)) not in OP_WORDS
                    or not isinstance(next(iter(g.values())), int) or isinstance(next(iter(g.values())), bool)):
                self.error(obj.where("grade"), "grade needs one comparison such as {ge: 3}")
                return None
            if not 0 <= next(iter(g.values())) <= 5:
                self.error(obj.where("grade"), f"'{next(iter(g.values()))}' is not a CTCAE grade 0 to 5")
                return None
            op, n = next(iter(g.items()))
            grade = (OP_WORDS[op], n)
        active = obj.get("active")
        if active is not None and not isinstance(active, bool):
            self.error(obj.where("active"), "active must be true or false")
            return None
        return ConditionTest(tuple(dict.fromkeys(names)), grade, active, self.window(obj))

    def n_treatment(self, obj, pos):
        raw = obj["treatment"]
        names = None if raw == "any" else self.names(raw, pos, vocab.treatments())
        if raw != "any" and names is None:
            return None
        maybe, asked = (), names
        if names is not None:  # a type covers the types the vocabulary says are kinds of it
            names, maybe = vocab.kinds(vocab.treatments(), names)
        drugs = self.names(obj["drug"], obj.where("drug"), vocab.drugs()) if "drug" in obj else None
        attrs = self.attrs(obj)
        if attrs is None or ("drug" in obj and drugs is None):
            return None
        duration = None
        if "duration" in obj:
            d = obj["duration"]
            if not isinstance(d, LMap) or len(d) != 1 or next(iter(d)) not in ("lt", "le", "gt", "ge"):
                self.error(obj.where("duration"), "duration needs one comparison such as {le: 12 months}")
                return None
            op, text = next(iter(d.items()))
            try:
                duration = (OP_WORDS[op], parse_duration(text))
            except ValueError:
                self.error(d.where(op), f"'{text}' is not a duration")
                return None
        count = None
        if "count" in obj:
            c = obj["count"]
            if (not isinstance(c, LMap) or len(c) != 1 or next(iter(c)) not in OP_WORDS
                    or not isinstance(next(iter(c.values())), int) or isinstance(next(iter(c.values())), bool)
                    or next(iter(c.values())) < 0):
                self.error(obj.where("count"), "count needs one comparison with a whole number, such as {ge: 2}")
                return None
            if duration is not None:
                self.error(obj.where("count"), "a treatment rule takes count or duration, not both")
                return None
            op, n = next(iter(c.items()))
            count = (OP_WORDS[op], n)
        return TreatmentTest(frozenset(names) if names else None, tuple(attrs.items()), self.window(obj),
                             frozenset(maybe), tuple(sorted(asked or ())),
                             drugs=frozenset(drugs) if drugs else None, duration=duration, count=count)

    def n_neoplasm(self, obj, pos):
        spec = obj["neoplasm"]
        if spec is None:
            spec = LMap()
            spec.pos, spec.key_pos, spec.value_pos = pos, {}, {}
        if not isinstance(spec, LMap):
            self.error(pos, "neoplasm needs a mapping (except, unless_tumor_free_for)")
            return None
        self.unknown_keys(spec, {"except", "unless_tumor_free_for"}, "a neoplasm rule")
        exempt = []
        raw = spec.get("except") or []
        if not isinstance(raw, list):
            self.error(spec.where("except"), "except needs a list")
            return None
        for i, item in enumerate(raw):
            if isinstance(item, str):
                exempt.append((frozenset([vocab.name_key(item)]), ()))
            elif isinstance(item, LMap) and "type" in item:
                types = self.names(item["type"], item.where("type"), what="neoplasm type")
                attrs = {vocab.name_key(k): frozenset(vocab.name_key(x) if isinstance(x, str) else x
                                                      for x in (v if isinstance(v, list) else [v]))
                         for k, v in item.items() if k != "type"}
                if types is None:
                    return None
                exempt.append((frozenset(types), tuple(attrs.items())))
            else:
                self.error(raw.where(i), "each exception is a type name or {type: ..., attribute: value}")
                return None
        free = self.duration(spec, "unless_tumor_free_for") if "unless_tumor_free_for" in spec else None
        return NeoplasmTest(exempt=tuple(exempt), free_for=free)
