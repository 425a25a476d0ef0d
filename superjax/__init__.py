"""superjax: grids of toy models of superposition trained as one jitted, vmapped program."""

from superjax.config import SweepConfig
from superjax.results import load

__all__ = ["SweepConfig", "load"]
__version__ = "0.1.0"
