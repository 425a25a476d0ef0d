"""The claims of Elhage et al. 2022 and Gorton & Lewis 2025 that the toy sweeps test.

Each claim is measured from a finished run's saved results with the numbers the toy
reports print (report.py, metrics.py, robustness.py, theory.py), and judged against the
thresholds below; `superjax scorecard` lists them. "Best seed" is the seed with the lowest
held-out loss in a cell, as in the reports; the seed spread repeats the measurement on
every seed alone.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from superjax.core.experiment import config_of
from superjax.core.scorecard import Claim, Finding, seed_range
from superjax.core.stats import spearman
from superjax.toy import metrics, report, results, theory

ELHAGE = "Elhage et al. 2022"
GORTON = "Gorton & Lewis 2025"

# --- thresholds ----------------------------------------------------------------------

# A linear model keeps at most m orthogonal features: ||W||_F^2 / m <= 1, with slack for
# norms that settle a little above 1.
LINEAR_MAX_FEATURES_PER_DIM = 1.05
# The n=2, m=1 sweep's stated bar is 85% agreement with theory; from 70% the diagrams
# still share their phases and differ near the boundaries, where candidates tie.
PHASE_HOLDS, PHASE_PARTLY = 0.85, 0.70
# Sticky fractions: "most" represented features on a sticky line (D_i within 0.01 of one)
# holds; at least twice the share D_i spread uniformly over [0.3, 1] would put there is a
# weaker clustering (partly).
STICKY_HOLDS = 0.5
STICKY_PARTLY_OVER_CHANCE = 2.0
# Correlated sets: a mean same-set cosine within 0.15 of 0 is orthogonal (a triangle
# reads -0.5, an antipodal pair in a set of 3 reads -1/3); -0.2 or below is superposed
# with antipodal set-mates.
ORTHOGONAL_COS = 0.15
ANTIPODAL_SET_COS = -0.2
# Privileged basis: the polysemanticity report's line between a monosemantic and a
# polysemantic neuron (participation ratio 1.5), on average over the neurons of the most
# monosemantic model in the denser half of the densities; polysemantic layers read 2 or
# more features per neuron on average at the sparsest density.
MONOSEMANTIC_PR = 1.5
POLYSEMANTIC_PR = 2.0
# abs: below half the best constant output's loss, at densities <= 0.01, with more
# features computed on both signs than m/2 neurons could compute one per pair.
ABS_LOSS_RATIO = 0.5
ABS_MAX_DENSITY = 0.01
# Elhage: vulnerability "increasing by >3x" and "closely tracks" features per dimension
# (Spearman 0.8 or more over the densities).
ELHAGE_RISE = 3.0
TRACKS_RHO = 0.8
# Elhage: adversarial training removed superposition only at attacks of 80% of the
# input norm. At most 1.1 features per dimension is no superposition.
ELHAGE_FULL_BUDGET = 0.8
NO_SUPERPOSITION_FPD = 1.1
# Gorton Fig. 2A: the antipodal plateau is 3 or more consecutive densities at 1.8 to 2.2
# features per dimension; the rise is Spearman(1 / density, features/dim) >= 0.9.
PLATEAU_BAND = (1.8, 2.2)
PLATEAU_POINTS = 3
RISE_RHO = 0.9
# Gorton Fig. 2B (the sweep's stated bar): Spearman(features/dim, vulnerability) >= 0.6
# and >= 1.5x the densest model's vulnerability at the sparsest; a dip is vulnerability
# on the plateau at least 5% below the highest at a denser density.
VULNERABILITY_RHO = 0.6
VULNERABILITY_RISE = 1.5
DIP = 0.05
# Gorton Fig. 2: adversarial training lowers features/dim at most of the sparsest third
# of densities and vulnerability at most densities (share above one half).
MAJORITY = 0.5
# Gorton Fig. 3B: "approximately 2x" is read as 1.5x to 2.5x; above 1.1x robust models
# still have less interference (partly).
INTERFERENCE_BAND = (1.5, 2.5)
LESS_INTERFERENCE = 1.1
# Gorton Fig. 4: "similar geometry" is the same dominant sticky fraction of D_i (the same
# polytope) at 70% or more of the densities where both models superpose.
SAME_GEOMETRY = 0.7


def _verdict(holds: bool, partly: bool) -> str:
  return "holds" if holds else "partly" if partly else "does not hold"


def _model(dataset: xr.Dataset, name: str) -> xr.Dataset:
  """One model kind's results (error naming the kinds the run trained)."""
  found = dict(results.per_model(dataset))
  if name not in found:
    raise ValueError(f"the run trained {', '.join(found)}, not {name}")
  return found[name]


