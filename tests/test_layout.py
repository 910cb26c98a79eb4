"""House rules of the code that a test can hold (issue 10): no module reaches into another
module's private names, tests included, and no one-letter module aliases."""

from __future__ import annotations

import ast

from conftest import ROOT

FILES = sorted(p for d in ("src", "cli", "tests", "bench") for p in (ROOT / d).rglob("*.py"))


def _ours(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in ("trialscreen", "trialscreen_cli", "trialscreen_trials")


def _reaches(name: str, source: str) -> list[str]:
    tree = ast.parse(source)
    out = []
    modules: set[str] = set()     # names bound to one of our modules in this file
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ours(node.module):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append(f"{name}:{node.lineno} imports {node.module}.{alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    modules.add(alias.asname or alias.name.split(".")[0])
                if alias.asname and len(alias.asname) == 1:
                    out.append(f"{name}:{node.lineno} aliases {alias.name} as {alias.asname}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            out.append(f"{name}:{node.lineno} reads {node.value.id}.{node.attr}")
    return out


def test_the_check_finds_a_reach():
    source = ("from trialscreen.vocab import _terms\nfrom trialscreen import cache\ncache._PACKAGE\n"
              "import trialscreen.ir as N\nfrom __future__ import annotations\nfrom trialscreen import __version__\n")
    assert _reaches("bad.py", source) == ["bad.py:1 imports trialscreen.vocab._terms",
                                          "bad.py:4 aliases trialscreen.ir as N", "bad.py:3 reads cache._PACKAGE"]


def test_no_module_reaches_into_another_modules_private_names():
    found = [line for path in FILES
             for line in _reaches(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))]
    assert found == []
