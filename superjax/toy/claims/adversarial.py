"""The claims on superposition and adversarial robustness (Elhage et al. 2022, Gorton &
Lewis 2025) that the toy sweeps test.

Every rule was read from the papers' words (004: Elhage et al.'s section on adversarial
robustness; 003: the Gorton & Lewis preprint) before any run was scored, and is applied to
one number per seed: the scorecard judges the mean over seeds and its Student-t interval
against the rule's band and no-effect value (superjax.claims.verdicts).

Superposition is counted two ways. The papers' features per dimension, ||W||_F^2 / m,
grows with the embeddings' norms (a pentagon of norm-1.13 vectors in 2 dimensions reads 3.2
where it holds 2.5 features per dimension); represented features per dimension (||W_i|| >
0.5, metrics.represented_per_dim) does not. Adversarial training shrinks norms, so every
comparison between clean and adversarially trained models is judged on the count, and
every finding shows both.
"""

from __future__ import annotations

import functools
import math
import warnings

import jax
import numpy as np
import scipy.stats
import xarray as xr

from superjax.claims.scorecard import Claim, Finding, seed_range
from superjax.claims.stats import cohen_kappa
from superjax.claims.verdicts import CORRELATION, Part, Rule
from superjax.core.experiment import config_of
from superjax.toy import metrics, results, robustness
from superjax.toy.claims.common import (
  ELHAGE,
  GORTON,
  deviations,
  fraction,
  model,
  seed_values,
)
from superjax.toy.claims.elhage import TRAINING, TRAINING_TEXT

INF = math.inf
# Bands for a no-effect comparison where the paper gives a direction and no size: the
# interval must exclude no effect on the paper's side.
ABOVE_ZERO = (float(np.nextafter(0.0, 1.0)), INF)
ABOVE_ONE = (float(np.nextafter(1.0, 2.0)), INF)
BELOW_ONE = (-INF, float(np.nextafter(1.0, 0.0)))

# --- the papers' protocols -------------------------------------------------------------

# 004: "L2 adversarial examples (allowing a max L2 attack norm of 0.1 of the average input
# norm)", the analytic attack; the excerpt names no model size or densities, and the
# reference notebooks train every toy figure as TRAINING.
PROTOCOLS = {}
PROTOCOLS["elhage_vulnerability"] = {"models": ("relu",), "attack_eps": 0.1,
                                     "per_sample_eps": False, **TRAINING}
# 004: adversarial training with "the analytic optimal attack against a random feature".
PROTOCOLS["elhage_training"] = {"models": ("relu",), "train_attack": "analytic_random", **TRAINING}
# 003 (Setup; Measuring Robustness): n = 100, m = 20, ReLU output, uniform importance,
# density exponentially from 1.0 to 0.1 over 30 models, eps 10% of the average input norm,
# lr 1e-3 (its steps for clean models are not stated).
PROTOCOLS["gorton"] = {"models": ("relu",), "n": 100, "m": 20, "importance": (1.0,),
                       "density": tuple(np.geomspace(1.0, 0.1, 30).tolist()),
                       "attack_eps": 0.1, "per_sample_eps": False, "lr": (1e-3,)}
# 003 (Adversarial Training Protocol): alpha = 0.5 beside clean models, the gradient attack
# at eps = 0.1 ||x||_2 made on the fly, 150,000 steps.
PROTOCOLS["gorton_training"] = {**PROTOCOLS["gorton"], "alpha": (1.0, 0.5),
                                "train_attack": "gorton", "train_eps": (0.1,), "steps": 150_000}

# --- the rules -------------------------------------------------------------------------

# 004: "vulnerability ... sharply increases as superposition forms (increasing by >3x)":
# the most vulnerable model over the densities against the dense one; no effect is 1x.
ELHAGE_RISE = 3.0
RISE_RULE = Rule(band=(ELHAGE_RISE, INF), null=1.0,
                 text="vulnerability rises > 3x the dense model's (\"increasing by >3x\")")
# 004: "closely tracks the number of features per dimension". No number: a rank
# correlation of 0.8 or more, "very strong" by the usual convention (Evans 1996); none is 0.
VERY_STRONG_RHO = 0.8
TRACKS_RULE = Rule(band=(VERY_STRONG_RHO, INF), null=0.0, support=CORRELATION,
                   text="Spearman >= 0.8 (\"closely tracks\", very strong)")
# 004: adversarial training "did reduce superposition, but attacks had to be made
# unreasonably large (80% input L2 norm) to fully eliminate it".
ELHAGE_FULL_BUDGET = 0.8
REDUCES_RULE = Rule(band=ABOVE_ZERO, null=0.0,
                    text="fewer represented features per dimension than clean (\"did reduce\")")


def remains_rule(m: int) -> Rule:
  """Superposition left: more represented features than dimensions, (m + 1) / m or more
  per dimension; m in m dimensions (1) is none."""
  return Rule(band=((m + 1) / m, INF), null=1.0,
              text=f"below 80%: superposition left, >= {m + 1}/{m} represented per dimension")


# "Fully eliminate": at most one represented feature per dimension, and still about m
# features (m - 1 or more: one feature's miscount at the norm threshold), so that a model
# that drops features (collapses) does not pass for one without superposition.
ELIMINATED_RULE = Rule(band=(-INF, 1.0),
                       text="at 80%: <= 1 represented feature per dimension everywhere")


def kept_rule(m: int) -> Rule:
  return Rule(band=((m - 1) / m, INF),
              text=f"at 80%: about m features still represented, >= {m - 1}/{m} per dimension")


# 003 Fig. 2A: "the expected results" (superposition "increases with sparsity") and "a
# temporary plateau corresponding to antipodal superposition". Antipodal superposition
# holds 2 features per dimension; "on the plateau" is within one feature of 2m represented
# features, and a plateau spans at least two consecutive steps of density (3 densities);
# passing through 2 without pausing touches about one.
# "Increases" names a direction, no size: a rank correlation within 0.1 of 0 (Cohen's
# "small" is 0.1) is no increase anyone would draw, so an interval inside +-0.1 does not
# hold (no effect of the paper's size).
SMALL_RHO = 0.1
RISING_RULE = Rule(band=ABOVE_ZERO, null=0.0, margin=SMALL_RHO,
                   text="Spearman(sparsity, ||W||_F^2/m) > 0 (\"increases with sparsity\")")
