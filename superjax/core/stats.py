"""Small statistics every family's reports use."""

from __future__ import annotations

import numpy as np


def spearman(a, b) -> float:
  """Spearman rank correlation of two 1-D arrays (ties broken by order); NaN for fewer
  than two points."""
  a, b = np.asarray(a), np.asarray(b)
  if len(a) < 2:
    return float("nan")
  rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
  return float(np.corrcoef(rank(a), rank(b))[0, 1])
