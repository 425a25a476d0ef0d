"""Plain-text summaries of finished runs: the numbers behind the figures.

Each report takes the results dataset and returns lines of text; a sweep names the
reports it wants in `reports`. `superjax report RUN_DIR` prints them again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import xarray as xr

from superjax.claims.stats import spearman
from superjax.core.experiment import config_of
from superjax.toy import metrics, results, robustness, theory


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
    ds = results.first_of_other_axes(ds, ("density", "seed"))
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


def seed_spread(dataset: xr.Dataset) -> list[str]:
  """Best-of-N seeds: how much the choice of seed matters, per model, over all cells."""
  lines = [f"seeds: best of {dataset.sizes['seed']} per cell by held-out loss; "
           "spread over seeds (worst / best loss):"]
  for model, ds in results.per_model(dataset):
    loss = ds["loss"].where(~ds["diverged"])
    ratio = (loss.max("seed") / loss.min("seed")).values.ravel()
    fpd = (ds["features_per_dim"].max("seed") - ds["features_per_dim"].min("seed")).values.ravel()
    q = np.nanquantile(ratio, [0.5, 0.9, 1.0])
    lines.append(f"  {model}: worst/best loss median {q[0]:.3f}, 90th pct {q[1]:.3f}, "
                 f"max {q[2]:.3f}; features/dim range median {np.nanmedian(fpd):.3f}, "
                 f"max {np.nanmax(fpd):.3f} ({ratio.size} cells)")
  return lines


@functools.lru_cache(maxsize=4)
def _n3m2_theory(densities: tuple[float, ...], ratios: tuple[float, ...]):
  p, r = np.meshgrid(densities, ratios, indexing="ij")
  return theory.n3m2_theory_phase(p, r)


def n3m2_phases(dataset: xr.Dataset):
  """Empirical (best seed) and theoretical n=3, m=2 labels on the (density,
  relative_importance) grid, the represented-cell mask and the candidates' losses."""
  best = results.best_seed(dataset).transpose("density", "relative_importance", ...)
  empirical = theory.n3m2_phase(best["W"].values)
  theoretical, losses = _n3m2_theory(tuple(dataset.density.values.tolist()),
                                     tuple(dataset.relative_importance.values.tolist()))
  return empirical, theoretical, empirical != theory.N3_OTHER, losses


def phase_n3m2(dataset: xr.Dataset) -> list[str]:
  empirical, theoretical, represented, _ = n3m2_phases(dataset)
  agree = empirical[represented] == theoretical[represented]
  lines = [f"n=3, m=2 phase diagram: {empirical.size} cells, best of "
           f"{dataset.sizes['seed']} seeds by held-out loss"]
  for label, name in enumerate(theory.N3M2_PHASES):
    lines.append(f"  {name:<28} empirical {np.sum(empirical == label):4d}   "
                 f"theory {np.sum(theoretical == label):4d}")
  lines.append(f"  agreement with theory on classified cells: {agree.mean():.1%} "
               f"({agree.sum()} of {represented.sum()})")
  return lines


