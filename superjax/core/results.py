"""A pass's per-run arrays as labeled results, and what is read from them on any grid.

  label(axes, trained, dims)   every output and metric history on the grid's dims
  on_dims(axes, values, dims)  per-run values on some of the grid's dims, in any order
  coords(axes, dims)           the coordinates of values laid on those dims
  best_seed(dataset, by)       the lowest-`by` seed of every cell of the grid

Runs are the grid's points in C order over its groups (core.axes), so run r's arrays
reshape to the grid's shape; an output's own axes are named by the program (`dims`), or
`<name>_dim<i>` where it names none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from superjax.core.axes import Axes
from superjax.core.errors import SuperjaxError


def on_dims(axes: Axes, values, dims: Sequence[str]) -> np.ndarray:
  """Per-run values (runs, ...) on the grid's dims `dims`, in the order given, at the
  first point of every other dim: (*[size of each dim], ...). How a family or a later pass
  reads a grid's runs without knowing the order they are laid out in."""
  values = np.asarray(values)
  unknown = [d for d in dims if d not in axes.dims]
  if unknown:
    raise SuperjaxError(f"{', '.join(unknown)}: not dims of the grid ({', '.join(axes.dims)})")
  full = values.reshape(axes.shape + values.shape[1:])
  picked = full[tuple(slice(None) if d in dims else 0 for d in axes.dims)]
  kept = [d for d in axes.dims if d in dims]
  return np.moveaxis(picked, [kept.index(d) for d in dims], list(range(len(dims))))


def coords(axes: Axes, dims: Sequence[str], labels: dict[str, Sequence] | None = None) -> dict:
  """xarray coordinates of values laid on `dims` (on_dims): every name of those groups
  along its dim, every name of the other groups a scalar coordinate at its first value.
  `labels` {name: sequence} shows an index axis (an axis of names, traced as indices) by
  the names its values index."""
  out = {}
  for g in axes.groups:
    for name, values in g.values.items():
      shown = np.asarray([labels[name][int(v)] for v in values] if name in (labels or {})
                         else values)
      out[name] = (g.dim, shown) if g.dim in dims else ((), shown[0])
  return out


def label(axes: Axes, outputs: dict[str, np.ndarray], history: dict[str, np.ndarray],
          diverged: np.ndarray, segment_ends: np.ndarray,
          dims: dict[str, tuple[str, ...]] | None = None,
          attrs: dict | None = None) -> xr.Dataset:
  """The runs' arrays (runs first, as a core.loop.Trained holds them) on the grid's dims:
  each output with its own axes after them (named by `dims`), each metric's history as
  `<metric>_history` with a `step` axis (the segments' last steps), and `diverged`."""
  grid_dims = axes.dims
  variables = {}
  for name, value in outputs.items():
    value = np.asarray(value)
    own = tuple((dims or {}).get(name, ()))
    if own and len(own) != value.ndim - 1:
      raise SuperjaxError(f"dims names {len(own)} axes for {name!r}, which has "
                          f"{value.ndim - 1} per run {value.shape[1:]}")
    own = own or tuple(f"{name}_dim{i}" for i in range(value.ndim - 1))
    variables[name] = (grid_dims + own, on_dims(axes, value, grid_dims))
  for metric, values in history.items():
    variables[f"{metric}_history"] = (grid_dims + ("step",), on_dims(axes, values, grid_dims))
  variables["diverged"] = (grid_dims, on_dims(axes, diverged, grid_dims))
  return xr.Dataset(variables, coords=dict(coords(axes, grid_dims), step=segment_ends),
                    attrs=dict(attrs or {}, metrics=",".join(sorted(history))))


def best_seed(dataset: xr.Dataset, by: str = "loss") -> xr.Dataset:
  """Keeps, in every cell of the grid, the seed with the lowest `by`: a per-run output, or
  the last segment's mean of a training metric (`<by>_history`); diverged and non-finite
  runs last."""
  if "seed" not in dataset.dims:
    raise SuperjaxError("best_seed: the results have no seed axis")
  if by in dataset:
    value = dataset[by]
  elif f"{by}_history" in dataset:
    value = dataset[f"{by}_history"].isel(step=-1)
  else:
    per_run = sorted(n for n, v in dataset.data_vars.items()
                     if "seed" in v.dims and n != "diverged")
    raise SuperjaxError(f"best_seed: the results hold no {by!r} output or {by}_history; "
                        f"choose by= one of {', '.join(per_run)}")
  if "diverged" in dataset and set(value.dims) != set(dataset["diverged"].dims):
    raise SuperjaxError(f"best_seed: {by!r} has dims {value.dims}, not one number per run "
                        f"{dataset['diverged'].dims}; select one first")
  ok = np.isfinite(value)
  if "diverged" in dataset:
    ok = ok & ~dataset["diverged"].astype(bool)
  return dataset.isel(seed=value.where(ok, np.inf).argmin("seed"))
