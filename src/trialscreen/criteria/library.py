"""The bundled trial library, and finding a trial by id or path.

Bundled trials are the YAML files of the project's top-level ``criteria/``
folder, installed as the ``trialscreen_trials`` package. The environment
variable TRIALSCREEN_CRITERIA may name further folders (separated by the
path separator) whose trials are listed and found by id too.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from trialscreen.errors import TrialNotFound

_CACHE: dict = {}


def criteria_dirs() -> list[Path]:
    dirs = []
    extra = os.environ.get("TRIALSCREEN_CRITERIA", "")
    for part in extra.split(os.pathsep):
        if part.strip():
            dirs.append(Path(part.strip()))
    try:
        import trialscreen_trials

        dirs.append(Path(trialscreen_trials.__path__[0]))
    except ImportError:  # running from a source tree that was not installed
        dirs.append(Path(__file__).resolve().parents[3] / "criteria")
    return dirs


def bundled_trials() -> list[Path]:
    """Every trial file in the library, sorted by id."""
    seen: dict[str, Path] = {}
    for d in criteria_dirs():
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            seen.setdefault(path.stem.upper(), path)
    return [seen[k] for k in sorted(seen)]


def resolve(id_or_path: str) -> Path:
    """The criteria file a --trial value names: a path, or a bundled trial id."""
    p = Path(id_or_path)
    if p.suffix.lower() in (".yaml", ".yml") or os.sep in id_or_path or "/" in id_or_path:
        return p
    wanted = id_or_path.strip().upper()
    trials = bundled_trials()
    for path in trials:
        if path.stem.upper() == wanted:
            return path
    ids = [t.stem for t in trials]
    close = difflib.get_close_matches(id_or_path.upper(), ids, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else (
        "bundled trials: " + ", ".join(ids) if ids else "no trials are bundled")
    raise TrialNotFound(f"no trial '{id_or_path}'", hint=hint + "; or give the path of a criteria file")


def _definition_files() -> list[Path]:
    return [p for d in criteria_dirs() if d.is_dir() for p in sorted(d.glob("_definitions*.yaml"))]


def shared_definitions() -> dict:
    """The definitions of every ``_definitions*.yaml`` in the library folders,
    compiled once; a trial refers to them with ``{use: name}``."""
    from trialscreen.criteria.compile import compile_definitions, read_text

    files = _definition_files()
    key = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    cached = _CACHE.get(("shared", key))
    if cached is not None:
        return cached
    merged: dict = {}
    for path in files:
        merged.update(compile_definitions(read_text(path), str(path), merged))
    _CACHE[("shared", key)] = merged
    return merged


def load_trial(id_or_path: str, warnings: list | None = None):
    """Compile a trial (once per file and content) by id or path. Without ``warnings``
    the compiled trial comes from the on-disk cache (trialscreen.cache) when one was made
    from exactly these bytes, these shared definitions and this code."""
    path = resolve(str(id_or_path))
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key is not None and key in _CACHE and warnings is None:
        return _CACHE[key]
    if warnings is None and key is not None:
        trial = _cached_compile(path)
    else:
        from trialscreen.criteria.compile import compile_file

        trial = compile_file(path, shared=shared_definitions(), warnings=warnings)
    if key is not None:
        _CACHE[key] = trial
    return trial


def _cached_compile(path: Path):
    """The compiled trial of ``path``, through the on-disk cache keyed by its bytes and
    those of the shared definitions."""
    from trialscreen import cache

    def compile_it():
        from trialscreen.criteria.compile import compile_file

        return compile_file(path, shared=shared_definitions())

    try:
        parts: list = [str(path), path.read_bytes()]
        for shared in _definition_files():
            parts += [str(shared), shared.read_bytes()]
    except OSError:   # compile_file says what is wrong with the file
        return compile_it()
    return cache.cached("trial", tuple(parts), compile_it)
