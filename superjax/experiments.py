"""The kinds of experiment a sweep file can define, and how each one runs, reports and draws.

A sweep file's `CONFIG` is a frozen config dataclass; its class picks the experiment:

  SweepConfig  grids of toy models trained by the engine (superjax.engine)
  UAndConfig   U-AND circuits and epsilon-linear readouts (superjax.uand_sweep)
  SAEStudyConfig  sparse autoencoders on robust ResNet18 stages (superjax.sae_study)

Every experiment module provides

  run(cfg, run_dir: Path, fresh: bool, show_progress: bool) -> xarray.Dataset
  render_report(dataset) -> str
  draw_figures(dataset, out_dir: Path) -> list[Path]   (paths of the .png files)

and stores the experiment's name in `dataset.attrs["experiment"]`, so that `superjax plot`
and `superjax report` find the right module for a finished run.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import xarray as xr

from superjax.core.errors import SuperjaxError

TOY = "toy"
# experiment name -> (config class name, module providing run/render_report/draw_figures)
EXPERIMENTS = {
    TOY: ("SweepConfig", "superjax.experiments"),
    "uand": ("UAndConfig", "superjax.uand_sweep"),
    "sae": ("SAEStudyConfig", "superjax.sae_study"),
}


def name_of_config(cfg: Any) -> str:
  for name, (config_class, _) in EXPERIMENTS.items():
    if type(cfg).__name__ == config_class:
      return name
  raise SuperjaxError(f"CONFIG is a {type(cfg).__name__}, not one of "
                      f"{', '.join(c for c, _ in EXPERIMENTS.values())}")


def module(name: str):
  return importlib.import_module(EXPERIMENTS[name][1])


def of_config(cfg: Any):
  """The module that runs `cfg`."""
  return module(name_of_config(cfg))


def of_dataset(dataset: xr.Dataset):
  """The module that made `dataset` (toy-model results predate the attribute)."""
  name = dataset.attrs.get("experiment", TOY)
  if name not in EXPERIMENTS:
    raise SuperjaxError(f"results name an unknown experiment {name!r}")
  return module(name)


# The toy-model experiment: the engine, report and plots modules.

def run(cfg, run_dir: Path, fresh: bool, show_progress: bool) -> xr.Dataset:
  from superjax.toy import run as toy_run
  return toy_run.run(cfg, run_dir, fresh=fresh, show_progress=show_progress)


def render_report(dataset: xr.Dataset) -> str:
  from superjax.toy import report
  return report.render(dataset)


def draw_figures(dataset: xr.Dataset, out_dir: Path) -> list[Path]:
  from superjax.toy import figures, results
  return figures.draw(dataset, out_dir, results.config_of(dataset).figures)
