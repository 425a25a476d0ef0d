"""superjax: grids of toy models of superposition trained as one jitted, vmapped program."""

from superjax.core.rundir import load
from superjax.toy.config import SweepConfig

__all__ = ["SweepConfig", "load"]
__version__ = "0.1.0"
