"""Small statistics every family's reports use."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def spearman(a, b) -> float:
  """Spearman rank correlation of two 1-D arrays (ties broken by order); NaN for fewer
  than two points."""
  a, b = np.asarray(a), np.asarray(b)
  if len(a) < 2:
    return float("nan")
  rank = lambda v: np.argsort(np.argsort(v))
  return float(np.corrcoef(rank(a), rank(b))[0, 1])


def participation_ratio(W, axis: int = -1):
  """(sum_i W_i^2)^2 / sum_i W_i^4 along `axis`: how many entries carry the weight (k for
  k equal entries, 1 for one); 0 for an all-zero row. Works on numpy and jax arrays."""
  sq = W ** 2
  total, fourth = jnp.sum(sq, axis=axis), jnp.sum(sq ** 2, axis=axis)
  return jnp.where(fourth > 0, total ** 2 / jnp.where(fourth > 0, fourth, 1.0), 0.0)


def cohen_kappa(a, b) -> float:
  """Cohen's kappa between two labelings of the same items: (p_o - p_e) / (1 - p_e), p_o
  the share labelled alike and p_e the share two labelings with these label frequencies
  would share by chance. 1 for identical labelings, 0 for a constant one (it predicts by
  frequency alone); NaN where p_e = 1 (both constant and equal: nothing to agree on)."""
  a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
  if a.shape != b.shape:
    raise ValueError(f"labelings of {a.size} and {b.size} items")
  observed = float(np.mean(a == b))
  chance = float(sum(np.mean(a == k) * np.mean(b == k) for k in np.union1d(a, b)))
  return (observed - chance) / (1.0 - chance) if chance < 1.0 else float("nan")
