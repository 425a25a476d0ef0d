"""The default figures of a Model's grid: each metric's final value against the first
non-seed axis (one line per value of the second, seeds' spread shaded), and training
curves."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from superjax.core import figures
from superjax.core.experiment import config_of
from superjax.custom.report import final_metrics, own


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  custom = own(config_of(dataset), "figures")
  if custom is not None:
    return custom(dataset)
  return {"final_metrics": _final(dataset), "training": _training(dataset)}


def _lines(value: xr.DataArray):
  """(x axis, [(label, mean, low, high)]) of a per-run array on the grid."""
  by = [d for d in value.dims if d != "seed"]
  if "seed" in value.dims:
    mean, low, high = value.mean("seed"), value.min("seed"), value.max("seed")
  else:
    mean = low = high = value
  if not by:
    return None, [("", mean, low, high)]
  x = by[0]
  rest = [d for d in by[1:]]
  mean, low, high = (a.transpose(x, *rest) for a in (mean, low, high))
  if not rest:
    return x, [("", mean, low, high)]
  other = rest[0]
  take = lambda a, v: a.sel({other: v}).isel({d: 0 for d in rest[1:]})
  return x, [(f"{other}={v:g}", take(mean, v), take(low, v), take(high, v))
             for v in mean[other].values[:8]]


@figures.styled
def _final(dataset: xr.Dataset) -> Figure:
  metrics = final_metrics(dataset)
  fig, axes = figures.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3), squeeze=False)
  for ax, (name, value) in zip(axes[0], metrics.items()):
    x, lines = _lines(value)
    for label, mean, low, high in lines:
      xs = value[x].values if x else np.zeros(1)
      ax.plot(xs, mean.values, marker="o", ms=3, label=label or None)
      ax.fill_between(xs, low.values, high.values, alpha=0.2)
    positive = x and np.all(value[x].values > 0) and value[x].values.max() / max(
        value[x].values.min(), 1e-30) > 20
    if positive:
      ax.set_xscale("log")
    ax.set_xlabel(x or "")
    ax.set_ylabel(name)
    if any(label for label, *_ in lines):
      ax.legend(fontsize=7)
  fig.suptitle(dataset.attrs.get("description", ""))
  return fig


@figures.styled
def _training(dataset: xr.Dataset) -> Figure:
  metrics = [n for n in dataset.attrs.get("metrics", "").split(",") if n]
  fig, axes = figures.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3), squeeze=False)
  steps = dataset["step"].values
  for ax, name in zip(axes[0], metrics):
    history = dataset[f"{name}_history"]
    runs = history.values.reshape(-1, len(steps))
    ax.plot(steps, runs[:200].T, color="0.3", alpha=0.15, lw=0.6)
    ax.plot(steps, np.nanmedian(runs, axis=0), color="C3", lw=1.5, label="median run")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{name} (segment mean)")
    if np.all(runs[np.isfinite(runs)] > 0):
      ax.set_yscale("log")
    ax.legend(fontsize=7)
  return fig
