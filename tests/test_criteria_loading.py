"""Loading criteria files: safe YAML, every problem located, compile-time checks."""

import pytest

from trialscreen.criteria.compile import compile_text
from trialscreen.errors import CriteriaError

HEAD = "id: T1\ntitle: t\nsource: s\nversion: '1'\n"


def problems(text):
    with pytest.raises(CriteriaError) as exc:
        compile_text(text, "t.yaml")
    return [str(p) for p in exc.value.problems]


def one_rule(rule: str) -> str:
    return HEAD + f"inclusion:\n  - id: I1\n    text: x\n    rule: {rule}\n"


BAD_RULES = [
    ("{lab: creatinin, lt: 1 mg/dL}", "t.yaml:8:", "did you mean 'creatinine'"),
    ("{lab: creatinine, lt: 1 furlong}", "t.yaml:8:", "unknown unit 'furlong'"),
    ("{lab: creatinine, lt: 1 K/uL}", "t.yaml:8:", "unknown unit 'K/uL'"),
    ("{lab: platelets, gt: 75 mg/dL}", "t.yaml:8:", "cannot convert to platelets"),
    ("{lab: creatinine, lt: 177}", "t.yaml:8:", "need a unit"),
    ("{lab: creatinine, lt: <177 umol/L}", "t.yaml:8:", "cannot be a bound"),
    ("{lab: creatinine, lt: 1 mg/dL, gt: 0 mg/dL}", "t.yaml:8:", "exactly one comparison"),
    ("{lab: hbsag, lt: 1 IU/mL}", "t.yaml:8:", "qualitative"),
    ("{lab: hbv_dna, by_unit: [{gt: 200 IU/mL}, {gt: 300 IU/mL}]}", "t.yaml:8:", "convertible units"),
    ("{lab: flc_ratio, outside: [1.65, 0.26]}", "t.yaml:8:", "is empty"),
    ("{lab: anc, gt: 1 x10^9/L, within: fortnight}", "t.yaml:8:", "not a duration"),
    ("{cytogenetics: {any_of: [del(17q)]}}", "t.yaml:8:", "unknown cytogenetic finding 'del(17q)'"),
    ("{cytogenetics: {any_of: [17p-, del(17p)]}}", "t.yaml:8:", "is del(17p) again"),
    ("{field: ecog, in: 0..7}", "t.yaml:8:", "not an ECOG grade"),
    ("{field: eccog, in: 0..3}", "t.yaml:8:", "did you mean 'ecog'"),
    ("{field: sex, lt: female}", "t.yaml:8:", "only be compared with eq or ne"),
    ("{condition: neuropathy_xyz}", "t.yaml:8:", "unknown condition"),
    ("{diagnosis: myelomaa}", "t.yaml:8:", "unknown diagnosis"),
    ("{condition: peripheral_neuropathy, grade: 3}", "t.yaml:8:", "grade needs one comparison"),
    ("{all: []}", "t.yaml:8:", "non-empty list"),
    ("{lab: alt, lt: 3 x ULN, colour: red}", "t.yaml:8:", "unknown key 'colour'"),
    ("{lab: alt, field: ecog, lt: 3}", "t.yaml:8:", "cannot be both"),
    ("{use: crab}", "t.yaml:8:", "no definition named 'crab'"),
    ("{attestation: Informed Consent}", "t.yaml:8:", "not an attestation name"),
]


@pytest.mark.parametrize("rule,where,words", BAD_RULES, ids=[r for r, _, _ in BAD_RULES])
def test_bad_rule_is_reported_with_position(rule, where, words):
    found = problems(one_rule(rule))
    assert any(p.startswith(where) and words in p for p in found), found


def test_every_problem_is_reported_not_just_the_first():
    text = HEAD + (
        "inclusion:\n"
        "  - id: I1\n    text: a\n    rule: {lab: nope, lt: 1 mg/dL}\n"
        "  - id: X2\n    text: b\n    rule: {field: age, ge: 18}\n"
        "exclusion:\n"
        "  - id: E1\n    text: c\n    rule: {cytogenetics: {any_of: [zzz]}}\n"
        "  - id: E1\n    rule: {field: ecog, in: 0..3}\n"
    )
    found = problems(text)
    assert len(found) == 5, found
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


