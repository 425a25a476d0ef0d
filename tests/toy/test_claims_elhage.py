"""The Elhage et al. feature-geometry claims on hand-built results: each rule's numbers equal
a numpy recomputation, a result just inside the rule and one just outside give different
verdicts, and runs outside the paper's regime are not tested."""

import itertools
import math
import re

import numpy as np
import pytest
import xarray as xr

from superjax.claims import stats
from superjax.toy import report
from superjax.toy.claims import common, elhage
from superjax.toy.config import SweepConfig

STICKY = (1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3)


def _toy_dataset(cfg: SweepConfig, data_vars: dict, coords: dict) -> xr.Dataset:
  """A hand-made toy results dataset carrying `cfg` as a finished run would."""
  ds = xr.Dataset(data_vars, coords=coords)
  ds.attrs.update(model=",".join(cfg.models), experiment="toy", sweep=cfg.name,
                  config=cfg.to_json())
  return ds


def _mean_of(text: str, name: str) -> float:
  """The mean printed after `name:` in a finding's measured text."""
  return float(re.search(re.escape(name) + r":\s*([-+0-9.]+)", text).group(1))


def _kappa(a, b) -> float:
  """Cohen's kappa from the confusion matrix (the textbook form)."""
  labels = sorted(set(np.ravel(a)) | set(np.ravel(b)))
  table = np.array([[np.sum((np.ravel(a) == x) & (np.ravel(b) == y)) for y in labels]
                    for x in labels], np.float64)
  total = table.sum()
  observed = np.trace(table) / total
  chance = np.sum(table.sum(0) * table.sum(1)) / total ** 2
  return (observed - chance) / (1 - chance)


def _no_divergence(*shape) -> np.ndarray:
  return np.zeros(shape, bool)


# --- Cohen's kappa ---------------------------------------------------------------------


def test_cohen_kappa_equals_the_confusion_matrix_form():
  rng = np.random.default_rng(0)
  a, b = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
  b[:120] = a[:120]
  assert stats.cohen_kappa(a, b) == pytest.approx(_kappa(a, b), abs=1e-12)
  # The textbook example: 50 items, 20 + 15 agreements, kappa 0.4.
  a = np.array([1] * 20 + [1] * 5 + [0] * 10 + [0] * 15)
  b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
  assert stats.cohen_kappa(a, b) == pytest.approx(0.4)
  assert stats.cohen_kappa(np.zeros(10), a[:10] * 0 + np.arange(10) % 2) == 0.0
  assert np.isnan(stats.cohen_kappa(np.ones(5), np.ones(5)))


# --- deviations ------------------------------------------------------------------------


def test_deviations_name_each_field_that_differs_from_the_paper():
  paper = elhage.PROTOCOLS["intro"]
  cfg = SweepConfig(name="elhage_intro", models=("linear", "relu"), n=5, m=2,
                    importance=(0.9,), density=paper["density"], steps=10_000)
  assert common.deviations(cfg, paper) == ()
  changed = cfg.replace(steps=4000, batch=4096, density=(1.0, 0.3, 0.1, 0.05))
  assert common.deviations(changed, paper) == (
      "densities: 4 values from 0.05 to 1, not 10 values from 0.05 to 1",
      "batch 4,096, not 1,024", "4,000 steps, not 10,000")


# --- elhage.intro and elhage.linear_most_important -------------------------------------


def _intro(linear_norms, relu_norms, density=(1.0, 0.3, 0.05), steps=10_000):
  """An intro run from feature norms: (density, seed, feature) per model; each feature's
  embedding is its norm along one of two directions."""
  linear_norms, relu_norms = np.asarray(linear_norms), np.asarray(relu_norms)
  d, s, n = linear_norms.shape
  direction = np.stack([np.cos(np.arange(n)), np.sin(np.arange(n))])  # (2, n) unit columns
  W = np.stack([norms[..., None, :] * direction for norms in (linear_norms, relu_norms)])
  cfg = SweepConfig(name="elhage_intro", models=("linear", "relu"), n=n, m=2,
                    importance=(0.9,), density=tuple(density), seeds=s, steps=steps)
  dims = ("model", "density", "seed")
  return _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W),
                            "loss": (dims, np.ones((2, d, s))),
                            "features_per_dim": (dims, (W ** 2).sum((-2, -1)) / 2),
                            "diverged": (dims, _no_divergence(2, d, s))},
                      {"model": ["linear", "relu"], "density": list(density),
                       "seed": list(range(s))})


