"""Paper figures, drawn from saved results alone (no training).

Each figure function takes the results dataset and returns a matplotlib Figure; a sweep
names the figures it wants in `figures`, and `superjax plot RUN_DIR` redraws them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from superjax import report, results, theory  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.dpi": 150,
                     "savefig.bbox": "tight", "axes.spines.top": False,
                     "axes.spines.right": False})

SUPERPOSITION_CMAP = "plasma"


def _density_cells(ds: xr.Dataset) -> xr.Dataset:
  """Best seed per cell, first value of any axis other than density."""
  ds = results.best_seed(ds)
  return ds.isel({d: 0 for d in ds["loss"].dims if d != "density"})


def intro(dataset: xr.Dataset) -> plt.Figure:
  """Elhage et al. Figure 1 style: per model and density, the W^T W heatmap and the
  feature norms ||W_i|| coloured by superposition."""
  models = results.per_model(dataset)
  densities = dataset.density.values
  fig, axes = plt.subplots(2 * len(models), len(densities),
                           figsize=(1.4 * len(densities) + 1.2, 2.6 * len(models)),
                           gridspec_kw={"height_ratios": [1, 0.8] * len(models)}, squeeze=False)
  n = dataset.sizes["feature"]
  for row, (model, ds) in enumerate(models):
    ds = _density_cells(ds)
    for col in range(len(densities)):
      cell = ds.isel(density=col)
      W = cell["W"].values
      heat = axes[2 * row, col].imshow(W.T @ W, cmap="RdBu_r", vmin=-1, vmax=1)
      axes[2 * row, col].set_xticks([])
      axes[2 * row, col].set_yticks([])
      if row == 0:
        axes[0, col].set_title(f"1-S = {densities[col]:.2g}", fontsize=8)
      bars = axes[2 * row + 1, col]
      colours = plt.get_cmap(SUPERPOSITION_CMAP)(np.clip(cell["superposition"].values, 0, 1))
      bars.barh(np.arange(n), cell["feature_norm"].values, color=colours)
      bars.set_xlim(0, 1.3)
      bars.set_ylim(n - 0.5, -0.5)
      bars.set_yticks([])
      bars.set_xticks([0, 1])
    axes[2 * row, 0].set_ylabel(f"{model}\n$W^TW$")
    axes[2 * row + 1, 0].set_ylabel("$||W_i||$")
  fig.subplots_adjust(right=0.9, hspace=0.25)
  fig.colorbar(heat, cax=fig.add_axes([0.92, 0.55, 0.01, 0.3]), label="$W^TW$")
  scalar = plt.cm.ScalarMappable(cmap=SUPERPOSITION_CMAP, norm=plt.Normalize(0, 1))
  fig.colorbar(scalar, cax=fig.add_axes([0.92, 0.12, 0.01, 0.3]),
               label="superposition of feature i (clipped at 1)")
  fig.suptitle(f"{dataset.attrs['sweep']}: n={n}, m={dataset.sizes['hidden']}; "
               "feature 0 (top) is the most important")
  return fig


def features_per_dim(dataset: xr.Dataset) -> plt.Figure:
  """Features per hidden dimension ||W||_F^2 / m against feature density."""
  fig, ax = plt.subplots(figsize=(4.5, 3.2))
  n, m = dataset.sizes["feature"], dataset.sizes["hidden"]
  for model, ds in results.per_model(dataset):
    ds = ds.isel({d: 0 for d in ds["loss"].dims if d not in ("density", "seed")})
    best = results.best_seed(ds)
    line, = ax.plot(ds.density, best["features_per_dim"], marker="o", ms=3,
                    label=f"{model} (best seed)")
    if ds.sizes["seed"] > 1:
      for s in range(ds.sizes["seed"]):
        ax.scatter(ds.density, ds["features_per_dim"].isel(seed=s), s=6, alpha=0.3,
                   color=line.get_color(), linewidths=0)
  ax.axhline(1, color="gray", lw=0.8, ls="--")
  ax.axhline(n / m, color="gray", lw=0.8, ls=":", label=f"n/m = {n / m:g}")
  ax.set_xscale("log")
  ax.invert_xaxis()
  ax.set_xlabel("feature density 1 - S (sparser to the right)")
  ax.set_ylabel("features per dimension $||W||_F^2 / m$")
  ax.set_title(f"{dataset.attrs['sweep']}: n={n}, m={m}")
  ax.legend(frameon=False)
  return fig


def _log_edges(centres: np.ndarray) -> np.ndarray:
  logs = np.log(np.sort(centres))
  mids = (logs[1:] + logs[:-1]) / 2
  step = np.diff(logs).mean() if len(logs) > 1 else 1.0
  return np.exp(np.concatenate([[logs[0] - step / 2], mids, [logs[-1] + step / 2]]))


def phase_n2m1(dataset: xr.Dataset) -> plt.Figure:
  """Empirical (best seed) and theoretical n=2, m=1 phase diagrams side by side."""
  empirical, theoretical, represented = report.n2m1_phases(dataset)
  agreement = np.mean(empirical[represented] == theoretical[represented])
  colours = ListedColormap(["#4c72b0", "#55a868", "#c44e52", "#dddddd"])
  x, y = _log_edges(dataset.density.values), _log_edges(dataset.relative_importance.values)
  fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), sharey=True)
  for ax, labels, title in ((axes[0], empirical, "empirical (best seed)"),
                            (axes[1], theoretical, "theory (lowest expected loss)")):
    ax.pcolormesh(x, y, labels.T, cmap=colours, vmin=-0.5, vmax=3.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("feature density 1 - S")
    ax.set_title(title)
  axes[0].set_ylabel("relative importance of feature 2")
  handles = [plt.Rectangle((0, 0), 1, 1, color=colours(i)) for i in range(4)]
  fig.legend(handles, theory.PHASES, loc="lower center", ncol=4, frameon=False,
             bbox_to_anchor=(0.5, -0.06))
  fig.suptitle(f"n=2, m=1: agreement on represented cells {agreement:.0%}")
  return fig


FIGURES: dict[str, Callable[[xr.Dataset], plt.Figure]] = {
    "intro": intro,
    "features_per_dim": features_per_dim,
    "phase_n2m1": phase_n2m1,
}


def draw(dataset: xr.Dataset, out_dir: str | Path, names: tuple[str, ...]) -> list[Path]:
  """Draws the named figures into out_dir as PNG and PDF; returns the PNG paths."""
  out_dir = Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  paths = []
  for name in names:
    fig = FIGURES[name](dataset)
    for suffix in (".png", ".pdf"):
      fig.savefig(out_dir / f"{name}{suffix}")
    plt.close(fig)
    paths.append(out_dir / f"{name}.png")
  return paths
