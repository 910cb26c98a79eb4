"""What each concept of a source means to trialscreen (docs/omop.md, "Concepts").

Every concept id the source uses is resolved through CONCEPT to (vocabulary_id, concept_code) and
looked up in the vocabularies (``vocab.codes``), by the column it appears in: the same concept is
a unit in unit_concept_id and an answer in value_as_concept_id. A concept with CONCEPT_ANCESTOR
rows is also placed through its ancestors, the nearest first. concept_name is read only to name
a concept in a warning. The result is one table, ``ts_meaning``, that the assembly queries join,
so rows no rule reads (vital signs, social history) never leave DuckDB.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from trialscreen import vocab
from trialscreen.errors import InputError
from trialscreen.omop.source import Source
from trialscreen.units.ucum import from_ucum
from trialscreen.vocab import codes

# column -> the role its concepts play
ROLES = {
    ("measurement", "measurement_concept_id"): "measured", ("measurement", "measurement_source_concept_id"): "measured",
    ("measurement", "unit_concept_id"): "unit", ("measurement", "operator_concept_id"): "operator",
    ("measurement", "value_as_concept_id"): "answer",
    ("observation", "observation_concept_id"): "observed", ("observation", "observation_source_concept_id"): "observed",
    ("observation", "value_as_concept_id"): "answer", ("observation", "obs_event_field_concept_id"): "table",
    ("condition_occurrence", "condition_concept_id"): "condition",
    ("condition_occurrence", "condition_source_concept_id"): "condition",
    ("drug_exposure", "drug_concept_id"): "drug", ("drug_exposure", "drug_source_concept_id"): "drug",
    ("procedure_occurrence", "procedure_concept_id"): "procedure",
    ("procedure_occurrence", "procedure_source_concept_id"): "procedure",
    ("person", "gender_concept_id"): "gender",
}
_PLACED_THROUGH_ANCESTORS = ("condition", "drug", "procedure")
# the site vocabulary's kinds the reader reads itself (vocab.codes reads lab, finding, ...)
SITE = "trialscreen"
_OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": ""}
# SNOMED qualifier values OMOP's 'Meas Value Operator' domain uses (Athena; OHDSI ETLs read them)
_OPERATOR_CODES = {"276139006": "<", "276137008": "<=", "276140008": ">", "276138003": ">=", "276136004": ""}


@dataclass(frozen=True)
class Concept:
    concept_id: int
    vocabulary: str
    code: str
    klass: str
    name: str
    domain: str

    def label(self) -> str:
        return f"{self.vocabulary} {self.code} '{self.name}'" if self.name else f"{self.vocabulary} {self.code}"


@dataclass
class Meanings:
    """role -> concept id -> meaning rows (kind, name, detail); ``unplaced`` the concepts of
    conditions, drugs and procedures the vocabularies cannot place, with their labels."""

    rows: dict = field(default_factory=lambda: defaultdict(dict))
    unplaced: dict = field(default_factory=dict)
    hierarchy: bool = False


def place_concepts(source: Source) -> Meanings:
    """The DuckDB engine: the concepts the source uses, their CONCEPT and CONCEPT_ANCESTOR rows
    fetched with SQL, placed by ``place``, and registered as ``ts_meaning``."""
    con = source.con
    arms = " UNION ".join(f"SELECT DISTINCT '{role}' AS role, {column} AS id FROM {table}"
                          for (table, column), role in ROLES.items())
    con.execute(f"CREATE OR REPLACE TABLE ts_used AS SELECT * FROM ({arms}) WHERE id IS NOT NULL AND id <> 0")
    concepts = con.execute(f"SELECT {CONCEPT_COLUMNS} FROM concept c WHERE c.concept_id IN "
                           "(SELECT id FROM ts_used)").fetchall()
    ancestors = con.execute(
        "SELECT a.descendant_concept_id, a.ancestor_concept_id, a.min_levels_of_separation "
        "FROM concept_ancestor a WHERE a.descendant_concept_id IN (SELECT id FROM ts_used WHERE role IN "
        "('condition', 'drug', 'procedure')) ORDER BY 1, 3, 2").fetchall()
    wanted = ancestors_wanted(ancestors, concepts)
    if wanted:
        con.execute("CREATE OR REPLACE TABLE ts_wanted AS SELECT unnest(?) AS id", [wanted])
        concepts += con.execute(f"SELECT {CONCEPT_COLUMNS} FROM concept c WHERE c.concept_id IN "
                                "(SELECT id FROM ts_wanted)").fetchall()
    out = place(con.execute("SELECT role, id FROM ts_used").fetchall(), concepts, ancestors)
    register_meanings(con, out)
    return out


# a CONCEPT row as ``place`` reads it: the fields of Concept, in order
CONCEPT_COLUMNS = "c.concept_id, c.vocabulary_id, c.concept_code, c.concept_class_id, c.concept_name, c.domain_id"


def ancestors_wanted(ancestor_rows: list, concept_rows: list) -> list:
    """The ancestor ids of ``ancestor_rows`` (descendant, ancestor, levels) whose CONCEPT rows are
    not among ``concept_rows`` yet: an engine fetches them before calling ``place``."""
    have = {r[0] for r in concept_rows}
    return sorted({a for _, a, _ in ancestor_rows if a is not None} - have)


def place(used: list, concept_rows: list, ancestor_rows: list) -> Meanings:
    """What each used concept means: a pure function of the (role, concept id) pairs a source uses,
    the CONCEPT rows of those ids and of their ancestors (tuples in CONCEPT_COLUMNS order), and
    the CONCEPT_ANCESTOR rows (descendant, ancestor, min levels) of the condition, drug and
    procedure concepts. Every engine calls it, so a concept means the same on each."""
    concepts: dict = {}
    for r in concept_rows:
        if not r[1] or not r[2]:
            continue                 # no vocabulary or no code: the concept says nothing
        row = Concept(*r)
        if concepts.get(r[0], row) != row:
            raise InputError(f"CONCEPT holds concept_id {r[0]} twice, as {concepts[r[0]].label()} and "
                             f"{row.label()}", hint="keep one row per concept_id in CONCEPT")
        concepts[r[0]] = row
    ancestors: dict = defaultdict(list)
    for desc, anc_id, levels in sorted(ancestor_rows, key=_nearest):
        ancestors[desc].append((anc_id, levels))
    out = Meanings(hierarchy=bool(ancestors))
    for role, cid in sorted(set(used)):
        concept = concepts.get(cid)
        if concept is None:
            if role in _PLACED_THROUGH_ANCESTORS:
                out.unplaced[(role, cid)] = f"concept {cid} (not in CONCEPT)"
            continue
        meaning = _meaning(role, concept, [(concepts.get(a), n) for a, n in ancestors.get(cid, ())])
        if meaning is None and role in _PLACED_THROUGH_ANCESTORS and cid not in ancestors:
            out.unplaced[(role, cid)] = f"concept {cid} ({concept.label()})"
        elif meaning:
            out.rows[role][cid] = meaning
        elif meaning == [] and role == "drug":
            out.rows[role][cid] = [("none", "", "")]     # placed: a drug that is not a treatment
        elif meaning == [] and role in _PLACED_THROUGH_ANCESTORS:
            # under no entry of the vocabularies: their code lists are not exhaustive, so this may
            # still be one of them (a thrombosis coded under a parent not listed): unplaced
            out.unplaced[(role, cid)] = f"concept {cid} ({concept.label()})"
        elif not meaning and role == "observed" and concept.vocabulary.upper() in _DIAGNOSIS_CODES:
            # a diagnosis code recorded as an observation (ICD-10-CM Z85 personal history of a
            # malignancy): what it says about conditions, diagnoses and neoplasms is not known
            out.unplaced[(role, cid)] = f"concept {cid} ({concept.label()})"
    return out


# code systems of diagnoses: an OBSERVATION coded in one says something about the person's history
_DIAGNOSIS_CODES = ("ICD10CM", "ICD10", "ICD9CM", "ICD9")


def _nearest(row: tuple) -> tuple:
    """The order of ancestor rows: by descendant, then nearest first, then ancestor id (as SQL's
    ORDER BY 1, 3, 2 with NULLs last)."""
    desc, anc, levels = row
    return (desc, levels is None, levels or 0, anc is None, anc or 0)


def _meaning(role: str, concept: Concept, ancestors: list) -> list | None:
    """The meaning rows of a concept in a role; [] means "placed, and nothing trialscreen reads"."""
    if role == "unit":
        if concept.vocabulary.upper() == "UCUM":
            return [("unit", from_ucum(concept.code), "")]
        return [("unit", concept.label(), "")]       # the grammar refuses it, by that name
    if role == "operator":
        symbol = _OPERATOR_CODES.get(concept.code) if concept.vocabulary.upper() == "SNOMED" else None
        if symbol is None and concept.vocabulary == "Meas Value Operator":
            symbol = _OPERATORS.get(concept.code.strip())
        return [("operator", symbol if symbol is not None else "?", "")]
    if role == "gender":
        sex = {"F": "female", "M": "male"}.get(concept.code.strip().upper()) if concept.vocabulary == "Gender" else None
        return [("gender", sex or "", "")]
    if role == "answer":
        return _answer(concept)
    if role == "table":
        if concept.vocabulary == SITE and concept.code.startswith("table:"):
            return [("table", concept.code[6:].strip().lower(), "")]
        if concept.vocabulary.upper() == "CDM":
            return [("table", concept.code.split(".")[0].strip().lower(), "")]
        return []
    if concept.vocabulary == SITE:
        return _site(role, concept)
    if role == "drug":
        return _drug(concept, ancestors)
    own = _placed(role, concept)
    if own:
        return own
    for ancestor, _levels in ancestors:     # nearest first; 'none' only by the concept's own code
        if ancestor is not None and (found := _placed(role, ancestor)) and found[0][0] != "none":
            return found
    return [] if ancestors else None


_ROLE_KINDS = {"measured": ("analyte", "finding", "field"),
               "observed": ("field", "condition", "finding", "diagnosis", "treatment"),
               "condition": ("condition", "diagnosis", "treatment"), "procedure": ("treatment",)}


def _placed(role: str, concept: Concept) -> list:
    found = codes.lookup(concept.vocabulary, concept.code)
    if found is not None and found.kind == "none" and role == "condition":
        return [("none", "", "")]    # listed as no condition any rule reads (not_conditions.yaml): dropped
    if found is None or found.kind not in _ROLE_KINDS.get(role, ()):
        return []
    # a code that names no entry of its kind (diagnoses.yaml ambiguous_codes) decides over the
    # standard concept an ETL mapped it to (queries.py)
    ambiguous = found.kind == "diagnosis" and vocab.diagnoses().canonical(found.name) is None
    return [(found.kind, found.name, "ambiguous" if ambiguous else "")]


def _answer(concept: Concept) -> list:
    if concept.vocabulary == SITE:
        kind, _, word = concept.code.partition(":")
        return [("answer", word.strip(), "")] if kind == "result" else []
    value = codes.answer(concept.vocabulary, concept.code)
    if value is None:
        return [("answer", "?" + concept.label(), "")]
    return [("answer", value if isinstance(value, str) else str(value).lower(), "")]


def _site(role: str, concept: Concept) -> list:
    kind, _, name = concept.code.partition(":")
    kind, name = kind.strip(), name.strip()
    if kind in ("attribute", "complete", "allergy", "neoplasm", "table", "result"):
        wanted = {"observed": ("attribute", "complete", "allergy"), "condition": ("neoplasm",)}.get(role, ())
        return [(kind, name, "")] if kind in wanted else []
    if role == "drug" and kind == "drug":
        drug = vocab.drugs().canonical(name)
        return [("drug", drug, codes.drug_treatment(drug) or "")] if drug else [("drug", "?" + name, "ask")]
    if role == "drug":           # a treatment type given as a drug (no substance named); any other kind: unplaced
        kind_of = vocab.treatments().canonical(name) if kind == "treatment" else None
        return [("drug", "", kind_of)] if kind_of else [("drug", "?" + concept.label(), "ask")]
    found = codes.lookup(SITE, concept.code)
    if found is None:          # a name the vocabularies do not know: passed on as written, so the
        kind = {"lab": "analyte"}.get(kind, kind)    # record reader treats it as in a JSON record
        return [(kind, name, "")] if kind in _ROLE_KINDS.get(role, ()) else []
    if found.kind not in _ROLE_KINDS.get(role, ()):
        return []
    return [(found.kind, found.name, "")]


def _drug(concept: Concept, ancestors: list) -> list | None:
    """A drug concept's ingredients, each with the treatment type an exposure to it is ('' none,
    'ask' a type a person must judge). With a hierarchy: its RxNorm ingredients; one the drug
    vocabulary does not list by RxNorm is placed through the product's ATC classes, but only for a
    single-ingredient product (the classes of a combination belong to all its ingredients at once,
    so for an unlisted ingredient of one they decide nothing: 'ask'). Without a hierarchy: the
    concept's own code, and None (unplaced) when that is not a drug the vocabulary lists."""
    ingredients = [a for a, _ in ancestors if a is not None and a.vocabulary == "RxNorm" and a.klass == "Ingredient"]
    rows = []
    for ingredient in ingredients or [concept]:
        found = codes.lookup(ingredient.vocabulary, ingredient.code)
        if found is not None and found.kind == "drug":
            rows.append(("drug", found.name, codes.drug_treatment(found.name) or ""))
        elif not ancestors:
            return None
        elif len(ingredients) > 1:
            rows.append(("drug", "?" + ingredient.label(), "ask"))
        else:
            rows += _through_atc(ingredient, ancestors)
    return rows