def _top_two(d=3, s=4, n=5):
  norms = np.full((d, s, n), 0.1)
  norms[..., :2] = 1.0
  return norms


@pytest.mark.parametrize("third, linear_verdict", [(0.49, "holds"), (0.51, "does not hold")])
def test_intro_linear_model_keeps_at_most_one_feature_per_dimension(third, linear_verdict):
  linear = _top_two()
  linear[1, :, 2] = third  # a third feature at one density in every seed
  relu = np.ones((3, 4, 5))
  finding = elhage.intro(_intro(linear, relu))
  counted = (np.linalg.norm(np.stack([np.cos(np.arange(5)), np.sin(np.arange(5))])
                            * linear[..., None, :], axis=-2) > 0.5).sum(-1) / 2
  assert _mean_of(finding.measured, "most over the densities") == pytest.approx(
      counted.max(axis=0).mean(), abs=0.005)
  # The ReLU part holds (all 5 features, 2.5 per dimension), so the claim follows linear's.
  assert finding.verdict == ("holds" if linear_verdict == "holds" else "partly")
  assert "4 of 4 seeds represent all 5 features" in finding.measured


@pytest.mark.parametrize("third, verdict", [
    (0.51, "holds"), (0.49, "does not hold (no effect of the paper's size)")])
def test_intro_relu_needs_more_features_than_dimensions(third, verdict):
  """The ReLU part's own verdict; the linear part holds throughout."""
  relu = _top_two()
  relu[2, :, 2] = third  # at the sparsest density: 3 features in 2 dimensions, or only 2
  finding = elhage.intro(_intro(_top_two(), relu))
  want = 1.5 if third > 0.5 else 1.0
  assert _mean_of(finding.measured, "represented features per dimension") == pytest.approx(want)
  # 2 in 2 is exactly the no-effect value 1: a measured zero, no effect of the paper's size
  # (within a quarter, half the way to (m + 1) / m = 1.5).
  assert f"no effect at 1.00 +- 0.25: {verdict}" in finding.reason
  assert finding.verdict == ("holds" if verdict == "holds" else "partly")


def test_intro_outside_the_sparse_regime_is_not_tested_and_deviations_are_named():
  finding = elhage.intro(_intro(_top_two(), np.ones((3, 4, 5)), density=(1.0, 0.3, 0.1),
                                steps=300))
  assert finding.verdict == "not tested" and "1-S = 0.05" in finding.reason
  assert "300 steps, not 10,000" in finding.deviations


@pytest.mark.parametrize("swaps, verdict", [(0, "holds"), (1, "partly"), (40, "does not hold")])
def test_linear_keeps_the_most_important_features(swaps, verdict):
  d, s, n = 10, 4, 5
  linear = np.full((d, s, n), 0.1)
  linear[..., :2] = 1.0
  for k in range(swaps):  # replace feature 1 by feature 2 in `swaps` (density, seed) cells
    cell = np.unravel_index(k, (d, s))
    linear[cell][[1, 2]] = [0.1, 1.0]
  density = tuple(np.geomspace(1.0, 0.05, d))
  finding = elhage.linear_most_important(_intro(linear, np.ones((d, s, n)), density))
  shares = np.mean(np.all((linear > 0.5) == (np.arange(n) < 2), axis=-1), axis=0)
  assert _mean_of(finding.measured, "keeping exactly the top m") == pytest.approx(
      shares.mean(), abs=0.006)
  assert f"a random 2 of 5: {1 / math.comb(5, 2):.2f}" in finding.measured
  assert finding.verdict == verdict


