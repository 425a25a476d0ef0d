"""The toy family's paper figures, drawn from saved results without training.

Each figure function takes the results dataset and returns a matplotlib Figure; a sweep
names the figures it wants in `figures`, and `superjax plot RUN_DIR` redraws them. Two of
them run the saved weights once more: the superposition graph lights its nodes with a
model's outputs on one clean input and its attacked version.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import matplotlib
import matplotlib.cm
import matplotlib.colors
import matplotlib.patches
import numpy as np
import xarray as xr
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from superjax.core import figures, keys
from superjax.core.experiment import config_of
from superjax.toy import attacks, metrics, models, report, results, robustness, theory, train

SUPERPOSITION_CMAP = "plasma"


def _density_cells(ds: xr.Dataset) -> xr.Dataset:
  """Best seed per cell, first value of any axis other than density."""
  ds = results.best_seed(ds)
  return results.first_of_other_axes(ds, ("density",))


@figures.styled
def intro(dataset: xr.Dataset) -> Figure:
  """Elhage et al. Figure 1 style: per model and density, the W^T W heatmap and the
  feature norms ||W_i|| coloured by superposition."""
  models = results.per_model(dataset)
  densities = dataset.density.values
  fig, axes = figures.subplots(2 * len(models), len(densities),
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
      colours = figures.colormap(SUPERPOSITION_CMAP)(np.clip(cell["superposition"].values, 0, 1))
      bars.barh(np.arange(n), cell["feature_norm"].values, color=colours)
      bars.set_xlim(0, 1.3)
      bars.set_ylim(n - 0.5, -0.5)
      bars.set_yticks([])
      bars.set_xticks([0, 1])
    axes[2 * row, 0].set_ylabel(f"{model}\n$W^TW$")
    axes[2 * row + 1, 0].set_ylabel("$||W_i||$")
  fig.subplots_adjust(right=0.9, hspace=0.25)
  fig.colorbar(heat, cax=fig.add_axes([0.92, 0.55, 0.01, 0.3]), label="$W^TW$")
  scalar = matplotlib.cm.ScalarMappable(cmap=SUPERPOSITION_CMAP, norm=matplotlib.colors.Normalize(0, 1))
  fig.colorbar(scalar, cax=fig.add_axes([0.92, 0.12, 0.01, 0.3]),
               label="superposition of feature i (clipped at 1)")
  fig.suptitle(f"{dataset.attrs['sweep']}: n={n}, m={dataset.sizes['hidden']}; "
               "feature 0 (top) is the most important")
  return fig


@figures.styled
def features_per_dim(dataset: xr.Dataset) -> Figure:
  """Features per hidden dimension ||W||_F^2 / m against feature density."""
  fig, ax = figures.subplots(figsize=(4.5, 3.2))
  n, m = dataset.sizes["feature"], dataset.sizes["hidden"]
  for model, ds in results.per_model(dataset):
    ds = results.first_of_other_axes(ds, ("density", "seed"))
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


def _phase_pair(dataset: xr.Dataset, empirical: np.ndarray, theoretical: np.ndarray,
                agreement: float, names: tuple[str, ...], title: str) -> Figure:
  """Empirical and theoretical phase diagrams over density x relative importance."""
  palette = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#dddddd"][:len(names) - 1] + ["#dddddd"]
  colours = ListedColormap(palette)
  x, y = _log_edges(dataset.density.values), _log_edges(dataset.relative_importance.values)
  fig, axes = figures.subplots(1, 2, figsize=(8, 3.6), sharey=True)
  for ax, labels, sub in ((axes[0], empirical, "empirical (best seed)"),
                          (axes[1], theoretical, "theory (lowest expected loss)")):
    ax.pcolormesh(x, y, labels.T, cmap=colours, vmin=-0.5, vmax=len(names) - 0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("feature density 1 - S")
    ax.set_title(sub)
  axes[0].set_ylabel(f"relative importance of feature {dataset.sizes['feature']}")
  handles = [matplotlib.patches.Rectangle((0, 0), 1, 1, color=colours(i)) for i in range(len(names))]
  fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False,
             bbox_to_anchor=(0.5, -0.1))
  fig.suptitle(f"{title}: agreement on classified cells {agreement:.0%}")
  return fig


@figures.styled
def phase_n2m1(dataset: xr.Dataset) -> Figure:
  """Empirical (best seed) and theoretical n=2, m=1 phase diagrams side by side."""
  empirical, theoretical, represented = report.n2m1_phases(dataset)
  agreement = np.mean(empirical[represented] == theoretical[represented])
  return _phase_pair(dataset, empirical, theoretical, agreement, theory.PHASES, "n=2, m=1")


@figures.styled
def phase_n3m2(dataset: xr.Dataset) -> Figure:
  """Empirical (best seed) and theoretical n=3, m=2 phase diagrams side by side."""
  empirical, theoretical, represented, _ = report.n3m2_phases(dataset)
  agreement = np.mean(empirical[represented] == theoretical[represented])
  return _phase_pair(dataset, empirical, theoretical, agreement, theory.N3M2_PHASES, "n=3, m=2")


@figures.styled
def geometry(dataset: xr.Dataset) -> Figure:
  """Elhage et al.'s geometry figure: dimensions per feature D* = m / ||W||_F^2 against
  1/(1-S), with every feature's D_i scattered and the sticky fractions drawn."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density",))
  inv = 1.0 / best.density.values
  D = best["dimensionality"].values
  fig, ax = figures.subplots(figsize=(5.5, 3.6))
  for fraction in metrics.STICKY_FRACTIONS:
    ax.axhline(fraction, color="gray", lw=0.6, ls=":")
    ax.text(inv.max() * 1.15, fraction, _fraction_label(fraction), va="center", fontsize=7)
  jitter = np.exp(np.random.default_rng(0).normal(0, 0.03, D.shape))
  ax.scatter((inv[:, None] * jitter).ravel(), D.ravel(), s=3, alpha=0.35, color="#4c72b0",
             linewidths=0, label="$D_i$ of every feature")
  ax.plot(inv, 1.0 / best["features_per_dim"].values, color="black", lw=1.2,
          label="$D^* = m / ||W||_F^2$")
  share, count = metrics.sticky_share(D)
  ax.set_xscale("log")
  ax.set_ylim(-0.02, 1.08)
  ax.set_xlabel("1 / (1 - S)")
  ax.set_ylabel("dimensions per feature")
  ax.set_title(f"{dataset.attrs['sweep']}: n={dataset.sizes['feature']}, "
               f"m={dataset.sizes['hidden']}; {share:.0%} of {count} represented features sticky")
  ax.legend(frameon=False, loc="upper center", fontsize=7)
  return fig