def _through_atc(ingredient: Concept, ancestors: list) -> list:
    """A single ingredient the drug vocabulary does not list by RxNorm, placed by its ATC codes
    (nearest first): an ATC code of a listed drug is that drug; a class that is a treatment type
    gives the type; a class whose drugs may or may not be antineoplastic (glucocorticoids,
    immunostimulants, immunosuppressants: drugs.yaml ``atc_to_judge``) asks a person; classes that
    are none of these say it is not a treatment; no ATC class at all asks a person."""
    classes = [a for a, _ in ancestors if a is not None and a.vocabulary == "ATC"]
    for ancestor in classes:
        found = codes.lookup("ATC", ancestor.code)
        if found is not None and found.kind == "drug":
            return [("drug", found.name, codes.drug_treatment(found.name) or "")]
    for ancestor in classes:
        found = codes.lookup("ATC", ancestor.code)
        if found is not None and found.kind == "treatment":
            return [("drug", "?" + ingredient.label(), found.name)]
    if not classes or any(codes.atc_to_judge(a.code) for a in classes):
        return [("drug", "?" + ingredient.label(), "ask")]
    return []


def meaning_rows(meanings: Meanings) -> list:
    """The rows of the meanings table (role, concept_id, kind, name, detail) the assembly joins."""
    rows = [(role, cid, kind, name, detail) for role, by_id in meanings.rows.items()
            for cid, found in by_id.items() for kind, name, detail in found]
    return rows + [(role, cid, "unplaced", label, "") for (role, cid), label in meanings.unplaced.items()]


def register_meanings(con, meanings: Meanings) -> None:
    """The meanings as the table ts_meaning the stream queries join (DuckDB)."""
    rows = meaning_rows(meanings)
    con.execute("CREATE OR REPLACE TABLE ts_meaning (role VARCHAR, concept_id BIGINT, kind VARCHAR, "
                "name VARCHAR, detail VARCHAR)")
    if rows:
        columns = [list(c) for c in zip(*rows)]
        con.execute("INSERT INTO ts_meaning SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)", columns)
