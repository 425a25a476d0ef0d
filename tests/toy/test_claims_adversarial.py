"""The adversarial claims on hand-built results: each rule's numbers against numpy, and a
result just inside the rule against one just outside it. No training."""

import re

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from superjax import SweepConfig
from superjax.toy.claims import adversarial
from superjax.toy.config import GRID_AXES

SEEDS = 5


def _dataset(cfg: SweepConfig, dims: tuple[str, ...], coords: dict, **variables) -> xr.Dataset:
  """A toy results dataset on the grid `dims` carrying `cfg` as a finished run would;
  `variables` maps a name to (trailing dims, values)."""
  shape = tuple(len(coords[d]) for d in dims)
  data = {"loss": (dims, np.ones(shape)), "diverged": (dims, np.zeros(shape, bool))}
  data.update({name: (dims + trailing, values) for name, (trailing, values) in variables.items()})
  # Every grid axis the results do not vary is a scalar coordinate, as in a run's results.
  scalars = {a: ((), 0 if a == "seed" else getattr(cfg, a)[0]) for a in GRID_AXES
             if a not in coords}
  ds = xr.Dataset(data, coords={**coords, **scalars})
  ds.attrs.update(model="relu", experiment="toy", sweep=cfg.name, config=cfg.to_json())
  return ds


def _embedding(m: int, n: int, count: int, rng) -> np.ndarray:
  """W (m, n) whose first `count` features have norm 1 and the rest norm 0.1."""
  W = rng.normal(size=(m, n))
  W /= np.linalg.norm(W, axis=0)
  W[:, count:] *= 0.1
  return W


def _mean_shown(finding, name: str) -> float:
  """The mean over seeds that the finding prints for the part called `name`."""
  return float(re.search(re.escape(name) + r": ([-+0-9.]+)", finding.measured).group(1))


def _part_verdict(finding, name: str) -> str:
  return re.search(re.escape(name) + r" \[[^]]*\] against [^:]*: ([a-z ]+)",
                   finding.reason).group(1).strip()


# --- Elhage: vulnerability -------------------------------------------------------------

DENSITIES = np.array([1.0, 0.5, 0.2, 0.1, 0.05, 0.02])


def _elhage_vulnerability(peaks, attacks=("analytic", "gorton")):
  """Seeds whose vulnerability rises with ||W||_F^2/m from 1 at 1-S = 1 to `peaks[s]`."""
  cfg = SweepConfig(name="elhage_adversarial", n=20, m=5, importance=(0.9,),
                    density=tuple(DENSITIES), seeds=len(peaks), eval_attacks=attacks)
  rng = np.random.default_rng(0)
  counts = np.array([5, 6, 8, 10, 12, 15])
  W = np.stack([np.stack([_embedding(5, 20, c, rng) for _ in peaks]) for c in counts])
  vuln = np.stack([1 + (np.asarray(peaks) - 1) * k / 5 for k in range(6)])  # (density, seed)
  vuln = np.stack([vuln, 2 * vuln][:len(attacks)], axis=-1)
  fpd = (W ** 2).sum((-2, -1)) / 5
  dims = ("density", "seed")
  return _dataset(cfg, dims, {"density": DENSITIES, "seed": np.arange(len(peaks)),
                              "attack": list(attacks)},
                  W=(("hidden", "feature"), W), features_per_dim=((), fpd),
                  vulnerability=(("attack",), vuln)), vuln[..., 0], fpd


def test_elhage_vulnerability_numbers_equal_numpy():
  ds, vuln, fpd = _elhage_vulnerability([3.6, 4.1, 3.3, 5.0, 3.9])
  finding = adversarial.elhage_vulnerability(ds)
  rise = (vuln[1:] / vuln[0]).max(axis=0)
  rho = [scipy.stats.spearmanr(fpd[:, s], vuln[:, s]).statistic for s in range(5)]
  assert _mean_shown(finding, "the dense model's") == pytest.approx(rise.mean(), abs=0.006)
  assert _mean_shown(finding, "vulnerability) over the densities") == pytest.approx(
      np.mean(rho), abs=0.006)
  assert finding.verdict == "holds"