def _fraction_label(value: float) -> str:
  from fractions import Fraction
  return str(Fraction(value).limit_denominator(10))


def _arrows(ax, W: np.ndarray, title: str) -> None:
  """Feature embeddings of an m=2 model as arrows, numbered by feature."""
  colours = figures.colormap("viridis")(np.linspace(0, 0.9, W.shape[1]))
  for i in range(W.shape[1]):
    ax.annotate("", xy=W[:, i], xytext=(0, 0),
                arrowprops={"arrowstyle": "-|>", "color": colours[i], "lw": 1.2})
    ax.text(*(W[:, i] * 1.12), str(i), fontsize=6, ha="center", va="center", color=colours[i])
  ax.set_xlim(-1.5, 1.5)
  ax.set_ylim(-1.5, 1.5)
  ax.set_aspect("equal")
  ax.set_xticks([])
  ax.set_yticks([])
  ax.set_title(title, fontsize=7)


@figures.styled
def nonuniform(dataset: xr.Dataset) -> Figure:
  """Feature arrangements (best seed) as the last feature's density changes, and every
  seed's loss labelled by the configuration it reached."""
  ds = results.first_of_other_axes(dataset, ("relative_density", "seed"))
  best = results.best_seed(ds)
  values = ds.relative_density.values
  fig = figures.figure(figsize=(1.3 * len(values) + 1, 5.0))
  grid = fig.add_gridspec(2, len(values), height_ratios=[1, 1.6], hspace=0.45)
  for col in range(len(values)):
    _arrows(fig.add_subplot(grid[0, col]), best["W"].values[col],
            f"x{values[col]:.2g}\n" + metrics.configuration(best["W"].values[col]).replace(", ", "\n"))
  ax = fig.add_subplot(grid[1, :])
  labels = np.array([[metrics.configuration(ds["W"].values[i, s]) for s in range(ds.sizes["seed"])]
                     for i in range(len(values))])
  for name in sorted(set(labels.ravel())):
    i, s = np.nonzero(labels == name)
    ax.scatter(values[i], ds["loss"].values[i, s] / ds["loss"].values.min(axis=1)[i], s=12,
               label=name)
  ax.set_xscale("log")
  ax.set_xlabel(f"density of feature {ds.sizes['feature'] - 1} relative to the others")
  ax.set_ylabel("loss / best loss at that value")
  ax.legend(frameon=False, fontsize=7)
  fig.suptitle(f"{dataset.attrs['sweep']}: arrangements (best seed) and the loss of each "
               "configuration reached (all seeds)")
  return fig


