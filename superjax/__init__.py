"""superjax: grids of models of superposition trained as one jitted, vmapped program.

From Python: `superjax.run(sweep, **overrides)` trains (or resumes, or loads) and returns
labeled xarray results; `superjax.figures(ds)` and `superjax.report(ds)` draw and
summarise them; `superjax.load(run_dir)` reads a finished run. See superjax.api.

Your own model: `superjax.Model(init=..., step=..., axes=superjax.product(...), ...)`,
ONE run's functions and the grid; `superjax.run(model)` or `superjax run model.py`
trains the grid as one program (docs/custom_models.md); `superjax.load_model(path)`
reads a model file's MODEL.

Importing superjax loads no family, no JAX and no matplotlib: each name below is
imported when first used.
"""

import importlib

from superjax.core import registry as _registry

# The built-in experiment families, imported when first used.
_registry.register("toy", "superjax.toy:EXPERIMENT")
_registry.register("zoo_sae", "superjax.zoo_sae:EXPERIMENT")
# Beside zoo_sae: the scorecard lists papers in registry order, and Bereska et al.'s
# counter-claim (toy_sae_effective) belongs next to the Gorton & Lewis claims it answers.
_registry.register("toy_sae", "superjax.toy_sae:EXPERIMENT")
_registry.register("toy_sae_effective", "superjax.toy_sae:EFFECTIVE_EXPERIMENT")
_registry.register("uand", "superjax.uand:EXPERIMENT")
_registry.register("deep_circuits", "superjax.deep_circuits:EXPERIMENT")
_registry.register("custom", "superjax.custom:EXPERIMENT")

# name -> (module, attribute; None for the module itself)
_LAZY = {
    "Model": ("superjax.custom.config", "Model"),
    "SweepConfig": ("superjax.toy.config", "SweepConfig"),
    "best_seed": ("superjax.core.results", "best_seed"),
    "config": ("superjax.api", "config"),
    "export_saes": ("superjax.api", "export_saes"),
    "figures": ("superjax.api", "figures"),
    "keys": ("superjax.core.keys", None),
    "list_sweeps": ("superjax.api", "list_sweeps"),
    "load": ("superjax.core.rundir", "load"),
    "load_model": ("superjax.custom.run", "load_file"),
    "product": ("superjax.core.axes", "product"),
    "report": ("superjax.api", "report"),
    "run": ("superjax.api", "run"),
    "zipped": ("superjax.core.axes", "zipped"),
}

__all__ = sorted(_LAZY)
__version__ = "0.1.0"


def __getattr__(name: str):
  if name not in _LAZY:
    raise AttributeError(f"module 'superjax' has no attribute {name!r}")
  module, attribute = _LAZY[name]
  value = importlib.import_module(module)
  value = value if attribute is None else getattr(value, attribute)
  globals()[name] = value  # found once
  return value


def __dir__() -> list[str]:
  return sorted(set(globals()) | set(_LAZY))