# --- phase diagrams --------------------------------------------------------------------


def _n2m1_theory(p, r):
  dense = p / 3 - p ** 2 / 4
  return np.argmin(np.stack([r * dense, dense, (1 + r) * p ** 2 / 6]), axis=0)


def _n2m1(labels, loss):
  """An n=2, m=1 run whose seeds' phases are `labels` (density, r, seed)."""
  density, ratio = np.geomspace(0.01, 1.0, 4), np.geomspace(0.1, 10.0, 4)
  norms = np.select([labels[..., None] == 0, labels[..., None] == 1, labels[..., None] == 2],
                    [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0])],
                    np.zeros(2))
  seeds = labels.shape[-1]
  cfg = SweepConfig(name="elhage_phase_n2m1", n=2, m=1, density=tuple(density),
                    relative_importance=tuple(ratio), seeds=seeds)
  dims = ("density", "relative_importance", "seed")
  return _toy_dataset(cfg, {"feature_norm": (dims + ("feature",), norms),
                            "loss": (dims, loss),
                            "diverged": (dims, _no_divergence(*labels.shape))},
                      {"density": density, "relative_importance": ratio,
                       "seed": list(range(seeds))})


def test_phase_n2m1_kappa_of_the_optimum_against_theory_at_the_band_edge():
  density, ratio = np.geomspace(0.01, 1.0, 4), np.geomspace(0.1, 10.0, 4)
  truth = _n2m1_theory(*np.meshgrid(density, ratio, indexing="ij"))
  assert len(np.unique(truth)) > 1
  # Wrong cells, one at a time, until kappa drops below 0.8: the last state above is just
  # inside the rule, the first below just outside.
  wrong, flat = truth.copy().ravel(), truth.ravel()
  kappas = [1.0]
  for i in range(flat.size):
    wrong[i] = (flat[i] + 1) % 3
    kappas.append(_kappa(wrong, flat))
    if kappas[-1] < 0.8:
      break
  inside, outside = flat.copy(), wrong.copy()
  inside[:i] = wrong[:i]
  assert kappas[-2] >= 0.8 > kappas[-1]
  rng = np.random.default_rng(1)
  for labels, kappa, verdict in ((inside, kappas[-2], "holds"), (outside, kappas[-1], "partly")):
    per_seed = np.repeat(labels.reshape(4, 4)[..., None], 4, axis=-1)
    finding = elhage.phase_n2m1(_n2m1(per_seed, rng.uniform(size=(4, 4, 4))))
    assert _mean_of(finding.measured, "lowest-loss seed per cell of 4") == pytest.approx(
        kappa, abs=0.005)
    assert finding.verdict == verdict


def test_phase_n2m1_judges_the_lowest_loss_seed_and_its_halves():
  density, ratio = np.geomspace(0.01, 1.0, 4), np.geomspace(0.1, 10.0, 4)
  truth = _n2m1_theory(*np.meshgrid(density, ratio, indexing="ij"))
  majority = np.bincount(truth.ravel()).argmax()
  # Seeds 0 and 2 match theory, 1 and 3 sit in the majority phase (kappa 0, stuck).
  labels = np.stack([truth, np.full_like(truth, majority)] * 2, -1)
  loss = np.ones((4, 4, 4))
  loss[..., 0] = loss[..., 2] = 0.5  # the seeds that match theory are the lowest-loss ones
  finding = elhage.phase_n2m1(_n2m1(labels, loss))
  # The optimum matches theory, and so does each half's own (seeds 0-1, 2-3).
  assert _mean_of(finding.measured, "lowest-loss seed per cell of 4") == pytest.approx(1.0)
  assert finding.verdict == "holds" and finding.halves == ("holds", "holds")
  # Per seed: kappas 1, 0, 1, 0 (mean 1/2), shown with the verdict they would give.
  assert _mean_of(finding.measured, "Cohen's kappa per seed") == pytest.approx(0.5, abs=0.005)
  assert "judged per seed it would read inconclusive" in finding.measured
  # One lucky seed is not a diagram: where only seed 0 matches, the second half's optimum
  # is the majority phase and the halves disagree.
  lucky = np.stack([truth] + [np.full_like(truth, majority)] * 3, -1)
  loss = np.ones((4, 4, 4))
  loss[..., 0] = 0.5
  finding = elhage.phase_n2m1(_n2m1(lucky, loss))
  assert finding.halves[0] == "holds" and finding.halves[1].startswith("does not hold")
  assert finding.verdict == "inconclusive" and "halves of the seeds disagree" in finding.reason


