"""The Python face of superjax, for notebooks and scripts: the CLI's verbs as functions.

  cfg = superjax.config("elhage_intro", steps=2000)      # a sweep's config, changed
  ds = superjax.run("elhage_intro", seeds=1)             # train (or resume, or load)
  figs = superjax.figures(ds)                            # {name: matplotlib Figure}
  print(superjax.report(ds))
  superjax.export_saes(run_dir, "saes")                  # every SAE as a SAELens folder

`run` trains into the same run directory as `superjax run` (resuming a killed run,
loading a finished one, refusing a different config) and shows its progress bar in the
notebook or terminal it runs in; it returns the results and leaves the report and the
figures to `report` and `figures`, which the CLI also writes to report.txt and figures/.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from superjax.core import config as config_module
from superjax.core import experiment, host, rundir, sweeps
from superjax.core.config import Config
from superjax.custom.config import Model


def config(sweep: str | Path | Config | Model, **overrides) -> Config:
  """A sweep's config (by name, by path, a config, or your own superjax.Model) with fields
  (or a Model's axes) replaced.

  Values are Python values (lists or tuples for grid axes) or `--set` strings such as
  "logspace(-3,0,30)"; the config validates itself, naming a bad field in one line.
  """
  if isinstance(sweep, Model):
    cfg = sweep.config()
  else:
    cfg = sweep if isinstance(sweep, Config) else sweeps.load(sweep)
  return config_module.with_values(cfg, overrides) if overrides else cfg


def run(sweep: str | Path | Config | Model, *, out: str | Path | None = None, fresh: bool = False,
        progress: bool = True, precision: str | None = None, **overrides) -> xr.Dataset:
  """Runs a sweep (by name, path or config) with `overrides`, in `out` (default
  checkpoints/<name>), resuming or loading what is there; returns its results.
  `precision` overrides the experiment's matmul precision (as `--precision`)."""
  host.setup()
  cfg = config(sweep, **overrides)
  run_dir = Path(out) if out is not None else rundir.DEFAULT_ROOT / cfg.name
  return experiment.run(cfg, run_dir, fresh=fresh, show_progress=progress, precision=precision)


def _dataset(results: xr.Dataset | str | Path) -> xr.Dataset:
  return results if isinstance(results, xr.Dataset) else rundir.load(results)


def figures(results: xr.Dataset | str | Path) -> dict:
  """Every figure of a finished run (its dataset or its directory), as matplotlib Figures
  that a notebook shows inline."""
  dataset = _dataset(results)
  return experiment.of_dataset(dataset).figures(dataset)


def report(results: xr.Dataset | str | Path) -> str:
  """The report of a finished run (its dataset or its directory)."""
  dataset = _dataset(results)
  return experiment.of_dataset(dataset).report(dataset)


def export_saes(run_dir: str | Path, out: str | Path, **where) -> list[Path]:
  """Writes the SAEs of a finished run as SAELens folders under `out` (as `superjax
  export-saes`), those whose coordinates match `where` (e.g. sae_kind="topk",
  density=[0.1, 0.3]); returns the folders. `superjax.sae.saelens.load` reads one back."""
  from superjax.sae import saelens
  return saelens.export_run(run_dir, out, where)


def list_sweeps() -> dict[str, str]:
  """Every sweep that `run` finds by name, with its one-line summary."""
  return {name: sweeps.summary(path) for name, path in sweeps.available().items()}
