"""The claims of Elhage et al. 2022 on feature geometry that the toy sweeps test.

Every rule below was read from the paper's words (quoted from the paper, or from a
walk-through of it where marked) before any run was scored, and is applied to one number
per seed: the scorecard judges the mean over seeds and its Student-t interval against the
rule's band and no-effect value (superjax.claims.verdicts). Each finding names how the run
departs from the paper's protocol, computed from the run's config.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from superjax.claims.scorecard import Claim, Finding, seed_range
from superjax.claims.stats import cohen_kappa, spearman
from superjax.claims.verdicts import CORRELATION, SHARE, Part, Rule
from superjax.core.experiment import config_of
from superjax.toy import metrics, report, results, theory
from superjax.toy.claims.common import (
  ELHAGE,
  deviations,
  fraction,
  model,
  seed_values,
  sparsest,
)

INF = math.inf

# --- the paper's protocols -------------------------------------------------------------

# Training of every toy figure in the reference notebook (REFERENCE.md): batch 1024,
# 10,000 steps, AdamW at lr 1e-3 with PyTorch's weight decay 0.01.
TRAINING = {"batch": 1024, "steps": 10_000, "lr": (1e-3,), "optimizer": "adamw",
            "weight_decay": 0.01}
TRAINING_TEXT = "batch 1024, 10,000 steps, AdamW lr 1e-3 (weight decay 0.01)"
# The paper's settings per experiment (config field -> value), as REFERENCE.md and the
# walk-through give them; a run's deviations are the fields where its config differs.
PROTOCOLS = {
    "intro": {"models": ("linear", "relu"), "n": 5, "m": 2, "importance": (0.9,),
              "density": tuple((20.0 ** -np.linspace(0, 1, 10)).tolist()), **TRAINING},
    # The replication behind REFERENCE.md's n=2, m=1 diagram: 20 x 20 cells, best of 10.
    "phase_n2m1": {"models": ("relu",), "n": 2, "m": 1,
                   "density": tuple(np.logspace(-2, 0, 20).tolist()),
                   "relative_importance": tuple(np.logspace(-1, 1, 20).tolist()),
                   "seeds": 10, **TRAINING},
    "phase_n3m2": {"models": ("relu",), "n": 3, "m": 2, **TRAINING},
    "geometry": {"models": ("relu",), "n": 200, "m": 20, "importance": (1.0,), **TRAINING},
    "nonuniform": {"models": ("relu",), "n": 5, "m": 2, "importance": (1.0,), **TRAINING},
    # Two correlated sets of 3 in 3 dimensions: the octahedron of the paper's learning dynamics.
    "correlated": {"models": ("relu",), "n": 6, "m": 3, "set_size": 3, **TRAINING},
    "privileged": {"models": ("hidden_relu",), "n": 10, "m": 5, "importance": (0.75,),
                   **TRAINING},
    "abs": {"models": ("abs",), "n": 100, "m": 40, "signed": True,
            "density": (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001), **TRAINING},
}

# --- the rules -------------------------------------------------------------------------

# Walk-through: "the linear model behaves like PCA: the top m features get orthogonal
# directions, the rest are ignored", so at most m represented features in m dimensions at
# any density.
LINEAR_RULE = Rule(band=(-INF, 1.0), text="linear: <= 1 represented feature per dimension")


# Walk-through: "when features become sparse the ReLU model represents more than m
# features". More than m is m + 1 or more: (m + 1) / m per dimension; m features in m
# dimensions (1) is no superposition. Built per run from its m.
def superposed_rule(m: int) -> Rule:
  return Rule(band=((m + 1) / m, INF), null=1.0,
              text=f"ReLU: more features than dimensions, >= {m + 1}/{m} per dimension")


# The same PCA sentence: the represented set IS the top m by importance, at every density
# (share 1). A random choice of m of the n features is right with probability 1/C(n, m).
def most_important_rule(n: int, m: int) -> Rule:
  return Rule(band=(1.0, 1.0), null=1.0 / math.comb(n, m), support=SHARE,
              text="the represented set is the m most important features at every density")


# Walk-through: "theory and experiment still match completely" (n=3, m=2, after the
# n=2, m=1 diagram). The paper gives no number; "match" is read as Landis & Koch's "almost perfect"
# agreement, Cohen's kappa above 0.80. A majority-phase predictor scores 0.
ALMOST_PERFECT_KAPPA = 0.8
PHASE_RULE = Rule(band=(ALMOST_PERFECT_KAPPA, 1.0), null=0.0, support=CORRELATION,
                  text="kappa > 0.80 (Landis & Koch: almost perfect)")
# The claim is about the loss-optimal configuration (theory predicts the global optimum),
# so the diagram judged is the lowest-loss seed's per cell, one number; per-seed kappas
# (how often a run gets stuck) are shown beside it.
PHASE_TEXT = ("Cohen's kappa of the lowest-loss seed per cell vs the theoretical phase over "
              "every cell > 0.80 ({match} as Landis & Koch's almost perfect); no effect 0 "
              "(majority phase); each disjoint half of the seeds' own lowest-loss seed per "
              "cell judged alone; per-seed kappas shown as the stuck-run rate, not judged")
# "Most": a share above one half (the smallest float above it, so exactly half is not
# most).
MOST = (float(np.nextafter(0.5, 1.0)), 1.0)
# The paper's regular pentagon (walk-through: "the regular pentagon gradually stretches
# ... past a threshold it collapses into two antipodal pairs, ignoring the sparse
# feature"): 5 features in 2 dimensions, no antipodal pair. The figure shows one model; "the model
# settles into it" is read as most seeds (share > 1/2) doing so.
PENTAGON = (5, 0)
PENTAGON_RULE = Rule(band=MOST, support=SHARE, text="most seeds a pentagon at relative density 1")
# "Collapses into another configuration" at the extremes: most of the two extremes differ
# from the seed's configuration at 1; no change is 0.
CHANGED_RULE = Rule(band=MOST, null=0.0, support=SHARE,
                    text="another configuration at most of the two extremes")
# Correlated features "prefer to be orthogonal", anticorrelated ones "antipodal", said
# against features without correlation: the independent control (same seeds, same
# initialisation). Orthogonality is |cos| -> 0 (a collapse, cos > 0, is not orthogonal),
# antipodality a cosine towards -1. The paper gives directions, not sizes; the smallest
# change of arrangement is one pair of set-mates turning from orthogonal to antipodal (or
# parallel), which moves the mean over the same-set pairs by 1 / pairs (1/6 for two sets of
# 3). An effect of at least half that holds; a smaller one is a deformation (partly).
def arrangement_step(n: int, set_size: int) -> float:
  """Half the change of the mean same-set cosine when one pair of set-mates turns from
  orthogonal to antipodal: 1 / (2 x the number of same-set pairs)."""
  return 0.5 / (n // set_size * math.comb(set_size, 2))


def orthogonal_rule(step: float) -> Rule:
  return Rule(band=(step, INF), null=0.0,
              text="correlated set-mates closer to orthogonal than independent ones")


def antipodal_rule(step: float) -> Rule:
  return Rule(band=(-INF, -step), null=0.0,
              text="anticorrelated set-mates more antipodal than independent ones")


# The paper: "the toy network learns a linear PCA solution before moving to a better
# nonlinear solution": the features of a correlated set first collapse together (their mean cosine
# rises) and then split apart (it falls again). The size of that transient rise (the peak
# over the recorded steps above both the first and the last value) must exceed the
# independent control's, same seed and initialisation, by the same half pair as above.
def transient_rule(step: float) -> Rule:
  return Rule(band=(step, INF), null=0.0,
              text="transient same-set alignment above the independent control's")


# Privileged basis. Walk-through: "an elementwise nonlinearity such as ReLU encourages
# features to align with the neuron directions ... but how far they align depends on
# sparsity"; its dense regime has "mostly monosemantic" hidden units, its sparse one
# polysemantic ones. The dense end is fixed before the runs at 1-S = 1 (S = 0, every
# feature in every input: the paper's dense end), not chosen among the densities by its
# result. The line between mono- and polysemantic is a participation ratio of 1.5,
# halfway between one and two equally weighted features (metrics.neuron_kinds).
DENSE = 1.0
POLYSEMANTIC_PR = 1.5
MONOSEMANTIC_RULE = Rule(band=(-INF, POLYSEMANTIC_PR), text="dense neurons monosemantic")
POLYSEMANTIC_RULE = Rule(band=(POLYSEMANTIC_PR, INF), text="sparse neurons polysemantic")


# abs, walk-through: "the network can still approximately compute the absolute values of
# many features at once" with polysemantic neurons. Sparse: at most one active feature per
# input on average, n (1-S) <= 1. Without superposition m neurons compute |x| = ReLU(x) +
# ReLU(-x) for m/2 features (two each); more is computation in superposition.
def two_sided_rule(m: int) -> Rule:
  return Rule(band=(m // 2 + 1, INF), null=m / 2,
              text=f"more than m/2 = {m / 2:g} features computed on both signs")


# An output that sees one sign of its feature cannot go below half the best constant
# output's loss (theory.abs_one_sided_ratio > 1/2); the constant output itself is 1.
ONE_SIDED_FLOOR = 0.5
ABS_LOSS_RULE = Rule(band=(-INF, ONE_SIDED_FLOOR), null=1.0,
                     text="loss below 1/2 of the best constant output's")

# --- shared measurements ---------------------------------------------------------------


def _mean(values, axis: int = -1) -> np.ndarray:
  """Mean over `axis` of the finite entries; NaN where there is none (no warning)."""
  values = np.asarray(values, np.float64)
  finite = np.isfinite(values)
  count = finite.sum(axis=axis)
  total = np.where(finite, values, 0.0).sum(axis=axis)
  return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def same_set_cosines(W, set_size: int, threshold: float = 0.0) -> np.ndarray:
  """Cosines between the embeddings of features of the same set (consecutive sets of
  `set_size`), over the last two axes (hidden, feature) of W: shape (..., pairs), NaN
  where either feature's norm is at most `threshold` (numpy)."""
  W = np.asarray(W, np.float64)
  norm = np.linalg.norm(W, axis=-2)
  unit = W / np.where(norm > 0, norm, 1.0)[..., None, :]
  i, j = np.triu_indices(W.shape[-1], k=1)
  same = i // set_size == j // set_size
  i, j = i[same], j[same]
  cos = np.sum(unit[..., :, i] * unit[..., :, j], axis=-2)
  return np.where((norm[..., i] > threshold) & (norm[..., j] > threshold), cos, np.nan)