@figures.styled
def trajectory(dataset: xr.Dataset) -> Figure:
  """Learning dynamics: W^T W at log-spaced steps (best seed at the sparsest density),
  one row per correlation structure, and each feature's D_i over training."""
  best = results.best_seed(dataset)
  best = best.isel(density=int(np.argmin(best.density.values)))
  rows = ([best.sel(correlation=c) for c in best.correlation.values]
          if "correlation" in best.dims else [best])
  steps = dataset.snapshot.values
  shown = np.unique(np.linspace(0, len(steps) - 1, 7).round().astype(int))
  fig, axes = figures.subplots(len(rows), len(shown) + 1, squeeze=False,
                           figsize=(1.3 * len(shown) + 3, 1.5 * len(rows) + 0.6),
                           gridspec_kw={"width_ratios": [1] * len(shown) + [2.2]})
  for row, cell in enumerate(rows):
    snaps = cell["W_snapshot"].values
    for col, k in enumerate(shown):
      W = snaps[k]
      axes[row, col].imshow(W.T @ W, cmap="RdBu_r", vmin=-1, vmax=1)
      axes[row, col].set_xticks([])
      axes[row, col].set_yticks([])
      if row == 0:
        axes[row, col].set_title(f"step {steps[k]}", fontsize=7)
    axes[row, 0].set_ylabel(str(cell.correlation.values), fontsize=8)
    dims = np.stack([np.asarray(metrics.dimensionality(W)) for W in snaps])
    ax = axes[row, -1]
    ax.plot(steps, dims, lw=0.9)
    ax.set_xscale("log")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("$D_i$", fontsize=7)
    if row == len(rows) - 1:
      ax.set_xlabel("step")
  fig.suptitle(f"{dataset.attrs['sweep']}: $W^TW$ during training (density "
               f"{float(best.density):.3g}, sets of {config_of(dataset).set_size})")
  return fig