def test_phase_n3m2_reads_each_seeds_geometry(monkeypatch):
  density, ratio = np.geomspace(0.01, 1.0, 3), np.geomspace(0.1, 10.0, 3)
  angles = np.deg2rad([90.0, 210.0, 330.0])
  shapes = {0: np.array([[1.0, 0, 0], [0, 1, 0]]),  # feature 3 ignored
            2: np.array([[1.0, -1, 0], [0, 0, 1]]),  # antipodal pair + dedicated
            3: np.stack([np.cos(angles), np.sin(angles)])}  # triangle
  truth = np.array([[2, 2, 0], [2, 3, 0], [2, 2, 2]])
  monkeypatch.setattr(report, "_n3m2_theory", lambda p, r: (truth, None))
  cfg = SweepConfig(name="elhage_phase_n3m2", n=3, m=2, density=tuple(density),
                    relative_importance=tuple(ratio), seeds=4)
  dims = ("density", "relative_importance", "seed")

  def run(labels):
    W = np.stack([shapes[int(k)] for k in labels.ravel()]).reshape(labels.shape + (2, 3))
    return _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W),
                              "loss": (dims, np.ones(labels.shape)),
                              "diverged": (dims, _no_divergence(*labels.shape))},
                        {"density": density, "relative_importance": ratio,
                         "seed": [0, 1, 2, 3]})

  exact = np.repeat(truth[..., None], 4, axis=-1)
  assert elhage.phase_n3m2(run(exact)).verdict == "holds"
  majority = np.full_like(exact, 2)
  finding = elhage.phase_n3m2(run(majority))
  assert _mean_of(finding.measured, "lowest-loss seed per cell of 4") == pytest.approx(0.0,
                                                                                      abs=1e-9)
  # The majority-phase predictor is a measured zero: no effect of the paper's size.
  assert finding.verdict_text() == "does not hold (no effect of the paper's size)"


# --- elhage.sticky ---------------------------------------------------------------------


def test_sticky_chance_is_the_covered_share_of_the_range():
  grid = np.linspace(0.3, 1.0, 700_001)
  near = np.min(np.abs(grid[:, None] - np.array(STICKY)), axis=1) <= 0.01
  assert elhage.sticky_chance() == pytest.approx(near.mean(), abs=1e-4)


