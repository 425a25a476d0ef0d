import numpy as np
import pytest

from superjax.toy import theory


def test_candidate_losses_by_hand():
  # p = 0.5, r = 2: ignore 2 -> 2 (1/6 - 1/16) = 5/24; ignore 1 -> 5/48; antipodal 3/24.
  np.testing.assert_allclose(theory.n2m1_candidate_losses(0.5, 2.0), [5 / 24, 5 / 48, 3 / 24])


def test_antipodal_loss_against_monte_carlo():
  rng = np.random.default_rng(0)
  p, r, samples = 0.3, 0.7, 2_000_000
  x = rng.uniform(size=(samples, 2)) * (rng.uniform(size=(samples, 2)) < p)
  h = x[:, 0] - x[:, 1]
  out = np.maximum(np.stack([h, -h], 1), 0)
  loss = ((x - out) ** 2 * np.array([1.0, r])).sum(1).mean()
  assert loss == pytest.approx(theory.n2m1_candidate_losses(p, r)[2], rel=0.02)


@pytest.mark.parametrize("p, r, phase", [
    (1.0, 0.5, theory.IGNORE_2),   # dense, feature 2 less important
    (1.0, 2.0, theory.IGNORE_1),   # dense, feature 2 more important
    (0.01, 1.0, theory.SUPERPOSITION),
    (0.50, 0.9, theory.SUPERPOSITION),  # r = 0.9: boundary at p = 0.3 / 0.5417 = 0.554
    (0.60, 0.9, theory.IGNORE_2),
    (0.10, 0.1, theory.SUPERPOSITION),  # r = 0.1: boundary at p = 0.0333 / 0.2083 = 0.16
    (0.20, 0.1, theory.IGNORE_2),
])
def test_theory_phase_at_hand_computed_points(p, r, phase):
  assert theory.n2m1_theory_phase(p, r) == phase


def test_empirical_phase_from_norms():
  norms = np.array([[1.0, 0.0], [0.1, 0.9], [0.9, 0.9], [0.2, 0.1]])
  np.testing.assert_array_equal(
      theory.n2m1_empirical_phase(norms),
      [theory.IGNORE_2, theory.IGNORE_1, theory.SUPERPOSITION, theory.NEITHER])


def test_constant_baseline_against_monte_carlo():
  rng = np.random.default_rng(1)
  p, importance, samples = np.array([0.5, 0.05]), np.array([1.0, 2.0]), 1_000_000
  on = rng.uniform(size=(samples, 2)) < p
  x = np.where(on, rng.uniform(-1, 1, size=(samples, 2)), 0.0)
  for target, zero_mean in ((np.abs(x), False), (x, True)):
    mc = np.sum(importance * target.var(axis=0))
    assert abs(theory.constant_baseline_loss(importance, p, zero_mean) - mc) < 0.01 * mc


def test_n3m2_quadrature_matches_closed_forms():
  p, r = 0.2, 0.6
  ignore_3 = np.array([[1.0, 0, 0], [0, 1, 0]])
  loss = theory.n3m2_expected_loss(ignore_3, np.array([0, 0, p / 2]), p, r)
  np.testing.assert_allclose(loss, r * (p / 3 - p ** 2 / 4), rtol=1e-5)
  # Features 1 and 2 antipodal, feature 3 dedicated: error only when 1 and 2 both fire.
  # The ReLU puts a kink on the diagonal x1 = x2, which costs Gauss-Legendre ~0.3%.
  pair = np.array([[1.0, -1, 0], [0, 0, 1]])
  np.testing.assert_allclose(theory.n3m2_expected_loss(pair, np.zeros(3), p, r),
                             2 * p ** 2 / 6, rtol=5e-3)


def test_n3m2_candidate_losses_against_monte_carlo():
  rng = np.random.default_rng(2)
  p, r, samples = 0.15, 1.7, 2_000_000
  losses, Ws, bs = theory.n3m2_candidates(p, r, steps=100)
  importance = np.array([1.0, 1.0, r])
  x = rng.uniform(size=(samples, 3)) * (rng.uniform(size=(samples, 3)) < p)
  for loss, W, b in zip(losses, Ws, bs):
    per_sample = np.sum(importance * (x - np.maximum(x @ W.T @ W + b, 0)) ** 2, axis=1)
    se = per_sample.std() / np.sqrt(samples)
    assert abs(loss - per_sample.mean()) < 5 * se + 1e-4 * loss, (loss, per_sample.mean(), se)


def test_n3m2_phase_labels():
  angles = np.deg2rad([90, 210, 330])
  triangle = np.stack([np.cos(angles), np.sin(angles)])
  merged = [[0.7, 0.7, 0], [0, 0, 1]]  # only x1 + x2 kept, feature 3 dedicated
  W = np.stack([triangle, [[1, -1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0.1]],
                [[0, 1, 0], [0, 0, 1]], merged, np.zeros((2, 3))])
  np.testing.assert_array_equal(theory.n3m2_phase(W), [
      theory.N3_TRIANGLE, theory.N3_ANTIPODAL, theory.N3_IGNORE_3, theory.N3_IGNORE_12,
      theory.N3_IGNORE_12, theory.N3_OTHER])


@pytest.mark.parametrize("p, r, want", [
    (1.0, 0.1, "N3_IGNORE_3"),   # dense, feature 3 unimportant: drop it
    (1.0, 10.0, "N3_IGNORE_12"),  # dense, feature 3 most important: drop 1 or 2
    (0.01, 1.0, "N3_ANTIPODAL"),  # sparse: superposition
])
def test_n3m2_theory_at_hand_checked_points(p, r, want):
  labels, _ = theory.n3m2_theory_phase(np.array([p]), np.array([r]))
  assert labels[0] == getattr(theory, want)


@pytest.mark.parametrize("p", [0.1, 0.5, 1.0])
def test_one_sided_abs_ratio_against_monte_carlo(p):
  # The best predictor of |x| from ReLU(x) alone, estimated from samples: x itself where
  # x > 0, else the sample mean of |x| over the rest.
  rng = np.random.default_rng(1)
  x = rng.uniform(-1, 1, 2_000_000) * (rng.uniform(size=2_000_000) < p)
  seen = x > 0
  guess = np.where(seen, x, np.abs(x[~seen]).mean())
  ratio = np.mean((np.abs(x) - guess) ** 2) / np.var(np.abs(x))
  assert ratio == pytest.approx(theory.abs_one_sided_ratio(p), rel=0.01)
  assert theory.abs_one_sided_ratio(p) >= 0.5