@pytest.mark.parametrize("peaks, verdict", [
    ([3.10, 3.15, 3.12, 3.18, 3.14], "holds"),  # just above 3x on every seed
    ([2.86, 2.90, 2.88, 2.92, 2.89], "partly"),  # a rise, but under 3x
    ([0.80, 0.85, 0.82, 0.90, 0.84], "does not hold"),  # falls (and tracks negatively)
])
def test_elhage_rise_must_exceed_three(peaks, verdict):
  ds, _, _ = _elhage_vulnerability(peaks)
  assert adversarial.elhage_vulnerability(ds).verdict == verdict


def test_elhage_rows_name_what_the_excerpt_leaves_to_the_run():
  ds, _, _ = _elhage_vulnerability([4.0] * 5)
  found = adversarial.elhage_vulnerability(ds).deviations
  # 1-S = 0.02 over n = 20 features: (0.98)^20 of inputs are all zero, and the mean input
  # norm is 1 - 0.98^20 of an active input's, so 0.1 x the mean norm is 3% of that norm.
  zero = 0.98 ** 20
  assert any("n = 20, m = 5" in d and f"{zero:.0%} of inputs are all zero" in d for d in found)
  assert any(f"{1 - zero:.0%} of an active input's norm, so eps 0.1 is "
             f"{0.1 * (1 - zero):.0%} of it" in d for d in found)


def test_elhage_vulnerability_needs_the_analytic_attack_and_the_dense_model():
  ds, _, _ = _elhage_vulnerability([4.0] * 5, attacks=("gorton",))
  assert adversarial.elhage_vulnerability(ds).verdict == "not tested"
  ds, _, _ = _elhage_vulnerability([4.0] * 5)
  assert adversarial.elhage_vulnerability(ds.isel(density=slice(1, None))).verdict == "not tested"


# --- Elhage: adversarial training ------------------------------------------------------

BUDGETS = np.array([0.0, 0.1, 0.4, 0.8])
TRAIN_DENSITIES = np.array([1.0, 0.1, 0.01])


def _elhage_training(counts: dict[float, list[int]], jitter=(0, 0, 0, 0, 0), budgets=BUDGETS):
  """Represented feature counts per budget and density (densest first), the sparsest
  density's count moved by jitter[s] on seed s at every budget but 0 and 0.8."""
  cfg = SweepConfig(name="elhage_adversarial_training", n=20, m=5, importance=(0.9,),
                    density=tuple(TRAIN_DENSITIES), alpha=(0.0,), train_attack="analytic_random",
                    train_eps=tuple(budgets), seeds=SEEDS, eval_attacks=("analytic",))
  rng = np.random.default_rng(1)
  table = np.zeros((3, len(budgets), SEEDS), int)
  for j, b in enumerate(budgets):
    for s in range(SEEDS):
      table[:, j, s] = counts[float(b)]
      if 0 < b < 0.8:
        table[-1, j, s] += jitter[s]
  W = np.stack([[[_embedding(5, 20, c, rng) for c in row] for row in per_budget]
                for per_budget in table])
  dims = ("density", "train_eps", "seed")
  return _dataset(cfg, dims, {"density": TRAIN_DENSITIES, "train_eps": budgets,
                              "seed": np.arange(SEEDS)}, W=(("hidden", "feature"), W)), W


REDUCED = {0.0: [5, 10, 15], 0.1: [5, 9, 12], 0.4: [5, 7, 8], 0.8: [5, 5, 5]}


def test_elhage_training_numbers_equal_numpy():
  ds, W = _elhage_training(REDUCED, jitter=(0, 1, -1, 2, 0))
  finding = adversarial.elhage_adversarial_training(ds)
  represented = (np.linalg.norm(W, axis=-2) > 0.5).sum(-1) / 5  # (density, budget, seed)
  clean = represented[:, 0]
  superposing = clean > 1  # (density, seed)
  reduction = np.array([np.mean((clean - represented[:, 2])[superposing[:, s], s])
                        for s in range(SEEDS)])
  left = np.array([represented[superposing[:, s], 2, s].max() for s in range(SEEDS)])
  assert _mean_shown(finding, "budget 0.4: reduction (clean - robust represented per "
                              "dimension)") == pytest.approx(reduction.mean(), abs=0.006)
  assert _mean_shown(finding, "budget 0.4: most represented per dimension") == pytest.approx(
      left.mean(), abs=0.006)
  assert finding.verdict == "holds"