@pytest.mark.parametrize("on, verdict", [(6, "holds"), (5, "partly"), (1, "does not hold")])
def test_sticky_share_per_seed_against_most_and_chance(on, verdict):
  # 10 represented features per seed and density: `on` on a sticky line, the rest off it;
  # and 5 not represented (D_i < 0.3), which do not count.
  sticky_values, off_values = [0.5, 0.4, 0.667, 0.375, 0.75, 1.0], [0.45, 0.58, 0.9, 0.31]
  row = (sticky_values * 2)[:on] + (off_values * 3)[:10 - on] + [0.1] * 5
  D = np.tile(np.array(row), (3, 4, 1))  # density, seed, feature
  cfg = SweepConfig(name="elhage_geometry", n=15, m=5, density=(1.0, 0.3, 0.1), seeds=4)
  dims = ("density", "seed")
  ds = _toy_dataset(cfg, {"dimensionality": (dims + ("feature",), D),
                          "features_per_dim": (dims, np.ones((3, 4))),
                          "loss": (dims, np.ones((3, 4))),
                          "diverged": (dims, _no_divergence(3, 4))},
                    {"density": [1.0, 0.3, 0.1], "seed": [0, 1, 2, 3]})
  finding = elhage.sticky(ds)
  represented = D[D >= 0.3]
  share = np.mean(np.min(np.abs(represented[:, None] - np.array(STICKY)), axis=1) <= 0.01)
  assert share == pytest.approx(on / 10)
  assert _mean_of(finding.measured, "on a sticky fraction") == pytest.approx(100 * share,
                                                                             abs=0.05)
  assert finding.verdict == verdict
  assert "n = 15, not 200" in finding.deviations


# --- elhage.nonuniform -----------------------------------------------------------------

PENTAGON = np.stack([np.cos(np.arange(5) * 2 * np.pi / 5), np.sin(np.arange(5) * 2 * np.pi / 5)])
PAIRS = np.array([[1.0, -1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0, 0.0]])  # feature 4 dropped


def _nonuniform(shapes):
  """A non-uniform run from (relative_density, seed) arrangements."""
  shapes = np.asarray(shapes)
  r, s = shapes.shape[:2]
  values = (0.1, 1.0, 10.0)
  cfg = SweepConfig(name="elhage_nonuniform", n=5, m=2, density=(0.05,),
                    relative_density=values, seeds=s)
  dims = ("density", "relative_density", "seed")
  return _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), shapes[None]),
                            "loss": (dims, np.ones((1, r, s))),
                            "diverged": (dims, _no_divergence(1, r, s))},
                      {"density": [0.05], "relative_density": list(values),
                       "seed": list(range(s))})


@pytest.mark.parametrize("kept, verdict", [(0, "holds"), (6, "partly")])
def test_nonuniform_pentagon_at_one_and_another_configuration_at_the_ends(kept, verdict):
  # Every seed a pentagon at x1; at the extremes two antipodal pairs, except that `kept`
  # seeds stay a pentagon at x10 (changed at one of two extremes: exactly half, not most).
  shapes = np.stack([[PAIRS] * 6, [PENTAGON] * 6, [PAIRS] * (6 - kept) + [PENTAGON] * kept])
  finding = elhage.nonuniform(_nonuniform(shapes))
  assert _mean_of(finding.measured, "(share of seeds)") == pytest.approx(1.0)
  assert _mean_of(finding.measured, "with another configuration") == pytest.approx(
      1.0 - 0.5 * kept / 6, abs=0.005)
  assert finding.verdict == verdict


def test_nonuniform_without_a_pentagon_does_not_hold_and_other_sizes_are_not_tested():
  shapes = np.stack([[PENTAGON] * 4, [PAIRS] * 4, [PENTAGON] * 4])
  finding = elhage.nonuniform(_nonuniform(shapes))
  assert "pentagon at relative density 1 (share of seeds) [0.00, 0.00]" in finding.reason
  assert finding.verdict == "partly"  # no pentagon; the extremes do differ from x1
  one_side = _nonuniform(shapes).isel(relative_density=[1, 2])  # x1 and x10 only
  assert elhage.nonuniform(one_side).verdict == "not tested"


# Two antipodal pairs that drop feature 0 (one of the equally dense ones) instead.
PAIRS_DROP_0 = np.array([[0.0, 1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, -1.0]])