@figures.styled
def neuron_weights(dataset: xr.Dataset) -> Figure:
  """Privileged basis: the neuron x feature matrix W per density (best seed), with each
  neuron's participation ratio: monosemantic neurons turn polysemantic as sparsity grows."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density",))
  densities = best.density.values
  fig, axes = figures.subplots(1, len(densities), figsize=(1.5 * len(densities) + 1, 2.4),
                           squeeze=False)
  limit = float(np.quantile(np.abs(best["W"].values), 0.99))  # one outlier must not wash out the rest
  for col, ax in enumerate(axes[0]):
    W = best["W"].values[col]
    image = ax.imshow(W, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_title(f"1-S = {densities[col]:.2g}\nmean PR "
                 f"{best['neuron_polysemanticity'].values[col].mean():.2f}", fontsize=7)
    ax.set_xlabel("feature")
    ax.set_yticks(range(W.shape[0]))
    ax.set_yticklabels([f"{v:.1f}" for v in best["neuron_polysemanticity"].values[col]],
                       fontsize=6)
  axes[0, 0].set_ylabel("neuron (participation ratio)")
  fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="W")
  fig.suptitle(f"{dataset.attrs['sweep']}: h = ReLU(W x), neuron x feature weights", y=1.1)
  return fig


@figures.styled
def neuron_stacks(dataset: xr.Dataset) -> Figure:
  """Elhage et al.'s neuron stacks for the abs model: each hidden neuron's input weights
  stacked by feature (positive up, negative down), neurons sorted by their strongest
  feature. Two neurons per feature (one per sign) is the monosemantic abs circuit."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density",))
  densities = best.density.values
  n = best.sizes["feature"]
  fig, axes = figures.subplots(len(densities), 1, figsize=(7, 1.3 * len(densities) + 0.5),
                           squeeze=False, sharex=True)
  colours = figures.colormap("turbo")(np.linspace(0, 1, n))
  for row, ax in enumerate(axes[:, 0]):
    W = best["W"].values[row]  # (m, n)
    order = np.lexsort((-np.abs(W).max(axis=1), np.abs(W).argmax(axis=1)))
    W = W[order]
    for sign in (1, -1):
      part = np.clip(sign * W, 0, None)
      features = np.argsort(-part.sum(axis=0))[: min(n, 40)]
      heights = part[:, features]  # (neurons, features), stacked left to right
      bottoms = np.cumsum(heights, axis=1) - heights
      # One bar call for every visible segment; a call per feature took half a minute.
      drawn = heights > 1e-3
      neuron = np.nonzero(drawn)[0]
      ax.bar(neuron, sign * heights[drawn], bottom=sign * bottoms[drawn], width=0.8,
             color=colours[np.broadcast_to(features, heights.shape)[drawn]], linewidth=0)
    _mark_inhibition(ax, best.isel(density=row), order)
    pr = best["neuron_polysemanticity"].values[row]
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel(f"1-S={densities[row]:.3g}\nPR {pr[pr > 0].mean():.1f}", fontsize=7)
    ax.tick_params(labelsize=6)
  axes[-1, 0].set_xlabel("hidden neuron (sorted by strongest input feature); colour = feature")
  fig.suptitle(f"{dataset.attrs['sweep']}: input weights of each neuron, y = ReLU(W_out "
               "ReLU(W x) + b) trained on |x|")
  return fig


def _mark_inhibition(ax, model: xr.Dataset, order: np.ndarray) -> None:
  """Labels the carrier (C) and inhibitor (I) neurons of the model's strongest asymmetric
  superposition with inhibition, if it has one (see metrics.inhibition_motifs)."""
  found = metrics.inhibition_motifs(model["W"].values, model["W_out"].values, model["b"].values)
  if not found:
    return
  top = max(found, key=lambda f: f.interference)
  position = np.argsort(order)  # neuron index -> its bar in the sorted stack
  for neuron, label in ((top.carrier, "C"), (top.inhibitor, "I")):
    ax.annotate(label, (position[neuron], 0.97), xycoords=("data", "axes fraction"),
                ha="center", va="top", fontsize=7, color="crimson", weight="bold")
  side = "+" if top.sign > 0 else "-"
  ax.text(1.0, 1.02, f"{len(found)} inhibition motifs; C carries x{top.source}={side}1 into "
          f"output {top.target}, I cancels it", transform=ax.transAxes, ha="right",
          va="bottom", fontsize=6, color="crimson")