PLATEAU_POINTS = 3
PLATEAU_RULE = Rule(band=(PLATEAU_POINTS, INF), null=1.0,
                    text="a plateau: >= 3 consecutive densities at 2 represented per dimension")
# 003 Fig. 2B: "vulnerability increases with both feature sparsity and superposition ...
# one striking dip corresponding to antipodal superposition". Directions, no sizes. The
# dip: the deepest fall of vulnerability below its running maximum (densest first) at a
# local minimum on the plateau, less the deepest at a local minimum elsewhere; 0 when the
# plateau's dip is no deeper than noise elsewhere.
SPARSITY_RULE = Rule(band=ABOVE_ZERO, null=0.0, margin=SMALL_RHO,
                     text="Spearman(sparsity, vulnerability) > 0 (\"increases with sparsity\")")
SUPERPOSITION_RULE = Rule(band=ABOVE_ZERO, null=0.0, margin=SMALL_RHO,
                          text="Spearman(||W||_F^2/m, vulnerability) > 0 (\"and superposition\")")
DIP_RULE = Rule(band=ABOVE_ZERO, null=0.0,
                text="the deepest dip lies on the antipodal plateau (\"one striking dip\")")
# 003 (Measuring Robustness): the analytic attack "has the potential to be quite suboptimal
# for affecting the output as measured by L2/MSE", hence the noise + gradient attack.
STRONGER_RULE = Rule(band=ABOVE_ONE, null=1.0,
                     text="gradient / analytic loss increase > 1 (\"quite suboptimal\")")
# 003 Fig. 2: robust models "decreased their adversarial vulnerability and decreased features
# per dimension for some original input sparsity".
FEWER_RULE = Rule(band=ABOVE_ZERO, null=0.0,
                  text="robust models: fewer represented features per dimension")
LESS_VULNERABLE_RULE = Rule(band=(0.0, BELOW_ONE[1]), null=1.0,
                            text="robust / clean vulnerability < 1")
# 003 Fig. 3A: adversarial inputs "activate many interfering features" in non-robust models;
# robust models "show similar sparse activation patterns for both clean and adversarial
# inputs": the attack lights more absent features in the non-robust model.
LIGHTS_RULE = Rule(band=ABOVE_ZERO, null=0.0,
                   text="the attack lights more interfering features in non-robust models")
# 003 Fig. 3B: "mean off-diagonal interference approximately 2x that of robust models". The
# number has one significant figure: a ratio that rounds to 2, from 1.5 to 2.5; none is 1.
INTERFERENCE_RULE = Rule(band=(1.5, 2.5), null=1.0,
                         text="non-robust / robust interference rounds to 2 (\"approximately 2x\")")
# 003 Fig. 4: "strikingly similar superposition geometries". No number: Cohen's kappa of the
# dominant sticky D_i (the polytope), clean vs robust, over the densities where both
# superpose, at Landis & Koch's "substantial" agreement (>= 0.6); chance is 0.
SUBSTANTIAL_KAPPA = 0.6
GEOMETRY_RULE = Rule(band=(SUBSTANTIAL_KAPPA, 1.0), null=0.0, support=CORRELATION,
                     text="kappa >= 0.6 (\"strikingly similar\", Landis & Koch substantial)")

# --- shared measurements ---------------------------------------------------------------


