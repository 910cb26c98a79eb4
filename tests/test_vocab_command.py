"""`trialscreen vocab`: what a user sees when listing the vocabularies or looking a spelling up."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import ROOT, cli

KINDS = ("analytes", "units", "findings", "conditions", "treatments", "drugs", "diagnoses")
CREATININE = "analyte creatinine (Creatinine (serum)), LOINC 2160-0, unit umol/L"


def resolution(out: str) -> set:
    """What each printed 'WORD -> ...' line resolves to, without the word."""
    return {line.split(" -> ", 1)[1] for line in out.splitlines() if " -> " in line}


def test_vocab_alone_lists_every_vocabulary_with_its_count_and_the_usage():
    ran = cli("vocab")
    assert ran.code == 0, ran.err
    assert ran.err == ""
    for kind in KINDS:
        assert any(line.split()[:1] == [kind] and line.split()[1].isdigit() for line in ran.out.splitlines()), kind
    assert "trialscreen vocab KIND" in ran.out
    assert "trialscreen vocab [KIND] WORD" in ran.out
    assert "--format json" in ran.out


def test_vocab_is_in_the_help():
    assert "vocab" in cli("--help").out
    help_text = cli("vocab", "--help").out
    assert "[KIND] [WORD]" in help_text and "--format" in help_text


def test_creatinine_and_its_loinc_code_say_the_same():
    by_name = cli("vocab", "creatinine")
    by_code = cli("vocab", "2160-0")
    assert by_name.code == by_code.code == 0, by_name.err + by_code.err
    assert by_name.out == f"creatinine -> {CREATININE}\n"
    assert by_code.out == f"2160-0 -> {CREATININE}\n"
    assert resolution(by_name.out) == resolution(by_code.out) == {CREATININE}
    assert by_name.err == by_code.err == ""
    for args in (("analytes", "creatinine"), ("analytes", "2160-0"), ("analyte", "scr"), ("LOINC 2160-0",)):
        ran = cli("vocab", *args)
        assert ran.code == 0 and resolution(ran.out) == {CREATININE}, (args, ran.out, ran.err)


def test_a_loinc_code_resolves_through_the_loinc_field_whether_or_not_the_index_lists_it(monkeypatch):
    from trialscreen import vocab
    from trialscreen.vocab import lookup

    analytes = vocab.analytes()
    without = {k: c for k, c in analytes.index.items() if k != vocab.name_key("2160-0")}
    monkeypatch.setattr(analytes, "index", without)
    assert analytes.canonical("2160-0") is None
    [match] = lookup.lookup("2160-0").matches
    assert (match.kind, match.name, match.via, match.summary) == ("analytes", "creatinine", "loinc", CREATININE)
    monkeypatch.setattr(analytes, "index", {**without, vocab.name_key("2160-0"): "creatinine"})
    [match] = lookup.lookup("2160-0").matches
    assert (match.name, match.summary) == ("creatinine", CREATININE)


def test_one_line_per_vocabulary_a_word_resolves_in():
    ran = cli("vocab", "pcl")
    assert ran.code == 0
    assert ran.out.splitlines() == [
        "pcl -> condition plasma_cell_leukemia (Plasma cell leukemia)",
        "pcl -> diagnosis plasma_cell_leukemia (Plasma cell leukemia)",
    ]
    ran = cli("vocab", "mm")
    assert "mm -> diagnosis multiple_myeloma (Multiple myeloma)" in ran.out
    assert "mm -> unit mm (millimeter)" in ran.out


@pytest.mark.parametrize("args,line", [
    (("17p-",), "17p- -> cytogenetic finding del(17p) (Deletion of 17p (TP53 locus))"),
    (("findings", "IGH/FGFR3"), "IGH/FGFR3 -> cytogenetic finding t(4;14)"),
    (("treatments", "sbrt"), "sbrt -> treatment type sbrt (Stereotactic body radiotherapy), a kind of radiotherapy"),
    (("revlimid",), "revlimid -> substance lenalidomide"),
    (("neuropathy",), "neuropathy -> condition peripheral_neuropathy (Peripheral neuropathy), graded by CTCAE v5"),
    (("diagnoses", "myeloma"), "myeloma -> diagnosis multiple_myeloma (Multiple myeloma)"),
    (("hbsag",), "hbsag -> analyte hbsag (Hepatitis B surface antigen), LOINC 5195-3, qualitative"),
    (("total", "bilirubin"), "total bilirubin -> analyte bilirubin (Bilirubin (total, serum))"),
])
def test_a_spelling_says_what_it_resolves_to(args, line):
    ran = cli("vocab", *args)
    assert ran.code == 0, ran.err
    assert any(out.startswith(line) for out in ran.out.splitlines()), ran.out


def test_a_word_that_resolves_nowhere_exits_1_with_suggestions_from_every_vocabulary():
    ran = cli("vocab", "creatinin")
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err.splitlines()[0] == "'creatinin' names nothing in any vocabulary."
    assert "  analytes: did you mean 'creatinine'?" in ran.err.splitlines()
    ran = cli("vocab", "amyloid")
    assert ran.code == 1
    lines = ran.err.splitlines()
    assert "  conditions: did you mean 'amyloidosis'?" in lines
    assert "  diagnoses: did you mean 'al_amyloidosis'?" in lines


def test_a_word_close_to_nothing_points_to_the_vocabularies():
    ran = cli("vocab", "xyzzyq")
    assert ran.code == 1 and ran.out == ""
    assert ran.err == ("'xyzzyq' names nothing in any vocabulary.\n"
                       "Nothing is close to it; run 'trialscreen vocab' to list the vocabularies.\n")


def test_a_word_not_in_the_vocabulary_asked_says_where_it_is():
    ran = cli("vocab", "analytes", "asct")
    assert ran.code == 1 and ran.out == ""
    assert ran.err.startswith("'asct' names nothing in the analytes vocabulary.\n")
    assert "elsewhere: asct -> treatment type asct" in ran.err
    assert "Run 'trialscreen vocab analytes' for the known names." in ran.err


def test_units_say_what_a_spelling_normalises_to_or_why_not():
    ran = cli("vocab", "units", "mg/dL")
    assert (ran.code, ran.out) == (0, "mg/dL -> unit mg/dL (milligram per deciliter)\n")
    ran = cli("vocab", "units", "10E9/L")
    assert (ran.code, ran.out) == (0, "10E9/L -> unit x10^9/L (10^9 cells per liter)\n")
    ran = cli("vocab", "units", "K/uL")
    assert ran.code == 0
    assert ran.out.startswith("K/uL -> unit x10^3/uL (10^3 cells per microliter) for cell counts; refused for")
    ran = cli("vocab", "units", "IU/L")
    assert "U/L (enzyme unit per liter) for enzyme analytes" in ran.out
    assert "IU/L (international unit per liter) for cell counts and other analytes" in ran.out
    ran = cli("vocab", "units", "mg%")       # the old lab spelling of mg/dL
    assert (ran.code, ran.out) == (0, "mg% -> unit mg/dL (milligram per deciliter)\n")
    # a spelling the unit reader refuses: the command says so with the reader's own sentence
    ran = cli("vocab", "units", "furlong")
    assert ran.code == 1 and ran.out == ""
    assert ran.err.splitlines()[0].startswith("unknown unit 'furlong': 'furlong' is not a unit trialscreen knows")
    assert "Run 'trialscreen vocab units' for the known spellings." in ran.err


LISTED = {
    "analytes": ["creatinine", "Creatinine (serum)", "2160-0", "umol/L", "scr", "hbsag", "qualitative"],
    "units": ["mcg", "K/uL", "x10^3/uL", "cubic millimeter", "enzyme analytes only", "10**9/L"],
    "findings": ["del(17p)", "17p-", "t(4;14)", "IGH rearrangement"],
    "conditions": ["peripheral_neuropathy", "neuropathy", "yes"],
    "treatments": ["sbrt", "radiotherapy", "asct", "induction"],
    "drugs": ["lenalidomide", "revlimid", "bortezomib", "velcade"],
    "diagnoses": ["multiple_myeloma", "Multiple myeloma", "mgus"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_listing_holds_known_entries(kind):
    ran = cli("vocab", kind)
    assert ran.code == 0, ran.err
    assert ran.err == ""
    for word in LISTED[kind]:
        assert word in ran.out, f"{kind}: {word!r} not listed"
    assert f"'trialscreen vocab {kind} WORD'" in ran.out


@pytest.mark.parametrize("kind", [None, *KINDS])
def test_listings_fit_80_columns(kind):
    from trialscreen_cli.main import app

    runner = CliRunner()
    args = ["vocab"] + ([kind] if kind else [])
    result = runner.invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0
    wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not wide, wide[:3]


def test_json_overview_listing_and_lookup_parse():
    overview = json.loads(cli("vocab", "--format", "json").out)
    assert [row["kind"] for row in overview] == list(KINDS)
    assert all(row["entries"] > 0 for row in overview)

    entries = json.loads(cli("vocab", "analytes", "-f", "json").out)
    creatinine = next(e for e in entries if e["name"] == "creatinine")
    assert creatinine["loinc"] == ["2160-0"] and creatinine["units"] == ["umol/L"]
    assert "scr" in creatinine["synonyms"]
    sbrt = next(e for e in json.loads(cli("vocab", "treatments", "-f", "json").out) if e["name"] == "sbrt")
    assert "radiotherapy" in sbrt["implies"]
    assert any("K/uL" in e["spellings"] for e in json.loads(cli("vocab", "units", "-f", "json").out))

    ran = cli("vocab", "2160-0", "--format", "json")
    assert ran.code == 0
    found = json.loads(ran.out)
    assert found["found"] is True
    assert [(m["kind"], m["name"], m["via"], m["summary"]) for m in found["matches"]] == \
        [("analytes", "creatinine", "loinc", CREATININE)]

    ran = cli("vocab", "creatinin", "--format", "json")
    assert ran.code == 1
    missing = json.loads(ran.out)
    assert missing["found"] is False and missing["matches"] == []
    assert {"kind": "analytes", "names": ["creatinine"]} in missing["suggestions"]


def test_usage_errors_exit_2():
    ran = cli("vocab", "analyts", "creatinine")
    assert ran.code == 2
    assert ran.err.startswith("trialscreen: error: 'analyts' is not a vocabulary (did you mean 'analytes'?")
    assert cli("vocab", "analytes", "--format", "yaml").code == 2


def test_an_ambiguous_spelling_is_said_to_be_ambiguous(monkeypatch):
    from trialscreen import vocab

    analytes = vocab.analytes()
    monkeypatch.setattr(analytes, "ambiguous", {vocab.name_key("ca zz"): ("calcium", "corrected_calcium")},
                        raising=False)
    ran = cli("vocab", "ca zz")
    assert ran.code == 1
    assert ("ca zz is ambiguous in the analytes vocabulary: it could mean 'calcium' or 'corrected_calcium'"
            in ran.out + ran.err)


def test_unknown_names_elsewhere_point_to_the_command():
    from trialscreen import vocab
    from trialscreen.vocab import lookup

    assert vocab.analytes().suggest("qqqqqqqq") == "run 'trialscreen vocab analytes' for the known names"
    assert vocab.findings().suggest("qqqqqqqq") == "run 'trialscreen vocab findings' for the known names"
    assert vocab.analytes().suggest("creatinin") == "did you mean 'creatinine'? see 'trialscreen vocab analytes'"
    for kind in KINDS:
        if kind != "units":  # every listed vocabulary is named by the command in its messages
            assert lookup.command_for(lookup.vocabulary(kind).kind) == f"trialscreen vocab {kind}"


def test_every_listed_unit_spelling_is_read_by_the_unit_reader():
    from trialscreen.errors import UnitError
    from trialscreen.units.normalize import normalize
    from trialscreen.vocab import lookup

    for row in lookup.unit_spellings():
        if row["unit"] == "a/b":  # the grammar, not a spelling
            continue
        for spelling in row["spellings"]:
            text = "" if spelling == "(empty)" else spelling
            read = []
            for klass in (None, "chemistry", "enzyme", "count"):
                try:
                    read.append(normalize(text, klass).display.replace("^", ""))  # mm^3 is mm3
                except UnitError:
                    pass
            assert read, f"{spelling!r} is listed but never read"
            if "/" not in spelling and row["unit"] != "1":
                assert row["unit"].replace("^", "") in read, (spelling, row["unit"], read)


def test_screen_does_not_import_the_lookup():
    code = ("import sys\n"
            "from trialscreen_cli.main import run\n"
            "try:\n"
            "    run(['screen', 'examples/patients/NCT05378971-eligible.json', '-t', 'NCT05378971', '-f', 'json'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "sys.stderr.write('LOOKUP' if 'trialscreen.vocab.lookup' in sys.modules else 'LEAN')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stderr.endswith("LEAN"), proc.stderr
