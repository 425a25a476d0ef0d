"""superjax: grids of models of superposition trained as one jitted, vmapped program."""

from superjax.core import experiment as _experiment

# The built-in experiment families, imported when first used.
_experiment.register("toy", "superjax.toy:EXPERIMENT")
_experiment.register("zoo_sae", "superjax.zoo_sae:EXPERIMENT")
_experiment.register("uand", "superjax.uand:EXPERIMENT")

from superjax.core.rundir import load  # noqa: E402
from superjax.toy.config import SweepConfig  # noqa: E402

__all__ = ["SweepConfig", "load"]
__version__ = "0.1.0"