def _alpha_rows(ds: xr.Dataset) -> list[tuple[str, xr.Dataset]]:
  """(label, data) per training kind: clean (alpha = 1) and adversarial (alpha < 1)."""
  if "alpha" not in ds.dims:
    return [("clean" if float(ds.alpha) == 1 else f"adversarial, alpha={float(ds.alpha):g}", ds)]
  return [("clean" if a == 1 else f"adversarial, alpha={a:g}", ds.sel(alpha=a))
          for a in sorted(ds.alpha.values.tolist(), reverse=True)]


@figures.styled
def vulnerability(dataset: xr.Dataset) -> Figure:
  """Gorton & Lewis Figure 2 / Elhage's vulnerability plot: (A) features per dimension
  against density, (B) vulnerability relative to the densest model against density and
  against features per dimension, for clean and adversarially trained models."""
  cfg = config_of(dataset)
  attack = cfg.eval_attacks[0]
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  fig, axes = figures.subplots(1, 3, figsize=(11, 3.3))
  for label, ds in _alpha_rows(best):
    vuln = robustness.relative_to_densest(ds["vulnerability"].sel(attack=attack))
    axes[0].plot(ds.density, ds["features_per_dim"], marker="o", ms=3, label=label)
    axes[1].plot(ds.density, vuln, marker="o", ms=3, label=label)
    axes[2].scatter(ds["features_per_dim"], vuln, s=12, label=label)
  for ax in axes[:2]:
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("feature density 1 - S")
  axes[0].set_ylabel("features per dimension")
  axes[0].set_title("A: superposition")
  axes[1].set_ylabel("vulnerability / densest model's")
  axes[1].set_title(f"B: vulnerability ({attack} attack)")
  axes[2].set_xlabel("features per dimension")
  axes[2].set_ylabel("vulnerability / densest model's")
  axes[2].set_title("vulnerability against superposition")
  axes[0].legend(frameon=False)
  fig.suptitle(f"{dataset.attrs['sweep']}: n={dataset.sizes['feature']}, "
               f"m={dataset.sizes['hidden']}, eps = {cfg.attack_eps} x "
               f"{'each input' if cfg.per_sample_eps else 'mean'} ||x||")
  fig.tight_layout()
  return fig


def _graph(ax, W: np.ndarray, activation: np.ndarray, title: str) -> None:
  """Superposition graph: a node per feature on a circle, edges (W_i . W_j)^2, nodes lit
  by their activation."""
  n = W.shape[1]
  angle = 2 * np.pi * np.arange(n) / n
  pos = np.stack([np.cos(angle), np.sin(angle)], axis=1)
  weight = (W.T @ W) ** 2
  np.fill_diagonal(weight, 0)
  top = weight.max() if weight.max() > 0 else 1.0
  for i, j in zip(*np.nonzero(np.triu(weight > 0.02 * top, k=1))):
    ax.plot(*pos[[i, j]].T, color="gray", lw=0.5, alpha=float(weight[i, j] / top) * 0.8)
  ax.scatter(*pos.T, s=14, c=np.clip(activation, 0, 1), cmap="Oranges", vmin=0, vmax=1,
             edgecolors="black", linewidths=0.3, zorder=3)
  ax.set_aspect("equal")
  ax.axis("off")
  ax.set_title(title, fontsize=8)


