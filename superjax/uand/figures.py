"""The U-AND figures, from saved results: max error against hidden width m, the width
needed against the feature count n with fitted and theoretical slopes, and neurons needed
beside the naive n(n-1)/2."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from superjax.core import figures
from superjax.core.experiment import config_of
from superjax.uand.config import UAndConfig
from superjax.uand.report import THEORY_SLOPES, bootstrap_slope, geometric_mean

_COLOURS = {"naive": "#7f7f7f", "uand": "#4c72b0", "random_mlp": "#dd8452", "trained": "#55a868"}


@figures.styled
def error_vs_width(ds: xr.Dataset, cfg: UAndConfig) -> Figure:
  """Max error (seed mean, band = seed range) against width, one panel per n and input
  setting, one line per construction."""
  fig, axes = figures.subplots(len(ds.inputs), len(ds.n), squeeze=False, sharey=True,
                               figsize=(2.0 * len(ds.n) + 0.6, 2.2 * len(ds.inputs) + 0.4))
  for r, inputs in enumerate(ds.inputs.values):
    for c, n in enumerate(ds.n.values):
      ax = axes[r, c]
      for name in ds.construction.values:
        err = ds["max_error"].sel(construction=name, inputs=inputs, n=n).values
        ok = np.isfinite(err).all(axis=1)
        if name == "naive":
          ax.axvline(int(ds.naive_width.sel(n=n)), color=_COLOURS[str(name)], lw=0.8, ls=":")
          ax.scatter([int(ds.naive_width.sel(n=n))],
                     [float(ds["naive_max_error"].sel(inputs=inputs, n=n).mean())],
                     color=_COLOURS[str(name)], s=12, zorder=3,
                     label="naive at m = n(n-1)/2" if r == c == 0 else None)
          continue
        if not ok.any():
          continue
        w = ds.m.values[ok]
        ax.plot(w, err[ok].mean(axis=1), marker="o", ms=2.5, lw=1, color=_COLOURS[str(name)],
                label=str(name) if r == c == 0 else None)
        ax.fill_between(w, err[ok].min(axis=1), err[ok].max(axis=1), alpha=0.2, lw=0,
                        color=_COLOURS[str(name)])
      ax.axhline(cfg.target, color="k", lw=0.6, ls="--")
      if inputs == "superposed" and "input_max_error" in ds:
        # The features' own read error: no readout of the layer goes below it.
        floor = float(ds["input_max_error"].sel(inputs=inputs, n=n).mean())
        ax.axhline(floor, color="#c44e52", lw=0.6, ls=":",
                   label="inputs' own error" if c == 0 else None)
      ax.set_xscale("log", base=2)
      ax.set_ylim(0, 1.5)
      if r == 0:
        ax.set_title(f"n = {int(n)}")
      if r == len(ds.inputs) - 1:
        ax.set_xlabel("hidden width m")
    axes[r, 0].set_ylabel(f"{inputs}: max error")
  fig.legend(frameon=False, loc="upper center", ncol=4, bbox_to_anchor=(0.5, 1.04))
  fig.suptitle(f"{cfg.name}: max |r . a(x) - x_i x_j| over test inputs and all pairs "
               f"(dashed: target {cfg.target:g})", y=1.09)
  return fig


@figures.styled
def width_needed(ds: xr.Dataset, cfg: UAndConfig) -> Figure:
  """Width needed against n on log-log axes, fitted slopes and theory's reference slopes."""
  fig, axes = figures.subplots(1, len(ds.inputs), squeeze=False, sharey=True,
                               figsize=(4.0 * len(ds.inputs), 3.4))
  n = ds.n.values.astype(float)
  for c, inputs in enumerate(ds.inputs.values):
    ax = axes[0, c]
    ax.plot(n, ds.naive_width.values, color="k", lw=0.8, ls="--", label="n(n-1)/2")
    anchor = None
    for name in ds.construction.values:
      needed = ds["width_needed"].sel(construction=name, inputs=inputs).transpose("n", "seed").values
      mean = geometric_mean(needed, axis=1)
      ok = np.isfinite(mean)
      if not ok.any():
        continue
      slope, low, high = bootstrap_slope(n, needed)
      label = f"{name}: slope {slope:.2f} [{low:.2f}, {high:.2f}]" if np.isfinite(slope) else str(name)
      ax.plot(n[ok], mean[ok], marker="o", ms=3, lw=1, color=_COLOURS[str(name)], label=label)
      for k in range(needed.shape[1]):
        ax.scatter(n, needed[:, k], s=5, alpha=0.35, color=_COLOURS[str(name)], linewidths=0)
      if name == "uand" or anchor is None:
        anchor = (n[ok][0], mean[ok][0])
    if anchor is not None:
      for t in THEORY_SLOPES[str(inputs)]:
        ax.plot(n, anchor[1] * (n / anchor[0]) ** t, color="#c44e52", lw=0.7, ls=":",
                alpha=0.8)
        ax.annotate(f"n^{t:.2g}", (n[-1], anchor[1] * (n[-1] / anchor[0]) ** t), fontsize=7,
                    color="#c44e52")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("features n")
    ax.set_title(f"{inputs} inputs")
    ax.legend(frameon=False, fontsize=6.5, loc="lower right")
  axes[0, 0].set_ylabel(f"width m needed for max error <= {cfg.target:g}")
  fig.suptitle(f"{cfg.name}: width needed (geometric mean over seeds; dots: seeds; "
               "red dotted: theory slopes)")
  return fig


@figures.styled
def neurons(ds: xr.Dataset, cfg: UAndConfig) -> Figure:
  """Neurons needed: naive n(n-1)/2 against U-AND (and the other constructions)."""
  fig, ax = figures.subplots(figsize=(4.2, 3.3))
  n = ds.n.values.astype(float)
  ax.plot(n, ds.naive_width.values, color="k", lw=1.2, label="naive: n(n-1)/2")
  for inputs, style in zip(ds.inputs.values, ("-", "--")):
    for name in ds.construction.values:
      if name == "naive":
        continue
      mean = geometric_mean(ds["width_needed"].sel(construction=name, inputs=inputs)
                            .transpose("n", "seed").values, axis=1)
      if np.isfinite(mean).any():
        ax.plot(n, mean, ls=style, marker="o", ms=3, lw=1, color=_COLOURS[str(name)],
                label=f"{name} ({inputs})")
  ax.set_xscale("log", base=2)
  ax.set_yscale("log", base=10)
  ax.set_xlabel("features n")
  ax.set_ylabel(f"neurons for max error <= {cfg.target:g}")
  ax.set_title(f"{cfg.name}: neurons needed for all n(n-1)/2 ANDs")
  ax.legend(frameon=False, fontsize=7)
  return fig


FIGURES = {"uand_error_vs_width": error_vs_width, "uand_width_needed": width_needed,
           "uand_neurons": neurons}


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  """Every figure, for every s."""
  cfg = config_of(dataset)
  out = {}
  for s in dataset.s.values:
    suffix = "" if len(dataset.s) == 1 else f"_s{int(s)}"
    for name, draw_one in FIGURES.items():
      out[f"{name}{suffix}"] = draw_one(dataset.sel(s=s), cfg)
  return out
