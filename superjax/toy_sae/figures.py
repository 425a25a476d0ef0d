"""The toy-SAE study's figures, from saved results: SAE loss and feature recovery against
the true superposition, and L0 on attacked inputs."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from superjax.core import figures
from superjax.sae.kinds import KINDS
from superjax.toy_sae.report import TARGETS, at_target

MARKERS = ("o", "^", "s", "D")


def _against_superposition(dataset: xr.Dataset, variable: str, ylabel: str,
                           title: str) -> Figure:
  """Rows: L0 targets; columns: kinds; points: toy models, coloured by density, marker
  by alpha (the largest expansion)."""
  expansion = int(dataset["expansion"].values.max())
  kinds = [str(k) for k in dataset["sae_kind"].values]
  fig, axes = figures.subplots(len(TARGETS), len(kinds), figsize=(2.9 * len(kinds), 5.2),
                               sharex=True, sharey=True, squeeze=False)
  norm = LogNorm(vmin=float(dataset["density"].min()), vmax=float(dataset["density"].max()))
  fpd = dataset["features_per_dim"]
  for row, target in enumerate(TARGETS):
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
      if row == len(TARGETS) - 1:
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
    for target, style in zip(TARGETS, ("-", "--")):
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