@pytest.mark.parametrize("wrong, verdict", [
    (0, "holds"),           # every collapsed seed drops the sparser feature 4
    (3, "inconclusive"),    # 3 of 6: half, an interval around one half
    (6, "does not hold"),   # every seed drops another feature: below 1/5 + margin
])
def test_nonuniform_drops_the_sparser_feature(wrong, verdict):
  # At x0.1 (feature 4 ten times sparser) `wrong` seeds drop feature 0 instead; one more
  # seed stays a pentagon (drops nothing) and is left out of the share.
  at_sparsest = [PAIRS] * (6 - wrong) + [PAIRS_DROP_0] * wrong + [PENTAGON]
  shapes = np.stack([at_sparsest, [PENTAGON] * 7, [PAIRS] * 7])
  finding = elhage.nonuniform_drops_sparser(_nonuniform(shapes))
  share = (6 - wrong) / 6
  assert _mean_of(finding.measured, "(of those that drop one)") == pytest.approx(share)
  assert "6 of 7 seeds drop a feature" in finding.measured
  assert finding.verdict == verdict
  no_sparser = _nonuniform(shapes).isel(relative_density=[1, 2])
  assert elhage.nonuniform_drops_sparser(no_sparser).verdict == "not tested"


# --- elhage.correlated and elhage.learning_dynamics ------------------------------------


def _octahedron(c01: float) -> np.ndarray:
  """Two sets of 3 in 3 dimensions, antipodal across sets (0-3, 1-4, 2-5), with feature 1
  turned so that cos(W_0, W_1) = c01."""
  x, y, z = np.eye(3)
  one = c01 * x + math.sqrt(1 - c01 ** 2) * y
  return np.stack([x, one, z, -x, -y, -z], axis=1)


def _same_set(W) -> np.ndarray:
  """Cosines of the 6 same-set pairs, written out."""
  unit = W / np.linalg.norm(W, axis=0)
  return np.array([unit[:, i] @ unit[:, j] for a in (0, 3)
                   for i, j in itertools.combinations(range(a, a + 3), 2)])


def _correlated(W_by_kind: dict, snapshots: dict | None = None, seeds: int = 4):
  kinds = tuple(W_by_kind)
  cfg = SweepConfig(name="elhage_correlated", n=6, m=3, set_size=3, correlation=kinds,
                    density=(0.3, 0.03), seeds=seeds,
                    snapshots=len(next(iter(snapshots.values()))) if snapshots else 0)
  W = np.stack([np.stack([W_by_kind[k]] * seeds) for k in kinds])  # correlation, seed, ...
  W = np.stack([W, W])  # the two densities alike
  dims = ("density", "correlation", "seed")
  shape = (2, len(kinds), seeds)
  data = {"W": (dims + ("hidden", "feature"), W), "loss": (dims, np.ones(shape)),
          "diverged": (dims, _no_divergence(*shape))}
  coords = {"density": [0.3, 0.03], "correlation": list(kinds), "seed": list(range(seeds))}
  if snapshots:
    traj = np.stack([np.stack([snapshots[k]] * seeds) for k in kinds])
    data["W_snapshot"] = (dims + ("snapshot", "hidden", "feature"), np.stack([traj, traj]))
    coords["snapshot"] = np.arange(1, traj.shape[2] + 1)
  return _toy_dataset(cfg, data, coords)


STEP = 1 / 12  # half of one set-mate pair over the 6 same-set pairs


@pytest.mark.parametrize("tilt, verdict", [(0.56, "holds"), (0.44, "partly")])
def test_correlated_set_mates_closer_to_orthogonal_than_independent(tilt, verdict):
  W = {"independent": _octahedron(tilt), "correlated": _octahedron(0.0),
       "anticorrelated": _octahedron(-0.9)}
  finding = elhage.correlated(_correlated(W))
  closer = np.abs(_same_set(W["independent"])).mean() - np.abs(_same_set(W["correlated"])).mean()
  antipodal = _same_set(W["anticorrelated"]).mean() - _same_set(W["independent"]).mean()
  assert (closer >= STEP) == (verdict == "holds") and antipodal < -STEP
  assert _mean_of(finding.measured, "independent minus correlated") == pytest.approx(closer,
                                                                                      abs=0.005)
  assert _mean_of(finding.measured, "anticorrelated minus independent") == pytest.approx(
      antipodal, abs=0.005)
  assert finding.verdict == verdict