def sticky_chance(min_dimensionality: float = 0.3, tolerance: float = 0.01) -> float:
  """Share of [min_dimensionality, 1] within `tolerance` of a sticky fraction: what D_i
  spread uniformly there would score."""
  covered = sum(min(1.0, f + tolerance) - max(min_dimensionality, f - tolerance)
                for f in metrics.STICKY_FRACTIONS)
  return covered / (1.0 - min_dimensionality)


def _density(value: float) -> str:
  return f"1-S = {value:.3g}"


def _correlations(dataset: xr.Dataset) -> list[str]:
  return [str(c) for c in np.atleast_1d(dataset.correlation.values)]


# --- Elhage et al. 2022 ----------------------------------------------------------------


def intro(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["intro"])
  linear = results.first_of_other_axes(model(dataset, "linear"), ("density", "seed"))
  relu = results.first_of_other_axes(model(dataset, "relu"), ("density", "seed"))
  m, paper_sparsest = cfg.m, min(PROTOCOLS["intro"]["density"])
  sparse = sparsest(relu)
  at = float(sparse.density)
  if at > paper_sparsest * (1 + 1e-6):
    return Finding.not_tested(
        f"sparsest density {_density(at)}",
        f"the paper's ReLU model superposes at its sparsest density, {_density(paper_sparsest)}; "
        "the run stops denser", found)
  linear_most = seed_values(linear, lambda one: metrics.represented_per_dim(one["W"].values).max())
  relu_count = seed_values(sparse, lambda one: metrics.represented_per_dim(one["W"].values))
  linear_norm = seed_values(linear, lambda one: one["features_per_dim"].max())
  relu_norm = seed_values(sparse, lambda one: one["features_per_dim"])
  every = int(np.sum(relu_count * m == cfg.n))
  context = (f"||W||_F^2 / m beside (norms above 1 inflate it): linear at most "
             f"{seed_range(linear_norm)}, ReLU at {_density(at)} {seed_range(relu_norm)}; "
             f"{every} of {len(relu_count)} seeds represent all {cfg.n} features")
  return Finding.judged(
      [Part("linear: represented features per dimension, most over the densities",
            linear_most, LINEAR_RULE),
       Part(f"ReLU at {_density(at)}: represented features per dimension", relu_count,
            superposed_rule(m))],
      context, found)