@pytest.mark.parametrize("text,words", [
    ("", "the file is empty"),
    ("id: [unclosed\n", "YAML syntax error"),
    ("- just\n- a list\n", "must be a mapping"),
    (HEAD, "no 'inclusion' list"),
    (HEAD + "inclusion: []\nfoo: 1\n", "unknown key 'foo'"),
    (HEAD.replace("id: T1\n", "") + "inclusion: []\n", "no 'id'"),
    (HEAD + "id: T2\ninclusion: []\n", "duplicate key 'id'"),
    (HEAD + "complete: false\ninclusion: []\n", "must list what is not encoded"),
    (HEAD + "inclusion:\n  - id: E1\n    text: a\n    rule: {field: age, ge: 18}\n", "in the inclusion list"),
    (HEAD + "inclusion:\n  - id: I1\n    text: a\n", "has no 'rule'"),
])
def test_file_level_problems(text, words):
    assert any(words in p for p in problems(text))


def test_python_tags_are_refused_never_constructed():
    text = HEAD + "inclusion: !!python/object/apply:os.system ['echo pwned']\n"
    found = problems(text)
    assert any("tag" in p and "not allowed" in p for p in found)


def test_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    prev = "a"
    for i in range(8):
        name = f"l{i}"
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        prev = name
    found = problems(bomb)
    assert any("more than" in p and "nodes" in p for p in found)


def test_threshold_forms_compile():
    trial = compile_text(HEAD + (
        "inclusion:\n"
        "  - id: I1\n    text: a\n    rule:\n      all:\n"
        "        - {lab: alt, lt: 3 x ULN}\n"
        "        - {lab: hemoglobin, gt: LLN - 20 g/L}\n"
        "        - {lab: calcium, lt: ULN + 0.25 mmol/L}\n"
        "        - {lab: anc, gt: 1.0 x 10^9/L}\n"
        "        - {lab: platelets, ge: 100000/mm3, within: 4 weeks}\n"
        "        - {lab: flc_ratio, outside: [0.26, 1.65]}\n"
        "        - {lab: hbv_dna, by_unit: [{ge: 1e3 copies/mL}, {gt: 200 IU/mL}]}\n"
    ), "t.yaml")
    assert [c.id for c in trial.criteria] == ["I1"]
    assert len(trial.sha256) == 64


def test_bundled_library_validates():
    from trialscreen.criteria.library import bundled_trials, load_trial

    paths = bundled_trials()
    assert any(p.stem == "NCT05378971" for p in paths)
    for p in paths:
        trial = load_trial(str(p))
        assert trial.id == p.stem


def test_the_library_never_runs_code_from_its_inputs():
    """No eval, exec, compile, __import__ or unsafe YAML/pickle loading in the
    library or the command line. The one unpickler is the cache's, which rebuilds only the
    package's own classes (tests/test_cache.py shows it refusing anything else)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    forbidden_calls = {"eval", "exec", "compile", "__import__"}
    forbidden_attrs = {"load", "unsafe_load", "full_load", "loads"}
    for path in [*root.glob("src/trialscreen/**/*.py"), *root.glob("cli/trialscreen_cli/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in forbidden_calls, f"{path}:{node.lineno}: {node.func.id}()"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
                if owner == "marshal" or (owner == "pickle" and node.func.attr in ("load", "loads", "Unpickler")):
                    raise AssertionError(f"{path}:{node.lineno}: {owner}.{node.func.attr}()")
                if owner == "yaml" and node.func.attr in forbidden_attrs:
                    # only yaml.load with an explicit safe Loader is allowed
                    loaders = [k.value for k in node.keywords if k.arg == "Loader"]
                    assert node.func.attr == "load" and loaders, f"{path}:{node.lineno}: yaml.{node.func.attr}"