@pytest.mark.parametrize("change, part, verdict", [
    # 0.4 leaves 6 features in 5 dimensions at the sparsest: superposition left.
    ({0.4: [5, 6, 6]}, "budget 0.4: most represented per dimension", "holds"),
    # 0.4 already leaves 5 in 5: nothing left, so 80% was not needed (a measured 1, no
    # superposition left: no effect of the paper's size).
    ({0.4: [5, 5, 5]}, "budget 0.4: most represented per dimension", "does not hold"),
    # 0.8 leaves 6: not eliminated.
    ({0.8: [5, 5, 6]}, "budget 0.8: most represented per dimension", "does not hold"),
    # 0.8 keeps 4 of 5 features: eliminated, about m kept.
    ({0.8: [5, 4, 4]}, "budget 0.8: fewest represented per dimension", "holds"),
    # 0.8 keeps 3: collapsed, not "superposition eliminated".
    ({0.8: [5, 3, 3]}, "budget 0.8: fewest represented per dimension", "does not hold"),
    # 0.4 does not reduce (nor eliminate).
    ({0.4: [5, 10, 15]}, "budget 0.4: reduction (clean - robust represented per dimension)",
     "inconclusive"),
    # 0.4 reduces by one feature at the sparsest density alone.
    ({0.4: [5, 10, 14]}, "budget 0.4: reduction (clean - robust represented per dimension)",
     "holds"),
])
def test_elhage_training_just_inside_and_just_outside(change, part, verdict):
  ds, _ = _elhage_training({**REDUCED, **change})
  finding = adversarial.elhage_adversarial_training(ds)
  assert _part_verdict(finding, part) == verdict
  assert (finding.verdict == "holds") == (verdict == "holds")


def test_elhage_training_needs_clean_small_and_full_budgets():
  for budgets in ([0.0, 0.1, 0.4], [0.1, 0.4, 0.8], [0.0, 0.8]):
    ds, _ = _elhage_training(REDUCED, budgets=np.array(budgets))
    assert adversarial.elhage_adversarial_training(ds).verdict == "not tested"


# --- Gorton: clean models --------------------------------------------------------------

G_DENSITIES = np.geomspace(1.0, 0.1, 8)


def _gorton(counts_per_seed, vuln_per_seed, attacks=("gorton", "analytic")):
  """n=20, m=5 seeds with the given represented counts and gorton vulnerabilities per
  density (densest first); the analytic attack's loss increase is 1."""
  cfg = SweepConfig(name="gorton_vulnerability", n=20, m=5, density=tuple(G_DENSITIES),
                    seeds=len(counts_per_seed), eval_attacks=attacks)
  rng = np.random.default_rng(2)
  W = np.stack([[_embedding(5, 20, c, rng) for c in counts]
                for counts in counts_per_seed], axis=1)  # (density, seed, m, n)
  vuln = np.stack([np.asarray(vuln_per_seed, float).T, np.ones(W.shape[:2])][:len(attacks)],
                  axis=-1)
  dims = ("density", "seed")
  return _dataset(cfg, dims, {"density": G_DENSITIES, "seed": np.arange(len(counts_per_seed)),
                              "attack": list(attacks)},
                  W=(("hidden", "feature"), W),
                  features_per_dim=((), (W ** 2).sum((-2, -1)) / 5),
                  vulnerability=(("attack",), vuln), loss_increase=(("attack",), vuln))


PLATEAU = [5, 6, 8, 10, 10, 11, 14, 16]  # 10 +- 1 (2 per dimension) at three densities
NO_PLATEAU = [5, 6, 8, 10, 10, 12, 14, 16]  # at two
DIP_ON = [1.0, 1.5, 2.0, 3.0, 2.5, 2.8, 3.5, 5.0]  # a local minimum on the plateau
DIP_OFF = [1.0, 2.0, 1.8, 3.0, 3.2, 3.4, 3.5, 5.0]  # one before it


def _plateau_length(counts, m=5):
  best = run = 0
  for c in counts:
    run = run + 1 if abs(c - 2 * m) <= 1 else 0
    best = max(best, run)
  return best


@pytest.mark.parametrize("counts, verdict", [(PLATEAU, "holds"), (NO_PLATEAU, "partly")])
def test_plateau_needs_three_densities_at_two_per_dimension(counts, verdict):
  ds = _gorton([counts] * SEEDS, [DIP_ON] * SEEDS)
  finding = adversarial.gorton_plateau(ds)
  assert _mean_shown(finding, "plateau length (consecutive densities)") == _plateau_length(counts)
  assert finding.verdict == verdict
  assert "densities: 8 values from 0.1 to 1, not 30 values from 0.1 to 1" in finding.deviations