def sticky(dataset: xr.Dataset) -> list[str]:
  """Share of represented features at a sticky fraction, overall and per density."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density",))
  share, count = metrics.sticky_share(best["dimensionality"].values)
  lines = [f"sticky fractions: {share:.1%} of {count} represented features (D_i >= 0.3) lie "
           "within 0.01 of 1, 3/4, 2/3, 1/2, 2/5, 3/8 or 1/3",
           f"  {'density':>9} {'1/(1-S)':>8} {'D*':>7} {'sticky':>7} {'of':>4}"]
  for i, density in enumerate(best.density.values):
    s, c = metrics.sticky_share(best["dimensionality"].values[i])
    d_star = 1.0 / float(best["features_per_dim"][i])
    lines.append(f"  {density:9.4f} {1 / density:8.1f} {d_star:7.3f} {s:7.1%} {c:4d}")
  return lines


def configurations(dataset: xr.Dataset) -> list[str]:
  """Per value of the swept axis, the arrangement of every seed and the winning one."""
  axis = "relative_density" if "relative_density" in dataset["loss"].dims else "density"
  ds = results.first_of_other_axes(dataset, (axis, "seed"))
  lines = [f"configurations along {axis} (seed: arrangement, loss; * = best):"]
  for i, value in enumerate(ds[axis].values):
    cell = ds.isel({axis: i})
    best = int(cell["loss"].argmin("seed"))
    parts = [f"{'*' if s == best else ' '}{metrics.configuration(cell['W'].values[s])} "
             f"{float(cell['loss'][s]):.5f}" for s in range(cell.sizes["seed"])]
    lines.append(f"  {axis} {value:7.3f}: " + " | ".join(parts))
  return lines


def correlations(dataset: xr.Dataset) -> list[str]:
  """Mean cosine between features of the same set and of different sets."""
  cfg = config_of(dataset)
  best = results.best_seed(dataset)
  lines = [f"feature sets of {cfg.set_size}: mean cosine between represented features "
           "(best seed), same set / different sets"]
  for corr in np.atleast_1d(best.correlation.values):
    cell = best.sel(correlation=corr) if "correlation" in best.dims else best
    for i, density in enumerate(cell.density.values):
      same, other = metrics.set_cosines(cell["W"].values[i], cfg.set_size)
      lines.append(f"  {corr!s:<15} density {density:6.3f}: same {same:+.2f}  "
                   f"different {other:+.2f}  ({metrics.configuration(cell['W'].values[i])})")
  return lines


def _best_per_density(dataset: xr.Dataset):
  """(model, density, that density's best-seed results) for every model and density."""
  for model, ds in results.per_model(dataset):
    best = results.first_of_other_axes(results.best_seed(ds), ("density",))
    for i, density in enumerate(best.density.values):
      yield model, density, best.isel(density=i)


def polysemanticity(dataset: xr.Dataset) -> list[str]:
  """Neurons reading one feature vs several, per density (best seed)."""
  lines = ["neurons (best seed): mean participation ratio of input weights (1 = monosemantic),"
           " monosemantic (< 1.5) / polysemantic (>= 1.5) / dead"]
  for model, density, best in _best_per_density(dataset):
    kinds = metrics.neuron_kinds(best["neuron_polysemanticity"].values)
    lines.append(f"  {model} density {density:7.4f}: mean {kinds.mean:5.2f}   "
                 f"{kinds.monosemantic:3d} / {kinds.polysemantic:3d} / {kinds.dead:3d}")
  return lines


def inhibition(dataset: xr.Dataset) -> list[str]:
  """Asymmetric superposition with inhibition (abs model), per density (best seed)."""
  lines = ["asymmetric superposition with inhibition (best seed): feature pairs where a "
           "lopsided neuron's interference is cancelled by another"]
  for model, density, best in _best_per_density(dataset):
    found = metrics.inhibition_motifs(best["W"].values, best["W_out"].values, best["b"].values)
    line = f"  {model} density {density:7.4f}: {len(found):4d} motifs"
    if found:
      top = max(found, key=lambda f: f.interference)
      side = "+" if top.sign > 0 else "-"
      line += (f"; strongest: x{top.source} = {side}1 pushes output {top.target} by "
               f"{top.interference:+.2f} through neuron {top.carrier}, neuron "
               f"{top.inhibitor} and the bias hold it at {top.net:+.2f}")
    lines.append(line)
  return lines


def sides(dataset: xr.Dataset) -> list[str]:
  """How many features the abs model computes on both signs, per density (best seed),
  beside the best ratio an output computing one side can reach."""
  lines = [("features computed on both signs / one sign / neither (best seed; output rises"
            " >= 0.5 at x_i = +-1 alone), and the best loss / baseline of a one-sided output:")]
  for model, density, best in _best_per_density(dataset):
    both, one, neither = metrics.side_counts(best["W"].values, best["W_out"].values,
                                             best["b"].values)
    lines.append(f"  {model} density {density:7.4f}: {both:4d} / {one:4d} / {neither:4d}"
                 f"   one-sided best "
                 f"{float(theory.abs_one_sided_ratio(density)):.3f}")
  return lines


def loss_over_baseline(ds: xr.Dataset) -> xr.DataArray:
  """Held-out loss over the best constant output's loss (same dims as `loss`)."""
  return ds["loss"] / ds["baseline_loss"]


def baseline_ratio(dataset: xr.Dataset) -> list[str]:
  """Loss against the best constant output's loss, per density."""
  lines = ["loss / baseline loss (best constant output), best seed per density:"]
  for model, density, best in _best_per_density(dataset):
    loss, base = float(best["loss"]), float(best["baseline_loss"])
    lines.append(f"  {model} density {density:7.4f}: loss {loss:.3e}  baseline {base:.3e}  "
                 f"ratio {float(loss_over_baseline(best)):.3f}")
  return lines


def _alphas(dataset: xr.Dataset) -> list[float]:
  return [float(a) for a in np.atleast_1d(dataset.alpha.values)]


def _at_alpha(ds: xr.Dataset, alpha: float) -> xr.Dataset:
  return ds.sel(alpha=alpha) if "alpha" in ds.dims else ds


def relative_vulnerability(dataset: xr.Dataset, attack: str) -> tuple[xr.Dataset, xr.DataArray]:
  """The best seed per (density, alpha), and its vulnerability under `attack` relative to
  the densest model with the same alpha (dims density[, alpha])."""
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  return best, robustness.relative_to_densest(best["vulnerability"].sel(attack=attack))


def sparsest_third(best: xr.Dataset) -> np.ndarray:
  """Indices of the sparsest third of the densities (at least one)."""
  return np.argsort(best.density.values)[: max(1, best.sizes["density"] // 3)]


def fewer_features(best: xr.Dataset, clean: float, robust: float) -> xr.DataArray:
  """1 - features/dim at alpha=robust over that at alpha=clean, per density: how much
  less superposition adversarial training leaves (best seed per cell)."""
  fpd = best["features_per_dim"]
  return 1 - fpd.sel(alpha=robust) / fpd.sel(alpha=clean)


def interference_ratio(best: xr.Dataset, clean: float, robust: float) -> xr.DataArray:
  """Mean off-diagonal interference (W_i . W_j)^2 at alpha=clean over that at
  alpha=robust, per density (best seed per cell)."""
  inter = best["loss"].copy(data=robustness.interference(best["W"].values))
  return inter.sel(alpha=clean) / inter.sel(alpha=robust)


def adversarial(dataset: xr.Dataset) -> list[str]:
  """Vulnerability against superposition, clean vs adversarially trained (best seed)."""
  cfg = config_of(dataset)
  attack = cfg.eval_attacks[0]
  best, vuln = relative_vulnerability(dataset, attack)
  again = robustness.relative_to_densest(results.first_of_other_axes(results.best_seed(
      dataset.assign(reattack=robustness.reattack(dataset, attack))), ("density", "alpha"))["reattack"])
  alphas = _alphas(dataset)
  lines = [f"adversarial vulnerability ({attack} attack, eps = {cfg.attack_eps} x "
           f"{'each' if cfg.per_sample_eps else 'mean'} ||x||), relative to the densest model; "
           "best seed per density; re-attack = fresh samples and noise on the saved weights"]
  header = "  density " + "".join(f"| a={a:g}: feat/dim  vuln  re-attack " for a in alphas)
  lines.append(header)
  for i, density in enumerate(best.density.values):
    row = f"  {density:7.4f} "
    for a in alphas:
      row += (f"|        {float(_at_alpha(best['features_per_dim'], a)[i]):6.3f} "
              f"{float(_at_alpha(vuln, a)[i]):5.2f} {float(_at_alpha(again, a)[i]):9.2f} ")
    lines.append(row)
  sparsest = int(np.argmin(best.density.values))
  for a in alphas:
    fpd, v, r = (_at_alpha(x, a).values for x in (best["features_per_dim"], vuln, again))
    lines.append(f"  alpha={a:g}: sparsest / densest vulnerability {v[sparsest]:.2f} "
                 f"(re-attack {r[sparsest]:.2f}); Spearman(features/dim, vulnerability) "
                 f"{spearman(fpd, v):.2f} (re-attack {spearman(fpd, r):.2f})")
  if len(alphas) > 1:
    clean, robust = max(alphas), min(alphas)
    third = sparsest_third(best)
    fewer = fewer_features(best, clean, robust).values[third]
    lines.append(f"  sparsest third of densities: alpha={robust:g} has fewer features/dim than "
                 f"alpha={clean:g} at {np.sum(fewer > 0)} of {len(third)} densities, "
                 f"{fewer.mean():.1%} fewer on average")
    ratio = interference_ratio(best, clean, robust)
    lines.append(f"  mean off-diagonal interference (W_i . W_j)^2, non-robust / robust: "
                 f"median over densities {float(np.median(ratio)):.2f}x, sparsest third "
                 f"{float(np.mean(ratio.values[third])):.2f}x")
  return lines


def budgets(dataset: xr.Dataset) -> list[str]:
  """Superposition by training-attack budget, per density, mean over seeds: represented
  features per dimension (norm-free) beside ||W||_F^2 / m, which adversarial training's
  smaller norms pull down on their own."""
  cfg = config_of(dataset)
  lines = [f"superposition by training budget ({cfg.train_attack} attack, budget x "
           f"{'each' if cfg.per_sample_eps else 'mean'} ||x||, alpha "
           f"{', '.join(f'{a:g}' for a in _alphas(dataset))}): represented features "
           "(||W_i|| > 0.5) per dimension / ||W||_F^2 / m, mean over seeds"]
  for model, ds in results.per_model(dataset):
    ds = results.first_of_other_axes(ds, ("density", "train_eps", "seed"))
    represented = ds["features_per_dim"].copy(data=metrics.represented_per_dim(ds["W"].values))
    represented, norm = represented.mean("seed"), ds["features_per_dim"].mean("seed")
    values = [float(v) for v in np.atleast_1d(ds.train_eps.values)]
    at = lambda a, b: a.sel(train_eps=b) if "train_eps" in a.dims else a
    lines.append((f"  {model}:  density " + "".join(f"| eps {b:<9g} " for b in values)).rstrip())
    for i, density in enumerate(ds.density.values):
      lines.append((f"  {'':{len(model) + 2}} {density:7.4f} " + "".join(
          f"| {float(at(represented, b)[i]):5.2f} / {float(at(norm, b)[i]):5.2f} "
          for b in values)).rstrip())
  return lines


REPORTS: dict[str, Callable[[xr.Dataset], list[str]]] = {
    "adversarial": adversarial,
    "budgets": budgets,
    "features_per_dim": features_per_dim,
    "phase_n2m1": phase_n2m1,
    "phase_n3m2": phase_n3m2,
    "seed_spread": seed_spread,
    "sticky": sticky,
    "configurations": configurations,
    "correlations": correlations,
    "polysemanticity": polysemanticity,
    "baseline_ratio": baseline_ratio,
    "inhibition": inhibition,
    "sides": sides,
}


def render(dataset: xr.Dataset) -> str:
  cfg = config_of(dataset)
  lines = [f"sweep {cfg.name}: {dataset.attrs['model']} x {cfg.run_count} runs, {cfg.steps} steps"]
  for name in cfg.reports:
    lines += REPORTS[name](dataset)
  lines += diverged(dataset)
  return "\n".join(lines)
