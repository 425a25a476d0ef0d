"""Labeled results: an xarray.Dataset per run directory, stored as netCDF beside a manifest.

Dimensions: `model` (when a sweep trains several kinds), the grid axes (`density`, `seed`,
and `importance`, `relative_importance`, `lr` when they take several values), `hidden`,
`feature`, and `step` for the loss history. Single-valued axes are scalar coordinates.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import jax
import numpy as np
import xarray as xr

from superjax import theory, train
from superjax.config import ConfigError, SweepConfig
from superjax.errors import SuperjaxError
from superjax.grid import AXES, Grid
from superjax.models import MODELS

RESULTS_FILE = "results.nc"
MANIFEST_FILE = "manifest.json"
CONFIG_FILE = "config.json"
# Config fields that change how results are shown, not what is computed.
PRESENTATION_FIELDS = ("description", "figures", "reports")

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
    "W_snapshot": ("snapshot", "hidden", "feature"),
    "adv_loss": ("attack",),
    "loss_increase": ("attack",),
    "vulnerability": ("attack",),
}
_DESCRIPTIONS = {
    "W": "embedding matrix, hidden x feature",
    "b": "output bias",
    "loss": "importance-weighted squared error (sum over features, mean over samples) "
            "on held-out samples at the end of training",
    "train_loss": "mean training loss over the last segment of steps",
    "diverged": "a non-finite loss or gradient occurred; parameters are the last finite ones",
    "features_per_dim": "||W||_F^2 / m",
    "feature_norm": "||W_i||",
    "dimensionality": "D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2",
    "superposition": "sum over j != i of (W_i_hat . W_j)^2",
    "loss_history": "mean training loss over the segment of steps ending at `step`",
    "W_out": "output matrix of the untied (abs) model, feature x hidden",
    "neuron_polysemanticity": "participation ratio of each hidden neuron's input weights "
                              "(sum_i W_ki^2)^2 / sum_i W_ki^4: 1 = monosemantic",
    "W_snapshot": "W after `snapshot` optimiser steps",
    "adv_loss": "E[L(x + delta)] on the held-out samples, delta from `attack` with "
                "||delta|| <= attack_eps x mean ||x||, loss against the clean target",
    "loss_increase": "E[L(x + delta)] - E[L(x)] (raw; shrinks with sparser inputs)",
    "vulnerability": "(E[L(x + delta)] - E[L(x)]) / E[||x||^2]: loss increase per unit of "
                     "input energy",
    "baseline_loss": "loss of the best constant output (closed form, same data and weights)",
    "feature_importance": "importance of each feature in the loss",
    "feature_density": "probability that each feature is nonzero",
}


def build(cfg: SweepConfig, grid: Grid, outputs: dict[str, dict[str, np.ndarray]],
          segment_ends: np.ndarray) -> xr.Dataset:
  """Assembles per-model outputs of shape (runs, ...) into a labeled dataset."""
  multi = len(cfg.models) > 1
  lead = (("model",) if multi else ()) + grid.dims
  data_vars = {}
  for name, trailing in _VARIABLE_DIMS.items():
    if name not in next(iter(outputs.values())) and name != "train_loss":
      continue
    if name == "train_loss":
      per_model = [out["loss_history"][:, -1] for out in outputs.values()]
    else:
      per_model = [out[name] for out in outputs.values()]
    values = np.stack([grid.unflatten(v) for v in per_model]) if multi else grid.unflatten(per_model[0])
    data_vars[name] = (lead + trailing, values, {"description": _DESCRIPTIONS[name]})
  hp = grid.hparams()
  for name, fn in (("feature_importance", train.feature_importance),
                   ("feature_density", train.feature_density)):
    values = np.asarray(jax.vmap(functools.partial(fn, cfg.n))(hp))
    data_vars[name] = (grid.dims + ("feature",), grid.unflatten(values),
                       {"description": _DESCRIPTIONS[name]})
  zero_mean = [cfg.signed and MODELS[model].target == "input" for model in outputs]
  baseline = [theory.constant_baseline_loss(data_vars["feature_importance"][1],
                                            data_vars["feature_density"][1], z) for z in zero_mean]
  data_vars["baseline_loss"] = (lead, np.stack(baseline) if multi else baseline[0],
                                {"description": _DESCRIPTIONS["baseline_loss"]})
  coords = {axis: (axis if axis in grid.dims else (), grid.coords[axis] if axis in grid.dims
                   else grid.coords[axis][0]) for axis in AXES}
  coords.update(hidden=np.arange(cfg.m), feature=np.arange(cfg.n), step=segment_ends)
  if cfg.snapshots:
    coords["snapshot"] = train.snapshot_steps(cfg)
  if cfg.eval_attacks:
    coords["attack"] = list(cfg.eval_attacks)
  if multi:
    coords["model"] = list(cfg.models)
  attrs = {"sweep": cfg.name, "model": ",".join(cfg.models), "config": cfg.to_json()}
  return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def config_of(dataset: xr.Dataset) -> SweepConfig:
  return SweepConfig.from_dict(json.loads(dataset.attrs["config"]))


def models_of(dataset: xr.Dataset) -> list[str]:
  return dataset.attrs["model"].split(",")


def per_model(dataset: xr.Dataset) -> list[tuple[str, xr.Dataset]]:
  """(model name, that model's results) pairs, with or without a `model` dimension."""
  if "model" in dataset.dims:
    return [(str(m), dataset.sel(model=m)) for m in dataset.model.values]
  return [(models_of(dataset)[0], dataset)]


def best_seed(dataset: xr.Dataset) -> xr.Dataset:
  """Keeps, in every cell of the grid, the seed with the lowest loss (diverged runs last)."""
  loss = dataset["loss"].where(~dataset["diverged"].astype(bool) & np.isfinite(dataset["loss"]), np.inf)
  return dataset.isel(seed=loss.argmin("seed"))


def first_of_other_axes(dataset: xr.Dataset, keep: tuple[str, ...]) -> xr.Dataset:
  """Selects the first value of every grid axis not in `keep`."""
  return dataset.isel({d: 0 for d in dataset["loss"].dims if d not in keep})


def prepare_run_dir(cfg, run_dir: Path, fresh: bool) -> None:
  """Makes `run_dir` the home of a run of `cfg` (any experiment's config).

  A directory holding the same config is kept (the run resumes, or is finished); one
  holding a different config is refused, naming the fields that differ, unless `fresh`,
  which moves it aside; a non-empty directory that is no run is refused.
  """
  run_dir = Path(run_dir)
  config_file = run_dir / CONFIG_FILE
  current = json.loads(json.dumps(cfg.to_dict()))
  if config_file.exists():
    try:
      previous = json.loads(config_file.read_text())
    except (OSError, ValueError) as e:
      problem = f"its {CONFIG_FILE} is unreadable ({type(e).__name__})"
    else:
      changed = [k for k in sorted(set(previous) | set(current))
                 if k not in PRESENTATION_FIELDS and previous.get(k) != current.get(k)]
      problem = f"it holds a run with different {', '.join(changed)}" if changed else None
    if fresh:
      stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
      moved = run_dir.with_name(f"{run_dir.name}.previous-{stamp}")
      run_dir.rename(moved)
      print(f"moved the previous run to {moved}", file=sys.stderr, flush=True)
    elif problem:
      raise ConfigError(f"{run_dir}: {problem}; pass --fresh to start anew "
                          "(the old run is kept beside it) or --out to choose another directory")
  elif run_dir.exists() and any(run_dir.iterdir()):
    raise ConfigError(f"{run_dir}: exists and is not a superjax run; choose another --out")
  run_dir.mkdir(parents=True, exist_ok=True)
  write_atomic(config_file, json.dumps(current, indent=2))


def write_atomic(path: Path, text_or_writer) -> None:
  """Writes a file through a temporary name so a crash never leaves half a file."""
  tmp = path.with_name(path.name + ".tmp")
  if isinstance(text_or_writer, str):
    tmp.write_text(text_or_writer)
  else:
    text_or_writer(tmp)
  os.replace(tmp, path)


def manifest(cfg: SweepConfig, timings: dict, started: datetime.datetime) -> dict:
  packages = {}
  for name in ("superjax", "jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy",
               "xarray"):
    try:
      packages[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
      packages[name] = None
  device = jax.devices()[0]
  return {
      "sweep": cfg.name,
      "config": cfg.to_dict(),
      "started": started.isoformat(timespec="seconds"),
      "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "timings": timings,
      "device": {"platform": device.platform, "kind": device.device_kind,
                 "count": jax.device_count(), "processes": jax.process_count()},
      "python": platform.python_version(),
      "machine": platform.machine(),
      "packages": packages,
  }


def save(dataset: xr.Dataset, run_dir: Path, manifest_data: dict) -> None:
  run_dir = Path(run_dir)
  write_atomic(run_dir / RESULTS_FILE,
               lambda tmp: dataset.to_netcdf(tmp, engine="h5netcdf"))
  write_atomic(run_dir / MANIFEST_FILE, json.dumps(manifest_data, indent=2))


def load(run_dir: str | Path) -> xr.Dataset:
  """Results of a finished run directory as an xarray.Dataset (read fully into memory)."""
  path = Path(run_dir) / RESULTS_FILE
  if not path.exists():
    if (Path(run_dir) / "config.json").exists():
      raise SuperjaxError(f"{run_dir} holds no results yet: the run has not finished; "
                          "rerun the same `superjax run` command to resume it")
    raise SuperjaxError(f"{run_dir} is not a superjax run directory (no {RESULTS_FILE})")
  try:
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
      dataset = dataset.load()
  except Exception as e:
    raise SuperjaxError(f"{path} is unreadable ({type(e).__name__}); rerun the sweep "
                        "into a new --out") from None
  if "diverged" in dataset:  # netCDF stores booleans as integers
    dataset["diverged"] = dataset["diverged"].astype(bool)
  return dataset


def read_manifest(run_dir: str | Path) -> dict:
  path = Path(run_dir) / MANIFEST_FILE
  return json.loads(path.read_text()) if path.exists() else {}