def test_dip_must_sit_on_the_plateau():
  on = adversarial.gorton_vulnerability(_gorton([PLATEAU] * SEEDS, [DIP_ON] * SEEDS))
  # Reference: the fall at the local minimum (index 4) below the running maximum (3.0).
  assert _mean_shown(on, "dip on the plateau less the deepest elsewhere") == pytest.approx(
      1 - 2.5 / 3.0, abs=6e-4)
  assert on.verdict == "holds"
  off = adversarial.gorton_vulnerability(_gorton([PLATEAU] * SEEDS, [DIP_OFF] * SEEDS))
  assert _mean_shown(off, "dip on the plateau less the deepest elsewhere") == pytest.approx(
      -(1 - 1.8 / 2.0), abs=6e-4)
  assert _part_verdict(off, "dip on the plateau less the deepest elsewhere") == "does not hold"
  assert off.verdict == "partly"


@pytest.mark.parametrize("scale, verdict", [
    ([1.3, 1.4, 1.35, 1.25, 1.3], "holds"),
    ([0.97, 1.02, 1.0, 0.99, 1.03], "inconclusive"),
    ([0.8, 0.85, 0.9, 0.82, 0.88], "does not hold"),
])
def test_gradient_attack_against_analytic(scale, verdict):
  rng = np.random.default_rng(3)
  per_density = rng.uniform(0.8, 1.25, size=(SEEDS, 8))  # gorton / analytic per density
  gorton = per_density * (np.asarray(scale) / np.exp(np.log(per_density).mean(1)))[:, None]
  finding = adversarial.gorton_gradient_beats_analytic(_gorton([PLATEAU] * SEEDS, gorton))
  want = np.exp(np.log(gorton).mean(axis=1)).mean()
  assert _mean_shown(finding, "gradient / analytic loss increase") == pytest.approx(want, abs=0.006)
  assert finding.verdict == verdict


# --- Gorton: adversarially trained models ----------------------------------------------


def _trained(clean_W, robust_W, extra=None, snapshots=None, vuln_ratio=0.7):
  """(density, alpha, seed) results: alpha 1 with clean_W, alpha 0.5 with robust_W (each
  (density, seed, m, n)); vulnerability 1 and vuln_ratio; optional interfering-feature
  counts extra = (clean, robust) and W snapshots {step: (clean_W, robust_W)}."""
  densities = np.geomspace(1.0, 0.1, clean_W.shape[0])
  m, n = clean_W.shape[-2:]
  cfg = SweepConfig(name="gorton_adversarial_training", n=n, m=m, density=tuple(densities),
                    alpha=(1.0, 0.5), train_attack="gorton", seeds=clean_W.shape[1],
                    steps=2000, eval_attacks=("gorton",),
                    snapshot_at=tuple(snapshots) if snapshots else ())
  W = np.stack([clean_W, robust_W], axis=1)
  shape = W.shape[:3]
  vuln = np.stack([np.ones(shape[::2]), vuln_ratio * np.ones(shape[::2])], axis=1)[..., None]
  coords = {"density": densities, "alpha": [1.0, 0.5], "seed": np.arange(shape[2]),
            "attack": ["gorton"]}
  variables = {"W": (("hidden", "feature"), W), "vulnerability": (("attack",), vuln)}
  if extra is not None:
    lit = np.stack([np.full(shape[::2], extra[0]), np.full(shape[::2], extra[1])], axis=1)
    variables.update(spurious_outputs=((), np.ones(shape)),
                     adv_spurious_outputs=(("attack",), (1 + lit)[..., None]))
  if snapshots:
    coords["snapshot"] = list(snapshots) + [2000]
    snap = np.stack([np.stack([c, r], axis=1) for c, r in snapshots.values()] + [W], axis=3)
    variables["W_snapshot"] = (("snapshot", "hidden", "feature"), snap)
    variables["vulnerability_snapshot"] = (("snapshot", "attack"),
                                           np.stack([vuln] * len(coords["snapshot"]), axis=3))
  return _dataset(cfg, ("density", "alpha", "seed"), coords, **variables)


