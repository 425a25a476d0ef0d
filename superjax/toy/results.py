"""The toy family's labeled results: one xarray.Dataset per run directory.

Dimensions: `model` (when a sweep trains several kinds), the grid axes (`density`, `seed`,
and the others when they take several values), `hidden`, `feature`, `step` for the loss
history, `attack` for the evaluation attacks, and `snapshot` for the variables measured at
the snapshot steps (each named `<variable>_snapshot`). Single-valued axes are scalar
coordinates.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import xarray as xr

from superjax.core import results as results_lib
from superjax.toy import theory, train
from superjax.toy.config import CORRELATIONS, SweepConfig
from superjax.toy.models import MODELS

# Trailing dimensions of each per-run variable.
_VARIABLE_DIMS = {
    "W": ("hidden", "feature"),
    "b": ("feature",),
    "loss": (),
    "train_loss": (),
    "diverged": (),
    "features_per_dim": (),
    "feature_norm": ("feature",),
    "dimensionality": ("feature",),
    "superposition": ("feature",),
    "loss_history": ("step",),
    "W_out": ("feature", "hidden"),
    "neuron_polysemanticity": ("hidden",),
    "adv_loss": ("attack",),
    "loss_increase": ("attack",),
    "vulnerability": ("attack",),
    "spurious_outputs": (),
    "adv_spurious_outputs": ("attack",),
}
# Variables also measured at every snapshot step, as `<name>_snapshot` with a leading
# snapshot dimension.
SNAPSHOT_VARIABLES = ("W", "b", "W_out", "loss", "spurious_outputs", "adv_loss",
                       "loss_increase", "vulnerability", "adv_spurious_outputs")
_DESCRIPTIONS = {
    "W": "embedding matrix, hidden x feature",
    "b": "output bias",
    "loss": "importance-weighted squared error (sum over features, mean over samples) "
            "on held-out samples at the end of training",
    "train_loss": "mean training loss over the last segment of steps",
    "diverged": ("a non-finite loss occurred (parameters are the last finite ones), or the "
                 "parameters turned non-finite with a finite loss (frozen at that segment's end)"),
    "features_per_dim": "||W||_F^2 / m",
    "feature_norm": "||W_i||",
    "dimensionality": "D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2",
    "superposition": "sum over j != i of (W_i_hat . W_j)^2",
    "loss_history": "mean training loss over the segment of steps ending at `step`",
    "W_out": "output matrix of the untied (abs) model, feature x hidden",
    "neuron_polysemanticity": "participation ratio of each hidden neuron's input weights "
                              "(sum_i W_ki^2)^2 / sum_i W_ki^4: 1 = monosemantic",
    "adv_loss": "E[L(x + delta)] on the held-out samples, delta from `attack` with "
                "||delta|| <= attack_eps x mean ||x|| (each input's ||x|| with per_sample_eps), "
                "loss against the clean target",
    "loss_increase": "E[L(x + delta)] - E[L(x)] (raw; shrinks with sparser inputs)",
    "vulnerability": "(E[L(x + delta)] - E[L(x)]) / E[||x||^2]: loss increase per unit of "
                     "input energy",
    "spurious_outputs": f"mean number of outputs above {train.LIT_OUTPUT:g} on held-out "
                        "inputs whose feature the input lacks",
    "adv_spurious_outputs": f"mean number of outputs above {train.LIT_OUTPUT:g} on the "
                            "attacked inputs whose feature the clean input lacks: "
                            "interfering features lit",
    "baseline_loss": "loss of the best constant output (closed form, same data and weights)",
    "feature_importance": "importance of each feature in the loss",
    "feature_density": "probability that each feature is nonzero",
}


def build(cfg: SweepConfig, outputs: dict[str, dict[str, np.ndarray]],
          segment_ends: np.ndarray) -> xr.Dataset:
  """Assembles per-model outputs of shape (runs, ...) into a labeled dataset."""
  axes, dims = cfg.axes(), cfg.result_dims
  on_grid = lambda values: results_lib.on_dims(axes, values, dims)
  multi = len(cfg.models) > 1
  lead = (("model",) if multi else ()) + dims
  data_vars = {}
  variables = dict(_VARIABLE_DIMS, **{f"{name}_snapshot": ("snapshot",) + _VARIABLE_DIMS[name]
                                      for name in SNAPSHOT_VARIABLES})
  for name, trailing in variables.items():
    if name not in next(iter(outputs.values())) and name != "train_loss":
      continue
    if name == "train_loss":
      per_model = [out["loss_history"][:, -1] for out in outputs.values()]
    else:
      per_model = [out[name] for out in outputs.values()]
    values = np.stack([on_grid(v) for v in per_model]) if multi else on_grid(per_model[0])
    data_vars[name] = (lead + trailing, values, {"description": _description(name)})
  hp = train.hparams(cfg)
  for name, fn in (("feature_importance", train.feature_importance),
                   ("feature_density", train.feature_density)):
    values = np.asarray(jax.vmap(functools.partial(fn, cfg.n))(hp))
    data_vars[name] = (dims + ("feature",), on_grid(values),
                       {"description": _DESCRIPTIONS[name]})
  zero_mean = [cfg.signed and MODELS[model].target == "input" for model in outputs]
  baseline = [theory.constant_baseline_loss(data_vars["feature_importance"][1],
                                            data_vars["feature_density"][1], z) for z in zero_mean]
  data_vars["baseline_loss"] = (lead, np.stack(baseline) if multi else baseline[0],
                                {"description": _DESCRIPTIONS["baseline_loss"]})
  # The axes' values as the runs saw them: float32, seeds int32, correlations by name.
  coords = {name: (dim, _as_run_sees(value)) for name, (dim, value) in
            results_lib.coords(axes, dims, labels={"correlation": CORRELATIONS}).items()}
  coords.update(hidden=np.arange(cfg.m), feature=np.arange(cfg.n), step=segment_ends)
  if len(train.snapshot_steps(cfg)):
    coords["snapshot"] = train.snapshot_steps(cfg)
  if cfg.eval_attacks:
    coords["attack"] = list(cfg.eval_attacks)
  if multi:
    coords["model"] = list(cfg.models)
  # The experiment's run adds the sweep's name and config to the attributes.
  return xr.Dataset(data_vars, coords=coords, attrs={"model": ",".join(cfg.models)})


def _as_run_sees(value: np.ndarray) -> np.ndarray:
  value = np.asarray(value)
  return value.astype({"f": np.float32, "i": np.int32}.get(value.dtype.kind, value.dtype))


def _description(name: str) -> str:
  base = name.removesuffix("_snapshot")
  return _DESCRIPTIONS[base] + (", after `snapshot` optimiser steps" if base != name else "")


def models_of(dataset: xr.Dataset) -> list[str]:
  return dataset.attrs["model"].split(",")


def per_model(dataset: xr.Dataset) -> list[tuple[str, xr.Dataset]]:
  """(model name, that model's results) pairs, with or without a `model` dimension."""
  if "model" in dataset.dims:
    return [(str(m), dataset.sel(model=m)) for m in dataset.model.values]
  return [(models_of(dataset)[0], dataset)]


def best_seed(dataset: xr.Dataset) -> xr.Dataset:
  """Keeps, in every cell of the grid, the seed with the lowest held-out loss (diverged
  runs last): core.results.best_seed by the toy's `loss`."""
  return results_lib.best_seed(dataset, "loss")


def first_of_other_axes(dataset: xr.Dataset, keep: tuple[str, ...]) -> xr.Dataset:
  """Selects the first value of every grid axis not in `keep`."""
  return dataset.isel({d: 0 for d in dataset["loss"].dims if d not in keep})