def _per_seed(ds: xr.Dataset):
  """Each seed's results alone, diverged runs left out."""
  for s in range(ds.sizes["seed"]):
    one = ds.isel(seed=s)
    if not bool(one["diverged"].any()):
      yield one


def _seeds(dataset: xr.Dataset) -> str:
  """The seed note of a claim measured on the best seed alone."""
  count = dataset.sizes.get("seed", 1)
  return "1 seed" if count == 1 else f"best of {count} seeds (no per-seed spread)"


def _clean(dataset: xr.Dataset) -> xr.Dataset:
  """The clean (largest alpha) models of a run that may also train adversarially."""
  return dataset.sel(alpha=dataset.alpha.max()) if "alpha" in dataset.dims else dataset


def _sparsest(ds: xr.Dataset) -> xr.Dataset:
  return ds.isel(density=int(np.argmin(ds.density.values)))


def _densest_first(ds: xr.Dataset) -> xr.Dataset:
  return ds.isel(density=np.argsort(ds.density.values)[::-1])


# --- Elhage et al. 2022 ----------------------------------------------------------------


def intro(dataset: xr.Dataset) -> Finding:
  linear = results.first_of_other_axes(_model(dataset, "linear"), ("density", "seed"))
  relu = results.first_of_other_axes(_model(dataset, "relu"), ("density", "seed"))
  m = relu.sizes["hidden"]
  linear_max = float(results.best_seed(linear)["features_per_dim"].max())
  sparse = _sparsest(relu)
  best = results.best_seed(sparse)
  count, _ = metrics.arrangement(best["W"].values)
  fpd = float(best["features_per_dim"])
  seeds_count = [metrics.arrangement(one["W"].values)[0] for one in _per_seed(sparse)]
  measured = (f"linear: at most {linear_max:.2f} features/dim over the densities; ReLU at "
              f"1-S = {float(sparse.density):.3g}: {count} of {relu.sizes['feature']} features "
              f"represented, {fpd:.2f} features/dim (represented: "
              f"{seed_range(seeds_count, '.0f')})")
  keeps = linear_max <= LINEAR_MAX_FEATURES_PER_DIM
  superposes = count > m
  reason = {(True, True): f"linear stays <= {LINEAR_MAX_FEATURES_PER_DIM}, ReLU packs more "
                          f"features than its {m} dimensions",
            (True, False): f"ReLU represents no more features than its {m} dimensions",
            (False, True): "linear model exceeds one feature per dimension",
            (False, False): "neither model behaves as stated"}[keeps, superposes]
  return Finding(measured, _verdict(keeps and superposes, keeps or superposes), reason)


def _agreement(empirical, theoretical, represented) -> float:
  return float(np.mean(empirical[represented] == theoretical[represented]))


def phase_n2m1(dataset: xr.Dataset) -> Finding:
  empirical, theoretical, represented = report.n2m1_phases(dataset)
  agree = _agreement(empirical, theoretical, represented)
  per_seed = []
  for one in _per_seed(dataset.transpose("seed", "density", "relative_importance", ...)):
    labels = theory.n2m1_empirical_phase(one["feature_norm"].values)
    per_seed.append(_agreement(labels, theoretical, labels != theory.NEITHER))
  measured = (f"{agree:.1%} of {int(represented.sum())} represented cells agree (best seed); "
              f"single seeds {seed_range(np.asarray(per_seed) * 100, '.1f', '%')}")
  return Finding(measured, _verdict(agree >= PHASE_HOLDS, agree >= PHASE_PARTLY),
                 f"agreement {'>=' if agree >= PHASE_HOLDS else '<'} {PHASE_HOLDS:.0%}")