def _counts(counts_by_density, m=5, n=20, seeds=SEEDS, seed=4):
  rng = np.random.default_rng(seed)
  return np.stack([[_embedding(m, n, c, rng) for _ in range(seeds)] for c in counts_by_density])


def test_robust_models_fewer_features_and_less_vulnerable_at_every_length():
  clean = _counts([5, 8, 10, 14])
  robust = _counts([5, 7, 9, 11], seed=5)
  early = _counts([5, 8, 10, 13], seed=6)
  finding = adversarial.gorton_adversarial_training(
      _trained(clean, robust, snapshots={1000: (clean, early)}))
  count = lambda W: (np.linalg.norm(W, axis=-2) > 0.5).sum(-1) / 5
  want = (count(clean) - count(robust)).mean()
  assert _mean_shown(finding, "clean - robust represented features per dimension") == (
      pytest.approx(want, abs=6e-4))
  assert finding.verdict == "holds"
  early_want = (count(clean) - count(early)).mean()
  assert f"1,000 steps: {early_want:.3f}, 0.70; 2,000 steps: {want:.3f}, 0.70" in finding.measured
  assert "2,000 steps, not 150,000" in finding.deviations


@pytest.mark.parametrize("factor, verdict", [(0.7, "holds"), (1.3, "does not hold")])
def test_robust_beyond_their_superposition_level(factor, verdict):
  # Clean vulnerability exp(fpd / 2) along the densities, so log v is linear in
  # ||W||_F^2 / m and interpolating it is exact: a robust model at fpd r is expected at
  # exp(r / 2), and measured at factor x that.
  clean, robust = _counts([5, 8, 10, 14]), _counts([5, 7, 9, 11], seed=5)
  ds = _trained(clean, robust)
  fpd = lambda W: (W ** 2).sum((-2, -1)) / 5  # (density, seed)
  vuln = ds["vulnerability"].values.copy()  # (density, alpha, seed, attack)
  vuln[:, 0, :, 0] = np.exp(fpd(clean) / 2)
  vuln[:, 1, :, 0] = factor * np.exp(fpd(robust) / 2)
  ds["vulnerability"] = (ds["vulnerability"].dims, vuln)
  finding = adversarial.gorton_beyond_superposition(ds)
  inside = (fpd(robust) >= fpd(clean).min(0)) & (fpd(robust) <= fpd(clean).max(0))
  assert inside.any() and not inside.all()  # the densest robust model is outside
  assert _mean_shown(finding, "at equal superposition (geometric mean)") == pytest.approx(
      factor, abs=0.006)
  assert finding.verdict == verdict


def test_robust_models_no_fewer_features_and_more_vulnerable_fail():
  clean = _counts([5, 8, 10, 14])
  finding = adversarial.gorton_adversarial_training(_trained(clean, _counts([5, 9, 11, 15]),
                                                             vuln_ratio=1.2))
  assert finding.verdict == "does not hold"


@pytest.mark.parametrize("extra, verdict", [((3.0, 1.0), "holds"), ((1.0, 3.0), "does not hold")])
def test_attacks_light_more_interfering_features_in_non_robust_models(extra, verdict):
  clean = _counts([5, 8, 10, 14])
  finding = adversarial.gorton_interfering_features(_trained(clean, clean, extra=extra))
  assert _mean_shown(finding, "non-robust - robust") == pytest.approx(extra[0] - extra[1])
  assert finding.verdict == verdict


@pytest.mark.parametrize("ratio, verdict", [(2.0, "holds"), (2.4, "holds"), (2.6, "partly"),
                                            (0.8, "does not hold")])
def test_interference_about_twice_per_density(ratio, verdict):
  clean = _counts([5, 8, 10, 14])
  # (W_i . W_j)^2 scales as the fourth power of W's scale.
  robust = clean * ratio ** -0.25
  finding = adversarial.gorton_interference(_trained(clean, robust))
  gram = lambda W: np.einsum("...hi,...hj->...ij", W, W) ** 2
  off = lambda W: ((gram(W).sum((-2, -1)) - np.trace(gram(W), axis1=-2, axis2=-1))
                   / (20 * 19))  # (density, seed)
  superposes = lambda W: (np.linalg.norm(W, axis=-2) > 0.5).sum(-1) / 5 > 1
  both = superposes(clean) & superposes(robust)
  assert both.any() and not both.all()
  want = np.mean([np.median((off(clean) / off(robust))[both[:, k], k]) for k in range(SEEDS)])
  assert _mean_shown(finding, "median over densities") == pytest.approx(want, abs=0.006)
  assert finding.verdict == verdict
  # A uniform rescaling changes no cosine: the norm-free reading shows no effect at all.
  cosine = next(line for line in finding.sensitivity if line.startswith("norm-free"))
  assert float(re.search(r"squared cosine per density: ([-+0-9.]+)", cosine).group(1)) == (
      pytest.approx(1.0, abs=1e-6))
  assert cosine.endswith("would read does not hold (no effect of the paper's size)")
  assert any(line.startswith("pooled over every density") for line in finding.sensitivity)


