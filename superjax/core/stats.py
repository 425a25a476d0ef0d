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