def linear_most_important(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["intro"])
  linear = results.first_of_other_axes(model(dataset, "linear"), ("density", "seed"))
  n, m = cfg.n, cfg.m
  importance = cfg.importance[0] ** np.arange(n, dtype=np.float64)
  importance[-1] *= cfg.relative_importance[0]
  order = np.sort(importance)[::-1]
  if m >= n or not order[m - 1] > order[m]:
    return Finding.not_tested(
        f"importance {cfg.importance[0]:g}^i over n = {n}, m = {m}",
        f"no {m} features are more important than the rest", found)
  top = np.zeros(n, bool)
  top[np.argsort(-importance, kind="stable")[:m]] = True

  def share(one: xr.Dataset) -> float:
    kept = np.linalg.norm(one["W"].values, axis=-2) > metrics.REPRESENTED_NORM
    return np.mean(np.all(kept == top, axis=-1))

  shares = seed_values(linear, share)
  rule = most_important_rule(n, m)
  context = (f"top {m} by importance: features {', '.join(map(str, np.flatnonzero(top)))}; "
             f"{linear.sizes['density']} densities per seed; a random {m} of {n}: "
             f"{rule.null:.2f}")
  return Finding.judged(
      [Part("linear: share of densities keeping exactly the top m", shares, rule)],
      context, found)


