"""Conversion factors between units, computed once with pint and cached.

pint is imported the first time a factor is needed and never per patient: a
factor depends only on (source unit, target unit, analyte), so the per-patient
path is a dictionary look-up and a multiplication.

Mass <-> molar conversions go through the analyte's molar mass; equivalents go
through its valence; international units and copies never convert into each
other because the registry gives them separate dimensions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trialscreen.errors import UnitError
from trialscreen.units.normalize import Unit

if TYPE_CHECKING:  # pragma: no cover
    from trialscreen.vocab import Analyte

_DEFINITIONS = Path(__file__).with_name("definitions.txt")
_REGISTRY = None
_FACTORS: dict[tuple, float | UnitError] = {}
_DISK: "_DiskCache | None" = None


class _DiskCache:
    """Factors computed by pint in earlier runs, so that a one-patient screen
    need not import pint at all. The file name carries a hash of the unit
    definitions, the analyte vocabulary and this code: change any of them and
    the old file is simply not read. The file carries a checksum of its factors, checked
    when it is read: an edited or damaged file is ignored. TRIALSCREEN_CACHE names the folder
    (default ~/.cache/trialscreen); a folder that cannot be written only
    turns the saving off."""

    def __init__(self):
        import hashlib
        import os

        digest = hashlib.sha256(_DEFINITIONS.read_bytes())
        here = Path(__file__).resolve()
        for source in (here, here.with_name("normalize.py"), here.parents[1] / "vocab" / "analytes.yaml"):
            digest.update(source.read_bytes())  # the data and the code that compute a factor
        base = os.environ.get("TRIALSCREEN_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "trialscreen")
        self.path = Path(base) / f"factors-{digest.hexdigest()[:16]}.json"
        self.data: dict = {}
        self.dirty = False
        self.data = _read_factors(self.path)

    @staticmethod
    def key(k: tuple) -> str:
        return "|".join(map(repr, k))

    def get(self, k: tuple):
        hit = self.data.get(self.key(k))
        if hit is None:
            return None
        if isinstance(hit, list):  # a refusal: message and hint
            return UnitError(hit[0], hint=hit[1])
        return float(hit)

    def put(self, k: tuple, value) -> None:
        if len(self.data) >= 5000:
            return
        self.data[self.key(k)] = [value.message, value.hint] if isinstance(value, UnitError) else value
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        import json
        import os
        import tempfile

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"checksum": _checksum(self.data), "factors": self.data}, fh)
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            pass


def _checksum(data: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _read_factors(path: Path) -> dict:
    """The factors of a cache file whose checksum matches and whose every entry is a finite
    number or a refusal (message, hint); anything else is no cache at all (an edited file
    must never turn 2.1 mg/dL into 2.1 umol/L)."""
    import json
    import math

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        data = raw["factors"]
        if not isinstance(data, dict) or raw["checksum"] != _checksum(data):
            return {}
        for value in data.values():
            ok = (isinstance(value, float) and math.isfinite(value) and value > 0) or (
                isinstance(value, list) and len(value) == 2 and all(isinstance(v, (str, type(None))) for v in value))
            if not ok:
                return {}
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _disk() -> "_DiskCache":
    global _DISK
    if _DISK is None:
        import atexit

        _DISK = _DiskCache()
        atexit.register(_DISK.save)
    return _DISK


def registry():
    """The one pint registry of the program, built on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        import pint  # deferred: ~200 ms, needed only when a new unit pair is seen

        _REGISTRY = pint.UnitRegistry(str(_DEFINITIONS), on_redefinition="raise", cache_folder=None)
    return _REGISTRY


def _quantity(unit: Unit):
    return registry().Quantity(unit.scale, unit.expr)


# A bare number and a percentage are both dimensionless to pint, but '50' for
# a percentage analyte is not 5000 %, and '45 %' is not a ratio of 0.45: each
# converts only to itself.
_PLAIN = {"count", "percent"}


def _compute(src: Unit, dst: Unit, analyte: "Analyte | None") -> float:
    if (src.expr in _PLAIN or dst.expr in _PLAIN) and src.expr != dst.expr:
        name = analyte.name if analyte else "this value"
        raise UnitError(f"{src} cannot be converted to {dst} for {name}",
                        hint=f"give {name} in {dst}" if str(dst) != "1" else f"give {name} as a plain number")
    ureg = registry()
    q = _quantity(src)
    t = _quantity(dst)
    name = analyte.name if analyte else "this value"
    if q.dimensionality == t.dimensionality:
        return float(q.to(t.units).magnitude / t.magnitude)
    dims = {str(k) for k in q.dimensionality} | {str(k) for k in t.dimensionality}
    if "[equivalent]" in dims:
        valence = analyte.valence if analyte else None
        if not valence:
            raise UnitError(
                f"cannot convert {src} to {dst} for {name}: equivalents need the ion's valence",
                hint=f"give {name} in mmol/L or in mass units",
            )
        per_mole = ureg.Quantity(1.0 / valence, "mole / equivalent")
        if "[equivalent]" in {str(k) for k in q.dimensionality}:
            q = q * per_mole
        else:
            t = t * per_mole
        if q.dimensionality == t.dimensionality:
            return float(q.to(t.units).magnitude / t.magnitude)
    if "[substance]" in dims and "[mass]" in dims:
        if analyte and analyte.molar_units_refused:
            raise UnitError(f"{analyte.molar_units_refused}", hint=f"found {src}")
        if analyte and analyte.molar_mass:
            mw = ureg.Quantity(analyte.molar_mass, "gram / mole")
            for candidate in (q / mw, q * mw):
                if candidate.dimensionality == t.dimensionality:
                    return float(candidate.to(t.units).magnitude / t.magnitude)
            raise UnitError(f"the unit {src} cannot be converted to {dst} for {name}",
                            hint="check that the value belongs to this analyte and its unit is right")
        raise UnitError(
            f"cannot convert {src} to {dst} for {name}: it has no molar mass in the vocabulary",
            hint="give the value in the threshold's kind of unit",
        )
    raise UnitError(f"the unit {src} cannot be converted to {dst} for {name}",
                    hint="check that the value belongs to this analyte and its unit is right")


def factor(src: Unit, dst: Unit, analyte: "Analyte | None" = None) -> float:
    """Return f such that a value in ``src`` times f is the value in ``dst``.

    Raises :class:`UnitError` when the two cannot convert for this analyte.
    Results, failures included, are cached per (src, dst, analyte).
    """
    key = (src.expr, src.scale, dst.expr, dst.scale, analyte.name if analyte else None)
    hit = _FACTORS.get(key)
    if hit is None:
        hit = _disk().get(key)
    if hit is None:
        try:
            hit = _compute(src, dst, analyte)
        except UnitError as exc:
            hit = exc
        _disk().put(key, hit)
        if len(_FACTORS) >= 10_000:  # only a hostile file has this many distinct units
            _FACTORS.clear()
        _FACTORS[key] = hit
    if isinstance(hit, UnitError):
        raise UnitError(hit.message, hint=hit.hint)
    return hit


def family_of(unit: Unit, analyte: "Analyte") -> tuple:
    """(the analyte's unit family ``unit`` converts to, None) or (None, the first
    refusal). An analyte without units accepts any unit as its own family."""
    first = None
    for family in analyte.units:
        try:
            factor(unit, family, analyte)
        except UnitError as exc:
            first = first or exc
            continue
        return family, None
    return (unit, None) if not analyte.units else (None, first)


def convertible(src: Unit, dst: Unit, analyte: "Analyte | None" = None) -> bool:
    try:
        factor(src, dst, analyte)
    except UnitError:
        return False
    return True
