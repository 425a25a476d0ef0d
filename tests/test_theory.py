import numpy as np
import pytest

from superjax import theory


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