@figures.styled
def superposition_graph(dataset: xr.Dataset) -> Figure:
  """Gorton & Lewis Figure 3: for a non-robust and a robust model at the same sparsity,
  the superposition graph lit by the model's outputs on a clean input and on its
  adversarial version, and the interference heatmaps (W^T W off the diagonal)."""
  cfg = config_of(dataset)
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  density = float(best.density.values[np.argsort(best.density.values)[len(best.density) // 4]])
  cell = best.sel(density=density)
  rows = _alpha_rows(cell)
  hp = jax.tree.map(jnp.asarray, train.HParams(
      density=density, relative_density=1.0, importance=1.0, relative_importance=1.0,
      correlation=0, alpha=1.0, train_eps=0.0, lr=1e-3, seed=0))
  x = train.sample(cfg, hp, keys.root(0, "figure_input"), 64)
  x = x[int(jnp.argmax(jnp.sum(x > 0, axis=1) >= 2))]  # an input with a few features on
  eps = cfg.attack_eps * jnp.linalg.norm(x)
  fig, axes = figures.subplots(len(rows), 3, figsize=(8, 2.8 * len(rows)), squeeze=False)
  for row, (label, ds) in enumerate(rows):
    params = {k: jnp.asarray(ds[k].values) for k in ("W", "b")}
    importance = jnp.asarray(ds["feature_importance"].values)
    delta = attacks.perturbation(cfg.eval_attacks[0] if cfg.eval_attacks else "gorton",
                                 cfg.models[0], params, x, importance, eps,
                                 keys.root(0, "figure_attack"))
    for col, (inp, name) in enumerate(((x, "clean input"), (x + delta, "adversarial input"))):
      out = np.asarray(models.MODELS[cfg.models[0]].apply(params, inp))
      _graph(axes[row, col], ds["W"].values, out, f"{label}: {name}\n"
             f"{int(np.sum(out > train.LIT_OUTPUT))} features lit")
    gram = ds["W"].values.T @ ds["W"].values
    np.fill_diagonal(gram, 0)
    axes[row, 2].imshow(gram, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    axes[row, 2].set_title(f"interference, mean (W_i.W_j)^2 = "
                           f"{float(robustness.interference(ds['W'].values)):.4f}", fontsize=8)
    axes[row, 2].axis("off")
  fig.suptitle(f"{dataset.attrs['sweep']}: superposition graphs at density {density:.3g}")
  return fig


@figures.styled
def robust_geometry(dataset: xr.Dataset) -> Figure:
  """Gorton & Lewis Figure 4: W^T W of clean and adversarially trained models at the
  same densities."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  order = np.argsort(best.density.values)[::-1]
  shown = order[np.unique(np.linspace(0, len(order) - 1, 5).round().astype(int))]
  rows = _alpha_rows(best)
  fig, axes = figures.subplots(len(rows), len(shown), figsize=(2 * len(shown), 2.1 * len(rows)),
                           squeeze=False)
  for row, (label, ds) in enumerate(rows):
    for col, i in enumerate(shown):
      W = ds["W"].values[i]
      axes[row, col].imshow(W.T @ W, cmap="RdBu_r", vmin=-1, vmax=1)
      axes[row, col].set_xticks([])
      axes[row, col].set_yticks([])
      axes[row, col].set_title(f"1-S={float(ds.density[i]):.2g}, "
                               f"{float(ds['features_per_dim'][i]):.2f} feat/dim", fontsize=7)
    axes[row, 0].set_ylabel(label, fontsize=8)
  fig.suptitle(f"{dataset.attrs['sweep']}: $W^TW$, clean vs adversarially trained")
  return fig


FIGURES: dict[str, Callable[[xr.Dataset], Figure]] = {
    "intro": intro,
    "features_per_dim": features_per_dim,
    "phase_n2m1": phase_n2m1,
    "phase_n3m2": phase_n3m2,
    "geometry": geometry,
    "nonuniform": nonuniform,
    "trajectory": trajectory,
    "neuron_weights": neuron_weights,
    "neuron_stacks": neuron_stacks,
    "vulnerability": vulnerability,
    "superposition_graph": superposition_graph,
    "robust_geometry": robust_geometry,
}


def draw(dataset: xr.Dataset) -> dict[str, Figure]:
  """Every figure the run's sweep names, from its saved results."""
  return {name: FIGURES[name](dataset) for name in config_of(dataset).figures}
