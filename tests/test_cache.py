"""A cache never changes a result: the factor cache and the compiled-trial cache are keyed
by what they depend on, check their own checksum, and treat anything unexpected as a miss.
Each case runs the real command in fresh processes sharing one cache folder, as two runs
of a user's would."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

from conftest import EXAMPLES, ROOT

US_UNITS = EXAMPLES / "NCT05378971-us-units-ineligible.json"


def screen_json(cache, *args) -> dict:
    env = dict(os.environ, TRIALSCREEN_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-m", "trialscreen", "screen", *map(str, args), "--format", "json"],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
    return json.loads(out)[0]


def creatinine_check(result) -> str:
    return next(ch["text"] for c in result["criteria"] for ch in c["checks"] if ch["text"].startswith("creatinine"))


def test_an_edited_factor_cache_is_ignored_not_believed(tmp_path):
    first = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    assert "2.1 mg/dL = 185.6 umol/L" in creatinine_check(first)
    (factors,) = tmp_path.glob("factors-*.json")
    raw = json.loads(factors.read_text())
    keys = [k for k in raw["factors"] if "creatinine" in k and isinstance(raw["factors"][k], float)]
    assert keys, "the first run cached the creatinine factor"
    for k in keys:
        raw["factors"][k] = 1.0   # mg/dL read as umol/L: 2.1 would pass as 2.1 umol/L
    factors.write_text(json.dumps(raw))
    again = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    assert creatinine_check(again) == creatinine_check(first)
    assert again["verdict"] == first["verdict"]


def test_a_factor_cache_with_a_wrong_type_of_value_is_ignored(tmp_path):
    screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    (factors,) = tmp_path.glob("factors-*.json")
    raw = json.loads(factors.read_text())
    raw["factors"] = {k: "88.4" for k in raw["factors"]}
    factors.write_text(json.dumps(raw))
    again = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    assert "2.1 mg/dL = 185.6 umol/L" in creatinine_check(again)


def test_the_trial_cache_gives_the_same_result_and_a_damaged_entry_is_a_miss(tmp_path):
    first = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    (entry,) = tmp_path.glob("trial-*.pickle")
    assert screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971") == first
    blob = bytearray(entry.read_bytes())
    blob[-20] ^= 0xFF   # one flipped byte: the checksum no longer matches
    entry.write_bytes(bytes(blob))
    assert screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971") == first


def test_a_cache_entry_that_would_run_code_is_refused(tmp_path):
    first = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    (entry,) = tmp_path.glob("trial-*.pickle")
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    import hashlib

    from trialscreen.cache import MAGIC

    payload = pickle.dumps(Exploit())
    entry.write_bytes(MAGIC + hashlib.sha256(payload).digest() + payload)   # a valid checksum
    assert screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971") == first
    assert not marker.exists()


def test_an_edited_trial_file_is_compiled_again(tmp_path):
    source = (ROOT / "criteria" / "NCT05378971.yaml").read_text(encoding="utf-8")
    trial = tmp_path / "trial.yaml"
    trial.write_text(source, encoding="utf-8")
    cache = tmp_path / "cache"
    first = screen_json(cache, US_UNITS, "--trial", trial)
    assert "lt 177 umol/L" in source or "< 177 umol/L" in creatinine_check(first)
    trial.write_text(source.replace("177 umol/L", "150 umol/L"), encoding="utf-8")
    again = screen_json(cache, US_UNITS, "--trial", trial)
    assert "150 umol/L" in creatinine_check(again)
    assert len(list(cache.glob("trial-*.pickle"))) == 2


def test_damaged_vocabulary_entries_are_misses(tmp_path):
    first = screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971")
    entries = list(tmp_path.glob("vocab-*.pickle"))
    assert len(entries) >= 4, "the first run cached the parsed vocabularies"
    for entry in entries:
        blob = bytearray(entry.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        entry.write_bytes(bytes(blob))
    assert screen_json(tmp_path, US_UNITS, "--trial", "NCT05378971") == first


def test_a_warm_screen_parses_no_yaml(tmp_path):
    """With the trial and the vocabularies cached, a JSON screen neither imports the YAML
    parser nor the criteria compiler (start-up, issue 10)."""
    probe = ("import sys, runpy; sys.argv = ['trialscreen', 'screen', sys.argv[1], '--trial', 'NCT05378971',"
             " '--format', 'json'];\ntry:\n    runpy.run_module('trialscreen', run_name='__main__')\n"
             "except SystemExit:\n    pass\nprint(sorted(m for m in ('yaml', 'trialscreen.criteria.compile', 'pint')"
             " if m in sys.modules), file=sys.stderr)")
    env = dict(os.environ, TRIALSCREEN_CACHE=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", probe, str(US_UNITS)], capture_output=True, text=True,
                           env=env, cwd=ROOT).stderr.strip().splitlines()[-1] for _ in range(2)]
    assert "yaml" in runs[0]                     # the first run parses and fills the cache
    assert runs[1] == "[]"