def rank_correlation(a, b) -> float:
  """Spearman's rho with tied values given their mean rank (represented counts tie often);
  NaN for fewer than 3 points or a constant input."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
    return math.nan
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return float(scipy.stats.spearmanr(a, b).statistic)


def norm_per_dim(W) -> np.ndarray:
  """||W||_F^2 / m over the last two axes (hidden, feature): the papers' features per
  dimension (numpy)."""
  W = np.asarray(W, np.float64)
  return np.sum(W ** 2, axis=(-2, -1)) / W.shape[-2]


def geometric_mean(ratios) -> float:
  """exp(mean(log r)) over the positive ratios; NaN if any is not positive."""
  ratios = np.asarray(ratios, np.float64)
  return float(np.exp(np.mean(np.log(ratios)))) if np.all(ratios > 0) else math.nan


def plateau(represented: np.ndarray, m: int) -> np.ndarray:
  """Indices of the longest run of consecutive densities (densest first) on the antipodal
  plateau: within one feature of 2m represented features (2 per dimension)."""
  on = np.abs(represented * m - 2 * m) <= 1 + 1e-9
  best, start = np.zeros(0, int), None
  for i, flag in enumerate(np.append(on, False)):
    if flag and start is None:
      start = i
    elif not flag and start is not None:
      if i - start > best.size:
        best = np.arange(start, i)
      start = None
  return best


def dips(vulnerability: np.ndarray) -> dict[int, float]:
  """Each local minimum of vulnerability (densest first) that it rises from again, with
  its depth below the highest vulnerability at a denser density, as a fraction of it."""
  v = np.asarray(vulnerability, np.float64)
  return {i: float(1 - v[i] / np.max(v[:i])) for i in range(1, v.size - 1)
          if v[i] < v[i - 1] and v[i] <= v[i + 1]}


def plateau_dip(represented: np.ndarray, vulnerability: np.ndarray, m: int) -> float:
  """The deepest dip on the antipodal plateau less the deepest elsewhere (0 for none)."""
  on = set(plateau(represented, m).tolist())
  found = dips(vulnerability)
  return (max((d for i, d in found.items() if i in on), default=0.0)
          - max((d for i, d in found.items() if i not in on), default=0.0))


def dominant_sticky(D) -> np.ndarray:
  """Over the last axis (feature): the index into STICKY_FRACTIONS most represented
  features lie on, or -1 where none lies on one."""
  classes = metrics.sticky_class(D)
  kinds = range(len(metrics.STICKY_FRACTIONS))
  counts = np.stack([np.sum(classes == k, axis=-1) for k in kinds], axis=-1)
  return np.where(counts.max(axis=-1) > 0, counts.argmax(axis=-1), -1)


def dimensionality(W) -> np.ndarray:
  """D_i of every model in W (..., hidden, feature): (..., feature)."""
  W = np.asarray(W, np.float32)
  flat = W.reshape((-1,) + W.shape[-2:])
  return np.asarray(jax.vmap(metrics.dimensionality)(flat)).reshape(W.shape[:-2] + W.shape[-1:])


def _budget(cfg) -> str:
  return f"{'each input' if cfg.per_sample_eps else 'the mean input'} norm"


def _deviations(cfg, paper: dict) -> list[str]:
  """`paper`'s fields on which the run's config differs, named as a reader would."""
  plain = {k: v for k, v in paper.items() if k not in ("attack_eps", "per_sample_eps",
                                                       "train_eps", "alpha", "train_attack",
                                                       "eval_attacks")}
  found = list(deviations(cfg, plain))
  if "attack_eps" in paper and not np.isclose(cfg.attack_eps, paper["attack_eps"]):
    found.append(f"evaluation budget {cfg.attack_eps:g} x input norm, not {paper['attack_eps']:g}")
  if "per_sample_eps" in paper and cfg.per_sample_eps != paper["per_sample_eps"]:
    found.append(f"budgets x {_budget(cfg)}, not x "
                 f"{'each input' if paper['per_sample_eps'] else 'the mean input'} norm")
  if "train_attack" in paper and cfg.train_attack != paper["train_attack"]:
    found.append(f"training attack {cfg.train_attack}, not {paper['train_attack']}")
  for field, name in (("alpha", "alpha"), ("train_eps", "training budgets")):
    if field in paper and not np.allclose(sorted(getattr(cfg, field)), sorted(paper[field])):
      found.append(f"{name} {', '.join(f'{v:g}' for v in getattr(cfg, field))}, not "
                   f"{', '.join(f'{v:g}' for v in paper[field])}")
  return found


# The shipped variant of an Elhage adversarial sweep whose budgets scale each input's own
# norm (`--set per_sample_eps=true`), read as an "other readings" line.
PER_INPUT = "per_input"


def _elhage_choices(cfg, budget: float) -> list[str]:
  """What Elhage et al.'s excerpt leaves unstated and the run had to choose, named beside
  the verdict: the model's size, a budget relative to the batch's mean input norm (which,
  at sparse densities, is a small share of an active input's norm) and the loss mix."""
  sparsest = float(min(cfg.density))
  zero = (1.0 - sparsest) ** cfg.n  # P(no feature on): every feature off
  found = [(f"n = {cfg.n}, m = {cfg.m} (the excerpt gives no model size); at the sparsest "
            f"1-S = {sparsest:g}, {zero:.0%} of inputs are all zero")]
  if not cfg.per_sample_eps:
    # E||x|| = P(some feature on) E[||x|| | some on]: the mean norm is that share of an
    # active input's.
    share = 1.0 - zero
    found.append(f"budget x the batch's mean input norm: at 1-S = {sparsest:g} that is "
                 f"{share:.0%} of an active input's norm, so eps {budget:g} is "
                 f"{budget * share:.0%} of it (--set per_sample_eps=true budgets each input)")
  if cfg.train_attack != "none" and min(cfg.alpha) == 0.0:
    found.append("trained on the adversarial loss alone, alpha 0 (the excerpt does not state "
                 "the mix)")
  return found


def _by_density(dataset: xr.Dataset, *keep: str) -> xr.Dataset:
  """The ReLU model's results on (density, *keep, seed), densest first; other grid axes at
  their first value."""
  ds = model(dataset, "relu")
  ds = ds.isel({d: 0 for d in ds["loss"].dims if d not in ("density", "seed") + keep})
  return ds.isel(density=np.argsort(ds.density.values)[::-1])


def _attack_problem(cfg, attacks: tuple[str, ...]) -> str:
  missing = [a for a in attacks if a not in cfg.eval_attacks]
  return (f"the run measured {', '.join(cfg.eval_attacks) or 'no'} attacks, not "
          f"{' or '.join(missing)}" if missing else "")


def _vulnerability(one: xr.Dataset, attack: str) -> np.ndarray:
  return one["vulnerability"].sel(attack=attack).values.astype(np.float64)


def _mean(values) -> float:
  values = np.asarray(values, np.float64)
  values = values[np.isfinite(values)]
  return float(values.mean()) if values.size else math.nan


# --- Elhage et al. 2022 ----------------------------------------------------------------


def elhage_vulnerability(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = (_deviations(cfg, PROTOCOLS["elhage_vulnerability"])
           + _elhage_choices(cfg, cfg.attack_eps))
  if why := _attack_problem(cfg, ("analytic",)):
    return Finding.not_tested("no analytic attack", why, found)
  ds = _by_density(dataset)
  if not np.isclose(float(ds.density[0]), 1.0):
    return Finding.not_tested(f"densest 1-S = {float(ds.density[0]):.3g}",
                              "the rise is measured from the dense model (1-S = 1, no "
                              "superposition); the run has none", found)

  def relative(one: xr.Dataset) -> np.ndarray:
    v = _vulnerability(one, "analytic")
    return v / v[0]

  # The most vulnerable of the sparser models, so a fall from the dense model reads < 1.
  rise = seed_values(ds, lambda one: relative(one)[1:].max())
  tracks = seed_values(ds, lambda one: rank_correlation(one["features_per_dim"].values,
                                                        _vulnerability(one, "analytic")))
  counted = seed_values(ds, lambda one: rank_correlation(
      metrics.represented_per_dim(one["W"].values), _vulnerability(one, "analytic")))
  peak_at = seed_values(ds, lambda one: float(one.density[1 + np.argmax(relative(one)[1:])]))
  sparsest = seed_values(ds, lambda one: relative(one)[-1])
  context = (f"analytic attack, eps {cfg.attack_eps:g} x {_budget(cfg)}; peak at 1-S = "
             f"{seed_range(peak_at, '.2g')}; at the sparsest 1-S = {float(ds.density[-1]):.3g}: "
             f"{seed_range(sparsest, '.2f', 'x')} the dense model's; Spearman with represented "
             f"features per dimension (norm-free) {seed_range(counted)}")
  return Finding.judged(
      [Part("most vulnerability of a sparser model / the dense model's", rise, RISE_RULE),
       Part("Spearman(||W||_F^2/m, vulnerability) over the densities", tracks, TRACKS_RULE)],
      context, found)


def elhage_adversarial_training(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = (_deviations(cfg, PROTOCOLS["elhage_training"])
           + _elhage_choices(cfg, ELHAGE_FULL_BUDGET))
  budgets = np.sort(np.atleast_1d(dataset.train_eps.values).astype(np.float64))
  smaller = budgets[(budgets > 0) & (budgets < ELHAGE_FULL_BUDGET - 1e-6)]
  full = budgets[budgets >= ELHAGE_FULL_BUDGET - 1e-6]
  measured = f"training budgets {', '.join(f'{b:g}' for b in budgets)} x {_budget(cfg)}"
  if cfg.train_attack == "none" or budgets[0] != 0 or not smaller.size or not full.size:
    return Finding.not_tested(
        measured, "the claim needs clean models (budget 0) beside adversarially trained ones "
        f"at budgets below and at {ELHAGE_FULL_BUDGET:g} (\"reduce\" and \"eliminate\")", found)
  ds = _by_density(dataset, "train_eps")
  if "alpha" in ds.dims:
    ds = ds.sel(alpha=ds.alpha.min())  # the most adversarial mix
  alpha = float(ds.alpha.min())
  largest, eliminating = float(smaller[-1]), float(full[0])
  if not np.isclose(eliminating, ELHAGE_FULL_BUDGET):
    found.append(f"eliminating budget {eliminating:g}, not {ELHAGE_FULL_BUDGET:g}")
  m = cfg.m

  def counts(one: xr.Dataset, budget: float) -> np.ndarray:
    return metrics.represented_per_dim(one.sel(train_eps=budget, method="nearest")["W"].values)

  def superposing(one: xr.Dataset) -> np.ndarray:
    """Densities where the seed's clean model superposes (NaN-free mask)."""
    return counts(one, 0.0) > 1

  def over_superposing(one: xr.Dataset, values: np.ndarray, how) -> float:
    where = superposing(one)
    return float(how(values[where])) if where.any() else math.nan

  def reduction(one: xr.Dataset, budget: float) -> float:
    """Clean less robust represented features per dimension, mean over the densities
    where the clean model superposes."""
    return over_superposing(one, counts(one, 0.0) - counts(one, budget), np.mean)

  # "Reduce, but not eliminate" is judged at the largest budget below 80%, the strongest
  # attack the paper calls not large enough; the smaller budgets are shown beside.
  reduced = seed_values(ds, lambda one: reduction(one, largest))
  left = seed_values(ds, lambda one: over_superposing(one, counts(one, largest), np.max))
  most = seed_values(ds, lambda one: over_superposing(one, counts(one, eliminating), np.max))
  fewest = seed_values(ds, lambda one: over_superposing(one, counts(one, eliminating), np.min))
  by_budget = "; ".join(f"{b:g}: {_mean(seed_values(ds, lambda one, b=b: reduction(one, b))):.2f}"
                        for b in budgets[1:])
  sparse = ds.isel(density=-1)
  at = lambda budget: sparse.sel(train_eps=budget, method="nearest")["W"].values
  shown = "; ".join(
      f"{b:g}: {_mean(metrics.represented_per_dim(at(b))):.2f} ({_mean(norm_per_dim(at(b))):.2f})"
      for b in budgets)
  context = (f"{measured}, alpha {alpha:g}; judged over the densities where the clean model "
             f"superposes; reduction by budget, mean over seeds: {by_budget}; at the sparsest "
             f"1-S = {float(sparse.density):.3g}, represented features per dimension "
             f"(||W||_F^2/m) by budget, mean over seeds: {shown}")
  return Finding.judged(
      [Part(f"budget {largest:g}: reduction (clean - robust represented per dimension)",
            reduced, REDUCES_RULE),
       Part(f"budget {largest:g}: most represented per dimension", left, remains_rule(m)),
       Part(f"budget {eliminating:g}: most represented per dimension", most, ELIMINATED_RULE),
       Part(f"budget {eliminating:g}: fewest represented per dimension", fewest, kept_rule(m))],
      context, found)


# --- Gorton & Lewis 2025: clean models -------------------------------------------------


def gorton_plateau(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = _deviations(cfg, PROTOCOLS["gorton"])
  ds = _by_density(dataset, "alpha")
  if "alpha" in ds.dims:
    ds = ds.sel(alpha=ds.alpha.max())
  m = cfg.m

  def represented(one: xr.Dataset) -> np.ndarray:
    return metrics.represented_per_dim(one["W"].values)

  rises = seed_values(ds, lambda one: rank_correlation(1 / one.density.values,
                                                       one["features_per_dim"].values))
  length = seed_values(ds, lambda one: plateau(represented(one), m).size)
  start = seed_values(ds, lambda one: (float(one.density[plateau(represented(one), m)[0]])
                                       if plateau(represented(one), m).size else math.nan))
  norm = seed_values(ds, lambda one: (np.mean(one["features_per_dim"].values[
      plateau(represented(one), m)]) if plateau(represented(one), m).size else math.nan))
  ends = seed_values(ds, lambda one: one["features_per_dim"].values[-1])
  counted = seed_values(ds, lambda one: represented(one)[-1])
  context = (f"plateau = within one feature of {2 * m} represented ({2 * m}/{m} per "
             f"dimension); it starts at 1-S = {seed_range(start, '.2g')}, where ||W||_F^2/m "
             f"reads {seed_range(norm)}; at the sparsest 1-S = {float(ds.density[-1]):.3g}: "
             f"||W||_F^2/m {seed_range(ends)}, represented per dimension {seed_range(counted)}")
  return Finding.judged(
      [Part("Spearman(1/(1-S), ||W||_F^2/m)", rises, RISING_RULE),
       Part("plateau length (consecutive densities)", length, PLATEAU_RULE, fmt=".1f")],
      context, found)


def gorton_vulnerability(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = _deviations(cfg, PROTOCOLS["gorton"])
  if why := _attack_problem(cfg, ("gorton",)):
    return Finding.not_tested("no gradient attack", why, found)
  ds = _by_density(dataset, "alpha")
  if "alpha" in ds.dims:
    ds = ds.sel(alpha=ds.alpha.max())
  m = cfg.m

  def v(one: xr.Dataset) -> np.ndarray:
    return _vulnerability(one, "gorton")

  sparsity = seed_values(ds, lambda one: rank_correlation(1 / one.density.values, v(one)))
  superposition = seed_values(ds, lambda one: rank_correlation(one["features_per_dim"].values,
                                                               v(one)))
  counted = seed_values(ds, lambda one: rank_correlation(
      metrics.represented_per_dim(one["W"].values), v(one)))
  dip = seed_values(ds, lambda one: plateau_dip(metrics.represented_per_dim(one["W"].values),
                                                v(one), m))
  relative = seed_values(ds, lambda one: v(one)[-1] / v(one)[0])
  context = (f"noise + gradient attack, eps {cfg.attack_eps:g} x {_budget(cfg)}; sparsest / "
             f"densest vulnerability {seed_range(relative)}; Spearman with represented "
             f"features per dimension (norm-free) {seed_range(counted)}")
  return Finding.judged(
      [Part("Spearman(1/(1-S), vulnerability)", sparsity, SPARSITY_RULE),
       Part("Spearman(||W||_F^2/m, vulnerability)", superposition, SUPERPOSITION_RULE),
       Part("dip on the plateau less the deepest elsewhere", dip, DIP_RULE, fmt=".3f")],
      context, found)


def gorton_gradient_beats_analytic(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = _deviations(cfg, PROTOCOLS["gorton"])
  if why := _attack_problem(cfg, ("gorton", "analytic")):
    return Finding.not_tested("gradient and analytic attacks not both measured", why, found)
  ds = _by_density(dataset, "alpha")
  if "alpha" in ds.dims:
    ds = ds.sel(alpha=ds.alpha.max())

  def over_analytic(one: xr.Dataset, attack: str) -> float:
    increase = one["loss_increase"]
    return geometric_mean(increase.sel(attack=attack).values
                          / increase.sel(attack="analytic").values)

  ratio = seed_values(ds, lambda one: over_analytic(one, "gorton"))
  others = "; ".join(
      f"{a} / analytic {seed_range(seed_values(ds, lambda one, a=a: over_analytic(one, a)))}"
      for a in cfg.eval_attacks if a not in ("gorton", "analytic"))
  context = (f"loss increase on the same held-out inputs, eps {cfg.attack_eps:g} x "
             f"{_budget(cfg)}, geometric mean over {ds.sizes['density']} densities"
             + (f"; {others}" if others else ""))
  return Finding.judged(
      [Part("gradient / analytic loss increase", ratio, STRONGER_RULE)], context, found)


# --- Gorton & Lewis 2025: adversarially trained models ---------------------------------

def lengths(ds: xr.Dataset, steps: int) -> list[tuple[int, xr.Dataset]]:
  """(training steps, the results as if the run had ended there) for every snapshot step
  before `steps`, then `steps` itself."""
  found = []
  if "snapshot" in ds.dims:
    for step in ds.snapshot.values:
      if step < steps:
        found.append((int(step), ds.assign({
            name: ds[f"{name}_snapshot"].sel(snapshot=step).drop_vars("snapshot")
            for name in results.SNAPSHOT_VARIABLES if f"{name}_snapshot" in ds})))
  return found + [(steps, ds)]


def _training_deviations(cfg) -> list[str]:
  """How a run departs from the preprint's adversarial training."""
  found = _deviations(cfg, PROTOCOLS["gorton_training"])
  if not cfg.per_sample_eps:
    # One setting sets both budgets here; the preprint's evaluation uses the average norm.
    found.append("training budget x the batch's mean input norm; the preprint's eps = 0.1 "
                 "||x||_2 reads as each input's own")
  return found


def _robust_pair(dataset: xr.Dataset) -> tuple[xr.Dataset | None, str]:
  """The ReLU models on (density, alpha, seed) with clean (alpha = 1) and robust (the
  smallest alpha) ones, or None and why not."""
  cfg = config_of(dataset)
  alphas = np.atleast_1d(dataset.alpha.values)
  if cfg.train_attack == "none" or 1.0 not in alphas or alphas.size < 2:
    return None, ("the claim compares clean models (alpha = 1) with adversarially trained "
                  f"ones; the run trains alpha {', '.join(f'{a:g}' for a in alphas)} with "
                  f"attack {cfg.train_attack}")
  if "train_eps" in dataset["loss"].dims:
    return None, "the run trains several budgets; the preprint's protocol has one"
  return _by_density(dataset, "alpha"), ""


def _on_robust_pair(judge):
  """A claim on clean and adversarially trained models: `judge(dataset, ds, found)` with
  the pair on (density, alpha, seed) and the run's deviations, or "not tested" where the
  run trains no such pair."""
  @functools.wraps(judge)
  def measure(dataset: xr.Dataset) -> Finding:
    found = _training_deviations(config_of(dataset))
    ds, why = _robust_pair(dataset)
    if ds is None:
      return Finding.not_tested("no robust models", why, found)
    return judge(dataset, ds, found)
  return measure


def _pair(one: xr.Dataset) -> tuple[xr.Dataset, xr.Dataset]:
  return one.sel(alpha=1.0), one.sel(alpha=one.alpha.min())


def _fewer(one: xr.Dataset) -> float:
  """Clean less robust represented features per dimension, mean over the densities."""
  clean, robust = _pair(one)
  return float(np.mean(metrics.represented_per_dim(clean["W"].values)
                       - metrics.represented_per_dim(robust["W"].values)))


def _norm_fewer(one: xr.Dataset) -> float:
  """_fewer in ||W||_F^2 / m, which also falls where robust models' norms shrink."""
  clean, robust = _pair(one)
  return float(np.mean(norm_per_dim(clean["W"].values) - norm_per_dim(robust["W"].values)))


def _judged_by_length(dataset: xr.Dataset, ds: xr.Dataset, parts, context: str,
                      found, sensitivity=()) -> Finding:
  """Finding.judged on the run's end, with each part's mean over seeds at every recorded
  training length in the context. `parts`: (name, measure(one seed), rule, fmt)."""
  cfg = config_of(dataset)
  by_length = [(steps, [seed_values(view, measure) for _, measure, _, _ in parts])
               for steps, view in lengths(ds, cfg.steps)]
  final = by_length[-1][1]
  if len(by_length) > 1:
    trend = "; ".join(f"{steps:,} steps: " + ", ".join(
        f"{_mean(v):{fmt}}" for v, (_, _, _, fmt) in zip(values, parts))
        for steps, values in by_length)
    context += f"; by training length (mean over seeds, in the order above): {trend}"
  return Finding.judged([Part(name, values, rule, fmt=fmt)
                         for (name, _, rule, fmt), values in zip(parts, final)], context, found,
                        sensitivity=sensitivity)


@_on_robust_pair
def gorton_adversarial_training(dataset: xr.Dataset, ds: xr.Dataset,
                                found: tuple[str, ...]) -> Finding:
  cfg = config_of(dataset)
  if why := _attack_problem(cfg, ("gorton",)):
    return Finding.not_tested("no gradient attack", why, found)

  def less_vulnerable(one: xr.Dataset) -> float:
    clean, robust = _pair(one)
    return geometric_mean(_vulnerability(robust, "gorton") / _vulnerability(clean, "gorton"))

  context = (f"alpha {float(ds.alpha.min()):g} vs 1, means over {ds.sizes['density']} "
             f"densities; ||W||_F^2/m, clean - robust: {seed_range(seed_values(ds, _norm_fewer))}")
  return _judged_by_length(dataset, ds, [
      ("clean - robust represented features per dimension", _fewer, FEWER_RULE, ".3f"),
      ("robust / clean vulnerability (gradient attack, geometric mean)", less_vulnerable,
       LESS_VULNERABLE_RULE, ".2f")], context, found)


# 003 Fig. 2: "robust models are often more robust than expected for their superposition
# level". Expected: the clean models' vulnerability at the robust model's features per
# dimension (interpolated along the clean models' densities, never extrapolated). A
# direction, no size: the geometric mean over densities of robust / expected below 1; no
# effect 1.
BEYOND_RULE = Rule(band=(0.0, BELOW_ONE[1]), null=1.0,
                   text="robust / clean-at-equal-superposition vulnerability < 1")


def _beyond(one: xr.Dataset) -> np.ndarray:
  """(density,) robust vulnerability over the clean models' at the robust model's
  ||W||_F^2 / m, NaN where that lies outside the clean models' range."""
  clean, robust = _pair(one)
  x = norm_per_dim(clean["W"].values)
  v = np.log(_vulnerability(clean, "gorton"))
  order = np.argsort(x)
  at = norm_per_dim(robust["W"].values)
  expected = np.interp(at, x[order], v[order])
  inside = (at >= x.min()) & (at <= x.max())
  return np.where(inside, np.exp(np.log(_vulnerability(robust, "gorton")) - expected), np.nan)


def _beyond_mean(one: xr.Dataset) -> float:
  """Geometric mean of _beyond over the densities where it is defined (NaN: none)."""
  ratios = _beyond(one)
  ratios = ratios[np.isfinite(ratios)]
  return geometric_mean(ratios) if ratios.size else math.nan


@_on_robust_pair
def gorton_beyond_superposition(dataset: xr.Dataset, ds: xr.Dataset,
                                found: tuple[str, ...]) -> Finding:
  cfg = config_of(dataset)
  if why := _attack_problem(cfg, ("gorton",)):
    return Finding.not_tested("no gradient attack", why, found)
  def share_below(one: xr.Dataset) -> float:
    """Share of the densities compared (NaN ones left out) below expectation."""
    ratios = _beyond(one)
    ratios = ratios[np.isfinite(ratios)]
    return float(np.mean(ratios < 1)) if ratios.size else math.nan

  below = seed_values(ds, share_below)
  compared = seed_values(ds, lambda one: float(np.isfinite(_beyond(one)).sum()))
  context = (f"gradient attack; expected = the clean models' vulnerability interpolated at the "
             f"robust model's ||W||_F^2/m over {seed_range(compared, '.0f')} of "
             f"{ds.sizes['density']} densities (inside the clean range); share of those "
             f"densities below expectation {seed_range(below * 100, '.0f', '%')}")
  return _judged_by_length(dataset, ds, [
      ("robust / expected vulnerability at equal superposition (geometric mean)",
       _beyond_mean, BEYOND_RULE, ".2f")], context, found)


@_on_robust_pair
def gorton_interfering_features(dataset: xr.Dataset, ds: xr.Dataset,
                                found: tuple[str, ...]) -> Finding:
  cfg = config_of(dataset)
  if why := _attack_problem(cfg, ("gorton",)):
    return Finding.not_tested("no gradient attack", why, found)
  if "adv_spurious_outputs" not in ds:
    return Finding.not_tested("no lit-feature counts", "the run predates the count of "
                              "outputs the attack lights (adv_spurious_outputs)", found)

  def extra(one: xr.Dataset) -> np.ndarray:
    """(density,) interfering features the attack lights beyond those clean inputs light."""
    return (one["adv_spurious_outputs"].sel(attack="gorton").values
            - one["spurious_outputs"].values)

  def difference(one: xr.Dataset) -> float:
    clean, robust = _pair(one)
    return float(np.mean(extra(clean) - extra(robust)))

  lit = {name: seed_values(ds, lambda one, k=k: np.mean(extra(_pair(one)[k])))
         for k, name in enumerate(("non-robust", "robust"))}
  context = (f"outputs above 0.1 whose feature the clean input lacks, attacked minus clean, "
             f"mean over {ds.sizes['density']} densities: " + ", ".join(
                 f"{name} {seed_range(v)}" for name, v in lit.items()))
  return _judged_by_length(dataset, ds, [
      ("extra interfering features lit, non-robust - robust", difference, LIGHTS_RULE,
       ".2f")], context, found)


def _superposing_both(clean: xr.Dataset, robust: xr.Dataset) -> np.ndarray:
  """(density,) where both models of a pair superpose (more than one represented feature
  per dimension): where an interference ratio is not 0/0."""
  return ((metrics.represented_per_dim(clean["W"].values) > 1)
          & (metrics.represented_per_dim(robust["W"].values) > 1))


def _interference_ratio(one: xr.Dataset, measure, pooled: bool) -> float:
  """Non-robust / robust `measure(W)` (per density): the median of the per-density ratios
  over the densities where both superpose, or the ratio of the means over every density."""
  clean, robust = _pair(one)
  a, b = measure(clean["W"].values), measure(robust["W"].values)
  if pooled:
    return float(np.mean(a) / np.mean(b))
  both = _superposing_both(clean, robust)
  return float(np.median(a[both] / b[both])) if both.any() else math.nan


def squared_cosine_interference(W: np.ndarray) -> np.ndarray:
  """robustness.interference of the unit-normalised columns (live features only): the
  mean squared cosine between feature directions, blind to the weights' norms."""
  norms = np.linalg.norm(W, axis=-2, keepdims=True)
  return robustness.interference(np.where(norms > 1e-6, W / np.maximum(norms, 1e-6), 0.0))


# A log-symmetric reading of "approximately 2x" (a factor of sqrt(2) either side), shown
# beside the pre-registered linear band, never judged.
LOG_BAND = Rule(band=(2 / math.sqrt(2), 2 * math.sqrt(2)), null=1.0)


@_on_robust_pair
def gorton_interference(dataset: xr.Dataset, ds: xr.Dataset,
                        found: tuple[str, ...]) -> Finding:
  """The paper compares one pair of models: judged per density (the median over the
  densities where both superpose of the ratio at each), not pooled. (W_i . W_j)^2 grows
  with ||W||^4, so shrinking weights alone makes part of the ratio: the squared-cosine
  ratio (norms removed) is shown beside, with the pooled ratio and the log band."""
  raw = lambda one: _interference_ratio(one, robustness.interference, pooled=False)
  pooled = seed_values(ds, lambda one: _interference_ratio(one, robustness.interference, True))
  cosine = seed_values(ds, lambda one: _interference_ratio(one, squared_cosine_interference,
                                                           False))
  per_density = seed_values(ds, raw)
  where = seed_values(ds, lambda one: int(_superposing_both(*_pair(one)).sum()))

  def reading(name, values, rule=INTERFERENCE_RULE):
    part = Part(name, values, rule)
    return f"{part.text()}: would read {part.label()}"

  sensitivity = (
      reading("pooled over every density (ratio of the means)", pooled),
      reading("norm-free, squared cosine per density", cosine),
      reading(f"per density in the log band {LOG_BAND.band[0]:.2f} to {LOG_BAND.band[1]:.2f}",
              per_density, LOG_BAND))
  context = (f"(W_i . W_j)^2 over i != j, per density where both superpose "
             f"({seed_range(where, '.0f')} of {ds.sizes['density']} densities)")
  return _judged_by_length(dataset, ds, [
      ("non-robust / robust off-diagonal interference, median over densities", raw,
       INTERFERENCE_RULE, ".2f")], context, found, sensitivity)


@_on_robust_pair
def gorton_geometry(dataset: xr.Dataset, ds: xr.Dataset,
                    found: tuple[str, ...]) -> Finding:

  def shapes(one: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Dominant sticky class of the clean and the robust model at each density where both
    superpose (more than one represented feature per dimension)."""
    clean, robust = (m["W"].values for m in _pair(one))
    both = ((metrics.represented_per_dim(clean) > 1)
            & (metrics.represented_per_dim(robust) > 1))
    if not both.any():
      return np.zeros(0, int), np.zeros(0, int)
    return (dominant_sticky(dimensionality(clean[both])),
            dominant_sticky(dimensionality(robust[both])))

  def kappa(one: xr.Dataset) -> float:
    a, b = shapes(one)
    return cohen_kappa(a, b) if a.size >= 2 else math.nan

  where = seed_values(ds, lambda one: shapes(one)[0].size)
  agree = seed_values(ds, lambda one: np.mean(np.equal(*shapes(one))) if shapes(one)[0].size
                      else math.nan)
  common = np.concatenate([shapes(ds.isel(seed=s))[0] for s in range(ds.sizes["seed"])])
  kinds = ", ".join(f"{fraction(metrics.STICKY_FRACTIONS[k]) if k >= 0 else 'none'} "
                    f"({int(np.sum(common == k))})" for k in np.unique(common))
  context = (f"densities where both superpose: {seed_range(where, '.0f')}; same dominant "
             f"sticky D_i at {seed_range(agree * 100, '.0f', '%')} of them; clean models' "
             f"dominant D_i over all seeds: {kinds or 'none'}; ||W||_F^2/m, clean - robust: "
             f"{seed_range(seed_values(ds, _norm_fewer))}")
  return _judged_by_length(dataset, ds, [
      ("Cohen's kappa of the dominant sticky D_i, clean vs robust", kappa, GEOMETRY_RULE,
       ".2f"),
      ("clean - robust represented features per dimension", _fewer, FEWER_RULE, ".3f")],
      context, found)


# --- the claims ------------------------------------------------------------------------

GORTON_MODELS_TEXT = ("n=100, m=20, ReLU output, uniform importance, 30 densities from 1 to "
                      "0.1 (exponential); eps 0.1 x the average input norm; lr 1e-3")
GORTON_TRAINING_TEXT = (f"{GORTON_MODELS_TEXT}; alpha = 0.5 beside clean models, L(x) mixed "
                        "with the loss on the noise + gradient attack at eps = 0.1 ||x||_2 made "
                        "on the fly; 150,000 steps")

CLAIMS: tuple[Claim, ...] = (
    Claim("elhage.vulnerability", ELHAGE, "relationship to adversarial robustness",
          "Vulnerability to the analytic L2 attack (0.1 x the average input norm) sharply "
          "increases as superposition forms (by >3x) and closely tracks features per "
          "dimension.", "elhage_adversarial", elhage_vulnerability,
          rule="per seed: the most vulnerable sparser model's vulnerability / the dense (1-S = "
               "1) model's > 3 (\"increasing by >3x\"), no effect 1; Spearman(||W||_F^2/m, "
               "vulnerability) >= 0.8 (\"closely tracks\", very strong), no effect 0",
          protocol=f"ReLU-output toy model (size not given in the excerpt); analytic attack "
                   f"(the most harmful feature's (W^T W)_i direction), L2 budget 0.1 x the "
                   f"average input norm; {TRAINING_TEXT}",
          variants=((PER_INPUT, "budget 0.1 x each input's own norm (per_sample_eps)"),)),
    Claim("elhage.adversarial_training", ELHAGE, "relationship to adversarial robustness",
          "Adversarial training with the analytic attack against a random feature reduces "
          "superposition, but attacks had to be unreasonably large (80% of the input L2 norm) "
          "to fully eliminate it.", "elhage_adversarial_training", elhage_adversarial_training,
          rule="per seed, represented features (||W_i|| > 0.5) per dimension where the clean "
               "model superposes: the largest budget below 0.8 lowers it (\"did reduce\", no "
               "effect 0) and leaves >= (m+1)/m (\"had to be made unreasonably large\"); at 0.8 "
               "it is <= 1 everywhere and >= (m-1)/m (\"fully eliminate\", not collapse)",
          protocol=f"ReLU-output toy model; adversarial training on the analytic optimal L2 "
                   f"attack against one random feature per input, eps 0.8 x the input norm "
                   f"(loss mix not stated); {TRAINING_TEXT}",
          variants=((PER_INPUT, "budgets x each input's own norm (per_sample_eps)"),)),
    Claim("gorton.fig2a_plateau", GORTON, "Fig. 2A",
          "Features per dimension rise as features get sparser (density 1 to 0.1, n=100, "
          "m=20), with a temporary plateau at antipodal superposition (2 per dimension).",
          "gorton_vulnerability", gorton_plateau,
          rule="per seed: Spearman(1/(1-S), ||W||_F^2/m) > 0 (\"increases with sparsity\"); "
               ">= 3 consecutive densities within one feature of 2m represented (\"a temporary "
               "plateau\" at antipodal superposition), passing through gives 1",
          protocol=GORTON_MODELS_TEXT),
    Claim("gorton.fig2b_vulnerability", GORTON, "Fig. 2B",
          "Vulnerability to the noise + gradient L2 attack increases with sparsity and "
          "features per dimension, with one striking dip at antipodal superposition.",
          "gorton_vulnerability", gorton_vulnerability,
          rule="per seed: Spearman of vulnerability with 1/(1-S) and with ||W||_F^2/m > 0 "
               "(\"increases with both\"); the deepest dip (fall below the running maximum) "
               "lies on the antipodal plateau, deeper than any elsewhere (\"one striking dip\")",
          protocol=f"{GORTON_MODELS_TEXT}; noise + one L2 gradient step attack"),
    Claim("gorton.gradient_beats_analytic", GORTON, "Measuring Robustness",
          "Elhage et al.'s analytic attack can be quite suboptimal for the L2 / MSE loss; the "
          "noise + gradient attack used for all main results raises the loss more.",
          "gorton_vulnerability", gorton_gradient_beats_analytic,
          rule="per seed, the geometric mean over densities of the gradient attack's loss "
               "increase over the analytic attack's > 1 (\"quite suboptimal\"), no effect 1",
          protocol=f"{GORTON_MODELS_TEXT}; both attacks on the same inputs at the same budget"),
    Claim("gorton.fig2_adversarial_training", GORTON, "Fig. 2 (robust models)",
          "Adversarial training (alpha = 0.5, eps = 0.1 ||x||) decreases vulnerability and "
          "features per dimension for some sparsities.",
          "gorton_adversarial_training", gorton_adversarial_training,
          rule="per seed over all densities: clean - robust represented features per "
               "dimension > 0 and the geometric mean of robust / clean vulnerability < 1 "
               "(\"decreased\"), no effect 0 and 1",
          protocol=GORTON_TRAINING_TEXT),
    Claim("gorton.fig3a_interfering_features", GORTON, "Fig. 3A",
          "Adversarial inputs light many interfering features in non-robust models; robust "
          "models light about as few on adversarial as on clean inputs.",
          "gorton_adversarial_training", gorton_interfering_features,
          rule="per seed, mean over densities: outputs lit (> 0.1) without their feature, "
               "attacked minus clean, is larger in the non-robust model than in the robust one "
               "(\"activate many interfering features\" vs \"similar sparse patterns\"), no "
               "effect 0",
          protocol=GORTON_TRAINING_TEXT),
    Claim("gorton.robust_beyond_superposition", GORTON, "Fig. 2 (robust models)",
          "Robust models are often more robust than expected for their superposition level.",
          "gorton_adversarial_training", gorton_beyond_superposition,
          rule="per seed, the geometric mean over densities of the robust model's "
               "vulnerability over the clean models' at the same ||W||_F^2/m (interpolated "
               "along the clean densities, never extrapolated) below 1 (\"more robust than "
               "expected\"); no effect 1; a direction, no size",
          protocol=GORTON_TRAINING_TEXT),
    Claim("gorton.fig3_interference", GORTON, "Fig. 3B",
          "Non-robust models show about 2x the mean off-diagonal interference (W_i . W_j)^2 "
          "of robust ones.", "gorton_adversarial_training", gorton_interference,
          rule="per seed, non-robust / robust mean (W_i . W_j)^2 (i != j) at each density "
               "where both superpose (the paper compares one pair of models), median over "
               "those densities, in 1.5 to 2.5 (\"approximately 2x\", rounds to 2), no effect "
               "1; pooled, norm-free (squared cosine) and log-band readings shown beside",
          protocol=GORTON_TRAINING_TEXT),
    Claim("gorton.fig4_geometry", GORTON, "Fig. 4",
          "At the same sparsity, robust models have less superposition but strikingly "
          "similar superposition geometry.", "gorton_adversarial_training", gorton_geometry,
          rule="per seed over the densities where both superpose: Cohen's kappa of the dominant "
               "sticky D_i, clean vs robust, >= 0.6 (\"strikingly similar\", substantial), "
               "chance 0; clean - robust represented per dimension > 0 (\"less superposition\")",
          protocol=GORTON_TRAINING_TEXT),
)
