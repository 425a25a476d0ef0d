"""superjax: grids of models of superposition trained as one jitted, vmapped program.

From Python: `superjax.run(sweep, **overrides)` trains (or resumes, or loads) and returns
labeled xarray results; `superjax.figures(ds)` and `superjax.report(ds)` draw and
summarise them; `superjax.load(run_dir)` reads a finished run. See superjax.api.

Your own model: `superjax.Model(init=..., step=..., axes=superjax.product(...), ...)`,
ONE run's functions and the grid; `superjax.run(model)` or `superjax run model.py`
trains the grid as one program (docs/custom_models.md).
"""

from superjax.core import experiment as _experiment

# The built-in experiment families, imported when first used.
_experiment.register("toy", "superjax.toy:EXPERIMENT")
_experiment.register("zoo_sae", "superjax.zoo_sae:EXPERIMENT")
# Beside zoo_sae: the scorecard lists papers in registry order, and Bereska et al.'s
# counter-claim (toy_sae_effective) belongs next to the Gorton & Lewis claims it answers.
_experiment.register("toy_sae", "superjax.toy_sae:EXPERIMENT")
_experiment.register("toy_sae_effective", "superjax.toy_sae:EFFECTIVE_EXPERIMENT")
_experiment.register("uand", "superjax.uand:EXPERIMENT")
_experiment.register("deep_circuits", "superjax.deep_circuits:EXPERIMENT")
_experiment.register("custom", "superjax.custom:EXPERIMENT")

from superjax.api import config, export_saes, figures, list_sweeps, report, run
from superjax.core import keys
from superjax.core.axes import product, zipped
from superjax.core.rundir import load
from superjax.custom.config import Model
from superjax.toy.config import SweepConfig
from superjax.toy.results import best_seed

__all__ = ["Model", "SweepConfig", "best_seed", "config", "export_saes", "figures", "keys",
           "list_sweeps", "load", "product", "report", "run", "zipped"]
__version__ = "0.1.0"
