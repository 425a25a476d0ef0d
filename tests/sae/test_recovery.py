"""Recovery of known directions against brute force over every one-to-one matching."""

import itertools

import numpy as np
import pytest

from superjax.sae import recovery


def brute_force(W, rows, threshold, represented_norm):
  keep = [i for i in range(W.shape[1]) if np.linalg.norm(W[:, i]) > represented_norm]
  cos = np.array([[W[:, i] @ r / (np.linalg.norm(W[:, i]) * np.linalg.norm(r)) for r in rows]
                  for i in keep])
  best = [max(c) for c in cos]
  matched = max(sum(cos[a, b] for a, b in zip(range(len(keep)), perm))
                for perm in itertools.permutations(range(len(rows)), len(keep)))
  return np.mean(best), matched / len(keep), np.mean(np.array(best) >= threshold), len(keep)


@pytest.mark.parametrize("seed", range(4))
def test_recovery_matches_brute_force(seed):
  rng = np.random.default_rng(seed)
  W = rng.normal(size=(3, 5))
  W[:, 1] *= 0.05  # not represented: not scored
  rows = rng.normal(size=(6, 3))
  rows[2] = W[:, 0] * 3.0 + 0.01 * rng.normal(size=3)  # recovers feature 0
  got = recovery.recovery(W, rows, threshold=0.9, represented_norm=0.3)
  mmcs, matched, recovered, count = brute_force(W, rows, 0.9, 0.3)
  assert got["represented"] == count == 4
  assert got["mmcs"] == pytest.approx(mmcs)
  assert got["matched"] == pytest.approx(matched)
  assert got["recovered"] == pytest.approx(recovered) and recovered >= 0.25


def test_one_row_cannot_match_two_features():
  W = np.array([[1.0, 0.99], [0.0, 0.14]])  # two nearly parallel features
  rows = np.array([[1.0, 0.0], [-1.0, 0.0]])
  got = recovery.recovery(W, rows)
  cos_second = 0.99 / np.hypot(0.99, 0.14)
  assert got["mmcs"] == pytest.approx((1.0 + cos_second) / 2)
  # Only one of them can take the good row; the other gets the opposite one.
  assert got["matched"] == pytest.approx((1.0 - cos_second) / 2)


def test_dictionary_rows_map_back_through_the_scale():
  W_dec = np.array([[1.0, 1.0]])
  np.testing.assert_allclose(recovery.raw_dictionary(W_dec, np.array([2.0, 0.5])), [[2.0, 0.5]])
