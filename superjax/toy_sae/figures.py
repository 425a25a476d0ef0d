"""The toy-SAE study's figures, from saved results: SAE loss and feature recovery against
the true superposition, and L0 on attacked inputs."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from superjax.core import figures
from superjax.core.experiment import config_of
from superjax.sae.kinds import KINDS
from superjax.toy_sae import effective, report
from superjax.toy_sae.report import at_target, targets

MARKERS = ("o", "^", "s", "D")


def _against_superposition(dataset: xr.Dataset, variable: str, ylabel: str,
                           title: str) -> Figure:
  """Rows: L0 targets; columns: kinds; points: toy models, coloured by density, marker
  by alpha (the largest expansion)."""
  expansion = int(dataset["expansion"].values.max())
  kinds = [str(k) for k in dataset["sae_kind"].values]
  rows = targets(dataset)
  fig, axes = figures.subplots(len(rows), len(kinds), figsize=(2.9 * len(kinds), 5.2),
                               sharex=True, sharey=True, squeeze=False)
  norm = LogNorm(vmin=float(dataset["density"].min()), vmax=float(dataset["density"].max()))
  fpd = dataset["features_per_dim"]
  for row, target in enumerate(rows):
    for col, kind in enumerate(kinds):
      ax = axes[row, col]
      sae = at_target(dataset, kind, expansion, target)
      for alpha, marker in zip(dataset["alpha"].values, MARKERS):
        x = fpd.sel(alpha=alpha).values.ravel()
        y = sae[variable].sel(alpha=alpha).values.ravel()
        c = np.broadcast_to(dataset["density"].values[:, None],
                            fpd.sel(alpha=alpha).shape).ravel()
        points = ax.scatter(x, y, c=c, norm=norm, cmap="viridis", marker=marker, s=12,
                            label=f"alpha {alpha:g}")
      ax.set_title(f"{kind}, L0 {target}")
      if row == len(rows) - 1:
        ax.set_xlabel("true features per dimension")
    axes[row, 0].set_ylabel(ylabel)
  axes[0, -1].legend(fontsize=7, frameon=False)
  fig.colorbar(points, ax=axes, label="feature density", shrink=0.8)
  fig.suptitle(f"{title} (expansion {expansion})")
  return fig


@figures.styled
def nmse_vs_superposition(dataset: xr.Dataset) -> Figure:
  """Does SAE loss measure superposition where superposition is known?"""
  return _against_superposition(dataset, "nmse", "SAE normalised MSE",
                                "SAE loss against the toy model's true superposition")


@figures.styled
def recovery_vs_superposition(dataset: xr.Dataset) -> Figure:
  """How much of the represented features each kind's dictionary recovers."""
  return _against_superposition(dataset, "recovered", "features recovered (cos >= 0.9)",
                                "Recovery of the true feature directions")


@figures.styled
def l0_attacked(dataset: xr.Dataset) -> Figure:
  """L0 on attacked over clean inputs against density, kinds whose L0 is free."""
  expansion = int(dataset["expansion"].values.max())
  kinds = [str(k) for k in dataset["sae_kind"].values if not KINDS[str(k)].fixed_l0]
  fig, axes = figures.subplots(1, max(len(kinds), 1), figsize=(3.2 * max(len(kinds), 1), 3.0),
                               sharey=True, squeeze=False)
  for ax, kind in zip(axes[0], kinds):
    for target, style in zip(targets(dataset), ("-", "--")):
      sae = at_target(dataset, kind, expansion, target)
      ratio = (sae["l0_attacked"] / sae["l0"])
      for alpha, marker in zip(dataset["alpha"].values, MARKERS):
        r = ratio.sel(alpha=alpha)
        ax.errorbar(dataset["density"].values, r.mean("seed"), yerr=r.std("seed"), ls=style,
                    marker=marker, ms=3, lw=1, label=f"L0 {target}, alpha {alpha:g}")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("feature density")
    ax.set_title(kind)
  axes[0, 0].set_ylabel("L0 attacked / L0 clean")
  axes[0, -1].legend(fontsize=6, frameon=False)
  fig.suptitle(f"Do attacks raise SAE L0 in toy models? (expansion {expansion})")
  fig.tight_layout()
  return fig


FIGURES = {"nmse_vs_superposition": nmse_vs_superposition,
           "recovery_vs_superposition": recovery_vs_superposition, "l0_attacked": l0_attacked}


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  return {name: draw_one(dataset) for name, draw_one in FIGURES.items()}


@figures.styled
def effective_features(dataset: xr.Dataset) -> Figure:
  """Bereska et al. 2025: effective features of clean and robust toy models against n / m,
  and the change adversarial training makes, seed by seed."""
  cfg = config_of(dataset)
  clean, robust = report.clean_and_robust(dataset)
  ratio = dataset["features"].values / cfg.m
  found = effective.of_results(dataset).mean(("setting", "density"))
  change = report.effective_change(dataset)
  fig, (left, right) = figures.subplots(1, 2, figsize=(8.4, 3.3))
  for alpha, marker in ((clean, "o"), (robust, "^")):
    values = found.sel(alpha=alpha)
    mean = values.mean("seed").values
    low, high = mean - values.min("seed").values, values.max("seed").values - mean
    left.errorbar(ratio, mean, yerr=[low, high], marker=marker, ms=4, capsize=2,
                  label=f"alpha {alpha:g}")
  left.plot(ratio, dataset["features"].values, color="gray", lw=0.8, ls=":", label="F = n")
  left.set_xscale("log")
  left.set_yscale("log")
  left.set_xlabel("features per hidden dimension n / m")
  left.set_ylabel("effective features F")
  left.legend(fontsize=7, frameon=False)
  for s in change["seed"].values:
    right.plot(ratio, change.sel(seed=s).values, marker="o", ms=3, lw=0.8, alpha=0.7)
  right.axhline(0.0, color="gray", lw=0.8, ls=":")
  right.set_xscale("log")
  right.set_xlabel("features per hidden dimension n / m")
  right.set_ylabel("(F robust - F clean) / F clean")
  right.set_title("one line per seed", fontsize=8)
  fig.suptitle("Effective features under adversarial training (cf. Bereska et al. 2025)")
  fig.tight_layout()
  return fig


def draw_effective(dataset: xr.Dataset) -> dict[str, Figure]:
  return {"effective_features": effective_features(dataset)}
