"""trialscreen: clinical-trial eligibility screening with a three-valued rule engine.

The library never imports the command-line framework; ``trialscreen_cli`` is a
thin layer over these functions::

    from trialscreen import load_trial, load_patient, screen
    result = screen(load_trial("NCT05378971"), load_patient("patient.json"))
    result.verdict  # "eligible", "ineligible" or "needs_review"

Names are imported on first use, so ``import trialscreen.errors`` stays cheap.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "bundled_trials": "trialscreen.criteria.library",
    "load_trial": "trialscreen.criteria.library",
    "screen": "trialscreen.evaluate.screen",
    "load_patient": "trialscreen.patient.load",
    "parse_patient": "trialscreen.patient.load",
    "patient_from_dict": "trialscreen.patient.load",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'trialscreen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
