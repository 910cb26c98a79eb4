"""Units: reading lab unit spellings, and conversion factors (one pint registry)."""

from trialscreen.units.convert import convertible, factor, registry
from trialscreen.units.normalize import DIMENSIONLESS, Unit, normalize, split_value

__all__ = ["DIMENSIONLESS", "Unit", "convertible", "factor", "normalize", "registry", "split_value"]