def _phase(dataset: xr.Dataset, protocol: str, labels_of, phases) -> Finding:
  """The paper's claim is about the optimum: Cohen's kappa between the phases of the
  lowest-loss seed per cell (`phases(dataset)` -> (those labels, the theoretical ones))
  and theory, judged as one number; the split-half check takes each disjoint half of the
  seeds' own lowest-loss seed per cell. Per-seed kappas are shown beside (how often one
  run gets stuck elsewhere), with the verdict they would give."""
  found = deviations(config_of(dataset), PROTOCOLS[protocol])
  empirical_best, theoretical = phases(dataset)[:2]
  kinds = np.unique(theoretical)
  if kinds.size < 2:
    return Finding.not_tested(f"{theoretical.size} cells",
                              "theory predicts one phase on the whole grid: no boundary to match",
                              found)
  seeds = dataset.sizes["seed"]
  if seeds < 2:
    return Finding.not_tested(f"{seeds} seed", "one seed: no split-half check of the optimum",
                              found)
  halves = [cohen_kappa(phases(dataset.isel(seed=part))[0], theoretical)
            for part in (slice(0, seeds // 2), slice(seeds // 2, None))]
  optimum = Part(f"Cohen's kappa with theory, lowest-loss seed per cell of {seeds}",
                 np.array([cohen_kappa(empirical_best, theoretical)]), PHASE_RULE,
                 optimum=True, half_values=tuple(halves))
  ds = results.first_of_other_axes(dataset, ("density", "relative_importance", "seed"))
  ds = ds.transpose("density", "relative_importance", "seed", ...)
  per_seed = Part("per seed", seed_values(ds, lambda one: cohen_kappa(labels_of(one),
                                                                      theoretical)), PHASE_RULE)
  # A run is stuck in a cell where its phase differs from the cell's lowest-loss seed's.
  stuck = seed_values(ds, lambda one: np.mean(labels_of(one) != empirical_best))
  agree = seed_values(ds, lambda one: np.mean(labels_of(one) == theoretical))
  # Cells whose model is in no phase theory predicts anywhere (e.g. no feature represented)
  # count as disagreements; shown so a reader sees how many.
  unpredicted = seed_values(ds, lambda one: np.sum(~np.isin(labels_of(one), kinds)))
  context = (f"{theoretical.size} cells, {kinds.size} theoretical phases; lowest-loss seed per "
             f"cell agrees with theory on {np.mean(empirical_best == theoretical):.1%}; "
             f"Cohen's kappa {per_seed.text()} (judged per seed it would read "
             f"{per_seed.label()}); stuck runs (cells in another phase than the lowest-loss "
             f"seed's) {seed_range(stuck * 100, '.1f', '%')}; cells agreeing per seed "
             f"{seed_range(agree * 100, '.1f', '%')}; cells in no predicted phase "
             f"{seed_range(unpredicted, '.0f')}")
  return Finding.judged([optimum], context, found)


def _phase_grid(dataset: xr.Dataset) -> str:
  """Why a run is no phase diagram, or "" when it is one."""
  missing = [a for a in ("density", "relative_importance") if a not in dataset["loss"].dims]
  return f"the run has one value of {' and '.join(missing)}: no diagram" if missing else ""


def phase_n2m1(dataset: xr.Dataset) -> Finding:
  if why := _phase_grid(dataset):
    return Finding.not_tested("no grid", why, deviations(config_of(dataset),
                                                         PROTOCOLS["phase_n2m1"]))
  return _phase(dataset, "phase_n2m1",
                lambda one: theory.n2m1_empirical_phase(one["feature_norm"].values),
                report.n2m1_phases)


def phase_n3m2(dataset: xr.Dataset) -> Finding:
  if why := _phase_grid(dataset):
    return Finding.not_tested("no grid", why, deviations(config_of(dataset),
                                                         PROTOCOLS["phase_n3m2"]))
  return _phase(dataset, "phase_n3m2", lambda one: theory.n3m2_phase(one["W"].values),
                report.n3m2_phases)


def sticky(dataset: xr.Dataset) -> Finding:
  found = deviations(config_of(dataset), PROTOCOLS["geometry"])
  ds = results.first_of_other_axes(dataset, ("density", "seed"))
  shares = seed_values(ds, lambda one: metrics.sticky_share(one["dimensionality"].values)[0])
  counts = seed_values(ds, lambda one: metrics.sticky_share(one["dimensionality"].values)[1])
  with np.errstate(divide="ignore", invalid="ignore"):  # a constant D* has no rank order
    falls = seed_values(ds, lambda one: spearman(one.density.values,
                                                 1 / one["features_per_dim"].values))
  classes = metrics.sticky_class(ds["dimensionality"].values)
  common = np.bincount(classes[classes >= 0], minlength=len(metrics.STICKY_FRACTIONS))
  top = [f"{fraction(metrics.STICKY_FRACTIONS[i])} ({common[i]})"
         for i in np.argsort(common)[::-1][:3] if common[i]]
  chance = sticky_chance()
  context = (f"represented features (D_i >= 0.3) per seed {seed_range(counts, '.0f')}, most "
             f"at {', '.join(top) or 'none'} over all seeds; chance {chance:.0%}; "
             f"Spearman(1-S, D*) {seed_range(falls, '+.2f')}")
  # "Most" represented features on a sticky fraction; no effect: the share D_i spread
  # uniformly over [0.3, 1] would give.
  rule = Rule(band=MOST, null=chance, support=SHARE,
              text="most represented features on a sticky fraction")
  return Finding.judged([Part("share of represented features on a sticky fraction", shares,
                              rule, fmt=".1%")], context, found)


def nonuniform(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["nonuniform"])
  values = np.atleast_1d(dataset.relative_density.values).astype(np.float64)
  middle = np.flatnonzero(np.isclose(values, 1.0))
  if (cfg.n, cfg.m) != (5, 2) or middle.size == 0 or values.min() >= 1 or values.max() <= 1:
    return Finding.not_tested(
        f"n = {cfg.n}, m = {cfg.m}, relative densities {', '.join(f'{v:.2g}' for v in values)}",
        "the paper's pentagon is 5 features in 2 dimensions, deformed by one feature's "
        "density on both sides of the others'", found)
  ds = results.first_of_other_axes(dataset, ("relative_density", "seed"))
  ds = ds.transpose("relative_density", "seed", ...)
  middle, ends = int(middle[0]), (int(np.argmin(values)), int(np.argmax(values)))

  def arrangement(one: xr.Dataset, i: int) -> tuple[int, int]:
    return metrics.arrangement(one["W"].values[i])

  pentagon = seed_values(ds, lambda one: arrangement(one, middle) == PENTAGON)
  changed = seed_values(ds, lambda one: np.mean(
      [arrangement(one, i) != arrangement(one, middle) for i in ends]))
  best = results.best_seed(ds)
  shown = "; ".join(f"x{values[i]:.2g}: {metrics.configuration(best['W'].values[i])}"
                    for i in (ends[0], middle, ends[1]))
  return Finding.judged(
      [Part("pentagon at relative density 1 (share of seeds)", pentagon, PENTAGON_RULE),
       Part("share of the two extremes with another configuration", changed, CHANGED_RULE)],
      f"lowest-loss seed: {shown}", found)


# Walk-through (001, non-uniform superposition): past the threshold the pentagon "may
# collapse into two antipodal pairs and ignore the sparse feature" (坍缩成两个对跖对并忽略
# 稀疏特征). Per seed at the sparsest relative density, where the model drops features: 1
# when the only dropped feature is the varied (sparser) one, 0 otherwise; most seeds (> 1/2)
# holds; a dropped feature picked at random would be the varied one 1/n of the time.
def sparse_dropped_rule(n: int) -> Rule:
  return Rule(band=MOST, null=1.0 / n, support=SHARE,
              text="most collapsed seeds drop exactly the sparser feature")


def nonuniform_drops_sparser(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["nonuniform"])
  values = np.atleast_1d(dataset.relative_density.values).astype(np.float64)
  if values.min() >= 1:
    return Finding.not_tested(
        f"relative densities {', '.join(f'{v:.2g}' for v in values)}",
        "no feature is made sparser than the others: nothing to drop", found)
  ds = results.first_of_other_axes(dataset, ("relative_density", "seed"))
  ds = ds.transpose("relative_density", "seed", ...)
  sparsest_at = int(np.argmin(values))
  varied = cfg.n - 1  # relative_density scales the last feature's density

  def dropped(one: xr.Dataset) -> np.ndarray:
    norms = np.linalg.norm(one["W"].values[sparsest_at], axis=-2)
    return np.flatnonzero(norms <= metrics.REPRESENTED_NORM)

  def drops_sparser(one: xr.Dataset) -> float:
    lost = dropped(one)
    return math.nan if lost.size == 0 else float(lost.tolist() == [varied])

  judged = seed_values(ds, drops_sparser)
  collapsed = int(np.isfinite(judged).sum())
  others = seed_values(ds, lambda one: float(np.sum(dropped(one) != varied)))
  context = (f"at relative density x{values[sparsest_at]:.2g} (the varied feature's density "
             f"{values[sparsest_at] * cfg.density[0]:.2g}, the others' {cfg.density[0]:g}): "
             f"{collapsed} of {ds.sizes['seed']} seeds drop a feature; other features dropped "
             f"{seed_range(others, '.0f')}")
  return Finding.judged([Part("seeds dropping exactly the sparser feature (of those that drop "
                              "one)", judged, sparse_dropped_rule(cfg.n))], context, found)


def _correlation_problem(dataset: xr.Dataset, needed: tuple[str, ...]) -> str:
  """Why a run cannot test a correlation claim, or "" when it can."""
  kinds = _correlations(dataset)
  missing = [k for k in needed if k not in kinds]
  return (f"the run trains {', '.join(kinds)} features, no {' or '.join(missing)} ones; the "
          "claim compares them" if missing else "")


def correlated(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["correlated"])
  if why := _correlation_problem(dataset, ("independent", "correlated", "anticorrelated")):
    return Finding.not_tested(f"correlation = {', '.join(_correlations(dataset))}", why, found)
  ds = sparsest(results.first_of_other_axes(dataset, ("correlation", "density", "seed")))

  def cosines(one: xr.Dataset, kind: str) -> np.ndarray:
    return same_set_cosines(one.sel(correlation=kind)["W"].values, cfg.set_size,
                            metrics.REPRESENTED_NORM)

  step = arrangement_step(cfg.n, cfg.set_size)
  closer = seed_values(ds, lambda one: _mean(np.abs(cosines(one, "independent")))
                       - _mean(np.abs(cosines(one, "correlated"))))
  antipodal = seed_values(ds, lambda one: _mean(cosines(one, "anticorrelated"))
                          - _mean(cosines(one, "independent")))
  means = {k: seed_values(ds, lambda one, k=k: _mean(cosines(one, k)))
           for k in ("independent", "correlated", "anticorrelated")}
  context = (f"at the sparsest density, {_density(float(ds.density))}, mean same-set cosine: "
             + ", ".join(f"{k} {seed_range(v, '+.2f')}" for k, v in means.items())
             + f"; half a set-mate pair moves it by {step:.3f}")
  return Finding.judged(
      [Part("same-set |cos|, independent minus correlated", closer, orthogonal_rule(step),
            fmt="+.2f"),
       Part("same-set cos, anticorrelated minus independent", antipodal, antipodal_rule(step),
            fmt="+.2f")],
      context, found)


def _transient(trajectory: np.ndarray) -> float:
  """How far a trajectory rises above both its first and its last value."""
  return float(np.max(trajectory) - max(trajectory[0], trajectory[-1]))


def learning_dynamics(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["correlated"])
  if "W_snapshot" not in dataset:
    return Finding.not_tested("no W snapshots", "the run recorded W only at the end "
                              "(snapshots = 0): no trajectory", found)
  if why := _correlation_problem(dataset, ("independent", "correlated")):
    return Finding.not_tested(f"correlation = {', '.join(_correlations(dataset))}", why, found)
  ds = sparsest(results.first_of_other_axes(dataset, ("correlation", "density", "seed")))
  steps = ds.snapshot.values

  def trajectory(one: xr.Dataset, kind: str) -> np.ndarray:
    """(snapshot,) mean same-set cosine, every feature with an embedding counted (early
    embeddings are short, so no norm threshold)."""
    return _mean(same_set_cosines(one.sel(correlation=kind)["W_snapshot"].values,
                                  cfg.set_size))

  excess = seed_values(ds, lambda one: _transient(trajectory(one, "correlated"))
                       - _transient(trajectory(one, "independent")))
  peak = seed_values(ds, lambda one: trajectory(one, "correlated").max())
  when = seed_values(ds, lambda one: steps[np.argmax(trajectory(one, "correlated"))])
  last = seed_values(ds, lambda one: trajectory(one, "correlated")[-1])
  context = (f"{_density(float(ds.density))}, {len(steps)} recorded steps from {steps[0]} to "
             f"{steps[-1]}; correlated same-set cosine peaks at {seed_range(peak, '+.2f')} "
             f"(step {seed_range(when, '.0f')}), ends at {seed_range(last, '+.2f')}")
  return Finding.judged(
      [Part("transient same-set alignment, correlated minus independent", excess,
            transient_rule(arrangement_step(cfg.n, cfg.set_size)), fmt="+.2f")], context, found)


def privileged(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["privileged"])
  ds = results.first_of_other_axes(model(dataset, "hidden_relu"), ("density", "seed"))
  densities = ds.density.values.astype(np.float64)
  dense = np.flatnonzero(np.isclose(densities, DENSE))
  if dense.size == 0 or densities.min() >= DENSE:
    return Finding.not_tested(
        f"densities {', '.join(f'{d:.3g}' for d in densities)}",
        "the paper's dense regime is 1-S = 1 (no sparsity), compared with sparse features; "
        "the run lacks one of them", found)
  sparse = int(np.argmin(densities))

  def pr(one: xr.Dataset) -> float:
    return metrics.neuron_kinds(one["neuron_polysemanticity"].values, POLYSEMANTIC_PR).mean

  at_dense = seed_values(ds.isel(density=int(dense[0])), pr)
  at_sparse = seed_values(ds.isel(density=sparse), pr)
  per_density = ", ".join(
      f"{d:.3g}: {float(_mean(seed_values(ds.isel(density=i), pr))):.2f}"
      for i, d in enumerate(densities))
  return Finding.judged(
      [Part(f"mean participation ratio at {_density(DENSE)}", at_dense, MONOSEMANTIC_RULE),
       Part(f"mean participation ratio at {_density(densities[sparse])}", at_sparse,
            POLYSEMANTIC_RULE)],
      f"mean over seeds per density: {per_density}", found)


def abs_superposition(dataset: xr.Dataset) -> Finding:
  cfg = config_of(dataset)
  found = deviations(cfg, PROTOCOLS["abs"])
  ds = results.first_of_other_axes(model(dataset, "abs"), ("density", "seed"))
  densities = ds.density.values.astype(np.float64)
  chosen = np.flatnonzero(cfg.n * densities <= 1 + 1e-6)
  if chosen.size == 0:
    return Finding.not_tested(
        f"densities {', '.join(f'{d:.3g}' for d in densities)}",
        f"no sparse density: n (1-S) <= 1 needs 1-S <= {1 / cfg.n:.3g}", found)
  sparse = ds.isel(density=chosen)

  def both(one: xr.Dataset) -> float:
    return np.mean([metrics.side_counts(one["W"].values[i], one["W_out"].values[i],
                                        one["b"].values[i])[0]
                    for i in range(one.sizes["density"])])

  ratio = seed_values(sparse, lambda one: report.loss_over_baseline(one).mean())
  two_sided = seed_values(sparse, both)
  return Finding.judged(
      [Part("loss / baseline, mean over the sparse densities", ratio, ABS_LOSS_RULE),
       Part("features computed on both signs, mean over the sparse densities", two_sided,
            two_sided_rule(cfg.m), fmt=".1f")],
      f"m = {cfg.m}; sparse densities (n (1-S) <= 1): "
      f"{', '.join(f'{d:.3g}' for d in densities[chosen])}", found)


def _protocol(what: str) -> str:
  """A claim's protocol text: the experiment, then the training every toy figure shares."""
  return f"{what}; {TRAINING_TEXT}"


CLAIMS: tuple[Claim, ...] = (
    Claim("elhage.intro", ELHAGE, "Fig. 2 (demonstrating superposition)",
          "The linear model keeps only m features (<= 1 feature per dimension); the "
          "ReLU-output model represents more features than dimensions once features are "
          "sparse (all 5 in 2 dimensions as a pentagon).",
          "elhage_intro", intro,
          rule="per seed: linear at most 1 represented feature (||W_i|| > 0.5) per dimension "
               "at every density (\"behaves like PCA\"); ReLU at the sparsest density >= "
               "(m+1)/m (\"more than m features\"), no effect at 1",
          protocol=_protocol("n=5, m=2, importance 0.9^i, 1-S = 20^-linspace(0,1,10), "
                             "linear and ReLU-output models")),
    Claim("elhage.linear_most_important", ELHAGE, "demonstrating superposition (linear model)",
          "The linear model behaves like PCA: it gives the m most important features "
          "orthogonal directions and ignores the rest, at every density.",
          "elhage_intro", linear_most_important,
          rule="per seed, the share of densities at which the represented set (||W_i|| > 0.5) "
               "is exactly the top m by importance is 1 (\"the top m features\"); no effect: "
               "a random m of n, 1/C(n,m)",
          protocol=_protocol("n=5, m=2, importance 0.9^i, 1-S = 20^-linspace(0,1,10), "
                             "linear model")),
    Claim("elhage.phase_n2m1", ELHAGE, "phase change, n=2 m=1",
          "The empirical phase diagram of two features in one dimension (ignore one feature "
          "or superpose them antipodally) matches the theoretical one from the candidates' "
          "expected losses.", "elhage_phase_n2m1", phase_n2m1,
          rule=PHASE_TEXT.format(match="\"match\""),
          protocol=_protocol("n=2, m=1, ReLU output; 1-S = logspace(-2,0,20) x "
                             "feature 2 importance logspace(-1,1,20); 10 seeds")),
    Claim("elhage.phase_n3m2", ELHAGE, "phase change, n=3 m=2",
          "The n=3, m=2 empirical phase diagram matches the theoretical one (antipodal pair + "
          "dedicated dimension, a feature ignored, triangle).",
          "elhage_phase_n3m2", phase_n3m2,
          rule=PHASE_TEXT.format(match="\"theory and experiment still match completely\""),
          protocol=_protocol("n=3, m=2, ReLU output; features 1, 2 importance 1, "
                             "feature 3 importance r; shared density 1-S")),
    Claim("elhage.sticky", ELHAGE, "geometry of superposition",
          "D* = m / ||W||_F^2 falls with sparsity while feature dimensionalities D_i stick at "
          "the uniform polytopes' fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3.",
          "elhage_geometry", sticky,
          rule="per seed, the share of represented features (D_i >= 0.3) within 0.01 of a "
               "sticky fraction, pooled over densities, > 1/2 (\"most\"); no effect: the "
               "share for D_i uniform on [0.3, 1]",
          protocol=_protocol("n=200, m=20, uniform importance, ReLU output; D_i against "
                             "1/(1-S) from dense to sparse")),
    Claim("elhage.nonuniform", ELHAGE, "non-uniform superposition",
          "Changing one feature's density deforms the pentagon; past a threshold it "
          "collapses into another configuration (e.g. antipodal pairs, a feature dropped).",
          "elhage_nonuniform", nonuniform,
          rule="most seeds (> 1/2) are a pentagon (5 features, no antipodal pair) at relative "
               "density 1; per seed, most of the two extremes (> 1/2) hold another "
               "configuration (\"collapses into\"), no effect 0",
          protocol=_protocol("n=5, m=2, equal importance, one feature's density "
                             "varied around the others'")),
    Claim("elhage.nonuniform_drops_sparser", ELHAGE, "non-uniform superposition",
          "Past the threshold the pentagon collapses into two antipodal pairs and ignores the "
          "sparse feature.",
          "elhage_nonuniform", nonuniform_drops_sparser,
          rule="per seed at the sparsest relative density, among seeds that drop a feature: 1 "
               "when the only dropped feature (||W_i|| <= 0.5) is the sparser one, else 0; "
               "most (> 1/2) holds (\"ignore the sparse feature\"); no effect 1/n (a feature "
               "picked at random)",
          protocol=_protocol("n=5, m=2, equal importance, one feature's density "
                             "varied around the others'")),
    Claim("elhage.correlated", ELHAGE, "correlated and anticorrelated features",
          "Correlated features prefer to be orthogonal (antipodal only across sets); "
          "anticorrelated features prefer to be antipodal.",
          "elhage_correlated", correlated,
          rule="per seed at the sparsest density, against the independent control: "
               "same-set |cos| lower for correlated (\"orthogonal\"), same-set cos lower for "
               "anticorrelated (\"antipodal\"), each by >= half a set-mate pair (1/12 for two "
               "sets of 3); no effect 0",
          protocol=_protocol("n=6, m=3, two sets of 3: independent, correlated "
                             "(a set fires together), anticorrelated (at most "
                             "one member fires); ReLU output")),
    Claim("elhage.learning_dynamics", ELHAGE, "learning dynamics (correlated features)",
          "The network first learns a linear PCA solution, the features of each correlated "
          "set collapsing together, before moving to a better nonlinear solution where they "
          "split apart (ending as an octahedron, antipodal pairs across sets).",
          "elhage_correlated", learning_dynamics,
          rule="per seed at the sparsest density: the same-set cosine of correlated sets rises "
               "and falls again (\"PCA solution before a better nonlinear one\") by >= half a "
               "set-mate pair (1/12) more than the independent control's from the same "
               "initialisation; no effect 0",
          protocol=_protocol("n=6, m=3, two correlated sets of 3, ReLU output; "
                             "W followed through training")),
    Claim("elhage.privileged", ELHAGE, "privileged basis",
          "With a ReLU on the hidden layer, dense features get monosemantic neurons; as "
          "features get sparser the neurons become polysemantic.",
          "elhage_privileged", privileged,
          rule="per seed, mean participation ratio of live neurons < 1.5 at 1-S = 1 (the "
               "paper's dense end, fixed in advance: \"monosemantic\") and >= 1.5 at the "
               "sparsest density (\"polysemantic\")",
          protocol=_protocol("h = ReLU(W x), x' = ReLU(W^T h + b); n=10, m=5, "
                             "importance 0.75^i, dense to sparse")),
    Claim("elhage.abs", ELHAGE, "computation in superposition (abs)",
          "A ReLU layer can compute |x| in superposition: with m = 40 neurons at sparse "
          "densities it computes more absolute values than m/2 neurons could one per pair.",
          "elhage_abs", abs_superposition,
          rule="per seed, over the densities with n (1-S) <= 1: more than m/2 features "
               "computed on both signs (no superposition: m/2) and loss below 1/2 of the "
               "best constant output's (a one-sided output cannot; constant: 1)",
          protocol=_protocol("y = ReLU(W_out ReLU(W x) + b) on |x|, x in U[-1,1] when "
                             "on; n=100, m=40, 1-S = 1 ... 0.001")),
)