def phase_n3m2(dataset: xr.Dataset) -> Finding:
  empirical, theoretical, represented, _ = report.n3m2_phases(dataset)
  agree = _agreement(empirical, theoretical, represented)
  per_seed = []
  for one in _per_seed(dataset.transpose("seed", "density", "relative_importance", ...)):
    labels = theory.n3m2_phase(one["W"].values)
    per_seed.append(_agreement(labels, theoretical, labels != theory.N3_OTHER))
  counts = ", ".join(f"{name} {np.sum(empirical == label)} ({np.sum(theoretical == label)})"
                     for label, name in enumerate(theory.N3M2_PHASES[:-1]))
  measured = (f"{agree:.1%} of {int(represented.sum())} classified cells agree (best seed; "
              f"empirical (theory): {counts}); single seeds "
              f"{seed_range(np.asarray(per_seed) * 100, '.1f', '%')}")
  return Finding(measured, _verdict(agree >= PHASE_HOLDS, agree >= PHASE_PARTLY),
                 f"agreement {'>=' if agree >= PHASE_HOLDS else '<'} {PHASE_HOLDS:.0%}")


def sticky_chance(min_dimensionality: float = 0.3, tolerance: float = 0.01) -> float:
  """Share of [min_dimensionality, 1] within `tolerance` of a sticky fraction: what D_i
  spread uniformly there would score."""
  covered = sum(min(1.0, f + tolerance) - max(min_dimensionality, f - tolerance)
                for f in metrics.STICKY_FRACTIONS)
  return covered / (1.0 - min_dimensionality)


def sticky(dataset: xr.Dataset) -> Finding:
  best = results.first_of_other_axes(results.best_seed(dataset), ("density",))
  D = best["dimensionality"].values
  share, count = metrics.sticky_share(D)
  classes = metrics.sticky_class(D)
  common = np.bincount(classes[classes >= 0], minlength=len(metrics.STICKY_FRACTIONS))
  top = [f"{_fraction(metrics.STICKY_FRACTIONS[i])} ({common[i]})"
         for i in np.argsort(common)[::-1][:3] if common[i]]
  d_star = 1 / best["features_per_dim"].values
  falls = spearman(best.density.values, d_star)
  per_seed = [metrics.sticky_share(one["dimensionality"].values)[0]
              for one in _per_seed(results.first_of_other_axes(dataset, ("density", "seed")))]
  chance = sticky_chance()
  measured = (f"{share:.1%} of {count} represented features (D_i >= 0.3) on a sticky "
              f"fraction, most at {', '.join(top) or 'none'}; chance {chance:.0%}; "
              f"D* from {d_star.max():.2f} to {d_star.min():.2f}, Spearman(1-S, D*) "
              f"{falls:+.2f}; sticky share {seed_range(np.asarray(per_seed) * 100, '.1f', '%')}")
  holds = share >= STICKY_HOLDS
  partly = share >= STICKY_PARTLY_OVER_CHANCE * chance
  reason = (f"{'most' if holds else 'a minority of'} represented features sit on sticky "
            f"fractions ({share / chance:.1f}x chance)")
  return Finding(measured, _verdict(holds, partly), reason)


def _fraction(value: float) -> str:
  for num in range(1, 4):
    for den in range(1, 9):
      if abs(value - num / den) < 1e-9:
        return f"{num}/{den}" if den > 1 else "1"
  return f"{value:.3f}"


def nonuniform(dataset: xr.Dataset) -> Finding:
  ds = results.first_of_other_axes(dataset, ("relative_density", "seed"))
  values = ds.relative_density.values
  middle = int(np.argmin(np.abs(np.log(values))))
  ends = (int(np.argmin(values)), int(np.argmax(values)))
  n = ds.sizes["feature"]

  def best_arrangement(i: int) -> tuple[int, int]:
    return metrics.arrangement(results.best_seed(ds.isel(relative_density=i))["W"].values)

  pentagon = (n, 0)
  centre = best_arrangement(middle)
  changed = [best_arrangement(i) != centre for i in ends]
  polygon_seeds = sum(metrics.arrangement(ds["W"].values[middle, s]) == pentagon
                      for s in range(ds.sizes["seed"]))

  def name(a: tuple[int, int]) -> str:
    return f"{a[0]} features, {a[1]} antipodal pairs"

  measured = (f"x{values[middle]:.2g}: {name(centre)} ({polygon_seeds} of {ds.sizes['seed']} "
              f"seeds all {n} with no pair); x{values[ends[0]]:.2g}: "
              f"{name(best_arrangement(ends[0]))}; x{values[ends[1]]:.2g}: "
              f"{name(best_arrangement(ends[1]))}")
  is_polygon = centre == pentagon
  holds = is_polygon and all(changed)
  reason = (f"{'an' if is_polygon else 'no'} all-{n} polygon at equal densities; the best "
            f"configuration changes at {sum(changed)} of 2 extremes")
  return Finding(measured, _verdict(holds, is_polygon and any(changed)), reason)