# Sides of each polygon and the axes it spans: an antipodal pair (D_i = 1/2) lies on one.
POLYGONS = {"pair": (2, 1), "triangle": (3, 2), "pentagon": (5, 2)}


def _polytopes(kind: str, groups: int, dedicated: int, m: int = 6, n: int = 24) -> np.ndarray:
  """W (m, n): `groups` regular polygons of unit vectors (kind as in POLYGONS), each in
  its own axes, then `dedicated` unit vectors on their own axes; the other features 0."""
  W = np.zeros((m, n))
  feature, axis = 0, 0
  sides, span = POLYGONS[kind]
  for _ in range(groups):
    for k in range(sides):
      angle = 2 * np.pi * k / sides
      W[axis, feature] = np.cos(angle)
      if span == 2:
        W[axis + 1, feature] = np.sin(angle)
      feature += 1
    axis += span
  for _ in range(dedicated):
    W[axis, feature] = 1.0
    feature, axis = feature + 1, axis + 1
  return W


def _geometry(clean_kinds, robust_kinds, m=6):
  """Per density: the clean model fills its m dimensions with its polygon, the robust one
  gives one polygon's axes to dedicated features (fewer features, the same dominant D_i)."""
  full = lambda k: m // POLYGONS[k][1]
  clean = np.stack([[_polytopes(k, full(k), 0)] * SEEDS for k in clean_kinds])
  robust = np.stack([[_polytopes(k, full(k) - 1, POLYGONS[k][1])] * SEEDS
                     for k in robust_kinds])
  return _trained(clean, robust)


def test_same_polytopes_are_similar_geometry():
  kinds = ["pair", "pair", "triangle", "triangle", "pentagon", "pentagon"]
  finding = adversarial.gorton_geometry(_geometry(kinds, kinds))
  assert _mean_shown(finding, "clean vs robust") == pytest.approx(1.0)
  assert finding.verdict == "holds"


def test_other_polytopes_are_not_similar_geometry():
  clean = ["pair", "pair", "triangle", "triangle", "pentagon", "pentagon"]
  robust = ["triangle", "pentagon", "pentagon", "pair", "pair", "triangle"]
  finding = adversarial.gorton_geometry(_geometry(clean, robust))
  # Reference: Cohen's kappa from the confusion matrix of the two labelings.
  labels = sorted(set(clean))
  table = np.array([[sum(c == a and r == b for c, r in zip(clean, robust)) for b in labels]
                    for a in labels]) / len(clean)
  expected = np.sum(table.sum(1) * table.sum(0))
  kappa = (np.trace(table) - expected) / (1 - expected)
  assert _mean_shown(finding, "clean vs robust") == pytest.approx(kappa, abs=0.006)
  assert _part_verdict(finding, "clean vs robust") == "does not hold"
  assert finding.verdict == "partly"  # fewer features still holds


def test_norm_free_count_beside_the_norm_measure():
  """A pentagon of norm-1.13 vectors in 2 dimensions: ||W||_F^2/m reads 3.2, while it holds
  5 features in 2 dimensions, 2.5 per dimension."""
  W = 1.1314 * _polytopes("pentagon", 1, 0, m=2, n=5)
  assert adversarial.norm_per_dim(W) == pytest.approx(3.2, abs=0.001)
  from superjax.toy import metrics
  assert metrics.represented_per_dim(W) == 2.5


def test_rank_correlation_ties_take_mean_ranks():
  a, b = [1, 2, 2, 2, 3], [0.1, 0.5, 0.2, 0.3, 0.9]
  assert adversarial.rank_correlation(a, b) == pytest.approx(
      scipy.stats.spearmanr(a, b).statistic)
  assert np.isnan(adversarial.rank_correlation([1, 1, 1], [1, 2, 3]))