@pytest.mark.parametrize("tilt, verdict", [(0.34, "holds"), (0.46, "partly")])
def test_anticorrelated_set_mates_more_antipodal_than_independent(tilt, verdict):
  W = {"independent": _octahedron(0.9), "correlated": _octahedron(0.0),
       "anticorrelated": _octahedron(tilt)}
  finding = elhage.correlated(_correlated(W))
  antipodal = _same_set(W["anticorrelated"]).mean() - _same_set(W["independent"]).mean()
  assert (antipodal <= -STEP) == (verdict == "holds")
  assert finding.verdict == verdict


def test_a_collapse_is_not_orthogonal_and_no_control_is_not_tested():
  # Correlated set-mates parallel (cos 1): further from orthogonal than the control.
  collapsed = np.eye(3)[:, [0, 0, 0, 1, 1, 1]]
  W = {"independent": _octahedron(0.0), "correlated": collapsed,
       "anticorrelated": _octahedron(-0.9)}
  assert elhage.correlated(_correlated(W)).verdict == "partly"  # orthogonality fails
  del W["independent"]
  finding = elhage.correlated(_correlated(W))
  assert finding.verdict == "not tested" and "independent" in finding.reason


def _collapse(a: float) -> np.ndarray:
  """The octahedron with each set pulled by `a` towards its own shared direction."""
  g = np.ones(3) / math.sqrt(3)
  W = np.concatenate([np.eye(3) + a * g[:, None], -np.eye(3) - a * g[:, None]], axis=1)
  return W / np.linalg.norm(W, axis=0)


def _pull_for(cos: float) -> float:
  """The pull `a` at which set-mates have cosine `cos` (solves (1-c)(a^2 + 2a/sqrt 3) = c)."""
  return -1 / math.sqrt(3) + math.sqrt(1 / 3 + cos / (1 - cos))


@pytest.mark.parametrize("peak, verdict", [(STEP + 0.01, "holds"), (STEP - 0.01, "partly")])
def test_learning_dynamics_collapse_then_split_against_the_control(peak, verdict):
  pulls = [0.0, 0.5 * _pull_for(peak), _pull_for(peak), 0.5 * _pull_for(peak), 0.0]
  correlated = np.stack([_collapse(a) for a in pulls])
  independent = np.stack([_collapse(0.0)] * len(pulls))
  finding = elhage.learning_dynamics(_correlated(
      {"independent": _collapse(0.0), "correlated": _collapse(0.0)},
      {"independent": independent, "correlated": correlated}))
  trajectory = np.array([_same_set(W).mean() for W in correlated])
  excess = trajectory.max() - max(trajectory[0], trajectory[-1])
  assert excess == pytest.approx(peak)
  assert _mean_of(finding.measured, "correlated minus independent") == pytest.approx(excess,
                                                                                      abs=0.005)
  assert finding.verdict == verdict


def test_learning_dynamics_needs_the_split_and_the_snapshots():
  rising = np.stack([_collapse(a) for a in (0.0, 0.3, 0.6, 0.9)])  # collapses, never splits
  still = np.stack([_collapse(0.0)] * 4)
  finding = elhage.learning_dynamics(_correlated(
      {"independent": _collapse(0.0), "correlated": _collapse(0.9)},
      {"independent": still, "correlated": rising}))
  # No transient: exactly the control's 0, a measured zero of no effect of the paper's size.
  assert finding.verdict_text() == "does not hold (no effect of the paper's size)"
  plain = _correlated({"independent": _collapse(0.0), "correlated": _collapse(0.0)})
  assert elhage.learning_dynamics(plain).verdict == "not tested"


# --- elhage.privileged -----------------------------------------------------------------


