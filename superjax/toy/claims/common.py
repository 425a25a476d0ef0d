"""What the toy claims share: selecting a model kind, the clean models, seeds one at a
time, and the density order."""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.toy import results

ELHAGE = "Elhage et al. 2022"
GORTON = "Gorton & Lewis 2025"

def verdict(holds: bool, partly: bool) -> str:
  return "holds" if holds else "partly" if partly else "does not hold"


def model(dataset: xr.Dataset, name: str) -> xr.Dataset:
  """One model kind's results (error naming the kinds the run trained)."""
  found = dict(results.per_model(dataset))
  if name not in found:
    raise ValueError(f"the run trained {', '.join(found)}, not {name}")
  return found[name]


def each_seed(ds: xr.Dataset):
  """Each seed's results alone, diverged runs left out."""
  for s in range(ds.sizes["seed"]):
    one = ds.isel(seed=s)
    if not bool(one["diverged"].any()):
      yield one


def seeds_note(dataset: xr.Dataset) -> str:
  """The seed note of a claim measured on the best seed alone."""
  count = dataset.sizes.get("seed", 1)
  return "1 seed" if count == 1 else f"best of {count} seeds (no per-seed spread)"


def clean(dataset: xr.Dataset) -> xr.Dataset:
  """The clean (largest alpha) models of a run that may also train adversarially."""
  return dataset.sel(alpha=dataset.alpha.max()) if "alpha" in dataset.dims else dataset


def sparsest(ds: xr.Dataset) -> xr.Dataset:
  return ds.isel(density=int(np.argmin(ds.density.values)))


def densest_first(ds: xr.Dataset) -> xr.Dataset:
  return ds.isel(density=np.argsort(ds.density.values)[::-1])


def fraction(value: float) -> str:
  for num in range(1, 4):
    for den in range(1, 9):
      if abs(value - num / den) < 1e-9:
        return f"{num}/{den}" if den > 1 else "1"
  return f"{value:.3f}"


def seed_values(ds: xr.Dataset, measure) -> np.ndarray:
  """One number per seed, in seed order: `measure` of that seed's results alone, NaN for a
  seed with a diverged run anywhere in `ds` (a verdicts.Part's values)."""
  values = []
  for s in range(ds.sizes["seed"]):
    one = ds.isel(seed=s)
    values.append(np.nan if bool(one["diverged"].any()) else float(measure(one)))
  return np.asarray(values, np.float64)


def _shown(value) -> str:
  """A config value as a deviation names it: 10,000; 0.001; 5 values from 0.05 to 1."""
  if isinstance(value, bool):
    return "yes" if value else "no"
  if isinstance(value, int):
    return f"{value:,}"
  if isinstance(value, float):
    return f"{value:g}"
  if isinstance(value, (tuple, list)):
    if len(value) > 3 and all(isinstance(v, (int, float)) for v in value):
      return f"{len(value)} values from {min(value):.3g} to {max(value):.3g}"
    return ", ".join(_shown(v) for v in value)
  return str(value)


def _same(ours, paper) -> bool:
  if isinstance(paper, (tuple, list)):
    return (len(ours) == len(paper) and all(
        o == p if isinstance(p, str) else np.isclose(float(o), float(p), rtol=1e-6)
        for o, p in zip(ours, paper)))
  if isinstance(paper, float):
    return bool(np.isclose(float(ours), paper, rtol=1e-6))
  return ours == paper


# How a deviation names a config field: "{ours}" filled in, then ", not {paper's}".
FIELD_NAMES = {
    "steps": "{} steps", "seeds": "{} seeds", "batch": "batch {}", "lr": "lr {}",
    "optimizer": "optimizer {}", "weight_decay": "weight decay {}", "n": "n = {}",
    "m": "m = {}", "importance": "importance {}", "density": "densities: {}",
    "relative_importance": "relative importances: {}", "relative_density":
    "relative densities: {}", "models": "models {}", "set_size": "sets of {}",
    "signed": "signed values: {}",
}


def deviations(cfg, paper: dict) -> tuple[str, ...]:
  """Each field of `paper` (config field -> the paper's value) on which the run's config
  differs, as "4,000 steps, not 10,000"."""
  return tuple(f"{FIELD_NAMES.get(field, field + ' {}').format(_shown(getattr(cfg, field)))}"
               f", not {_shown(value)}" for field, value in paper.items()
               if not _same(getattr(cfg, field), value))
