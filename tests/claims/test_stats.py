import numpy as np
import pytest
import scipy.stats

from superjax.claims import stats


def test_spearman_matches_scipy_on_untied_data():
  rng = np.random.default_rng(0)
  a = rng.normal(size=40)
  b = a + rng.normal(size=40)
  assert stats.spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic, abs=1e-12)
  assert stats.spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
  assert np.isnan(stats.spearman([1.0], [2.0]))


def test_participation_ratio_counts_equal_entries():
  W = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
  np.testing.assert_allclose(stats.participation_ratio(W), [3.0, 1.0, 0.0])
