"""The installed package holds every module: pyproject.toml lists the packages by hand, so a
new subpackage missing from the list works in an editable install (and in CI) but not for a
user who runs 'pip install .'."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_library_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set()
    for base, name in ((ROOT / "src" / "trialscreen", "trialscreen"), (ROOT / "cli" / "trialscreen_cli", "trialscreen_cli")):
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join((name, *rel.parts)))
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