@pytest.mark.parametrize("dense_pr, verdict", [(1.4, "holds"), (1.6, "partly")])
def test_privileged_judges_the_density_fixed_in_advance(dense_pr, verdict):
  density = [1.0, 0.46, 0.01]
  pr = np.zeros((3, 4, 5))  # density, seed, hidden
  pr[0] = [dense_pr] * 4 + [0.0]  # one dead neuron, left out of the mean
  pr[1] = 1.0  # monosemantic at 0.46: not the dense end, so not read
  pr[2] = 2.5
  cfg = SweepConfig(name="elhage_privileged", models=("hidden_relu",), n=10, m=5,
                    importance=(0.75,), density=tuple(density), seeds=4)
  dims = ("density", "seed")
  ds = _toy_dataset(cfg, {"neuron_polysemanticity": (dims + ("hidden",), pr),
                          "loss": (dims, np.ones((3, 4))),
                          "diverged": (dims, _no_divergence(3, 4))},
                    {"density": density, "seed": [0, 1, 2, 3]})
  finding = elhage.privileged(ds)
  live = pr[0][pr[0] > 0]
  assert _mean_of(finding.measured, "participation ratio at 1-S = 1") == pytest.approx(
      live.mean())
  assert finding.verdict == verdict
  no_dense = ds.isel(density=[1, 2])
  assert elhage.privileged(no_dense).verdict == "not tested"


# --- elhage.abs ------------------------------------------------------------------------


def _abs_model(both: int, n: int = 8, m: int = 4):
  """W, W_out, b with the first `both` features computed on both signs through neurons 0
  (positive side) and 1 (negative side): shared neurons, so any count fits in m."""
  W, W_out = np.zeros((m, n)), np.zeros((n, m))
  W[0, :both], W[1, :both] = 1.0, -1.0
  W_out[:both, 0] = W_out[:both, 1] = 1.0
  return W, W_out, np.zeros(n)


@pytest.mark.parametrize("both, ratio, verdict", [
    (3, 0.45, "holds"), (2, 0.45, "partly"), (3, 0.55, "partly")])
def test_abs_two_sided_features_and_loss_at_sparse_densities(both, ratio, verdict):
  density = [1.0, 0.3, 0.1, 0.03]  # n = 8: n (1-S) <= 1 at 0.1 and 0.03
  parts = [_abs_model(8), _abs_model(8), _abs_model(both), _abs_model(both)]
  W, W_out, b = (np.stack([np.stack([p[k]] * 4) for p in parts]) for k in range(3))
  loss = np.array([[0.9] * 4, [0.9] * 4, [ratio] * 4, [ratio] * 4])
  cfg = SweepConfig(name="elhage_abs", models=("abs",), n=8, m=4, signed=True,
                    density=tuple(density), seeds=4, batch=4096)
  dims = ("density", "seed")
  ds = _toy_dataset(cfg, {"W": (dims + ("hidden", "feature"), W),
                          "W_out": (dims + ("feature", "hidden"), W_out),
                          "b": (dims + ("feature",), b), "loss": (dims, loss),
                          "baseline_loss": (dims, np.ones((4, 4))),
                          "diverged": (dims, _no_divergence(4, 4))},
                    {"density": density, "seed": [0, 1, 2, 3]})
  finding = elhage.abs_superposition(ds)

  def two_sided(W, W_out, b):
    relu = lambda v: np.maximum(v, 0)
    rises = [np.diag(relu(W_out @ relu(sign * W) + b[:, None])) - relu(b) >= 0.5
             for sign in (1, -1)]
    return int(np.sum(rises[0] & rises[1]))

  want = np.mean([two_sided(*parts[i]) for i in (2, 3)])
  assert _mean_of(finding.measured, "both signs, mean over the sparse densities") == want
  assert _mean_of(finding.measured, "loss / baseline, mean over the sparse densities") == ratio
  assert finding.verdict == verdict
  assert "batch 4,096, not 1,024" in finding.deviations
  dense_only = ds.isel(density=[0, 1])
  assert elhage.abs_superposition(dense_only).verdict == "not tested"