def correlated(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  kinds = list(np.atleast_1d(dataset.correlation.values))
  for needed in ("correlated", "anticorrelated"):
    if needed not in kinds:
      raise ValueError(f"the run has no {needed} sets (correlation = {', '.join(kinds)})")
  ds = _sparsest(results.first_of_other_axes(dataset, ("correlation", "density", "seed")))

  def cosines(kind: str) -> tuple[tuple[float, float], list[float]]:
    cell = ds.sel(correlation=kind)
    best = metrics.set_cosines(results.best_seed(cell)["W"].values, cfg.set_size)
    seeds = [metrics.set_cosines(one["W"].values, cfg.set_size)[0] for one in _per_seed(cell)]
    return best, seeds

  (corr_same, corr_other), corr_seeds = cosines("correlated")
  (anti_same, _), anti_seeds = cosines("anticorrelated")
  measured = (f"at 1-S = {float(ds.density):.3g}, mean same-set cosine (best seed): "
              f"correlated {corr_same:+.2f} ({seed_range(corr_seeds, '+.2f')}; other sets "
              f"{corr_other:+.2f}), anticorrelated {anti_same:+.2f} "
              f"({seed_range(anti_seeds, '+.2f')})")
  if "independent" in kinds:
    indep, _ = cosines("independent")
    measured += f"; independent {indep[0]:+.2f}"
  orthogonal = abs(corr_same) <= ORTHOGONAL_COS
  antipodal = anti_same <= ANTIPODAL_SET_COS
  reason = (f"correlated set-mates {'orthogonal' if orthogonal else 'not orthogonal'}, "
            f"anticorrelated {'superposed antipodally' if antipodal else 'not antipodal'}")
  return Finding(measured, _verdict(orthogonal and antipodal, orthogonal or antipodal), reason)


def privileged(dataset: xr.Dataset) -> Finding:
  ds = results.first_of_other_axes(_model(dataset, "hidden_relu"), ("density", "seed"))
  order = np.argsort(ds.density.values)[::-1]
  dense_half = order[: max(1, len(order) // 2)]

  def kinds(cell: xr.Dataset):
    best = metrics.neuron_kinds(results.best_seed(cell)["neuron_polysemanticity"].values)
    seeds = [metrics.neuron_kinds(one["neuron_polysemanticity"].values).mean
             for one in _per_seed(cell)]
    return best, seeds

  # The dense regime is the denser half of the densities; its most monosemantic model
  # stands for it (at 1-S = 1 every feature is present and the neurons may mix).
  dense = {int(i): kinds(ds.isel(density=int(i))) for i in dense_half}
  at = min(dense, key=lambda i: dense[i][0].mean)
  (d, d_seeds), (s, s_seeds) = dense[at], kinds(_sparsest(ds))
  densest = dense[int(order[0])][0].mean
  measured = (f"mean participation ratio of live neurons (best seed): {d.mean:.2f} at 1-S = "
              f"{float(ds.density[at]):.3g} ({d.monosemantic} of {ds.sizes['hidden']} "
              f"monosemantic; {seed_range(d_seeds)}; {densest:.2f} at 1-S = "
              f"{float(ds.density[order[0]]):.3g}), {s.mean:.2f} at "
              f"{float(ds.density.min()):.3g} ({s.polysemantic} polysemantic; "
              f"{seed_range(s_seeds)})")
  mono, poly = d.mean < MONOSEMANTIC_PR, s.mean >= POLYSEMANTIC_PR
  reason = (f"dense neurons {'monosemantic' if mono else 'polysemantic'}, sparse "
            f"neurons {'polysemantic' if poly else 'not polysemantic'}")
  return Finding(measured, _verdict(mono and poly, mono or poly), reason)


def abs_superposition(dataset: xr.Dataset) -> Finding:
  ds = results.first_of_other_axes(_model(dataset, "abs"), ("density", "seed"))
  m = ds.sizes["hidden"]
  sparse = ds.isel(density=np.flatnonzero(ds.density.values <= ABS_MAX_DENSITY + 1e-9))
  if sparse.sizes["density"] == 0:
    raise ValueError(f"the run has no density <= {ABS_MAX_DENSITY}")
  parts, passing = [], 0
  for i, density in enumerate(sparse.density.values):
    cell = sparse.isel(density=i)
    best = results.best_seed(cell)
    ratio = float(report.loss_over_baseline(best))
    both, _, _ = metrics.side_counts(best["W"].values, best["W_out"].values, best["b"].values)
    seeds = [float(report.loss_over_baseline(one)) for one in _per_seed(cell)]
    passing += ratio < ABS_LOSS_RATIO and both > m / 2
    parts.append(f"1-S = {density:.3g}: loss/baseline {ratio:.2f} ({seed_range(seeds)}), "
                 f"{both} two-sided")
  count = sparse.sizes["density"]
  measured = f"m = {m}; " + "; ".join(parts)
  reason = (f"below {ABS_LOSS_RATIO} with > {m // 2} two-sided features at {passing} of "
            f"{count} densities <= {ABS_MAX_DENSITY}")
  return Finding(measured, _verdict(passing == count, passing > 0), reason)


def _vulnerability_rows(dataset: xr.Dataset, attack: str):
  """Best-seed features/dim and relative vulnerability per density (alpha = 1 where the
  run trains several), and per-seed relative vulnerabilities (seed, density)."""
  cfg = config_of(dataset)
  if attack not in cfg.eval_attacks:
    raise ValueError(f"the run measured {', '.join(cfg.eval_attacks) or 'no'} attacks, "
                     f"not {attack}")
  best, vuln = report.relative_vulnerability(_clean(dataset), attack)
  ds = results.first_of_other_axes(_clean(dataset), ("density", "seed"))
  per_seed = []
  for one in _per_seed(ds):
    v = one["vulnerability"].sel(attack=attack).values
    per_seed.append((one["features_per_dim"].values, v / v[int(np.argmax(one.density.values))]))
  return best, vuln, per_seed


def elhage_vulnerability(dataset: xr.Dataset) -> Finding:
  best, vuln, per_seed = _vulnerability_rows(dataset, "analytic")
  fpd, v = best["features_per_dim"].values, vuln.values
  peak, rho = float(np.max(v)), spearman(fpd, v)
  measured = (f"analytic attack, best seed: up to {peak:.2f}x the densest model's "
              f"vulnerability ({seed_range([s[1].max() for s in per_seed])}); "
              f"Spearman(features/dim, vulnerability) {rho:.2f} "
              f"({seed_range([spearman(*s) for s in per_seed])})")
  rises, tracks = peak > ELHAGE_RISE, rho >= TRACKS_RHO
  reason = (f"rises {'>' if rises else '<='} {ELHAGE_RISE:g}x, Spearman "
            f"{'>=' if tracks else '<'} {TRACKS_RHO}")
  return Finding(measured, _verdict(rises and tracks, rises or tracks), reason)


def _alphas(dataset: xr.Dataset) -> tuple[float, float]:
  """(clean, robust) alphas of a run that trains both."""
  alphas = np.atleast_1d(dataset.alpha.values)
  if "alpha" not in dataset.dims or alphas.size < 2:
    raise ValueError("the run trains one alpha; adversarial training needs alpha < 1 beside 1")
  return float(alphas.max()), float(alphas.min())


def elhage_adversarial_training(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  clean, robust = _alphas(dataset)
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  third = report.sparsest_third(best)
  fewer = float(report.fewer_features(best, clean, robust).values[third].mean())
  fpd_robust = best["features_per_dim"].sel(alpha=robust).values
  left = float(fpd_robust.max())
  eliminated = left <= NO_SUPERPOSITION_FPD
  budget = f"{cfg.attack_eps:g} x {'each' if cfg.per_sample_eps else 'mean'} ||x||"
  measured = (f"{cfg.train_attack} attack, eps {budget}, alpha {robust:g}: {fewer:.1%} fewer "
              f"features/dim than clean over the sparsest third; up to {left:.2f} "
              f"features/dim remain; {_seeds(dataset)}")
  if fewer <= 0:
    return Finding(measured, "does not hold", "adversarial training did not lower superposition")
  if cfg.attack_eps < ELHAGE_FULL_BUDGET:
    if eliminated:
      return Finding(measured, "does not hold",
                     f"a budget of {cfg.attack_eps:g} already removes superposition")
    return Finding(measured, "partly",
                   f"lowers superposition without removing it at eps {cfg.attack_eps:g}; the "
                   f"{ELHAGE_FULL_BUDGET:g} budget said to remove it was not run")
  return Finding(measured, _verdict(eliminated, True),
                 f"eps {cfg.attack_eps:g} {'removes' if eliminated else 'does not remove'} "
                 "superposition")


# --- Gorton & Lewis 2025 ---------------------------------------------------------------


def _plateau(fpd_densest_first: np.ndarray) -> tuple[int, np.ndarray]:
  """Longest run of consecutive densities inside PLATEAU_BAND, and its indices."""
  inside = (fpd_densest_first >= PLATEAU_BAND[0]) & (fpd_densest_first <= PLATEAU_BAND[1])
  best, run = np.array([], int), 0
  for i, flag in enumerate(inside):
    run = run + 1 if flag else 0
    if run > len(best):
      best = np.arange(i - run + 1, i + 1)
  return len(best), best


def gorton_plateau(dataset: xr.Dataset) -> Finding:
  best = _densest_first(results.first_of_other_axes(results.best_seed(_clean(dataset)),
                                                    ("density",)))
  fpd = best["features_per_dim"].values
  length, where = _plateau(fpd)
  rise = spearman(1 / best.density.values, fpd)
  ds = _densest_first(results.first_of_other_axes(_clean(dataset), ("density", "seed")))
  seeds = [_plateau(one["features_per_dim"].values)[0] for one in _per_seed(ds)]
  span = (f" at 1-S = {best.density.values[where[0]]:.2g} to {best.density.values[where[-1]]:.2g}"
          if length else "")
  measured = (f"features/dim {fpd[0]:.2f} -> {fpd[-1]:.2f}, Spearman(1/(1-S), features/dim) "
              f"{rise:.2f}; {length} consecutive densities at {PLATEAU_BAND[0]:g}-"
              f"{PLATEAU_BAND[1]:g}{span} (plateau length {seed_range(seeds, '.0f')})")
  rises, flat = rise >= RISE_RHO, length >= PLATEAU_POINTS
  reason = (f"{'rises' if rises else 'does not rise steadily'}; "
            f"{'a' if flat else 'no'} plateau of >= {PLATEAU_POINTS} densities near 2")
  return Finding(measured, _verdict(rises and flat, rises), reason)


def _dip(fpd: np.ndarray, vuln: np.ndarray) -> float:
  """Largest fall of vulnerability on the plateau below the highest at a denser density,
  as a fraction of that highest (densest first; 0 without a plateau or a fall)."""
  _, where = _plateau(fpd)
  falls = [1 - vuln[i] / np.max(vuln[:i]) for i in where if i > 0]
  return float(max(falls, default=0.0))


def gorton_vulnerability(dataset: xr.Dataset) -> Finding:
  best, vuln, per_seed = _vulnerability_rows(dataset, "gorton")
  order = np.argsort(best.density.values)[::-1]
  fpd, v = best["features_per_dim"].values[order], vuln.values[order]
  rho, sparsest, dip = spearman(fpd, v), float(v[-1]), _dip(fpd, v)
  seed_dips = [_dip(f[order], s[order]) for f, s in per_seed]
  measured = (f"gorton attack, best seed: sparsest {sparsest:.2f}x the densest "
              f"({seed_range([s[1][order][-1] for s in per_seed])}); Spearman(features/dim, "
              f"vulnerability) {rho:.2f} ({seed_range([spearman(*s) for s in per_seed])}); "
              f"dip on the plateau {dip:.0%} "
              f"({seed_range(np.asarray(seed_dips) * 100, '.0f', '%')})")
  rises = rho >= VULNERABILITY_RHO and sparsest >= VULNERABILITY_RISE
  dips = dip >= DIP
  reason = (f"{'rises' if rises else 'does not rise enough'} with superposition; "
            f"{'a' if dips else 'no'} dip of >= {DIP:.0%} on the antipodal plateau")
  return Finding(measured, _verdict(rises and dips, rises or dips), reason)


def gorton_adversarial_training(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  clean, robust = _alphas(dataset)
  attack = cfg.eval_attacks[0]
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  third = report.sparsest_third(best)
  fewer = report.fewer_features(best, clean, robust).values[third]
  vuln = best["vulnerability"].sel(attack=attack)
  less = vuln.sel(alpha=robust).values < vuln.sel(alpha=clean).values
  measured = (f"alpha {robust:g} vs {clean:g}: fewer features/dim at {int(np.sum(fewer > 0))} "
              f"of {len(third)} sparsest densities ({fewer.mean():.1%} fewer on average); "
              f"lower {attack} vulnerability at {int(less.sum())} of {less.size} densities; "
              f"{_seeds(dataset)}")
  lowers_fpd = np.mean(fewer > 0) > MAJORITY
  lowers_vuln = np.mean(less) > MAJORITY
  reason = (f"features/dim {'lower' if lowers_fpd else 'not lower'} at most sparse "
            f"densities, vulnerability {'lower' if lowers_vuln else 'not lower'} at most")
  return Finding(measured, _verdict(lowers_fpd and lowers_vuln, lowers_fpd or lowers_vuln),
                 reason)


def gorton_interference(dataset: xr.Dataset) -> Finding:
  clean, robust = _alphas(dataset)
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  ratio = report.interference_ratio(best, clean, robust).values
  sparse = float(np.mean(ratio[report.sparsest_third(best)]))
  measured = (f"mean (W_i . W_j)^2 off the diagonal, alpha {clean:g} / {robust:g}: "
              f"{sparse:.2f}x over the sparsest third, median {float(np.median(ratio)):.2f}x "
              f"over all densities; {_seeds(dataset)}")
  near = INTERFERENCE_BAND[0] <= sparse <= INTERFERENCE_BAND[1]
  more = sparse > LESS_INTERFERENCE
  reason = (f"{sparse:.2f}x is {'within' if near else 'outside'} "
            f"{INTERFERENCE_BAND[0]:g}-{INTERFERENCE_BAND[1]:g}x")
  return Finding(measured, _verdict(near, more), reason)


def _dominant_sticky(D: np.ndarray) -> int:
  """The sticky fraction most represented features sit on (-1: none on a line)."""
  classes = metrics.sticky_class(D)
  classes = classes[classes >= 0]
  return int(np.bincount(classes).argmax()) if classes.size else -1


def gorton_geometry(dataset: xr.Dataset) -> Finding:
  clean, robust = _alphas(dataset)
  best = results.first_of_other_axes(results.best_seed(dataset), ("density", "alpha"))
  fpd_c = best["features_per_dim"].sel(alpha=clean).values
  fpd_r = best["features_per_dim"].sel(alpha=robust).values
  D_c = best["dimensionality"].sel(alpha=clean).values
  D_r = best["dimensionality"].sel(alpha=robust).values
  shape_c = np.array([_dominant_sticky(D) for D in D_c])
  shape_r = np.array([_dominant_sticky(D) for D in D_r])
  # Geometry is compared where both models superpose and both put features on a sticky
  # fraction; elsewhere there is no polytope to compare.
  both = np.flatnonzero((fpd_c > NO_SUPERPOSITION_FPD) & (fpd_r > NO_SUPERPOSITION_FPD)
                        & (shape_c >= 0) & (shape_r >= 0))
  if both.size == 0:
    raise ValueError("no density where clean and robust models both superpose with features "
                     "on a sticky fraction: no polytope to compare")
  same = shape_c[both] == shape_r[both]
  less = fpd_r[both] < fpd_c[both]
  shapes = ", ".join(f"{_fraction(metrics.STICKY_FRACTIONS[k])} ({int(np.sum(shape_c[both] == k))})"
                     for k in np.unique(shape_c[both]))
  measured = (f"at {both.size} of {len(fpd_c)} densities where both superpose with features on a "
              f"sticky D_i: robust has fewer features/dim at {int(less.sum())}, the same "
              f"dominant sticky D_i (polytope) at {int(same.sum())} ({same.mean():.0%}; clean "
              f"models' D_i: {shapes}); {_seeds(dataset)}")
  similar, lower = same.mean() >= SAME_GEOMETRY, less.mean() > MAJORITY
  reason = (f"{'less' if lower else 'not less'} superposition, "
            f"{'the same' if similar else 'a different'} polytope at most densities")
  return Finding(measured, _verdict(similar and lower, similar or lower), reason)


CLAIMS: tuple[Claim, ...] = (
    Claim("elhage.intro", ELHAGE, "Fig. 2 (demonstrating superposition)",
          "The linear model keeps only the m most important features (<= 1 feature per "
          "dimension); the ReLU-output model represents more features than dimensions once "
          "features are sparse (all 5 in 2 dimensions as a pentagon).",
          "elhage_intro", intro),
    Claim("elhage.phase_n2m1", ELHAGE, "phase change, n=2 m=1",
          "The empirical phase diagram of two features in one dimension (ignore one feature "
          "or superpose them antipodally) matches the theoretical one from the candidates' "
          "expected losses.", "elhage_phase_n2m1", phase_n2m1),
    Claim("elhage.phase_n3m2", ELHAGE, "phase change, n=3 m=2",
          "The n=3, m=2 empirical phase diagram matches the theoretical one (antipodal pair + "
          "dedicated dimension, a feature ignored, triangle).",
          "elhage_phase_n3m2", phase_n3m2),
    Claim("elhage.sticky", ELHAGE, "geometry of superposition",
          "D* = m / ||W||_F^2 falls with sparsity while feature dimensionalities D_i stick at "
          "the uniform polytopes' fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3.",
          "elhage_geometry", sticky),
    Claim("elhage.nonuniform", ELHAGE, "non-uniform superposition",
          "Changing one feature's density deforms the pentagon; past a threshold it "
          "collapses into another configuration (e.g. antipodal pairs, a feature dropped).",
          "elhage_nonuniform", nonuniform),
    Claim("elhage.correlated", ELHAGE, "correlated and anticorrelated features",
          "Correlated features prefer to be orthogonal (antipodal only across sets); "
          "anticorrelated features prefer to be antipodal.",
          "elhage_correlated", correlated),
    Claim("elhage.privileged", ELHAGE, "privileged basis",
          "With a ReLU on the hidden layer, dense features get monosemantic neurons; as "
          "features get sparser the neurons become polysemantic.",
          "elhage_privileged", privileged),
    Claim("elhage.abs", ELHAGE, "computation in superposition (abs)",
          "A ReLU layer can compute |x| in superposition: with m = 40 neurons at sparse "
          "densities it computes more absolute values than m/2 neurons could one per pair.",
          "elhage_abs", abs_superposition),
    Claim("elhage.vulnerability", ELHAGE, "relationship to adversarial robustness",
          "Vulnerability to analytic L2 attacks (0.1 x input norm) increases by >3x as "
          "superposition forms, and closely tracks features per dimension.",
          "elhage_adversarial", elhage_vulnerability),
    Claim("elhage.adversarial_training", ELHAGE, "relationship to adversarial robustness",
          "Adversarial training reduces superposition, but attacks had to be unreasonably "
          "large (80% of the input L2 norm) to eliminate it.",
          "elhage_adversarial_training", elhage_adversarial_training),
    Claim("gorton.fig2a_plateau", GORTON, "Fig. 2A",
          "Features per dimension rise as features get sparser (density 1 to 0.1, n=100, "
          "m=20), with a temporary plateau at antipodal superposition (~2).",
          "gorton_vulnerability", gorton_plateau),
    Claim("gorton.fig2b_vulnerability", GORTON, "Fig. 2B",
          "Vulnerability to the noise + gradient L2 attack increases with sparsity and "
          "features per dimension, with one striking dip at antipodal superposition.",
          "gorton_vulnerability", gorton_vulnerability),
    Claim("gorton.fig2_adversarial_training", GORTON, "Fig. 2 (robust models)",
          "Adversarial training (alpha = 0.5, eps = 0.1 ||x||) decreases vulnerability and "
          "features per dimension for some sparsities.",
          "gorton_adversarial_training", gorton_adversarial_training),
    Claim("gorton.fig3_interference", GORTON, "Fig. 3B",
          "Non-robust models show about 2x the mean off-diagonal interference (W_i . W_j)^2 "
          "of robust ones.", "gorton_adversarial_training", gorton_interference),
    Claim("gorton.fig4_geometry", GORTON, "Fig. 4",
          "At the same sparsity, robust models have less superposition but strikingly "
          "similar superposition geometry.", "gorton_adversarial_training", gorton_geometry),
)
