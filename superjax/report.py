"""Plain-text summaries of finished runs: the numbers behind the figures.

Each report takes the results dataset and returns lines of text; a sweep names the
reports it wants in `reports`. `superjax report RUN_DIR` prints them again.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import xarray as xr

from superjax import results, theory


def n2m1_phases(dataset: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Empirical (best seed) and theoretical phase labels on the (density,
  relative_importance) grid, and the mask of represented cells (empirical != neither)."""
  best = results.best_seed(dataset).transpose("density", "relative_importance", ...)
  empirical = theory.n2m1_empirical_phase(best["feature_norm"].values)
  p, r = np.meshgrid(dataset.density.values, dataset.relative_importance.values, indexing="ij")
  theoretical = theory.n2m1_theory_phase(p, r)
  return empirical, theoretical, empirical != theory.NEITHER


def phase_n2m1(dataset: xr.Dataset) -> list[str]:
  empirical, theoretical, represented = n2m1_phases(dataset)
  agree = empirical[represented] == theoretical[represented]
  lines = [f"n=2, m=1 phase diagram: {empirical.size} cells, best of "
           f"{dataset.sizes['seed']} seeds by held-out loss"]
  for label, name in enumerate(theory.PHASES):
    lines.append(f"  {name:<18} empirical {np.sum(empirical == label):4d}   "
                 f"theory {np.sum(theoretical == label):4d}")
  lines.append(f"  agreement with theory on represented cells: {agree.mean():.1%} "
               f"({agree.sum()} of {represented.sum()}; {np.sum(~represented)} cells represent "
               "neither feature)")
  return lines


def features_per_dim(dataset: xr.Dataset) -> list[str]:
  lines = ["features per dimension (best seed per cell; spread = max - min over seeds):"]
  for model, ds in results.per_model(dataset):
    ds = ds.isel({d: 0 for d in ds["loss"].dims if d not in ("density", "seed")})
    best = results.best_seed(ds)
    spread = ds["features_per_dim"].max("seed") - ds["features_per_dim"].min("seed")
    lines.append(f"  {model}:")
    lines.append(f"    {'density':>9} {'feat/dim':>9} {'spread':>7} {'loss':>10}")
    for i, density in enumerate(ds.density.values):
      lines.append(f"    {density:9.4f} {float(best['features_per_dim'][i]):9.3f} "
                   f"{float(spread[i]):7.3f} {float(best['loss'][i]):10.5f}")
  return lines


def diverged(dataset: xr.Dataset) -> list[str]:
  count = int(dataset["diverged"].sum())
  return [f"warning: {count} run(s) diverged (non-finite loss); see the `diverged` variable"] if count else []


REPORTS: dict[str, Callable[[xr.Dataset], list[str]]] = {
    "features_per_dim": features_per_dim,
    "phase_n2m1": phase_n2m1,
}


def render(dataset: xr.Dataset) -> str:
  cfg = results.config_of(dataset)
  lines = [f"sweep {cfg.name}: {dataset.attrs['model']} x {cfg.run_count} runs, {cfg.steps} steps"]
  for name in cfg.reports:
    lines += REPORTS[name](dataset)
  lines += diverged(dataset)
  return "\n".join(lines)
